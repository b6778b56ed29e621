//! Administration: people (invitations, roles, offices, disabling, second-factor reset, the
//! last-administrator rule, a person's trail) and the calendar (holidays, CSV import, office
//! hours, the due-date preview), each change audited; the admin routes for every role.

use diesel::prelude::*;
use portal::db::schema::{audit_log, holidays, sessions, users};
use portal::domain::account::Role;

use crate::accounts::{csrf_of, last_email, link_in, registered_citizen};
use crate::authz::{STAFF_PASSWORD, create_staff, enrol};
use crate::common::{TestApp, client, spawn_app};

pub(crate) async fn get(app: &TestApp, http: &reqwest::Client, path: &str) -> (u16, String) {
    let res = http
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("get");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// Posts a form with the CSRF token read from `page`; status, Location and body.
pub(crate) async fn post(
    app: &TestApp,
    http: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let csrf = csrf_of(&get(app, http, page).await.1);
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let res = http
        .post(format!("{}{action}", app.address))
        .form(&form)
        .send()
        .await
        .expect("post");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, location, res.text().await.expect("body"))
}

/// An administrator, logged in with the second factor.
pub(crate) async fn admin(app: &TestApp, email: &str) -> (i64, reqwest::Client) {
    let id = create_staff(app, email, Role::Admin);
    let http = client();
    enrol(app, &http, email).await;
    (id, http)
}

fn user_id(app: &TestApp, email: &str) -> i64 {
    users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .first(&mut app.db())
        .expect("user")
}

fn sessions_of(app: &TestApp, id: i64) -> i64 {
    sessions::table
        .filter(sessions::user_id.eq(id))
        .count()
        .get_result(&mut app.db())
        .expect("count")
}

fn audit_events(app: &TestApp, subject: &str) -> Vec<String> {
    audit_log::table
        .filter(audit_log::subject.eq(subject))
        .order(audit_log::id)
        .select(audit_log::event)
        .load(&mut app.db())
        .expect("audit")
}

