//! A small multipart form read whole into memory (an administrator's CSV import): every part up
//! to a total size, then the CSRF token checked. Large uploads stream instead (documents,
//! results); this is for files of a few hundred kilobytes at most.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::HttpRequest;
use futures_util::TryStreamExt;

use super::auth::check_csrf;
use crate::error::AppError;

/// The parts by name (the last of a repeated name wins). `too_large_key` is the message when
/// the parts together pass `max_bytes`; the CSRF token (`_csrf`) must be valid.
pub async fn read_small(
    req: &HttpRequest,
    mut payload: Multipart,
    max_bytes: usize,
    too_large_key: &'static str,
) -> Result<HashMap<String, Vec<u8>>, AppError> {
    let bad = |_| AppError::BadRequest("upload_err_read");
    let mut parts: HashMap<String, Vec<u8>> = HashMap::new();
    let mut total = 0usize;
    while let Some(mut field) = payload.try_next().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        let mut value = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(bad)? {
            total += chunk.len();
            if total > max_bytes {
                return Err(AppError::BadRequest(too_large_key));
            }
            value.extend_from_slice(&chunk);
        }
        parts.insert(name, value);
    }
    let csrf = parts
        .get("_csrf")
        .and_then(|v| std::str::from_utf8(v).ok())
        .unwrap_or("");
    check_csrf(req, csrf)?;
    Ok(parts)
}
