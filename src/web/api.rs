//! The JSON API under `/api/v1` for the public catalogue, described by an OpenAPI document
//! generated from these handlers (utoipa) and served at `/api/v1/openapi.json`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::{AppState, cached_json, with_db};
use crate::catalogue::{
    ChannelInfo, DocumentGroup, DocumentInfo, FacetCount, Ignored, LegalInfo, RawFilter,
    ServiceDetail, ServiceSummary, Sort, TimeLimit, UnitInfo,
};
use crate::db;
use crate::error::AppError;

/// A page of services, best match first when `q` is given.
#[derive(Serialize, ToSchema)]
pub struct ServiceList<'a> {
    /// Each item is serialised once per catalogue, not per request.
    #[schema(value_type = Vec<ServiceSummary>)]
    pub items: Vec<&'a serde_json::value::RawValue>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    pub sort: Sort,
    /// Filter values that were not understood and were not applied.
    pub ignored: Vec<Ignored>,
}

#[derive(Serialize, ToSchema)]
pub struct AgencyList {
    /// Ministries with their service counts (catalogue facet).
    pub ministries: Vec<FacetCount>,
    /// Implementing agencies as the records name them, with counts (catalogue facet).
    pub implementing_agencies: Vec<FacetCount>,
    /// The directory of offices that receive dossiers, filtered and paged.
    pub offices: OfficePage,
}

#[derive(Serialize, ToSchema)]
pub struct OfficePage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<OfficeInfo>,
}

/// An office of the directory.
#[derive(Serialize, ToSchema)]
pub struct OfficeInfo {
    /// The identifier used in dossier codes, e.g. `000.00.01.H01`.
    pub office_id: String,
    pub name: String,
    /// `ministry`, `province_committee`, `department`, `ward_committee` or `ward_police`.
    pub kind: String,
    /// `ministry`, `province` or `commune`.
    pub tier: String,
    pub department_key: Option<String>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub address: String,
    pub phone: String,
    pub email: String,
    /// The office's public page.
    pub url: String,
}

/// RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

