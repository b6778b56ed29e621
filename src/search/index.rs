//! Building and querying the in-memory index.
//!
//! Layout (all built once, read-only afterwards, hence `Send + Sync` for free):
//!
//! - a vocabulary of folded words with one posting list each (doc, BM25F weight, field quality),
//!   stored as flat arrays with offsets;
//! - the adjacent word pairs (bigrams) of every name, both as written and with filler words
//!   skipped, as a key → doc list map: phrase matches are what tells "đăng ký khai sinh" from a
//!   name that merely contains the four syllables;
//! - a deletion index over the vocabulary for typo candidates (symmetric delete: a word and its
//!   one-char deletions), so a typo costs a few hash lookups instead of a scan of the vocabulary;
//! - codes (exact, national base of a local variant, numeric tail), the hash of each name's loose
//!   word sequence (exact-name queries), the per-document prior.
//!
//! Scoring is described on [`SearchIndex::search`].

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::multimap::MultiMap;
use super::prior::prior_folded;
use super::stop::StopWords;
use super::synonyms::{Synonym, SynonymTable};
use super::text::{
    Word, base_code, fold, is_code, raw_words, split_raw, truncate, within_one_edit,
};
use super::{Hit, SearchDoc, SearchResult};

/// Hostile-input bounds: bytes of query looked at, words looked at, query groups scored.
const MAX_QUERY_BYTES: usize = 2048;
const MAX_QUERY_WORDS: usize = 64;
const MAX_GROUPS: usize = 32;
/// Words of a name that take part in exact-name recognition (long names: their beginning).
const NAME_KEY_WORDS: usize = 32;
/// Words shorter than this are only corrected when the neighbour confirms the correction.
const TYPO_MIN_LEN: usize = 4;
/// Longer "words" are not typo-corrected or split (pasted garbage; bounds the work).
const MAX_EDIT_LEN: usize = 24;
const MAX_TYPO_CANDIDATES: usize = 6;

/// Score weights (see [`SearchIndex::search`]).
const W_COVERAGE: f32 = 10.0;
const W_RELEVANCE: f32 = 3.0;
const W_PHRASE: f32 = 2.0;
const W_EXACT_NAME: f32 = 3.0;
/// Extra when even the filler words agree ("Thủ tục gia hạn nộp thuế" vs "Gia hạn nộp thuế").
const W_EXACT_WORDS: f32 = 1.0;
const W_PRIOR: f32 = 1.0;
const CODE_EXACT: f32 = 1000.0;
const CODE_BASE: f32 = 500.0;
const CODE_TAIL: f32 = 300.0;
/// Credit of a match through a synonym expansion, a typo correction or a split word, relative to a
/// literal match: slightly below, so the literal wording wins ties.
const F_SYNONYM: f32 = 0.95;
const F_TYPO: f32 = 0.7;
const F_SPLIT: f32 = 0.8;
const STRICT_LITERAL_PHRASE: f32 = 1.0;
const STRICT_EXPANSION: f32 = 0.5;
/// A word in more than 1/8 of the documents is common (see the anchor rule in `score_group`).
const ANCHOR_DF_DIVISOR: usize = 8;
/// Documents covering less than this share of the best document's coverage are not returned.
const KEEP_RATIO: f32 = 0.5;

/// BM25F: saturation, then per field the weight, the length normalisation and the "quality" (how
/// much a word found only in that field counts towards covering the query, ×255).
const K1: f32 = 1.2;
const FIELDS: usize = 6;
const F_NAME: usize = 0;
const FIELD_WEIGHT: [f32; FIELDS] = [1.0, 0.5, 0.6, 0.3, 0.2, 0.2];
const FIELD_B: [f32; FIELDS] = [0.75, 0.5, 0.0, 0.5, 0.0, 0.0];
const FIELD_QUALITY: [u8; FIELDS] = [255, 204, 178, 128, 100, 100];

/// One entry of a posting list, as read. Stored as two parallel arrays (6 bytes per entry instead
/// of a padded 8), since postings are most of the index's memory.
#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    /// Saturated BM25F term weight in [0, 1), ×255.
    m: u8,
    /// Best field quality, ×255.
    q: u8,
}

#[derive(Clone, Copy)]
struct Postings<'a> {
    docs: &'a [u32],
    weights: &'a [[u8; 2]],
}

type PostingIter<'a> = std::iter::Map<
    std::iter::Zip<std::slice::Iter<'a, u32>, std::slice::Iter<'a, [u8; 2]>>,
    fn((&u32, &[u8; 2])) -> Posting,
>;

impl<'a> Postings<'a> {
    fn len(&self) -> usize {
        self.docs.len()
    }

    fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

impl<'a> IntoIterator for Postings<'a> {
    type Item = Posting;
    type IntoIter = PostingIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        let f: fn((&u32, &[u8; 2])) -> Posting = |(&doc, &[m, q])| Posting { doc, m, q };
        self.docs.iter().zip(self.weights).map(f)
    }
}

/// The search index (see the module doc).
pub struct SearchIndex {
    n_docs: usize,
    vocab: HashMap<Box<str>, u32>,
    words: Vec<Box<str>>,
    idf: Vec<f32>,
    post_off: Vec<u32>,
    post_docs: Vec<u32>,
    /// (m, q) of each entry of `post_docs`.
    post_weights: Vec<[u8; 2]>,
    bigrams: MultiMap<u64>,
    deletes: MultiMap<Box<str>>,
    codes: MultiMap<Box<str>>,
    base_codes: MultiMap<Box<str>>,
    code_tails: MultiMap<Box<str>>,
    name_keys: MultiMap<u64>,
    /// Hash of all the name's words, for the query that is the name word for word.
    full_name_keys: MultiMap<u64>,
    prior: Vec<f32>,
    stop: StopWords,
    synonyms: SynonymTable,
}

