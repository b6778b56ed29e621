//! Open311 GeoReport v2 at `/open311/`: discovery, the service list (`services.json` /
//! `services.xml`: every published procedure that can be filed online, level 3 or 4, with the
//! level and the field in `description`, `keywords` and `group`) and service definitions
//! generated from each procedure's form (`services/{code}.json` / `.xml`). Errors use the
//! standard's format.
//!
//! Requests need an API key (`api_key`, or `Authorization: Bearer`; a citizen creates one on the
//! account page): `POST requests` starts a draft for the key holder at the office routed from
//! the place given (else the account's) with the attributes as answers, and files it at once
//! when nothing else is needed (no document, no fee): then the answer is the dossier code as
//! `service_request_id`, otherwise a `token` (the draft, finished on the portal). `GET
//! requests`, `requests/{id}` and `tokens/{id}` show only the key holder's own dossiers: dossiers
//! are personal, so unlike a city's public pothole list they are never listed to anyone else.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{AppState, lang_of, with_db};
use crate::db::open311::{Filters, RequestRow};
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

/// The key holder, or the spec-format error to answer.
async fn key_holder(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    format: &Format,
    api_key: Option<String>,
) -> Result<Result<crate::db::users::User, HttpResponse>, AppError> {
    let lang = lang_of(req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let key = api_key.filter(|k| !k.trim().is_empty()).or_else(|| {
        req.headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(super::auth::bearer_token)
            .map(str::to_string)
    });
    let Some(key) = key else {
        return Ok(Err(error(
            StatusCode::UNAUTHORIZED,
            format,
            &m("open311_key_required"),
        )));
    };
    Ok(match super::auth::api_key_owner(state, key.trim()).await? {
        Some(u) if u.role() == crate::domain::account::Role::Citizen => Ok(u),
        Some(_) => Err(error(
            StatusCode::FORBIDDEN,
            format,
            &m("open311_citizens_only"),
        )),
        None => Err(error(
            StatusCode::UNAUTHORIZED,
            format,
            &m("open311_key_invalid"),
        )),
    })
}

/// ISO 8601 in Vietnam's time, as the spec's examples give it.
fn iso(t: chrono::NaiveDateTime) -> String {
    crate::domain::calendar::to_local(t)
        .format("%Y-%m-%dT%H:%M:%S+07:00")
        .to_string()
}

/// `service_requests` / `request` XML from rows of (element, value).
fn requests_xml(rows: &[Vec<(&str, String)>]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_requests>");
    for row in rows {
        out.push_str("<request>");
        for (name, value) in row {
            out.push_str(&format!("<{name}>{}</{name}>", open311::escape(value)));
        }
        out.push_str("</request>");
    }
    out.push_str("</service_requests>\n");
    out
}

fn rows_json(rows: &[Vec<(&str, String)>]) -> String {
    let list: Vec<serde_json::Map<String, serde_json::Value>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|(k, v)| {
                    let value = if v.is_empty()
                        && matches!(*k, "service_request_id" | "token" | "expected_datetime")
                    {
                        serde_json::Value::Null
                    } else {
                        serde_json::Value::String(v.clone())
                    };
                    (k.to_string(), value)
                })
                .collect()
        })
        .collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

