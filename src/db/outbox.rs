//! The email outbox: rows written inside the transaction of the event that causes them, claimed
//! by workers under a time lease, then marked sent or failed. Also the admin view's queries.
//!
//! A claim sets `locked_until` to a fresh instant; that value doubles as the claim's token, so
//! `mark_sent`/`mark_failed`/`release` only touch a row the caller still holds (no extra column).

use chrono::{NaiveDateTime, SubsecRound, TimeDelta};
use diesel::deserialize::FromSql;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use super::DbConnection;
use super::schema::outbox;
use crate::mail::RenderedEmail;

/// Where a message is in its delivery. Stored as its name (`outbox.status`, with a CHECK).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    Pending,
    Sent,
    /// Given up: attempts exhausted, or a message that can never be sent.
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for OutboxStatus {
    type Error = super::types::UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        super::types::parse_stored("outbox status", value)
    }
}

/// Read straight from a row, also through `sql_query` (the claim): an unknown name is an error.
impl<DB> FromSql<Text, DB> for OutboxStatus
where
    DB: diesel::backend::Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        Ok(OutboxStatus::try_from(String::from_sql(bytes)?)?)
    }
}

/// Longer errors are cut: an SMTP transcript is not worth a megabyte per row.
const MAX_ERROR_CHARS: usize = 1000;

/// A whole outbox row, as a worker needs it to send the message.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    #[diesel(sql_type = Text)]
    pub status: OutboxStatus,
    /// Attempts started, this one included (a claim counts as an attempt).
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// Set while claimed: the lease's end and the claim's token.
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A row for the admin list: everything but the bodies.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Serialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStats {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    /// How far behind delivery is: a growing age means the worker is down or SMTP is failing.
    pub oldest_pending_at: Option<NaiveDateTime>,
}

/// PostgreSQL keeps microseconds; rounding here keeps the lease token equal to what is stored.
fn micros(t: NaiveDateTime) -> NaiveDateTime {
    t.trunc_subsecs(6)
}

