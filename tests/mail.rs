//! The email outbox end to end: emails enqueued in a transaction, delivered by the worker to a
//! real SMTP server on loopback (Python `aiosmtpd`, started here), retried while that server is
//! down, claimed exclusively by racing workers (PostgreSQL), and the file transport with the
//! demo mailbox. SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.
//!
//! Without `aiosmtpd` the SMTP tests print "skipping" and pass, unless `PORTAL_REQUIRE_SMTP=1`
//! (CI), where they fail with the install hint.

#[path = "common/mod.rs"]
mod common;

use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::Connection;
use portal::config::Settings;
use portal::db::outbox::{self, OutboxMessage};
use portal::db::{self, DbConnection};
use portal::i18n::Lang;
use portal::mail::worker::{RetryPolicy, Worker, WorkerConfig, WorkerHandle};
use portal::mail::{RenderedEmail, Transport};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// A real SMTP server: aiosmtpd in a child process, one JSON line per received message.

const SERVER_PY: &str = r#"
import email, email.policy, json, sys, threading
from aiosmtpd.controller import Controller

out_path, port = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()

class Sink:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        as_sent = email.message_from_bytes(raw)  # compat32 keeps encoded words as they were sent
        def body(kind):
            part = parsed.get_body(preferencelist=(kind,))
            return part.get_content() if part is not None else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(parsed["From"]),
            "to": str(parsed["To"]),
            "subject": str(parsed["Subject"]),
            "raw_subject": str(as_sent["Subject"]),
            "message_id": str(parsed["Message-ID"]),
            "content_type": parsed.get_content_type(),
            "text": body("plain"),
            "html": body("html"),
        }
        # Written before the 250 reply: once the client counts a message as sent, it is here.
        with lock, open(out_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"

controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
threading.Event().wait()
"#;

#[derive(Debug, Clone, Deserialize)]
struct Received {
    rcpt_tos: Vec<String>,
    from: String,
    to: String,
    subject: String,
    raw_subject: String,
    message_id: String,
    content_type: String,
    text: Option<String>,
    html: Option<String>,
}

struct SmtpServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

fn aiosmtpd_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("PORTAL_REQUIRE_SMTP").as_deref() != Ok("1"),
            "PORTAL_REQUIRE_SMTP=1 but python3 cannot import aiosmtpd: pip install aiosmtpd"
        );
        eprintln!("skipping: python3 with aiosmtpd not found (pip install aiosmtpd)");
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl SmtpServer {
    /// A server on a free port, not started yet; `None` (test skipped) without aiosmtpd.
    fn new() -> Option<SmtpServer> {
        if !aiosmtpd_available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("server.py"), SERVER_PY).expect("write server.py");
        Some(SmtpServer {
            dir,
            port: free_port(),
            child: None,
        })
    }

    fn started() -> Option<SmtpServer> {
        let mut server = SmtpServer::new()?;
        server.start();
        Some(server)
    }

    fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new("python3")
            .arg(self.dir.path().join("server.py"))
            .arg(self.received_path())
            .arg(self.port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read from the SMTP server");
        if line.trim() != "ready" {
            let _ = child.kill();
            panic!("the SMTP server did not start (port {})", self.port);
        }
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn received_path(&self) -> PathBuf {
        self.dir.path().join("received.jsonl")
    }

    fn received(&self) -> Vec<Received> {
        let Ok(text) = std::fs::read_to_string(self.received_path()) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// Polls `check` (which may touch the database) until it holds, or fails the test.
async fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn conn(url: &str) -> DbConnection {
    db::establish(url).expect("database connection")
}

fn now() -> chrono::NaiveDateTime {
    Utc::now().naive_utc()
}

fn simple_email(subject: &str) -> RenderedEmail {
    RenderedEmail {
        subject: subject.to_string(),
        text: format!("Nội dung: {subject}\n"),
        html: format!("<p>Nội dung: {subject}</p>\n"),
    }
}

/// Enqueues all of them in one transaction, as a handler would with its event.
fn enqueue_all(conn: &mut DbConnection, emails: &[(String, RenderedEmail)]) -> Vec<i64> {
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        emails
            .iter()
            .map(|(to, e)| outbox::enqueue(c, to, e, now()))
            .collect()
    })
    .expect("enqueue in one transaction")
}

