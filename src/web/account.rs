//! Citizens' accounts: register, verify the email, log in (email or CCCD), log out (here or
//! everywhere), reset a forgotten password, and the profile page. Every form carries a CSRF
//! token; every multi-step write is one transaction; every email goes through the outbox.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, NaiveDateTime, Utc};
use serde::Deserialize;

use super::auth::{
    Authenticated, CSRF_FIELD, SESSION_COOKIE, check_csrf, clear_session_cookie, client_ip,
    csrf_token, current_user, session_cookie,
};
use super::{AppState, base_context, lang_of, render, with_db};
use crate::db::{self, DbConnection, users};
use crate::domain::account::{FieldErrors, RegistrationForm};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::mail::{self, RenderedEmail};
use crate::security::password::check_policy;
use crate::security::tokens::{hash_token, random_token};

/// Failed logins before the account is locked, and for how long.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// Attempts per window before 429 (logins: `Settings::login_limit_per_*`).
pub const REGISTER_LIMIT_PER_IP: i32 = 10;
pub const RESET_LIMIT_PER_IP: i32 = 10;
pub const RESET_LIMIT_PER_ACCOUNT: i32 = 3;
pub const LIMIT_WINDOW_MINUTES: i64 = 15;
const VERIFY_LINK_HOURS: i64 = 48;
const RESET_LINK_MINUTES: i64 = 60;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Only same-site paths are followed after login.
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.contains(['\\', '\r', '\n']) =>
        {
            n.to_string()
        }
        _ => default.to_string(),
    }
}

/// Renders a no-store form page with this visitor's CSRF token (setting its cookie when new).
pub(crate) fn page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    template: &str,
    status: u16,
    ctx_fn: impl FnOnce(&mut tera::Context),
) -> Result<HttpResponse, AppError> {
    let mut ctx = base_context(state, req, lang);
    let (token, cookie) = csrf_token(state, req);
    ctx.insert("csrf", &token);
    ctx.insert("csrf_field", CSRF_FIELD);
    ctx.insert("demo", &state.settings.demo);
    ctx_fn(&mut ctx);
    let html = render(state, template, &ctx)?;
    let mut res = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK),
    );
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8");
    if let Some(c) = cookie {
        res.cookie(c);
    }
    Ok(res.body(html))
}

/// A UTC time as people in Vietnam read it (UTC+7 all year).
fn vietnam_time(t: NaiveDateTime, lang: Lang) -> String {
    let local = t + Duration::hours(7);
    match lang {
        Lang::Vi => format!("{} (giờ Việt Nam)", local.format("%H:%M ngày %d/%m/%Y")),
        Lang::En => format!("{} (Vietnam time)", local.format("%H:%M on %d/%m/%Y")),
    }
}

/// A short page with a title and a sentence (done, check your inbox, link no longer valid).
fn message(
    state: &AppState,
    req: &HttpRequest,
    status: u16,
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

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
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

/// Counts an attempt against a limit; past it, a 429 with Retry-After.
fn limit(
    conn: &mut DbConnection,
    key: &str,
    max: i32,
    message: &'static str,
) -> Result<(), AppError> {
    let now = now();
    let (count, until) =
        users::hit_rate_limit(conn, key, Duration::minutes(LIMIT_WINDOW_MINUTES), now)?;
    if count > max {
        let secs = (until - now).num_seconds().max(1) as u64;
        return Err(AppError::RateLimited(message, secs));
    }
    Ok(())
}

// ---- registration ---------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct RegisterSubmit {
    #[serde(flatten)]
    form: RegistrationForm,
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// "refresh" re-shows the form with the wards of the chosen province (works without JS).
    #[serde(default)]
    action: String,
}

async fn register_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    form: &RegistrationForm,
    errors: &FieldErrors,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let province = form.province_code.clone();
    let (provinces, wards) = with_db(state, move |conn| {
        let provinces = db::catalogue::list_provinces(conn)?;
        let wards = if province.is_empty() {
            None
        } else {
            db::catalogue::list_wards(conn, &province)?
        };
        Ok((provinces, wards.unwrap_or_default()))
    })
    .await?;
    let messages: std::collections::BTreeMap<&str, &str> = errors
        .iter()
        .map(|(k, v)| (*k, state.messages.text(lang, v)))
        .collect();
    page(state, req, lang, "account/register.html", status, |ctx| {
        ctx.insert("form", form);
        ctx.insert("errors", &messages);
        ctx.insert("provinces", &provinces);
        ctx.insert("wards", &wards);
    })
}

