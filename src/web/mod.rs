//! HTTP: thin handlers grouped by who uses them, plus what they share (state, language, page
//! rendering and the anonymous page cache). No SQL here: handlers call `db` inside `web::block`.

pub mod account;
pub mod admin;
pub mod api;
pub mod apply;
pub mod assets;
pub mod auth;
pub mod citizen;
pub mod directory;
pub mod errors;
pub mod flash;
pub mod multipart;
pub mod open311;
pub mod open_data;
pub mod pay;
pub mod protocol;
pub mod public;
pub mod redirect;
pub mod routes;
pub mod scoreboard;
pub mod staff;
pub mod tracking;
pub mod twofactor;
pub mod verify;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use anyhow::Context;

use crate::catalogue::Catalogue;
use crate::config::Settings;
use crate::db::{self, Pool};
use crate::error::AppError;
use crate::i18n::{Lang, Messages};

pub const LANG_COOKIE: &str = "lang";
/// Bounds on cached pages, by count and by bytes; past either the cache starts over (the
/// catalogue is small, the URL space is not: every search is a URL).
const PAGE_CACHE_MAX: usize = 4096;
const PAGE_CACHE_MAX_BYTES: usize = 48 * 1024 * 1024;

pub struct AppState {
    pub pool: Pool,
    pub hasher: crate::security::password::PasswordHasher,
    pub tera: tera::Tera,
    pub messages: Messages,
    pub settings: Settings,
    catalogue: RwLock<Arc<Catalogue>>,
    pages: RwLock<PageCache>,
    /// Random per start: part of every page tag (see `store`).
    nonce: u32,
    /// Per language (`Lang as usize`): the language codes and the messages, ready to clone.
    base_contexts: [tera::Context; 2],
    /// The catalogue's filter options as HTML, for the catalogue version they were made from.
    facet_options: RwLock<Option<(i64, Arc<FacetOptions>)>>,
    /// Provinces and wards, for the place and address fields.
    pub places: crate::catalogue::places::Places,
    /// Where uploaded files live.
    pub storage: Arc<dyn crate::storage::Storage>,
    /// The working-day calendar for display (queues, dossier pages), read at most once per
    /// poll interval; dropped at once by a change on this instance. Deadlines that are stored
    /// (filing, moves) read the calendar from the database in their own transaction.
    calendar: RwLock<Option<(std::time::Instant, Arc<crate::domain::calendar::Calendar>)>>,
}

/// Storage before `with_applications`: refuses everything.
struct NoStorage;

impl crate::storage::Storage for NoStorage {
    fn begin<'a>(
        &'a self,
        _: &'a str,
    ) -> crate::storage::BoxFuture<'a, std::io::Result<Box<dyn crate::storage::Upload>>> {
        Box::pin(std::future::ready(Err(std::io::Error::other(
            "no storage configured",
        ))))
    }
    fn open<'a>(
        &'a self,
        _: &'a str,
    ) -> crate::storage::BoxFuture<'a, std::io::Result<crate::storage::ByteStream>> {
        Box::pin(std::future::ready(Err(std::io::Error::other(
            "no storage configured",
        ))))
    }
    fn delete<'a>(&'a self, _: &'a str) -> crate::storage::BoxFuture<'a, std::io::Result<()>> {
        Box::pin(std::future::ready(Err(std::io::Error::other(
            "no storage configured",
        ))))
    }
    fn describe(&self) -> String {
        "none".into()
    }
}

/// The long filter selects of the catalogue page (see `view::SelectOptions`).
pub struct FacetOptions {
    pub fields: view::SelectOptions,
    pub ministries: view::SelectOptions,
    pub groups: view::SelectOptions,
}

impl FacetOptions {
    fn build(cat: &Catalogue) -> FacetOptions {
        let counted = |list: &[crate::catalogue::FacetCount]| {
            view::SelectOptions::new(
                list.iter()
                    .map(|f| (f.code.as_str(), format!("{} ({})", f.name, f.count)))
                    .collect::<Vec<_>>(),
            )
        };
        FacetOptions {
            fields: counted(&cat.fields),
            ministries: counted(&cat.ministries),
            groups: counted(&cat.target_groups),
        }
    }
}

fn language_context(messages: &Messages, lang: Lang) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("lang", lang.code());
    ctx.insert("other_lang", lang.other().code());
    ctx.insert("m", messages.all(lang));
    ctx
}

#[derive(Default)]
struct PageCache {
    version: i64,
    entries: HashMap<(Lang, String), Arc<CachedPage>>,
    bytes: usize,
    /// Hashes of the URLs asked once since the cache started over (see `store`).
    seen_once: std::collections::HashSet<u64>,
}

fn key_hash(lang: Lang, key: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&(lang.code(), key), &mut h);
    std::hash::Hasher::finish(&h)
}

