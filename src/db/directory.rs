//! The agency directory and routing rules: seeding them from `data/` (offices generated from the
//! administrative units; identifiers stable across reseeds because they are built from unit
//! codes), and the lookups the application journey and the public office pages need.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{agencies, routing_rules, service_implementing_levels, services};
use crate::domain::routing::{Level, Rule, ServiceKey, Target};
use crate::seed::{AdminUnits, Directory, RuleRow};

/// `app_state` key set once the routing rules were seeded: later seeds leave them to
/// administrators (a rule they deleted stays deleted).
pub const RULES_SEEDED_KEY: &str = "routing_rules_seeded";

impl TryFrom<String> for Target {
    type Error = super::types::UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        super::types::parse_stored("office kind", value)
    }
}

impl TryFrom<String> for Level {
    type Error = super::types::UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        super::types::parse_stored("level", value)
    }
}

/// An office of the directory.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = agencies)]
pub struct Office {
    #[serde(skip)]
    pub id: i64,
    pub office_id: String,
    pub name: String,
    #[diesel(deserialize_as = String)]
    pub kind: Target,
    pub tier: String,
    #[serde(skip)]
    pub parent_id: Option<i64>,
    pub department_key: Option<String>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub address: String,
    pub phone: String,
    pub email: String,
}

#[derive(Insertable)]
#[diesel(table_name = agencies)]
struct NewOffice {
    code: String,
    office_id: String,
    name: String,
    parent_id: Option<i64>,
    tier: &'static str,
    kind: &'static str,
    department_key: Option<String>,
    province_code: Option<String>,
    ward_code: Option<String>,
    address: String,
    created_at: NaiveDateTime,
}

fn office_ids(conn: &mut DbConnection) -> QueryResult<HashMap<String, (i64, String)>> {
    Ok(agencies::table
        .select((agencies::office_id, agencies::id, agencies::name))
        .load::<(String, i64, String)>(conn)?
        .into_iter()
        .map(|(o, id, name)| (o, (id, name)))
        .collect())
}

