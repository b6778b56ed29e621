//! Administrators' use cases on accounts: find people, invite staff, give or take roles and
//! office memberships, disable an account, reset a second factor, read a person's trail. Each
//! change is one transaction with its audit entry (who, when, what, before → after); the rules
//! that protect the portal (the last administrator, one's own administrator role) are checked
//! inside the same transaction as the change.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Origin;
use super::audit::{self, AuditRow, Entry};
use super::schema::{agencies, agency_members, api_tokens, recovery_codes, sessions, users};
use super::{DbConnection, account_tokens, outbox, transaction};
use crate::domain::account::{Role, TokenPurpose};
pub use crate::domain::admin::{Outcome, Refusal};
use crate::domain::audit::AuditEvent;
use crate::mail::RenderedEmail;

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct PersonRow {
    pub id: i64,
    pub email: String,
    pub full_name: String,
    pub role: String,
    pub disabled_at: Option<NaiveDateTime>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub agency_id: i64,
    pub office_id: String,
    pub name: String,
    pub is_lead: bool,
}

/// Finds people by part of their email or name (most recent accounts first), optionally of one
/// role; `limit` rows at most.
pub fn search(
    conn: &mut DbConnection,
    text: &str,
    role: Option<Role>,
    limit: i64,
) -> QueryResult<Vec<PersonRow>> {
    let mut q = users::table.into_boxed();
    let text = text.trim();
    if !text.is_empty() {
        let pattern = audit::contains_pattern(&text.to_lowercase());
        let name_pattern = audit::contains_pattern(text);
        q = q.filter(
            users::email
                .like(pattern)
                .escape('\\')
                .or(users::full_name.like(name_pattern).escape('\\')),
        );
    }
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    q.order(users::id.desc())
        .limit(limit)
        .select(PersonRow::as_select())
        .load(conn)
}

pub fn person(conn: &mut DbConnection, id: i64) -> QueryResult<Option<PersonRow>> {
    users::table
        .find(id)
        .select(PersonRow::as_select())
        .first(conn)
        .optional()
}

pub fn memberships(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<Membership>> {
    let rows: Vec<(i64, String, String, bool)> = agency_members::table
        .inner_join(agencies::table)
        .filter(agency_members::user_id.eq(user_id))
        .order(agencies::name)
        .select((
            agencies::id,
            agencies::office_id,
            agencies::name,
            agency_members::is_lead,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(agency_id, office_id, name, is_lead)| Membership {
            agency_id,
            office_id,
            name,
            is_lead,
        })
        .collect())
}

/// What the audit log says a person did or had done to their account, newest first.
pub fn trail(conn: &mut DbConnection, user_id: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit::for_person(conn, user_id, &subject(user_id), limit)
}

/// The audit subject of changes made to an account.
pub fn subject(user_id: i64) -> String {
    format!("user:{user_id}")
}

fn record(
    conn: &mut DbConnection,
    admin_id: i64,
    event: AuditEvent,
    user_id: i64,
    detail: &str,
    o: &Origin,
) -> QueryResult<()> {
    let subject = subject(user_id);
    let e = Entry::new(Some(admin_id), event, &subject, &o.ip, o.now);
    audit::record(conn, &e.detail(detail))
}

/// The active administrators, locked until the transaction ends on PostgreSQL so that two
/// administrators disabling each other at the same moment cannot both succeed (SQLite's write
/// transaction holds the whole database already).
fn active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    let admins = || {
        users::table
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::disabled_at.is_null())
            .select(users::id)
    };
    let ids: Vec<i64> = match conn {
        DbConnection::Postgresql(c) => admins().for_update().load(c)?,
        DbConnection::Sqlite(c) => admins().load(c)?,
    };
    Ok(ids.len() as i64)
}

/// Whether taking `target` out of the active administrators would leave none.
fn would_leave_no_admin(conn: &mut DbConnection, target: &PersonRow) -> QueryResult<bool> {
    Ok(target.role == Role::Admin.as_str()
        && target.disabled_at.is_none()
        && active_admins(conn)? <= 1)
}

