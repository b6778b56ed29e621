//! HTTP protocol behaviour every client relies on: JSON types on every API answer (first,
//! repeated, 304, problem), HEAD wherever GET works, 405 with `Allow`, a deadline on request
//! bodies, security headers, and the page cache never serving a signed-in visitor.

use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::accounts::registered_citizen;
use crate::common::{fresh_database, spawn_app, spawn_with, test_settings};

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn is_json(ct: &str) -> bool {
    ct.starts_with("application/json") || ct.starts_with("application/problem+json")
}

/// Every path of the OpenAPI document, with its parameters filled in, answers a JSON type on
/// the first request, on the repeated one (the cache), and on a 304 revalidation.
#[tokio::test]
async fn every_api_answer_is_typed_json_first_repeated_and_revalidated() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 8, "{paths:?}");
    let mut urls: Vec<String> = Vec::new();
    for path in paths.keys() {
        let filled = path
            .replace("{code}/wards", "01/wards")
            .replace("{code}", "1.001193")
            .replace("{scope}", "offices");
        assert!(!filled.contains('{'), "unfilled parameter in {path}");
        urls.push(filled.clone());
        if path.ends_with("/services") || path.ends_with("/search") {
            urls.push(format!("{filled}?q=dang%20ky%20khai%20sinh"));
            urls.push(format!("{filled}?page=%3Cscript%3Ealert(1)%3C/script%3E"));
            urls.push(format!("{filled}?q=a&q=b")); // a 400 problem
        }
    }
    urls.push("/api/v1/services/0.000000".into()); // a 404 problem
    urls.push("/api/v1/no-such-endpoint".into());
    urls.push("/api/v1/openapi.json".into());
    for url in &urls {
        let mut etag = None;
        for round in ["first", "second"] {
            let res = app.get(url).await;
            let ct = content_type(&res);
            assert!(is_json(&ct), "{round} GET {url}: {} {ct}", res.status());
            etag = res
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
        }
        if let Some(etag) = etag {
            let res = app
                .client
                .get(format!("{}{url}", app.address))
                .header(IF_NONE_MATCH, etag)
                .send()
                .await
                .expect("revalidate");
            assert_eq!(res.status().as_u16(), 304, "{url}");
            assert!(is_json(&content_type(&res)), "304 {url}");
        }
    }
    // The reflected value is JSON data, never markup a browser would render.
    let res = app
        .get("/api/v1/services?page=%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert_eq!(content_type(&res), "application/json");
    assert_eq!(
        res.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
}

#[tokio::test]
async fn head_works_wherever_get_does_and_a_wrong_method_is_405_with_allow() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/services",
        "/services?q=khai%20sinh",
        "/services/1.001193",
        "/login",
        "/healthz",
        "/api/v1/services",
        "/api/v1/services/1.001193",
        "/api/v1/openapi.json",
    ] {
        let get = app.get(path).await;
        let get_type = content_type(&get);
        let get_status = get.status();
        let head = app
            .client
            .head(format!("{}{path}", app.address))
            .send()
            .await
            .expect("HEAD");
        assert_eq!(head.status(), get_status, "HEAD {path}");
        assert_eq!(content_type(&head), get_type, "HEAD {path}");
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {path} has a body"
        );
    }
    for (method, path, allow) in [
        (reqwest::Method::POST, "/services", "GET, HEAD"),
        (reqwest::Method::DELETE, "/login", "GET, POST, HEAD"),
        (reqwest::Method::PUT, "/api/v1/services", "GET, HEAD"),
        (reqwest::Method::GET, "/logout", "POST"),
    ] {
        let res = app
            .client
            .request(method.clone(), format!("{}{path}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status().as_u16(), 405, "{method} {path}");
        let got = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut got: Vec<&str> = got.split(',').map(str::trim).collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "Allow of {method} {path}");
        if path.starts_with("/api/") {
            assert_eq!(content_type(&res), "application/problem+json");
        }
    }
    // An unknown path is still a 404.
    assert_eq!(app.get("/no-such-page").await.status().as_u16(), 404);
}

/// A client that announces a body and stops sending is cut off after the idle deadline,
/// with 408, instead of holding a worker's connection.
#[tokio::test]
async fn a_stalled_request_body_times_out_with_408() {
    let mut settings = test_settings(fresh_database());
    settings.body_idle_timeout_secs = 1;
    let app = spawn_with(settings).await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let started = Instant::now();
    stream
        .write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 100\r\n\r\nlogin=a"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let waited = started.elapsed();
    assert!(read.is_ok(), "the connection was still open after 10 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(waited < Duration::from_secs(5), "took {waited:?}");
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/services/1.001193",
        "/api/v1/services",
        "/no-such-page",
    ] {
        let res = app.get(path).await;
        let policy = res
            .headers()
            .get("permissions-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        for feature in ["camera=()", "geolocation=()", "microphone=()"] {
            assert!(policy.contains(feature), "{path}: {policy}");
        }
    }
}

/// A signed-in person sees their own name on every public page, even after an anonymous
/// visitor filled the shared cache with the same URL.
#[tokio::test]
async fn signed_in_visitors_never_get_the_anonymous_cached_page() {
    let app = spawn_app().await;
    let anonymous = crate::common::client();
    for path in [
        "/",
        "/services",
        "/services?q=khai%20sinh",
        "/services/1.001193",
    ] {
        // Fill the cache as an anonymous visitor.
        let res = anonymous
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status().as_u16(), 200);
    }
    registered_citizen(&app, "cache@example.vn", "001195012349").await;
    for path in [
        "/",
        "/services",
        "/services?q=khai%20sinh",
        "/services/1.001193",
    ] {
        let res = app.get(path).await;
        let cache_control = res
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let html = res.text().await.expect("body");
        assert!(html.contains("Trần Thị Bình"), "{path} shows no name");
        assert!(
            cache_control.contains("no-store"),
            "{path}: {cache_control}"
        );
    }
}
