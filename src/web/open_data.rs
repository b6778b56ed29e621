//! Open data: the catalogue with its online levels as CSV and JSON, under an open licence stated
//! in each file and on `/open-data`, which lists the downloads with their update time and a
//! changelog. Built from the in-memory catalogue, so a download costs no database query.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::account::page;
use super::{AppState, lang_of};
use crate::catalogue::ServiceSummary;
use crate::error::AppError;

/// The licence of the portal's open data, as stated in the files and on the page.
pub const LICENCE: &str = "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/): the portal's own data (online levels, routing); the procedure records are public government information from the National Public Service Portal (Decree 42/2022/ND-CP)";

/// What changed in the datasets' shape, newest first.
const CHANGELOG: [(&str, &str); 3] = [
    (
        "2026-12-01",
        "scoreboard-{portal,ministries,provinces,offices}.csv and .json?period=YYYY|YYYY-Qn|YYYY-MM: the dossier indicators of every scoreboard table (received by channel, finished, withdrawn, open, on time, late, overdue now, average working days, charged and paid online, results and electronic results, ratings, negative ratings, satisfaction, the nine indicators' averages)",
    ),
    (
        "2026-11-30",
        "scoreboard-catalogue.csv and .json: per ministry and for the portal, procedures, offered online, fully online, fee-charging, fee paid online",
    ),
    (
        "2026-11-30",
        "catalogue.csv and catalogue.json: code, name, field, ministry, implementing agency, implementing levels, online level, online fee",
    ),
];

#[derive(Serialize)]
struct Record<'a> {
    code: &'a str,
    name: &'a str,
    field: &'a str,
    ministry: &'a str,
    implementing_agency: &'a str,
    implementing_levels: &'a [String],
    online_level: i32,
    /// The online channel's fee in VND when known (0: free).
    fee_vnd: Option<i64>,
}

fn record(s: &ServiceSummary) -> Record<'_> {
    Record {
        code: &s.code,
        name: &s.name,
        field: &s.field,
        ministry: &s.ministry,
        implementing_agency: &s.implementing_agency,
        implementing_levels: &s.implementing_levels,
        online_level: s.online_level,
        fee_vnd: s.fee_vnd,
    }
}

/// One CSV cell (RFC 4180: quoted when it holds a comma, a quote or a line break).
fn cell(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The catalogue as CSV: a `#` comment line with the licence, the header, one row per
/// procedure (levels joined with `;`).
pub fn catalogue_csv(services: &[ServiceSummary]) -> String {
    let mut out = format!("# Licence: {LICENCE}\r\n");
    out.push_str(
        "code,name,field,ministry,implementing_agency,implementing_levels,online_level,fee_vnd\r\n",
    );
    for s in services {
        let r = record(s);
        for (i, v) in [
            r.code,
            r.name,
            r.field,
            r.ministry,
            r.implementing_agency,
            &r.implementing_levels.join(";"),
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            cell(&mut out, v);
        }
        out.push(',');
        out.push_str(&r.online_level.to_string());
        out.push(',');
        if let Some(f) = r.fee_vnd {
            out.push_str(&f.to_string());
        }
        out.push_str("\r\n");
    }
    out
}

/// The scoreboard's catalogue table as CSV: one row per ministry, then the portal's (an empty
/// code, the name `portal`).
pub fn scoreboard_csv(rows: &[crate::domain::scoreboard::CatalogueRow]) -> String {
    let mut out = format!("# Licence: {LICENCE}\r\n");
    out.push_str("ministry_code,ministry,total,online,full,fee_charging,fee_online\r\n");
    for r in rows {
        cell(&mut out, &r.key);
        out.push(',');
        cell(&mut out, &r.name);
        out.push_str(&format!(
            ",{},{},{},{},{}\r\n",
            r.total, r.online, r.full, r.fee_charging, r.fee_online
        ));
    }
    out
}

/// The scoreboard's dossier indicators of one scope as CSV: the licence line, the header, one
/// row per office, province, ministry (ranked as on the page) or the portal's one row.
pub fn indicators_csv(period: &str, rows: &[super::scoreboard::ScopeRow]) -> String {
    let mut out = format!("# Licence: {LICENCE}\r\n");
    out.push_str("key,name,period,received,online,counter,post,finished,withdrawn,open,on_time,late,overdue_now,on_time_pct,avg_working_days,charged,paid_online,paid_online_pct,with_result,e_result,e_result_pct,rated,negative,satisfaction_pct");
    for k in crate::domain::rating::INDICATORS {
        out.push_str(&format!(",avg_{k}"));
    }
    out.push_str("\r\n");
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        let f = &r.figures;
        cell(&mut out, &r.key);
        out.push(',');
        cell(&mut out, &r.name);
        out.push_str(&format!(
            ",{period},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            f.received,
            f.online,
            f.counter,
            f.post,
            f.finished,
            f.withdrawn,
            f.open,
            f.on_time,
            f.late,
            f.overdue_now,
            opt(f.on_time_pct),
            opt(f.avg_days),
            f.charged,
            f.paid_online,
            opt(f.paid_online_pct),
            f.with_result,
            f.e_result,
            opt(f.e_result_pct),
            f.rated,
            f.negative,
            opt(f.satisfaction),
        ));
        for a in &f.indicators {
            out.push(',');
            out.push_str(&opt(*a));
        }
        out.push_str("\r\n");
    }
    out
}

