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
    /// A rule's kind of office does not receive dossiers of its level.
    RuleLevelMismatch,
    RuleUnknownMinistry,
    RuleUnknownField,
    RuleUnknownService,
    /// A rule to a department must say which department.
    RuleDepartmentRequired,
    RuleDepartmentOnlyForDepartments,
    /// Another rule has the same conditions.
    RuleDuplicate,
    /// Someone saved the record since this form was opened.
    StaleVersion,
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
            Refusal::RuleLevelMismatch => "routing_level_mismatch",
            Refusal::RuleUnknownMinistry => "routing_unknown_ministry",
            Refusal::RuleUnknownField => "routing_unknown_field",
            Refusal::RuleUnknownService => "routing_unknown_service",
            Refusal::RuleDepartmentRequired => "routing_department_required",
            Refusal::RuleDepartmentOnlyForDepartments => "routing_department_only",
            Refusal::RuleDuplicate => "routing_duplicate",
            Refusal::StaleVersion => "services_stale",
        }
    }
}

/// A change's outcome: done, or refused with the reason (nothing written).
pub type Outcome<T> = Result<T, Refusal>;
