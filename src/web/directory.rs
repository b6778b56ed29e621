//! The public agency directory: one page per office (address, hours, the online services it
//! receives) and the directory in the JSON API.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::auth::current_user;
use super::{AppState, base_context, cached_page, lang_of, render_body, with_db};
use crate::db::directory::{self, Office, OfficeFilter};
use crate::domain::routing::Target;
use crate::error::AppError;

/// The message key naming a kind of office.
pub fn kind_key(kind: Target) -> &'static str {
    match kind {
        Target::Ministry => "office_kind_ministry",
        Target::ProvinceCommittee => "office_kind_province_committee",
        Target::Department => "office_kind_department",
        Target::WardCommittee => "office_kind_ward_committee",
        Target::WardPolice => "office_kind_ward_police",
    }
}

#[derive(Serialize)]
struct OfficeView {
    office: Office,
    kind_label: String,
    parent: Option<Office>,
    services: Vec<(String, String)>,
    services_total: usize,
}

/// How many received services an office page lists (the rest are counted).
const SERVICES_SHOWN: usize = 300;

pub async fn office(
    state: web::Data<AppState>,
    req: HttpRequest,
    office_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    current_user(&state, &req).await?;
    let lang = lang_of(&req);
    let office_id = office_id.into_inner();
    if !crate::domain::dossier::is_agency_id(&office_id) {
        return Err(AppError::NotFound);
    }
    let found = with_db(&state, "show an office", move |conn| {
        let Some(office) = directory::find_office(conn, &office_id)? else {
            return Ok(None);
        };
        let parent = match office.parent_id {
            Some(id) => directory::office_by_id(conn, id)?,
            None => None,
        };
        let (services, total) = directory::services_received(conn, &office, SERVICES_SHOWN)?;
        Ok(Some((office, parent, services, total)))
    })
    .await?;
    let Some((office, parent, services, services_total)) = found else {
        return Err(AppError::NotFound);
    };
    cached_page(&state, &req, lang, || {
        let mut ctx = base_context(&state, &req, lang);
        let view = OfficeView {
            kind_label: state.messages.text(lang, kind_key(office.kind)).to_string(),
            office,
            parent,
            services,
            services_total,
        };
        ctx.insert("v", &view);
        render_body(&state, "agencies/office.html", &ctx)
    })
}

/// `/api/v1/agencies` filters (all optional).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficeQuery {
    /// Province code, e.g. `01`.
    pub province: Option<String>,
    /// Ward code, e.g. `00004`.
    pub ward: Option<String>,
    /// The kind of office.
    #[param(value_type = Option<OfficeKind>)]
    pub kind: Option<String>,
    /// 1-based page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100000)]
    pub page: Option<String>,
    /// Offices per page, 1–100 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub per_page: Option<String>,
}

/// The kinds of office (documentation of the `kind` filter).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfficeKind {
    Ministry,
    ProvinceCommittee,
    Department,
    WardCommittee,
    WardPolice,
}

impl OfficeQuery {
    pub fn parse(query: &str) -> Result<(OfficeFilter, i64, i64), AppError> {
        let q: OfficeQuery = serde_urlencoded::from_str(query)
            .map_err(|_| AppError::BadRequest("error_bad_query"))?;
        let bad = || AppError::BadRequest("error_bad_query");
        // Absent means the default; present, it must be valid (an empty value is not a number).
        let number = |v: &Option<String>, default: i64, max: i64| -> Result<i64, AppError> {
            match v.as_deref().map(str::trim) {
                None => Ok(default),
                Some(s) => s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(bad),
            }
        };
        let page = number(&q.page, 1, 100_000)?;
        let per_page = number(&q.per_page, 50, 100)?;
        let kind = match q.kind.as_deref() {
            None => None,
            Some(k) => Some(Target::parse(k).ok_or_else(bad)?),
        };
        let some = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok((
            OfficeFilter {
                province: some(q.province),
                ward: some(q.ward),
                kind,
            },
            page,
            per_page,
        ))
    }
}
