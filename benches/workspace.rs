//! The agency workspace at scale (`cargo bench --bench workspace`): `portal generate` makes
//! 10,000 and then 1,000,000 dossiers over 50 offices in fresh databases; an officer of one
//! office (about 1/50 of them) then works the queue over HTTP with a real session cookie:
//!
//! - `first page`: the first page of each of the 8 tabs in both orders (16 distinct pages, in
//!   turn, 192 requests);
//! - `deep page`: the later half of the finished tab's first 240 pages (pages 120–240 at a
//!   million), each reached by its own keyset cursor;
//! - `by code`, `by name`: searches for 200 distinct dossiers of the office (a code; a full
//!   name typed without accents);
//! - `dossier page`: 200 distinct dossiers' staff pages;
//! - and, as the ceiling in the same run, the same queue query called in-process (no HTTP,
//!   no template).
//!
//! Each input is requested once cold (first time) and once warm; p50/p95/max in ms. The growth
//! from 10k to 1M is the ratio of the p95s. The database size is reported after generation.
//! SQLite by default; `BENCH_DATABASE_URL=postgres://…/postgres` runs it on PostgreSQL.
//! `BENCH_SIZES=10000,1000000` sets the sizes.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::db::workspace::{self, Clock, QueueQuery, Sort, Tab};
use portal::db::{self, DbConnection};
use support::{Stats, fresh_url, pass, settings, stats};

fn db_size(conn: &mut DbConnection, url: &str) -> u64 {
    match conn {
        DbConnection::Postgresql(c) => {
            #[derive(QueryableByName)]
            struct Size {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                size: i64,
            }
            let s: Size = diesel::sql_query("SELECT pg_database_size(current_database()) AS size")
                .get_result(c)
                .expect("size");
            s.size as u64
        }
        DbConnection::Sqlite(c) => {
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(c)
                .ok();
            let path = url.trim_start_matches("sqlite://");
            std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        }
    }
}

