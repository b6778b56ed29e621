//! Services: find any service, see what it really offers against levels 3 and 4, set its online
//! level (refused with every reason when the service does not offer what the level promises),
//! publish or unpublish it, and read its history. A change moves the catalogue's version: this
//! instance rebuilds its catalogue before answering, others within their poll interval.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::{AuditView, origin};
use crate::db::service_admin::{self as service_db, ServiceRow};
use crate::domain::level::{LevelProblem, check_level};
use crate::error::AppError;

#[derive(Deserialize)]
pub struct ServicesQuery {
    #[serde(default)]
    q: String,
}

/// GET `/admin/services`.
pub async fn services(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<ServicesQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let q = query.q.trim().chars().take(100).collect::<String>();
    let q2 = q.clone();
    let rows = with_db(&state, "find services", move |conn| {
        Ok(service_db::search(conn, &q2, 100)?)
    })
    .await?;
    page(
        &state,
        &req,
        lang,
        "admin/services.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &rows);
            ctx.insert("q", &q);
        },
    )
}

/// The time units of a channel (`domain::calendar::TimeLimit::from_record`'s, and `other`).
const UNITS: [&str; 6] = ["working_days", "days", "hours", "months", "years", "other"];

fn payment_configured(state: &AppState) -> bool {
    let p = &state.settings.payment;
    p.hash_secret.is_some() && !p.pay_url.is_empty() && !p.tmn_code.is_empty()
}

#[derive(Serialize)]
struct LevelCheck {
    level: i32,
    title: String,
    problems: Vec<String>,
}

fn words(state: &AppState, lang: crate::i18n::Lang, p: &LevelProblem) -> String {
    let text = state.messages.text(lang, p.message_key()).to_string();
    match p {
        LevelProblem::Unrouted(level) => text.replace("{level}", level),
        _ => text,
    }
}

#[derive(Deserialize)]
pub struct ServiceQuery {
    #[serde(default)]
    done: String,
}

async fn service_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    code: String,
    refused: Option<(i32, Vec<LevelProblem>)>,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let online_payment = payment_configured(state);
    let (service, facts, history): (ServiceRow, _, (_, Vec<service_db::ChannelRow>)) =
        with_db(state, "read a service", move |conn| {
            let s = service_db::by_code(conn, &code)?.ok_or(AppError::NotFound)?;
            let f = service_db::facts(conn, &s, online_payment)?;
            let h = service_db::history(conn, &s.code, 50)?;
            let c = service_db::channels(conn, s.id)?;
            Ok((s, f, (h, c)))
        })
        .await?;
    let (history, channels) = history;
    let checks: Vec<LevelCheck> = [3, 4]
        .map(|level| LevelCheck {
            level,
            title: String::new(),
            problems: check_level(level, &facts)
                .iter()
                .map(|p| words(state, lang, p))
                .collect(),
        })
        .into();
    let refused = refused.map(|(level, problems)| LevelCheck {
        level,
        title: state
            .messages
            .text(lang, "services_level_refused")
            .replace("{level}", &level.to_string()),
        problems: problems.iter().map(|p| words(state, lang, p)).collect(),
    });
    let history: Vec<AuditView> = history.into_iter().map(AuditView::from).collect();
    let status = if refused.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let notice = notice
        .filter(|n| ["level", "published", "unpublished", "channel"].contains(n))
        .map(|n| format!("services_done_{n}"));
    page(state, req, lang, "admin/service.html", status, |ctx| {
        ctx.insert("s", &service);
        ctx.insert(
            "updated",
            &service.updated_at.format("%d/%m/%Y").to_string(),
        );
        ctx.insert("checks", &checks);
        ctx.insert("refused", &refused);
        ctx.insert("history", &history);
        ctx.insert("notice", &notice);
        ctx.insert("fee", &facts.online_fee);
        ctx.insert("channels", &channels);
        ctx.insert("units", &UNITS);
    })
}

