//! The scoreboard's dossier indicators, kept incrementally (`domain::indicators` says what each
//! measure means). Each dossier's contribution is kept beside it in `dossier_stats`; `refresh`,
//! called in the transaction of every change to a dossier (filing, each move, a hand-over, a
//! result, a rating), computes the dossier's facts again from its record and timeline and adds
//! the difference to the cells of its office, province, ministry and the portal, for its month,
//! quarter and year. Refreshing twice changes nothing, so no path can count a dossier twice; on
//! PostgreSQL the dossier's row is locked first so two refreshes of one dossier queue. Open
//! dossiers become late with the clock alone: `sweep` refreshes those whose due date has passed
//! (`watch_at`). `rebuild` recomputes everything from the timeline; `check` compares.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConnection;
use super::schema::{
    agencies, dossier_events, dossier_stats as ds, dossiers, payments, provinces, ratings, results,
    services, stat_cells as sc,
};
use crate::domain::calendar::Calendar;
use crate::domain::indicators::{self, DossierInput, Facts, MEASURES, Step, Tally, periods_of};
use crate::domain::rating::Scores;
use crate::domain::status::Status;

/// Where a dossier counts: its office, the office's province (empty: none), the procedure's
/// ministry, and the month it was received in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Keys {
    pub agency_id: i64,
    pub province_code: String,
    pub ministry_id: i64,
    pub month: String,
}

/// A cell's address: scope (`office`, `province`, `ministry`, `portal`), key, period.
pub type CellKey = (String, String, String);

/// The cells a dossier with these keys counts in.
pub fn cells_of(k: &Keys) -> Vec<CellKey> {
    let mut scopes = vec![
        ("office", k.agency_id.to_string()),
        ("ministry", k.ministry_id.to_string()),
        ("portal", String::new()),
    ];
    if !k.province_code.is_empty() {
        scopes.push(("province", k.province_code.clone()));
    }
    let periods = periods_of(&k.month);
    let mut out = Vec::with_capacity(scopes.len() * 3);
    for (scope, key) in &scopes {
        for p in &periods {
            out.push((scope.to_string(), key.clone(), p.clone()));
        }
    }
    out
}

/// Adds each cell's delta (zero deltas skipped) in one statement, the rows in the cells' order:
/// every transaction takes the cells' row locks in one global order, so two refreshes on
/// PostgreSQL cannot deadlock (a transfer touches two offices' cells).
fn apply(conn: &mut DbConnection, deltas: &BTreeMap<CellKey, Tally>) -> QueryResult<()> {
    let rows: Vec<(&CellKey, &Tally)> = deltas.iter().filter(|(_, t)| !t.is_zero()).collect();
    // At most 1,000 rows (3,000 bound values) a statement: under both databases' limits.
    for chunk in rows.chunks(1_000) {
        add_rows(conn, chunk)?;
    }
    Ok(())
}

