//! HTTP: thin handlers grouped by who uses them, plus what they share (state, language, page
//! rendering and the anonymous page cache). No SQL here: handlers call `db` inside `web::block`.

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod auth;
pub mod errors;
pub mod flash;
pub mod protocol;
pub mod public;
pub mod redirect;
pub mod routes;
pub mod twofactor;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::catalogue::Catalogue;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::i18n::{Lang, Messages};

pub const LANG_COOKIE: &str = "lang";
/// Bound on cached pages; past it the cache starts over (the catalogue is small, the URL space is not).
const PAGE_CACHE_MAX: usize = 4096;

pub struct AppState {
    pub pool: Pool,
    pub hasher: crate::security::password::PasswordHasher,
    pub tera: tera::Tera,
    pub messages: Messages,
    pub settings: Settings,
    catalogue: RwLock<Arc<Catalogue>>,
    pages: RwLock<PageCache>,
}

#[derive(Default)]
struct PageCache {
    version: i64,
    entries: HashMap<(Lang, String), Arc<CachedPage>>,
}

pub struct CachedPage {
    pub etag: String,
    pub body: String,
    pub content_type: &'static str,
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";

impl AppState {
    pub fn new(
        pool: Pool,
        tera: tera::Tera,
        messages: Messages,
        settings: Settings,
        catalogue: Catalogue,
        hasher: crate::security::password::PasswordHasher,
    ) -> Self {
        AppState {
            pool,
            hasher,
            tera,
            messages,
            settings,
            pages: RwLock::new(PageCache {
                version: catalogue.version,
                entries: HashMap::new(),
            }),
            catalogue: RwLock::new(Arc::new(catalogue)),
        }
    }

    pub fn catalogue(&self) -> Arc<Catalogue> {
        match self.catalogue.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the in-memory catalogue when the database's catalogue version moved (an edit here
    /// or on another instance). Returns whether it was rebuilt.
    pub fn refresh_catalogue(&self) -> anyhow::Result<bool> {
        let mut conn = self.pool.get().context("database connection")?;
        let version = db::catalogue::catalogue_version(&mut conn)?;
        if version == self.catalogue().version {
            return Ok(false);
        }
        let fresh = load_catalogue(&mut conn)?;
        match self.catalogue.write() {
            Ok(mut c) => *c = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        Ok(true)
    }

    fn cached(&self, lang: Lang, key: &str, version: i64) -> Option<Arc<CachedPage>> {
        let cache = self.pages.read().ok()?;
        if cache.version != version {
            return None;
        }
        cache.entries.get(&(lang, key.to_string())).cloned()
    }

    fn store(
        &self,
        lang: Lang,
        key: String,
        version: i64,
        body: String,
        content_type: &'static str,
    ) -> Arc<CachedPage> {
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!(
            "\"v{version}-{}\"",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let page = Arc::new(CachedPage {
            etag,
            body,
            content_type,
        });
        if let Ok(mut cache) = self.pages.write() {
            if cache.version != version || cache.entries.len() >= PAGE_CACHE_MAX {
                cache.entries.clear();
                cache.version = version;
            }
            cache.entries.insert((lang, key), page.clone());
        }
        page
    }
}

/// Loads summaries and synonyms and builds the catalogue with its search index.
pub fn load_catalogue(conn: &mut db::DbConnection) -> anyhow::Result<Catalogue> {
    let version = db::catalogue::catalogue_version(conn)?;
    let services = db::catalogue::load_summaries(conn)?;
    let synonyms = db::catalogue::list_synonyms(conn)?;
    Ok(Catalogue::build(version, services, &synonyms))
}

/// The visitor's language: the `lang` cookie, then `Accept-Language`, then Vietnamese.
pub fn lang_of(req: &HttpRequest) -> Lang {
    if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return lang;
    }
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::Vi)
}

/// The context every page template gets: language, messages, and the current URL for the switch.
pub fn base_context(state: &AppState, req: &HttpRequest, lang: Lang) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("lang", lang.code());
    ctx.insert("other_lang", lang.other().code());
    ctx.insert("m", state.messages.all(lang));
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    ctx.insert("here", &here);
    ctx.insert("path", req.path());
    if let Some(viewer) = req.extensions().get::<auth::Viewer>() {
        ctx.insert("viewer", viewer);
        // The header's logout form: a signed-in visitor's token comes from the session.
        ctx.insert("header_csrf", &auth::csrf_token(state, req).0);
    }
    ctx
}

pub fn render(state: &AppState, template: &str, ctx: &tera::Context) -> Result<String, AppError> {
    state
        .tera
        .render(template, ctx)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {template}: {e:?}")))
}

fn cache_key(req: &HttpRequest) -> String {
    format!("{}?{}", req.path(), req.query_string())
}

/// Whether the request carries a session cookie. Such a request is never answered from the
/// shared cache, even before (or without) the session being resolved: the page may show the
/// person's name, and a shared copy must never reach them or come from them.
fn carries_session(req: &HttpRequest) -> bool {
    auth::session_token(req).is_some()
}

fn respond(page: &CachedPage, req: &HttpRequest, lang: Lang) -> HttpResponse {
    let etag_matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag));
    let mut builder = if etag_matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, page.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=0, must-revalidate"))
        .insert_header((header::VARY, "Cookie, Accept-Language"))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        // A 304 names the type too, so a client that revalidates knows what it keeps.
        .content_type(page.content_type);
    if etag_matches {
        builder.finish()
    } else {
        builder.body(page.body.clone())
    }
}

