//! Languages and message catalogues (`locales/<lang>.json`): Vietnamese first, English second.
//! Every UI string lives in a catalogue; code only knows keys.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Vi,
    En,
}

/// A UTC time as people in Vietnam read it (UTC+7 all year): `14:30 ngày 30/11/2026`.
pub fn local_time(utc: chrono::NaiveDateTime, lang: Lang) -> String {
    let local = crate::domain::calendar::to_local(utc);
    match lang {
        Lang::Vi => local.format("%H:%M ngày %d/%m/%Y").to_string(),
        Lang::En => local.format("%H:%M on %d/%m/%Y").to_string(),
    }
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// The best of our languages for an `Accept-Language` header (q-values honoured); Vietnamese
    /// when the header names neither.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Vi)
    }
}

/// Both catalogues, checked at load to have the same keys so no page shows a raw key.
#[derive(Clone)]
pub struct Messages {
    vi: Value,
    en: Value,
}

fn load_one(dir: &Path, lang: Lang) -> Result<Map<String, Value>> {
    let path = dir.join(format!("{}.json", lang.code()));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    match serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))? {
        Value::Object(map) => Ok(map),
        _ => anyhow::bail!("{} must hold one JSON object of key → text", path.display()),
    }
}

impl Messages {
    pub fn load(dir: &Path) -> Result<Messages> {
        let vi = load_one(dir, Lang::Vi)?;
        let en = load_one(dir, Lang::En)?;
        let missing: Vec<&String> = vi
            .keys()
            .filter(|k| !en.contains_key(*k))
            .chain(en.keys().filter(|k| !vi.contains_key(*k)))
            .collect();
        if !missing.is_empty() {
            anyhow::bail!("message keys present in only one language: {missing:?}");
        }
        Ok(Messages {
            vi: Value::Object(vi),
            en: Value::Object(en),
        })
    }

    pub fn all(&self, lang: Lang) -> &Value {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }

    /// The text for `key`, or the key itself (visible in tests) when it is missing.
    pub fn text<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.all(lang)
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("vi-VN,vi;q=0.9,en;q=0.8"),
            Lang::Vi
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,en;q=0.5,vi;q=0.7"),
            Lang::Vi
        );
        assert_eq!(Lang::from_accept_language("fr-FR,en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("de"), Lang::Vi);
        assert_eq!(Lang::from_accept_language(""), Lang::Vi);
        assert_eq!(Lang::from_accept_language("en;q=0"), Lang::Vi);
    }

    #[test]
    fn shipped_catalogues_have_the_same_keys() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let m = Messages::load(&dir).expect("catalogues load");
        assert_eq!(m.text(Lang::Vi, "nav_catalogue"), "Danh mục dịch vụ");
        assert_eq!(m.text(Lang::En, "nav_catalogue"), "Service catalogue");
    }
}