/// Inserts the offices of `fresh` that are missing and renames those whose name changed (a
/// renamed ward); contact details an administrator entered are never overwritten.
fn upsert(conn: &mut DbConnection, fresh: Vec<NewOffice>) -> QueryResult<()> {
    let known = office_ids(conn)?;
    let mut missing = Vec::new();
    for o in fresh {
        match known.get(&o.office_id) {
            None => missing.push(o),
            Some((id, name)) if *name != o.name => {
                diesel::update(agencies::table.find(*id))
                    .set(agencies::name.eq(&o.name))
                    .execute(conn)?;
            }
            Some(_) => {}
        }
    }
    for chunk in missing.chunks(500) {
        crate::with_backend!(&mut *conn, |c| diesel::insert_into(agencies::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The ministries get their identifiers and addresses; each province its People's Committee
/// and departments; each ward its offices.
pub fn seed_directory(
    conn: &mut DbConnection,
    dir: &Directory,
    units: &AdminUnits,
    ministries: &HashMap<String, i64>,
    now: NaiveDateTime,
) -> Result<()> {
    for m in &dir.ministries {
        anyhow::ensure!(
            crate::domain::dossier::is_agency_id(&m.office_id),
            "directory: {} is not an office identifier",
            m.office_id
        );
        if let Some(id) = ministries.get(&m.name) {
            // Only a ministry still on its placeholder identifier (its slug) is given one.
            diesel::update(
                agencies::table
                    .find(*id)
                    .filter(agencies::office_id.eq(agencies::code)),
            )
            .set((
                agencies::office_id.eq(&m.office_id),
                agencies::address.eq(&m.address),
            ))
            .execute(conn)?;
        }
    }
    let province_id = |code: &str| format!("H{code}");
    let committees: Vec<NewOffice> = units
        .provinces
        .iter()
        .map(|p| NewOffice {
            code: format!(
                "000.00.{}.{}",
                dir.province_committee.number,
                province_id(&p.code)
            ),
            office_id: format!(
                "000.00.{}.{}",
                dir.province_committee.number,
                province_id(&p.code)
            ),
            name: format!("{} {}", dir.province_committee.name, p.full_name),
            parent_id: None,
            tier: "province",
            kind: Target::ProvinceCommittee.as_str(),
            department_key: None,
            province_code: Some(p.code.clone()),
            ward_code: None,
            address: p.full_name.clone(),
            created_at: now,
        })
        .collect();
    upsert(conn, committees)?;
    let ids = office_ids(conn)?;
    let committee_of = |p: &str| {
        ids.get(&format!(
            "000.00.{}.{}",
            dir.province_committee.number,
            province_id(p)
        ))
        .map(|(id, _)| *id)
    };
    let mut departments = Vec::new();
    for p in &units.provinces {
        for d in &dir.departments {
            let parent_id = match d.parent.as_str() {
                "ministry" => ministries.get(&d.ministry).copied(),
                _ => committee_of(&p.code),
            };
            let office_id = format!("000.00.{}.{}", d.number, province_id(&p.code));
            departments.push(NewOffice {
                code: office_id.clone(),
                office_id,
                name: format!("{} {}", d.name, p.full_name),
                parent_id,
                tier: "province",
                kind: Target::Department.as_str(),
                department_key: Some(d.key.clone()),
                province_code: Some(p.code.clone()),
                ward_code: None,
                address: p.full_name.clone(),
                created_at: now,
            });
        }
    }
    upsert(conn, departments)?;
    let ids = office_ids(conn)?;
    let police_number = dir
        .departments
        .iter()
        .find(|d| d.key == "cong-an")
        .map(|d| d.number.clone());
    let province_names: HashMap<&str, &str> = units
        .provinces
        .iter()
        .map(|p| (p.code.as_str(), p.full_name.as_str()))
        .collect();
    let mut ward_offices = Vec::new();
    for w in &units.wards {
        for o in &dir.ward_offices {
            let kind = Target::parse(&o.kind)
                .filter(|k| matches!(k, Target::WardCommittee | Target::WardPolice))
                .with_context(|| format!("directory: unknown ward office kind {}", o.kind))?;
            let parent = match (kind, &police_number) {
                (Target::WardPolice, Some(n)) => {
                    ids.get(&format!("000.00.{n}.{}", province_id(&w.province_code)))
                }
                _ => ids.get(&format!(
                    "000.00.{}.{}",
                    dir.province_committee.number,
                    province_id(&w.province_code)
                )),
            };
            let office_id = format!(
                "{}.{}.00.{}",
                w.code,
                o.number,
                province_id(&w.province_code)
            );
            ward_offices.push(NewOffice {
                code: office_id.clone(),
                office_id,
                name: format!("{} {}", o.name, w.full_name),
                parent_id: parent.map(|(id, _)| *id),
                tier: "commune",
                kind: kind.as_str(),
                department_key: None,
                province_code: Some(w.province_code.clone()),
                ward_code: Some(w.code.clone()),
                address: format!(
                    "{}, {}",
                    w.full_name,
                    province_names.get(w.province_code.as_str()).unwrap_or(&"")
                ),
                created_at: now,
            });
        }
    }
    upsert(conn, ward_offices)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = routing_rules)]
struct NewRule<'a> {
    level: &'a str,
    ministry_id: Option<i64>,
    field_id: Option<i64>,
    service_code: Option<&'a str>,
    target: &'a str,
    department_key: Option<&'a str>,
    note: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The routing rules of `data/routing_rules.csv`, once (see `RULES_SEEDED_KEY`). Every name must
/// resolve: a rule for an unknown ministry, field or department stops the seed.
pub fn seed_rules(
    conn: &mut DbConnection,
    rows: &[RuleRow],
    dir: &Directory,
    ministries: &HashMap<String, i64>,
    fields: &HashMap<String, i64>,
    now: NaiveDateTime,
) -> Result<()> {
    if super::catalogue::get_state(conn, RULES_SEEDED_KEY)?.is_some() {
        return Ok(());
    }
    let departments: HashSet<&str> = dir.departments.iter().map(|d| d.key.as_str()).collect();
    let mut fresh = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let at = || format!("routing_rules.csv row {}", i + 2);
        let level = Level::parse(&r.level).with_context(|| format!("{}: level", at()))?;
        let target = Target::parse(&r.target).with_context(|| format!("{}: target", at()))?;
        anyhow::ensure!(
            target.level() == level,
            "{}: a {} office cannot receive {} procedures",
            at(),
            r.target,
            r.level
        );
        let opt = |s: &str| (!s.trim().is_empty()).then_some(s.trim().to_string());
        let ministry_id = match opt(&r.ministry) {
            Some(m) => Some(
                *ministries
                    .get(&m)
                    .with_context(|| format!("{}: ministry {m}", at()))?,
            ),
            None => None,
        };
        let field_id = match opt(&r.field) {
            Some(f) => Some(
                *fields
                    .get(&f)
                    .with_context(|| format!("{}: field {f}", at()))?,
            ),
            None => None,
        };
        let department = opt(&r.department);
        anyhow::ensure!(
            (target == Target::Department) == department.is_some(),
            "{}: a department rule names its department, and only it",
            at()
        );
        if let Some(d) = &department {
            anyhow::ensure!(departments.contains(d.as_str()), "{}: department {d}", at());
        }
        fresh.push(NewRule {
            level: level.as_str(),
            ministry_id,
            field_id,
            service_code: (!r.service.trim().is_empty()).then_some(r.service.trim()),
            target: target.as_str(),
            department_key: (!r.department.trim().is_empty()).then_some(r.department.trim()),
            note: r.note.trim(),
            created_at: now,
            updated_at: now,
        });
    }
    for rule in &fresh {
        diesel::insert_into(routing_rules::table)
            .values(rule)
            .execute(conn)?;
    }
    super::seed::put_state(conn, RULES_SEEDED_KEY, "1", now)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = routing_rules)]
struct RuleRecord {
    id: i64,
    #[diesel(deserialize_as = String)]
    level: Level,
    ministry_id: Option<i64>,
    field_id: Option<i64>,
    service_code: Option<String>,
    #[diesel(deserialize_as = String)]
    target: Target,
    department_key: Option<String>,
}

pub fn rules(conn: &mut DbConnection) -> QueryResult<Vec<Rule>> {
    Ok(routing_rules::table
        .order(routing_rules::id)
        .select(RuleRecord::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| Rule {
            id: r.id,
            level: r.level,
            ministry_id: r.ministry_id,
            field_id: r.field_id,
            service_code: r.service_code,
            target: r.target,
            department_key: r.department_key,
        })
        .collect())
}

/// The rule's note (plain words shown to the citizen and kept on the dossier).
pub fn rule_note(conn: &mut DbConnection, id: i64) -> QueryResult<String> {
    routing_rules::table
        .find(id)
        .select(routing_rules::note)
        .first(conn)
}

/// The place a citizen declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub province: Option<String>,
    pub ward: Option<String>,
}

