//! Why an administrator's change is refused. Each reason has a message in both languages
//! (`locales/*`); a refused change writes nothing.

/// Why an administrator's change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    EmailTaken,
    UnknownOffice,
    /// The change would leave the portal without an active administrator.
    LastAdmin,
    /// Administrators cannot take their own administrator role or disable themselves.
    OwnAccount,
    /// Office membership is for staff (officers and leads).
    NotStaff,
    /// A holiday exists on that day already.
    DayTaken,
}

impl Refusal {
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::NotFound => "admin_not_found",
            Refusal::EmailTaken => "people_email_taken",
            Refusal::UnknownOffice => "people_unknown_office",
            Refusal::LastAdmin => "people_last_admin",
            Refusal::OwnAccount => "people_own_account",
            Refusal::NotStaff => "people_not_staff",
            Refusal::DayTaken => "holiday_day_taken",
        }
    }
}

/// A change's outcome: done, or refused with the reason (nothing written).
pub type Outcome<T> = Result<T, Refusal>;
