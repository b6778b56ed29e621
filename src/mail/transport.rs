//! Where messages go: SMTP when `PORTAL_SMTP_URL` is set, otherwise `.eml` files in `mail_dir`
//! (the zero-setup run, read by the demo mailbox). Both are lettre's blocking transports, driven
//! from the worker's blocking thread.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};

use crate::config::Settings;
use crate::db::outbox::OutboxMessage;

/// Bounds one SMTP conversation, so a hung server cannot hold a claimed batch past its lease.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Transport {
    Smtp {
        transport: Box<SmtpTransport>,
        /// The URL without its password, for logs.
        describe: String,
    },
    File {
        transport: FileTransport,
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Transport {
    /// SMTP from `smtp_url`, else files in `mail_dir` (created if missing).
    pub fn from_settings(settings: &Settings) -> Result<Transport> {
        match &settings.smtp_url {
            Some(url) => Transport::smtp(url),
            None => Transport::file(&settings.mail_dir),
        }
    }

    /// `smtp://host:port` (plain, for a relay on loopback or Mailpit),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS).
    pub fn smtp(url: &str) -> Result<Transport> {
        let describe = crate::db::redact(url);
        let transport = SmtpTransport::from_url(url)
            .with_context(|| format!("PORTAL_SMTP_URL {describe:?} is not a usable SMTP URL"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Transport::Smtp {
            transport: Box::new(transport),
            describe,
        })
    }

    pub fn file(dir: &Path) -> Result<Transport> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the mail folder {}", dir.display()))?;
        Ok(Transport::File {
            transport: FileTransport::new(dir),
            dir: dir.to_path_buf(),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp { describe, .. } => describe.clone(),
            Transport::File { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    /// Hands one message over. The error text is stored in the outbox (never the body).
    pub fn send(&self, message: &Message) -> Result<(), String> {
        match self {
            Transport::Smtp { transport, .. } => {
                transport.send(message).map(drop).map_err(|e| e.to_string())
            }
            Transport::File { transport, .. } => {
                transport.send(message).map(drop).map_err(|e| e.to_string())
            }
        }
    }
}

/// Why a message could not even be built: retrying cannot help, so it fails for good.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid recipient address: {0}")]
    Recipient(#[from] lettre::address::AddressError),
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
}

/// The MIME message for an outbox row: text and HTML alternatives, UTF-8 headers encoded by
/// lettre (RFC 2047). The Message-ID derives from the row, so if a message ever went out twice
/// (a lost lease), the receiving side sees the same id and can tell.
pub fn build_message(from: &Mailbox, msg: &OutboxMessage) -> Result<Message, BuildError> {
    let to: Mailbox = msg.to_address.parse()?;
    let message_id = format!(
        "<outbox.{}.{}@{}>",
        msg.id,
        msg.created_at.and_utc().timestamp_micros(),
        from.email.domain()
    );
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(msg.subject.clone())
        .message_id(Some(message_id))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(msg.text_body.clone()),
                )
                .singlepart(
                    lettre::message::SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(msg.html_body.clone()),
                ),
        )?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(to: &str) -> OutboxMessage {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .expect("date");
        OutboxMessage {
            id: 42,
            to_address: to.into(),
            subject: "Xác nhận địa chỉ email".into(),
            text_body: "Xin chào Nguyễn Văn A\n".into(),
            html_body: "<p>Xin chào</p>\n".into(),
            status: crate::db::outbox::OutboxStatus::Pending,
            attempts: 1,
            next_attempt_at: t,
            locked_until: Some(t),
            last_error: None,
            created_at: t,
            sent_at: None,
        }
    }

    fn from() -> Mailbox {
        "Cổng Dịch vụ công <no-reply@portal.test>"
            .parse()
            .expect("from")
    }

    #[test]
    fn builds_a_two_part_message_with_encoded_headers() {
        let message = build_message(&from(), &row("a@example.vn")).expect("builds");
        let raw = String::from_utf8(message.formatted()).expect("ascii");
        assert!(raw.is_ascii(), "headers and bodies are 7-bit clean");
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(raw.contains("To: a@example.vn"));
        assert!(raw.contains("Message-ID: <outbox.42."));
        assert!(raw.contains("@portal.test>"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain; charset=utf-8"));
        assert!(raw.contains("text/html; charset=utf-8"));
    }

    #[test]
    fn bad_recipient_is_a_build_error() {
        assert!(matches!(
            build_message(&from(), &row("not an address")),
            Err(BuildError::Recipient(_))
        ));
    }

    #[test]
    fn smtp_url_is_checked() {
        assert!(Transport::smtp("smtp://127.0.0.1:2525").is_ok());
        assert!(Transport::smtp("smtps://u:p@mail.example:465").is_ok());
        assert!(Transport::smtp("smtp://u:p@mail.example:587?tls=required").is_ok());
        let err = Transport::smtp("http://u:secret@mail.example").expect_err("bad scheme");
        assert!(!format!("{err:#}").contains("secret"));
    }
}
