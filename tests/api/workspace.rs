//! The agency workspace over HTTP and in-process, on the test database: an officer takes a
//! dossier from new to a sealed result the citizen downloads and anyone verifies; the queue's
//! tabs, counts, search and keyset pages; assignment, the single apology, transfers and
//! consultations; the lead's daily digest; bad input that changes nothing.

use diesel::prelude::*;
use portal::db::schema::{dossier_events, dossiers, outbox};
use portal::db::workspace::{
    self, Clock, Cursor, Handover, HandoverInput, QueueQuery, Search, Sort, Tab,
};
use portal::domain::account::Role;
use portal::domain::status::Status;

use crate::accounts::{csrf_of, last_email, registered_citizen};
use crate::applications::{
    complete_birth_draft, complete_birth_sections, location, ready_drafts, section_ok, start_draft,
    submit, submit_in_process, unescape,
};
use crate::common::{TestApp, client, fresh_database, spawn_app, test_settings};

fn office_id(conn: &mut portal::db::DbConnection, office: &str) -> i64 {
    use portal::db::schema::agencies;
    agencies::table
        .filter(agencies::office_id.eq(office))
        .select(agencies::id)
        .first(conn)
        .expect("office")
}

/// A staff member of `office`, logged in (second factor enrolled) with their own client.
async fn staff_of(app: &TestApp, email: &str, role: Role, office: &str) -> (i64, reqwest::Client) {
    let id = crate::authz::create_staff(app, email, role);
    let agency = office_id(&mut app.db(), office);
    portal::db::agency_members::add(&mut app.db(), id, agency, role == Role::Lead).expect("member");
    let http = client();
    crate::authz::enrol(app, &http, email).await;
    (id, http)
}

