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

#[cfg(test)]
mod tests {
    use super::*;

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
