//! A secret shown once on the page a form redirects to (a new API token, recovery codes): kept
//! for a minute in an HttpOnly cookie scoped to that page, and cleared when the page reads it.
//! This keeps post/redirect/get without putting a secret in a URL.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use super::AppState;
use super::auth::secure_cookies;

const SECONDS: i64 = 60;

pub fn set(
    state: &AppState,
    name: &'static str,
    value: &str,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build(name, value.to_string())
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure_cookies(state))
        .max_age(CookieDuration::seconds(SECONDS))
        .finish()
}

/// The value, if the visitor has one, and the cookie that clears it.
pub fn take(
    state: &AppState,
    req: &HttpRequest,
    name: &'static str,
    path: &'static str,
) -> Option<(String, Cookie<'static>)> {
    let value = req.cookie(name)?.value().to_string();
    let mut clear = set(state, name, "", path);
    clear.make_removal();
    Some((value, clear))
}
