//! Payments and gateway notifications. A payment is paid only by a verified server-to-server
//! notification whose reference and amount match; applying one is idempotent (a replay changes
//! nothing) and every notification is logged with its outcome. A draft whose fee is due at
//! filing is submitted in the same transaction as its payment is confirmed.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::{payment_notifications, payments};
use crate::payments::{Notification, rsp};

/// Where a payment is.
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
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Cancelled,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for PaymentStatus {
    type Error = super::types::UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        super::types::parse_stored("payment status", value)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = payments)]
pub struct Payment {
    #[serde(skip)]
    pub id: i64,
    pub reference: String,
    #[serde(skip)]
    pub draft_id: Option<i64>,
    #[serde(skip)]
    pub dossier_id: Option<i64>,
    #[serde(skip)]
    pub user_id: i64,
    pub amount_vnd: i64,
    #[diesel(deserialize_as = String)]
    pub status: PaymentStatus,
    pub gateway: String,
    pub gateway_txn: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
}

pub struct NewPayment<'a> {
    pub reference: &'a str,
    /// The draft whose filing fee this is, or the dossier whose charge an office asked for.
    pub draft_id: Option<i64>,
    pub dossier_id: Option<i64>,
    pub user_id: i64,
    pub amount_vnd: i64,
    pub gateway: &'a str,
    pub now: NaiveDateTime,
}

pub fn create(conn: &mut DbConnection, p: &NewPayment) -> QueryResult<()> {
    diesel::insert_into(payments::table)
        .values((
            payments::reference.eq(p.reference),
            payments::draft_id.eq(p.draft_id),
            payments::dossier_id.eq(p.dossier_id),
            payments::user_id.eq(p.user_id),
            payments::amount_vnd.eq(p.amount_vnd),
            payments::status.eq(PaymentStatus::Pending.as_str()),
            payments::gateway.eq(p.gateway),
            payments::created_at.eq(p.now),
            payments::updated_at.eq(p.now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The charge an office asked for on a dossier, still to pay.
pub fn pending_for_dossier(
    conn: &mut DbConnection,
    dossier_id: i64,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::dossier_id.eq(dossier_id))
        .filter(payments::draft_id.is_null())
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .order(payments::id.desc())
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConnection, reference: &str) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::reference.eq(reference))
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// The draft's latest payment.
pub fn latest_for_draft(conn: &mut DbConnection, draft_id: i64) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::draft_id.eq(draft_id))
        .order(payments::id.desc())
        .select(Payment::as_select())
        .first(conn)
        .optional()
}

