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
const CHANGELOG: [(&str, &str); 2] = [
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

/// GET `/open-data/catalogue.{csv,json}` and `/open-data/scoreboard-catalogue.{csv,json}`.
pub async fn catalogue(
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let cat = state.catalogue();
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
    Ok(HttpResponse::Ok()
        .content_type(kind)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((
            header::LINK,
            "<https://creativecommons.org/licenses/by/4.0/>; rel=\"license\"",
        ))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file}\""),
        ))
        .body(body))
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
