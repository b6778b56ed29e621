//! Routing rules: the list (most specific first within a level), add, edit, delete, the
//! "where would this go?" tester (service + place → office and the rule that decided) and the
//! report of what has no route.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::directory::Place;
use crate::db::routing::{self as routing_db, RuleInput};
use crate::domain::account::parse_line;
use crate::domain::admin::Refusal;
use crate::domain::routing::{Level, Target};
use crate::error::AppError;

/// Longest note on a rule (shown to citizens).
const NOTE_MAX: usize = 300;
/// Gaps listed on the report page (all are counted).
const GAPS_LISTED: usize = 300;

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct RuleForm {
    #[serde(rename = "_csrf", default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    ministry: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, Default)]
pub struct RoutingQuery {
    #[serde(default)]
    done: String,
    // The tester.
    #[serde(default)]
    try_service: String,
    #[serde(default)]
    try_province: String,
    #[serde(default)]
    try_ward: String,
}

#[derive(Serialize)]
struct TrialView {
    service: String,
    name: String,
    rows: Vec<routing_db::Trial>,
}

const NOTICES: [&str; 2] = ["saved", "deleted"];

async fn routing_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    q: &RoutingQuery,
    form: RuleForm,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let service = q.try_service.trim().to_string();
    let place = Place {
        province: Some(q.try_province.trim().to_string()).filter(|p| !p.is_empty()),
        ward: Some(q.try_ward.trim().to_string()).filter(|w| !w.is_empty()),
    };
    let (rules, ministries, fields, departments, trial) =
        with_db(state, "read the routing rules", move |conn| {
            let trial = if service.is_empty() {
                None
            } else {
                Some(
                    routing_db::trial(conn, &service, &place)?
                        .map(|(name, rows)| TrialView {
                            service: service.clone(),
                            name,
                            rows,
                        })
                        .ok_or(service),
                )
            };
            Ok((
                routing_db::list(conn)?,
                routing_db::ministries(conn)?,
                routing_db::field_list(conn)?,
                routing_db::department_keys(conn)?,
                trial,
            ))
        })
        .await?;
    let (trial, trial_error) = match trial {
        Some(Ok(t)) => (Some(t), None),
        Some(Err(code)) => (
            None,
            Some(m("routing_try_unknown").replace("{code}", &code)),
        ),
        None => (None, None),
    };
    let status = if trial_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let notice = NOTICES
        .contains(&q.done.as_str())
        .then(|| format!("routing_done_{}", q.done));
    let levels: Vec<&str> = [Level::Commune, Level::Province, Level::Ministry]
        .map(Level::as_str)
        .to_vec();
    let targets: Vec<&str> = [
        Target::WardCommittee,
        Target::WardPolice,
        Target::ProvinceCommittee,
        Target::Department,
        Target::Ministry,
    ]
    .map(Target::as_str)
    .to_vec();
    page(state, req, lang, "admin/routing.html", status, |ctx| {
        ctx.insert("rules", &rules);
        let as_text = |list: Vec<(i64, String)>| -> Vec<(String, String)> {
            list.into_iter()
                .map(|(id, n)| (id.to_string(), n))
                .collect()
        };
        ctx.insert("ministries", &as_text(ministries));
        ctx.insert("fields", &as_text(fields));
        ctx.insert("departments", &departments);
        ctx.insert("levels", &levels);
        ctx.insert("targets", &targets);
        ctx.insert("form", &form);
        ctx.insert("error", &error);
        ctx.insert("trial", &trial);
        ctx.insert("trial_error", &trial_error);
        ctx.insert("try_service", &q.try_service);
        ctx.insert("try_province", &q.try_province);
        ctx.insert("try_ward", &q.try_ward);
        ctx.insert("notice", &notice);
    })
}

