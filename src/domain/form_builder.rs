//! The form builder's edits: pure operations on a form definition (title, sections, fields with
//! their rules, help and conditions, documents; add, replace, remove, reorder), each followed by
//! the schema's own check, so a builder can never store a definition the citizen's pages could
//! not use. The administrator never writes JSON.

use super::form_schema::{
    Choice, Condition, DocumentSlot, Field, FieldKind, FormDefinition, Section, Text,
};

/// One edit, as the builder's forms send it.
#[derive(Debug, Clone)]
pub enum Edit {
    Title {
        vi: String,
        en: String,
        source: String,
    },
    AddSection {
        key: String,
        vi: String,
        en: String,
    },
    RemoveSection {
        key: String,
    },
    MoveSection {
        key: String,
        up: bool,
    },
    /// Adds a field at the end of `section`, or replaces the field `original`.
    SaveField {
        section: String,
        original: Option<String>,
        field: Box<Field>,
    },
    RemoveField {
        key: String,
    },
    MoveField {
        key: String,
        up: bool,
    },
    AddDocument {
        slot: DocumentSlot,
    },
    RemoveDocument {
        key: String,
    },
}

/// A field as typed in the builder's field form.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FieldInput {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub label_vi: String,
    #[serde(default)]
    pub label_en: String,
    #[serde(default)]
    pub help_vi: String,
    #[serde(default)]
    pub help_en: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub max_length: String,
    /// One choice a line: `value | Vietnamese label | English label`.
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub when_field: String,
    #[serde(default)]
    pub when_equals: String,
}

/// Every field kind the schema has, by its name.
pub const KINDS: [&str; 12] = [
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "select",
    "radio",
    "checkbox",
    "email",
    "phone",
    "cccd",
    "address",
];

fn text(vi: &str, en: &str) -> Text {
    Text::Localized {
        vi: vi.trim().to_string(),
        en: en.trim().to_string(),
    }
}

fn optional_text(vi: &str, en: &str) -> Option<Text> {
    (!vi.trim().is_empty()).then(|| text(vi, en))
}

