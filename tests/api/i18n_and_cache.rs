//! Language negotiation and the public page cache (ETags, invalidation on catalogue change).

use std::time::Duration;

use crate::common::{client, spawn_app};

#[tokio::test]
async fn vietnamese_by_default_english_by_header_or_switch() {
    let app = spawn_app().await;
    let (_, html) = app.get_text("/").await;
    assert!(html.contains("Bạn cần làm thủ tục gì?"));

    let res = client()
        .get(format!("{}/", app.address))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .expect("req");
    assert_eq!(res.headers()["content-language"], "en");
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("What do you need to do?")
    );

    // The switch sets a cookie and goes back where the visitor was; it beats Accept-Language.
    let res = app.get("/lang/en?next=/services%3Fq%3Dkhai%2Bsinh").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/services?q=khai+sinh");
    let (_, html) = app.get_text("/services/1.001193").await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("End-to-end online"));
    let (_, html) = app.get_text("/services/0.0").await;
    assert!(html.contains("We could not find the page or procedure you asked for."));
    let res = app
        .client
        .get(format!("{}/", app.address))
        .header("Accept-Language", "vi")
        .send()
        .await
        .expect("req");
    assert_eq!(res.headers()["content-language"], "en", "the cookie wins");

    // Never an open redirect.
    let res = app.get("/lang/vi?next=//evil.example/x").await;
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(app.get("/lang/fr").await.status().as_u16(), 404);
}

#[tokio::test]
async fn pages_carry_etags_and_revalidate() {
    let app = spawn_app().await;
    let res = app.get("/services/1.001193").await;
    let etag = res.headers()["etag"].to_str().expect("etag").to_string();
    let res = app
        .client
        .get(format!("{}/services/1.001193", app.address))
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("req");
    assert_eq!(res.status().as_u16(), 304);
    // The English page is another representation with its own tag.
    let en = client()
        .get(format!("{}/services/1.001193", app.address))
        .header("Accept-Language", "en")
        .send()
        .await
        .expect("req");
    assert_ne!(en.headers()["etag"], etag.as_str());
    // Security headers on every page.
    let h = app.get("/").await;
    assert!(
        h.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn a_catalogue_change_reaches_pages_and_search() {
    let app = spawn_app().await;
    let res = app.get("/services/1.001193").await;
    let old_etag = res.headers()["etag"].to_str().expect("etag").to_string();
    let (_, before) = app.get_json("/api/v1/services?level=2&per_page=10").await;

    // An administrator raises a level-2 service to level 4 (in another instance, say).
    let code = before["items"][0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    let mut conn = app.db();
    assert!(portal::db::catalogue::set_online_level(&mut conn, &code, 4).expect("update"));

    let mut seen = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, d) = app.get_json(&format!("/api/v1/services?q={code}")).await;
        if d["items"][0]["online_level"] == 4 {
            seen = true;
            break;
        }
    }
    assert!(seen, "the catalogue picked up the change");
    let (_, html) = app.get_text(&format!("/services/{code}")).await;
    assert!(html.contains("Mức 4 · Toàn trình"));
    let res = app
        .client
        .get(format!("{}/services/1.001193", app.address))
        .header("If-None-Match", &old_etag)
        .send()
        .await
        .expect("req");
    assert_eq!(
        res.status().as_u16(),
        200,
        "old ETags no longer match after a change"
    );
    let (_, after) = app.get_json("/api/v1/services?level=2&per_page=10").await;
    assert_eq!(
        after["total"].as_u64().expect("t") + 1,
        before["total"].as_u64().expect("t")
    );
}
