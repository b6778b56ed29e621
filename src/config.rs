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
    /// Failed logins from one client address in 15 minutes before it must wait (429).
    /// Successful logins never count, so an office behind one address is not locked out.
    pub login_limit_per_ip: i32,
    /// Wrong passwords in a row that lock an account (or an unknown identifier) for 15 minutes.
    pub login_limit_per_account: i32,
    /// Demo mode on PostgreSQL (normally production) needs this second, explicit setting:
    /// demo mode shows passwords, live second-factor codes and every email on public pages.
    pub demo_on_postgres: bool,
    /// A request body must keep arriving: no gap longer than this (seconds)…
    pub body_idle_timeout_secs: u64,
    /// …and the whole body within this (seconds); else 408 and the connection closes.
    pub body_timeout_secs: u64,
    /// Where uploaded files are kept (local storage).
    pub upload_dir: PathBuf,
    /// Largest file accepted, and largest total per dossier (bytes).
    pub upload_max_file_bytes: u64,
    pub upload_max_dossier_bytes: u64,
    /// An S3-compatible store for uploads (`PORTAL_S3_BUCKET` and friends); None = `upload_dir`.
    pub s3: Option<crate::storage::S3Settings>,
    /// The VNPay-style gateway (see `payments`). In demo mode the portal's own sandbox bank.
    pub payment: crate::payments::GatewaySettings,
    /// Encrypts each office's signing key at rest (`PORTAL_SEAL_KEY`, 32 bytes in base64 or
    /// hex; without it, a key file made on first start, `PORTAL_SEAL_KEY_FILE`).
    pub seal_key: crate::security::seal::SealKey,
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

