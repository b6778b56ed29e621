//! Staff and administrators: two-factor login (enrolment at first login, codes, recovery codes),
//! the administrator bootstrap, demo mode, and the authorisation matrix: every route family ×
//! every role gets exactly the access it should.

use chrono::Utc;
use portal::db::users;
use portal::domain::account::Role;
use portal::security::{password, totp};

use crate::accounts::{body_as, csrf_of, form_token, post, registered_citizen, submit_as};
use crate::common::{TestApp, client, fresh_database, spawn_app, spawn_with, test_settings};

pub const STAFF_PASSWORD: &str = "cán bộ một cửa 2026!";

pub fn create_staff(app: &TestApp, email: &str, role: Role) -> i64 {
    let mut conn = app.db();
    let now = Utc::now().naive_utc();
    let id = users::insert_staff(&mut conn, email, "Cán bộ Thử", role, now).expect("staff");
    let hash = password::hash_now(STAFF_PASSWORD).expect("hash");
    users::set_password(&mut conn, id, &hash, now).expect("password");
    id
}

async fn password_step(app: &TestApp, http: &reqwest::Client, email: &str) {
    let fields = [("login", email), ("password", STAFF_PASSWORD)];
    let res = submit_as(app, http, "/login", "/login", &fields).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login/2fa",
        "staff go on to the second factor"
    );
}

/// Logs a new staff member in through first-login enrolment; returns the TOTP secret and codes.
pub async fn enrol(app: &TestApp, http: &reqwest::Client, email: &str) -> (String, Vec<String>) {
    password_step(app, http, email).await;
    let page = body_as(app, http, "/login/2fa").await;
    let secret: String = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the secret is shown")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let csrf = csrf_of(&page);
    let res = http
        .post(format!("{}/login/2fa/enrol", app.address))
        .form(&[("_csrf", csrf.as_str()), ("code", "000000")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 422, "a wrong code does not enrol");
    let code = totp::code_at(&secret, Utc::now().timestamp()).expect("code");
    let res = http
        .post(format!("{}/login/2fa/enrol", app.address))
        .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 303, "post/redirect/get");
    let html = body_as(app, http, "/login/2fa/codes").await;
    // Shown once: a second look has them no more.
    assert!(
        !body_as(app, http, "/login/2fa/codes")
            .await
            .contains("<li><code>")
    );
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_string)
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    (secret, codes)
}

async fn logout(app: &TestApp, http: &reqwest::Client) {
    let res = submit_as(app, http, "/account", "/logout", &[]).await;
    assert_eq!(res.status().as_u16(), 303);
}

async fn second_factor(app: &TestApp, http: &reqwest::Client, code: &str) -> u16 {
    let res = submit_as(app, http, "/login/2fa", "/login/2fa", &[("code", code)]).await;
    res.status().as_u16()
}

