//! Administrators' services: find any service (published or not), read what it really offers
//! against the online levels, set its level (refused with the reasons when the service does
//! not offer what the level promises) and publish or unpublish it. Each change is one
//! transaction with an audit entry, moves the service's version and the catalogue's, so every
//! instance drops its cached pages.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Origin;
use super::audit::{self, AuditRow, Entry};
use super::schema::{audit_log, forms, service_channels, service_implementing_levels, services};
use super::{DbConnection, directory, transaction};
use crate::domain::admin::{Outcome, Refusal};
use crate::domain::audit::AuditEvent;
use crate::domain::level::{LevelFacts, LevelProblem, check_level, is_valid_level};
use crate::domain::routing::{Level, ServiceKey, decide};

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub field_id: i64,
    pub ministry_id: i64,
    pub online_level: i32,
    pub online_level_source: String,
    pub active: bool,
    pub published: bool,
    pub version: i32,
    pub updated_at: NaiveDateTime,
}

/// Services whose code or name contains `text`, by code.
pub fn search(conn: &mut DbConnection, text: &str, limit: i64) -> QueryResult<Vec<ServiceRow>> {
    let text = text.trim();
    let mut q = services::table.into_boxed();
    if !text.is_empty() {
        let pattern = audit::contains_pattern(text);
        q = q.filter(
            services::code
                .like(pattern.clone())
                .escape('\\')
                .or(services::name.like(pattern).escape('\\')),
        );
    }
    q.order(services::code)
        .limit(limit)
        .select(ServiceRow::as_select())
        .load(conn)
}

pub fn by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<ServiceRow>> {
    services::table
        .filter(services::code.eq(code))
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()
}

/// What the service offers, for the level checks. `online_payment` and `electronic_results`
/// are the portal's (the gateway configured; results sealed by every office's key).
pub fn facts(
    conn: &mut DbConnection,
    s: &ServiceRow,
    online_payment: bool,
) -> QueryResult<LevelFacts> {
    let published_form: i64 = forms::table
        .filter(forms::service_code.eq(&s.code))
        .filter(forms::published.eq(true))
        .count()
        .get_result(conn)?;
    let rules = directory::rules(conn)?;
    let key = ServiceKey {
        code: &s.code,
        field_id: s.field_id,
        ministry_id: s.ministry_id,
    };
    let levels: HashSet<String> = service_implementing_levels::table
        .filter(service_implementing_levels::service_id.eq(s.id))
        .select(service_implementing_levels::level)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let mut unrouted: Vec<String> = levels
        .into_iter()
        .filter(|l| Level::parse(l).is_some_and(|lvl| decide(&rules, &key, lvl).is_none()))
        .collect();
    unrouted.sort();
    let fees: Vec<Option<i64>> = service_channels::table
        .filter(service_channels::service_id.eq(s.id))
        .filter(service_channels::channel.eq("online"))
        .order(service_channels::position)
        .select(service_channels::fee_vnd)
        .load(conn)?;
    // The online channel's fee is known when every online channel states it; the highest
    // decides whether payment is needed.
    let online_fee = if fees.is_empty() || fees.iter().any(Option::is_none) {
        None
    } else {
        fees.into_iter().flatten().max()
    };
    Ok(LevelFacts {
        published_form: published_form > 0,
        unrouted_levels: unrouted,
        online_fee,
        online_payment,
        electronic_results: true,
    })
}

/// The audit entries of a service's changes, newest first.
pub fn history(conn: &mut DbConnection, code: &str, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::subject.eq(subject(code)))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

fn subject(code: &str) -> String {
    format!("service:{code}")
}

fn record(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    detail: &str,
    o: &Origin,
) -> QueryResult<()> {
    let subject = subject(code);
    let e = Entry::new(
        Some(admin_id),
        AuditEvent::ConfigChanged,
        &subject,
        &o.ip,
        o.now,
    );
    audit::record(conn, &e.detail(detail))
}

