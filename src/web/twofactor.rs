//! The second factor staff and administrators must give after their password: enrolment of an
//! authenticator app (TOTP, RFC 6238) at first login with single-use recovery codes shown once,
//! then a code — or a recovery code — at every login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::auth::{SessionUser, check_csrf, client_ip, current_user, session_cookie};
use super::redirect::see_other;
use super::{AppState, flash, lang_of, with_db};
use crate::db::audit::{self, Entry};
use crate::db::{self, second_factor, sessions};
use crate::domain::audit::AuditEvent;
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};
use crate::security::{recovery, totp};

const ISSUER: &str = "Cong Dich vu cong";
/// Wrong codes per account in the rate-limit window before 429.
const CODE_ATTEMPTS: i32 = 10;
/// The page that shows fresh recovery codes once, and the flash cookie that carries them there.
const CODES_PATH: &str = "/login/2fa/codes";
const CODES_FLASH: &str = "recovery_codes";

async fn pending_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<SessionUser, AppError> {
    match current_user(state, req).await? {
        Some(s) => Ok(s),
        None => Err(AppError::LoginRequired("/login/2fa".into())),
    }
}

fn show(
    state: &AppState,
    req: &HttpRequest,
    template: &str,
    status: StatusCode,
    f: impl FnOnce(&mut tera::Context),
) -> Result<HttpResponse, AppError> {
    super::account::page(state, req, lang_of(req), template, status, f)
}

pub async fn second_factor_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let s = pending_user(&state, &req).await?;
    if s.mfa_ok {
        return Ok(see_other("/account"));
    }
    if s.user.totp_enabled_at.is_some() {
        return show(&state, &req, "account/2fa.html", StatusCode::OK, |ctx| {
            ctx.insert("error", &None::<String>)
        });
    }
    // First login: a new secret, kept pending until a code from the app proves it was set up.
    let secret = totp::generate_secret();
    let (id, stored) = (s.user.id, secret.clone());
    with_db(&state, "store a pending second factor", move |conn| {
        Ok(second_factor::set_pending(conn, id, &stored)?)
    })
    .await?;
    enrol_page(&state, &req, &s, &secret, None, StatusCode::OK)
}

fn enrol_page(
    state: &AppState,
    req: &HttpRequest,
    s: &SessionUser,
    secret: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let grouped: Vec<String> = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    show(state, req, "account/2fa_enrol.html", status, |ctx| {
        ctx.insert("secret", &grouped.join(" "));
        ctx.insert("uri", &totp::otpauth_uri(secret, &s.user.email, ISSUER));
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
    })
}

#[derive(Deserialize)]
pub struct CodeSubmit {
    #[serde(default)]
    code: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// The secret to check a code against: the pending one while enrolling, the active one after.
fn secret_for(s: &SessionUser, enrolled: bool) -> Option<String> {
    s.user
        .totp_secret
        .clone()
        .filter(|_| s.user.totp_enabled_at.is_some() == enrolled)
}

fn back_to_second_factor() -> HttpResponse {
    see_other("/login/2fa")
}

pub async fn enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<CodeSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let s = pending_user(&state, &req).await?;
    let Some(secret) = secret_for(&s, false) else {
        return Ok(back_to_second_factor());
    };
    let now = Utc::now();
    let Some(step) = totp::verify(&secret, &body.code, now.timestamp(), None) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return enrol_page(&state, &req, &s, &secret, Some("totp_wrong"), status);
    };
    let codes = recovery::generate(recovery::DEFAULT_COUNT);
    let hashes: Vec<String> = codes.iter().map(|c| recovery::hash_code(c)).collect();
    let new_token = random_token();
    let (id, old, new, ip, email) = (
        s.user.id,
        s.session_hash.clone(),
        hash_token(&new_token),
        client_ip(&req),
        s.user.email.clone(),
    );
    with_db(&state, "enable the second factor", move |conn| {
        db::transaction(conn, |conn| {
            let t = now.naive_utc();
            second_factor::enable(conn, id, step, &hashes, t)?;
            sessions::upgrade(conn, &old, &new)?;
            let e = Entry::new(Some(id), AuditEvent::TwoFactorEnrolled, &email, &ip, t);
            audit::record(conn, &e)?;
            let e = Entry::new(Some(id), AuditEvent::Login, &email, &ip, t)
                .detail("second factor enrolled");
            audit::record(conn, &e)?;
            Ok(())
        })
    })
    .await?;
    // Post/redirect/get: the codes go to the page that shows them once.
    let mut res = see_other(CODES_PATH);
    res.add_cookie(&session_cookie(&state, &new_token))
        .map_err(|e| AppError::Internal(e.into()))?;
    res.add_cookie(&flash::set(
        &state,
        CODES_FLASH,
        &codes.join(","),
        CODES_PATH,
    ))
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