async fn status(app: &TestApp, http: &reqwest::Client, path: &str) -> u16 {
    http.get(format!("{}{}", app.address, path))
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

#[tokio::test]
async fn staff_enrol_at_first_login_then_need_a_fresh_code_or_a_recovery_code() {
    let app = spawn_app().await;
    create_staff(&app, "officer@agency.vn", Role::Officer);
    let http = client();
    password_step(&app, &http, "officer@agency.vn").await;
    assert_eq!(
        status(&app, &http, "/account").await,
        303,
        "no access before the second factor"
    );
    let http = client();
    let (secret, codes) = enrol(&app, &http, "officer@agency.vn").await;
    assert_eq!(status(&app, &http, "/account").await, 200);
    logout(&app, &http).await;

    // The code just used cannot be replayed; the next one is accepted.
    password_step(&app, &http, "officer@agency.vn").await;
    let used = totp::code_at(&secret, Utc::now().timestamp()).expect("code");
    assert_eq!(second_factor(&app, &http, &used).await, 401);
    let next = totp::code_at(&secret, Utc::now().timestamp() + 30).expect("code");
    assert_eq!(second_factor(&app, &http, &next).await, 303);
    assert_eq!(status(&app, &http, "/account").await, 200);
    logout(&app, &http).await;

    // A recovery code works once.
    password_step(&app, &http, "officer@agency.vn").await;
    assert_eq!(
        second_factor(&app, &http, &codes[0].to_uppercase()).await,
        303
    );
    logout(&app, &http).await;
    password_step(&app, &http, "officer@agency.vn").await;
    assert_eq!(second_factor(&app, &http, &codes[0]).await, 401);
}

#[tokio::test]
async fn every_route_family_gives_each_role_exactly_its_access() {
    let app = spawn_app().await;
    let anonymous = client();
    registered_citizen(&app, "citizen@example.vn", "001195012350").await;
    let citizen = app.client.clone();
    let mut staff = Vec::new();
    for (email, role) in [
        ("officer@agency.vn", Role::Officer),
        ("lead@agency.vn", Role::Lead),
        ("admin@agency.vn", Role::Admin),
    ] {
        create_staff(&app, email, role);
        let http = client();
        enrol(&app, &http, email).await;
        staff.push((role, http));
    }
    let (officer, lead, admin) = (&staff[0].1, &staff[1].1, &staff[2].1);
    // route → expected status for anonymous, citizen, officer, lead, admin
    let matrix: [(&str, [u16; 5]); 18] = [
        ("/", [200, 200, 200, 200, 200]),
        ("/services?q=khai+sinh", [200, 200, 200, 200, 200]),
        ("/services/1.001193", [200, 200, 200, 200, 200]),
        ("/api/v1/services?q=ho+chieu", [200, 200, 200, 200, 200]),
        ("/account", [303, 200, 200, 200, 200]),
        ("/admin", [303, 403, 403, 403, 200]),
        ("/admin/audit", [303, 403, 403, 403, 200]),
        ("/admin/outbox", [303, 403, 403, 403, 200]),
        ("/demo/mailbox", [404, 404, 404, 404, 404]),
        // The workspace: staff only (these two belong to no office yet: an empty queue).
        ("/staff", [303, 403, 200, 200, 403]),
        (
            "/staff/dossiers/00004.00.00.H01-261130-0001",
            [303, 403, 404, 404, 403],
        ),
        ("/staff/consultations", [303, 403, 200, 200, 403]),
        (
            "/staff/dossiers/00004.00.00.H01-261130-0001/result",
            [303, 403, 404, 404, 403],
        ),
        // A result: only its applicant downloads it; anyone verifies it.
        (
            "/dossiers/00004.00.00.H01-261130-0001/result",
            [303, 404, 404, 404, 404],
        ),
        ("/verify", [200, 200, 200, 200, 200]),
        ("/verify?code=ABCDE-FGHJK", [404, 404, 404, 404, 404]),
        // Applying: citizens only; another person's draft or dossier does not exist for them.
        ("/my", [303, 200, 403, 403, 403]),
        ("/apply/1.001193", [303, 200, 403, 403, 403]),
    ];
    for (path, expected) in matrix {
        let got = [
            status(&app, &anonymous, path).await,
            status(&app, &citizen, path).await,
            status(&app, officer, path).await,
            status(&app, lead, path).await,
            status(&app, admin, path).await,
        ];
        assert_eq!(
            got, expected,
            "{path}: anonymous, citizen, officer, lead, admin"
        );
    }
    // The administrator finds the security events.
    let html = body_as(&app, admin, "/admin/audit?event=2fa_enrolled").await;
    assert_eq!(
        html.matches("class=\"audit-row\"").count(),
        3,
        "three enrolments"
    );
    let html = body_as(&app, admin, "/admin/audit?q=citizen%40example.vn").await;
    assert!(
        html.contains("register")
            && html.contains("email_verified")
            && !html.contains("officer@agency.vn")
    );
    let html = body_as(&app, admin, "/admin/outbox").await;
    assert!(
        html.contains("citizen@example.vn"),
        "the verification email is listed"
    );
}

#[tokio::test]
async fn the_first_administrator_is_bootstrapped_with_a_one_time_link() {
    let app = spawn_app().await;
    let mut conn = app.db();
    let link = portal::demo::create_admin(&mut conn, "root@agency.vn", "Quản trị", &app.address)
        .expect("create");
    assert!(
        portal::demo::create_admin(&mut conn, "root@agency.vn", "Again", &app.address).is_err(),
        "once"
    );
    let path = link.trim_start_matches(&app.address).to_string();
    let (status_code, html) = app.get_text(&path).await;
    assert_eq!(status_code, 200);
    let token = path.split("token=").nth(1).expect("token");
    let csrf = csrf_of(&html);
    let res = post(
        &app,
        "/password/reset",
        &[
            ("_csrf", &csrf),
            ("token", token),
            ("password", STAFF_PASSWORD),
            ("password_confirm", STAFF_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.get_text(&path).await.0, 400, "the link works once");
    let http = client();
    enrol(&app, &http, "root@agency.vn").await;
    assert_eq!(status(&app, &http, "/admin").await, 200);
}

#[tokio::test]
async fn demo_mode_lists_an_account_for_every_role() {
    let mut settings = test_settings(fresh_database());
    settings.demo = true;
    settings.demo_on_postgres = true; // a disposable test database
    let app = spawn_with(settings).await;
    let (_, html) = app.get_text("/login").await;
    for local in ["congdan", "canbo", "truongphong", "quantri"] {
        assert!(html.contains(&format!("{local}@demo.portal.vn")), "{local}");
    }
    // The officer logs in with the shown password and the shown current code.
    let code = html
        .split("canbo@demo.portal.vn")
        .nth(1)
        .and_then(|s| s.split("<td><code>").nth(1))
        .and_then(|s| s.split('<').next())
        .expect("a current code")
        .to_string();
    let csrf = form_token(&app, "/login").await;
    let res = post(
        &app,
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "canbo@demo.portal.vn"),
            ("password", portal::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.headers()["location"], "/login/2fa");
    let page = app.get_text("/login/2fa").await.1;
    let res = post(
        &app,
        "/login/2fa",
        &[("_csrf", &csrf_of(&page)), ("code", &code)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(app.get("/account").await.status().as_u16(), 200);
    assert_eq!(app.get("/demo/mailbox").await.status().as_u16(), 200);
}