#[tokio::test]
async fn an_invited_officer_sets_a_password_works_and_is_disabled_with_sessions_ended() {
    let app = spawn_app().await;
    let (admin_id, root) = admin(&app, "root@agency.vn").await;

    // Every problem named at once, what was typed kept; nothing created.
    let (status, _, html) = post(
        &app,
        &root,
        "/admin/people/new",
        "/admin/people/new",
        &[
            ("email", "not-an-address"),
            ("full_name", "Lê Văn Tâm"),
            ("role", "officer"),
            ("office", ""),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Nhập địa chỉ email đúng dạng"), "{html}");
    assert!(html.contains("value=\"Lê Văn Tâm\""), "the name is kept");
    let (status, _, html) = post(
        &app,
        &root,
        "/admin/people/new",
        "/admin/people/new",
        &[
            ("email", "tam@ubnd.vn"),
            ("full_name", "Lê Văn Tâm"),
            ("role", "officer"),
            ("office", "999.99.99.X99"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Không có cơ quan nào với mã này"));
    let none: i64 = users::table
        .filter(users::email.eq("tam@ubnd.vn"))
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(none, 0, "a refused invitation creates nothing");

    let (status, location, _) = post(
        &app,
        &root,
        "/admin/people/new",
        "/admin/people/new",
        &[
            ("email", "Tam@UBND.vn"),
            ("full_name", "Lê Văn Tâm"),
            ("role", "officer"),
            ("office", "00004.00.00.H01"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let tam = user_id(&app, "tam@ubnd.vn");
    assert_eq!(location, format!("/admin/people/{tam}?done=invited"));
    let (_, page) = get(&app, &root, &location).await;
    assert!(page.contains("Đã tạo tài khoản và gửi lời mời"));
    assert!(
        page.contains("00004.00.00.H01"),
        "the office membership is shown"
    );
    // The same address again is refused.
    let (status, _, html) = post(
        &app,
        &root,
        "/admin/people/new",
        "/admin/people/new",
        &[
            ("email", "tam@ubnd.vn"),
            ("full_name", "Another"),
            ("role", "lead"),
            ("office", "00004.00.00.H01"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Đã có tài khoản với email này"));

    // The invitation: a one-time link to set the password, then enrolment at first login.
    let (_, text) = last_email(&app, "tam@ubnd.vn").expect("the invitation");
    let path = link_in(&text, "/password/reset");
    let token = path.split("token=").nth(1).expect("token").to_string();
    let officer = client();
    let csrf = csrf_of(&get(&app, &officer, &path).await.1);
    let res = officer
        .post(format!("{}/password/reset", app.address))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("token", token.as_str()),
            ("password", STAFF_PASSWORD),
            ("password_confirm", STAFF_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 303);
    enrol(&app, &officer, "tam@ubnd.vn").await;
    assert_eq!(
        get(&app, &officer, "/staff").await.0,
        200,
        "works the queue"
    );
    assert_eq!(sessions_of(&app, tam), 1);

    // Disabled: the session ends at once, the login is refused.
    let person = format!("/admin/people/{tam}");
    let (status, location, _) = post(
        &app,
        &root,
        &person,
        &format!("{person}/disable"),
        &[("action", "disable")],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, &*format!("{person}?done=disabled"))
    );
    assert_eq!(sessions_of(&app, tam), 0);
    assert_eq!(
        get(&app, &officer, "/staff").await.0,
        303,
        "sent to the login"
    );
    let again = client();
    let csrf = csrf_of(&get(&app, &again, "/login").await.1);
    let res = again
        .post(format!("{}/login", app.address))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("login", "tam@ubnd.vn"),
            ("password", STAFF_PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_ne!(
        res.status().as_u16(),
        303,
        "a disabled account cannot log in"
    );
    let (_, page) = get(&app, &root, &person).await;
    assert!(page.contains("Đã khóa"));

    // Enabled again, they log in (second factor as before).
    let (status, _, _) = post(
        &app,
        &root,
        &person,
        &format!("{person}/disable"),
        &[("action", "enable")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, page) = get(&app, &root, &person).await;
    assert!(page.contains("Đang hoạt động"));

    // The trail: who did what to the account, with before and after.
    let events = audit_events(&app, &format!("user:{tam}"));
    assert_eq!(
        events,
        ["staff_invited", "account_disabled", "account_enabled"],
        "every change audited"
    );
    assert!(
        page.contains("staff_invited") && page.contains("2fa_enrolled"),
        "the trail"
    );
    let actors: Vec<Option<i64>> = audit_log::table
        .filter(audit_log::subject.eq(format!("user:{tam}")))
        .select(audit_log::actor_id)
        .load(&mut app.db())
        .expect("actors");
    assert!(actors.iter().all(|a| *a == Some(admin_id)));
    let (_, home) = get(&app, &root, "/admin").await;
    assert!(
        home.matches("class=\"change-row\"").count() >= 3,
        "the admin home shows recent changes"
    );
}

#[tokio::test]
async fn roles_and_offices_change_with_their_rules_and_the_last_administrator_stays() {
    let app = spawn_app().await;
    let (root_id, root) = admin(&app, "root@agency.vn").await;
    let own = format!("/admin/people/{root_id}");

    // One's own administrator role and account are protected (and so the last administrator).
    let (status, _, html) = post(
        &app,
        &root,
        &own,
        &format!("{own}/role"),
        &[("role", "officer")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Bạn không thể tự bỏ vai trò quản trị"),
        "{html}"
    );
    let (status, _, _) = post(
        &app,
        &root,
        &own,
        &format!("{own}/disable"),
        &[("action", "disable")],
    )
    .await;
    assert_eq!(status, 400);
    let role: String = users::table
        .find(root_id)
        .select(users::role)
        .first(&mut app.db())
        .expect("role");
    assert_eq!(role, "admin", "nothing changed");

    // A citizen belongs to no office; an officer does, as lead or not; an unknown office is named.
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let dan = user_id(&app, "dan@example.vn");
    let page = format!("/admin/people/{dan}");
    let (status, _, html) = post(
        &app,
        &root,
        &page,
        &format!("{page}/offices"),
        &[("office", "00004.00.00.H01")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Chỉ cán bộ và lãnh đạo mới thuộc cơ quan"));
    let officer = create_staff(&app, "officer@ubnd.vn", Role::Officer);
    let page = format!("/admin/people/{officer}");
    let (status, _, html) = post(
        &app,
        &root,
        &page,
        &format!("{page}/offices"),
        &[("office", "nope")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Không có cơ quan nào với mã này"));
    let (status, _, _) = post(
        &app,
        &root,
        &page,
        &format!("{page}/offices"),
        &[("office", "00004.00.00.H01"), ("lead", "on")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &root, &page).await;
    assert!(html.contains("(00004.00.00.H01) — Lãnh đạo"), "{html}");
    let agency: i64 =
        portal::db::agency_members::agency_ids_of(&mut app.db(), officer).expect("offices")[0];
    let (status, _, _) = post(
        &app,
        &root,
        &page,
        &format!("{page}/offices/remove"),
        &[("agency", &agency.to_string())],
    )
    .await;
    assert_eq!(status, 303);
    assert!(
        get(&app, &root, &page)
            .await
            .1
            .contains("Không thuộc cơ quan nào")
    );

    // Promoted to administrator, the officer keeps no office and logs in again.
    let (status, _, _) = post(
        &app,
        &root,
        &page,
        &format!("{page}/role"),
        &[("role", "admin")],
    )
    .await;
    assert_eq!(status, 303);
    let events = audit_events(&app, &format!("user:{officer}"));
    assert_eq!(
        events,
        ["account_changed", "account_changed", "account_changed"]
    );
    let detail: String = audit_log::table
        .filter(audit_log::subject.eq(format!("user:{officer}")))
        .order(audit_log::id.desc())
        .select(audit_log::detail)
        .first(&mut app.db())
        .expect("detail");
    assert_eq!(detail, "role: officer → admin", "before and after");

    // Two administrators disabling each other at once: one of them stays.
    let second = client();
    enrol(&app, &second, "officer@ubnd.vn").await;
    let a = format!("/admin/people/{officer}");
    let b = own.clone();
    let csrf_root = csrf_of(&get(&app, &root, &a).await.1);
    let csrf_second = csrf_of(&get(&app, &second, &b).await.1);
    let (r1, r2) = tokio::join!(
        root.post(format!("{}{a}/disable", app.address))
            .form(&[("_csrf", csrf_root.as_str()), ("action", "disable")])
            .send(),
        second
            .post(format!("{}{b}/disable", app.address))
            .form(&[("_csrf", csrf_second.as_str()), ("action", "disable")])
            .send(),
    );
    let (s1, s2) = (
        r1.expect("post").status().as_u16(),
        r2.expect("post").status().as_u16(),
    );
    let active: i64 = users::table
        .filter(users::role.eq("admin"))
        .filter(users::disabled_at.is_null())
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(active, 1, "exactly one administrator disabled ({s1}, {s2})");
}

#[tokio::test]
async fn a_second_factor_reset_sends_the_person_back_to_enrolment() {
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let lead = create_staff(&app, "lead@ubnd.vn", Role::Lead);
    let http = client();
    enrol(&app, &http, "lead@ubnd.vn").await;
    let page = format!("/admin/people/{lead}");
    assert!(get(&app, &root, &page).await.1.contains("Đã cài đặt"));
    let (status, location, _) =
        post(&app, &root, &page, &format!("{page}/second-factor"), &[]).await;
    assert_eq!(
        (status, location),
        (303, format!("{page}?done=second_factor"))
    );
    assert_eq!(sessions_of(&app, lead), 0, "their sessions ended");
    assert_eq!(get(&app, &http, "/staff").await.0, 303);
    // At the next login they enrol again (a new secret, new recovery codes).
    let again = client();
    enrol(&app, &again, "lead@ubnd.vn").await;
    assert_eq!(get(&app, &again, "/staff").await.0, 200);
    assert_eq!(
        audit_events(&app, &format!("user:{lead}")),
        ["2fa_reset"],
        "audited"
    );
}

fn holiday_names(app: &TestApp, year: i32) -> Vec<(String, String)> {
    let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("date");
    let to = chrono::NaiveDate::from_ymd_opt(year, 12, 31).expect("date");
    holidays::table
        .filter(holidays::day.between(from, to))
        .order(holidays::day)
        .select((holidays::day, holidays::name_en))
        .load::<(chrono::NaiveDate, String)>(&mut app.db())
        .expect("holidays")
        .into_iter()
        .map(|(d, n)| (d.to_string(), n))
        .collect()
}

fn preview_of(html: &str) -> String {
    html.split("id=\"preview-result\" role=\"status\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("a preview")
        .replace("&#x2F;", "/")
}

#[tokio::test]
async fn holidays_office_hours_and_the_due_date_preview() {
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let preview = "/admin/calendar?year=2031&filed_on=2031-03-03&filed_at=09:15&days=5";
    // Monday 3 March 2031, 5 working days: due Monday 10 March at closing time.
    let (status, html) = get(&app, &root, preview).await;
    assert_eq!(status, 200);
    assert_eq!(
        preview_of(&html),
        "Nộp lúc 03/03/2031 09:15, 5 ngày làm việc → hạn 17:00 10/03/2031."
    );
    let (status, html) = get(
        &app,
        &root,
        "/admin/calendar?filed_on=2031-02-30&filed_at=9h&days=0",
    )
    .await;
    assert_eq!(status, 400);
    for msg in [
        "Nhập ngày nộp.",
        "Nhập giờ nộp dạng GG:PP.",
        "Nhập số ngày làm việc từ 1 đến 365.",
    ] {
        assert!(html.contains(msg), "{msg}");
    }

    // A holiday on the Wednesday moves the due date by one working day.
    let (status, location, _) = post(
        &app,
        &root,
        "/admin/calendar",
        "/admin/calendar/holidays",
        &[
            ("day", "2031-03-05"),
            ("name_vi", "Ngày nghỉ bù"),
            ("name_en", "Compensatory day off"),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/calendar?year=2031&done=saved")
    );
    let (_, html) = get(&app, &root, preview).await;
    assert_eq!(
        preview_of(&html),
        "Nộp lúc 03/03/2031 09:15, 5 ngày làm việc → hạn 17:00 11/03/2031."
    );
    // The same day twice: refused, what was typed kept.
    let (status, _, html) = post(
        &app,
        &root,
        "/admin/calendar",
        "/admin/calendar/holidays",
        &[
            ("day", "2031-03-05"),
            ("name_vi", "Trùng ngày"),
            ("name_en", "Twice"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Ngày này đã là ngày nghỉ lễ") && html.contains("value=\"Trùng ngày\""));
    // Edited onto another day, then deleted.
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/calendar/holidays/2031-03-05",
        "/admin/calendar/holidays",
        &[
            ("original", "2031-03-05"),
            ("day", "2031-03-06"),
            ("name_vi", "Ngày nghỉ bù"),
            ("name_en", "Moved day off"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        holiday_names(&app, 2031),
        [("2031-03-06".to_string(), "Moved day off".to_string())]
    );
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/calendar?year=2031",
        "/admin/calendar/holidays/delete",
        &[("day", "2031-03-06")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(holiday_names(&app, 2031).is_empty());

    // Office hours: a bad value is named and kept; a good one moves the closing time.
    let (status, _, html) = post(
        &app,
        &root,
        "/admin/calendar",
        "/admin/calendar/hours",
        &[("hours", "13:30-17:00, 07:00-11:30")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Giờ làm việc không hợp lệ") && html.contains("13:30-17:00, 07:00-11:30")
    );
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/calendar",
        "/admin/calendar/hours",
        &[("hours", "08:00-12:00, 13:00-16:30")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &root, preview).await;
    assert_eq!(
        preview_of(&html),
        "Nộp lúc 03/03/2031 09:15, 5 ngày làm việc → hạn 16:30 10/03/2031."
    );
    let subjects: Vec<String> = audit_log::table
        .filter(audit_log::event.eq("config_changed"))
        .order(audit_log::id)
        .select(audit_log::subject)
        .load(&mut app.db())
        .expect("audit");
    assert_eq!(
        subjects,
        [
            "holiday:2031-03-05",
            "holiday:2031-03-06",
            "holiday:2031-03-06",
            "office_hours"
        ]
    );
}

async fn import(app: &TestApp, http: &reqwest::Client, csv: &str) -> (u16, String) {
    let csrf = csrf_of(&get(app, http, "/admin/calendar").await.1);
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
            .file_name("holidays.csv")
            .mime_str("text/csv")
            .expect("mime"),
    );
    let res = http
        .post(format!("{}/admin/calendar/import", app.address))
        .multipart(form)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

#[tokio::test]
async fn a_holidays_file_is_imported_whole_or_not_at_all() {
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let bad = "date,name_vi,name_en\n\
               2032-01-01,Tết Dương lịch,New Year's Day\n\
               2032-13-01,Sai,Wrong\n\
               2032-04-30,Ngày Giải phóng\n\
               2032-01-01,Lặp,Again\n";
    let (status, html) = import(&app, &root, bad).await;
    assert_eq!(status, 400);
    for line in [
        "Dòng 3: ngày không đúng dạng",
        "Dòng 4: cần đúng 3 cột",
        "Dòng 5: ngày này đã có ở dòng trước",
    ] {
        assert!(html.contains(line), "{line}");
    }
    assert!(holiday_names(&app, 2032).is_empty(), "nothing imported");

    // The seed file's shape, with quoting; a day already there is renamed, others kept.
    let good = "date,name_vi,name_en\r\n\
                2032-01-01,Tết Dương lịch,New Year's Day\r\n\
                2032-04-30,\"Ngày Giải phóng miền Nam, thống nhất đất nước\",Reunification Day\r\n";
    let (status, html) = import(&app, &root, good).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Đã nhập: 2 ngày mới, 0 ngày đổi tên, 0 ngày không đổi."));
    let renamed = "date,name_vi,name_en\n2032-01-01,Tết Dương lịch,New Year\n";
    let (_, html) = import(&app, &root, renamed).await;
    assert!(html.contains("Đã nhập: 0 ngày mới, 1 ngày đổi tên, 0 ngày không đổi."));
    assert_eq!(
        holiday_names(&app, 2032),
        [
            ("2032-01-01".to_string(), "New Year".to_string()),
            ("2032-04-30".to_string(), "Reunification Day".to_string())
        ]
    );
}

#[tokio::test]
async fn only_administrators_reach_administration() {
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let officer = create_staff(&app, "officer@ubnd.vn", Role::Officer);
    let lead = create_staff(&app, "lead@ubnd.vn", Role::Lead);
    let (o, l) = (client(), client());
    enrol(&app, &o, "officer@ubnd.vn").await;
    enrol(&app, &l, "lead@ubnd.vn").await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let citizen = app.client.clone();
    let anonymous = client();
    let person = format!("/admin/people/{officer}");
    let gets = [
        "/admin/people",
        "/admin/people/new",
        person.as_str(),
        "/admin/calendar",
        "/admin/calendar/holidays/2026-09-02",
        "/admin/routing",
        "/admin/routing/gaps",
        "/admin/routing/1",
        "/admin/offices",
        "/admin/offices/00004.00.00.H01",
        "/admin/offices/00004.00.00.H01/webhooks",
        "/admin/services",
        "/admin/services/1.001193",
        "/admin/import",
        "/admin/services/1.001193/record",
        "/admin/services/1.001193/forms",
        "/admin/services/1.001193/forms/1.json",
    ];
    for path in gets {
        assert_eq!(get(&app, &anonymous, path).await.0, 303, "{path}");
        for (who, http) in [("citizen", &citizen), ("officer", &o), ("lead", &l)] {
            assert_eq!(get(&app, http, path).await.0, 403, "{path} as {who}");
        }
        assert_eq!(get(&app, &root, path).await.0, 200, "{path} as admin");
    }
    // Changes: refused for everyone but administrators, with a valid CSRF token of their own.
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/people/new".into(),
            vec![
                ("email", "x@ubnd.vn"),
                ("full_name", "Xuân"),
                ("role", "admin"),
            ],
        ),
        (
            format!("/admin/people/{lead}/role"),
            vec![("role", "admin")],
        ),
        (
            format!("/admin/people/{lead}/disable"),
            vec![("action", "disable")],
        ),
        (format!("/admin/people/{lead}/second-factor"), vec![]),
        (
            format!("/admin/people/{lead}/offices"),
            vec![("office", "00004.00.00.H01")],
        ),
        (
            "/admin/calendar/holidays".into(),
            vec![("day", "2031-01-02"), ("name_vi", "A"), ("name_en", "B")],
        ),
        (
            "/admin/calendar/holidays/delete".into(),
            vec![("day", "2026-09-02")],
        ),
        (
            "/admin/calendar/hours".into(),
            vec![("hours", "08:00-09:00")],
        ),
        (
            "/admin/routing".into(),
            vec![
                ("level", "commune"),
                ("target", "ward_police"),
                ("note", "x"),
                ("service", "1.001193"),
            ],
        ),
        ("/admin/routing/delete".into(), vec![("id", "1")]),
        (
            "/admin/offices/00004.00.00.H01".into(),
            vec![("address", "x"), ("auto_assign", "on")],
        ),
        (
            "/admin/offices/00004.00.00.H01/webhooks".into(),
            vec![("url", "https://evil.example/in")],
        ),
        (
            "/admin/offices/00004.00.00.H01/webhooks/1/active".into(),
            vec![],
        ),
        (
            "/admin/offices/00004.00.00.H01/webhooks/deliveries/1/resend".into(),
            vec![],
        ),
        (
            "/admin/services/1.001193/level".into(),
            vec![("level", "1")],
        ),
        (
            "/admin/services/1.001193/publish".into(),
            vec![("action", "unpublish")],
        ),
        (
            "/admin/services/1.001193/record".into(),
            vec![("name", "Tên khác"), ("seen_version", "1")],
        ),
        (
            "/admin/services/1.001193/rollback".into(),
            vec![("version", "1"), ("seen_version", "1")],
        ),
        (
            "/admin/services/1.001193/forms".into(),
            vec![("definition", "{}")],
        ),
        (
            "/admin/services/1.001193/channels/1".into(),
            vec![("fee_vnd", "5")],
        ),
        ("/admin/services/1.001193/forms/new".into(), vec![]),
        (
            "/admin/services/1.001193/forms/1/build".into(),
            vec![("op", "remove_section"), ("key", "requester")],
        ),
        ("/admin/services/1.001193/forms/1/publish".into(), vec![]),
        (
            "/admin/import/apply".into(),
            vec![(
                "sha",
                "0000000000000000000000000000000000000000000000000000000000000000",
            )],
        ),
    ];
    for (path, fields) in &posts {
        for (who, http) in [("citizen", &citizen), ("officer", &o), ("lead", &l)] {
            let (status, _, _) = post(&app, http, "/account", path, fields).await;
            assert_eq!(status, 403, "{path} as {who}");
        }
    }
    let role: String = users::table
        .find(lead)
        .select(users::role)
        .first(&mut app.db())
        .expect("role");
    assert_eq!(role, "lead", "nothing changed");
    assert_eq!(holiday_names(&app, 2031), Vec::<(String, String)>::new());
    let rules: i64 = portal::db::schema::routing_rules::table
        .filter(portal::db::schema::routing_rules::id.eq(1))
        .count()
        .get_result(&mut app.db())
        .expect("rules");
    assert_eq!(rules, 1, "the rule is still there");
    let hooks: i64 = portal::db::schema::webhooks::table
        .count()
        .get_result(&mut app.db())
        .expect("webhooks");
    assert_eq!(hooks, 0, "no webhook was registered");
    assert_eq!(
        get(&app, &anonymous, "/services/1.001193").await.0,
        200,
        "still published"
    );
}

fn trial_offices(html: &str) -> Vec<String> {
    html.split("<li class=\"trial-row\">")
        .skip(1)
        .map(|row| {
            let office = row
                .split("class=\"trial-office\">")
                .nth(1)
                .and_then(|s| s.split("</span>").next())
                .unwrap_or("");
            let rule = row
                .split("/admin/routing/")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("-");
            format!("{office} #{rule}")
        })
        .collect()
}

#[tokio::test]
async fn routing_rules_are_tried_edited_and_reported() {
    use portal::db::schema::routing_rules;
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let commune_default: i64 = routing_rules::table
        .filter(routing_rules::level.eq("commune"))
        .filter(routing_rules::ministry_id.is_null())
        .filter(routing_rules::field_id.is_null())
        .filter(routing_rules::service_code.is_null())
        .select(routing_rules::id)
        .first(&mut app.db())
        .expect("the seeded commune rule");
    let tryit = "/admin/routing?try_service=1.001193&try_ward=00004";
    let (status, html) = get(&app, &root, tryit).await;
    assert_eq!(status, 200);
    let before = trial_offices(&html);
    assert_eq!(before.len(), 1, "{html}");
    assert!(
        before[0].contains("(00004.00.00.H01)")
            && before[0].ends_with(&format!("#{commune_default}")),
        "birth registration in ward 00004 goes to its committee by the commune rule: {before:?}"
    );
    let (status, html) = get(&app, &root, "/admin/routing?try_service=9.999999").await;
    assert_eq!(status, 400);
    assert!(html.contains("Không có thủ tục đang áp dụng với mã 9.999999"));

    // Refusals name the problem and keep the form.
    let rule = |level: &'static str, target: &'static str, department: &'static str| {
        vec![
            ("level", level),
            ("service", "1.001193"),
            ("target", target),
            ("department", department),
            ("note", "Công an xã nhận thử"),
        ]
    };
    for (fields, message) in [
        (
            rule("commune", "department", "tu-phap"),
            "Loại cơ quan này không nhận hồ sơ của cấp đã chọn",
        ),
        (
            rule("province", "department", "khong-co"),
            "Không có cơ quan nào với mã này",
        ),
        (
            rule("province", "department", ""),
            "Quy tắc gửi đến sở phải chọn sở nào",
        ),
        (
            rule("commune", "ward_police", "tu-phap"),
            "Chỉ chọn sở khi cơ quan nhận là sở",
        ),
    ] {
        let (status, _, html) =
            post(&app, &root, "/admin/routing", "/admin/routing", &fields).await;
        assert_eq!(status, 400, "{message}");
        assert!(html.contains(message), "{message}");
        assert!(
            html.contains("value=\"Công an xã nhận thử\""),
            "the note is kept"
        );
    }

    // One service's own rule beats the commune default; the same conditions twice are refused.
    let fields = rule("commune", "ward_police", "");
    let (status, location, _) =
        post(&app, &root, "/admin/routing", "/admin/routing", &fields).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/routing?done=saved")
    );
    let new_id: i64 = routing_rules::table
        .filter(routing_rules::service_code.eq("1.001193"))
        .select(routing_rules::id)
        .first(&mut app.db())
        .expect("the new rule");
    let after = trial_offices(&get(&app, &root, tryit).await.1);
    assert!(
        after[0].contains("(00004.01.00.H01)") && after[0].ends_with(&format!("#{new_id}")),
        "now the ward police, by the new rule: {after:?}"
    );
    let (status, _, html) = post(&app, &root, "/admin/routing", "/admin/routing", &fields).await;
    assert_eq!(status, 400);
    assert!(html.contains("Đã có quy tắc với đúng các điều kiện này"));
    // Edited back to the committee, then deleted: the default decides again.
    let id = new_id.to_string();
    let mut edit = rule("commune", "ward_committee", "");
    edit.push(("id", &id));
    let (status, _, _) = post(
        &app,
        &root,
        &format!("/admin/routing/{new_id}"),
        "/admin/routing",
        &edit,
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/routing",
        "/admin/routing/delete",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(trial_offices(&get(&app, &root, tryit).await.1), before);
    let details: Vec<String> = audit_log::table
        .filter(audit_log::subject.eq(format!("routing_rule:{new_id}")))
        .order(audit_log::id)
        .select(audit_log::detail)
        .load(&mut app.db())
        .expect("audit");
    assert_eq!(details.len(), 3, "added, edited, deleted: {details:?}");
    assert!(
        details[1].contains("→ ward_police")
            && details[1]
                .ends_with("→ commune m=* f=* s=1.001193 → ward_committee (Công an xã nhận thử)")
    );

    // The gap report: without the commune default, birth registration has no route.
    let total = |html: &str| -> usize {
        html.split("id=\"gaps-total\">")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("a total")
    };
    let (status, html) = get(&app, &root, "/admin/routing/gaps").await;
    assert_eq!(status, 200);
    let gaps_before = total(&html);
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/routing",
        "/admin/routing/delete",
        &[("id", &commune_default.to_string())],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &root, "/admin/routing/gaps").await;
    let gaps_after = total(&html);
    assert!(
        gaps_after > gaps_before + 100,
        "every commune procedure is a gap now"
    );
    assert_eq!(
        html.matches("class=\"gap-row\"").count(),
        gaps_after.min(300),
        "the first 300 are listed"
    );
    let (_, html) = get(&app, &root, tryit).await;
    assert!(html.contains("không có quy tắc nào"));
}

#[tokio::test]
async fn an_office_keeps_its_own_hours_and_contact_and_new_dossiers_are_due_by_them() {
    use portal::db::schema::dossiers;
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let (status, html) = get(&app, &root, "/admin/offices").await;
    assert_eq!(status, 200);
    assert!(html.contains("class=\"office-row\""), "the top of the tree");
    let (_, html) = get(&app, &root, "/admin/offices?q=00004.00.00").await;
    assert!(html.contains("href=\"/admin/offices/00004.00.00.H01\""));
    let page = "/admin/offices/00004.00.00.H01";
    let (status, html) = get(&app, &root, page).await;
    assert_eq!(status, 200);
    assert!(html.contains("00004.00.00.H01") && html.contains("Cơ quan cấp trên"));
    assert_eq!(
        get(&app, &root, "/admin/offices/999.99.99.X99").await.0,
        404
    );

    // Every problem named, what was typed kept, nothing saved.
    let bad = [
        ("address", "Số 1 Hàng Trống"),
        ("phone", "gọi tôi"),
        ("email", "ubnd@"),
        ("office_hours", "16:00-07:00"),
    ];
    let (status, _, html) = post(&app, &root, page, page, &bad).await;
    assert_eq!(status, 400);
    for msg in [
        "Nhập số điện thoại từ 8 đến 15 chữ số",
        "Nhập địa chỉ email đúng dạng",
        "Giờ làm việc không hợp lệ",
    ] {
        assert!(html.contains(msg), "{msg}");
    }
    assert!(html.contains("value=\"Số 1 Hàng Trống\"") && html.contains("value=\"16:00-07:00\""));

    let good = [
        ("address", "Số 1 Hàng Trống"),
        ("phone", "024 3825 3536"),
        ("email", "ubnd@hanoi.gov.vn"),
        ("office_hours", "07:00-11:30,13:30-16:00"),
        ("auto_assign", "on"),
    ];
    let (status, location, _) = post(&app, &root, page, page, &good).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/offices/00004.00.00.H01?done=saved")
    );
    let (_, html) = get(&app, &root, &location).await;
    assert!(
        html.contains("Đã lưu thiết lập") && html.contains("value=\"07:00-11:30, 13:30-16:00\"")
    );
    assert_eq!(
        audit_events(&app, "office:00004.00.00.H01"),
        ["config_changed"]
    );

    // A dossier filed with this office is due at its own closing time.
    let code = crate::workspace::filed(&app).await;
    let due: Option<chrono::NaiveDateTime> = dossiers::table
        .filter(dossiers::code.eq(&code))
        .select(dossiers::due_at)
        .first(&mut app.db())
        .expect("dossier");
    let local = portal::domain::calendar::to_local(due.expect("a due date"));
    assert_eq!(local.format("%H:%M").to_string(), "16:00");
}

#[tokio::test]
async fn online_levels_are_checked_and_an_unpublished_service_leaves_the_catalogue() {
    use portal::db::schema::{forms, services};
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    // A service in force without a published form cannot be level 3, whatever it was seeded at.
    let with_form: Vec<String> = forms::table
        .filter(forms::published.eq(true))
        .select(forms::service_code)
        .load(&mut app.db())
        .expect("forms");
    let (bare, seeded_level): (String, i32) = services::table
        .filter(services::active.eq(true))
        .filter(services::code.ne_all(&with_form))
        .order(services::code)
        .select((services::code, services::online_level))
        .first(&mut app.db())
        .expect("a service without a form");
    let page = format!("/admin/services/{bare}");
    let (status, html) = get(&app, &root, &page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("chưa có biểu mẫu điện tử được công bố"),
        "the checks are shown"
    );
    let (status, _, html) = post(
        &app,
        &root,
        &page,
        &format!("{page}/level"),
        &[("level", "3")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("Không đặt được mức độ 3"));
    assert!(html.contains("chưa có biểu mẫu điện tử được công bố"));
    let level: i32 = services::table
        .filter(services::code.eq(&bare))
        .select(services::online_level)
        .first(&mut app.db())
        .expect("level");
    assert_eq!(level, seeded_level, "nothing changed");
    // Lowering is always allowed; it is audited and shown on the public page at once.
    let (status, location, _) = post(
        &app,
        &root,
        &page,
        &format!("{page}/level"),
        &[("level", "2")],
    )
    .await;
    assert_eq!((status, location), (303, format!("{page}?done=level")));
    let (_, public) = get(&app, &client(), &format!("/services/{bare}")).await;
    assert!(
        public.contains(&format!("Mức độ trực tuyến: {seeded_level} → 2")),
        "the public page shows the change"
    );
    let (_, html) = get(&app, &root, &page).await;
    assert!(
        html.contains(&format!("online_level: {seeded_level} → 2")),
        "the history"
    );

    // Birth registration has its official form, a route and a known fee: level 4 is allowed.
    let birth = "/admin/services/1.001193";
    let (_, html) = get(&app, &root, birth).await;
    assert!(!html.contains("chưa có biểu mẫu"), "{html}");
    let (status, _, _) = post(
        &app,
        &root,
        birth,
        &format!("{birth}/level"),
        &[("level", "4")],
    )
    .await;
    assert_eq!(status, 303);

    // Unpublished: gone from the public page, search, API and applying, at once; back after.
    let anonymous = client();
    assert_eq!(get(&app, &anonymous, "/services/1.001193").await.0, 200);
    let (status, _, _) = post(
        &app,
        &root,
        birth,
        &format!("{birth}/publish"),
        &[("action", "unpublish")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(get(&app, &anonymous, "/services/1.001193").await.0, 404);
    let (_, json) = get(&app, &anonymous, "/api/v1/services?q=1.001193").await;
    assert!(!json.contains("\"1.001193\""), "not in the API: {json}");
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let status = app.get("/apply/1.001193").await.status().as_u16();
    assert_eq!(status, 404, "no new applications");
    let (status, _, _) = post(
        &app,
        &root,
        birth,
        &format!("{birth}/publish"),
        &[("action", "publish")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(get(&app, &anonymous, "/services/1.001193").await.0, 200);
    let details: Vec<String> = audit_log::table
        .filter(audit_log::subject.eq("service:1.001193"))
        .filter(audit_log::detail.like("published:%"))
        .order(audit_log::id)
        .select(audit_log::detail)
        .load(&mut app.db())
        .expect("audit");
    assert_eq!(
        details,
        ["published: true → false", "published: false → true"]
    );
}

async fn upload_catalogue(app: &TestApp, http: &reqwest::Client, bytes: Vec<u8>) -> (u16, String) {
    let csrf = csrf_of(&get(app, http, "/admin/import").await.1);
    let form = reqwest::multipart::Form::new().text("_csrf", csrf).part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name("procedures.jsonl.gz")
            .mime_str("application/gzip")
            .expect("mime"),
    );
    let res = http
        .post(format!("{}/admin/import", app.address))
        .multipart(form)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

#[tokio::test]
async fn a_changed_catalogue_is_dry_run_then_applied_keeping_local_settings() {
    use portal::db::schema::services;
    use std::io::{BufRead, Write};
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let file = std::fs::File::open(crate::common::root().join("data/procedures.jsonl.gz"))
        .expect("seed file");
    let lines: Vec<String> = std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|l| l.expect("line"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    // The changed copy: birth registration renamed, the second procedure dropped, one added.
    let mut records: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let birth = records
        .iter()
        .position(|r| r["code"] == "1.001193")
        .expect("birth registration");
    records[birth]["name"] = serde_json::json!("Đăng ký khai sinh (tên mới)");
    let dropped_index = if birth == 1 { 2 } else { 1 };
    let dropped = records.remove(dropped_index)["code"]
        .as_str()
        .expect("code")
        .to_string();
    let mut added = records[0].clone();
    added["code"] = serde_json::json!("9.999001");
    added["name"] = serde_json::json!("Thủ tục thử nghiệm nhập danh mục");
    records.push(added);
    let gz = |records: &[serde_json::Value]| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for r in records {
            writeln!(enc, "{r}").expect("write");
        }
        enc.finish().expect("gzip")
    };

    // What administrators set beforehand is kept: birth registration unpublished, level 3.
    let page = "/admin/services/1.001193";
    let (status, _, _) = post(
        &app,
        &root,
        page,
        &format!("{page}/level"),
        &[("level", "3")],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _, _) = post(
        &app,
        &root,
        page,
        &format!("{page}/publish"),
        &[("action", "unpublish")],
    )
    .await;
    assert_eq!(status, 303);

    // A file with a bad line is refused with the line; nothing changes.
    let mut broken = records.clone();
    broken.insert(1, serde_json::json!({"code": "x"}));
    let (status, html) = upload_catalogue(&app, &root, gz(&broken)).await;
    assert_eq!(status, 400);
    assert!(html.contains("Dòng 2:"), "{html}");

    let (status, html) = upload_catalogue(&app, &root, gz(&records)).await;
    assert_eq!(status, 200, "{html}");
    let total = lines.len();
    let summary = format!(
        "Chạy thử: 1 thủ tục mới, 1 thay đổi, 1 bị bãi bỏ, {} không đổi.",
        total - 2
    );
    assert!(html.contains(&summary), "{html}");
    assert!(html.contains("1.001193 — Đăng ký khai sinh (tên mới): name"));
    assert!(html.contains(&format!("{dropped} — ")));
    let name_before: String = services::table
        .filter(services::code.eq("1.001193"))
        .select(services::name)
        .first(&mut app.db())
        .expect("name");
    assert_ne!(
        name_before, "Đăng ký khai sinh (tên mới)",
        "a dry run changes nothing"
    );
    let sha = html
        .split("name=\"sha\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the apply form")
        .to_string();

    let (status, _, html) = post(
        &app,
        &root,
        "/admin/import",
        "/admin/import/apply",
        &[("sha", &sha)],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Đã áp dụng: 1 thủ tục mới, 1 thay đổi, 1 bị bãi bỏ"));
    let (name, level, source, published): (String, i32, String, bool) = services::table
        .filter(services::code.eq("1.001193"))
        .select((
            services::name,
            services::online_level,
            services::online_level_source,
            services::published,
        ))
        .first(&mut app.db())
        .expect("birth");
    assert_eq!(name, "Đăng ký khai sinh (tên mới)");
    assert_eq!(
        (level, source.as_str(), published),
        (3, "admin", false),
        "local settings kept"
    );
    let active: bool = services::table
        .filter(services::code.eq(&dropped))
        .select(services::active)
        .first(&mut app.db())
        .expect("dropped");
    assert!(!active, "withdrawn");
    let anonymous = client();
    assert_eq!(
        get(&app, &anonymous, &format!("/services/{dropped}"))
            .await
            .0,
        404
    );
    assert_eq!(get(&app, &anonymous, "/services/9.999001").await.0, 200);
    // The file was used once.
    let (status, _, _) = post(
        &app,
        &root,
        "/admin/import",
        "/admin/import/apply",
        &[("sha", &sha)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(audit_events(&app, "catalogue"), ["config_changed"]);
}

#[tokio::test]
async fn a_change_reaches_the_other_instance_within_its_poll_interval() {
    use crate::common::{fresh_database, spawn_with, test_settings};
    let url = fresh_database();
    let mut settings = test_settings(url.clone());
    settings.catalogue_poll_secs = 1;
    let a = spawn_with(settings.clone()).await;
    let b = spawn_with(settings).await;
    let (_, root) = admin(&a, "root@agency.vn").await;
    let anonymous = client();
    // Both instances have the page in their cache.
    for app in [&a, &b] {
        for _ in 0..2 {
            assert_eq!(get(app, &anonymous, "/services/1.001193").await.0, 200);
        }
    }
    let page = "/admin/services/1.001193";
    let (status, _, _) = post(
        &a,
        &root,
        page,
        &format!("{page}/publish"),
        &[("action", "unpublish")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        get(&a, &anonymous, "/services/1.001193").await.0,
        404,
        "on the same instance, the next request"
    );
    let started = std::time::Instant::now();
    loop {
        let status = get(&b, &anonymous, "/services/1.001193").await.0;
        if status == 404 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the other instance still serves the page after 5 s (poll interval 1 s)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_edited_record_is_a_new_version_with_a_diff_and_a_rollback() {
    use portal::db::schema::{dossiers, service_versions, services};
    let app = spawn_app().await;
    let code = crate::workspace::filed(&app).await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let (v1, steps_v1): (i32, String) = services::table
        .filter(services::code.eq("1.001193"))
        .select((services::version, services::steps))
        .first(&mut app.db())
        .expect("service");
    let page = "/admin/services/1.001193/record";
    let (status, html) = get(&app, &root, page).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("name=\"seen_version\" value=\"{v1}\"")));
    let form = |html: &str, steps: &str, note: &str, seen: i32| -> Vec<(String, String)> {
        let value = |name: &str| -> String {
            let input = format!("name=\"{name}\" value=\"");
            if let Some(rest) = html.split(&input).nth(1) {
                return rest.split('"').next().unwrap_or("").to_string();
            }
            html.split(&format!("name=\"{name}\" rows=\"6\""))
                .nth(1)
                .and_then(|s| s.split_once('>'))
                .and_then(|(_, s)| s.split("</textarea>").next())
                .unwrap_or("")
                .to_string()
        };
        let unescape = |s: String| {
            s.replace("&#x2F;", "/")
                .replace("&quot;", "\"")
                .replace("&#x27;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        };
        let mut fields: Vec<(String, String)> = [
            "name",
            "procedure_type",
            "decision_number",
            "implementing_agency",
            "competent_agency",
            "documents_text",
            "requirements",
            "result_code",
            "result",
            "related_procedures",
            "implementing_levels",
            "target_groups",
            "legal_basis",
            "documents",
        ]
        .iter()
        .map(|n| (n.to_string(), unescape(value(n))))
        .collect();
        fields.push(("steps".into(), steps.into()));
        fields.push(("note".into(), note.into()));
        fields.push(("seen_version".into(), seen.to_string()));
        fields
    };
    let new_steps = "Bước 1: Nộp hồ sơ trực tuyến.\nBước 2: Nhận kết quả điện tử.";
    let fields = form(&html, new_steps, "rút gọn trình tự", v1);
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, location, _) = post(&app, &root, page, page, &refs).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/services/1.001193/record?done=saved")
    );
    let (v2, steps_v2, name_v2): (i32, String, String) = services::table
        .filter(services::code.eq("1.001193"))
        .select((services::version, services::steps, services::name))
        .first(&mut app.db())
        .expect("service");
    assert_eq!((v2, steps_v2.as_str()), (v1 + 1, new_steps));
    assert!(!name_v2.is_empty(), "the other fields are kept");
    let kept: String = service_versions::table
        .filter(service_versions::version.eq(v1))
        .select(service_versions::snapshot)
        .first(&mut app.db())
        .expect("the old version is kept");
    assert!(kept.contains(&serde_json::to_string(&steps_v1).expect("json")[1..20]));
    // The public page shows the new text at once; the dossier filed before keeps its version.
    let (_, public) = get(&app, &client(), "/services/1.001193").await;
    assert!(public.contains("Nhận kết quả điện tử"));
    assert!(
        public.contains(&format!(
            "Cập nhật nội dung (phiên bản {}): Trình tự thực hiện",
            v1 + 1
        )),
        "the public page says what changed"
    );
    let filed_under: i32 = dossiers::table
        .filter(dossiers::code.eq(&code))
        .select(dossiers::service_version)
        .first(&mut app.db())
        .expect("dossier");
    assert_eq!(filed_under, v1);
    // The history shows what changed; a stale form is refused.
    let (_, html) = get(&app, &root, page).await;
    assert!(html.contains(&format!("Phiên bản {v1} → {v2}")) && html.contains("rút gọn trình tự"));
    assert!(html.contains("<ins>Bước 1: Nộp hồ sơ trực tuyến."));
    let stale = form(&html, "Khác", "", v1);
    let refs: Vec<(&str, &str)> = stale
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, html) = post(&app, &root, page, page, &refs).await;
    assert_eq!(status, 400);
    assert!(html.contains("vừa được người khác sửa"));
    // Rolled back: the text of version 1 again, as version 3.
    let (status, _, _) = post(
        &app,
        &root,
        page,
        "/admin/services/1.001193/rollback",
        &[
            ("version", &v1.to_string()),
            ("seen_version", &v2.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (v3, steps_v3): (i32, String) = services::table
        .filter(services::code.eq("1.001193"))
        .select((services::version, services::steps))
        .first(&mut app.db())
        .expect("service");
    assert_eq!((v3, &steps_v3), (v2 + 1, &steps_v1));
    let details: Vec<String> = audit_log::table
        .filter(audit_log::subject.eq("service:1.001193"))
        .order(audit_log::id)
        .select(audit_log::detail)
        .load(&mut app.db())
        .expect("audit");
    assert_eq!(
        details,
        [
            format!("version {v1} → {v2}: steps (rút gọn trình tự)"),
            format!("version {v2} → {v3}: steps (khôi phục phiên bản {v1})"),
        ]
    );

    // The record's lists: a bad line is named and nothing changes; a new legal basis is public.
    let (_, html) = get(&app, &root, page).await;
    let mut fields = form(&html, &steps_v3, "", v3);
    let legal = fields
        .iter_mut()
        .find(|(k, _)| k == "legal_basis")
        .expect("legal basis");
    legal.1.push_str("\n99/2031/QH15 | Luật thử nghiệm");
    let mut bad = fields.clone();
    bad.iter_mut()
        .find(|(k, _)| k == "implementing_levels")
        .expect("levels")
        .1 = "cấp huyện".into();
    let refs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, html) = post(&app, &root, page, page, &refs).await;
    assert_eq!(status, 400);
    assert!(html.contains("implementing_levels line 1"), "{html}");
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, _) = post(&app, &root, page, page, &refs).await;
    assert_eq!(status, 303);
    let (_, public) = get(&app, &client(), "/services/1.001193").await;
    assert!(
        public.contains("Luật thử nghiệm"),
        "the new legal basis is on the public page"
    );
    assert!(
        public.contains("Căn cứ pháp lý"),
        "and its change in the history"
    );
}

#[tokio::test]
async fn a_form_is_imported_checked_previewed_and_published_and_old_dossiers_keep_theirs() {
    use portal::db::schema::{dossiers, drafts};
    let app = spawn_app().await;
    let code = crate::workspace::filed(&app).await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let page = "/admin/services/1.001193/forms";
    let (status, html) = get(&app, &root, page).await;
    assert_eq!(status, 200);
    assert_eq!(
        html.matches("class=\"form-version\"").count(),
        1,
        "the official form"
    );
    let (status, json) = get(&app, &root, "/admin/services/1.001193/forms/1.json").await;
    assert_eq!(status, 200);
    let mut def: serde_json::Value = serde_json::from_str(&json).expect("the export is JSON");
    assert_eq!(def["service"], "1.001193");

    // Problems are all listed and the text is kept.
    let mut broken = def.clone();
    let first_key = broken["sections"][0]["fields"][0]["key"].clone();
    let fields = broken["sections"][0]["fields"]
        .as_array_mut()
        .expect("fields");
    fields.push(serde_json::json!({"key": first_key, "type": "text",
        "label": {"vi": "Trùng", "en": "Twice"}}));
    fields.push(serde_json::json!({"key": "theo_dieu_kien", "type": "text",
        "label": {"vi": "Theo điều kiện", "en": "Conditional"},
        "when": {"field": "khong_co", "equals": "x"}}));
    let broken_text = serde_json::to_string_pretty(&broken).expect("json");
    let (status, _, html) = post(&app, &root, page, page, &[("definition", &broken_text)]).await;
    assert_eq!(status, 400);
    assert!(html.matches("class=\"form-error\"").count() >= 2, "{html}");
    assert!(
        html.contains("theo_dieu_kien"),
        "the typed definition is kept"
    );

    // A valid second version: one more required field, shown only when the first is filled.
    let fields = def["sections"][0]["fields"].as_array_mut().expect("fields");
    fields.push(serde_json::json!({"key": "ghi_chu_them", "type": "text",
        "label": {"vi": "Ghi chú thêm", "en": "Extra note"}, "required": true,
        "when": {"field": first_key, "filled": true}}));
    let text = serde_json::to_string_pretty(&def).expect("json");
    let (status, location, _) = post(&app, &root, page, page, &[("definition", &text)]).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/admin/services/1.001193/forms/2/preview")
    );
    let res = root
        .get(format!("{}{location}", app.address))
        .send()
        .await
        .expect("get");
    let section_url = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let (status, html) = get(&app, &root, &section_url).await;
    assert_eq!(status, 200);
    assert!(html.contains("Xem trước biểu mẫu") && html.contains("Ghi chú thêm"));
    // Sent with the first field filled and the new one empty: the citizen's error message.
    let first = first_key.as_str().expect("key").to_string();
    let (status, _, html) = post(
        &app,
        &root,
        &section_url,
        &section_url,
        &[(first.as_str(), "Nguyễn Văn A")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("class=\"error-summary\"") && html.contains("href=\"#f-ghi_chu_them\""));

    // Published: new applications use version 2; the dossier filed before keeps version 1.
    let (status, _, _) = post(
        &app,
        &root,
        page,
        "/admin/services/1.001193/forms/2/publish",
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let draft = crate::applications::start_draft(&app, "1.001193", "commune", "01", "00004").await;
    let draft_id = draft.trim_start_matches("/drafts/").to_string();
    let versions: Vec<i32> = drafts::table
        .select(drafts::form_version)
        .load(&mut app.db())
        .expect("drafts");
    assert!(
        versions.contains(&2),
        "a new draft uses version 2: {versions:?} ({draft_id})"
    );
    let (filed_under, snapshot): (i32, String) = dossiers::table
        .filter(dossiers::code.eq(&code))
        .select((dossiers::form_version, dossiers::form_definition))
        .first(&mut app.db())
        .expect("dossier");
    assert_eq!(filed_under, 1);
    let (_, forms_page) = get(&app, &root, "/admin/services/1.001193/forms").await;
    assert_eq!(
        forms_page.matches("<td>Đang công bố</td>").count(),
        2,
        "both versions published"
    );
    assert!(
        !snapshot.contains("ghi_chu_them"),
        "the filed form is unchanged"
    );
}

#[tokio::test]
async fn a_form_is_built_without_json_and_a_citizen_applies_with_it() {
    use portal::db::schema::{drafts, forms, services};
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    // A level 3 procedure with no stored form (it uses the generated one).
    let with_form: Vec<String> = forms::table
        .select(forms::service_code)
        .load(&mut app.db())
        .expect("forms");
    let code: String = services::table
        .filter(services::active.eq(true))
        .filter(services::online_level.ge(3))
        .filter(services::code.ne_all(&with_form))
        .order(services::code)
        .select(services::code)
        .first(&mut app.db())
        .expect("a service");
    let forms_page = format!("/admin/services/{code}/forms");
    let (status, location, _) =
        post(&app, &root, &forms_page, &format!("{forms_page}/new"), &[]).await;
    assert_eq!(
        (status, location.clone()),
        (303, format!("{forms_page}/1/build"))
    );
    let build = location;
    let op = |fields: &[(&'static str, &'static str)]| fields.to_vec();
    // A choice, then a field shown only for one of its values.
    for fields in [
        op(&[
            ("op", "save_field"),
            ("section", "thong_tin"),
            ("key", "hinh_thuc"),
            ("kind", "radio"),
            ("label_vi", "Hình thức nhận kết quả"),
            ("label_en", "How to receive the result"),
            ("required", "on"),
            (
                "options",
                "online | Trực tuyến | Online\nbuu_chinh | Qua bưu chính | By post",
            ),
        ]),
        op(&[
            ("op", "save_field"),
            ("section", "thong_tin"),
            ("key", "dia_chi_nhan"),
            ("kind", "text"),
            ("label_vi", "Địa chỉ nhận kết quả"),
            ("required", "on"),
            ("when_field", "hinh_thuc"),
            ("when_equals", "buu_chinh"),
        ]),
        op(&[
            ("op", "add_document"),
            ("doc_key", "giay_uy_quyen"),
            ("doc_vi", "Giấy ủy quyền (nếu có)"),
        ]),
    ] {
        let (status, location, html) = post(&app, &root, &build, &build, &fields).await;
        assert_eq!((status, location.as_str()), (303, build.as_str()), "{html}");
    }
    // A refused edit lists the problem and keeps what was typed.
    let (status, _, html) = post(
        &app,
        &root,
        &build,
        &build,
        &[
            ("op", "save_field"),
            ("section", "thong_tin"),
            ("key", "sai"),
            ("kind", "text"),
            ("label_vi", "Trường sai điều kiện"),
            ("when_field", "khong_co"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("class=\"builder-error\"") && html.contains("value=\"Trường sai điều kiện\"")
    );
    // Reordered: the condition must name an earlier field, so moving it first is refused.
    let (status, _, _) = post(
        &app,
        &root,
        &build,
        &build,
        &[
            ("op", "move_field"),
            ("key", "dia_chi_nhan"),
            ("direction", "up"),
        ],
    )
    .await;
    assert_eq!(status, 400, "a condition on a later field");

    // Previewed as the citizen sees it: the conditional field is required only by post.
    let preview = format!("{forms_page}/1/preview/thong_tin");
    let (status, _, html) = post(
        &app,
        &root,
        &preview,
        &preview,
        &[("hinh_thuc", "buu_chinh")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("href=\"#f-dia_chi_nhan\""), "{html}");
    let (status, _, _) = post(&app, &root, &preview, &preview, &[("hinh_thuc", "online")]).await;
    assert_eq!(status, 200, "online: the address is not asked");

    // Published, a citizen's new application uses it.
    let (status, _, _) = post(
        &app,
        &root,
        &forms_page,
        &format!("{forms_page}/1/publish"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (_, html) = get(&app, &root, &build).await;
    assert!(
        html.contains("Phiên bản này đã công bố"),
        "a published version is read-only"
    );
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let res = app.get(&format!("/apply/{code}")).await;
    assert_eq!(res.status().as_u16(), 200);
    let page = res.text().await.expect("body");
    let level = page
        .split("name=\"level\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("ministry")
        .to_string();
    let draft = crate::applications::start_draft(&app, &code, &level, "01", "00004").await;
    let version: i32 = drafts::table
        .order(drafts::id.desc())
        .select(drafts::form_version)
        .first(&mut app.db())
        .expect("draft");
    assert_eq!(version, 1, "the draft {draft} uses the built form");
    let (status, html) = get(&app, &app.client, &format!("{draft}/sections/thong_tin")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Hình thức nhận kết quả") && html.contains("Qua bưu chính"));
}

#[tokio::test]
async fn a_channel_fee_set_by_an_administrator_changes_what_level_4_needs() {
    use portal::db::schema::{service_channels, services};
    let app = spawn_app().await;
    let (_, root) = admin(&app, "root@agency.vn").await;
    let (code, channel): (String, i64) = service_channels::table
        .inner_join(services::table)
        .filter(services::active.eq(true))
        .filter(service_channels::channel.eq("online"))
        .filter(service_channels::fee_vnd.is_null())
        .order(services::code)
        .select((services::code, service_channels::id))
        .first(&mut app.db())
        .expect("an online channel without a known fee");
    let page = format!("/admin/services/{code}");
    let (status, html) = get(&app, &root, &page).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("chưa biết phí, lệ phí khi nộp trực tuyến"),
        "{code}"
    );
    let action = format!("{page}/channels/{channel}");
    let (status, _, _) = post(
        &app,
        &root,
        &page,
        &action,
        &[
            ("processing_time", "5"),
            ("time_unit", "working_days"),
            ("fee_vnd", "mười"),
        ],
    )
    .await;
    assert_eq!(status, 400, "a fee in words is refused");
    // Every online channel of the procedure (some have several).
    let online: Vec<i64> = service_channels::table
        .inner_join(services::table)
        .filter(services::code.eq(&code))
        .filter(service_channels::channel.eq("online"))
        .select(service_channels::id)
        .load(&mut app.db())
        .expect("channels");
    for id in online {
        let (status, location, _) = post(
            &app,
            &root,
            &page,
            &format!("{page}/channels/{id}"),
            &[
                ("processing_time", "5"),
                ("time_unit", "working_days"),
                ("fee_vnd", "0"),
                ("fee_text", "Miễn phí"),
            ],
        )
        .await;
        assert_eq!((status, location), (303, format!("{page}?done=channel")));
    }
    let (_, html) = get(&app, &root, &format!("{page}?done=channel")).await;
    assert!(
        !html.contains("chưa biết phí, lệ phí khi nộp trực tuyến"),
        "the fee is known now"
    );
    assert!(html.contains("Đã lưu thời hạn và phí"));
    let detail: String = audit_log::table
        .filter(audit_log::subject.eq(format!("service:{code}")))
        .select(audit_log::detail)
        .first(&mut app.db())
        .expect("audit");
    assert!(
        detail.starts_with("channel online:") && detail.ends_with("→ time 5 working_days, fee 0"),
        "{detail}"
    );
}
