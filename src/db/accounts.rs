//! The account use cases, each one transaction: what changes, its audit entry and its email land
//! together or not at all. Emails are rendered by the caller (a closure where the recipient is
//! only known inside the transaction), so no HTML is built here.

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};

use super::account_tokens::{self, NewAccountToken};
use super::audit::{self, Entry};
use super::sessions::{self, NewSession};
use super::users::{self, User};
use super::{DbConnection, login_failures, outbox, rate_limits, transaction};
use crate::domain::account::{Contact, NewCitizen, TokenPurpose};
use crate::domain::audit::AuditEvent;
use crate::domain::login::FailureRecord;
use crate::mail::RenderedEmail;

/// Renders an email for (the person's name, one more value such as the new address).
pub type RenderFor2 = Box<dyn FnOnce(&str, &str) -> Result<RenderedEmail> + Send>;
/// Renders an email for the person's name.
pub type RenderFor = Box<dyn FnOnce(&str) -> Result<RenderedEmail> + Send>;

/// Where and when a request came from, for the audit log.
#[derive(Debug, Clone)]
pub struct Origin {
    pub ip: String,
    pub now: NaiveDateTime,
}

/// A valid registration with its verification link and email.
pub struct Registration<'a> {
    pub citizen: &'a NewCitizen,
    pub password_hash: &'a str,
    pub verify_token_hash: &'a str,
    pub verify_for: Duration,
    pub verify_email: &'a RenderedEmail,
}

/// Creates the account, its verification link and the email — unless the email or CCCD has an
/// account, which is recorded and otherwise answered the same (no enumeration).
pub fn register(conn: &mut DbConnection, r: &Registration, o: &Origin) -> Result<()> {
    transaction(conn, |conn| {
        let email = &r.citizen.email;
        if users::email_or_cccd_taken(conn, email, &r.citizen.cccd)? {
            let e = Entry::new(None, AuditEvent::RegisterDuplicate, email, &o.ip, o.now);
            audit::record(conn, &e)?;
            return Ok(());
        }
        let id = users::insert_citizen(conn, r.citizen, r.password_hash, o.now)?;
        account_tokens::create(
            conn,
            &NewAccountToken {
                user_id: id,
                purpose: TokenPurpose::VerifyEmail,
                token_hash: r.verify_token_hash,
                email: None,
                valid_for: r.verify_for,
                now: o.now,
            },
        )?;
        outbox::enqueue(conn, email, r.verify_email, o.now)?;
        audit::record(
            conn,
            &Entry::new(Some(id), AuditEvent::Register, email, &o.ip, o.now),
        )?;
        Ok(())
    })
}

/// The old address's notice of a completed email change, with its "this wasn't me" link.
pub struct ChangeNotice {
    pub revert_token_hash: String,
    pub revert_for: Duration,
    /// Renders the notice for (name, new address).
    pub render: RenderFor2,
}

/// Uses a verification link: marks the address verified, or — for a new address from the
/// profile — makes it the sign-in address and tells the old address in the same transaction.
/// False for an unknown, used or expired link.
pub fn verify_email(
    conn: &mut DbConnection,
    token_hash: &str,
    notice: ChangeNotice,
    o: &Origin,
) -> Result<bool> {
    transaction(conn, |conn| {
        let Some(used) =
            account_tokens::consume(conn, TokenPurpose::VerifyEmail, token_hash, o.now)?
        else {
            return Ok(false);
        };
        let Some(user) = users::find_by_id(conn, used.user_id)? else {
            return Ok(false);
        };
        let Some(new_email) = used.email else {
            users::mark_email_verified(conn, user.id, o.now)?;
            let e = Entry::new(
                Some(user.id),
                AuditEvent::EmailVerified,
                &user.email,
                &o.ip,
                o.now,
            );
            audit::record(conn, &e)?;
            return Ok(true);
        };
        if !users::change_email(conn, user.id, &new_email, o.now)? {
            return Ok(false);
        }
        account_tokens::create(
            conn,
            &NewAccountToken {
                user_id: user.id,
                purpose: TokenPurpose::RevertEmail,
                token_hash: &notice.revert_token_hash,
                email: Some(&user.email),
                valid_for: notice.revert_for,
                now: o.now,
            },
        )?;
        let message = (notice.render)(&user.full_name, &new_email)?;
        outbox::enqueue(conn, &user.email, &message, o.now)?;
        let e = Entry::new(
            Some(user.id),
            AuditEvent::EmailChanged,
            &new_email,
            &o.ip,
            o.now,
        )
        .detail(&user.email);
        audit::record(conn, &e)?;
        Ok(true)
    })
}

