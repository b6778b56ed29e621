//! The demo-only mailbox: lists the `.eml` files the file transport wrote (newest first) and shows
//! one message's text, so registration and password resets work with no mail server. It shows
//! every user's mail, so it answers 404 unless `settings.demo` is on (and is only routed then).

use std::path::Path;
use std::time::SystemTime;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::Context;
use serde::Serialize;

use super::eml;
use crate::error::AppError;
use crate::web::{AppState, HTML, base_context, lang_of, render};

/// Enough for a demo; older files stay on disk but are not listed.
const MAX_LISTED: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::web::{get, resource};
    cfg.service(resource("/demo/mailbox").route(get().to(mailbox)))
        .service(resource("/demo/mailbox/{file}").route(get().to(message)));
}

#[derive(Debug, Serialize)]
struct Row {
    file: String,
    subject: String,
    to: String,
    date: String,
}

#[derive(Debug, Serialize)]
struct Opened {
    file: String,
    subject: String,
    from: String,
    to: String,
    date: String,
    text: Option<String>,
}

/// lettre names files `<uuid>.eml`; anything else (a `/`, `..`, a hidden file) is refused before
/// the file system is touched.
pub fn valid_file_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".eml") else {
        return false;
    };
    !stem.is_empty()
        && stem.len() <= 100
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `Thu, 26 Nov 2026 09:30:00 +0000` → `26/11/2026 09:30:00 UTC`; unparsable dates as they are.
fn show_date(date: &str) -> String {
    chrono::DateTime::parse_from_rfc2822(date)
        .map(|d| d.naive_utc().format("%d/%m/%Y %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| date.to_string())
}

/// The `.eml` files of `dir`, newest first; a missing folder is an empty mailbox.
fn list(dir: &Path) -> anyhow::Result<Vec<Row>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut files: Vec<(SystemTime, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !valid_file_name(&name) {
                return None;
            }
            let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, name))
        })
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    files.truncate(MAX_LISTED);
    let mut rows = Vec::with_capacity(files.len());
    for (_, file) in files {
        // A file removed meanwhile is skipped, not an error.
        let Ok(raw) = std::fs::read(dir.join(&file)) else {
            continue;
        };
        let parsed = eml::parse(&raw);
        rows.push(Row {
            file,
            subject: parsed.subject,
            to: parsed.to,
            date: show_date(&parsed.date),
        });
    }
    Ok(rows)
}

fn open(dir: &Path, file: &str) -> anyhow::Result<Option<Opened>> {
    let path = dir.join(file);
    let raw = match std::fs::read(&path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let parsed = eml::parse(&raw);
    Ok(Some(Opened {
        file: file.to_string(),
        subject: parsed.subject,
        from: parsed.from,
        to: parsed.to,
        date: show_date(&parsed.date),
        text: parsed.text,
    }))
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    ctx: &tera::Context,
) -> Result<HttpResponse, AppError> {
    let body = render(state, "email/mailbox.html", ctx)?;
    Ok(HttpResponse::Ok()
        .content_type(HTML)
        // The messages hold live sign-in links: never keep them in a cache or an index.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .insert_header((header::CONTENT_LANGUAGE, lang_of(req).code()))
        .body(body))
}

async fn mailbox(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    if !state.settings.demo {
        return Err(AppError::NotFound);
    }
    let dir = state.settings.mail_dir.clone();
    let rows = web::block(move || list(&dir)).await??;
    let mut ctx = base_context(&state, &req, lang_of(&req));
    ctx.insert("messages", &rows);
    page(&state, &req, &ctx)
}

async fn message(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let file = file.into_inner();
    if !state.settings.demo || !valid_file_name(&file) {
        return Err(AppError::NotFound);
    }
    let dir = state.settings.mail_dir.clone();
    let (rows, opened) = web::block(move || -> anyhow::Result<_> {
        let opened = open(&dir, &file)?;
        Ok((list(&dir)?, opened))
    })
    .await??;
    let Some(opened) = opened else {
        return Err(AppError::NotFound);
    };
    let mut ctx = base_context(&state, &req, lang_of(&req));
    ctx.insert("messages", &rows);
    ctx.insert("opened", &opened);
    page(&state, &req, &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_eml_names_pass() {
        assert!(valid_file_name("0b7e3c1a-9f7e-4c1e-8a57-2f0d6f7b9a10.eml"));
        assert!(valid_file_name("a_b-c.eml"));
        for bad in [
            "",
            ".eml",
            "..eml",
            "x.txt",
            "../x.eml",
            "..%2Fx.eml",
            "a/b.eml",
            "a\\b.eml",
            ".hidden.eml",
            "a b.eml",
            "a.eml\0",
            "x.eml.eml",
            "é.eml",
        ] {
            assert!(!valid_file_name(bad), "{bad:?}");
        }
        assert!(!valid_file_name(&format!("{}.eml", "a".repeat(101))));
    }

    #[test]
    fn dates_are_shown_in_utc() {
        assert_eq!(
            show_date("Thu, 26 Nov 2026 16:30:00 +0700"),
            "26/11/2026 09:30:00 UTC"
        );
        assert_eq!(show_date("yesterday"), "yesterday");
    }
}
