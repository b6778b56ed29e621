//! Builds the application from settings: database (migrate, seed), catalogue, templates,
//! messages, route table, and the listener (port 0 picks a free port, for tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer};
use anyhow::{Context, Result};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::db;
use crate::i18n::Messages;
use crate::web::{self, AppState, assets::Assets};

pub struct Application {
    port: u16,
    server: Server,
    pub state: actix_web::web::Data<AppState>,
}

/// Migrates and seeds the database behind `url` (idempotent).
pub fn prepare_database(settings: &Settings) -> Result<db::Pool> {
    let pool = db::connect_pool(&settings.database_url, settings.db_pool_size)?;
    let mut conn = pool.get().context("database connection")?;
    let applied = db::migrate(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    if settings.seed_on_start {
        let report = db::seed::run(&mut conn, &settings.data_dir)?;
        tracing::info!(?report, "seed");
    }
    // Dossiers without their indicators (a database from before them, or loaded in bulk): the
    // scoreboard's cells are rebuilt from the timeline.
    if db::stats::missing(&mut conn)? {
        let rebuilt = db::stats::rebuild(&mut conn, chrono::Utc::now().naive_utc())?;
        tracing::info!(?rebuilt, "scoreboard indicators rebuilt");
    }
    if settings.demo {
        crate::demo::ensure(&mut conn)?;
        tracing::warn!(
            "demo mode: demo accounts are listed on the login page; never use it for real data"
        );
    }
    Ok(pool)
}

pub fn load_templates(settings: &Settings) -> Result<tera::Tera> {
    let glob = format!("{}/**/*", settings.templates_dir.display());
    let mut tera =
        tera::Tera::new(&glob).with_context(|| format!("loading templates from {glob}"))?;
    tera.autoescape_on(vec![".html", ".txt.html"]);
    Ok(tera)
}

/// Content Security Policy without inline script or style; pages cannot be framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Powerful browser features no page of the portal uses are switched off for every origin.
const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
    encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), \
    microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), \
    screen-wake-lock=(), sync-xhr=(), usb=(), xr-spatial-tracking=()";

impl Application {
    pub fn build(settings: Settings) -> Result<Application> {
        settings.check()?;
        let pool = prepare_database(&settings)?;
        let catalogue = {
            let mut conn = pool.get().context("database connection")?;
            web::load_catalogue(&mut conn)?
        };
        let tera = load_templates(&settings)?;
        let messages = Messages::load(&settings.locales_dir)?;
        let assets = actix_web::web::Data::new(Assets::load(&settings.assets_dir)?);
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let mut settings = settings;
        if settings.payment.sandbox {
            // The sandbox bank calls us server to server, straight at the listener (unless a
            // test points it elsewhere).
            let local = format!("http://127.0.0.1:{port}");
            if settings.payment.ipn_url.is_empty()
                || settings.payment.ipn_url.starts_with("http://127.0.0.1/")
            {
                settings.payment.ipn_url = format!("{local}/payments/vnpay/ipn");
            }
            if settings.payment.query_url.is_empty() {
                settings.payment.query_url = format!("{local}/sandbox/vnpay/query");
            }
        }
        let places = {
            let mut conn = pool.get().context("database connection")?;
            crate::catalogue::places::Places::load(&mut conn)?
        };
        let storage = crate::storage::from_settings(&settings)?;
        tracing::info!(storage = %storage.describe(), "uploads");
        let workers = settings.workers;
        let poll = Duration::from_secs(settings.catalogue_poll_secs.max(1));
        let hasher = crate::security::password::PasswordHasher::new()?;
        let hsts = settings.public_url.starts_with("https://");
        let demo = settings.demo;
        let sandbox = settings.payment.sandbox;
        let body_deadline = web::protocol::BodyDeadline {
            idle: Duration::from_secs(settings.body_idle_timeout_secs.max(1)),
            total: Duration::from_secs(settings.body_timeout_secs.max(1)),
        };
        let state = actix_web::web::Data::new(
            AppState::new(pool, tera, messages, settings, catalogue, hasher)
                .with_applications(places, storage),
        );

        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let mut headers = DefaultHeaders::new()
                .add(("Content-Security-Policy", CSP))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Permissions-Policy", PERMISSIONS_POLICY));
            if hsts {
                headers = headers.add((
                    "Strict-Transport-Security",
                    "max-age=31536000; includeSubDomains",
                ));
            }
            App::new()
                .wrap(from_fn(web::protocol::head_as_get))
                .wrap(from_fn(move |req, next| {
                    web::protocol::body_deadline(body_deadline, req, next)
                }))
                .wrap(ErrorHandlers::new().default_handler(web::errors::render_error))
                .wrap(headers)
                .wrap(TracingLogger::<crate::telemetry::PortalRootSpan>::new())
                .app_data(app_state.clone())
                .app_data(assets.clone())
                .app_data(
                    actix_web::web::QueryConfig::default().error_handler(|_, _| {
                        crate::error::AppError::BadRequest("error_bad_query").into()
                    }),
                )
                .configure(|cfg| web::routes::configure(cfg, demo, sandbox))
        })
        .workers(workers)
        .listen(listener)?
        .run();

        // Pick up catalogue changes made by other instances (or the admin UI) without a restart.
        let poll_state: Arc<AppState> = state.clone().into_inner();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(poll);
            loop {
                tick.tick().await;
                let s = poll_state.clone();
                match tokio::task::spawn_blocking(move || s.refresh_catalogue()).await {
                    Ok(Ok(true)) => tracing::info!("catalogue reloaded"),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "catalogue refresh failed"),
                    Err(e) => tracing::warn!(error = %e, "catalogue refresh task failed"),
                }
            }
        });

        // --- mail: the in-process outbox worker (off when `portal worker` runs apart) ---
        // It lives on this runtime like the poller above, so it stops with the server.
        if state.settings.run_mail_worker {
            let transport = crate::mail::Transport::from_settings(&state.settings)?;
            crate::mail::worker::spawn(state.pool.clone(), transport, &state.settings)?;
            Arc::new(crate::jobs::Jobs {
                pool: state.pool.clone(),
                tera: crate::startup::load_templates(&state.settings)?,
                storage: state.storage.clone(),
                public_url: state.settings.public_url.trim_end_matches('/').to_string(),
                places: state.places.clone(),
                gateway: state.settings.payment.clone(),
                messages: state.messages.clone(),
                http: crate::jobs::Jobs::webhook_client()?,
                seal: state.settings.seal_key.clone(),
            })
            .spawn();
        }
        // --- end mail ---

        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
