//! Fixed-window counters shared by every instance through the database (registration, password
//! reset, second-factor codes, failed logins per address).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::rate_limits;

/// Counts one event under `key` in a fixed window and returns the count so far and when the
/// window ends.
pub fn hit(
    conn: &mut DbConnection,
    key: &str,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<(i32, NaiveDateTime)> {
    // Writes first, so concurrent hits queue on the row (PostgreSQL) or the write lock (SQLite)
    // instead of reading a count that another request is about to change.
    super::transaction(conn, |conn| {
        let fresh = (
            rate_limits::key.eq(key),
            rate_limits::window_start.eq(now),
            rate_limits::count.eq(0),
        );
        crate::with_backend!(&mut *conn, |c| diesel::insert_into(rate_limits::table)
            .values(fresh)
            .on_conflict(rate_limits::key)
            .do_nothing()
            .execute(c))?;
        diesel::update(
            rate_limits::table
                .find(key)
                .filter(rate_limits::window_start.le(now - window)),
        )
        .set((rate_limits::window_start.eq(now), rate_limits::count.eq(0)))
        .execute(conn)?;
        diesel::update(rate_limits::table.find(key))
            .set(rate_limits::count.eq(rate_limits::count + 1))
            .execute(conn)?;
        let (start, count): (NaiveDateTime, i32) = rate_limits::table
            .find(key)
            .select((rate_limits::window_start, rate_limits::count))
            .first(conn)?;
        Ok((count, start + window))
    })
}

/// The count under `key` in its current window (0 when none), and when the window ends;
/// counts nothing.
pub fn peek(
    conn: &mut DbConnection,
    key: &str,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<(i32, NaiveDateTime)> {
    let row: Option<(NaiveDateTime, i32)> = rate_limits::table
        .find(key)
        .select((rate_limits::window_start, rate_limits::count))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((start, count)) if start > now - window => (count, start + window),
        _ => (0, now + window),
    })
}