fn list_response(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AppError> {
    let raw = super::public::parse_raw_filter(req.query_string())?;
    cached_json(state, req, || list_body(state, &raw))
}

fn list_body(state: &AppState, raw: &RawFilter) -> Result<actix_web::web::Bytes, AppError> {
    let cat = state.catalogue();
    let (filter, ignored) = cat.parse_filter(raw);
    let page = cat.list(&filter);
    let body = ServiceList {
        items: page.items.iter().map(|i| i.json).collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
        per_page: page.per_page,
        sort: page.sort,
        ignored,
    };
    serde_json::to_vec(&body)
        .map(Into::into)
        .map_err(|e| AppError::Internal(e.into()))
}

/// List and filter services; with `q`, a Vietnamese-aware search (accents optional, one typo per
/// word tolerated, procedure codes, everyday phrasing).
#[utoipa::path(get, path = "/api/v1/services", params(RawFilter), tag = "catalogue",
    responses((status = 200, body = ServiceList), (status = 400, description = "The query cannot be read (e.g. a repeated parameter)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_services(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    list_response(&state, &req)
}

/// Search services (the same as `/services` with `q`, ranked by relevance).
#[utoipa::path(get, path = "/api/v1/search", params(RawFilter), tag = "catalogue",
    responses((status = 200, body = ServiceList), (status = 400, description = "The query cannot be read (e.g. a repeated parameter)", body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    list_response(&state, &req)
}

/// One service's full record.
#[utoipa::path(get, path = "/api/v1/services/{code}", tag = "catalogue",
    params(("code" = String, Path, description = "Procedure code, e.g. 1.001193")),
    responses((status = 200, body = ServiceDetail), (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json")))]
pub async fn service_detail(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    if state.catalogue().by_code(&code).is_none() {
        return Err(AppError::NotFound);
    }
    let detail = with_db(&state, "load a service record", move |conn| {
        Ok(db::catalogue::load_detail(conn, &code)?)
    })
    .await?;
    detail
        .map(|d| HttpResponse::Ok().json(d))
        .ok_or(AppError::NotFound)
}

/// Fields (lĩnh vực) with the number of services in each.
#[utoipa::path(get, path = "/api/v1/fields", tag = "catalogue", responses((status = 200, body = Vec<FacetCount>)))]
pub async fn fields(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(&state.catalogue().fields)
}

/// The agency directory: every office that receives dossiers (ministries, provinces' People's
/// Committees and departments, wards' People's Committees and police), filtered and paged;
/// with the catalogue's ministry and implementing-agency counts.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "catalogue", params(super::directory::OfficeQuery),
    responses((status = 200, body = AgencyList), (status = 400, description = "A filter cannot be read", body = Problem, content_type = "application/problem+json")))]
pub async fn agencies(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let (filter, page, per_page) = super::directory::OfficeQuery::parse(req.query_string())?;
    let (rows, total) = with_db(&state, "list offices", move |conn| {
        Ok(db::directory::list_offices(
            conn,
            &filter,
            (page - 1) * per_page,
            per_page,
        )?)
    })
    .await?;
    let cat = state.catalogue();
    Ok(HttpResponse::Ok().json(AgencyList {
        ministries: cat.ministries.clone(),
        implementing_agencies: cat.agencies.clone(),
        offices: OfficePage {
            total,
            page,
            per_page,
            items: rows
                .into_iter()
                .map(|o| OfficeInfo {
                    url: format!("/agencies/{}", o.office_id),
                    office_id: o.office_id,
                    name: o.name,
                    kind: o.kind.as_str().to_string(),
                    tier: o.tier,
                    department_key: o.department_key,
                    province_code: o.province_code,
                    ward_code: o.ward_code,
                    address: o.address,
                    phone: o.phone,
                    email: o.email,
                })
                .collect(),
        },
    }))
}

/// The 34 provinces and municipalities.
#[utoipa::path(get, path = "/api/v1/provinces", tag = "administrative units",
    responses((status = 200, body = Vec<UnitInfo>)))]
pub async fn provinces(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let list = with_db(&state, "list provinces", |conn| {
        Ok(db::catalogue::list_provinces(conn)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The wards, communes and special zones of one province.
#[utoipa::path(get, path = "/api/v1/provinces/{code}/wards", tag = "administrative units",
    params(("code" = String, Path, description = "Province code, e.g. 01")),
    responses((status = 200, body = Vec<UnitInfo>), (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json")))]
pub async fn wards(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let list = with_db(&state, "list wards", move |conn| {
        Ok(db::catalogue::list_wards(conn, &code)?)
    })
    .await?;
    list.map(|l| HttpResponse::Ok().json(l))
        .ok_or(AppError::NotFound)
}

/// Who the bearer token belongs to.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub full_name: String,
    pub email: String,
    pub role: String,
}

/// The account behind the bearer token (`Authorization: Bearer <token>`; tokens are created on
/// the account page). API clients never use cookies.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, description = "No bearer token, or an unknown or revoked one", body = Problem, content_type = "application/problem+json")))]
pub async fn me(super::auth::ApiUser(user): super::auth::ApiUser) -> HttpResponse {
    // Personal data: no cache, shared or private, may keep it.
    HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(Me {
            full_name: user.full_name,
            email: user.email,
            role: user.role.as_str().to_string(),
        })
}

/// The scoreboard's dossier indicators of one scope for a period.
#[derive(Serialize, ToSchema)]
pub struct Statistics {
    /// `portal`, `ministries`, `provinces` or `offices`.
    pub scope: String,
    /// `YYYY`, `YYYY-Qn` or `YYYY-MM` (local time, by the month dossiers were received in).
    pub period: String,
    /// Ranked: on-time rate, then dossiers received, then name.
    pub items: Vec<super::scoreboard::ScopeRow>,
    /// Where each figure is defined in plain words.
    pub definitions: String,
    /// The nine rating indicators, in the order of `figures.indicators`.
    pub indicator_keys: Vec<&'static str>,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct StatisticsQuery {
    /// `2026`, `2026-Q1` or `2026-03`; the current year when absent or empty.
    #[param(pattern = "^([2-9][0-9]{3}(-Q[1-4]|-(0[1-9]|1[0-2]))?)?$")]
    pub period: Option<String>,
}

/// The dossier indicators (shared/domain.md §7) for the portal, or per ministry, province or
/// office: received by channel, finished, open, withdrawn, on time, overdue now, average working
/// days, paid online, electronic results, satisfaction and the nine rating indicators.
#[utoipa::path(get, path = "/api/v1/statistics/{scope}", tag = "statistics",
    params(("scope" = String, Path, description = "portal, ministries, provinces or offices", pattern = "^(portal|ministries|provinces|offices)$"), StatisticsQuery),
    responses((status = 200, body = Statistics),
        (status = 400, description = "The period cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such scope", body = Problem, content_type = "application/problem+json")))]
pub async fn statistics(
    state: web::Data<AppState>,
    scope: web::Path<String>,
    q: web::Query<StatisticsQuery>,
) -> Result<HttpResponse, AppError> {
    let plural = scope.into_inner();
    let kept = super::scoreboard::scope_of(&plural).ok_or(AppError::NotFound)?;
    let period = super::scoreboard::period_of(q.period.as_deref())?;
    let items = {
        let period = period.clone();
        with_db(&state, "read the statistics", move |conn| {
            Ok(super::scoreboard::scope_rows(
                conn, kept, &period, "portal",
            )?)
        })
        .await?
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=60"))
        .json(Statistics {
            scope: plural,
            period,
            items,
            indicator_keys: crate::domain::rating::INDICATORS.to_vec(),
            definitions: format!(
                "{}/scoreboard#definitions",
                state.settings.public_url.trim_end_matches('/')
            ),
        }))
}

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Public service portal API",
        version = "1",
        description = "The catalogue of administrative procedures: list, filter, search, records, lookups."
    ),
    paths(
        list_services,
        search,
        service_detail,
        fields,
        agencies,
        provinces,
        wards,
        me,
        super::tracking::api_dossier,
        statistics
    ),
    modifiers(&BearerScheme),
    components(schemas(
        ServiceList,
        ServiceSummary,
        ServiceDetail,
        TimeLimit,
        ChannelInfo,
        DocumentGroup,
        DocumentInfo,
        LegalInfo,
        FacetCount,
        AgencyList,
        OfficePage,
        OfficeInfo,
        super::directory::OfficeKind,
        UnitInfo,
        Ignored,
        Sort,
        Problem,
        Me,
        super::tracking::DossierStatus,
        super::tracking::DossierEvent,
        Statistics,
        super::scoreboard::ScopeRow,
        crate::domain::indicators::Figures
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
