//! A procedure record's text, edited as versions: each save keeps the record as it was under
//! its version number; the history lists the versions, a diff shows what one change did, and a
//! rollback saves an earlier version's text as a new version (nothing is ever lost). Dossiers
//! keep the version they were filed under (`dossiers.service_version`, the form snapshot).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::service_admin::{self as service_db, RecordText, VersionRow, record_fields};
use crate::domain::account::parse_line;
use crate::domain::admin::Refusal;
use crate::error::AppError;

/// Longest text of one field (the longest seeded record field is about 30,000 characters).
const FIELD_MAX: usize = 100_000;
const NOTE_MAX: usize = 300;

#[derive(Deserialize, Default)]
pub struct EditForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    seen_version: i32,
    #[serde(default)]
    note: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    procedure_type: String,
    #[serde(default)]
    decision_number: String,
    #[serde(default)]
    implementing_agency: String,
    #[serde(default)]
    competent_agency: String,
    #[serde(default)]
    documents_text: String,
    #[serde(default)]
    steps: String,
    #[serde(default)]
    requirements: String,
    #[serde(default)]
    result_code: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    related_procedures: String,
    #[serde(default)]
    implementing_levels: String,
    #[serde(default)]
    target_groups: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    documents: String,
}

impl EditForm {
    fn record(&self) -> RecordText {
        // Text areas send CRLF; the record keeps LF.
        let t = |s: &str| s.replace("\r\n", "\n").trim().to_string();
        RecordText {
            name: t(&self.name),
            procedure_type: t(&self.procedure_type),
            decision_number: t(&self.decision_number),
            implementing_agency: t(&self.implementing_agency),
            competent_agency: t(&self.competent_agency),
            documents_text: t(&self.documents_text),
            steps: t(&self.steps),
            requirements: t(&self.requirements),
            result_code: t(&self.result_code),
            result: t(&self.result),
            related_procedures: t(&self.related_procedures),
            implementing_levels: t(&self.implementing_levels),
            target_groups: t(&self.target_groups),
            legal_basis: t(&self.legal_basis),
            documents: t(&self.documents),
        }
    }
}

#[derive(Serialize)]
struct FieldView {
    key: &'static str,
    value: String,
    long: bool,
    /// One item a line, with a hint on how to write it.
    list: bool,
}

fn fields_of(r: &RecordText) -> Vec<FieldView> {
    record_fields(r)
        .into_iter()
        .map(|(key, value)| FieldView {
            key,
            value: value.to_string(),
            long: !matches!(
                key,
                "name" | "procedure_type" | "decision_number" | "result_code"
            ),
            list: matches!(
                key,
                "implementing_levels" | "target_groups" | "legal_basis" | "documents"
            ),
        })
        .collect()
}

/// One field that differs between two versions.
#[derive(Serialize)]
struct Change {
    key: &'static str,
    before: String,
    after: String,
}

fn diff(before: &RecordText, after: &RecordText) -> Vec<Change> {
    record_fields(before)
        .into_iter()
        .zip(record_fields(after))
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, b)| Change {
            key: a.0,
            before: a.1.to_string(),
            after: b.1.to_string(),
        })
        .collect()
}

#[derive(Serialize)]
struct VersionView {
    version: i32,
    changed_at: String,
    changed_by: Option<i64>,
    note: String,
    changes: Vec<Change>,
}

