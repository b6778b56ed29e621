//! Administrators' routing rules: list them with the names they refer to, add, edit, delete
//! (each one transaction with an audit entry), try a service and a place ("where would this
//! go?"), and report the services × levels and the provinces that have no route.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Origin;
use super::audit::{self, Entry};
use super::directory::{self, Office, Place};
use super::schema::{agencies, fields, routing_rules, services};
use super::{DbConnection, transaction};
use crate::domain::admin::{Outcome, Refusal};
use crate::domain::audit::AuditEvent;
use crate::domain::routing::{Level, Rule, Target, decide};

/// A rule as the administrator reads it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleView {
    pub id: i64,
    pub level: &'static str,
    pub ministry_id: Option<i64>,
    pub ministry: Option<String>,
    pub field_id: Option<i64>,
    pub field: Option<String>,
    pub service_code: Option<String>,
    pub target: &'static str,
    pub department_key: Option<String>,
    pub note: String,
    pub specificity: u8,
}

pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<RuleView>> {
    let rules = directory::rules(conn)?;
    let notes: HashMap<i64, String> = routing_rules::table
        .select((routing_rules::id, routing_rules::note))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let ministries: HashMap<i64, String> = ministries(conn)?.into_iter().collect();
    let field_names: HashMap<i64, String> = field_list(conn)?.into_iter().collect();
    Ok(rules
        .into_iter()
        .map(|r| RuleView {
            id: r.id,
            level: r.level.as_str(),
            ministry: r.ministry_id.and_then(|m| ministries.get(&m).cloned()),
            ministry_id: r.ministry_id,
            field: r.field_id.and_then(|f| field_names.get(&f).cloned()),
            field_id: r.field_id,
            specificity: r.specificity(),
            service_code: r.service_code,
            target: r.target.as_str(),
            department_key: r.department_key,
            note: notes.get(&r.id).cloned().unwrap_or_default(),
        })
        .collect())
}

/// The ministries rules may narrow to (id, name), by name.
pub fn ministries(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    agencies::table
        .filter(agencies::kind.eq(Target::Ministry.as_str()))
        .order(agencies::name)
        .select((agencies::id, agencies::name))
        .load(conn)
}

/// The fields of the catalogue (id, name), by name.
pub fn field_list(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    fields::table
        .order(fields::name)
        .select((fields::id, fields::name))
        .load(conn)
}

/// The departments offices can be (their key), with how many provinces have one.
pub fn department_keys(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    let keys: Vec<Option<String>> = agencies::table
        .filter(agencies::kind.eq(Target::Department.as_str()))
        .select(agencies::department_key)
        .load(conn)?;
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    for k in keys.into_iter().flatten() {
        *counts.entry(k).or_default() += 1;
    }
    Ok(counts.into_iter().collect())
}

/// A rule to save, as typed (ids already parsed).
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub level: Level,
    pub ministry_id: Option<i64>,
    pub field_id: Option<i64>,
    pub service_code: Option<String>,
    pub target: Target,
    pub department_key: Option<String>,
    pub note: String,
}

/// Why a rule cannot be saved, beyond its own shape.
fn check(conn: &mut DbConnection, id: Option<i64>, r: &RuleInput) -> QueryResult<Outcome<()>> {
    if r.target.level() != r.level {
        return Ok(Err(Refusal::RuleLevelMismatch));
    }
    if let Some(m) = r.ministry_id
        && !ministries(conn)?.iter().any(|(id, _)| *id == m)
    {
        return Ok(Err(Refusal::RuleUnknownMinistry));
    }
    if let Some(f) = r.field_id {
        let n: i64 = fields::table
            .filter(fields::id.eq(f))
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Ok(Err(Refusal::RuleUnknownField));
        }
    }
    if let Some(code) = &r.service_code {
        let n: i64 = services::table
            .filter(services::code.eq(code))
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Ok(Err(Refusal::RuleUnknownService));
        }
    }
    match (&r.department_key, r.target) {
        (None, Target::Department) => return Ok(Err(Refusal::RuleDepartmentRequired)),
        (Some(k), Target::Department) => {
            if !department_keys(conn)?.iter().any(|(key, _)| key == k) {
                return Ok(Err(Refusal::UnknownOffice));
            }
        }
        (Some(_), _) => return Ok(Err(Refusal::RuleDepartmentOnlyForDepartments)),
        (None, _) => {}
    }
    // Two rules with the same conditions would leave the choice to their age: one per key.
    let same = directory::rules(conn)?.into_iter().any(|x| {
        Some(x.id) != id
            && x.level == r.level
            && x.ministry_id == r.ministry_id
            && x.field_id == r.field_id
            && x.service_code == r.service_code
    });
    if same {
        return Ok(Err(Refusal::RuleDuplicate));
    }
    Ok(Ok(()))
}

