//! Catalogue import: a file of the national database's shape (JSON lines, gzip'd or not, as
//! `data/procedures.jsonl.gz`). First a dry run — every bad line listed, or what would be new,
//! changed (with the fields that change) and withdrawn — with the file kept in storage under
//! its SHA-256; then "apply" reads that same file and changes everything in one transaction,
//! keeping what administrators set (online level, publication, forms, routing).

use std::io::Read;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::domain::procedure::Procedure;
use crate::error::AppError;

/// Largest catalogue file accepted (the national file is 2.4 MB gzip'd, 30 MB as text).
const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Bad lines listed at most.
const ERRORS_LISTED: usize = 50;
/// Services listed per part of the dry run (all are counted).
const LISTED: usize = 200;

fn storage_key(sha: &str) -> String {
    format!("imports/{sha}")
}

/// The procedures of a file, or its bad lines (1-based) with what is wrong.
fn parse(bytes: &[u8]) -> Result<Vec<Procedure>, Vec<(usize, String)>> {
    let mut text = String::new();
    let read = if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(bytes)
            .take(IMPORT_MAX_BYTES as u64 * 8)
            .read_to_string(&mut text)
            .map(|_| ())
    } else {
        std::str::from_utf8(bytes)
            .map(|t| text.push_str(t))
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    };
    if let Err(e) = read {
        return Err(vec![(0, e.to_string())]);
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Procedure>(line) {
            Ok(p) if p.code.trim().is_empty() || p.name.trim().is_empty() => {
                errors.push((i + 1, "code and name are required".to_string()));
            }
            Ok(p) => {
                if !seen.insert(p.code.clone()) {
                    errors.push((i + 1, format!("{}: the code is on an earlier line", p.code)));
                } else {
                    out.push(p);
                }
            }
            Err(e) => errors.push((i + 1, e.to_string())),
        }
    }
    if out.is_empty() && errors.is_empty() {
        errors.push((0, "the file has no procedures".into()));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// GET `/admin/import`.
pub async fn import_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &req,
        lang_of(&req),
        "admin/import.html",
        StatusCode::OK,
        |_| {},
    )
}

fn plan_page(
    state: &AppState,
    req: &HttpRequest,
    plan: &crate::db::seed::ImportPlan,
    sha: Option<&str>,
    applied: bool,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let summary = m(if applied {
        "import_applied"
    } else {
        "import_dry_run"
    })
    .replace("{new}", &plan.new.len().to_string())
    .replace("{changed}", &plan.changed.len().to_string())
    .replace("{withdrawn}", &plan.withdrawn.len().to_string())
    .replace("{unchanged}", &plan.unchanged.to_string());
    let listed = |v: &Vec<(String, String)>| v.iter().take(LISTED).cloned().collect::<Vec<_>>();
    page(
        state,
        req,
        lang,
        "admin/import.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("summary", &summary);
            ctx.insert("new", &listed(&plan.new));
            ctx.insert(
                "changed",
                &plan.changed.iter().take(LISTED).collect::<Vec<_>>(),
            );
            ctx.insert("withdrawn", &listed(&plan.withdrawn));
            ctx.insert("sha", &sha);
            ctx.insert("applied", &applied);
            ctx.insert("has_plan", &true);
        },
    )
}

/// POST `/admin/import` (multipart: `_csrf`, `file`): the dry run.
pub async fn dry_run(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let mut parts =
        super::super::multipart::read_small(&req, payload, IMPORT_MAX_BYTES, "import_too_large")
            .await?;
    let bytes = parts.remove("file").unwrap_or_default();
    let lang = lang_of(&req);
    let procedures = match parse(&bytes) {
        Ok(p) => p,
        Err(errors) => {
            let total = errors.len();
            let lines: Vec<String> = errors
                .into_iter()
                .take(ERRORS_LISTED)
                .map(|(line, e)| {
                    state
                        .messages
                        .text(lang, "import_line")
                        .replace("{line}", &line.to_string())
                        .replace("{error}", &e)
                })
                .collect();
            return page(
                &state,
                &req,
                lang,
                "admin/import.html",
                StatusCode::BAD_REQUEST,
                |ctx| {
                    ctx.insert("errors", &lines);
                    ctx.insert("errors_total", &total);
                },
            );
        }
    };
    let sha = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
    // The file waits in storage for "apply" (any instance can read it there).
    let key = storage_key(&sha);
    let mut upload = state
        .storage
        .begin(&key)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    upload
        .write(&bytes)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    upload
        .finish()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let plan = with_db(&state, "plan a catalogue import", move |conn| {
        crate::db::seed::plan_import(conn, &procedures).map_err(AppError::Internal)
    })
    .await?;
    plan_page(&state, &req, &plan, Some(&sha), false)
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    sha: String,
}

/// POST `/admin/import/apply`: applies the file the dry run kept, in one transaction.
pub async fn apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<ApplyForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let sha = body.sha.trim().to_string();
    if sha.len() != 64
        || !sha
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(AppError::NotFound);
    }
    let key = storage_key(&sha);
    let mut stream = state
        .storage
        .open(&key)
        .await
        .map_err(|_| AppError::BadRequest("import_expired"))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| AppError::Internal(e.into()))?
    {
        bytes.extend_from_slice(&chunk);
    }
    if data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes)) != sha {
        return Err(AppError::BadRequest("import_expired"));
    }
    let procedures = parse(&bytes).map_err(|_| AppError::BadRequest("import_expired"))?;
    let (o, admin_id, sha2) = (origin(&req), admin.0.user.id, sha.clone());
    let plan = with_db(&state, "apply a catalogue import", move |conn| {
        crate::db::service_admin::import_catalogue(conn, admin_id, &procedures, &sha2, &o)
            .map_err(AppError::Internal)
    })
    .await?;
    state.storage.delete(&key).await.ok();
    super::refresh_catalogue(&state).await?;
    plan_page(&state, &req, &plan, None, true)
}
