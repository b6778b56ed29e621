//! Online maturity levels (Decree 43/2011 Art. 3.4; classes of Decree 42/2022 Art. 11) and the
//! starting level derived from a procedure record. The derived level is only a seed: it is stored
//! per service and administrators change it as data.

use serde::Serialize;

use super::procedure::Channel;

/// The two classes today's portal shows beside the 1–4 scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineClass {
    /// "Toàn trình": filing, processing, payment and result all online (level 4).
    EndToEnd,
    /// "Một phần": part of the procedure is online (level 3).
    Partial,
    /// Information and forms only; the dossier is filed in person or by post (levels 1–2).
    Offline,
}

pub const MIN_LEVEL: i32 = 1;
pub const MAX_LEVEL: i32 = 4;

pub fn is_valid_level(level: i32) -> bool {
    (MIN_LEVEL..=MAX_LEVEL).contains(&level)
}

pub fn class_of(level: i32) -> OnlineClass {
    match level {
        4 => OnlineClass::EndToEnd,
        3 => OnlineClass::Partial,
        _ => OnlineClass::Offline,
    }
}

/// Whether the record offers an online channel at all.
pub fn has_online_channel(channels: &[Channel]) -> bool {
    channels.iter().any(|c| c.channel == "online")
}

/// The starting level (README, "Online levels"): no online channel → 2 (forms can be downloaded);
/// an online channel → 3; an online channel whose fee is known (0 or an amount) → 4, because a
/// known fee is what online payment needs.
pub fn derive_level(channels: &[Channel]) -> i32 {
    let online: Vec<&Channel> = channels.iter().filter(|c| c.channel == "online").collect();
    if online.is_empty() {
        2
    } else if online.iter().any(|c| c.fee_vnd.is_some()) {
        4
    } else {
        3
    }
}

/// What a service really offers, for checking the level an administrator asks for.
#[derive(Debug, Clone, Default)]
pub struct LevelFacts {
    /// A form is published for the service (the generated one does not count).
    pub published_form: bool,
    /// Implementing levels (commune, province, ministry) no routing rule routes.
    pub unrouted_levels: Vec<String>,
    /// The fee of the online channel: None when unknown or there is no online channel.
    pub online_fee: Option<i64>,
    /// The payment gateway is configured.
    pub online_payment: bool,
    /// Results are issued as sealed electronic documents.
    pub electronic_results: bool,
}

/// Why a service cannot have a level; each is a message key with its own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LevelProblem {
    NoPublishedForm,
    Unrouted(String),
    FeeUnknown,
    NoOnlinePayment,
    NoElectronicResults,
}

impl LevelProblem {
    pub fn message_key(&self) -> &'static str {
        match self {
            LevelProblem::NoPublishedForm => "level_no_form",
            LevelProblem::Unrouted(_) => "level_unrouted",
            LevelProblem::FeeUnknown => "level_fee_unknown",
            LevelProblem::NoOnlinePayment => "level_no_payment",
            LevelProblem::NoElectronicResults => "level_no_e_result",
        }
    }
}

/// Everything that keeps `level` from being true of the service (empty: allowed). Level 3
/// needs a published form and a route at every level the service is implemented at; level 4
/// also a known fee (0 counts), online payment when the fee is not 0, and electronic results.
pub fn check_level(level: i32, f: &LevelFacts) -> Vec<LevelProblem> {
    let mut out = Vec::new();
    if level >= 3 {
        if !f.published_form {
            out.push(LevelProblem::NoPublishedForm);
        }
        out.extend(
            f.unrouted_levels
                .iter()
                .cloned()
                .map(LevelProblem::Unrouted),
        );
    }
    if level >= 4 {
        match f.online_fee {
            None => out.push(LevelProblem::FeeUnknown),
            Some(fee) if fee > 0 && !f.online_payment => out.push(LevelProblem::NoOnlinePayment),
            Some(_) => {}
        }
        if !f.electronic_results {
            out.push(LevelProblem::NoElectronicResults);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_refused_with_every_reason() {
        let ready = LevelFacts {
            published_form: true,
            unrouted_levels: vec![],
            online_fee: Some(0),
            online_payment: false,
            electronic_results: true,
        };
        assert!(
            check_level(4, &ready).is_empty(),
            "a free service needs no payment"
        );
        assert!(check_level(2, &LevelFacts::default()).is_empty());
        let paid = LevelFacts {
            online_fee: Some(8_000),
            ..ready.clone()
        };
        assert_eq!(check_level(4, &paid), vec![LevelProblem::NoOnlinePayment]);
        assert!(check_level(3, &paid).is_empty());
        let bare = LevelFacts {
            unrouted_levels: vec!["province".into()],
            ..LevelFacts::default()
        };
        assert_eq!(
            check_level(4, &bare),
            vec![
                LevelProblem::NoPublishedForm,
                LevelProblem::Unrouted("province".into()),
                LevelProblem::FeeUnknown,
                LevelProblem::NoElectronicResults
            ]
        );
    }

    fn ch(channel: &str, fee: Option<i64>) -> Channel {
        Channel {
            channel: channel.into(),
            processing_time: Some(5.0),
            time_unit: Some("working_days".into()),
            time_unit_text: String::new(),
            fee_vnd: fee,
            fee_text: String::new(),
        }
    }

    #[test]
    fn derivation_rules() {
        assert_eq!(derive_level(&[ch("in_person", Some(0))]), 2);
        assert_eq!(derive_level(&[]), 2);
        assert_eq!(
            derive_level(&[ch("in_person", Some(0)), ch("online", None)]),
            3
        );
        assert_eq!(derive_level(&[ch("online", Some(0))]), 4);
        assert_eq!(
            derive_level(&[ch("online", None), ch("online", Some(50_000))]),
            4
        );
        // A known fee on another channel does not make online payment possible.
        assert_eq!(derive_level(&[ch("post", Some(10)), ch("online", None)]), 3);
    }

    #[test]
    fn classes() {
        assert_eq!(class_of(4), OnlineClass::EndToEnd);
        assert_eq!(class_of(3), OnlineClass::Partial);
        assert_eq!(class_of(2), OnlineClass::Offline);
        assert!(is_valid_level(1) && is_valid_level(4) && !is_valid_level(0) && !is_valid_level(5));
    }
}
