//! Citizens' accounts over HTTP: register → verify → login → profile → logout, password reset,
//! lockout and rate limits, CSRF, sessions.

use diesel::prelude::*;
use portal::db::schema::{login_failures, outbox, sessions, users};

use crate::common::{TestApp, client, spawn_app};

pub fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a CSRF field in the form")
        .to_string()
}

pub async fn form_token(app: &TestApp, path: &str) -> String {
    let (status, html) = app.get_text(path).await;
    assert_eq!(status, 200, "{path}");
    csrf_of(&html)
}

pub async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.address, path))
        .header("Origin", app.address.clone())
        .form(fields)
        .send()
        .await
        .expect("post")
}

/// The last email queued for `to`, as (subject, text).
pub fn last_email(app: &TestApp, to: &str) -> Option<(String, String)> {
    let mut conn = app.db();
    outbox::table
        .filter(outbox::to_address.eq(to))
        .order(outbox::id.desc())
        .select((outbox::subject, outbox::text_body))
        .first(&mut conn)
        .optional()
        .expect("outbox query")
}

pub fn link_in(text: &str, path: &str) -> String {
    let start = text.find(path).expect("a link in the email");
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The body of `path` as fetched by `http` (another device than `app.client`).
pub async fn body_as(app: &TestApp, http: &reqwest::Client, path: &str) -> String {
    let res = http
        .get(format!("{}{}", app.address, path))
        .send()
        .await
        .expect("get");
    res.text().await.expect("body")
}

/// With `http`, opens `page` (for its CSRF cookie and token) and posts `fields` to `action`.
pub async fn submit_as(
    app: &TestApp,
    http: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = csrf_of(&body_as(app, http, page).await);
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    http.post(format!("{}{}", app.address, action))
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// Creates an API token on the account page of the client's (logged-in) person; returns it,
/// read from the page that shows it once.
pub async fn new_api_token(app: &TestApp, name: &str) -> String {
    let csrf = form_token(app, "/account/api-tokens").await;
    let res = post(
        app,
        "/account/api-tokens",
        &[("_csrf", &csrf), ("name", name)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get_text("/account/api-tokens").await;
    page.split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the new token, shown once")
        .to_string()
}

pub const PASSWORD: &str = "trời xanh mây trắng 2026";

pub fn registration<'a>(email: &'a str, cccd: &'a str, csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("full_name", "Trần Thị Bình"),
        ("email", email),
        ("phone", "0912345678"),
        ("date_of_birth", "1995-03-04"),
        ("cccd", cccd),
        ("province_code", "01"),
        ("ward_code", "00004"),
        ("address", "12 Hàng Bạc"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ]
}

/// Registers, verifies and logs in a citizen; returns the app's client logged in.
pub async fn registered_citizen(app: &TestApp, email: &str, cccd: &str) {
    let csrf = form_token(app, "/register").await;
    let res = post(app, "/register", &registration(email, cccd, &csrf)).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/register/sent");
    let (_, text) = last_email(app, email).expect("verification email");
    let path = link_in(&text, "/verify-email");
    let (status, html) = app.get_text(&path).await;
    assert_eq!(status, 200, "{html}");
    let csrf = form_token(app, "/login").await;
    let res = post(
        app,
        "/login",
        &[("_csrf", &csrf), ("login", email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "login");
}

#[tokio::test]
async fn register_verify_login_profile_logout() {
    let app = spawn_app().await;
    let csrf = form_token(&app, "/register").await;
    let res = post(
        &app,
        "/register",
        &registration("binh@example.vn", "001195012345", &csrf),
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "post/redirect/get");
    let (status, html) = app
        .get_text(res.headers()["location"].to_str().expect("location"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Kiểm tra hộp thư của bạn"));

    // Not verified yet: no login.
    let csrf = form_token(&app, "/login").await;
    let res = post(
        &app,
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "binh@example.vn"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 403);

    let (subject, text) = last_email(&app, "binh@example.vn").expect("verification email");
    assert!(!subject.is_empty());
    let path = link_in(&text, "/verify-email");
    assert_eq!(app.get_text(&path).await.0, 200);
    assert_eq!(
        app.get_text(&path).await.0,
        400,
        "a verification link works once"
    );

    // Login by CCCD number, back to where the person was going.
    let csrf = form_token(&app, "/login").await;
    let res = post(
        &app,
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "001 195 012 345"),
            ("password", PASSWORD),
            ("next", "/services?q=khai+sinh"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/services?q=khai+sinh");
    let sid = res
        .cookies()
        .find(|c| c.name() == "sid")
        .expect("session cookie");
    assert!(sid.http_only());
    assert!(sid.same_site_lax());

    let (status, html) = app.get_text("/account").await;
    assert_eq!(status, 200);
    assert!(html.contains("Trần Thị Bình") && html.contains("001******345"));
    // Pages show who is logged in, and are not served from the shared cache.
    let res = app.get("/").await;
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert!(res.text().await.expect("body").contains("Trần Thị Bình"));

    // Contact change keeps what was typed when one field is wrong.
    let csrf = form_token(&app, "/account").await;
    let res = post(
        &app,
        "/account",
        &[
            ("_csrf", &csrf),
            ("email", "binh@example.vn"),
            ("phone", "12"),
            ("address", "34 Hàng Đào"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.expect("body");
    assert!(html.contains("34 Hàng Đào") && html.contains("Nhập số điện thoại 10 chữ số"));

    let csrf = form_token(&app, "/account").await;
    let res = post(&app, "/logout", &[("_csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    let res = app.get("/account").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Faccount");
}

#[tokio::test]
async fn registration_errors_are_specific_and_keep_the_input() {
    let app = spawn_app().await;
    let csrf = form_token(&app, "/register").await;
    let mut fields = registration("not-an-email", "002195012345", &csrf);
    fields.retain(|(k, _)| *k != "password" && *k != "password_confirm");
    fields.push(("password", "123456789"));
    fields.push(("password_confirm", "123456789"));
    let res = post(&app, "/register", &fields).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.expect("body");
    assert!(html.contains("Nhập địa chỉ email đúng dạng"));
    assert!(html.contains("Ba chữ số đầu của số CCCD không phải mã tỉnh"));
    assert!(html.contains("Mật khẩu cần ít nhất 10 ký tự") || html.contains("quá phổ biến"));
    assert!(
        html.contains("value=\"Trần Thị Bình\""),
        "what was typed is kept"
    );
    assert!(!html.contains("123456789\""), "passwords are never echoed");
    let mut conn = app.db();
    let n: i64 = users::table.count().get_result(&mut conn).expect("count");
    assert_eq!(n, 0, "nothing saved");
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    let _ = form_token(&app, "/login").await;
    let res = post(
        &app,
        "/login",
        &[("_csrf", "forged"), ("login", "a@b.vn"), ("password", "x")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("Biểu mẫu đã hết hạn")
    );
    // The right token from another site is refused too.
    let csrf = form_token(&app, "/login").await;
    let res = app
        .client
        .post(format!("{}/login", app.address))
        .header("Origin", "https://evil.example")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("login", "a@b.vn"),
            ("password", "x"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
    // A client without the cookie at all.
    let res = client()
        .post(format!("{}/register", app.address))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_email_the_owner() {
    let app = spawn_app().await;
    registered_citizen(&app, "an@example.vn", "001195012346").await;
    let other = client();
    let wrong = [("login", "an@example.vn"), ("password", "sai mật khẩu rồi")];
    for i in 0..5 {
        let res = submit_as(&app, &other, "/login", "/login", &wrong).await;
        assert_eq!(res.status().as_u16(), 401, "attempt {i}");
    }
    let right = [("login", "an@example.vn"), ("password", PASSWORD)];
    let res = submit_as(&app, &other, "/login", "/login", &right).await;
    assert_eq!(
        res.status().as_u16(),
        403,
        "locked even with the right password"
    );
    assert!(res.text().await.expect("body").contains("tạm khoá"));
    let (subject, _) = last_email(&app, "an@example.vn").expect("lock email");
    assert!(!subject.is_empty());
    let mut conn = app.db();
    let id: i64 = users::table
        .filter(users::email.eq("an@example.vn"))
        .select(users::id)
        .first(&mut conn)
        .expect("user");
    let locked: Option<chrono::NaiveDateTime> = login_failures::table
        .find(format!("user:{id}"))
        .select(login_failures::locked_until)
        .first(&mut conn)
        .expect("failure record");
    assert!(locked.is_some());
}

/// Failed logins from one address are limited (each to a different identifier here, so no
/// lock steps in first); the limit answers 429 with Retry-After.
#[tokio::test]
async fn login_failures_from_one_address_are_rate_limited_with_retry_after() {
    let mut settings = crate::common::test_settings(crate::common::fresh_database());
    settings.login_limit_per_ip = 8;
    let app = crate::common::spawn_with(settings).await;
    let csrf = form_token(&app, "/login").await;
    let mut last = 0;
    for i in 0..12 {
        let res = post(
            &app,
            "/login",
            &[
                ("_csrf", &csrf),
                ("login", &format!("nobody{i}@example.vn")),
                ("password", "whatever it is"),
            ],
        )
        .await;
        last = res.status().as_u16();
        if last == 429 {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .expect("header")
                .parse()
                .expect("seconds");
            assert!(retry > 0 && retry <= 15 * 60);
            assert!(
                res.text()
                    .await
                    .expect("body")
                    .contains("Bạn đã thử quá nhiều lần")
            );
            break;
        }
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn password_reset_ends_every_session() {
    let app = spawn_app().await;
    registered_citizen(&app, "cuong@example.vn", "001195012347").await;
    let csrf = form_token(&app, "/password/forgot").await;
    let res = post(
        &app,
        "/password/forgot",
        &[("_csrf", &csrf), ("email", "cuong@example.vn")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let known_goes_to = res.headers()["location"].clone();
    // Unknown addresses get the same answer.
    let res = post(
        &app,
        "/password/forgot",
        &[("_csrf", &csrf), ("email", "nobody@example.vn")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], known_goes_to);
    let (_, text) = last_email(&app, "cuong@example.vn").expect("reset email");
    let path = link_in(&text, "/password/reset");
    let token = path.split("token=").nth(1).expect("token").to_string();
    let (status, html) = app.get_text(&path).await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);
    let new_password = "một mật khẩu mới rất dài";
    let res = post(
        &app,
        "/password/reset",
        &[
            ("_csrf", &csrf),
            ("token", &token),
            ("password", new_password),
            ("password_confirm", new_password),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        app.get("/account").await.status().as_u16(),
        303,
        "the old session ended"
    );
    let res = post(
        &app,
        "/password/reset",
        &[
            ("_csrf", &csrf),
            ("token", &token),
            ("password", new_password),
            ("password_confirm", new_password),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 400, "the link works once");
    let csrf = form_token(&app, "/login").await;
    let res = post(
        &app,
        "/login",
        &[
            ("_csrf", &csrf),
            ("login", "cuong@example.vn"),
            ("password", new_password),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
}

#[tokio::test]
async fn idle_sessions_expire_and_logout_everywhere_ends_all() {
    let app = spawn_app().await;
    registered_citizen(&app, "dung@example.vn", "001195012348").await;
    // A second device.
    let phone = client();
    let fields = [("login", "dung@example.vn"), ("password", PASSWORD)];
    let res = submit_as(&app, &phone, "/login", "/login", &fields).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        phone
            .get(format!("{}/account", app.address))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        200
    );

    let csrf = form_token(&app, "/account").await;
    let res = post(&app, "/logout-everywhere", &[("_csrf", &csrf)]).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        phone
            .get(format!("{}/account", app.address))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        303
    );

    // Idle timeout: a session last seen long ago is over.
    registered_citizen(&app, "em@example.vn", "001195012349").await;
    assert_eq!(app.get("/account").await.status().as_u16(), 200);
    let mut conn = app.db();
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::hours(3);
    diesel::update(sessions::table)
        .set(sessions::last_seen_at.eq(long_ago))
        .execute(&mut conn)
        .expect("age sessions");
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
}

#[tokio::test]
async fn api_clients_use_bearer_tokens_not_cookies() {
    let app = spawn_app().await;
    registered_citizen(&app, "api@example.vn", "001195012351").await;
    // The session cookie alone does not open the API.
    assert_eq!(app.get("/api/v1/me").await.status().as_u16(), 401);
    let csrf = form_token(&app, "/account/api-tokens").await;
    let res = post(
        &app,
        "/account/api-tokens",
        &[("_csrf", &csrf), ("name", "kế toán")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "post/redirect/get");
    let (_, html) = app.get_text("/account/api-tokens").await;
    let token = html
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("token shown once")
        .to_string();
    let me = client()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(me.status().as_u16(), 200);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["email"], "api@example.vn");
    let bad = client()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth("nope")
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status().as_u16(), 401);
    assert_eq!(bad.headers()["www-authenticate"], "Bearer");
    // Revoked tokens stop working.
    let (_, page) = app.get_text("/account/api-tokens").await;
    let id = page
        .split("name=\"id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("token id")
        .to_string();
    let res = post(
        &app,
        "/account/api-tokens/revoke",
        &[("_csrf", &csrf_of(&page)), ("id", &id)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let me = client()
        .get(format!("{}/api/v1/me", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(me.status().as_u16(), 401);
}

#[tokio::test]
async fn concurrent_attempts_are_counted_without_server_errors() {
    let app = spawn_app().await;
    let csrf = form_token(&app, "/password/forgot").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (http, url, csrf) = (
            app.client.clone(),
            format!("{}/password/forgot", app.address),
            csrf.clone(),
        );
        let origin = app.address.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .header("Origin", origin)
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("email", format!("someone{i}@example.vn").as_str()),
                ])
                .send()
                .await
                .expect("post")
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 429),
        "{statuses:?}"
    );
    // Exactly the per-address limit got through: the counter lost no hit.
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        10,
        "{statuses:?}"
    );
}
