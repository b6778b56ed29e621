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

/// An API key for `email`'s account.
fn api_key(app: &TestApp, email: &str) -> String {
    use diesel::prelude::*;
    let mut conn = app.db();
    let user: i64 = portal::db::schema::users::table
        .filter(portal::db::schema::users::email.eq(email))
        .select(portal::db::schema::users::id)
        .first(&mut conn)
        .expect("user");
    let key = portal::security::tokens::random_token();
    portal::db::api_tokens::create(
        &mut conn,
        user,
        "open311 client",
        &portal::security::tokens::hash_token(&key),
        &format!("k{user}{}", &key[..8]),
        chrono::Utc::now().naive_utc(),
    )
    .expect("token");
    key
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let res = crate::common::client()
        .post(format!("{}{path}", app.address))
        .form(form)
        .send()
        .await
        .expect("post");
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// A level 3–4 procedure with a generated form that routes to the citizen's ward and asks for
/// no document and no fee: its code. (The test removes its documents from the record so the
/// form asks for none.)
fn procedure_without_documents(app: &TestApp) -> String {
    use diesel::prelude::*;
    use portal::db::schema::{forms, service_documents, services};
    use portal::domain::routing::{Level, decide};
    let mut conn = app.db();
    let with_forms: Vec<String> = forms::table
        .select(forms::service_code)
        .load(&mut conn)
        .expect("forms");
    let candidates: Vec<(i64, String)> = services::table
        .filter(services::online_level.ge(3))
        .filter(services::code.ne_all(&with_forms))
        .order(services::code)
        .select((services::id, services::code))
        .load(&mut conn)
        .expect("services");
    let rules = portal::db::directory::rules(&mut conn).expect("rules");
    let place = portal::db::directory::Place {
        province: Some("01".into()),
        ward: Some("00004".into()),
    };
    for (id, code) in candidates {
        let Some(s) = portal::db::directory::routable_service(&mut conn, &code).expect("q") else {
            continue;
        };
        let free = portal::db::dossiers::fee_due_at_filing(&mut conn, id, s.online_level)
            .expect("fee")
            == 0;
        let routed = decide(&rules, &s.key(), Level::Commune).is_some_and(|rule| {
            portal::db::directory::office_for(&mut conn, rule, s.ministry_id, &place)
                .expect("office")
                .is_some()
        });
        if free && routed && s.levels == ["commune"] {
            diesel::delete(service_documents::table.filter(service_documents::service_id.eq(id)))
                .execute(&mut conn)
                .expect("documents");
            return code;
        }
    }
    panic!("no procedure routes to the ward");
}

#[tokio::test]
async fn requests_are_filed_or_drafted_with_an_api_key_and_read_back_by_their_owner_only() {
    let app = spawn_app().await;
    crate::accounts::registered_citizen(&app, "an@example.vn", "001195012345").await;
    crate::accounts::registered_citizen(&app, "binh@example.vn", "001195012346").await;
    let key = api_key(&app, "an@example.vn");
    let other = api_key(&app, "binh@example.vn");
    // Without a key, with a wrong one: the spec's error format.
    let (status, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[("service_code", "1.001193")],
    )
    .await;
    assert_eq!(status, 401);
    let errors: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(errors[0]["code"], 401);
    let (status, xml) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[("api_key", "nope"), ("service_code", "1.001193")],
    )
    .await;
    assert_eq!(status, 401);
    assert!(xml_paths(&xml).contains(&"errors/error/description".to_string()));
    let (status, _) = post_form(&app, "/open311/v2/requests.json", &[("api_key", &key)]).await;
    assert_eq!(status, 400, "service_code is required");
    let (status, _) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[("api_key", &key), ("service_code", "9.999999")],
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "1.001193"),
            ("province", "99"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // A birth registration needs a document: a draft, answered with a token.
    let (status, body) = post_form(
        &app,
        "/open311/v2/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "1.001193"),
            ("attribute[child_name]", "Nguyễn Minh An"),
            ("attribute[not_a_field]", "ignored"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("json");
    let token = answer[0]["token"].as_str().expect("token").to_string();
    assert!(
        answer[0]["service_notice"]
            .as_str()
            .expect("notice")
            .contains(&format!("/drafts/{token}"))
    );
    {
        use diesel::prelude::*;
        let answers: String = portal::db::schema::drafts::table
            .filter(portal::db::schema::drafts::public_id.eq(&token))
            .select(portal::db::schema::drafts::answers)
            .first(&mut app.db())
            .expect("draft");
        assert!(
            answers.contains("Nguyễn Minh An"),
            "the attribute is an answer: {answers}"
        );
        assert!(
            !answers.contains("ignored"),
            "unknown attributes are dropped"
        );
    }
    let (status, _, body) = get(
        &app,
        &format!("/open311/v2/tokens/{token}.json?api_key={key}"),
    )
    .await;
    assert_eq!(status, 200);
    let t: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(t[0]["token"], token.as_str());
    assert!(t[0]["service_request_id"].is_null(), "not filed yet");
    assert_eq!(
        get(
            &app,
            &format!("/open311/v2/tokens/{token}.json?api_key={other}")
        )
        .await
        .0,
        404,
        "another person's draft"
    );

    // A procedure that needs nothing more is filed at once: the dossier code.
    let code = procedure_without_documents(&app);
    let (status, body) = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", &key),
            ("service_code", &code),
            ("attribute[request]", "Đề nghị xác nhận"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let paths = xml_paths(&body);
    assert!(
        paths.contains(&"service_requests/request/service_request_id".to_string()),
        "{body}"
    );
    let id = body
        .split("<service_request_id>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("id")
        .to_string();
    {
        // A real dossier of this citizen, just filed, for this procedure.
        use diesel::prelude::*;
        use portal::db::schema::{dossiers, services, users};
        let (owner, status, service): (String, i32, String) = dossiers::table
            .inner_join(users::table.on(users::id.nullable().eq(dossiers::user_id)))
            .inner_join(services::table)
            .filter(dossiers::code.eq(&id))
            .select((users::email, dossiers::status, services::code))
            .first(&mut app.db())
            .expect("the dossier behind the answer");
        assert_eq!(
            (owner.as_str(), status, service.as_str()),
            ("an@example.vn", 1, code.as_str())
        );
    }

    // The owner reads it back in both formats, with the filters; nobody else does.
    let (status, _, body) = get(&app, &format!("/open311/v2/requests.json?api_key={key}")).await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list.as_array().expect("list").len(), 1);
    assert_eq!(list[0]["service_request_id"], id.as_str());
    assert_eq!(list[0]["status"], "open");
    assert_eq!(list[0]["service_code"], code.as_str());
    assert!(
        list[0]["requested_datetime"]
            .as_str()
            .expect("time")
            .ends_with("+07:00")
    );
    let (status, _, xml) = get(
        &app,
        &format!("/open311/v2/requests/{id}.xml?api_key={key}"),
    )
    .await;
    assert_eq!(status, 200);
    let paths = xml_paths(&xml);
    for element in [
        "service_request_id",
        "status",
        "service_name",
        "service_code",
        "agency_responsible",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
    ] {
        assert!(
            paths.contains(&format!("service_requests/request/{element}")),
            "{element} in {xml}"
        );
    }
    let (_, _, body) = get(
        &app,
        &format!("/open311/v2/requests.json?api_key={key}&status=closed"),
    )
    .await;
    assert_eq!(body, "[]");
    let (_, _, body) = get(
        &app,
        &format!("/open311/v2/requests.json?api_key={key}&service_code=1.001193"),
    )
    .await;
    assert_eq!(body, "[]", "the birth registration is still a draft");
    let (status, _, _) = get(
        &app,
        &format!("/open311/v2/requests.json?api_key={key}&start_date=yesterday"),
    )
    .await;
    assert_eq!(status, 400);
    let (_, _, body) = get(
        &app,
        &format!("/open311/v2/requests.json?api_key={key}&start_date=2000-01-01T00:00:00%2B07:00"),
    )
    .await;
    assert!(body.contains(&id));
    let (_, _, body) = get(&app, &format!("/open311/v2/requests.json?api_key={other}")).await;
    assert_eq!(body, "[]", "another person's key sees none of it");
    assert_eq!(
        get(
            &app,
            &format!("/open311/v2/requests/{id}.json?api_key={other}")
        )
        .await
        .0,
        404
    );
    assert_eq!(get(&app, "/open311/v2/requests.json").await.0, 401);
}
