//! Reading the real seed data shipped in `data/`: procedures, administrative units, holidays.
//! Writing it into the database is `crate::db::seed`.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::domain::procedure::Procedure;

pub const PROCEDURES_FILE: &str = "procedures.jsonl.gz";
pub const ADMIN_UNITS_FILE: &str = "admin_units.json";
pub const HOLIDAYS_FILE: &str = "holidays.csv";
pub const SYNONYMS_FILE: &str = "synonyms.csv";
pub const DIRECTORY_FILE: &str = "directory.json";
pub const ROUTING_RULES_FILE: &str = "routing_rules.csv";
pub const FORMS_DIR: &str = "forms";

/// Every procedure in the gzip'd JSON-lines file, in file order.
pub fn read_procedures(path: &Path) -> Result<Vec<Procedure>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::with_capacity(2700);
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {} line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let p: Procedure = serde_json::from_str(&line)
            .with_context(|| format!("parsing {} line {}", path.display(), i + 1))?;
        out.push(p);
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Province {
    pub code: String,
    pub name: String,
    pub full_name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Ward {
    pub code: String,
    pub name: String,
    pub full_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub province_code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AdminUnits {
    pub provinces: Vec<Province>,
    pub wards: Vec<Ward>,
}

pub fn read_admin_units(path: &Path) -> Result<AdminUnits> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Holiday {
    pub date: chrono::NaiveDate,
    pub name_vi: String,
    pub name_en: String,
}

/// `date,name_vi,name_en` with RFC 4180 quoting (names may contain commas).
pub fn read_holidays(path: &Path) -> Result<Vec<Holiday>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_holidays(&text).map_err(|errors| {
        let (line, what) = &errors[0];
        anyhow::anyhow!("{} line {line}: {what}", path.display())
    })
}

/// A holidays file of the `data/holidays.csv` shape (a header, then `date,name_vi,name_en`
/// with ISO dates): every row, or every bad line with what is wrong with it (its number counts
/// the header as line 1). Errors are message keys: `holiday_csv_columns`, `holiday_csv_date`,
/// `holiday_csv_name`, `holiday_csv_duplicate`, `holiday_csv_empty`.
pub fn parse_holidays(text: &str) -> std::result::Result<Vec<Holiday>, Vec<(usize, &'static str)>> {
    let mut out: Vec<Holiday> = Vec::new();
    let mut errors = Vec::new();
    let text = text.trim_start_matches('\u{feff}');
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cells = split_csv_line(line);
        if cells.len() != 3 {
            errors.push((i + 1, "holiday_csv_columns"));
            continue;
        }
        let Ok(date) = chrono::NaiveDate::parse_from_str(cells[0].trim(), "%Y-%m-%d") else {
            errors.push((i + 1, "holiday_csv_date"));
            continue;
        };
        if cells[1].trim().is_empty() || cells[2].trim().is_empty() {
            errors.push((i + 1, "holiday_csv_name"));
            continue;
        }
        if out.iter().any(|h| h.date == date) {
            errors.push((i + 1, "holiday_csv_duplicate"));
            continue;
        }
        out.push(Holiday {
            date,
            name_vi: cells[1].trim().to_string(),
            name_en: cells[2].trim().to_string(),
        });
    }
    if out.is_empty() && errors.is_empty() {
        errors.push((1, "holiday_csv_empty"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The directory's shape (`data/directory.json`): see its `about`.
#[derive(Debug, Clone, Deserialize)]
pub struct Directory {
    pub ministries: Vec<MinistryEntry>,
    pub province_committee: OfficeName,
    pub departments: Vec<DepartmentEntry>,
    pub ward_offices: Vec<WardOfficeEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MinistryEntry {
    pub name: String,
    pub office_id: String,
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OfficeName {
    pub number: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DepartmentEntry {
    pub key: String,
    pub number: String,
    pub name: String,
    pub ministry: String,
    /// `province` (under the province's People's Committee) or `ministry` (run by the ministry).
    pub parent: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WardOfficeEntry {
    /// `ward_committee` or `ward_police`.
    pub kind: String,
    pub number: String,
    pub name: String,
}

pub fn read_directory(path: &Path) -> Result<Directory> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// One row of `data/routing_rules.csv`; names are resolved to ids when seeding.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    pub level: String,
    pub ministry: String,
    pub field: String,
    pub service: String,
    pub target: String,
    pub department: String,
    pub note: String,
}

pub fn read_routing_rules(path: &Path) -> Result<Vec<RuleRow>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let c = split_csv_line(line);
        anyhow::ensure!(
            c.len() == 7,
            "{} line {}: expected 7 columns, found {}",
            path.display(),
            i + 1,
            c.len()
        );
        out.push(RuleRow {
            level: c[0].clone(),
            ministry: c[1].clone(),
            field: c[2].clone(),
            service: c[3].clone(),
            target: c[4].clone(),
            department: c[5].clone(),
            note: c[6].clone(),
        });
    }
    Ok(out)
}

/// The official form definitions shipped in `data/forms/` (file name = service code), checked.
pub fn read_forms(dir: &Path) -> Result<Vec<(String, crate::domain::form_schema::FormDefinition)>> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let json = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let def = crate::domain::form_schema::FormDefinition::from_json(&json)
            .map_err(|errors| anyhow::anyhow!("{}: {}", path.display(), errors.join("; ")))?;
        out.push((json, def));
    }
    Ok(out)
}

/// One CSV line with double-quote quoting; enough for the seed files we ship.
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    cells.push(cur);
    cells
}

/// Content hash of the seed files, so a restart knows whether the seed changed.
pub fn seed_fingerprint(dir: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for name in [
        PROCEDURES_FILE,
        ADMIN_UNITS_FILE,
        HOLIDAYS_FILE,
        SYNONYMS_FILE,
        DIRECTORY_FILE,
        ROUTING_RULES_FILE,
    ] {
        let path = dir.join(name);
        let mut f =
            std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        h.update(name.as_bytes());
        h.update((buf.len() as u64).to_le_bytes());
        h.update(&buf);
    }
    let forms = dir.join(FORMS_DIR);
    let mut paths: Vec<_> = std::fs::read_dir(&forms)
        .with_context(|| format!("reading {}", forms.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        let buf = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        h.update(
            path.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h.update((buf.len() as u64).to_le_bytes());
        h.update(&buf);
    }
    Ok(format!("{:x}", h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_commas() {
        assert_eq!(
            split_csv_line(r#"2025-01-28,"Tết (ngày 29, cuối năm)",Lunar "x""#),
            vec!["2025-01-28", "Tết (ngày 29, cuối năm)", "Lunar x"]
        );
        assert_eq!(
            split_csv_line(r#"a,"b ""c""",d"#),
            vec!["a", "b \"c\"", "d"]
        );
    }

    #[test]
    fn real_seed_files_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        let procs = read_procedures(&dir.join(PROCEDURES_FILE)).expect("procedures");
        assert_eq!(procs.len(), 2625);
        let units = read_admin_units(&dir.join(ADMIN_UNITS_FILE)).expect("units");
        assert_eq!((units.provinces.len(), units.wards.len()), (34, 3321));
        let hol = read_holidays(&dir.join(HOLIDAYS_FILE)).expect("holidays");
        assert_eq!(hol.len(), 66);
    }
}
