//! `/verify`: anyone, without an account, checks a result the portal issued, by the code printed
//! on it (or its QR code) or by uploading the file itself. The answer says whether it is
//! genuine, who issued it, when and for which dossier, and nothing about the applicant.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::account::{limit, page};
use super::apply::local_time;
use super::auth::{check_csrf, client_ip};
use super::{AppState, lang_of, with_db};
use crate::db::results::{self, Verification};
use crate::error::AppError;
use crate::security::seal::normalise_verify_code;

/// Checks per address per 15 minutes (codes are 50 bits; this keeps guessing pointless).
pub const VERIFY_LIMIT_PER_IP: i32 = 60;
/// The largest file checked (results are PDFs of a few pages).
pub const VERIFY_MAX_BYTES: usize = 20 * 1024 * 1024;

#[derive(Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    code: String,
}

#[derive(Serialize)]
struct Outcome {
    found: bool,
    genuine: bool,
    by: &'static str,
    code: String,
    dossier_code: String,
    office_id: String,
    office_name: String,
    issued_at: String,
    file_name: String,
    sha256: String,
    service: String,
}

fn outcome(v: Option<Verification>, by: &'static str, lang: crate::i18n::Lang) -> Outcome {
    match v {
        Some(v) => Outcome {
            found: true,
            genuine: v.genuine,
            by,
            code: v.verify_code,
            dossier_code: v.dossier_code,
            office_id: v.office_id,
            office_name: v.office_name,
            issued_at: local_time(v.issued_at, lang),
            file_name: v.file_name,
            sha256: v.sha256,
            service: format!("{} ({})", v.service_name, v.service_code),
        },
        None => Outcome {
            found: false,
            genuine: false,
            by,
            code: String::new(),
            dossier_code: String::new(),
            office_id: String::new(),
            office_name: String::new(),
            issued_at: String::new(),
            file_name: String::new(),
            sha256: String::new(),
            service: String::new(),
        },
    }
}

fn render(
    state: &AppState,
    req: &HttpRequest,
    typed: &str,
    result: Option<Outcome>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let error = error.map(|k| state.messages.text(lang, k).to_string());
    page(state, req, lang, "verify.html", status, |ctx| {
        ctx.insert("typed", typed);
        ctx.insert("result", &result);
        ctx.insert("error", &error);
    })
}

/// GET `/verify` (the form) and `/verify?code=…` (the QR code's link).
pub async fn verify_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<VerifyQuery>,
) -> Result<HttpResponse, AppError> {
    let typed: String = q.code.chars().take(40).collect();
    if typed.trim().is_empty() {
        return render(&state, &req, "", None, None, StatusCode::OK);
    }
    let Some(code) = normalise_verify_code(&typed) else {
        return render(
            &state,
            &req,
            &typed,
            None,
            Some("verify_bad_code"),
            StatusCode::BAD_REQUEST,
        );
    };
    let ip = client_ip(&req);
    let v = with_db(&state, "verify a result by code", move |conn| {
        limit(
            conn,
            &format!("verify:{ip}"),
            VERIFY_LIMIT_PER_IP,
            Duration::minutes(15),
        )?;
        Ok(results::verify_code(conn, &code)?)
    })
    .await?;
    let lang = lang_of(&req);
    let status = if v.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    render(
        &state,
        &req,
        &typed,
        Some(outcome(v, "code", lang)),
        None,
        status,
    )
}

/// POST `/verify` (multipart: `_csrf`, `file`): the digest of the file decides; a file changed by
/// one byte is not found.
pub async fn verify_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let mut csrf_ok = false;
    let mut digest: Option<String> = None;
    let mut too_large = false;
    let bad = |_| AppError::BadRequest("upload_err_read");
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        match field.name().unwrap_or("") {
            "_csrf" => {
                let mut value = Vec::new();
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    if value.len() + chunk.len() > 256 {
                        return Err(AppError::Csrf);
                    }
                    value.extend_from_slice(&chunk);
                }
                check_csrf(&req, &String::from_utf8(value).unwrap_or_default())?;
                csrf_ok = true;
            }
            "file" => {
                if !csrf_ok {
                    return Err(AppError::Csrf);
                }
                let mut hasher = Sha256::new();
                let mut size = 0usize;
                while let Some(chunk) = field.try_next().await.map_err(bad)? {
                    size += chunk.len();
                    if size > VERIFY_MAX_BYTES {
                        too_large = true;
                        continue;
                    }
                    hasher.update(&chunk);
                }
                if size > 0 && !too_large {
                    digest = Some(data_encoding::HEXLOWER.encode(&hasher.finalize()));
                }
            }
            _ => while field.try_next().await.map_err(bad)?.is_some() {},
        }
    }
    if !csrf_ok {
        return Err(AppError::Csrf);
    }
    let Some(sha) = digest else {
        let key = if too_large {
            "verify_too_large"
        } else {
            "verify_no_file"
        };
        return render(&state, &req, "", None, Some(key), StatusCode::BAD_REQUEST);
    };
    let ip = client_ip(&req);
    let v = with_db(&state, "verify a result by file", move |conn| {
        limit(
            conn,
            &format!("verify:{ip}"),
            VERIFY_LIMIT_PER_IP,
            Duration::minutes(15),
        )?;
        Ok(results::verify_digest(conn, &sha)?)
    })
    .await?;
    let lang = lang_of(&req);
    let status = if v.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    render(
        &state,
        &req,
        "",
        Some(outcome(v, "file", lang)),
        None,
        status,
    )
}
