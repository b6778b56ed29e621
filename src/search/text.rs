//! Text normalisation shared by indexing, querying and highlighting.
//!
//! Everything that compares words goes through the same two steps, so the index, the query and the
//! highlighter can never disagree about what "the same word" means:
//!
//! 1. [`fold`]: compatibility decomposition (NFKD), combining marks dropped, `đ`→`d`, lowercase,
//!    every character that is not a letter or digit becomes a space, except a `.` inside a code.
//! 2. [`norm_word`]: the Vietnamese `i`/`y` spelling variant (`kỹ`/`kĩ`, `lý`/`lí`) on each folded
//!    word.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// URL-safe ASCII slug of a Vietnamese name ("Hộ tịch" → "ho-tich"); the stable key of the
/// field and agency filters.
pub fn slugify(name: &str) -> String {
    let folded = fold(name);
    let mut out = String::with_capacity(folded.len());
    for ch in folded.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Lowercase, diacritic-free form of `s` (see the module doc).
///
/// NFKD rather than plain NFD so that full-width digits and ligatures pasted from PDFs fold too.
/// Tone-mark placement ("Hoà" vs "Hòa") and NFC/NFD input both disappear once the marks are
/// dropped. A `.` is kept only between two letters/digits of which at least one is a digit
/// ("1.012753.H19", "09.1"), so that procedure codes stay one word while a sentence-ending dot or
/// "v.v" splits. Runs of separators collapse to one space and the result is trimmed.
pub fn fold(s: &str) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            // đ/Đ have no decomposition; the Icelandic eth is a common look-alike in scanned text.
            'đ' | 'Đ' | 'ð' | 'Ð' => chars.push('d'),
            c if is_alnum(c) => {
                for l in c.to_lowercase() {
                    if !is_combining_mark(l) {
                        chars.push(l);
                    }
                }
            }
            '.' => chars.push('.'),
            _ => chars.push(' '),
        }
    }
    let mut out = String::with_capacity(chars.len());
    let mut pending_space = false;
    for (i, &c) in chars.iter().enumerate() {
        let keep = if c == '.' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            is_alnum(prev) && is_alnum(next) && (prev.is_ascii_digit() || next.is_ascii_digit())
        } else {
            c != ' '
        };
        if keep {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Folded words of `s`.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(norm_word_owned)
        .collect()
}

/// The `i`/`y` variant: a final `y` right after a consonant is written `i` by many people and in
/// older spelling ("kỹ thuật"/"kĩ thuật", "lý lịch"/"lí lịch", "ký"/"kí"), so it is indexed and
/// searched as `i`. After a vowel the `y` is part of a different rhyme ("huy", "quy", "tuy") and is
/// kept.
pub fn norm_word(w: &str) -> Cow<'_, str> {
    let b = w.as_bytes();
    let n = b.len();
    if n >= 2
        && b[n - 1] == b'y'
        && b[n - 2].is_ascii_lowercase()
        && !matches!(b[n - 2], b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
        && b.iter().all(u8::is_ascii_lowercase)
    {
        let mut s = String::with_capacity(n);
        s.push_str(&w[..n - 1]);
        s.push('i');
        Cow::Owned(s)
    } else {
        Cow::Borrowed(w)
    }
}

fn norm_word_owned(w: &str) -> String {
    norm_word(w).into_owned()
}

/// Lowercase NFC form with diacritics, used to tell "có" (a filler) from "cơ" (a content word) when
/// the user typed the marks.
pub fn raw_lower(s: &str) -> String {
    s.nfc().flat_map(char::to_lowercase).collect()
}

/// A word of a raw string with both its raw (marked, lowercase) and folded forms. Raw words are
/// split on the same separators as [`fold`], so the two lists line up except when one raw word
/// folds into several.
#[derive(Debug, Clone)]
pub struct Word {
    pub raw: String,
    pub folded: String,
}

/// `char::is_alphanumeric` with a shortcut for ASCII and the Latin blocks Vietnamese is written in
/// (the general lookup is a table search and showed up as a tenth of the index build time).
pub fn is_alnum(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' => true,
        '\0'..='\u{7f}' => false,
        '\u{c0}'..='\u{24f}' => c != '\u{d7}' && c != '\u{f7}',
        '\u{1ea0}'..='\u{1eff}' => true,
        _ => c.is_alphanumeric(),
    }
}

/// Words of `s` keeping the original marks alongside the folded form; at most `max` words.
pub fn raw_words(s: &str, max: usize) -> Vec<Word> {
    let mut out = Vec::new();
    for piece in split_raw(s) {
        // A dot only survives inside codes; "đất." must still compare equal to "đất".
        let raw = raw_lower(piece.trim_matches('.'));
        for f in fold(piece).split(' ').filter(|w| !w.is_empty()) {
            if out.len() >= max {
                return out;
            }
            out.push(Word {
                raw: raw.clone(),
                folded: norm_word_owned(f),
            });
        }
    }
    out
}