#[get("/register")]
pub async fn register_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    register_page(
        &state,
        &req,
        &RegistrationForm::default(),
        &FieldErrors::new(),
        200,
    )
    .await
}

#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<RegisterSubmit>,
) -> Result<HttpResponse, AppError> {
    let RegisterSubmit { form, csrf, action } = body.into_inner();
    check_csrf(&req, &csrf)?;
    if action == "refresh" {
        return register_page(&state, &req, &form, &FieldErrors::new(), 200).await;
    }
    let lang = lang_of(&req);
    let ip = client_ip(&req);
    let form_for_check = form.clone();
    let check = with_db(&state, move |conn| {
        limit(
            conn,
            &format!("register:ip:{ip}"),
            REGISTER_LIMIT_PER_IP,
            "error_rate_limited",
        )?;
        let provinces = db::catalogue::province_codes(conn)?;
        let refs: Vec<&str> = provinces.iter().map(String::as_str).collect();
        let mut wards = std::collections::HashMap::new();
        if let Some(p) = db::catalogue::ward_province(conn, form_for_check.ward_code.trim())? {
            wards.insert(form_for_check.ward_code.trim().to_string(), p);
        }
        Ok(form_for_check.validate(Utc::now().date_naive(), &refs, |w| wards.get(w).cloned()))
    })
    .await?;
    let mut errors = match &check {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let context: Vec<&str> = vec![
        form.email.split('@').next().unwrap_or(""),
        form.phone.as_str(),
        form.cccd.as_str(),
    ];
    if let Err(problem) = check_policy(&form.password, &context) {
        errors.insert("password", problem.message_key());
    }
    let citizen = match check {
        Ok(c) if errors.is_empty() => c,
        _ => return register_page(&state, &req, &form, &errors, 422).await,
    };

    let hash = state
        .hasher
        .hash(form.password.clone())
        .await
        .map_err(AppError::Internal)?;
    let token = random_token();
    let verify = email(&state, lang, "verify_email", |ctx| {
        ctx.insert("name", &citizen.full_name);
        ctx.insert("link", &link(&state, "/verify-email", &token));
    })?;
    let ip = client_ip(&req);
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            let (email_taken, cccd_taken) =
                users::email_or_cccd_taken(conn, &citizen.email, &citizen.cccd)?;
            if email_taken || cccd_taken {
                // The same answer as a new registration: the page does not tell who has an account.
                users::audit(
                    conn,
                    None,
                    "register_duplicate",
                    &citizen.email,
                    &ip,
                    "",
                    now,
                )?;
                return Ok(());
            }
            let id = users::insert_citizen(conn, &citizen, &hash, now)?;
            users::create_token(
                conn,
                id,
                users::PURPOSE_VERIFY_EMAIL,
                &hash_token(&token),
                None,
                Duration::hours(VERIFY_LINK_HOURS),
                now,
            )?;
            db::outbox::enqueue(conn, &citizen.email, &verify, now)?;
            users::audit(conn, Some(id), "register", &citizen.email, &ip, "", now)?;
            Ok(())
        })
    })
    .await?;
    message(
        &state,
        &req,
        200,
        "register_done_title",
        "register_done_body",
        false,
    )
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[get("/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&q.token);
    let ip = client_ip(&req);
    let ok = with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            let Some((user_id, new_email)) =
                users::consume_token(conn, users::PURPOSE_VERIFY_EMAIL, &hash, now)?
            else {
                return Ok(false);
            };
            users::mark_email_verified(conn, user_id, new_email.as_deref(), now)?;
            let address = match new_email {
                Some(e) => e,
                None => users::find_by_id(conn, user_id)?
                    .map(|u| u.email)
                    .unwrap_or_default(),
            };
            users::audit(
                conn,
                Some(user_id),
                "email_verified",
                &address,
                &ip,
                "",
                now,
            )?;
            Ok(true)
        })
    })
    .await?;
    let (status, title, body) = if ok {
        (200, "verify_ok_title", "verify_ok_body")
    } else {
        (400, "verify_bad_title", "verify_bad_body")
    };
    message(&state, &req, status, title, body, ok)
}