/// Sets the online level when the service offers what it promises; otherwise every reason.
pub fn set_level(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    level: i32,
    online_payment: bool,
    o: &Origin,
) -> QueryResult<Outcome<Result<(), Vec<LevelProblem>>>> {
    if !is_valid_level(level) {
        return Ok(Ok(Err(Vec::new())));
    }
    transaction(conn, |conn| {
        let Some(s) = by_code(conn, code)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let problems = check_level(level, &facts(conn, &s, online_payment)?);
        if !problems.is_empty() {
            return Ok(Ok(Err(problems)));
        }
        if s.online_level == level {
            return Ok(Ok(Ok(())));
        }
        super::catalogue::set_online_level(conn, code, level)?;
        let detail = format!("online_level: {} → {level}", s.online_level);
        record(conn, admin_id, code, &detail, o)?;
        Ok(Ok(Ok(())))
    })
}

/// Publishes or unpublishes the service.
pub fn set_published(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    published: bool,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(s) = by_code(conn, code)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if s.published == published {
            return Ok(Ok(()));
        }
        diesel::update(services::table.find(s.id))
            .set((
                services::published.eq(published),
                services::version.eq(services::version + 1),
                services::updated_at.eq(o.now),
            ))
            .execute(conn)?;
        super::catalogue::bump_catalogue_version(conn)?;
        let detail = format!("published: {} → {published}", s.published);
        record(conn, admin_id, code, &detail, o)?;
        Ok(Ok(()))
    })
}

/// Applies a catalogue file (see `seed::apply_import`) with its audit entry, in one transaction.
pub fn import_catalogue(
    conn: &mut DbConnection,
    admin_id: i64,
    procedures: &[crate::domain::procedure::Procedure],
    sha: &str,
    o: &Origin,
) -> anyhow::Result<super::seed::ImportPlan> {
    transaction(conn, |conn| {
        let plan = super::seed::apply_import(conn, procedures, o.now)?;
        let detail = format!(
            "import {sha}: {} new, {} changed, {} withdrawn, {} unchanged",
            plan.new.len(),
            plan.changed.len(),
            plan.withdrawn.len(),
            plan.unchanged
        );
        let e = Entry::new(
            Some(admin_id),
            AuditEvent::ConfigChanged,
            "catalogue",
            &o.ip,
            o.now,
        );
        audit::record(conn, &e.detail(&detail))?;
        Ok(plan)
    })
}

/// The parts of a procedure record an administrator edits here, as stored and as versioned.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct RecordText {
    pub name: String,
    pub procedure_type: String,
    pub decision_number: String,
    pub implementing_agency: String,
    pub competent_agency: String,
    pub documents_text: String,
    pub steps: String,
    pub requirements: String,
    pub result_code: String,
    pub result: String,
    pub related_procedures: String,
    /// The record's lists, one item a line (`domain::procedure::parse_lists`).
    #[serde(default)]
    pub implementing_levels: String,
    #[serde(default)]
    pub target_groups: String,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub documents: String,
}

/// The fields of [`RecordText`] with their names, in the order of the form.
pub fn record_fields(r: &RecordText) -> [(&'static str, &str); 15] {
    [
        ("name", &r.name),
        ("procedure_type", &r.procedure_type),
        ("decision_number", &r.decision_number),
        ("implementing_agency", &r.implementing_agency),
        ("competent_agency", &r.competent_agency),
        ("documents_text", &r.documents_text),
        ("steps", &r.steps),
        ("requirements", &r.requirements),
        ("result_code", &r.result_code),
        ("result", &r.result),
        ("related_procedures", &r.related_procedures),
        ("implementing_levels", &r.implementing_levels),
        ("target_groups", &r.target_groups),
        ("legal_basis", &r.legal_basis),
        ("documents", &r.documents),
    ]
}

/// The record's lists as stored.
fn lists_of(
    conn: &mut DbConnection,
    id: i64,
) -> QueryResult<crate::domain::procedure::RecordLists> {
    use super::schema::{
        service_documents as sd, service_legal_bases as sl, service_target_groups as stg,
        target_groups as tg,
    };
    let implementing_levels = service_implementing_levels::table
        .filter(service_implementing_levels::service_id.eq(id))
        .order(service_implementing_levels::level)
        .select(service_implementing_levels::level)
        .load(conn)?;
    let target_groups = stg::table
        .inner_join(tg::table)
        .filter(stg::service_id.eq(id))
        .order(tg::name)
        .select(tg::name)
        .load(conn)?;
    let legal_basis = sl::table
        .filter(sl::service_id.eq(id))
        .order(sl::position)
        .select((sl::number, sl::title))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(number, title)| crate::domain::procedure::LegalBasis { title, number })
        .collect();
    let documents = sd::table
        .filter(sd::service_id.eq(id))
        .order(sd::position)
        .select((
            sd::case_name,
            sd::name,
            sd::originals,
            sd::copies,
            sd::form_template,
        ))
        .load::<(String, String, Option<i32>, Option<i32>, String)>(conn)?
        .into_iter()
        .map(
            |(case, name, originals, copies, form_template)| crate::domain::procedure::Document {
                name,
                form_template,
                originals,
                copies,
                case,
            },
        )
        .collect();
    Ok(crate::domain::procedure::RecordLists {
        implementing_levels,
        target_groups,
        legal_basis,
        documents,
    })
}

