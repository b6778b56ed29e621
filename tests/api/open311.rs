//! Open311 GeoReport v2: discovery, the service list and service definitions in both formats,
//! the XML read by a real XML parser (quick-xml) and checked for the standard's element names,
//! and the standard's error format.

use crate::common::{TestApp, spawn_app};

/// The element paths of a well-formed XML document (`services/service/service_code`, …), in
/// order; panics when the document is not well-formed.
fn xml_paths(xml: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                paths.push(stack.join("/"));
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "every element is closed");
    paths
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, kind, res.text().await.expect("body"))
}

#[tokio::test]
async fn discovery_services_and_definitions_in_json_and_xml() {
    let app = spawn_app().await;
    let (status, kind, body) = get(&app, "/open311/discovery.json").await;
    assert_eq!((status, kind.as_str()), (200, "application/json"));
    let d: serde_json::Value = serde_json::from_str(&body).expect("json");
    let endpoint = &d["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert!(
        endpoint["url"]
            .as_str()
            .expect("url")
            .ends_with("/open311/v2/")
    );
    let (status, _, xml) = get(&app, "/open311/discovery.xml").await;
    assert_eq!(status, 200, "{}", &xml[..xml.len().min(400)]);
    assert!(xml_paths(&xml).contains(&"discovery/endpoints/endpoint/specification".to_string()));

    // The list: online procedures only, with the level and field in description and keywords.
    let (status, _, body) = get(&app, "/open311/v2/services.json").await;
    assert_eq!(status, 200);
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
    assert!(list.len() > 100, "{}", list.len());
    let birth = list
        .iter()
        .find(|s| s["service_code"] == "1.001193")
        .expect("birth registration is listed");
    assert_eq!(birth["metadata"], true);
    assert_eq!(birth["type"], "batch");
    assert!(
        birth["keywords"]
            .as_str()
            .expect("keywords")
            .starts_with("level-")
    );
    assert!(
        birth["description"]
            .as_str()
            .expect("description")
            .contains("Mức độ trực tuyến")
    );
    for s in &list {
        let level: i32 = s["keywords"].as_str().expect("keywords")[6..7]
            .parse()
            .expect("level");
        assert!(level >= 3, "only procedures that can be filed online: {s}");
    }
    let (status, kind, xml) = get(&app, "/open311/v2/services.xml").await;
    assert_eq!((status, kind.as_str()), (200, "text/xml; charset=utf-8"));
    let paths = xml_paths(&xml);
    for name in [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert_eq!(
            paths
                .iter()
                .filter(|p| **p == format!("services/service/{name}"))
                .count(),
            list.len(),
            "{name} in every service"
        );
    }

    // A definition from the form: every field an attribute, choices with their values.
    let (status, _, body) = get(&app, "/open311/v2/services/1.001193.json").await;
    assert_eq!(status, 200);
    let def: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(def["service_code"], "1.001193");
    let attributes = def["attributes"].as_array().expect("attributes");
    assert!(attributes.len() > 10);
    assert!(attributes.iter().all(|a| {
        matches!(
            a["datatype"].as_str(),
            Some("string" | "number" | "datetime" | "text" | "singlevaluelist" | "multivaluelist")
        )
    }));
    let lists: Vec<&serde_json::Value> = attributes
        .iter()
        .filter(|a| a["datatype"] == "singlevaluelist")
        .collect();
    assert!(
        !lists.is_empty()
            && lists
                .iter()
                .all(|a| a["values"].as_array().is_some_and(|v| !v.is_empty()))
    );
    assert_eq!(attributes[0]["order"], 1);
    let (_, _, xml) = get(&app, "/open311/v2/services/1.001193.xml").await;
    let paths = xml_paths(&xml);
    assert_eq!(
        paths
            .iter()
            .filter(|p| **p == "service_definition/attributes/attribute/code")
            .count(),
        attributes.len()
    );
    assert!(
        paths.contains(&"service_definition/attributes/attribute/values/value/key".to_string())
    );

    // The standard's errors.
    let (status, _, body) = get(&app, "/open311/v2/services/9.999999.json").await;
    assert_eq!(status, 404);
    let e: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(e[0]["code"], 404);
    assert!(
        e[0]["description"]
            .as_str()
            .expect("description")
            .contains("9.999999")
    );
    let (status, _, xml) = get(&app, "/open311/v2/services/9.999999.xml").await;
    assert_eq!(status, 404);
    assert!(xml_paths(&xml).contains(&"errors/error/description".to_string()));
    assert_eq!(get(&app, "/open311/v2/services.csv").await.0, 404);
}

/// The third-party client's side: both formats, the list and a definition, printed as JSON.
const CLIENT: &str = r#"
import json, sys
from georeport import GeoReport
root = sys.argv[1]
out = {}
for fmt in ("json", "xml"):
    client = GeoReport(root, output_format=fmt)
    services = client.get_service_list()
    birth = [s for s in services if s["service_code"] == "1.001193"]
    definition = client.get_service_definition("1.001193")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    out[fmt] = {
        "count": len(services),
        "birth_name": birth[0]["service_name"] if birth else None,
        "codes": [a["code"] for a in attributes],
    }
print(json.dumps(out))
"#;

fn georeport_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import georeport"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("PORTAL_REQUIRE_GEOREPORT").as_deref() != Ok("1"),
            "PORTAL_REQUIRE_GEOREPORT=1 but python3 cannot import georeport: pip install georeport"
        );
        println!("skipping: python3 cannot import georeport (pip install georeport)");
    }
    ok
}

#[tokio::test]
async fn a_third_party_open311_client_reads_both_formats() {
    if !georeport_available() {
        return;
    }
    let app = spawn_app().await;
    let root = format!("{}/open311/v2", app.address);
    let output = tokio::process::Command::new("python3")
        .args(["-c", CLIENT, &root])
        .output()
        .await
        .expect("python3");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let (json, xml) = (&seen["json"], &seen["xml"]);
    assert!(json["count"].as_u64().expect("count") > 100);
    assert_eq!(json["count"], xml["count"], "the same list in both formats");
    let name = json["birth_name"].as_str().expect("name");
    assert!(name.to_lowercase().contains("khai sinh"), "{name}");
    assert_eq!(json["birth_name"], xml["birth_name"]);
    assert!(json["codes"].as_array().expect("codes").len() > 10);
    assert_eq!(
        json["codes"], xml["codes"],
        "the same definition in both formats"
    );
}
