//! Online payment through a VNPay-style gateway (domain.md §5): the payment is a redirect whose
//! query parameters are sorted and signed with HMAC-SHA512 (`vnp_SecureHash`); the gateway then
//! calls the IPN endpoint server to server, and only that verified notification marks a payment
//! paid; the browser's return is informational. Production and the demo sandbox run the same
//! code: merchant code, secret and URLs come from settings.

use hmac::{Hmac, Mac};
use sha2::Sha512;

/// Settings of the gateway (see `config::Settings::payment`).
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// The portal's own sandbox bank plays the gateway (demo and tests): it serves the payment
    /// page and calls the IPN over HTTP, as the real gateway would.
    pub sandbox: bool,
    /// The merchant code the gateway gave us (`vnp_TmnCode`).
    pub tmn_code: String,
    /// The shared secret; None = online payment is not configured.
    pub hash_secret: Option<String>,
    /// Where the person is sent to pay.
    pub pay_url: String,
    /// The gateway's status query (reconciliation of pending payments).
    pub query_url: String,
    /// Our IPN endpoint and the browser return, as the gateway must call them.
    pub ipn_url: String,
    pub return_url: String,
}

/// The gateway's answer codes for an IPN (`RspCode`).
pub mod rsp {
    pub const CONFIRMED: &str = "00";
    pub const NOT_FOUND: &str = "01";
    pub const ALREADY_CONFIRMED: &str = "02";
    pub const INVALID_AMOUNT: &str = "04";
    pub const INVALID_SIGNATURE: &str = "97";
    pub const UNKNOWN: &str = "99";
}

type HmacSha512 = Hmac<Sha512>;

/// The signed data: the `vnp_` parameters but the hash itself, sorted by name, form-encoded
/// and joined with `&`.
pub fn signing_data(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(k, v)| {
            k.starts_with("vnp_")
                && k != "vnp_SecureHash"
                && k != "vnp_SecureHashType"
                && !v.is_empty()
        })
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut enc = form_urlencoded::Serializer::new(String::new());
    for (k, v) in sorted {
        enc.append_pair(k, v);
    }
    enc.finish()
}

