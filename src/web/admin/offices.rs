//! Offices: the tree (search by name or identifier; the top when nothing is typed), one
//! office's identifier, jurisdiction, parent, children and members, and the settings an
//! administrator changes: contact details, the office's own hours (empty: the portal's
//! default) and automatic assignment of new dossiers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::offices::{self as offices_db, OfficeSettings};
use crate::domain::account::{ADDRESS_MAX, parse_email, parse_line};
use crate::domain::calendar::OfficeHours;
use crate::error::AppError;

#[derive(Deserialize)]
pub struct OfficesQuery {
    #[serde(default)]
    q: String,
}

/// GET `/admin/offices`.
pub async fn offices(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<OfficesQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let q = query.q.trim().chars().take(100).collect::<String>();
    let q2 = q.clone();
    let rows = with_db(&state, "find offices", move |conn| {
        Ok(offices_db::search(conn, &q2, 200)?)
    })
    .await?;
    page(
        &state,
        &req,
        lang,
        "admin/offices.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &rows);
            ctx.insert("q", &q);
        },
    )
}

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct OfficeForm {
    #[serde(rename = "_csrf", default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    auto_assign: String,
    #[serde(default)]
    office_hours: String,
}

#[derive(Deserialize)]
pub struct OfficeQuery {
    #[serde(default)]
    done: String,
}

async fn office_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    office_id: String,
    form: Option<OfficeForm>,
    errors: Vec<(&'static str, String)>,
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let detail = with_db(state, "read an office", move |conn| {
        Ok(offices_db::detail(conn, &office_id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let form = form.unwrap_or_else(|| OfficeForm {
        csrf: String::new(),
        address: detail.office.address.clone(),
        phone: detail.office.phone.clone(),
        email: detail.office.email.clone(),
        auto_assign: if detail.office.auto_assign {
            "on".into()
        } else {
            String::new()
        },
        office_hours: detail.office.office_hours.clone().unwrap_or_default(),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let errors: std::collections::BTreeMap<&str, String> = errors.into_iter().collect();
    page(state, req, lang, "admin/office.html", status, |ctx| {
        ctx.insert("d", &detail);
        ctx.insert("form", &form);
        ctx.insert("errors", &errors);
        ctx.insert("saved", &saved);
    })
}

/// GET `/admin/offices/{office_id}`.
pub async fn office(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
    query: web::Query<OfficeQuery>,
) -> Result<HttpResponse, AppError> {
    office_page(
        &state,
        &req,
        path.into_inner(),
        None,
        Vec::new(),
        query.done == "saved",
    )
    .await
}

/// A landline or a mobile number: digits with spaces, dots, dashes or brackets, 8 to 15 digits.
fn office_phone(raw: &str) -> Option<String> {
    let t = raw.trim();
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let allowed = t
        .chars()
        .all(|c| c.is_ascii_digit() || " .-()+".contains(c));
    (allowed && (8..=15).contains(&digits)).then(|| t.to_string())
}

/// POST `/admin/offices/{office_id}`: every field's problem named at once, what was typed kept.
pub async fn save_office(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<OfficeForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let form = body.into_inner();
    let office_id = path.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let address = parse_line(&form.address, ADDRESS_MAX).unwrap_or_else(|_| {
        errors.push(("address", m("err_address")));
        String::new()
    });
    let phone = if form.phone.trim().is_empty() {
        String::new()
    } else {
        office_phone(&form.phone).unwrap_or_else(|| {
            errors.push(("phone", m("office_err_phone")));
            String::new()
        })
    };
    let email = if form.email.trim().is_empty() {
        String::new()
    } else {
        parse_email(&form.email).unwrap_or_else(|| {
            errors.push(("email", m("err_email")));
            String::new()
        })
    };
    let office_hours = if form.office_hours.trim().is_empty() {
        None
    } else {
        match OfficeHours::parse(&form.office_hours) {
            Some(h) => Some(h.format()),
            None => {
                errors.push(("office_hours", m("calendar_err_hours")));
                None
            }
        }
    };
    if !errors.is_empty() {
        return office_page(&state, &req, office_id, Some(form), errors, false).await;
    }
    let settings = OfficeSettings {
        address,
        phone,
        email,
        auto_assign: form.auto_assign == "on",
        office_hours,
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let id2 = office_id.clone();
    with_db(&state, "save an office", move |conn| {
        Ok(offices_db::save(conn, admin_id, &id2, &settings, &o)?)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    Ok(see_other(&format!("/admin/offices/{office_id}?done=saved")))
}
