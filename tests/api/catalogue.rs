//! Home, catalogue browsing and filtering, and search as a citizen uses them.

use crate::common::spawn_app;

/// All result codes on a catalogue page, in order.
pub fn result_codes(html: &str) -> Vec<String> {
    html.split("class=\"result-link\" href=\"/services/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok".to_string()));
    assert_eq!(app.get_text("/readyz").await, (200, "ready".to_string()));
}

#[tokio::test]
async fn home_shows_search_fields_levels_and_audiences() {
    let app = spawn_app().await;
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(
        html.contains("role=\"search\"") && html.contains("name=\"q\""),
        "search box"
    );
    assert!(html.contains("2.625"), "the number of services");
    // Fields with counts, linked to the filtered catalogue.
    assert!(
        html.contains("href=\"/services?field=ho-tich\""),
        "Hộ tịch field link"
    );
    // The four levels, each with a count and a plain-words explanation.
    for l in 1..=4 {
        assert!(
            html.contains(&format!("href=\"/services?level={l}\"")),
            "level {l}"
        );
    }
    assert!(html.contains("Toàn trình") && html.contains("Một phần"));
    assert!(
        html.contains("/services?group="),
        "entry points by audience"
    );
    assert!(html.contains("Công dân Việt Nam"));
}

#[tokio::test]
async fn level_counts_on_home_match_the_filtered_catalogue() {
    let app = spawn_app().await;
    let mut sum = 0;
    for l in 1..=4 {
        let (_, body) = app
            .get_json(&format!("/api/v1/services?level={l}&per_page=10"))
            .await;
        let total = body["total"].as_u64().expect("total");
        for item in body["items"].as_array().expect("items") {
            assert_eq!(item["online_level"], l);
        }
        sum += total;
    }
    assert_eq!(sum, 2625, "every service has exactly one level");
    let (_, full) = app.get_json("/api/v1/services?per_page=10").await;
    assert_eq!(full["total"], 2625);
}

#[tokio::test]
async fn catalogue_filters_combine_in_a_shareable_url() {
    let app = spawn_app().await;
    let (status, html) = app
        .get_text("/services?field=ho-tich&tier=commune&level=4&online=1")
        .await;
    assert_eq!(status, 200);
    let codes = result_codes(&html);
    assert!(
        !codes.is_empty(),
        "civil-status procedures at commune level are online"
    );
    let (_, api) = app
        .get_json("/api/v1/services?field=ho-tich&tier=commune&level=4&online=1&per_page=100")
        .await;
    for item in api["items"].as_array().expect("items") {
        assert_eq!(item["field"], "Hộ tịch");
        assert!(
            item["implementing_levels"]
                .as_array()
                .expect("levels")
                .iter()
                .any(|l| l == "commune")
        );
        assert_eq!(item["online_level"], 4);
        assert_eq!(item["has_online"], true);
    }
    // The active filters show as chips that remove one filter each; the form keeps the choices.
    assert!(html.contains("class=\"pill removable\""));
    assert!(html.contains("<option value=\"ho-tich\" selected>"));
    assert!(html.contains("value=\"1\" checked"));
}

#[tokio::test]
async fn sorting_and_paging() {
    let app = spawn_app().await;
    let (_, p1) = app.get_text("/services?sort=code").await;
    let (_, p2) = app.get_text("/services?sort=code&page=2").await;
    let (c1, c2) = (result_codes(&p1), result_codes(&p2));
    assert_eq!(c1.len(), 20);
    assert_eq!(c2.len(), 20);
    assert!(
        c1.last() < c2.first(),
        "page 2 continues page 1 in code order"
    );
    let mut sorted = c1.clone();
    sorted.sort();
    assert_eq!(c1, sorted);
    assert!(p2.contains("rel=\"prev\"") && p2.contains("rel=\"next\""));
    // Past the last page: the last page, not an error.
    let (status, last) = app.get_text("/services?sort=code&page=99999").await;
    assert_eq!(status, 200);
    let last_codes = result_codes(&last);
    assert!(!last_codes.is_empty() && last_codes.len() <= 20);
    assert!(
        last.contains("aria-current=\"page\">132<"),
        "2,625 / 20 = 132 pages"
    );
}

#[tokio::test]
async fn search_without_accents_finds_the_procedure_and_highlights_words() {
    let app = spawn_app().await;
    let (status, html) = app.get_text("/services?q=dang+ky+khai+sinh").await;
    assert_eq!(status, 200);
    let codes = result_codes(&html);
    assert!(
        codes.iter().take(5).any(|c| c == "1.001193"),
        "Thủ tục đăng ký khai sinh in the top 5: {codes:?}"
    );
    assert!(html.contains("<mark>"), "matched words highlighted");
    assert!(html.contains("Kết quả cho “dang ky khai sinh”"));
}

#[tokio::test]
async fn search_by_code_puts_that_procedure_first() {
    let app = spawn_app().await;
    let (_, html) = app.get_text("/services?q=1.001193").await;
    assert_eq!(
        result_codes(&html).first().map(String::as_str),
        Some("1.001193")
    );
}

#[tokio::test]
async fn search_combines_with_filters() {
    let app = spawn_app().await;
    let (_, all) = app
        .get_json("/api/v1/services?q=giay+phep&per_page=100")
        .await;
    let (_, four) = app
        .get_json("/api/v1/services?q=giay+phep&level=4&per_page=100")
        .await;
    let all_total = all["total"].as_u64().expect("total");
    let four_total = four["total"].as_u64().expect("total");
    assert!(four_total > 0 && four_total < all_total);
    assert!(
        four["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["online_level"] == 4)
    );
}
