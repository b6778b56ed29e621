//! Users, their single-use account tokens (email verification, password reset, set password),
//! sessions, the security audit log and rate-limit counters.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::*;
use crate::domain::account::{NewCitizen, Role};

#[derive(Debug, Clone, Queryable)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub full_name: String,
    pub phone: String,
    pub cccd: Option<String>,
    pub date_of_birth: Option<chrono::NaiveDate>,
    pub province_code: Option<String>,
    pub ward_code: Option<String>,
    pub address: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Citizen)
    }
}

pub const PURPOSE_VERIFY_EMAIL: &str = "verify_email";
pub const PURPOSE_RESET_PASSWORD: &str = "reset_password";
pub const PURPOSE_SET_PASSWORD: &str = "set_password";

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).first(conn).optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .first(conn)
        .optional()
}

/// Login by email address or by CCCD number.
pub fn find_by_login(conn: &mut DbConnection, login: &str) -> QueryResult<Option<User>> {
    let login = login.trim();
    if login.contains('@') {
        return find_by_email(conn, &login.to_lowercase());
    }
    let digits: String = login.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 12 {
        return Ok(None);
    }
    users::table
        .filter(users::cccd.eq(digits))
        .first(conn)
        .optional()
}

/// Whether the email or the CCCD number is taken (registration answers the same either way).
pub fn email_or_cccd_taken(
    conn: &mut DbConnection,
    email: &str,
    cccd: &str,
) -> QueryResult<(bool, bool)> {
    let email_taken: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(conn)?;
    let cccd_taken: i64 = users::table
        .filter(users::cccd.eq(cccd))
        .count()
        .get_result(conn)?;
    Ok((email_taken > 0, cccd_taken > 0))
}

pub fn insert_citizen(
    conn: &mut DbConnection,
    c: &NewCitizen,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::email.eq(&c.email),
            users::full_name.eq(&c.full_name),
            users::phone.eq(&c.phone),
            users::cccd.eq(&c.cccd),
            users::date_of_birth.eq(c.date_of_birth),
            users::province_code.eq(&c.province_code),
            users::ward_code.eq(&c.ward_code),
            users::address.eq(&c.address),
            users::password_hash.eq(password_hash),
            users::role.eq(Role::Citizen.as_str()),
            users::failed_logins.eq(0),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    users::table
        .filter(users::email.eq(&c.email))
        .select(users::id)
        .first(conn)
}