/// One way to satisfy a query group: a word, a typo correction, a split, a synonym expansion.
#[derive(Debug, Clone)]
struct Alt {
    /// Word ids in order (for phrase pairs).
    seq: Vec<u32>,
    /// Distinct word ids (for coverage and relevance).
    uniq: Vec<u32>,
    idf_sum: f32,
    factor: f32,
    /// How much the words must stand together in the name, 0..=1: the covered share is scaled by
    /// `1 − strict × (1 − share of the alternative's word pairs found in the name)`. The literal
    /// words of a colloquial phrase are strict (1): "cấp lại … bằng xe" holds "bằng" and "lai" but
    /// not "bằng lái". An expansion is a legal term and half strict: "giấy phép đào tạo lái xe" is
    /// not quite "giấy phép lái xe". Single words: 0.
    strict: f32,
}

/// One concept of the query: a word, or a colloquial phrase with its expansions.
#[derive(Debug, Clone)]
struct Group {
    alts: Vec<Alt>,
    weight: f32,
}

#[derive(Debug, Default)]
struct Analyzed {
    groups: Vec<Group>,
    /// (doc, bonus) from code matches.
    code_hits: Vec<(u32, f32)>,
    name_key: Option<u64>,
    full_name_key: Option<u64>,
    terms: Vec<String>,
}

/// Per-thread scoring buffers, all zero between queries; only touched entries are reset, so a query
/// costs what it touches, not the size of the catalogue. The arrays are kept narrow and separate: a
/// broad word streams over `cov_rel` and `seen` for most of the catalogue, and at 100,000 documents
/// that is memory-bandwidth bound, so bytes per document are what counts.
#[derive(Default)]
struct Scratch {
    /// Alternative being scored: weighted coverage, relevance, phrase pairs found.
    alt: Vec<[f32; 3]>,
    alt_touched: Vec<u32>,
    /// Group being scored: best coverage and its relevance (also the best value of a phrase slot).
    group: Vec<[f32; 2]>,
    group_touched: Vec<u32>,
    /// Running totals: coverage and relevance, phrase, bonus; `seen` marks the `touched` documents.
    cov_rel: Vec<[f32; 2]>,
    phrase: Vec<f32>,
    bonus: Vec<f32>,
    seen: Vec<bool>,
    touched: Vec<u32>,
}

impl Scratch {
    fn ensure(&mut self, n: usize) {
        if self.seen.len() < n {
            self.alt.resize(n, [0.0; 3]);
            self.group.resize(n, [0.0; 2]);
            self.cov_rel.resize(n, [0.0; 2]);
            self.phrase.resize(n, 0.0);
            self.bonus.resize(n, 0.0);
            self.seen.resize(n, false);
        }
    }

