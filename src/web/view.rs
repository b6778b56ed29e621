//! Display strings computed per language before rendering (numbers, time limits, fees, level
//! badges), so templates stay simple and cached pages stay cheap to build.

use serde::Serialize;

use crate::catalogue::{ListItem, ServiceSummary, TimeLimit};
use crate::domain::level::{OnlineClass, class_of};
use crate::i18n::{Lang, Messages};
use crate::search::Segment;

/// 1234567 → "1.234.567" (vi) or "1,234,567" (en).
pub fn group_digits(n: i64, lang: Lang) -> String {
    let sep = if lang == Lang::Vi { '.' } else { ',' };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn format_vnd(n: i64, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("{} đ", group_digits(n, lang)),
        Lang::En => format!("VND {}", group_digits(n, lang)),
    }
}

fn format_amount(x: f64, lang: Lang) -> String {
    if x.fract() == 0.0 {
        group_digits(x as i64, lang)
    } else {
        let s = format!("{x}");
        if lang == Lang::Vi {
            s.replace('.', ",")
        } else {
            s
        }
    }
}

/// "5 ngày làm việc" / "5 working days"; a bare number when the record gives no unit.
pub fn time_text(m: &Messages, lang: Lang, amount: f64, unit: &str) -> String {
    let key = match unit {
        "working_days" => "unit_working_days",
        "days" => "unit_days",
        "hours" => "unit_hours",
        "months" => "unit_months",
        "years" => "unit_years",
        _ => "",
    };
    if key.is_empty() {
        format_amount(amount, lang)
    } else {
        format!("{} {}", format_amount(amount, lang), m.text(lang, key))
    }
}

pub fn limit_text(m: &Messages, lang: Lang, limit: &Option<TimeLimit>) -> String {
    match limit {
        Some(t) => time_text(m, lang, t.amount, &t.unit),
        None => m.text(lang, "not_stated").to_string(),
    }
}

pub fn fee_text(m: &Messages, lang: Lang, fee: Option<i64>) -> String {
    match fee {
        Some(0) => m.text(lang, "fee_free").to_string(),
        Some(n) => format_vnd(n, lang),
        None => m.text(lang, "fee_see_details").to_string(),
    }
}

pub fn class_key(level: i32) -> &'static str {
    match class_of(level) {
        OnlineClass::EndToEnd => "class_end_to_end",
        OnlineClass::Partial => "class_partial",
        OnlineClass::Offline => "class_offline",
    }
}

pub fn tier_key(tier: &str) -> &'static str {
    match tier {
        "ministry" => "tier_ministry",
        "province" => "tier_province",
        "commune" => "tier_commune",
        _ => "tier_other",
    }
}

pub fn channel_key(channel: &str) -> &'static str {
    match channel {
        "online" => "channel_online",
        "in_person" => "channel_in_person",
        "post" => "channel_post",
        _ => "channel_other",
    }
}

/// A result row as the list template shows it.
#[derive(Debug, Serialize)]
pub struct ServiceRow {
    pub code: String,
    pub name_segments: Vec<Segment>,
    pub field: String,
    pub field_slug: String,
    pub ministry: String,
    pub agency: String,
    pub level: i32,
    pub class_label: String,
    pub class: &'static str,
    pub tiers: Vec<String>,
    pub time: String,
    pub fee: String,
}

pub fn service_row(
    m: &Messages,
    lang: Lang,
    s: &ServiceSummary,
    name_segments: Vec<Segment>,
) -> ServiceRow {
    ServiceRow {
        code: s.code.clone(),
        name_segments,
        field: s.field.clone(),
        field_slug: s.field_slug.clone(),
        ministry: s.ministry.clone(),
        agency: s.implementing_agency.clone(),
        level: s.online_level,
        class_label: m.text(lang, class_key(s.online_level)).to_string(),
        class: class_key(s.online_level),
        tiers: s
            .implementing_levels
            .iter()
            .map(|t| m.text(lang, tier_key(t)).to_string())
            .collect(),
        time: limit_text(m, lang, &s.processing),
        fee: fee_text(m, lang, s.fee_vnd),
    }
}

pub fn list_rows(m: &Messages, lang: Lang, items: Vec<ListItem<'_>>) -> Vec<ServiceRow> {
    items
        .into_iter()
        .map(|it| service_row(m, lang, it.service, it.name_segments))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_grouped_per_language() {
        assert_eq!(group_digits(0, Lang::Vi), "0");
        assert_eq!(group_digits(999, Lang::Vi), "999");
        assert_eq!(group_digits(1000, Lang::Vi), "1.000");
        assert_eq!(group_digits(150_000_000, Lang::En), "150,000,000");
        assert_eq!(format_vnd(50_000, Lang::Vi), "50.000 đ");
        assert_eq!(format_amount(1.5, Lang::Vi), "1,5");
    }
}
