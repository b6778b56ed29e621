//! Typed settings: defaults that run with zero setup (embedded SQLite under `var/`, seed data
//! under `data/`), each overridable from the environment.

use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://path` (default `sqlite://var/portal.db`) or `postgres://…`.
    pub database_url: String,
    /// Address to listen on; port 0 picks a free port (tests).
    pub bind: String,
    pub data_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub assets_dir: PathBuf,
    pub locales_dir: PathBuf,
    pub workers: usize,
    pub db_pool_size: u32,
    pub log_format: LogFormat,
    /// Seed on start (default on); `portal seed` seeds explicitly.
    pub seed_on_start: bool,
    /// How often other instances' catalogue changes are picked up (seconds).
    pub catalogue_poll_secs: u64,
    /// The public URL, used for absolute links and to decide `Secure` cookies and HSTS.
    pub public_url: String,
    /// Demo mode: creates demo accounts listed on the login page and shows the demo mailbox.
    /// On by default for the zero-setup SQLite run, off by default on PostgreSQL.
    pub demo: bool,
    /// `smtp://host:port`, `smtps://user:pass@host:port`; none = emails as `.eml` files in `mail_dir`.
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub mail_dir: PathBuf,
    /// Run the outbox worker inside the web process (default); off when `portal worker` runs apart.
    pub run_mail_worker: bool,
    /// Login attempts allowed per client address and per account in a 15-minute window.
    pub login_limit_per_ip: i32,
    pub login_limit_per_account: i32,
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn root() -> PathBuf {
    // Run from anywhere inside a checkout (e.g. `cargo run` from a sub-folder): resources are found
    // beside Cargo.toml unless a variable says otherwise; a deployed binary uses the working directory.
    let here = PathBuf::from(".");
    if here.join("templates").is_dir() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings> {
        let root = root();
        let path = |key: &str, sub: &str| -> PathBuf {
            std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join(sub))
        };
        let default_db = format!("sqlite://{}", root.join("var").join("portal.db").display());
        let workers = match std::env::var("PORTAL_WORKERS")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(v) => v
                .parse()
                .with_context(|| format!("PORTAL_WORKERS must be a number, got {v:?}"))?,
            None => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        };
        let log_format = match env_or("PORTAL_LOG_FORMAT", "json").as_str() {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => anyhow::bail!("PORTAL_LOG_FORMAT must be json or pretty, got {other:?}"),
        };
        let bind = env_or("PORTAL_BIND", "127.0.0.1:8080");
        let database_url = env_or("DATABASE_URL", &default_db);
        let demo_default =
            if crate::db::Backend::from_url(&database_url) == crate::db::Backend::Sqlite {
                "true"
            } else {
                "false"
            };
        Ok(Settings {
            demo: env_or("PORTAL_DEMO", demo_default) == "true",
            smtp_url: std::env::var("PORTAL_SMTP_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            mail_from: env_or(
                "PORTAL_MAIL_FROM",
                "Cổng Dịch vụ công <no-reply@portal.localhost>",
            ),
            mail_dir: path("PORTAL_MAIL_DIR", "var/mail"),
            run_mail_worker: env_or("PORTAL_MAIL_WORKER", "true") != "false",
            login_limit_per_ip: env_or("PORTAL_LOGIN_LIMIT_PER_IP", "30")
                .parse()
                .context("PORTAL_LOGIN_LIMIT_PER_IP must be a number")?,
            login_limit_per_account: env_or("PORTAL_LOGIN_LIMIT_PER_ACCOUNT", "10")
                .parse()
                .context("PORTAL_LOGIN_LIMIT_PER_ACCOUNT must be a number")?,
            database_url,
            public_url: env_or("PORTAL_PUBLIC_URL", &format!("http://{bind}")),
            bind,
            data_dir: path("PORTAL_DATA_DIR", "data"),
            templates_dir: path("PORTAL_TEMPLATES_DIR", "templates"),
            assets_dir: path("PORTAL_ASSETS_DIR", "assets"),
            locales_dir: path("PORTAL_LOCALES_DIR", "locales"),
            workers: workers.max(1),
            db_pool_size: env_or("PORTAL_DB_POOL", "8")
                .parse()
                .context("PORTAL_DB_POOL must be a number")?,
            log_format,
            seed_on_start: env_or("PORTAL_SEED_ON_START", "true") != "false",
            catalogue_poll_secs: env_or("PORTAL_CATALOGUE_POLL_SECS", "10")
                .parse()
                .context("PORTAL_CATALOGUE_POLL_SECS")?,
        })
    }
}