    fn touch(&mut self, d: u32) {
        let seen = &mut self.seen[d as usize];
        if !*seen {
            *seen = true;
            self.touched.push(d);
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn hash_words<S: AsRef<str>>(words: &[S]) -> u64 {
    // DefaultHasher::new() has fixed keys: names and queries hash alike (within one process, which
    // is all that is needed; the keys are never stored).
    let mut h = DefaultHasher::new();
    for w in words {
        w.as_ref().hash(&mut h);
    }
    h.finish()
}

/// Hash of a name's (or query's) words without fillers, first [`NAME_KEY_WORDS`] of them.
fn name_key<S: AsRef<str>>(stop: &StopWords, folded: &[S]) -> Option<u64> {
    let key = stop.loose_filter(folded);
    (!key.is_empty()).then(|| hash_words(&key[..key.len().min(NAME_KEY_WORDS)]))
}

/// A synonym term matched in the query: its length in words and its expansions.
type SynonymSpan<'a> = (usize, &'a [Vec<String>]);

fn pair_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl SearchIndex {
    /// Builds the index. `Hit::doc` of every search is an index into `docs`.
    pub fn build(docs: &[SearchDoc], synonyms: &[Synonym]) -> SearchIndex {
        let n = docs.len();
        let mut stop = StopWords::new();
        let mut vocab: HashMap<Box<str>, u32> = HashMap::default();
        let mut words: Vec<Box<str>> = Vec::new();

        // Pass 1: words of every field as ids (the strings are dropped right away: at 100,000
        // documents keeping them would cost hundreds of MB). Normalising text is most of the build
        // time, and the same syllables and field values recur all over the catalogue, so each
        // distinct piece of text (a run between separators) is normalised once and cached as word
        // ids.
        let mut tokens: Vec<u32> = Vec::new();
        let mut tok_off: Vec<u32> = Vec::with_capacity(n * FIELDS + 1);
        // Per token, aligned with `tokens`: a name word that is a listed filler as written (with
        // marks).
        let mut filler: Vec<bool> = Vec::new();
        let mut piece_cache: HashMap<&str, (u32, u32)> = HashMap::default();
        let mut piece_words: Vec<(u32, bool)> = Vec::new();
        let mut code_pairs: Vec<(Box<str>, u32)> = Vec::new();
        let mut base_pairs: Vec<(Box<str>, u32)> = Vec::new();
        let mut tail_pairs: Vec<(Box<str>, u32)> = Vec::new();
        let mut field_len_sum = [0f64; FIELDS];
        for (d, doc) in docs.iter().enumerate() {
            for (f, len_sum) in field_len_sum.iter_mut().enumerate() {
                tok_off.push(tokens.len() as u32);
                let texts: &[String] = match f {
                    0 => std::slice::from_ref(&doc.name),
                    1 => std::slice::from_ref(&doc.result),
                    2 => std::slice::from_ref(&doc.field),
                    3 => std::slice::from_ref(&doc.agency),
                    4 => std::slice::from_ref(&doc.ministry),
                    _ => &doc.target_groups,
                };
                for piece in texts.iter().flat_map(|t| split_raw(t)) {
                    let (start, len) = *piece_cache.entry(piece).or_insert_with(|| {
                        let start = piece_words.len() as u32;
                        for w in raw_words(piece, usize::MAX) {
                            stop.observe(&w);
                            let id = match vocab.get(w.folded.as_str()) {
                                Some(&id) => id,
                                None => {
                                    let id = words.len() as u32;
                                    words.push(w.folded.clone().into_boxed_str());
                                    vocab.insert(w.folded.into_boxed_str(), id);
                                    id
                                }
                            };
                            piece_words.push((id, stop.is_raw_stop(&w.raw)));
                        }
                        (start, piece_words.len() as u32 - start)
                    });
                    *len_sum += f64::from(len);
                    for &(id, raw_stop) in &piece_words[start as usize..(start + len) as usize] {
                        tokens.push(id);
                        filler.push(f == F_NAME && raw_stop);
                    }
                }
            }
            let code = fold(&doc.code);
            if !code.is_empty() {
                code_pairs.push((code.clone().into_boxed_str(), d as u32));
                if is_code(&code) {
                    let base = base_code(&code);
                    base_pairs.push((base.into(), d as u32));
                    if let Some((_, tail)) = base.split_once('.') {
                        tail_pairs.push((tail.into(), d as u32));
                    }
                }
            }
        }
        drop(piece_cache);
        drop(piece_words);
        tok_off.push(tokens.len() as u32);
        // Filler flags of the names: listed words as written, and filler phrases (matched on ids).
        let phrases: Vec<Vec<u32>> = stop
            .phrases()
            .filter_map(|p| {
                p.iter()
                    .map(|w| vocab.get(w.as_str()).copied())
                    .collect::<Option<Vec<u32>>>()
            })
            .collect();
        // Name lengths for BM25 leave the filler out: "Thủ tục đăng ký khai tử" is no less specific
        // than "Đăng ký lại khai tử" because of its boilerplate prefix.
        let mut name_len: Vec<u32> = Vec::with_capacity(n);
        field_len_sum[F_NAME] = 0.0;
        for d in 0..n {
            let i = d * FIELDS + F_NAME;
            let (a, b) = (tok_off[i] as usize, tok_off[i + 1] as usize);
            mark_phrase_ids(&phrases, &tokens[a..b], &mut filler[a..b]);
            let len = filler[a..b].iter().filter(|f| !**f).count().max(1) as u32;
            field_len_sum[F_NAME] += f64::from(len);
            name_len.push(len);
        }
        // Exact-name keys need the complete ambiguity table, hence after pass 1. The prior reads
        // the folded name (rebuilt from its ids), field and target groups (few distinct).
        let mut key_pairs: Vec<(u64, u32)> = Vec::with_capacity(n);
        let mut full_key_pairs: Vec<(u64, u32)> = Vec::with_capacity(n);
        let mut priors: Vec<f32> = Vec::with_capacity(n);
        let mut folded_cache: HashMap<&str, String> = HashMap::default();
        for (d, doc) in docs.iter().enumerate() {
            let i = d * FIELDS + F_NAME;
            let folded: Vec<&str> = tokens[tok_off[i] as usize..tok_off[i + 1] as usize]
                .iter()
                .map(|&t| &*words[t as usize])
                .collect();
            if let Some(k) = name_key(&stop, &folded) {
                key_pairs.push((k, d as u32));
            }
            if !folded.is_empty() {
                full_key_pairs.push((hash_words(&folded), d as u32));
            }
            let field = folded_cache
                .entry(&doc.field)
                .or_insert_with(|| fold(&doc.field))
                .clone();
            let groups: Vec<String> = doc
                .target_groups
                .iter()
                .map(|g| folded_cache.entry(g).or_insert_with(|| fold(g)).clone())
                .collect();
            priors.push(prior_folded(doc, &folded.join(" "), &field, &groups));
        }
        drop(folded_cache);
        let avg_len: Vec<f32> = field_len_sum
            .iter()
            .map(|s| {
                if n > 0 {
                    (*s / n as f64).max(1.0) as f32
                } else {
                    1.0
                }
            })
            .collect();
        let field_tokens = |d: usize, f: usize| {
            let i = d * FIELDS + f;
            &tokens[tok_off[i] as usize..tok_off[i + 1] as usize]
        };

        // Pass 2: document frequencies, then postings filled in document order (so each list is
        // sorted).
        let n_words = words.len();
        let mut df = vec![0u32; n_words];
        let mut last_doc = vec![u32::MAX; n_words];
        for d in 0..n {
            for f in 0..FIELDS {
                for &t in field_tokens(d, f) {
                    if last_doc[t as usize] != d as u32 {
                        last_doc[t as usize] = d as u32;
                        df[t as usize] += 1;
                    }
                }
            }
        }
        let mut post_off = Vec::with_capacity(n_words + 1);
        let mut acc = 0u32;
        for &c in &df {
            post_off.push(acc);
            acc += c;
        }
        post_off.push(acc);
        let mut cursor: Vec<u32> = post_off[..n_words].to_vec();
        let mut post_docs = vec![0u32; acc as usize];
        let mut post_weights = vec![[0u8; 2]; acc as usize];
        let mut tf: Vec<(u32, [u16; FIELDS])> = Vec::new();
        let mut bigram_pairs: Vec<(u64, u32)> = Vec::new();
        for d in 0..n {
            tf.clear();
            for f in 0..FIELDS {
                for &t in field_tokens(d, f) {
                    // Documents have tens of distinct words: a linear scan beats hashing here.
                    match tf.iter_mut().find(|e| e.0 == t) {
                        Some(e) => e.1[f] = e.1[f].saturating_add(1),
                        None => {
                            let mut c = [0u16; FIELDS];
                            c[f] = 1;
                            tf.push((t, c));
                        }
                    }
                }
            }
            for &(t, counts) in &tf {
                let mut tfc = 0f32;
                let mut q = 0u8;
                for f in 0..FIELDS {
                    if counts[f] > 0 {
                        let len = if f == F_NAME {
                            name_len[d] as f32
                        } else {
                            field_tokens(d, f).len() as f32
                        };
                        let norm = 1.0 - FIELD_B[f] + FIELD_B[f] * len / avg_len[f];
                        tfc += FIELD_WEIGHT[f] * f32::from(counts[f]) / norm;
                        q = q.max(FIELD_QUALITY[f]);
                    }
                }
                let m = tfc / (K1 + tfc);
                let slot = &mut cursor[t as usize];
                post_docs[*slot as usize] = d as u32;
                post_weights[*slot as usize] = [(m * 255.0).round() as u8, q];
                *slot += 1;
            }
            // Name bigrams: as written, and with filler words skipped ("khai sinh cho người" also
            // gives "sinh người", which is what a query without "cho" produces).
            let name = field_tokens(d, F_NAME);
            let start = bigram_pairs.len();
            for w in name.windows(2) {
                bigram_pairs.push((pair_key(w[0], w[1]), d as u32));
            }
            let name_off = tok_off[d * FIELDS + F_NAME] as usize;
            let kept: Vec<u32> = name
                .iter()
                .enumerate()
                .filter(|(i, _)| !filler[name_off + i])
                .map(|(_, &t)| t)
                .collect();
            for w in kept.windows(2) {
                bigram_pairs.push((pair_key(w[0], w[1]), d as u32));
            }
            let mine = &mut bigram_pairs[start..];
            mine.sort_unstable();
            let mut k = start;
            for i in start..bigram_pairs.len() {
                if i == start || bigram_pairs[i] != bigram_pairs[k - 1] {
                    bigram_pairs[k] = bigram_pairs[i];
                    k += 1;
                }
            }
            bigram_pairs.truncate(k);
        }
        drop(tokens);
        let nf = n as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&c| (1.0 + (nf - c as f32 + 0.5) / (c as f32 + 0.5)).ln())
            .collect();

        // Typo candidates: every word of 2..=MAX_EDIT_LEN letters (no digits) and its one-char
        // deletions.
        let mut del_pairs: Vec<(Box<str>, u32)> = Vec::new();
        for (id, w) in words.iter().enumerate() {
            let len = w.chars().count();
            if !(2..=MAX_EDIT_LEN).contains(&len) || w.chars().any(|c| c.is_numeric() || c == '.') {
                continue;
            }
            del_pairs.push((w.clone(), id as u32));
            for del in deletions(w) {
                del_pairs.push((del.into_boxed_str(), id as u32));
            }
        }

        vocab.shrink_to_fit();
        words.shrink_to_fit();
        let synonyms = SynonymTable::new(synonyms, &stop);
        SearchIndex {
            n_docs: n,
            vocab,
            words,
            idf,
            post_off,
            post_docs,
            post_weights,
            bigrams: MultiMap::from_pairs(bigram_pairs),
            deletes: MultiMap::from_pairs(del_pairs),
            codes: MultiMap::from_pairs(code_pairs),
            base_codes: MultiMap::from_pairs(base_pairs),
            code_tails: MultiMap::from_pairs(tail_pairs),
            name_keys: MultiMap::from_pairs(key_pairs),
            full_name_keys: MultiMap::from_pairs(full_key_pairs),
            prior: priors,
            stop,
            synonyms,
        }
    }

    fn term(&self, w: &str) -> Option<u32> {
        self.vocab.get(w).copied()
    }

    fn postings(&self, t: u32) -> Postings<'_> {
        let t = t as usize;
        let range = self.post_off[t] as usize..self.post_off[t + 1] as usize;
        Postings {
            docs: &self.post_docs[range.clone()],
            weights: &self.post_weights[range],
        }
    }

