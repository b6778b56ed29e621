//! Logging in (by email or CCCD) and out. What an attempt leads to is decided by
//! `domain::login`; a known and an unknown identifier get the same status, page and lock.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;

use super::{email, origin, page, rate_limited, vietnam_time};
use crate::db::accounts::{self, FailedLogin, OpenedLogin};
use crate::db::sessions::NewSession;
use crate::db::{login_failures, rate_limits, users};
use crate::domain::login::{Verdict, failure_subject, normalise_identifier};
use crate::error::AppError;
use crate::security::tokens::{hash_token, random_token};
use crate::web::auth::{
    ABSOLUTE_TIMEOUT_HOURS, Authenticated, check_csrf, clear_csrf_cookie, clear_session_cookie,
    current_user, session_cookie, session_token,
};
use crate::web::redirect::{safe_next, see_other};
use crate::web::{AppState, lang_of, with_db};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginSubmit {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

async fn login_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    login_value: &str,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    // Demo mode only: the demo accounts with their live codes.
    let demo_accounts = if state.settings.demo {
        with_db(state, "list the demo accounts", |conn| {
            crate::demo::accounts(conn).map_err(AppError::Internal)
        })
        .await?
    } else {
        Vec::new()
    };
    page(state, req, lang, "account/login.html", status, |ctx| {
        ctx.insert("login", login_value);
        ctx.insert("next", next);
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
        ctx.insert("demo_accounts", &demo_accounts);
        ctx.insert("demo_password", crate::demo::DEMO_PASSWORD);
    })
}

pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(q.next.as_deref(), "");
    login_page(&state, &req, "", &next, None, StatusCode::OK).await
}

fn address_key(ip: &str) -> String {
    format!("login:failures:ip:{ip}")
}

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<LoginSubmit>,
) -> Result<HttpResponse, AppError> {
    let LoginSubmit {
        login,
        password,
        next,
        csrf,
    } = body.into_inner();
    check_csrf(&req, &csrf)?;
    let next = safe_next(Some(&next), "");
    let lang = lang_of(&req);
    let policy = state.settings.login_policy();
    let o = origin(&req);
    let identifier = normalise_identifier(&login);

    // The address's failures so far, the account, and its (or the identifier's) failures.
    let (ip, now, id2) = (o.ip.clone(), o.now, identifier.clone());
    let (user, record) = with_db(&state, "find the account to log in", move |conn| {
        let (failures, until) = rate_limits::peek(conn, &address_key(&ip), policy.window, now)?;
        if policy.address_blocked(failures) {
            return Err(rate_limited(until, now));
        }
        let user = users::find_by_login(conn, &id2)?;
        let subject = failure_subject(user.as_ref().map(|u| u.id), &id2);
        Ok((user, login_failures::load(conn, &subject)?))
    })
    .await?;
    // Unknown accounts cost one hash too, so timing does not tell whether an account exists.
    let password_ok = state
        .hasher
        .verify(
            password,
            user.as_ref().and_then(|u| u.password_hash.clone()),
        )
        .await
        .map_err(AppError::Internal)?;
    let account = user.as_ref().map(|u| u.email_verified_at.is_some());
    let verdict = policy.judge(record, account, password_ok && user.is_some(), o.now);
    let user_id = user.as_ref().map(|u| u.id);
    match verdict {
        Verdict::Locked { .. } => {
            let (o2, id2) = (o.clone(), identifier.clone());
            with_db(&state, "record a refused login", move |conn| {
                Ok(accounts::record_refused_login(conn, user_id, &id2, &o2)?)
            })
            .await?;
            login_page(
                &state,
                &req,
                &login,
                &next,
                Some("login_locked"),
                StatusCode::FORBIDDEN,
            )
            .await
        }
        Verdict::Failed { record, locked_now } => {
            let lock_notice = match (&user, locked_now) {
                (Some(u), true) => {
                    let until = vietnam_time(o.now + policy.window, lang);
                    let forgot = format!(
                        "{}/password/forgot",
                        state.settings.public_url.trim_end_matches('/')
                    );
                    Some((
                        u.email.clone(),
                        email(&state, lang, "account_locked", |ctx| {
                            ctx.insert("name", &u.full_name);
                            ctx.insert("until", &until);
                            ctx.insert("reset_link", &forgot);
                        })?,
                    ))
                }
                _ => None,
            };
            let (o2, id2, window) = (o.clone(), identifier.clone(), policy.window);
            with_db(&state, "record a failed login", move |conn| {
                let subject = failure_subject(user_id, &id2);
                let f = FailedLogin {
                    subject: &subject,
                    record: &record,
                    identifier: &id2,
                    user_id,
                    address_key: &address_key(&o2.ip),
                    window,
                    lock_notice: lock_notice.as_ref().map(|(to, m)| (to.as_str(), m)),
                };
                Ok(accounts::record_failed_login(conn, &f, &o2)?)
            })
            .await?;
            let key = if locked_now {
                "login_locked"
            } else {
                "login_failed"
            };
            login_page(
                &state,
                &req,
                &login,
                &next,
                Some(key),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Verdict::Unverified => {
            login_page(
                &state,
                &req,
                &login,
                &next,
                Some("login_unverified"),
                StatusCode::FORBIDDEN,
            )
            .await
        }
        Verdict::Passed => {
            let Some(user) = user else {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "a pass without an account"
                )));
            };
            open_session(&state, &req, user, &next, o).await
        }
    }
}

/// A new session id at every login (no fixation); the old session, if any, ends, and the
/// pre-session CSRF cookie goes (the session's own token replaces it).
async fn open_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: users::User,
    next: &str,
    o: accounts::Origin,
) -> Result<HttpResponse, AppError> {
    let token = random_token();
    let old = session_token(req).map(|t| hash_token(&t));
    let mfa_needed = user.role().requires_two_factor();
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let hash = hash_token(&token);
    with_db(state, "open a session", move |conn| {
        let l = OpenedLogin {
            user: &user,
            session: NewSession {
                id_hash: &hash,
                user_id: user.id,
                mfa_ok: !mfa_needed,
                ip: &o.ip,
                user_agent: &user_agent,
                lifetime: Duration::hours(ABSOLUTE_TIMEOUT_HOURS),
                now: o.now,
            },
            old_session_hash: old.as_deref(),
        };
        Ok(accounts::open_session(conn, &l, &o)?)
    })
    .await?;
    let target = if mfa_needed {
        "/login/2fa".to_string()
    } else if next.is_empty() {
        "/account".to_string()
    } else {
        next.to_string()
    };
    let mut res = see_other(&target);
    res.add_cookie(&session_cookie(state, &token))
        .map_err(|e| AppError::Internal(e.into()))?;
    res.add_cookie(&clear_csrf_cookie(state))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

fn logged_out(state: &AppState, to: &str) -> Result<HttpResponse, AppError> {
    let mut res = see_other(to);
    res.add_cookie(&clear_session_cookie(state))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    if let Some(s) = current_user(&state, &req).await? {
        let o = origin(&req);
        with_db(&state, "log out", move |conn| {
            Ok(accounts::log_out(
                conn,
                &s.user,
                &s.session_hash,
                false,
                &o,
            )?)
        })
        .await?;
    }
    logged_out(&state, "/")
}

pub async fn logout_everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let o = origin(&req);
    with_db(&state, "log out everywhere", move |conn| {
        Ok(accounts::log_out(conn, &s.user, &s.session_hash, true, &o)?)
    })
    .await?;
    logged_out(&state, "/login")
}
