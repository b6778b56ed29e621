//! Test harness: the real server on a random port against a fresh, seeded database.
//! SQLite by default (a copy of a database seeded once per test process); PostgreSQL when
//! `TEST_DATABASE_URL` names a server (a new database per test, cloned from a seeded template).
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use diesel::prelude::*;
use portal::config::{LogFormat, Settings};
use portal::startup::{Application, prepare_database};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db_url: String,
    pub settings: Settings,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn test_settings(database_url: String) -> Settings {
    let root = root();
    Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        data_dir: root.join("data"),
        templates_dir: root.join("templates"),
        assets_dir: root.join("assets"),
        locales_dir: root.join("locales"),
        workers: 1,
        db_pool_size: 4,
        log_format: LogFormat::Json,
        seed_on_start: true,
        catalogue_poll_secs: 1,
        public_url: "http://127.0.0.1".into(),
        demo: false,
        smtp_url: None,
        mail_from: "Portal <no-reply@portal.test>".into(),
        mail_dir: scratch_dir().join("mail"),
        run_mail_worker: true,
        login_limit_per_ip: 100,
        login_limit_per_account: 5,
        demo_on_postgres: false,
        body_idle_timeout_secs: 10,
        body_timeout_secs: 300,
        upload_dir: scratch_dir().join(format!(
            "uploads-{}",
            COUNTER.fetch_add(1, Ordering::SeqCst)
        )),
        upload_max_file_bytes: 10 * 1024 * 1024,
        upload_max_dossier_bytes: 50 * 1024 * 1024,
        s3: None,
        payment: portal::payments::GatewaySettings {
            sandbox: true,
            tmn_code: "PORTALTEST".into(),
            hash_secret: Some("test-secret-not-for-production".into()),
            pay_url: "/sandbox/vnpay/pay".into(),
            query_url: String::new(),
            ipn_url: String::new(),
            return_url: "/payments/vnpay/return".into(),
        },
        seal_key: portal::security::seal::SealKey::generate(),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);
static GOLDEN: OnceLock<String> = OnceLock::new();
static GOLDEN_LOCK: Mutex<()> = Mutex::new(());

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portal-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Removes the scratch folders of earlier test processes that are no longer running.
fn sqlite_cleanup() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name
            .strip_prefix("portal-tests-")
            .and_then(|p| p.parse::<u32>().ok())
            && pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Server URL with another database name: `postgres://u@h:5432/x` → `postgres://u@h:5432/{name}`.
pub fn pg_url_with_db(server_url: &str, name: &str) -> String {
    let base = server_url.split('?').next().unwrap_or(server_url);
    let (head, _) = base.rsplit_once('/').expect("postgres url has a path");
    format!("{head}/{name}")
}

fn pg_admin(server_url: &str) -> PgConnection {
    PgConnection::establish(server_url)
        .expect("connect to the PostgreSQL server of TEST_DATABASE_URL")
}

/// Drops databases left by earlier test processes that are no longer running.
fn pg_cleanup(conn: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'portal_test_%' OR datname LIKE 'portal_golden_%'",
    )
    .load(conn)
    .unwrap_or_default();
    for n in names {
        let pid = n
            .datname
            .split('_')
            .nth(2)
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                n.datname
            ))
            .execute(conn);
        }
    }
}

/// The seeded template every test copies; built once per test process.
fn golden(server: Option<&str>) -> String {
    let _guard = GOLDEN_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    GOLDEN
        .get_or_init(|| match server {
            Some(server) => {
                let mut admin = pg_admin(server);
                pg_cleanup(&mut admin);
                let name = format!("portal_golden_{}", std::process::id());
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .expect("drop");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create golden");
                let url = pg_url_with_db(server, &name);
                let pool = prepare_database(&test_settings(url)).expect("seed golden database");
                drop(pool);
                name
            }
            None => {
                sqlite_cleanup();
                let path = scratch_dir().join("golden.db");
                let _ = std::fs::remove_file(&path);
                let pool = prepare_database(&test_settings(format!("sqlite://{}", path.display())))
                    .expect("seed golden database");
                {
                    let mut c = pool.get().expect("conn");
                    diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(&mut *c)
                        .ok();
                }
                drop(pool);
                path.display().to_string()
            }
        })
        .clone()
}

/// A fresh, seeded database URL for one test.
pub fn fresh_database() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(server) => {
            let template = golden(Some(&server));
            let name = format!("portal_test_{}_{n}", std::process::id());
            let mut admin = pg_admin(&server);
            diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut admin)
                .expect("clone the golden database");
            pg_url_with_db(&server, &name)
        }
        None => {
            let golden = golden(None);
            let path = scratch_dir().join(format!("test-{n}.db"));
            std::fs::copy(&golden, &path).expect("copy golden database");
            format!("sqlite://{}", path.display())
        }
    }
}

pub fn is_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub async fn spawn_app() -> TestApp {
    spawn_with(test_settings(fresh_database())).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    let db_url = settings.database_url.clone();
    let app = Application::build(settings.clone()).expect("build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: client(),
        db_url,
        settings,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.text().await.expect("body"))
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.expect("json body"))
    }

    pub fn db(&self) -> portal::db::DbConnection {
        portal::db::establish(&self.db_url).expect("test db connection")
    }
}
