//! Accounts: roles and the rules for what a person types when registering or editing a profile.
//! Validation keeps every value the person typed and says, per field, what is wrong.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::cccd::Cccd;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    /// Member of one or more agencies; works their queue.
    Officer,
    /// Officer who also assigns work inside the agency.
    Lead,
    /// The whole system.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "citizen" => Some(Role::Citizen),
            "officer" => Some(Role::Officer),
            "lead" => Some(Role::Lead),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Officer => "officer",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    /// Staff and administrators must log in with a second factor.
    pub fn requires_two_factor(self) -> bool {
        self != Role::Citizen
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Officer | Role::Lead)
    }
}

/// Lower-cased, trimmed address with one `@`, a dotted domain and no spaces.
pub fn parse_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    ok.then_some(email)
}

/// Vietnamese phone numbers: 10 digits starting with 0, or +84 followed by 9 digits.
pub fn parse_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect();
    let national = match digits.strip_prefix("+84") {
        Some(rest) => format!("0{rest}"),
        None => digits,
    };
    (national.len() == 10
        && national.starts_with('0')
        && national.bytes().all(|b| b.is_ascii_digit()))
    .then_some(national)
}

/// What a registration form sends; every field kept as typed so the form can be shown again.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct RegistrationForm {
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub cccd: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub province_code: String,
    #[serde(default)]
    pub ward_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default, skip_serializing)]
    pub password: String,
    #[serde(default, skip_serializing)]
    pub password_confirm: String,
}

/// A registration that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCitizen {
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub cccd: String,
    pub date_of_birth: NaiveDate,
    pub province_code: String,
    pub ward_code: String,
    pub address: String,
}

/// Field name → message key.
pub type FieldErrors = BTreeMap<&'static str, &'static str>;

impl RegistrationForm {
    /// Checks the form against the real administrative units: `ward_province` tells the province
    /// of a ward code (None for an unknown ward). The password policy is checked by the caller.
    pub fn validate(
        &self,
        today: NaiveDate,
        province_codes: &[&str],
        ward_province: impl Fn(&str) -> Option<String>,
    ) -> Result<NewCitizen, FieldErrors> {
        let mut errors = FieldErrors::new();
        let full_name = self
            .full_name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if full_name.chars().count() < 2 || full_name.chars().count() > 100 {
            errors.insert("full_name", "err_full_name");
        }
        let email = parse_email(&self.email);
        if email.is_none() {
            errors.insert("email", "err_email");
        }
        let phone = parse_phone(&self.phone);
        if phone.is_none() {
            errors.insert("phone", "err_phone");
        }
        let born = NaiveDate::parse_from_str(self.date_of_birth.trim(), "%Y-%m-%d")
            .ok()
            .filter(|d| *d <= today && d.year() >= 1900);
        let age_ok = born.is_some_and(|d| today.years_since(d).is_some_and(|y| y >= 14));
        if born.is_none() {
            errors.insert("date_of_birth", "err_date_of_birth");
        } else if !age_ok {
            errors.insert("date_of_birth", "err_too_young");
        }
        let cccd = match born {
            Some(b) => match Cccd::parse(&self.cccd, province_codes, b) {
                Ok((c, _)) => Some(c),
                Err(e) => {
                    errors.insert("cccd", e.message_key());
                    None
                }
            },
            None => {
                if Cccd::parse(&self.cccd, province_codes, NaiveDate::MIN)
                    .is_err_and(|e| e != super::cccd::CccdError::BirthDate)
                {
                    errors.insert("cccd", "cccd_format");
                }
                None
            }
        };
        let province = self.province_code.trim();
        if !province_codes.contains(&province) {
            errors.insert("province_code", "err_province");
        }
        let ward = self.ward_code.trim();
        match ward_province(ward) {
            Some(p) if p == province => {}
            Some(_) => {
                errors.insert("ward_code", "err_ward_not_in_province");
            }
            None => {
                errors.insert("ward_code", "err_ward");
            }
        }
        let address = self.address.trim().to_string();
        if address.chars().count() > 300 {
            errors.insert("address", "err_address");
        }
        if self.password != self.password_confirm {
            errors.insert("password_confirm", "err_password_mismatch");
        }
        match (errors.is_empty(), email, phone, cccd, born) {
            (true, Some(email), Some(phone), Some(cccd), Some(date_of_birth)) => Ok(NewCitizen {
                full_name,
                email,
                phone,
                cccd: cccd.as_str().to_string(),
                date_of_birth,
                province_code: province.to_string(),
                ward_code: ward.to_string(),
                address,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RegistrationForm {
        RegistrationForm {
            full_name: "  Nguyễn   Văn An ".into(),
            email: " An.Nguyen@Example.VN ".into(),
            phone: "+84 912 345 678".into(),
            cccd: "001090123456".into(),
            date_of_birth: "1990-05-01".into(),
            province_code: "01".into(),
            ward_code: "00004".into(),
            address: "12 Hàng Bạc".into(),
            password: "một mật khẩu dài".into(),
            password_confirm: "một mật khẩu dài".into(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).expect("date")
    }

    fn ward(code: &str) -> Option<String> {
        match code {
            "00004" => Some("01".into()),
            "26734" => Some("79".into()),
            _ => None,
        }
    }

    #[test]
    fn a_good_form_is_normalised() {
        let c = form()
            .validate(today(), &["01", "79"], ward)
            .expect("valid");
        assert_eq!(c.full_name, "Nguyễn Văn An");
        assert_eq!(c.email, "an.nguyen@example.vn");
        assert_eq!(c.phone, "0912345678");
    }

    #[test]
    fn each_field_gets_its_own_message() {
        let mut f = form();
        f.email = "not-an-email".into();
        f.phone = "12345".into();
        f.ward_code = "26734".into();
        f.cccd = "001290123456".into();
        f.password_confirm = "other".into();
        let e = f
            .validate(today(), &["01", "79"], ward)
            .expect_err("invalid");
        assert_eq!(e.get("email"), Some(&"err_email"));
        assert_eq!(e.get("phone"), Some(&"err_phone"));
        assert_eq!(e.get("ward_code"), Some(&"err_ward_not_in_province"));
        assert_eq!(e.get("cccd"), Some(&"cccd_birth_date"));
        assert_eq!(e.get("password_confirm"), Some(&"err_password_mismatch"));
        assert!(!e.contains_key("full_name"));
    }

    #[test]
    fn emails_and_phones() {
        assert_eq!(parse_email("a@b.vn").as_deref(), Some("a@b.vn"));
        for bad in [
            "", "a", "a@b", "a b@c.vn", "@b.vn", "a@.vn", "a@b.vn.", "a@@b.vn",
        ] {
            assert_eq!(parse_email(bad), None, "{bad}");
        }
        assert_eq!(parse_phone("0912 345 678").as_deref(), Some("0912345678"));
        assert_eq!(parse_phone("+84912345678").as_deref(), Some("0912345678"));
        assert_eq!(parse_phone("912345678"), None);
        assert_eq!(parse_phone("09123456789"), None);
    }

    #[test]
    fn too_young_to_register() {
        let mut f = form();
        f.date_of_birth = "2015-01-01".into();
        f.cccd = "001215123456".into();
        let e = f.validate(today(), &["01"], ward).expect_err("too young");
        assert_eq!(e.get("date_of_birth"), Some(&"err_too_young"));
    }
}
