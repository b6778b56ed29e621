//! Offices' webhooks and their deliveries (see `domain::webhook` for the signature). A status
//! change queues one delivery per active webhook of the dossier's office in the change's own
//! transaction; `claim_due` hands a worker, per webhook and dossier, only the oldest delivery
//! not yet made (so each dossier's events arrive in order), leased so one worker sends it;
//! `record` keeps the outcome and schedules the next try with backoff.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{
    agencies, dossier_events, dossiers, services, webhook_deliveries as wd, webhooks as wh,
};
use crate::domain::status::Status;
use crate::security::seal::{SealKey, open_secret, seal_secret};

/// Where a delivery stands (`webhook_deliveries.status`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    Delivered,
    /// Given up after its attempts (re-sendable).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = super::types::UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        super::types::parse_stored("webhook delivery status", value)
    }
}

/// The stored name of `DeliveryStatus::Pending`, for filters.
const PENDING: &str = "pending";

/// How long a worker holds a claimed delivery before another may try it.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = wh)]
pub struct Webhook {
    pub id: i64,
    pub agency_id: i64,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// An office's webhooks, newest first.
pub fn of_office(conn: &mut DbConnection, agency_id: i64) -> QueryResult<Vec<Webhook>> {
    wh::table
        .filter(wh::agency_id.eq(agency_id))
        .order(wh::id.desc())
        .select(Webhook::as_select())
        .load(conn)
}

/// The context a webhook's secret is sealed for.
fn secret_context(agency_id: i64) -> String {
    format!("webhook:{agency_id}")
}

/// Registers a webhook, its secret sealed with the portal's seal key; its id.
pub fn add(
    conn: &mut DbConnection,
    seal: &SealKey,
    agency_id: i64,
    url: &str,
    secret: &str,
    by: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(wh::table)
        .values((
            wh::agency_id.eq(agency_id),
            wh::url.eq(url.trim()),
            wh::secret.eq(seal_secret(seal, &secret_context(agency_id), secret)),
            wh::active.eq(true),
            wh::created_by.eq(by),
            wh::created_at.eq(now),
        ))
        .returning(wh::id)
        .get_result(conn)
}

/// Turns an office's webhook on or off; whether it was found. Deliveries already queued stay.
pub fn set_active(
    conn: &mut DbConnection,
    agency_id: i64,
    id: i64,
    active: bool,
) -> QueryResult<Option<String>> {
    let url: Option<String> = wh::table
        .find(id)
        .filter(wh::agency_id.eq(agency_id))
        .select(wh::url)
        .first(conn)
        .optional()?;
    if url.is_some() {
        diesel::update(wh::table.find(id))
            .set(wh::active.eq(active))
            .execute(conn)?;
    }
    Ok(url)
}

/// The event a receiver gets.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub dossier: EventDossier,
    pub change: EventChange,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDossier {
    pub code: String,
    pub service_code: String,
    pub office_id: String,
    pub channel: String,
    /// RFC 3339, UTC; null when the procedure states no time limit.
    pub due_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventChange {
    pub action: String,
    pub from_status: Option<i32>,
    pub to_status: i32,
    /// The status's code name in the national list (domain.md §3).
    pub status: String,
    pub at: String,
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Queues the event of timeline row `event_row` for every active webhook of the dossier's
/// office, in the caller's transaction; how many deliveries.
pub fn enqueue(
    conn: &mut DbConnection,
    dossier_id: i64,
    event_row: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let (code, agency_id, service_id, channel, due_at): (
        String,
        i64,
        i64,
        String,
        Option<NaiveDateTime>,
    ) = dossiers::table
        .find(dossier_id)
        .select((
            dossiers::code,
            dossiers::agency_id,
            dossiers::service_id,
            dossiers::channel,
            dossiers::due_at,
        ))
        .first(conn)?;
    let hooks: Vec<i64> = wh::table
        .filter(wh::agency_id.eq(agency_id))
        .filter(wh::active.eq(true))
        .select(wh::id)
        .load(conn)?;
    if hooks.is_empty() {
        return Ok(0);
    }
    let (action, from_status, to_status, at): (String, Option<i32>, i32, NaiveDateTime) =
        dossier_events::table
            .find(event_row)
            .select((
                dossier_events::action,
                dossier_events::from_status,
                dossier_events::to_status,
                dossier_events::at,
            ))
            .first(conn)?;
    let service_code: String = services::table
        .find(service_id)
        .select(services::code)
        .first(conn)?;
    let office_id: String = agencies::table
        .find(agency_id)
        .select(agencies::office_id)
        .first(conn)?;
    let event = Event {
        id: format!("evt-{event_row}"),
        kind: "dossier.status_changed",
        created_at: rfc3339(now),
        dossier: EventDossier {
            code,
            service_code,
            office_id,
            channel,
            due_at: due_at.map(rfc3339),
        },
        change: EventChange {
            action,
            from_status,
            to_status,
            status: Status::from_code(to_status)
                .map(Status::name)
                .unwrap_or_default()
                .to_string(),
            at: rfc3339(at),
        },
    };
    let payload = serde_json::to_string(&event)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    for hook in &hooks {
        diesel::insert_into(wd::table)
            .values((
                wd::webhook_id.eq(hook),
                wd::dossier_id.eq(dossier_id),
                wd::event_id.eq(&event.id),
                wd::payload.eq(&payload),
                wd::status.eq(PENDING),
                wd::attempts.eq(0),
                wd::next_attempt_at.eq(now),
                wd::last_error.eq(""),
                wd::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(hooks.len())
}

/// A delivery a worker has claimed.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub url: String,
    /// None when the sealed secret cannot be opened with this seal key.
    pub secret: Option<String>,
    pub event_id: String,
    pub payload: String,
    pub attempts: i32,
}

/// Claims up to `limit` deliveries due at `now`: for each webhook and dossier only the oldest
/// not yet made, and only when no other worker holds it.
pub fn claim_due(
    conn: &mut DbConnection,
    seal: &SealKey,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Due>> {
    let candidates: Vec<(i64, i64, i64)> = wd::table
        .filter(wd::status.eq(PENDING))
        .filter(wd::next_attempt_at.le(now))
        .filter(wd::lease_until.is_null().or(wd::lease_until.lt(now)))
        .order(wd::id)
        .limit(limit * 4)
        .select((wd::id, wd::webhook_id, wd::dossier_id))
        .load(conn)?;
    let mut out = Vec::new();
    for (id, webhook_id, dossier_id) in candidates {
        if out.len() as i64 >= limit {
            break;
        }
        let oldest: Option<i64> = wd::table
            .filter(wd::webhook_id.eq(webhook_id))
            .filter(wd::dossier_id.eq(dossier_id))
            .filter(wd::status.eq(PENDING))
            .select(diesel::dsl::min(wd::id))
            .first(conn)?;
        if oldest != Some(id) {
            continue;
        }
        let claimed = diesel::update(
            wd::table
                .find(id)
                .filter(wd::status.eq(PENDING))
                .filter(wd::lease_until.is_null().or(wd::lease_until.lt(now))),
        )
        .set(wd::lease_until.eq(Some(now + LEASE)))
        .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        let (url, sealed, agency_id, event_id, payload, attempts) = wd::table
            .inner_join(wh::table)
            .filter(wd::id.eq(id))
            .select((
                wh::url,
                wh::secret,
                wh::agency_id,
                wd::event_id,
                wd::payload,
                wd::attempts,
            ))
            .first::<(String, String, i64, String, String, i32)>(conn)?;
        out.push(Due {
            id,
            url,
            secret: open_secret(seal, &secret_context(agency_id), &sealed).ok(),
            event_id,
            payload,
            attempts,
        });
    }
    Ok(out)
}

/// Keeps a delivery made.
pub fn record_delivered(conn: &mut DbConnection, due: &Due, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(wd::table.find(due.id).filter(wd::status.eq(PENDING)))
        .set((
            wd::status.eq(DeliveryStatus::Delivered.as_str()),
            wd::attempts.eq(due.attempts + 1),
            wd::delivered_at.eq(Some(now)),
            wd::lease_until.eq(None::<NaiveDateTime>),
            wd::last_error.eq(""),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Keeps a failed attempt: pending again until `next_attempt`, or failed for good when it is
/// `None` (the attempts are used up).
pub fn record_failure(
    conn: &mut DbConnection,
    due: &Due,
    error: &str,
    next_attempt: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let error: String = error.chars().take(500).collect();
    let status = match next_attempt {
        Some(_) => DeliveryStatus::Pending,
        None => DeliveryStatus::Failed,
    };
    diesel::update(wd::table.find(due.id).filter(wd::status.eq(PENDING)))
        .set((
            wd::status.eq(status.as_str()),
            wd::attempts.eq(due.attempts + 1),
            wd::next_attempt_at.eq(next_attempt.unwrap_or(now)),
            wd::lease_until.eq(None::<NaiveDateTime>),
            wd::last_error.eq(error),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One line of an office's delivery log.
#[derive(Debug, Clone, Serialize, Queryable)]
pub struct LogRow {
    pub id: i64,
    pub url: String,
    pub dossier_code: String,
    pub event_id: String,
    #[diesel(deserialize_as = String)]
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: String,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// An office's latest deliveries, newest first.
pub fn log(conn: &mut DbConnection, agency_id: i64, limit: i64) -> QueryResult<Vec<LogRow>> {
    wd::table
        .inner_join(wh::table)
        .inner_join(dossiers::table.on(dossiers::id.eq(wd::dossier_id)))
        .filter(wh::agency_id.eq(agency_id))
        .order(wd::id.desc())
        .limit(limit)
        .select((
            wd::id,
            wh::url,
            dossiers::code,
            wd::event_id,
            wd::status,
            wd::attempts,
            wd::next_attempt_at,
            wd::last_error,
            wd::created_at,
            wd::delivered_at,
        ))
        .load(conn)
}

/// Sends a delivery of this office again (at once, attempts from zero); its event id when found.
pub fn resend(
    conn: &mut DbConnection,
    agency_id: i64,
    id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let found: Option<String> = wd::table
        .inner_join(wh::table)
        .filter(wd::id.eq(id))
        .filter(wh::agency_id.eq(agency_id))
        .select(wd::event_id)
        .first(conn)
        .optional()?;
    if found.is_some() {
        diesel::update(wd::table.find(id))
            .set((
                wd::status.eq(PENDING),
                wd::attempts.eq(0),
                wd::next_attempt_at.eq(now),
                wd::lease_until.eq(None::<NaiveDateTime>),
                wd::delivered_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    Ok(found)
}

/// How many deliveries are still to make (all offices).
pub fn pending(conn: &mut DbConnection) -> QueryResult<i64> {
    wd::table
        .filter(wd::status.eq(PENDING))
        .count()
        .get_result(conn)
}
