//! The agency workspace: the office's queue (tabs with counts, filters, search, keyset pages),
//! the dossier page for staff with the lifecycle and the hand-overs, and consultations. Every
//! query is scoped by the officer's offices: another office's dossier is "not found".

mod counter;
mod dossier;
mod forms;
mod result;

pub use counter::{counter, start as start_counter};
pub use dossier::{act, dossier, handover};
pub use forms::desk_form;
pub use result::{
    download as result_download, issue as issue_result, result_document, send_result,
};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::account::page;
use super::apply::{local_date, local_time, now};
use super::auth::StaffUser;
use super::{AppState, lang_of, with_db};
use crate::db::workspace::{self, Clock, Cursor, QueueQuery, Search, Sort, Tab};
use crate::domain::calendar::{self, Calendar};
use crate::domain::lifecycle::Actor;
use crate::domain::status::Stage;
use crate::error::AppError;
use crate::i18n::Lang;

pub const PAGE_SIZE: i64 = 25;

fn actor(s: &StaffUser) -> Actor {
    if s.session.role() == crate::domain::account::Role::Lead {
        Actor::Lead
    } else {
        Actor::Officer
    }
}

/// How close a dossier is to its due date, in words and as a class for the colour (the words
/// carry the meaning; the colour only repeats it).
#[derive(Serialize)]
pub struct Urgency {
    pub class: &'static str,
    pub text: String,
}

/// Working days left (negative: overdue by) and its flag: due within one working day is
/// flagged, a paused clock says so.
pub fn urgency(
    state: &AppState,
    lang: Lang,
    cal: &Calendar,
    stage: Stage,
    due: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> Urgency {
    let m = |k: &str| state.messages.text(lang, k).to_string();
    if stage == Stage::Finished {
        return Urgency {
            class: "done",
            text: m("queue_done"),
        };
    }
    if stage == Stage::Waiting {
        return Urgency {
            class: "paused",
            text: m("queue_paused"),
        };
    }
    let Some(due) = due else {
        return Urgency {
            class: "none",
            text: m("receipt_no_due"),
        };
    };
    let today = calendar::to_local(now).date();
    let due_day = calendar::to_local(due).date();
    if due < now {
        let n = cal.working_days_between(due_day, today).max(1);
        return Urgency {
            class: "overdue",
            text: m("queue_overdue_by").replace("{n}", &n.to_string()),
        };
    }
    let n = cal.working_days_between(today, due_day);
    let (class, key) = match n {
        0 => ("soon", "queue_due_today"),
        1 => ("soon", "queue_due_in"),
        _ => ("ok", "queue_due_in"),
    };
    Urgency {
        class,
        text: m(key).replace("{n}", &n.to_string()),
    }
}

#[derive(Deserialize, Default)]
pub struct QueueParams {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    officer: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

#[derive(Serialize)]
struct Row {
    code: String,
    applicant: String,
    status: String,
    service: String,
    channel: String,
    submitted: String,
    due: Option<String>,
    urgency: Urgency,
    assignee: Option<String>,
}

#[derive(Serialize)]
struct TabView {
    key: &'static str,
    label: String,
    count: i64,
    current: bool,
}

fn parse_date(raw: &str) -> Result<Option<NaiveDate>, ()> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| ())
}

