//! Static assets (CSS, images, the little JS progressive enhancement needs), read once at start
//! and served from memory with long-lived caching.

use std::collections::HashMap;
use std::path::Path;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use anyhow::{Context, Result};

pub struct Assets {
    files: HashMap<String, (&'static str, Vec<u8>)>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

impl Assets {
    pub fn load(dir: &Path) -> Result<Assets> {
        let mut files = HashMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let bytes = std::fs::read(entry.path())?;
                files.insert(name.clone(), (content_type(&name), bytes));
            }
        }
        Ok(Assets { files })
    }
}

pub async fn asset(assets: web::Data<Assets>, name: web::Path<String>) -> HttpResponse {
    match assets.files.get(name.as_str()) {
        Some((ct, bytes)) => HttpResponse::Ok()
            .content_type(*ct)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(bytes.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}