/// Staff or an administrator, without a password: they set it through a one-time link.
pub fn insert_staff(
    conn: &mut DbConnection,
    email: &str,
    full_name: &str,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values((
            users::email.eq(email),
            users::email_verified_at.eq(Some(now)),
            users::full_name.eq(full_name),
            users::phone.eq(""),
            users::address.eq(""),
            users::role.eq(role.as_str()),
            users::failed_logins.eq(0),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(conn)
}

pub fn set_password(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(hash),
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_email_verified(
    conn: &mut DbConnection,
    user_id: i64,
    email: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match email {
        Some(e) => diesel::update(users::table.find(user_id))
            .set((
                users::email.eq(e),
                users::email_verified_at.eq(Some(now)),
                users::updated_at.eq(now),
            ))
            .execute(conn),
        None => diesel::update(users::table.find(user_id))
            .set((
                users::email_verified_at.eq(Some(now)),
                users::updated_at.eq(now),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

pub fn update_contact(
    conn: &mut DbConnection,
    user_id: i64,
    phone: &str,
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::phone.eq(phone),
            users::address.eq(address),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Counts a failed login; locks the account for `lock_for` once `max_failures` is reached.
/// Returns the lock's end when this failure locked it.
pub fn record_failed_login(
    conn: &mut DbConnection,
    user_id: i64,
    max_failures: i32,
    lock_for: Duration,
    now: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    super::transaction(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set(users::failed_logins.eq(users::failed_logins + 1))
            .execute(conn)?;
        let failures: i32 = users::table
            .find(user_id)
            .select(users::failed_logins)
            .first(conn)?;
        if failures >= max_failures {
            let until = now + lock_for;
            diesel::update(users::table.find(user_id))
                .set((
                    users::locked_until.eq(Some(until)),
                    users::failed_logins.eq(0),
                ))
                .execute(conn)?;
            return Ok(Some(until));
        }
        Ok(None)
    })
}

pub fn record_successful_login(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|_| ())
}

// ---- single-use account tokens -------------------------------------------------------------

pub fn create_token(
    conn: &mut DbConnection,
    user_id: i64,
    purpose: &str,
    token_hash: &str,
    new_email: Option<&str>,
    valid_for: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(token_hash),
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose),
            account_tokens::new_email.eq(new_email),
            account_tokens::created_at.eq(now),
            account_tokens::expires_at.eq(now + valid_for),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Uses a token once: `Some((user_id, new_email))` the first time within its validity, `None`
/// for an unknown, expired or already used one. The conditional update makes a race harmless.
pub fn consume_token(
    conn: &mut DbConnection,
    purpose: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, Option<String>)>> {
    let used = diesel::update(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(now)),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if used == 0 {
        return Ok(None);
    }
    account_tokens::table
        .find(token_hash)
        .select((account_tokens::user_id, account_tokens::new_email))
        .first(conn)
        .optional()
}

/// Whether a token is still usable, without using it (to show the reset form).
pub fn token_is_valid(
    conn: &mut DbConnection,
    purpose: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n: i64 = account_tokens::table
        .filter(account_tokens::token_hash.eq(token_hash))
        .filter(account_tokens::purpose.eq(purpose))
        .filter(account_tokens::used_at.is_null())
        .filter(account_tokens::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

// ---- sessions -------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable)]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub mfa_ok: bool,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ip: String,
    pub user_agent: String,
}

#[allow(clippy::too_many_arguments)]
pub fn create_session(
    conn: &mut DbConnection,
    id_hash: &str,
    user_id: i64,
    mfa_ok: bool,
    ip: &str,
    user_agent: &str,
    absolute: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(id_hash),
            sessions::user_id.eq(user_id),
            sessions::mfa_ok.eq(mfa_ok),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(now + absolute),
            sessions::ip.eq(ip),
            sessions::user_agent.eq(user_agent.chars().take(300).collect::<String>()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find_session(
    conn: &mut DbConnection,
    id_hash: &str,
) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        .first(conn)
        .optional()
}

pub fn touch_session(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

pub fn delete_session(conn: &mut DbConnection, id_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.find(id_hash))
        .execute(conn)
        .map(|_| ())
}

/// "Log out of every device", and what a password change or reset does.
pub fn delete_user_sessions(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

// ---- audit log ------------------------------------------------------------------------------

pub fn audit(
    conn: &mut DbConnection,
    actor_id: Option<i64>,
    event: &str,
    subject: &str,
    ip: &str,
    detail: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now),
            audit_log::actor_id.eq(actor_id),
            audit_log::event.eq(event),
            audit_log::subject.eq(subject),
            audit_log::ip.eq(ip),
            audit_log::detail.eq(detail),
        ))
        .execute(conn)
        .map(|_| ())
}

pub type AuditRow = (
    i64,
    NaiveDateTime,
    Option<i64>,
    String,
    String,
    String,
    String,
);

/// The newest events, optionally only one kind or those mentioning `text` (subject or address).
pub fn search_audit(
    conn: &mut DbConnection,
    event: Option<&str>,
    text: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(e) = event {
        q = q.filter(audit_log::event.eq(e.to_string()));
    }
    if let Some(t) = text {
        let pattern = format!("%{}%", t.replace(['%', '_'], ""));
        q = q.filter(
            audit_log::subject
                .like(pattern.clone())
                .or(audit_log::ip.like(pattern)),
        );
    }
    q.order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            audit_log::actor_id,
            audit_log::event,
            audit_log::subject,
            audit_log::ip,
            audit_log::detail,
        ))
        .load(conn)
}

// ---- rate limits ----------------------------------------------------------------------------

/// Counts one attempt under `key` in a fixed window and returns the count so far and when the
/// window ends. Shared by every instance through the database.
pub fn hit_rate_limit(
    conn: &mut DbConnection,
    key: &str,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<(i32, NaiveDateTime)> {
    // Writes first, so concurrent hits queue on the row (PostgreSQL) or the write lock (SQLite)
    // instead of reading a count that another request is about to change.
    super::transaction(conn, |conn| {
        let fresh = (
            rate_limits::key.eq(key),
            rate_limits::window_start.eq(now),
            rate_limits::count.eq(0),
        );
        crate::with_backend!(&mut *conn, |c| diesel::insert_into(rate_limits::table)
            .values(fresh)
            .on_conflict(rate_limits::key)
            .do_nothing()
            .execute(c))?;
        diesel::update(
            rate_limits::table
                .find(key)
                .filter(rate_limits::window_start.le(now - window)),
        )
        .set((rate_limits::window_start.eq(now), rate_limits::count.eq(0)))
        .execute(conn)?;
        diesel::update(rate_limits::table.find(key))
            .set(rate_limits::count.eq(rate_limits::count + 1))
            .execute(conn)?;
        let (start, count): (NaiveDateTime, i32) = rate_limits::table
            .find(key)
            .select((rate_limits::window_start, rate_limits::count))
            .first(conn)?;
        Ok((count, start + window))
    })
}

// ---- second factor --------------------------------------------------------------------------

/// Keeps a freshly generated secret until the person proves their app has it.
pub fn set_pending_totp(conn: &mut DbConnection, user_id: i64, secret: &str) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::totp_enabled_at.is_null()),
    )
    .set(users::totp_secret.eq(Some(secret)))
    .execute(conn)
    .map(|_| ())
}

/// Turns the second factor on and stores the hashes of fresh recovery codes (old ones go).
pub fn enable_totp(
    conn: &mut DbConnection,
    user_id: i64,
    step: i64,
    recovery_hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_enabled_at.eq(Some(now)),
            users::totp_last_step.eq(Some(step)),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for h in recovery_hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(h),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records the time step of an accepted code, so the same code cannot be used twice.
pub fn set_totp_step(conn: &mut DbConnection, user_id: i64, step: i64) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)
        .map(|_| ())
}

/// Uses one recovery code; false when it is unknown or already used.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: i64,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n > 0)
}