fn add_rows(conn: &mut DbConnection, rows: &[(&CellKey, &Tally)]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let mut values = Vec::with_capacity(rows.len());
    for (i, (_, t)) in rows.iter().enumerate() {
        let ph = |k: usize| {
            if sqlite {
                "?".to_string()
            } else {
                format!("${}", i * 3 + k)
            }
        };
        let numbers =
            t.0.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
        values.push(format!("({}, {}, {}, {numbers})", ph(1), ph(2), ph(3)));
    }
    let set = MEASURES
        .iter()
        .map(|m| format!("{m} = stat_cells.{m} + excluded.{m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO stat_cells (scope, scope_key, period, {}) VALUES {} \
         ON CONFLICT (scope, scope_key, period) DO UPDATE SET {set}",
        MEASURES.join(", "),
        values.join(", ")
    );
    crate::with_backend!(conn, |c| {
        let mut q = diesel::sql_query(&sql).into_boxed();
        for (cell, _) in rows {
            q = q
                .bind::<Text, _>(cell.0.as_str())
                .bind::<Text, _>(cell.1.as_str())
                .bind::<Text, _>(cell.2.as_str());
        }
        q.execute(c)
    })
    .map(|_| ())
}

fn add_into(deltas: &mut BTreeMap<CellKey, Tally>, k: &Keys, delta: &Tally) {
    for cell in cells_of(k) {
        deltas.entry(cell).or_default().add(delta);
    }
}

fn negated(t: &Tally) -> Tally {
    Tally::default().minus(t)
}

type DossierRow = (
    i64,
    String,
    i32,
    NaiveDateTime,
    Option<NaiveDateTime>,
    i64,
    i64,
    i64,
);

fn dossier_cols() -> (
    dossiers::id,
    dossiers::channel,
    dossiers::status,
    dossiers::submitted_at,
    dossiers::due_at,
    dossiers::fee_vnd,
    dossiers::agency_id,
    dossiers::service_id,
) {
    (
        dossiers::id,
        dossiers::channel,
        dossiers::status,
        dossiers::submitted_at,
        dossiers::due_at,
        dossiers::fee_vnd,
        dossiers::agency_id,
        dossiers::service_id,
    )
}

/// What else a dossier's facts read, beside its row.
#[derive(Default)]
struct Extra {
    steps: Vec<Step>,
    has_payment: bool,
    paid_online: bool,
    e_result: bool,
    rating: Option<Scores>,
}

fn compute(
    row: &DossierRow,
    extra: &Extra,
    province: &str,
    ministry_id: i64,
    cal: &Calendar,
    now: NaiveDateTime,
) -> (Keys, Facts) {
    let input = DossierInput {
        channel: &row.1,
        status: Status::from_code(row.2).unwrap_or(Status::Submitted),
        submitted_at: row.3,
        due_at: row.4,
        fee_vnd: row.5,
        steps: &extra.steps,
        has_payment: extra.has_payment,
        paid_online: extra.paid_online,
        e_result: extra.e_result,
        rating: extra.rating,
    };
    let f = indicators::facts(&input, cal, now);
    (
        Keys {
            agency_id: row.6,
            province_code: province.to_string(),
            ministry_id,
            month: f.month.clone(),
        },
        f,
    )
}

/// Recomputes one dossier's contribution and moves the cells by the difference, in the caller's
/// transaction.
pub fn refresh(conn: &mut DbConnection, dossier_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT id FROM dossiers WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(dossier_id)
            .execute(c)?;
    }
    let Some(row) = dossiers::table
        .find(dossier_id)
        .select(dossier_cols())
        .first::<DossierRow>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let steps = dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier_id))
        .order(dossier_events::id)
        .select((
            dossier_events::action,
            dossier_events::at,
            dossier_events::to_status,
        ))
        .load::<(String, NaiveDateTime, i32)>(conn)?
        .into_iter()
        .map(|(action, at, to_status)| Step {
            action,
            at,
            to_status,
        })
        .collect();
    let pays: Vec<String> = payments::table
        .filter(payments::dossier_id.eq(dossier_id))
        .select(payments::status)
        .load(conn)?;
    let e_result = results::table
        .filter(results::dossier_id.eq(dossier_id))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    let rating: Option<String> = ratings::table
        .find(dossier_id)
        .select(ratings::scores)
        .first(conn)
        .optional()?;
    let province: Option<String> = agencies::table
        .find(row.6)
        .select(agencies::province_code)
        .first(conn)?;
    let ministry_id: i64 = services::table
        .find(row.7)
        .select(services::ministry_id)
        .first(conn)?;
    let extra = Extra {
        steps,
        has_payment: !pays.is_empty(),
        paid_online: pays.iter().any(|s| s == "paid"),
        e_result,
        rating: rating.as_deref().and_then(Scores::parse),
    };
    // Only a finished dossier's working days need the holidays.
    let finished = Status::from_code(row.2).is_some_and(Status::is_finished);
    let cal = if finished {
        super::calendar::calendar(conn)?
    } else {
        Calendar::default()
    };
    let (keys, facts) = compute(
        &row,
        &extra,
        province.as_deref().unwrap_or(""),
        ministry_id,
        &cal,
        now,
    );
    let old: Option<(i64, String, i64, String, String)> = ds::table
        .find(dossier_id)
        .select((
            ds::agency_id,
            ds::province_code,
            ds::ministry_id,
            ds::month,
            ds::tally,
        ))
        .first(conn)
        .optional()?;
    let mut deltas = BTreeMap::new();
    if let Some((agency_id, province_code, ministry_id, month, tally)) = old {
        let old_keys = Keys {
            agency_id,
            province_code,
            ministry_id,
            month,
        };
        add_into(
            &mut deltas,
            &old_keys,
            &negated(&Tally::parse(&tally).unwrap_or_default()),
        );
    }
    add_into(&mut deltas, &keys, &facts.tally);
    apply(conn, &deltas)?;
    let values = (
        ds::dossier_id.eq(dossier_id),
        ds::agency_id.eq(keys.agency_id),
        ds::province_code.eq(&keys.province_code),
        ds::ministry_id.eq(keys.ministry_id),
        ds::month.eq(&keys.month),
        ds::tally.eq(facts.tally.to_text()),
        ds::watch_at.eq(facts.watch_at),
    );
    crate::with_backend!(conn, |c| diesel::insert_into(ds::table)
        .values(values.clone())
        .on_conflict(ds::dossier_id)
        .do_update()
        .set((
            ds::agency_id.eq(keys.agency_id),
            ds::province_code.eq(&keys.province_code),
            ds::ministry_id.eq(keys.ministry_id),
            ds::month.eq(&keys.month),
            ds::tally.eq(facts.tally.to_text()),
            ds::watch_at.eq(facts.watch_at),
        ))
        .execute(c))?;
    Ok(())
}

