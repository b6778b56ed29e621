//! Filler words of everyday questions ("tôi cần làm … thì phải làm sao", "thủ tục … như thế nào").
//!
//! The lists are data: extend them here. Single words are written with their marks because folding
//! makes many of them collide with content words: "có" (filler) and "cơ" (cơ quan) both fold to
//! `co`, "thế" (thế nào) and "thẻ" (thẻ căn cước) both fold to `the`, "mà" and "mã" (mã số thuế) to
//! `ma`. The rules, in order:
//!
//! 1. a filler *phrase* ("như thế nào", "thủ tục", "cho con") is dropped wherever it occurs;
//!    phrases are matched on folded words, long enough to be unambiguous;
//! 2. a word typed with marks is dropped when it is exactly a listed word;
//! 3. a word typed without marks is dropped when its folded form is listed and no word of the
//!    catalogue with a different spelling folds to the same letters (learned from the indexed text
//!    at build time);
//! 4. an ambiguous unmarked word ("the", "co", "lam") is dropped unless it forms a known phrase of
//!    the catalogue with a kept neighbour: "lam so do" loses "lam", "lam the can cuoc" keeps "the"
//!    because "thẻ căn" is a catalogue bigram, "co quan" keeps both words.

use rustc_hash::FxHashSet as HashSet;

use super::text::{Word, fold, norm_word, raw_lower};

/// Single filler words, with marks (see the module doc for why). Negations and directions ("không",
/// "ra", "vào") are not fillers: "không thuộc tài sản công", "vào cảng" / "rời cảng" differ by
/// them.
pub const STOP_WORDS: &[&str] = &[
    "tôi", "tui", "em", "mình", "anh", "chị", "bạn", "ạ", "ơi", "à", "nhé", "nhỉ", "vậy", "với",
    "cần", "muốn", "phải", "làm", "sao", "thế", "nào", "như", "ở", "đâu", "thì", "cho", "của",
    "và", "là", "gì", "có", "được", "bị", "đã", "đang", "sẽ", "rồi", "này", "kia", "đó", "những",
    "các", "cái", "mấy", "bao", "nhiêu", "lâu", "ai", "hỏi", "xin", "giúp", "nhờ", "về", "theo",
    "tại", "trong", "khi", "nếu", "để", "hay", "hoặc", "mà", "thôi", "luôn", "đi", "từ", "đến",
    "giờ", "online", "ntn", "gấp", "cũng", "nữa", "nên",
];

/// Filler phrases, matched on folded words anywhere in the query.
pub const FILLER_PHRASES: &[&str] = &[
    "thủ tục",
    "như thế nào",
    "thế nào",
    "như nào",
    "làm sao",
    "ra sao",
    "làm thế nào",
    "ở đâu",
    "chỗ nào",
    "nơi nào",
    "bao lâu",
    "bao nhiêu",
    "bao nhiêu tiền",
    "mất bao lâu",
    "hết bao nhiêu",
    "những gì",
    "giấy tờ gì",
    "gồm những gì",
    "cần gì",
    "cách làm",
    "hướng dẫn",
    "được không",
    "xin hỏi",
    "cho hỏi",
    "cho con",
    "cho bé",
    "cho cháu",
    "cho em bé",
    "đối với",
    "lệ phí",
];

/// Compiled filler lists plus the ambiguity learned from the catalogue.
#[derive(Debug, Clone, Default)]
pub struct StopWords {
    raw: HashSet<String>,
    folded: HashSet<String>,
    ambiguous: HashSet<String>,
    phrases: HashSet<Vec<String>>,
    /// First words of the phrases: a cheap test before building a lookup key.
    phrase_starts: HashSet<String>,
    max_phrase: usize,
}

/// What happens to one query word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Stop,
    Ambiguous,
    Content,
}

impl StopWords {
    pub fn new() -> Self {
        let mut s = StopWords::default();
        for w in STOP_WORDS {
            s.raw.insert(raw_lower(w));
            s.folded.insert(norm_word(&fold(w)).into_owned());
        }
        for p in FILLER_PHRASES {
            let words: Vec<String> = super::text::words(p);
            s.max_phrase = s.max_phrase.max(words.len());
            if let Some(first) = words.first() {
                s.phrase_starts.insert(first.clone());
            }
            s.phrases.insert(words);
        }
        s
    }

