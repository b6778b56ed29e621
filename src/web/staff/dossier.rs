//! The dossier page for staff and its actions: the lifecycle's moves and the hand-overs. Every
//! query is scoped by the officer's offices: a dossier of another office is "not found".

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::actor;
use crate::db::dossiers::{self, Dossier, Move, MoveError};
use crate::db::workspace::{self, Handover, HandoverInput};
use crate::domain::dossier::DossierCode;
use crate::domain::lifecycle::{Action, Actor, available};
use crate::domain::status::Status;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::web::account::page;
use crate::web::apply::{local_time, now};
use crate::web::auth::{StaffUser, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

#[derive(Serialize)]
struct SectionView {
    title: String,
    rows: Vec<crate::web::apply::Row>,
}

#[derive(Serialize)]
struct FileView {
    public_id: String,
    name: String,
    slot: String,
    sha256: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct EventView {
    at: String,
    action: String,
    from: String,
    to: String,
    note: String,
    internal: bool,
    actor: String,
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
    let (d, events, files) = (&loaded.d, &loaded.events, &loaded.files);
    let lang = lang_of(req);
    // The answers as filed, read with the form they were filed under.
    let form = loaded.form.clone();
    let answers = d.answers();
    let applicant =
        dossiers::applicant_form_for(d.channel != crate::domain::dossier::Channel::Online);
    let mut sections = Vec::new();
    for def in [Some(&applicant), form.as_ref()].into_iter().flatten() {
        for (s, rows) in def
            .sections
            .iter()
            .zip(crate::web::apply::shown(state, lang, def, &answers))
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
            kind: match a.content_type.as_str() {
                "application/pdf" => "pdf",
                _ => "image",
            },
        })
        .collect();
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let actions: Vec<ActionView> = available(d.status, actor(staff))
        .into_iter()
        .filter(|_| loaded.handles)
        .map(|a| ActionView {
            action: a.as_str(),
            label: m(&format!("action_{}", a.as_str())),
            needs_note: a.needs_note(),
        })
        .collect();
    let status_name = |c: Option<i32>| {
        c.and_then(Status::from_code)
            .map(|s| m(&s.message_key()))
            .unwrap_or_default()
    };
    let timeline: Vec<EventView> = events
        .iter()
        .map(|e| EventView {
            at: local_time(e.at, lang),
            action: m(&format!("event_{}", e.action)),
            from: if e.from_status == Some(e.to_status) {
                String::new()
            } else {
                status_name(e.from_status)
            },
            to: status_name(Some(e.to_status)),
            note: e.note.clone(),
            internal: e.internal,
            actor: e.actor.clone().unwrap_or_else(|| m("event_by_system")),
        })
        .collect();
    let supplements = events
        .iter()
        .filter(|e| e.action == "request_supplement")
        .count();
    let rescheduled = events.iter().any(|e| e.action == "reschedule");
    let paused_since = if d.status.waits_for_citizen() {
        events
            .iter()
            .rev()
            .find(|e| e.to_status == i32::from(d.status.code()))
            .map(|e| local_time(e.at, lang))
    } else {
        None
    };
    let urgency = super::urgency(state, lang, &loaded.cal, d.status.stage(), d.due_at, now());
    let assignee = d.assigned_to.and_then(|u| {
        loaded
            .members
            .iter()
            .find(|x| x.user_id == u)
            .map(|x| x.name.clone())
    });
    let consultations: Vec<(String, String, Option<String>)> = loaded
        .consultations
        .iter()
        .map(|c| {
            (
                local_time(c.asked_at, lang),
                c.question.clone(),
                c.answer.clone(),
            )
        })
        .collect();
    let open = !d.status.is_finished();
    let me = staff.session.user.id;
    let is_lead = actor(staff) == Actor::Lead;
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
        ctx.insert("supplements", &supplements);
        ctx.insert("desk_forms", &super::forms::available(events));
        ctx.insert("counted_late", &(supplements >= 2));
        ctx.insert("rescheduled", &rescheduled);
        ctx.insert("paused_since", &paused_since);
        ctx.insert("urgency", &urgency);
        ctx.insert("assignee", &assignee);
        ctx.insert("assigned_to_me", &(d.assigned_to == Some(me)));
        ctx.insert("unassigned", &d.assigned_to.is_none());
        ctx.insert("members", &loaded.members);
        ctx.insert("consultations", &consultations);
        ctx.insert("handles", &loaded.handles);
        ctx.insert("open", &open);
        ctx.insert(
            "can_reschedule",
            &(loaded.handles && open && !rescheduled && !d.status.waits_for_citizen()),
        );
        ctx.insert("is_lead", &is_lead);
        ctx.insert("office_id", &loaded.office.0);
        ctx.insert("office_name", &loaded.office.1);
        ctx.insert("channel", &m(&format!("channel_{}", d.channel.as_str())));
        ctx.insert("cccd", &d.applicant_cccd);
        ctx.insert("address", &d.applicant_address);
        ctx.insert(
            "result",
            &loaded.result.as_ref().map(|r| {
                (
                    r.verify_code.clone(),
                    r.file_name.clone(),
                    local_time(r.issued_at, lang),
                )
            }),
        );
        ctx.insert(
            "can_issue",
            &(loaded.handles && d.status == Status::Processing),
        );
        ctx.insert("fee", &crate::web::apply::money(d.fee_vnd, lang));
    })
}