// ---- login and logout -----------------------------------------------------------------------

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
    status: u16,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    // Demo mode only: the demo accounts with their live codes.
    let demo_accounts = if state.settings.demo {
        with_db(state, |conn| {
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

#[get("/login")]
pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    login_page(
        &state,
        &req,
        "",
        &safe_next(q.next.as_deref(), ""),
        None,
        200,
    )
    .await
}

#[post("/login")]
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
    let lang = lang_of(&req);
    let ip = client_ip(&req);
    let login_key = login.trim().to_lowercase();
    let (user, ip2, key2) = (login_key.clone(), ip.clone(), login_key.clone());
    let (per_ip, per_account) = (
        state.settings.login_limit_per_ip,
        state.settings.login_limit_per_account,
    );
    let user = with_db(&state, move |conn| {
        limit(
            conn,
            &format!("login:ip:{ip2}"),
            per_ip,
            "error_rate_limited",
        )?;
        limit(
            conn,
            &format!("login:account:{key2}"),
            per_account,
            "error_rate_limited",
        )?;
        Ok(users::find_by_login(conn, &user)?)
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
    let now = now();
    let Some(user) = user else {
        let ip = ip.clone();
        with_db(&state, move |conn| {
            Ok(users::audit(
                conn,
                None,
                "login_failed",
                &login_key,
                &ip,
                "unknown account",
                now,
            )?)
        })
        .await?;
        return login_page(&state, &req, &login, &next, Some("login_failed"), 401).await;
    };
    if user.locked_until.is_some_and(|until| until > now) {
        let (id, ip) = (user.id, ip.clone());
        with_db(&state, move |conn| {
            Ok(users::audit(
                conn,
                Some(id),
                "login_refused_locked",
                &login_key,
                &ip,
                "",
                now,
            )?)
        })
        .await?;
        return login_page(&state, &req, &login, &next, Some("login_locked"), 403).await;
    }
    if !password_ok {
        let until = vietnam_time(now + Duration::minutes(LOCK_MINUTES), lang);
        let unlock_email = email(&state, lang, "account_locked", |ctx| {
            ctx.insert("name", &user.full_name);
            ctx.insert("until", &until);
            ctx.insert(
                "reset_link",
                &format!(
                    "{}/password/forgot",
                    state.settings.public_url.trim_end_matches('/')
                ),
            );
        })?;
        let (id, to, ip) = (user.id, user.email.clone(), ip.clone());
        let locked = with_db(&state, move |conn| {
            db::transaction(conn, |conn| {
                let locked = users::record_failed_login(
                    conn,
                    id,
                    MAX_FAILED_LOGINS,
                    Duration::minutes(LOCK_MINUTES),
                    now,
                )?;
                users::audit(
                    conn,
                    Some(id),
                    "login_failed",
                    &to,
                    &ip,
                    "wrong password",
                    now,
                )?;
                if locked.is_some() {
                    users::audit(conn, Some(id), "account_locked", &to, &ip, "", now)?;
                    db::outbox::enqueue(conn, &to, &unlock_email, now)?;
                }
                Ok(locked.is_some())
            })
        })
        .await?;
        let key = if locked {
            "login_locked"
        } else {
            "login_failed"
        };
        return login_page(&state, &req, &login, &next, Some(key), 401).await;
    }
    if user.email_verified_at.is_none() {
        return login_page(&state, &req, &login, &next, Some("login_unverified"), 403).await;
    }
    // A new session id at every login (no fixation); the old one, if any, ends.
    let token = random_token();
    let old = req.cookie(SESSION_COOKIE).map(|c| hash_token(c.value()));
    let mfa_needed = user.role().requires_two_factor();
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (id, email_addr, hash, ip2) = (user.id, user.email.clone(), hash_token(&token), ip.clone());
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            if let Some(old) = old {
                users::delete_session(conn, &old)?;
            }
            users::create_session(
                conn,
                &hash,
                id,
                !mfa_needed,
                &ip2,
                &ua,
                Duration::hours(super::auth::ABSOLUTE_TIMEOUT_HOURS),
                now,
            )?;
            users::record_successful_login(conn, id)?;
            users::audit(
                conn,
                Some(id),
                if mfa_needed {
                    "login_password_ok"
                } else {
                    "login"
                },
                &email_addr,
                &ip2,
                "",
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    let target = if mfa_needed {
        "/login/2fa".to_string()
    } else {
        safe_next(Some(&next), "/account")
    };
    Ok(HttpResponse::SeeOther()
        .cookie(session_cookie(&state, &token))
        .insert_header((header::LOCATION, target))
        .finish())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    if let Some(s) = current_user(&state, &req).await? {
        let ip = client_ip(&req);
        with_db(&state, move |conn| {
            users::delete_session(conn, &s.session_hash)?;
            users::audit(
                conn,
                Some(s.user.id),
                "logout",
                &s.user.email,
                &ip,
                "",
                now(),
            )?;
            Ok(())
        })
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(clear_session_cookie(&state))
        .insert_header((header::LOCATION, "/"))
        .finish())
}

#[post("/logout-everywhere")]
pub async fn logout_everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let ip = client_ip(&req);
    with_db(&state, move |conn| {
        let n = users::delete_user_sessions(conn, s.user.id)?;
        users::audit(
            conn,
            Some(s.user.id),
            "logout_everywhere",
            &s.user.email,
            &ip,
            &format!("{n} sessions"),
            now(),
        )?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(clear_session_cookie(&state))
        .insert_header((header::LOCATION, "/login"))
        .finish())
}

// ---- password reset -------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ForgotSubmit {
    #[serde(default)]
    email: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[get("/password/forgot")]
pub async fn forgot_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    page(&state, &req, lang, "account/forgot.html", 200, |ctx| {
        ctx.insert("email", "")
    })
}

#[post("/password/forgot")]
pub async fn forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<ForgotSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let lang = lang_of(&req);
    let address = body.email.trim().to_lowercase();
    let ip = client_ip(&req);
    let token = random_token();
    let reset_link = link(&state, "/password/reset", &token);
    let tera_state = state.clone();
    with_db(&state, move |conn| {
        limit(
            conn,
            &format!("reset:ip:{ip}"),
            RESET_LIMIT_PER_IP,
            "error_rate_limited",
        )?;
        limit(
            conn,
            &format!("reset:account:{address}"),
            RESET_LIMIT_PER_ACCOUNT,
            "error_rate_limited",
        )?;
        let Some(user) = users::find_by_email(conn, &address)? else {
            return Ok(());
        };
        let message = email(&tera_state, lang, "reset_password", |ctx| {
            ctx.insert("name", &user.full_name);
            ctx.insert("link", &reset_link);
            ctx.insert("minutes", &RESET_LINK_MINUTES);
        })?;
        db::transaction(conn, |conn| {
            let now = now();
            users::create_token(
                conn,
                user.id,
                users::PURPOSE_RESET_PASSWORD,
                &hash_token(&token),
                None,
                Duration::minutes(RESET_LINK_MINUTES),
                now,
            )?;
            db::outbox::enqueue(conn, &user.email, &message, now)?;
            users::audit(
                conn,
                Some(user.id),
                "password_reset_requested",
                &user.email,
                &ip,
                "",
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    message(
        &state,
        &req,
        200,
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
    status: u16,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    page(state, req, lang, "account/reset.html", status, |ctx| {
        ctx.insert("token", token);
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
    })
}

#[get("/password/reset")]
pub async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&q.token);
    let valid = with_db(&state, move |conn| {
        // The same form serves a reset and the first password of staff created by an administrator.
        Ok(
            users::token_is_valid(conn, users::PURPOSE_RESET_PASSWORD, &hash, now())?
                || users::token_is_valid(conn, users::PURPOSE_SET_PASSWORD, &hash, now())?,
        )
    })
    .await?;
    if !valid {
        return message(
            &state,
            &req,
            400,
            "verify_bad_title",
            "reset_bad_body",
            false,
        );
    }
    reset_page(&state, &req, &q.token, None, 200)
}

#[post("/password/reset")]
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
    if password != password_confirm {
        return reset_page(&state, &req, &token, Some("err_password_mismatch"), 422);
    }
    if let Err(p) = check_policy(&password, &[]) {
        return reset_page(&state, &req, &token, Some(p.message_key()), 422);
    }
    let hash = state
        .hasher
        .hash(password)
        .await
        .map_err(AppError::Internal)?;
    let token_hash = hash_token(&token);
    let ip = client_ip(&req);
    let done = with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            let found = match users::consume_token(
                conn,
                users::PURPOSE_RESET_PASSWORD,
                &token_hash,
                now,
            )? {
                Some(found) => Some(found),
                None => users::consume_token(conn, users::PURPOSE_SET_PASSWORD, &token_hash, now)?,
            };
            let Some((user_id, _)) = found else {
                return Ok(false);
            };
            users::set_password(conn, user_id, &hash, now)?;
            // A new password ends every session: whoever knew the old one is out.
            users::delete_user_sessions(conn, user_id)?;
            users::audit(conn, Some(user_id), "password_reset", "", &ip, "", now)?;
            Ok(true)
        })
    })
    .await?;
    if !done {
        return reset_page(&state, &req, &token, Some("reset_bad_body"), 400);
    }
    Ok(see_other("/login?reset=1"))
}

// ---- profile --------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct ProfileSubmit {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    email: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

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
    s: &super::auth::SessionUser,
    values: (&str, &str, &str),
    errors: &FieldErrors,
    notice: Option<&str>,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let messages: std::collections::BTreeMap<&str, &str> = errors
        .iter()
        .map(|(k, v)| (*k, state.messages.text(lang, v)))
        .collect();
    page(state, req, lang, "account/profile.html", status, |ctx| {
        ctx.insert("full_name", &s.user.full_name);
        ctx.insert("current_email", &s.user.email);
        ctx.insert("cccd", &mask_cccd(s.user.cccd.as_deref().unwrap_or("")));
        ctx.insert("role", &s.role());
        ctx.insert("phone", values.0);
        ctx.insert("address", values.1);
        ctx.insert("email", values.2);
        ctx.insert("errors", &messages);
        ctx.insert("notice", &notice.map(|k| state.messages.text(lang, k)));
    })
}