/// The office a rule sends a service to, for a place; None when the place has no such office
/// (or the rule's level needs a place that was not given).
pub fn office_for(
    conn: &mut DbConnection,
    rule: &Rule,
    ministry_id: i64,
    place: &Place,
) -> QueryResult<Option<Office>> {
    let base = agencies::table
        .filter(agencies::kind.eq(rule.target.as_str()))
        .select(Office::as_select());
    match rule.target {
        Target::Ministry => base
            .filter(agencies::id.eq(ministry_id))
            .first(conn)
            .optional(),
        Target::ProvinceCommittee | Target::Department => {
            let Some(p) = &place.province else {
                return Ok(None);
            };
            let q = base.filter(agencies::province_code.eq(p));
            match &rule.department_key {
                Some(d) if rule.target == Target::Department => q
                    .filter(agencies::department_key.eq(d))
                    .first(conn)
                    .optional(),
                _ => q.first(conn).optional(),
            }
        }
        Target::WardCommittee | Target::WardPolice => {
            let Some(w) = &place.ward else {
                return Ok(None);
            };
            base.filter(agencies::ward_code.eq(w))
                .first(conn)
                .optional()
        }
    }
}

pub fn find_office(conn: &mut DbConnection, office_id: &str) -> QueryResult<Option<Office>> {
    agencies::table
        .filter(agencies::office_id.eq(office_id))
        .select(Office::as_select())
        .first(conn)
        .optional()
}

pub fn office_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Office>> {
    agencies::table
        .find(id)
        .select(Office::as_select())
        .first(conn)
        .optional()
}

/// A filter over the directory (the API and the offices page).
#[derive(Debug, Clone, Default)]
pub struct OfficeFilter {
    pub province: Option<String>,
    pub kind: Option<Target>,
    pub ward: Option<String>,
}

