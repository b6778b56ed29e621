//! Form definitions to page models: each field with its label, help, value, error and options in
//! the visitor's language (the templates only lay them out), and the error texts.

use serde::Serialize;

use crate::domain::form_schema::{
    Answers, Field, FieldError, FieldKind, FormDefinition, Problem, parse_date,
};
use crate::i18n::Lang;
use crate::web::AppState;

#[derive(Debug, Serialize)]
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct FieldView {
    pub key: String,
    pub kind: &'static str,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
    pub options: Vec<OptionView>,
    /// "Answer only if …" for a field shown under a condition.
    pub condition: Option<String>,
    pub input_type: &'static str,
    pub inputmode: &'static str,
    pub autocomplete: &'static str,
    pub max_length: Option<usize>,
    /// Address fields: the chosen province, its wards, and the street line.
    pub provinces: Vec<OptionView>,
    pub wards: Vec<OptionView>,
    pub street: String,
}

/// What the page shows of a value: dates as people write them.
fn shown_value(f: &Field, v: &str) -> String {
    // A value longer than any field allows is cut when shown again (a 1 MB paste is refused,
    // not echoed back in full).
    let v: String = v.chars().take(f.max_len().max(200) + 100).collect();
    if f.kind == FieldKind::Date
        && let Some(d) = parse_date(&v)
    {
        return d.format("%d/%m/%Y").to_string();
    }
    v
}

fn kind_name(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "text",
        FieldKind::LongText => "long_text",
        FieldKind::Number => "number",
        FieldKind::Money => "money",
        FieldKind::Date => "date",
        FieldKind::Select => "select",
        FieldKind::Radio => "radio",
        FieldKind::Checkbox => "checkbox",
        FieldKind::Email => "email",
        FieldKind::Phone => "phone",
        FieldKind::Cccd => "cccd",
        FieldKind::Address => "address",
    }
}

/// The error text for a problem with a field.
pub fn problem_text(
    state: &AppState,
    lang: Lang,
    label: &str,
    f: Option<&Field>,
    p: &Problem,
) -> String {
    let m = |k: &str| state.messages.text(lang, k).to_string();
    let label_lower = label.trim_end_matches(['*', ':']).trim();
    let fmt_n = |n: f64| {
        if n.fract() == 0.0 {
            super::super::view::group_digits(n as i64, lang)
        } else {
            n.to_string()
        }
    };
    let choose = f.is_some_and(|f| matches!(f.kind, FieldKind::Select | FieldKind::Radio));
    let (key, n): (&str, String) = match p {
        Problem::Required if choose => ("form_err_choose", String::new()),
        Problem::Required => ("form_err_required", String::new()),
        Problem::MustAccept => ("form_err_must_accept", String::new()),
        Problem::TooShort { min } => ("form_err_too_short", min.to_string()),
        Problem::TooLong { max } => ("form_err_too_long", max.to_string()),
        Problem::ControlCharacters => ("form_err_control", String::new()),
        Problem::Pattern => ("form_err_pattern", String::new()),
        Problem::NotNumber => ("form_err_not_number", String::new()),
        Problem::NotWholeNumber => ("form_err_not_whole", String::new()),
        Problem::TooSmall { min } => ("form_err_too_small", fmt_n(*min)),
        Problem::TooLarge { max } => ("form_err_too_large", fmt_n(*max)),
        Problem::NotDate => ("form_err_not_date", String::new()),
        Problem::InFuture => ("form_err_in_future", String::new()),
        Problem::InPast => ("form_err_in_past", String::new()),
        Problem::NotOption => ("form_err_not_option", String::new()),
        Problem::NotEmail => ("form_err_not_email", String::new()),
        Problem::NotPhone => ("form_err_not_phone", String::new()),
        Problem::NotCccd => ("form_err_not_cccd", String::new()),
        Problem::NoProvince => ("form_err_no_province", String::new()),
        Problem::NoWard => ("form_err_no_ward", String::new()),
        Problem::UnknownPlace => ("form_err_unknown_place", String::new()),
    };
    let hint = f
        .and_then(|f| f.pattern_hint.as_ref())
        .map(|h| h.get(lang).to_string())
        .unwrap_or_else(|| m("form_pattern_default"));
    m(key)
        .replace("{label}", label_lower)
        .replace("{n}", &n)
        .replace("{hint}", &hint)
}

/// One error of the summary: the field it links to and the text.
#[derive(Debug, Serialize)]
pub struct ErrorLink {
    pub key: String,
    pub text: String,
}