/// GET `/admin/routing`: the rules, the form to add one, the tester.
pub async fn routing(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<RoutingQuery>,
) -> Result<HttpResponse, AppError> {
    routing_page(
        &state,
        &req,
        &query,
        RuleForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// GET `/admin/routing/{id}`: the page with that rule in the form.
pub async fn rule_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = *path;
    let r = with_db(&state, "read a routing rule", move |conn| {
        Ok(routing_db::get(conn, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let form = RuleForm {
        csrf: String::new(),
        id: id.to_string(),
        level: r.level.as_str().into(),
        ministry: r.ministry_id.map(|m| m.to_string()).unwrap_or_default(),
        field: r.field_id.map(|f| f.to_string()).unwrap_or_default(),
        service: r.service_code.unwrap_or_default(),
        target: r.target.as_str().into(),
        department: r.department_key.unwrap_or_default(),
        note: r.note,
    };
    routing_page(
        &state,
        &req,
        &RoutingQuery::default(),
        form,
        None,
        StatusCode::OK,
    )
    .await
}

/// The form as a rule, or the first thing wrong with its shape (message key).
fn parse(form: &RuleForm) -> Result<RuleInput, &'static str> {
    let level = Level::parse(form.level.trim()).ok_or("routing_err_level")?;
    let target = Target::parse(form.target.trim()).ok_or("routing_err_target")?;
    let id = |raw: &str, err: &'static str| -> Result<Option<i64>, &'static str> {
        let t = raw.trim();
        if t.is_empty() {
            Ok(None)
        } else {
            t.parse().map(Some).map_err(|_| err)
        }
    };
    let text = |raw: &str| Some(raw.trim().to_string()).filter(|t| !t.is_empty());
    let note = parse_line(&form.note, NOTE_MAX).map_err(|_| "routing_err_note")?;
    if note.is_empty() {
        return Err("routing_err_note");
    }
    Ok(RuleInput {
        level,
        ministry_id: id(&form.ministry, "routing_unknown_ministry")?,
        field_id: id(&form.field, "routing_unknown_field")?,
        service_code: text(&form.service),
        target,
        department_key: text(&form.department),
        note,
    })
}

/// POST `/admin/routing`: adds a rule, or saves rule `id`.
pub async fn save_rule(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<RuleForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let form = body.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let id: Option<i64> = match form.id.trim() {
        "" => None,
        t => Some(t.parse().map_err(|_| AppError::NotFound)?),
    };
    let input = match parse(&form) {
        Ok(i) => i,
        Err(key) => {
            let q = RoutingQuery::default();
            return routing_page(
                &state,
                &req,
                &q,
                form,
                Some(m(key)),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "save a routing rule", move |conn| {
        Ok(routing_db::save(conn, admin_id, id, &input, &o)?)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other("/admin/routing?done=saved")),
        Err(Refusal::NotFound) => Err(AppError::NotFound),
        Err(r) => {
            routing_page(
                &state,
                &req,
                &RoutingQuery::default(),
                form,
                Some(m(r.message_key())),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    id: i64,
}

/// POST `/admin/routing/delete`.
pub async fn delete_rule(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let id = body.id;
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    with_db(&state, "delete a routing rule", move |conn| {
        Ok(routing_db::delete(conn, admin_id, id, &o)?)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    Ok(see_other("/admin/routing?done=deleted"))
}

/// GET `/admin/routing/gaps`: services × levels no rule routes; department rules × provinces
/// without that department.
pub async fn gaps(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let now = chrono::Utc::now().naive_utc();
    let report = with_db(&state, "report routing gaps", move |conn| {
        Ok(routing_db::gaps(conn, GAPS_LISTED, now)?)
    })
    .await?;
    page(
        &state,
        &req,
        lang,
        "admin/routing_gaps.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("report", &report);
            ctx.insert(
                "total_text",
                &state
                    .messages
                    .text(lang, "routing_gaps_count")
                    .replace("{n}", &report.services_total.to_string())
                    .replace("{listed}", &report.services.len().to_string()),
            );
        },
    )
}
