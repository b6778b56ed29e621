//! Display strings computed per language before rendering (numbers, time limits, fees, level
//! badges), so templates stay simple and cached pages stay cheap to build.

use crate::catalogue::{ListPage, TimeLimit};
use crate::domain::level::{OnlineClass, class_of};
use crate::i18n::{Lang, Messages};
use crate::search::Highlighter;

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

/// The `<option>`s of a filter select, escaped once per catalogue (the field list has 139
/// entries, and tera's per-value lookups and escaping of them cost more than a search); a page
/// only marks the chosen one.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// (value, `<option value="…"`, `>label</option>`)
    options: Vec<(String, String, String)>,
}

impl SelectOptions {
    pub fn new<'a>(options: impl IntoIterator<Item = (&'a str, String)>) -> SelectOptions {
        SelectOptions {
            options: options
                .into_iter()
                .map(|(value, label)| {
                    (
                        value.to_string(),
                        format!("<option value=\"{}\"", tera::escape_html(value)),
                        format!(">{}</option>", tera::escape_html(&label)),
                    )
                })
                .collect(),
        }
    }

    pub fn render(&self, selected: Option<&str>) -> String {
        let mut html =
            String::with_capacity(self.options.iter().map(|o| o.1.len() + o.2.len() + 9).sum());
        for (value, head, tail) in &self.options {
            html.push_str(head);
            if selected == Some(value.as_str()) {
                html.push_str(" selected");
            }
            html.push_str(tail);
        }
        html
    }
}

/// The result list of a catalogue or search page (`<li>` items of `ol.results`), rendered here
/// rather than looped in the template: a page has 20 rows of a dozen values each, and tera's
/// per-value lookups cost more than building the string (see benches/search_http.sh). Every
/// value is escaped exactly as the template's autoescape does (`tera::escape_html`).
pub fn result_rows_html(m: &Messages, lang: Lang, page: &ListPage<'_>) -> String {
    let highlighter = Highlighter::new(&page.terms);
    let (level_word, code_word) = (m.text(lang, "level"), m.text(lang, "code"));
    let (time_word, fee_word, tier_word) = (
        m.text(lang, "processing_time"),
        m.text(lang, "fee"),
        m.text(lang, "tier"),
    );
    let mut h = String::with_capacity(page.items.len() * 900);
    for it in &page.items {
        let s = it.service;
        let class = class_key(s.online_level);
        h.push_str("<li class=\"result\"><h3 class=\"result-title\"><a class=\"result-link\" href=\"/services/");
        push_escaped(&mut h, &s.code);
        h.push_str("\">");
        for seg in highlighter.highlight_prepared(&s.name, it.name_words) {
            if seg.mark {
                h.push_str("<mark>");
                push_escaped(&mut h, &seg.text);
                h.push_str("</mark>");
            } else {
                push_escaped(&mut h, &seg.text);
            }
        }
        h.push_str("</a></h3><p class=\"meta\"><span class=\"badge ");
        h.push_str(class);
        h.push_str("\">");
        push_escaped(&mut h, level_word);
        h.push(' ');
        h.push_str(&s.online_level.to_string());
        h.push_str(" · ");
        push_escaped(&mut h, m.text(lang, class));
        h.push_str("</span><span>");
        push_escaped(&mut h, code_word);
        h.push_str(": ");
        push_escaped(&mut h, &s.code);
        h.push_str("</span><span><a href=\"/services?field=");
        push_escaped(&mut h, &s.field_slug);
        h.push_str("\">");
        push_escaped(&mut h, &s.field);
        h.push_str("</a></span></p><dl class=\"facts\"><div><dt>");
        push_escaped(&mut h, time_word);
        h.push_str("</dt><dd>");
        push_escaped(&mut h, &limit_text(m, lang, &s.processing));
        h.push_str("</dd></div><div><dt>");
        push_escaped(&mut h, fee_word);
        h.push_str("</dt><dd>");
        push_escaped(&mut h, &fee_text(m, lang, s.fee_vnd));
        h.push_str("</dd></div>");
        if !s.implementing_levels.is_empty() {
            h.push_str("<div><dt>");
            push_escaped(&mut h, tier_word);
            h.push_str("</dt><dd>");
            for (i, t) in s.implementing_levels.iter().enumerate() {
                if i > 0 {
                    h.push_str(", ");
                }
                push_escaped(&mut h, m.text(lang, tier_key(t)));
            }
            h.push_str("</dd></div>");
        }
        h.push_str("</dl></li>");
    }
    h
}

/// Appends `text` escaped exactly as the templates' autoescape (`tera::escape_html`) does.
pub fn push_escaped(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'', '/']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => "&#x2F;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
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

    #[test]
    fn select_options_escape_and_mark_the_chosen_one() {
        let html = SelectOptions::new([("a&b", "A <1>".to_string()), ("c", "C".to_string())])
            .render(Some("c"));
        assert_eq!(
            html,
            "<option value=\"a&amp;b\">A &lt;1&gt;</option><option value=\"c\" selected>C</option>"
        );
    }

    #[test]
    fn push_escaped_is_teras_escape() {
        for text in [
            "",
            "plain",
            "Đăng ký <b>&</b> \"x\" 'y' a/b",
            "/////",
            "&&<<",
        ] {
            let mut out = String::from("prefix");
            push_escaped(&mut out, text);
            assert_eq!(out, format!("prefix{}", tera::escape_html(text)), "{text}");
        }
    }
}
