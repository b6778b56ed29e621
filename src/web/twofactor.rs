//! The second factor staff and administrators must give after their password: enrolment of an
//! authenticator app (TOTP, RFC 6238) at first login with single-use recovery codes shown once,
//! then a code — or a recovery code — at every login.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::account::safe_next;
use super::auth::{SessionUser, check_csrf, client_ip, current_user, session_cookie};
use super::{AppState, lang_of, with_db};
use crate::db::{self, users};
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};
use crate::security::{recovery, totp};

const ISSUER: &str = "Cong Dich vu cong";
/// Wrong codes per account in the rate-limit window before 429.
const CODE_ATTEMPTS: i32 = 10;

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
    status: u16,
    f: impl FnOnce(&mut tera::Context),
) -> Result<HttpResponse, AppError> {
    super::account::page(state, req, lang_of(req), template, status, f)
}

#[get("/login/2fa")]
pub async fn second_factor_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let s = pending_user(&state, &req).await?;
    if s.mfa_ok {
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/account"))
            .finish());
    }
    if s.user.totp_enabled_at.is_some() {
        return show(&state, &req, "account/2fa.html", 200, |ctx| {
            ctx.insert("error", &None::<String>)
        });
    }
    // First login: a new secret, kept pending until a code from the app proves it was set up.
    let secret = totp::generate_secret();
    let (id, stored) = (s.user.id, secret.clone());
    with_db(&state, move |conn| {
        Ok(users::set_pending_totp(conn, id, &stored)?)
    })
    .await?;
    enrol_page(&state, &req, &s, &secret, None, 200)
}

fn enrol_page(
    state: &AppState,
    req: &HttpRequest,
    s: &SessionUser,
    secret: &str,
    error: Option<&str>,
    status: u16,
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
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login/2fa"))
        .finish()
}

#[post("/login/2fa/enrol")]
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
        return enrol_page(&state, &req, &s, &secret, Some("totp_wrong"), 422);
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
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let t = now.naive_utc();
            users::enable_totp(conn, id, step, &hashes, t)?;
            users::upgrade_session(conn, &old, &new)?;
            users::audit(conn, Some(id), "2fa_enrolled", &email, &ip, "", t)?;
            users::audit(
                conn,
                Some(id),
                "login",
                &email,
                &ip,
                "second factor enrolled",
                t,
            )?;
            Ok(())
        })
    })
    .await?;
    let mut res = show(&state, &req, "account/2fa_codes.html", 200, |ctx| {
        ctx.insert("codes", &codes)
    })?;
    res.add_cookie(&session_cookie(&state, &new_token))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

#[post("/login/2fa")]
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
    let accepted = with_db(&state, move |conn| {
        let t = now.naive_utc();
        let (count, until) =
            users::hit_rate_limit(conn, &format!("2fa:{id}"), Duration::minutes(15), t)?;
        if count > CODE_ATTEMPTS {
            return Err(AppError::RateLimited(
                "error_rate_limited",
                (until - t).num_seconds().max(1) as u64,
            ));
        }
        db::transaction(conn, |conn| {
            let how = if recovery::looks_like_code(&typed) {
                users::use_recovery_code(conn, id, &recovery::hash_code(&typed), t)?
                    .then_some("recovery code")
            } else if let Some(step) = totp::verify(&secret, &typed, now.timestamp(), last) {
                users::set_totp_step(conn, id, step)?;
                Some("authenticator code")
            } else {
                None
            };
            match how {
                Some(how) => {
                    users::upgrade_session(conn, &old, &new)?;
                    users::audit(conn, Some(id), "login", &email, &ip, how, t)?;
                    if how == "recovery code" {
                        users::audit(conn, Some(id), "2fa_recovery_used", &email, &ip, "", t)?;
                    }
                    Ok(true)
                }
                None => {
                    users::audit(conn, Some(id), "2fa_failed", &email, &ip, "", t)?;
                    Ok(false)
                }
            }
        })
    })
    .await?;
    if !accepted {
        let message = state.messages.text(lang, "totp_wrong").to_string();
        return show(&state, &req, "account/2fa.html", 401, |ctx| {
            ctx.insert("error", &Some(message))
        });
    }
    let target = safe_next(
        None,
        if s.role() == crate::domain::account::Role::Admin {
            "/admin"
        } else {
            "/account"
        },
    );
    Ok(HttpResponse::SeeOther()
        .cookie(session_cookie(&state, &new_token))
        .insert_header((header::LOCATION, target))
        .finish())
}
