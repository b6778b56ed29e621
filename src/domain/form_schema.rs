//! Application forms as data: the definition (sections of typed fields with rules, help and
//! conditions, and the documents to upload), its check when loaded, and the pure, complete
//! validation of a citizen's answers (every error at once). The JSON shape is documented in
//! `docs/form-schema.md`; definitions live in `data/forms/` and in the `forms` table.
//!
//! Answers are a flat map from field key to the text the person typed; an address field `a`
//! has three keys, `a.province`, `a.ward` and `a.street`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

pub const SCHEMA_VERSION: u32 = 1;
/// Lengths when a definition states none: a line, and a paragraph.
pub const DEFAULT_TEXT_MAX: usize = 200;
pub const DEFAULT_LONG_TEXT_MAX: usize = 5000;
/// Files per document slot when a definition states none.
pub const DEFAULT_MAX_FILES: u32 = 5;

/// The answers to a form, as typed (see the module comment).
pub type Answers = BTreeMap<String, String>;

/// A text in Vietnamese and, optionally, English (which falls back to Vietnamese). A plain
/// string is Vietnamese only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Localized {
        vi: String,
        #[serde(default)]
        en: String,
    },
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Localized { vi, en } => match lang {
                Lang::En if !en.trim().is_empty() => en,
                _ => vi,
            },
        }
    }

    pub fn vi(&self) -> &str {
        self.get(Lang::Vi)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    /// The schema version this definition is written against (`SCHEMA_VERSION`).
    pub schema: u32,
    /// The service code it belongs to (`1.001193`).
    pub service: String,
    /// The form's own version; a dossier keeps the version it was filed under.
    pub version: u32,
    pub title: Text,
    /// The official form it follows (legal source), shown to the citizen.
    #[serde(default)]
    pub source: String,
    pub sections: Vec<Section>,
    #[serde(default)]
    pub documents: Vec<DocumentSlot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Text>,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    LongText,
    Number,
    Money,
    Date,
    Select,
    Radio,
    Checkbox,
    Email,
    Phone,
    Cccd,
    Address,
}

/// What the portal already knows and fills in (the citizen can change it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    FullName,
    DateOfBirth,
    Cccd,
    Phone,
    Email,
    /// The profile's province, ward and street address (address fields).
    Address,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// A regular expression the whole (trimmed) value must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Says, in the error, what the pattern wants ("4 chữ số").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_hint: Option<Text>,
    /// Bounds of a number or money amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Numbers: whole numbers only.
    #[serde(default)]
    pub integer: bool,
    /// Dates: not after today (births, deaths).
    #[serde(default)]
    pub past: bool,
    /// Dates: not before today.
    #[serde(default)]
    pub future: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// The value a new form starts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: Text,
}

/// Shows a field (or asks for a document) only when an earlier field has one of some values
/// (`equals`, `one_of`) or any value (`filled`). A checkbox's value is `true` when ticked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub filled: bool,
}

