//! The public scoreboard (no login): the catalogue indicators per ministry and for the whole
//! portal, each share beside its counts, an SVG chart drawn on the server with the data table
//! as its alternative, and each figure's definition in plain words. The dossier indicators
//! (on time, satisfaction) are not shown yet.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::account::page;
use super::{AppState, lang_of};
use crate::domain::open311::escape;
use crate::domain::scoreboard::{self, CatalogueRow, share};
use crate::error::AppError;

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

/// GET `/scoreboard`.
pub async fn index(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let rows = catalogue_rows(&state, &m("scoreboard_portal"));
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
    page(
        &state,
        &req,
        lang,
        "scoreboard.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert("rows", &views);
            ctx.insert("chart", &svg);
        },
    )
}
