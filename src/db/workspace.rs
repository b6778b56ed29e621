//! The agency workspace's statements: the queue (tabs with counts, filters, search, keyset
//! pagination in index order), assignment, internal notes, the one apology with a new date,
//! transfers and consultations. Every read takes the offices of the person asking and never
//! returns a row of another office; every write is one transaction with its timeline event and
//! bumps the dossier's `lock_version`, so a stale page conflicts instead of overwriting.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::dossiers::{self, Dossier, MoveError};
use super::schema::{
    agencies, agency_members, consultations, dossier_events, dossiers as d, users,
};
use super::{DbConnection, MultiBackend};
use crate::domain::status::{Stage, Status};
use crate::mail::RenderedEmail;

/// The queue's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::EnumString, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Tab {
    New,
    InProgress,
    Waiting,
    Withdrawal,
    DueSoon,
    Overdue,
    Finished,
    Mine,
}

impl Tab {
    pub const ALL: [Tab; 8] = [
        Tab::New,
        Tab::InProgress,
        Tab::Waiting,
        Tab::Withdrawal,
        Tab::DueSoon,
        Tab::Overdue,
        Tab::Finished,
        Tab::Mine,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The queue's order: due date (soonest first, dossiers without one last) or submission time
/// (oldest first, as the desk works).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::EnumString, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Sort {
    Due,
    Submitted,
}

/// Where a page ends: the sort key and id of its last row. `None` key: the last row had no due
/// date (the tail of the due-date order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: Option<NaiveDateTime>,
    pub id: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        match self.key {
            Some(k) => format!("{}.{}", k.and_utc().timestamp(), self.id),
            None => format!("n.{}", self.id),
        }
    }

    pub fn parse(raw: &str) -> Option<Cursor> {
        let (key, id) = raw.split_once('.')?;
        let id = id.parse().ok()?;
        let key = if key == "n" {
            None
        } else {
            Some(chrono::DateTime::from_timestamp(key.parse().ok()?, 0)?.naive_utc())
        };
        Some(Cursor { key, id })
    }
}

/// What the search box found the text to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    Code(String),
    Cccd(String),
    /// The folded name (no accents, lower case).
    Name(String),
}

impl Search {
    pub fn parse(raw: &str) -> Option<Search> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(code) = crate::domain::dossier::DossierCode::parse(t) {
            return Some(Search::Code(code.to_string()));
        }
        if t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Search::Cccd(t.to_string()));
        }
        let folded = crate::search::fold(t);
        (!folded.is_empty()).then_some(Search::Name(folded))
    }
}

/// The moments the due-date tabs are measured against (UTC).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: NaiveDateTime,
    /// The end of the second working day from today: "due within 2 working days".
    pub soon_until: NaiveDateTime,
}

impl Clock {
    pub fn at(now: NaiveDateTime, cal: &crate::domain::calendar::Calendar) -> Clock {
        use crate::domain::calendar;
        let today = calendar::to_local(now).date();
        let day = cal.add_working_days(today.succ_opt().unwrap_or(today), 1);
        Clock {
            now,
            soon_until: calendar::to_utc(day.and_time(cal.hours().closing())),
        }
    }
}

pub struct QueueQuery<'a> {
    pub offices: &'a [i64],
    pub me: i64,
    pub tab: Tab,
    pub sort: Sort,
    pub service_id: Option<i64>,
    pub officer: Option<i64>,
    /// Submitted on or after / before the end of (local dates).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub search: Option<Search>,
    pub after: Option<Cursor>,
    pub limit: i64,
    pub clock: Clock,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = d)]
pub struct QueueRow {
    pub id: i64,
    pub code: String,
    pub agency_id: i64,
    pub service_id: i64,
    pub applicant_name: String,
    #[diesel(deserialize_as = i32)]
    pub status: Status,
    pub channel: String,
    pub submitted_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
    pub assigned_to: Option<i64>,
}

type Boxed<'a> = d::BoxedQuery<'a, MultiBackend>;

fn stages(s: &[Stage]) -> Vec<i32> {
    s.iter().map(|x| x.code()).collect()
}

