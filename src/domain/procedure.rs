//! The national procedure record as the seed data carries it (`data/procedures.jsonl.gz`).
//! Pure types: reading the file lives in `crate::seed`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    pub field: String,
    pub ministry: String,
    pub implementing_levels: Vec<String>,
    pub procedure_type: String,
    pub target_groups: Vec<String>,
    pub decision_number: String,
    pub implementing_agency: String,
    pub competent_agency: String,
    pub channels: Vec<Channel>,
    pub documents: Vec<Document>,
    pub documents_text: String,
    pub steps: String,
    pub requirements: String,
    pub legal_basis: Vec<LegalBasis>,
    pub result_code: String,
    pub result: String,
    pub related_procedures: String,
    pub source_url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Channel {
    /// `online`, `in_person` or `post`.
    pub channel: String,
    pub processing_time: Option<f64>,
    /// `working_days`, `days`, `hours`, `months`, `years`, `other`, or none.
    pub time_unit: Option<String>,
    pub time_unit_text: String,
    pub fee_vnd: Option<i64>,
    pub fee_text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Document {
    pub name: String,
    pub form_template: String,
    pub originals: Option<i32>,
    pub copies: Option<i32>,
    pub case: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct LegalBasis {
    pub title: String,
    pub number: String,
}

/// The record's lists as an administrator edits them, one item a line (see [`parse_lists`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordLists {
    pub implementing_levels: Vec<String>,
    pub target_groups: Vec<String>,
    pub legal_basis: Vec<LegalBasis>,
    pub documents: Vec<Document>,
}

/// The implementing levels a record may name.
pub const LEVEL_NAMES: [&str; 4] = ["commune", "province", "ministry", "other"];

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// Reads the lists typed one item a line: levels (`commune`, `province`, `ministry`, `other`),
/// target groups (a name), legal basis (`number | title`), documents (`case | name | originals
/// | copies | form template`, the last three optional). Every bad line is named.
pub fn parse_lists(
    levels: &str,
    groups: &str,
    legal: &str,
    documents: &str,
) -> Result<RecordLists, Vec<String>> {
    let mut errors = Vec::new();
    let mut out = RecordLists::default();
    for (n, l) in lines(levels) {
        if LEVEL_NAMES.contains(&l) {
            if !out.implementing_levels.iter().any(|x| x == l) {
                out.implementing_levels.push(l.to_string());
            }
        } else {
            errors.push(format!(
                "implementing_levels line {n}: one of commune, province, ministry, other"
            ));
        }
    }
    for (_, l) in lines(groups) {
        if !out.target_groups.iter().any(|x| x == l) {
            out.target_groups.push(l.to_string());
        }
    }
    for (n, l) in lines(legal) {
        match l.split_once('|') {
            Some((number, title)) if !title.trim().is_empty() => out.legal_basis.push(LegalBasis {
                number: number.trim().to_string(),
                title: title.trim().to_string(),
            }),
            _ => errors.push(format!("legal_basis line {n}: write number | title")),
        }
    }
    for (n, l) in lines(documents) {
        let parts: Vec<&str> = l.split('|').map(str::trim).collect();
        let count = |i: usize| -> Result<Option<i32>, ()> {
            match parts.get(i).copied().unwrap_or("") {
                "" => Ok(None),
                t => t
                    .parse::<i32>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .map(Some)
                    .ok_or(()),
            }
        };
        match (parts.get(1), count(2), count(3)) {
            (Some(name), Ok(originals), Ok(copies)) if !name.is_empty() => {
                out.documents.push(Document {
                    case: parts[0].to_string(),
                    name: name.to_string(),
                    originals,
                    copies,
                    form_template: parts.get(4).copied().unwrap_or("").to_string(),
                })
            }
            _ => errors.push(format!(
                "documents line {n}: write case | name | originals | copies | form template"
            )),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The inverse of [`parse_lists`], for the editor and the versions.
pub fn format_lists(l: &RecordLists) -> (String, String, String, String) {
    let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    (
        l.implementing_levels.join("\n"),
        l.target_groups.join("\n"),
        l.legal_basis
            .iter()
            .map(|b| format!("{} | {}", b.number, b.title))
            .collect::<Vec<_>>()
            .join("\n"),
        l.documents
            .iter()
            .map(|d| {
                format!(
                    "{} | {} | {} | {} | {}",
                    d.case,
                    d.name,
                    opt(d.originals),
                    opt(d.copies),
                    d.form_template
                )
                .trim_end_matches([' ', '|'])
                .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod list_tests {
    use super::*;

    #[test]
    fn lists_read_back_what_they_write_and_name_every_bad_line() {
        let l = parse_lists(
            "commune\nprovince\ncommune",
            "Công dân Việt Nam\n",
            "87/2015/QH13 | Luật Hộ tịch",
            "Đăng ký đúng hạn | Tờ khai | 1 | | TK01\nMọi trường hợp | Giấy chứng sinh",
        )
        .expect("lists");
        assert_eq!(l.implementing_levels, ["commune", "province"]);
        assert_eq!(l.documents[0].originals, Some(1));
        assert_eq!(l.documents[1].copies, None);
        let (a, b, c, d) = format_lists(&l);
        assert_eq!(parse_lists(&a, &b, &c, &d).expect("again"), l);
        let errors =
            parse_lists("xa", "", "no title", "only a case |\n| x | một").expect_err("bad lines");
        assert_eq!(errors.len(), 4, "{errors:?}");
    }
}
