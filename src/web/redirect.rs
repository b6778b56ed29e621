//! Redirects: the one place that decides where a `next` parameter may send a visitor, and the
//! one way handlers answer with a redirect.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};

/// A same-site path to go to after a form, or `default`. Accepted: a path starting with one
/// `/` (not `//` or `/\`, which browsers read as another host), without backslashes or control
/// characters (a TAB or NUL inside would be dropped by browsers or break the header). Anything
/// outside visible ASCII (spaces, Vietnamese letters) is percent-encoded, so the result is always
/// a valid `Location`.
pub fn safe_next(next: Option<&str>, default: &str) -> String {
    let Some(n) = next else {
        return default.to_string();
    };
    let bytes = n.as_bytes();
    let ok = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/') | Some(b'\\'))
        && !n.contains('\\')
        && !n.chars().any(char::is_control);
    if !ok {
        return default.to_string();
    }
    let mut out = String::with_capacity(n.len());
    for c in n.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A redirect with `status` (303 after a POST, 302/307 where a method must be kept).
pub fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// 303 See Other: the answer to every successful form (post/redirect/get).
pub fn see_other(location: &str) -> HttpResponse {
    redirect(StatusCode::SEE_OTHER, location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_same_site_paths_are_followed() {
        assert_eq!(safe_next(Some("/services?q=a"), "/"), "/services?q=a");
        assert_eq!(
            safe_next(Some("/services?q=khai sinh"), "/"),
            "/services?q=khai%20sinh"
        );
        assert_eq!(safe_next(Some("/dịch-vụ"), "/"), "/d%E1%BB%8Bch-v%E1%BB%A5");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\u{0}",
            "/\u{b}",
            "/\u{1b}[2J",
            "/\u{7f}",
            "/x\r\nSet-Cookie: a=b",
            "https://evil.example",
            "evil.example",
            "",
            "\\\\evil",
        ] {
            assert_eq!(safe_next(Some(bad), "/"), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None, "/account"), "/account");
    }

    proptest! {
        /// Whatever arrives, the answer is a same-site path that makes a valid header.
        #[test]
        fn any_input_gives_a_same_site_path(s in ".*", prefix in prop::sample::select(vec!["", "/", "//", "/\\", "/\t"])) {
            let input = format!("{prefix}{s}");
            let out = safe_next(Some(&input), "/");
            prop_assert!(out.starts_with('/'));
            prop_assert!(!out.starts_with("//"));
            prop_assert!(!out.contains('\\'));
            prop_assert!(out.bytes().all(|b| b.is_ascii_graphic()), "{:?}", out);
            prop_assert!(actix_web::http::header::HeaderValue::from_str(&out).is_ok());
        }
    }
}
