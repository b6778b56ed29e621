//! Open311 GeoReport v2 at `/open311/`: discovery, the service list (`services.json` /
//! `services.xml`: every published procedure that can be filed online, level 3 or 4, with the
//! level and the field in `description`, `keywords` and `group`) and service definitions
//! generated from each procedure's form (`services/{code}.json` / `.xml`). Errors use the
//! standard's format. Requests (`POST requests`, `GET requests`) are not offered yet.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{AppState, lang_of, with_db};
use crate::domain::open311::{self, Service};
use crate::error::AppError;

enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    match ext {
        "json" => Some((name, Format::Json)),
        "xml" => Some((name, Format::Xml)),
        _ => None,
    }
}

fn answer(status: StatusCode, format: &Format, json: String, xml: String) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header(("Cache-Control", "public, max-age=60"));
    match format {
        Format::Json => res.content_type("application/json").body(json),
        Format::Xml => res.content_type("text/xml; charset=utf-8").body(xml),
    }
}

fn error(status: StatusCode, format: &Format, description: &str) -> HttpResponse {
    let code = status.as_u16();
    answer(
        status,
        format,
        json!([{ "code": code, "description": description }]).to_string(),
        open311::errors_xml(code, description),
    )
}

/// GET `/open311/discovery.{json,xml}`.
pub async fn discovery(
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(("discovery", format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let base = format!(
        "{}/open311/v2/",
        state.settings.public_url.trim_end_matches('/')
    );
    let changeset = "2026-12-01T00:00:00Z";
    let body = json!({
        "changeset": changeset,
        "contact": "Cổng Dịch vụ công",
        "key_service": "Ask an administrator for an API key.",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": changeset,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<discovery><changeset>{changeset}</changeset><contact>Cổng Dịch vụ công</contact><key_service>Ask an administrator for an API key.</key_service><endpoints><endpoint><specification>http://wiki.open311.org/GeoReport_v2</specification><url>{}</url><changeset>{changeset}</changeset><type>production</type><formats><format>application/json</format><format>text/xml</format></formats></endpoint></endpoints></discovery>\n",
        open311::escape(&base)
    );
    Ok(answer(StatusCode::OK, &format, body.to_string(), xml))
}

/// GET `/open311/v2/services.{json,xml}`.
pub async fn services(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(("services", format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let cat = state.catalogue();
    let list: Vec<Service> = cat
        .services
        .iter()
        .filter(|s| s.online_level >= 3)
        .map(|s| Service {
            service_code: s.code.clone(),
            service_name: s.name.clone(),
            description: m("open311_description")
                .replace("{level}", &s.online_level.to_string())
                .replace("{field}", &s.field)
                .replace("{agency}", &s.implementing_agency),
            metadata: true,
            kind: "batch",
            keywords: std::iter::once(format!("level-{}", s.online_level))
                .chain(std::iter::once(s.field_slug.clone()))
                .chain(s.implementing_levels.iter().cloned())
                .collect::<Vec<_>>()
                .join(","),
            group: s.field.clone(),
        })
        .collect();
    let json = serde_json::to_string(&list).map_err(|e| AppError::Internal(e.into()))?;
    Ok(answer(
        StatusCode::OK,
        &format,
        json,
        open311::services_xml(&list),
    ))
}

/// GET `/open311/v2/services/{code}.{json,xml}`: the definition from the procedure's form.
pub async fn definition(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some((code, format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let lang = lang_of(&req);
    let cat = state.catalogue();
    let Some(s) = cat.by_code(code).filter(|s| s.online_level >= 3) else {
        let msg = state
            .messages
            .text(lang, "open311_unknown")
            .replace("{code}", code);
        return Ok(error(StatusCode::NOT_FOUND, &format, &msg));
    };
    let (id, code, name) = (s.id, s.code.clone(), s.name.clone());
    let c2 = code.clone();
    let form = with_db(&state, "load a service's form", move |conn| {
        Ok(crate::db::forms::current(conn, id, &c2, &name)?.1)
    })
    .await?;
    let def = open311::definition(&code, &form, lang);
    let json = serde_json::to_string(&def).map_err(|e| AppError::Internal(e.into()))?;
    Ok(answer(
        StatusCode::OK,
        &format,
        json,
        open311::definition_xml(&def),
    ))
}