/// The cached response for this page, if the current catalogue version rendered it already.
pub fn cache_hit(state: &AppState, req: &HttpRequest, lang: Lang) -> Option<HttpResponse> {
    if carries_session(req) || req.extensions().get::<auth::Viewer>().is_some() {
        return None;
    }
    let version = state.catalogue().version;
    state
        .cached(lang, &cache_key(req), version)
        .map(|p| respond(&p, req, lang))
}

/// Serves a public page from the cache (ETag, 304) or renders and caches it. Public pages are the
/// same for every anonymous visitor in a language, so the key is language + path + query.
pub fn cached_page<F>(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    render_page: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Result<String, AppError>,
{
    cached_response(state, req, lang, HTML, true, render_page)
}

/// The same cache for API answers, which do not depend on the language.
pub fn cached_json<F>(
    state: &AppState,
    req: &HttpRequest,
    make_body: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Result<String, AppError>,
{
    // API clients authenticate with bearer tokens, never cookies: a cookie changes nothing here.
    cached_response(state, req, Lang::Vi, JSON, false, make_body)
}

fn cached_response<F>(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    content_type: &'static str,
    personal_with_session: bool,
    make_body: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce() -> Result<String, AppError>,
{
    // A logged-in visitor sees their name in the header: their pages are not shared.
    let personal = req.extensions().get::<auth::Viewer>().is_some()
        || (personal_with_session && carries_session(req));
    if personal {
        let body = make_body()?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .insert_header((header::CONTENT_LANGUAGE, lang.code()))
            .content_type(content_type)
            .body(body));
    }
    let version = state.catalogue().version;
    let key = cache_key(req);
    let page = match state.cached(lang, &key, version) {
        Some(p) => p,
        None => state.store(lang, key, version, make_body()?, content_type),
    };
    Ok(respond(&page, req, lang))
}

/// Runs a database closure on the blocking pool with a pooled connection. `op` names the use
/// case in the user's terms ("log in", "claim outbox rows"): an internal error carries it, so a
/// 500 in the log says what failed without a debugger.
pub async fn with_db<T, F>(
    state: &web::Data<AppState>,
    op: &'static str,
    f: F,
) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut db::DbConnection) -> Result<T, AppError> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
    .map_err(|e| e.context(op))
}