fn rows_answer(status: StatusCode, format: &Format, rows: &[Vec<(&str, String)>]) -> HttpResponse {
    let mut res = answer(status, format, rows_json(rows), requests_xml(rows));
    // Personal data: never kept by a shared cache.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

fn request_fields(
    state: &AppState,
    lang: crate::i18n::Lang,
    r: &RequestRow,
) -> Vec<(&'static str, String)> {
    let status = crate::domain::status::Status::from_code(r.status);
    let closed = status.is_some_and(crate::domain::status::Status::is_finished);
    vec![
        ("service_request_id", r.code.clone()),
        ("status", if closed { "closed" } else { "open" }.to_string()),
        (
            "status_notes",
            status
                .map(|s| state.messages.text(lang, &s.message_key()).to_string())
                .unwrap_or_default(),
        ),
        ("service_name", r.service_name.clone()),
        ("service_code", r.service_code.clone()),
        ("description", String::new()),
        ("agency_responsible", r.office.clone()),
        ("service_notice", String::new()),
        ("requested_datetime", iso(r.submitted_at)),
        ("updated_datetime", iso(r.updated_at)),
        ("expected_datetime", r.due_at.map(iso).unwrap_or_default()),
        ("address", String::new()),
        ("address_id", String::new()),
        ("zipcode", String::new()),
        ("media_url", String::new()),
    ]
}

fn parse_time(raw: &str) -> Option<chrono::NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.naive_utc())
}

/// GET `/open311/v2/{services|requests}.{json,xml}`.
pub async fn v2_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
    q: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    match split(&file) {
        Some(("services", _)) => services(state, req, file).await,
        Some(("requests", format)) => list_requests(state, req, format, q.into_inner()).await,
        _ => Err(AppError::NotFound),
    }
}

async fn list_requests(
    state: web::Data<AppState>,
    req: HttpRequest,
    format: Format,
    q: Vec<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let user = match key_holder(&state, &req, &format, get("api_key")).await? {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let mut f = Filters {
        ids: get("service_request_id")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        service_code: get("service_code").filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    for (key, slot) in [("start_date", &mut f.start), ("end_date", &mut f.end)] {
        if let Some(raw) = get(key).filter(|s| !s.trim().is_empty()) {
            match parse_time(&raw) {
                Some(t) => *slot = Some(t),
                None => {
                    let msg = m("open311_bad_date").replace("{name}", key);
                    return Ok(error(StatusCode::BAD_REQUEST, &format, &msg));
                }
            }
        }
    }
    match get("status").as_deref().map(str::trim) {
        None | Some("") | Some("open,closed") | Some("closed,open") => {}
        Some("open") => f.status = Some(false),
        Some("closed") => f.status = Some(true),
        Some(_) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                &format,
                &m("open311_bad_status"),
            ));
        }
    }
    let rows = with_db(&state, "list Open311 requests", move |conn| {
        Ok(crate::db::open311::requests(conn, user.id, &f)?)
    })
    .await?;
    let shown: Vec<Vec<(&str, String)>> = rows
        .iter()
        .map(|r| request_fields(&state, lang, r))
        .collect();
    Ok(rows_answer(StatusCode::OK, &format, &shown))
}

#[derive(serde::Deserialize)]
pub struct KeyQuery {
    api_key: Option<String>,
}

