//! Writes the real seed data (`data/`) into the database: idempotent, in one transaction, and only
//! when the seed files changed (their fingerprint is kept in `app_state`). Rows that
//! administrators changed (an online level set by hand, an edited holiday) are kept.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::DbConnection;
use super::catalogue::{CATALOGUE_VERSION_KEY, get_state};
use super::schema::*;
use crate::catalogue::slugify;
use crate::domain::level;
use crate::domain::procedure::Procedure;
use crate::search::{Synonym, read_synonyms_csv};
use crate::seed::{self as files, AdminUnits, Holiday};

pub const FINGERPRINT_KEY: &str = "seed_fingerprint";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedReport {
    pub skipped: bool,
    pub services_inserted: usize,
    pub services_updated: usize,
    pub services_unchanged: usize,
    pub elapsed_ms: u128,
}

#[derive(Insertable)]
#[diesel(table_name = provinces)]
struct NewProvince<'a> {
    code: &'a str,
    name: &'a str,
    full_name: &'a str,
    kind: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = wards)]
struct NewWard<'a> {
    code: &'a str,
    name: &'a str,
    full_name: &'a str,
    kind: &'a str,
    province_code: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = holidays)]
struct NewHoliday<'a> {
    day: chrono::NaiveDate,
    name_vi: &'a str,
    name_en: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = search_synonyms)]
struct NewSynonym<'a> {
    term: &'a str,
    expansion: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = fields)]
struct NewField<'a> {
    name: &'a str,
    slug: String,
}

#[derive(Insertable)]
#[diesel(table_name = agencies)]
struct NewAgency<'a> {
    code: String,
    /// The slug until the directory gives the ministry its identifier (`directory::seed_directory`).
    office_id: String,
    kind: &'a str,
    name: &'a str,
    parent_id: Option<i64>,
    tier: &'a str,
    province_code: Option<&'a str>,
    ward_code: Option<&'a str>,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = target_groups)]
struct NewTargetGroup<'a> {
    name: &'a str,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = services)]
struct ServiceRow<'a> {
    code: &'a str,
    name: &'a str,
    field_id: i64,
    ministry_id: i64,
    procedure_type: &'a str,
    decision_number: &'a str,
    implementing_agency: &'a str,
    competent_agency: &'a str,
    documents_text: &'a str,
    steps: &'a str,
    requirements: &'a str,
    result_code: &'a str,
    result: &'a str,
    related_procedures: &'a str,
    source_url: &'a str,
    online_level: i32,
    online_level_source: &'a str,
    has_online: bool,
    active: bool,
    version: i32,
    seed_hash: String,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = service_implementing_levels)]
struct NewLevel<'a> {
    service_id: i64,
    level: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = service_target_groups)]
struct NewServiceGroup {
    service_id: i64,
    target_group_id: i64,
}

#[derive(Insertable)]
#[diesel(table_name = service_channels)]
struct NewChannel<'a> {
    service_id: i64,
    position: i32,
    channel: &'a str,
    processing_time: Option<f64>,
    time_unit: Option<&'a str>,
    time_unit_text: &'a str,
    fee_vnd: Option<i64>,
    fee_text: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = service_documents)]
struct NewDocument<'a> {
    service_id: i64,
    position: i32,
    case_name: &'a str,
    name: &'a str,
    form_template: &'a str,
    originals: Option<i32>,
    copies: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = service_legal_bases)]
struct NewLegal<'a> {
    service_id: i64,
    position: i32,
    title: &'a str,
    number: &'a str,
}

fn content_hash(p: &Procedure) -> Result<String> {
    let json = serde_json::to_vec(p)?;
    let digest = Sha256::digest(&json);
    Ok(digest.iter().take(12).map(|b| format!("{b:02x}")).collect())
}

struct SeedInput {
    fingerprint: String,
    procedures: Vec<Procedure>,
    units: AdminUnits,
    holidays: Vec<Holiday>,
    synonyms: Vec<Synonym>,
    directory: files::Directory,
    rules: Vec<files::RuleRow>,
    forms: Vec<(String, crate::domain::form_schema::FormDefinition)>,
    now: NaiveDateTime,
}

/// Inserts many rows in one statement. The only per-backend part of seeding: `MultiConnection`
/// cannot express a multi-row `INSERT`, so the statement runs on the concrete connection.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        $crate::with_backend!(&mut *$conn, |c| diesel::insert_into($table)
            .values($rows)
            .execute(c))
    };
}

