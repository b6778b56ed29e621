//! Single-use account links (verify an email, reset or set a password, revert an email change):
//! only the SHA-256 of the link's token is stored; a link works once, within its validity.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::account_tokens;
use crate::domain::account::TokenPurpose;

/// A link to create.
#[derive(Debug, Clone)]
pub struct NewAccountToken<'a> {
    pub user_id: i64,
    pub purpose: TokenPurpose,
    pub token_hash: &'a str,
    /// The address the link is about: the new one to verify, or the old one to restore.
    pub email: Option<&'a str>,
    pub valid_for: Duration,
    pub now: NaiveDateTime,
}

/// What using a link yields.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct UsedToken {
    pub user_id: i64,
    pub email: Option<String>,
}

pub fn create(conn: &mut DbConnection, t: &NewAccountToken) -> QueryResult<()> {
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(t.token_hash),
            account_tokens::user_id.eq(t.user_id),
            account_tokens::purpose.eq(t.purpose.as_str()),
            account_tokens::email.eq(t.email),
            account_tokens::created_at.eq(t.now),
            account_tokens::expires_at.eq(t.now + t.valid_for),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Uses a link once: `Some` the first time within its validity, `None` for an unknown, expired,
/// already used or wrong-purpose one. The conditional update makes a race harmless.
pub fn consume(
    conn: &mut DbConnection,
    purpose: TokenPurpose,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<UsedToken>> {
    let used = diesel::update(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(now)),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if used == 0 {
        return Ok(None);
    }
    account_tokens::table
        .find(token_hash)
        .select((account_tokens::user_id, account_tokens::email))
        .first(conn)
        .optional()
}

/// Whether a link is still usable, without using it (to show the form it leads to).
pub fn is_valid(
    conn: &mut DbConnection,
    purposes: &[TokenPurpose],
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let names: Vec<&str> = purposes.iter().map(|p| p.as_str()).collect();
    let n: i64 = account_tokens::table
        .filter(account_tokens::token_hash.eq(token_hash))
        .filter(account_tokens::purpose.eq_any(names))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Voids a person's unused links of one purpose (a reverted email change voids the pending
/// verification links, so the intruder's address cannot be confirmed afterwards).
pub fn void(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)
}
