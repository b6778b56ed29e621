//! Failed logins per account — or per identifier when no account has it — so a known and an
//! unknown email or CCCD lock after the same count (see `domain::login`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::login_failures;
use crate::domain::login::FailureRecord;

pub fn load(conn: &mut DbConnection, subject: &str) -> QueryResult<FailureRecord> {
    let row: Option<(i32, NaiveDateTime, Option<NaiveDateTime>)> = login_failures::table
        .find(subject)
        .select((
            login_failures::failures,
            login_failures::last_failure_at,
            login_failures::locked_until,
        ))
        .first(conn)
        .optional()?;
    Ok(row
        .map(|(failures, last, locked_until)| FailureRecord {
            failures,
            last_failure_at: Some(last),
            locked_until,
        })
        .unwrap_or_default())
}

/// Stores the record the policy returned after a failure.
pub fn store(conn: &mut DbConnection, subject: &str, r: &FailureRecord) -> QueryResult<()> {
    let Some(last) = r.last_failure_at else {
        return clear(conn, subject);
    };
    diesel::delete(login_failures::table.find(subject)).execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::subject.eq(subject),
            login_failures::failures.eq(r.failures),
            login_failures::last_failure_at.eq(last),
            login_failures::locked_until.eq(r.locked_until),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A successful login (or a password reset) forgets the failures.
pub fn clear(conn: &mut DbConnection, subject: &str) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(subject))
        .execute(conn)
        .map(|_| ())
}