impl Condition {
    fn holds(&self, value: &str) -> bool {
        let value = value.trim();
        if self.filled {
            return !value.is_empty();
        }
        self.equals.as_deref() == Some(value) || self.one_of.iter().any(|v| v == value)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSlot {
    pub key: String,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    #[serde(default = "default_max_files")]
    pub max_files: u32,
}

fn default_max_files() -> u32 {
    DEFAULT_MAX_FILES
}

impl Field {
    pub fn max_len(&self) -> usize {
        self.max_length.unwrap_or(match self.kind {
            FieldKind::LongText => DEFAULT_LONG_TEXT_MAX,
            _ => DEFAULT_TEXT_MAX,
        })
    }

    /// The answer keys the field owns.
    pub fn keys(&self) -> Vec<String> {
        match self.kind {
            FieldKind::Address => ["province", "ward", "street"]
                .iter()
                .map(|p| format!("{}.{p}", self.key))
                .collect(),
            _ => vec![self.key.clone()],
        }
    }
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 40
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl FormDefinition {
    /// Parses and checks a definition; every problem is listed (for the administrator who
    /// imports one).
    pub fn from_json(json: &str) -> Result<FormDefinition, Vec<String>> {
        let def: FormDefinition = serde_json::from_str(json).map_err(|e| vec![e.to_string()])?;
        def.check()?;
        Ok(def)
    }

    /// Every field, in order.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields().find(|f| f.key == key)
    }

    /// The definition's own consistency: keys, options, bounds, patterns, conditions that name
    /// an earlier field (and a value it can take).
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.schema != SCHEMA_VERSION {
            errors.push(format!(
                "schema: expected {SCHEMA_VERSION}, found {}",
                self.schema
            ));
        }
        if self.version == 0 {
            errors.push("version: must be 1 or more".into());
        }
        if self.title.vi().trim().is_empty() {
            errors.push("title: empty".into());
        }
        if self.sections.is_empty() {
            errors.push("sections: at least one section is needed".into());
        }
        let mut keys = HashSet::new();
        let mut earlier: HashMap<&str, &Field> = HashMap::new();
        let check_condition =
            |at: &str, c: &Condition, earlier: &HashMap<&str, &Field>, errors: &mut Vec<String>| {
                let Some(f) = earlier.get(c.field.as_str()) else {
                    errors.push(format!(
                        "{at}: condition names '{}', which is not an earlier field",
                        c.field
                    ));
                    return;
                };
                let wanted: Vec<&str> = c
                    .equals
                    .iter()
                    .map(String::as_str)
                    .chain(c.one_of.iter().map(String::as_str))
                    .collect();
                if wanted.is_empty() && !c.filled {
                    errors.push(format!(
                        "{at}: condition needs 'equals', 'one_of' or 'filled'"
                    ));
                }
                let allowed: Vec<&str> = match f.kind {
                    FieldKind::Select | FieldKind::Radio => {
                        f.options.iter().map(|o| o.value.as_str()).collect()
                    }
                    FieldKind::Checkbox => vec!["true"],
                    _ => return,
                };
                for w in wanted {
                    if !allowed.contains(&w) {
                        errors.push(format!(
                            "{at}: '{}' cannot be '{w}' (allowed: {})",
                            c.field,
                            allowed.join(", ")
                        ));
                    }
                }
            };
        // `applicant` is the portal's own first section (contact details for the dossier).
        let builtin = matches!(self.service.as_str(), "applicant" | "applicant_counter");
        let mut section_keys: HashSet<&str> = HashSet::new();
        if !builtin {
            section_keys.insert("applicant");
        }
        for s in &self.sections {
            if !valid_key(&s.key) || !section_keys.insert(s.key.as_str()) {
                errors.push(format!(
                    "section '{}': key must be unique, a-z 0-9 _",
                    s.key
                ));
            }
            if s.fields.is_empty() {
                errors.push(format!("section '{}': no fields", s.key));
            }
            for f in &s.fields {
                let at = format!("field '{}'", f.key);
                if !valid_key(&f.key) {
                    errors.push(format!(
                        "{at}: key must be a-z 0-9 _, starting with a letter"
                    ));
                }
                if !keys.insert(f.key.as_str()) {
                    errors.push(format!("{at}: key used twice"));
                }
                if !builtin && f.key.starts_with("applicant_") {
                    errors.push(format!(
                        "{at}: keys starting applicant_ are the portal's own"
                    ));
                }
                if f.label.vi().trim().is_empty() {
                    errors.push(format!("{at}: empty label"));
                }
                let has_options = matches!(f.kind, FieldKind::Select | FieldKind::Radio);
                if has_options && f.options.is_empty() {
                    errors.push(format!("{at}: a select or radio needs options"));
                }
                if !has_options && !f.options.is_empty() {
                    errors.push(format!("{at}: only select and radio fields take options"));
                }
                let mut values = HashSet::new();
                for o in &f.options {
                    if o.value.trim().is_empty() || !values.insert(o.value.as_str()) {
                        errors.push(format!("{at}: option values must be unique and not empty"));
                    }
                }
                if let (Some(a), Some(b)) = (f.min, f.max)
                    && a > b
                {
                    errors.push(format!("{at}: min is above max"));
                }
                if let (Some(a), Some(b)) = (f.min_length, f.max_length)
                    && a > b
                {
                    errors.push(format!("{at}: min_length is above max_length"));
                }
                if f.max_len() > 100_000 {
                    errors.push(format!("{at}: max_length is above 100000"));
                }
                if f.past && f.future {
                    errors.push(format!("{at}: a date cannot be both past and future"));
                }
                if let Some(p) = &f.pattern
                    && let Err(e) = regex::Regex::new(&format!("^(?:{p})$"))
                {
                    errors.push(format!("{at}: pattern does not compile: {e}"));
                }
                if let Some(c) = &f.when {
                    check_condition(&at, c, &earlier, &mut errors);
                }
                earlier.insert(f.key.as_str(), f);
            }
        }
        for d in &self.documents {
            let at = format!("document '{}'", d.key);
            if !valid_key(&d.key) || !keys.insert(d.key.as_str()) {
                errors.push(format!("{at}: key must be unique, a-z 0-9 _"));
            }
            if d.label.vi().trim().is_empty() {
                errors.push(format!("{at}: empty label"));
            }
            if d.max_files == 0 || d.max_files > 20 {
                errors.push(format!("{at}: max_files must be 1-20"));
            }
            if let Some(c) = &d.when {
                check_condition(&at, c, &earlier, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Whether a field is shown for these answers: its condition holds and the field the
    /// condition names is itself shown (conditions only name earlier fields, so this ends).
    pub fn is_shown(&self, field: &Field, answers: &Answers) -> bool {
        self.condition_holds(field.when.as_ref(), answers, 0)
    }

    fn condition_holds(&self, c: Option<&Condition>, answers: &Answers, depth: usize) -> bool {
        let Some(c) = c else { return true };
        if depth > 64 {
            return false;
        }
        let Some(f) = self.field(&c.field) else {
            return false;
        };
        self.condition_holds(f.when.as_ref(), answers, depth + 1)
            && c.holds(answers.get(&c.field).map(String::as_str).unwrap_or(""))
    }

    /// The document slots asked for with these answers.
    pub fn documents_shown<'a>(
        &'a self,
        answers: &'a Answers,
    ) -> impl Iterator<Item = &'a DocumentSlot> {
        self.documents
            .iter()
            .filter(move |d| self.condition_holds(d.when.as_ref(), answers, 0))
    }
}

/// What a check needs from outside (passed in, so validation stays pure).
pub struct Context<'a> {
    /// Today, in Vietnam.
    pub today: NaiveDate,
    /// Whether a province code exists, and, given a ward, whether the ward is in it.
    pub place_exists: &'a dyn Fn(&str, Option<&str>) -> bool,
}

/// What is wrong with one answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Required,
    /// A required checkbox (a declaration) not ticked.
    MustAccept,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// Tabs, escape codes and the like in a one-line field.
    ControlCharacters,
    Pattern,
    NotNumber,
    NotWholeNumber,
    TooSmall {
        min: f64,
    },
    TooLarge {
        max: f64,
    },
    NotDate,
    InFuture,
    InPast,
    NotOption,
    NotEmail,
    NotPhone,
    NotCccd,
    NoProvince,
    NoWard,
    UnknownPlace,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field's key (for an address, the field, not the part).
    pub key: String,
    #[serde(flatten)]
    pub problem: Problem,
}

/// Reads a date as people type it (`31/12/2025`, `31-12-2025`) or as a date input sends it
/// (`2025-12-31`).
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d-%m-%Y"))
        .ok()
        .filter(|d| (1850..=2200).contains(&chrono::Datelike::year(d)))
}

