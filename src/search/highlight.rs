//! Splitting display text into plain and highlighted segments.
//!
//! The segments are plain text: the template escapes each one and wraps the marked ones, so nothing
//! here ever produces markup and hostile text cannot inject any.

use rustc_hash::FxHashSet as HashSet;

use unicode_normalization::char::is_combining_mark;

use super::Segment;
use super::text::{fold, is_alnum, words};

/// Cap on the number of distinct terms considered; a query never produces more.
const MAX_TERMS: usize = 256;

/// Splits `text` into segments, marking every word whose folded form is one of `terms`.
///
/// Terms are folded here as well, so raw user words work too. Words are compared whole, on their
/// folded form, so "đăng" in the text matches the term "dang" and "Hoà" matches "hòa". Consecutive
/// marked words separated only by whitespace form one segment ("đăng ký"). Concatenating the
/// segments' text gives back `text` exactly.
pub fn highlight(text: &str, terms: &[String]) -> Vec<Segment> {
    Highlighter::new(terms).highlight(text)
}

/// The matched words of one query, folded once, to highlight many texts (a page of results).
pub struct Highlighter {
    wanted: HashSet<String>,
}

impl Highlighter {
    pub fn new(terms: &[String]) -> Highlighter {
        Highlighter {
            wanted: terms
                .iter()
                .take(MAX_TERMS)
                .flat_map(|t| words(t))
                .collect(),
        }
    }

    /// `text` as plain and marked segments (see [`highlight`]).
    pub fn highlight(&self, text: &str) -> Vec<Segment> {
        self.highlight_prepared(text, &Prepared::new(text))
    }

    /// The same for a text split and folded beforehand (service names are, once per catalogue).
    pub fn highlight_prepared(&self, text: &str, prepared: &Prepared) -> Vec<Segment> {
        if self.wanted.is_empty() {
            if text.is_empty() {
                return Vec::new();
            }
            return vec![Segment {
                text: text.to_string(),
                mark: false,
            }];
        }
        let pieces: Vec<(usize, usize, bool)> = prepared
            .pieces
            .iter()
            .map(|p| {
                let mark =
                    !p.words.is_empty() && p.words.iter().all(|w| self.wanted.contains(w.as_ref()));
                (p.start, p.end, mark)
            })
            .collect();
        merge(text, &pieces)
    }
}

/// A text split into runs of word and non-word characters, each word run folded and normalised:
/// the part of highlighting that does not depend on the query.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
struct Piece {
    start: usize,
    end: usize,
    /// The folded words of a word run (empty for separators).
    words: Vec<Box<str>>,
}

impl Prepared {
    pub fn new(text: &str) -> Prepared {
        let mut pieces = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let start = chars[i].0;
            let in_word = |k: usize| is_word_char(&chars, k);
            let word = in_word(i);
            let mut j = i + 1;
            while j < chars.len() && in_word(j) == word {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |c| c.0);
            let words = if word {
                let f = fold(&text[start..end]);
                if f.is_empty() {
                    Vec::new()
                } else {
                    f.split(' ')
                        .map(|w| Box::from(super::text::norm_word(w).as_ref()))
                        .collect()
                }
            } else {
                Vec::new()
            };
            pieces.push(Piece { start, end, words });
            i = j;
        }
        Prepared { pieces }
    }
}

/// Marked + whitespace-only gap + marked → one marked run; then neighbours of equal kind join.
fn merge(text: &str, pieces: &[(usize, usize, bool)]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut k = 0;
    while k < pieces.len() {
        let (s, mut e, mark) = pieces[k];
        k += 1;
        if mark {
            while k + 1 < pieces.len()
                && pieces[k + 1].2
                && text[pieces[k].0..pieces[k].1].trim().is_empty()
            {
                e = pieces[k + 1].1;
                k += 2;
            }
        }
        match out.last_mut() {
            Some(last) if last.mark == mark && !mark => last.text.push_str(&text[s..e]),
            _ => out.push(Segment {
                text: text[s..e].to_string(),
                mark,
            }),
        }
    }
    out
}

/// Letters, digits and combining marks (NFD text) make words; a `.` joins a code like "1.001193".
fn is_word_char(chars: &[(usize, char)], k: usize) -> bool {
    let c = chars[k].1;
    if is_alnum(c) || is_combining_mark(c) {
        return true;
    }
    if c == '.' && k > 0 && k + 1 < chars.len() {
        let (p, n) = (chars[k - 1].1, chars[k + 1].1);
        return is_alnum(p) && is_alnum(n) && (p.is_ascii_digit() || n.is_ascii_digit());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(t: &str, m: bool) -> Segment {
        Segment {
            text: t.to_string(),
            mark: m,
        }
    }

    #[test]
    fn marks_folded_words() {
        let terms = vec!["dang".to_string(), "ky".to_string(), "sinh".to_string()];
        assert_eq!(
            highlight("Thủ tục đăng ký khai sinh.", &terms),
            vec![
                seg("Thủ tục ", false),
                seg("đăng ký", true),
                seg(" khai ", false),
                seg("sinh", true),
                seg(".", false)
            ]
        );
    }

    #[test]
    fn tone_placement_and_nfd() {
        let terms = vec!["hòa".to_string()];
        assert_eq!(
            highlight("Xã Hoà Bình", &terms),
            vec![seg("Xã ", false), seg("Hoà", true), seg(" Bình", false)]
        );
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Đăng ký").collect();
        let segs = highlight(&nfd, &["dang".to_string()]);
        assert!(segs[0].mark);
        assert_eq!(
            segs.iter().map(|s| s.text.as_str()).collect::<String>(),
            nfd
        );
    }

    #[test]
    fn codes_and_i_y_variant() {
        let segs = highlight(
            "Mã 1.001193, ký",
            &["1.001193".to_string(), "ki".to_string()],
        );
        assert_eq!(
            segs,
            vec![
                seg("Mã ", false),
                seg("1.001193", true),
                seg(", ", false),
                seg("ký", true)
            ]
        );
    }

    #[test]
    fn hostile_text_is_returned_verbatim() {
        let text = "<script>alert('đăng')</script> \u{0} 😀 dang";
        let segs = highlight(text, &["dang".to_string(), "script".to_string()]);
        assert_eq!(
            segs.iter().map(|s| s.text.as_str()).collect::<String>(),
            text
        );
        assert!(segs.iter().any(|s| s.mark && s.text == "script"));
        assert!(segs.iter().all(|s| !s.mark || !s.text.contains('<')));
        assert!(highlight("", &["a".to_string()]).is_empty());
        assert_eq!(highlight("abc", &[]), vec![seg("abc", false)]);
    }
}