/// GET `/open-data/catalogue.{csv,json}`, `/open-data/scoreboard-catalogue.{csv,json}` and
/// `/open-data/scoreboard-{portal,ministries,provinces,offices}.{csv,json}?period=`.
pub async fn catalogue(
    state: web::Data<AppState>,
    file: web::Path<String>,
    q: web::Query<super::scoreboard::BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let cat = state.catalogue();
    if let Some((name, ext)) = file
        .strip_prefix("scoreboard-")
        .and_then(|f| f.rsplit_once('.'))
        .filter(|(_, ext)| matches!(*ext, "csv" | "json"))
        && let Some(scope) = super::scoreboard::scope_of(name)
    {
        let period = super::scoreboard::period_of(q.period.as_deref())?;
        let rows = {
            let period = period.clone();
            super::with_db(&state, "read the scoreboard for open data", move |conn| {
                Ok(super::scoreboard::scope_rows(
                    conn, scope, &period, "portal",
                )?)
            })
            .await?
        };
        let (body, kind) = if ext == "csv" {
            (indicators_csv(&period, &rows), "text/csv; charset=utf-8")
        } else {
            let doc = serde_json::json!({
                "licence": LICENCE,
                "scope": name,
                "period": period,
                "indicator_keys": crate::domain::rating::INDICATORS,
                "definitions": format!("{}/scoreboard#definitions", state.settings.public_url.trim_end_matches('/')),
                "rows": rows,
            });
            (doc.to_string(), "application/json")
        };
        return Ok(download(
            &format!("scoreboard-{name}-{period}.{ext}"),
            kind,
            body,
            60,
        ));
    }
    let (body, kind) = match file.as_str() {
        "catalogue.csv" => (catalogue_csv(&cat.services), "text/csv; charset=utf-8"),
        "catalogue.json" => {
            let records: Vec<Record> = cat.services.iter().map(record).collect();
            let doc = serde_json::json!({
                "licence": LICENCE,
                "source": "https://dichvucong.gov.vn",
                "catalogue_version": cat.version,
                "count": records.len(),
                "records": records,
            });
            (doc.to_string(), "application/json")
        }
        "scoreboard-catalogue.csv" => (
            scoreboard_csv(&super::scoreboard::catalogue_rows(&state, "portal")),
            "text/csv; charset=utf-8",
        ),
        "scoreboard-catalogue.json" => {
            let rows = super::scoreboard::catalogue_rows(&state, "portal");
            let doc = serde_json::json!({
                "licence": LICENCE,
                "definitions": {
                    "online": "procedures at level 3 or 4 / published procedures",
                    "full": "procedures at level 4 / published procedures",
                    "fee_online": "procedures at level 4 with an online fee above 0 / procedures with an online fee above 0",
                },
                "catalogue_version": cat.version,
                "rows": rows,
            });
            (doc.to_string(), "application/json")
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(download(&file, kind, body, 300))
}

/// A dataset's answer: its type, cache time, licence link and file name.
fn download(file: &str, kind: &str, body: String, max_age: u32) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .insert_header((
            header::LINK,
            "<https://creativecommons.org/licenses/by/4.0/>; rel=\"license\"",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file}\""),
        ))
        .body(body)
}

/// GET `/open-data`: the datasets, their size and update, the licence and the changelog.
pub async fn index(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let cat = state.catalogue();
    let updated = super::with_db(&state, "read the catalogue's last change", |conn| {
        Ok(crate::db::service_admin::last_update(conn)?)
    })
    .await?
    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    .unwrap_or_default();
    let lang = lang_of(&req);
    page(
        &state,
        &req,
        lang,
        "open_data.html",
        StatusCode::OK,
        |ctx| {
            ctx.insert(
                "records_text",
                &state
                    .messages
                    .text(lang, "open_data_records")
                    .replace("{n}", &cat.services.len().to_string())
                    .replace("{version}", &cat.version.to_string())
                    .replace("{updated}", &updated),
            );
            ctx.insert("updated", &updated);
            ctx.insert(
                "year",
                &crate::domain::calendar::to_local(chrono::Utc::now().naive_utc())
                    .format("%Y")
                    .to_string(),
            );
            ctx.insert("licence", LICENCE);
            ctx.insert("changelog", &CHANGELOG);
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_with_commas_quotes_or_lines_are_quoted() {
        let mut out = String::new();
        cell(&mut out, "Sở Tư pháp, Hà Nội");
        out.push(',');
        cell(&mut out, "a \"b\"");
        out.push(',');
        cell(&mut out, "plain");
        assert_eq!(out, "\"Sở Tư pháp, Hà Nội\",\"a \"\"b\"\"\",plain");
    }
}
