//! Reads of the public catalogue: service summaries for the in-memory catalogue, one service's
//! full record, the lookup lists (fields, ministries, target groups, administrative units), and the
//! small key/value state (catalogue version, seed fingerprint).

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConnection;
use super::schema::*;
use crate::catalogue::{
    ChannelInfo, DocumentGroup, DocumentInfo, LegalInfo, LookupItem, ServiceDetail, ServiceSummary,
    UnitInfo,
};
use crate::search::Synonym;

pub const CATALOGUE_VERSION_KEY: &str = "catalogue_version";

pub fn get_state(conn: &mut DbConnection, key: &str) -> QueryResult<Option<String>> {
    app_state::table
        .find(key)
        .select(app_state::value)
        .first(conn)
        .optional()
}

/// Bumped by every change to what the public catalogue shows; caches compare against it.
pub fn catalogue_version(conn: &mut DbConnection) -> QueryResult<i64> {
    Ok(get_state(conn, CATALOGUE_VERSION_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// (channel, time, unit, fee) of one channel row.
use crate::catalogue::ChannelBrief;
/// (case, name, form, originals, copies) of one document row.
type DocumentRow = (String, String, String, Option<i32>, Option<i32>);

type SummaryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i32,
    bool,
    String,
);

/// Every active service with what the list, filters and search need.
pub fn load_summaries(conn: &mut DbConnection) -> QueryResult<Vec<ServiceSummary>> {
    let rows: Vec<SummaryRow> = services::table
        .inner_join(fields::table)
        .inner_join(agencies::table.on(agencies::id.eq(services::ministry_id)))
        .filter(services::active.eq(true))
        .filter(services::published.eq(true))
        .order(services::code.asc())
        .select((
            services::id,
            services::code,
            services::name,
            fields::name,
            fields::slug,
            agencies::name,
            agencies::code,
            services::implementing_agency,
            services::online_level,
            services::has_online,
            services::result,
        ))
        .load(conn)?;

    let mut levels: HashMap<i64, Vec<String>> = HashMap::new();
    for (sid, level) in service_implementing_levels::table
        .select((
            service_implementing_levels::service_id,
            service_implementing_levels::level,
        ))
        .load::<(i64, String)>(conn)?
    {
        levels.entry(sid).or_default().push(level);
    }
    let mut groups: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (sid, gid, name) in service_target_groups::table
        .inner_join(target_groups::table)
        .select((
            service_target_groups::service_id,
            target_groups::id,
            target_groups::name,
        ))
        .load::<(i64, i64, String)>(conn)?
    {
        groups.entry(sid).or_default().push((gid, name));
    }
    let mut channels: HashMap<i64, Vec<ChannelBrief>> = HashMap::new();
    for (sid, channel, time, unit, fee) in service_channels::table
        .order((service_channels::service_id, service_channels::position))
        .select((
            service_channels::service_id,
            service_channels::channel,
            service_channels::processing_time,
            service_channels::time_unit,
            service_channels::fee_vnd,
        ))
        .load::<(i64, String, Option<f64>, Option<String>, Option<i64>)>(conn)?
    {
        channels
            .entry(sid)
            .or_default()
            .push((channel, time, unit, fee));
    }

    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                code,
                name,
                field,
                field_slug,
                ministry,
                ministry_code,
                agency,
                online_level,
                has_online,
                result,
            )| {
                let mut implementing_levels = levels.remove(&id).unwrap_or_default();
                implementing_levels.sort_by_key(|l| crate::catalogue::tier_rank(l));
                let mut g = groups.remove(&id).unwrap_or_default();
                g.sort();
                let (processing, fee_vnd) =
                    crate::catalogue::headline(&channels.remove(&id).unwrap_or_default());
                ServiceSummary {
                    id,
                    code,
                    name,
                    field,
                    field_slug,
                    ministry,
                    ministry_code,
                    agency_slug: crate::catalogue::slugify(&agency),
                    implementing_agency: agency,
                    implementing_levels,
                    target_group_ids: g.iter().map(|x| x.0).collect(),
                    target_groups: g.into_iter().map(|x| x.1).collect(),
                    online_level,
                    has_online,
                    processing,
                    fee_vnd,
                    result,
                }
            },
        )
        .collect())
}

