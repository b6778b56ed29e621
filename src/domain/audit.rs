//! The events the audit log records (security, and every action on a dossier). A closed list: each is stored as its name
//! (`audit_log.event`, guarded by a CHECK in both migration trees), and an unknown stored name
//! is an error when read back.

/// One kind of security event.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(into = "&'static str")]
pub enum AuditEvent {
    Register,
    /// A registration for an email or CCCD that has an account (answered like a new one).
    RegisterDuplicate,
    EmailVerified,
    /// A full login (password, and the second factor where the role needs one).
    Login,
    /// Password accepted; the second factor is still to come.
    LoginPasswordOk,
    LoginFailed,
    LoginRefusedLocked,
    AccountLocked,
    Logout,
    LogoutEverywhere,
    PasswordResetRequested,
    PasswordReset,
    ProfileUpdated,
    EmailChangeRequested,
    /// The new address was verified and replaced the old one.
    EmailChanged,
    /// The owner of the old address said "this wasn't me": the old address is back.
    EmailChangeReverted,
    ApiTokenCreated,
    ApiTokenRevoked,
    #[strum(serialize = "2fa_enrolled")]
    TwoFactorEnrolled,
    #[strum(serialize = "2fa_failed")]
    TwoFactorFailed,
    #[strum(serialize = "2fa_recovery_used")]
    TwoFactorRecoveryUsed,
    AdminCreated,
    /// A dossier moved through its lifecycle or was handed over (subject: its code).
    DossierAction,
    /// An administrator created a staff account and sent its invitation (subject: the email).
    StaffInvited,
    /// Roles or office memberships changed (subject: `user:<id>`; detail: before → after).
    AccountChanged,
    /// Disabled by an administrator: sessions ended, login refused.
    AccountDisabled,
    AccountEnabled,
    /// The second factor was removed by an administrator; the person enrols again.
    #[strum(serialize = "2fa_reset")]
    TwoFactorReset,
    /// Configuration changed (holidays, office hours, offices, routing, services, forms; subject:
    /// what, detail: before → after).
    ConfigChanged,
}

impl AuditEvent {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AuditEvent> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for e in AuditEvent::VARIANTS {
            assert_eq!(AuditEvent::parse(e.as_str()), Some(*e), "{e:?}");
        }
        assert_eq!(AuditEvent::TwoFactorEnrolled.as_str(), "2fa_enrolled");
        assert_eq!(AuditEvent::LoginPasswordOk.as_str(), "login_password_ok");
        assert_eq!(AuditEvent::parse("login_maybe"), None);
    }
}
