//! Signed webhooks against a real HTTP receiver on loopback that is down for a while and then
//! answers one 503: every status change of the office's dossiers arrives exactly once after it
//! comes back, correctly signed, and in each dossier's order; the office's delivery log and
//! re-send work over HTTP for an administrator.

use std::sync::{Arc, Mutex};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use portal::db::dossiers::{Dossier, Move, apply_move};
use portal::db::schema::{dossier_events, dossiers, webhook_deliveries as wd};
use portal::domain::lifecycle::{Action, Actor};
use portal::domain::status::Status;
use portal::domain::webhook;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::applications::{ready_drafts, submit_in_process};
use crate::common::{fresh_database, spawn_with, test_settings};

const SECRET: &str = "s3cret-of-the-office";

/// What the receiver accepted: (event id, dossier code, to_status).
type Seen = Arc<Mutex<Vec<(String, String, i64)>>>;

/// A minimal HTTP/1.1 receiver: verifies the signature, answers 503 to the first request it
/// gets (a hiccup), 200 after, and records what it accepted.
async fn receiver(listener: tokio::net::TcpListener, seen: Seen, refused_once: Arc<Mutex<bool>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let (head, body) = loop {
            let n = sock.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break (String::new(), Vec::new());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut body = buf[end + 4..].to_vec();
                while body.len() < length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                break (head, body);
            }
        };
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
                .unwrap_or_default()
        };
        let verified = webhook::verify(
            SECRET,
            &header(webhook::SIGNATURE_HEADER),
            &body,
            chrono::Utc::now().timestamp(),
            webhook::TOLERANCE_SECS,
        );
        let status = {
            let mut refused = refused_once.lock().expect("lock");
            if !*refused {
                *refused = true;
                "503 Service Unavailable"
            } else if verified.is_ok() {
                let event: serde_json::Value = serde_json::from_slice(&body).expect("json event");
                assert_eq!(event["id"], header(webhook::EVENT_HEADER).as_str());
                seen.lock().expect("lock").push((
                    event["id"].as_str().expect("id").to_string(),
                    event["dossier"]["code"].as_str().expect("code").to_string(),
                    event["change"]["to_status"].as_i64().expect("status"),
                ));
                "200 OK"
            } else {
                "401 Unauthorized"
            }
        };
        let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        sock.write_all(answer.as_bytes()).await.ok();
        sock.shutdown().await.ok();
    }
}

fn no_email(_: &Dossier, _: Status) -> anyhow::Result<portal::mail::RenderedEmail> {
    Ok(portal::mail::RenderedEmail {
        subject: "x".into(),
        text: "x".into(),
        html: "<p>x</p>".into(),
    })
}

fn go(conn: &mut portal::db::DbConnection, code: &str, action: Action) {
    let actor = match action {
        Action::Supplement | Action::RequestWithdrawal => Actor::Citizen,
        _ => Actor::Officer,
    };
    let seen: i32 = dossiers::table
        .filter(dossiers::code.eq(code))
        .select(dossiers::lock_version)
        .first(conn)
        .expect("dossier");
    let any = |_: &Dossier| true;
    apply_move(
        conn,
        &Move {
            code,
            action,
            actor,
            actor_id: None,
            seen_version: seen,
            note: if action.needs_note() {
                "Thiếu bản sao"
            } else {
                ""
            },
            now: chrono::Utc::now().naive_utc(),
            in_scope: &any,
            email: &no_email,
        },
    )
    .map_err(|e| format!("{e:?}"))
    .expect("moved");
}

