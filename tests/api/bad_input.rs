//! Hostile and broken input: clear 400s or sane defaults, never a 500; nothing typed is executed.

use crate::catalogue::result_codes;
use crate::common::spawn_app;

#[tokio::test]
async fn unknown_service_code_is_a_404_page_that_offers_search() {
    let app = spawn_app().await;
    let (status, html) = app.get_text("/services/9.999999").await;
    assert_eq!(status, 404);
    assert!(html.contains("Không tìm thấy trang hoặc thủ tục bạn cần."));
    assert!(
        html.contains("role=\"search\""),
        "a search box on the 404 page"
    );
    let (status, html) = app.get_text("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("role=\"search\""));
}

#[tokio::test]
async fn absurd_paging_and_unknown_filters_fall_back_and_say_so() {
    let app = spawn_app().await;
    for q in [
        "page=abc",
        "page=-5",
        "page=0",
        "page=99999999999999999999",
        "per_page=100000",
        "per_page=x",
    ] {
        let (status, html) = app.get_text(&format!("/services?{q}")).await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(result_codes(&html).len(), 20, "{q}: the default page");
    }
    let (status, html) = app
        .get_text("/services?field=no-such-field&level=7&tier=galaxy")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Một số giá trị lọc không hợp lệ nên đã được bỏ qua"));
    assert!(html.contains("field=no-such-field") && html.contains("level=7"));
    assert!(html.contains("2.625 thủ tục"), "the unfiltered list");
    let (_, api) = app.get_json("/api/v1/services?level=9").await;
    assert_eq!(api["ignored"][0]["param"], "level");
}

#[tokio::test]
async fn repeated_parameter_is_a_clear_400() {
    let app = spawn_app().await;
    let (status, html) = app.get_text("/services?q=a&q=b").await;
    assert_eq!(status, 400);
    assert!(html.contains("Địa chỉ tìm kiếm không hợp lệ"));
    let res = app.get("/api/v1/services?page=1&page=2").await;
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], 400);
}

#[tokio::test]
async fn huge_and_malformed_queries_never_fail() {
    let app = spawn_app().await;
    let long = "dang ky khai sinh ".repeat(600); // ~10 KB
    let res = app
        .client
        .get(format!("{}/services", app.address))
        .query(&[("q", long.as_str())])
        .send()
        .await
        .expect("req");
    assert!(res.status().as_u16() < 500, "10 KB query: {}", res.status());
    for raw in [
        "q=%E0%A4%A",
        "q=%ZZ%",
        "q=%00%01",
        "q=%F0%9F%98%80",
        "q=%C3%28",
    ] {
        let (status, _) = app.get_text(&format!("/services?{raw}")).await;
        assert!(status < 500, "{raw}: {status}");
        let (status, _) = app.get_text(&format!("/api/v1/services?{raw}")).await;
        assert!(status < 500, "api {raw}: {status}");
    }
}

#[tokio::test]
async fn sql_and_html_in_search_are_inert() {
    let app = spawn_app().await;
    let (status, html) = app
        .get_text(
            "/services?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E",
        )
        .await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert(1)"), "script echoed raw");
    assert!(!html.contains("<img src=x"), "img echoed raw");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;")
    );
    for q in [
        "'%20OR%201%3D1--",
        "%22%3B%20DROP%20TABLE%20services%3B--",
        "khai'%20sinh",
    ] {
        let (status, _) = app.get_text(&format!("/services?q={q}")).await;
        assert_eq!(status, 200, "{q}");
    }
    let (_, body) = app.get_json("/api/v1/services?per_page=10").await;
    assert_eq!(body["total"], 2625, "the catalogue is intact");
}
