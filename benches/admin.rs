//! Administration on the full catalogue (`cargo bench --bench admin`): a fresh database seeded
//! with the 2,625 procedures, an administrator signed in (a real session cookie, both factors),
//! then over HTTP, one request at a time, each input once cold and once warm:
//!
//! - `services search`: 200 distinct searches (two words of 200 different procedure names);
//! - `service page`: 200 distinct procedures' admin pages (the level checks computed);
//! - `routing tester`: the routing page trying 200 distinct procedure × ward pairs;
//! - `routing gaps`: the report over every procedure × level (one input: 50 requests);
//! - `offices search`, `office page`: 200 distinct wards' offices;
//! - `people search`: 200 distinct searches;
//! - `import dry run`: the whole seed file (`data/procedures.jsonl.gz`) uploaded and compared,
//!   10 times;
//! - and, as ceilings in the same run, the search and the dry run's comparison called
//!   in-process (no HTTP, no template).
//!
//! p50/p95/max in ms. SQLite by default; `BENCH_DATABASE_URL=postgres://…/postgres` runs it on
//! PostgreSQL (a fresh database `portal_bench_admin`).

#[path = "support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::db;
use support::{fresh_url, pass, settings, stats};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_url(dir.path(), "admin");
    let s = settings(url, dir.path());
    let backend = if s.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let pool = portal::startup::prepare_database(&s).expect("database");
    let mut conn = pool.get().expect("conn");
    let now = chrono::Utc::now().naive_utc();
    let admin = db::users::insert_staff(
        &mut conn,
        "bench-admin@portal.vn",
        "Quản trị Đo",
        portal::domain::account::Role::Admin,
        now,
    )
    .expect("admin");
    let token = portal::security::tokens::random_token();
    db::sessions::create(
        &mut conn,
        &db::sessions::NewSession {
            id_hash: &portal::security::tokens::hash_token(&token),
            user_id: admin,
            mfa_ok: true,
            ip: "127.0.0.1",
            user_agent: "bench",
            lifetime: chrono::Duration::hours(8),
            now,
        },
    )
    .expect("session");
    // Inputs: distinct procedures (every 13th), words of their names, wards and their offices.
    use portal::db::schema::{agencies, services, wards};
    let procs: Vec<(String, String)> = services::table
        .order(services::code)
        .select((services::code, services::name))
        .load::<(String, String)>(&mut *conn)
        .expect("services")
        .into_iter()
        .step_by(13)
        .take(200)
        .collect();
    let words: Vec<String> = procs
        .iter()
        .map(|(_, name)| {
            name.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let ward_codes: Vec<String> = wards::table
        .order(wards::code)
        .select(wards::code)
        .load::<String>(&mut *conn)
        .expect("wards")
        .into_iter()
        .step_by(16)
        .take(200)
        .collect();
    let offices: Vec<String> = agencies::table
        .filter(agencies::kind.eq("ward_committee"))
        .order(agencies::office_id)
        .select(agencies::office_id)
        .load::<String>(&mut *conn)
        .expect("offices")
        .into_iter()
        .step_by(16)
        .take(200)
        .collect();
    // Ceilings in-process: the services search and the dry run's comparison.
    let mut search_inproc = Vec::new();
    for w in &words {
        let t = Instant::now();
        db::service_admin::search(&mut conn, w, 100).expect("search");
        search_inproc.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let seed_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/procedures.jsonl.gz");
    let mut plan_inproc = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let procedures = portal::seed::read_procedures(&seed_file).expect("read");
        db::seed::plan_import(&mut conn, &procedures).expect("plan");
        plan_inproc.push(t.elapsed().as_secs_f64() * 1000.0);
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
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let search: Vec<String> = words
        .iter()
        .map(|w| format!("{base}/admin/services?q={}", enc(w)))
        .collect();
    let service_pages: Vec<String> = procs
        .iter()
        .map(|(c, _)| format!("{base}/admin/services/{c}"))
        .collect();
    let tester: Vec<String> = procs
        .iter()
        .zip(&ward_codes)
        .map(|((c, _), w)| format!("{base}/admin/routing?try_service={c}&try_ward={w}"))
        .collect();
    let gaps: Vec<String> = (0..50)
        .map(|_| format!("{base}/admin/routing/gaps"))
        .collect();
    let office_search: Vec<String> = offices
        .iter()
        .map(|o| format!("{base}/admin/offices?q={}", enc(&o[..5])))
        .collect();
    let office_pages: Vec<String> = offices
        .iter()
        .map(|o| format!("{base}/admin/offices/{o}"))
        .collect();
    let people: Vec<String> = words
        .iter()
        .map(|w| format!("{base}/admin/people?q={}", enc(w)))
        .collect();
    let mut rows = Vec::new();
    for (label, urls) in [
        ("services search", &search),
        ("service page", &service_pages),
        ("routing tester", &tester),
        ("routing gaps", &gaps),
        ("offices search", &office_search),
        ("office page", &office_pages),
        ("people search", &people),
    ] {
        let cold = pass(&http, urls).await;
        let warm = pass(&http, urls).await;
        rows.push((label, cold, warm));
    }
    // The dry run: the seed file uploaded with the form's CSRF token.
    let page = http
        .get(format!("{base}/admin/import"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf")
        .to_string();
    let bytes = std::fs::read(&seed_file).expect("seed file");
    let mut dry = Vec::new();
    for _ in 0..10 {
        let form = reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name("procedures.jsonl.gz"),
            );
        let t = Instant::now();
        let res = http
            .post(format!("{base}/admin/import"))
            .multipart(form)
            .send()
            .await
            .expect("post");
        let status = res.status();
        let body = res.text().await.expect("body");
        assert!(
            status.is_success() && body.contains("0 thủ tục mới, 0 thay đổi, 0 bị bãi bỏ"),
            "dry run: {status}"
        );
        dry.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let dry = stats(dry);
    rows.push(("import dry run", dry, dry));
    let s1 = stats(search_inproc);
    rows.push(("search in-process", s1, s1));
    let p1 = stats(plan_inproc);
    rows.push(("dry run in-process", p1, p1));
    println!("\n{backend}, the full catalogue (2,625 procedures), one administrator");
    println!(
        "{:<20} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "n", "cold p50", "cold p95", "cold max", "warm p50", "warm p95", "warm max"
    );
    for (label, c, w) in &rows {
        println!(
            "{label:<20} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            c.n, c.p50, c.p95, c.max, w.p50, w.p95, w.max
        );
    }
}