/// A dossier with what the staff page shows beside it.
pub(super) struct Loaded {
    d: Dossier,
    events: Vec<workspace::StaffEvent>,
    files: Vec<crate::db::attachments::Attachment>,
    consultations: Vec<workspace::Consultation>,
    members: Vec<workspace::Member>,
    office: (String, String),
    cal: std::sync::Arc<crate::domain::calendar::Calendar>,
    result: Option<crate::db::results::ResultRow>,
    form: Option<crate::domain::form_schema::FormDefinition>,
    /// One of the officer's offices handles it (not only consulted): actions are offered.
    handles: bool,
}

async fn load(
    state: &web::Data<AppState>,
    staff: &StaffUser,
    code: &str,
) -> Result<Loaded, AppError> {
    let code = DossierCode::parse(code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let offices = staff.offices.clone();
    let st = state.clone();
    with_db(state, "show a dossier to staff", move |conn| {
        let d = dossiers::find_by_code(conn, &code)?.ok_or(AppError::NotFound)?;
        let handles = offices.contains(&d.agency_id);
        if !handles && !workspace::consulted_by(conn, d.id, &offices)? {
            return Err(AppError::NotFound);
        }
        let events = workspace::staff_timeline(conn, d.id)?;
        let files = crate::db::attachments::of_dossier(conn, d.id)?;
        let consultations = workspace::consultations_of(conn, d.id)?;
        let members = workspace::members(conn, &[d.agency_id])?;
        let office = crate::db::directory::office_by_id(conn, d.agency_id)?
            .map(|o| (o.office_id, o.name))
            .unwrap_or_default();
        let cal = st.calendar(conn)?;
        let result = crate::db::results::of_dossier(conn, d.id)?;
        let form = dossiers::form_of(conn, &d)?;
        Ok(Loaded {
            form,
            result,
            d,
            events,
            files,
            consultations,
            members,
            office,
            cal,
            handles,
        })
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
    /// The charge, for a payment request (VND; dots and spaces allowed).
    #[serde(default)]
    amount: String,
}

/// An amount of đồng as typed ("50.000", "50 000", "50000").
fn parse_amount(raw: &str) -> Option<i64> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | ',' | '\u{a0}'))
        .collect();
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=1_000_000_000_000).contains(n))
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
    if form.note.chars().count() > NOTE_MAX {
        return Err(AppError::BadRequest("workspace_note_too_long"));
    }
    let note = form.note.clone();
    let amount = if action == Action::RequestPayment {
        match parse_amount(&form.amount) {
            Some(a) => Some(a),
            None => {
                return failed(
                    &state,
                    &req,
                    &staff,
                    &code,
                    "payment_amount_required",
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        }
    } else {
        None
    };
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
        // The move and, for a payment request, the charge the citizen pays: one transaction.
        Ok(crate::db::transaction(conn, |conn| {
            let d = dossiers::apply_move(
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
            )?;
            if let Some(amount) = amount {
                crate::db::payments::create(
                    conn,
                    &crate::db::payments::NewPayment {
                        reference: &crate::web::pay::new_reference(),
                        draft_id: None,
                        dossier_id: Some(d.id),
                        user_id: d.user_id.unwrap_or(actor_id),
                        amount_vnd: amount,
                        gateway: "vnpay",
                        now: now(),
                    },
                )?;
            }
            Ok(d)
        }))
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
        Err(MoveError::Other(k)) => (k, StatusCode::CONFLICT),
    };
    // The page again, with the dossier as it is now and what went wrong.
    let loaded = load(&state, &staff, &code).await?;
    let text = state.messages.text(lang, key).to_string();
    dossier_page(&state, &req, &staff, &loaded, Some(text), status)
}

