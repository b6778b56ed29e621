//! The profile: contact details (a new email address is used only once verified; the old
//! address is then told, with a "this wasn't me" link that undoes the change).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;

use super::password::reset_link;
use super::register::TokenQuery;
use super::{
    VERIFY_LINK_HOURS, email, error_messages, link, link_not_valid, message, now, origin, page,
};
use crate::db::{account_tokens, accounts};
use crate::domain::account::{ContactForm, FieldErrors, TokenPurpose};
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};
use crate::web::auth::{Authenticated, SessionUser, check_csrf, clear_session_cookie};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

fn mask_cccd(cccd: &str) -> String {
    if cccd.len() == 12 {
        format!("{}******{}", &cccd[..3], &cccd[9..])
    } else {
        String::new()
    }
}

fn profile_page(
    state: &AppState,
    req: &HttpRequest,
    s: &SessionUser,
    values: &ContactForm,
    errors: &FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let messages = error_messages(state, lang, errors);
    page(state, req, lang, "account/profile.html", status, |ctx| {
        ctx.insert("full_name", &s.user.full_name);
        ctx.insert("current_email", &s.user.email);
        ctx.insert("cccd", &mask_cccd(s.user.cccd.as_deref().unwrap_or("")));
        ctx.insert("role", &s.role());
        ctx.insert("phone", &values.phone);
        ctx.insert("address", &values.address);
        ctx.insert("email", &values.email);
        ctx.insert("errors", &messages);
        ctx.insert("notice", &notice.map(|k| state.messages.text(lang, k)));
    })
}

#[derive(Deserialize)]
pub struct ProfileQuery {
    saved: Option<String>,
}

pub async fn profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    q: web::Query<ProfileQuery>,
) -> Result<HttpResponse, AppError> {
    let values = ContactForm {
        email: s.user.email.clone(),
        phone: s.user.phone.clone(),
        address: s.user.address.clone(),
    };
    let notice = match q.saved.as_deref() {
        Some("verify") => Some("profile_saved_verify"),
        Some(_) => Some("profile_saved"),
        None => None,
    };
    profile_page(
        &state,
        &req,
        &s,
        &values,
        &FieldErrors::new(),
        notice,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ProfileSubmit {
    #[serde(flatten)]
    form: ContactForm,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn update_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<ProfileSubmit>,
) -> Result<HttpResponse, AppError> {
    let ProfileSubmit { form, csrf } = body.into_inner();
    check_csrf(&req, &csrf)?;
    let contact = match form.validate() {
        Ok(c) => c,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return profile_page(&state, &req, &s, &form, &errors, None, status);
        }
    };
    let changing_email = contact.email != s.user.email;
    let token = random_token();
    let verify = if changing_email {
        Some(email(&state, lang_of(&req), "verify_email", |ctx| {
            ctx.insert("name", &s.user.full_name);
            ctx.insert("link", &link(&state, "/verify-email", &token));
        })?)
    } else {
        None
    };
    let o = origin(&req);
    let user = s.user.clone();
    with_db(&state, "update the profile", move |conn| {
        let token_hash = hash_token(&token);
        let change = accounts::ProfileChange {
            user: &user,
            contact: &contact,
            verify: verify.as_ref().map(|m| (token_hash.as_str(), m)),
            verify_for: Duration::hours(VERIFY_LINK_HOURS),
        };
        Ok(accounts::update_profile(conn, &change, &o)?)
    })
    .await?;
    Ok(see_other(if changing_email {
        "/account?saved=verify"
    } else {
        "/account?saved=1"
    }))
}

/// The "this wasn't me" link from the old address: a page that says what undoing does, with a
/// button (a link alone must not change anything: mail scanners open links).
pub async fn revert_email_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&q.token);
    let valid = with_db(&state, "check an email-change undo link", move |conn| {
        Ok(account_tokens::is_valid(
            conn,
            &[TokenPurpose::RevertEmail],
            &hash,
            now(),
        )?)
    })
    .await?;
    if !valid {
        return link_not_valid(&state, &req, "verify_bad_body");
    }
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "account/revert_email.html",
        StatusCode::OK,
        |ctx| ctx.insert("token", &q.token),
    )
}

#[derive(Deserialize)]
pub struct RevertSubmit {
    #[serde(default)]
    token: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn revert_email_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<RevertSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let hash = hash_token(&body.token);
    let reset = reset_link(&state, lang_of(&req));
    let o = origin(&req);
    let done = with_db(&state, "undo an email change", move |conn| {
        Ok(accounts::revert_email_change(conn, &hash, reset, &o)?)
    })
    .await?;
    if !done {
        return link_not_valid(&state, &req, "verify_bad_body");
    }
    let mut res = see_other("/account/email/reverted");
    res.add_cookie(&clear_session_cookie(&state))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

/// Where undoing an email change lands.
pub async fn revert_email_done(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    message(
        &state,
        &req,
        StatusCode::OK,
        "revert_done_title",
        "revert_done_body",
        true,
    )
}
