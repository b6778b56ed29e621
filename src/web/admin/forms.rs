//! A procedure's application forms: the stored versions (published or not), JSON export of any
//! version, JSON import checked against the form schema with every problem listed (stored as
//! the next version, unpublished), a preview of every section exactly as the citizen sees it —
//! the same template, and the same error messages when it is sent — and publication. New
//! applications use the highest published version; drafts and dossiers keep theirs.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::forms as forms_db;
use crate::domain::form_schema::FormDefinition;
use crate::error::AppError;

/// Longest definition accepted (the largest official form is about 20 KB).
const IMPORT_MAX: usize = 512 * 1024;

async fn forms_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    typed: Option<String>,
    errors: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let (name, versions) = with_db(state, "read a procedure's forms", move |conn| {
        let s = crate::db::service_admin::by_code(conn, &code)?.ok_or(AppError::NotFound)?;
        let v = forms_db::versions_of(conn, &code)?;
        Ok(((s.code, s.name), v))
    })
    .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(state, req, lang, "admin/forms.html", status, |ctx| {
        ctx.insert("code", &name.0);
        ctx.insert("name", &name.1);
        ctx.insert("versions", &versions);
        ctx.insert("typed", &typed.unwrap_or_default());
        ctx.insert("errors", &errors);
    })
}

/// GET `/admin/services/{code}/forms`.
pub async fn forms(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    forms_page(&state, &req, path.into_inner(), None, Vec::new()).await
}

async fn load(
    state: &web::Data<AppState>,
    code: &str,
    version: i32,
) -> Result<(String, FormDefinition, bool), AppError> {
    let c = code.to_string();
    let (name, stored) = with_db(state, "read a form version", move |conn| {
        let s = crate::db::service_admin::by_code(conn, &c)?.ok_or(AppError::NotFound)?;
        Ok((s.name, forms_db::stored(conn, &c, version)?))
    })
    .await?;
    let (json, published) = stored.ok_or(AppError::NotFound)?;
    let def: FormDefinition =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
    Ok((name, def, published))
}

/// GET `/admin/services/{code}/forms/{version}.json`: the definition, as a download.
pub async fn export(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (code, file) = path.into_inner();
    let version: i32 = file
        .strip_suffix(".json")
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::NotFound)?;
    let (_, def, _) = load(&state, &code, version).await?;
    let json = serde_json::to_string_pretty(&def).map_err(|e| AppError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"form-{code}-v{version}.json\""),
        ))
        .body(json))
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    definition: String,
}

/// POST `/admin/services/{code}/forms`: imports a definition (JSON) as the next version.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<ImportForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let text = body.definition.trim().to_string();
    if text.len() > IMPORT_MAX {
        return forms_page(&state, &req, code, None, vec![m("forms_too_large")]).await;
    }
    let def = match FormDefinition::from_json(&text) {
        Ok(d) if d.service == code => d,
        Ok(d) => {
            let e = m("forms_other_service")
                .replace("{service}", &d.service)
                .replace("{code}", &code);
            return forms_page(&state, &req, code, Some(text), vec![e]).await;
        }
        Err(errors) => return forms_page(&state, &req, code, Some(text), errors).await,
    };
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let version = with_db(&state, "store a form version", move |conn| {
        if crate::db::service_admin::by_code(conn, &c2)?.is_none() {
            return Err(AppError::NotFound);
        }
        Ok(forms_db::add_version(conn, admin_id, &c2, &def, &o)?)
    })
    .await?;
    Ok(see_other(&format!(
        "/admin/services/{code}/forms/{version}/preview"
    )))
}

/// GET `/admin/services/{code}/forms/{version}/preview`: the first section.
pub async fn preview_first(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, AppError> {
    let (code, version) = path.into_inner();
    let (_, def, _) = load(&state, &code, version).await?;
    let first = def
        .sections
        .first()
        .map(|s| s.key.clone())
        .ok_or(AppError::NotFound)?;
    Ok(see_other(&format!(
        "/admin/services/{code}/forms/{version}/preview/{first}"
    )))
}

/// GET and POST `/admin/services/{code}/forms/{version}/preview/{section}`: the section as the
/// citizen sees it; sent, it answers with the citizen's errors (nothing is stored).
pub async fn preview(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<(String, i32, String)>,
    body: Option<web::Form<Vec<(String, String)>>>,
) -> Result<HttpResponse, AppError> {
    let (code, version, key) = path.into_inner();
    let posted = body.map(|b| b.into_inner());
    if let Some(p) = &posted {
        let csrf = p
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        check_csrf(&req, csrf)?;
    }
    let (name, def, _) = load(&state, &code, version).await?;
    let action = format!("/admin/services/{code}/forms/{version}/preview/{key}");
    let back = format!("/admin/services/{code}/forms");
    crate::web::apply::preview_page(
        &state,
        &req,
        &def,
        (&code, &name),
        &key,
        posted.as_deref(),
        &action,
        &back,
    )
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// POST `/admin/services/{code}/forms/{version}/publish`.
pub async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<(String, i32)>,
    body: web::Form<PublishForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let (code, version) = path.into_inner();
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let done = with_db(&state, "publish a form version", move |conn| {
        Ok(forms_db::publish(conn, admin_id, &c2, version, &o)?)
    })
    .await?;
    if !done {
        return Err(AppError::NotFound);
    }
    super::refresh_catalogue(&state).await?;
    Ok(see_other(&format!("/admin/services/{code}/forms")))
}
