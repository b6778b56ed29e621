//! Who is asking: server-side sessions (an opaque random id in a cookie; only its hash is
//! stored), idle and absolute timeouts, extractors that require a login or a role, and CSRF
//! protection (a double-submit token on every state-changing form plus an Origin check).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{Duration, Utc};
use serde::Serialize;

use super::{AppState, with_db};
use crate::db::users::{self, User};
use crate::domain::account::Role;
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token, same_secret};

pub const SESSION_COOKIE: &str = "sid";
pub const CSRF_COOKIE: &str = "csrf";
pub const CSRF_FIELD: &str = "_csrf";
/// A session unused this long ends (a citizen filling a long form keeps it alive by saving).
pub const IDLE_TIMEOUT_MINUTES: i64 = 60;
/// A session ends this long after login whatever happens.
pub const ABSOLUTE_TIMEOUT_HOURS: i64 = 12;
/// `last_seen_at` is written at most this often, so reading a page is not a database write.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The logged-in person behind a request.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    pub session_hash: String,
    /// Whether the second factor was given in this session (always true for citizens).
    pub mfa_ok: bool,
}

impl SessionUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }
}

/// What templates show of the visitor in the header.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    pub name: String,
    pub role: Role,
}

pub fn secure_cookies(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure_cookies(state))
        .max_age(CookieDuration::hours(ABSOLUTE_TIMEOUT_HOURS))
        .finish()
}

pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, "");
    c.make_removal();
    c
}

/// Resolves the session cookie (once per request; the result is kept in the request's
/// extensions so the header of any page can show who is logged in).
pub async fn current_user(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<SessionUser>, AppError> {
    if let Some(found) = req.extensions().get::<Option<SessionUser>>() {
        return Ok(found.clone());
    }
    let Some(token) = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let hash = hash_token(&token);
    let now = Utc::now().naive_utc();
    let found = with_db(state, move |conn| {
        let Some((session, user)) = users::find_session(conn, &hash)? else {
            return Ok(None);
        };
        if session.expires_at <= now
            || session.last_seen_at + Duration::minutes(IDLE_TIMEOUT_MINUTES) <= now
        {
            users::delete_session(conn, &hash)?;
            return Ok(None);
        }
        if session.last_seen_at + Duration::seconds(TOUCH_EVERY_SECONDS) <= now {
            users::touch_session(conn, &hash, now)?;
        }
        let mfa_ok = session.mfa_ok || !user.role().requires_two_factor();
        Ok(Some(SessionUser {
            user,
            session_hash: hash,
            mfa_ok,
        }))
    })
    .await?;
    req.extensions_mut().insert(found.clone());
    if let Some(s) = &found {
        req.extensions_mut().insert(Viewer {
            name: s.user.full_name.clone(),
            role: s.role(),
        });
    }
    Ok(found)
}

/// A logged-in person who has passed every factor their role needs.
pub struct Authenticated(pub SessionUser);

/// An administrator (with the second factor given).
pub struct AdminUser(pub SessionUser);

fn login_redirect(req: &HttpRequest) -> AppError {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    AppError::LoginRequired(here)
}

impl FromRequest for Authenticated {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or(AppError::Unavailable)?;
            match current_user(&state, &req).await? {
                Some(s) if s.mfa_ok => Ok(Authenticated(s)),
                Some(_) => Err(AppError::SecondFactorRequired),
                None => Err(login_redirect(&req)),
            }
        })
    }
}

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(s) = inner.await?;
            if s.role() == Role::Admin {
                Ok(AdminUser(s))
            } else {
                Err(AppError::Forbidden)
            }
        })
    }
}

/// An API client identified by `Authorization: Bearer <token>` (never by cookies, so API calls
/// need no CSRF token). Staff tokens are refused until staff API access has its own scopes.
pub struct ApiUser(pub User);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or(AppError::Unavailable)?;
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .ok_or(AppError::Unauthorized)?;
            let hash = hash_token(&token);
            let now = Utc::now().naive_utc();
            let user = with_db(&state, move |conn| {
                Ok(users::api_token_user(conn, &hash, now)?)
            })
            .await?;
            match user {
                Some(u) if !u.role().requires_two_factor() => Ok(ApiUser(u)),
                Some(_) => Err(AppError::Forbidden),
                None => Err(AppError::Unauthorized),
            }
        })
    }
}

/// The CSRF token for this visitor, and the cookie to set when it is new.
pub fn csrf_token(state: &AppState, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(CSRF_COOKIE).filter(|c| c.value().len() == 43) {
        return (c.value().to_string(), None);
    }
    let token = random_token();
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure_cookies(state))
        .finish();
    (token, Some(cookie))
}

/// Refuses a state-changing request that does not carry this visitor's token, or that comes
/// from another site (Origin, else Referer, must name this host).
pub fn check_csrf(req: &HttpRequest, submitted: &str) -> Result<(), AppError> {
    let cookie = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if cookie.is_empty() || !same_secret(&cookie, submitted) {
        return Err(AppError::Csrf);
    }
    let host = req.connection_info().host().to_string();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(origin) = origin {
        let origin_host = origin
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        if origin_host != host {
            return Err(AppError::Csrf);
        }
    }
    Ok(())
}

/// The client address for rate limits and the audit log (the peer; a trusted proxy header is
/// for the deployment issue).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