/// The rows of a tab with the filters, before ordering and paging.
fn filtered<'a>(q: &QueueQuery<'a>) -> Boxed<'a> {
    let mut b: Boxed<'a> = d::table.into_boxed();
    // A name search reads the few rows of `(agency_id, applicant_key)` in the name's range and
    // sorts them; the tab's stage is then a filter, written `+stage` so that no planner walks
    // the tab's whole `(agency_id, stage, due_at)` range in order instead (SQLite did, at a
    // million dossiers: 10 ms instead of 1).
    let by_name = matches!(q.search, Some(Search::Name(_)));
    let one_stage = |b: Boxed<'a>, s: Stage| -> Boxed<'a> {
        if by_name {
            b.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("+dossiers.stage = ")
                    .bind::<diesel::sql_types::Integer, _>(s.code()),
            )
        } else {
            b.filter(d::stage.eq(s.code()))
        }
    };
    b = match q.tab {
        Tab::Mine => b
            .filter(d::assigned_to.eq(q.me))
            .filter(d::stage.ne(Stage::Finished.code())),
        Tab::New => one_stage(b, Stage::New),
        Tab::InProgress => one_stage(b, Stage::InProgress),
        Tab::Waiting => one_stage(b, Stage::Waiting),
        Tab::Withdrawal => one_stage(b, Stage::Withdrawal),
        Tab::Finished => one_stage(b, Stage::Finished),
        Tab::DueSoon => b
            .filter(d::stage.eq_any(stages(&Stage::CLOCK_RUNS)))
            .filter(d::due_at.ge(q.clock.now))
            .filter(d::due_at.le(q.clock.soon_until)),
        Tab::Overdue => b
            .filter(d::stage.eq_any(stages(&Stage::CLOCK_RUNS)))
            .filter(d::due_at.lt(q.clock.now)),
    };
    // One office (the usual case) is an equality, so PostgreSQL reads the index in order;
    // `= ANY(array)` would make it sort every row of the tab.
    b = match q.offices {
        [one] => b.filter(d::agency_id.eq(*one)),
        many => b.filter(d::agency_id.eq_any(many.to_vec())),
    };
    if let Some(s) = q.service_id {
        b = b.filter(d::service_id.eq(s));
    }
    if let Some(o) = q.officer {
        b = b.filter(d::assigned_to.eq(o));
    }
    if let Some(from) = q.from {
        let t = crate::domain::calendar::to_utc(from.and_time(chrono::NaiveTime::MIN));
        b = b.filter(d::submitted_at.ge(t));
    }
    if let Some(to) = q.to.and_then(|t| t.succ_opt()) {
        let t = crate::domain::calendar::to_utc(to.and_time(chrono::NaiveTime::MIN));
        b = b.filter(d::submitted_at.lt(t));
    }
    match &q.search {
        Some(Search::Code(c)) => b = b.filter(d::code.eq(c.clone())),
        Some(Search::Cccd(c)) => b = b.filter(d::applicant_cccd.eq(c.clone())),
        // A prefix of the folded name, as a range on `(agency_id, applicant_key)`.
        Some(Search::Name(n)) => {
            b = b
                .filter(d::applicant_key.ge(n.clone()))
                .filter(d::applicant_key.lt(format!("{n}\u{10FFFF}")))
        }
        None => {}
    }
    b
}

