//! Staff's second factor: the TOTP secret (pending until a code proves the app has it), the last
//! accepted time step (no replay), and single-use recovery codes stored hashed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{recovery_codes, users};

/// Keeps a freshly generated secret until the person proves their app has it.
pub fn set_pending(conn: &mut DbConnection, user_id: i64, secret: &str) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_null()),
    )
    .set(users::totp_secret.eq(Some(secret)))
    .execute(conn)
    .map(|_| ())
}

/// Turns the second factor on and stores the hashes of fresh recovery codes (old ones go).
pub fn enable(
    conn: &mut DbConnection,
    user_id: i64,
    step: i64,
    recovery_hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_enabled_at.eq(Some(now)),
            users::totp_last_step.eq(Some(step)),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    let rows: Vec<_> = recovery_hashes
        .iter()
        .map(|h| {
            (
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
            )
        })
        .collect();
    for row in rows {
        diesel::insert_into(recovery_codes::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Records the time step of an accepted code, so the same code cannot be used twice.
pub fn set_step(conn: &mut DbConnection, user_id: i64, step: i64) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)
        .map(|_| ())
}

/// Uses one recovery code; false when it is unknown or already used.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: i64,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n > 0)
}

pub fn unused_recovery_codes(conn: &mut DbConnection, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}
