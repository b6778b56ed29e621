//! Server-side sessions: the cookie holds a random token, only its SHA-256 is stored.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{sessions, users};
use super::users::User;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub mfa_ok: bool,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ip: String,
    pub user_agent: String,
}

/// What a new session records.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: i64,
    /// Whether every factor the person's role needs was given.
    pub mfa_ok: bool,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session ends this long after `now` whatever happens.
    pub lifetime: Duration,
    pub now: NaiveDateTime,
}

pub fn create(conn: &mut DbConnection, s: &NewSession) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(s.id_hash),
            sessions::user_id.eq(s.user_id),
            sessions::mfa_ok.eq(s.mfa_ok),
            sessions::created_at.eq(s.now),
            sessions::last_seen_at.eq(s.now),
            sessions::expires_at.eq(s.now + s.lifetime),
            sessions::ip.eq(s.ip),
            sessions::user_agent.eq(s.user_agent.chars().take(300).collect::<String>()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_with_user(
    conn: &mut DbConnection,
    id_hash: &str,
) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        // A disabled account has no sessions left, and none could come back.
        .filter(users::disabled_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

pub fn delete(conn: &mut DbConnection, id_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(id_hash))
        .execute(conn)
        .map(|_| ())
}

/// "Log out of every device", and what a password change or reset does.
pub fn delete_for_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Replaces a session by a new id with the second factor given (a privilege change rotates the id).
pub fn upgrade(conn: &mut DbConnection, old_hash: &str, new_hash: &str) -> QueryResult<bool> {
    let Some(s) = sessions::table
        .find(old_hash)
        .select(Session::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(new_hash),
            sessions::user_id.eq(s.user_id),
            sessions::mfa_ok.eq(true),
            sessions::created_at.eq(s.created_at),
            sessions::last_seen_at.eq(s.last_seen_at),
            sessions::expires_at.eq(s.expires_at),
            sessions::ip.eq(&s.ip),
            sessions::user_agent.eq(&s.user_agent),
        ))
        .execute(conn)?;
    diesel::delete(sessions::table.find(old_hash)).execute(conn)?;
    Ok(true)
}