/// Reads an amount of đồng as people type it: `1.500.000`, `1,500,000`, `1 500 000`, `1500000đ`.
pub fn parse_money(raw: &str) -> Option<i64> {
    let s = raw
        .trim()
        .trim_end_matches(['đ', 'Đ'])
        .trim_end_matches("VND")
        .trim();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || ".,  ".contains(c)) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    digits.parse().ok()
}

/// Reads a number: a comma is accepted as the decimal mark.
fn parse_number(raw: &str) -> Option<f64> {
    let v: f64 = raw.trim().replace(',', ".").parse().ok()?;
    v.is_finite().then_some(v)
}

fn check_cccd(raw: &str, ctx: &Context) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .collect();
    let ok = digits.len() == 12
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('0')
        && (ctx.place_exists)(&digits[1..3], None);
    ok.then_some(digits)
}

/// Checks one field's answer; returns the normalised value(s) to keep, or the problem.
fn check_field(
    f: &Field,
    answers: &Answers,
    ctx: &Context,
) -> Result<Vec<(String, String)>, Problem> {
    let get = |k: &str| answers.get(k).map(|v| v.trim()).unwrap_or("");
    if f.kind == FieldKind::Address {
        let (p, w, s) = (
            get(&format!("{}.province", f.key)),
            get(&format!("{}.ward", f.key)),
            get(&format!("{}.street", f.key)),
        );
        if p.is_empty() && w.is_empty() && s.is_empty() {
            return if f.required {
                Err(Problem::Required)
            } else {
                Ok(vec![])
            };
        }
        if p.is_empty() {
            return Err(Problem::NoProvince);
        }
        if w.is_empty() {
            return Err(Problem::NoWard);
        }
        if !(ctx.place_exists)(p, Some(w)) {
            return Err(Problem::UnknownPlace);
        }
        if s.chars().any(char::is_control) {
            return Err(Problem::ControlCharacters);
        }
        let street = s.split_whitespace().collect::<Vec<_>>().join(" ");
        let max = f.max_len();
        if street.chars().count() > max {
            return Err(Problem::TooLong { max });
        }
        return Ok(f
            .keys()
            .into_iter()
            .zip([p.to_string(), w.to_string(), street])
            .collect());
    }
    let raw = get(&f.key);
    if raw.is_empty() || (f.kind == FieldKind::Checkbox && raw != "true") {
        return match (f.required, f.kind) {
            (true, FieldKind::Checkbox) => Err(Problem::MustAccept),
            (true, _) => Err(Problem::Required),
            _ => Ok(vec![]),
        };
    }
    let one = |v: String| Ok(vec![(f.key.clone(), v)]);
    match f.kind {
        FieldKind::Text | FieldKind::LongText => {
            let value = if f.kind == FieldKind::Text {
                if raw.chars().any(char::is_control) {
                    return Err(Problem::ControlCharacters);
                }
                raw.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                if raw
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
                {
                    return Err(Problem::ControlCharacters);
                }
                raw.replace("\r\n", "\n")
            };
            let n = value.chars().count();
            let max = f.max_len();
            if n > max {
                return Err(Problem::TooLong { max });
            }
            if let Some(min) = f.min_length
                && n < min
            {
                return Err(Problem::TooShort { min });
            }
            if let Some(p) = &f.pattern {
                let re = regex::Regex::new(&format!("^(?:{p})$")).map_err(|_| Problem::Pattern)?;
                if !re.is_match(&value) {
                    return Err(Problem::Pattern);
                }
            }
            one(value)
        }
        FieldKind::Number | FieldKind::Money => {
            let v = if f.kind == FieldKind::Money {
                parse_money(raw)
                    .map(|m| m as f64)
                    .ok_or(Problem::NotNumber)?
            } else {
                parse_number(raw).ok_or(Problem::NotNumber)?
            };
            if f.integer && v.fract() != 0.0 {
                return Err(Problem::NotWholeNumber);
            }
            if let Some(min) = f.min
                && v < min
            {
                return Err(Problem::TooSmall { min });
            }
            if let Some(max) = f.max
                && v > max
            {
                return Err(Problem::TooLarge { max });
            }
            one(if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            })
        }
        FieldKind::Date => {
            let d = parse_date(raw).ok_or(Problem::NotDate)?;
            if f.past && d > ctx.today {
                return Err(Problem::InFuture);
            }
            if f.future && d < ctx.today {
                return Err(Problem::InPast);
            }
            one(d.format("%Y-%m-%d").to_string())
        }
        FieldKind::Select | FieldKind::Radio => {
            if f.options.iter().any(|o| o.value == raw) {
                one(raw.to_string())
            } else {
                Err(Problem::NotOption)
            }
        }
        FieldKind::Checkbox => one("true".into()),
        FieldKind::Email => crate::domain::account::parse_email(raw)
            .ok_or(Problem::NotEmail)
            .and_then(one),
        FieldKind::Phone => crate::domain::account::parse_phone(raw)
            .ok_or(Problem::NotPhone)
            .and_then(one),
        FieldKind::Cccd => check_cccd(raw, ctx).ok_or(Problem::NotCccd).and_then(one),
        FieldKind::Address => Ok(vec![]),
    }
}