/// The longest note, reason or answer accepted (a pasted page is refused, not cut).
pub const NOTE_MAX: usize = 4000;

#[derive(Deserialize)]
pub struct HandoverForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    version: i32,
    #[serde(default)]
    note: String,
    /// A user id (assign) or an office identifier (transfer, consult).
    #[serde(default)]
    to: String,
    /// The new due date (reschedule), YYYY-MM-DD.
    #[serde(default)]
    date: String,
}

/// POST `/staff/dossiers/{code}/handover`: assign, claim, release, note, the one apology with a
/// new date, transfer, consultation.
pub async fn handover(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    code: web::Path<String>,
    body: web::Form<HandoverForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let form = body.into_inner();
    if form.note.chars().count() > NOTE_MAX {
        return Err(AppError::BadRequest("workspace_note_too_long"));
    }
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let me = staff.session.user.id;
    let is_lead = actor(&staff) == Actor::Lead;
    let offices = staff.offices.clone();
    let st = state.clone();
    let c = code.clone();
    let result = with_db(&state, "hand over a dossier", move |conn| {
        let what = match form.kind.as_str() {
            "claim" => Handover::Assign(Some(me)),
            "release" => Handover::Assign(None),
            "assign" => match form.to.trim().parse::<i64>() {
                Ok(u) => Handover::Assign(Some(u)),
                Err(_) => return Ok(Err(MoveError::Other(workspace::NOT_A_MEMBER))),
            },
            "note" => Handover::Note,
            "reschedule" => {
                let Ok(day) = chrono::NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
                else {
                    return Ok(Err(MoveError::Other("workspace_bad_date")));
                };
                let cal = dossiers::calendar(conn)?;
                let day = cal.working_day_on_or_after(day);
                Handover::Reschedule(crate::domain::calendar::to_utc(
                    day.and_time(cal.hours().closing()),
                ))
            }
            "transfer" | "consult" => {
                let Some(office) = crate::db::directory::find_office(conn, form.to.trim())? else {
                    return Ok(Err(MoveError::Other("workspace_unknown_office")));
                };
                if form.kind == "transfer" {
                    Handover::Transfer(office.id)
                } else {
                    Handover::Consult(office.id)
                }
            }
            _ => return Err(AppError::BadRequest("lifecycle_unknown_action")),
        };
        let email = |d: &Dossier, office: &str, due: chrono::NaiveDateTime| {
            crate::mail::dossier_rescheduled(
                &st.tera,
                &st.settings.public_url,
                Lang::Vi,
                d,
                office,
                due,
                form.note.trim(),
            )
        };
        Ok(workspace::handover(
            conn,
            &HandoverInput {
                code: &c,
                offices: &offices,
                actor_id: me,
                is_lead,
                seen_version: form.version,
                what,
                note: &form.note,
                now: now(),
                email: &email,
            },
        ))
    })
    .await?;
    let (key, status): (&'static str, StatusCode) = match result {
        Ok(d) if staff.offices.contains(&d.agency_id) => {
            return Ok(see_other(&format!("/staff/dossiers/{}", d.code)));
        }
        // Transferred away: it is no longer this office's.
        Ok(_) => return Ok(see_other("/staff?tab=new")),
        Err(MoveError::NotFound) => return Err(AppError::NotFound),
        Err(MoveError::Db(e)) => return Err(AppError::Internal(e)),
        Err(MoveError::Conflict(_)) => ("lifecycle_conflict", StatusCode::CONFLICT),
        Err(MoveError::NoteRequired) => {
            ("lifecycle_note_required", StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(MoveError::Refused(r)) => (r.message_key(), StatusCode::CONFLICT),
        Err(MoveError::Other(k)) => (k, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let lang = lang_of(&req);
    let loaded = load(&state, &staff, &code).await?;
    let text = state.messages.text(lang, key).to_string();
    dossier_page(&state, &req, &staff, &loaded, Some(text), status)
}

/// The dossier page again, as it is now, with what went wrong.
pub(super) async fn failed(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    staff: &StaffUser,
    code: &str,
    key: &'static str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let loaded = load(state, staff, code).await?;
    let text = state.messages.text(lang, key).to_string();
    dossier_page(state, req, staff, &loaded, Some(text), status)
}