/// Refreshes the dossiers whose due date has passed since they were last counted (each in its
/// own transaction); how many.
pub fn sweep(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = ds::table
        .filter(ds::watch_at.lt(now))
        .order(ds::watch_at)
        .select(ds::dossier_id)
        .limit(limit)
        .load(conn)?;
    for id in &ids {
        super::transaction(conn, |c| refresh(c, *id, now))?;
    }
    Ok(ids.len())
}

/// Every dossier's contribution computed from the timeline, a batch at a time (by id), with
/// `each` called per batch.
fn scan(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    mut each: impl FnMut(&mut DbConnection, Vec<(i64, Keys, Facts)>) -> QueryResult<()>,
) -> QueryResult<u64> {
    const BATCH: i64 = 5_000;
    let cal = super::calendar::calendar(conn)?;
    let province_of: HashMap<i64, String> = agencies::table
        .select((agencies::id, agencies::province_code))
        .load::<(i64, Option<String>)>(conn)?
        .into_iter()
        .map(|(id, p)| (id, p.unwrap_or_default()))
        .collect();
    let ministry_of: HashMap<i64, i64> = services::table
        .select((services::id, services::ministry_id))
        .load(conn)?
        .into_iter()
        .collect();
    let mut after = 0i64;
    let mut total = 0u64;
    loop {
        let rows: Vec<DossierRow> = dossiers::table
            .filter(dossiers::id.gt(after))
            .order(dossiers::id)
            .limit(BATCH)
            .select(dossier_cols())
            .load(conn)?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(total);
        };
        let (lo, hi) = (first.0, last.0);
        let mut extra: HashMap<i64, Extra> = HashMap::with_capacity(rows.len());
        for (id, action, at, to_status) in dossier_events::table
            .filter(dossier_events::dossier_id.between(lo, hi))
            .order((dossier_events::dossier_id, dossier_events::id))
            .select((
                dossier_events::dossier_id,
                dossier_events::action,
                dossier_events::at,
                dossier_events::to_status,
            ))
            .load::<(i64, String, NaiveDateTime, i32)>(conn)?
        {
            extra.entry(id).or_default().steps.push(Step {
                action,
                at,
                to_status,
            });
        }
        for (id, status) in payments::table
            .filter(payments::dossier_id.between(lo, hi))
            .select((payments::dossier_id, payments::status))
            .load::<(Option<i64>, String)>(conn)?
        {
            if let Some(id) = id {
                let e = extra.entry(id).or_default();
                e.has_payment = true;
                e.paid_online |= status == "paid";
            }
        }
        for id in results::table
            .filter(results::dossier_id.between(lo, hi))
            .select(results::dossier_id)
            .load::<i64>(conn)?
        {
            extra.entry(id).or_default().e_result = true;
        }
        for (id, scores) in ratings::table
            .filter(ratings::dossier_id.between(lo, hi))
            .select((ratings::dossier_id, ratings::scores))
            .load::<(i64, String)>(conn)?
        {
            extra.entry(id).or_default().rating = Scores::parse(&scores);
        }
        let empty = Extra::default();
        let batch: Vec<(i64, Keys, Facts)> = rows
            .iter()
            .map(|row| {
                let (keys, facts) = compute(
                    row,
                    extra.get(&row.0).unwrap_or(&empty),
                    province_of.get(&row.6).map(String::as_str).unwrap_or(""),
                    ministry_of.get(&row.7).copied().unwrap_or(0),
                    &cal,
                    now,
                );
                (row.0, keys, facts)
            })
            .collect();
        total += batch.len() as u64;
        after = hi;
        each(conn, batch)?;
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    pub dossiers: u64,
    pub cells: usize,
}

