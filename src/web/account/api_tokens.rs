//! Citizens' API bearer tokens: create (shown once), list, revoke. The form names a token by
//! its opaque public id; the stored hash never leaves the database.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{origin, page};
use crate::db::{accounts, api_tokens as tokens};
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};
use crate::web::auth::{Authenticated, SessionUser, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, flash, lang_of, with_db};

const PATH: &str = "/account/api-tokens";
/// The flash cookie that carries a new token to the page that shows it once.
const NEW_TOKEN: &str = "new_api_token";

#[derive(serde::Serialize)]
struct TokenView {
    id: String,
    name: String,
    created_at: String,
    last_used_at: String,
}

fn citizen_only(s: &SessionUser) -> Result<(), AppError> {
    if s.role().requires_two_factor() {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

async fn tokens_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user_id: i64,
    new_token: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let rows = with_db(state, "list API tokens", move |conn| {
        Ok(tokens::list(conn, user_id)?)
    })
    .await?;
    let list: Vec<TokenView> = rows
        .into_iter()
        .map(|t| TokenView {
            id: t.public_id,
            name: t.name,
            created_at: t.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            last_used_at: t
                .last_used_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
        })
        .collect();
    page(state, req, lang, "account/api_tokens.html", status, |ctx| {
        ctx.insert("tokens", &list);
        ctx.insert("new_token", &new_token);
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
    })
}

pub async fn api_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
) -> Result<HttpResponse, AppError> {
    citizen_only(&s)?;
    let shown = flash::take(&state, &req, NEW_TOKEN, PATH);
    let mut res = tokens_page(
        &state,
        &req,
        s.user.id,
        shown.as_ref().map(|(t, _)| t.clone()),
        None,
        StatusCode::OK,
    )
    .await?;
    if let Some((_, clear)) = shown {
        res.add_cookie(&clear)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct TokenCreate {
    #[serde(default)]
    name: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn create_api_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<TokenCreate>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    citizen_only(&s)?;
    let name: String = match crate::domain::account::parse_line(&body.name, 80) {
        Ok(n) if !n.is_empty() => n,
        _ => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return tokens_page(
                &state,
                &req,
                s.user.id,
                None,
                Some("err_token_name"),
                status,
            )
            .await;
        }
    };
    let token = random_token();
    let (hash, public_id, o, user) = (
        hash_token(&token),
        random_token(),
        origin(&req),
        s.user.clone(),
    );
    with_db(&state, "create an API token", move |conn| {
        Ok(accounts::create_api_token(
            conn, &user, &name, &hash, &public_id, &o,
        )?)
    })
    .await?;
    let mut res = see_other(PATH);
    res.add_cookie(&flash::set(&state, NEW_TOKEN, &token, PATH))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct TokenRevoke {
    #[serde(default)]
    id: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

pub async fn revoke_api_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<TokenRevoke>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let (public_id, o, user) = (body.id.clone(), origin(&req), s.user.clone());
    with_db(&state, "revoke an API token", move |conn| {
        Ok(accounts::revoke_api_token(conn, &user, &public_id, &o)?)
    })
    .await?;
    Ok(see_other(PATH))
}
