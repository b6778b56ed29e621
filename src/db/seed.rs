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
use crate::domain::catalogue::slugify;
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
    now: NaiveDateTime,
}

/// Replaces one `app_state` row with the concrete connection `$c`.
macro_rules! put_state {
    ($c:ident, $key:expr, $value:expr, $now:expr) => {{
        diesel::delete(app_state::table.find($key)).execute($c)?;
        diesel::insert_into(app_state::table)
            .values((
                app_state::key.eq($key),
                app_state::value.eq($value),
                app_state::updated_at.eq($now),
            ))
            .execute($c)?;
    }};
}

/// The seeding transaction, expanded once per backend so bulk inserts use the concrete connection.
macro_rules! seed_body {
    ($c:ident, $input:expr) => {{
        let input: &SeedInput = $input;
        let now = input.now;

        // Administrative units: insert new codes, update renamed ones.
        let known: HashMap<String, (String, String, String)> = provinces::table
            .select((provinces::code, (provinces::name, provinces::full_name, provinces::kind)))
            .load::<(String, (String, String, String))>($c)?
            .into_iter()
            .collect();
        let mut fresh = Vec::new();
        for p in &input.units.provinces {
            match known.get(&p.code) {
                None => fresh.push(NewProvince { code: &p.code, name: &p.name, full_name: &p.full_name, kind: &p.kind }),
                Some(old) if *old != (p.name.clone(), p.full_name.clone(), p.kind.clone()) => {
                    diesel::update(provinces::table.find(&p.code))
                        .set((provinces::name.eq(&p.name), provinces::full_name.eq(&p.full_name), provinces::kind.eq(&p.kind)))
                        .execute($c)?;
                }
                Some(_) => {}
            }
        }
        diesel::insert_into(provinces::table).values(&fresh).execute($c)?;

        let known: HashMap<String, (String, String, String, String)> = wards::table
            .select((wards::code, (wards::name, wards::full_name, wards::kind, wards::province_code)))
            .load::<(String, (String, String, String, String))>($c)?
            .into_iter()
            .collect();
        let mut fresh = Vec::new();
        for w in &input.units.wards {
            match known.get(&w.code) {
                None => fresh.push(NewWard {
                    code: &w.code,
                    name: &w.name,
                    full_name: &w.full_name,
                    kind: &w.kind,
                    province_code: &w.province_code,
                }),
                Some(old) if *old != (w.name.clone(), w.full_name.clone(), w.kind.clone(), w.province_code.clone()) => {
                    diesel::update(wards::table.find(&w.code))
                        .set((
                            wards::name.eq(&w.name),
                            wards::full_name.eq(&w.full_name),
                            wards::kind.eq(&w.kind),
                            wards::province_code.eq(&w.province_code),
                        ))
                        .execute($c)?;
                }
                Some(_) => {}
            }
        }
        for chunk in fresh.chunks(500) {
            diesel::insert_into(wards::table).values(chunk).execute($c)?;
        }

        // Holidays and synonyms: add what is missing; never overwrite an administrator's edits.
        let days: HashSet<chrono::NaiveDate> = holidays::table.select(holidays::day).load($c)?.into_iter().collect();
        let fresh: Vec<NewHoliday> = input
            .holidays
            .iter()
            .filter(|h| !days.contains(&h.date))
            .map(|h| NewHoliday { day: h.date, name_vi: &h.name_vi, name_en: &h.name_en })
            .collect();
        diesel::insert_into(holidays::table).values(&fresh).execute($c)?;

        let pairs: HashSet<(String, String)> = search_synonyms::table
            .select((search_synonyms::term, search_synonyms::expansion))
            .load($c)?
            .into_iter()
            .collect();
        let mut seen = HashSet::new();
        let fresh: Vec<NewSynonym> = input
            .synonyms
            .iter()
            .filter(|s| !pairs.contains(&(s.term.clone(), s.expansion.clone())))
            .filter(|s| seen.insert((s.term.as_str(), s.expansion.as_str())))
            .map(|s| NewSynonym { term: &s.term, expansion: &s.expansion })
            .collect();
        diesel::insert_into(search_synonyms::table).values(&fresh).execute($c)?;

        // Fields, ministries, target groups: lookup tables keyed by name.
        let mut field_ids: HashMap<String, i64> =
            fields::table.select((fields::name, fields::id)).load($c)?.into_iter().collect();
        let mut slugs: HashSet<String> = fields::table.select(fields::slug).load($c)?.into_iter().collect();
        let mut names: Vec<&str> = input.procedures.iter().map(|p| p.field.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut fresh = Vec::new();
        for name in names.into_iter().filter(|n| !field_ids.contains_key(*n)) {
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
        diesel::insert_into(fields::table).values(&fresh).execute($c)?;
        if !fresh.is_empty() {
            field_ids = fields::table.select((fields::name, fields::id)).load($c)?.into_iter().collect();
        }

        let mut ministry_ids: HashMap<String, i64> = agencies::table
            .filter(agencies::tier.eq("ministry"))
            .select((agencies::name, agencies::id))
            .load($c)?
            .into_iter()
            .collect();
        let mut names: Vec<&str> = input.procedures.iter().map(|p| p.ministry.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let fresh: Vec<NewAgency> = names
            .into_iter()
            .filter(|n| !ministry_ids.contains_key(*n))
            .map(|name| NewAgency {
                code: slugify(name),
                name,
                parent_id: None,
                tier: "ministry",
                province_code: None,
                ward_code: None,
                created_at: now,
            })
            .collect();
        diesel::insert_into(agencies::table).values(&fresh).execute($c)?;
        if !fresh.is_empty() {
            ministry_ids = agencies::table
                .filter(agencies::tier.eq("ministry"))
                .select((agencies::name, agencies::id))
                .load($c)?
                .into_iter()
                .collect();
        }

        let mut group_ids: HashMap<String, i64> =
            target_groups::table.select((target_groups::name, target_groups::id)).load($c)?.into_iter().collect();
        let mut names: Vec<&str> =
            input.procedures.iter().flat_map(|p| p.target_groups.iter().map(|g| g.as_str())).collect();
        names.sort_unstable();
        names.dedup();
        let fresh: Vec<NewTargetGroup> = names
            .into_iter()
            .filter(|n| !group_ids.contains_key(*n))
            .map(|name| NewTargetGroup { name })
            .collect();
        for chunk in fresh.chunks(500) {
            diesel::insert_into(target_groups::table).values(chunk).execute($c)?;
        }
        if !fresh.is_empty() {
            group_ids =
                target_groups::table.select((target_groups::name, target_groups::id)).load($c)?.into_iter().collect();
        }

        // Services: insert new codes, rewrite changed ones (keeping an administrator's online level).
        let existing: HashMap<String, (i64, String, String, i32, i32)> = services::table
            .select((
                services::code,
                (services::id, services::seed_hash, services::online_level_source, services::online_level, services::version),
            ))
            .load::<(String, (i64, String, String, i32, i32))>($c)?
            .into_iter()
            .collect();
        let mut report = SeedReport::default();
        let mut new_rows = Vec::new();
        let mut rewrite: Vec<(i64, &Procedure)> = Vec::new();
        let mut inserted: Vec<&Procedure> = Vec::new();
        for p in &input.procedures {
            let hash = content_hash(p)?;
            let field_id = *field_ids.get(&p.field).context("field id")?;
            let ministry_id = *ministry_ids.get(&p.ministry).context("ministry id")?;
            let derived = level::derive_level(&p.channels);
            let row = |online_level: i32, source: &'static str, version: i32, seed_hash: String| ServiceRow {
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
                    let (lvl, src) = if source == "admin" { (*current, "admin") } else { (derived, "derived") };
                    diesel::update(services::table.find(*id)).set(&row(lvl, src, version + 1, hash)).execute($c)?;
                    rewrite.push((*id, p));
                }
            }
        }
        for chunk in new_rows.chunks(100) {
            diesel::insert_into(services::table).values(chunk).execute($c)?;
        }
        report.services_inserted = inserted.len();
        report.services_updated = rewrite.len();

        let ids: HashMap<String, i64> = if inserted.is_empty() {
            HashMap::new()
        } else {
            services::table.select((services::code, services::id)).load($c)?.into_iter().collect()
        };
        for (id, _) in &rewrite {
            diesel::delete(service_implementing_levels::table.filter(service_implementing_levels::service_id.eq(id)))
                .execute($c)?;
            diesel::delete(service_target_groups::table.filter(service_target_groups::service_id.eq(id))).execute($c)?;
            diesel::delete(service_channels::table.filter(service_channels::service_id.eq(id))).execute($c)?;
            diesel::delete(service_documents::table.filter(service_documents::service_id.eq(id))).execute($c)?;
            diesel::delete(service_legal_bases::table.filter(service_legal_bases::service_id.eq(id))).execute($c)?;
        }
        let mut targets: Vec<(i64, &Procedure)> = rewrite;
        for p in inserted {
            targets.push((*ids.get(&p.code).context("inserted service id")?, p));
        }

        let mut levels = Vec::new();
        let mut groups = Vec::new();
        let mut channels = Vec::new();
        let mut documents = Vec::new();
        let mut legal = Vec::new();
        for (service_id, p) in &targets {
            let service_id = *service_id;
            let mut seen_levels = HashSet::new();
            for l in p.implementing_levels.iter().filter(|l| seen_levels.insert(l.as_str())) {
                levels.push(NewLevel { service_id, level: l });
            }
            let mut seen_groups = HashSet::new();
            for g in &p.target_groups {
                let target_group_id = *group_ids.get(g).context("target group id")?;
                if seen_groups.insert(target_group_id) {
                    groups.push(NewServiceGroup { service_id, target_group_id });
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
                legal.push(NewLegal { service_id, position: i as i32, title: &l.title, number: &l.number });
            }
        }
        for chunk in levels.chunks(1000) {
            diesel::insert_into(service_implementing_levels::table).values(chunk).execute($c)?;
        }
        for chunk in groups.chunks(1000) {
            diesel::insert_into(service_target_groups::table).values(chunk).execute($c)?;
        }
        for chunk in channels.chunks(500) {
            diesel::insert_into(service_channels::table).values(chunk).execute($c)?;
        }
        for chunk in documents.chunks(500) {
            diesel::insert_into(service_documents::table).values(chunk).execute($c)?;
        }
        for chunk in legal.chunks(500) {
            diesel::insert_into(service_legal_bases::table).values(chunk).execute($c)?;
        }

        put_state!($c, FINGERPRINT_KEY, input.fingerprint.as_str(), now);
        let version: Option<String> = app_state::table
            .find(CATALOGUE_VERSION_KEY)
            .select(app_state::value)
            .first($c)
            .optional()?;
        let next = version.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) + 1;
        put_state!($c, CATALOGUE_VERSION_KEY, next.to_string().as_str(), now);
        Ok(report)
    }};
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
        now: chrono::Utc::now().naive_utc(),
    };
    let mut report = crate::with_backend!(conn, |c| c
        .transaction::<_, anyhow::Error, _>(|c| seed_body!(c, &input)))
    .context("seeding the database")?;
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}