    fn pair_docs(&self, a: u32, b: u32) -> &[u32] {
        self.bigrams.get(&pair_key(a, b))
    }

    fn is_pair(&self, a: &str, b: &str) -> bool {
        match (self.term(a), self.term(b)) {
            (Some(x), Some(y)) => !self.pair_docs(x, y).is_empty(),
            _ => false,
        }
    }

    fn alt(&self, seq: Vec<u32>, factor: f32, strict: f32) -> Alt {
        let mut uniq = seq.clone();
        uniq.sort_unstable();
        uniq.dedup();
        // Rarest first: see the anchor rule in `score_group`.
        uniq.sort_by(|&a, &b| {
            self.idf[b as usize]
                .total_cmp(&self.idf[a as usize])
                .then(a.cmp(&b))
        });
        let idf_sum = uniq.iter().map(|&t| self.idf[t as usize]).sum();
        let strict = if seq.len() > 1 { strict } else { 0.0 };
        Alt {
            seq,
            uniq,
            idf_sum,
            factor,
            strict,
        }
    }

    /// Known words within one edit of `w`, most frequent first.
    fn typo_candidates(&self, w: &str) -> Vec<u32> {
        let mut cands: Vec<u32> = Vec::new();
        let mut probe = |k: &str| {
            for &id in self.deletes.get(k) {
                if !cands.contains(&id) && within_one_edit(w, &self.words[id as usize]) {
                    cands.push(id);
                }
            }
        };
        probe(w);
        for del in deletions(w) {
            probe(&del);
        }
        cands.retain(|&id| &*self.words[id as usize] != w);
        cands.sort_by(|&a, &b| {
            self.idf[a as usize]
                .total_cmp(&self.idf[b as usize])
                .then(a.cmp(&b))
        });
        cands
    }

