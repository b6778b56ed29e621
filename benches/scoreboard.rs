//! The public scoreboard at scale (`cargo bench --bench scoreboard`): `portal generate` makes
//! 10,000 and then 1,000,000 dossiers over 50 offices (filed over the past year) in fresh
//! databases, which also builds the indicator cells; then, over HTTP, anonymous:
//!
//! - `scoreboard`: `/scoreboard?period=` for every year, quarter and month with dossiers, in turn
//!   (distinct periods; 200 requests);
//! - `office page`: `/scoreboard/offices/{id}?period=` for 200 distinct (office, period) pairs;
//! - `ranking`: `/scoreboard/offices?period=` per period;
//! - `API`: `/api/v1/statistics/{scope}?period=` for the four scopes × periods;
//! - `CSV`: `/open-data/scoreboard-offices.csv?period=` per period;
//! - and, as the ceiling in the same run, the scoreboard's database reads in-process (no HTTP,
//!   no template), and the cost of one dossier's incremental refresh (what every transition
//!   adds) for 200 distinct dossiers.
//!
//! Each input once cold and once warm; p50/p95/max in ms. Then the rebuild from the timeline
//! and the check, timed. SQLite by default; `BENCH_DATABASE_URL=postgres://…/postgres` runs it
//! on PostgreSQL. `BENCH_SIZES=10000,1000000` sets the sizes.

#[path = "support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::db::{DbConnection, stats as kept};
use support::{Stats, fresh_url, pass, settings, stats};

struct Measured {
    size: u64,
    generate_s: f64,
    rebuild_s: f64,
    check_s: f64,
    differences: usize,
    rows: Vec<(&'static str, Stats, Stats)>,
}

fn scoreboard_reads(conn: &mut DbConnection, period: &str) {
    for scope in ["portal", "ministry", "province", "office"] {
        portal::web::scoreboard::scope_rows(conn, scope, period, "portal").expect("rows");
    }
    kept::series(
        conn,
        "portal",
        "",
        &portal::domain::indicators::months_of(&period[..4]),
    )
    .expect("series");
    kept::years(conn).expect("years");
}

async fn measure(size: u64, dir: &Path) -> Measured {
    let url = fresh_url(dir, &format!("sb_{size}"));
    let s = settings(url.clone(), dir);
    let pool = portal::startup::prepare_database(&s).expect("database");
    let mut conn = pool.get().expect("conn");
    let now = chrono::Utc::now().naive_utc();
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
    let t = Instant::now();
    kept::rebuild(&mut conn, now).expect("rebuild");
    let rebuild_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let differences = kept::check(&mut conn, now).expect("check").len();
    let check_s = t.elapsed().as_secs_f64();
    // Inputs: every period with dossiers; the offices with dossiers.
    let mut periods: Vec<String> = Vec::new();
    for year in kept::years(&mut conn).expect("years") {
        periods.push(year.clone());
        for q in 1..=4 {
            periods.push(format!("{year}-Q{q}"));
        }
        for m in 1..=12 {
            periods.push(format!("{year}-{m:02}"));
        }
    }
    let offices: Vec<String> = kept::cells(&mut conn, "office", &periods[0])
        .expect("offices")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // The ceiling: the page's reads in-process, per period.
    let mut inproc = Vec::new();
    for p in periods.iter().cycle().take(200) {
        let t = Instant::now();
        scoreboard_reads(&mut conn, p);
        inproc.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // What a transition adds: one dossier's refresh, 200 distinct dossiers, each in its own
    // transaction.
    use portal::db::schema::dossiers as d;
    let ids: Vec<i64> = d::table
        .order(d::id)
        .select(d::id)
        .load::<i64>(&mut *conn)
        .expect("ids")
        .into_iter()
        .step_by((size as usize / 200).max(1))
        .take(200)
        .collect();
    let mut refresh = Vec::new();
    for id in &ids {
        let t = Instant::now();
        portal::db::transaction(&mut conn, |c| kept::refresh(c, *id, now)).expect("refresh");
        refresh.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    drop(conn);

    let app = portal::startup::Application::build(s).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let board: Vec<String> = periods
        .iter()
        .cycle()
        .take(200)
        .map(|p| format!("{base}/scoreboard?period={p}"))
        .collect();
    let office_pages: Vec<String> = offices
        .iter()
        .flat_map(|o| periods.iter().map(move |p| (o.clone(), p.clone())))
        .step_by(((offices.len() * periods.len()) / 200).max(1))
        .take(200)
        .map(|(o, p)| format!("{base}/scoreboard/offices/{o}?period={p}"))
        .collect();
    let ranking: Vec<String> = periods
        .iter()
        .map(|p| format!("{base}/scoreboard/offices?period={p}"))
        .collect();
    let api: Vec<String> = ["portal", "ministries", "provinces", "offices"]
        .iter()
        .flat_map(|s| {
            let base = &base;
            periods
                .iter()
                .map(move |p| format!("{base}/api/v1/statistics/{s}?period={p}"))
        })
        .collect();
    let csv: Vec<String> = periods
        .iter()
        .map(|p| format!("{base}/open-data/scoreboard-offices.csv?period={p}"))
        .collect();
    let mut rows = Vec::new();
    for (label, urls) in [
        ("scoreboard", &board),
        ("office page", &office_pages),
        ("ranking", &ranking),
        ("API", &api),
        ("CSV", &csv),
    ] {
        let cold = pass(&http, urls).await;
        let warm = pass(&http, urls).await;
        rows.push((label, cold, warm));
    }
    let ceiling = stats(inproc);
    rows.push(("reads in-process", ceiling, ceiling));
    let refresh = stats(refresh);
    rows.push(("one refresh", refresh, refresh));
    Measured {
        size,
        generate_s,
        rebuild_s,
        check_s,
        differences,
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
            "\n{backend}, {} dossiers (generated with their cells in {:.1} s; rebuild from the timeline {:.1} s; check {:.1} s, {} difference(s))",
            m.size, m.generate_s, m.rebuild_s, m.check_s, m.differences
        );
        println!(
            "{:<18} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "", "n", "cold p50", "cold p95", "cold max", "warm p50", "warm p95", "warm max"
        );
        for (label, c, w) in &m.rows {
            println!(
                "{label:<18} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
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
            println!("{label:<18} {:>6.2}×", b.p95 / a.p95.max(0.001));
        }
    }
}
