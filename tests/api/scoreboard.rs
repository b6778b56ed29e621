//! The scoreboard's dossier indicators against a hand-built fixture with known answers: thirteen
//! dossiers filed in March 2027 at one ward office (one transferred to another office) with paused
//! clocks, a second supplement request, a reschedule met and one missed, a withdrawal, charges
//! paid online and at the desk, an electronic result, ratings, counter and online filings. Every
//! expected figure below was counted by hand from the timeline written here (the procedure's
//! limit is 1 working day: filed Monday, due Tuesday 17:00). The kept cells must equal them, the
//! sweep must catch the dossier that became overdue with the clock alone, a rebuild from the
//! timeline must agree, and the pages, downloads and API must show the same numbers.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use portal::db::DbConnection;
use portal::db::dossiers::{Dossier, Move, apply_move};
use portal::db::schema::{dossiers, drafts};
use portal::db::stats;
use portal::db::workspace::{Handover, HandoverInput, handover};
use portal::domain::indicators::{self, Tally};
use portal::domain::lifecycle::{Action, Actor};
use portal::domain::status::Status;

use crate::applications::{ready_drafts, unescape};
use crate::common::spawn_app;

/// Local time in March 2027 (Hanoi), as UTC.
fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    portal::domain::calendar::to_utc(
        NaiveDate::from_ymd_opt(2027, 3, day)
            .and_then(|d| d.and_hms_opt(hour, minute, 0))
            .expect("time"),
    )
}

fn office(conn: &mut DbConnection, id: &str) -> i64 {
    use portal::db::schema::agencies;
    agencies::table
        .filter(agencies::office_id.eq(id))
        .select(agencies::id)
        .first(conn)
        .expect("office")
}

fn no_email(_: &Dossier, _: Status) -> anyhow::Result<portal::mail::RenderedEmail> {
    Ok(portal::mail::RenderedEmail {
        subject: "x".into(),
        text: "x".into(),
        html: "<p>x</p>".into(),
    })
}

struct Fixture {
    drafts: Vec<(i64, String)>,
    next: usize,
}

impl Fixture {
    /// Files the next ready draft at `when` (the counter when `counter`); its code.
    fn file(&mut self, conn: &mut DbConnection, when: NaiveDateTime, counter: bool) -> String {
        let (user, draft) = self.drafts[self.next].clone();
        self.next += 1;
        if counter {
            let d = portal::db::drafts::find_own(conn, &draft, user)
                .expect("q")
                .expect("draft");
            let mut state = d.state();
            state.channel = Some(portal::domain::dossier::Channel::Counter);
            state
                .answers
                .insert("applicant_name".into(), "Lê Văn Quầy".into());
            state
                .answers
                .insert("applicant_cccd".into(), "001095012399".into());
            portal::db::drafts::save(conn, d.id, &state, when).expect("saved");
        }
        let places = |p: &str, w: Option<&str>| p == "01" && w.is_none_or(|w| w == "00004");
        let email = |_: &portal::db::dossiers::Submitted| no_email_submitted();
        portal::db::dossiers::submit(
            conn,
            &portal::db::dossiers::SubmitInput {
                draft_public_id: &draft,
                user_id: user,
                now: when,
                place_exists: &places,
                email: &email,
            },
        )
        .map_err(|e| format!("{e:?}"))
        .expect("filed")
        .code
    }
}

fn no_email_submitted() -> anyhow::Result<portal::mail::RenderedEmail> {
    Ok(portal::mail::RenderedEmail {
        subject: "x".into(),
        text: "x".into(),
        html: "<p>x</p>".into(),
    })
}

fn version(conn: &mut DbConnection, code: &str) -> i32 {
    dossiers::table
        .filter(dossiers::code.eq(code))
        .select(dossiers::lock_version)
        .first(conn)
        .expect("dossier")
}