impl FieldInput {
    /// The field, or what is wrong with the input itself (the definition's check follows).
    pub fn field(&self) -> Result<Field, Vec<String>> {
        let mut errors = Vec::new();
        let kind: Option<FieldKind> =
            serde_json::from_value(serde_json::Value::String(self.kind.clone())).ok();
        if kind.is_none() {
            errors.push(format!("type: unknown ({})", self.kind));
        }
        let max_length = match self.max_length.trim() {
            "" => None,
            t => match t.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.push("max_length: a whole number of characters".into());
                    None
                }
            },
        };
        let mut options = Vec::new();
        for (i, line) in self.options.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split('|').map(str::trim).collect();
            match parts.as_slice() {
                [value, vi] | [value, vi, _] if !value.is_empty() && !vi.is_empty() => {
                    options.push(Choice {
                        value: value.to_string(),
                        label: text(vi, parts.get(2).copied().unwrap_or("")),
                    });
                }
                _ => errors.push(format!(
                    "options line {}: write value | Vietnamese label | English label",
                    i + 1
                )),
            }
        }
        let when = match (self.when_field.trim(), self.when_equals.trim()) {
            ("", _) => None,
            (field, "") => Some(Condition {
                field: field.to_string(),
                equals: None,
                one_of: Vec::new(),
                filled: true,
            }),
            (field, value) => Some(Condition {
                field: field.to_string(),
                equals: Some(value.to_string()),
                one_of: Vec::new(),
                filled: false,
            }),
        };
        let (Some(kind), true) = (kind, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Field {
            key: self.key.trim().to_string(),
            kind,
            label: text(&self.label_vi, &self.label_en),
            help: optional_text(&self.help_vi, &self.help_en),
            required: self.required,
            min_length: None,
            max_length,
            pattern: None,
            pattern_hint: None,
            min: None,
            max: None,
            integer: false,
            past: false,
            future: false,
            options,
            when,
            prefill: None,
            default: None,
        })
    }

    /// The input that shows `f` in the builder's field form.
    pub fn of(f: &Field) -> FieldInput {
        let (vi, en) = match &f.label {
            Text::Plain(s) => (s.clone(), String::new()),
            Text::Localized { vi, en } => (vi.clone(), en.clone()),
        };
        let (help_vi, help_en) = match &f.help {
            None => (String::new(), String::new()),
            Some(Text::Plain(s)) => (s.clone(), String::new()),
            Some(Text::Localized { vi, en }) => (vi.clone(), en.clone()),
        };
        let kind = serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        FieldInput {
            key: f.key.clone(),
            kind,
            label_vi: vi,
            label_en: en,
            help_vi,
            help_en,
            required: f.required,
            max_length: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
            options: f
                .options
                .iter()
                .map(|c| match &c.label {
                    Text::Plain(s) => format!("{} | {s}", c.value),
                    Text::Localized { vi, en } => format!("{} | {vi} | {en}", c.value),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            when_field: f.when.as_ref().map(|w| w.field.clone()).unwrap_or_default(),
            when_equals: f
                .when
                .as_ref()
                .and_then(|w| w.equals.clone())
                .unwrap_or_default(),
        }
    }
}

fn swap<T>(list: &mut [T], i: usize, up: bool) {
    let j = if up { i.checked_sub(1) } else { Some(i + 1) };
    if let Some(j) = j.filter(|j| *j < list.len()) {
        list.swap(i, j);
    }
}

/// Applies `edit` and checks the result; every problem is listed.
pub fn apply(def: &FormDefinition, edit: Edit) -> Result<FormDefinition, Vec<String>> {
    let mut d = def.clone();
    let missing = |what: &str, key: &str| vec![format!("{what} {key}: not in the form")];
    match edit {
        Edit::Title { vi, en, source } => {
            d.title = text(&vi, &en);
            d.source = source.trim().to_string();
        }
        Edit::AddSection { key, vi, en } => d.sections.push(Section {
            key: key.trim().to_string(),
            title: text(&vi, &en),
            intro: None,
            fields: Vec::new(),
        }),
        Edit::RemoveSection { key } => {
            let before = d.sections.len();
            d.sections.retain(|s| s.key != key);
            if d.sections.len() == before {
                return Err(missing("section", &key));
            }
        }
        Edit::MoveSection { key, up } => {
            let i = d
                .sections
                .iter()
                .position(|s| s.key == key)
                .ok_or_else(|| missing("section", &key))?;
            swap(&mut d.sections, i, up);
        }
        Edit::SaveField {
            section,
            original,
            field,
        } => match original {
            Some(orig) => {
                let slot = d
                    .sections
                    .iter_mut()
                    .flat_map(|s| s.fields.iter_mut())
                    .find(|f| f.key == orig)
                    .ok_or_else(|| missing("field", &orig))?;
                // What the builder does not show is kept (prefill, patterns, bounds).
                let kept = slot.clone();
                *slot = Field {
                    prefill: kept.prefill,
                    pattern: kept.pattern,
                    pattern_hint: kept.pattern_hint,
                    min: kept.min,
                    max: kept.max,
                    min_length: kept.min_length,
                    integer: kept.integer,
                    past: kept.past,
                    future: kept.future,
                    default: kept.default,
                    ..*field
                };
            }
            None => d
                .sections
                .iter_mut()
                .find(|s| s.key == section)
                .ok_or_else(|| missing("section", &section))?
                .fields
                .push(*field),
        },
        Edit::RemoveField { key } => {
            let mut found = false;
            for s in &mut d.sections {
                let before = s.fields.len();
                s.fields.retain(|f| f.key != key);
                found |= s.fields.len() != before;
            }
            if !found {
                return Err(missing("field", &key));
            }
        }
        Edit::MoveField { key, up } => {
            let s = d
                .sections
                .iter_mut()
                .find(|s| s.fields.iter().any(|f| f.key == key))
                .ok_or_else(|| missing("field", &key))?;
            if let Some(i) = s.fields.iter().position(|f| f.key == key) {
                swap(&mut s.fields, i, up);
            }
        }
        Edit::AddDocument { slot } => d.documents.push(slot),
        Edit::RemoveDocument { key } => {
            let before = d.documents.len();
            d.documents.retain(|s| s.key != key);
            if d.documents.len() == before {
                return Err(missing("document", &key));
            }
        }
    }
    d.check()?;
    Ok(d)
}

/// A new form for `service`: one section to start from.
pub fn skeleton(service: &str, name: &str) -> FormDefinition {
    FormDefinition {
        schema: super::form_schema::SCHEMA_VERSION,
        service: service.to_string(),
        version: 1,
        title: text(name, ""),
        source: String::new(),
        sections: vec![Section {
            key: "thong_tin".into(),
            title: text("Thông tin", "Information"),
            intro: None,
            fields: Vec::new(),
        }],
        documents: Vec::new(),
    }
}
