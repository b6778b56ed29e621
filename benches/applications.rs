//! Applications, measured as people use them (`cargo bench --bench applications`):
//!
//! - `submit`: filing complete drafts (no attachment bytes; the certificate row is there),
//!   through HTTP (session cookie, CSRF, the real handler) and, in the same run, the same
//!   submission transaction called in-process: the ceiling. Distinct drafts every time, four
//!   at once both ways; 2,000 per round and way (all to one office on one day: 8,000 of the
//!   9,999 codes a day allows). SQLite by default; `BENCH_DATABASE_URL=postgres://…/postgres` runs it
//!   on a fresh PostgreSQL database.
//! - `uploads`: ten concurrent 10 MB uploads to the release binary run as its own process,
//!   whose resident memory is sampled every 5 ms: the growth over its idle size.
//!
//! `cargo bench --bench applications -- submit` or `-- uploads` runs one part.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
#[path = "support/mod.rs"]
mod support;
use portal::db::{self, DbConnection, attachments as att, directory, drafts as dr, forms, users};
use portal::domain::routing::{Level, decide};
use support::fresh_url;

const PASSWORD: &str = "trời xanh mây trắng 2026";
const CONCURRENCY: usize = 4;

fn birth_answers(email: &str) -> portal::domain::form_schema::Answers {
    [
        ("applicant_phone", "0912345678"),
        ("applicant_email", email),
        ("req_name", "Trần Thị Bình"),
        ("req_dob", "1995-03-04"),
        ("req_id", "001195012345"),
        ("req_relation", "Mẹ"),
        ("child_name", "Nguyễn Minh An"),
        ("child_dob", "2026-11-20"),
        ("child_sex", "nam"),
        ("child_ethnicity", "Kinh"),
        ("child_nationality", "Việt Nam"),
        ("birthplace_kind", "khac"),
        ("birthplace.province", "01"),
        ("birthplace.ward", "00004"),
        ("child_hometown", "Hà Nội"),
        ("mother_known", "co"),
        ("mother_name", "Trần Thị Bình"),
        ("mother_dob", "1995-03-04"),
        ("mother_ethnicity", "Kinh"),
        ("mother_nationality", "Việt Nam"),
        ("father_known", "khong"),
        ("parents_married", "khong"),
        ("copies_wanted", "khong"),
        ("signed_at", "Phường Ba Đình"),
        ("declaration", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A citizen who can log in with `PASSWORD`.
fn citizen(conn: &mut DbConnection, email: &str, cccd: &str) -> i64 {
    let hash = portal::security::password::hash_now(PASSWORD).expect("hash");
    let now = chrono::Utc::now().naive_utc();
    let id = users::insert_citizen(
        conn,
        &portal::domain::account::NewCitizen {
            full_name: "Trần Thị Bình".into(),
            email: email.into(),
            phone: "0912345678".into(),
            cccd: cccd.into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1995, 3, 4).expect("date"),
            province_code: "01".into(),
            ward_code: "00004".into(),
            address: "12 Hàng Bạc".into(),
        },
        &hash,
        now,
    )
    .expect("citizen");
    users::mark_email_verified(conn, id, now).expect("verified");
    id
}

/// `n` complete birth-registration drafts of `user` (the certificate's row attached).
fn drafts_for(conn: &mut DbConnection, user: i64, email: &str, n: usize, tag: &str) -> Vec<String> {
    let now = chrono::Utc::now().naive_utc();
    let service = directory::routable_service(conn, "1.001193")
        .expect("q")
        .expect("service");
    let rules = directory::rules(conn).expect("rules");
    let rule = decide(&rules, &service.key(), Level::Commune)
        .expect("rule")
        .clone();
    let place = directory::Place {
        province: Some("01".into()),
        ward: Some("00004".into()),
    };
    let office = directory::office_for(conn, &rule, service.ministry_id, &place)
        .expect("q")
        .expect("office");
    let (version, _) =
        forms::current(conn, service.id, &service.code, &service.name).expect("form");
    let state = dr::DraftState {
        answers: birth_answers(email),
        visited: Default::default(),
        channel: None,
    };
    db::transaction(conn, |conn| -> QueryResult<Vec<String>> {
        (0..n)
            .map(|i| {
                let public_id = format!("{tag}{i:06}");
                dr::create(
                    conn,
                    &dr::NewDraft {
                        public_id: &public_id,
                        user_id: user,
                        service_id: service.id,
                        level: Level::Commune,
                        place: &place,
                        agency_id: office.id,
                        rule_id: Some(rule.id),
                        form_version: version,
                        state: &state,
                        now,
                    },
                )?;
                let draft = dr::find_own(conn, &public_id, user)?.expect("draft");
                att::add(
                    conn,
                    &att::NewAttachment {
                        public_id: &format!("f{public_id}"),
                        draft_id: draft.id,
                        owner_id: user,
                        slot: "birth_certificate",
                        file_name: "gcs.pdf",
                        content_type: "application/pdf",
                        size_bytes: 100,
                        sha256: "0",
                        storage_key: "att/none",
                        now,
                    },
                    5,
                    1 << 30,
                )?
                .expect("attached");
                Ok(public_id)
            })
            .collect()
    })
    .expect("drafts")
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF field")
        .to_string()
}

async fn logged_in(address: &str, email: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = http
        .get(format!("{address}/login"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let res = http
        .post(format!("{address}/login"))
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("login", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 303, "login");
    let page = http
        .get(format!("{address}/my"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    let csrf = csrf_of(&page);
    (http, csrf)
}

/// Runs `work` over `items` with `CONCURRENCY` at once; returns per second.
async fn rate<F, Fut>(items: Vec<String>, work: F) -> f64
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let n = items.len();
    let queue = Arc::new(std::sync::Mutex::new(items));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let queue = queue.clone();
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue").pop();
                match next {
                    Some(item) => work(item).await,
                    None => break,
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

async fn submit_bench() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = fresh_url(dir.path(), &format!("apply_{}", std::process::id()));
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut s = support::settings(url.clone(), dir.path());
    // Ten 10 MB uploads to one draft in the memory bench.
    s.upload_max_dossier_bytes = 200 * 1024 * 1024;
    let app = portal::startup::Application::build(s).expect("app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(app.run_until_stopped());
    let mut conn = db::establish(&url).expect("conn");
    let email = "bench@example.vn";
    let user = citizen(&mut conn, email, "001195012345");
    let n: usize = std::env::var("BENCH_SUBMISSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let (http, csrf) = logged_in(&address, email).await;
    println!("submit ({backend}, {n} distinct drafts each way, {CONCURRENCY} at once):");
    for round in ["cold", "warm"] {
        let in_process = drafts_for(&mut conn, user, email, n, &format!("p{round}"));
        let over_http = drafts_for(&mut conn, user, email, n, &format!("h{round}"));
        let pool = state.pool.clone();
        let st = state.clone();
        let ceiling = rate(in_process, move |id| {
            let pool = pool.clone();
            let st = st.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().expect("conn");
                    let places = |p: &str, w: Option<&str>| st.places.exists(p, w);
                    let email = |sub: &portal::db::dossiers::Submitted| {
                        portal::web::apply::submitted_email(&st, portal::i18n::Lang::Vi, sub)
                    };
                    portal::db::dossiers::submit(
                        &mut conn,
                        &portal::db::dossiers::SubmitInput {
                            draft_public_id: &id,
                            user_id: user,
                            now: chrono::Utc::now().naive_utc(),
                            place_exists: &places,
                            email: &email,
                        },
                    )
                    .expect("submitted");
                })
                .await
                .expect("task");
            }
        })
        .await;
        let address = address.clone();
        let http = http.clone();
        let csrf = csrf.clone();
        let through_http = rate(over_http, move |id| {
            let http = http.clone();
            let url = format!("{address}/drafts/{id}/submit");
            let csrf = csrf.clone();
            async move {
                let res = http
                    .post(url)
                    .form(&[("_csrf", csrf.as_str())])
                    .send()
                    .await
                    .expect("post");
                assert_eq!(
                    res.status().as_u16(),
                    303,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
            }
        })
        .await;
        println!(
            "  {round}: HTTP {through_http:.0}/s, in-process {ceiling:.0}/s, ratio {:.2}",
            through_http / ceiling
        );
    }
    let filed: i64 = portal::db::schema::dossiers::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    println!("  dossiers filed: {filed}");
    if let Some(server) = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        drop(conn);
        let name = url.rsplit('/').next().unwrap_or_default().to_string();
        let mut admin = diesel::PgConnection::establish(&server).expect("postgres");
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn uploads_bench() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let mut s = support::settings(url.clone(), dir.path());
    // Ten 10 MB uploads to one draft in the memory bench.
    s.upload_max_dossier_bytes = 200 * 1024 * 1024;
    drop(portal::startup::prepare_database(&s).expect("seed"));
    let mut conn = db::establish(&url).expect("conn");
    let email = "upload@example.vn";
    let user = citizen(&mut conn, email, "001195012346");
    let drafts = drafts_for(&mut conn, user, email, 10, "u");
    drop(conn);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/portal");
    assert!(
        binary.exists(),
        "build the release binary first: cargo build --release"
    );
    let mut server = std::process::Command::new(&binary)
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("PORTAL_BIND", format!("127.0.0.1:{port}"))
        .env("PORTAL_DEMO", "false")
        .env("PORTAL_WORKERS", "2")
        .env("PORTAL_UPLOAD_DIR", dir.path().join("uploads"))
        .env("PORTAL_UPLOAD_MAX_DOSSIER_MB", "200")
        .env("PORTAL_MAIL_WORKER", "false")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    let address = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{address}/readyz"))
        .await
        .ok()
        .map(|r| r.status().as_u16())
        != Some(200)
    {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (http, csrf) = logged_in(&address, email).await;
    // Warm up: one small upload, so the idle size includes what any upload touches once.
    let idle = rss_kib(server.id());
    let pid = server.id();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(idle));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    const SIZE: usize = 10 * 1024 * 1024 - 4096;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in drafts {
        let http = http.clone();
        let csrf = csrf.clone();
        let address = address.clone();
        tasks.push(tokio::spawn(async move {
            // The file is generated as it is sent: the client holds no 10 MB buffer either.
            let chunks = (0..SIZE / 65536 + 1).map(|i| {
                let mut c = vec![b'a' + (i % 26) as u8; 65536];
                if i == 0 {
                    c[..9].copy_from_slice(b"%PDF-1.4\n");
                }
                if i == SIZE / 65536 {
                    c.truncate(SIZE % 65536);
                    c.extend_from_slice(b"\n%%EOF\n");
                }
                Ok::<_, std::io::Error>(c)
            });
            let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf)
                .text("slot", "birth_certificate")
                .part(
                    "file",
                    reqwest::multipart::Part::stream(body)
                        .file_name("big.pdf")
                        .mime_str("application/pdf")
                        .expect("mime"),
                );
            let res = http
                .post(format!("{address}/drafts/{id}/documents"))
                .multipart(form)
                .send()
                .await
                .expect("upload");
            assert_eq!(
                res.status().as_u16(),
                303,
                "{}",
                res.text().await.unwrap_or_default()
            );
        }));
    }
    for t in tasks {
        t.await.expect("upload task");
    }
    let elapsed = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().expect("sampler");
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "uploads: 10 concurrent 10 MB uploads in {:.2} s; server RSS idle {:.1} MiB, peak {:.1} MiB, growth {:.1} MiB",
        elapsed.as_secs_f64(),
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(idle)) as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if which.is_empty() || which.iter().any(|w| w == "submit") {
            submit_bench().await;
        }
        if which.is_empty() || which.iter().any(|w| w == "uploads") {
            uploads_bench().await;
        }
    });
}