fn go(conn: &mut DbConnection, code: &str, action: Action, when: NaiveDateTime) {
    let actor = match action {
        Action::Supplement | Action::RequestWithdrawal => Actor::Citizen,
        Action::Pay => Actor::System,
        _ => Actor::Officer,
    };
    let any = |_: &Dossier| true;
    let seen = version(conn, code);
    apply_move(
        conn,
        &Move {
            code,
            action,
            actor,
            actor_id: None,
            seen_version: seen,
            note: if action.needs_note() { "Lý do" } else { "" },
            now: when,
            in_scope: &any,
            email: &no_email,
        },
    )
    .map_err(|e| format!("{action:?}: {e:?}"))
    .expect("moved");
}

fn hand(conn: &mut DbConnection, code: &str, offices: &[i64], what: Handover, when: NaiveDateTime) {
    let seen = version(conn, code);
    let actor_id = staff(conn);
    handover(
        conn,
        &HandoverInput {
            code,
            offices,
            actor_id,
            is_lead: true,
            seen_version: seen,
            what,
            note: "Ghi chú",
            now: when,
            email: &no_apology_ok,
        },
    )
    .map_err(|e| format!("{e:?}"))
    .expect("handed over");
}

fn no_apology_ok(
    _: &Dossier,
    _: &str,
    _: NaiveDateTime,
) -> anyhow::Result<portal::mail::RenderedEmail> {
    no_email_submitted()
}

fn staff(conn: &mut DbConnection) -> i64 {
    use portal::db::schema::users;
    if let Some(id) = users::table
        .filter(users::email.eq("lead@fixture.vn"))
        .select(users::id)
        .first::<i64>(conn)
        .optional()
        .expect("q")
    {
        return id;
    }
    portal::db::users::insert_staff(
        conn,
        "lead@fixture.vn",
        "Lãnh đạo",
        portal::domain::account::Role::Lead,
        at(1, 7, 0),
    )
    .expect("staff")
}

fn rate(conn: &mut DbConnection, code: &str, scores: [u8; 9], when: NaiveDateTime) {
    let d = portal::db::dossiers::find_by_code(conn, code)
        .expect("q")
        .expect("dossier");
    let user = d.user_id.expect("citizen");
    portal::db::results::rate(
        conn,
        &d,
        user,
        portal::domain::rating::Scores(scores),
        "",
        when,
    )
    .expect("q")
    .expect("rated");
}

fn issue_result(conn: &mut DbConnection, code: &str, office: i64, when: NaiveDateTime) {
    let seal = portal::security::seal::SealKey::parse(&"ab".repeat(32)).expect("seal");
    let seen = version(conn, code);
    let actor = staff(conn);
    portal::db::results::issue(
        conn,
        &portal::db::results::Issue {
            dossier_code: code,
            offices: &[office],
            actor: Actor::Officer,
            actor_id: actor,
            seen_version: seen,
            verify_code: "KQ-FIXTURE-1",
            file_name: "giay-khai-sinh.pdf",
            size_bytes: 1000,
            sha256: &"0".repeat(64),
            storage_key: "results/fixture",
            generated: true,
            decision: "Cấp giấy khai sinh",
            now: when,
            seal: &seal,
            email: &no_email,
        },
    )
    .map_err(|e| format!("{e:?}"))
    .expect("issued");
}

/// A paid gateway payment for a dossier (what the gateway's notification leaves).
fn paid_online(conn: &mut DbConnection, code: &str, when: NaiveDateTime) {
    use portal::db::schema::payments;
    let d = portal::db::dossiers::find_by_code(conn, code)
        .expect("q")
        .expect("dossier");
    diesel::insert_into(payments::table)
        .values((
            payments::reference.eq(format!("PAY-{code}")),
            payments::dossier_id.eq(Some(d.id)),
            payments::user_id.eq(d.user_id.expect("citizen")),
            payments::amount_vnd.eq(8000i64),
            payments::status.eq("paid"),
            payments::gateway.eq("sandbox"),
            payments::created_at.eq(when),
            payments::updated_at.eq(when),
            payments::paid_at.eq(Some(when)),
        ))
        .execute(conn)
        .expect("payment");
}

