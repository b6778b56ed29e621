//! Closed sets of stored names (roles, token purposes, audit events, outbox states) read back
//! through `#[diesel(deserialize_as = String)]`: a name the code does not know is an error
//! ("unknown role \"superuser\""), never silently some default. Both migration trees guard the
//! same lists with CHECK constraints.

use std::str::FromStr;

use crate::domain::account::{Role, TokenPurpose};
use crate::domain::audit::AuditEvent;

/// A stored name outside its closed set.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} {value:?} in the database")]
pub struct UnknownStoredName {
    pub kind: &'static str,
    pub value: String,
}

/// Parses a stored name into its enum.
pub fn parse_stored<T: FromStr>(kind: &'static str, value: String) -> Result<T, UnknownStoredName> {
    value.parse().map_err(|_| UnknownStoredName { kind, value })
}

impl TryFrom<String> for crate::domain::dossier::Channel {
    type Error = UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_stored("channel", value)
    }
}

impl TryFrom<String> for Role {
    type Error = UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_stored("role", value)
    }
}

impl TryFrom<String> for TokenPurpose {
    type Error = UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_stored("token purpose", value)
    }
}

impl TryFrom<String> for AuditEvent {
    type Error = UnknownStoredName;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_stored("audit event", value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_errors_not_defaults() {
        assert_eq!(Role::try_from("lead".to_string()).ok(), Some(Role::Lead));
        let e = Role::try_from("superuser".to_string()).expect_err("unknown role");
        assert_eq!(e.to_string(), "unknown role \"superuser\" in the database");
        assert!(AuditEvent::try_from("login_maybe".to_string()).is_err());
        assert!(TokenPurpose::try_from("".to_string()).is_err());
    }
}