/// Offices matching `f`, ordered by identifier, one page; and how many match in all.
pub fn list_offices(
    conn: &mut DbConnection,
    f: &OfficeFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Office>, i64)> {
    let filtered = || {
        let mut q = agencies::table.into_boxed();
        if let Some(p) = &f.province {
            q = q.filter(agencies::province_code.eq(p.clone()));
        }
        if let Some(w) = &f.ward {
            q = q.filter(agencies::ward_code.eq(w.clone()));
        }
        if let Some(k) = f.kind {
            q = q.filter(agencies::kind.eq(k.as_str()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(agencies::office_id)
        .offset(offset)
        .limit(limit)
        .select(Office::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// What routing needs of a service: its keys and implementing levels.
#[derive(Debug, Clone)]
pub struct RoutableService {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub field_id: i64,
    pub ministry_id: i64,
    pub online_level: i32,
    pub levels: Vec<String>,
}

impl RoutableService {
    pub fn key(&self) -> ServiceKey<'_> {
        ServiceKey {
            code: &self.code,
            field_id: self.field_id,
            ministry_id: self.ministry_id,
        }
    }
}

pub fn routable_service(
    conn: &mut DbConnection,
    code: &str,
) -> QueryResult<Option<RoutableService>> {
    let Some((id, code, name, field_id, ministry_id, online_level)) = services::table
        .filter(services::code.eq(code))
        .filter(services::active.eq(true))
        // An unpublished service takes no new applications.
        .filter(services::published.eq(true))
        .select((
            services::id,
            services::code,
            services::name,
            services::field_id,
            services::ministry_id,
            services::online_level,
        ))
        .first::<(i64, String, String, i64, i64, i32)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let levels = service_implementing_levels::table
        .filter(service_implementing_levels::service_id.eq(id))
        .select(service_implementing_levels::level)
        .load(conn)?;
    Ok(Some(RoutableService {
        id,
        code,
        name,
        field_id,
        ministry_id,
        online_level,
        levels,
    }))
}

/// Every service in force at `min_level` or above, by code, with what routing looks at and the
/// levels it is implemented at (two queries, whatever the number of services).
pub fn services_with_levels(
    conn: &mut DbConnection,
    min_level: i32,
) -> QueryResult<Vec<RoutableService>> {
    let rows: Vec<(i64, String, String, i64, i64, i32)> = services::table
        .filter(services::active.eq(true))
        .filter(services::online_level.ge(min_level))
        .order(services::code)
        .select((
            services::id,
            services::code,
            services::name,
            services::field_id,
            services::ministry_id,
            services::online_level,
        ))
        .load(conn)?;
    let mut levels: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, level) in service_implementing_levels::table
        .select((
            service_implementing_levels::service_id,
            service_implementing_levels::level,
        ))
        .load::<(i64, String)>(conn)?
    {
        levels.entry(id).or_default().push(level);
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, code, name, field_id, ministry_id, online_level)| RoutableService {
                levels: levels.remove(&id).unwrap_or_default(),
                id,
                code,
                name,
                field_id,
                ministry_id,
                online_level,
            },
        )
        .collect())
}

/// The online services (level 3–4) an office receives: those whose deciding rule, at a level
/// they are implemented at, sends them to this kind of office (and, for a ministry, this one).
pub fn services_received(
    conn: &mut DbConnection,
    office: &Office,
    limit: usize,
) -> QueryResult<(Vec<(String, String)>, usize)> {
    let all_rules = rules(conn)?;
    let mut out = Vec::new();
    let mut total = 0;
    for svc in services_with_levels(conn, 3)? {
        let key = svc.key();
        let ministry_id = svc.ministry_id;
        let received = svc.levels.iter().any(|l| {
            Level::parse(l)
                .and_then(|lvl| crate::domain::routing::decide(&all_rules, &key, lvl))
                .is_some_and(|r| {
                    r.target == office.kind
                        && (r.target != Target::Department
                            || r.department_key == office.department_key)
                        && (r.target != Target::Ministry || ministry_id == office.id)
                })
        });
        if received {
            total += 1;
            if out.len() < limit {
                out.push((svc.code.clone(), svc.name.clone()));
            }
        }
    }
    Ok((out, total))
}
