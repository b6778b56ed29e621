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
        Ok(Settings {
            database_url: env_or("DATABASE_URL", &default_db),
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