/// Replaces the record's lists (the target groups a name does not find are added).
fn write_lists(
    conn: &mut DbConnection,
    id: i64,
    l: &crate::domain::procedure::RecordLists,
) -> QueryResult<()> {
    use super::schema::{
        service_documents as sd, service_legal_bases as sl, service_target_groups as stg,
        target_groups as tg,
    };
    diesel::delete(
        service_implementing_levels::table.filter(service_implementing_levels::service_id.eq(id)),
    )
    .execute(conn)?;
    for level in &l.implementing_levels {
        diesel::insert_into(service_implementing_levels::table)
            .values((
                service_implementing_levels::service_id.eq(id),
                service_implementing_levels::level.eq(level),
            ))
            .execute(conn)?;
    }
    diesel::delete(stg::table.filter(stg::service_id.eq(id))).execute(conn)?;
    for name in &l.target_groups {
        let found: Option<i64> = tg::table
            .filter(tg::name.eq(name))
            .select(tg::id)
            .first(conn)
            .optional()?;
        let group = match found {
            Some(g) => g,
            None => diesel::insert_into(tg::table)
                .values(tg::name.eq(name))
                .returning(tg::id)
                .get_result(conn)?,
        };
        diesel::insert_into(stg::table)
            .values((stg::service_id.eq(id), stg::target_group_id.eq(group)))
            .execute(conn)?;
    }
    diesel::delete(sl::table.filter(sl::service_id.eq(id))).execute(conn)?;
    for (i, b) in l.legal_basis.iter().enumerate() {
        diesel::insert_into(sl::table)
            .values((
                sl::service_id.eq(id),
                sl::position.eq(i as i32),
                sl::title.eq(&b.title),
                sl::number.eq(&b.number),
            ))
            .execute(conn)?;
    }
    diesel::delete(sd::table.filter(sd::service_id.eq(id))).execute(conn)?;
    for (i, d) in l.documents.iter().enumerate() {
        diesel::insert_into(sd::table)
            .values((
                sd::service_id.eq(id),
                sd::position.eq(i as i32),
                sd::case_name.eq(&d.case),
                sd::name.eq(&d.name),
                sd::form_template.eq(&d.form_template),
                sd::originals.eq(d.originals),
                sd::copies.eq(d.copies),
            ))
            .execute(conn)?;
    }
    Ok(())
}

type RecordRow = (
    i64,
    i32,
    (String, String, String, String, String, String),
    (String, String, String, String, String),
);

