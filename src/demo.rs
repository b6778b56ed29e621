//! Demo mode (the zero-setup run): demo accounts for every role — a citizen; an officer in a
//! real ward's office and a lead in a province department; an administrator — listed on the
//! login page, so a newcomer can try every role at once. Never on unless `PORTAL_DEMO=true`
//! (the default for SQLite only).

use anyhow::{Context, Result};
use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::audit::{self, Entry};
use crate::db::schema::{agencies, users as users_t};
use crate::db::{self, DbConnection, account_tokens, agency_members, second_factor, users};
use crate::domain::account::Role;
use crate::domain::audit::AuditEvent;
use crate::security::{password, totp};

pub const DEMO_DOMAIN: &str = "demo.portal.vn";
/// Shown on the login page in demo mode; demo mode is never for real data.
pub const DEMO_PASSWORD: &str = "demo-portal-2026";

/// The real offices the demo staff work in (see `data/directory.json` for the identifiers).
const WARD_OFFICE: &str = "00004.00.00.H01";
const PROVINCE_DEPARTMENT: &str = "000.00.01.H01";

fn office(conn: &mut DbConnection, office_id: &str) -> Result<i64> {
    agencies::table
        .filter(agencies::office_id.eq(office_id))
        .select(agencies::id)
        .first(conn)
        .optional()?
        .with_context(|| {
            format!("the demo office {office_id} is not in the directory (seed first)")
        })
}

/// Creates the demo accounts when missing (idempotent); staff join real offices.
pub fn ensure(conn: &mut DbConnection) -> Result<()> {
    let exists: i64 = users_t::table
        .filter(users_t::email.like(format!("%@{DEMO_DOMAIN}")))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(());
    }
    let password_hash = password::hash_now(DEMO_PASSWORD)?;
    db::transaction(conn, |conn| -> Result<()> {
        let now = Utc::now().naive_utc();
        let ward = office(conn, WARD_OFFICE)?;
        let dept = office(conn, PROVINCE_DEPARTMENT)?;
        let citizen = crate::domain::account::NewCitizen {
            full_name: "Nguyễn Văn Dân".into(),
            email: format!("congdan@{DEMO_DOMAIN}"),
            phone: "0912000001".into(),
            cccd: "001090000001".into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 1, 15).context("date")?,
            province_code: "01".into(),
            ward_code: "00004".into(),
            address: "1 Phố Điện Biên Phủ".into(),
        };
        let id = users::insert_citizen(conn, &citizen, &password_hash, now)?;
        users::mark_email_verified(conn, id, now)?;
        let staff = [
            ("canbo", "Trần Văn Minh", Role::Officer, Some((ward, false))),
            (
                "truongphong",
                "Phạm Thị Lan",
                Role::Lead,
                Some((dept, true)),
            ),
            ("quantri", "Quản trị viên hệ thống", Role::Admin, None),
        ];
        for (local, name, role, agency) in staff {
            let id = users::insert_staff(conn, &format!("{local}@{DEMO_DOMAIN}"), name, role, now)?;
            users::set_password(conn, id, &password_hash, now)?;
            second_factor::set_pending(conn, id, &totp::generate_secret())?;
            second_factor::enable(conn, id, 0, &[], now)?;
            if let Some((agency_id, lead)) = agency {
                agency_members::add(conn, id, agency_id, lead)?;
            }
        }
        Ok(())
    })
}

#[derive(Debug, Serialize)]
pub struct DemoAccount {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The current authenticator code, for staff (demo only).
    pub code: Option<String>,
}

/// The demo accounts with their current codes, for the login page.
pub fn accounts(conn: &mut DbConnection) -> Result<Vec<DemoAccount>> {
    let rows: Vec<(String, String, String, Option<String>)> = users_t::table
        .filter(users_t::email.like(format!("%@{DEMO_DOMAIN}")))
        .order(users_t::id)
        .select((
            users_t::email,
            users_t::full_name,
            users_t::role,
            users_t::totp_secret,
        ))
        .load(conn)?;
    let now = Utc::now().timestamp();
    rows.into_iter()
        .map(|(email, name, role, secret)| {
            Ok(DemoAccount {
                email,
                name,
                role: Role::try_from(role)?,
                code: secret.and_then(|s| totp::code_at(&s, now).ok()),
            })
        })
        .collect()
}

/// `portal admin create`: an administrator without a password and the one-time link to set it.
pub fn create_admin(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    public_url: &str,
) -> Result<String> {
    let email = crate::domain::account::parse_email(email).context("not a valid email address")?;
    anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
    let token = crate::security::tokens::random_token();
    db::transaction(conn, |conn| -> Result<()> {
        let now = Utc::now().naive_utc();
        anyhow::ensure!(
            users::find_by_email(conn, &email)?.is_none(),
            "an account with {email} exists already"
        );
        let id = users::insert_staff(conn, &email, name.trim(), Role::Admin, now)?;
        account_tokens::create(
            conn,
            &account_tokens::NewAccountToken {
                user_id: id,
                purpose: crate::domain::account::TokenPurpose::SetPassword,
                token_hash: &crate::security::tokens::hash_token(&token),
                email: None,
                valid_for: chrono::Duration::hours(72),
                now,
            },
        )?;
        audit::record(
            conn,
            &Entry::new(None, AuditEvent::AdminCreated, &email, "cli", now),
        )?;
        Ok(())
    })?;
    Ok(format!(
        "{}/password/reset?token={token}",
        public_url.trim_end_matches('/')
    ))
}