/// Stores one message for delivery. Call it inside the transaction that records the event, so a
/// rollback discards the email with the event. Returns the outbox id.
pub fn enqueue(
    conn: &mut DbConnection,
    to: &str,
    email: &RenderedEmail,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let now = micros(now);
    diesel::insert_into(outbox::table)
        .values((
            outbox::to_address.eq(to),
            outbox::subject.eq(&email.subject),
            outbox::text_body.eq(&email.text),
            outbox::html_body.eq(&email.html),
            outbox::status.eq(OutboxStatus::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

const COLUMNS: &str = "id, to_address, subject, text_body, html_body, status, attempts, \
    next_attempt_at, locked_until, last_error, created_at, sent_at";

/// Claims up to `limit` due messages for `lease`: each claimed row gets `locked_until = now +
/// lease` and one more attempt, and is returned (ordered by id). Rows claimed by someone else
/// whose lease has not run out are skipped; a worker that died mid-batch loses its rows when its
/// lease ends.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
    lease: TimeDelta,
) -> QueryResult<Vec<OutboxMessage>> {
    let now = micros(now);
    let until = micros(now + lease);
    let mut claimed: Vec<OutboxMessage> = match conn {
        // One statement; SKIP LOCKED lets concurrent workers take disjoint rows instead of
        // queueing behind each other (or taking the same ones).
        DbConnection::Postgresql(c) => diesel::sql_query(format!(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox \
                 WHERE status = 'pending' AND next_attempt_at <= $2 \
                   AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        ))
        .bind::<Timestamp, _>(until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(c)?,
        DbConnection::Sqlite(c) => {
            // SQLite locks the whole database for a write: look first without the write lock, so
            // an idle worker polling every second never makes web requests wait.
            let any_due = outbox::table
                .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::locked_until
                        .is_null()
                        .or(outbox::locked_until.lt(now)),
                )
                .select(outbox::id)
                .first::<i64>(c)
                .optional()?
                .is_some();
            if !any_due {
                return Ok(Vec::new());
            }
            // One writer at a time: taking the write lock up front makes select-and-update one
            // step, the role SKIP LOCKED plays on PostgreSQL.
            c.immediate_transaction(|c| {
                diesel::sql_query(format!(
                    "UPDATE outbox SET locked_until = ?, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox \
                         WHERE status = 'pending' AND next_attempt_at <= ? \
                           AND (locked_until IS NULL OR locked_until < ?) \
                         ORDER BY id LIMIT ?) \
                     RETURNING {COLUMNS}"
                ))
                .bind::<Timestamp, _>(until)
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .load(c)
            })?
        }
    };
    claimed.sort_by_key(|m| m.id);
    Ok(claimed)
}

/// The row of `msg` if the caller's claim still holds it (same lease token, still pending).
macro_rules! held {
    ($msg:expr, $lease:expr) => {
        outbox::table
            .filter(outbox::id.eq($msg.id))
            .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
            .filter(outbox::locked_until.eq($lease))
    };
}

/// Records a delivery. Returns false when the claim was lost (the lease ran out and another
/// worker took the row), which the caller logs: that is the one way an email goes out twice.
pub fn mark_sent(
    conn: &mut DbConnection,
    msg: &OutboxMessage,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let Some(lease) = msg.locked_until else {
        return Ok(false);
    };
    let n = diesel::update(held!(msg, lease))
        .set((
            outbox::status.eq(OutboxStatus::Sent.as_str()),
            outbox::sent_at.eq(micros(now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt: back to 'pending' until `next_attempt_at`, or 'failed' for good
/// when it is `None` (attempts exhausted, or a message that can never be sent).
pub fn mark_failed(
    conn: &mut DbConnection,
    msg: &OutboxMessage,
    error: &str,
    next_attempt_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let Some(lease) = msg.locked_until else {
        return Ok(false);
    };
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    let (status, next) = match next_attempt_at {
        Some(at) => (OutboxStatus::Pending.as_str(), micros(at)),
        None => (OutboxStatus::Failed.as_str(), msg.next_attempt_at),
    };
    let n = diesel::update(held!(msg, lease))
        .set((
            outbox::status.eq(status),
            outbox::next_attempt_at.eq(next),
            outbox::last_error.eq(Some(error)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives a claimed but unattempted message back (the worker is stopping, or its lease is about
/// to run out), without counting the attempt.
pub fn release(conn: &mut DbConnection, msg: &OutboxMessage) -> QueryResult<bool> {
    let Some(lease) = msg.locked_until else {
        return Ok(false);
    };
    let n = diesel::update(held!(msg, lease))
        .set((
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts - 1),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Counts per status and the age of the oldest undelivered message, for the admin view.
pub fn stats(conn: &mut DbConnection) -> QueryResult<OutboxStats> {
    let counts: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, count_star()))
        .load(conn)?;
    let mut stats = OutboxStats::default();
    for (status, n) in counts {
        match OutboxStatus::try_from(status)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?
        {
            OutboxStatus::Pending => stats.pending = n,
            OutboxStatus::Sent => stats.sent = n,
            OutboxStatus::Failed => stats.failed = n,
        }
    }
    stats.oldest_pending_at = outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending.as_str()))
        .select(min(outbox::created_at))
        .first(conn)?;
    Ok(stats)
}

/// The newest `limit` messages, bodies left out.
pub fn recent(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxEntry>> {
    outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::to_address,
            outbox::subject,
            outbox::status,
            outbox::attempts,
            outbox::next_attempt_at,
            outbox::last_error,
            outbox::created_at,
            outbox::sent_at,
        ))
        .load(conn)
}

/// One message with its bodies (the admin detail view, and tests).
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<OutboxMessage>> {
    outbox::table
        .filter(outbox::id.eq(id))
        .select(OutboxMessage::as_select())
        .first(conn)
        .optional()
}