/// One page of a tab in its order, and the cursor of the next page when there is one. Keyset
/// pagination: a page starts after the last row of the previous one, so rows filed meanwhile
/// never shift or repeat what is shown, and a deep page costs what the first does.
pub fn queue(
    conn: &mut DbConnection,
    q: &QueueQuery,
) -> QueryResult<(Vec<QueueRow>, Option<Cursor>)> {
    let want = q.limit + 1;
    let mut rows: Vec<QueueRow> = Vec::new();
    match q.sort {
        Sort::Submitted => {
            let mut b = filtered(q);
            if let Some(Cursor { key: Some(k), id }) = q.after {
                b = b.filter(
                    d::submitted_at
                        .ge(k)
                        .and(d::submitted_at.gt(k).or(d::id.gt(id))),
                );
            }
            rows = b
                .order((d::submitted_at.asc(), d::id.asc()))
                .limit(want)
                .select(QueueRow::as_select())
                .load(conn)?;
        }
        Sort::Due => {
            // Dossiers with a due date first, then those without one (by id).
            let in_tail = matches!(q.after, Some(Cursor { key: None, .. }));
            if !in_tail {
                let mut b = filtered(q).filter(d::due_at.is_not_null());
                if let Some(Cursor { key: Some(k), id }) = q.after {
                    b = b.filter(d::due_at.ge(k).and(d::due_at.gt(k).or(d::id.gt(id))));
                }
                rows = b
                    .order((d::due_at.asc(), d::id.asc()))
                    .limit(want)
                    .select(QueueRow::as_select())
                    .load(conn)?;
            }
            if (rows.len() as i64) < want && !matches!(q.tab, Tab::DueSoon | Tab::Overdue) {
                let mut b = filtered(q).filter(d::due_at.is_null());
                if let Some(Cursor { key: None, id }) = q.after {
                    b = b.filter(d::id.gt(id));
                }
                let more: Vec<QueueRow> = b
                    .order(d::id.asc())
                    .limit(want - rows.len() as i64)
                    .select(QueueRow::as_select())
                    .load(conn)?;
                rows.extend(more);
            }
        }
    }
    let next = if rows.len() as i64 > q.limit {
        rows.truncate(q.limit as usize);
        rows.last().map(|r| Cursor {
            key: match q.sort {
                Sort::Due => r.due_at,
                Sort::Submitted => Some(r.submitted_at),
            },
            id: r.id,
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// How many dossiers each tab holds (without the filters).
pub fn counts(
    conn: &mut DbConnection,
    offices: &[i64],
    me: i64,
    clock: Clock,
) -> QueryResult<Vec<(Tab, i64)>> {
    use super::schema::office_stage_counts as osc;
    let by_stage: Vec<(i32, i64)> = osc::table
        .filter(osc::agency_id.eq_any(offices))
        .select((osc::stage, osc::n))
        .load(conn)?;
    let stage = |s: Stage| {
        by_stage
            .iter()
            .filter(|(x, _)| *x == s.code())
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let running = || {
        d::table
            .filter(d::agency_id.eq_any(offices))
            .filter(d::stage.eq_any(stages(&Stage::CLOCK_RUNS)))
    };
    let soon: i64 = running()
        .filter(d::due_at.ge(clock.now))
        .filter(d::due_at.le(clock.soon_until))
        .count()
        .get_result(conn)?;
    let overdue: i64 = running()
        .filter(d::due_at.lt(clock.now))
        .count()
        .get_result(conn)?;
    let mine: i64 = d::table
        .filter(d::assigned_to.eq(me))
        .filter(d::stage.ne(Stage::Finished.code()))
        .filter(d::agency_id.eq_any(offices))
        .count()
        .get_result(conn)?;
    Ok(Tab::ALL
        .into_iter()
        .map(|t| {
            let n = match t {
                Tab::New => stage(Stage::New),
                Tab::InProgress => stage(Stage::InProgress),
                Tab::Waiting => stage(Stage::Waiting),
                Tab::Withdrawal => stage(Stage::Withdrawal),
                Tab::Finished => stage(Stage::Finished),
                Tab::DueSoon => soon,
                Tab::Overdue => overdue,
                Tab::Mine => mine,
            };
            (t, n)
        })
        .collect())
}

/// Moves `delta` dossiers of an office into (or, negative, out of) a stage's count, in the
/// caller's transaction.
pub fn bump(conn: &mut DbConnection, agency_id: i64, stage: i32, delta: i64) -> QueryResult<()> {
    use super::schema::office_stage_counts as osc;
    crate::with_backend!(conn, |c| diesel::insert_into(osc::table)
        .values((
            osc::agency_id.eq(agency_id),
            osc::stage.eq(stage),
            osc::n.eq(delta),
        ))
        .on_conflict((osc::agency_id, osc::stage))
        .do_update()
        .set(osc::n.eq(osc::n + delta))
        .execute(c))
    .map(|_| ())
}

/// Recounts every office's stages from the dossiers (after a bulk load; the rebuild check).
pub fn recount(conn: &mut DbConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(
        "DELETE FROM office_stage_counts; \
         INSERT INTO office_stage_counts (agency_id, stage, n) \
         SELECT agency_id, stage, COUNT(*) FROM dossiers GROUP BY agency_id, stage;",
    )
}

/// A service's id by its code (the queue's service filter; withdrawn services included).
pub fn service_id(conn: &mut DbConnection, code: &str) -> QueryResult<Option<i64>> {
    use super::schema::services;
    services::table
        .filter(services::code.eq(code))
        .select(services::id)
        .first(conn)
        .optional()
}

/// Services' codes by id, for a page of the queue.
pub fn service_codes(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    use super::schema::services;
    services::table
        .filter(services::id.eq_any(ids))
        .select((services::id, services::code))
        .load(conn)
}

/// A member of an office, for assignment and the officer filter.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub is_lead: bool,
}

/// The staff of some offices, by name.
pub fn members(conn: &mut DbConnection, offices: &[i64]) -> QueryResult<Vec<Member>> {
    let mut m: Vec<Member> = agency_members::table
        .inner_join(users::table)
        .filter(agency_members::agency_id.eq_any(offices))
        .order((users::full_name, users::id))
        .select((users::id, users::full_name, agency_members::is_lead))
        .load(conn)?;
    m.dedup_by_key(|x| x.user_id);
    Ok(m)
}

/// The officer of an office with automatic assignment on who has the fewest open dossiers
/// (ties: the longest-standing member); None when the setting is off or nobody is there.
pub fn auto_assignee(conn: &mut DbConnection, agency_id: i64) -> QueryResult<Option<i64>> {
    let on: bool = agencies::table
        .find(agency_id)
        .select(agencies::auto_assign)
        .first(conn)?;
    if !on {
        return Ok(None);
    }
    let officers: Vec<i64> = agency_members::table
        .filter(agency_members::agency_id.eq(agency_id))
        .filter(agency_members::is_lead.eq(false))
        .order(agency_members::user_id)
        .select(agency_members::user_id)
        .load(conn)?;
    let mut best: Option<(i64, i64)> = None;
    for u in officers {
        let load: i64 = d::table
            .filter(d::assigned_to.eq(u))
            .filter(d::stage.ne(Stage::Finished.code()))
            .count()
            .get_result(conn)?;
        if best.is_none_or(|(_, l)| load < l) {
            best = Some((u, load));
        }
    }
    Ok(best.map(|(u, _)| u))
}

/// Offices by id with their name and automatic-assignment setting.
pub fn office_settings(
    conn: &mut DbConnection,
    offices: &[i64],
) -> QueryResult<Vec<(i64, String, bool)>> {
    agencies::table
        .filter(agencies::id.eq_any(offices))
        .order(agencies::id)
        .select((agencies::id, agencies::name, agencies::auto_assign))
        .load(conn)
}

pub fn set_auto_assign(conn: &mut DbConnection, agency_id: i64, on: bool) -> QueryResult<()> {
    diesel::update(agencies::table.find(agency_id))
        .set(agencies::auto_assign.eq(on))
        .execute(conn)
        .map(|_| ())
}

/// A hand-over that does not change the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// To this officer (None: back to the pool).
    Assign(Option<i64>),
    /// Visible to staff only.
    Note,
    /// The one apology: the new due date (UTC).
    Reschedule(NaiveDateTime),
    /// To another office (wrong jurisdiction), by its database id.
    Transfer(i64),
    /// Ask another office's opinion, keeping the dossier.
    Consult(i64),
}

impl Handover {
    fn action(&self) -> &'static str {
        match self {
            Handover::Assign(_) => "assign",
            Handover::Note => "note",
            Handover::Reschedule(_) => "reschedule",
            Handover::Transfer(_) => "transfer",
            Handover::Consult(_) => "consult",
        }
    }
}

/// Why a hand-over is refused (beyond `MoveError`'s not found, conflict and missing note).
pub const ALREADY_RESCHEDULED: &str = "workspace_already_rescheduled";
pub const NOT_OPEN: &str = "workspace_not_open";
pub const SAME_OFFICE: &str = "workspace_same_office";
pub const NOT_A_MEMBER: &str = "workspace_not_a_member";
pub const DATE_NOT_LATER: &str = "workspace_date_not_later";

pub struct HandoverInput<'a> {
    pub code: &'a str,
    pub offices: &'a [i64],
    pub actor_id: i64,
    /// Leads may assign anyone; officers only claim for themselves or give back their own.
    pub is_lead: bool,
    pub seen_version: i32,
    pub what: Handover,
    pub note: &'a str,
    pub now: NaiveDateTime,
    /// The apology for the citizen (reschedule only).
    pub email: &'a dyn Fn(&Dossier, &str, NaiveDateTime) -> anyhow::Result<RenderedEmail>,
}

/// Applies a hand-over in one transaction: checks, the change, the timeline event (internal
/// for notes, assignments and consultations), the citizen's email for an apology.
pub fn handover(conn: &mut DbConnection, h: &HandoverInput) -> Result<Dossier, MoveError> {
    super::transaction(conn, |conn| {
        let x = dossiers::find_by_code(conn, h.code)?
            .filter(|x| h.offices.contains(&x.agency_id))
            .ok_or(MoveError::NotFound)?;
        let note = h.note.trim();
        let note_needed = !matches!(h.what, Handover::Assign(_));
        if note_needed && note.is_empty() {
            return Err(MoveError::NoteRequired);
        }
        if x.lock_version != h.seen_version {
            return Err(MoveError::Conflict(x.status));
        }
        let open = !x.status.is_finished();
        let mut agency_id = x.agency_id;
        let mut due_at = x.due_at;
        let mut assigned_to = x.assigned_to;
        let mut internal = true;
        let mut event_note = note.to_string();
        match &h.what {
            Handover::Note => {}
            Handover::Assign(to) => {
                if !open {
                    return Err(MoveError::Other(NOT_OPEN));
                }
                if let Some(u) = to {
                    let member: i64 = agency_members::table
                        .filter(agency_members::user_id.eq(*u))
                        .filter(agency_members::agency_id.eq(x.agency_id))
                        .count()
                        .get_result(conn)?;
                    if member == 0 || (!h.is_lead && *u != h.actor_id) {
                        return Err(MoveError::Other(NOT_A_MEMBER));
                    }
                } else if !h.is_lead && x.assigned_to != Some(h.actor_id) {
                    return Err(MoveError::Other(NOT_A_MEMBER));
                }
                assigned_to = *to;
                let name = match to {
                    Some(u) => users::table
                        .find(*u)
                        .select(users::full_name)
                        .first::<String>(conn)?,
                    None => String::new(),
                };
                event_note = if note.is_empty() {
                    name
                } else {
                    format!("{name}: {note}")
                };
            }
            Handover::Reschedule(new_due) => {
                if !open || x.status.waits_for_citizen() {
                    return Err(MoveError::Other(NOT_OPEN));
                }
                let before: i64 = dossier_events::table
                    .filter(dossier_events::dossier_id.eq(x.id))
                    .filter(dossier_events::action.eq("reschedule"))
                    .count()
                    .get_result(conn)?;
                if before > 0 {
                    return Err(MoveError::Other(ALREADY_RESCHEDULED));
                }
                if x.due_at.is_some_and(|old| *new_due <= old) || *new_due <= h.now {
                    return Err(MoveError::Other(DATE_NOT_LATER));
                }
                due_at = Some(*new_due);
                internal = false;
            }
            Handover::Transfer(to) | Handover::Consult(to) => {
                if !open {
                    return Err(MoveError::Other(NOT_OPEN));
                }
                if *to == x.agency_id {
                    return Err(MoveError::Other(SAME_OFFICE));
                }
                agencies::table
                    .find(*to)
                    .select(agencies::id)
                    .first::<i64>(conn)
                    .optional()?
                    .ok_or(MoveError::Other(NOT_A_MEMBER))?;
                if let Handover::Transfer(_) = h.what {
                    agency_id = *to;
                    assigned_to = None;
                    internal = false;
                } else {
                    diesel::insert_into(consultations::table)
                        .values((
                            consultations::dossier_id.eq(x.id),
                            consultations::from_agency_id.eq(x.agency_id),
                            consultations::to_agency_id.eq(*to),
                            consultations::question.eq(note),
                            consultations::asked_by.eq(Some(h.actor_id)),
                            consultations::asked_at.eq(h.now),
                        ))
                        .execute(conn)?;
                }
                let name: String = agencies::table
                    .find(*to)
                    .select(agencies::name)
                    .first(conn)?;
                event_note = format!("{name}: {note}");
            }
        }
        let changed = diesel::update(
            d::table
                .find(x.id)
                .filter(d::lock_version.eq(h.seen_version)),
        )
        .set((
            d::lock_version.eq(h.seen_version + 1),
            d::agency_id.eq(agency_id),
            d::assigned_to.eq(assigned_to),
            d::due_at.eq(due_at),
            d::updated_at.eq(h.now),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(MoveError::Conflict(x.status));
        }
        if agency_id != x.agency_id {
            bump(conn, x.agency_id, x.stage, -1)?;
            bump(conn, agency_id, x.stage, 1)?;
        }
        event(
            conn,
            x.id,
            h.now,
            Some(h.actor_id),
            h.what.action(),
            x.status,
            &event_note,
            internal,
        )?;
        super::stats::refresh(conn, x.id, h.now)?;
        let detail = match &h.what {
            Handover::Transfer(_) | Handover::Consult(_) | Handover::Assign(_) => {
                format!("{} {}", h.what.action(), event_note)
            }
            _ => h.what.action().to_string(),
        };
        super::audit::record(
            conn,
            &super::audit::Entry::new(
                Some(h.actor_id),
                crate::domain::audit::AuditEvent::DossierAction,
                &x.code,
                "",
                h.now,
            )
            .detail(&detail),
        )?;
        let moved = Dossier {
            lock_version: h.seen_version + 1,
            agency_id,
            assigned_to,
            due_at,
            updated_at: h.now,
            ..x
        };
        if let (Handover::Reschedule(new_due), false) = (&h.what, moved.applicant_email.is_empty())
        {
            let office: String = agencies::table
                .find(moved.agency_id)
                .select(agencies::name)
                .first(conn)?;
            let email = (h.email)(&moved, &office, *new_due).map_err(MoveError::Db)?;
            super::outbox::enqueue(conn, &moved.applicant_email, &email, h.now)?;
        }
        Ok(moved)
    })
}

/// A timeline event that keeps the status.
#[allow(clippy::too_many_arguments)]
pub fn event(
    conn: &mut DbConnection,
    dossier_id: i64,
    at: NaiveDateTime,
    actor_id: Option<i64>,
    action: &str,
    status: Status,
    note: &str,
    internal: bool,
) -> QueryResult<()> {
    let code = i32::from(status.code());
    diesel::insert_into(dossier_events::table)
        .values((
            dossier_events::dossier_id.eq(dossier_id),
            dossier_events::at.eq(at),
            dossier_events::actor_id.eq(actor_id),
            dossier_events::action.eq(action),
            dossier_events::from_status.eq(Some(code)),
            dossier_events::to_status.eq(code),
            dossier_events::note.eq(note),
            dossier_events::internal.eq(internal),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One event as staff see it: who, and whether the citizen sees it.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct StaffEvent {
    pub at: NaiveDateTime,
    pub action: String,
    pub from_status: Option<i32>,
    pub to_status: i32,
    pub note: String,
    pub internal: bool,
    pub actor: Option<String>,
}

/// The whole timeline, internal notes included, oldest first.
pub fn staff_timeline(conn: &mut DbConnection, dossier_id: i64) -> QueryResult<Vec<StaffEvent>> {
    dossier_events::table
        .left_join(users::table)
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .order(dossier_events::id)
        .select((
            dossier_events::at,
            dossier_events::action,
            dossier_events::from_status,
            dossier_events::to_status,
            dossier_events::note,
            dossier_events::internal,
            users::full_name.nullable(),
        ))
        .load(conn)
}

/// A consultation, as the asking office and the asked one see it.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Consultation {
    pub id: i64,
    pub dossier_id: i64,
    pub code: String,
    pub from_office: String,
    pub to_agency_id: i64,
    pub question: String,
    pub asked_at: NaiveDateTime,
    pub answer: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
}

/// The consultations with their dossier's code and the asking office's name.
macro_rules! consultation_query {
    () => {
        consultations::table
            .inner_join(d::table)
            .inner_join(agencies::table.on(agencies::id.eq(consultations::from_agency_id)))
            .select((
                consultations::id,
                consultations::dossier_id,
                d::code,
                agencies::name,
                consultations::to_agency_id,
                consultations::question,
                consultations::asked_at,
                consultations::answer,
                consultations::answered_at,
            ))
    };
}

/// The consultations asked of some offices, open ones first.
pub fn consultations_for(
    conn: &mut DbConnection,
    offices: &[i64],
    limit: i64,
) -> QueryResult<Vec<Consultation>> {
    consultation_query!()
        .filter(consultations::to_agency_id.eq_any(offices.to_vec()))
        .order((
            consultations::answered_at.is_not_null(),
            consultations::id.desc(),
        ))
        .limit(limit)
        .load(conn)
}

/// The consultations of one dossier.
pub fn consultations_of(
    conn: &mut DbConnection,
    dossier_id: i64,
) -> QueryResult<Vec<Consultation>> {
    consultation_query!()
        .filter(consultations::dossier_id.eq(dossier_id))
        .order(consultations::id)
        .load(conn)
}

/// The asked office answers once; the answer lands on the dossier's timeline (internal).
pub fn answer_consultation(
    conn: &mut DbConnection,
    id: i64,
    offices: &[i64],
    actor_id: i64,
    answer: &str,
    now: NaiveDateTime,
) -> Result<Consultation, MoveError> {
    super::transaction(conn, |conn| {
        let c: Consultation = consultation_query!()
            .filter(consultations::id.eq(id))
            .filter(consultations::to_agency_id.eq_any(offices.to_vec()))
            .first(conn)
            .optional()?
            .ok_or(MoveError::NotFound)?;
        let answer = answer.trim();
        if answer.is_empty() {
            return Err(MoveError::NoteRequired);
        }
        let changed = diesel::update(
            consultations::table
                .find(id)
                .filter(consultations::answered_at.is_null()),
        )
        .set((
            consultations::answer.eq(Some(answer)),
            consultations::answered_by.eq(Some(actor_id)),
            consultations::answered_at.eq(Some(now)),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(MoveError::Other(ALREADY_ANSWERED));
        }
        let status: i32 = d::table.find(c.dossier_id).select(d::status).first(conn)?;
        let answering: String = agencies::table
            .find(c.to_agency_id)
            .select(agencies::name)
            .first(conn)?;
        let status = Status::try_from(status).map_err(|e| MoveError::Db(e.into()))?;
        event(
            conn,
            c.dossier_id,
            now,
            Some(actor_id),
            "consult",
            status,
            &format!("{answering}: {answer}"),
            true,
        )?;
        Ok(Consultation {
            answer: Some(answer.to_string()),
            answered_at: Some(now),
            ..c
        })
    })
}

pub const ALREADY_ANSWERED: &str = "workspace_already_answered";

/// A dossier's code if one of the offices was consulted on it (they may read it).
pub fn consulted_by(
    conn: &mut DbConnection,
    dossier_id: i64,
    offices: &[i64],
) -> QueryResult<bool> {
    let n: i64 = consultations::table
        .filter(consultations::dossier_id.eq(dossier_id))
        .filter(consultations::to_agency_id.eq_any(offices))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A digest line: code, applicant, due.
pub type DigestRow = (String, String, NaiveDateTime);

/// Claims the lead digest of `day` for this worker: true for exactly one caller per day, in the
/// caller's transaction (a rolled-back run leaves the day unclaimed).
pub fn claim_digest(
    conn: &mut DbConnection,
    day: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use super::schema::app_state;
    let key = format!("lead_digest:{day}");
    let n = crate::with_backend!(conn, |c| diesel::insert_into(app_state::table)
        .values((
            app_state::key.eq(&key),
            app_state::value.eq("sent"),
            app_state::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// An office's leads: (email, name).
pub fn leads(conn: &mut DbConnection, agency_id: i64) -> QueryResult<Vec<(String, String)>> {
    agency_members::table
        .inner_join(users::table)
        .filter(agency_members::agency_id.eq(agency_id))
        .filter(agency_members::is_lead.eq(true))
        .order(users::id)
        .select((users::email, users::full_name))
        .load(conn)
}

/// Offices with a lead, by id and name.
pub fn offices_with_leads(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String)>> {
    let mut v: Vec<(i64, String)> = agency_members::table
        .inner_join(agencies::table)
        .filter(agency_members::is_lead.eq(true))
        .order(agencies::id)
        .select((agencies::id, agencies::name))
        .load(conn)?;
    v.dedup_by_key(|x| x.0);
    Ok(v)
}

/// An office's overdue and soon-due dossiers (each list at most `limit`), as
/// (code, applicant, due).
pub fn digest_rows(
    conn: &mut DbConnection,
    agency_id: i64,
    clock: Clock,
    limit: i64,
) -> QueryResult<(Vec<DigestRow>, Vec<DigestRow>)> {
    let running = stages(&Stage::CLOCK_RUNS);
    let overdue: Vec<(String, String, Option<NaiveDateTime>)> = d::table
        .filter(d::agency_id.eq(agency_id))
        .filter(d::stage.eq_any(running.clone()))
        .filter(d::due_at.lt(clock.now))
        .order((d::due_at.asc(), d::id.asc()))
        .limit(limit)
        .select((d::code, d::applicant_name, d::due_at))
        .load(conn)?;
    let soon: Vec<(String, String, Option<NaiveDateTime>)> = d::table
        .filter(d::agency_id.eq(agency_id))
        .filter(d::stage.eq_any(running))
        .filter(d::due_at.ge(clock.now))
        .filter(d::due_at.le(clock.soon_until))
        .order((d::due_at.asc(), d::id.asc()))
        .limit(limit)
        .select((d::code, d::applicant_name, d::due_at))
        .load(conn)?;
    let flat = |v: Vec<(String, String, Option<NaiveDateTime>)>| {
        v.into_iter()
            .filter_map(|(c, n, due)| due.map(|due| (c, n, due)))
            .collect()
    };
    Ok((flat(overdue), flat(soon)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let t = chrono::DateTime::from_timestamp(1_764_000_000, 0)
            .expect("t")
            .naive_utc();
        for c in [
            Cursor {
                key: Some(t),
                id: 42,
            },
            Cursor { key: None, id: 7 },
        ] {
            assert_eq!(Cursor::parse(&c.encode()), Some(c));
        }
        for junk in ["", "x", "1.", ".5", "n.x", "99999999999999999999.1"] {
            assert_eq!(Cursor::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn the_search_box_tells_codes_identity_numbers_and_names_apart() {
        assert_eq!(
            Search::parse(" 00004.00.00.H01-261130-0001 "),
            Some(Search::Code("00004.00.00.H01-261130-0001".into()))
        );
        assert_eq!(
            Search::parse("001090000123"),
            Some(Search::Cccd("001090000123".into()))
        );
        assert_eq!(
            Search::parse("Nguyễn Văn"),
            Some(Search::Name("nguyen van".into()))
        );
        assert_eq!(Search::parse("   "), None);
    }
}