/// The recovery codes, shown once right after enrolment.
pub async fn recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let s = pending_user(&state, &req).await?;
    let Some((codes, clear)) = flash::take(&state, &req, CODES_FLASH, CODES_PATH) else {
        return Ok(see_other(if s.mfa_ok { "/account" } else { "/login/2fa" }));
    };
    let codes: Vec<&str> = codes.split(',').filter(|c| !c.is_empty()).collect();
    let mut res = show(
        &state,
        &req,
        "account/2fa_codes.html",
        StatusCode::OK,
        |ctx| ctx.insert("codes", &codes),
    )?;
    res.add_cookie(&clear)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<CodeSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let s = pending_user(&state, &req).await?;
    let Some(secret) = secret_for(&s, true) else {
        return Ok(back_to_second_factor());
    };
    let lang = lang_of(&req);
    let now = Utc::now();
    let typed = body.code.clone();
    let new_token = random_token();
    let (id, old, new, ip, email, last) = (
        s.user.id,
        s.session_hash.clone(),
        hash_token(&new_token),
        client_ip(&req),
        s.user.email.clone(),
        s.user.totp_last_step,
    );
    let accepted = with_db(&state, "check a second-factor code", move |conn| {
        let t = now.naive_utc();
        super::account::limit(
            conn,
            &format!("2fa:{id}"),
            CODE_ATTEMPTS,
            Duration::minutes(15),
        )?;
        db::transaction(conn, |conn| {
            let how = if recovery::looks_like_code(&typed) {
                second_factor::use_recovery_code(conn, id, &recovery::hash_code(&typed), t)?
                    .then_some("recovery code")
            } else if let Some(step) = totp::verify(&secret, &typed, now.timestamp(), last) {
                second_factor::set_step(conn, id, step)?;
                Some("authenticator code")
            } else {
                None
            };
            match how {
                Some(how) => {
                    sessions::upgrade(conn, &old, &new)?;
                    let e = Entry::new(Some(id), AuditEvent::Login, &email, &ip, t).detail(how);
                    audit::record(conn, &e)?;
                    if how == "recovery code" {
                        let e =
                            Entry::new(Some(id), AuditEvent::TwoFactorRecoveryUsed, &email, &ip, t);
                        audit::record(conn, &e)?;
                    }
                    Ok(true)
                }
                None => {
                    let e = Entry::new(Some(id), AuditEvent::TwoFactorFailed, &email, &ip, t);
                    audit::record(conn, &e)?;
                    Ok(false)
                }
            }
        })
    })
    .await?;
    if !accepted {
        let message = state.messages.text(lang, "totp_wrong").to_string();
        return show(
            &state,
            &req,
            "account/2fa.html",
            StatusCode::UNAUTHORIZED,
            |ctx| ctx.insert("error", &Some(message)),
        );
    }
    let target = if s.role() == crate::domain::account::Role::Admin {
        "/admin"
    } else {
        "/account"
    };
    let mut res = see_other(target);
    res.add_cookie(&session_cookie(&state, &new_token))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}
