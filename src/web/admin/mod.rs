//! Administrators' pages: people and roles, the calendar, the security audit log (searchable)
//! and the state of the email outbox. Every handler takes `AdminUser`, so the check is on the
//! server, per route; every form carries the CSRF token; every change is one transaction with
//! an audit entry.

mod builder;
mod calendar;
mod forms;
mod import;
mod offices;
mod people;
mod routing;
mod services;
mod versions;
mod webhooks;

pub use builder::{build as build_form, builder as form_builder, new_version as new_form_version};
pub use calendar::{
    calendar, delete_holiday, holiday_form, import_holidays, save_holiday, set_hours,
};
pub use forms::{
    export as export_form, forms, import as import_form_json, preview as preview_form,
    preview_first as preview_form_first, publish as publish_form,
};
pub use import::{apply as apply_import, dry_run as import_dry_run, import_form};
pub use offices::{office, offices, save_office};
pub use people::{
    disable, invite, invite_form, membership, people, person, remove_membership, reset_2fa, role,
};
pub use routing::{delete_rule, gaps as routing_gaps, routing, rule_form, save_rule};
pub use services::{publish as publish_service, service, services, set_channel, set_level};
pub use versions::{edit_form as record_form, rollback, save as save_record};
pub use webhooks::{add_webhook, resend_delivery, toggle_webhook, webhooks};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::auth::AdminUser;
use super::{AppState, base_context, lang_of, render, with_db};
use crate::db;
use crate::domain::audit::AuditEvent;
use crate::error::AppError;

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub async fn index(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let (stats, changes) = with_db(&state, "read outbox counts", |conn| {
        Ok((
            db::outbox::stats(conn)?,
            db::audit::recent_changes(conn, 20)?,
        ))
    })
    .await?;
    let changes: Vec<AuditView> = changes.into_iter().map(AuditView::from).collect();
    let mut ctx = base_context(&state, &req, lang);
    ctx.insert("stats", &stats);
    ctx.insert("changes", &changes);
    Ok(html(render(&state, "admin/index.html", &ctx)?))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    event: Option<String>,
    q: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct AuditView {
    at: String,
    actor_id: Option<i64>,
    event: String,
    subject: String,
    ip: String,
    detail: String,
}

impl From<db::audit::AuditRow> for AuditView {
    fn from(r: db::audit::AuditRow) -> Self {
        AuditView {
            at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor_id: r.actor_id,
            event: r.event.as_str().to_string(),
            subject: r.subject,
            ip: r.ip,
            detail: r.detail,
        }
    }
}

/// The origin of an administrator's request, for the audit entry.
fn origin(req: &HttpRequest) -> db::accounts::Origin {
    db::accounts::Origin {
        ip: super::auth::client_ip(req),
        now: chrono::Utc::now().naive_utc(),
    }
}

/// Rebuilds this instance's catalogue now (after a change that moved its version), so the
/// next public request shows the change; other instances follow within their poll interval.
async fn refresh_catalogue(state: &web::Data<AppState>) -> Result<(), AppError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || s.refresh_catalogue())
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)?;
    Ok(())
}

pub async fn audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let event = query
        .event
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    let text = query
        .q
        .clone()
        .map(|e| e.trim().chars().take(100).collect::<String>())
        .filter(|e| !e.is_empty());
    // An event name the log does not know matches nothing rather than everything.
    let kind = event.as_deref().map(AuditEvent::parse);
    let t2 = text.clone();
    let rows = match kind {
        Some(None) => Vec::new(),
        Some(Some(_)) | None => {
            with_db(&state, "search the audit log", move |conn| {
                Ok(db::audit::search(conn, kind.flatten(), t2.as_deref(), 200)?)
            })
            .await?
        }
    };
    let rows: Vec<AuditView> = rows.into_iter().map(AuditView::from).collect();
    let mut ctx = base_context(&state, &req, lang);
    ctx.insert("rows", &rows);
    ctx.insert("event", &event.unwrap_or_default());
    ctx.insert("q", &text.unwrap_or_default());
    Ok(html(render(&state, "admin/audit.html", &ctx)?))
}

pub async fn outbox(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let (stats, recent) = with_db(&state, "read the outbox", |conn| {
        Ok((db::outbox::stats(conn)?, db::outbox::recent(conn, 100)?))
    })
    .await?;
    let mut ctx = base_context(&state, &req, lang);
    ctx.insert("stats", &stats);
    ctx.insert("recent", &recent);
    Ok(html(render(&state, "admin/outbox.html", &ctx)?))
}
