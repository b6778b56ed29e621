//! An office's webhooks (`/admin/offices/{office_id}/webhooks`): register a URL (the signing
//! secret is shown once), turn one off or on, and the delivery log of the office's latest events
//! with each one's attempts, last error and a re-send. Every change is audited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::audit::{self, Entry};
use crate::db::webhooks as hooks;
use crate::domain::audit::AuditEvent;
use crate::error::AppError;

/// Deliveries listed on the page.
const LOG_ROWS: i64 = 50;

fn agency_of(
    conn: &mut crate::db::DbConnection,
    office_id: &str,
) -> Result<(i64, String), AppError> {
    crate::db::offices::by_office_id(conn, office_id)?
        .map(|o| (o.id, o.name))
        .ok_or(AppError::NotFound)
}

struct Shown {
    url: String,
    error: Option<&'static str>,
    secret: Option<String>,
    done: Option<&'static str>,
}

async fn webhooks_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    office_id: String,
    shown: Shown,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let id2 = office_id.clone();
    let (name, list, log) = with_db(state, "read an office's webhooks", move |conn| {
        let (agency_id, name) = agency_of(conn, &id2)?;
        Ok((
            name,
            hooks::of_office(conn, agency_id)?,
            hooks::log(conn, agency_id, LOG_ROWS)?,
        ))
    })
    .await?;
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let error = shown
        .error
        .map(|k| state.messages.text(lang, k).to_string());
    page(state, req, lang, "admin/webhooks.html", status, |ctx| {
        ctx.insert("office_id", &office_id);
        ctx.insert("office_name", &name);
        ctx.insert("hooks", &list);
        ctx.insert("log", &log);
        ctx.insert("url", &shown.url);
        ctx.insert("error", &error);
        ctx.insert("secret", &shown.secret);
        ctx.insert("done", &shown.done);
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// GET `/admin/offices/{office_id}/webhooks`.
pub async fn webhooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, AppError> {
    let done = match q.done.as_str() {
        "toggled" => Some("webhook_toggled"),
        "resent" => Some("webhook_resent"),
        _ => None,
    };
    webhooks_page(
        &state,
        &req,
        path.into_inner(),
        Shown {
            url: String::new(),
            error: None,
            secret: None,
            done,
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    url: String,
}

/// POST `/admin/offices/{office_id}/webhooks`: registers a URL and shows its secret once.
pub async fn add_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf)?;
    let office_id = path.into_inner();
    let url = form.url.trim().to_string();
    if let Err(key) = crate::domain::webhook::check_url(&url) {
        return webhooks_page(
            &state,
            &req,
            office_id,
            Shown {
                url,
                error: Some(key),
                secret: None,
                done: None,
            },
        )
        .await;
    }
    let secret = crate::security::tokens::random_token();
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let (id2, url2, secret2) = (office_id.clone(), url.clone(), secret.clone());
    let seal = state.settings.seal_key.clone();
    with_db(&state, "add a webhook", move |conn| {
        crate::db::transaction(conn, |conn| -> Result<(), AppError> {
            let (agency_id, _) = agency_of(conn, &id2)?;
            let id = hooks::add(
                conn,
                &seal,
                agency_id,
                &url2,
                &secret2,
                Some(admin_id),
                o.now,
            )?;
            let subject = format!("office:{id2}");
            let e = Entry::new(
                Some(admin_id),
                AuditEvent::ConfigChanged,
                &subject,
                &o.ip,
                o.now,
            );
            audit::record(conn, &e.detail(&format!("webhook {id} added: {url2}")))?;
            Ok(())
        })
    })
    .await?;
    webhooks_page(
        &state,
        &req,
        office_id,
        Shown {
            url: String::new(),
            error: None,
            secret: Some(secret),
            done: Some("webhook_added"),
        },
    )
    .await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

/// POST `/admin/offices/{office_id}/webhooks/{id}/active`: on (`active=on`) or off.
pub async fn toggle_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<(String, i64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf)?;
    let (office_id, id) = path.into_inner();
    let active = form.active == "on";
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let id2 = office_id.clone();
    with_db(&state, "turn a webhook on or off", move |conn| {
        crate::db::transaction(conn, |conn| -> Result<(), AppError> {
            let (agency_id, _) = agency_of(conn, &id2)?;
            let url = hooks::set_active(conn, agency_id, id, active)?.ok_or(AppError::NotFound)?;
            let subject = format!("office:{id2}");
            let e = Entry::new(
                Some(admin_id),
                AuditEvent::ConfigChanged,
                &subject,
                &o.ip,
                o.now,
            );
            let what = if active { "on" } else { "off" };
            audit::record(conn, &e.detail(&format!("webhook {id} {what}: {url}")))?;
            Ok(())
        })
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/offices/{office_id}/webhooks?done=toggled"
    )))
}

/// POST `/admin/offices/{office_id}/webhooks/deliveries/{id}/resend`.
pub async fn resend_delivery(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<(String, i64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &form.csrf)?;
    let (office_id, id) = path.into_inner();
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let id2 = office_id.clone();
    with_db(&state, "re-send a webhook delivery", move |conn| {
        crate::db::transaction(conn, |conn| -> Result<(), AppError> {
            let (agency_id, _) = agency_of(conn, &id2)?;
            let event = hooks::resend(conn, agency_id, id, o.now)?.ok_or(AppError::NotFound)?;
            let subject = format!("office:{id2}");
            let e = Entry::new(
                Some(admin_id),
                AuditEvent::ConfigChanged,
                &subject,
                &o.ip,
                o.now,
            );
            audit::record(
                conn,
                &e.detail(&format!("webhook delivery {id} re-sent: {event}")),
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/offices/{office_id}/webhooks?done=resent"
    )))
}