/// The expected sums, by measure name.
fn tally(pairs: &[(&str, i64)]) -> Tally {
    let mut t = Tally::default();
    for (name, v) in pairs {
        let i = indicators::MEASURES
            .iter()
            .position(|m| m == name)
            .unwrap_or_else(|| panic!("measure {name}"));
        t.0[i] = *v;
    }
    t
}

fn show(t: &Tally) -> Vec<(&'static str, i64)> {
    indicators::MEASURES
        .iter()
        .zip(t.0.iter())
        .filter(|(_, v)| **v != 0)
        .map(|(m, v)| (*m, *v))
        .collect()
}

#[tokio::test]
async fn every_indicator_matches_the_hand_counted_fixture_and_a_rebuild_agrees() {
    let app = spawn_app().await;
    let mut conn = app.db();
    let c = &mut conn;
    let ward = office(c, "00004.00.00.H01");
    let police = office(c, "00004.01.00.H01");
    let mut fx = Fixture {
        drafts: ready_drafts(c, 13, "9"),
        next: 0,
    };
    use Action::*;
    // A: on time, sealed electronic result, delivered, rated satisfied on all nine.
    let a = fx.file(c, at(1, 9, 0), false);
    go(c, &a, Accept, at(1, 9, 10));
    go(c, &a, Start, at(1, 9, 20));
    issue_result(c, &a, ward, at(2, 10, 0));
    go(c, &a, Deliver, at(2, 11, 0));
    rate(c, &a, [2; 9], at(2, 12, 0));
    // B: decided on Thursday, due Tuesday 17:00: late; a negative rating (attitude 0).
    let b = fx.file(c, at(1, 10, 0), false);
    go(c, &b, Accept, at(1, 10, 30));
    go(c, &b, Start, at(1, 10, 30));
    go(c, &b, Approve, at(4, 10, 0));
    go(c, &b, Deliver, at(4, 11, 0));
    rate(c, &b, [2, 2, 2, 0, 2, 2, 2, 2, 2], at(4, 12, 0));
    // C: a supplement asked on Monday, answered a week later: the limit restarts, so a decision
    // on Tuesday 9 is on time (due Tuesday 2 without the pause).
    let cc = fx.file(c, at(1, 11, 0), false);
    go(c, &cc, RequestSupplement, at(1, 14, 0));
    go(c, &cc, Supplement, at(8, 9, 0));
    go(c, &cc, Approve, at(9, 10, 0));
    // D: two supplement requests: late, though decided the day it was filed.
    let d = fx.file(c, at(2, 9, 0), false);
    go(c, &d, RequestSupplement, at(2, 10, 0));
    go(c, &d, Supplement, at(2, 11, 0));
    go(c, &d, RequestSupplement, at(2, 14, 0));
    go(c, &d, Supplement, at(2, 15, 0));
    go(c, &d, Approve, at(2, 16, 0));
    // E: rescheduled to Monday 8, decided Friday 5: on time (due Thursday 4 before).
    let e = fx.file(c, at(3, 9, 0), false);
    go(c, &e, Accept, at(3, 9, 30));
    go(c, &e, Start, at(3, 9, 30));
    hand(
        c,
        &e,
        &[ward],
        Handover::Reschedule(at(8, 17, 0)),
        at(4, 10, 0),
    );
    go(c, &e, Approve, at(5, 10, 0));
    // F: rescheduled to Friday 5, decided Monday 8: late.
    let f = fx.file(c, at(3, 10, 0), false);
    go(c, &f, Accept, at(3, 10, 30));
    go(c, &f, Start, at(3, 10, 30));
    hand(
        c,
        &f,
        &[ward],
        Handover::Reschedule(at(5, 17, 0)),
        at(4, 11, 0),
    );
    go(c, &f, Approve, at(8, 10, 0));
    // G: withdrawn: neither on time nor late.
    let g = fx.file(c, at(4, 9, 0), false);
    go(c, &g, Accept, at(4, 9, 30));
    go(c, &g, RequestWithdrawal, at(4, 10, 0));
    go(c, &g, ConfirmWithdrawal, at(4, 11, 0));
    // H: transferred to the ward police, decided there on time: it counts there, not here.
    let h = fx.file(c, at(4, 10, 0), false);
    go(c, &h, Accept, at(4, 10, 30));
    hand(c, &h, &[ward], Handover::Transfer(police), at(4, 11, 0));
    go(c, &h, Start, at(4, 12, 0));
    go(c, &h, Approve, at(5, 10, 0));
    // I: open, due Monday 8 17:00: overdue by the fixture's "now" (Monday 15).
    let i = fx.file(c, at(5, 9, 0), false);
    go(c, &i, Accept, at(5, 9, 30));
    go(c, &i, Start, at(5, 9, 30));
    // K: waiting for a supplement since Friday 5: paused, so not overdue.
    let k = fx.file(c, at(5, 10, 0), false);
    go(c, &k, RequestSupplement, at(5, 11, 0));
    // L1: a charge paid online two working days later: the due date moves by them (Thursday),
    // so a decision on Wednesday is on time.
    let l1 = fx.file(c, at(1, 13, 0), false);
    go(c, &l1, Accept, at(1, 13, 10));
    go(c, &l1, Start, at(1, 13, 10));
    go(c, &l1, RequestPayment, at(1, 13, 20));
    paid_online(c, &l1, at(3, 9, 0));
    go(c, &l1, Pay, at(3, 9, 0));
    go(c, &l1, Approve, at(3, 10, 0));
    // L2: filed at the counter, a charge paid at the desk (no gateway payment), on time.
    let l2 = fx.file(c, at(2, 9, 0), true);
    go(c, &l2, Accept, at(2, 9, 10));
    go(c, &l2, Start, at(2, 9, 10));
    go(c, &l2, RequestPayment, at(2, 9, 20));
    go(c, &l2, Pay, at(2, 10, 0));
    go(c, &l2, Approve, at(3, 16, 0));
    // J: filed on Monday 15, due Tuesday 16: open and on time.
    let j = fx.file(c, at(15, 9, 0), false);
    let now = at(15, 12, 0);
    assert_eq!(fx.next, 13);

    let w = ward.to_string();
    // Before the sweep, I still counts as on time: the check sees it.
    let before = stats::check(c, now).expect("check");
    assert!(
        before
            .iter()
            .any(|l| l.contains("overdue_now kept 0 timeline 1")),
        "{before:?}"
    );
    assert_eq!(
        stats::sweep(c, now, 100).expect("sweep"),
        1,
        "only I's due date passed"
    );
    assert_eq!(stats::check(c, now).expect("check"), Vec::<String>::new());

    let ward_expected = tally(&[
        ("received", 12),
        ("online", 11),
        ("counter", 1),
        ("finished", 8),
        ("withdrawn", 1),
        ("on_time", 7),
        ("late", 4),
        ("overdue_now", 1),
        ("days_sum", 18),
        ("days_n", 8),
        ("charged", 2),
        ("paid_online", 1),
        ("with_result", 8),
        ("e_result", 1),
        ("rated", 2),
        ("negative", 1),
        ("s1", 4),
        ("s2", 4),
        ("s3", 4),
        ("s4", 2),
        ("s5", 4),
        ("s6", 4),
        ("s7", 4),
        ("s8", 4),
        ("s9", 4),
    ]);
    let police_expected = tally(&[
        ("received", 1),
        ("online", 1),
        ("finished", 1),
        ("on_time", 1),
        ("days_sum", 1),
        ("days_n", 1),
        ("with_result", 1),
    ]);
    let mut portal_expected = ward_expected;
    portal_expected.add(&police_expected);
    for period in ["2027-03", "2027-Q1", "2027"] {
        let got = stats::cell(c, "office", &w, period).expect("cell");
        assert_eq!(show(&got), show(&ward_expected), "ward office, {period}");
        let got = stats::cell(c, "office", &police.to_string(), period).expect("cell");
        assert_eq!(show(&got), show(&police_expected), "police, {period}");
        let got = stats::cell(c, "portal", "", period).expect("cell");
        assert_eq!(show(&got), show(&portal_expected), "portal, {period}");
        let got = stats::cell(c, "province", "01", period).expect("cell");
        assert_eq!(show(&got), show(&portal_expected), "Hà Nội, {period}");
    }
    assert!(
        stats::cell(c, "office", &w, "2027-04")
            .expect("cell")
            .is_zero()
    );
    let ministries = stats::cells(c, "ministry", "2027").expect("cells");
    assert_eq!(ministries.len(), 1, "one procedure, one ministry");
    assert_eq!(show(&ministries[0].1), show(&portal_expected));
    // The figures as people read them.
    let fig = indicators::figures(&ward_expected);
    assert_eq!(fig.open, 3, "I, J, K");
    assert_eq!(fig.on_time_pct, Some(63.6), "7 of 11");
    assert_eq!(fig.avg_days, Some(2.3), "18 working days over 8");
    assert_eq!(fig.online_pct, Some(91.7), "11 of 12");
    assert_eq!(fig.paid_online_pct, Some(50.0));
    assert_eq!(fig.e_result_pct, Some(12.5), "1 of 8");
    assert_eq!(
        fig.satisfaction,
        Some(54.5),
        "100 − (4 late + 1 negative)/11"
    );
    assert_eq!(fig.indicators[3], Some(1.0), "attitude: 2 and 0");
    // A rebuild from the timeline leaves every cell as it was.
    let kept: Vec<_> = ["office", "province", "ministry", "portal"]
        .iter()
        .flat_map(|s| stats::cells(c, s, "2027-03").expect("cells"))
        .collect();
    let rebuilt = stats::rebuild(c, now).expect("rebuild");
    assert_eq!(rebuilt.dossiers, 13);
    let again: Vec<_> = ["office", "province", "ministry", "portal"]
        .iter()
        .flat_map(|s| stats::cells(c, s, "2027-03").expect("cells"))
        .collect();
    let sorted = |mut v: Vec<(String, Tally)>| {
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.into_iter()
            .map(|(k, t)| (k, show(&t)))
            .collect::<Vec<_>>()
    };
    assert_eq!(sorted(kept), sorted(again));
    // Refreshing a dossier again changes nothing (no double count).
    let j_id: i64 = dossiers::table
        .filter(dossiers::code.eq(&j))
        .select(dossiers::id)
        .first(c)
        .expect("j");
    stats::refresh(c, j_id, now).expect("refresh");
    stats::refresh(c, j_id, now).expect("refresh");
    assert_eq!(stats::check(c, now).expect("check"), Vec::<String>::new());
    assert_eq!(
        drafts::table.count().get_result::<i64>(c).expect("drafts"),
        0
    );

    // The public pages, downloads and API show the same figures.
    let (status, page) = app
        .get_text(&format!("/scoreboard/offices/{w}?period=2027-03"))
        .await;
    assert_eq!(status, 200, "{page}");
    let page = unescape(&page);
    assert!(
        page.contains("63.6% (7/11)"),
        "on time with its counts: {page}"
    );
    assert!(page.contains("54.5%"), "satisfaction");
    let (status, page) = app.get_text("/scoreboard?period=2027-Q1").await;
    assert_eq!(status, 200);
    let page = unescape(&page);
    let ranking = page
        .split("id=\"scoreboard-offices\"")
        .nth(1)
        .expect("ranking table");
    let police_at = ranking
        .find(&format!("data-key=\"{police}\""))
        .expect("police ranked");
    let ward_at = ranking
        .find(&format!("data-key=\"{w}\""))
        .expect("ward ranked");
    assert!(police_at < ward_at, "100% (1/1) ranks above 63.6% (7/11)");
    assert!(ranking.contains("100.0% (1/1)"));
    let (status, csv) = app
        .get_text("/open-data/scoreboard-offices.csv?period=2027")
        .await;
    assert_eq!(status, 200);
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{w},")))
        .expect("the ward's row");
    assert!(
        row.contains(",2027,12,11,1,0,8,1,3,7,4,1,63.6,2.3,"),
        "{row}"
    );
    let (status, json) = app
        .get_json("/api/v1/statistics/offices?period=2027-03")
        .await;
    assert_eq!(status, 200);
    let items = json["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["key"], w.as_str());
    assert_eq!(items[1]["figures"]["on_time"], 7);
    assert_eq!(items[1]["figures"]["overdue_now"], 1);
    assert_eq!(json["indicator_keys"][3], "attitude");
    assert_eq!(
        items[1]["figures"]["indicators"][3], 1.0,
        "attitude: 2 and 0"
    );
    let (status, _) = app
        .get_json("/api/v1/statistics/offices?period=2027-13")
        .await;
    assert_eq!(status, 400);
    let (status, _) = app.get_text("/api/v1/statistics/planets").await;
    assert_eq!(status, 404);
}

/// Eight people file and eight officers move their dossiers at the same moment, half of them
/// transferred between two offices (which touches both offices' cells): the kept cells still
/// equal the timeline's, with no deadlock on PostgreSQL (cells are locked in one order).
#[test]
fn concurrent_moves_and_transfers_count_every_dossier_once() {
    let url = crate::common::fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let ward = office(&mut conn, "00004.00.00.H01");
    let police = office(&mut conn, "00004.01.00.H01");
    let lead = staff(&mut conn);
    let drafts = ready_drafts(&mut conn, 8, "5");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(drafts.len()));
    let handles: Vec<_> = drafts
        .into_iter()
        .enumerate()
        .map(|(i, (user, draft))| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = portal::db::establish(&url).expect("conn");
                barrier.wait();
                let code = crate::applications::submit_in_process(&mut conn, user, &draft)
                    .expect("filed")
                    .code;
                let now = || chrono::Utc::now().naive_utc();
                go(&mut conn, &code, Action::Accept, now());
                if i % 2 == 0 {
                    let seen = version(&mut conn, &code);
                    handover(
                        &mut conn,
                        &HandoverInput {
                            code: &code,
                            offices: &[ward],
                            actor_id: lead,
                            is_lead: true,
                            seen_version: seen,
                            what: Handover::Transfer(police),
                            note: "Chuyển",
                            now: now(),
                            email: &no_apology_ok,
                        },
                    )
                    .map_err(|e| format!("{e:?}"))
                    .expect("transferred");
                }
                go(&mut conn, &code, Action::Start, now());
                go(&mut conn, &code, Action::Approve, now());
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a thread");
    }
    let now = chrono::Utc::now().naive_utc();
    stats::sweep(&mut conn, now, 100).expect("sweep");
    assert_eq!(
        stats::check(&mut conn, now).expect("check"),
        Vec::<String>::new()
    );
    let year = portal::domain::calendar::to_local(now)
        .format("%Y")
        .to_string();
    let at_police = stats::cell(&mut conn, "office", &police.to_string(), &year).expect("cell");
    let at_ward = stats::cell(&mut conn, "office", &ward.to_string(), &year).expect("cell");
    assert_eq!(at_police.0[indicators::RECEIVED], 4);
    assert_eq!(at_ward.0[indicators::RECEIVED], 4);
    assert_eq!(
        stats::cell(&mut conn, "portal", "", &year).expect("cell").0[indicators::FINISHED],
        8
    );
}