/// Splits on whitespace and punctuation but keeps letters, digits, marks and dots together.
pub fn split_raw(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(is_alnum(c) || is_combining_mark(c) || c == '.'))
        .filter(|p| !p.is_empty())
}

/// True for a procedure code such as `1.001193` or a local variant `1.012753.h19` (folded form).
pub fn is_code(w: &str) -> bool {
    let mut parts = w.split('.');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
        return false;
    };
    !a.is_empty()
        && a.len() <= 3
        && a.bytes().all(|c| c.is_ascii_digit())
        && b.len() >= 4
        && b.bytes().all(|c| c.is_ascii_digit())
        && parts.all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// `1.012753` for `1.012753.h19`: the national code a local variant derives from.
pub fn base_code(code: &str) -> &str {
    match code.match_indices('.').nth(1) {
        Some((i, _)) => &code[..i],
        None => code,
    }
}

/// Truncates to at most `max` bytes on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Optimal-string-alignment distance is at most 1: one insertion, deletion, substitution or swap of
/// two neighbours. Works on chars so non-ASCII tokens are safe.
pub fn within_one_edit(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let p = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if la == lb {
        // Substitution at p, or a swap of p and p+1.
        a[p + 1..] == b[p + 1..]
            || (p + 1 < la && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..])
    } else if la > lb {
        a[p + 1..] == b[p..]
    } else {
        a[p..] == b[p + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_basics() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(fold("Hoà"), fold("Hòa"));
        assert_eq!(fold("Hoà"), "hoa");
        assert_eq!(fold("ĐƯỜNG BỘ"), "duong bo");
        assert_eq!(fold("Thủy lợi"), fold("Thuỷ lợi"));
        // NFD input (marks as separate code points) folds like NFC.
        let nfd: String = "Đăng ký kết hôn".nfd().collect();
        assert_ne!(nfd, "Đăng ký kết hôn");
        assert_eq!(fold(&nfd), "dang ky ket hon");
        // Full-width digits from pasted documents.
        assert_eq!(fold("１.００１１９３"), "1.001193");
    }

    #[test]
    fn fold_punctuation_and_codes() {
        assert_eq!(fold("Mã 1.012753.H19!"), "ma 1.012753.h19");
        assert_eq!(
            fold("Tách thửa hoặc hợp thửa đất."),
            "tach thua hoac hop thua dat"
        );
        assert_eq!(fold("cha, mẹ, con"), "cha me con");
        assert_eq!(fold("TNLĐ/BNN"), "tnld bnn");
        assert_eq!(fold("a...b"), "a b");
        assert_eq!(fold("  \t\n "), "");
        assert_eq!(fold("<b>x</b>"), "b x b");
        assert_eq!(fold("KQ.G12.000327"), "kq g12.000327");
    }

    #[test]
    fn i_y_variant() {
        assert_eq!(norm_word("ky"), "ki");
        assert_eq!(norm_word("ly"), "li");
        assert_eq!(norm_word("quy"), "quy");
        assert_eq!(norm_word("huy"), "huy");
        assert_eq!(norm_word("y"), "y");
        assert_eq!(words("Đăng kí"), words("đăng ký"));
    }

    #[test]
    fn codes() {
        assert!(is_code("1.001193"));
        assert!(is_code("1.012753.h19"));
        assert!(!is_code("09.1"));
        assert!(!is_code("1.2.3"));
        assert!(!is_code("abc"));
        assert_eq!(base_code("1.012753.h19"), "1.012753");
        assert_eq!(base_code("1.012753"), "1.012753");
    }

    #[test]
    fn edit_distance_one() {
        assert!(within_one_edit("thuong", "thuogn"));
        assert!(within_one_edit("sinh", "sinhh"));
        assert!(within_one_edit("khai", "kha"));
        assert!(within_one_edit("khai", "khoi"));
        assert!(!within_one_edit("khai", "kho"));
        assert!(!within_one_edit("abcd", "badc"));
        assert!(within_one_edit("xe", "xw"));
    }

    #[test]
    fn alnum_shortcut_agrees_with_std() {
        for c in ('\0'..='\u{2fff}').chain(['😀', '中', '\u{feff}']) {
            assert_eq!(is_alnum(c), c.is_alphanumeric(), "{c:?}");
        }
    }

    #[test]
    fn truncate_on_char_boundary() {
        assert_eq!(truncate("đăng", 2), "đ");
        assert_eq!(truncate("đăng", 1), "");
        assert_eq!(truncate("ab", 10), "ab");
    }
}