async fn edit_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    typed: Option<RecordText>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let (id_version_record, versions) = with_db(state, "read a record's versions", move |conn| {
        let Some((id, version, record)) = service_db::record_text(conn, &code)? else {
            return Err(AppError::NotFound);
        };
        let versions = service_db::versions(conn, id)?;
        Ok(((code, version, record), versions))
    })
    .await?;
    let (code, version, current) = id_version_record;
    // Each kept version against the one that followed it (the newest against the record now).
    let mut later: RecordText = current.clone();
    let mut history: Vec<VersionView> = Vec::new();
    for VersionRow {
        version: v,
        changed_at,
        changed_by,
        note,
        record,
    } in versions
    {
        history.push(VersionView {
            version: v,
            changed_at: changed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            changed_by,
            note,
            changes: diff(&record, &later),
        });
        later = record;
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let shown = typed.unwrap_or(current);
    page(state, req, lang, "admin/service_edit.html", status, |ctx| {
        ctx.insert("code", &code);
        ctx.insert("version", &version);
        ctx.insert("fields", &fields_of(&shown));
        ctx.insert("history", &history);
        ctx.insert("error", &error);
    })
}

/// GET `/admin/services/{code}/record`: the record's text to edit, and its versions.
pub async fn edit_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    edit_page(&state, &req, path.into_inner(), None, None).await
}

/// POST `/admin/services/{code}/record`: saves a new version.
pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let record = body.record();
    let too_long = record_fields(&record)
        .iter()
        .any(|(_, v)| v.chars().count() > FIELD_MAX);
    let note = parse_line(&body.note, NOTE_MAX).ok();
    if let Err(errors) = crate::domain::procedure::parse_lists(
        &record.implementing_levels,
        &record.target_groups,
        &record.legal_basis,
        &record.documents,
    ) {
        let text = format!("{} {}", m("services_err_lists"), errors.join("; "));
        return edit_page(&state, &req, code, Some(record), Some(text)).await;
    }
    if record.name.chars().count() < 3 || too_long || note.is_none() {
        let key = if record.name.chars().count() < 3 {
            "services_err_name"
        } else {
            "err_too_long"
        };
        return edit_page(&state, &req, code, Some(record), Some(m(key))).await;
    }
    let note = note.unwrap_or_default();
    let (o, admin_id, c2, seen) = (
        origin(&req),
        admin.0.user.id,
        code.clone(),
        body.seen_version,
    );
    let r2 = record.clone();
    let outcome = with_db(&state, "save a record's new version", move |conn| {
        Ok(service_db::edit_record(
            conn, admin_id, &c2, seen, &r2, &note, &o,
        )?)
    })
    .await?;
    match outcome {
        Ok(_) => {
            super::refresh_catalogue(&state).await?;
            Ok(see_other(&format!(
                "/admin/services/{code}/record?done=saved"
            )))
        }
        Err(Refusal::NotFound) => Err(AppError::NotFound),
        Err(r) => edit_page(&state, &req, code, Some(record), Some(m(r.message_key()))).await,
    }
}

#[derive(Deserialize)]
pub struct RollbackForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    version: i32,
    #[serde(default)]
    seen_version: i32,
}

/// POST `/admin/services/{code}/rollback`: saves version `version`'s text as a new version.
pub async fn rollback(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<RollbackForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let lang = lang_of(&req);
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let (target, seen) = (body.version, body.seen_version);
    let note = state
        .messages
        .text(lang, "services_rollback_note")
        .replace("{version}", &target.to_string());
    let outcome = with_db(&state, "roll a record back", move |conn| {
        let Some((id, _, _)) = service_db::record_text(conn, &c2)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let Some(old) = service_db::versions(conn, id)?
            .into_iter()
            .find(|v| v.version == target)
        else {
            return Ok(Err(Refusal::NotFound));
        };
        Ok(service_db::edit_record(
            conn,
            admin_id,
            &c2,
            seen,
            &old.record,
            &note,
            &o,
        )?)
    })
    .await?;
    match outcome {
        Ok(_) => {
            super::refresh_catalogue(&state).await?;
            Ok(see_other(&format!(
                "/admin/services/{code}/record?done=saved"
            )))
        }
        Err(Refusal::NotFound) => Err(AppError::NotFound),
        Err(r) => {
            let msg = state.messages.text(lang, r.message_key()).to_string();
            edit_page(&state, &req, code, None, Some(msg)).await
        }
    }
}
