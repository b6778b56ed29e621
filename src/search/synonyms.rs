//! Colloquial names → legal names ("sổ đỏ" → "giấy chứng nhận quyền sử dụng đất").
//!
//! The table is data (`data/synonyms.csv`, stored in the database so administrators can extend it).
//! Both sides are folded, so a row written with marks also matches an unmarked query. A term may
//! have several rows; each expansion is one alternative way to satisfy the term. Matching is on
//! whole folded words, longest term first, and does not chain (an expansion is never expanded
//! again).

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::stop::StopWords;
use super::text::{raw_words, words};

/// One row of the synonym table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synonym {
    pub term: String,
    pub expansion: String,
}

/// Reads `term,expansion` rows. The header row, blank lines and `#` comments are skipped; cells may
/// be double-quoted. A row without exactly two non-empty cells is an error naming the line, so a
/// typo in the administrators' file is reported instead of silently ignored.
pub fn read_synonyms_csv(path: &Path) -> Result<Vec<Synonym>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_synonyms(&text).with_context(|| format!("parsing {}", path.display()))
}

/// [`read_synonyms_csv`] on text already in memory.
pub fn parse_synonyms(text: &str) -> Result<Vec<Synonym>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells = crate::seed::split_csv_line(line);
        if i == 0 && cells.len() == 2 && cells[0].trim().eq_ignore_ascii_case("term") {
            continue;
        }
        if cells.len() != 2 {
            bail!(
                "line {}: expected 2 columns (term,expansion), found {}",
                i + 1,
                cells.len()
            );
        }
        let (term, expansion) = (cells[0].trim(), cells[1].trim());
        if term.is_empty() || expansion.is_empty() {
            bail!("line {}: empty term or expansion", i + 1);
        }
        out.push(Synonym {
            term: term.to_string(),
            expansion: expansion.to_string(),
        });
    }
    Ok(out)
}

/// Folded synonym table: term words → expansions (each a list of folded words).
#[derive(Debug, Clone, Default)]
pub struct SynonymTable {
    map: HashMap<Vec<String>, Vec<Vec<String>>>,
    max_len: usize,
}

/// Terms longer than this many words are ignored: nobody types them, and it bounds query-time work.
const MAX_TERM_WORDS: usize = 8;

impl SynonymTable {
    /// Folds the rows. Filler words written in an expansion ("thẻ căn cước cho công dân") are left
    /// out of it, as they are left out of queries; the term is kept whole, since it is matched
    /// against what people type.
    pub fn new(rows: &[Synonym], stop: &StopWords) -> Self {
        let mut t = SynonymTable::default();
        for row in rows {
            let term = words(&row.term);
            let exp_words = raw_words(&row.expansion, usize::MAX);
            let filler = stop.marked_filler_mask(&exp_words);
            let mut exp: Vec<String> = exp_words
                .iter()
                .zip(&filler)
                .filter(|(_, f)| !**f)
                .map(|(w, _)| w.folded.clone())
                .collect();
            if exp.is_empty() {
                exp = exp_words.into_iter().map(|w| w.folded).collect();
            }
            if term.is_empty() || exp.is_empty() || term.len() > MAX_TERM_WORDS || term == exp {
                continue;
            }
            t.max_len = t.max_len.max(term.len());
            let list = t.map.entry(term).or_default();
            if !list.contains(&exp) {
                list.push(exp);
            }
        }
        t
    }

    /// Longest term starting at `words[i]`: its length and expansions.
    pub fn longest_match(&self, words: &[String], i: usize) -> Option<(usize, &[Vec<String>])> {
        let avail = words.len().saturating_sub(i);
        for len in (1..=self.max_len.min(avail)).rev() {
            if let Some(exps) = self.map.get(&words[i..i + len]) {
                return Some((len, exps));
            }
        }
        None
    }

    pub fn heap_bytes(&self) -> usize {
        let vs = |v: &Vec<String>| v.iter().map(|w| w.capacity() + 24).sum::<usize>() + 24;
        self.map
            .iter()
            .map(|(k, e)| vs(k) + e.iter().map(vs).sum::<usize>() + 48)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_comments_quotes() {
        let rows = parse_synonyms(
            "\u{feff}term,expansion\n# c\n\nsổ đỏ,giấy chứng nhận\n\"MST\",mã số thuế\n",
        )
        .expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            Synonym {
                term: "MST".into(),
                expansion: "mã số thuế".into()
            }
        );
        assert!(parse_synonyms("term,expansion\na,b,c\n").is_err());
        assert!(parse_synonyms("term,expansion\na,\n").is_err());
    }

    #[test]
    fn longest_match_wins_and_folds() {
        let t = SynonymTable::new(
            &[
                Synonym {
                    term: "hộ khẩu".into(),
                    expansion: "thường trú".into(),
                },
                Synonym {
                    term: "nhập hộ khẩu".into(),
                    expansion: "đăng ký thường trú".into(),
                },
                Synonym {
                    term: "Hộ Khẩu".into(),
                    expansion: "cư trú".into(),
                },
            ],
            &StopWords::new(),
        );
        let q = words("nhap ho khau");
        let (len, exps) = t.longest_match(&q, 0).expect("match");
        assert_eq!(len, 3);
        assert_eq!(exps, [words("đăng ký thường trú")]);
        let (len, exps) = t.longest_match(&q, 1).expect("match");
        assert_eq!(len, 2);
        assert_eq!(exps.len(), 2);
        assert!(t.longest_match(&q, 2).is_none());
        assert!(t.longest_match(&q, 7).is_none());
    }

    #[test]
    fn fillers_leave_expansions() {
        let rows = [
            Synonym {
                term: "cmnd".into(),
                expansion: "thẻ căn cước cho công dân".into(),
            },
            Synonym {
                term: "x".into(),
                expansion: "cho của".into(),
            },
        ];
        let t = SynonymTable::new(&rows, &StopWords::new());
        let q = words("cmnd x");
        assert_eq!(
            t.longest_match(&q, 0).expect("cmnd").1,
            [words("thẻ căn cước công dân")]
        );
        // An expansion made only of filler words is kept as written rather than emptied.
        assert_eq!(t.longest_match(&q, 1).expect("x").1, [words("cho của")]);
    }
}
