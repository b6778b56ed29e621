//! Outgoing email: rendering the template trios (`templates/email/<name>/<lang>/`), the transport
//! (SMTP, or `.eml` files for the zero-setup run), the outbox worker that delivers what
//! `db::outbox` holds, and the demo-only mailbox page.
//!
//! Callers never send mail directly: they `render` a message and `db::outbox::enqueue` it inside
//! the transaction of the event that causes it, so an email exists if and only if the event does.

pub mod demo;
pub mod eml;
pub mod transport;
pub mod worker;

use anyhow::Context;
use serde::Serialize;

use crate::i18n::Lang;

pub use transport::Transport;

/// The emails the application sends, each with `subject.txt`, `body.txt` and `body.html` in every
/// language (a unit test renders them all).
pub const EMAILS: [&str; 10] = [
    "verify_email",
    "reset_password",
    "account_locked",
    "set_password",
    "email_changed",
    "dossier_submitted",
    "draft_expiring",
    "dossier_status",
    "dossier_rescheduled",
    "staff_digest",
];

/// One message, rendered in the recipient's language, ready to be stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedEmail {
    /// A single line: header injection and folded subjects are impossible by construction.
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders `templates/email/<name>/<lang>/{subject.txt,body.txt,body.html}` with `ctx` (plus
/// `lang`). The app's Tera escapes `.html` only, so the HTML part is escaped and the text parts
/// are not (they are plain text; nothing interprets them as markup).
pub fn render(
    tera: &tera::Tera,
    lang: Lang,
    name: &str,
    ctx: &tera::Context,
) -> anyhow::Result<RenderedEmail> {
    let mut ctx = ctx.clone();
    ctx.insert("lang", lang.code());
    let one = |part: &str| -> anyhow::Result<String> {
        let template = format!("email/{name}/{}/{part}", lang.code());
        tera.render(&template, &ctx)
            .with_context(|| format!("rendering {template}"))
    };
    let subject = one_line(&one("subject.txt")?);
    anyhow::ensure!(
        !subject.is_empty(),
        "email {name} ({}) has an empty subject",
        lang.code()
    );
    Ok(RenderedEmail {
        subject,
        text: format!("{}\n", one("body.txt")?.trim()),
        html: format!("{}\n", one("body.html")?.trim()),
    })
}

/// The confirmation of a filed dossier.
pub fn dossier_submitted(
    tera: &tera::Tera,
    public_url: &str,
    lang: Lang,
    s: &crate::db::dossiers::Submitted,
) -> anyhow::Result<RenderedEmail> {
    let base = public_url.trim_end_matches('/');
    let when = |t| crate::i18n::local_time(t, lang);
    let mut ctx = tera::Context::new();
    ctx.insert("s", s);
    ctx.insert("name", &s.applicant_name);
    ctx.insert("submitted_at", &when(s.submitted_at));
    ctx.insert("due", &s.due_at.map(when));
    ctx.insert("link", &format!("{base}/dossiers/{}", s.code));
    ctx.insert("track", &format!("{base}/track"));
    render(tera, lang, "dossier_submitted", &ctx)
}

/// A dossier's new status, in the citizen's words: the status, the office's note, what next.
pub fn dossier_status(
    tera: &tera::Tera,
    messages: &crate::i18n::Messages,
    public_url: &str,
    lang: Lang,
    d: &crate::db::dossiers::Dossier,
    status: crate::domain::status::Status,
    note: &str,
) -> anyhow::Result<RenderedEmail> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", &d.applicant_name);
    ctx.insert("code", &d.code);
    ctx.insert("status", messages.text(lang, &status.message_key()));
    ctx.insert(
        "next",
        messages.text(lang, &format!("next_{}", status.code())),
    );
    ctx.insert("note", note);
    ctx.insert(
        "link",
        &format!("{}/dossiers/{}", public_url.trim_end_matches('/'), d.code),
    );
    render(tera, lang, "dossier_status", &ctx)
}

/// The one apology with the new date (form 04 of domain.md §3).
pub fn dossier_rescheduled(
    tera: &tera::Tera,
    public_url: &str,
    lang: Lang,
    d: &crate::db::dossiers::Dossier,
    office: &str,
    due: chrono::NaiveDateTime,
    reason: &str,
) -> anyhow::Result<RenderedEmail> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", &d.applicant_name);
    ctx.insert("code", &d.code);
    ctx.insert("office", office);
    ctx.insert("reason", reason);
    ctx.insert("due", &crate::i18n::local_time(due, lang));
    ctx.insert(
        "link",
        &format!("{}/dossiers/{}", public_url.trim_end_matches('/'), d.code),
    );
    render(tera, lang, "dossier_rescheduled", &ctx)
}

/// The lead's daily digest: the office's overdue and soon-due dossiers.
pub fn staff_digest(
    tera: &tera::Tera,
    public_url: &str,
    lang: Lang,
    name: &str,
    office: &str,
    overdue: &[(String, String, String)],
    soon: &[(String, String, String)],
) -> anyhow::Result<RenderedEmail> {
    let mut ctx = tera::Context::new();
    ctx.insert("name", name);
    ctx.insert("office", office);
    ctx.insert("overdue", overdue);
    ctx.insert("soon", soon);
    ctx.insert(
        "link",
        &format!("{}/staff?tab=overdue", public_url.trim_end_matches('/')),
    );
    render(tera, lang, "staff_digest", &ctx)
}