fn describe(r: &RuleInput) -> String {
    format!(
        "{} m={} f={} s={} → {}{} ({})",
        r.level.as_str(),
        r.ministry_id.map(|m| m.to_string()).unwrap_or("*".into()),
        r.field_id.map(|f| f.to_string()).unwrap_or("*".into()),
        r.service_code.as_deref().unwrap_or("*"),
        r.target.as_str(),
        r.department_key
            .as_deref()
            .map(|k| format!(":{k}"))
            .unwrap_or_default(),
        r.note
    )
}

fn input_of(conn: &mut DbConnection, id: i64) -> QueryResult<Option<RuleInput>> {
    let Some(rule) = directory::rules(conn)?.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    Ok(Some(RuleInput {
        level: rule.level,
        ministry_id: rule.ministry_id,
        field_id: rule.field_id,
        service_code: rule.service_code,
        target: rule.target,
        department_key: rule.department_key,
        note: directory::rule_note(conn, id)?,
    }))
}

pub fn get(conn: &mut DbConnection, id: i64) -> QueryResult<Option<RuleInput>> {
    input_of(conn, id)
}

fn record(
    conn: &mut DbConnection,
    admin_id: i64,
    id: i64,
    detail: &str,
    o: &Origin,
) -> QueryResult<()> {
    let subject = format!("routing_rule:{id}");
    let e = Entry::new(
        Some(admin_id),
        AuditEvent::ConfigChanged,
        &subject,
        &o.ip,
        o.now,
    );
    audit::record(conn, &e.detail(detail))
}

/// Adds a rule (`id` None) or changes rule `id`; its id.
pub fn save(
    conn: &mut DbConnection,
    admin_id: i64,
    id: Option<i64>,
    r: &RuleInput,
    o: &Origin,
) -> QueryResult<Outcome<i64>> {
    transaction(conn, |conn| {
        let before = match id {
            Some(id) => match input_of(conn, id)? {
                Some(b) => Some(b),
                None => return Ok(Err(Refusal::NotFound)),
            },
            None => None,
        };
        if let Err(refusal) = check(conn, id, r)? {
            return Ok(Err(refusal));
        }
        let values = (
            routing_rules::level.eq(r.level.as_str()),
            routing_rules::ministry_id.eq(r.ministry_id),
            routing_rules::field_id.eq(r.field_id),
            routing_rules::service_code.eq(r.service_code.clone()),
            routing_rules::target.eq(r.target.as_str()),
            routing_rules::department_key.eq(r.department_key.clone()),
            routing_rules::note.eq(r.note.clone()),
            routing_rules::updated_at.eq(o.now),
        );
        let id = match id {
            Some(id) => {
                diesel::update(routing_rules::table.find(id))
                    .set(values)
                    .execute(conn)?;
                id
            }
            None => diesel::insert_into(routing_rules::table)
                .values((values, routing_rules::created_at.eq(o.now)))
                .returning(routing_rules::id)
                .get_result(conn)?,
        };
        let detail = format!(
            "{} → {}",
            before.as_ref().map(describe).unwrap_or_else(|| "-".into()),
            describe(r)
        );
        record(conn, admin_id, id, &detail, o)?;
        Ok(Ok(id))
    })
}