/// Logs a notification with what it did (also one refused before it could be read: a forged
/// signature, missing fields).
pub fn log(
    conn: &mut DbConnection,
    reference: &str,
    outcome: &str,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(payment_notifications::table)
        .values((
            payment_notifications::reference.eq(reference),
            payment_notifications::received_at.eq(now),
            payment_notifications::outcome.eq(outcome),
            payment_notifications::payload.eq(payload),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What applying a notification did; `rsp` is the code the gateway gets back.
#[derive(Debug, Clone)]
pub struct Applied {
    pub rsp: &'static str,
    pub outcome: &'static str,
    /// The payment became paid now (not before): the caller submits the draft in the same
    /// transaction (see `web::payments`).
    pub newly_paid: Option<Payment>,
}

/// Applies a verified notification in the caller's transaction: unknown reference, wrong amount
/// and replays change nothing; a success marks the pending payment paid, a failure failed.
pub fn apply(
    conn: &mut DbConnection,
    n: &Notification,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<Applied> {
    let done = |conn: &mut DbConnection, rsp, outcome| -> QueryResult<Applied> {
        log(conn, &n.reference, outcome, payload, now)?;
        Ok(Applied {
            rsp,
            outcome,
            newly_paid: None,
        })
    };
    let Some(p) = find(conn, &n.reference)? else {
        return done(conn, rsp::NOT_FOUND, "unknown_reference");
    };
    if p.amount_vnd != n.amount_vnd {
        return done(conn, rsp::INVALID_AMOUNT, "wrong_amount");
    }
    if p.status != PaymentStatus::Pending {
        return done(conn, rsp::ALREADY_CONFIRMED, "replayed");
    }
    let (status, outcome) = if n.success {
        (PaymentStatus::Paid, "paid")
    } else if n.cancelled {
        (PaymentStatus::Cancelled, "cancelled")
    } else {
        (PaymentStatus::Failed, "declined")
    };
    let changed = diesel::update(
        payments::table
            .find(p.id)
            .filter(payments::status.eq(PaymentStatus::Pending.as_str())),
    )
    .set((
        payments::status.eq(status.as_str()),
        payments::gateway_txn.eq(Some(&n.transaction_no)),
        payments::updated_at.eq(now),
        payments::paid_at.eq(n.success.then_some(now)),
    ))
    .execute(conn)?;
    if changed == 0 {
        return done(conn, rsp::ALREADY_CONFIRMED, "replayed");
    }
    log(conn, &n.reference, outcome, payload, now)?;
    Ok(Applied {
        rsp: rsp::CONFIRMED,
        outcome,
        newly_paid: n.success.then_some(Payment {
            status,
            paid_at: Some(now),
            ..p
        }),
    })
}

/// Pending payments older than `before`, for reconciliation.
pub fn pending_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Payment>> {
    payments::table
        .filter(payments::status.eq(PaymentStatus::Pending.as_str()))
        .filter(payments::created_at.lt(before))
        .order(payments::id)
        .limit(limit)
        .select(Payment::as_select())
        .load(conn)
}

/// Applies a verified notification (an IPN, or a query's answer during reconciliation) and, when
/// it newly pays a draft whose fee was due at filing, files the dossier — one transaction. If the
/// answers were changed into something incomplete meanwhile, the payment stays paid and the
/// citizen files from the check page.
pub fn apply_and_file(
    conn: &mut DbConnection,
    n: &Notification,
    payload: &str,
    now: NaiveDateTime,
    place_exists: &dyn Fn(&str, Option<&str>) -> bool,
    email: &dyn Fn(&super::dossiers::Submitted) -> anyhow::Result<crate::mail::RenderedEmail>,
    status_email: &dyn Fn(
        &super::dossiers::Dossier,
        crate::domain::status::Status,
    ) -> anyhow::Result<crate::mail::RenderedEmail>,
) -> Result<Applied, super::dossiers::SubmitError> {
    super::transaction(conn, |conn| {
        let applied = apply(conn, n, payload, now)?;
        // A charge the office asked for (status 6): the portal records the payment and
        // processing goes on.
        if let Some(p) = &applied.newly_paid
            && p.draft_id.is_none()
            && let Some(id) = p.dossier_id
            && let Some(code) = super::dossiers::code_of(conn, id)?
            && let Some(d) = super::dossiers::find_by_code(conn, &code)?
            && d.status == crate::domain::status::Status::PaymentRequested
        {
            let any = |_: &super::dossiers::Dossier| true;
            let note = format!("{} VND ({})", p.amount_vnd, p.reference);
            match super::dossiers::apply_move(
                conn,
                &super::dossiers::Move {
                    code: &code,
                    action: crate::domain::lifecycle::Action::Pay,
                    actor: crate::domain::lifecycle::Actor::System,
                    actor_id: None,
                    seen_version: d.lock_version,
                    note: &note,
                    now,
                    in_scope: &any,
                    email: status_email,
                },
            ) {
                Ok(_) => {}
                Err(super::dossiers::MoveError::Db(e)) => {
                    return Err(super::dossiers::SubmitError::Db(e));
                }
                Err(other) => tracing::warn!(?other, "a paid charge did not move its dossier"),
            }
        }
        if let Some(p) = &applied.newly_paid
            && let Some(draft_id) = p.draft_id
            && let Some(draft) = super::drafts::find(conn, draft_id)?
        {
            match super::dossiers::submit(
                conn,
                &super::dossiers::SubmitInput {
                    draft_public_id: &draft.public_id,
                    user_id: draft.user_id,
                    now,
                    place_exists,
                    email,
                },
            ) {
                Ok(_) | Err(super::dossiers::SubmitError::Incomplete { .. }) => {}
                Err(super::dossiers::SubmitError::Db(e)) => {
                    return Err(super::dossiers::SubmitError::Db(e));
                }
                Err(other) => tracing::warn!(?other, "a paid draft could not be filed yet"),
            }
        }
        Ok(applied)
    })
}

/// Marks a pending payment the gateway never heard of as cancelled (after a day).
pub fn cancel_unknown(
    conn: &mut DbConnection,
    reference: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        payments::table
            .filter(payments::reference.eq(reference))
            .filter(payments::status.eq(PaymentStatus::Pending.as_str())),
    )
    .set((
        payments::status.eq(PaymentStatus::Cancelled.as_str()),
        payments::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 1 {
        log(conn, reference, "unknown_to_gateway", "", now)?;
    }
    Ok(n == 1)
}