/// GET `/staff`: the office's queue.
pub async fn queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    params: web::Query<QueueParams>,
) -> Result<HttpResponse, AppError> {
    let p = params.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let mut errors: Vec<String> = Vec::new();
    let tab: Tab = p.tab.parse().unwrap_or(Tab::New);
    let sort: Sort = p.sort.parse().unwrap_or(Sort::Due);
    let from = parse_date(&p.from).unwrap_or_else(|_| {
        errors.push(m("queue_bad_from"));
        None
    });
    let to = parse_date(&p.to).unwrap_or_else(|_| {
        errors.push(m("queue_bad_to"));
        None
    });
    let officer: Option<i64> = p.officer.trim().parse().ok();
    let search = Search::parse(&p.q.chars().take(200).collect::<String>());
    let after = Cursor::parse(&p.after);
    let offices = staff.offices.clone();
    let me = staff.session.user.id;
    let service_code = p.service.trim().to_string();
    let now = now();
    let lead = actor(&staff) == Actor::Lead;
    let st = state.clone();
    let (rows, next, counts, members, cal, service_names, unknown_service, settings) =
        with_db(&state, "list an office's queue", move |conn| {
            let cal = st.calendar(conn)?;
            let clock = Clock::at(now, &cal);
            let service_id: Option<i64> = if service_code.is_empty() {
                None
            } else {
                workspace::service_id(conn, &service_code)?
            };
            let unknown_service = !service_code.is_empty() && service_id.is_none();
            let q = QueueQuery {
                offices: &offices,
                me,
                tab,
                sort,
                service_id: if unknown_service {
                    Some(-1)
                } else {
                    service_id
                },
                officer,
                from,
                to,
                search,
                after,
                limit: PAGE_SIZE,
                clock,
            };
            let (rows, next) = workspace::queue(conn, &q)?;
            let counts = workspace::counts(conn, &offices, me, clock)?;
            let members = workspace::members(conn, &offices)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.service_id).collect();
            let names = workspace::service_codes(conn, &ids)?;
            let settings = if lead {
                workspace::office_settings(conn, &offices)?
            } else {
                Vec::new()
            };
            Ok((
                rows,
                next,
                counts,
                members,
                cal,
                names,
                unknown_service,
                settings,
            ))
        })
        .await?;
    if unknown_service {
        errors.push(m("queue_unknown_service"));
    }
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            status: m(&r.status.message_key()),
            service: service_names
                .iter()
                .find(|(id, _)| *id == r.service_id)
                .map(|(_, c)| c.clone())
                .unwrap_or_default(),
            channel: m(&format!("channel_{}", r.channel)),
            submitted: local_time(r.submitted_at, lang),
            due: r.due_at.map(local_date),
            urgency: urgency(&state, lang, &cal, r.status.stage(), r.due_at, now),
            assignee: r.assigned_to.and_then(|u| {
                members
                    .iter()
                    .find(|x| x.user_id == u)
                    .map(|x| x.name.clone())
            }),
            applicant: r.applicant_name,
            code: r.code,
        })
        .collect();
    let tabs: Vec<TabView> = counts
        .into_iter()
        .map(|(t, n)| TabView {
            key: t.as_str(),
            label: m(&format!("queue_tab_{}", t.as_str())),
            count: n,
            current: t == tab,
        })
        .collect();
    // The link to the next page keeps every filter.
    let mut qs = form_urlencoded::Serializer::new(String::new());
    qs.append_pair("tab", tab.as_str());
    qs.append_pair("sort", sort.into());
    for (k, v) in [
        ("service", &p.service),
        ("officer", &p.officer),
        ("from", &p.from),
        ("to", &p.to),
        ("q", &p.q),
    ] {
        if !v.trim().is_empty() {
            qs.append_pair(k, v.trim());
        }
    }
    let base_query = qs.finish();
    let next = next.map(|c| {
        format!(
            "/staff?{base_query}&after={}",
            form_urlencoded::byte_serialize(c.encode().as_bytes()).collect::<String>()
        )
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(&state, &req, lang, "staff/queue.html", status, |ctx| {
        ctx.insert("rows", &rows);
        ctx.insert("tabs", &tabs);
        ctx.insert("tab", tab.as_str());
        ctx.insert("sort", <&str>::from(sort));
        ctx.insert("members", &members);
        ctx.insert("next", &next);
        ctx.insert("errors", &errors);
        ctx.insert("first_page", &p.after.is_empty());
        ctx.insert("f_service", &p.service);
        ctx.insert("f_officer", &officer);
        ctx.insert("f_from", &p.from);
        ctx.insert("f_to", &p.to);
        ctx.insert("f_q", &p.q.chars().take(200).collect::<String>());
        ctx.insert("me", &me);
        ctx.insert("office_settings", &settings);
    })
}

/// GET `/staff/consultations`: opinions other offices asked of this one.
pub async fn consultations(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
) -> Result<HttpResponse, AppError> {
    let offices = staff.offices.clone();
    let list = with_db(&state, "list consultations", move |conn| {
        Ok(workspace::consultations_for(conn, &offices, 100)?)
    })
    .await?;
    let lang = lang_of(&req);
    #[derive(Serialize)]
    struct C {
        id: i64,
        code: String,
        from: String,
        question: String,
        asked: String,
        answer: Option<String>,
    }
    let list: Vec<C> = list
        .into_iter()
        .map(|c| C {
            id: c.id,
            code: c.code,
            from: c.from_office,
            question: c.question,
            asked: local_time(c.asked_at, lang),
            answer: c.answer,
        })
        .collect();
    page(
        &state,
        &req,
        lang,
        "staff/consultations.html",
        StatusCode::OK,
        |ctx| ctx.insert("consultations", &list),
    )
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    answer: String,
}

/// POST `/staff/consultations/{id}`: the asked office's answer.
pub async fn answer(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    id: web::Path<i64>,
    body: web::Form<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    super::auth::check_csrf(&req, &body.csrf)?;
    let offices = staff.offices.clone();
    let me = staff.session.user.id;
    let id = id.into_inner();
    let text: String = body.answer.chars().take(4000).collect();
    let r = with_db(&state, "answer a consultation", move |conn| {
        Ok(workspace::answer_consultation(
            conn,
            id,
            &offices,
            me,
            &text,
            now(),
        ))
    })
    .await?;
    use crate::db::dossiers::MoveError;
    match r {
        Ok(_) => Ok(super::redirect::see_other("/staff/consultations")),
        Err(MoveError::NotFound) => Err(AppError::NotFound),
        Err(MoveError::Db(e)) => Err(AppError::Internal(e)),
        Err(MoveError::NoteRequired) => Err(AppError::BadRequest("consult_answer_required")),
        Err(_) => Err(AppError::BadRequest("workspace_already_answered")),
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    office: i64,
    #[serde(default)]
    auto_assign: String,
}

/// POST `/staff/settings`: a lead turns automatic assignment of new dossiers on or off for one
/// of their offices.
pub async fn settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffUser,
    body: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    super::auth::check_csrf(&req, &body.csrf)?;
    if actor(&staff) != Actor::Lead {
        return Err(AppError::Forbidden);
    }
    if !staff.offices.contains(&body.office) {
        return Err(AppError::NotFound);
    }
    let (office, on) = (body.office, body.auto_assign == "on");
    with_db(
        &state,
        "change an office's assignment setting",
        move |conn| Ok(workspace::set_auto_assign(conn, office, on)?),
    )
    .await?;
    Ok(super::redirect::see_other("/staff"))
}