    /// The query as groups of alternatives, code matches, the exact-name key and the words to
    /// highlight.
    fn analyze(&self, query: &str) -> Analyzed {
        let mut out = Analyzed::default();
        let query = truncate(query, MAX_QUERY_BYTES);
        let all = raw_words(query, MAX_QUERY_BYTES);
        if all.is_empty() {
            return out;
        }
        let push_term = |terms: &mut Vec<String>, w: &str| {
            if !terms.iter().any(|t| t == w) {
                terms.push(w.to_string());
            }
        };

        // The whole query as a code, for codes that do not look like "1.001193".
        let whole = fold(query);
        for &d in self.codes.get(whole.as_str()) {
            out.code_hits.push((d, CODE_EXACT));
        }
        let folded_all: Vec<String> = all.iter().map(|w| w.folded.clone()).collect();
        out.name_key = name_key(&self.stop, &folded_all);
        out.full_name_key = Some(hash_words(&folded_all));

        // Codes come out of the word stream; everything else is text.
        let mut ws: Vec<Word> = Vec::new();
        for w in all.into_iter().take(MAX_QUERY_WORDS) {
            if is_code(&w.folded) {
                for &d in self.codes.get(w.folded.as_str()) {
                    out.code_hits.push((d, CODE_EXACT));
                }
                for &d in self.base_codes.get(base_code(&w.folded)) {
                    out.code_hits.push((d, CODE_BASE));
                }
                push_term(&mut out.terms, &w.folded);
            } else if w.folded.len() >= 6
                && w.folded.bytes().all(|b| b.is_ascii_digit())
                && !self.code_tails.get(w.folded.as_str()).is_empty()
            {
                for &d in self.code_tails.get(w.folded.as_str()) {
                    out.code_hits.push((d, CODE_TAIL));
                }
            } else {
                ws.push(w);
            }
        }

        // Synonym phrases first (longest match), then filler words among the rest.
        let folded: Vec<String> = ws.iter().map(|w| w.folded.clone()).collect();
        let n = ws.len();
        let mut syn_at: Vec<Option<SynonymSpan<'_>>> = vec![None; n];
        let mut forced = vec![false; n];
        let mut i = 0;
        while i < n {
            match self.synonyms.longest_match(&folded, i) {
                Some((len, exps)) => {
                    syn_at[i] = Some((len, exps));
                    forced[i..i + len].iter_mut().for_each(|f| *f = true);
                    i += len;
                }
                None => i += 1,
            }
        }
        let known_pair = |a: &str, b: &str| self.is_pair(a, b);
        let dropped = self.stop.drop_mask(&ws, &forced, &known_pair);
        let kept: Vec<usize> = (0..n).filter(|&i| !dropped[i]).collect();

        // A repeated word or phrase is one concept: it forms one group (a pasted text repeating the
        // same words would otherwise cost a group per repetition).
        let mut seen_groups: Vec<&[String]> = Vec::new();
        let mut i = 0;
        while i < n && out.groups.len() < MAX_GROUPS {
            if let Some((len, exps)) = syn_at[i] {
                let span = &folded[i..i + len];
                if seen_groups.contains(&span) {
                    i += len;
                    continue;
                }
                seen_groups.push(span);
                let mut alts = Vec::new();
                let lit: Vec<Option<u32>> = span.iter().map(|w| self.term(w)).collect();
                let lit_idf: f32 = lit.iter().flatten().map(|&t| self.idf[t as usize]).sum();
                if lit.iter().all(Option::is_some) {
                    alts.push(self.alt(
                        lit.into_iter().flatten().collect(),
                        1.0,
                        STRICT_LITERAL_PHRASE,
                    ));
                }
                let mut exp_idf = 0f32;
                for e in exps {
                    let ids: Vec<u32> = e.iter().filter_map(|w| self.term(w)).collect();
                    if ids.is_empty() {
                        continue;
                    }
                    let alt = self.alt(ids, F_SYNONYM, STRICT_EXPANSION);
                    exp_idf = exp_idf.max(alt.idf_sum / alt.uniq.len() as f32);
                    alts.push(alt);
                    e.iter().for_each(|w| push_term(&mut out.terms, w));
                }
                // The literal words of a multi-word colloquial phrase are not highlighted: alone
                // they mark unrelated words ("sổ đỏ" would mark every "số" and "do").
                if len == 1 {
                    span.iter().for_each(|w| push_term(&mut out.terms, w));
                }
                // A colloquial phrase weighs what its words weigh, but at least what an average
                // word of its expansion weighs: "mst" is unknown to the catalogue yet central to
                // the query.
                let weight = lit_idf.max(exp_idf * len as f32);
                if !alts.is_empty() && weight > 0.0 {
                    out.groups.push(Group { alts, weight });
                }
                i += len;
                continue;
            }
            if dropped[i] {
                i += 1;
                continue;
            }
            if seen_groups.contains(&&folded[i..=i]) {
                i += 1;
                continue;
            }
            seen_groups.push(&folded[i..=i]);
            let w = folded[i].as_str();
            push_term(&mut out.terms, w);
            let pos = kept.iter().position(|&k| k == i).unwrap_or(0);
            let prev = pos
                .checked_sub(1)
                .and_then(|p| kept.get(p))
                .map(|&k| folded[k].as_str());
            let next = kept.get(pos + 1).map(|&k| folded[k].as_str());
            let alts = self.word_alts(w, prev, next);
            let weight = alts
                .iter()
                .map(|a| a.idf_sum / a.uniq.len().max(1) as f32)
                .fold(0.0, f32::max);
            for a in &alts {
                for &t in &a.uniq {
                    push_term(&mut out.terms, &self.words[t as usize]);
                }
            }
            if !alts.is_empty() && weight > 0.0 {
                out.groups.push(Group { alts, weight });
            }
            i += 1;
        }
        out
    }

