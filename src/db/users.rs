//! People with an account: citizens, staff and administrators. One function per use case that
//! touches the `users` row (registration, verification, password, contact details, email change).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::users;
use crate::domain::account::{Contact, NewCitizen, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
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
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When an administrator disabled the account (it cannot log in; its sessions ended).
    pub disabled_at: Option<NaiveDateTime>,
}

impl User {
    pub fn role(&self) -> Role {
        self.role
    }
}

pub fn find_by_id(conn: &mut DbConnection, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The citizen account with this identity number, if any (the desk links a walk-in's dossier
/// to it).
pub fn find_citizen_by_cccd(conn: &mut DbConnection, cccd: &str) -> QueryResult<Option<i64>> {
    if cccd.is_empty() {
        return Ok(None);
    }
    users::table
        .filter(users::cccd.eq(cccd))
        .filter(users::role.eq(Role::Citizen.as_str()))
        .select(users::id)
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Login by email address or by CCCD number (spaces and dashes allowed). A disabled account
/// is not found: it is answered like an unknown one.
pub fn find_by_login(conn: &mut DbConnection, login: &str) -> QueryResult<Option<User>> {
    let login = login.trim();
    if login.contains('@') {
        return Ok(find_by_email(conn, &login.to_lowercase())?.filter(|u| u.disabled_at.is_none()));
    }
    let digits: String = login.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 12 {
        return Ok(None);
    }
    users::table
        .filter(users::cccd.eq(digits))
        .filter(users::disabled_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Whether the email or the CCCD number is taken (registration answers the same either way).
pub fn email_or_cccd_taken(conn: &mut DbConnection, email: &str, cccd: &str) -> QueryResult<bool> {
    let taken: i64 = users::table
        .filter(users::email.eq(email).or(users::cccd.eq(cccd)))
        .count()
        .get_result(conn)?;
    Ok(taken > 0)
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
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
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
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
}

pub fn set_password(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}

pub fn mark_email_verified(
    conn: &mut DbConnection,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::email_verified_at.eq(Some(now)),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Makes `email` the sign-in address (verified now). False when another account took the
/// address in the meantime: the change is then dropped.
pub fn change_email(
    conn: &mut DbConnection,
    user_id: i64,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let taken: i64 = users::table
        .filter(users::email.eq(email))
        .filter(users::id.ne(user_id))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Ok(false);
    }
    diesel::update(users::table.find(user_id))
        .set((
            users::email.eq(email),
            users::email_verified_at.eq(Some(now)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Phone and postal address (the email changes only through verification).
pub fn update_contact(
    conn: &mut DbConnection,
    user_id: i64,
    contact: &Contact,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::phone.eq(&contact.phone),
            users::address.eq(&contact.address),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
