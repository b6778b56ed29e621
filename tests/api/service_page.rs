//! The service page shows everything the national record holds, with a plain-words level badge.

use crate::common::spawn_app;

#[tokio::test]
async fn service_page_shows_the_whole_record() {
    let app = spawn_app().await;
    let (status, html) = app.get_text("/services/1.001193").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Thủ tục đăng ký khai sinh</h1>"));
    assert!(html.contains("<span class=\"service-code\">1.001193</span>"));
    assert!(html.contains("Hộ tịch"), "field");
    assert!(html.contains("Bộ Tư pháp"), "ministry");
    assert!(html.contains("Cấp xã"), "implementing level");
    // Level 4 in plain words.
    assert!(html.contains("Mức 4 · Toàn trình"));
    assert!(html.contains("nộp hồ sơ, thanh toán phí và nhận kết quả trực tuyến"));
    // Channels with their time and fee, documents grouped by case, legal basis, result, source.
    for section in [
        "Cách thức thực hiện",
        "Thành phần hồ sơ",
        "Trình tự thực hiện",
        "Căn cứ pháp lý",
        "Kết quả",
    ] {
        assert!(html.contains(section), "{section}");
    }
    assert!(html.contains("<th scope=\"row\">Trực tuyến</th>"));
    assert!(html.contains("Miễn phí"));
    assert!(html.contains("dichvucong.gov.vn"), "source link");
    // The way to apply: online for level 3–4, where to go in person otherwise.
    assert!(html.contains("href=\"/apply/"));
}

#[tokio::test]
async fn documents_grouped_by_case_with_forms_and_fees() {
    let app = spawn_app().await;
    let (_, detail) = app.get_json("/api/v1/services/1.000271").await;
    let groups = detail["document_groups"].as_array().expect("groups");
    assert!(groups.len() >= 2, "several cases");
    let (status, html) = app.get_text("/services/1.000271").await;
    assert_eq!(status, 200);
    for g in groups {
        let case = g["case_name"].as_str().expect("case");
        if !case.is_empty() {
            let escaped = case
                .replace('&', "&amp;")
                .replace('"', "&quot;")
                .replace('<', "&lt;");
            assert!(html.contains(&escaped), "case heading {case}");
        }
    }
    let form = groups
        .iter()
        .flat_map(|g| g["documents"].as_array().expect("docs"))
        .find_map(|d| d["form_template"].as_str().filter(|f| !f.is_empty()))
        .expect("a document with a form");
    assert!(html.contains(form), "form template {form}");
    let fee = detail["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .find_map(|c| c["fee_vnd"].as_i64())
        .expect("fee");
    if fee > 0 {
        let grouped = portal::web::view::format_vnd(fee, portal::i18n::Lang::Vi);
        assert!(html.contains(&grouped), "fee {grouped}");
    }
}

#[tokio::test]
async fn level_badge_matches_the_stored_level_for_every_class() {
    let app = spawn_app().await;
    for (level, label) in [(2, "Nộp trực tiếp"), (3, "Một phần"), (4, "Toàn trình")] {
        let (_, list) = app
            .get_json(&format!("/api/v1/services?level={level}&per_page=10"))
            .await;
        let code = list["items"][0]["code"]
            .as_str()
            .expect("a service at this level")
            .to_string();
        let (_, html) = app.get_text(&format!("/services/{code}")).await;
        assert!(
            html.contains(&format!("Mức {level} · {label}")),
            "{code} level {level}"
        );
    }
}
