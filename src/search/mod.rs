//! Vietnamese-aware in-memory search over the procedure catalogue.
//!
//! What a citizen types is far from the legal names: no diacritics ("dang ky khai sinh"), typos
//! ("giay phep lai xw"), old spellings ("đăng kí"), codes ("1.001193", local "1.012753.H19"),
//! questions ("tôi cần làm giấy khai sinh cho con thì phải làm sao") and colloquial names ("sổ đỏ",
//! "bằng lái", "CMND"). The pipeline:
//!
//! - [`fold`] removes marks (NFKD, `đ`→`d`, lowercase), then a word-level `i`/`y` rule (`kí` =
//!   `ký`);
//! - filler words and phrases of questions are dropped ([`stop`]), colloquial phrases are expanded
//!   from the synonym table (`data/synonyms.csv`, [`synonyms`]), unknown words get typo candidates;
//! - documents are scored by coverage of the query, BM25F relevance over name / result / field /
//!   agency / ministry / target groups, phrase (adjacent word pairs of the name), exact name or
//!   code, and a citizen-facing prior ([`prior`]); see [`SearchIndex::search`].
//!
//! [`highlight()`] splits display text into plain segments for the template, which escapes them.
//!
//! Sizes: the 2,625-document seed builds in milliseconds; a synthetic 100,000-document catalogue is
//! the scale target (see `benches/search.rs` for latency and memory figures).

mod highlight;
mod index;
mod multimap;
pub mod prior;
pub mod stop;
pub mod synonyms;
mod text;

pub use highlight::{Highlighter, Prepared, highlight};
pub use index::SearchIndex;
pub use synonyms::{Synonym, read_synonyms_csv};
pub use text::{fold, slugify};

/// What the index needs of a procedure. The web layer builds it from the database row.
#[derive(Debug, Clone, Default)]
pub struct SearchDoc {
    pub code: String,
    pub name: String,
    pub field: String,
    pub ministry: String,
    pub agency: String,
    pub result: String,
    pub target_groups: Vec<String>,
    /// "ministry" | "province" | "commune" | "other".
    pub implementing_levels: Vec<String>,
    /// Online service level 1..4.
    pub online_level: i32,
}

/// One result: `doc` indexes the slice given to [`SearchIndex::build`].
#[derive(Debug, Clone)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
}

/// Hits best first, and the folded words to highlight (query words, their corrections and
/// expansions).
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
    pub terms: Vec<String>,
}

/// A piece of display text; `mark` pieces are matched words. Plain text: the template escapes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

#[cfg(test)]
mod tests;
