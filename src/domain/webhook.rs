//! Signed webhooks: how an event is signed, how a receiver verifies it, and how long the portal
//! waits before trying again.
//!
//! Each delivery is an HTTP POST of a JSON event with two headers:
//! - `X-Portal-Event`: the event's id (`evt-<n>`), the same on every retry: a receiver that has
//!   seen it already answers 2xx and ignores it;
//! - `X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the
//!   receiver recomputes the HMAC over the raw body with the secret it was given when the webhook
//!   was registered, compares in constant time, and refuses a `t` more than `TOLERANCE_SECS` away
//!   from its clock (a replayed request is stale; one replayed at once has an id already seen).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::retry::RetryPolicy;

pub const SIGNATURE_HEADER: &str = "X-Portal-Signature";
pub const EVENT_HEADER: &str = "X-Portal-Event";
/// How far a signature's time may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;
/// Retries after a failed delivery: 30 s doubled each time up to 6 hours; after 12 attempts
/// (about a day and a half) the delivery is marked failed (an administrator may re-send).
pub const RETRY: RetryPolicy = RetryPolicy {
    base: std::time::Duration::from_secs(30),
    max: std::time::Duration::from_secs(6 * 3600),
    max_attempts: 12,
};

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        HmacSha256::new_from_slice(b"-").unwrap_or_else(|_| unreachable!("HMAC takes any key"))
    });
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The signature header's value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", data_encoding::HEXLOWER.encode(&tag))
}

/// Why a receiver refuses a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The header is missing a part or cannot be read.
    Malformed,
    /// The time is too far from now: a replay, or a clock far off.
    Stale,
    /// The HMAC does not match: another secret, or a changed body.
    BadSignature,
}

/// Verifies a delivery as a receiver should; the signature's time when it holds.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<i64, Refused> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = data_encoding::HEXLOWER_PERMISSIVE.decode(v.as_bytes()).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(Refused::Malformed);
    };
    if (now - t).abs() > tolerance {
        return Err(Refused::Stale);
    }
    mac(secret, t, body)
        .verify_slice(&v1)
        .map_err(|_| Refused::BadSignature)?;
    Ok(t)
}

/// A webhook URL an administrator may register: http or https, a host, no credentials, at most
/// 500 characters. The message key of the problem otherwise.
pub fn check_url(url: &str) -> Result<(), &'static str> {
    let url = url.trim();
    if url.is_empty() {
        return Err("webhook_url_required");
    }
    if url.len() > 500 || url.chars().any(char::is_whitespace) {
        return Err("webhook_url_invalid");
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("webhook_url_scheme")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("webhook_url_invalid");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_once_and_only_with_its_secret_body_and_time() {
        let body = br#"{"id":"evt-1"}"#;
        let header = sign("s3cret", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(
            verify("s3cret", &header, body, 1_800_000_010, TOLERANCE_SECS),
            Ok(1_800_000_000)
        );
        assert_eq!(
            verify("other", &header, body, 1_800_000_010, TOLERANCE_SECS),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify("s3cret", &header, br#"{"id":"evt-2"}"#, 1_800_000_010, 300),
            Err(Refused::BadSignature)
        );
        assert_eq!(
            verify("s3cret", &header, body, 1_800_000_000 + 301, 300),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify("s3cret", "v1=00", body, 1_800_000_000, 300),
            Err(Refused::Malformed)
        );
        // The time is signed too: moving it breaks the signature.
        let moved = header.replace("t=1800000000", "t=1800000100");
        assert_eq!(
            verify("s3cret", &moved, body, 1_800_000_100, 300),
            Err(Refused::BadSignature)
        );
    }

    #[test]
    fn retries_back_off_to_six_hours_then_stop() {
        assert_eq!(RETRY.delay(1).as_secs(), 30);
        assert_eq!(RETRY.delay(2).as_secs(), 60);
        assert_eq!(RETRY.delay(5).as_secs(), 480);
        assert_eq!(RETRY.delay(11).as_secs(), 6 * 3600);
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .expect("time")
            .naive_utc();
        assert!(RETRY.next_attempt(11, t).is_some());
        assert_eq!(RETRY.next_attempt(12, t), None);
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_taken() {
        assert_eq!(check_url("https://hcc.example.gov.vn/hooks/portal"), Ok(()));
        assert_eq!(check_url("http://127.0.0.1:8089/in"), Ok(()));
        assert_eq!(check_url(""), Err("webhook_url_required"));
        assert_eq!(check_url("ftp://x.vn/"), Err("webhook_url_scheme"));
        assert_eq!(
            check_url("https://user:pw@x.vn/"),
            Err("webhook_url_invalid")
        );
        assert_eq!(check_url("https:///path"), Err("webhook_url_invalid"));
        assert_eq!(check_url("https://x.vn/a b"), Err("webhook_url_invalid"));
    }
}