/// Replaces one `app_state` row.
pub(crate) fn put_state(
    conn: &mut DbConnection,
    key: &str,
    value: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(app_state::table.find(key)).execute(conn)?;
    diesel::insert_into(app_state::table)
        .values((
            app_state::key.eq(key),
            app_state::value.eq(value),
            app_state::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The whole seeding, in the caller's transaction.
fn seed_all(conn: &mut DbConnection, input: &SeedInput) -> Result<SeedReport> {
    seed_units(conn, input).context("seeding the administrative units")?;
    seed_holidays_and_synonyms(conn, input).context("seeding holidays and synonyms")?;
    let lookups = seed_lookups(conn, &input.procedures, input.now)
        .context("seeding fields, ministries and target groups")?;
    let report = seed_services(conn, &input.procedures, input.now, &lookups)
        .context("seeding the services")?;
    super::directory::seed_directory(
        conn,
        &input.directory,
        &input.units,
        &lookups.ministries,
        input.now,
    )
    .context("seeding the agency directory")?;
    super::directory::seed_rules(
        conn,
        &input.rules,
        &input.directory,
        &lookups.ministries,
        &lookups.fields,
        input.now,
    )
    .context("seeding the routing rules")?;
    super::forms::seed_official(conn, &input.forms, input.now).context("seeding the forms")?;
    put_state(conn, FINGERPRINT_KEY, input.fingerprint.as_str(), input.now)?;
    let version = get_state(conn, CATALOGUE_VERSION_KEY)?;
    let next = version.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) + 1;
    put_state(
        conn,
        CATALOGUE_VERSION_KEY,
        next.to_string().as_str(),
        input.now,
    )?;
    Ok(report)
}

/// Provinces and wards: insert new codes, update renamed ones.
fn seed_units(conn: &mut DbConnection, input: &SeedInput) -> QueryResult<()> {
    let known: HashMap<String, (String, String, String)> = provinces::table
        .select((
            provinces::code,
            (provinces::name, provinces::full_name, provinces::kind),
        ))
        .load::<(String, (String, String, String))>(conn)?
        .into_iter()
        .collect();
    let mut fresh = Vec::new();
    for p in &input.units.provinces {
        match known.get(&p.code) {
            None => fresh.push(NewProvince {
                code: &p.code,
                name: &p.name,
                full_name: &p.full_name,
                kind: &p.kind,
            }),
            Some(old) if *old != (p.name.clone(), p.full_name.clone(), p.kind.clone()) => {
                diesel::update(provinces::table.find(&p.code))
                    .set((
                        provinces::name.eq(&p.name),
                        provinces::full_name.eq(&p.full_name),
                        provinces::kind.eq(&p.kind),
                    ))
                    .execute(conn)?;
            }
            Some(_) => {}
        }
    }
    insert_rows!(conn, provinces::table, &fresh)?;

    let known: HashMap<String, (String, String, String, String)> = wards::table
        .select((
            wards::code,
            (
                wards::name,
                wards::full_name,
                wards::kind,
                wards::province_code,
            ),
        ))
        .load::<(String, (String, String, String, String))>(conn)?
        .into_iter()
        .collect();
    let mut fresh = Vec::new();
    for w in &input.units.wards {
        let now_is = (
            w.name.clone(),
            w.full_name.clone(),
            w.kind.clone(),
            w.province_code.clone(),
        );
        match known.get(&w.code) {
            None => fresh.push(NewWard {
                code: &w.code,
                name: &w.name,
                full_name: &w.full_name,
                kind: &w.kind,
                province_code: &w.province_code,
            }),
            Some(old) if *old != now_is => {
                diesel::update(wards::table.find(&w.code))
                    .set((
                        wards::name.eq(&w.name),
                        wards::full_name.eq(&w.full_name),
                        wards::kind.eq(&w.kind),
                        wards::province_code.eq(&w.province_code),
                    ))
                    .execute(conn)?;
            }
            Some(_) => {}
        }
    }
    for chunk in fresh.chunks(500) {
        insert_rows!(conn, wards::table, chunk)?;
    }
    Ok(())
}

/// Holidays and synonyms: add what is missing; never overwrite an administrator's edits.
fn seed_holidays_and_synonyms(conn: &mut DbConnection, input: &SeedInput) -> QueryResult<()> {
    let days: HashSet<chrono::NaiveDate> = holidays::table
        .select(holidays::day)
        .load(conn)?
        .into_iter()
        .collect();
    let fresh: Vec<NewHoliday> = input
        .holidays
        .iter()
        .filter(|h| !days.contains(&h.date))
        .map(|h| NewHoliday {
            day: h.date,
            name_vi: &h.name_vi,
            name_en: &h.name_en,
        })
        .collect();
    insert_rows!(conn, holidays::table, &fresh)?;

    let pairs: HashSet<(String, String)> = search_synonyms::table
        .select((search_synonyms::term, search_synonyms::expansion))
        .load(conn)?
        .into_iter()
        .collect();
    let mut seen = HashSet::new();
    let fresh: Vec<NewSynonym> = input
        .synonyms
        .iter()
        .filter(|s| !pairs.contains(&(s.term.clone(), s.expansion.clone())))
        .filter(|s| seen.insert((s.term.as_str(), s.expansion.as_str())))
        .map(|s| NewSynonym {
            term: &s.term,
            expansion: &s.expansion,
        })
        .collect();
    insert_rows!(conn, search_synonyms::table, &fresh)?;
    Ok(())
}

/// Ids of the lookup rows services point to, by name.
struct Lookups {
    fields: HashMap<String, i64>,
    ministries: HashMap<String, i64>,
    groups: HashMap<String, i64>,
}

/// The distinct names `names` yields, sorted.
fn distinct<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = names.collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn field_ids(conn: &mut DbConnection) -> QueryResult<HashMap<String, i64>> {
    Ok(fields::table
        .select((fields::name, fields::id))
        .load(conn)?
        .into_iter()
        .collect())
}

fn ministry_ids(conn: &mut DbConnection) -> QueryResult<HashMap<String, i64>> {
    Ok(agencies::table
        .filter(agencies::tier.eq("ministry"))
        .select((agencies::name, agencies::id))
        .load(conn)?
        .into_iter()
        .collect())
}

fn group_ids(conn: &mut DbConnection) -> QueryResult<HashMap<String, i64>> {
    Ok(target_groups::table
        .select((target_groups::name, target_groups::id))
        .load(conn)?
        .into_iter()
        .collect())
}

/// Fields, ministries, target groups: lookup tables keyed by name; missing names are added.
fn seed_lookups(
    conn: &mut DbConnection,
    procs: &[Procedure],
    now: NaiveDateTime,
) -> QueryResult<Lookups> {
    let known = field_ids(conn)?;
    let mut slugs: HashSet<String> = fields::table
        .select(fields::slug)
        .load(conn)?
        .into_iter()
        .collect();
    let mut fresh = Vec::new();
    for name in distinct(procs.iter().map(|p| p.field.as_str()))
        .into_iter()
        .filter(|n| !known.contains_key(*n))
    {
        let base = match slugify(name) {
            s if s.is_empty() => "khac".to_string(),
            s => s,
        };
        let mut slug = base.clone();
        let mut n = 2;
        while !slugs.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        fresh.push(NewField { name, slug });
    }
    insert_rows!(conn, fields::table, &fresh)?;

    let known = ministry_ids(conn)?;
    let fresh: Vec<NewAgency> = distinct(procs.iter().map(|p| p.ministry.as_str()))
        .into_iter()
        .filter(|n| !known.contains_key(*n))
        .map(|name| NewAgency {
            code: slugify(name),
            office_id: slugify(name),
            kind: "ministry",
            name,
            parent_id: None,
            tier: "ministry",
            province_code: None,
            ward_code: None,
            created_at: now,
        })
        .collect();
    insert_rows!(conn, agencies::table, &fresh)?;

    let known = group_ids(conn)?;
    let fresh: Vec<NewTargetGroup> = distinct(
        procs
            .iter()
            .flat_map(|p| p.target_groups.iter().map(String::as_str)),
    )
    .into_iter()
    .filter(|n| !known.contains_key(*n))
    .map(|name| NewTargetGroup { name })
    .collect();
    for chunk in fresh.chunks(500) {
        insert_rows!(conn, target_groups::table, chunk)?;
    }

    Ok(Lookups {
        fields: field_ids(conn)?,
        ministries: ministry_ids(conn)?,
        groups: group_ids(conn)?,
    })
}

/// What the database holds of a service before seeding: id, seed hash, who set the online
/// level, the level, the version.
type ExistingService = (i64, String, String, i32, i32);

/// Services: insert new codes, rewrite changed ones (keeping an administrator's online level),
/// then their child rows.
fn seed_services(
    conn: &mut DbConnection,
    procedures: &[Procedure],
    now: NaiveDateTime,
    lookups: &Lookups,
) -> Result<SeedReport> {
    let existing: HashMap<String, ExistingService> = services::table
        .select((
            services::code,
            (
                services::id,
                services::seed_hash,
                services::online_level_source,
                services::online_level,
                services::version,
            ),
        ))
        .load::<(String, ExistingService)>(conn)?
        .into_iter()
        .collect();
    let mut report = SeedReport::default();
    let mut new_rows = Vec::new();
    let mut rewrite: Vec<(i64, &Procedure)> = Vec::new();
    let mut inserted: Vec<&Procedure> = Vec::new();
    for p in procedures {
        let hash = content_hash(p)?;
        let field_id = *lookups.fields.get(&p.field).context("field id")?;
        let ministry_id = *lookups.ministries.get(&p.ministry).context("ministry id")?;
        let derived = level::derive_level(&p.channels);
        let row =
            |online_level: i32, source: &'static str, version: i32, seed_hash: String| ServiceRow {
                code: &p.code,
                name: &p.name,
                field_id,
                ministry_id,
                procedure_type: &p.procedure_type,
                decision_number: &p.decision_number,
                implementing_agency: &p.implementing_agency,
                competent_agency: &p.competent_agency,
                documents_text: &p.documents_text,
                steps: &p.steps,
                requirements: &p.requirements,
                result_code: &p.result_code,
                result: &p.result,
                related_procedures: &p.related_procedures,
                source_url: &p.source_url,
                online_level,
                online_level_source: source,
                has_online: level::has_online_channel(&p.channels),
                active: true,
                version,
                seed_hash,
                updated_at: now,
            };
        match existing.get(&p.code) {
            None => {
                new_rows.push(row(derived, "derived", 1, hash));
                inserted.push(p);
            }
            Some((_, old_hash, _, _, _)) if *old_hash == hash => report.services_unchanged += 1,
            Some((id, _, source, current, version)) => {
                let (lvl, src) = if source == "admin" {
                    (*current, "admin")
                } else {
                    (derived, "derived")
                };
                diesel::update(services::table.find(*id))
                    .set(&row(lvl, src, version + 1, hash))
                    .execute(conn)?;
                rewrite.push((*id, p));
            }
        }
    }
    for chunk in new_rows.chunks(100) {
        insert_rows!(conn, services::table, chunk)?;
    }
    report.services_inserted = inserted.len();
    report.services_updated = rewrite.len();

    let ids: HashMap<String, i64> = if inserted.is_empty() {
        HashMap::new()
    } else {
        services::table
            .select((services::code, services::id))
            .load(conn)?
            .into_iter()
            .collect()
    };
    for (id, _) in &rewrite {
        delete_children(conn, *id)?;
    }
    let mut targets: Vec<(i64, &Procedure)> = rewrite;
    for p in inserted {
        targets.push((*ids.get(&p.code).context("inserted service id")?, p));
    }
    insert_children(conn, &targets, &lookups.groups)?;
    Ok(report)
}

fn delete_children(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    use service_implementing_levels as sil;
    use service_target_groups as stg;
    diesel::delete(sil::table.filter(sil::service_id.eq(id))).execute(conn)?;
    diesel::delete(stg::table.filter(stg::service_id.eq(id))).execute(conn)?;
    diesel::delete(service_channels::table.filter(service_channels::service_id.eq(id)))
        .execute(conn)?;
    diesel::delete(service_documents::table.filter(service_documents::service_id.eq(id)))
        .execute(conn)?;
    diesel::delete(service_legal_bases::table.filter(service_legal_bases::service_id.eq(id)))
        .execute(conn)?;
    Ok(())
}

/// Implementing levels, target groups, channels, documents and legal basis of `targets`.
fn insert_children(
    conn: &mut DbConnection,
    targets: &[(i64, &Procedure)],
    group_ids: &HashMap<String, i64>,
) -> Result<()> {
    let mut levels = Vec::new();
    let mut groups = Vec::new();
    let mut channels = Vec::new();
    let mut documents = Vec::new();
    let mut legal = Vec::new();
    for &(service_id, p) in targets {
        let mut seen_levels = HashSet::new();
        for l in p
            .implementing_levels
            .iter()
            .filter(|l| seen_levels.insert(l.as_str()))
        {
            levels.push(NewLevel {
                service_id,
                level: l,
            });
        }
        let mut seen_groups = HashSet::new();
        for g in &p.target_groups {
            let target_group_id = *group_ids.get(g).context("target group id")?;
            if seen_groups.insert(target_group_id) {
                groups.push(NewServiceGroup {
                    service_id,
                    target_group_id,
                });
            }
        }
        for (i, ch) in p.channels.iter().enumerate() {
            channels.push(NewChannel {
                service_id,
                position: i as i32,
                channel: &ch.channel,
                processing_time: ch.processing_time,
                time_unit: ch.time_unit.as_deref(),
                time_unit_text: &ch.time_unit_text,
                fee_vnd: ch.fee_vnd,
                fee_text: &ch.fee_text,
            });
        }
        for (i, d) in p.documents.iter().enumerate() {
            documents.push(NewDocument {
                service_id,
                position: i as i32,
                case_name: &d.case,
                name: &d.name,
                form_template: &d.form_template,
                originals: d.originals,
                copies: d.copies,
            });
        }
        for (i, l) in p.legal_basis.iter().enumerate() {
            legal.push(NewLegal {
                service_id,
                position: i as i32,
                title: &l.title,
                number: &l.number,
            });
        }
    }
    for chunk in levels.chunks(1000) {
        insert_rows!(conn, service_implementing_levels::table, chunk)?;
    }
    for chunk in groups.chunks(1000) {
        insert_rows!(conn, service_target_groups::table, chunk)?;
    }
    for chunk in channels.chunks(500) {
        insert_rows!(conn, service_channels::table, chunk)?;
    }
    for chunk in documents.chunks(500) {
        insert_rows!(conn, service_documents::table, chunk)?;
    }
    for chunk in legal.chunks(500) {
        insert_rows!(conn, service_legal_bases::table, chunk)?;
    }
    Ok(())
}

/// Seeds when the seed files changed since the last run; otherwise returns at once.
pub fn run(conn: &mut DbConnection, data_dir: &Path) -> Result<SeedReport> {
    let started = Instant::now();
    let fingerprint = files::seed_fingerprint(data_dir)?;
    if get_state(conn, FINGERPRINT_KEY)?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(SeedReport {
            skipped: true,
            elapsed_ms: started.elapsed().as_millis(),
            ..Default::default()
        });
    }
    let input = SeedInput {
        fingerprint,
        procedures: files::read_procedures(&data_dir.join(files::PROCEDURES_FILE))?,
        units: files::read_admin_units(&data_dir.join(files::ADMIN_UNITS_FILE))?,
        holidays: files::read_holidays(&data_dir.join(files::HOLIDAYS_FILE))?,
        synonyms: read_synonyms_csv(&data_dir.join(files::SYNONYMS_FILE))?,
        directory: files::read_directory(&data_dir.join(files::DIRECTORY_FILE))?,
        rules: files::read_routing_rules(&data_dir.join(files::ROUTING_RULES_FILE))?,
        forms: files::read_forms(&data_dir.join(files::FORMS_DIR))?,
        now: chrono::Utc::now().naive_utc(),
    };
    let mut report =
        super::transaction(conn, |conn| seed_all(conn, &input)).context("seeding the database")?;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// What importing a catalogue file would do (the dry run) or did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportPlan {
    /// (code, name) of services the file adds.
    pub new: Vec<(String, String)>,
    /// (code, name, the fields that change) of services the file changes.
    pub changed: Vec<(String, String, Vec<&'static str>)>,
    /// (code, name) of services in force that the file no longer has: they are withdrawn.
    pub withdrawn: Vec<(String, String)>,
    pub unchanged: usize,
}

type StoredService = (
    i64,
    String,
    String,
    (String, String, String, String, String, String),
    (String, String, String, String, String, String),
    bool,
);

/// The dry run: compares the file with the services stored, field by field (the record's lists
/// — channels, documents, legal basis, levels, target groups — are compared through the
/// record's fingerprint and reported as one part).
pub fn plan_import(conn: &mut DbConnection, procedures: &[Procedure]) -> Result<ImportPlan> {
    let fields_by_id: HashMap<i64, String> = field_ids(conn)?
        .into_iter()
        .map(|(name, id)| (id, name))
        .collect();
    let ministries_by_id: HashMap<i64, String> = ministry_ids(conn)?
        .into_iter()
        .map(|(name, id)| (id, name))
        .collect();
    let stored: Vec<(String, StoredService, i64, i64)> = services::table
        .select((
            services::code,
            (
                services::id,
                services::seed_hash,
                services::name,
                (
                    services::procedure_type,
                    services::decision_number,
                    services::implementing_agency,
                    services::competent_agency,
                    services::documents_text,
                    services::steps,
                ),
                (
                    services::requirements,
                    services::result_code,
                    services::result,
                    services::related_procedures,
                    services::source_url,
                    services::code,
                ),
                services::active,
            ),
            services::field_id,
            services::ministry_id,
        ))
        .load(conn)?;
    let stored: HashMap<String, (StoredService, i64, i64)> = stored
        .into_iter()
        .map(|(code, s, f, m)| (code, (s, f, m)))
        .collect();
    let mut plan = ImportPlan::default();
    let mut in_file: HashSet<&str> = HashSet::new();
    for p in procedures {
        in_file.insert(p.code.as_str());
        let Some(((_, hash, name, a, b, active), field_id, ministry_id)) = stored.get(&p.code)
        else {
            plan.new.push((p.code.clone(), p.name.clone()));
            continue;
        };
        let record_changed = *hash != content_hash(p)?;
        if !record_changed && *active {
            plan.unchanged += 1;
            continue;
        }
        let mut changed: Vec<&'static str> = Vec::new();
        let mut check = |label: &'static str, old: &str, new: &str| {
            if old != new {
                changed.push(label);
            }
        };
        check("name", name, &p.name);
        check(
            "field",
            fields_by_id.get(field_id).map(String::as_str).unwrap_or(""),
            &p.field,
        );
        check(
            "ministry",
            ministries_by_id
                .get(ministry_id)
                .map(String::as_str)
                .unwrap_or(""),
            &p.ministry,
        );
        check("procedure_type", &a.0, &p.procedure_type);
        check("decision_number", &a.1, &p.decision_number);
        check("implementing_agency", &a.2, &p.implementing_agency);
        check("competent_agency", &a.3, &p.competent_agency);
        check("documents_text", &a.4, &p.documents_text);
        check("steps", &a.5, &p.steps);
        check("requirements", &b.0, &p.requirements);
        check("result_code", &b.1, &p.result_code);
        check("result", &b.2, &p.result);
        check("related_procedures", &b.3, &p.related_procedures);
        check("source_url", &b.4, &p.source_url);
        // The record changed but none of its fields above: its lists did.
        if record_changed && changed.is_empty() {
            changed.push("lists");
        }
        if !*active {
            changed.push("back_in_force");
        }
        plan.changed.push((p.code.clone(), p.name.clone(), changed));
    }
    let mut withdrawn: Vec<(String, String)> = stored
        .iter()
        .filter(|(code, ((_, _, _, _, _, active), _, _))| {
            *active && !in_file.contains(code.as_str())
        })
        .map(|(code, ((_, _, name, _, _, _), _, _))| (code.clone(), name.clone()))
        .collect();
    withdrawn.sort();
    plan.withdrawn = withdrawn;
    plan.new.sort();
    plan.changed.sort();
    Ok(plan)
}

