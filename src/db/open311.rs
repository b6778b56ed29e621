//! Open311 requests as the key holder sees them: their own dossiers with the spec's filters,
//! and what a token (a draft's public id) became.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{agencies, dossiers as d, drafts, services};
use crate::domain::status::Status;

/// A dossier as an Open311 request.
#[derive(Debug, Clone, Queryable)]
pub struct RequestRow {
    pub code: String,
    pub status: i32,
    pub service_code: String,
    pub service_name: String,
    pub office: String,
    pub submitted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub due_at: Option<NaiveDateTime>,
}

/// The filters of `GET requests` (`status`: Some(true) closed, Some(false) open).
#[derive(Debug, Default)]
pub struct Filters {
    pub ids: Vec<String>,
    pub service_code: Option<String>,
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
    pub status: Option<bool>,
}

/// The key holder's dossiers matching the filters, newest first, at most 1,000 (the spec's
/// page).
pub fn requests(
    conn: &mut DbConnection,
    user_id: i64,
    f: &Filters,
) -> QueryResult<Vec<RequestRow>> {
    let mut q = d::table
        .inner_join(services::table)
        .inner_join(agencies::table)
        .filter(d::user_id.eq(user_id))
        .into_boxed();
    if !f.ids.is_empty() {
        q = q.filter(d::code.eq_any(&f.ids));
    }
    if let Some(code) = &f.service_code {
        q = q.filter(services::code.eq(code));
    }
    if let Some(start) = f.start {
        q = q.filter(d::submitted_at.ge(start));
    }
    if let Some(end) = f.end {
        q = q.filter(d::submitted_at.le(end));
    }
    if let Some(closed) = f.status {
        let finished: Vec<i32> = Status::ALL
            .into_iter()
            .filter(|s| s.is_finished())
            .map(|s| i32::from(s.code()))
            .collect();
        q = if closed {
            q.filter(d::status.eq_any(finished.clone()))
        } else {
            q.filter(d::status.ne_all(finished))
        };
    }
    q.order(d::submitted_at.desc())
        .limit(1000)
        .select((
            d::code,
            d::status,
            services::code,
            services::name,
            agencies::name,
            d::submitted_at,
            d::updated_at,
            d::due_at,
        ))
        .load(conn)
}

/// A token of `user_id`'s: `Some(Some(code))` once filed, `Some(None)` while a draft, `None`
/// when it is not theirs (or does not exist).
pub fn token(
    conn: &mut DbConnection,
    user_id: i64,
    token: &str,
) -> QueryResult<Option<Option<String>>> {
    let filed: Option<String> = d::table
        .filter(d::draft_public_id.eq(token))
        .filter(d::user_id.eq(user_id))
        .select(d::code)
        .first(conn)
        .optional()?;
    if filed.is_some() {
        return Ok(Some(filed));
    }
    let open: i64 = drafts::table
        .filter(drafts::public_id.eq(token))
        .filter(drafts::user_id.eq(user_id))
        .count()
        .get_result(conn)?;
    Ok((open > 0).then_some(None))
}
