//! Just enough MIME reading for the demo mailbox to show what lettre wrote: unfolded headers,
//! RFC 2047 encoded words, multipart bodies, base64 and quoted-printable. Lenient by design: a
//! part it cannot decode is shown as it is rather than failing the page.

/// What the mailbox shows of one `.eml` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedEmail {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub date: String,
    pub message_id: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

pub fn parse(raw: &[u8]) -> ParsedEmail {
    let raw = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    let (headers, body) = split_head(&raw);
    let header = |name: &str| decode_words(&find_header(&headers, name).unwrap_or_default());
    let mut email = ParsedEmail {
        subject: header("subject"),
        from: header("from"),
        to: header("to"),
        date: header("date"),
        message_id: header("message-id"),
        text: None,
        html: None,
    };
    collect_parts(&headers, body, &mut email, 0);
    email
}

/// (unfolded header lines as name/value, body).
fn split_head(raw: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded continuation: RFC 5322 unfolding keeps the whitespace.
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (headers, body)
}

fn find_header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// A parameter of a structured header value: `boundary` of `multipart/alternative; boundary="x"`.
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn collect_parts(headers: &[(String, String)], body: &str, email: &mut ParsedEmail, depth: u8) {
    let content_type = find_header(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("multipart/") {
        let Some(boundary) = param(&content_type, "boundary") else {
            return;
        };
        // Nesting beyond a few levels is not something lettre writes; stop rather than recurse.
        if depth > 4 {
            return;
        }
        let delimiter = format!("--{boundary}");
        for chunk in body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
            let (part_headers, part_body) = split_head(chunk);
            collect_parts(&part_headers, part_body, email, depth + 1);
        }
        return;
    }
    let encoding = find_header(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "base64" => decode_base64(body).unwrap_or_else(|| body.to_string()),
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.to_string(),
    };
    // Bodies are CRLF on the wire (and inside base64); the page wants plain lines.
    let decoded = decoded.replace("\r\n", "\n").trim_end().to_string();
    match mime.as_str() {
        "text/plain" if email.text.is_none() => email.text = Some(decoded),
        "text/html" if email.html.is_none() => email.html = Some(decoded),
        _ => {}
    }
}

fn decode_base64(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = data_encoding::BASE64.decode(compact.as_bytes()).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn hex_byte(h: &[u8]) -> Option<u8> {
    let s = std::str::from_utf8(h).ok()?;
    u8::from_str_radix(s, 16).ok()
}

/// Quoted-printable (RFC 2045): `=XX` bytes and `=` soft line breaks.
fn decode_quoted_printable(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(b) = bytes.get(i + 1..i + 3).and_then(hex_byte) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One RFC 2047 word (`=?utf-8?B?...?=` or `?Q?`), decoded; `None` if it is not one.
fn decode_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let _charset = parts.next()?;
    let encoding = parts.next()?;
    let text = parts.next()?;
    let bytes = match encoding {
        "B" | "b" => data_encoding::BASE64.decode(text.as_bytes()).ok()?,
        "Q" | "q" => {
            let underscores = text.replace('_', " ");
            return Some(decode_quoted_printable(&underscores));
        }
        _ => return None,
    };
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Decodes the encoded words of a header value; whitespace between two encoded words is
/// dropped, as RFC 2047 says, so a long subject split over several words reads as one.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending_space = String::new();
    let mut last_was_word = false;
    let mut rest = value;
    while !rest.is_empty() {
        let ws_len = rest.len() - rest.trim_start().len();
        if ws_len > 0 {
            pending_space.push_str(&rest[..ws_len]);
            rest = &rest[ws_len..];
            continue;
        }
        let token_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..token_len];
        rest = &rest[token_len..];
        match decode_word(token) {
            Some(decoded) => {
                if !last_was_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&decoded);
                last_was_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(token);
                last_was_word = false;
            }
        }
        pending_space.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encoded_words() {
        assert_eq!(
            decode_words("=?utf-8?b?WMOhYyBuaOG6rW4=?= =?utf-8?b?IGVtYWls?="),
            "Xác nhận email"
        );
        assert_eq!(decode_words("=?UTF-8?Q?Xin_ch=C3=A0o?= A"), "Xin chào A");
        assert_eq!(decode_words("plain  text"), "plain  text");
        assert_eq!(decode_words("=?utf-8?x?bad?="), "=?utf-8?x?bad?=");
    }

    #[test]
    fn reads_a_lettre_message() {
        use lettre::message::{Mailbox, MultiPart};
        let from: Mailbox = "Cổng Dịch vụ công <no-reply@portal.test>"
            .parse()
            .expect("from");
        let subject = "Xác nhận địa chỉ email của bạn – Cổng Dịch vụ công, một tiêu đề dài hơn \
                       bảy mươi tám ký tự để bị gập dòng";
        let text = format!("Xin chào Nguyễn Văn A,\n\n{}\n", "dòng dài ".repeat(30));
        let message = lettre::Message::builder()
            .from(from)
            .to("a@example.vn".parse().expect("to"))
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(
                text.clone(),
                "<p>Xin chào</p>".to_string(),
            ))
            .expect("message");
        let parsed = parse(&message.formatted());
        assert_eq!(parsed.subject, subject);
        assert_eq!(parsed.to, "a@example.vn");
        assert!(parsed.from.contains("Cổng Dịch vụ công"), "{}", parsed.from);
        assert_eq!(parsed.text.as_deref(), Some(text.trim_end()));
        assert_eq!(parsed.html.as_deref(), Some("<p>Xin chào</p>"));
        assert!(!parsed.date.is_empty());
    }

    #[test]
    fn quoted_printable_and_plain_bodies() {
        let raw = "Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\nXin ch=C3=A0o=\r\n b=E1=BA=A1n\r\n";
        let parsed = parse(raw.as_bytes());
        assert_eq!(parsed.subject, "hi");
        assert_eq!(parsed.text.as_deref(), Some("Xin chào bạn"));
        let parsed = parse(b"Subject: x\n\nhello\n");
        assert_eq!(parsed.text.as_deref(), Some("hello"));
        assert_eq!(parse(b"garbage").subject, "");
    }
}