/// "This wasn't me", from the old address: the old address is the sign-in address again, every
/// session ends, pending verification links are void, and a password reset link goes to the old
/// address (whoever changed it may know the password). False for an unknown, used or expired link.
pub fn revert_email_change(
    conn: &mut DbConnection,
    token_hash: &str,
    reset: PasswordResetLink,
    o: &Origin,
) -> Result<bool> {
    transaction(conn, |conn| {
        let Some(used) =
            account_tokens::consume(conn, TokenPurpose::RevertEmail, token_hash, o.now)?
        else {
            return Ok(false);
        };
        let (Some(old_email), Some(user)) = (used.email, users::find_by_id(conn, used.user_id)?)
        else {
            return Ok(false);
        };
        if !users::change_email(conn, user.id, &old_email, o.now)? {
            return Ok(false);
        }
        account_tokens::void(conn, user.id, TokenPurpose::VerifyEmail, o.now)?;
        sessions::delete_for_user(conn, user.id)?;
        send_reset_link(conn, &user, &old_email, reset, o)?;
        let e = Entry::new(
            Some(user.id),
            AuditEvent::EmailChangeReverted,
            &old_email,
            &o.ip,
            o.now,
        )
        .detail(&user.email);
        audit::record(conn, &e)?;
        Ok(true)
    })
}

/// A password reset link to create and send.
pub struct PasswordResetLink {
    pub token_hash: String,
    pub valid_for: Duration,
    /// Renders the email for the person's name.
    pub render: RenderFor,
}

fn send_reset_link(
    conn: &mut DbConnection,
    user: &User,
    to: &str,
    link: PasswordResetLink,
    o: &Origin,
) -> Result<()> {
    account_tokens::create(
        conn,
        &NewAccountToken {
            user_id: user.id,
            purpose: TokenPurpose::ResetPassword,
            token_hash: &link.token_hash,
            email: None,
            valid_for: link.valid_for,
            now: o.now,
        },
    )?;
    let message = (link.render)(&user.full_name)?;
    outbox::enqueue(conn, to, &message, o.now)?;
    Ok(())
}

/// "Forgot your password": a link to the account's address when there is an account, nothing
/// otherwise (the page says the same either way).
pub fn request_password_reset(
    conn: &mut DbConnection,
    email: &str,
    link: PasswordResetLink,
    o: &Origin,
) -> Result<()> {
    transaction(conn, |conn| {
        let user = users::find_by_email(conn, email)?.filter(|u| u.disabled_at.is_none());
        let Some(user) = user else {
            return Ok(());
        };
        send_reset_link(conn, &user, &user.email, link, o)?;
        let e = Entry::new(
            Some(user.id),
            AuditEvent::PasswordResetRequested,
            &user.email,
            &o.ip,
            o.now,
        );
        audit::record(conn, &e)?;
        Ok(())
    })
}

/// Uses a reset (or first-password) link: sets the password, forgets failed logins and ends
/// every session (whoever knew the old password is out). False for an unusable link.
pub fn reset_password(
    conn: &mut DbConnection,
    token_hash: &str,
    password_hash: &str,
    o: &Origin,
) -> Result<bool> {
    transaction(conn, |conn| {
        let used =
            match account_tokens::consume(conn, TokenPurpose::ResetPassword, token_hash, o.now)? {
                Some(u) => Some(u),
                None => {
                    account_tokens::consume(conn, TokenPurpose::SetPassword, token_hash, o.now)?
                }
            };
        let Some(used) = used else {
            return Ok(false);
        };
        users::set_password(conn, used.user_id, password_hash, o.now)?;
        sessions::delete_for_user(conn, used.user_id)?;
        login_failures::clear(
            conn,
            &crate::domain::login::failure_subject(Some(used.user_id), ""),
        )?;
        let e = Entry::new(
            Some(used.user_id),
            AuditEvent::PasswordReset,
            "",
            &o.ip,
            o.now,
        );
        audit::record(conn, &e)?;
        Ok(true)
    })
}

/// A change of contact details; `verify` when the email is to change (the link goes to the new
/// address; the address changes only once it is verified).
pub struct ProfileChange<'a> {
    pub user: &'a User,
    pub contact: &'a Contact,
    pub verify: Option<(&'a str, &'a RenderedEmail)>,
    pub verify_for: Duration,
}

pub fn update_profile(conn: &mut DbConnection, c: &ProfileChange, o: &Origin) -> Result<()> {
    transaction(conn, |conn| {
        let user = c.user;
        users::update_contact(conn, user.id, c.contact, o.now)?;
        let e = Entry::new(
            Some(user.id),
            AuditEvent::ProfileUpdated,
            &user.email,
            &o.ip,
            o.now,
        );
        audit::record(conn, &e)?;
        if let Some((token_hash, message)) = c.verify {
            let new_email = &c.contact.email;
            account_tokens::create(
                conn,
                &NewAccountToken {
                    user_id: user.id,
                    purpose: TokenPurpose::VerifyEmail,
                    token_hash,
                    email: Some(new_email),
                    valid_for: c.verify_for,
                    now: o.now,
                },
            )?;
            outbox::enqueue(conn, new_email, message, o.now)?;
            let e = Entry::new(
                Some(user.id),
                AuditEvent::EmailChangeRequested,
                new_email,
                &o.ip,
                o.now,
            );
            audit::record(conn, &e)?;
        }
        Ok(())
    })
}

