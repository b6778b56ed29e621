//! Who is asking: server-side sessions (an opaque random id in a cookie; only its hash is
//! stored), idle and absolute timeouts, extractors that require a login or a role, and CSRF
//! protection: every state-changing form carries a token bound to the session (or, before
//! login, to a pre-session cookie that login replaces), plus an Origin check.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{AppState, with_db};
use crate::db::users::User;
use crate::db::{api_tokens, sessions};
use crate::domain::account::Role;
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token, same_secret};

/// Cookie names over plain HTTP (local runs, tests). Under https the names carry the
/// `__Host-` prefix: the browser then only accepts them Secure, from this host, for path `/`, so
/// a neighbouring subdomain cannot plant one.
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

/// The session cookie's name for this deployment (see [`SESSION_COOKIE`]).
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-sid" } else { SESSION_COOKIE }
}

/// The pre-session CSRF cookie's name for this deployment.
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-csrf" } else { CSRF_COOKIE }
}

fn state_of(req: &HttpRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

/// The session token the visitor's browser sent, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    let secure = state_of(req).is_some_and(|s| secure_cookies(&s));
    req.cookie(session_cookie_name(secure))
        .map(|c| c.value().to_string())
        .filter(|t| !t.is_empty())
}

pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    let secure = secure_cookies(state);
    Cookie::build(session_cookie_name(secure), token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::hours(ABSOLUTE_TIMEOUT_HOURS))
        .finish()
}

pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, "");
    c.make_removal();
    c
}

/// Removes the pre-session CSRF cookie (at login: the session's own token replaces it, so a
/// value planted before login is worthless after).
pub fn clear_csrf_cookie(state: &AppState) -> Cookie<'static> {
    let secure = secure_cookies(state);
    let mut c = Cookie::build(csrf_cookie_name(secure), "")
        .path("/")
        .secure(secure)
        .finish();
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
    let Some(token) = session_token(req) else {
        return Ok(None);
    };
    let hash = hash_token(&token);
    let now = Utc::now().naive_utc();
    let found = with_db(state, "resolve the session", move |conn| {
        let Some((session, user)) = sessions::find_with_user(conn, &hash)? else {
            return Ok(None);
        };
        if session.expires_at <= now
            || session.last_seen_at + Duration::minutes(IDLE_TIMEOUT_MINUTES) <= now
        {
            sessions::delete(conn, &hash)?;
            return Ok(None);
        }
        if session.last_seen_at + Duration::seconds(TOUCH_EVERY_SECONDS) <= now {
            sessions::touch(conn, &hash, now)?;
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
        if let Some(span) = req.extensions().get::<tracing_actix_web::RootSpan>() {
            span.record("user_id", s.user.id);
        }
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

/// A form whose only field is the CSRF token (buttons that post).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf", default)]
    pub csrf: String,
}

/// An officer or lead (second factor given), with the offices they work in: every staff query
/// is scoped by `offices`.
pub struct StaffUser {
    pub session: SessionUser,
    pub offices: Vec<i64>,
}

impl StaffUser {
    pub fn works_in(&self, office: i64) -> bool {
        self.offices.contains(&office)
    }
}

impl FromRequest for StaffUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let inner = Authenticated::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let Authenticated(s) = inner.await?;
            if !s.role().is_staff() {
                return Err(AppError::Forbidden);
            }
            let state = state.ok_or(AppError::Unavailable)?;
            let id = s.user.id;
            let offices = with_db(&state, "load the staff member's offices", move |conn| {
                Ok(crate::db::agency_members::agency_ids_of(conn, id)?)
            })
            .await?;
            Ok(StaffUser {
                session: s,
                offices,
            })
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
                .and_then(bearer_token)
                .ok_or(AppError::Unauthorized)?;
            match api_key_owner(&state, token).await? {
                Some(u) if !u.role().requires_two_factor() => Ok(ApiUser(u)),
                Some(_) => Err(AppError::Forbidden),
                None => Err(AppError::Unauthorized),
            }
        })
    }
}

/// The live account an API key (token) belongs to; its use is recorded.
pub async fn api_key_owner(
    state: &web::Data<AppState>,
    token: &str,
) -> Result<Option<User>, AppError> {
    let hash = hash_token(token);
    let now = Utc::now().naive_utc();
    with_db(state, "resolve the API token", move |conn| {
        Ok(api_tokens::owner(conn, &hash, now)?)
    })
    .await
}

/// The token in `Authorization: Bearer <token>`; the scheme name is case-insensitive
/// (RFC 9110 §11.1), the token is not.
pub fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.trim().split_once(char::is_whitespace)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// The CSRF token of a session: derived from the session token, which only the person's browser
/// holds (HttpOnly), so another site can neither read nor forge it, and it changes at every
/// login with the session.
fn session_csrf(session_token: &str) -> String {
    let digest = Sha256::digest(format!("csrf\0{session_token}").as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(&digest)
}

/// The CSRF token forms must carry for this visitor, and the pre-session cookie to set when the
/// visitor has neither a session nor that cookie yet.
pub fn csrf_token(state: &AppState, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(sid) = session_token(req) {
        return (session_csrf(&sid), None);
    }
    let secure = secure_cookies(state);
    let name = csrf_cookie_name(secure);
    if let Some(c) = req.cookie(name).filter(|c| c.value().len() == 43) {
        return (c.value().to_string(), None);
    }
    let token = random_token();
    let cookie = Cookie::build(name, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish();
    (token, Some(cookie))
}

/// Refuses a state-changing request that does not carry this visitor's token, or that comes
/// from another site (Origin, else Referer, must name this host). With a session, only the
/// session's token is accepted: a planted pre-session cookie is no help.
pub fn check_csrf(req: &HttpRequest, submitted: &str) -> Result<(), AppError> {
    let expected = match session_token(req) {
        Some(sid) => session_csrf(&sid),
        None => {
            let secure = state_of(req).is_some_and(|s| secure_cookies(&s));
            req.cookie(csrf_cookie_name(secure))
                .map(|c| c.value().to_string())
                .unwrap_or_default()
        }
    };
    if expected.is_empty() || !same_secret(&expected, submitted) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_the_token_is_not_altered() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER   aBc "), Some("aBc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer a b"), None);
    }

    #[test]
    fn session_tokens_differ_per_session_and_look_like_random_tokens() {
        let (a, b) = (session_csrf("one"), session_csrf("two"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(session_cookie_name(true), "__Host-sid");
        assert_eq!(csrf_cookie_name(true), "__Host-csrf");
        assert_eq!(csrf_cookie_name(false), "csrf");
    }
}
