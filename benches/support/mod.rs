//! What the HTTP benchmarks share: the settings of a bench instance, a fresh database (SQLite in
//! a temporary directory, or `BENCH_DATABASE_URL`'s PostgreSQL server), percentiles, and timed
//! GETs. Included by each bench with `#[path = "support/mod.rs"] mod support;`; a bench uses
//! only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use diesel::prelude::*;
use portal::config::{LogFormat, Settings};

/// A bench instance's settings: two workers, no mail delivery, limits out of the way.
pub fn settings(database_url: String, dir: &Path) -> Settings {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        data_dir: root.join("data"),
        templates_dir: root.join("templates"),
        assets_dir: root.join("assets"),
        locales_dir: root.join("locales"),
        workers: 2,
        db_pool_size: 8,
        log_format: LogFormat::Json,
        seed_on_start: true,
        catalogue_poll_secs: 60,
        public_url: "http://127.0.0.1".into(),
        demo: false,
        smtp_url: None,
        mail_from: "Portal <no-reply@portal.test>".into(),
        mail_dir: dir.join("mail"),
        run_mail_worker: false,
        login_limit_per_ip: 1_000_000,
        login_limit_per_account: 1_000_000,
        demo_on_postgres: false,
        body_idle_timeout_secs: 10,
        body_timeout_secs: 300,
        upload_dir: dir.join("uploads"),
        upload_max_file_bytes: 10 * 1024 * 1024,
        upload_max_dossier_bytes: 50 * 1024 * 1024,
        s3: None,
        payment: Settings::payment_defaults("http://127.0.0.1", false),
        seal_key: portal::security::seal::SealKey::generate(),
    }
}

/// A fresh, empty database named `name`: `BENCH_DATABASE_URL`'s server when set (dropped and
/// created again), else a SQLite file in `dir`.
pub fn fresh_url(dir: &Path, name: &str) -> String {
    match std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(server) => {
            let name = format!("portal_bench_{name}");
            let mut admin = diesel::PgConnection::establish(&server).expect("postgres");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .expect("drop");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create");
            let (head, _) = server.rsplit_once('/').expect("a database in the URL");
            format!("{head}/{name}")
        }
        None => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
    }
}

#[derive(Clone, Copy, Default)]
pub struct Stats {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
    pub n: usize,
}

/// p50, p95 and max of the timings (ms).
pub fn stats(mut ms: Vec<f64>) -> Stats {
    if ms.is_empty() {
        return Stats::default();
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        max: *ms.last().unwrap_or(&0.0),
        n: ms.len(),
    }
}

/// One GET, its time in ms; panics on an error status.
pub async fn time_get(http: &reqwest::Client, url: &str) -> f64 {
    let t = Instant::now();
    let res = http.get(url).send().await.expect("get");
    let status = res.status();
    let body = res.bytes().await.expect("body");
    assert!(
        status.is_success(),
        "{url}: {status} {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    t.elapsed().as_secs_f64() * 1000.0
}

/// GETs each URL in turn.
pub async fn pass(http: &reqwest::Client, urls: &[String]) -> Stats {
    let mut ms = Vec::with_capacity(urls.len());
    for u in urls {
        ms.push(time_get(http, u).await);
    }
    stats(ms)
}