pub fn record_text(
    conn: &mut DbConnection,
    code: &str,
) -> QueryResult<Option<(i64, i32, RecordText)>> {
    let row: Option<RecordRow> = services::table
        .filter(services::code.eq(code))
        .select((
            services::id,
            services::version,
            (
                services::name,
                services::procedure_type,
                services::decision_number,
                services::implementing_agency,
                services::competent_agency,
                services::documents_text,
            ),
            (
                services::steps,
                services::requirements,
                services::result_code,
                services::result,
                services::related_procedures,
            ),
        ))
        .first(conn)
        .optional()?;
    let Some((id, version, a, b)) = row else {
        return Ok(None);
    };
    let (implementing_levels, target_groups, legal_basis, documents) =
        crate::domain::procedure::format_lists(&lists_of(conn, id)?);
    Ok(Some((id, version, a, b)).map(|(id, version, a, b)| {
        (
            id,
            version,
            RecordText {
                implementing_levels,
                target_groups,
                legal_basis,
                documents,
                name: a.0,
                procedure_type: a.1,
                decision_number: a.2,
                implementing_agency: a.3,
                competent_agency: a.4,
                documents_text: a.5,
                steps: b.0,
                requirements: b.1,
                result_code: b.2,
                result: b.3,
                related_procedures: b.4,
            },
        )
    }))
}

/// One kept version: the record as it was before the change to the next version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRow {
    pub version: i32,
    pub changed_at: NaiveDateTime,
    pub changed_by: Option<i64>,
    pub note: String,
    pub record: RecordText,
}

pub fn versions(conn: &mut DbConnection, service_id: i64) -> QueryResult<Vec<VersionRow>> {
    use super::schema::service_versions as sv;
    let rows: Vec<(i32, NaiveDateTime, Option<i64>, String, String)> = sv::table
        .filter(sv::service_id.eq(service_id))
        .order(sv::version.desc())
        .select((
            sv::version,
            sv::changed_at,
            sv::changed_by,
            sv::note,
            sv::snapshot,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(version, changed_at, changed_by, note, snapshot)| {
            Some(VersionRow {
                version,
                changed_at,
                changed_by,
                note,
                record: serde_json::from_str(&snapshot).ok()?,
            })
        })
        .collect())
}

/// Saves an edit as a new version: the record as it was is kept under its version number (with
/// who, when and the note), the record changes, its version and the catalogue's move on. An
/// edit that changes nothing is not a version.
pub fn edit_record(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    seen_version: i32,
    new: &RecordText,
    note: &str,
    o: &Origin,
) -> QueryResult<Outcome<i32>> {
    use super::schema::service_versions as sv;
    transaction(conn, |conn| {
        let Some((id, version, old)) = record_text(conn, code)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if version != seen_version {
            return Ok(Err(Refusal::StaleVersion));
        }
        let changed: Vec<&str> = record_fields(&old)
            .iter()
            .zip(record_fields(new))
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, _)| a.0)
            .collect();
        if changed.is_empty() {
            return Ok(Ok(version));
        }
        let snapshot = serde_json::to_string(&old).unwrap_or_default();
        diesel::insert_into(sv::table)
            .values((
                sv::service_id.eq(id),
                sv::version.eq(version),
                sv::snapshot.eq(snapshot),
                sv::changed_by.eq(Some(admin_id)),
                sv::changed_at.eq(o.now),
                sv::note.eq(note),
            ))
            .execute(conn)?;
        diesel::update(services::table.find(id))
            .set((
                services::name.eq(&new.name),
                services::procedure_type.eq(&new.procedure_type),
                services::decision_number.eq(&new.decision_number),
                services::implementing_agency.eq(&new.implementing_agency),
                services::competent_agency.eq(&new.competent_agency),
                services::documents_text.eq(&new.documents_text),
                services::steps.eq(&new.steps),
                services::requirements.eq(&new.requirements),
                services::result_code.eq(&new.result_code),
                services::result.eq(&new.result),
                services::related_procedures.eq(&new.related_procedures),
                services::version.eq(version + 1),
                services::updated_at.eq(o.now),
            ))
            .execute(conn)?;
        let lists_changed = changed.iter().any(|f| {
            matches!(
                *f,
                "implementing_levels" | "target_groups" | "legal_basis" | "documents"
            )
        });
        if lists_changed {
            let lists = crate::domain::procedure::parse_lists(
                &new.implementing_levels,
                &new.target_groups,
                &new.legal_basis,
                &new.documents,
            )
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.join("; ").into()))?;
            write_lists(conn, id, &lists)?;
        }
        super::catalogue::bump_catalogue_version(conn)?;
        let detail = format!(
            "version {version} → {}: {}{}",
            version + 1,
            changed.join(", "),
            if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            }
        );
        record(conn, admin_id, code, &detail, o)?;
        Ok(Ok(version + 1))
    })
}

