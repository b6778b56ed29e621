//! Registration (with the province → ward list refreshed without JavaScript) and the email
//! verification link.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::{
    LIMIT_WINDOW_MINUTES, REGISTER_LIMIT_PER_IP, REVERT_LINK_DAYS, VERIFY_LINK_HOURS, email,
    error_messages, limit, link, link_not_valid, message, origin, page,
};
use crate::db::{self, accounts};
use crate::domain::account::{FieldErrors, RegistrationForm};
use crate::error::AppError;
use crate::security::password::check_policy;
use crate::security::tokens::{hash_token, random_token};
use crate::web::auth::{check_csrf, client_ip};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

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
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let province = form.province_code.clone();
    let (provinces, wards) = with_db(state, "list provinces and wards", move |conn| {
        let provinces = db::catalogue::list_provinces(conn)?;
        let wards = if province.is_empty() {
            None
        } else {
            db::catalogue::list_wards(conn, &province)?
        };
        Ok((provinces, wards.unwrap_or_default()))
    })
    .await?;
    let messages = error_messages(state, lang, errors);
    page(state, req, lang, "account/register.html", status, |ctx| {
        ctx.insert("form", form);
        ctx.insert("errors", &messages);
        ctx.insert("provinces", &provinces);
        ctx.insert("wards", &wards);
    })
}

pub async fn register_form(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    register_page(
        &state,
        &req,
        &RegistrationForm::default(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<RegisterSubmit>,
) -> Result<HttpResponse, AppError> {
    let RegisterSubmit { form, csrf, action } = body.into_inner();
    check_csrf(&req, &csrf)?;
    if action == "refresh" {
        return register_page(&state, &req, &form, &FieldErrors::new(), StatusCode::OK).await;
    }
    let lang = lang_of(&req);
    let ip = client_ip(&req);
    let form_for_check = form.clone();
    let check = with_db(&state, "check the registration", move |conn| {
        limit(
            conn,
            &format!("register:ip:{ip}"),
            REGISTER_LIMIT_PER_IP,
            Duration::minutes(LIMIT_WINDOW_MINUTES),
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
        _ => {
            return register_page(
                &state,
                &req,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };

    let password_hash = state
        .hasher
        .hash(form.password.clone())
        .await
        .map_err(AppError::Internal)?;
    let token = random_token();
    let verify = email(&state, lang, "verify_email", |ctx| {
        ctx.insert("name", &citizen.full_name);
        ctx.insert("link", &link(&state, "/verify-email", &token));
    })?;
    let o = origin(&req);
    with_db(&state, "register a citizen", move |conn| {
        let r = accounts::Registration {
            citizen: &citizen,
            password_hash: &password_hash,
            verify_token_hash: &hash_token(&token),
            verify_for: Duration::hours(VERIFY_LINK_HOURS),
            verify_email: &verify,
        };
        Ok(accounts::register(conn, &r, &o)?)
    })
    .await?;
    Ok(see_other("/register/sent"))
}

/// Where a registration lands: the same page whether or not the address had an account.
pub async fn register_sent(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    message(
        &state,
        &req,
        StatusCode::OK,
        "register_done_title",
        "register_done_body",
        false,
    )
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

pub async fn verify_email(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let hash = hash_token(&q.token);
    let lang = lang_of(&req);
    let revert_token = random_token();
    let revert_link = link(&state, "/account/email/revert", &revert_token);
    let render_state = state.clone();
    let notice = accounts::ChangeNotice {
        revert_token_hash: hash_token(&revert_token),
        revert_for: Duration::days(REVERT_LINK_DAYS),
        render: Box::new(move |name, new_email| {
            let mut ctx = tera::Context::new();
            ctx.insert("name", name);
            ctx.insert("new_email", new_email);
            ctx.insert("revert_link", &revert_link);
            ctx.insert("days", &REVERT_LINK_DAYS);
            crate::mail::render(&render_state.tera, lang, "email_changed", &ctx)
        }),
    };
    let o = origin(&req);
    let ok = with_db(&state, "verify an email address", move |conn| {
        Ok(accounts::verify_email(conn, &hash, notice, &o)?)
    })
    .await?;
    if ok {
        message(
            &state,
            &req,
            StatusCode::OK,
            "verify_ok_title",
            "verify_ok_body",
            true,
        )
    } else {
        link_not_valid(&state, &req, "verify_bad_body")
    }
}