pub fn unused_recovery_codes(conn: &mut DbConnection, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

/// Replaces a session by a new id with the second factor given (a privilege change rotates the id).
pub fn upgrade_session(
    conn: &mut DbConnection,
    old_hash: &str,
    new_hash: &str,
) -> QueryResult<bool> {
    let Some(s) = sessions::table
        .find(old_hash)
        .first::<Session>(conn)
        .optional()?
    else {
        return Ok(false);
    };
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(new_hash),
            sessions::user_id.eq(s.user_id),
            sessions::mfa_ok.eq(true),
            sessions::created_at.eq(s.created_at),
            sessions::last_seen_at.eq(s.last_seen_at),
            sessions::expires_at.eq(s.expires_at),
            sessions::ip.eq(&s.ip),
            sessions::user_agent.eq(&s.user_agent),
        ))
        .execute(conn)?;
    diesel::delete(sessions::table.find(old_hash)).execute(conn)?;
    Ok(true)
}

pub fn add_agency_member(
    conn: &mut DbConnection,
    user_id: i64,
    agency_id: i64,
    is_lead: bool,
) -> QueryResult<()> {
    diesel::insert_into(agency_members::table)
        .values((
            agency_members::user_id.eq(user_id),
            agency_members::agency_id.eq(agency_id),
            agency_members::is_lead.eq(is_lead),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The agencies a staff member may act for: every staff query is scoped by these ids.
pub fn agency_ids_of(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<i64>> {
    agency_members::table
        .filter(agency_members::user_id.eq(user_id))
        .select(agency_members::agency_id)
        .load(conn)
}

// ---- API tokens -----------------------------------------------------------------------------

pub fn create_api_token(
    conn: &mut DbConnection,
    user_id: i64,
    name: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(token_hash),
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The owner of a live (not revoked) API token; records its use.
pub fn api_token_user(
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
    find_by_id(conn, user_id)
}

/// (id = token hash, name, created, last used) of one live token.
pub type ApiTokenRow = (String, String, NaiveDateTime, Option<NaiveDateTime>);

/// A person's live tokens, newest first.
pub fn list_api_tokens(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::created_at.desc())
        .select((
            api_tokens::token_hash,
            api_tokens::name,
            api_tokens::created_at,
            api_tokens::last_used_at,
        ))
        .load(conn)
}

pub fn revoke_api_token(
    conn: &mut DbConnection,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        api_tokens::table
            .filter(api_tokens::token_hash.eq(token_hash))
            .filter(api_tokens::user_id.eq(user_id)),
    )
    .set(api_tokens::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n > 0)
}
