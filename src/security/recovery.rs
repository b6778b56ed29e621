//! Single-use recovery codes, the way back in when the authenticator phone is lost. They are shown
//! once; the database keeps only `hash_code`, like every other token.

use rand::Rng;

use crate::security::tokens::hash_token;

/// Lowercase letters and digits without 0/o, 1/i/l: nothing to misread on paper or a screen.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const GROUPS: usize = 3;
const GROUP_LEN: usize = 4;
/// Characters of a code without its dashes: 12 × log2(31) ≈ 59 bits.
pub const CODE_CHARS: usize = GROUPS * GROUP_LEN;
/// How many codes a user is given at once.
pub const DEFAULT_COUNT: usize = 10;

/// `n` distinct codes like `k7mq-2xvd-9pwe`, for the user to print or write down.
pub fn generate(n: usize) -> Vec<String> {
    let mut rng = rand::rng();
    let mut codes: Vec<String> = Vec::with_capacity(n);
    while codes.len() < n {
        let chars: Vec<char> = (0..CODE_CHARS)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        let code = chars
            .chunks(GROUP_LEN)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-");
        // A repeat is astronomically unlikely, but two equal codes would be one code.
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// The code as it is hashed: lowercase, without spaces, dashes or other separators, whatever way
/// it was typed ("K7MQ 2XVD 9PWE", "k7mq2xvd9pwe"). Full-width characters from an Asian keyboard
/// layout count as their ASCII twins.
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .map(fullwidth_to_ascii)
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What the database stores for a code (and looks up when one is typed).
pub fn hash_code(code: &str) -> String {
    hash_token(&normalize(code))
}

/// Whether typed input has the shape of a recovery code rather than a 6-digit TOTP code, for a
/// second-factor form with a single field.
pub fn looks_like_code(input: &str) -> bool {
    normalize(input).len() == CODE_CHARS
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_documented_shape() {
        let codes = generate(DEFAULT_COUNT);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            assert!(groups.iter().all(|g| g.len() == 4));
            assert!(
                code.bytes()
                    .filter(|b| *b != b'-')
                    .all(|b| ALPHABET.contains(&b)),
                "{code}"
            );
            assert!(!code.contains(['0', 'o', '1', 'i', 'l']), "{code}");
            assert!(looks_like_code(code));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert_ne!(generate(1), generate(1));
        assert!(generate(0).is_empty());
    }

    #[test]
    fn typing_variations_hash_alike() {
        let stored = hash_code("k7mq-2xvd-9pwe");
        for typed in [
            "k7mq-2xvd-9pwe",
            "K7MQ-2XVD-9PWE",
            " k7mq 2xvd 9pwe ",
            "k7mq2xvd9pwe",
            "k7mq—2xvd—9pwe",
            "ｋ７ｍｑ２ｘｖｄ９ｐｗｅ",
        ] {
            assert_eq!(hash_code(typed), stored, "{typed:?}");
        }
        assert_eq!(normalize(" K7MQ-2xvd_9PWE\n"), "k7mq2xvd9pwe");
        assert_ne!(hash_code("k7mq-2xvd-9pwf"), stored);
        assert_eq!(stored, hash_token("k7mq2xvd9pwe"));
    }

    #[test]
    fn totp_codes_do_not_look_like_recovery_codes() {
        assert!(!looks_like_code("123 456"));
        assert!(!looks_like_code(""));
        assert!(looks_like_code("K7MQ 2XVD 9PWE"));
    }
}