#[get("/account")]
pub async fn profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
) -> Result<HttpResponse, AppError> {
    let (phone, address, email) = (
        s.user.phone.clone(),
        s.user.address.clone(),
        s.user.email.clone(),
    );
    profile_page(
        &state,
        &req,
        &s,
        (&phone, &address, &email),
        &FieldErrors::new(),
        None,
        200,
    )
}

#[post("/account")]
pub async fn update_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<ProfileSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let lang = lang_of(&req);
    let mut errors = FieldErrors::new();
    let phone = crate::domain::account::parse_phone(&body.phone);
    if phone.is_none() {
        errors.insert("phone", "err_phone");
    }
    let address = body.address.trim().to_string();
    if address.chars().count() > 300 {
        errors.insert("address", "err_address");
    }
    let new_email = crate::domain::account::parse_email(&body.email);
    if new_email.is_none() {
        errors.insert("email", "err_email");
    }
    if !errors.is_empty() {
        return profile_page(
            &state,
            &req,
            &s,
            (&body.phone, &body.address, &body.email),
            &errors,
            None,
            422,
        );
    }
    let (phone, new_email) = (phone.unwrap_or_default(), new_email.unwrap_or_default());
    let changing_email = new_email != s.user.email;
    let token = random_token();
    let verify = if changing_email {
        Some(email(&state, lang, "verify_email", |ctx| {
            ctx.insert("name", &s.user.full_name);
            ctx.insert("link", &link(&state, "/verify-email", &token));
        })?)
    } else {
        None
    };
    let (user_id, ip, addr, old_email) = (
        s.user.id,
        client_ip(&req),
        address.clone(),
        s.user.email.clone(),
    );
    let (phone2, email2) = (phone.clone(), new_email.clone());
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            users::update_contact(conn, user_id, &phone2, &addr, now)?;
            users::audit(
                conn,
                Some(user_id),
                "profile_updated",
                &old_email,
                &ip,
                "",
                now,
            )?;
            // A new address is used only once it is verified: the link goes to the new address.
            if let Some(message) = &verify {
                users::create_token(
                    conn,
                    user_id,
                    users::PURPOSE_VERIFY_EMAIL,
                    &hash_token(&token),
                    Some(&email2),
                    Duration::hours(VERIFY_LINK_HOURS),
                    now,
                )?;
                db::outbox::enqueue(conn, &email2, message, now)?;
                users::audit(
                    conn,
                    Some(user_id),
                    "email_change_requested",
                    &email2,
                    &ip,
                    "",
                    now,
                )?;
            }
            Ok(())
        })
    })
    .await?;
    let notice = if changing_email {
        "profile_saved_verify"
    } else {
        "profile_saved"
    };
    profile_page(
        &state,
        &req,
        &s,
        (&phone, &address, &s.user.email),
        &FieldErrors::new(),
        Some(notice),
        200,
    )
}