/// Recomputes every dossier's contribution and every cell from the timeline, in one
/// transaction.
pub fn rebuild(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Rebuilt> {
    super::transaction(conn, |conn| {
        diesel::delete(sc::table).execute(conn)?;
        diesel::delete(ds::table).execute(conn)?;
        let mut cells: BTreeMap<CellKey, Tally> = BTreeMap::new();
        let dossiers = scan(conn, now, |conn, batch| {
            let mut rows = Vec::with_capacity(batch.len());
            for (id, keys, facts) in &batch {
                for cell in cells_of(keys) {
                    cells.entry(cell).or_default().add(&facts.tally);
                }
                rows.push((
                    ds::dossier_id.eq(*id),
                    ds::agency_id.eq(keys.agency_id),
                    ds::province_code.eq(keys.province_code.clone()),
                    ds::ministry_id.eq(keys.ministry_id),
                    ds::month.eq(keys.month.clone()),
                    ds::tally.eq(facts.tally.to_text()),
                    ds::watch_at.eq(facts.watch_at),
                ));
            }
            for chunk in rows.chunks(1_000) {
                crate::with_backend!(&mut *conn, |c| diesel::insert_into(ds::table)
                    .values(chunk)
                    .execute(c))?;
            }
            Ok(())
        })?;
        apply(conn, &cells)?;
        Ok(Rebuilt {
            dossiers,
            cells: cells.len(),
        })
    })
}

/// The cells as the timeline says they should be, compared with those kept: one line per
/// difference (empty: they agree). Run `sweep` at the same `now` first.
pub fn check(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<String>> {
    let mut expected: BTreeMap<CellKey, Tally> = BTreeMap::new();
    scan(conn, now, |_, batch| {
        for (_, keys, facts) in &batch {
            for cell in cells_of(keys) {
                expected.entry(cell).or_default().add(&facts.tally);
            }
        }
        Ok(())
    })?;
    let mut kept: BTreeMap<CellKey, Tally> = sc::table
        .select(CellRow::as_select())
        .load::<CellRow>(conn)?
        .into_iter()
        .map(|r| {
            (
                (r.scope.clone(), r.scope_key.clone(), r.period.clone()),
                r.tally(),
            )
        })
        .collect();
    let mut out = Vec::new();
    for (cell, want) in &expected {
        let have = kept.remove(cell).unwrap_or_default();
        if have != *want {
            out.push(difference(cell, &have, want));
        }
    }
    for (cell, have) in kept {
        if !have.is_zero() {
            out.push(difference(&cell, &have, &Tally::default()));
        }
    }
    Ok(out)
}

fn difference(cell: &CellKey, have: &Tally, want: &Tally) -> String {
    let fields: Vec<String> = MEASURES
        .iter()
        .enumerate()
        .filter(|(i, _)| have.0[*i] != want.0[*i])
        .map(|(i, m)| format!("{m} kept {} timeline {}", have.0[i], want.0[i]))
        .collect();
    format!("{} {} {}: {}", cell.0, cell.1, cell.2, fields.join(", "))
}

/// One row of `stat_cells`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sc)]
pub struct CellRow {
    pub scope: String,
    pub scope_key: String,
    pub period: String,
    pub received: i64,
    pub online: i64,
    pub counter: i64,
    pub post: i64,
    pub finished: i64,
    pub withdrawn: i64,
    pub on_time: i64,
    pub late: i64,
    pub overdue_now: i64,
    pub days_sum: i64,
    pub days_n: i64,
    pub charged: i64,
    pub paid_online: i64,
    pub with_result: i64,
    pub e_result: i64,
    pub rated: i64,
    pub negative: i64,
    pub s1: i64,
    pub s2: i64,
    pub s3: i64,
    pub s4: i64,
    pub s5: i64,
    pub s6: i64,
    pub s7: i64,
    pub s8: i64,
    pub s9: i64,
}

impl CellRow {
    pub fn tally(&self) -> Tally {
        Tally([
            self.received,
            self.online,
            self.counter,
            self.post,
            self.finished,
            self.withdrawn,
            self.on_time,
            self.late,
            self.overdue_now,
            self.days_sum,
            self.days_n,
            self.charged,
            self.paid_online,
            self.with_result,
            self.e_result,
            self.rated,
            self.negative,
            self.s1,
            self.s2,
            self.s3,
            self.s4,
            self.s5,
            self.s6,
            self.s7,
            self.s8,
            self.s9,
        ])
    }
}

/// Every cell of a scope in a period: (key, sums).
pub fn cells(
    conn: &mut DbConnection,
    scope: &str,
    period: &str,
) -> QueryResult<Vec<(String, Tally)>> {
    Ok(sc::table
        .filter(sc::scope.eq(scope))
        .filter(sc::period.eq(period))
        .select(CellRow::as_select())
        .load::<CellRow>(conn)?
        .into_iter()
        .map(|r| (r.scope_key.clone(), r.tally()))
        .collect())
}

/// One cell (zero when nothing was received).
pub fn cell(conn: &mut DbConnection, scope: &str, key: &str, period: &str) -> QueryResult<Tally> {
    Ok(sc::table
        .filter(sc::scope.eq(scope))
        .filter(sc::scope_key.eq(key))
        .filter(sc::period.eq(period))
        .select(CellRow::as_select())
        .first::<CellRow>(conn)
        .optional()?
        .map(|r| r.tally())
        .unwrap_or_default())
}

/// A scope's cells over several periods (e.g. a year's months), in the order asked.
pub fn series(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    periods: &[String],
) -> QueryResult<Vec<(String, Tally)>> {
    let rows: HashMap<String, Tally> = sc::table
        .filter(sc::scope.eq(scope))
        .filter(sc::scope_key.eq(key))
        .filter(sc::period.eq_any(periods))
        .select(CellRow::as_select())
        .load::<CellRow>(conn)?
        .into_iter()
        .map(|r| (r.period.clone(), r.tally()))
        .collect();
    Ok(periods
        .iter()
        .map(|p| (p.clone(), rows.get(p).copied().unwrap_or_default()))
        .collect())
}

/// The years with dossiers, newest first.
pub fn years(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let mut years: Vec<String> = sc::table
        .filter(sc::scope.eq("portal"))
        .filter(sc::received.gt(0))
        .select(sc::period)
        .load::<String>(conn)?
        .into_iter()
        .filter(|p| p.len() == 4)
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    Ok(years)
}

/// The names of a scope's keys (offices and ministries by id, provinces by code).
pub fn names(
    conn: &mut DbConnection,
    scope: &str,
    keys: &[String],
) -> QueryResult<HashMap<String, String>> {
    Ok(match scope {
        "province" => provinces::table
            .filter(provinces::code.eq_any(keys))
            .select((provinces::code, provinces::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect(),
        "office" | "ministry" => {
            let ids: Vec<i64> = keys.iter().filter_map(|k| k.parse().ok()).collect();
            agencies::table
                .filter(agencies::id.eq_any(ids))
                .select((agencies::id, agencies::name))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .map(|(id, n)| (id.to_string(), n))
                .collect()
        }
        _ => HashMap::new(),
    })
}

/// Whether some dossier has no contribution yet (a database from before the indicators, or
/// dossiers loaded in bulk): then the caller rebuilds.
pub fn missing(conn: &mut DbConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Gap {
        #[diesel(sql_type = BigInt)]
        gap: i64,
    }
    // One statement, one snapshot: a dossier filed meanwhile by another instance (with its
    // contribution, in one transaction) is in both counts or in neither.
    let g: Gap = crate::with_backend!(conn, |c| diesel::sql_query(
        "SELECT (SELECT COUNT(*) FROM dossiers) - (SELECT COUNT(*) FROM dossier_stats) AS gap"
    )
    .get_result(c))?;
    Ok(g.gap != 0)
}
