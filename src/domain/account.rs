//! Accounts: roles and the rules for what a person types when registering or editing a profile.
//! Validation keeps every value the person typed and says, per field, what is wrong.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::cccd::Cccd;

/// Who a person is to the portal. Stored as its snake_case name (`users.role`, with a CHECK).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    PartialOrd,
    Ord,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
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
        s.parse().ok()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Staff and administrators must log in with a second factor.
    pub fn requires_two_factor(self) -> bool {
        self != Role::Citizen
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Officer | Role::Lead)
    }
}

/// What a single-use account link is for. Stored as its name (`account_tokens.purpose`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumString, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum TokenPurpose {
    /// Proves the person reads the address (registration, or a new address from the profile).
    VerifyEmail,
    /// "Forgot your password".
    ResetPassword,
    /// The first password of staff created by an administrator or the command line.
    SetPassword,
    /// "This wasn't me": sent to the old address when the sign-in address changed.
    RevertEmail,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Longest accepted email address (RFC 5321 path limit) and local part.
const EMAIL_MAX: usize = 254;
const EMAIL_LOCAL_MAX: usize = 64;

/// The one email check of the portal (registration, profile, administrators, the mailer): a
/// lower-cased, trimmed ASCII address `local@domain` whose local part is a dot-atom and whose
/// domain has at least two labels of letters, digits and inner hyphens. This is stricter than
/// RFC 5322 on purpose: every address it accepts can be delivered through SMTP without
/// quoting or internationalisation (a unit test checks it against the mailer's own parser).
pub fn parse_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_ascii_lowercase();
    if email.len() > EMAIL_MAX || !email.is_ascii() {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX
        && local
            .split('.')
            .all(|a| !a.is_empty() && a.chars().all(atom_char));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    (local_ok && domain_ok).then_some(email)
}

/// A one-line text field (names, addresses): spaces collapsed, no control characters (tabs,
/// new lines, escape codes are refused, not silently stored), at most `max` characters.
pub fn parse_line(raw: &str, max: usize) -> Result<String, &'static str> {
    if raw.chars().any(char::is_control) {
        return Err("err_control_chars");
    }
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > max {
        return Err("err_too_long");
    }
    Ok(text)
}

pub const ADDRESS_MAX: usize = 300;
pub const NAME_MAX: usize = 100;

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
        let full_name = match parse_line(&self.full_name, NAME_MAX) {
            Ok(n) if n.chars().count() >= 2 => n,
            Ok(_) | Err("err_too_long") => {
                errors.insert("full_name", "err_full_name");
                String::new()
            }
            Err(key) => {
                errors.insert("full_name", key);
                String::new()
            }
        };
        let contact = ContactForm {
            email: self.email.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
        }
        .validate();
        let (email, phone, address) = match contact {
            Ok(c) => (Some(c.email), Some(c.phone), c.address),
            Err(e) => {
                errors.extend(e);
                (None, None, String::new())
            }
        };
        let email = email.filter(|_| !errors.contains_key("email"));
        let phone = phone.filter(|_| !errors.contains_key("phone"));
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

/// The contact details a person can change on the profile page (the same rules as at
/// registration: one definition of a good email, phone and address).
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct ContactForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

/// Contact details that passed every check, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub email: String,
    pub phone: String,
    pub address: String,
}

impl ContactForm {
    /// Every field's error at once, or the normalised values.
    pub fn validate(&self) -> Result<Contact, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = parse_email(&self.email);
        if email.is_none() {
            errors.insert("email", "err_email");
        }
        let phone = parse_phone(&self.phone);
        if phone.is_none() {
            errors.insert("phone", "err_phone");
        }
        let address = match parse_line(&self.address, ADDRESS_MAX) {
            Ok(a) => a,
            Err("err_too_long") => {
                errors.insert("address", "err_address");
                String::new()
            }
            Err(key) => {
                errors.insert("address", key);
                String::new()
            }
        };
        match (email, phone) {
            (Some(email), Some(phone)) if errors.is_empty() => Ok(Contact {
                email,
                phone,
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
        assert_eq!(
            parse_email(" Tran.Binh+dvc@Mail.Example.VN ").as_deref(),
            Some("tran.binh+dvc@mail.example.vn")
        );
        for bad in [
            "",
            "a",
            "a@b",
            "a b@c.vn",
            "@b.vn",
            "a@.vn",
            "a@b.vn.",
            "a@@b.vn",
            "a..b@c.vn",
            ".a@c.vn",
            "a.@c.vn",
            "tên@example.vn",
            "a@ví-dụ.vn",
            "a@-b.vn",
            "a@b-.vn",
            "a@b.v",
            "a@b.123",
            "a\tb@c.vn",
            "a\u{0}@c.vn",
            "\"a\"@c.vn",
            "a(b)@c.vn",
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

    #[test]
    fn contact_details_refuse_control_characters_and_keep_every_error() {
        let bad = ContactForm {
            email: "not an email".into(),
            phone: "12".into(),
            address: "12 Hàng Bạc\u{1b}[2J".into(),
        };
        let e = bad.validate().expect_err("invalid");
        assert_eq!(e.get("email"), Some(&"err_email"));
        assert_eq!(e.get("phone"), Some(&"err_phone"));
        assert_eq!(e.get("address"), Some(&"err_control_chars"));
        let long = ContactForm {
            email: "a@b.vn".into(),
            phone: "0912345678".into(),
            address: "x".repeat(301),
        };
        assert_eq!(
            long.validate().expect_err("too long").get("address"),
            Some(&"err_address")
        );
        let ok = ContactForm {
            email: " A@B.VN".into(),
            phone: "0912 345 678".into(),
            address: "  34   Hàng Đào ".into(),
        }
        .validate()
        .expect("valid");
        assert_eq!(ok.address, "34 Hàng Đào");
        assert_eq!(ok.email, "a@b.vn");
    }

    #[test]
    fn stored_names_round_trip() {
        use strum::VariantArray;
        for r in Role::VARIANTS {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::parse("superuser"), None);
        assert_eq!(TokenPurpose::ResetPassword.as_str(), "reset_password");
        assert_eq!(
            "revert_email".parse::<TokenPurpose>().ok(),
            Some(TokenPurpose::RevertEmail)
        );
    }
}