// ---- API tokens -----------------------------------------------------------------------------

#[derive(serde::Serialize)]
struct TokenView {
    id: String,
    name: String,
    created_at: String,
    last_used_at: String,
}

async fn tokens_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user_id: i64,
    new_token: Option<String>,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let rows = with_db(state, move |conn| {
        Ok(users::list_api_tokens(conn, user_id)?)
    })
    .await?;
    let tokens: Vec<TokenView> = rows
        .into_iter()
        .map(|(id, name, created, used)| TokenView {
            id,
            name,
            created_at: created.format("%Y-%m-%d %H:%M UTC").to_string(),
            last_used_at: used
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
        })
        .collect();
    page(state, req, lang, "account/api_tokens.html", status, |ctx| {
        ctx.insert("tokens", &tokens);
        ctx.insert("new_token", &new_token);
        ctx.insert("error", &error.map(|k| state.messages.text(lang, k)));
    })
}

fn citizen_only(s: &super::auth::SessionUser) -> Result<(), AppError> {
    if s.role().requires_two_factor() {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

#[get("/account/api-tokens")]
pub async fn api_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
) -> Result<HttpResponse, AppError> {
    citizen_only(&s)?;
    tokens_page(&state, &req, s.user.id, None, None, 200).await
}

#[derive(Deserialize)]
pub struct TokenCreate {
    #[serde(default)]
    name: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[post("/account/api-tokens")]
pub async fn create_api_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<TokenCreate>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    citizen_only(&s)?;
    let name = body.name.trim().chars().take(80).collect::<String>();
    if name.is_empty() {
        return tokens_page(&state, &req, s.user.id, None, Some("err_token_name"), 422).await;
    }
    let token = random_token();
    let (id, hash, ip, email) = (
        s.user.id,
        hash_token(&token),
        client_ip(&req),
        s.user.email.clone(),
    );
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            users::create_api_token(conn, id, &name, &hash, now)?;
            users::audit(conn, Some(id), "api_token_created", &email, &ip, &name, now)?;
            Ok(())
        })
    })
    .await?;
    tokens_page(&state, &req, s.user.id, Some(token), None, 200).await
}

#[derive(Deserialize)]
pub struct TokenRevoke {
    #[serde(default)]
    id: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

#[post("/account/api-tokens/revoke")]
pub async fn revoke_api_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    body: web::Form<TokenRevoke>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let (id, token_id, ip, email) = (
        s.user.id,
        body.id.clone(),
        client_ip(&req),
        s.user.email.clone(),
    );
    with_db(&state, move |conn| {
        db::transaction(conn, |conn| {
            let now = now();
            if users::revoke_api_token(conn, id, &token_id, now)? {
                users::audit(conn, Some(id), "api_token_revoked", &email, &ip, "", now)?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(see_other("/account/api-tokens"))
}
