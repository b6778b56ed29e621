//! Counter intake: a walk-in applicant's paper dossier (or one that came by post) is entered at
//! the desk with the service's own form and documents scanned and uploaded. It is a draft the
//! officer owns, with the desk's applicant section (name and identity number typed from the
//! applicant's card); filed, it gets a code from the office's same daily sequence and is
//! tracked exactly like an online one, with its channel recorded.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::db::drafts::{self, DraftState, NewDraft};
use crate::db::{directory, forms};
use crate::domain::dossier::Channel;
use crate::domain::routing::Level;
use crate::error::AppError;
use crate::web::account::page;
use crate::web::apply::{local_time, new_public_id, now};
use crate::web::auth::{StaffUser, check_csrf};
use crate::web::redirect::see_other;
use crate::web::{AppState, lang_of, with_db};

#[derive(Serialize)]
struct OfficeChoice {
    id: i64,
    name: String,
}

#[derive(Serialize)]
struct DraftRow {
    public_id: String,
    service: String,
    updated: String,
}

fn render(
    state: &AppState,
    req: &HttpRequest,
    offices: Vec<OfficeChoice>,
    drafts: Vec<DraftRow>,
    typed: &CounterForm,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let error = error.map(|k| state.messages.text(lang, k).to_string());
    page(state, req, lang, "staff/counter.html", status, |ctx| {
        ctx.insert("offices", &offices);
        ctx.insert("drafts", &drafts);
        ctx.insert("service", &typed.service);
        ctx.insert("channel", &typed.channel);
        ctx.insert("office", &typed.office);
        ctx.insert("error", &error);
    })
}

async fn choices(
    state: &web::Data<AppState>,
    staff: &StaffUser,
) -> Result<(Vec<OfficeChoice>, Vec<DraftRow>), AppError> {
    let offices = staff.offices.clone();
    let me = staff.session.user.id;
    let (o, d) = with_db(state, "list the desk's offices and drafts", move |conn| {
        let mut o = Vec::new();
        for id in offices {
            if let Some(office) = directory::office_by_id(conn, id)? {
                o.push(OfficeChoice {
                    id,
                    name: office.name,
                });
            }
        }
        Ok((o, drafts::list_own(conn, me)?))
    })
    .await?;
    let d = d
        .into_iter()
        .map(|x| DraftRow {
            public_id: x.public_id,
            service: format!("{} ({})", x.service_name, x.service_code),
            updated: local_time(x.updated_at, crate::i18n::Lang::Vi),
        })
        .collect();
    Ok((o, d))
}

#[derive(Deserialize, Default)]
pub struct CounterForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    office: String,
}

/// GET `/staff/counter`.
pub async fn counter(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
) -> Result<HttpResponse, AppError> {
    let (offices, drafts) = choices(&state, &staff).await?;
    let typed = CounterForm {
        channel: "counter".into(),
        ..Default::default()
    };
    render(&state, &req, offices, drafts, &typed, None, StatusCode::OK)
}

/// POST `/staff/counter`: starts the intake of one paper dossier at one of the officer's
/// offices; the officer then fills the same pages a citizen would.
pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    body: web::Form<CounterForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let typed = body.into_inner();
    let channel = match typed.channel.as_str() {
        "post" => Channel::Post,
        _ => Channel::Counter,
    };
    let office: Option<i64> = typed
        .office
        .trim()
        .parse()
        .ok()
        .or_else(|| staff.offices.first().copied());
    let Some(office) = office.filter(|o| staff.offices.contains(o)) else {
        return Err(AppError::NotFound);
    };
    let code = typed.service.trim().to_string();
    let me = staff.session.user.id;
    let public_id = new_public_id();
    let p = public_id.clone();
    let started = with_db(&state, "start a desk intake", move |conn| {
        let Some(service) = directory::routable_service(conn, &code)? else {
            return Ok(false);
        };
        let (service_id, code, name) = (service.id, service.code, service.name);
        let o = directory::office_by_id(conn, office)?.ok_or(AppError::NotFound)?;
        let (version, _) = forms::current(conn, service_id, &code, &name)?;
        drafts::create(
            conn,
            &NewDraft {
                public_id: &p,
                user_id: me,
                service_id,
                level: Level::parse(&o.tier).unwrap_or(Level::Commune),
                place: &directory::Place {
                    province: o.province_code.clone(),
                    ward: o.ward_code.clone(),
                },
                agency_id: office,
                rule_id: None,
                form_version: version,
                state: &DraftState {
                    answers: Default::default(),
                    visited: Default::default(),
                    channel: Some(channel),
                },
                now: now(),
            },
        )?;
        Ok(true)
    })
    .await?;
    if started {
        return Ok(see_other(&format!("/drafts/{public_id}")));
    }
    let (offices, drafts) = choices(&state, &staff).await?;
    render(
        &state,
        &req,
        offices,
        drafts,
        &typed,
        Some("queue_unknown_service"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