/// Checks the shown fields among `fields`: the clean answers, and every problem.
fn check_fields<'a>(
    def: &FormDefinition,
    fields: impl Iterator<Item = &'a Field>,
    answers: &Answers,
    ctx: &Context,
) -> (Answers, Vec<FieldError>) {
    let mut clean = Answers::new();
    let mut errors = Vec::new();
    for f in fields.filter(|f| def.is_shown(f, answers)) {
        match check_field(f, answers, ctx) {
            Ok(values) => clean.extend(values),
            Err(problem) => errors.push(FieldError {
                key: f.key.clone(),
                problem,
            }),
        }
    }
    (clean, errors)
}

/// Every problem in one section's answers.
pub fn validate_section(
    def: &FormDefinition,
    section: &Section,
    answers: &Answers,
    ctx: &Context,
) -> Vec<FieldError> {
    check_fields(def, section.fields.iter(), answers, ctx).1
}

/// One section: its clean answers (shown fields only, normalised) or every problem.
pub fn clean_section(
    def: &FormDefinition,
    section: &Section,
    answers: &Answers,
    ctx: &Context,
) -> Result<Answers, Vec<FieldError>> {
    let (clean, errors) = check_fields(def, section.fields.iter(), answers, ctx);
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

/// The whole form: the clean answers (shown fields only, normalised) or every problem.
pub fn validate(
    def: &FormDefinition,
    answers: &Answers,
    ctx: &Context,
) -> Result<Answers, Vec<FieldError>> {
    let (clean, errors) = check_fields(def, def.fields(), answers, ctx);
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

/// Where a section of a draft stands, for the task list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    NotStarted,
    InProgress,
    Completed,
}

pub fn section_progress(
    def: &FormDefinition,
    section: &Section,
    answers: &Answers,
    ctx: &Context,
    visited: bool,
) -> Progress {
    if !visited {
        return Progress::NotStarted;
    }
    if validate_section(def, section, answers, ctx).is_empty() {
        Progress::Completed
    } else {
        Progress::InProgress
    }
}

/// The answers a new form starts with: defaults, then what the portal knows of the person.
pub fn initial_answers(def: &FormDefinition, known: &dyn Fn(Prefill) -> Vec<String>) -> Answers {
    let mut answers = Answers::new();
    for f in def.fields() {
        if let Some(d) = &f.default {
            answers.insert(f.key.clone(), d.clone());
        }
        if let Some(p) = f.prefill {
            let values = known(p);
            for (k, v) in f.keys().into_iter().zip(values) {
                if !v.is_empty() {
                    answers.insert(k, v);
                }
            }
        }
    }
    answers
}

/// One row of a procedure's documents list, as the catalogue has it.
#[derive(Debug, Clone)]
pub struct RecordDocument<'a> {
    pub name: &'a str,
    pub case_name: &'a str,
    pub originals: Option<i32>,
    pub copies: Option<i32>,
}