#[tokio::test]
async fn every_event_arrives_once_in_order_after_the_receiver_comes_back() {
    let mut settings = test_settings(fresh_database());
    // The test runs the delivery passes itself, at the times it chooses.
    settings.run_mail_worker = false;
    let app = spawn_with(settings).await;
    let mut conn = app.db();
    let ward: i64 = {
        use portal::db::schema::agencies;
        agencies::table
            .filter(agencies::office_id.eq("00004.00.00.H01"))
            .select(agencies::id)
            .first(&mut conn)
            .expect("office")
    };
    // A port nothing listens on yet: the receiver is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let start = chrono::Utc::now().naive_utc();
    portal::db::webhooks::add(
        &mut conn,
        &app.settings.seal_key,
        ward,
        &format!("http://127.0.0.1:{port}/portal-events"),
        SECRET,
        None,
        start,
    )
    .expect("webhook");
    // Three dossiers moved in turn, so their events interleave.
    let codes: Vec<String> = ready_drafts(&mut conn, 3, "6")
        .into_iter()
        .map(|(u, d)| submit_in_process(&mut conn, u, &d).expect("filed").code)
        .collect();
    let paths: [&[Action]; 3] = [
        &[
            Action::Accept,
            Action::Start,
            Action::Approve,
            Action::Deliver,
        ],
        &[
            Action::RequestSupplement,
            Action::Supplement,
            Action::Approve,
        ],
        &[
            Action::Accept,
            Action::RequestWithdrawal,
            Action::ConfirmWithdrawal,
        ],
    ];
    for step in 0..4 {
        for (code, path) in codes.iter().zip(paths) {
            if let Some(a) = path.get(step) {
                go(&mut conn, code, *a);
            }
        }
    }
    // What each dossier went through, in order (the filing included).
    let mut expected: Vec<(String, Vec<i64>)> = Vec::new();
    for code in &codes {
        let statuses: Vec<i32> = dossier_events::table
            .inner_join(dossiers::table)
            .filter(dossiers::code.eq(code))
            .order(dossier_events::id)
            .select((dossier_events::from_status, dossier_events::to_status))
            .load::<(Option<i32>, i32)>(&mut conn)
            .expect("timeline")
            .into_iter()
            .filter(|(from, to)| *from != Some(*to))
            .map(|(_, to)| to)
            .collect();
        expected.push((code.clone(), statuses.into_iter().map(i64::from).collect()));
    }
    let total: usize = expected.iter().map(|(_, s)| s.len()).sum();
    assert_eq!(total, 5 + 4 + 4);
    let stored: String = portal::db::schema::webhooks::table
        .select(portal::db::schema::webhooks::secret)
        .first(&mut conn)
        .expect("webhook");
    assert!(!stored.contains(SECRET), "the secret is sealed at rest");
    let queued: i64 = wd::table.count().get_result(&mut conn).expect("count");
    assert_eq!(queued as usize, total, "one delivery per status change");

    let pool = portal::db::connect_pool(&app.db_url, 4).expect("pool");
    let jobs = portal::jobs::Jobs::new(pool, &app.settings).expect("jobs");
    let at = |secs: i64| -> NaiveDateTime { start + Duration::seconds(secs) };
    // Down: only the oldest event of each dossier is tried, and fails.
    assert_eq!(jobs.deliver_webhooks(at(5)).await.expect("pass"), (0, 3));
    // Not before the backoff.
    assert_eq!(jobs.deliver_webhooks(at(20)).await.expect("pass"), (0, 0));
    assert_eq!(jobs.deliver_webhooks(at(40)).await.expect("pass"), (0, 3));
    let attempts: Vec<i32> = wd::table
        .order(wd::id)
        .select(wd::attempts)
        .load(&mut conn)
        .expect("attempts");
    assert_eq!(attempts.iter().filter(|a| **a == 2).count(), 3);
    assert_eq!(attempts.iter().filter(|a| **a == 0).count(), total - 3);
    let errors: Vec<String> = wd::table
        .filter(wd::attempts.gt(0))
        .select(wd::last_error)
        .load(&mut conn)
        .expect("errors");
    assert!(errors.iter().all(|e| !e.is_empty()), "{errors:?}");

    // Back up (with one 503 first).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the receiver takes its port");
    let seen: Seen = Arc::default();
    tokio::spawn(receiver(listener, seen.clone(), Arc::default()));
    let mut t = 40;
    let mut passes = 0;
    while portal::db::webhooks::pending(&mut conn).expect("pending") > 0 {
        t += 6 * 3600;
        jobs.deliver_webhooks(at(t)).await.expect("pass");
        passes += 1;
        assert!(passes < 30, "deliveries never finish");
    }
    let seen = seen.lock().expect("lock").clone();
    let mut ids: Vec<&String> = seen.iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), seen.len(), "no event twice: {seen:?}");
    assert_eq!(seen.len(), total, "every event");
    for (code, statuses) in &expected {
        let got: Vec<i64> = seen
            .iter()
            .filter(|(_, c, _)| c == code)
            .map(|(_, _, s)| *s)
            .collect();
        assert_eq!(&got, statuses, "{code} in order");
    }
    let delivered: i64 = wd::table
        .filter(wd::status.eq("delivered"))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(delivered as usize, total);

    // The log and a re-send, as an administrator.
    let (_, admin) = crate::admin::admin(&app, "qt@portal.vn").await;
    let hooks_page = "/admin/offices/00004.00.00.H01/webhooks";
    let (status, page) = crate::admin::get(&app, &admin, hooks_page).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("class=\"delivery-delivered\"").count(), total);
    assert!(!page.contains(SECRET), "the secret is never shown again");
    let first: i64 = wd::table
        .order(wd::id)
        .select(wd::id)
        .first(&mut conn)
        .expect("first");
    let (status, location, _) = crate::admin::post(
        &app,
        &admin,
        hooks_page,
        &format!("{hooks_page}/deliveries/{first}/resend"),
        &[],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/offices/00004.00.00.H01/webhooks?done=resent")
    );
    assert_eq!(
        portal::db::webhooks::pending(&mut conn).expect("pending"),
        1
    );
    // A bad URL is refused with what was typed kept; a good one shows its secret once.
    let (status, _, page) = crate::admin::post(
        &app,
        &admin,
        hooks_page,
        hooks_page,
        &[("url", "ftp://motcua.example.vn/in")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(crate::applications::unescape(&page).contains("ftp://motcua.example.vn/in"));
    let (status, _, page) = crate::admin::post(
        &app,
        &admin,
        hooks_page,
        hooks_page,
        &[("url", "https://motcua.example.vn/in")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"webhook-secret\""));
}
