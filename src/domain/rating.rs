//! The citizen's rating of a finished dossier: the nine indicators of Circular 01/2018 (domain.md
//! §6), each scored 2 (satisfied), 1 (neutral) or 0 (not satisfied), and a comment.

/// The indicators' keys, in the order of the official form (message keys `rating_<key>`).
pub const INDICATORS: [&str; 9] = [
    "total_time",
    "offices_contacted",
    "contacts",
    "attitude",
    "correctness",
    "transparency",
    "fees",
    "online",
    "feedback",
];

pub const COMMENT_MAX: usize = 2000;

/// Nine scores, 0–2 each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores(pub [u8; 9]);

impl Scores {
    /// From the form's values by indicator key: every indicator must have 0, 1 or 2; the keys of
    /// those missing or wrong otherwise.
    pub fn from_answers<'a>(
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Scores, Vec<&'static str>> {
        let mut scores = [0u8; 9];
        let mut missing = Vec::new();
        for (i, key) in INDICATORS.iter().enumerate() {
            match get(key).map(str::trim) {
                Some("0") => scores[i] = 0,
                Some("1") => scores[i] = 1,
                Some("2") => scores[i] = 2,
                _ => missing.push(*key),
            }
        }
        if missing.is_empty() {
            Ok(Scores(scores))
        } else {
            Err(missing)
        }
    }

    /// As stored: nine digits.
    pub fn to_text(self) -> String {
        self.0.iter().map(|s| char::from(b'0' + s)).collect()
    }

    pub fn parse(text: &str) -> Option<Scores> {
        let b = text.as_bytes();
        if b.len() != 9 || !b.iter().all(|c| (b'0'..=b'2').contains(c)) {
            return None;
        }
        let mut s = [0u8; 9];
        for (i, c) in b.iter().enumerate() {
            s[i] = c - b'0';
        }
        Some(Scores(s))
    }

    pub fn total(self) -> i32 {
        self.0.iter().map(|s| i32::from(*s)).sum()
    }

    /// A negative rating for the satisfaction indicator (domain.md §7): any indicator at 0.
    pub fn is_negative(self) -> bool {
        self.0.contains(&0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_must_be_scored_0_1_or_2() {
        let all = |v: &'static str| move |_: &str| Some(v);
        assert_eq!(Scores::from_answers(all("2")).expect("ok").total(), 18);
        assert_eq!(
            Scores::from_answers(all("3")).err().map(|m| m.len()),
            Some(9)
        );
        let one_missing = |k: &str| (k != "fees").then_some("1");
        assert_eq!(Scores::from_answers(one_missing).err(), Some(vec!["fees"]));
    }

    #[test]
    fn scores_round_trip_as_nine_digits() {
        let s = Scores([2, 1, 0, 2, 2, 1, 1, 0, 2]);
        assert_eq!(s.to_text(), "210221102");
        assert_eq!(Scores::parse(&s.to_text()), Some(s));
        assert!(s.is_negative());
        for junk in ["", "21022110", "2102211023", "21022110x"] {
            assert_eq!(Scores::parse(junk), None);
        }
    }
}
