//! "Forgot your password" and the reset form (which also serves the first password of staff
//! created by an administrator).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;

use super::register::TokenQuery;
use super::{
    LIMIT_WINDOW_MINUTES, RESET_LIMIT_PER_ACCOUNT, RESET_LIMIT_PER_IP, RESET_LINK_MINUTES, limit,
    link, link_not_valid, message, now, origin, page,
};
use crate::db::{account_tokens, accounts};
use crate::domain::account::TokenPurpose;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::security::password::check_policy;
use crate::security::tokens::{hash_token, random_token};
use crate::web::auth::check_csrf;
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

#[derive(Deserialize)]
pub struct ForgotSubmit {
    #[serde(default)]
    email: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn forgot_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "account/forgot.html",
        StatusCode::OK,
        |ctx| ctx.insert("email", ""),
    )
}

/// A password reset link and its email, rendered for the account's name.
pub(super) fn reset_link(state: &web::Data<AppState>, lang: Lang) -> accounts::PasswordResetLink {
    let token = random_token();
    let url = link(state, "/password/reset", &token);
    let tera_state = state.clone();
    accounts::PasswordResetLink {
        token_hash: hash_token(&token),
        valid_for: Duration::minutes(RESET_LINK_MINUTES),
        render: Box::new(move |name| {
            let mut ctx = tera::Context::new();
            ctx.insert("name", name);
            ctx.insert("link", &url);
            ctx.insert("minutes", &RESET_LINK_MINUTES);
            crate::mail::render(&tera_state.tera, lang, "reset_password", &ctx)
        }),
    }
}

pub async fn forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<ForgotSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let address = body.email.trim().to_lowercase();
    let o = origin(&req);
    let reset = reset_link(&state, lang_of(&req));
    with_db(&state, "request a password reset", move |conn| {
        let window = Duration::minutes(LIMIT_WINDOW_MINUTES);
        limit(
            conn,
            &format!("reset:ip:{}", o.ip),
            RESET_LIMIT_PER_IP,
            window,
        )?;
        limit(
            conn,
            &format!("reset:account:{address}"),
            RESET_LIMIT_PER_ACCOUNT,
            window,
        )?;
        Ok(accounts::request_password_reset(conn, &address, reset, &o)?)
    })
    .await?;
    Ok(see_other("/password/forgot/sent"))
}

/// Where "forgot your password" lands: the same page whether or not there is an account.
pub async fn forgot_sent(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    message(
        &state,
        &req,
        StatusCode::OK,
        "forgot_done_title",
        "forgot_done_body",
        false,
    )
}

#[derive(Deserialize)]
pub struct ResetSubmit {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

fn reset_page(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    page(state, req, lang, "account/reset.html", status, |ctx| {
        ctx.insert("token", token);
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
    })
}

pub async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&q.token);
    let valid = with_db(&state, "check a reset link", move |conn| {
        let purposes = [TokenPurpose::ResetPassword, TokenPurpose::SetPassword];
        Ok(account_tokens::is_valid(conn, &purposes, &hash, now())?)
    })
    .await?;
    if !valid {
        return link_not_valid(&state, &req, "reset_bad_body");
    }
    reset_page(&state, &req, &q.token, None, StatusCode::OK)
}

pub async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<ResetSubmit>,
) -> Result<HttpResponse, AppError> {
    let ResetSubmit {
        token,
        password,
        password_confirm,
        csrf,
    } = body.into_inner();
    check_csrf(&req, &csrf)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if password != password_confirm {
        return reset_page(
            &state,
            &req,
            &token,
            Some("err_password_mismatch"),
            unprocessable,
        );
    }
    if let Err(p) = check_policy(&password, &[]) {
        return reset_page(&state, &req, &token, Some(p.message_key()), unprocessable);
    }
    let password_hash = state
        .hasher
        .hash(password)
        .await
        .map_err(AppError::Internal)?;
    let token_hash = hash_token(&token);
    let o = origin(&req);
    let done = with_db(&state, "reset a password", move |conn| {
        Ok(accounts::reset_password(
            conn,
            &token_hash,
            &password_hash,
            &o,
        )?)
    })
    .await?;
    if !done {
        return reset_page(
            &state,
            &req,
            &token,
            Some("reset_bad_body"),
            StatusCode::BAD_REQUEST,
        );
    }
    Ok(see_other("/login?reset=1"))
}