/// Collapses any run of whitespace (including newlines a template may leave) into one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tera() -> tera::Tera {
        let glob = format!("{}/templates/**/*", env!("CARGO_MANIFEST_DIR"));
        let mut tera = tera::Tera::new(&glob).expect("templates parse");
        // The same escaping rule as `startup::load_templates`.
        tera.autoescape_on(vec![".html", ".txt.html"]);
        tera
    }

    fn full_context() -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("name", "Nguyễn <b>Văn</b> A & co");
        ctx.insert("link", "https://portal.example/verify?token=abc&x=1");
        ctx.insert("reset_link", "https://portal.example/reset?token=def&x=1");
        ctx.insert("until", "10:30 26/11/2026");
        ctx.insert("new_email", "moi@example.vn");
        ctx.insert(
            "revert_link",
            "https://portal.example/account/email/revert?token=g&x=1",
        );
        ctx.insert("days", &14);
        ctx.insert(
            "s",
            &serde_json::json!({
                "code": "00004.00.00.H01-261130-0001",
                "service_code": "1.001193",
                "service_name": "Thủ tục đăng ký khai sinh",
                "office_name": "Ủy ban nhân dân Phường Ba Đình",
            }),
        );
        ctx.insert("submitted_at", "09:15 ngày 30/11/2026");
        ctx.insert("due", "17:00 ngày 01/12/2026");
        ctx.insert("track", "https://portal.example/track");
        ctx.insert("service", "Thủ tục đăng ký khai sinh");
        ctx.insert("code", "00004.00.00.H01-261130-0001");
        ctx.insert("status", "Yêu cầu bổ sung giấy tờ");
        ctx.insert("note", "Bổ sung bản sao giấy chứng sinh");
        ctx.insert("next", "Hãy bổ sung giấy tờ.");
        ctx.insert("office", "Ủy ban nhân dân Phường Ba Đình");
        ctx.insert("reason", "Cần xác minh thêm");
        let rows = vec![(
            "00004.00.00.H01-261130-0001".to_string(),
            "Trần Thị B".to_string(),
            "01/12/2026".to_string(),
        )];
        ctx.insert("overdue", &rows);
        ctx.insert("soon", &rows);
        ctx
    }

    #[test]
    fn every_email_renders_in_every_language() {
        let tera = tera();
        let ctx = full_context();
        for name in EMAILS {
            for lang in Lang::ALL {
                let email = render(&tera, lang, name, &ctx)
                    .unwrap_or_else(|e| panic!("{name}/{}: {e:#}", lang.code()));
                assert!(!email.subject.contains('\n'), "{name}: {:?}", email.subject);
                assert!(email.subject.len() < 120, "{name}: subject too long");
                // Text is not escaped, HTML is.
                assert!(email.text.contains("Nguyễn <b>Văn</b> A & co"), "{name}");
                assert!(
                    email
                        .html
                        .contains("Nguyễn &lt;b&gt;Văn&lt;&#x2F;b&gt; A &amp; co"),
                    "{name}: {}",
                    email.html
                );
                assert!(!email.html.contains("<b>Văn"), "{name}");
                assert!(
                    email
                        .html
                        .contains(&format!("<html lang=\"{}\"", lang.code()))
                );
            }
        }
    }

    #[test]
    fn links_appear_in_both_parts() {
        let tera = tera();
        let ctx = full_context();
        for (name, key) in [
            ("verify_email", "link"),
            ("reset_password", "link"),
            ("set_password", "link"),
            ("account_locked", "reset_link"),
            ("email_changed", "revert_link"),
        ] {
            for lang in Lang::ALL {
                let email = render(&tera, lang, name, &ctx).expect("renders");
                let link = ctx.get(key).and_then(|v| v.as_str()).expect("link");
                assert!(email.text.contains(link), "{name} text");
                // In HTML the link is escaped like any value (`&` → `&amp;`, `/` → `&#x2F;`);
                // browsers and mail clients decode attributes before following them.
                assert!(email.html.contains(&tera::escape_html(link)), "{name} html");
            }
        }
        let vi = render(&tera, Lang::Vi, "email_changed", &ctx).expect("renders");
        assert!(vi.text.contains("moi@example.vn"));
    }

    #[test]
    fn missing_variable_is_an_error() {
        let tera = tera();
        let err = render(&tera, Lang::Vi, "verify_email", &tera::Context::new())
            .expect_err("link and name are required");
        assert!(format!("{err:#}").contains("email/verify_email/vi/"));
        assert!(render(&tera, Lang::En, "no_such_email", &full_context()).is_err());
    }

    #[test]
    fn subject_is_one_trimmed_line() {
        assert_eq!(one_line("  Xác nhận\n email \t "), "Xác nhận email");
    }
}