    /// Alternatives for one query word: itself if known, else typo corrections and splits.
    fn word_alts(&self, w: &str, prev: Option<&str>, next: Option<&str>) -> Vec<Alt> {
        if let Some(t) = self.term(w) {
            return vec![self.alt(vec![t], 1.0, 0.0)];
        }
        let len = w.chars().count();
        let mut alts = Vec::new();
        if len > MAX_EDIT_LEN || w.chars().any(|c| c.is_numeric() || c == '.') {
            return alts;
        }
        if len >= TYPO_MIN_LEN {
            for t in self
                .typo_candidates(w)
                .into_iter()
                .take(MAX_TYPO_CANDIDATES)
            {
                alts.push(self.alt(vec![t], F_TYPO, 0.0));
            }
            // Two words typed without the space: "kethon" → "ket hon", if the pair is a catalogue
            // phrase.
            for (k, _) in w.char_indices().skip(1) {
                let (a, b) = w.split_at(k);
                if let (Some(x), Some(y)) = (self.term(a), self.term(b))
                    && !self.pair_docs(x, y).is_empty()
                {
                    alts.push(self.alt(vec![x, y], F_SPLIT, 0.0));
                }
            }
        } else if len >= 2 {
            // Short words are too noisy to correct alone ("xw" could be many things); accept a
            // correction only when it forms a catalogue phrase with a neighbour ("lai xw" → "lái
            // xe").
            for t in self.typo_candidates(w) {
                let cand = &*self.words[t as usize];
                let fits = prev.is_some_and(|p| self.is_pair(p, cand))
                    || next.is_some_and(|x| self.is_pair(cand, x));
                if fits {
                    alts.push(self.alt(vec![t], F_TYPO, 0.0));
                    if alts.len() >= MAX_TYPO_CANDIDATES {
                        break;
                    }
                }
            }
        }
        alts
    }

    /// All matching documents, best first.
    ///
    /// The query is folded, codes are taken out, colloquial phrases are matched against the synonym
    /// table (longest first), filler words are dropped and at most 32 *groups* remain: one per
    /// word, or one per colloquial phrase. Each group has alternatives: the literal word(s) (credit
    /// 1), typo corrections of unknown words (0.7), a split of two glued words (0.8), synonym
    /// expansions (0.95); multi-word alternatives also need their words to stand together in the
    /// name (see `Alt::strict`). A group weighs the idf of its word(s). For each document:
    ///
    /// - *coverage*: the weighted share of groups the document satisfies (best alternative; a word
    ///   found only in a secondary field counts less, see `FIELD_QUALITY`). It dominates the score
    ///   (squared, ×10): a document matching every word beats one matching a rare word only;
    /// - *relevance*: the same sum with the BM25F weight of each word (name ≫ result > field >
    ///   agency), which favours short, specific names (×3);
    /// - *phrase*: the share of adjacent query groups that are adjacent in the name (×2);
    /// - +3 when the query, fillers removed, is exactly the name (+1 more if word for word); +1000
    ///   for an exact code, +500 for the national code of a local variant, +300 for a code's
    ///   numeric tail;
    /// - + the prior (×1, in [0, 1], see [`super::prior`]).
    ///
    /// Documents with less than half the best coverage are left out.
    pub fn search(&self, query: &str) -> SearchResult {
        self.search_where(query, |_| true)
    }

    /// [`search`](Self::search) among the documents `keep` accepts (a facet filter): the
    /// filter applies before weak matches are cut, so the cut is relative to the best match
    /// *inside* the filter, and a narrow field's only weak match is still found.
    pub fn search_where(&self, query: &str, keep: impl Fn(usize) -> bool) -> SearchResult {
        let q = self.analyze(query);
        if q.groups.is_empty() && q.code_hits.is_empty() {
            return SearchResult::default();
        }
        SCRATCH.with(|cell| {
            let mut guard = cell.borrow_mut();
            let s = &mut *guard;
            s.ensure(self.n_docs);
            let hits = self.score(&q, s, &keep);
            SearchResult {
                hits,
                terms: q.terms,
            }
        })
    }

    fn score(&self, q: &Analyzed, s: &mut Scratch, keep: &dyn Fn(usize) -> bool) -> Vec<Hit> {
        let mut active_weight = 0f32;
        for g in &q.groups {
            if self.score_group(g, s) {
                active_weight += g.weight;
            }
        }
        let slots = self.phrase_slots(q, s);

        for &(d, bonus) in &q.code_hits {
            s.touch(d);
            // Several code rules can hit the same document: the strongest counts.
            s.bonus[d as usize] = s.bonus[d as usize].max(bonus);
        }
        for (key, map, w) in [
            (q.name_key, &self.name_keys, W_EXACT_NAME),
            (q.full_name_key, &self.full_name_keys, W_EXACT_WORDS),
        ] {
            let Some(key) = key else { continue };
            for &d in map.get(&key) {
                if s.seen[d as usize] {
                    s.bonus[d as usize] += w;
                }
            }
        }

        let inv_w = if active_weight > 0.0 {
            1.0 / active_weight
        } else {
            0.0
        };
        let inv_slots = if slots > 0 { 1.0 / slots as f32 } else { 0.0 };
        let best_cov = s
            .touched
            .iter()
            .filter(|&&d| keep(d as usize))
            .map(|&d| s.cov_rel[d as usize][0])
            .fold(0.0, f32::max)
            * inv_w;
        let min_cov = KEEP_RATIO * best_cov;
        let mut hits = Vec::with_capacity(s.touched.len());
        for &d in &s.touched {
            let i = d as usize;
            let [cov, rel] = std::mem::take(&mut s.cov_rel[i]);
            let phrase = std::mem::take(&mut s.phrase[i]);
            let bonus = std::mem::take(&mut s.bonus[i]);
            s.seen[i] = false;
            if !keep(i) {
                continue;
            }
            let cov = cov * inv_w;
            if (cov >= min_cov && (cov > 0.0 || bonus > 0.0)) || bonus >= CODE_TAIL {
                let score = W_COVERAGE * cov * cov
                    + W_RELEVANCE * rel * inv_w
                    + W_PHRASE * phrase * inv_slots
                    + W_PRIOR * self.prior[i]
                    + bonus;
                hits.push(Hit { doc: i, score });
            }
        }
        s.touched.clear();
        sort_hits(&mut hits);
        hits
    }

