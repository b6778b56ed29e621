//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), the second
//! factor that authenticator apps (Google Authenticator, Microsoft Authenticator, FreeOTP…) speak.
//!
//! The caller stores the secret and the last step that was accepted; passing that step back to
//! [`verify`] makes a code single-use, so a code read over a shoulder cannot be replayed.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

use crate::security::tokens::same_secret;

/// Seconds per step: what every authenticator app assumes when the URI does not say otherwise.
pub const STEP_SECS: i64 = 30;
/// Digits in a code.
pub const DIGITS: u32 = 6;
/// Steps accepted on either side of the current one, for clock drift and slow typing.
const WINDOW: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the TOTP secret is not valid base32")]
    BadSecret,
    #[error("TOTP is not defined before 1970")]
    BeforeEpoch,
}

/// A new secret: 20 random bytes (the HMAC-SHA-1 block the RFC recommends), base32 without
/// padding, as apps expect in the URI and people type when they cannot scan: 32 characters.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// The 6-digit code for `unix_time` (seconds).
pub fn code_at(secret_b32: &str, unix_time: i64) -> Result<String, TotpError> {
    code_at_digits(secret_b32, unix_time, DIGITS)
}

/// Checks a typed code against the steps around `unix_time` and returns the step that matched,
/// to be stored as the new `last_used_step`. Steps at or before `last_used_step` are refused
/// (replay). Spaces in the typed code are ignored ("123 456" is what some apps display).
pub fn verify(
    secret_b32: &str,
    code: &str,
    unix_time: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = decode_secret(secret_b32).ok()?;
    let current = unix_time.div_euclid(STEP_SECS);
    // Every candidate is computed and compared, and the newest match wins: the time taken does
    // not say which step matched, and a rare collision between steps burns the later one.
    let mut matched = None;
    for step in current - WINDOW..=current + WINDOW {
        let fresh = last_used_step.is_none_or(|last| step > last);
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let expected = hotp(&key, counter, DIGITS);
        if same_secret(&expected, &typed) && fresh {
            matched = Some(step);
        }
    }
    matched
}

/// The `otpauth://` URI that authenticator apps read from a QR code. Label and issuer are
/// percent-encoded as UTF-8 (spaces as `%20`, never `+`, which some apps would show literally).
pub fn otpauth_uri(secret_b32: &str, account_email: &str, issuer: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account_email),
        secret = percent_encode(secret_b32),
    )
}

fn code_at_digits(secret_b32: &str, unix_time: i64, digits: u32) -> Result<String, TotpError> {
    let counter =
        u64::try_from(unix_time.div_euclid(STEP_SECS)).map_err(|_| TotpError::BeforeEpoch)?;
    Ok(hotp(&decode_secret(secret_b32)?, counter, digits))
}

/// Secrets typed by hand come in lower case, in groups, sometimes padded: accept all of those.
fn decode_secret(secret_b32: &str) -> Result<Vec<u8>, TotpError> {
    let clean: String = secret_b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match data_encoding::BASE32_NOPAD.decode(clean.as_bytes()) {
        Ok(key) if !key.is_empty() => Ok(key),
        _ => Err(TotpError::BadSecret),
    }
}

/// RFC 4226 HOTP: HMAC-SHA-1 of the big-endian counter, dynamic truncation, last `digits` digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail, but has no infallible twin.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let code = u64::from(binary) % 10u64.pow(digits);
    format!("{code:0width$}", width = digits as usize)
}

