//! The agency workspace (first slice): an office's queue of dossiers and the dossier page for
//! staff, with the lifecycle's actions. Every query is scoped by the officer's offices: a
//! dossier of another office is "not found", its files too.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::account::page;
use super::apply::{local_date, local_time, now};
use super::auth::{StaffUser, check_csrf};
use super::redirect::see_other;
use super::{AppState, lang_of, with_db};
use crate::db::dossiers::{self, Dossier, Move, MoveError};
use crate::domain::dossier::DossierCode;
use crate::domain::lifecycle::{Action, Actor, available};
use crate::domain::status::Status;
use crate::error::AppError;
use crate::i18n::Lang;

fn actor(s: &StaffUser) -> Actor {
    if s.session.role() == crate::domain::account::Role::Lead {
        Actor::Lead
    } else {
        Actor::Officer
    }
}

#[derive(Serialize)]
struct Row {
    code: String,
    applicant: String,
    status: String,
    submitted: String,
    due: Option<String>,
}

/// GET `/staff`: the newest dossiers of the officer's offices.
pub async fn queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
) -> Result<HttpResponse, AppError> {
    let offices = staff.offices.clone();
    let rows = with_db(&state, "list an office's dossiers", move |conn| {
        Ok(dossiers::of_offices(conn, &offices, 100)?)
    })
    .await?;
    let lang = lang_of(&req);
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|d| Row {
            status: state
                .messages
                .text(lang, &d.status.message_key())
                .to_string(),
            submitted: local_time(d.submitted_at, lang),
            due: d.due_at.map(local_date),
            applicant: d.applicant_name,
            code: d.code,
        })
        .collect();
    page(
        &state,
        &req,
        lang,
        "staff/queue.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &rows);
        },
    )
}

#[derive(Serialize)]
struct SectionView {
    title: String,
    rows: Vec<super::apply::Row>,
}

#[derive(Serialize)]
struct FileView {
    public_id: String,
    name: String,
    slot: String,
    sha256: String,
}

#[derive(Serialize)]
struct ActionView {
    action: &'static str,
    label: String,
    needs_note: bool,
}

fn dossier_page(
    state: &AppState,
    req: &HttpRequest,
    staff: &StaffUser,
    loaded: &Loaded,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (d, events, files) = (&loaded.0, &loaded.1, &loaded.2);
    let lang = lang_of(req);
    // The answers as filed, read with the form they were filed under.
    let form = d.form();
    let answers = d.answers();
    let applicant = dossiers::applicant_form();
    let mut sections = Vec::new();
    for def in [Some(&applicant), form.as_ref()].into_iter().flatten() {
        for (s, rows) in def
            .sections
            .iter()
            .zip(super::apply::shown(state, lang, def, &answers))
        {
            sections.push(SectionView {
                title: s.title.get(lang).to_string(),
                rows,
            });
        }
    }
    let files: Vec<FileView> = files
        .iter()
        .map(|a| FileView {
            public_id: a.public_id.clone(),
            name: a.file_name.clone(),
            slot: form
                .as_ref()
                .and_then(|f| f.documents.iter().find(|x| x.key == a.slot))
                .map(|x| x.label.get(lang).to_string())
                .unwrap_or_default(),
            sha256: a.sha256.clone(),
        })
        .collect();
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let actions: Vec<ActionView> = available(d.status, actor(staff))
        .into_iter()
        .map(|a| ActionView {
            action: a.as_str(),
            label: m(&format!("action_{}", a.as_str())),
            needs_note: a.needs_note(),
        })
        .collect();
    let timeline: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                local_time(e.at, lang),
                Status::from_code(e.to_status)
                    .map(|s| m(&s.message_key()))
                    .unwrap_or_default(),
                e.note.clone(),
            )
        })
        .collect();
    page(state, req, lang, "staff/dossier.html", status, |ctx| {
        ctx.insert("code", &d.code);
        ctx.insert("status", &m(&d.status.message_key()));
        ctx.insert("applicant", &d.applicant_name);
        ctx.insert("phone", &d.applicant_phone);
        ctx.insert("email", &d.applicant_email);
        ctx.insert("submitted", &local_time(d.submitted_at, lang));
        ctx.insert("due", &d.due_at.map(|t| local_time(t, lang)));
        ctx.insert("route", &d.route_note);
        ctx.insert("version", &d.lock_version);
        ctx.insert("actions", &actions);
        ctx.insert("timeline", &timeline);
        ctx.insert("notice", &notice);
        ctx.insert("sections", &sections);
        ctx.insert("files", &files);
    })
}

/// A dossier with its timeline and files.
type Loaded = (
    Dossier,
    Vec<dossiers::Event>,
    Vec<crate::db::attachments::Attachment>,
);

async fn load(
    state: &web::Data<AppState>,
    staff: &StaffUser,
    code: &str,
) -> Result<Loaded, AppError> {
    let code = DossierCode::parse(code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    with_db(state, "show a dossier to staff", move |conn| {
        let d = dossiers::find_by_code(conn, &code)?
            .filter(|d| offices.contains(&d.agency_id))
            .ok_or(AppError::NotFound)?;
        let events = dossiers::timeline(conn, d.id)?;
        let files = crate::db::attachments::of_dossier(conn, d.id)?;
        Ok((d, events, files))
    })
    .await
}

/// GET `/staff/dossiers/{code}`.
pub async fn dossier(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, &staff, &code).await?;
    dossier_page(&state, &req, &staff, &loaded, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    version: i32,
    #[serde(default)]
    note: String,
}

/// POST `/staff/dossiers/{code}`: one lifecycle action.
pub async fn act(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    code: web::Path<String>,
    body: web::Form<MoveForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let form = body.into_inner();
    let action: Action = form
        .action
        .parse()
        .map_err(|_| AppError::BadRequest("lifecycle_unknown_action"))?;
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    let who = actor(&staff);
    let actor_id = staff.session.user.id;
    let st = state.clone();
    let note: String = form.note.chars().take(2000).collect();
    let c = code.clone();
    let result = with_db(&state, "move a dossier", move |conn| {
        let in_scope = |d: &Dossier| offices.contains(&d.agency_id);
        let email = |d: &Dossier, s: Status| {
            crate::mail::dossier_status(
                &st.tera,
                &st.messages,
                &st.settings.public_url,
                Lang::Vi,
                d,
                s,
                &note,
            )
        };
        Ok(dossiers::apply_move(
            conn,
            &Move {
                code: &c,
                action,
                actor: who,
                actor_id: Some(actor_id),
                seen_version: form.version,
                note: &note,
                now: now(),
                in_scope: &in_scope,
                email: &email,
            },
        ))
    })
    .await?;
    let lang = lang_of(&req);
    let (key, status): (&'static str, StatusCode) = match result {
        Ok(d) => return Ok(see_other(&format!("/staff/dossiers/{}", d.code))),
        Err(MoveError::NotFound) => return Err(AppError::NotFound),
        Err(MoveError::Db(e)) => return Err(AppError::Internal(e)),
        Err(MoveError::Conflict(_)) => ("lifecycle_conflict", StatusCode::CONFLICT),
        Err(MoveError::NoteRequired) => {
            ("lifecycle_note_required", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(MoveError::Refused(r)) => (r.message_key(), StatusCode::CONFLICT),
    };
    // The page again, with the dossier as it is now and what went wrong.
    let loaded = load(&state, &staff, &code).await?;
    let text = state.messages.text(lang, key).to_string();
    dossier_page(&state, &req, &staff, &loaded, Some(text), status)
}