pub fn delete(
    conn: &mut DbConnection,
    admin_id: i64,
    id: i64,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(before) = input_of(conn, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        diesel::delete(routing_rules::table.find(id)).execute(conn)?;
        record(conn, admin_id, id, &format!("{} → -", describe(&before)), o)?;
        Ok(Ok(()))
    })
}

/// Where a service filed at one level from a place would go.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    pub level: &'static str,
    pub rule: Option<RuleView>,
    pub office: Option<Office>,
}

/// "Where would this go?": for each level the service is implemented at, the deciding rule and
/// the office for the place (None: no rule, or no such office there). None when the service is
/// unknown or withdrawn.
pub fn trial(
    conn: &mut DbConnection,
    service_code: &str,
    place: &Place,
) -> QueryResult<Option<(String, Vec<Trial>)>> {
    let Some(service) = directory::routable_service(conn, service_code)? else {
        return Ok(None);
    };
    let rules = directory::rules(conn)?;
    let views: HashMap<i64, RuleView> = list(conn)?.into_iter().map(|v| (v.id, v)).collect();
    let mut levels: Vec<Level> = service
        .levels
        .iter()
        .filter_map(|l| Level::parse(l))
        .collect();
    levels.sort();
    levels.dedup();
    let mut out = Vec::new();
    for level in levels {
        let rule = decide(&rules, &service.key(), level).cloned();
        let office = match &rule {
            Some(r) => directory::office_for(conn, r, service.ministry_id, place)?,
            None => None,
        };
        out.push(Trial {
            level: level.as_str(),
            rule: rule.and_then(|r| views.get(&r.id).cloned()),
            office,
        });
    }
    Ok(Some((service.name, out)))
}

/// A service and a level no rule routes.
#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub online_level: i32,
}

/// A department rule and the provinces that have no such department.
#[derive(Debug, Clone, Serialize)]
pub struct MissingOffice {
    pub rule_id: i64,
    pub department_key: String,
    pub provinces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapReport {
    pub services: Vec<Gap>,
    pub services_total: usize,
    pub offices: Vec<MissingOffice>,
    pub at: NaiveDateTime,
}

/// Every active service × implementing level without a route (the first `limit` listed, all
/// counted), and every department rule × province without the department.
pub fn gaps(conn: &mut DbConnection, limit: usize, now: NaiveDateTime) -> QueryResult<GapReport> {
    use super::schema::provinces;
    let rules = directory::rules(conn)?;
    let mut services_out = Vec::new();
    let mut total = 0;
    for svc in directory::services_with_levels(conn, 1)? {
        let mut ls: Vec<Level> = svc.levels.iter().filter_map(|l| Level::parse(l)).collect();
        ls.sort();
        ls.dedup();
        for level in ls {
            if decide(&rules, &svc.key(), level).is_none() {
                total += 1;
                if services_out.len() < limit {
                    services_out.push(Gap {
                        code: svc.code.clone(),
                        name: svc.name.clone(),
                        level: level.as_str(),
                        online_level: svc.online_level,
                    });
                }
            }
        }
    }
    let all_provinces: Vec<(String, String)> = provinces::table
        .order(provinces::code)
        .select((provinces::code, provinces::name))
        .load(conn)?;
    let departments: HashSet<(String, String)> = agencies::table
        .filter(agencies::kind.eq(Target::Department.as_str()))
        .select((agencies::province_code, agencies::department_key))
        .load::<(Option<String>, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(p, k)| Some((p?, k?)))
        .collect();
    let offices = rules
        .iter()
        .filter(|r: &&Rule| r.target == Target::Department)
        .filter_map(|r| {
            let key = r.department_key.clone()?;
            let provinces: Vec<String> = all_provinces
                .iter()
                .filter(|(code, _)| !departments.contains(&(code.clone(), key.clone())))
                .map(|(_, name)| name.clone())
                .collect();
            (!provinces.is_empty()).then_some(MissingOffice {
                rule_id: r.id,
                department_key: key,
                provinces,
            })
        })
        .collect();
    Ok(GapReport {
        services: services_out,
        services_total: total,
        offices,
        at: now,
    })
}
