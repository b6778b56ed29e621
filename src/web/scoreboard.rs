//! The public scoreboard (no login): per period (year, quarter, month), the dossier indicators
//! of shared/domain.md §7 for the portal, per ministry, per province and per office (a ranking
//! with the counts behind every share), each office, province and ministry on its own page with
//! its months; and the catalogue indicators per ministry. Charts are SVG drawn on the server,
//! each with its data table; every figure links to its definition in plain words. The figures
//! come from the cells kept incrementally (`db::stats`): a page is a handful of small reads.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::account::page;
use super::{AppState, lang_of};
use crate::db::stats;
use crate::domain::indicators::{self, Figures, Tally};
use crate::domain::open311::escape;
use crate::domain::scoreboard::{self, CatalogueRow, share};
use crate::error::AppError;
use crate::i18n::Lang;

/// The catalogue rows of the moment: ministries, then the portal.
pub fn catalogue_rows(state: &AppState, portal_name: &str) -> Vec<CatalogueRow> {
    let cat = state.catalogue();
    scoreboard::catalogue(
        cat.services.iter().map(|s| {
            (
                s.ministry_code.as_str(),
                s.ministry.as_str(),
                s.online_level,
                s.fee_vnd,
            )
        }),
        portal_name,
    )
}

#[derive(Serialize)]
struct RowView<'a> {
    row: &'a CatalogueRow,
    online_pct: f64,
    full_pct: f64,
    fee_online_pct: f64,
}

/// Horizontal bars: the share offered online, and inside it the share fully online.
fn chart(rows: &[CatalogueRow], title: &str, legend: (&str, &str)) -> String {
    let (bar, gap, label_w, width) = (18.0, 8.0, 330.0, 320.0);
    let height = 40.0 + rows.len() as f64 * (bar + gap);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {} {height}\" width=\"100%\"><title id=\"chart-title\">{}</title>",
        label_w + width + 60.0,
        escape(title)
    );
    svg.push_str(&format!(
        "<rect x=\"0\" y=\"4\" width=\"14\" height=\"14\" fill=\"#7aa6dd\"/><text x=\"20\" y=\"16\" font-size=\"13\" fill=\"#1b1b1b\">{}</text><rect x=\"260\" y=\"4\" width=\"14\" height=\"14\" fill=\"#1d4f91\"/><text x=\"280\" y=\"16\" font-size=\"13\" fill=\"#1b1b1b\">{}</text>",
        escape(legend.0),
        escape(legend.1)
    ));
    for (i, r) in rows.iter().enumerate() {
        let y = 32.0 + i as f64 * (bar + gap);
        let online = share(r.online, r.total);
        let full = share(r.full, r.total);
        let name: String = r.name.chars().take(44).collect();
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" font-size=\"12\" fill=\"#1b1b1b\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{:.1}\" height=\"{bar}\" fill=\"#7aa6dd\"/><rect x=\"{label_w}\" y=\"{y}\" width=\"{:.1}\" height=\"{bar}\" fill=\"#1d4f91\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1b1b1b\">{online:.1}%</text>",
            y + 13.0,
            escape(&name),
            width * online / 100.0,
            width * full / 100.0,
            label_w + width + 6.0,
            y + 13.0,
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The scopes of the dossier indicators, as they appear in URLs and files.
pub const SCOPES: [(&str, &str); 4] = [
    ("portal", "portal"),
    ("ministries", "ministry"),
    ("provinces", "province"),
    ("offices", "office"),
];

/// The scope kept in `stat_cells` for a plural URL word.
pub fn scope_of(plural: &str) -> Option<&'static str> {
    SCOPES.iter().find(|(p, _)| *p == plural).map(|(_, s)| *s)
}

#[derive(Deserialize)]
pub struct BoardQuery {
    pub period: Option<String>,
    pub page: Option<u32>,
}

/// The period asked (`2026`, `2026-Q1`, `2026-03`), else the current year; a period that cannot
/// be read is a 400 that says the shapes.
pub fn period_of(raw: Option<&str>) -> Result<String, AppError> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(
            crate::domain::calendar::to_local(chrono::Utc::now().naive_utc())
                .format("%Y")
                .to_string(),
        ),
        Some(p) => indicators::parse_period(p).ok_or(AppError::BadRequest("scoreboard_bad_period")),
    }
}

/// A period in words.
pub fn period_label(state: &AppState, lang: Lang, period: &str) -> String {
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let year = &period[..4];
    match period.len() {
        7 if period.as_bytes()[5] == b'Q' => m("scoreboard_quarter_label")
            .replace("{q}", &period[6..])
            .replace("{y}", year),
        7 => m("scoreboard_month_label")
            .replace("{m}", &period[5..])
            .replace("{y}", year),
        _ => m("scoreboard_year_label").replace("{y}", year),
    }
}