type DetailRow = (
    (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ),
    (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        i32,
        bool,
        i32,
        chrono::NaiveDateTime,
    ),
);

/// One service's full national record, or `None` for an unknown or withdrawn code.
pub fn load_detail(conn: &mut DbConnection, code: &str) -> QueryResult<Option<ServiceDetail>> {
    let row: Option<DetailRow> = services::table
        .inner_join(fields::table)
        .inner_join(agencies::table.on(agencies::id.eq(services::ministry_id)))
        .filter(services::code.eq(code))
        .filter(services::active.eq(true))
        .filter(services::published.eq(true))
        .select((
            (
                services::id,
                services::code,
                services::name,
                fields::name,
                fields::slug,
                agencies::name,
                agencies::code,
                services::implementing_agency,
                services::competent_agency,
                services::procedure_type,
            ),
            (
                services::decision_number,
                services::steps,
                services::requirements,
                services::result_code,
                services::result,
                services::related_procedures,
                services::source_url,
                services::online_level,
                services::has_online,
                services::version,
                services::updated_at,
            ),
        ))
        .first(conn)
        .optional()?;
    let Some((
        (
            id,
            code,
            name,
            field,
            field_slug,
            ministry,
            ministry_code,
            implementing_agency,
            competent_agency,
            procedure_type,
        ),
        (
            decision_number,
            steps,
            requirements,
            result_code,
            result,
            related_procedures,
            source_url,
            online_level,
            has_online,
            version,
            updated_at,
        ),
    )) = row
    else {
        return Ok(None);
    };

    let mut implementing_levels: Vec<String> = service_implementing_levels::table
        .filter(service_implementing_levels::service_id.eq(id))
        .select(service_implementing_levels::level)
        .load(conn)?;
    implementing_levels.sort_by_key(|l| crate::catalogue::tier_rank(l));
    let target_groups: Vec<String> = service_target_groups::table
        .inner_join(target_groups::table)
        .filter(service_target_groups::service_id.eq(id))
        .order(target_groups::id)
        .select(target_groups::name)
        .load(conn)?;
    let channels: Vec<ChannelInfo> = service_channels::table
        .filter(service_channels::service_id.eq(id))
        .order(service_channels::position)
        .select((
            service_channels::channel,
            service_channels::processing_time,
            service_channels::time_unit,
            service_channels::time_unit_text,
            service_channels::fee_vnd,
            service_channels::fee_text,
        ))
        .load::<(
            String,
            Option<f64>,
            Option<String>,
            String,
            Option<i64>,
            String,
        )>(conn)?
        .into_iter()
        .map(
            |(channel, processing_time, time_unit, time_unit_text, fee_vnd, fee_text)| {
                ChannelInfo {
                    channel,
                    processing_time,
                    time_unit,
                    time_unit_text,
                    fee_vnd,
                    fee_text,
                }
            },
        )
        .collect();
    let docs: Vec<DocumentRow> = service_documents::table
        .filter(service_documents::service_id.eq(id))
        .order(service_documents::position)
        .select((
            service_documents::case_name,
            service_documents::name,
            service_documents::form_template,
            service_documents::originals,
            service_documents::copies,
        ))
        .load(conn)?;
    let mut document_groups: Vec<DocumentGroup> = Vec::new();
    for (case_name, name, form_template, originals, copies) in docs {
        let doc = DocumentInfo {
            name,
            form_template,
            originals,
            copies,
        };
        match document_groups
            .iter_mut()
            .find(|g| g.case_name == case_name)
        {
            Some(g) => g.documents.push(doc),
            None => document_groups.push(DocumentGroup {
                case_name,
                documents: vec![doc],
            }),
        }
    }
    let legal_basis: Vec<LegalInfo> = service_legal_bases::table
        .filter(service_legal_bases::service_id.eq(id))
        .order(service_legal_bases::position)
        .select((service_legal_bases::title, service_legal_bases::number))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(title, number)| LegalInfo { title, number })
        .collect();

    Ok(Some(ServiceDetail {
        code,
        name,
        field,
        field_slug,
        ministry,
        ministry_code,
        implementing_agency,
        competent_agency,
        procedure_type,
        decision_number,
        implementing_levels,
        target_groups,
        steps,
        requirements,
        result_code,
        result,
        related_procedures,
        source_url,
        online_level,
        has_online,
        channels,
        document_groups,
        legal_basis,
        version,
        updated_at: updated_at.and_utc().to_rfc3339(),
    }))
}