/// Applies a catalogue file in one transaction: new services added, changed ones rewritten by
/// code (an online level set by an administrator, the publication state, forms and routing
/// are kept), services missing from the file withdrawn; the catalogue's version moves on.
pub fn apply_import(
    conn: &mut DbConnection,
    procedures: &[Procedure],
    now: NaiveDateTime,
) -> Result<ImportPlan> {
    super::transaction(conn, |conn| {
        let plan = plan_import(conn, procedures)?;
        let lookups = seed_lookups(conn, procedures, now)?;
        seed_services(conn, procedures, now, &lookups)?;
        // Seeding rewrites only records whose fingerprint changed; one withdrawn and back
        // with the same record is put back in force here.
        let codes: Vec<&str> = procedures.iter().map(|p| p.code.as_str()).collect();
        for chunk in codes.chunks(500) {
            diesel::update(
                services::table
                    .filter(services::code.eq_any(chunk))
                    .filter(services::active.eq(false)),
            )
            .set((services::active.eq(true), services::updated_at.eq(now)))
            .execute(conn)?;
        }
        let withdrawn: Vec<&str> = plan.withdrawn.iter().map(|(c, _)| c.as_str()).collect();
        for chunk in withdrawn.chunks(500) {
            diesel::update(services::table.filter(services::code.eq_any(chunk)))
                .set((
                    services::active.eq(false),
                    services::version.eq(services::version + 1),
                    services::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        super::catalogue::bump_catalogue_version(conn)?;
        Ok(plan)
    })
}
