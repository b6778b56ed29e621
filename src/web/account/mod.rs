//! Citizens' accounts, one file per task: register and verify the email, log in and out, reset a
//! forgotten password, the profile (contact details, email change and its "this wasn't me"), and
//! API tokens. Every form carries a CSRF token; every multi-step write is one `db::accounts`
//! transaction; every email goes through the outbox; every successful POST redirects (303).

mod api_tokens;
mod login;
mod password;
mod profile;
mod register;

pub use api_tokens::{api_tokens, create_api_token, revoke_api_token};
pub use login::{login, login_form, logout, logout_everywhere};
pub use password::{forgot, forgot_form, forgot_sent, reset, reset_form};
pub use profile::{
    profile, revert_email_confirm, revert_email_done, revert_email_form, update_profile,
};
pub use register::{register, register_form, register_sent, verify_email};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime, Utc};

use super::auth::{CSRF_FIELD, client_ip, csrf_token};
use super::{AppState, base_context, lang_of, render};
use crate::db::accounts::Origin;
use crate::db::{DbConnection, rate_limits};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::mail::{self, RenderedEmail};

/// Attempts per window before 429 (logins: `Settings::login_policy`).
pub const REGISTER_LIMIT_PER_IP: i32 = 10;
pub const RESET_LIMIT_PER_IP: i32 = 10;
pub const RESET_LIMIT_PER_ACCOUNT: i32 = 3;
pub const LIMIT_WINDOW_MINUTES: i64 = 15;
const VERIFY_LINK_HOURS: i64 = 48;
const RESET_LINK_MINUTES: i64 = 60;
/// How long the old address may undo an email change.
const REVERT_LINK_DAYS: i64 = 14;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn origin(req: &HttpRequest) -> Origin {
    Origin {
        ip: client_ip(req),
        now: now(),
    }
}

/// Renders a no-store form page with this visitor's CSRF token (setting its cookie when new).
pub(crate) fn page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    template: &str,
    status: StatusCode,
    ctx_fn: impl FnOnce(&mut tera::Context),
) -> Result<HttpResponse, AppError> {
    let mut ctx = base_context(state, req, lang);
    let (token, cookie) = csrf_token(state, req);
    ctx.insert("csrf", &token);
    ctx.insert("csrf_field", CSRF_FIELD);
    ctx.insert("demo", &state.settings.demo);
    ctx_fn(&mut ctx);
    let html = render(state, template, &ctx)?;
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8");
    if let Some(c) = cookie {
        res.cookie(c);
    }
    Ok(res.body(html))
}

/// A short page with a title and a sentence (done, check your inbox, link no longer valid).
pub(crate) fn message(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    title_key: &str,
    body_key: &str,
    show_login: bool,
) -> Result<HttpResponse, AppError> {
    page(
        state,
        req,
        lang_of(req),
        "account/message.html",
        status,
        |ctx| {
            ctx.insert("title_key", title_key);
            ctx.insert("body_key", body_key);
            ctx.insert("show_login", &show_login);
        },
    )
}

/// 400: the link (verification, reset, undo) is unknown, used or expired; `body_key` says what
/// to do instead.
pub(crate) fn link_not_valid(
    state: &AppState,
    req: &HttpRequest,
    body_key: &str,
) -> Result<HttpResponse, AppError> {
    message(
        state,
        req,
        StatusCode::BAD_REQUEST,
        "verify_bad_title",
        body_key,
        false,
    )
}

/// Field name → message in the visitor's language.
fn error_messages<'a>(
    state: &'a AppState,
    lang: Lang,
    errors: &crate::domain::account::FieldErrors,
) -> std::collections::BTreeMap<&'static str, &'a str> {
    errors
        .iter()
        .map(|(k, v)| (*k, state.messages.text(lang, v)))
        .collect()
}

/// A UTC time as people in Vietnam read it (UTC+7 all year).
fn vietnam_time(t: NaiveDateTime, lang: Lang) -> String {
    let local = t + Duration::hours(7);
    match lang {
        Lang::Vi => format!("{} (giờ Việt Nam)", local.format("%H:%M ngày %d/%m/%Y")),
        Lang::En => format!("{} (Vietnam time)", local.format("%H:%M on %d/%m/%Y")),
    }
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    format!(
        "{}{}?token={}",
        state.settings.public_url.trim_end_matches('/'),
        path,
        token
    )
}

fn email(
    state: &AppState,
    lang: Lang,
    name: &str,
    ctx_fn: impl FnOnce(&mut tera::Context),
) -> Result<RenderedEmail, AppError> {
    let mut ctx = tera::Context::new();
    ctx_fn(&mut ctx);
    mail::render(&state.tera, lang, name, &ctx).map_err(AppError::Internal)
}

/// The answer when a limit is used up: 429 with the seconds until the window ends.
pub(crate) fn rate_limited(until: NaiveDateTime, now: NaiveDateTime) -> AppError {
    AppError::RateLimited(
        "error_rate_limited",
        (until - now).num_seconds().max(1) as u64,
    )
}

/// Counts an attempt against a limit shared by every instance; past `max` in the window, 429.
pub(crate) fn limit(
    conn: &mut DbConnection,
    key: &str,
    max: i32,
    window: Duration,
) -> Result<(), AppError> {
    let now = now();
    let (count, until) = rate_limits::hit(conn, key, window, now)?;
    if count > max {
        return Err(rate_limited(until, now));
    }
    Ok(())
}