pub struct CachedPage {
    pub etag: String,
    /// Shared, not copied, by every answer from the cache.
    pub body: web::Bytes,
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
        let base_contexts = Lang::ALL.map(|l| language_context(&messages, l));
        AppState {
            base_contexts,
            pool,
            hasher,
            tera,
            messages,
            settings,
            pages: RwLock::new(PageCache {
                version: catalogue.version,
                ..Default::default()
            }),
            catalogue: RwLock::new(Arc::new(catalogue)),
            nonce: rand::random(),
            facet_options: RwLock::new(None),
            places: Default::default(),
            storage: Arc::new(NoStorage),
            calendar: RwLock::new(None),
        }
    }

    /// The calendar for display, from the cache when it is younger than the poll interval.
    pub fn calendar(
        &self,
        conn: &mut db::DbConnection,
    ) -> diesel::QueryResult<Arc<crate::domain::calendar::Calendar>> {
        let ttl = std::time::Duration::from_secs(self.settings.catalogue_poll_secs.max(1));
        let cached = match self.calendar.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some((at, cal)) = cached
            && at.elapsed() < ttl
        {
            return Ok(cal);
        }
        let fresh = Arc::new(db::calendar::calendar(conn)?);
        let entry = Some((std::time::Instant::now(), fresh.clone()));
        match self.calendar.write() {
            Ok(mut c) => *c = entry,
            Err(poisoned) => *poisoned.into_inner() = entry,
        }
        Ok(fresh)
    }

    /// Drops the cached calendar (after an administrator changed it here).
    pub fn forget_calendar(&self) {
        match self.calendar.write() {
            Ok(mut c) => *c = None,
            Err(poisoned) => *poisoned.into_inner() = None,
        }
    }

    /// Adds what applications need: the places and the file storage.
    pub fn with_applications(
        mut self,
        places: crate::catalogue::places::Places,
        storage: Arc<dyn crate::storage::Storage>,
    ) -> Self {
        self.places = places;
        self.storage = storage;
        self
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

    /// The filter options of `cat`, built once per catalogue version.
    pub fn facet_options(&self, cat: &Catalogue) -> Arc<FacetOptions> {
        if let Ok(slot) = self.facet_options.read()
            && let Some((version, options)) = slot.as_ref()
            && *version == cat.version
        {
            return options.clone();
        }
        let options = Arc::new(FacetOptions::build(cat));
        if let Ok(mut slot) = self.facet_options.write() {
            *slot = Some((cat.version, options.clone()));
        }
        options
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
        body: web::Bytes,
        content_type: &'static str,
    ) -> Arc<CachedPage> {
        // A public page is a pure function of (catalogue version, language, URL) within one
        // running instance, so the tag is derived from those, not from the body (hashing every
        // rendered page cost more than a search). The instance's start nonce makes a restart
        // with new templates a new tag.
        let hash = key_hash(lang, &key);
        let etag = format!("\"v{version}-{:08x}-{hash:016x}\"", self.nonce);
        let page = Arc::new(CachedPage {
            etag,
            body,
            content_type,
        });
        if let Ok(mut cache) = self.pages.write() {
            // Admission: a URL is kept from its second request on. Most searches are asked
            // once; storing them would only push out pages people do ask again.
            if cache.seen_once.len() >= PAGE_CACHE_MAX * 16 {
                cache.seen_once.clear();
            }
            if cache.version == version && cache.seen_once.insert(hash) {
                return page;
            }
            if cache.version != version
                || cache.entries.len() >= PAGE_CACHE_MAX
                || cache.bytes + page.body.len() > PAGE_CACHE_MAX_BYTES
            {
                if cache.version != version {
                    cache.seen_once.clear();
                }
                cache.entries.clear();
                cache.bytes = 0;
                cache.version = version;
            }
            cache.bytes += page.body.len();
            if let Some(old) = cache.entries.insert((lang, key), page.clone()) {
                cache.bytes -= old.body.len();
            }
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
    // Cloning the prepared per-language context copies the messages once; inserting them
    // serialised all ~280 of them again on every page.
    let mut ctx = state.base_contexts[lang as usize].clone();
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

/// Renders straight into a response body: no copy into a `String` and no second UTF-8 check
/// of the whole page (for the cached public pages, where it showed in profiles).
pub fn render_body(
    state: &AppState,
    template: &str,
    ctx: &tera::Context,
) -> Result<web::Bytes, AppError> {
    let mut body = Vec::with_capacity(64 * 1024);
    state
        .tera
        .render_to(template, ctx, &mut body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {template}: {e:?}")))?;
    // The cache keeps the body: not the unused rest of the buffer.
    body.shrink_to_fit();
    Ok(body.into())
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
    F: FnOnce() -> Result<web::Bytes, AppError>,
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
    F: FnOnce() -> Result<web::Bytes, AppError>,
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
    F: FnOnce() -> Result<web::Bytes, AppError>,
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