/// RFC 3986: everything but unreserved characters (and `@`, allowed in a path and a query and
/// nicer in an e-mail label) becomes `%XX` of its UTF-8 bytes.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the ASCII secret "12345678901234567890" for SHA-1.
    fn rfc_secret() -> String {
        data_encoding::BASE32_NOPAD.encode(b"12345678901234567890")
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        let secret = rfc_secret();
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                code_at_digits(&secret, time, 8).expect("code"),
                code,
                "t = {time}"
            );
            // Six digits are the last six of the eight.
            assert_eq!(
                code_at(&secret, time).expect("code"),
                code[2..],
                "t = {time}"
            );
        }
    }

    #[test]
    fn generated_secrets_are_20_random_bytes_in_base32() {
        let (a, b) = (generate_secret(), generate_secret());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert_eq!(decode_secret(&a).expect("secret").len(), 20);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
    }

    #[test]
    fn codes_in_the_window_are_accepted_and_report_their_step() {
        let secret = rfc_secret();
        let now = 1_111_111_111; // step 37,037,037, 1 s into it
        let step = now / STEP_SECS;
        let code = code_at(&secret, now).expect("code");
        assert_eq!(verify(&secret, &code, now, None), Some(step));
        // The previous and next steps' codes: a clock 30 s off either way still works.
        let before = code_at(&secret, now - STEP_SECS).expect("code");
        let after = code_at(&secret, now + STEP_SECS).expect("code");
        assert_eq!(verify(&secret, &before, now, None), Some(step - 1));
        assert_eq!(verify(&secret, &after, now, None), Some(step + 1));
        // Two steps away is too far.
        let old = code_at(&secret, now - 2 * STEP_SECS).expect("code");
        let future = code_at(&secret, now + 2 * STEP_SECS).expect("code");
        assert_eq!(verify(&secret, &old, now, None), None);
        assert_eq!(verify(&secret, &future, now, None), None);
    }

    #[test]
    fn a_used_step_cannot_be_replayed() {
        // A fixed secret: with a random one, two steps could share a code once in ~10^6 runs.
        let secret = rfc_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, now).expect("code");
        let step = verify(&secret, &code, now, None).expect("match");
        assert_eq!(verify(&secret, &code, now, Some(step)), None);
        assert_eq!(verify(&secret, &code, now + 10, Some(step)), None);
        // Nor an older one after a newer was used.
        let previous = code_at(&secret, now - STEP_SECS).expect("code");
        assert_eq!(verify(&secret, &previous, now, Some(step)), None);
        // The next step's code is still fine.
        let next = code_at(&secret, now + STEP_SECS).expect("code");
        assert_eq!(
            verify(&secret, &next, now + STEP_SECS, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn typed_codes_tolerate_spaces_and_nothing_else() {
        let secret = rfc_secret();
        let now = 59;
        assert_eq!(code_at(&secret, now).expect("code"), "287082");
        assert_eq!(verify(&secret, " 287 082 ", now, None), Some(1));
        assert_eq!(verify(&secret, "287082", now, None), Some(1));
        assert_eq!(verify(&secret, "287-082", now, None), None);
        assert_eq!(verify(&secret, "28708", now, None), None);
        assert_eq!(verify(&secret, "2870820", now, None), None);
        assert_eq!(verify(&secret, "２８７０８２", now, None), None);
        assert_eq!(verify(&secret, "", now, None), None);
        assert_eq!(verify(&secret, "287083", now, None), None);
    }

    #[test]
    fn secrets_are_read_leniently_and_bad_ones_refused() {
        let secret = rfc_secret();
        let typed = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq";
        assert_eq!(
            code_at(typed, 59).expect("code"),
            code_at(&secret, 59).expect("code")
        );
        assert_eq!(code_at("not base32!", 59), Err(TotpError::BadSecret));
        assert_eq!(code_at("", 59), Err(TotpError::BadSecret));
        assert_eq!(verify("not base32!", "287082", 59, None), None);
        assert_eq!(code_at(&secret, -1), Err(TotpError::BeforeEpoch));
        // Near the epoch the window must not reach step -1.
        let code = code_at(&secret, 0).expect("code");
        assert_eq!(verify(&secret, &code, 5, None), Some(0));
    }

    #[test]
    fn otpauth_uri_is_percent_encoded() {
        let uri = otpauth_uri(
            "JBSWY3DPEHPK3PXP",
            "an.nguyen+dvc@example.vn",
            "Cổng DVC: Hà Nội",
        );
        assert_eq!(
            uri,
            "otpauth://totp/C%E1%BB%95ng%20DVC%3A%20H%C3%A0%20N%E1%BB%99i:an.nguyen%2Bdvc@example.vn\
             ?secret=JBSWY3DPEHPK3PXP&issuer=C%E1%BB%95ng%20DVC%3A%20H%C3%A0%20N%E1%BB%99i\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
