//! The account defects of the "ground" issue, each as a person or an attacker would meet it:
//! the old address hears of an email change and can undo it; API tokens are named by an opaque
//! id; `next` never leaves the site or breaks; known and unknown identifiers are
//! indistinguishable; only failures count; CSRF tokens belong to the session; the API's `me`
//! is never stored; the profile refuses what the mailer cannot send; the audit search is
//! literal; stored states are closed sets.

use diesel::prelude::*;
use portal::db::schema::{api_tokens, users};
use sha2::{Digest, Sha256};

use crate::accounts::{
    PASSWORD, body_as, csrf_of, form_token, last_email, link_in, post, registered_citizen,
    submit_as,
};
use crate::common::{client, fresh_database, spawn_app, spawn_with, test_settings};

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn an_email_change_tells_the_old_address_which_can_undo_it() {
    let app = spawn_app().await;
    registered_citizen(&app, "old@example.vn", "001195012360").await;
    let csrf = form_token(&app, "/account").await;
    let res = post(
        &app,
        "/account",
        &[
            ("_csrf", &csrf),
            ("email", "new@example.vn"),
            ("phone", "0912345678"),
            ("address", "12 Hàng Bạc"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "post/redirect/get");
    assert_eq!(location(&res), "/account?saved=verify");
    assert!(
        app.get_text("/account?saved=verify")
            .await
            .1
            .contains("email mới")
    );
    // Nothing is said to the old address until the change happens.
    let (subject, _) = last_email(&app, "old@example.vn").expect("the verification email");
    assert!(!subject.contains("thay đổi"), "{subject}");

    let (_, text) = last_email(&app, "new@example.vn").expect("verification to the new address");
    let (status, _) = app.get_text(&link_in(&text, "/verify-email")).await;
    assert_eq!(status, 200);
    // The change and the notice to the old address are one transaction.
    let (subject, text) = last_email(&app, "old@example.vn").expect("notice to the old address");
    assert!(subject.contains("thay đổi"), "{subject}");
    assert!(text.contains("new@example.vn"));
    let revert = link_in(&text, "/account/email/revert");

    // Opening the link changes nothing (mail scanners open links); the button does.
    let stranger = client();
    let page = body_as(&app, &stranger, &revert).await;
    let email_now = |app: &crate::common::TestApp| -> String {
        users::table
            .filter(users::cccd.eq("001195012360"))
            .select(users::email)
            .first(&mut app.db())
            .expect("user")
    };
    assert_eq!(email_now(&app), "new@example.vn");
    let token = revert.split("token=").nth(1).expect("token");
    let res = submit_as(
        &app,
        &stranger,
        &revert,
        "/account/email/revert",
        &[("token", token)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303, "{page}");
    assert_eq!(email_now(&app), "old@example.vn");
    // Every session of the account ended, and the old address can set a new password.
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
    let (_, text) = last_email(&app, "old@example.vn").expect("reset link");
    assert!(text.contains("/password/reset?token="));
    // The link works once.
    let res = submit_as(
        &app,
        &stranger,
        "/login",
        "/account/email/revert",
        &[("token", token)],
    )
    .await;
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn api_tokens_are_named_by_an_opaque_id_never_by_their_hash() {
    let app = spawn_app().await;
    registered_citizen(&app, "tok@example.vn", "001195012361").await;
    let csrf = form_token(&app, "/account/api-tokens").await;
    let res = post(
        &app,
        "/account/api-tokens",
        &[("_csrf", &csrf), ("name", "sổ sách")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get_text("/account/api-tokens").await;
    let token = page
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the new token, shown once")
        .to_string();
    let stored: String = api_tokens::table
        .select(api_tokens::token_hash)
        .first(&mut app.db())
        .expect("row");
    let hex: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored, hex);
    assert!(!page.contains(&stored), "the stored hash is on the page");
    let (_, again) = app.get_text("/account/api-tokens").await;
    assert!(!again.contains(&token), "the token is shown only once");
    assert!(!again.contains(&stored));
}

#[tokio::test]
async fn next_never_leaves_the_site_and_never_breaks_a_login() {
    let app = spawn_app().await;
    for next in [
        "%2F%09%2Fevil.example",
        "/%09/evil.example",
        "/%00",
        "/%0B",
        "/%1B",
        "/%7F",
        "//evil.example",
        "/%5Cevil.example",
    ] {
        let res = app.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(res.status().as_u16(), 303, "{next}");
        assert_eq!(location(&res), "/", "{next}");
    }
    let res = app.get("/lang/en?next=/services%3Fq%3Dkhai%20sinh").await;
    assert_eq!(location(&res), "/services?q=khai%20sinh");

    registered_citizen(&app, "next@example.vn", "001195012362").await;
    for next in ["/\t/evil.example", "/\u{0}", "/\u{b}", "/\u{1b}", "/\u{7f}"] {
        let http = client();
        let fields = [
            ("login", "next@example.vn"),
            ("password", PASSWORD),
            ("next", next),
        ];
        let res = submit_as(&app, &http, "/login", "/login", &fields).await;
        assert_eq!(res.status().as_u16(), 303, "{next:?}");
        assert_eq!(location(&res), "/account", "{next:?}");
        let account = http
            .get(format!("{}/account", app.address))
            .send()
            .await
            .expect("get");
        assert_eq!(account.status().as_u16(), 200, "a session was made");
    }
}

/// Five wrong passwords, then a sixth attempt: a registered email or CCCD and an unknown one
/// get the same statuses and the same page.
#[tokio::test]
async fn unknown_identifiers_answer_exactly_like_registered_ones() {
    let app = spawn_app().await;
    registered_citizen(&app, "real@example.vn", "001195012363").await;
    let run = |login: &'static str| {
        let app = &app;
        async move {
            let http = client();
            let mut statuses = Vec::new();
            let mut last = String::new();
            for _ in 0..7 {
                let fields = [("login", login), ("password", "không phải mật khẩu")];
                let res = submit_as(app, &http, "/login", "/login", &fields).await;
                statuses.push(res.status().as_u16());
                last = res.text().await.expect("body").replace(login, "IDENTIFIER");
            }
            // The CSRF token differs per visitor; the rest of the page must not.
            let token = csrf_of(&last);
            (statuses, last.replace(&token, "TOKEN"))
        }
    };
    let (known, known_page) = run("real@example.vn").await;
    let (unknown, unknown_page) = run("ghost@example.vn").await;
    assert_eq!(known, vec![401, 401, 401, 401, 401, 403, 403]);
    assert_eq!(known, unknown);
    assert_eq!(known_page, unknown_page);
    let (known, _) = run("001 195 012 363").await;
    let (unknown, _) = run("001 195 099 999").await;
    assert_eq!(
        known,
        vec![403; 7],
        "the account is locked whichever way it is named"
    );
    assert_eq!(unknown, vec![401, 401, 401, 401, 401, 403, 403]);
}

/// A busy office behind one address: many successful logins never lock anyone out.
#[tokio::test]
async fn successful_logins_never_count_against_a_limit() {
    let mut settings = test_settings(fresh_database());
    settings.login_limit_per_ip = 3;
    settings.login_limit_per_account = 3;
    let app = spawn_with(settings).await;
    registered_citizen(&app, "busy@example.vn", "001195012364").await;
    for i in 0..15 {
        let fields = [("login", "busy@example.vn"), ("password", PASSWORD)];
        let res = submit_as(&app, &client(), "/login", "/login", &fields).await;
        assert_eq!(res.status().as_u16(), 303, "login {i}");
    }
}

#[tokio::test]
async fn the_csrf_token_belongs_to_the_session_and_changes_at_login() {
    let app = spawn_app().await;
    let before = form_token(&app, "/login").await;
    registered_citizen(&app, "csrf@example.vn", "001195012365").await;
    let after = form_token(&app, "/account").await;
    assert_ne!(before, after, "a new token at login");
    // The token from before the login no longer works.
    let res = post(
        &app,
        "/account",
        &[
            ("_csrf", &before),
            ("email", "csrf@example.vn"),
            ("phone", "0912345678"),
            ("address", "x"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 403);
    // A planted csrf cookie with the same form value does not pass for a signed-in visitor.
    let sid = app
        .client
        .get(format!("{}/account", app.address))
        .send()
        .await
        .expect("get")
        .status();
    assert_eq!(sid.as_u16(), 200);
    let session = app_session_cookie(&app).await;
    let planted = "A".repeat(43);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/logout-everywhere", app.address))
        .header("Cookie", format!("sid={session}; csrf={planted}"))
        .header("Origin", app.address.clone())
        .form(&[("_csrf", planted.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(
        app.get("/account").await.status().as_u16(),
        200,
        "still signed in"
    );
}

/// The session cookie of the app's client: log in once more with a client that shows cookies.
async fn app_session_cookie(app: &crate::common::TestApp) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("client");
    let fields = [("login", "csrf@example.vn"), ("password", PASSWORD)];
    let res = submit_as(app, &http, "/login", "/login", &fields).await;
    res.cookies()
        .find(|c| c.name() == "sid")
        .map(|c| c.value().to_string())
        .expect("session cookie")
}

#[tokio::test]
async fn api_me_is_never_stored_and_the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    registered_citizen(&app, "me@example.vn", "001195012366").await;
    let csrf = form_token(&app, "/account/api-tokens").await;
    post(
        &app,
        "/account/api-tokens",
        &[("_csrf", &csrf), ("name", "x")],
    )
    .await;
    let (_, page) = app.get_text("/account/api-tokens").await;
    let token = page
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("token")
        .to_string();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = client()
            .get(format!("{}/api/v1/me", app.address))
            .header("Authorization", format!("{scheme} {token}"))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status().as_u16(), 200, "{scheme}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{scheme}");
    }
}

#[tokio::test]
async fn the_profile_refuses_control_characters_and_addresses_the_mailer_cannot_send() {
    let app = spawn_app().await;
    registered_citizen(&app, "prof@example.vn", "001195012367").await;
    let csrf = form_token(&app, "/account").await;
    let res = post(
        &app,
        "/account",
        &[
            ("_csrf", &csrf),
            ("email", "tên@example.vn"),
            ("phone", "0912345678"),
            ("address", "12 Hàng\tBạc\u{1b}[2J"),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.expect("body");
    assert!(html.contains("Nhập địa chỉ email đúng dạng"), "{html}");
    assert!(html.contains("ký tự điều khiển"));
    let stored: String = users::table
        .filter(users::cccd.eq("001195012367"))
        .select(users::address)
        .first(&mut app.db())
        .expect("user");
    assert_eq!(stored, "12 Hàng Bạc", "nothing was saved");
}

#[tokio::test]
async fn the_audit_search_matches_percent_and_underscore_literally() {
    let app = spawn_app().await;
    registered_citizen(&app, "audit_one@example.vn", "001195012368").await;
    let mut conn = app.db();
    let all = portal::db::audit::search(&mut conn, None, None, 1000).expect("all");
    assert!(all.len() >= 3);
    let percent = portal::db::audit::search(&mut conn, None, Some("%"), 1000).expect("search");
    assert!(percent.is_empty(), "no subject contains %: {percent:?}");
    let underscore = portal::db::audit::search(&mut conn, None, Some("a_d"), 1000).expect("search");
    assert!(
        underscore.is_empty(),
        "_ is not a wildcard (it would match \"aud\"): {underscore:?}"
    );
    let literal =
        portal::db::audit::search(&mut conn, None, Some("audit_one"), 1000).expect("search");
    assert!(!literal.is_empty());
}

#[tokio::test]
async fn stored_states_are_closed_sets_in_the_database() {
    let app = spawn_app().await;
    let mut conn = app.db();
    let now = chrono::Utc::now().naive_utc();
    let bad_role = diesel::insert_into(users::table)
        .values((
            users::email.eq("x@example.vn"),
            users::full_name.eq("X"),
            users::phone.eq(""),
            users::address.eq(""),
            users::role.eq("superuser"),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(&mut conn);
    assert!(bad_role.is_err(), "a CHECK refuses an unknown role");
    let bad_event = diesel::insert_into(portal::db::schema::audit_log::table)
        .values((
            portal::db::schema::audit_log::at.eq(now),
            portal::db::schema::audit_log::event.eq("login_maybe"),
            portal::db::schema::audit_log::subject.eq(""),
            portal::db::schema::audit_log::ip.eq(""),
            portal::db::schema::audit_log::detail.eq(""),
        ))
        .execute(&mut conn);
    assert!(bad_event.is_err(), "a CHECK refuses an unknown audit event");
}