    /// Adds one group's coverage and relevance to the running totals; false when no document
    /// matched.
    fn score_group(&self, g: &Group, s: &mut Scratch) -> bool {
        // Fast path for the common case, one literal word: straight into the totals.
        if let [a] = g.alts.as_slice()
            && let [t] = a.uniq.as_slice()
        {
            let postings = self.postings(*t);
            let w = g.weight * a.factor / 255.0;
            // Disjoint borrows, so the compiler keeps the array pointers in registers.
            let (seen, cov_rel, touched) = (&mut s.seen[..], &mut s.cov_rel[..], &mut s.touched);
            touched.reserve(postings.len());
            for p in postings {
                let d = p.doc as usize;
                if !seen[d] {
                    seen[d] = true;
                    touched.push(p.doc);
                }
                let e = &mut cov_rel[d];
                e[0] += w * f32::from(p.q);
                e[1] += w * f32::from(p.m);
            }
            return !postings.is_empty();
        }
        for a in &g.alts {
            // One word per alternative (typo corrections): the alternative's share is the posting
            // itself.
            if let [t] = a.uniq.as_slice() {
                let (wc, wr) = (a.factor / 255.0, a.factor / 255.0);
                for p in self.postings(*t) {
                    let (c, r) = (wc * f32::from(p.q), wr * f32::from(p.m));
                    let e = &mut s.group[p.doc as usize];
                    if e[0] == 0.0 {
                        s.group_touched.push(p.doc);
                    }
                    if c > e[0] || (c == e[0] && r > e[1]) {
                        *e = [c, r];
                    }
                }
                continue;
            }
            for (k, &t) in a.uniq.iter().enumerate() {
                let w = self.idf[t as usize];
                let postings = self.postings(t);
                // Anchor rule: a very common word of a multi-word alternative ("sử", "dụng" in
                // "giấy chứng nhận quyền sử dụng đất") only adds to documents that hold a rarer
                // word of it. A document with nothing but common words would get a negligible share
                // anyway, and at 100,000 documents touching all of them is most of the query's
                // cost.
                let anchor = k == 0 || postings.len() <= self.n_docs / ANCHOR_DF_DIVISOR;
                for p in postings {
                    let e = &mut s.alt[p.doc as usize];
                    if e[0] == 0.0 {
                        if !anchor {
                            continue;
                        }
                        s.alt_touched.push(p.doc);
                    }
                    e[0] += w * f32::from(p.q) / 255.0;
                    e[1] += w * f32::from(p.m) / 255.0;
                }
            }
            let mut pairs_total = 0f32;
            if a.strict > 0.0 {
                // Only documents already in `alt_touched` count (the anchor rule may have left out
                // some that hold the pair), so every count is reset below.
                let mut pairs: Vec<(u32, u32)> = a.seq.windows(2).map(|w| (w[0], w[1])).collect();
                pairs.sort_unstable();
                pairs.dedup();
                pairs_total = pairs.len() as f32;
                for &(x, y) in &pairs {
                    for &d in self.pair_docs(x, y) {
                        let e = &mut s.alt[d as usize];
                        if e[0] > 0.0 {
                            e[2] += 1.0;
                        }
                    }
                }
            }
            for &d in &s.alt_touched {
                let [cov, rel, pairs] = std::mem::take(&mut s.alt[d as usize]);
                let together = if pairs_total > 0.0 {
                    1.0 - a.strict * (1.0 - pairs / pairs_total)
                } else {
                    1.0
                };
                let c = a.factor * cov / a.idf_sum * together;
                let r = a.factor * rel / a.idf_sum * together;
                if c <= 0.0 {
                    continue;
                }
                let e = &mut s.group[d as usize];
                if e[0] == 0.0 {
                    s.group_touched.push(d);
                }
                if c > e[0] || (c == e[0] && r > e[1]) {
                    *e = [c, r];
                }
            }
            s.alt_touched.clear();
        }
        let any = !s.group_touched.is_empty();
        for i in 0..s.group_touched.len() {
            let d = s.group_touched[i];
            let [c, r] = std::mem::take(&mut s.group[d as usize]);
            s.touch(d);
            let e = &mut s.cov_rel[d as usize];
            e[0] += g.weight * c;
            e[1] += g.weight * r;
        }
        s.group_touched.clear();
        any
    }

    /// Adds each document's phrase credit to its totals; returns the number of slots that any
    /// document could satisfy. A slot is a pair of neighbouring groups (any alternative's last word
    /// followed by the next group's first word) or the inside of a multi-word alternative (share of
    /// its pairs).
    fn phrase_slots(&self, q: &Analyzed, s: &mut Scratch) -> usize {
        let mut slots = 0;
        for (gi, g) in q.groups.iter().enumerate() {
            // Inside multi-word alternatives: count pairs per document, keep the best alternative.
            for a in g.alts.iter().filter(|a| a.seq.len() > 1) {
                let mut pairs: Vec<(u32, u32)> = a.seq.windows(2).map(|w| (w[0], w[1])).collect();
                pairs.sort_unstable();
                pairs.dedup();
                let total = pairs.len() as f32;
                for &(x, y) in &pairs {
                    for &d in self.pair_docs(x, y) {
                        let e = &mut s.alt[d as usize];
                        if e[2] == 0.0 {
                            s.alt_touched.push(d);
                        }
                        e[2] += 1.0;
                    }
                }
                for &d in &s.alt_touched {
                    let v = a.factor * std::mem::take(&mut s.alt[d as usize][2]) / total;
                    let e = &mut s.group[d as usize];
                    if e[0] == 0.0 {
                        s.group_touched.push(d);
                    }
                    e[0] = e[0].max(v);
                }
                s.alt_touched.clear();
            }
            slots += self.flush_slot(s);
            // Between this group and the next.
            let Some(h) = q.groups.get(gi + 1) else {
                continue;
            };
            for a in &g.alts {
                let Some(&x) = a.seq.last() else { continue };
                for b in &h.alts {
                    let Some(&y) = b.seq.first() else { continue };
                    let v = a.factor * b.factor;
                    for &d in self.pair_docs(x, y) {
                        let e = &mut s.group[d as usize];
                        if e[0] == 0.0 {
                            s.group_touched.push(d);
                        }
                        e[0] = e[0].max(v);
                    }
                }
            }
            slots += self.flush_slot(s);
        }
        slots
    }

