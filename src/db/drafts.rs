//! Drafts: a citizen's application before submission, saved on the server as they go (answers,
//! sections seen, attachments), resumable from any device, expiring after `DRAFT_DAYS` without
//! a change (a reminder goes out `REMINDER_DAYS_BEFORE` days before).

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::DbConnection;
use super::directory::Place;
use super::schema::{attachments, drafts, payments, services};
use crate::domain::form_schema::Answers;
use crate::domain::routing::Level;

pub const DRAFT_DAYS: i64 = 30;
pub const REMINDER_DAYS_BEFORE: i64 = 3;

/// What the `answers` column holds: the answers as typed, and the sections the person has been
/// through (a section not seen yet is "not started" on the task list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftState {
    #[serde(default)]
    pub answers: Answers,
    #[serde(default)]
    pub visited: BTreeSet<String>,
    /// Entered at an office's desk for a walk-in applicant (`counter`) or from a letter
    /// (`post`); None for the citizen's own online application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<crate::domain::dossier::Channel>,
}

impl DraftState {
    /// Entered by an officer for someone else.
    pub fn at_desk(&self) -> bool {
        self.channel
            .is_some_and(|c| c != crate::domain::dossier::Channel::Online)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = drafts)]
pub struct Draft {
    pub id: i64,
    pub public_id: String,
    pub user_id: i64,
    pub service_id: i64,
    #[diesel(deserialize_as = String)]
    pub level: Level,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub agency_id: i64,
    pub rule_id: Option<i64>,
    pub form_version: i32,
    pub answers: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub reminded_at: Option<NaiveDateTime>,
}

impl Draft {
    pub fn state(&self) -> DraftState {
        // Written only by `save`: a row that does not parse is treated as empty, not fatal.
        serde_json::from_str(&self.answers).unwrap_or_default()
    }
}

pub struct NewDraft<'a> {
    pub public_id: &'a str,
    pub user_id: i64,
    pub service_id: i64,
    pub level: Level,
    pub place: &'a Place,
    pub agency_id: i64,
    pub rule_id: Option<i64>,
    pub form_version: i32,
    pub state: &'a DraftState,
    pub now: NaiveDateTime,
}

fn state_json(state: &DraftState) -> QueryResult<String> {
    serde_json::to_string(state).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

pub fn create(conn: &mut DbConnection, d: &NewDraft) -> QueryResult<()> {
    diesel::insert_into(drafts::table)
        .values((
            drafts::public_id.eq(d.public_id),
            drafts::user_id.eq(d.user_id),
            drafts::service_id.eq(d.service_id),
            drafts::level.eq(d.level.as_str()),
            drafts::province_code.eq(&d.place.province),
            drafts::ward_code.eq(&d.place.ward),
            drafts::agency_id.eq(d.agency_id),
            drafts::rule_id.eq(d.rule_id),
            drafts::form_version.eq(d.form_version),
            drafts::answers.eq(state_json(d.state)?),
            drafts::created_at.eq(d.now),
            drafts::updated_at.eq(d.now),
            drafts::expires_at.eq(d.now + Duration::days(DRAFT_DAYS)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The person's own draft; None for anyone else's (the caller answers 404).
pub fn find_own(
    conn: &mut DbConnection,
    public_id: &str,
    user_id: i64,
) -> QueryResult<Option<Draft>> {
    drafts::table
        .filter(drafts::public_id.eq(public_id))
        .filter(drafts::user_id.eq(user_id))
        .select(Draft::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Draft>> {
    drafts::table
        .find(id)
        .select(Draft::as_select())
        .first(conn)
        .optional()
}

/// Stores the answers; every save pushes the expiry back and re-arms the reminder.
pub fn save(
    conn: &mut DbConnection,
    id: i64,
    state: &DraftState,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(drafts::table.find(id))
        .set((
            drafts::answers.eq(state_json(state)?),
            drafts::updated_at.eq(now),
            drafts::expires_at.eq(now + Duration::days(DRAFT_DAYS)),
            drafts::reminded_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes a draft and its attachments' rows; returns the storage keys to delete once the
/// transaction has committed.
pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<Vec<String>> {
    let keys: Vec<String> = attachments::table
        .filter(attachments::draft_id.eq(id))
        .filter(attachments::dossier_id.is_null())
        .select(attachments::storage_key)
        .load(conn)?;
    diesel::delete(attachments::table.filter(attachments::draft_id.eq(id))).execute(conn)?;
    diesel::update(payments::table.filter(payments::draft_id.eq(id)))
        .set(payments::draft_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(drafts::table.find(id)).execute(conn)?;
    Ok(keys)
}

/// A draft in "Hồ sơ của tôi".
#[derive(Debug, Clone, Serialize)]
pub struct DraftSummary {
    pub public_id: String,
    pub service_code: String,
    pub service_name: String,
    pub updated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn list_own(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<DraftSummary>> {
    let rows: Vec<(String, String, String, NaiveDateTime, NaiveDateTime)> = drafts::table
        .inner_join(services::table)
        .filter(drafts::user_id.eq(user_id))
        .order(drafts::updated_at.desc())
        .select((
            drafts::public_id,
            services::code,
            services::name,
            drafts::updated_at,
            drafts::expires_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(public_id, service_code, service_name, updated_at, expires_at)| DraftSummary {
                public_id,
                service_code,
                service_name,
                updated_at,
                expires_at,
            },
        )
        .collect())
}

/// Drafts whose reminder is due (expiring within `REMINDER_DAYS_BEFORE` days, not reminded).
pub fn due_for_reminder(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Draft>> {
    drafts::table
        .filter(drafts::reminded_at.is_null())
        .filter(drafts::expires_at.le(now + Duration::days(REMINDER_DAYS_BEFORE)))
        .filter(drafts::expires_at.gt(now))
        .order(drafts::id)
        .limit(limit)
        .select(Draft::as_select())
        .load(conn)
}

/// Marks a reminder sent, only if nobody did meanwhile (so two workers send one email).
pub fn mark_reminded(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(drafts::table.find(id).filter(drafts::reminded_at.is_null()))
        .set(drafts::reminded_at.eq(Some(now)))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn expired(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    drafts::table
        .filter(drafts::expires_at.le(now))
        .order(drafts::id)
        .limit(limit)
        .select(drafts::id)
        .load(conn)
}
