//! Following a dossier: "Hồ sơ của tôi" (drafts and dossiers with the next thing to do), the
//! dossier page with its printable receipt and QR code, the public lookup by code plus phone or
//! email (one answer for "no such dossier" and "wrong phone", rate limited), and the API.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::account::{limit, page};
use super::apply::{local_date, local_time, money, require_citizen};
use super::auth::{ApiUser, Authenticated, check_csrf, client_ip};
use super::{AppState, lang_of, with_db};
use crate::db::attachments::{self, Attachment};
use crate::db::dossiers::{self, Dossier, Event};
use crate::db::drafts;
use crate::domain::dossier::DossierCode;
use crate::domain::status::Status;
use crate::error::AppError;
use crate::i18n::Lang;

/// Lookups per address per 15 minutes before 429.
pub const TRACK_LIMIT_PER_IP: i32 = 30;

#[derive(Serialize)]
struct EventView {
    at: String,
    status: String,
    note: String,
}

#[derive(Serialize)]
struct DossierView {
    code: String,
    service_code: String,
    service_name: String,
    office_name: String,
    status_code: u8,
    status: String,
    next_step: String,
    submitted_at: String,
    due: Option<String>,
    due_date: Option<String>,
    timeline: Vec<EventView>,
}

fn status_text(state: &AppState, lang: Lang, s: Status) -> String {
    state.messages.text(lang, &s.message_key()).to_string()
}

fn next_step(state: &AppState, lang: Lang, s: Status) -> String {
    state
        .messages
        .text(lang, &format!("next_{}", s.code()))
        .to_string()
}