/// HMAC-SHA512 of the signing data, lower-case hex.
pub fn sign(secret: &str, params: &[(String, String)]) -> String {
    let Ok(mut mac) = HmacSha512::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(signing_data(params).as_bytes());
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// Whether `params` carry a valid signature (compared in constant time).
pub fn verify(secret: &str, params: &[(String, String)]) -> bool {
    let Some(given) = params
        .iter()
        .find(|(k, _)| k == "vnp_SecureHash")
        .map(|(_, v)| v.to_ascii_lowercase())
    else {
        return false;
    };
    let Ok(given) = data_encoding::HEXLOWER.decode(given.as_bytes()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha512::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(signing_data(params).as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// A payment to start.
pub struct PaymentRequest<'a> {
    pub reference: &'a str,
    pub amount_vnd: i64,
    pub order_info: &'a str,
    pub client_ip: &'a str,
    /// Vietnam time, `yyyyMMddHHmmss` as the protocol wants.
    pub created_local: chrono::NaiveDateTime,
}

/// The signed URL the person is redirected to.
pub fn payment_url(g: &GatewaySettings, secret: &str, p: &PaymentRequest) -> String {
    let mut params: Vec<(String, String)> = [
        ("vnp_Version", "2.1.0".to_string()),
        ("vnp_Command", "pay".to_string()),
        ("vnp_TmnCode", g.tmn_code.clone()),
        // The protocol counts in hundredths of a đồng.
        ("vnp_Amount", (p.amount_vnd * 100).to_string()),
        ("vnp_CurrCode", "VND".to_string()),
        ("vnp_TxnRef", p.reference.to_string()),
        ("vnp_OrderInfo", p.order_info.to_string()),
        ("vnp_OrderType", "other".to_string()),
        ("vnp_Locale", "vn".to_string()),
        ("vnp_ReturnUrl", g.return_url.clone()),
        ("vnp_IpAddr", p.client_ip.to_string()),
        (
            "vnp_CreateDate",
            p.created_local.format("%Y%m%d%H%M%S").to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let hash = sign(secret, &params);
    params.push(("vnp_SecureHash".into(), hash));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let sep = if g.pay_url.contains('?') { '&' } else { '?' };
    format!("{}{sep}{query}", g.pay_url)
}

/// HMAC-SHA512 of `fields` joined by `|` (the query API's signature), lower-case hex.
pub fn sign_fields(secret: &str, fields: &[&str]) -> String {
    let Ok(mut mac) = HmacSha512::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(fields.join("|").as_bytes());
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// The fields of a status query (`querydr`), in signing order.
pub const QUERY_FIELDS: [&str; 9] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];

/// The fields of a query's answer, in signing order.
pub const ANSWER_FIELDS: [&str; 15] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
];

/// A JSON object's string fields in `order`, for signing.
pub fn json_fields<'a>(v: &'a serde_json::Value, order: &[&str]) -> Vec<&'a str> {
    order
        .iter()
        .map(|k| v.get(*k).and_then(|x| x.as_str()).unwrap_or(""))
        .collect()
}

/// The signed status query for a payment.
pub fn query_request(
    g: &GatewaySettings,
    secret: &str,
    reference: &str,
    created_local: chrono::NaiveDateTime,
    now_local: chrono::NaiveDateTime,
) -> serde_json::Value {
    let request_id: u64 = rand::random::<u64>() % 1_000_000_000_000;
    let mut v = serde_json::json!({
        "vnp_RequestId": request_id.to_string(),
        "vnp_Version": "2.1.0",
        "vnp_Command": "querydr",
        "vnp_TmnCode": g.tmn_code,
        "vnp_TxnRef": reference,
        "vnp_TransactionDate": created_local.format("%Y%m%d%H%M%S").to_string(),
        "vnp_CreateDate": now_local.format("%Y%m%d%H%M%S").to_string(),
        "vnp_IpAddr": "127.0.0.1",
        "vnp_OrderInfo": format!("Tra cuu giao dich {reference}"),
    });
    let hash = sign_fields(secret, &json_fields(&v, &QUERY_FIELDS));
    v["vnp_SecureHash"] = serde_json::Value::String(hash);
    v
}

/// Whether a JSON message's `vnp_SecureHash` is the signature of its `order` fields.
pub fn verify_fields(secret: &str, v: &serde_json::Value, order: &[&str]) -> bool {
    let given = v
        .get("vnp_SecureHash")
        .and_then(|h| h.as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let Ok(given) = data_encoding::HEXLOWER.decode(given.as_bytes()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha512::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(json_fields(v, order).join("|").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// What a verified query answer says: None when the gateway has no such transaction.
pub fn read_answer(v: &serde_json::Value) -> Option<Notification> {
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    if get("vnp_ResponseCode") != "00" {
        return None;
    }
    let amount: i64 = get("vnp_Amount").parse().ok()?;
    if amount < 0 || amount % 100 != 0 {
        return None;
    }
    Some(Notification {
        reference: get("vnp_TxnRef").to_string(),
        amount_vnd: amount / 100,
        success: get("vnp_TransactionStatus") == "00",
        cancelled: false,
        transaction_no: get("vnp_TransactionNo").to_string(),
    })
}

/// A notification's content, once its signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub reference: String,
    pub amount_vnd: i64,
    /// Both the response code and the transaction status say "00".
    pub success: bool,
    /// The person cancelled at the gateway (response code 24).
    pub cancelled: bool,
    pub transaction_no: String,
}

/// Reads a verified notification's fields; None when one is missing or malformed.
pub fn read_notification(params: &[(String, String)]) -> Option<Notification> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let amount: i64 = get("vnp_Amount")?.parse().ok()?;
    if amount < 0 || amount % 100 != 0 {
        return None;
    }
    Some(Notification {
        reference: get("vnp_TxnRef")?.to_string(),
        amount_vnd: amount / 100,
        success: get("vnp_ResponseCode") == Some("00")
            && get("vnp_TransactionStatus").is_none_or(|s| s == "00"),
        cancelled: get("vnp_ResponseCode") == Some("24"),
        transaction_no: get("vnp_TransactionNo").unwrap_or("").to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signing_sorts_encodes_and_skips_the_hash() {
        let params = p(&[
            ("vnp_TxnRef", "A1"),
            ("vnp_Amount", "1000000"),
            ("vnp_OrderInfo", "Lệ phí hồ sơ"),
            ("vnp_SecureHash", "ignored"),
            ("other", "ignored"),
        ]);
        assert_eq!(
            signing_data(&params),
            "vnp_Amount=1000000&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD+h%E1%BB%93+s%C6%A1&vnp_TxnRef=A1"
        );
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let mut params = p(&[
            ("vnp_TxnRef", "A1"),
            ("vnp_Amount", "1000000"),
            ("vnp_ResponseCode", "00"),
        ]);
        let hash = sign("s3cret", &params);
        assert_eq!(hash.len(), 128);
        params.push(("vnp_SecureHash".into(), hash.to_uppercase()));
        assert!(verify("s3cret", &params));
        assert!(!verify("other", &params));
        params[1].1 = "100".into();
        assert!(!verify("s3cret", &params), "a changed amount");
        assert!(!verify("s3cret", &p(&[("vnp_TxnRef", "A1")])), "no hash");
    }

    #[test]
    fn a_query_and_its_answer_are_signed_over_their_fields_in_order() {
        let g = GatewaySettings {
            sandbox: true,
            tmn_code: "T".into(),
            hash_secret: None,
            pay_url: String::new(),
            query_url: String::new(),
            ipn_url: String::new(),
            return_url: String::new(),
        };
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("time");
        let mut q = query_request(&g, "k", "P1", t, t);
        assert!(verify_fields("k", &q, &QUERY_FIELDS));
        q["vnp_TxnRef"] = serde_json::json!("P2");
        assert!(!verify_fields("k", &q, &QUERY_FIELDS));
        let mut a = serde_json::json!({
            "vnp_ResponseCode": "00", "vnp_TxnRef": "P1", "vnp_Amount": "1000000",
            "vnp_TransactionStatus": "00", "vnp_TransactionNo": "9"
        });
        a["vnp_SecureHash"] = serde_json::json!(sign_fields("k", &json_fields(&a, &ANSWER_FIELDS)));
        assert!(verify_fields("k", &a, &ANSWER_FIELDS));
        let n = read_answer(&a).expect("found");
        assert_eq!((n.amount_vnd, n.success), (10_000, true));
    }

    #[test]
    fn notifications_are_read_in_dong() {
        let n = read_notification(&p(&[
            ("vnp_TxnRef", "A1"),
            ("vnp_Amount", "1000000"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TransactionNo", "42"),
        ]))
        .expect("readable");
        assert_eq!(n.amount_vnd, 10_000);
        assert!(n.success);
        let declined = read_notification(&p(&[
            ("vnp_TxnRef", "A1"),
            ("vnp_Amount", "1000000"),
            ("vnp_ResponseCode", "24"),
        ]))
        .expect("readable");
        assert!(!declined.success);
        assert!(read_notification(&p(&[("vnp_TxnRef", "A1"), ("vnp_Amount", "x")])).is_none());
    }
}