/// GET `/admin/services/{code}`.
pub async fn service(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
    query: web::Query<ServiceQuery>,
) -> Result<HttpResponse, AppError> {
    service_page(
        &state,
        &req,
        path.into_inner(),
        None,
        Some(query.done.as_str()),
    )
    .await
}

#[derive(Deserialize)]
pub struct LevelForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    level: String,
}

/// POST `/admin/services/{code}/level`.
pub async fn set_level(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<LevelForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let level: i32 = body
        .level
        .trim()
        .parse()
        .ok()
        .filter(|l| crate::domain::level::is_valid_level(*l))
        .ok_or(AppError::BadRequest("services_err_level"))?;
    let online_payment = payment_configured(&state);
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    let outcome = with_db(&state, "set a service's online level", move |conn| {
        Ok(service_db::set_level(
            conn,
            admin_id,
            &c2,
            level,
            online_payment,
            &o,
        )?)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    match outcome {
        Ok(()) => {
            super::refresh_catalogue(&state).await?;
            Ok(see_other(&format!("/admin/services/{code}?done=level")))
        }
        Err(problems) => service_page(&state, &req, code, Some((level, problems)), None).await,
    }
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    /// `publish` or `unpublish`.
    #[serde(default)]
    action: String,
}

/// POST `/admin/services/{code}/publish`.
pub async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<String>,
    body: web::Form<PublishForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let code = path.into_inner();
    let published = match body.action.as_str() {
        "publish" => true,
        "unpublish" => false,
        _ => return Err(AppError::BadRequest("admin_bad_action")),
    };
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    with_db(&state, "publish or unpublish a service", move |conn| {
        Ok(service_db::set_published(
            conn, admin_id, &c2, published, &o,
        )?)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    super::refresh_catalogue(&state).await?;
    let notice = if published {
        "published"
    } else {
        "unpublished"
    };
    Ok(see_other(&format!("/admin/services/{code}?done={notice}")))
}

#[derive(Deserialize)]
pub struct ChannelForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    processing_time: String,
    #[serde(default)]
    time_unit: String,
    #[serde(default)]
    fee_vnd: String,
    #[serde(default)]
    fee_text: String,
}

/// POST `/admin/services/{code}/channels/{id}`: a channel's time and fee (empty fee: unknown;
/// 0 is free).
pub async fn set_channel(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    path: web::Path<(String, i64)>,
    body: web::Form<ChannelForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let (code, channel_id) = path.into_inner();
    let time = match body.processing_time.trim().replace(',', ".").as_str() {
        "" => None,
        t => Some(
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0 && *v <= 3650.0)
                .ok_or(AppError::BadRequest("services_err_time"))?,
        ),
    };
    let unit = match body.time_unit.trim() {
        "" => None,
        u if UNITS.contains(&u) => Some(u.to_string()),
        _ => return Err(AppError::BadRequest("services_err_time")),
    };
    let fee = match body.fee_vnd.trim().replace(['.', ' '], "").as_str() {
        "" => None,
        f => Some(
            f.parse::<i64>()
                .ok()
                .filter(|v| (0..=1_000_000_000).contains(v))
                .ok_or(AppError::BadRequest("services_err_fee"))?,
        ),
    };
    let fee_text = crate::domain::account::parse_line(&body.fee_text, 500)
        .map_err(|_| AppError::BadRequest("err_too_long"))?;
    let change = service_db::ChannelChange {
        processing_time: time,
        time_unit: unit,
        fee_vnd: fee,
        fee_text,
    };
    let (o, admin_id, c2) = (origin(&req), admin.0.user.id, code.clone());
    with_db(&state, "change a channel", move |conn| {
        Ok(service_db::set_channel(
            conn, admin_id, &c2, channel_id, &change, &o,
        )?)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    super::refresh_catalogue(&state).await?;
    Ok(see_other(&format!("/admin/services/{code}?done=channel")))
}