/// GET `/open311/v2/requests/{id}.{json,xml}`: one of the key holder's dossiers.
pub async fn one_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, AppError> {
    let Some((code, format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let lang = lang_of(&req);
    let user = match key_holder(&state, &req, &format, q.into_inner().api_key).await? {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let f = Filters {
        ids: vec![code.to_string()],
        ..Default::default()
    };
    let rows = with_db(&state, "read an Open311 request", move |conn| {
        Ok(crate::db::open311::requests(conn, user.id, &f)?)
    })
    .await?;
    if rows.is_empty() {
        let msg = state
            .messages
            .text(lang, "open311_no_request")
            .replace("{id}", code);
        return Ok(error(StatusCode::NOT_FOUND, &format, &msg));
    }
    let shown: Vec<Vec<(&str, String)>> = rows
        .iter()
        .map(|r| request_fields(&state, lang, r))
        .collect();
    Ok(rows_answer(StatusCode::OK, &format, &shown))
}

/// GET `/open311/v2/tokens/{token}.{json,xml}`: the dossier a draft became, once filed.
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, AppError> {
    let Some((token, format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let lang = lang_of(&req);
    let user = match key_holder(&state, &req, &format, q.into_inner().api_key).await? {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let t = token.to_string();
    let found = with_db(&state, "read an Open311 token", move |conn| {
        Ok(crate::db::open311::token(conn, user.id, &t)?)
    })
    .await?;
    let Some(code) = found else {
        let msg = state
            .messages
            .text(lang, "open311_no_token")
            .replace("{id}", token);
        return Ok(error(StatusCode::NOT_FOUND, &format, &msg));
    };
    let row = vec![
        ("service_request_id", code.unwrap_or_default()),
        ("token", token.to_string()),
    ];
    Ok(rows_answer(StatusCode::OK, &format, &[row]))
}

/// POST `/open311/v2/requests.{json,xml}` (form-encoded, as the spec says).
pub async fn create_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    file: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let Some(("requests", format)) = split(&file) else {
        return Err(AppError::NotFound);
    };
    let lang = lang_of(&req);
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let user = match key_holder(&state, &req, &format, Some(get("api_key"))).await? {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let code = get("service_code");
    if code.is_empty() {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            &format,
            &m("open311_service_code_required"),
        ));
    }
    // attribute[code]=value; attribute[code][]=a for several values (joined as the form keeps
    // multiple choices: one value a line).
    let mut answers: std::collections::BTreeMap<String, String> = Default::default();
    for (k, v) in &pairs {
        let Some(inner) = k.strip_prefix("attribute[") else {
            continue;
        };
        let (key, many) = match inner.strip_suffix("][]") {
            Some(key) => (key, true),
            None => (inner.strip_suffix(']').unwrap_or(inner), false),
        };
        let entry = answers.entry(key.to_string()).or_default();
        if many && !entry.is_empty() {
            entry.push('\n');
        }
        if many {
            entry.push_str(v);
        } else {
            *entry = v.clone();
        }
    }
    for (param, key) in [("email", "applicant_email"), ("phone", "applicant_phone")] {
        let v = get(param);
        if !v.is_empty() {
            answers.entry(key.to_string()).or_insert(v);
        }
    }
    let start = super::apply::ApiStart {
        code: code.clone(),
        level: get("level"),
        province: get("province"),
        ward: get("ward"),
        answers,
    };
    let user_id = user.id;
    let draft = match super::apply::start_for_api(&state, user, start).await? {
        Ok(d) => d,
        Err(key) => {
            let msg = m(key).replace("{code}", &code);
            let status = if key == "open311_unknown" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_REQUEST
            };
            return Ok(error(status, &format, &msg));
        }
    };
    // Filed at once when nothing else is needed; otherwise the draft waits on the portal.
    let st = state.clone();
    let d2 = draft.clone();
    let filed = with_db(&state, "file an Open311 request", move |conn| {
        let places = |p: &str, w: Option<&str>| st.places.exists(p, w);
        let email =
            |sub: &crate::db::dossiers::Submitted| super::apply::submitted_email(&st, lang, sub);
        match crate::db::dossiers::submit(
            conn,
            &crate::db::dossiers::SubmitInput {
                draft_public_id: &d2,
                user_id,
                now: chrono::Utc::now().naive_utc(),
                place_exists: &places,
                email: &email,
            },
        ) {
            Ok(s) => Ok(Some(s.code)),
            Err(crate::db::dossiers::SubmitError::Db(e)) => Err(AppError::Internal(e)),
            Err(_) => Ok(None),
        }
    })
    .await?;
    let base = state.settings.public_url.trim_end_matches('/').to_string();
    let row = match filed {
        Some(code) => vec![
            ("service_request_id", code.clone()),
            (
                "service_notice",
                m("open311_notice_filed").replace("{link}", &format!("{base}/dossiers/{code}")),
            ),
            ("account_id", String::new()),
        ],
        None => vec![
            ("token", draft.clone()),
            (
                "service_notice",
                m("open311_notice_draft").replace("{link}", &format!("{base}/drafts/{draft}")),
            ),
            ("account_id", String::new()),
        ],
    };
    Ok(rows_answer(StatusCode::CREATED, &format, &[row]))
}
