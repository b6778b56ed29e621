//! Dossier codes (domain.md §3): `{AGENCY_ID}-{YYMMDD}-{NNNN}`, the receiving office's
//! identifier, the receipt date and the office's daily sequence, e.g. `000.00.01.H22-251126-0001`.
//! The code is what citizens use to track a dossier without logging in.

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// How a dossier reached the office (counted apart in the statistics). Stored by name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    Online,
    Counter,
    Post,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An office identifier as used in codes: dot-separated groups of ASCII letters and digits
/// (`000.00.01.H22`), 3–40 characters.
pub fn is_agency_id(s: &str) -> bool {
    (3..=40).contains(&s.len())
        && s.split('.')
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierCode {
    agency_id: String,
    date: NaiveDate,
    sequence: u32,
}

/// Why a typed code is not a dossier code (the tracking page says "no such dossier" either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    Shape,
    Date,
    Sequence,
}

impl DossierCode {
    /// Sequences are 1–9999 a day per office (four digits in the code).
    pub const MAX_SEQUENCE: u32 = 9999;

    pub fn new(agency_id: &str, date: NaiveDate, sequence: u32) -> Result<DossierCode, CodeError> {
        if !is_agency_id(agency_id) {
            return Err(CodeError::Shape);
        }
        if !(2000..2100).contains(&date.year()) {
            return Err(CodeError::Date);
        }
        if !(1..=Self::MAX_SEQUENCE).contains(&sequence) {
            return Err(CodeError::Sequence);
        }
        Ok(DossierCode {
            agency_id: agency_id.to_string(),
            date,
            sequence,
        })
    }

    /// Reads a code as a person may type it: spaces around it ignored, letters in any case.
    pub fn parse(raw: &str) -> Result<DossierCode, CodeError> {
        let raw = raw.trim().to_ascii_uppercase();
        let mut parts = raw.rsplitn(3, '-');
        let (Some(seq), Some(ymd), Some(agency)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CodeError::Shape);
        };
        if seq.len() != 4 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Sequence);
        }
        if ymd.len() != 6 || !ymd.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Date);
        }
        let date = NaiveDate::parse_from_str(&format!("20{ymd}"), "%Y%m%d")
            .map_err(|_| CodeError::Date)?;
        let sequence = seq.parse().map_err(|_| CodeError::Sequence)?;
        DossierCode::new(agency, date, sequence)
    }

    pub fn agency_id(&self) -> &str {
        &self.agency_id
    }

    pub fn date(&self) -> NaiveDate {
        self.date
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:02}{:02}{:02}-{:04}",
            self.agency_id,
            self.date.year() % 100,
            self.date.month(),
            self.date.day(),
            self.sequence
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_example_of_the_domain_notes() {
        let code = DossierCode::parse("000.00.01.H22-251126-0001").expect("valid");
        assert_eq!(code.agency_id(), "000.00.01.H22");
        assert_eq!(
            code.date(),
            NaiveDate::from_ymd_opt(2025, 11, 26).expect("date")
        );
        assert_eq!(code.sequence(), 1);
        assert_eq!(code.to_string(), "000.00.01.H22-251126-0001");
        assert_eq!(
            DossierCode::parse(" 000.00.01.h22-251126-0001 ")
                .expect("lenient")
                .to_string(),
            "000.00.01.H22-251126-0001"
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        for (raw, e) in [
            ("", CodeError::Shape),
            ("000.00.01.H22-251126", CodeError::Shape),
            ("000.00.01.H22-251326-0001", CodeError::Date),
            ("000.00.01.H22-251126-001", CodeError::Sequence),
            ("000.00.01.H22-251126-0000", CodeError::Sequence),
            ("000..01-251126-0001", CodeError::Shape),
            ("<script>-251126-0001", CodeError::Shape),
        ] {
            assert_eq!(DossierCode::parse(raw), Err(e), "{raw}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(
            agency in "[0-9A-Z]{1,5}(\\.[0-9A-Z]{1,5}){0,4}",
            days in 0i64..36500,
            sequence in 1u32..=9999,
        ) {
            prop_assume!(agency.len() >= 3);
            let date = NaiveDate::from_ymd_opt(2000, 1, 1).expect("date") + chrono::Duration::days(days);
            let code = DossierCode::new(&agency, date, sequence).expect("valid");
            prop_assert_eq!(DossierCode::parse(&code.to_string()), Ok(code));
        }
    }
}