fn rows(url: &str, ids: &[i64]) -> Vec<OutboxMessage> {
    let mut c = conn(url);
    ids.iter()
        .map(|id| outbox::find(&mut c, *id).expect("query").expect("row"))
        .collect()
}

fn all_sent(url: &str, ids: &[i64]) -> bool {
    rows(url, ids)
        .iter()
        .all(|r| r.status == outbox::OutboxStatus::Sent)
}

fn pool(url: &str) -> db::Pool {
    db::connect_pool(url, 2).expect("pool")
}

/// A worker with a short poll and quick retries, so tests take seconds.
fn fast_worker(url: &str, transport: Transport, settings: &Settings, retry: RetryPolicy) -> Worker {
    Worker::new(pool(url), transport, settings)
        .expect("worker")
        .with_config(WorkerConfig {
            poll: Duration::from_millis(50),
            batch: 5,
            lease: Duration::from_secs(60),
            retry,
        })
}

fn quick_retries(max_attempts: i32) -> RetryPolicy {
    RetryPolicy {
        base: Duration::from_millis(100),
        max: Duration::from_millis(400),
        max_attempts,
    }
}

/// What arrived for these recipients (a seeded database could hold emails of its own).
fn received_for(smtp: &SmtpServer, recipients: &[&str]) -> Vec<Received> {
    smtp.received()
        .into_iter()
        .filter(|r| recipients.contains(&r.to.as_str()))
        .collect()
}

/// Takes any email already due in a fresh database out of the way (claimed for a day), so a
/// test's worker and claims see only the test's own emails.
fn park_existing(url: &str) {
    outbox::claim_due(&mut conn(url), now(), 10_000, TimeDelta::days(1)).expect("park");
}