/// The error texts of `errors` against `def`, in order.
pub fn error_links(
    state: &AppState,
    lang: Lang,
    def: &FormDefinition,
    errors: &[FieldError],
) -> Vec<ErrorLink> {
    errors
        .iter()
        .map(|e| {
            let f = def.field(&e.key);
            let label = f.map(|f| f.label.get(lang)).unwrap_or(&e.key);
            ErrorLink {
                key: match f.map(|f| f.kind) {
                    Some(FieldKind::Address) => format!("{}-province", e.key),
                    Some(FieldKind::Radio) => format!("{}-0", e.key),
                    _ => e.key.clone(),
                },
                text: problem_text(state, lang, label, f, &e.problem),
            }
        })
        .collect()
}

/// The page models of `fields`, with `answers` and `errors`.
pub fn views(
    state: &AppState,
    lang: Lang,
    def: &FormDefinition,
    fields: &[Field],
    answers: &Answers,
    errors: &[ErrorLink],
    field_errors: &[FieldError],
) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| {
            let value = answers
                .get(&f.key)
                .map(|v| shown_value(f, v))
                .unwrap_or_default();
            let error = field_errors
                .iter()
                .position(|e| e.key == f.key)
                .and_then(|i| errors.get(i))
                .map(|e| e.text.clone());
            let options = f
                .options
                .iter()
                .map(|o| OptionView {
                    selected: o.value == value,
                    value: o.value.clone(),
                    label: o.label.get(lang).to_string(),
                })
                .collect();
            let condition = f.when.as_ref().and_then(|c| {
                let on = def.field(&c.field)?;
                let wanted: Vec<String> = c
                    .equals
                    .iter()
                    .chain(c.one_of.iter())
                    .map(|v| {
                        on.options
                            .iter()
                            .find(|o| &o.value == v)
                            .map(|o| o.label.get(lang).to_string())
                            .unwrap_or_else(|| {
                                if v == "true" {
                                    state.messages.text(lang, "form_ticked").to_string()
                                } else {
                                    v.clone()
                                }
                            })
                    })
                    .collect();
                let text = if c.filled {
                    state
                        .messages
                        .text(lang, "form_only_if_filled")
                        .replace("{field}", on.label.get(lang))
                } else {
                    state
                        .messages
                        .text(lang, "form_only_if")
                        .replace("{field}", on.label.get(lang))
                        .replace("{value}", &wanted.join(" / "))
                };
                Some(text)
            });
            let (province, ward, street) = if f.kind == FieldKind::Address {
                let get = |p: &str| {
                    answers
                        .get(&format!("{}.{p}", f.key))
                        .cloned()
                        .unwrap_or_default()
                };
                (get("province"), get("ward"), get("street"))
            } else {
                Default::default()
            };
            let provinces = if f.kind == FieldKind::Address {
                state
                    .places
                    .provinces()
                    .iter()
                    .map(|p| OptionView {
                        selected: p.code == province,
                        value: p.code.clone(),
                        label: p.name.clone(),
                    })
                    .collect()
            } else {
                vec![]
            };
            let wards = if f.kind == FieldKind::Address && !province.is_empty() {
                state
                    .places
                    .wards_of(&province)
                    .iter()
                    .map(|w| OptionView {
                        selected: w.code == ward,
                        value: w.code.clone(),
                        label: w.name.clone(),
                    })
                    .collect()
            } else {
                vec![]
            };
            let (input_type, inputmode, autocomplete) = match f.kind {
                FieldKind::Email => ("email", "email", "email"),
                FieldKind::Phone => ("tel", "tel", "tel"),
                FieldKind::Number | FieldKind::Money | FieldKind::Cccd => {
                    ("text", "numeric", "off")
                }
                FieldKind::Date => ("text", "numeric", "off"),
                _ => ("text", "text", "off"),
            };
            let max_length = match f.kind {
                FieldKind::Text | FieldKind::LongText => Some(f.max_len()),
                _ => None,
            };
            FieldView {
                key: f.key.clone(),
                kind: kind_name(f.kind),
                label: f.label.get(lang).to_string(),
                help: f.help.as_ref().map(|h| h.get(lang).to_string()),
                required: f.required,
                value,
                error,
                options,
                condition,
                input_type,
                inputmode,
                autocomplete,
                max_length,
                provinces,
                wards,
                street,
            }
        })
        .collect()
}

/// The posted fields of a form page as answers: the page's own keys only (nothing else of the
/// request is stored), the last value when a key repeats.
pub fn posted_answers(posted: &[(String, String)], fields: &[Field]) -> Answers {
    let mut out = Answers::new();
    for f in fields {
        for k in f.keys() {
            let v = posted
                .iter()
                .rev()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            out.insert(k, v);
        }
    }
    out
}