pub fn list_fields(conn: &mut DbConnection) -> QueryResult<Vec<LookupItem>> {
    Ok(fields::table
        .order(fields::name)
        .select((fields::slug, fields::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(code, name)| LookupItem { code, name })
        .collect())
}

pub fn list_ministries(conn: &mut DbConnection) -> QueryResult<Vec<LookupItem>> {
    Ok(agencies::table
        .filter(agencies::parent_id.is_null())
        .order(agencies::name)
        .select((agencies::code, agencies::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(code, name)| LookupItem { code, name })
        .collect())
}

pub fn list_target_groups(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    target_groups::table
        .order(target_groups::id)
        .select((target_groups::id, target_groups::name))
        .load(conn)
}

pub fn list_provinces(conn: &mut DbConnection) -> QueryResult<Vec<UnitInfo>> {
    Ok(provinces::table
        .order(provinces::code)
        .select((
            provinces::code,
            provinces::name,
            provinces::full_name,
            provinces::kind,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(code, name, full_name, kind)| UnitInfo {
            code,
            name,
            full_name,
            kind,
            province_code: None,
        })
        .collect())
}

/// `None` when the province does not exist (so the API can answer 404 rather than an empty list).
pub fn list_wards(conn: &mut DbConnection, province: &str) -> QueryResult<Option<Vec<UnitInfo>>> {
    let exists: i64 = provinces::table
        .filter(provinces::code.eq(province))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Ok(None);
    }
    Ok(Some(
        wards::table
            .filter(wards::province_code.eq(province))
            .order(wards::code)
            .select((
                wards::code,
                wards::name,
                wards::full_name,
                wards::kind,
                wards::province_code,
            ))
            .load::<(String, String, String, String, String)>(conn)?
            .into_iter()
            .map(|(code, name, full_name, kind, p)| UnitInfo {
                code,
                name,
                full_name,
                kind,
                province_code: Some(p),
            })
            .collect(),
    ))
}

pub fn list_synonyms(conn: &mut DbConnection) -> QueryResult<Vec<Synonym>> {
    Ok(search_synonyms::table
        .order(search_synonyms::id)
        .select((search_synonyms::term, search_synonyms::expansion))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(term, expansion)| Synonym { term, expansion })
        .collect())
}

/// Moves the catalogue version on, so every instance rebuilds its catalogue and drops cached pages.
pub fn bump_catalogue_version(conn: &mut DbConnection) -> QueryResult<i64> {
    super::transaction(conn, |conn| {
        let next = catalogue_version(conn)? + 1;
        diesel::delete(app_state::table.find(CATALOGUE_VERSION_KEY)).execute(conn)?;
        diesel::insert_into(app_state::table)
            .values((
                app_state::key.eq(CATALOGUE_VERSION_KEY),
                app_state::value.eq(next.to_string()),
                app_state::updated_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(next)
    })
}

/// An administrator's decision on a service's online level: kept across reseeding, versioned,
/// and published at once. Returns `false` for an unknown code.
pub fn set_online_level(conn: &mut DbConnection, code: &str, level: i32) -> QueryResult<bool> {
    super::transaction(conn, |conn| {
        let changed = diesel::update(services::table.filter(services::code.eq(code)))
            .set((
                services::online_level.eq(level),
                services::online_level_source.eq("admin"),
                services::version.eq(services::version + 1),
                services::updated_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        if changed > 0 {
            bump_catalogue_version(conn)?;
        }
        Ok(changed > 0)
    })
}

pub fn province_codes(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    provinces::table
        .order(provinces::code)
        .select(provinces::code)
        .load(conn)
}

/// The province of a ward, or `None` for an unknown ward code.
pub fn ward_province(conn: &mut DbConnection, ward: &str) -> QueryResult<Option<String>> {
    wards::table
        .find(ward)
        .select(wards::province_code)
        .first(conn)
        .optional()
}
