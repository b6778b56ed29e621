//! The JSON API and its OpenAPI description.

use crate::common::spawn_app;

#[tokio::test]
async fn list_search_and_detail() {
    let app = spawn_app().await;
    let (status, body) = app
        .get_json("/api/v1/services?q=dang%20ky%20khai%20sinh&per_page=10")
        .await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().expect("items");
    assert!(items.iter().take(5).any(|i| i["code"] == "1.001193"));
    assert_eq!(body["sort"], "relevance");
    let (status, search) = app.get_json("/api/v1/search?q=1.001193").await;
    assert_eq!(status, 200);
    assert_eq!(search["items"][0]["code"], "1.001193");

    let (status, d) = app.get_json("/api/v1/services/1.001193").await;
    assert_eq!(status, 200);
    assert_eq!(d["name"], "Thủ tục đăng ký khai sinh");
    assert_eq!(d["online_level"], 4);
    assert!(
        d["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .any(|c| c["channel"] == "online")
    );
    assert!(!d["legal_basis"].as_array().expect("legal").is_empty());
    assert!(!d["steps"].as_str().expect("steps").is_empty());

    let res = app.get("/api/v1/services/0.000000").await;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn lookups_fields_agencies_units() {
    let app = spawn_app().await;
    let (_, fields) = app.get_json("/api/v1/fields").await;
    let fields = fields.as_array().expect("fields");
    assert_eq!(fields.len(), 139);
    assert_eq!(
        fields
            .iter()
            .map(|f| f["count"].as_u64().expect("count"))
            .sum::<u64>(),
        2625
    );
    let (_, agencies) = app.get_json("/api/v1/agencies").await;
    assert_eq!(
        agencies["ministries"].as_array().expect("ministries").len(),
        7
    );
    assert!(
        agencies["implementing_agencies"]
            .as_array()
            .expect("agencies")
            .len()
            > 100
    );
    let (_, provinces) = app.get_json("/api/v1/provinces").await;
    assert_eq!(provinces.as_array().expect("provinces").len(), 34);

    let units =
        portal::seed::read_admin_units(&crate::common::root().join("data/admin_units.json"))
            .expect("units");
    let hanoi = units
        .wards
        .iter()
        .filter(|w| w.province_code == "01")
        .count();
    let (status, wards) = app.get_json("/api/v1/provinces/01/wards").await;
    assert_eq!(status, 200);
    assert_eq!(wards.as_array().expect("wards").len(), hanoi);
    let total: usize = {
        let mut n = 0;
        for p in provinces.as_array().expect("provinces") {
            let (_, w) = app
                .get_json(&format!(
                    "/api/v1/provinces/{}/wards",
                    p["code"].as_str().expect("code")
                ))
                .await;
            n += w.as_array().expect("wards").len();
        }
        n
    };
    assert_eq!(total, 3321);
    let (status, _) = app.get_text("/api/v1/provinces/99/wards").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn openapi_document_describes_every_endpoint() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in [
        "/api/v1/services",
        "/api/v1/search",
        "/api/v1/services/{code}",
        "/api/v1/fields",
        "/api/v1/agencies",
        "/api/v1/provinces",
        "/api/v1/provinces/{code}/wards",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/services"]["get"]["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in ["q", "field", "level", "tier", "page"] {
        assert!(params.contains(&p), "parameter {p}");
    }
}
