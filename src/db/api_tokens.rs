//! Citizens' API bearer tokens. The token is shown once; the database keeps its SHA-256 (to
//! recognise it) and an opaque public id (to name it in the revoke form). The hash never leaves
//! the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::api_tokens;
use super::users::{self, User};

/// A token as its owner sees it in the list.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub public_id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

pub fn create(
    conn: &mut DbConnection,
    user_id: i64,
    name: &str,
    token_hash: &str,
    public_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(token_hash),
            api_tokens::public_id.eq(public_id),
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The owner of a live (not revoked) token; records its use.
pub fn owner(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<User>> {
    let owner: Option<i64> = api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(api_tokens::user_id)
        .first(conn)
        .optional()?;
    let Some(user_id) = owner else {
        return Ok(None);
    };
    diesel::update(api_tokens::table.find(token_hash))
        .set(api_tokens::last_used_at.eq(Some(now)))
        .execute(conn)?;
    Ok(users::find_by_id(conn, user_id)?.filter(|u| u.disabled_at.is_none()))
}

/// A person's live tokens, newest first.
pub fn list(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::created_at.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes one of the person's own tokens by its public id; false when there is no such live
/// token of theirs.
pub fn revoke(
    conn: &mut DbConnection,
    user_id: i64,
    public_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::public_id.eq(public_id))
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n > 0)
}