fn view(
    state: &AppState,
    lang: Lang,
    d: &Dossier,
    names: (String, String, String),
    events: &[Event],
) -> DossierView {
    let (service_code, service_name, office_name) = names;
    DossierView {
        code: d.code.clone(),
        service_code,
        service_name,
        office_name,
        status_code: d.status.code(),
        status: status_text(state, lang, d.status),
        next_step: next_step(state, lang, d.status),
        submitted_at: local_time(d.submitted_at, lang),
        due: d.due_at.map(|t| local_time(t, lang)),
        due_date: d.due_at.map(local_date),
        timeline: events
            .iter()
            .map(|e| EventView {
                at: local_time(e.at, lang),
                status: Status::from_code(e.to_status)
                    .map(|s| status_text(state, lang, s))
                    .unwrap_or_default(),
                note: e.note.clone(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct DraftView {
    public_id: String,
    service_name: String,
    updated: String,
    expires: String,
}

#[derive(Serialize)]
struct MineView {
    code: String,
    service_name: String,
    office_name: String,
    status: String,
    status_code: u8,
    next_step: String,
    submitted: String,
    due: Option<String>,
}

/// GET `/my`: "Hồ sơ của tôi".
pub async fn my(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
) -> Result<HttpResponse, AppError> {
    require_citizen(&s)?;
    let user_id = s.user.id;
    let (drafts, dossiers) = with_db(&state, "list my dossiers", move |conn| {
        Ok((
            drafts::list_own(conn, user_id)?,
            dossiers::list_own(conn, user_id, 200)?,
        ))
    })
    .await?;
    let lang = lang_of(&req);
    let drafts: Vec<DraftView> = drafts
        .into_iter()
        .map(|d| DraftView {
            public_id: d.public_id,
            service_name: d.service_name,
            updated: local_time(d.updated_at, lang),
            expires: local_date(d.expires_at),
        })
        .collect();
    let dossiers: Vec<MineView> = dossiers
        .into_iter()
        .map(|d| MineView {
            status: status_text(&state, lang, d.status),
            status_code: d.status.code(),
            next_step: next_step(&state, lang, d.status),
            submitted: local_date(d.submitted_at),
            due: d.due_at.map(local_date),
            code: d.code,
            service_name: d.service_name,
            office_name: d.office_name,
        })
        .collect();
    let deleted = req.query_string().contains("deleted=1");
    page(&state, &req, lang, "apply/my.html", StatusCode::OK, |ctx| {
        ctx.insert("drafts", &drafts);
        ctx.insert("dossiers", &dossiers);
        ctx.insert("deleted", &deleted);
    })
}

/// The QR code of a link, as inline SVG.
fn qr_svg(link: &str) -> String {
    match qrcode::QrCode::new(link.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

#[derive(Serialize)]
struct FileRow {
    public_id: String,
    name: String,
    slot: String,
    sha256: String,
}

/// GET `/dossiers/{code}`: the applicant's dossier, with its receipt (printable) and timeline.
pub async fn dossier(
    state: web::Data<AppState>,
    req: HttpRequest,
    Authenticated(s): Authenticated,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    dossier_page(&state, &req, &s, &code, None, "", StatusCode::OK).await
}

#[derive(Serialize)]
struct ResultView {
    verify_code: String,
    file_name: String,
    issued_at: String,
    verify_link: String,
}

/// The citizen's dossier page, with a message when an action of theirs was refused (and what
/// they typed kept).
pub(crate) async fn dossier_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    s: &super::auth::SessionUser,
    code: &str,
    notice: Option<String>,
    kept_note: &str,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let code = DossierCode::parse(code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let user_id = s.user.id;
    let (d, names, events, files, result, rating, charge, form) =
        with_db(state, "show a dossier", move |conn| {
            let d = dossiers::find_own(conn, &code, user_id)?.ok_or(AppError::NotFound)?;
            let names = dossiers::names(conn, &d)?;
            let events = dossiers::timeline(conn, d.id)?;
            let files: Vec<Attachment> = attachments::of_dossier(conn, d.id)?;
            let result = crate::db::results::of_dossier(conn, d.id)?;
            let rating = crate::db::results::rating_of(conn, d.id)?;
            let charge = if d.status == Status::PaymentRequested {
                crate::db::payments::pending_for_dossier(conn, d.id)?.map(|p| p.amount_vnd)
            } else {
                None
            };
            let form = dossiers::form_of(conn, &d)?;
            Ok((d, names, events, files, result, rating, charge, form))
        })
        .await?;
    let lang = lang_of(req);
    let files: Vec<FileRow> = files
        .into_iter()
        .map(|a| FileRow {
            slot: form
                .as_ref()
                .and_then(|f| f.documents.iter().find(|x| x.key == a.slot))
                .map(|x| x.label.get(lang).to_string())
                .unwrap_or_else(|| {
                    if a.slot == "supplement" {
                        state.messages.text(lang, "supplement_files").to_string()
                    } else {
                        String::new()
                    }
                }),
            public_id: a.public_id,
            name: a.file_name,
            sha256: a.sha256,
        })
        .collect();
    let v = view(state, lang, &d, names, &events);
    let track_link = super::apply::absolute(state, &format!("/track?code={}", d.code));
    let fresh = req.query_string().contains("new=1");
    let result = result.map(|r| ResultView {
        verify_link: super::apply::absolute(state, &format!("/verify?code={}", r.verify_code)),
        verify_code: r.verify_code,
        file_name: r.file_name,
        issued_at: local_time(r.issued_at, lang),
    });
    let can_withdraw = crate::domain::lifecycle::transition(
        d.status,
        crate::domain::lifecycle::Action::RequestWithdrawal,
        crate::domain::lifecycle::Actor::Citizen,
    )
    .is_ok();
    let indicators: Vec<(String, String)> = crate::domain::rating::INDICATORS
        .iter()
        .map(|k| {
            (
                format!("r_{k}"),
                state
                    .messages
                    .text(lang, &format!("rating_{k}"))
                    .to_string(),
            )
        })
        .collect();
    page(state, req, lang, "apply/dossier.html", status, |ctx| {
        ctx.insert("d", &v);
        ctx.insert("fresh", &fresh);
        ctx.insert("files", &files);
        ctx.insert("applicant_name", &d.applicant_name);
        ctx.insert("fee", &(d.fee_vnd > 0).then(|| money(d.fee_vnd, lang)));
        ctx.insert("track_link", &track_link);
        ctx.insert("qr", &qr_svg(&track_link));
        ctx.insert("version", &d.lock_version);
        ctx.insert("notice", &notice);
        ctx.insert("kept_note", kept_note);
        ctx.insert("result", &result);
        ctx.insert("can_supplement", &(d.status == Status::SupplementRequested));
        ctx.insert("can_withdraw", &can_withdraw);
        ctx.insert(
            "can_rate",
            &(d.status == Status::Delivered && rating.is_none()),
        );
        ctx.insert("rated", &rating.is_some());
        ctx.insert("indicators", &indicators);
        ctx.insert("charge", &charge.map(|a| money(a, lang)));
    })
}

#[derive(Deserialize, Default)]
pub struct TrackQuery {
    code: Option<String>,
}

/// GET `/track`: the lookup form.
pub async fn track_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TrackQuery>,
) -> Result<HttpResponse, AppError> {
    super::auth::current_user(&state, &req).await?;
    let lang = lang_of(&req);
    let code = q.code.clone().unwrap_or_default();
    page(
        &state,
        &req,
        lang,
        "apply/track.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("code", &code.chars().take(60).collect::<String>());
            ctx.insert("contact", "");
            ctx.insert("not_found", &false);
        },
    )
}

#[derive(Deserialize)]
pub struct TrackForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    contact: String,
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// Whether what the person typed is the dossier's phone or email.
fn contact_matches(d: &Dossier, typed: &str) -> bool {
    let typed = typed.trim();
    if let Some(phone) = crate::domain::account::parse_phone(typed) {
        return !d.applicant_phone.is_empty() && phone == d.applicant_phone;
    }
    crate::domain::account::parse_email(typed)
        .is_some_and(|e| !d.applicant_email.is_empty() && e == d.applicant_email)
}

/// POST `/track`: code plus phone or email → the status, timeline and due date.
pub async fn track(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Form<TrackForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    super::auth::current_user(&state, &req).await?;
    let form = body.into_inner();
    let lang = lang_of(&req);
    let ip = client_ip(&req);
    let code = DossierCode::parse(&form.code).ok().map(|c| c.to_string());
    let contact = form.contact.clone();
    let found = with_db(&state, "track a dossier", move |conn| {
        limit(
            conn,
            &format!("track:{ip}"),
            TRACK_LIMIT_PER_IP,
            Duration::minutes(15),
        )?;
        let Some(code) = code else { return Ok(None) };
        let Some(d) = dossiers::find_by_code(conn, &code)? else {
            return Ok(None);
        };
        if !contact_matches(&d, &contact) {
            return Ok(None);
        }
        let names = dossiers::names(conn, &d)?;
        let events = dossiers::timeline(conn, d.id)?;
        Ok(Some((d, names, events)))
    })
    .await?;
    let keep = |s: &str| s.chars().take(60).collect::<String>();
    match found {
        None => page(
            &state,
            &req,
            lang,
            "apply/track.html",
            StatusCode::NOT_FOUND,
            |ctx| {
                ctx.insert("code", &keep(&form.code));
                ctx.insert("contact", &keep(&form.contact));
                ctx.insert("not_found", &true);
            },
        ),
        Some((d, names, events)) => {
            let v = view(&state, lang, &d, names, &events);
            page(
                &state,
                &req,
                lang,
                "apply/track_result.html",
                StatusCode::OK,
                |ctx| {
                    ctx.insert("d", &v);
                },
            )
        }
    }
}

/// A dossier in the API.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierStatus {
    /// `{AGENCY_ID}-{YYMMDD}-{NNNN}`.
    pub code: String,
    pub service_code: String,
    pub service_name: String,
    pub office_name: String,
    /// The national status code, 1–10.
    pub status: u8,
    /// The status in plain words (Vietnamese).
    pub status_text: String,
    /// UTC, ISO 8601.
    pub submitted_at: String,
    pub due_at: Option<String>,
    pub timeline: Vec<DossierEvent>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DossierEvent {
    pub at: String,
    pub action: String,
    pub from_status: Option<i32>,
    pub to_status: i32,
    pub note: String,
}

/// One of the token holder's dossiers: status, due date and timeline.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "Dossier code, e.g. 00004.00.00.H01-261130-0001")),
    responses((status = 200, body = DossierStatus),
        (status = 401, description = "No bearer token, or an unknown or revoked one", body = super::api::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dossier among the token holder's", body = super::api::Problem, content_type = "application/problem+json")))]
pub async fn api_dossier(
    state: web::Data<AppState>,
    ApiUser(user): ApiUser,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = DossierCode::parse(&code)
        .map_err(|_| AppError::NotFound)?
        .to_string();
    let user_id = user.id;
    let (d, (service_code, service_name, office_name), events) =
        with_db(&state, "read a dossier (API)", move |conn| {
            let d = dossiers::find_own(conn, &code, user_id)?.ok_or(AppError::NotFound)?;
            let names = dossiers::names(conn, &d)?;
            let events = dossiers::timeline(conn, d.id)?;
            Ok((d, names, events))
        })
        .await?;
    let iso = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339();
    let body = DossierStatus {
        status: d.status.code(),
        status_text: status_text(&state, Lang::Vi, d.status),
        submitted_at: iso(d.submitted_at),
        due_at: d.due_at.map(iso),
        timeline: events
            .into_iter()
            .map(|e| DossierEvent {
                at: iso(e.at),
                action: e.action,
                from_status: e.from_status,
                to_status: e.to_status,
                note: e.note,
            })
            .collect(),
        code: d.code,
        service_code,
        service_name,
        office_name,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}
