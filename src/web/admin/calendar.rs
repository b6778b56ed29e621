//! The calendar: public holidays per year (add, edit, delete, import a CSV of the
//! `data/holidays.csv` shape), the default office hours, and a due-date preview ("filed on … at
//! …, n working days → due …") computed with the calendar as it stands.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::super::account::page;
use super::super::auth::{AdminUser, check_csrf};
use super::super::redirect::see_other;
use super::super::{AppState, lang_of, with_db};
use super::origin;
use crate::db::calendar::{self as cal_db, HolidayRow, ImportReport};
use crate::domain::account::parse_line;
use crate::domain::admin::Refusal;
use crate::domain::calendar::{OfficeHours, TimeLimit};
use crate::error::AppError;

/// Largest holidays file accepted (the seed file is 3 KB).
const IMPORT_MAX_BYTES: usize = 256 * 1024;
/// Longest holiday name.
const NAME_MAX: usize = 200;

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    done: String,
    // The due-date preview.
    #[serde(default)]
    filed_on: String,
    #[serde(default)]
    filed_at: String,
    #[serde(default)]
    days: String,
}

#[derive(Serialize, Default)]
struct HolidayForm {
    original: String,
    day: String,
    name_vi: String,
    name_en: String,
}

/// What the calendar page shows besides the holidays: a form's errors and what was typed.
#[derive(Default)]
struct PageState {
    holiday: HolidayForm,
    holiday_errors: Vec<String>,
    hours: Option<String>,
    hours_error: Option<String>,
    import_errors: Vec<String>,
    import_report: Option<ImportReport>,
}

const NOTICES: [&str; 4] = ["saved", "deleted", "hours", "imported"];

async fn calendar_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    q: &CalendarQuery,
    s: PageState,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let this_year = chrono::Utc::now().year();
    let year: i32 = q
        .year
        .trim()
        .parse()
        .ok()
        .filter(|y| (1900..=2200).contains(y))
        .unwrap_or(this_year);
    let (years, holidays, hours, calendar) = with_db(state, "read the calendar", move |conn| {
        let (years, holidays) = cal_db::of_year(conn, year)?;
        Ok((
            years,
            holidays,
            cal_db::office_hours(conn)?,
            cal_db::calendar(conn)?,
        ))
    })
    .await?;
    let mut years = years;
    if !years.contains(&year) {
        years.push(year);
        years.sort_unstable();
    }
    // The preview, when asked for: every input named when it is wrong.
    let mut preview_errors: Vec<String> = Vec::new();
    let mut preview: Option<String> = None;
    let asked = !(q.filed_on.is_empty() && q.filed_at.is_empty() && q.days.is_empty());
    if asked {
        let on = NaiveDate::parse_from_str(q.filed_on.trim(), "%Y-%m-%d").ok();
        let at = NaiveTime::parse_from_str(q.filed_at.trim(), "%H:%M").ok();
        let days = q
            .days
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=365).contains(d));
        if on.is_none() {
            preview_errors.push(m("calendar_err_filed_on"));
        }
        if at.is_none() {
            preview_errors.push(m("calendar_err_filed_at"));
        }
        if days.is_none() {
            preview_errors.push(m("calendar_err_days"));
        }
        if let (Some(on), Some(at), Some(days)) = (on, at, days) {
            let due = calendar.due(on.and_time(at), TimeLimit::WorkingDays(days));
            preview = Some(
                m("calendar_preview_result")
                    .replace(
                        "{filed}",
                        &format!("{} {}", on.format("%d/%m/%Y"), at.format("%H:%M")),
                    )
                    .replace("{days}", &days.to_string())
                    .replace("{due}", &due.format("%H:%M %d/%m/%Y").to_string()),
            );
        }
    }
    let status = if preview_errors.is_empty() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    let notice = NOTICES
        .contains(&q.done.as_str())
        .then(|| format!("calendar_done_{}", q.done));
    page(state, req, lang, "admin/calendar.html", status, |ctx| {
        ctx.insert("year", &year);
        ctx.insert("years", &years);
        ctx.insert("holidays", &holidays);
        ctx.insert("holiday", &s.holiday);
        ctx.insert("holiday_errors", &s.holiday_errors);
        ctx.insert("hours", &s.hours.unwrap_or_else(|| hours.format()));
        ctx.insert("hours_error", &s.hours_error);
        ctx.insert("import_errors", &s.import_errors);
        ctx.insert(
            "import_report",
            &s.import_report.map(|r| {
                m("calendar_imported")
                    .replace("{added}", &r.added.to_string())
                    .replace("{changed}", &r.changed.to_string())
                    .replace("{unchanged}", &r.unchanged.to_string())
            }),
        );
        ctx.insert("preview", &preview);
        ctx.insert("preview_errors", &preview_errors);
        ctx.insert("f_filed_on", &q.filed_on);
        ctx.insert("f_filed_at", &q.filed_at);
        ctx.insert("f_days", &q.days);
        ctx.insert("notice", &notice);
    })
}

