//! The working-day calendar administrators keep: public holidays (per year; added, edited,
//! deleted or imported from a CSV of the `data/holidays.csv` shape) and the default office
//! hours. Every change is one transaction with an audit entry; the in-process calendar cache
//! is dropped by the caller after a change.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Origin;
use super::audit::{self, Entry};
use super::schema::{app_state, holidays};
use super::{DbConnection, transaction};
use crate::domain::admin::{Outcome, Refusal};
use crate::domain::audit::AuditEvent;
use crate::domain::calendar::{Calendar, OfficeHours};
use crate::seed::Holiday;

/// The `app_state` key of the default office hours.
const OFFICE_HOURS_KEY: &str = "office_hours";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = holidays)]
pub struct HolidayRow {
    pub day: NaiveDate,
    pub name_vi: String,
    pub name_en: String,
}

/// The calendar due dates are computed with: every holiday and the office hours.
pub fn calendar(conn: &mut DbConnection) -> QueryResult<Calendar> {
    let days: Vec<NaiveDate> = holidays::table.select(holidays::day).load(conn)?;
    Ok(Calendar::new(days, office_hours(conn)?))
}

/// The calendar of one office: the holidays and its own hours when it has them.
pub fn calendar_for(conn: &mut DbConnection, agency_id: i64) -> QueryResult<Calendar> {
    use super::schema::agencies;
    let own: Option<Option<String>> = agencies::table
        .find(agency_id)
        .select(agencies::office_hours)
        .first(conn)
        .optional()?;
    let hours = match own.flatten().as_deref().and_then(OfficeHours::parse) {
        Some(h) => h,
        None => office_hours(conn)?,
    };
    let days: Vec<NaiveDate> = holidays::table.select(holidays::day).load(conn)?;
    Ok(Calendar::new(days, hours))
}

pub fn office_hours(conn: &mut DbConnection) -> QueryResult<OfficeHours> {
    let text: Option<String> = app_state::table
        .find(OFFICE_HOURS_KEY)
        .select(app_state::value)
        .first(conn)
        .optional()?;
    Ok(text
        .as_deref()
        .and_then(OfficeHours::parse)
        .unwrap_or_default())
}

pub fn set_office_hours(
    conn: &mut DbConnection,
    admin_id: i64,
    hours: &OfficeHours,
    o: &Origin,
) -> QueryResult<()> {
    transaction(conn, |conn| {
        let before = office_hours(conn)?.format();
        let after = hours.format();
        crate::with_backend!(&mut *conn, |c| diesel::insert_into(app_state::table)
            .values((
                app_state::key.eq(OFFICE_HOURS_KEY),
                app_state::value.eq(&after),
                app_state::updated_at.eq(o.now),
            ))
            .on_conflict(app_state::key)
            .do_update()
            .set((app_state::value.eq(&after), app_state::updated_at.eq(o.now)))
            .execute(c))?;
        record(
            conn,
            admin_id,
            "office_hours",
            &format!("{before} → {after}"),
            o,
        )
    })
}

fn record(
    conn: &mut DbConnection,
    admin_id: i64,
    subject: &str,
    detail: &str,
    o: &Origin,
) -> QueryResult<()> {
    let e = Entry::new(
        Some(admin_id),
        AuditEvent::ConfigChanged,
        subject,
        &o.ip,
        o.now,
    );
    audit::record(conn, &e.detail(detail))
}

/// The years that have holidays, and the holidays of `year` in date order.
pub fn of_year(conn: &mut DbConnection, year: i32) -> QueryResult<(Vec<i32>, Vec<HolidayRow>)> {
    let all: Vec<HolidayRow> = holidays::table
        .order(holidays::day)
        .select(HolidayRow::as_select())
        .load(conn)?;
    let mut years: Vec<i32> = all.iter().map(|h| h.day.year()).collect();
    years.dedup();
    Ok((
        years,
        all.into_iter().filter(|h| h.day.year() == year).collect(),
    ))
}

pub fn holiday(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<Option<HolidayRow>> {
    holidays::table
        .find(day)
        .select(HolidayRow::as_select())
        .first(conn)
        .optional()
}

fn show(h: &HolidayRow) -> String {
    format!("{} {} / {}", h.day, h.name_vi, h.name_en)
}

/// Adds a holiday (`original` None) or edits the one on `original` (its day may move).
pub fn save(
    conn: &mut DbConnection,
    admin_id: i64,
    original: Option<NaiveDate>,
    h: &HolidayRow,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let before = match original {
            Some(day) => match holiday(conn, day)? {
                Some(b) => Some(b),
                None => return Ok(Err(Refusal::NotFound)),
            },
            None => None,
        };
        if original != Some(h.day) && holiday(conn, h.day)?.is_some() {
            return Ok(Err(Refusal::DayTaken));
        }
        if let Some(day) = original {
            diesel::delete(holidays::table.find(day)).execute(conn)?;
        }
        diesel::insert_into(holidays::table)
            .values((
                holidays::day.eq(h.day),
                holidays::name_vi.eq(&h.name_vi),
                holidays::name_en.eq(&h.name_en),
            ))
            .execute(conn)?;
        let detail = format!(
            "{} → {}",
            before.as_ref().map(show).unwrap_or_else(|| "-".into()),
            show(h)
        );
        record(conn, admin_id, &format!("holiday:{}", h.day), &detail, o)?;
        Ok(Ok(()))
    })
}

pub fn delete(
    conn: &mut DbConnection,
    admin_id: i64,
    day: NaiveDate,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(before) = holiday(conn, day)? else {
            return Ok(Err(Refusal::NotFound));
        };
        diesel::delete(holidays::table.find(day)).execute(conn)?;
        let detail = format!("{} → -", show(&before));
        record(conn, admin_id, &format!("holiday:{day}"), &detail, o)?;
        Ok(Ok(()))
    })
}

/// What an import did: new days, days whose names changed, days already as in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// Adds or renames the file's holidays (days not in the file are kept), in one transaction
/// with one audit entry.
pub fn import(
    conn: &mut DbConnection,
    admin_id: i64,
    rows: &[Holiday],
    o: &Origin,
) -> QueryResult<ImportReport> {
    transaction(conn, |conn| {
        let mut r = ImportReport::default();
        for h in rows {
            match holiday(conn, h.date)? {
                Some(b) if b.name_vi == h.name_vi && b.name_en == h.name_en => r.unchanged += 1,
                Some(_) => {
                    diesel::update(holidays::table.find(h.date))
                        .set((
                            holidays::name_vi.eq(&h.name_vi),
                            holidays::name_en.eq(&h.name_en),
                        ))
                        .execute(conn)?;
                    r.changed += 1;
                }
                None => {
                    diesel::insert_into(holidays::table)
                        .values((
                            holidays::day.eq(h.date),
                            holidays::name_vi.eq(&h.name_vi),
                            holidays::name_en.eq(&h.name_en),
                        ))
                        .execute(conn)?;
                    r.added += 1;
                }
            }
        }
        let detail = format!(
            "import: {} added, {} changed, {} unchanged",
            r.added, r.changed, r.unchanged
        );
        record(conn, admin_id, "holidays", &detail, o)?;
        Ok(r)
    })
}