    /// Moves a slot's per-document values into the totals; 1 if any document had the slot.
    fn flush_slot(&self, s: &mut Scratch) -> usize {
        let any = usize::from(!s.group_touched.is_empty());
        for i in 0..s.group_touched.len() {
            let d = s.group_touched[i] as usize;
            let [v, _] = std::mem::take(&mut s.group[d]);
            // A document can hold the pair without being touched (the anchor rule): its value is
            // dropped, which keeps the invariant that only touched documents hold non-zero totals.
            if s.seen[d] {
                s.phrase[d] += v;
            }
        }
        s.group_touched.clear();
        any
    }

    /// Approximate heap size of the index in bytes.
    pub fn memory_bytes(&self) -> usize {
        let vocab_slot = std::mem::size_of::<(Box<str>, u32)>() + 1;
        std::mem::size_of::<Self>()
            + self.vocab.capacity() * 8 / 7 * vocab_slot
            + self.vocab.keys().map(|k| k.len()).sum::<usize>()
            + self.words.capacity() * std::mem::size_of::<Box<str>>()
            + self.words.iter().map(|w| w.len()).sum::<usize>()
            + self.idf.capacity() * 4
            + self.post_off.capacity() * 4
            + self.post_docs.capacity() * 4
            + self.post_weights.capacity() * 2
            + self.bigrams.heap_bytes(|_| 0)
            + self.deletes.heap_bytes(|k| k.len())
            + self.codes.heap_bytes(|k| k.len())
            + self.base_codes.heap_bytes(|k| k.len())
            + self.code_tails.heap_bytes(|k| k.len())
            + self.name_keys.heap_bytes(|_| 0)
            + self.full_name_keys.heap_bytes(|_| 0)
            + self.prior.capacity() * 4
            + self.stop.heap_bytes()
            + self.synonyms.heap_bytes()
    }

    /// Number of documents indexed.
    pub fn len(&self) -> usize {
        self.n_docs
    }

    /// True when built from no documents.
    pub fn is_empty(&self) -> bool {
        self.n_docs == 0
    }
}

/// Sets `mask` over every occurrence of a phrase (as word ids) in `ids`, longest phrase first.
fn mark_phrase_ids(phrases: &[Vec<u32>], ids: &[u32], mask: &mut [bool]) {
    let mut i = 0;
    while i < ids.len() {
        let best = phrases
            .iter()
            .filter(|p| ids[i..].starts_with(p))
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        if best > 0 {
            mask[i..i + best].iter_mut().for_each(|m| *m = true);
            i += best;
        } else {
            i += 1;
        }
    }
}

/// Best first, ties by document order. Large result sets (a broad word over 100,000 documents
/// matches tens of thousands) are radix-sorted on a packed key, several times faster than a
/// comparison sort.
fn sort_hits(hits: &mut Vec<Hit>) {
    if hits.len() < 2048 {
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        return;
    }
    // Key: descending score (order-preserving, reversible map of the f32 bits, inverted) in the
    // high half, ascending doc in the low half. Scores are finite, so the map is exact.
    let mut keys: Vec<u64> = hits
        .iter()
        .map(|h| {
            let bits = h.score.to_bits();
            let ordered = if bits >> 31 == 1 {
                !bits
            } else {
                bits | 0x8000_0000
            };
            (u64::from(!ordered) << 32) | h.doc as u64
        })
        .collect();
    let mut buf = vec![0u64; keys.len()];
    let mut count = vec![0u32; 1 << 16];
    for shift in (0..64).step_by(16) {
        count.iter_mut().for_each(|c| *c = 0);
        for k in &keys {
            count[((k >> shift) & 0xffff) as usize] += 1;
        }
        // A pass where every key has the same digit changes nothing (e.g. the high doc bits).
        if count.iter().any(|&c| c as usize == keys.len()) {
            continue;
        }
        let mut sum = 0u32;
        for c in count.iter_mut() {
            let v = *c;
            *c = sum;
            sum += v;
        }
        for &k in &keys {
            let slot = &mut count[((k >> shift) & 0xffff) as usize];
            buf[*slot as usize] = k;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut buf);
    }
    hits.clear();
    hits.extend(keys.into_iter().map(|k| {
        let ordered = !((k >> 32) as u32);
        let bits = if ordered >> 31 == 1 {
            ordered & 0x7fff_ffff
        } else {
            !ordered
        };
        Hit {
            doc: (k & 0xffff_ffff) as usize,
            score: f32::from_bits(bits),
        }
    }));
}

/// `w` with one char removed, for every position.
fn deletions(w: &str) -> Vec<String> {
    let idx: Vec<usize> = w.char_indices().map(|(i, _)| i).collect();
    let mut out = Vec::with_capacity(idx.len());
    for (k, &i) in idx.iter().enumerate() {
        let end = idx.get(k + 1).copied().unwrap_or(w.len());
        let mut s = String::with_capacity(w.len());
        s.push_str(&w[..i]);
        s.push_str(&w[end..]);
        if !s.is_empty() {
            out.push(s);
        }
    }
    out
}