struct Measured {
    size: u64,
    generate_s: f64,
    db_bytes: u64,
    empty_bytes: u64,
    rows: Vec<(&'static str, Stats, Stats)>,
}

async fn measure(size: u64, dir: &Path) -> Measured {
    let url = fresh_url(dir, &format!("ws_{size}"));
    let s = settings(url.clone(), dir);
    let pool = portal::startup::prepare_database(&s).expect("database");
    let mut conn = pool.get().expect("conn");
    let now = chrono::Utc::now().naive_utc();
    let empty_bytes = db_size(&mut conn, &url);
    let t = Instant::now();
    portal::db::generate::run(
        &mut conn,
        &portal::db::generate::Options {
            dossiers: size,
            offices: 50,
            seed: 1,
            now,
        },
    )
    .expect("generate");
    let generate_s = t.elapsed().as_secs_f64();
    let db_bytes = db_size(&mut conn, &url);
    // An officer of the first office, signed in (both factors) with a session of their own.
    use portal::db::schema::agencies;
    let office: i64 = agencies::table
        .filter(agencies::office_id.eq("00004.00.00.H01"))
        .select(agencies::id)
        .first(&mut *conn)
        .expect("office");
    let officer = db::users::insert_staff(
        &mut conn,
        "bench@ubnd.vn",
        "Cán bộ Đo",
        portal::domain::account::Role::Officer,
        now,
    )
    .expect("officer");
    db::agency_members::add(&mut conn, officer, office, false).expect("member");
    let token = portal::security::tokens::random_token();
    db::sessions::create(
        &mut conn,
        &db::sessions::NewSession {
            id_hash: &portal::security::tokens::hash_token(&token),
            user_id: officer,
            mfa_ok: true,
            ip: "127.0.0.1",
            user_agent: "bench",
            lifetime: chrono::Duration::hours(8),
            now,
        },
    )
    .expect("session");
    // Inputs: distinct dossiers of the office, their names, and deep cursors.
    use portal::db::schema::dossiers as d;
    let sample: Vec<(String, String)> = d::table
        .filter(d::agency_id.eq(office))
        .order(d::id)
        .select((d::code, d::applicant_name))
        .load::<(String, String)>(&mut *conn)
        .expect("sample")
        .into_iter()
        .step_by(((size / 50) as usize / 200).max(1))
        .take(200)
        .collect();
    let cal = db::dossiers::calendar(&mut conn).expect("calendar");
    let clock = Clock::at(now, &cal);
    let offices = [office];
    let query = |after| QueueQuery {
        offices: &offices,
        me: officer,
        tab: Tab::Finished,
        sort: Sort::Due,
        service_id: None,
        officer: None,
        from: None,
        to: None,
        search: None,
        after,
        limit: portal::web::staff::PAGE_SIZE,
        clock,
    };
    // Deep pages: the later half of the tab's pages (pages 120–240 at a million dossiers;
    // at 10,000 the office has only a few pages, reused in turn).
    let mut all_cursors = Vec::new();
    let mut after = None;
    for _ in 0..240 {
        let (_, next) = workspace::queue(&mut conn, &query(after)).expect("page");
        let Some(next) = next else { break };
        all_cursors.push(next);
        after = Some(next);
    }
    let half = all_cursors.len() / 2;
    let cursors: Vec<_> = all_cursors[half..]
        .iter()
        .copied()
        .cycle()
        .take(200)
        .collect();
    // The ceiling: the same deep-page query in-process.
    let mut inproc = Vec::new();
    for c in &cursors {
        let t = Instant::now();
        workspace::queue(&mut conn, &query(Some(*c))).expect("page");
        inproc.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(conn);

    let app = portal::startup::Application::build(s).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let jar = reqwest::cookie::Jar::default();
    jar.add_cookie_str(
        &format!("{}={token}", portal::web::auth::session_cookie_name(false)),
        &base.parse().expect("url"),
    );
    let http = reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::new(jar))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let first: Vec<String> = Tab::ALL
        .iter()
        .flat_map(|t| {
            ["due", "submitted"].map(|s| format!("{base}/staff?tab={}&sort={s}", t.as_str()))
        })
        .cycle()
        .take(192)
        .collect();
    let deep: Vec<String> = cursors
        .iter()
        .map(|c| {
            format!(
                "{base}/staff?tab=finished&sort=due&after={}",
                enc(&c.encode())
            )
        })
        .collect();
    let by_code: Vec<String> = sample
        .iter()
        .map(|(c, _)| format!("{base}/staff?tab=finished&q={}", enc(c)))
        .collect();
    let by_name: Vec<String> = sample
        .iter()
        .map(|(_, n)| {
            format!(
                "{base}/staff?tab=finished&q={}",
                enc(&portal::search::fold(n))
            )
        })
        .collect();
    let pages: Vec<String> = sample
        .iter()
        .map(|(c, _)| format!("{base}/staff/dossiers/{c}"))
        .collect();
    let mut rows = Vec::new();
    for (label, urls) in [
        ("first page", &first),
        ("deep page", &deep),
        ("by code", &by_code),
        ("by name", &by_name),
        ("dossier page", &pages),
    ] {
        let cold = pass(&http, urls).await;
        let warm = pass(&http, urls).await;
        rows.push((label, cold, warm));
    }
    let ceiling = stats(inproc);
    rows.push(("deep page in-process", ceiling, ceiling));
    Measured {
        size,
        generate_s,
        db_bytes,
        empty_bytes,
        rows,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().expect("dir");
    let backend = if std::env::var("BENCH_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut all = Vec::new();
    for size in sizes {
        let m = measure(size, dir.path()).await;
        println!(
            "\n{backend}, {} dossiers (generated in {:.1} s; database {:.0} MiB, of which the dossiers {:.0} MiB = {:.0} MiB per million)",
            m.size,
            m.generate_s,
            m.db_bytes as f64 / 1048576.0,
            m.db_bytes.saturating_sub(m.empty_bytes) as f64 / 1048576.0,
            m.db_bytes.saturating_sub(m.empty_bytes) as f64 / 1048576.0 / (m.size as f64 / 1e6),
        );
        println!(
            "{:<22} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "", "n", "cold p50", "cold p95", "cold max", "warm p50", "warm p95", "warm max"
        );
        for (label, c, w) in &m.rows {
            println!(
                "{label:<22} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                c.n, c.p50, c.p95, c.max, w.p50, w.p95, w.max
            );
        }
        all.push(m);
    }
    if all.len() >= 2 {
        let (small, large) = (&all[0], &all[all.len() - 1]);
        println!(
            "\ngrowth of the warm p95 from {} to {} dossiers:",
            small.size, large.size
        );
        for ((label, _, a), (_, _, b)) in small.rows.iter().zip(&large.rows) {
            println!("{label:<22} {:>6.2}×", b.p95 / a.p95.max(0.001));
        }
    }
}