/// A document name without the source's list markers ("- ", "+ ", "(1) ", "a) ").
fn clean_document_name(name: &str) -> String {
    let mut s = name.trim();
    loop {
        let before = s;
        s = s.trim_start_matches(['-', '+', '*', '•', '–']).trim_start();
        if let Some(rest) = s.strip_prefix('(')
            && let Some(end) = rest.find(')')
            && end <= 3
        {
            s = rest[end + 1..].trim_start();
        }
        if let Some(end) = s.find(')')
            && end <= 2
            && s[..end].chars().all(|c| c.is_ascii_alphanumeric())
        {
            s = s[end + 1..].trim_start();
        }
        if s == before {
            break;
        }
    }
    let name: String = s.chars().take(300).collect();
    if name.is_empty() {
        "Giấy tờ".into()
    } else {
        name
    }
}

/// Whether the record makes a document required: it has a quantity and does not say it is
/// needed only in some situation.
fn record_requires(d: &RecordDocument) -> bool {
    let lower = d.name.to_lowercase();
    let conditional = ["nếu có", "trường hợp", "(nếu", "đối với"]
        .iter()
        .any(|w| lower.contains(w));
    d.originals.unwrap_or(0) + d.copies.unwrap_or(0) > 0 && !conditional
}

/// The form of a level 3–4 service that has no official definition: what the citizen asks
/// for, the case that applies when the record has several, and one upload per document of the
/// record (grouped by case, required where the record says so).
pub fn default_form(
    service_code: &str,
    service_name: &str,
    docs: &[RecordDocument],
) -> FormDefinition {
    let mut cases: Vec<&str> = Vec::new();
    for d in docs {
        let c = d.case_name.trim();
        if !c.is_empty() && !cases.contains(&c) {
            cases.push(c);
        }
    }
    let mut fields = vec![Field {
        key: "request".into(),
        kind: FieldKind::LongText,
        label: Text::Localized {
            vi: "Nội dung đề nghị".into(),
            en: "What you are asking for".into(),
        },
        help: Some(Text::Localized {
            vi: "Nêu ngắn gọn việc bạn đề nghị cơ quan giải quyết.".into(),
            en: "Say briefly what you ask the office to do.".into(),
        }),
        required: true,
        min_length: None,
        max_length: Some(2000),
        pattern: None,
        pattern_hint: None,
        min: None,
        max: None,
        integer: false,
        past: false,
        future: false,
        options: vec![],
        when: None,
        prefill: None,
        default: None,
    }];
    if cases.len() > 1 {
        fields.push(Field {
            key: "case".into(),
            kind: FieldKind::Radio,
            label: Text::Localized {
                vi: "Trường hợp của bạn".into(),
                en: "Your case".into(),
            },
            help: Some(Text::Localized {
                vi: "Giấy tờ cần nộp tùy theo trường hợp.".into(),
                en: "The documents to upload depend on the case.".into(),
            }),
            required: true,
            options: cases
                .iter()
                .enumerate()
                .map(|(i, c)| Choice {
                    value: format!("c{}", i + 1),
                    label: Text::Plain(c.chars().take(300).collect()),
                })
                .collect(),
            ..fields[0].clone()
        });
        if let Some(case) = fields.last_mut() {
            case.max_length = None;
        }
    }
    let documents = docs
        .iter()
        .filter(|d| d.originals.is_some() || d.copies.is_some())
        .enumerate()
        .map(|(i, d)| {
            let case = d.case_name.trim();
            let when = (cases.len() > 1 && !case.is_empty()).then(|| Condition {
                field: "case".into(),
                equals: cases
                    .iter()
                    .position(|c| *c == case)
                    .map(|p| format!("c{}", p + 1)),
                one_of: vec![],
                filled: false,
            });
            DocumentSlot {
                key: format!("d{}", i + 1),
                label: Text::Plain(clean_document_name(d.name)),
                help: None,
                required: record_requires(d),
                when,
                max_files: DEFAULT_MAX_FILES,
            }
        })
        .collect();
    FormDefinition {
        schema: SCHEMA_VERSION,
        service: service_code.to_string(),
        version: 1,
        title: Text::Plain(service_name.to_string()),
        source: String::new(),
        sections: vec![Section {
            key: "request".into(),
            title: Text::Localized {
                vi: "Thông tin đề nghị".into(),
                en: "Your request".into(),
            },
            intro: None,
            fields,
        }],
        documents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_places(p: &str, w: Option<&str>) -> bool {
        matches!((p, w), ("01", None) | ("79", None) | ("01", Some("00004")))
    }

    fn ctx() -> Context<'static> {
        Context {
            today: NaiveDate::from_ymd_opt(2026, 11, 30).expect("date"),
            place_exists: &ctx_places,
        }
    }

    const SAMPLE: &str = r#"{
      "schema": 1, "service": "9.999999", "version": 1, "title": "Mẫu thử",
      "sections": [
        {"key": "a", "title": {"vi": "Phần A", "en": "Part A"}, "fields": [
          {"key": "name", "type": "text", "label": "Họ tên", "required": true, "max_length": 10},
          {"key": "born", "type": "date", "label": "Ngày sinh", "required": true, "past": true},
          {"key": "kind", "type": "radio", "label": "Loại", "required": true,
           "options": [{"value": "x", "label": "X"}, {"value": "y", "label": "Y"}]},
          {"key": "detail", "type": "text", "label": "Chi tiết", "required": true, "when": {"field": "kind", "equals": "y"}},
          {"key": "more", "type": "text", "label": "Thêm", "required": true, "when": {"field": "detail", "filled": true}}
        ]},
        {"key": "b", "title": "Phần B", "fields": [
          {"key": "count", "type": "number", "label": "Số", "integer": true, "min": 1, "max": 10},
          {"key": "fee", "type": "money", "label": "Tiền"},
          {"key": "mail", "type": "email", "label": "Email"},
          {"key": "tel", "type": "phone", "label": "Điện thoại"},
          {"key": "id", "type": "cccd", "label": "CCCD"},
          {"key": "home", "type": "address", "label": "Địa chỉ", "required": true},
          {"key": "code", "type": "text", "label": "Mã", "pattern": "[0-9]{4}"},
          {"key": "ok", "type": "checkbox", "label": "Cam đoan", "required": true}
        ]}
      ],
      "documents": [
        {"key": "paper", "label": "Giấy", "required": true},
        {"key": "extra", "label": "Thêm", "required": true, "when": {"field": "kind", "equals": "y"}}
      ]
    }"#;

    fn sample() -> FormDefinition {
        FormDefinition::from_json(SAMPLE).expect("the sample is valid")
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn problems(errors: &[FieldError]) -> Vec<(&str, &Problem)> {
        errors
            .iter()
            .map(|e| (e.key.as_str(), &e.problem))
            .collect()
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let def = sample();
        let a = answers(&[
            ("name", "Nguyễn Văn Một Hai Ba"),
            ("born", "31/02/2020"),
            ("kind", "z"),
            ("count", "2.5"),
            ("fee", "abc"),
            ("mail", "not-an-email"),
            ("tel", "12345"),
            ("id", "999999999999"),
            ("home.province", "01"),
            ("home.ward", "99999"),
            ("code", "12a4"),
        ]);
        let errors = validate(&def, &a, &ctx()).expect_err("invalid");
        assert_eq!(
            problems(&errors),
            vec![
                ("name", &Problem::TooLong { max: 10 }),
                ("born", &Problem::NotDate),
                ("kind", &Problem::NotOption),
                ("count", &Problem::NotWholeNumber),
                ("fee", &Problem::NotNumber),
                ("mail", &Problem::NotEmail),
                ("tel", &Problem::NotPhone),
                ("id", &Problem::NotCccd),
                ("home", &Problem::UnknownPlace),
                ("code", &Problem::Pattern),
                ("ok", &Problem::MustAccept),
            ]
        );
    }

    #[test]
    fn conditions_show_and_hide_fields_and_documents() {
        let def = sample();
        let base = [
            ("name", "An"),
            ("born", "2000-01-02"),
            ("home.province", "01"),
            ("home.ward", "00004"),
            ("ok", "true"),
        ];
        let mut a = answers(&base);
        a.insert("kind".into(), "x".into());
        // `detail` is hidden: whatever it holds is neither checked nor kept.
        a.insert("detail".into(), "<script>".into());
        let clean = validate(&def, &a, &ctx()).expect("valid");
        assert!(!clean.contains_key("detail"));
        assert_eq!(clean["born"], "2000-01-02");
        assert_eq!(def.documents_shown(&a).count(), 1);

        a.insert("kind".into(), "y".into());
        a.insert("detail".into(), String::new());
        let errors = validate(&def, &a, &ctx()).expect_err("detail now required");
        assert_eq!(problems(&errors), vec![("detail", &Problem::Required)]);
        assert_eq!(def.documents_shown(&a).count(), 2);

        // A chain: `more` depends on `detail`, which depends on `kind`.
        a.insert("detail".into(), "có".into());
        let errors = validate(&def, &a, &ctx()).expect_err("more now required");
        assert_eq!(problems(&errors), vec![("more", &Problem::Required)]);
        a.insert("kind".into(), "x".into());
        assert!(
            validate(&def, &a, &ctx()).is_ok(),
            "hiding detail hides more"
        );
    }

    #[test]
    fn values_are_normalised() {
        let def = sample();
        let a = answers(&[
            ("name", "  An   Bình "),
            ("born", "02/01/2000"),
            ("kind", "x"),
            ("count", "3"),
            ("fee", "1.500.000 đ"),
            ("mail", " An@Example.VN "),
            ("tel", "091 234 5678"),
            ("id", "001 090 000 001"),
            ("home.province", "01"),
            ("home.ward", "00004"),
            ("home.street", " 1  Phố Huế "),
            ("code", "1234"),
            ("ok", "true"),
        ]);
        let clean = validate(&def, &a, &ctx()).expect("valid");
        assert_eq!(clean["name"], "An Bình");
        assert_eq!(clean["born"], "2000-01-02");
        assert_eq!(clean["fee"], "1500000");
        assert_eq!(clean["mail"], "an@example.vn");
        assert_eq!(clean["tel"], "0912345678");
        assert_eq!(clean["id"], "001090000001");
        assert_eq!(clean["home.street"], "1 Phố Huế");
    }

    #[test]
    fn dates_in_the_future_and_out_of_range() {
        let def = sample();
        let mut a = answers(&[("born", "2026-12-01")]);
        let errs = validate_section(&def, &def.sections[0], &a, &ctx());
        assert!(errs.contains(&FieldError {
            key: "born".into(),
            problem: Problem::InFuture
        }));
        a.insert("born".into(), "29/02/2023".into());
        let errs = validate_section(&def, &def.sections[0], &a, &ctx());
        assert!(errs.contains(&FieldError {
            key: "born".into(),
            problem: Problem::NotDate
        }));
        assert_eq!(
            parse_date("29/02/2024"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("01/01/0001"), None);
    }

    #[test]
    fn a_definition_with_errors_lists_them_all() {
        let bad = r#"{
          "schema": 2, "service": "x", "version": 1, "title": "T",
          "sections": [{"key": "s", "title": "S", "fields": [
            {"key": "a", "type": "radio", "label": "A"},
            {"key": "a", "type": "text", "label": "B", "pattern": "([", "when": {"field": "later", "equals": "x"}},
            {"key": "Bad Key", "type": "number", "label": "C", "min": 5, "max": 1},
            {"key": "later", "type": "text", "label": "D"},
            {"key": "r", "type": "radio", "label": "R", "options": [{"value": "yes", "label": "Yes"}]},
            {"key": "e", "type": "text", "label": "E", "when": {"field": "r", "equals": "nope"}}
          ]}],
          "documents": [{"key": "later", "label": "Doc"}]
        }"#;
        let errors = FormDefinition::from_json(bad).expect_err("invalid");
        let all = errors.join("\n");
        for expected in [
            "schema: expected 1",
            "field 'a': a select or radio needs options",
            "field 'a': key used twice",
            "pattern does not compile",
            "'later', which is not an earlier field",
            "field 'Bad Key': key must be",
            "min is above max",
            "'r' cannot be 'nope'",
            "document 'later': key must be unique",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
        let unknown = FormDefinition::from_json(
            r#"{"schema":1,"service":"x","version":1,"title":"T","sections":[],"colour":"red"}"#,
        )
        .expect_err("unknown key");
        assert!(unknown[0].contains("colour"), "{unknown:?}");
    }

    #[test]
    fn the_default_form_follows_the_documents_list() {
        let docs = [
            RecordDocument {
                name: "- Tờ khai (theo mẫu)",
                case_name: "Trường hợp 1",
                originals: Some(1),
                copies: None,
            },
            RecordDocument {
                name: "+ Giấy ủy quyền (nếu có)",
                case_name: "Trường hợp 1",
                originals: Some(1),
                copies: None,
            },
            RecordDocument {
                name: "a) Bản sao giấy tờ",
                case_name: "Trường hợp 2",
                originals: None,
                copies: Some(1),
            },
            RecordDocument {
                name: "Ghi chú không có số lượng",
                case_name: "Trường hợp 2",
                originals: None,
                copies: None,
            },
        ];
        let def = default_form("1.000001", "Thủ tục thử", &docs);
        def.check().expect("generated forms are valid");
        assert_eq!(def.documents.len(), 3);
        assert_eq!(def.documents[0].label.vi(), "Tờ khai (theo mẫu)");
        assert!(def.documents[0].required);
        assert!(!def.documents[1].required, "'nếu có' is optional");
        assert_eq!(def.documents[2].label.vi(), "Bản sao giấy tờ");
        let case = def.field("case").expect("a case choice");
        assert_eq!(case.options.len(), 2);
        let a = answers(&[("request", "Xin cấp"), ("case", "c2")]);
        let shown: Vec<&str> = def.documents_shown(&a).map(|d| d.key.as_str()).collect();
        assert_eq!(shown, vec!["d3"]);
    }

    #[test]
    fn the_official_forms_in_data_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/forms");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).expect("data/forms") {
            let path = entry.expect("entry").path();
            let json = std::fs::read_to_string(&path).expect("read");
            let def = FormDefinition::from_json(&json)
                .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            assert_eq!(
                path.file_stem().and_then(|s| s.to_str()),
                Some(def.service.as_str())
            );
            n += 1;
        }
        assert!(n >= 6, "six official forms at least, found {n}");
    }
}