async fn get(app: &TestApp, http: &reqwest::Client, path: &str) -> (u16, String) {
    let res = http
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

async fn post_form(
    app: &TestApp,
    http: &reqwest::Client,
    path: &str,
    fields: &[(&str, String)],
) -> (u16, String) {
    let res = http
        .post(format!("{}{path}", app.address))
        .form(fields)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

fn status_of(app: &TestApp, code: &str) -> (Status, i32) {
    let (s, v): (i32, i32) = dossiers::table
        .filter(dossiers::code.eq(code))
        .select((dossiers::status, dossiers::lock_version))
        .first(&mut app.db())
        .expect("dossier");
    (Status::from_code(s).expect("status"), v)
}

/// Files a birth registration as the app's citizen; its code.
pub(crate) async fn filed(app: &TestApp) -> String {
    registered_citizen(app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(app, "1.001193", "commune", "01", "00004").await;
    complete_birth_draft(app, &draft).await;
    let res = submit(app, &draft).await;
    location(&res)
        .trim_start_matches("/dossiers/")
        .trim_end_matches("?new=1")
        .to_string()
}

fn pdf_part(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("application/pdf")
        .expect("mime")
}

#[tokio::test]
async fn an_officer_takes_a_dossier_to_a_sealed_result_the_citizen_downloads_and_anyone_verifies() {
    let app = spawn_app().await;
    let code = filed(&app).await;
    let citizen = app.client.clone();
    let (_, officer) = staff_of(&app, "a@ubnd.vn", Role::Officer, "00004.00.00.H01").await;
    let (_, stranger) = staff_of(&app, "b@ubnd.vn", Role::Officer, "00008.00.00.H01").await;

    // The queue: the new tab holds it with its count; search finds it by code, by the name
    // typed without accents, and by identity number; the other office sees nothing.
    let (status, queue) = get(&app, &officer, "/staff").await;
    assert_eq!(status, 200);
    assert!(queue.contains(&code) && queue.contains("Mới <span class=\"count\">(1)</span>"));
    for q in [code.as_str(), "tran thi binh", "001195012345"] {
        let (_, found) = get(
            &app,
            &officer,
            &format!("/staff?tab=new&q={}", q.replace(' ', "+")),
        )
        .await;
        assert!(found.contains(&code), "search {q}");
    }
    let (_, none) = get(&app, &officer, "/staff?tab=new&q=nguyen+van+khong+co").await;
    assert!(!none.contains(&code));
    assert!(!get(&app, &stranger, "/staff").await.1.contains(&code));
    // A bad date keeps the other filters and says what is wrong.
    let (status, bad) = get(&app, &officer, "/staff?tab=new&from=31-31-2026&q=binh").await;
    assert_eq!(status, 400);
    assert!(bad.contains("không hợp lệ") && bad.contains("value=\"binh\""));

    let (_, page) = get(&app, &officer, &format!("/staff/dossiers/{code}")).await;
    let csrf = csrf_of(&page);
    let act = |action: &'static str, version: i32, note: &'static str| {
        let fields = vec![
            ("_csrf", csrf.clone()),
            ("action", action.to_string()),
            ("version", version.to_string()),
            ("note", note.to_string()),
        ];
        let (app, officer, code) = (&app, officer.clone(), code.clone());
        async move { post_form(app, &officer, &format!("/staff/dossiers/{code}"), &fields).await }
    };
    assert_eq!(act("accept", 0, "").await.0, 303);
    // Posted twice (a double click): the second is a conflict, nothing changes.
    let (status, html) = act("accept", 0, "").await;
    assert_eq!(status, 409);
    assert!(html.contains("vừa được người khác xử lý"));
    assert_eq!(status_of(&app, &code), (Status::Accepted, 1));
    // The receipt slip (form 01) exists once accepted, as a print view and a PDF; a refusal
    // form does not exist for a dossier that was not refused; other offices see none.
    let (status, slip) = get(&app, &officer, &format!("/staff/dossiers/{code}/forms/01")).await;
    assert_eq!(status, 200);
    assert!(
        slip.contains("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ") && slip.contains("Trần Thị Bình")
    );
    let res = officer
        .get(format!(
            "{}/staff/dossiers/{code}/forms/01?format=pdf",
            app.address
        ))
        .send()
        .await
        .expect("pdf");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.bytes().await.expect("bytes").starts_with(b"%PDF-"));
    assert_eq!(
        get(&app, &officer, &format!("/staff/dossiers/{code}/forms/03"))
            .await
            .0,
        404
    );
    assert_eq!(
        get(&app, &officer, &format!("/staff/dossiers/{code}/forms/09"))
            .await
            .0,
        404
    );
    assert_eq!(
        get(&app, &stranger, &format!("/staff/dossiers/{code}/forms/01"))
            .await
            .0,
        404
    );
    assert_eq!(act("start", 1, "").await.0, 303);
    // A 1 MB note is refused whole; nothing changes.
    let huge = "x".repeat(1 << 20);
    let (status, _) = post_form(
        &app,
        &officer,
        &format!("/staff/dossiers/{code}"),
        &[
            ("_csrf", csrf.clone()),
            ("action", "request_supplement".into()),
            ("version", "2".into()),
            ("note", huge),
        ],
    )
    .await;
    assert!(status == 400 || status == 413, "{status}");
    assert_eq!(status_of(&app, &code), (Status::Processing, 2));
    assert_eq!(
        act(
            "request_supplement",
            2,
            "Bản sao giấy chứng sinh có chứng thực"
        )
        .await
        .0,
        303
    );
    // Another office cannot see or touch any of it.
    for path in [
        format!("/staff/dossiers/{code}"),
        format!("/staff/dossiers/{code}/result"),
    ] {
        assert_eq!(get(&app, &stranger, &path).await.0, 404, "{path}");
    }
    let stranger_csrf = csrf_of(&get(&app, &stranger, "/staff").await.1);
    for path in ["handover", "result"] {
        let (status, _) = post_form(
            &app,
            &stranger,
            &format!("/staff/dossiers/{code}/{path}"),
            &[
                ("_csrf", stranger_csrf.clone()),
                ("kind", "claim".into()),
                ("version", "3".into()),
            ],
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
    // A forged dossier code is not found either.
    assert_eq!(
        get(
            &app,
            &officer,
            "/staff/dossiers/00004.00.00.H01-991231-9999"
        )
        .await
        .0,
        404
    );

    // The citizen answers from their dossier page: a file and a note; the clock restarts.
    let (_, mine) = get(&app, &citizen, &format!("/dossiers/{code}")).await;
    assert!(
        mine.contains("Bổ sung hồ sơ") && mine.contains("Bản sao giấy chứng sinh có chứng thực")
    );
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf_of(&mine))
        .text("version", "3")
        .text("note", "Gửi bản sao có chứng thực")
        .part(
            "file",
            pdf_part(crate::applications::pdf_bytes(), "ban-sao.pdf"),
        );
    let res = citizen
        .post(format!("{}/dossiers/{code}/supplement", app.address))
        .multipart(form)
        .send()
        .await
        .expect("supplement");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(status_of(&app, &code), (Status::Processing, 4));
    let (_, page) = get(&app, &officer, &format!("/staff/dossiers/{code}")).await;
    assert!(page.contains("ban-sao.pdf") && page.contains("Gửi bản sao có chứng thực"));
    assert!(page.contains("/view\""), "documents viewable in the page");

    let handover = |kind: &'static str, version: i32, extra: Vec<(&'static str, String)>| {
        let mut fields = vec![
            ("_csrf", csrf.clone()),
            ("kind", kind.to_string()),
            ("version", version.to_string()),
        ];
        fields.extend(extra);
        let (app, officer, code) = (&app, officer.clone(), code.clone());
        async move {
            post_form(
                app,
                &officer,
                &format!("/staff/dossiers/{code}/handover"),
                &fields,
            )
            .await
        }
    };
    assert_eq!(handover("claim", 4, vec![]).await.0, 303);
    let (_, mine_tab) = get(&app, &officer, "/staff?tab=mine").await;
    assert!(mine_tab.contains(&code), "assigned to me");
    assert_eq!(
        handover(
            "note",
            5,
            vec![("note", "Đã gọi điện xác minh với bệnh viện".into())]
        )
        .await
        .0,
        303
    );
    let (_, mine) = get(&app, &citizen, &format!("/dossiers/{code}")).await;
    assert!(
        !mine.contains("xác minh với bệnh viện"),
        "internal notes stay internal"
    );
    // One apology with a new date; the citizen is emailed; a second is refused.
    let new_date = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        handover(
            "reschedule",
            6,
            vec![
                ("date", new_date.clone()),
                ("note", "Chờ xác minh của bệnh viện".into())
            ]
        )
        .await
        .0,
        303
    );
    let (subject, text) = last_email(&app, "dan@example.vn").expect("apology");
    assert!(
        subject.contains("Hẹn lại")
            && text.contains("xin lỗi")
            && text.contains("Chờ xác minh của bệnh viện"),
        "{subject}"
    );
    let (_, apology) = get(&app, &officer, &format!("/staff/dossiers/{code}/forms/04")).await;
    assert!(apology.contains("PHIẾU XIN LỖI") && apology.contains("Chờ xác minh của bệnh viện"));
    let (_, request) = get(&app, &officer, &format!("/staff/dossiers/{code}/forms/02")).await;
    assert!(request.contains("Bản sao giấy chứng sinh có chứng thực"));
    let (status, html) = handover(
        "reschedule",
        7,
        vec![("date", new_date), ("note", "Lần nữa".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("đã được hẹn lại một lần"));
    assert_eq!(status_of(&app, &code).1, 7, "nothing changed");

    // The result, generated from the template and sealed.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf.clone())
        .text("version", "7")
        .text(
            "decision",
            "Đăng ký khai sinh cho cháu Nguyễn Minh An. Số định danh cá nhân được cấp kèm theo.",
        );
    let res = officer
        .post(format!("{}/staff/dossiers/{code}/result", app.address))
        .multipart(form)
        .send()
        .await
        .expect("issue");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(status_of(&app, &code).0, Status::Processed);
    let (_, page) = get(&app, &officer, &format!("/staff/dossiers/{code}")).await;
    assert!(page.contains("Kết quả đã ban hành"));

    // The citizen downloads it: the first download delivers it.
    let (_, mine) = get(&app, &citizen, &format!("/dossiers/{code}")).await;
    let mine = unescape(&mine);
    let verify_code = mine
        .split("/verify?code=")
        .nth(1)
        .and_then(|s| s.get(..11))
        .expect("verification link")
        .to_string();
    let res = citizen
        .get(format!("{}/dossiers/{code}/result", app.address))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    let pdf = res.bytes().await.expect("pdf").to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        String::from_utf8_lossy(&pdf).contains("FontFile2"),
        "the font is embedded"
    );
    assert_eq!(status_of(&app, &code).0, Status::Delivered);

    // Anyone, without an account, verifies it by code and by the file; one changed byte fails.
    let anonymous = client();
    let (status, html) = get(
        &app,
        &anonymous,
        &format!("/verify?code={}", verify_code.to_lowercase()),
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Kết quả hợp lệ") && html.contains("Phường Ba Đình") && html.contains(&code)
    );
    assert!(
        !html.contains("Trần Thị Bình"),
        "nothing about the applicant"
    );
    let check_file = |bytes: Vec<u8>| {
        let anonymous = anonymous.clone();
        let address = app.address.clone();
        async move {
            let (_, form_page) = {
                let res = anonymous
                    .get(format!("{address}/verify"))
                    .send()
                    .await
                    .expect("get");
                (res.status(), res.text().await.expect("body"))
            };
            let form = reqwest::multipart::Form::new()
                .text("_csrf", csrf_of(&form_page))
                .part("file", pdf_part(bytes, "ket-qua.pdf"));
            let res = anonymous
                .post(format!("{address}/verify"))
                .multipart(form)
                .send()
                .await
                .expect("verify");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let (status, html) = check_file(pdf.clone()).await;
    assert_eq!(status, 200);
    assert!(html.contains("Kết quả hợp lệ"));
    let mut changed = pdf.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    let (status, html) = check_file(changed).await;
    assert_eq!(status, 404);
    assert!(html.contains("Không tìm thấy kết quả"));

    // The citizen rates it once: all nine indicators are needed.
    let (_, mine) = get(&app, &citizen, &format!("/dossiers/{code}")).await;
    assert!(mine.contains("Đánh giá mức độ hài lòng"));
    let mut fields: Vec<(&str, String)> = vec![("_csrf", csrf_of(&mine))];
    let keys: Vec<String> = portal::domain::rating::INDICATORS
        .iter()
        .map(|k| format!("r_{k}"))
        .collect();
    for k in &keys[..8] {
        fields.push((k.as_str(), "2".into()));
    }
    let (status, html) =
        post_form(&app, &citizen, &format!("/dossiers/{code}/rating"), &fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("cả 9 tiêu chí"));
    fields.push((keys[8].as_str(), "1".into()));
    fields.push(("comment", "Nhanh, đúng hẹn".into()));
    assert_eq!(
        post_form(&app, &citizen, &format!("/dossiers/{code}/rating"), &fields)
            .await
            .0,
        303
    );
    assert_eq!(
        post_form(&app, &citizen, &format!("/dossiers/{code}/rating"), &fields)
            .await
            .0,
        409,
        "once"
    );
    let total: i32 = {
        use portal::db::schema::ratings;
        ratings::table
            .select(ratings::total)
            .first(&mut app.db())
            .expect("rating")
    };
    assert_eq!(total, 17);

    // The timeline names every step, in order.
    let actions: Vec<String> = dossier_events::table
        .order(dossier_events::id)
        .select(dossier_events::action)
        .load(&mut app.db())
        .expect("events");
    assert_eq!(
        actions,
        [
            "submit",
            "accept",
            "start",
            "request_supplement",
            "supplement",
            "assign",
            "note",
            "reschedule",
            "approve",
            "deliver"
        ]
    );
    // Each move and hand-over also left its audit entry, naming the dossier.
    let audited: i64 = {
        use portal::db::schema::audit_log;
        audit_log::table
            .filter(audit_log::event.eq("dossier_action"))
            .filter(audit_log::subject.eq(&code))
            .count()
            .get_result(&mut app.db())
            .expect("audit")
    };
    assert_eq!(audited, 9);
}

#[tokio::test]
async fn the_citizen_asks_to_withdraw_and_the_office_confirms() {
    let app = spawn_app().await;
    let code = filed(&app).await;
    let citizen = app.client.clone();
    let (_, officer) = staff_of(&app, "a@ubnd.vn", Role::Officer, "00004.00.00.H01").await;
    let (_, mine) = get(&app, &citizen, &format!("/dossiers/{code}")).await;
    let (status, _) = post_form(
        &app,
        &citizen,
        &format!("/dossiers/{code}/withdraw"),
        &[
            ("_csrf", csrf_of(&mine)),
            ("version", "0".into()),
            ("reason", "Nộp nhầm thủ tục".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(status_of(&app, &code).0, Status::WithdrawalRequested);
    let (_, queue) = get(&app, &officer, "/staff?tab=withdrawal").await;
    assert!(queue.contains(&code) && queue.contains("Xin rút <span class=\"count\">(1)</span>"));
    let (_, page) = get(&app, &officer, &format!("/staff/dossiers/{code}")).await;
    let (status, _) = post_form(
        &app,
        &officer,
        &format!("/staff/dossiers/{code}"),
        &[
            ("_csrf", csrf_of(&page)),
            ("action", "confirm_withdrawal".into()),
            ("version", "1".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(status_of(&app, &code).0, Status::Stopped);
    // Another person's dossier cannot be withdrawn: not found.
    let other = client();
    let (status, _) = post_form(
        &app,
        &other,
        &format!("/dossiers/{code}/withdraw"),
        &[("_csrf", csrf_of(&mine)), ("version", "2".into())],
    )
    .await;
    assert!(status == 303 || status == 403 || status == 404, "{status}");
    assert_eq!(status_of(&app, &code).0, Status::Stopped);
}

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

fn clock(conn: &mut portal::db::DbConnection) -> Clock {
    let cal = portal::db::dossiers::calendar(conn).expect("calendar");
    Clock::at(now(), &cal)
}

fn query<'a>(
    offices: &'a [i64],
    tab: Tab,
    sort: Sort,
    after: Option<Cursor>,
    clock: Clock,
) -> QueueQuery<'a> {
    QueueQuery {
        offices,
        me: 0,
        tab,
        sort,
        service_id: None,
        officer: None,
        from: None,
        to: None,
        search: None,
        after,
        limit: 7,
        clock,
    }
}

/// Every page of a tab, following the cursors; `between` runs before each next page.
fn walk(
    conn: &mut portal::db::DbConnection,
    offices: &[i64],
    tab: Tab,
    sort: Sort,
    mut between: impl FnMut(&mut portal::db::DbConnection),
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let c = clock(conn);
        let (rows, next) =
            workspace::queue(conn, &query(offices, tab, sort, after, c)).expect("page");
        seen.extend(rows.into_iter().map(|r| r.code));
        match next {
            Some(n) => after = Some(n),
            None => return seen,
        }
        between(conn);
    }
}

#[test]
fn keyset_pages_return_every_dossier_once_while_new_ones_arrive() {
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let drafts = ready_drafts(&mut conn, 40, "3");
    let mut codes: Vec<String> = drafts[..30]
        .iter()
        .map(|(u, d)| submit_in_process(&mut conn, *u, d).expect("filed").code)
        .collect();
    codes.sort();
    let office = office_id(&mut conn, "00004.00.00.H01");
    // A few have no due date and some share one: both orders must still be total.
    diesel::update(dossiers::table.filter(dossiers::code.eq_any(&codes[..4])))
        .set(dossiers::due_at.eq(None::<chrono::NaiveDateTime>))
        .execute(&mut conn)
        .expect("no due date");
    let shared = now() + chrono::Duration::days(3);
    diesel::update(dossiers::table.filter(dossiers::code.eq_any(&codes[4..16])))
        .set(dossiers::due_at.eq(Some(shared)))
        .execute(&mut conn)
        .expect("same due date");
    for sort in [Sort::Due, Sort::Submitted] {
        let mut late = drafts[30..]
            .iter()
            .filter(|_| sort == Sort::Due)
            .cloned()
            .collect::<Vec<_>>();
        let mut got = walk(&mut conn, &[office], Tab::New, sort, |conn| {
            // New dossiers keep arriving while the officer pages.
            if let Some((u, d)) = late.pop() {
                submit_in_process(conn, u, &d).expect("filed");
            }
        });
        let before = got.len();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), before, "{sort:?}: no dossier twice");
        for c in &codes {
            assert!(got.contains(c), "{sort:?}: {c} missing");
        }
    }
    // Another office's queue is empty.
    let other = office_id(&mut conn, "00008.00.00.H01");
    assert!(walk(&mut conn, &[other], Tab::New, Sort::Due, |_| {}).is_empty());
    // The counts match the tabs; a search by name finds the one.
    let c = clock(&mut conn);
    let counts = workspace::counts(&mut conn, &[office], 0, c).expect("counts");
    let new = counts.iter().find(|(t, _)| *t == Tab::New).expect("new").1;
    let filed: i64 = dossiers::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(new, filed);
    assert!(filed > 30, "some arrived while paging");
    let c = clock(&mut conn);
    let offices = [office];
    let mut q = query(&offices, Tab::New, Sort::Due, None, c);
    q.search = Search::parse("CONG DAN 7");
    let (rows, _) = workspace::queue(&mut conn, &q).expect("search");
    assert_eq!(
        rows.iter()
            .map(|r| r.applicant_name.as_str())
            .collect::<Vec<_>>(),
        ["Công dân 7"]
    );
}

fn email_nothing(
    _: &portal::db::dossiers::Dossier,
    _: &str,
    _: chrono::NaiveDateTime,
) -> anyhow::Result<portal::mail::RenderedEmail> {
    Ok(portal::mail::RenderedEmail {
        subject: "Xin lỗi".into(),
        text: "x".into(),
        html: "<p>x</p>".into(),
    })
}

#[test]
fn assignment_transfer_and_consultation_are_on_the_timeline() {
    use portal::db::dossiers::MoveError;
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let (user, draft) = ready_drafts(&mut conn, 1, "5").remove(0);
    let code = submit_in_process(&mut conn, user, &draft)
        .expect("filed")
        .code;
    let ward = office_id(&mut conn, "00004.00.00.H01");
    let justice = office_id(&mut conn, "000.00.01.H01");
    let police = office_id(&mut conn, "00004.01.00.H01");
    let t = now();
    let officer =
        portal::db::users::insert_staff(&mut conn, "o@ubnd.vn", "Cán bộ A", Role::Officer, t)
            .expect("staff");
    let other =
        portal::db::users::insert_staff(&mut conn, "p@ubnd.vn", "Cán bộ B", Role::Officer, t)
            .expect("staff");
    let lead = portal::db::users::insert_staff(&mut conn, "l@stp.vn", "Lãnh đạo", Role::Lead, t)
        .expect("staff");
    portal::db::agency_members::add(&mut conn, officer, ward, false).expect("member");
    portal::db::agency_members::add(&mut conn, other, ward, false).expect("member");
    portal::db::agency_members::add(&mut conn, lead, justice, true).expect("member");
    let go = |conn: &mut portal::db::DbConnection,
              offices: &[i64],
              actor: i64,
              is_lead: bool,
              version: i32,
              what: Handover,
              note: &str| {
        workspace::handover(
            conn,
            &HandoverInput {
                code: &code,
                offices,
                actor_id: actor,
                is_lead,
                seen_version: version,
                what,
                note,
                now: now(),
                email: &email_nothing,
            },
        )
    };
    // An officer claims it; a colleague cannot take it over or give it to someone else.
    let d = go(
        &mut conn,
        &[ward],
        officer,
        false,
        0,
        Handover::Assign(Some(officer)),
        "",
    )
    .expect("claimed");
    assert_eq!(d.assigned_to, Some(officer));
    assert!(matches!(
        go(
            &mut conn,
            &[ward],
            other,
            false,
            1,
            Handover::Assign(None),
            ""
        ),
        Err(MoveError::Other(workspace::NOT_A_MEMBER))
    ));
    assert!(matches!(
        go(
            &mut conn,
            &[ward],
            other,
            false,
            1,
            Handover::Assign(Some(lead)),
            ""
        ),
        Err(MoveError::Other(workspace::NOT_A_MEMBER))
    ));
    // Consultation: the justice department is asked, sees it in its tab, answers once.
    go(
        &mut conn,
        &[ward],
        officer,
        false,
        1,
        Handover::Consult(justice),
        "Xác nhận quốc tịch của mẹ?",
    )
    .expect("asked");
    let asked = workspace::consultations_for(&mut conn, &[justice], 10).expect("tab");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].code, code);
    assert!(workspace::consulted_by(&mut conn, asked[0].dossier_id, &[justice]).expect("q"));
    assert!(matches!(
        workspace::answer_consultation(&mut conn, asked[0].id, &[police], lead, "Có", now()),
        Err(MoveError::NotFound)
    ));
    workspace::answer_consultation(
        &mut conn,
        asked[0].id,
        &[justice],
        lead,
        "Quốc tịch Việt Nam",
        now(),
    )
    .expect("answered");
    assert!(matches!(
        workspace::answer_consultation(&mut conn, asked[0].id, &[justice], lead, "Lần hai", now()),
        Err(MoveError::Other(workspace::ALREADY_ANSWERED))
    ));
    // Transfer to the ward police (wrong jurisdiction): the ward office no longer sees it.
    assert!(matches!(
        go(
            &mut conn,
            &[ward],
            officer,
            false,
            2,
            Handover::Transfer(ward),
            "Nhầm"
        ),
        Err(MoveError::Other(workspace::SAME_OFFICE))
    ));
    let moved = go(
        &mut conn,
        &[ward],
        officer,
        false,
        2,
        Handover::Transfer(police),
        "Thuộc thẩm quyền công an",
    )
    .expect("transferred");
    assert_eq!((moved.agency_id, moved.assigned_to), (police, None));
    assert!(matches!(
        go(
            &mut conn,
            &[ward],
            officer,
            false,
            3,
            Handover::Note,
            "Còn thấy không?"
        ),
        Err(MoveError::NotFound)
    ));
    // The tab counts moved with it.
    let c = clock(&mut conn);
    let at = |conn: &mut portal::db::DbConnection, office| {
        workspace::counts(conn, &[office], 0, c).expect("counts")[0].1
    };
    assert_eq!((at(&mut conn, ward), at(&mut conn, police)), (0, 1));
    let timeline = workspace::staff_timeline(&mut conn, moved.id).expect("timeline");
    let shown: Vec<(&str, bool)> = timeline
        .iter()
        .map(|e| (e.action.as_str(), e.internal))
        .collect();
    assert_eq!(
        shown,
        [
            ("submit", false),
            ("assign", true),
            ("consult", true),
            ("consult", true),
            ("transfer", false)
        ]
    );
    assert!(timeline[3].note.contains("Quốc tịch Việt Nam"));
    // The citizen's timeline has what concerns them only.
    let public = portal::db::dossiers::timeline(&mut conn, moved.id).expect("timeline");
    assert_eq!(
        public.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["submit", "transfer"]
    );
}

#[test]
fn automatic_assignment_picks_the_least_loaded_officer() {
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let ward = office_id(&mut conn, "00004.00.00.H01");
    let t = now();
    let a = portal::db::users::insert_staff(&mut conn, "a@ubnd.vn", "A", Role::Officer, t)
        .expect("staff");
    let b = portal::db::users::insert_staff(&mut conn, "b@ubnd.vn", "B", Role::Officer, t)
        .expect("staff");
    portal::db::agency_members::add(&mut conn, a, ward, false).expect("member");
    portal::db::agency_members::add(&mut conn, b, ward, false).expect("member");
    let drafts = ready_drafts(&mut conn, 5, "6");
    // Off by default: nobody is assigned.
    let first = submit_in_process(&mut conn, drafts[0].0, &drafts[0].1).expect("filed");
    workspace::set_auto_assign(&mut conn, ward, true).expect("setting");
    for (u, d) in &drafts[1..] {
        submit_in_process(&mut conn, *u, d).expect("filed");
    }
    let assigned: Vec<Option<i64>> = dossiers::table
        .order(dossiers::id)
        .select(dossiers::assigned_to)
        .load(&mut conn)
        .expect("rows");
    assert_eq!(assigned[0], None, "{}", first.code);
    let to_a = assigned.iter().filter(|x| **x == Some(a)).count();
    let to_b = assigned.iter().filter(|x| **x == Some(b)).count();
    assert_eq!((to_a, to_b), (2, 2), "balanced: {assigned:?}");
}

#[tokio::test]
async fn the_lead_digest_goes_out_once_a_day_with_two_workers() {
    let url = fresh_database();
    let settings = test_settings(url.clone());
    let pool = portal::db::connect_pool(&url, 4).expect("pool");
    let mut conn = pool.get().expect("conn");
    let (user, draft) = ready_drafts(&mut conn, 2, "8").remove(0);
    let code = submit_in_process(&mut conn, user, &draft)
        .expect("filed")
        .code;
    diesel::update(dossiers::table.filter(dossiers::code.eq(&code)))
        .set(dossiers::due_at.eq(Some(now() - chrono::Duration::days(2))))
        .execute(&mut conn)
        .expect("overdue");
    let ward = office_id(&mut conn, "00004.00.00.H01");
    let lead = portal::db::users::insert_staff(
        &mut conn,
        "lead@ubnd.vn",
        "Trưởng bộ phận",
        Role::Lead,
        now(),
    )
    .expect("staff");
    portal::db::agency_members::add(&mut conn, lead, ward, true).expect("member");
    drop(conn);
    let a = portal::jobs::Jobs::new(pool.clone(), &settings).expect("jobs");
    let b = portal::jobs::Jobs::new(pool.clone(), &settings).expect("jobs");
    // 09:00 on a working day (Tuesday 1 December 2026) in Hanoi.
    let morning = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .expect("day")
        .and_hms_opt(2, 0, 0)
        .expect("time");
    let (x, y) = tokio::join!(a.run_once(morning), b.run_once(morning));
    let (x, y) = (x.expect("run"), y.expect("run"));
    assert_eq!(x.digests + y.digests, 1, "one digest between two workers");
    assert_eq!(
        a.run_once(morning + chrono::Duration::hours(3))
            .await
            .expect("run")
            .digests,
        0
    );
    let subjects: Vec<String> = outbox::table
        .filter(outbox::to_address.eq("lead@ubnd.vn"))
        .select(outbox::subject)
        .load(&mut pool.get().expect("conn"))
        .expect("outbox");
    assert_eq!(subjects.len(), 1);
    assert!(subjects[0].contains("1 hồ sơ quá hạn"), "{subjects:?}");
    // Before office hours and on a Sunday nothing goes out.
    let early = morning + chrono::Duration::days(1) - chrono::Duration::hours(3);
    assert_eq!(a.run_once(early).await.expect("run").digests, 0);
    let sunday = morning + chrono::Duration::days(5);
    assert_eq!(a.run_once(sunday).await.expect("run").digests, 0);
}

#[tokio::test]
async fn a_walk_in_dossier_is_entered_at_the_desk_with_the_same_form_and_sequence() {
    let app = spawn_app().await;
    // An online dossier first: the desk's takes the next number of the same sequence.
    let online = filed(&app).await;
    let (_, officer) = staff_of(&app, "desk@ubnd.vn", Role::Officer, "00004.00.00.H01").await;
    let desk = TestApp {
        address: app.address.clone(),
        client: officer.clone(),
        db_url: app.db_url.clone(),
        settings: app.settings.clone(),
    };
    let (status, page) = get(&app, &officer, "/staff/counter").await;
    assert_eq!(status, 200);
    // An unknown service is refused with what was typed kept.
    let (status, html) = post_form(
        &app,
        &officer,
        "/staff/counter",
        &[
            ("_csrf", csrf_of(&page)),
            ("service", "9.999999".into()),
            ("channel", "counter".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("Không có thủ tục nào mang mã này") && html.contains("value=\"9.999999\"")
    );
    let res = officer
        .post(format!("{}/staff/counter", app.address))
        .form(&[
            ("_csrf", csrf_of(&page)),
            ("service", "1.001193".into()),
            ("channel", "counter".into()),
        ])
        .send()
        .await
        .expect("start");
    assert_eq!(res.status().as_u16(), 303);
    let draft = location(&res);
    assert!(draft.starts_with("/drafts/"), "{draft}");
    // The desk's applicant section: who the applicant is, typed from their card. The
    // identity number is the registered citizen's, so the dossier reaches their account.
    section_ok(
        &desk,
        &draft,
        "applicant",
        &[
            ("applicant_name", "Trần Thị Bình"),
            ("applicant_cccd", "001195012345"),
            ("applicant_phone", "0912345678"),
            ("applicant_email", ""),
            ("applicant_address", "12 Hàng Bạc"),
        ],
    )
    .await;
    complete_birth_sections(&desk, &draft).await;
    let res = submit(&desk, &draft).await;
    let to = location(&res);
    assert!(to.starts_with("/staff/dossiers/"), "{to}");
    let code = to
        .trim_start_matches("/staff/dossiers/")
        .trim_end_matches("?new=1")
        .to_string();
    let seq = |c: &str| {
        portal::domain::dossier::DossierCode::parse(c)
            .expect("code")
            .sequence()
    };
    assert_eq!(
        seq(&code),
        seq(&online) + 1,
        "one sequence for both channels"
    );
    let (channel, user): (String, Option<i64>) = dossiers::table
        .filter(dossiers::code.eq(&code))
        .select((dossiers::channel, dossiers::user_id))
        .first(&mut app.db())
        .expect("dossier");
    assert_eq!(channel, "counter");
    assert!(
        user.is_some(),
        "linked to the account with this identity number"
    );
    let (_, page) = get(&app, &officer, &to).await;
    assert!(page.contains("Tại bộ phận một cửa") && page.contains("Trần Thị Bình"));
    // The citizen follows it like an online one.
    let (_, mine) = app.get_text("/my").await;
    assert!(mine.contains(&code) && mine.contains(&online));
    let (status, _) = app.get_text(&format!("/dossiers/{code}")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_charge_asked_during_processing_is_paid_through_the_gateway() {
    let app = spawn_app().await;
    let code = filed(&app).await;
    let (_, officer) = staff_of(&app, "a@ubnd.vn", Role::Officer, "00004.00.00.H01").await;
    let (_, page) = get(&app, &officer, &format!("/staff/dossiers/{code}")).await;
    let csrf = csrf_of(&page);
    let act = |fields: Vec<(&'static str, String)>| {
        let (app, officer, code) = (&app, officer.clone(), code.clone());
        async move { post_form(app, &officer, &format!("/staff/dossiers/{code}"), &fields).await }
    };
    for (action, version) in [("accept", 0), ("start", 1)] {
        let (status, _) = act(vec![
            ("_csrf", csrf.clone()),
            ("action", action.into()),
            ("version", version.to_string()),
        ])
        .await;
        assert_eq!(status, 303);
    }
    // No amount: refused with the reason, nothing changed.
    let (status, html) = act(vec![
        ("_csrf", csrf.clone()),
        ("action", "request_payment".into()),
        ("version", "2".into()),
        ("note", "Lệ phí cấp bản sao trích lục".into()),
        ("amount", "năm mươi".into()),
    ])
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Hãy nhập số tiền phải nộp"));
    assert_eq!(status_of(&app, &code), (Status::Processing, 2));
    let (status, _) = act(vec![
        ("_csrf", csrf.clone()),
        ("action", "request_payment".into()),
        ("version", "2".into()),
        ("note", "Lệ phí cấp bản sao trích lục".into()),
        ("amount", "8.000".into()),
    ])
    .await;
    assert_eq!(status, 303);
    assert_eq!(status_of(&app, &code).0, Status::PaymentRequested);
    let (_, mine) = app.get_text(&format!("/dossiers/{code}")).await;
    assert!(mine.contains("8.000 đ") && mine.contains("Thanh toán trực tuyến"));
    let res = app
        .client
        .post(format!("{}/dossiers/{code}/pay", app.address))
        .form(&[("_csrf", csrf_of(&mine))])
        .send()
        .await
        .expect("pay");
    assert_eq!(res.status().as_u16(), 303);
    let bank = location(&res);
    assert!(
        bank.starts_with("/sandbox/vnpay/pay?") && bank.contains("vnp_Amount=800000"),
        "{bank}"
    );
    let (_, page) = app.get_text(&bank).await;
    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(bank.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    form.push(("_csrf".into(), csrf_of(&page)));
    form.push(("decision".into(), "approve".into()));
    let res = app
        .client
        .post(format!("{}/sandbox/vnpay/pay", app.address))
        .form(&form)
        .send()
        .await
        .expect("decide");
    assert_eq!(res.status().as_u16(), 303);
    // The verified notification moved it back to processing, with its event.
    assert_eq!(status_of(&app, &code).0, Status::Processing);
    let back = location(&res);
    let res = app.get(&back).await;
    assert_eq!(location(&res), format!("/dossiers/{code}"));
    let last: String = dossier_events::table
        .order(dossier_events::id.desc())
        .select(dossier_events::action)
        .first(&mut app.db())
        .expect("event");
    assert_eq!(last, "pay");
}

#[test]
fn generated_dossiers_follow_the_lifecycle_and_later_filings_continue_their_sequence() {
    use std::collections::HashMap;
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let report = portal::db::generate::run(
        &mut conn,
        &portal::db::generate::Options {
            dossiers: 600,
            offices: 3,
            seed: 9,
            now: now(),
        },
    )
    .expect("generated");
    assert_eq!(report.dossiers, 600);
    assert_eq!(report.offices.len(), 3);
    // Every dossier's timeline ends at its status, and its stage matches it.
    let rows: Vec<(i64, i32, i32)> = dossiers::table
        .select((dossiers::id, dossiers::status, dossiers::stage))
        .load(&mut conn)
        .expect("dossiers");
    let events: Vec<(i64, i32)> = dossier_events::table
        .order(dossier_events::id)
        .select((dossier_events::dossier_id, dossier_events::to_status))
        .load(&mut conn)
        .expect("events");
    let last: HashMap<i64, i32> = events.into_iter().collect();
    for (id, status, stage) in &rows {
        assert_eq!(last.get(id), Some(status), "dossier {id}");
        let s = Status::from_code(*status).expect("status");
        assert_eq!(s.stage().code(), *stage);
    }
    // The office's queue pages through them; a real filing continues the day's sequence.
    let ward = office_id(&mut conn, "00004.00.00.H01");
    let seen = walk(&mut conn, &[ward], Tab::Finished, Sort::Due, |_| {});
    assert!(!seen.is_empty());
    let (user, draft) = ready_drafts(&mut conn, 1, "2").remove(0);
    let filed = submit_in_process(&mut conn, user, &draft).expect("a new code, no collision");
    let n: i64 = dossiers::table
        .filter(dossiers::code.eq(&filed.code))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(n, 1);
    // The counts kept with every change agree with a recount from the dossiers.
    let kept = stage_counts(&mut conn);
    portal::db::workspace::recount(&mut conn).expect("recount");
    assert_eq!(kept, stage_counts(&mut conn));
    let actual: Vec<(i64, i32, i64)> = dossiers::table
        .group_by((dossiers::agency_id, dossiers::stage))
        .select((
            dossiers::agency_id,
            dossiers::stage,
            diesel::dsl::count_star(),
        ))
        .order((dossiers::agency_id, dossiers::stage))
        .load(&mut conn)
        .expect("group");
    assert_eq!(kept, actual);
}

fn stage_counts(conn: &mut portal::db::DbConnection) -> Vec<(i64, i32, i64)> {
    use portal::db::schema::office_stage_counts as osc;
    osc::table
        .filter(osc::n.ne(0))
        .order((osc::agency_id, osc::stage))
        .select((osc::agency_id, osc::stage, osc::n))
        .load(conn)
        .expect("counts")
}

#[test]
fn waiting_for_a_payment_does_not_count_against_the_office() {
    use portal::db::dossiers::{Move, apply_move};
    use portal::domain::lifecycle::{Action, Actor};
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let (user, draft) = ready_drafts(&mut conn, 1, "1").remove(0);
    let code = submit_in_process(&mut conn, user, &draft)
        .expect("filed")
        .code;
    let any = |_: &portal::db::dossiers::Dossier| true;
    let email = |_: &portal::db::dossiers::Dossier, _: Status| {
        Ok(portal::mail::RenderedEmail {
            subject: "x".into(),
            text: "x".into(),
            html: "<p>x</p>".into(),
        })
    };
    // Monday 7 December 2026, 09:00 in Hanoi: the charge is asked for.
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
        .expect("day")
        .and_hms_opt(2, 0, 0)
        .expect("time");
    let mut go = |action, actor, version, at, note: &str| {
        apply_move(
            &mut conn,
            &Move {
                code: &code,
                action,
                actor,
                actor_id: None,
                seen_version: version,
                note,
                now: at,
                in_scope: &any,
                email: &email,
            },
        )
        .expect("moved")
    };
    go(Action::Accept, Actor::Officer, 0, monday, "");
    let started = go(Action::Start, Actor::Officer, 1, monday, "");
    go(Action::RequestPayment, Actor::Officer, 2, monday, "Lệ phí");
    // Paid on Thursday: three working days of waiting (Tue, Wed, Thu) move the due date by three
    // working days.
    let paid = go(
        Action::Pay,
        Actor::System,
        3,
        monday + chrono::Duration::days(3),
        "8000 VND",
    );
    let cal = portal::db::dossiers::calendar(&mut conn).expect("calendar");
    let before = portal::domain::calendar::to_local(started.due_at.expect("due"));
    let after = portal::domain::calendar::to_local(paid.due_at.expect("due"));
    assert_eq!(after.date(), cal.add_working_days(before.date(), 3));
    assert_eq!(after.time(), before.time());
}