/// A failed login (wrong password, or an identifier no account has): the record the policy
/// returned, the address's failure count, the audit entry, and — when this failure locked a
/// real account — the owner's email.
pub struct FailedLogin<'a> {
    pub subject: &'a str,
    pub record: &'a FailureRecord,
    pub identifier: &'a str,
    pub user_id: Option<i64>,
    pub address_key: &'a str,
    pub window: Duration,
    /// (owner's address, email) when this failure locked a real account.
    pub lock_notice: Option<(&'a str, &'a RenderedEmail)>,
}

pub fn record_failed_login(conn: &mut DbConnection, f: &FailedLogin, o: &Origin) -> Result<()> {
    transaction(conn, |conn| {
        login_failures::store(conn, f.subject, f.record)?;
        rate_limits::hit(conn, f.address_key, f.window, o.now)?;
        let detail = if f.user_id.is_some() {
            "wrong password"
        } else {
            "unknown account"
        };
        let e = Entry::new(
            f.user_id,
            AuditEvent::LoginFailed,
            f.identifier,
            &o.ip,
            o.now,
        )
        .detail(detail);
        audit::record(conn, &e)?;
        if f.record.locked_until.is_some() {
            let e = Entry::new(
                f.user_id,
                AuditEvent::AccountLocked,
                f.identifier,
                &o.ip,
                o.now,
            );
            audit::record(conn, &e)?;
        }
        if let Some((to, message)) = f.lock_notice {
            outbox::enqueue(conn, to, message, o.now)?;
        }
        Ok(())
    })
}

/// A login refused because the account (or identifier) is locked.
pub fn record_refused_login(
    conn: &mut DbConnection,
    user_id: Option<i64>,
    identifier: &str,
    o: &Origin,
) -> Result<()> {
    let e = Entry::new(
        user_id,
        AuditEvent::LoginRefusedLocked,
        identifier,
        &o.ip,
        o.now,
    );
    Ok(audit::record(conn, &e)?)
}

/// A successful password step: a new session (the old one, if any, ends), failures forgotten.
pub struct OpenedLogin<'a> {
    pub user: &'a User,
    pub session: NewSession<'a>,
    pub old_session_hash: Option<&'a str>,
}

pub fn open_session(conn: &mut DbConnection, l: &OpenedLogin, o: &Origin) -> Result<()> {
    transaction(conn, |conn| {
        if let Some(old) = l.old_session_hash {
            sessions::delete(conn, old)?;
        }
        sessions::create(conn, &l.session)?;
        login_failures::clear(
            conn,
            &crate::domain::login::failure_subject(Some(l.user.id), ""),
        )?;
        let event = if l.session.mfa_ok {
            AuditEvent::Login
        } else {
            AuditEvent::LoginPasswordOk
        };
        audit::record(
            conn,
            &Entry::new(Some(l.user.id), event, &l.user.email, &o.ip, o.now),
        )?;
        Ok(())
    })
}

/// Ends one session (`everywhere`: every session of the person). Returns how many ended.
pub fn log_out(
    conn: &mut DbConnection,
    user: &User,
    session_hash: &str,
    everywhere: bool,
    o: &Origin,
) -> Result<usize> {
    transaction(conn, |conn| {
        let (n, event) = if everywhere {
            (
                sessions::delete_for_user(conn, user.id)?,
                AuditEvent::LogoutEverywhere,
            )
        } else {
            sessions::delete(conn, session_hash)?;
            (1, AuditEvent::Logout)
        };
        let detail = format!("{n} sessions");
        let e = Entry::new(Some(user.id), event, &user.email, &o.ip, o.now).detail(&detail);
        audit::record(conn, &e)?;
        Ok(n)
    })
}

/// A new API token for a citizen (stored hashed, named by an opaque public id).
pub fn create_api_token(
    conn: &mut DbConnection,
    user: &User,
    name: &str,
    token_hash: &str,
    public_id: &str,
    o: &Origin,
) -> Result<()> {
    transaction(conn, |conn| {
        super::api_tokens::create(conn, user.id, name, token_hash, public_id, o.now)?;
        let e = Entry::new(
            Some(user.id),
            AuditEvent::ApiTokenCreated,
            &user.email,
            &o.ip,
            o.now,
        )
        .detail(name);
        audit::record(conn, &e)?;
        Ok(())
    })
}

pub fn revoke_api_token(
    conn: &mut DbConnection,
    user: &User,
    public_id: &str,
    o: &Origin,
) -> Result<bool> {
    transaction(conn, |conn| {
        let revoked = super::api_tokens::revoke(conn, user.id, public_id, o.now)?;
        if revoked {
            let e = Entry::new(
                Some(user.id),
                AuditEvent::ApiTokenRevoked,
                &user.email,
                &o.ip,
                o.now,
            );
            audit::record(conn, &e)?;
        }
        Ok(revoked)
    })
}
