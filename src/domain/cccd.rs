//! The citizen identity number (CCCD, căn cước công dân): 12 digits — 3 for the province of
//! birth, 1 for sex and century, 2 for the year of birth, 6 of sequence (domain.md §6).

use chrono::{Datelike, NaiveDate};

/// Why a CCCD number was refused; each maps to a message the citizen can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CccdError {
    /// Not exactly 12 digits.
    Format,
    /// The first three digits are not a province code.
    Province,
    /// The sex/century digit or the year digits disagree with the date of birth.
    BirthDate,
}

impl CccdError {
    pub fn message_key(self) -> &'static str {
        match self {
            CccdError::Format => "cccd_format",
            CccdError::Province => "cccd_province",
            CccdError::BirthDate => "cccd_birth_date",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// A checked CCCD number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cccd(String);

impl Cccd {
    /// Checks `raw` (spaces and dots are tolerated, as people copy them from the card) against
    /// the province codes in force and the holder's date of birth.
    pub fn parse(
        raw: &str,
        province_codes: &[&str],
        born: NaiveDate,
    ) -> Result<(Cccd, Sex), CccdError> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.')
            .collect();
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CccdError::Format);
        }
        // Province codes are 2 digits ("01"); on the card they are written with a leading 0 ("001").
        let province = &digits[..3];
        if !province.starts_with('0') || !province_codes.contains(&&province[1..]) {
            return Err(CccdError::Province);
        }
        let gene = digits.as_bytes()[3] - b'0';
        // 0/1: 20th century, 2/3: 21st, 4/5: 22nd, ... even = male, odd = female.
        let century_start = 1900 + 100 * i32::from(gene / 2);
        let sex = if gene.is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        };
        let yy: i32 = digits[4..6].parse().map_err(|_| CccdError::Format)?;
        if born.year() != century_start + yy {
            return Err(CccdError::BirthDate);
        }
        Ok((Cccd(digits), sex))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCES: [&str; 3] = ["01", "79", "48"];

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn accepts_real_shapes() {
        assert_eq!(
            Cccd::parse("001090123456", &PROVINCES, d(1990, 5, 1)).map(|r| r.1),
            Ok(Sex::Male)
        );
        assert_eq!(
            Cccd::parse("079 305 012 345", &PROVINCES, d(2005, 1, 2)).map(|r| r.1),
            Ok(Sex::Female)
        );
        assert_eq!(
            Cccd::parse("048.188.000.001", &PROVINCES, d(1988, 1, 2)).map(|r| r.1),
            Ok(Sex::Female)
        );
    }

    #[test]
    fn refuses_with_a_reason() {
        assert_eq!(
            Cccd::parse("00109012345", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::Format)
        );
        assert_eq!(
            Cccd::parse("00109012345a", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::Format)
        );
        assert_eq!(
            Cccd::parse("002090123456", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::Province)
        );
        assert_eq!(
            Cccd::parse("101090123456", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::Province)
        );
        // Born in 1990 but the century digit says 21st century.
        assert_eq!(
            Cccd::parse("001290123456", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::BirthDate)
        );
        // Year digits disagree.
        assert_eq!(
            Cccd::parse("001091123456", &PROVINCES, d(1990, 1, 1)),
            Err(CccdError::BirthDate)
        );
    }

    #[test]
    fn every_century_digit_round_trips() {
        for gene in 0..8u8 {
            let year = 1900 + 100 * i32::from(gene / 2) + 42;
            let raw = format!("001{gene}42000001");
            let (_, sex) = Cccd::parse(&raw, &PROVINCES, d(year, 6, 1)).expect("valid");
            assert_eq!(
                sex,
                if gene % 2 == 0 {
                    Sex::Male
                } else {
                    Sex::Female
                }
            );
        }
    }
}