    /// Called for every word of the catalogue: a listed folded form that also spells a content word
    /// becomes ambiguous for unmarked queries.
    pub fn observe(&mut self, w: &Word) {
        if self.folded.contains(&w.folded) && !self.raw.contains(&w.raw) && w.raw != w.folded {
            self.ambiguous.insert(w.folded.clone());
        }
    }

    /// Which words to drop. `forced[i]` keeps a word whatever it is (it belongs to a synonym
    /// phrase); `known_pair(a, b)` tells whether the folded words `a b` occur next to each other in
    /// the catalogue.
    pub fn drop_mask(
        &self,
        words: &[Word],
        forced: &[bool],
        known_pair: &dyn Fn(&str, &str) -> bool,
    ) -> Vec<bool> {
        let n = words.len();
        let mut class: Vec<Class> = words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if forced.get(i).copied().unwrap_or(false) {
                    Class::Content
                } else if self.raw.contains(&w.raw) {
                    Class::Stop
                } else if self.folded.contains(&w.folded) && w.raw == w.folded {
                    if self.ambiguous.contains(&w.folded) {
                        Class::Ambiguous
                    } else {
                        Class::Stop
                    }
                } else {
                    Class::Content
                }
            })
            .collect();
        // Phrases win over single-word rules.
        let mut in_phrase = vec![false; n];
        self.mark_phrases(words, forced, &mut in_phrase);
        for (c, p) in class.iter_mut().zip(&in_phrase) {
            if *p {
                *c = Class::Stop;
            }
        }
        // An ambiguous word is kept only when it forms a catalogue phrase with a kept neighbour
        // ("the can" → thẻ căn cước, "lam san" → lâm sản); otherwise it is taken as the filler it
        // spells.
        let before = class.clone();
        for i in 0..n {
            if before[i] == Class::Ambiguous {
                let with_prev = i > 0
                    && before[i - 1] != Class::Stop
                    && known_pair(&words[i - 1].folded, &words[i].folded);
                let with_next = i + 1 < n
                    && before[i + 1] != Class::Stop
                    && known_pair(&words[i].folded, &words[i + 1].folded);
                class[i] = if with_prev || with_next {
                    Class::Content
                } else {
                    Class::Stop
                };
            }
        }
        class.into_iter().map(|c| c == Class::Stop).collect()
    }

    /// A listed filler word as written (lowercase, with marks). The catalogue is written with
    /// marks, so its filler words need no guessing.
    pub fn is_raw_stop(&self, raw: &str) -> bool {
        self.raw.contains(raw)
    }

    /// The filler phrases as folded words.
    pub fn phrases(&self) -> impl Iterator<Item = &Vec<String>> {
        self.phrases.iter()
    }

    /// Filler flags for text written with marks (catalogue names, synonym expansions): listed words
    /// as written and filler phrases; no guessing about unmarked words.
    pub fn marked_filler_mask(&self, words: &[Word]) -> Vec<bool> {
        let mut mask: Vec<bool> = words.iter().map(|w| self.raw.contains(&w.raw)).collect();
        self.mark_phrases(words, &[], &mut mask);
        mask
    }

    /// Sets `mask` over every filler phrase (longest first), never across a forced word.
    fn mark_phrases(&self, words: &[Word], forced: &[bool], mask: &mut [bool]) {
        let n = words.len();
        let mut i = 0;
        while i < n {
            let mut matched = 0;
            if self.phrase_starts.contains(&words[i].folded) {
                for len in (2..=self.max_phrase.min(n - i)).rev() {
                    if (i..i + len).any(|j| forced.get(j).copied().unwrap_or(false)) {
                        continue;
                    }
                    let key: Vec<String> =
                        words[i..i + len].iter().map(|w| w.folded.clone()).collect();
                    if self.phrases.contains(&key) {
                        matched = len;
                        break;
                    }
                }
            }
            if matched > 0 {
                mask[i..i + matched].iter_mut().for_each(|m| *m = true);
                i += matched;
            } else {
                i += 1;
            }
        }
    }

    /// Folded words without filler phrases and without listed words that are unambiguous once
    /// folded: the form used to recognise a query that is exactly a procedure name, typed with or
    /// without marks. Ambiguous forms stay ("roi" is "rồi" or "rời"), so "rời cảng" and "vào cảng"
    /// keep distinct keys.
    pub fn loose_filter<'a, S: AsRef<str>>(&self, folded: &'a [S]) -> Vec<&'a str> {
        let n = folded.len();
        let mut out = Vec::with_capacity(n);
        let mut i = 0;
        'outer: while i < n {
            let w = folded[i].as_ref();
            if self.phrase_starts.contains(w) {
                for len in (2..=self.max_phrase.min(n - i)).rev() {
                    let key: Vec<String> = folded[i..i + len]
                        .iter()
                        .map(|s| s.as_ref().to_string())
                        .collect();
                    if self.phrases.contains(&key) {
                        i += len;
                        continue 'outer;
                    }
                }
            }
            if !self.folded.contains(w) || self.ambiguous.contains(w) {
                out.push(w);
            }
            i += 1;
        }
        out
    }

    pub fn heap_bytes(&self) -> usize {
        let set = |s: &HashSet<String>| s.iter().map(|w| w.capacity() + 32).sum::<usize>();
        set(&self.raw)
            + set(&self.folded)
            + set(&self.ambiguous)
            + self
                .phrases
                .iter()
                .map(|p| p.iter().map(|w| w.capacity() + 24).sum::<usize>() + 32)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::raw_words;
    use super::*;

    fn kept(s: &StopWords, q: &str) -> Vec<String> {
        let w = raw_words(q, 64);
        let pairs =
            |a: &str, b: &str| matches!((a, b), ("the", "can") | ("can", "cuoc") | ("co", "quan"));
        let mask = s.drop_mask(&w, &[], &pairs);
        w.into_iter()
            .zip(mask)
            .filter(|(_, d)| !d)
            .map(|(w, _)| w.folded)
            .collect()
    }

    #[test]
    fn question_phrasing_is_dropped() {
        let s = StopWords::new();
        assert_eq!(
            kept(&s, "tôi cần làm giấy khai sinh cho con thì phải làm sao"),
            ["giay", "khai", "sinh"]
        );
        assert_eq!(
            kept(&s, "thủ tục đăng ký kết hôn như thế nào"),
            ["dang", "ki", "ket", "hon"]
        );
        assert_eq!(kept(&s, "muốn làm hộ chiếu ở đâu"), ["ho", "chieu"]);
        assert_eq!(kept(&s, "tôi tôi tôi"), Vec::<String>::new());
    }

    #[test]
    fn marks_disambiguate() {
        let mut s = StopWords::new();
        // The catalogue contains "thẻ" and "cơ": unmarked "the"/"co" become ambiguous.
        for w in raw_words("Cấp thẻ căn cước cơ quan", 64) {
            s.observe(&w);
        }
        assert_eq!(kept(&s, "thẻ căn cước"), ["the", "can", "cuoc"]);
        assert_eq!(kept(&s, "the can cuoc"), ["the", "can", "cuoc"]);
        assert_eq!(kept(&s, "làm thế nào"), Vec::<String>::new());
        // "thi" is not ambiguous here, and "phai" is a plain filler: both go.
        assert_eq!(kept(&s, "ho chieu thi phai lam sao"), ["ho", "chieu"]);
        // An ambiguous word goes unless it forms a catalogue phrase with a neighbour.
        assert_eq!(kept(&s, "co phai the can cuoc"), ["the", "can", "cuoc"]);
        assert_eq!(kept(&s, "the nao"), Vec::<String>::new());
        assert_eq!(kept(&s, "lam the can cuoc"), ["the", "can", "cuoc"]);
        assert_eq!(kept(&s, "co quan"), ["co", "quan"]);
    }
}