/// One office, province, ministry or the portal: its key (office or ministry id, province code,
/// empty for the portal), name and figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScopeRow {
    pub key: String,
    pub name: String,
    pub figures: Figures,
}

/// Every key of a scope with dossiers received in the period, ranked: on-time rate first (rows
/// without an assessed dossier last), then more dossiers, then the name.
pub fn scope_rows(
    conn: &mut crate::db::DbConnection,
    scope: &str,
    period: &str,
    portal_name: &str,
) -> diesel::QueryResult<Vec<ScopeRow>> {
    if scope == "portal" {
        let t = stats::cell(conn, "portal", "", period)?;
        return Ok(vec![ScopeRow {
            key: String::new(),
            name: portal_name.to_string(),
            figures: indicators::figures(&t),
        }]);
    }
    let cells: Vec<(String, Tally)> = stats::cells(conn, scope, period)?
        .into_iter()
        .filter(|(_, t)| t.0[indicators::RECEIVED] > 0)
        .collect();
    let keys: Vec<String> = cells.iter().map(|(k, _)| k.clone()).collect();
    let names = stats::names(conn, scope, &keys)?;
    let mut rows: Vec<ScopeRow> = cells
        .into_iter()
        .map(|(key, t)| ScopeRow {
            name: names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            key,
            figures: indicators::figures(&t),
        })
        .collect();
    rows.sort_by(|a, b| {
        let rate = |r: &ScopeRow| r.figures.on_time_pct.unwrap_or(-1.0);
        rate(b)
            .total_cmp(&rate(a))
            .then(b.figures.received.cmp(&a.figures.received))
            .then(a.name.cmp(&b.name))
    });
    Ok(rows)
}

/// A share with the counts it is made of: `87.5% (35/40)`, or `—` with nothing to divide.
fn with_counts(p: Option<f64>, part: i64, whole: i64) -> String {
    match p {
        Some(v) => format!("{v:.1}% ({part}/{whole})"),
        None => "—".to_string(),
    }
}

/// A row as the tables show it.
#[derive(Serialize)]
pub struct Shown {
    pub key: String,
    pub name: String,
    pub href: String,
    pub rank: usize,
    pub received: i64,
    pub online: String,
    pub counter: i64,
    pub post: i64,
    pub finished: i64,
    pub open: i64,
    pub withdrawn: i64,
    pub on_time: String,
    pub late: i64,
    pub overdue_now: i64,
    pub avg_days: String,
    pub paid_online: String,
    pub e_result: String,
    pub satisfaction: String,
    pub rated: i64,
    pub negative: i64,
    pub indicators: Vec<String>,
}

fn shown(r: &ScopeRow, scope: &str, period: &str, rank: usize) -> Shown {
    let f = &r.figures;
    let assessed = f.received - f.withdrawn;
    Shown {
        key: r.key.clone(),
        name: r.name.clone(),
        href: if scope == "portal" {
            format!("/scoreboard?period={period}")
        } else {
            format!("/scoreboard/{scope}/{}?period={period}", r.key)
        },
        rank,
        received: f.received,
        online: with_counts(f.online_pct, f.online, f.received),
        counter: f.counter,
        post: f.post,
        finished: f.finished,
        open: f.open,
        withdrawn: f.withdrawn,
        on_time: with_counts(f.on_time_pct, f.on_time, assessed),
        late: f.late,
        overdue_now: f.overdue_now,
        avg_days: f.avg_days.map_or("—".to_string(), |d| format!("{d:.1}")),
        paid_online: with_counts(f.paid_online_pct, f.paid_online, f.charged),
        e_result: with_counts(f.e_result_pct, f.e_result, f.with_result),
        satisfaction: f
            .satisfaction
            .map_or("—".to_string(), |s| format!("{s:.1}%")),
        rated: f.rated,
        negative: f.negative,
        indicators: f
            .indicators
            .iter()
            .map(|a| a.map_or("—".to_string(), |v| format!("{v:.2}")))
            .collect(),
    }
}

