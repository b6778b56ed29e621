//! The security audit log: who did what, to which account, from where, when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::audit_log;
use crate::domain::audit::AuditEvent;

/// One event to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub event: AuditEvent,
    /// The account or identifier concerned (an email, a CCCD as typed).
    pub subject: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
    pub at: NaiveDateTime,
}

impl<'a> Entry<'a> {
    /// An event with no detail.
    pub fn new(
        actor_id: Option<i64>,
        event: AuditEvent,
        subject: &'a str,
        ip: &'a str,
        at: NaiveDateTime,
    ) -> Entry<'a> {
        Entry {
            actor_id,
            event,
            subject,
            ip,
            detail: "",
            at,
        }
    }

    pub fn detail(self, detail: &'a str) -> Entry<'a> {
        Entry { detail, ..self }
    }
}

pub fn record(conn: &mut DbConnection, e: &Entry) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(e.at),
            audit_log::actor_id.eq(e.actor_id),
            audit_log::event.eq(e.event.as_str()),
            audit_log::subject.eq(e.subject),
            audit_log::ip.eq(e.ip),
            audit_log::detail.eq(e.detail),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub event: AuditEvent,
    pub subject: String,
    pub ip: String,
    pub detail: String,
}

/// `text` as a LIKE pattern that matches it literally anywhere: `%`, `_` and the escape
/// character itself are escaped, so "50%" finds "50%" and not everything.
pub fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The newest events, optionally only one kind or those mentioning `text` (subject or address).
pub fn search(
    conn: &mut DbConnection,
    event: Option<AuditEvent>,
    text: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(e) = event {
        q = q.filter(audit_log::event.eq(e.as_str()));
    }
    if let Some(t) = text {
        let pattern = contains_pattern(t);
        q = q.filter(
            audit_log::subject
                .like(pattern.clone())
                .escape('\\')
                .or(audit_log::ip.like(pattern).escape('\\')),
        );
    }
    q.order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// A person's trail: what they did (as the actor) and what was done to their account (the
/// subject `user:<id>`, or their address), newest first.
pub fn for_person(
    conn: &mut DbConnection,
    user_id: i64,
    subject: &str,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(
            audit_log::actor_id
                .eq(user_id)
                .or(audit_log::subject.eq(subject)),
        )
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// The newest administrative changes (accounts and configuration), for the admin home.
pub fn recent_changes(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let kinds = [
        AuditEvent::StaffInvited,
        AuditEvent::AccountChanged,
        AuditEvent::AccountDisabled,
        AuditEvent::AccountEnabled,
        AuditEvent::TwoFactorReset,
        AuditEvent::ConfigChanged,
    ]
    .map(AuditEvent::as_str);
    audit_log::table
        .filter(audit_log::event.eq_any(kinds))
        .order(audit_log::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(contains_pattern("an@x.vn"), "%an@x.vn%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