/// The seal key kept in a file beside the database (readable by the portal only), made on
/// first start. Production sets `PORTAL_SEAL_KEY` from its secret store instead.
fn seal_key_file(path: &std::path::Path) -> Result<crate::security::seal::SealKey> {
    use crate::security::seal::SealKey;
    if let Ok(text) = std::fs::read_to_string(path) {
        return SealKey::parse(&text)
            .with_context(|| format!("{} does not hold a seal key", path.display()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = SealKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut f) => {
            use std::io::Write;
            f.write_all(key.to_text().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            SealKey::parse(&text)
                .with_context(|| format!("{} does not hold a seal key", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
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
        let demo = env_or("PORTAL_DEMO", demo_default) == "true";
        let public_url = env_or("PORTAL_PUBLIC_URL", &format!("http://{bind}"));
        let payment = Settings::payment_defaults(&public_url, demo);
        let megabytes = |key: &str, default: &str| -> Result<u64> {
            let mb: u64 = env_or(key, default)
                .parse()
                .with_context(|| format!("{key} must be a number of megabytes"))?;
            Ok(mb * 1024 * 1024)
        };
        let seal_key = match std::env::var("PORTAL_SEAL_KEY")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(text) => crate::security::seal::SealKey::parse(&text)
                .context("PORTAL_SEAL_KEY must be 32 bytes in base64 or hex")?,
            None => seal_key_file(&path("PORTAL_SEAL_KEY_FILE", "var/seal.key"))?,
        };
        Ok(Settings {
            seal_key,
            demo,
            smtp_url: std::env::var("PORTAL_SMTP_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            mail_from: env_or(
                "PORTAL_MAIL_FROM",
                "Cổng Dịch vụ công <no-reply@portal.localhost>",
            ),
            mail_dir: path("PORTAL_MAIL_DIR", "var/mail"),
            run_mail_worker: env_or("PORTAL_MAIL_WORKER", "true") != "false",
            login_limit_per_ip: env_or("PORTAL_LOGIN_LIMIT_PER_IP", "100")
                .parse()
                .context("PORTAL_LOGIN_LIMIT_PER_IP must be a number")?,
            login_limit_per_account: env_or("PORTAL_LOGIN_LIMIT_PER_ACCOUNT", "5")
                .parse()
                .context("PORTAL_LOGIN_LIMIT_PER_ACCOUNT must be a number")?,
            database_url,
            public_url,
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
                .context("PORTAL_CATALOGUE_POLL_SECS must be a number")?,
            demo_on_postgres: env_or("PORTAL_DEMO_ON_POSTGRES", "false") == "true",
            body_idle_timeout_secs: env_or("PORTAL_BODY_IDLE_TIMEOUT_SECS", "10")
                .parse()
                .context("PORTAL_BODY_IDLE_TIMEOUT_SECS must be a number")?,
            body_timeout_secs: env_or("PORTAL_BODY_TIMEOUT_SECS", "300")
                .parse()
                .context("PORTAL_BODY_TIMEOUT_SECS must be a number")?,
            upload_dir: path("PORTAL_UPLOAD_DIR", "var/uploads"),
            upload_max_file_bytes: megabytes("PORTAL_UPLOAD_MAX_FILE_MB", "10")?,
            upload_max_dossier_bytes: megabytes("PORTAL_UPLOAD_MAX_DOSSIER_MB", "50")?,
            payment,
            s3: std::env::var("PORTAL_S3_BUCKET")
                .ok()
                .filter(|b| !b.trim().is_empty())
                .map(|bucket| crate::storage::S3Settings {
                    bucket,
                    endpoint: env_or("PORTAL_S3_ENDPOINT", "https://s3.amazonaws.com"),
                    region: env_or("PORTAL_S3_REGION", "us-east-1"),
                    access_key_id: env_or("PORTAL_S3_ACCESS_KEY_ID", ""),
                    secret_access_key: env_or("PORTAL_S3_SECRET_ACCESS_KEY", ""),
                }),
        })
    }

    /// The gateway settings: a real gateway's from the environment, else (demo) the portal's
    /// own sandbox bank, whose server-side URLs `Application::build` points at the listener.
    pub fn payment_defaults(public_url: &str, demo: bool) -> crate::payments::GatewaySettings {
        let base = public_url.trim_end_matches('/');
        let sandbox = env_or(
            "PORTAL_PAYMENT_SANDBOX",
            if demo { "true" } else { "false" },
        ) == "true";
        crate::payments::GatewaySettings {
            sandbox,
            tmn_code: env_or(
                "PORTAL_VNPAY_TMN_CODE",
                if sandbox { "PORTALDEMO" } else { "" },
            ),
            hash_secret: std::env::var("PORTAL_VNPAY_HASH_SECRET")
                .ok()
                .filter(|v| !v.trim().is_empty())
                // The sandbox's secret is made per start: it never leaves the process.
                .or_else(|| sandbox.then(crate::security::tokens::random_token)),
            pay_url: env_or(
                "PORTAL_VNPAY_PAY_URL",
                if sandbox { "/sandbox/vnpay/pay" } else { "" },
            ),
            query_url: env_or("PORTAL_VNPAY_QUERY_URL", ""),
            ipn_url: format!("{base}/payments/vnpay/ipn"),
            return_url: if sandbox {
                "/payments/vnpay/return".into()
            } else {
                format!("{base}/payments/vnpay/return")
            },
        }
    }

    /// The login policy these settings describe (see `domain::login`).
    pub fn login_policy(&self) -> crate::domain::login::LoginPolicy {
        crate::domain::login::LoginPolicy {
            failures_before_lock: self.login_limit_per_account.max(1),
            failures_per_address: self.login_limit_per_ip.max(1),
            ..Default::default()
        }
    }

    /// Refuses combinations that would be unsafe in production. Called before anything starts.
    pub fn check(&self) -> Result<()> {
        let postgres =
            crate::db::Backend::from_url(&self.database_url) == crate::db::Backend::Postgres;
        if self.demo && postgres {
            if !self.demo_on_postgres {
                anyhow::bail!(
                    "PORTAL_DEMO=true on PostgreSQL is refused: demo mode shows the demo accounts' \
                     passwords and second-factor codes and every email on public pages. For a \
                     disposable demo database, also set PORTAL_DEMO_ON_POSTGRES=true."
                );
            }
            tracing::warn!(
                database = %crate::db::redact(&self.database_url),
                "demo mode on PostgreSQL (PORTAL_DEMO_ON_POSTGRES=true): demo passwords, codes \
                 and the mailbox are public; never use this database for real data"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(database_url: &str, demo: bool, demo_on_postgres: bool) -> Settings {
        // Only the fields `check` reads matter; the rest come from the defaults.
        let mut s = Settings::from_env().expect("default settings");
        s.database_url = database_url.into();
        s.demo = demo;
        s.demo_on_postgres = demo_on_postgres;
        s
    }

    #[test]
    fn demo_on_postgres_needs_its_own_setting() {
        assert!(with("postgres://u@h/db", true, false).check().is_err());
        assert!(with("postgres://u@h/db", true, true).check().is_ok());
        assert!(with("postgres://u@h/db", false, false).check().is_ok());
        assert!(with("sqlite://var/x.db", true, false).check().is_ok());
    }
}