/// GET `/admin/calendar`: a year's holidays, the forms, the due-date preview.
pub async fn calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    query: web::Query<CalendarQuery>,
) -> Result<HttpResponse, AppError> {
    calendar_page(&state, &req, &query, PageState::default(), StatusCode::OK).await
}

/// GET `/admin/calendar/holidays/{day}`: the calendar with that holiday in the edit form.
pub async fn holiday_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    _admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let day = NaiveDate::parse_from_str(&path, "%Y-%m-%d").map_err(|_| AppError::NotFound)?;
    let h = with_db(&state, "read a holiday", move |conn| {
        Ok(cal_db::holiday(conn, day)?)
    })
    .await?
    .ok_or(AppError::NotFound)?;
    let q = CalendarQuery {
        year: day.year().to_string(),
        ..CalendarQuery::default()
    };
    let s = PageState {
        holiday: HolidayForm {
            original: h.day.to_string(),
            day: h.day.to_string(),
            name_vi: h.name_vi,
            name_en: h.name_en,
        },
        ..PageState::default()
    };
    calendar_page(&state, &req, &q, s, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct HolidaySubmit {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    original: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
}

fn year_of(day: &str) -> String {
    day.get(..4).unwrap_or("").to_string()
}

/// POST `/admin/calendar/holidays`: adds a holiday, or edits the one on `original`.
pub async fn save_holiday(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<HolidaySubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let b = body.into_inner();
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let mut errors = Vec::new();
    let day = NaiveDate::parse_from_str(b.day.trim(), "%Y-%m-%d").ok();
    if day.is_none() {
        errors.push(m("calendar_err_day"));
    }
    let name = |raw: &str| {
        parse_line(raw, NAME_MAX)
            .ok()
            .filter(|n: &String| !n.is_empty())
    };
    let (name_vi, name_en) = (name(&b.name_vi), name(&b.name_en));
    if name_vi.is_none() {
        errors.push(m("calendar_err_name_vi"));
    }
    if name_en.is_none() {
        errors.push(m("calendar_err_name_en"));
    }
    let original = if b.original.trim().is_empty() {
        None
    } else {
        Some(
            NaiveDate::parse_from_str(b.original.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::NotFound)?,
        )
    };
    let form = HolidayForm {
        original: b.original.trim().to_string(),
        day: b.day.trim().to_string(),
        name_vi: b.name_vi.clone(),
        name_en: b.name_en.clone(),
    };
    let q = CalendarQuery {
        year: year_of(b.day.trim()),
        ..CalendarQuery::default()
    };
    let (Some(day), Some(name_vi), Some(name_en)) = (day, name_vi, name_en) else {
        let s = PageState {
            holiday: form,
            holiday_errors: errors,
            ..PageState::default()
        };
        return calendar_page(&state, &req, &q, s, StatusCode::BAD_REQUEST).await;
    };
    let row = HolidayRow {
        day,
        name_vi,
        name_en,
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "save a holiday", move |conn| {
        Ok(cal_db::save(conn, admin_id, original, &row, &o)?)
    })
    .await?;
    match outcome {
        Ok(()) => {
            state.forget_calendar();
            Ok(see_other(&format!(
                "/admin/calendar?year={}&done=saved",
                day.year()
            )))
        }
        Err(Refusal::NotFound) => Err(AppError::NotFound),
        Err(r) => {
            let s = PageState {
                holiday: form,
                holiday_errors: vec![m(r.message_key())],
                ..PageState::default()
            };
            calendar_page(&state, &req, &q, s, StatusCode::BAD_REQUEST).await
        }
    }
}

#[derive(Deserialize)]
pub struct DeleteSubmit {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    day: String,
}

/// POST `/admin/calendar/holidays/delete`.
pub async fn delete_holiday(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<DeleteSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let day =
        NaiveDate::parse_from_str(body.day.trim(), "%Y-%m-%d").map_err(|_| AppError::NotFound)?;
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let outcome = with_db(&state, "delete a holiday", move |conn| {
        Ok(cal_db::delete(conn, admin_id, day, &o)?)
    })
    .await?;
    outcome.map_err(|_| AppError::NotFound)?;
    state.forget_calendar();
    Ok(see_other(&format!(
        "/admin/calendar?year={}&done=deleted",
        day.year()
    )))
}

#[derive(Deserialize)]
pub struct HoursSubmit {
    #[serde(rename = "_csrf", default)]
    csrf: String,
    #[serde(default)]
    hours: String,
}

/// POST `/admin/calendar/hours`: the default office hours (`07:00-11:30, 13:30-17:00`).
pub async fn set_hours(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    body: web::Form<HoursSubmit>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &body.csrf)?;
    let lang = lang_of(&req);
    let Some(hours) = OfficeHours::parse(&body.hours) else {
        let s = PageState {
            hours: Some(body.hours.clone()),
            hours_error: Some(state.messages.text(lang, "calendar_err_hours").to_string()),
            ..PageState::default()
        };
        return calendar_page(
            &state,
            &req,
            &CalendarQuery::default(),
            s,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    with_db(&state, "set the office hours", move |conn| {
        Ok(cal_db::set_office_hours(conn, admin_id, &hours, &o)?)
    })
    .await?;
    state.forget_calendar();
    Ok(see_other("/admin/calendar?done=hours"))
}

/// POST `/admin/calendar/import` (multipart: `_csrf`, `file`): adds or renames the file's
/// holidays in one transaction; a file with any bad line changes nothing and every bad line is
/// listed.
pub async fn import_holidays(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: AdminUser,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let parts =
        super::super::multipart::read_small(&req, payload, IMPORT_MAX_BYTES, "calendar_too_large")
            .await?;
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let text = parts
        .get("file")
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let rows = match crate::seed::parse_holidays(&text) {
        Ok(rows) => rows,
        Err(errors) => {
            let s = PageState {
                import_errors: errors
                    .into_iter()
                    .map(|(line, key)| {
                        m("calendar_import_line")
                            .replace("{line}", &line.to_string())
                            .replace("{error}", &m(key))
                    })
                    .collect(),
                ..PageState::default()
            };
            return calendar_page(
                &state,
                &req,
                &CalendarQuery::default(),
                s,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let (o, admin_id) = (origin(&req), admin.0.user.id);
    let report = with_db(&state, "import holidays", move |conn| {
        Ok(cal_db::import(conn, admin_id, &rows, &o)?)
    })
    .await?;
    state.forget_calendar();
    let s = PageState {
        import_report: Some(report),
        ..PageState::default()
    };
    calendar_page(&state, &req, &CalendarQuery::default(), s, StatusCode::OK).await
}