/// The months of a period's year as bars of the on-time rate, the count received under each.
fn month_chart(series: &[(String, Tally)], title: &str) -> String {
    let (w, h, bar_w, top, base) = (640.0, 240.0, 36.0, 24.0, 190.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-labelledby=\"month-chart-title\" viewBox=\"0 0 {w} {h}\" width=\"100%\"><title id=\"month-chart-title\">{}</title>",
        escape(title)
    );
    svg.push_str(&format!(
        "<line x1=\"30\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#1b1b1b\"/><text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#1b1b1b\">100%</text><text x=\"8\" y=\"{base}\" font-size=\"11\" fill=\"#1b1b1b\">0%</text>",
        w - 4.0,
        top + 4.0
    ));
    for (i, (month, t)) in series.iter().enumerate() {
        let f = indicators::figures(t);
        let x = 40.0 + i as f64 * (bar_w + 14.0);
        let label = &month[5..];
        if let Some(p) = f.on_time_pct {
            let bh = (base - top) * p / 100.0;
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"{:.1}\" width=\"{bar_w}\" height=\"{bh:.1}\" fill=\"#1d4f91\"/><text x=\"{x}\" y=\"{:.1}\" font-size=\"10\" fill=\"#1b1b1b\">{p:.0}%</text>",
                base - bh,
                base - bh - 3.0
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{x}\" y=\"{}\" font-size=\"11\" fill=\"#1b1b1b\">{label}</text><text x=\"{x}\" y=\"{}\" font-size=\"10\" fill=\"#1b1b1b\">n={}</text>",
            base + 16.0,
            base + 30.0,
            f.received
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[derive(Serialize)]
struct PeriodOption {
    value: String,
    label: String,
    selected: bool,
}

fn period_options(
    state: &AppState,
    lang: Lang,
    years: &[String],
    period: &str,
) -> Vec<PeriodOption> {
    let mut years: Vec<String> = years.to_vec();
    for y in [
        period[..4].to_string(),
        crate::domain::calendar::to_local(chrono::Utc::now().naive_utc())
            .format("%Y")
            .to_string(),
    ] {
        if !years.contains(&y) {
            years.push(y);
        }
    }
    years.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = Vec::new();
    for y in &years {
        let mut values = vec![y.clone()];
        values.extend((1..=4).map(|q| format!("{y}-Q{q}")));
        values.extend((1..=12).map(|m| format!("{y}-{m:02}")));
        for v in values {
            out.push(PeriodOption {
                label: period_label(state, lang, &v),
                selected: v == period,
                value: v,
            });
        }
    }
    out
}

/// Everything the scoreboard page reads from the database.
struct Board {
    portal: ScopeRow,
    ministries: Vec<ScopeRow>,
    provinces: Vec<ScopeRow>,
    offices: Vec<ScopeRow>,
    months: Vec<(String, Tally)>,
    years: Vec<String>,
}

/// How many offices the scoreboard page ranks (the rest on `/scoreboard/offices`).
const TOP_OFFICES: usize = 20;
/// Offices per page of the full ranking.
const RANKING_PAGE: usize = 100;

/// GET `/scoreboard`.
pub async fn index(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let period = period_of(q.period.as_deref())?;
    let portal_name = m("scoreboard_portal");
    let board = {
        let (period, portal_name) = (period.clone(), portal_name.clone());
        super::with_db(&state, "read the scoreboard", move |conn| {
            let portal = scope_rows(conn, "portal", &period, &portal_name)?.remove(0);
            Ok(Board {
                portal,
                ministries: scope_rows(conn, "ministry", &period, "")?,
                provinces: scope_rows(conn, "province", &period, "")?,
                offices: scope_rows(conn, "office", &period, "")?,
                months: stats::series(conn, "portal", "", &indicators::months_of(&period[..4]))?,
                years: stats::years(conn)?,
            })
        })
        .await?
    };
    let rows = catalogue_rows(&state, &portal_name);
    let views: Vec<RowView> = rows
        .iter()
        .map(|r| RowView {
            row: r,
            online_pct: share(r.online, r.total),
            full_pct: share(r.full, r.total),
            fee_online_pct: share(r.fee_online, r.fee_charging),
        })
        .collect();
    let svg = chart(
        &rows,
        &m("scoreboard_chart_title"),
        (&m("scoreboard_online"), &m("scoreboard_full")),
    );
    let label = period_label(&state, lang, &period);
    let months_svg = month_chart(
        &board.months,
        &m("scoreboard_month_chart_title").replace("{y}", &period[..4]),
    );
    let months: Vec<Shown> = board
        .months
        .iter()
        .map(|(p, t)| {
            let row = ScopeRow {
                key: p.clone(),
                name: period_label(&state, lang, p),
                figures: indicators::figures(t),
            };
            shown(&row, "portal", p, 0)
        })
        .collect();
    let list = |rows: &[ScopeRow], scope: &str, limit: usize| -> Vec<Shown> {
        rows.iter()
            .take(limit)
            .enumerate()
            .map(|(i, r)| shown(r, scope, &period, i + 1))
            .collect()
    };
    let portal = shown(&board.portal, "portal", &period, 0);
    let ministries = list(&board.ministries, "ministries", usize::MAX);
    let provinces = list(&board.provinces, "provinces", usize::MAX);
    let offices = list(&board.offices, "offices", TOP_OFFICES);
    let options = period_options(&state, lang, &board.years, &period);
    let offices_total = board.offices.len();
    page(
        &state,
        &req,
        lang,
        "scoreboard.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &views);
            ctx.insert("chart", &svg);
            ctx.insert("period", &period);
            ctx.insert("period_label", &label);
            ctx.insert("periods", &options);
            ctx.insert("portal", &portal);
            ctx.insert("months", &months);
            ctx.insert("months_chart", &months_svg);
            ctx.insert("ministries", &ministries);
            ctx.insert("provinces", &provinces);
            ctx.insert("offices", &offices);
            ctx.insert("offices_total", &offices_total);
            ctx.insert("indicator_keys", &crate::domain::rating::INDICATORS);
        },
    )
}

/// GET `/scoreboard/offices`: every office with dossiers in the period, ranked, with its counts.
pub async fn ranking(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let period = period_of(q.period.as_deref())?;
    let (rows, years) = {
        let period = period.clone();
        super::with_db(&state, "read the office ranking", move |conn| {
            Ok((
                scope_rows(conn, "office", &period, "")?,
                stats::years(conn)?,
            ))
        })
        .await?
    };
    let total = rows.len();
    let pages = total.div_ceil(RANKING_PAGE).max(1);
    let page_no = (q.page.unwrap_or(1) as usize).clamp(1, pages);
    let shown_rows: Vec<Shown> = rows
        .iter()
        .enumerate()
        .skip((page_no - 1) * RANKING_PAGE)
        .take(RANKING_PAGE)
        .map(|(i, r)| shown(r, "offices", &period, i + 1))
        .collect();
    let label = period_label(&state, lang, &period);
    let options = period_options(&state, lang, &years, &period);
    page(
        &state,
        &req,
        lang,
        "scoreboard_offices.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("period", &period);
            ctx.insert("period_label", &label);
            ctx.insert("periods", &options);
            ctx.insert("offices", &shown_rows);
            ctx.insert("total", &total);
            ctx.insert("page_no", &page_no);
            ctx.insert("pages", &pages);
        },
    )
}

/// GET `/scoreboard/{scope}/{key}`: one office, province or ministry: its figures for the
/// period, the nine rating indicators, and its year month by month.
pub async fn detail(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let (plural, key) = path.into_inner();
    let scope = scope_of(&plural)
        .filter(|s| *s != "portal")
        .ok_or(AppError::NotFound)?;
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let period = period_of(q.period.as_deref())?;
    let (name, tally, months, years) = {
        let (period, key) = (period.clone(), key.clone());
        super::with_db(&state, "read a scoreboard page", move |conn| {
            let name = stats::names(conn, scope, std::slice::from_ref(&key))?
                .remove(&key)
                .ok_or(AppError::NotFound)?;
            Ok((
                name,
                stats::cell(conn, scope, &key, &period)?,
                stats::series(conn, scope, &key, &indicators::months_of(&period[..4]))?,
                stats::years(conn)?,
            ))
        })
        .await?
    };
    let row = ScopeRow {
        key: key.clone(),
        name: name.clone(),
        figures: indicators::figures(&tally),
    };
    let this = shown(&row, &plural, &period, 0);
    let months_svg = month_chart(
        &months,
        &m("scoreboard_month_chart_title").replace("{y}", &period[..4]),
    );
    let months: Vec<Shown> = months
        .iter()
        .map(|(p, t)| {
            let r = ScopeRow {
                key: p.clone(),
                name: period_label(&state, lang, p),
                figures: indicators::figures(t),
            };
            shown(&r, &plural, p, 0)
        })
        .collect();
    let label = period_label(&state, lang, &period);
    let options = period_options(&state, lang, &years, &period);
    let action = format!("/scoreboard/{plural}/{key}");
    page(
        &state,
        &req,
        lang,
        "scoreboard_detail.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("name", &name);
            ctx.insert("scope", scope);
            ctx.insert("period", &period);
            ctx.insert("period_label", &label);
            ctx.insert("periods", &options);
            ctx.insert("action", &action);
            ctx.insert("portal", &this);
            ctx.insert("months", &months);
            ctx.insert("months_chart", &months_svg);
            ctx.insert("indicator_keys", &crate::domain::rating::INDICATORS);
        },
    )
}
