//! Administrators' offices: find an office in the tree, read its identifier, jurisdiction,
//! parent and children, members and settings; change its contact details, its own office hours
//! (an override of the portal's default) and automatic assignment, in one audited transaction.

use diesel::prelude::*;
use serde::Serialize;

use super::accounts::Origin;
use super::audit::{self, Entry};
use super::schema::{agencies, agency_members, users};
use super::{DbConnection, transaction};
use crate::domain::admin::{Outcome, Refusal};
use crate::domain::audit::AuditEvent;

#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = agencies)]
pub struct OfficeRow {
    pub id: i64,
    pub office_id: String,
    pub name: String,
    pub kind: String,
    pub tier: String,
    pub parent_id: Option<i64>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub department_key: Option<String>,
    pub address: String,
    pub phone: String,
    pub email: String,
    pub auto_assign: bool,
    pub office_hours: Option<String>,
}

/// Offices whose name or identifier contains `text` (the top of the tree when empty).
pub fn search(conn: &mut DbConnection, text: &str, limit: i64) -> QueryResult<Vec<OfficeRow>> {
    let text = text.trim();
    let mut q = agencies::table.into_boxed();
    if text.is_empty() {
        q = q.filter(agencies::parent_id.is_null());
    } else {
        let pattern = audit::contains_pattern(text);
        q = q.filter(
            agencies::name
                .like(pattern.clone())
                .escape('\\')
                .or(agencies::office_id.like(pattern).escape('\\')),
        );
    }
    q.order((agencies::office_id, agencies::id))
        .limit(limit)
        .select(OfficeRow::as_select())
        .load(conn)
}

pub fn by_office_id(conn: &mut DbConnection, office_id: &str) -> QueryResult<Option<OfficeRow>> {
    agencies::table
        .filter(agencies::office_id.eq(office_id))
        .select(OfficeRow::as_select())
        .first(conn)
        .optional()
}

/// An office with its place in the tree and its people.
#[derive(Debug, Clone, Serialize)]
pub struct OfficeDetail {
    pub office: OfficeRow,
    pub parent: Option<(String, String)>,
    pub children: Vec<(String, String)>,
    pub children_total: i64,
    /// (user id, name, email, lead)
    pub members: Vec<(i64, String, String, bool)>,
}

pub fn detail(conn: &mut DbConnection, office_id: &str) -> QueryResult<Option<OfficeDetail>> {
    let Some(office) = by_office_id(conn, office_id)? else {
        return Ok(None);
    };
    let parent = match office.parent_id {
        Some(p) => agencies::table
            .find(p)
            .select((agencies::office_id, agencies::name))
            .first(conn)
            .optional()?,
        None => None,
    };
    let children = agencies::table
        .filter(agencies::parent_id.eq(office.id))
        .order(agencies::office_id)
        .limit(200)
        .select((agencies::office_id, agencies::name))
        .load(conn)?;
    let children_total = agencies::table
        .filter(agencies::parent_id.eq(office.id))
        .count()
        .get_result(conn)?;
    let members = agency_members::table
        .inner_join(users::table)
        .filter(agency_members::agency_id.eq(office.id))
        .order(users::full_name)
        .select((
            users::id,
            users::full_name,
            users::email,
            agency_members::is_lead,
        ))
        .load(conn)?;
    Ok(Some(OfficeDetail {
        office,
        parent,
        children,
        children_total,
        members,
    }))
}

/// What an administrator may change on an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSettings {
    pub address: String,
    pub phone: String,
    pub email: String,
    pub auto_assign: bool,
    /// `None`: the portal's default hours.
    pub office_hours: Option<String>,
}

fn show(s: &OfficeSettings) -> String {
    format!(
        "address={:?} phone={:?} email={:?} auto_assign={} hours={}",
        s.address,
        s.phone,
        s.email,
        s.auto_assign,
        s.office_hours.as_deref().unwrap_or("default")
    )
}

pub fn save(
    conn: &mut DbConnection,
    admin_id: i64,
    office_id: &str,
    s: &OfficeSettings,
    o: &Origin,
) -> QueryResult<Outcome<()>> {
    transaction(conn, |conn| {
        let Some(before) = by_office_id(conn, office_id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        let before = OfficeSettings {
            address: before.address,
            phone: before.phone,
            email: before.email,
            auto_assign: before.auto_assign,
            office_hours: before.office_hours,
        };
        if before == *s {
            return Ok(Ok(()));
        }
        diesel::update(agencies::table.filter(agencies::office_id.eq(office_id)))
            .set((
                agencies::address.eq(&s.address),
                agencies::phone.eq(&s.phone),
                agencies::email.eq(&s.email),
                agencies::auto_assign.eq(s.auto_assign),
                agencies::office_hours.eq(&s.office_hours),
            ))
            .execute(conn)?;
        let subject = format!("office:{office_id}");
        let detail = format!("{} → {}", show(&before), show(s));
        let e = Entry::new(
            Some(admin_id),
            AuditEvent::ConfigChanged,
            &subject,
            &o.ip,
            o.now,
        );
        audit::record(conn, &e.detail(&detail))?;
        Ok(Ok(()))
    })
}