fn count_by_id(received: &[Received]) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for r in received {
        *counts.entry(r.message_id.clone()).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// (a) the in-process worker delivers rendered emails once each, both parts, encoded headers

#[tokio::test]
async fn emails_enqueued_together_are_each_delivered_once() {
    let Some(smtp) = SmtpServer::started() else {
        return;
    };
    let mut settings = common::test_settings(common::fresh_database());
    settings.smtp_url = Some(smtp.url());
    settings.mail_from = "Cổng Dịch vụ công <no-reply@portal.test>".into();
    let app = common::spawn_with(settings.clone()).await;
    let tera = portal::startup::load_templates(&settings).expect("templates");

    let mut ctx = tera::Context::new();
    ctx.insert("name", "Nguyễn Văn <A>");
    ctx.insert("link", "https://portal.test/verify?token=tok-vi-123");
    ctx.insert("reset_link", "https://portal.test/forgot");
    ctx.insert("until", "10:30 26/11/2026");
    let verify = portal::mail::render(&tera, Lang::Vi, "verify_email", &ctx).expect("render");
    let reset = portal::mail::render(&tera, Lang::En, "reset_password", &ctx).expect("render");
    let locked = portal::mail::render(&tera, Lang::Vi, "account_locked", &ctx).expect("render");
    let batch = vec![
        ("an@example.vn".to_string(), verify.clone()),
        ("binh@example.vn".to_string(), reset.clone()),
        ("chi@example.vn".to_string(), locked.clone()),
    ];
    let ids = enqueue_all(&mut app.db(), &batch);

    let recipients = ["an@example.vn", "binh@example.vn", "chi@example.vn"];
    wait_until("3 deliveries", Duration::from_secs(30), || {
        all_sent(&app.db_url, &ids)
    })
    .await;
    // Longer than the poll interval: a duplicate would have arrived by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = received_for(&smtp, &recipients);
    assert_eq!(received.len(), 3, "{received:#?}");

    for (to, email) in &batch {
        let got: Vec<&Received> = received.iter().filter(|r| &r.to == to).collect();
        assert_eq!(got.len(), 1, "exactly one message to {to}");
        let got = got[0];
        assert_eq!(got.rcpt_tos, vec![to.clone()]);
        assert_eq!(got.subject, email.subject, "decoded subject");
        assert_eq!(got.content_type, "multipart/alternative");
        assert_eq!(got.from, "Cổng Dịch vụ công <no-reply@portal.test>");
        // MIME text travels with CRLF line ends; compare the content.
        let lf = |s: &Option<String>| {
            s.as_deref()
                .map(|t| t.replace("\r\n", "\n").trim().to_string())
        };
        assert_eq!(lf(&got.text).as_deref(), Some(email.text.trim()));
        assert_eq!(lf(&got.html).as_deref(), Some(email.html.trim()));
        assert!(got.message_id.starts_with("<outbox."), "{}", got.message_id);
    }
    // Vietnamese subjects travel as RFC 2047 encoded words and decode to the original.
    let vi = received
        .iter()
        .find(|r| r.to == "an@example.vn")
        .expect("verify email");
    assert!(
        vi.raw_subject.to_ascii_lowercase().starts_with("=?utf-8?"),
        "{}",
        vi.raw_subject
    );
    assert!(vi.subject.starts_with("Xác nhận địa chỉ email"));
    assert!(vi.text.as_deref().unwrap_or("").contains("Nguyễn Văn <A>"));
    assert!(vi.text.as_deref().unwrap_or("").contains("tok-vi-123"));
    assert!(
        vi.html
            .as_deref()
            .unwrap_or("")
            .contains("Nguyễn Văn &lt;A&gt;")
    );
    let unique: HashSet<&String> = received.iter().map(|r| &r.message_id).collect();
    assert_eq!(unique.len(), 3);

    for row in rows(&app.db_url, &ids) {
        assert_eq!(row.status, outbox::OutboxStatus::Sent);
        assert_eq!(row.attempts, 1);
        assert!(row.sent_at.is_some());
        assert!(row.locked_until.is_none());
    }
}

// ---------------------------------------------------------------------------------------------
// (b) an email is part of its transaction: rolled back, it never goes out

#[tokio::test]
async fn a_rolled_back_transaction_sends_nothing() {
    let Some(smtp) = SmtpServer::started() else {
        return;
    };
    let mut settings = common::test_settings(common::fresh_database());
    settings.smtp_url = Some(smtp.url());
    let app = common::spawn_with(settings).await;
    let mut c = app.db();

    let result = c.transaction::<(), diesel::result::Error, _>(|c| {
        outbox::enqueue(c, "ghost@example.vn", &simple_email("Bóng ma"), now())?;
        // The event that caused the email fails after it was written.
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(result.is_err());
    // A committed email afterwards proves the worker ran past the rolled-back one.
    let marker = enqueue_all(
        &mut c,
        &[("marker@example.vn".into(), simple_email("Đánh dấu"))],
    );

    wait_until("the marker email", Duration::from_secs(30), || {
        all_sent(&app.db_url, &marker)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = received_for(&smtp, &["ghost@example.vn", "marker@example.vn"]);
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].subject, "Đánh dấu");
    let recent = outbox::recent(&mut c, 50).expect("recent");
    assert!(recent.iter().all(|r| r.to_address != "ghost@example.vn"));
}

// ---------------------------------------------------------------------------------------------
// (c) SMTP down: attempts fail and are recorded; back up: every email arrives exactly once

#[tokio::test]
async fn emails_survive_an_smtp_outage_and_arrive_once() {
    let Some(mut smtp) = SmtpServer::new() else {
        return;
    };
    let url = common::fresh_database();
    park_existing(&url);
    let settings = common::test_settings(url.clone());
    let worker = fast_worker(
        &url,
        Transport::smtp(&smtp.url()).expect("transport"),
        &settings,
        quick_retries(1000),
    )
    .spawn();

    let subjects: Vec<String> = (1..=5).map(|i| format!("Thông báo số {i}")).collect();
    let batch: Vec<(String, RenderedEmail)> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("nguoi{i}@example.vn"), simple_email(s)))
        .collect();
    let ids = enqueue_all(&mut conn(&url), &batch);
    worker.wake();

    // The server is down: every message is tried (more than once) and the error recorded.
    wait_until("failed attempts", Duration::from_secs(30), || {
        rows(&url, &ids)
            .iter()
            .all(|r| r.attempts >= 2 && r.last_error.is_some())
    })
    .await;
    for row in rows(&url, &ids) {
        assert_eq!(
            row.status,
            outbox::OutboxStatus::Pending,
            "still to be retried"
        );
        assert!(row.sent_at.is_none());
        let error = row.last_error.unwrap_or_default();
        assert!(!error.is_empty());
        assert!(
            !error.contains("Nội dung"),
            "the body is never in the error"
        );
    }
    assert!(smtp.received().is_empty());

    smtp.start();
    wait_until("delivery after the outage", Duration::from_secs(30), || {
        all_sent(&url, &ids)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    worker.shutdown().await;

    let received = smtp.received();
    assert_eq!(received.len(), 5, "{received:#?}");
    let counts = count_by_id(&received);
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    let got: BTreeSet<&str> = received.iter().map(|r| r.subject.as_str()).collect();
    let want: BTreeSet<&str> = subjects.iter().map(String::as_str).collect();
    assert_eq!(got, want);
    for row in rows(&url, &ids) {
        assert_eq!(row.status, outbox::OutboxStatus::Sent);
        assert!(
            row.attempts >= 3,
            "failed twice, then sent: {}",
            row.attempts
        );
        assert!(row.sent_at.is_some());
    }
}

// ---------------------------------------------------------------------------------------------
// Giving up: attempts exhausted, or a message that can never be sent (no SMTP server needed)

#[tokio::test]
async fn undeliverable_emails_end_failed_with_the_error() {
    let url = common::fresh_database();
    park_existing(&url);
    let settings = common::test_settings(url.clone());
    // Nothing listens on this port: every attempt is refused at once.
    let dead = format!("smtp://127.0.0.1:{}", free_port());
    let worker = fast_worker(
        &url,
        Transport::smtp(&dead).expect("transport"),
        &settings,
        quick_retries(3),
    )
    .spawn();
    let ids = enqueue_all(
        &mut conn(&url),
        &[
            ("ok@example.vn".into(), simple_email("Sẽ thất bại")),
            ("not an address".into(), simple_email("Địa chỉ sai")),
        ],
    );
    worker.wake();
    wait_until("both given up", Duration::from_secs(30), || {
        rows(&url, &ids)
            .iter()
            .all(|r| r.status == outbox::OutboxStatus::Failed)
    })
    .await;
    worker.shutdown().await;
    let r = rows(&url, &ids);
    assert_eq!(r[0].attempts, 3, "retried up to max_attempts");
    assert!(r[0].last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(r[1].attempts, 1, "a bad address is not retried");
    assert!(
        r[1].last_error
            .as_deref()
            .is_some_and(|e| e.contains("recipient")),
        "{:?}",
        r[1].last_error
    );
    let stats = outbox::stats(&mut conn(&url)).expect("stats");
    assert!(stats.failed >= 2);
}

// ---------------------------------------------------------------------------------------------
// Claims and leases at the database level, on both backends

#[tokio::test]
async fn a_claim_is_exclusive_until_its_lease_ends() {
    let url = common::fresh_database();
    park_existing(&url);
    let mut c = conn(&url);
    let before = outbox::stats(&mut c).expect("stats");
    let t0 = now();
    let ids = enqueue_all(
        &mut c,
        &[
            ("a@example.vn".into(), simple_email("Một")),
            ("b@example.vn".into(), simple_email("Hai")),
        ],
    );
    let lease = TimeDelta::seconds(60);
    let first = outbox::claim_due(&mut c, t0 + TimeDelta::seconds(1), 10, lease).expect("claim");
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(first.iter().all(|m| m.attempts == 1));
    // Held: nobody else gets them while the lease runs.
    let again = outbox::claim_due(&mut c, t0 + TimeDelta::seconds(30), 10, lease).expect("claim");
    assert!(again.is_empty());
    // Lapsed (a worker died): the rows can be taken over.
    let later = t0 + TimeDelta::seconds(120);
    let second = outbox::claim_due(&mut c, later, 1, lease).expect("claim");
    assert_eq!(second.len(), 1, "limit honoured");
    assert_eq!(second[0].id, ids[0]);
    assert_eq!(second[0].attempts, 2);
    // The old claim can no longer record anything; the new one can.
    assert!(!outbox::mark_sent(&mut c, &first[0], later).expect("mark"));
    assert!(outbox::mark_sent(&mut c, &second[0], later).expect("mark"));
    assert!(
        !outbox::mark_sent(&mut c, &second[0], later).expect("mark"),
        "only once"
    );
    // Releasing gives the row back without counting the attempt.
    let third = outbox::claim_due(&mut c, later, 10, lease).expect("claim");
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].id, ids[1]);
    assert!(outbox::release(&mut c, &third[0]).expect("release"));
    let back = outbox::find(&mut c, ids[1]).expect("find").expect("row");
    assert_eq!(back.attempts, 1);
    assert!(back.locked_until.is_none());
    // A failure schedules the retry: not due before it, due after.
    let fourth = outbox::claim_due(&mut c, later, 10, lease).expect("claim");
    let retry_at = later + TimeDelta::seconds(10);
    assert!(
        outbox::mark_failed(&mut c, &fourth[0], "421 try later", Some(retry_at)).expect("fail")
    );
    assert!(
        outbox::claim_due(&mut c, later, 10, lease)
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        outbox::claim_due(&mut c, retry_at, 10, lease)
            .expect("claim")
            .len(),
        1
    );

    let stats = outbox::stats(&mut c).expect("stats");
    assert_eq!(stats.sent, before.sent + 1);
    assert_eq!(stats.pending, before.pending + 1);
    assert!(stats.oldest_pending_at.is_some());
    let recent = outbox::recent(&mut c, 2).expect("recent");
    assert_eq!(recent[0].id, ids[1], "newest first");
    assert_eq!(recent[0].last_error.as_deref(), Some("421 try later"));
    assert_eq!(recent[1].status, outbox::OutboxStatus::Sent);
}

// ---------------------------------------------------------------------------------------------
// (d) several workers on PostgreSQL: disjoint claims, no email sent twice

/// While one transaction holds claimed rows, another claim skips them instead of waiting.
#[tokio::test]
async fn postgres_claims_skip_locked_rows() {
    if !common::is_postgres() {
        return;
    }
    let url = common::fresh_database();
    park_existing(&url);
    let mut a = conn(&url);
    let mut b = conn(&url);
    // Without SKIP LOCKED the second claim would wait on the first: fail instead of hanging.
    diesel::RunQueryDsl::execute(diesel::sql_query("SET lock_timeout = '3s'"), &mut b)
        .expect("set lock_timeout");
    let batch: Vec<(String, RenderedEmail)> = (0..6)
        .map(|i| {
            (
                format!("p{i}@example.vn"),
                simple_email(&format!("Thư {i}")),
            )
        })
        .collect();
    let ids = enqueue_all(&mut a, &batch);
    let lease = TimeDelta::seconds(60);
    let (first, second) = a
        .transaction::<_, diesel::result::Error, _>(|a| {
            let first = outbox::claim_due(a, now(), 3, lease)?;
            let second = outbox::claim_due(&mut b, now(), 10, lease)?;
            Ok((first, second))
        })
        .expect("claims");
    let first: BTreeSet<i64> = first.iter().map(|m| m.id).collect();
    let second: BTreeSet<i64> = second.iter().map(|m| m.id).collect();
    assert_eq!(first.len(), 3);
    assert!(first.is_disjoint(&second), "{first:?} {second:?}");
    let all: BTreeSet<i64> = first.union(&second).copied().collect();
    assert_eq!(all, ids.iter().copied().collect::<BTreeSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_workers_on_postgres_send_each_email_once() {
    if !common::is_postgres() {
        return;
    }
    let Some(smtp) = SmtpServer::started() else {
        return;
    };
    let url = common::fresh_database();
    park_existing(&url);
    let settings = common::test_settings(url.clone());
    // Two workers as two processes would be: separate pools, same database.
    let workers: Vec<WorkerHandle> = (0..2)
        .map(|_| {
            fast_worker(
                &url,
                Transport::smtp(&smtp.url()).expect("transport"),
                &settings,
                quick_retries(10),
            )
            .spawn()
        })
        .collect();
    let batch: Vec<(String, RenderedEmail)> = (0..50)
        .map(|i| {
            (
                format!("dua{i}@example.vn"),
                simple_email(&format!("Cuộc đua {i}")),
            )
        })
        .collect();
    let ids = enqueue_all(&mut conn(&url), &batch);
    for w in &workers {
        w.wake();
    }
    wait_until("50 deliveries", Duration::from_secs(60), || {
        all_sent(&url, &ids)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for w in workers {
        w.shutdown().await;
    }
    let received = smtp.received();
    let counts = count_by_id(&received);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(received.len(), 50);
    assert_eq!(counts.len(), 50);
    assert!(rows(&url, &ids).iter().all(|r| r.attempts == 1));
}

// ---------------------------------------------------------------------------------------------
// (e) zero-setup: the file transport and the demo mailbox

fn eml_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn file_transport_and_the_demo_mailbox() {
    let mail_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = common::test_settings(common::fresh_database());
    settings.demo = true;
    settings.demo_on_postgres = true; // a disposable test database
    settings.smtp_url = None;
    settings.mail_dir = mail_dir.path().join("mail");
    let app = common::spawn_with(settings.clone()).await;
    let tera = portal::startup::load_templates(&settings).expect("templates");
    let mut ctx = tera::Context::new();
    ctx.insert("name", "Trần Thị B");
    ctx.insert("link", "https://portal.test/verify?token=demo-token-42");
    let email = portal::mail::render(&tera, Lang::Vi, "verify_email", &ctx).expect("render");
    let ids = enqueue_all(&mut app.db(), &[("b@example.vn".into(), email.clone())]);

    wait_until("the .eml file", Duration::from_secs(30), || {
        all_sent(&app.db_url, &ids)
    })
    .await;
    let ours: Vec<String> = eml_files(&settings.mail_dir)
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(settings.mail_dir.join(f))
                .is_ok_and(|raw| raw.contains("To: b@example.vn"))
        })
        .collect();
    assert_eq!(ours.len(), 1, "one .eml file for the one email: {ours:?}");
    let file = &ours[0];

    let res = app.get("/demo/mailbox").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let page = res.text().await.expect("body");
    assert!(page.contains(&email.subject), "decoded subject listed");
    assert!(page.contains("b@example.vn"));
    let href = format!("/demo/mailbox/{file}");
    assert!(page.contains(&href));

    let (status, opened) = app.get_text(&href).await;
    assert_eq!(status, 200);
    assert!(opened.contains("Trần Thị B"));
    assert!(
        opened.contains("demo-token-42"),
        "the text part with the link"
    );

    for bad in [
        "/demo/mailbox/..%2F..%2Fetc%2Fpasswd",
        "/demo/mailbox/..%2Fmail.eml",
        "/demo/mailbox/missing.eml",
        "/demo/mailbox/x.txt",
        "/demo/mailbox/.eml",
    ] {
        assert_eq!(app.get(bad).await.status().as_u16(), 404, "{bad}");
    }

    // Not in demo mode: the page does not exist, even with mail on disk.
    let mut off = settings.clone();
    off.demo = false;
    off.run_mail_worker = false;
    off.database_url = common::fresh_database();
    let app = common::spawn_with(off).await;
    assert_eq!(app.get("/demo/mailbox").await.status().as_u16(), 404);
    assert_eq!(app.get(&href).await.status().as_u16(), 404);
}