/// One way a procedure is carried out (online, in person, by post) with its time and fee.
#[derive(Debug, Clone, PartialEq, Serialize, Queryable, Selectable)]
#[diesel(table_name = service_channels)]
pub struct ChannelRow {
    pub id: i64,
    pub channel: String,
    pub processing_time: Option<f64>,
    pub time_unit: Option<String>,
    pub time_unit_text: String,
    pub fee_vnd: Option<i64>,
    pub fee_text: String,
}

pub fn channels(conn: &mut DbConnection, service_id: i64) -> QueryResult<Vec<ChannelRow>> {
    service_channels::table
        .filter(service_channels::service_id.eq(service_id))
        .order(service_channels::position)
        .select(ChannelRow::as_select())
        .load(conn)
}

/// What an administrator sets on a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelChange {
    pub processing_time: Option<f64>,
    pub time_unit: Option<String>,
    /// None: the fee is not known.
    pub fee_vnd: Option<i64>,
    pub fee_text: String,
}

fn show_channel(time: Option<f64>, unit: &Option<String>, fee: Option<i64>) -> String {
    format!(
        "time {} {}, fee {}",
        time.map(|t| t.to_string()).unwrap_or_else(|| "?".into()),
        unit.as_deref().unwrap_or("-"),
        fee.map(|f| f.to_string()).unwrap_or_else(|| "?".into())
    )
}

/// Changes a channel's time and fee: the service's version and the catalogue's move on, with
/// an audit entry (before → after).
pub fn set_channel(
    conn: &mut DbConnection,
    admin_id: i64,
    code: &str,
    channel_id: i64,
    c: &ChannelChange,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(s) = by_code(conn, code)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let Some(before) = channels(conn, s.id)?
            .into_iter()
            .find(|x| x.id == channel_id)
        else {
            return Ok(Err(Refusal::NotFound));
        };
        let after = ChannelRow {
            processing_time: c.processing_time,
            time_unit: c.time_unit.clone(),
            fee_vnd: c.fee_vnd,
            fee_text: c.fee_text.clone(),
            ..before.clone()
        };
        if after == before {
            return Ok(Ok(()));
        }
        diesel::update(service_channels::table.find(channel_id))
            .set((
                service_channels::processing_time.eq(c.processing_time),
                service_channels::time_unit.eq(&c.time_unit),
                service_channels::fee_vnd.eq(c.fee_vnd),
                service_channels::fee_text.eq(&c.fee_text),
            ))
            .execute(conn)?;
        diesel::update(services::table.find(s.id))
            .set((
                services::version.eq(services::version + 1),
                services::updated_at.eq(o.now),
            ))
            .execute(conn)?;
        super::catalogue::bump_catalogue_version(conn)?;
        let detail = format!(
            "channel {}: {} → {}",
            before.channel,
            show_channel(before.processing_time, &before.time_unit, before.fee_vnd),
            show_channel(c.processing_time, &c.time_unit, c.fee_vnd)
        );
        record(conn, admin_id, code, &detail, o)?;
        Ok(Ok(()))
    })
}

/// A procedure's changes as recorded (newest first), for its public page.
pub fn public_history(
    conn: &mut DbConnection,
    code: &str,
    limit: i64,
) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    audit_log::table
        .filter(audit_log::subject.eq(subject(code)))
        .filter(audit_log::event.eq(AuditEvent::ConfigChanged.as_str()))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((audit_log::at, audit_log::detail))
        .load(conn)
}

/// When a published procedure last changed (the open data's update time).
pub fn last_update(conn: &mut DbConnection) -> QueryResult<Option<NaiveDateTime>> {
    services::table
        .filter(services::active.eq(true))
        .filter(services::published.eq(true))
        .select(diesel::dsl::max(services::updated_at))
        .first(conn)
}