fn office_exists(conn: &mut DbConnection, agency_id: i64) -> QueryResult<bool> {
    let n: i64 = agencies::table
        .filter(agencies::id.eq(agency_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A staff account to create, with its invitation (a one-time set-password link).
pub struct Invitation<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    /// The office to join first and whether as its lead.
    pub office: Option<(i64, bool)>,
    pub token_hash: &'a str,
    pub valid_for: chrono::Duration,
    pub message: &'a RenderedEmail,
}

/// Creates the account, its membership, the one-time link and the invitation email (through
/// the outbox), in one transaction.
pub fn invite(
    conn: &mut DbConnection,
    admin_id: i64,
    i: &Invitation,
    o: &Origin,
) -> QueryResult<Outcome<i64>> {
    transaction(conn, |conn| {
        let taken: i64 = users::table
            .filter(users::email.eq(i.email))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Ok(Err(Refusal::EmailTaken));
        }
        if let Some((agency_id, _)) = i.office
            && !office_exists(conn, agency_id)?
        {
            return Ok(Err(Refusal::UnknownOffice));
        }
        let id = super::users::insert_staff(conn, i.email, i.full_name, i.role, o.now)?;
        if let Some((agency_id, lead)) = i.office {
            super::agency_members::add(conn, id, agency_id, lead)?;
        }
        account_tokens::create(
            conn,
            &account_tokens::NewAccountToken {
                user_id: id,
                purpose: TokenPurpose::SetPassword,
                token_hash: i.token_hash,
                email: None,
                valid_for: i.valid_for,
                now: o.now,
            },
        )?;
        outbox::enqueue(conn, i.email, i.message, o.now)?;
        let detail = format!(
            "role={}; office={}",
            i.role.as_str(),
            i.office
                .map(|(a, lead)| format!("{a}{}", if lead { " (lead)" } else { "" }))
                .unwrap_or_else(|| "-".into())
        );
        record(conn, admin_id, AuditEvent::StaffInvited, id, &detail, o)?;
        Ok(Ok(id))
    })
}

/// Gives a person another role. An administrator cannot change their own role, and the last
/// active administrator keeps theirs.
pub fn set_role(
    conn: &mut DbConnection,
    admin_id: i64,
    user_id: i64,
    role: Role,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(p) = person(conn, user_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if p.role == role.as_str() {
            return Ok(Ok(()));
        }
        if user_id == admin_id {
            return Ok(Err(Refusal::OwnAccount));
        }
        if would_leave_no_admin(conn, &p)? {
            return Ok(Err(Refusal::LastAdmin));
        }
        diesel::update(users::table.find(user_id))
            .set((users::role.eq(role.as_str()), users::updated_at.eq(o.now)))
            .execute(conn)?;
        if !role.is_staff() {
            // Memberships are for staff: a citizen or an administrator keeps none.
            diesel::delete(agency_members::table.filter(agency_members::user_id.eq(user_id)))
                .execute(conn)?;
        }
        // The new role takes effect at the next login (a staff role needs a second factor).
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        let detail = format!("role: {} → {}", p.role, role.as_str());
        record(
            conn,
            admin_id,
            AuditEvent::AccountChanged,
            user_id,
            &detail,
            o,
        )?;
        Ok(Ok(()))
    })
}

/// Adds a person to an office (or changes whether they lead it).
pub fn set_membership(
    conn: &mut DbConnection,
    admin_id: i64,
    user_id: i64,
    agency_id: i64,
    lead: bool,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(p) = person(conn, user_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if !Role::parse(&p.role).is_some_and(Role::is_staff) {
            return Ok(Err(Refusal::NotStaff));
        }
        if !office_exists(conn, agency_id)? {
            return Ok(Err(Refusal::UnknownOffice));
        }
        let before: Option<bool> = agency_members::table
            .find((user_id, agency_id))
            .select(agency_members::is_lead)
            .first(conn)
            .optional()?;
        if before == Some(lead) {
            return Ok(Ok(()));
        }
        if before.is_some() {
            diesel::update(agency_members::table.find((user_id, agency_id)))
                .set(agency_members::is_lead.eq(lead))
                .execute(conn)?;
        } else {
            super::agency_members::add(conn, user_id, agency_id, lead)?;
        }
        let show = |l: Option<bool>| match l {
            None => "-".to_string(),
            Some(true) => "lead".into(),
            Some(false) => "officer".into(),
        };
        let detail = format!(
            "office {agency_id}: {} → {}",
            show(before),
            show(Some(lead))
        );
        record(
            conn,
            admin_id,
            AuditEvent::AccountChanged,
            user_id,
            &detail,
            o,
        )?;
        Ok(Ok(()))
    })
}

/// Takes a person out of an office. Their dossiers there stay assigned until a lead reassigns
/// them; they no longer see the office's queue.
pub fn remove_membership(
    conn: &mut DbConnection,
    admin_id: i64,
    user_id: i64,
    agency_id: i64,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let n = diesel::delete(agency_members::table.find((user_id, agency_id))).execute(conn)?;
        if n == 0 {
            return Ok(Err(Refusal::NotFound));
        }
        let detail = format!("office {agency_id}: member → -");
        record(
            conn,
            admin_id,
            AuditEvent::AccountChanged,
            user_id,
            &detail,
            o,
        )?;
        Ok(Ok(()))
    })
}

/// Disables (every session ends at once, API tokens stop working, login is refused) or enables
/// an account.
pub fn set_disabled(
    conn: &mut DbConnection,
    admin_id: i64,
    user_id: i64,
    disable: bool,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(p) = person(conn, user_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if p.disabled_at.is_some() == disable {
            return Ok(Ok(()));
        }
        if disable && user_id == admin_id {
            return Ok(Err(Refusal::OwnAccount));
        }
        if disable && would_leave_no_admin(conn, &p)? {
            return Ok(Err(Refusal::LastAdmin));
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::disabled_at.eq(disable.then_some(o.now)),
                users::updated_at.eq(o.now),
            ))
            .execute(conn)?;
        let event = if disable {
            diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
            diesel::update(
                api_tokens::table
                    .filter(api_tokens::user_id.eq(user_id))
                    .filter(api_tokens::revoked_at.is_null()),
            )
            .set(api_tokens::revoked_at.eq(Some(o.now)))
            .execute(conn)?;
            AuditEvent::AccountDisabled
        } else {
            AuditEvent::AccountEnabled
        };
        record(conn, admin_id, event, user_id, "", o)?;
        Ok(Ok(()))
    })
}

/// Removes a person's second factor and recovery codes and ends their sessions: at the next
/// login they enrol again (staff and administrators must).
pub fn reset_second_factor(
    conn: &mut DbConnection,
    admin_id: i64,
    user_id: i64,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        if person(conn, user_id)?.is_none() {
            return Ok(Err(Refusal::NotFound));
        }
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(None::<String>),
                users::totp_enabled_at.eq(None::<NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
                users::updated_at.eq(o.now),
            ))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        record(conn, admin_id, AuditEvent::TwoFactorReset, user_id, "", o)?;
        Ok(Ok(()))
    })
}
