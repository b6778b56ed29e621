//! Applications end to end over HTTP: place → form → upload → check answers → submit → receipt →
//! tracking; validation; uploads; payment through the sandbox bank and its IPN; routing;
//! concurrency of dossier codes; who may see what.

use diesel::prelude::*;
use portal::db::schema::{attachments, dossiers, drafts, payment_notifications};

use crate::accounts::{csrf_of, last_email, registered_citizen};
use crate::common::{TestApp, client, fresh_database, spawn_app, spawn_with, test_settings};

/// A minimal but complete PDF.
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// What a browser reads from escaped HTML (Tera escapes `/` and `&` in text and attributes).
pub fn unescape(html: &str) -> String {
    html.replace("&#x2F;", "/").replace("&amp;", "&")
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Posts `fields` (plus the page's CSRF token) with the app's client.
async fn post_page(
    app: &TestApp,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = app.get_text(page).await;
    assert_eq!(status, 200, "{page}: {html}");
    let csrf = csrf_of(&html);
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(format!("{}{}", app.address, action))
        .form(&form)
        .send()
        .await
        .expect("post")
}

/// Starts a draft for `code` at a ward; returns its path (`/drafts/{id}`).
pub async fn start_draft(
    app: &TestApp,
    code: &str,
    level: &str,
    province: &str,
    ward: &str,
) -> String {
    let res = post_page(
        app,
        &format!("/apply/{code}"),
        &format!("/apply/{code}"),
        &[("level", level), ("province", province), ("ward", ward)],
    )
    .await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    location(&res)
}

async fn section(
    app: &TestApp,
    draft: &str,
    key: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = format!("{draft}/sections/{key}");
    post_page(app, &page, &page, fields).await
}

pub async fn section_ok(app: &TestApp, draft: &str, key: &str, fields: &[(&str, &str)]) {
    let res = section(app, draft, key, fields).await;
    let status = res.status().as_u16();
    assert_eq!(
        status,
        303,
        "{key}: {}",
        res.text().await.unwrap_or_default()
    );
}

pub async fn upload(
    app: &TestApp,
    draft: &str,
    slot: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let (_, html) = app.get_text(&format!("{draft}/documents")).await;
    let csrf = csrf_of(&html);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("slot", slot.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/pdf")
                .expect("mime"),
        );
    app.client
        .post(format!("{}{draft}/documents", app.address))
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

const APPLICANT: &[(&str, &str)] = &[
    ("applicant_phone", "0912345678"),
    ("applicant_email", "dan@example.vn"),
    ("applicant_address", "12 Hàng Bạc"),
];

/// Fills every page of the birth registration form and uploads the birth certificate.
pub async fn complete_birth_draft(app: &TestApp, draft: &str) {
    section_ok(app, draft, "applicant", APPLICANT).await;
    complete_birth_sections(app, draft).await;
}

/// Every page of the birth registration after the applicant's, and the birth certificate.
pub async fn complete_birth_sections(app: &TestApp, draft: &str) {
    section_ok(
        app,
        draft,
        "requester",
        &[
            ("req_name", "Trần Thị Bình"),
            ("req_dob", "04/03/1995"),
            ("req_id", "001195012345"),
            ("req_residence.province", "01"),
            ("req_residence.ward", "00004"),
            ("req_residence.street", "12 Hàng Bạc"),
            ("req_relation", "Mẹ"),
        ],
    )
    .await;
    section_ok(
        app,
        draft,
        "child",
        &[
            ("child_name", "Nguyễn Minh An"),
            ("child_dob", "20/11/2026"),
            ("child_sex", "nam"),
            ("child_ethnicity", "Kinh"),
            ("child_nationality", "Việt Nam"),
            ("birthplace_kind", "co_so_y_te"),
            ("birth_facility", "Bệnh viện Phụ sản Hà Nội"),
            ("birthplace.province", "01"),
            ("birthplace.ward", "00004"),
            ("birthplace.street", "929 La Thành"),
            ("child_hometown", "Hà Nội"),
        ],
    )
    .await;
    section_ok(
        app,
        draft,
        "mother",
        &[
            ("mother_known", "co"),
            ("mother_name", "Trần Thị Bình"),
            ("mother_dob", "04/03/1995"),
            ("mother_ethnicity", "Kinh"),
            ("mother_nationality", "Việt Nam"),
        ],
    )
    .await;
    section_ok(app, draft, "father", &[("father_known", "khong")]).await;
    section_ok(app, draft, "marriage", &[("parents_married", "khong")]).await;
    section_ok(
        app,
        draft,
        "declaration",
        &[
            ("copies_wanted", "khong"),
            ("signed_at", "Phường Ba Đình"),
            ("declaration", "true"),
        ],
    )
    .await;
    let res = upload(
        app,
        draft,
        "birth_certificate",
        "giay-chung-sinh.pdf",
        pdf_bytes(),
    )
    .await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let done = format!("{draft}/documents");
    let res = post_page(app, &done, &format!("{draft}/documents/done"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
}

pub async fn submit(app: &TestApp, draft: &str) -> reqwest::Response {
    post_page(
        app,
        &format!("{draft}/check"),
        &format!("{draft}/submit"),
        &[],
    )
    .await
}

#[tokio::test]
async fn a_citizen_files_a_birth_registration_and_follows_it() {
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;

    let (_, service) = app.get_text("/services/1.001193").await;
    assert!(
        service.contains("href=\"/apply/1.001193\""),
        "the apply button"
    );
    let (status, place) = app.get_text("/apply/1.001193").await;
    assert_eq!(status, 200);
    assert!(
        place.contains("value=\"00004\" selected"),
        "the profile's ward is preselected"
    );

    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    assert!(draft.starts_with("/drafts/"), "{draft}");
    let (_, tasks) = app.get_text(&draft).await;
    assert!(tasks.contains("Người nộp hồ sơ") && tasks.contains("Chưa bắt đầu"));
    assert!(
        tasks.contains("Ủy ban nhân dân Phường Ba Đình"),
        "the routed office"
    );
    // The applicant page is prefilled from the profile: nothing the portal knows is retyped.
    let (_, applicant) = app.get_text(&format!("{draft}/sections/applicant")).await;
    assert!(applicant.contains("value=\"0912345678\""));
    assert!(applicant.contains("value=\"dan@example.vn\""));

    complete_birth_draft(&app, &draft).await;
    // Every page of the journey stays small (a phone on a slow line).
    let mut pages = vec![
        "/apply/1.001193".to_string(),
        draft.clone(),
        format!("{draft}/documents"),
        format!("{draft}/check"),
    ];
    for key in [
        "applicant",
        "requester",
        "child",
        "mother",
        "father",
        "marriage",
        "declaration",
    ] {
        pages.push(format!("{draft}/sections/{key}"));
    }
    for page in &pages {
        let (status, html) = app.get_text(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(html.len() < 60 * 1024, "{page} is {} bytes", html.len());
    }
    let check = unescape(&app.get_text(&format!("{draft}/check")).await.1);
    assert!(check.contains("Nguyễn Minh An") && check.contains("giay-chung-sinh.pdf"));
    assert!(check.contains("20/11/2026"), "dates as people write them");
    assert!(
        check.contains(&format!("{draft}/sections/child?return=check")),
        "change links"
    );

    let res = submit(&app, &draft).await;
    assert_eq!(res.status().as_u16(), 303);
    let receipt = location(&res);
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).format("%y%m%d");
    let code = format!("00004.00.00.H01-{today}-0001");
    assert_eq!(receipt, format!("/dossiers/{code}?new=1"));
    let (status, html) = app.get_text(&receipt).await;
    assert_eq!(status, 200);
    assert!(
        html.len() < 60 * 1024,
        "the receipt is {} bytes",
        html.len()
    );
    assert!(html.contains(&code) && html.contains("Mới đăng ký"));
    assert!(html.contains("<svg"), "a QR code of the tracking link");
    assert!(html.contains("Ngày hẹn trả kết quả"));
    let (subject, text) = last_email(&app, "dan@example.vn").expect("confirmation email");
    assert!(subject.contains(&code), "{subject}");
    assert!(text.contains("Ủy ban nhân dân Phường Ba Đình"));

    // The draft became the dossier: a replayed submit shows the same dossier, no second one.
    let (_, check_again) = app.get_text("/my").await;
    assert!(check_again.contains(&code));
    let res = app
        .client
        .post(format!("{}{draft}/submit", app.address))
        .form(&[("_csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .expect("replay");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(location(&res), format!("/dossiers/{code}"));
    let count: i64 = dossiers::table
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(count, 1);

    // Public tracking: code + phone, on another device; a wrong phone and an unknown code get
    // the same answer.
    let other = client();
    let track = |code: String, contact: &'static str| {
        let other = other.clone();
        let address = app.address.clone();
        async move {
            let html = other
                .get(format!("{address}/track"))
                .send()
                .await
                .expect("get")
                .text()
                .await
                .expect("body");
            let res = other
                .post(format!("{address}/track"))
                .form(&[
                    ("_csrf", csrf_of(&html).as_str()),
                    ("code", code.as_str()),
                    ("contact", contact),
                ])
                .send()
                .await
                .expect("post");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let (status, found) = track(code.to_lowercase(), "0912 345 678").await;
    assert_eq!(status, 200, "{found}");
    assert!(found.contains("Mới đăng ký") && found.contains("Lịch sử xử lý"));
    let (s1, wrong_phone) = track(code.clone(), "0999999999").await;
    let (s2, no_such) = track(format!("00004.00.00.H01-{today}-0999"), "0912345678").await;
    assert_eq!((s1, s2), (404, 404));
    let strip = |h: &str| h.split("name=\"_csrf\"").next().map(str::to_string);
    assert_eq!(strip(&wrong_phone), strip(&no_such));

    // The API, with the citizen's token: the same dossier; without a token, 401.
    let token = crate::accounts::new_api_token(&app, "app").await;
    let api = |bearer: Option<String>, code: String| {
        let address = app.address.clone();
        async move {
            let mut req = client().get(format!("{address}/api/v1/dossiers/{code}"));
            if let Some(t) = bearer {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.expect("api");
            let status = res.status().as_u16();
            (
                status,
                res.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let (status, json) = api(Some(token.clone()), code.clone()).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["status"], 1);
    assert_eq!(json["code"], code.as_str());
    assert_eq!(json["timeline"][0]["action"], "submit");
    assert_eq!(api(None, code.clone()).await.0, 401);

    // Another citizen gets 404 for the dossier and its files.
    let file_id: String = attachments::table
        .select(attachments::public_id)
        .first(&mut app.db())
        .expect("file");
    let (status, _) = app.get_text(&format!("/files/{file_id}")).await;
    assert_eq!(status, 200, "the owner downloads it");
    let res = app.get(&format!("/files/{file_id}")).await;
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .starts_with("attachment;")
    );
    let stranger = TestApp {
        client: client(),
        ..app_clone(&app)
    };
    registered_citizen(&stranger, "la@example.vn", "001095000002").await;
    for path in [format!("/dossiers/{code}"), format!("/files/{file_id}")] {
        let (status, _) = stranger.get_text(&path).await;
        assert_eq!(status, 404, "{path}");
    }
    let theirs = crate::accounts::new_api_token(&stranger, "x").await;
    assert_eq!(api(Some(theirs), code.clone()).await.0, 404, "not theirs");
}

fn app_clone(app: &TestApp) -> TestApp {
    TestApp {
        address: app.address.clone(),
        client: app.client.clone(),
        db_url: app.db_url.clone(),
        settings: app.settings.clone(),
    }
}

#[tokio::test]
async fn every_error_is_listed_what_was_typed_is_kept_and_nothing_is_stored() {
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    let before: String = drafts::table
        .select(drafts::answers)
        .first(&mut app.db())
        .expect("draft");
    let huge = "x".repeat(1024 * 1024);
    let res = section(
        &app,
        &draft,
        "child",
        &[
            ("child_name", "<script>alert(1)</script>"),
            ("child_dob", "31/02/2026"),
            ("child_sex", "khac"),
            ("child_ethnicity", ""),
            ("child_nationality", "Việt Nam"),
            ("birthplace_kind", "co_so_y_te"),
            ("birth_facility", ""),
            ("birthplace.province", "01"),
            ("birthplace.ward", "26734"),
            ("child_hometown", huge.as_str()),
        ],
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    let html = res.text().await.expect("body");
    for expected in [
        "Ngày, tháng, năm sinh phải là một ngày có thật",
        "Chọn một trong các lựa chọn của Giới tính",
        "Chưa nhập: Dân tộc",
        "Chưa nhập: Tên cơ sở y tế",
        "không thuộc tỉnh, thành phố đã chọn",
        "Quê quán không được dài quá 200 ký tự",
        "href=\"#f-child_dob\"",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "kept, escaped"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(
        html.len() < 60 * 1024,
        "a refused megabyte is not echoed back"
    );
    let after: String = drafts::table
        .select(drafts::answers)
        .first(&mut app.db())
        .expect("draft");
    assert_eq!(before, after, "nothing half-stored");

    // Submitting an incomplete draft lists what is missing, with links to each page.
    let res = submit(&app, &draft).await;
    assert_eq!(res.status().as_u16(), 422);
    let html = unescape(&res.text().await.expect("body"));
    assert!(html.contains("Hồ sơ chưa đủ để nộp"));
    assert!(html.contains(&format!("{draft}/sections/child?return=check#f-child_name")));
    assert!(html.contains("Chưa tải lên: Giấy chứng sinh"));
    let count: i64 = dossiers::table
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(count, 0);
}

#[tokio::test]
async fn uploads_are_recognised_from_their_bytes_and_limited() {
    let mut settings = test_settings(fresh_database());
    settings.upload_max_file_bytes = 100 * 1024;
    let app = spawn_with(settings).await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    let mut truncated = pdf_bytes();
    truncated.truncate(30);
    let mut big = pdf_bytes();
    big.extend(std::iter::repeat_n(b' ', 200 * 1024));
    big.extend(b"%%EOF\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "virus.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec(),
            "PDF, JPG hoặc PNG",
        ),
        ("empty.pdf", vec![], "không có nội dung"),
        ("cut.pdf", truncated, "bị thiếu phần cuối"),
        ("big.pdf", big, "nhỏ hơn 100 KB"),
    ];
    for (name, bytes, message) in cases {
        let res = upload(&app, &draft, "birth_certificate", name, bytes).await;
        assert_eq!(res.status().as_u16(), 422, "{name}");
        let html = res.text().await.expect("body");
        assert!(html.contains(message), "{name}: {message}");
    }
    let count: i64 = attachments::table
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(count, 0, "nothing kept");
    let stored = std::fs::read_dir(app.settings.upload_dir.join("tmp"))
        .expect("tmp")
        .count();
    assert_eq!(stored, 0, "no bytes left behind");

    // A real PNG under a misleading name is kept, named by what it is.
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &[0u8; 16],
        &[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82],
    ]
    .concat();
    let res = upload(&app, &draft, "birth_certificate", "../../anh <b>.exe", png).await;
    assert_eq!(res.status().as_u16(), 303);
    let (name, kind, size, sha): (String, String, i64, String) = attachments::table
        .select((
            attachments::file_name,
            attachments::content_type,
            attachments::size_bytes,
            attachments::sha256,
        ))
        .first(&mut app.db())
        .expect("kept");
    assert_eq!(
        (name.as_str(), kind.as_str(), size),
        ("anh b.png", "image/png", 32)
    );
    assert_eq!(sha.len(), 64);
    // The slot must be one of the form's.
    let res = upload(&app, &draft, "not_a_slot", "a.pdf", pdf_bytes()).await;
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn a_draft_resumes_on_another_device_and_is_private() {
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    section_ok(&app, &draft, "applicant", APPLICANT).await;

    // The same person on a second device.
    let phone = TestApp {
        client: client(),
        ..app_clone(&app)
    };
    let html = phone.get_text("/login").await.1;
    let res = phone
        .client
        .post(format!("{}/login", phone.address))
        .form(&[
            ("_csrf", csrf_of(&html).as_str()),
            ("login", "dan@example.vn"),
            ("password", crate::accounts::PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 303);
    let (_, my) = phone.get_text("/my").await;
    assert!(my.contains(&draft), "the draft is listed");
    let (_, tasks) = phone.get_text(&draft).await;
    assert!(tasks.contains("Đã xong"), "the applicant page is done");

    let stranger = TestApp {
        client: client(),
        ..app_clone(&app)
    };
    registered_citizen(&stranger, "la@example.vn", "001095000002").await;
    for path in [
        draft.clone(),
        format!("{draft}/sections/applicant"),
        format!("{draft}/documents"),
        format!("{draft}/check"),
    ] {
        let (status, _) = stranger.get_text(&path).await;
        assert_eq!(status, 404, "{path}");
    }

    // Deleting it takes it away.
    let res = post_page(
        &app,
        &format!("{draft}/delete"),
        &format!("{draft}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let (status, _) = app.get_text(&draft).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn routing_by_place_and_the_no_route_answer() {
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    // A ward not in the chosen province is refused before anything is typed.
    let res = post_page(
        &app,
        "/apply/1.001193",
        "/apply/1.001193",
        &[("level", "commune"), ("province", "79"), ("ward", "00004")],
    )
    .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("thuộc tỉnh, thành phố đã chọn")
    );
    // Permanent residence goes to the ward's police, not its People's Committee.
    let draft = start_draft(&app, "1.004222", "commune", "01", "00004").await;
    let (_, tasks) = app.get_text(&draft).await;
    assert!(tasks.contains("Công an Phường Ba Đình"), "{tasks}");
    let rule: Option<i64> = drafts::table
        .filter(drafts::public_id.eq(draft.trim_start_matches("/drafts/")))
        .select(drafts::rule_id)
        .first(&mut app.db())
        .expect("draft");
    assert!(rule.is_some(), "the deciding rule is recorded");

    // A level 1–2 service: where to go in person, without logging in.
    let anonymous = client();
    let offline: String = {
        use portal::db::schema::{service_implementing_levels as sil, services};
        services::table
            .inner_join(sil::table)
            .filter(services::online_level.le(2))
            .filter(sil::level.eq("commune"))
            .select(services::code)
            .first(&mut app.db())
            .expect("an offline commune service")
    };
    let html = anonymous
        .get(format!(
            "{}/apply/{offline}?level=commune&province=01&ward=00004",
            app.address
        ))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(html.contains("Nộp hồ sơ trực tiếp tại"), "{html}");
    assert!(
        html.contains("Phường Ba Đình, Thành phố Hà Nội"),
        "the office's address"
    );

    // The directory: the office page lists what it receives; the API lists offices.
    let (status, office) = app.get_text("/agencies/00004.00.00.H01").await;
    assert_eq!(status, 200);
    assert!(office.contains("1.001193"));
    let (_, json) = app
        .get_json("/api/v1/agencies?province=01&kind=ward_committee&per_page=5")
        .await;
    let wards_in_hanoi: i64 = {
        use portal::db::schema::wards;
        wards::table
            .filter(wards::province_code.eq("01"))
            .count()
            .get_result(&mut app.db())
            .expect("count")
    };
    assert_eq!(json["offices"]["total"], wards_in_hanoi);
    assert_eq!(json["offices"]["items"].as_array().expect("items").len(), 5);
    let (status, _) = app.get_json("/api/v1/agencies?kind=castle").await;
    assert_eq!(status, 400);
}

/// Fills the permanent-residence form (CT01) and uploads the proof of residence.
async fn complete_residence_draft(app: &TestApp, draft: &str) {
    let draft = draft.to_string();
    section_ok(app, &draft, "applicant", APPLICANT).await;
    section_ok(
        app,
        &draft,
        "declarant",
        &[
            ("name", "Trần Thị Bình"),
            ("dob", "04/03/1995"),
            ("sex", "nu"),
            ("id", "001195012345"),
            ("phone", "0912345678"),
            ("email", "dan@example.vn"),
        ],
    )
    .await;
    section_ok(
        app,
        &draft,
        "household",
        &[
            ("head_name", "Trần Văn Cường"),
            ("head_relation", "con"),
            ("head_id", "001065000123"),
        ],
    )
    .await;
    section_ok(
        app,
        &draft,
        "request",
        &[
            ("new_address.province", "01"),
            ("new_address.ward", "00004"),
            ("new_address.street", "5 Phan Đình Phùng"),
            ("own_home", "co"),
            ("minor", "khong"),
        ],
    )
    .await;
    section_ok(
        app,
        &draft,
        "declaration",
        &[("signed_at", "Phường Ba Đình"), ("declaration", "true")],
    )
    .await;
    let res = upload(app, &draft, "residence_proof", "so-do.pdf", pdf_bytes()).await;
    assert_eq!(res.status().as_u16(), 303);
}

/// From the check page, pays at the sandbox bank (`decision`); returns where the bank sends
/// the browser back.
async fn pay_at_sandbox(app: &TestApp, draft: &str, decision: &str) -> String {
    let res = post_page(app, &format!("{draft}/check"), &format!("{draft}/pay"), &[]).await;
    assert_eq!(res.status().as_u16(), 303);
    let bank = location(&res);
    let (_, page) = app.get_text(&bank).await;
    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(bank.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    form.push(("_csrf".into(), csrf_of(&page)));
    form.push(("decision".into(), decision.into()));
    let res = app
        .client
        .post(format!("{}/sandbox/vnpay/pay", app.address))
        .form(&form)
        .send()
        .await
        .expect("decide");
    assert_eq!(res.status().as_u16(), 303);
    location(&res)
}

#[tokio::test]
async fn a_lost_payment_notification_is_settled_by_asking_the_gateway() {
    let mut settings = test_settings(fresh_database());
    // The bank's notification never arrives.
    settings.payment.ipn_url = "http://127.0.0.1:9/lost".into();
    let app = spawn_with(settings).await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.004222", "commune", "01", "00004").await;
    complete_residence_draft(&app, &draft).await;
    let back = pay_at_sandbox(&app, &draft, "approve").await;
    let (status, page) = app.get_text(&back).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Đang chờ ngân hàng xác nhận"),
        "pending, not filed"
    );
    let count: i64 = dossiers::table
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(count, 0);

    let mut worker_settings = app.settings.clone();
    worker_settings.payment.query_url = format!("{}/sandbox/vnpay/query", app.address);
    let pool = portal::db::connect_pool(&app.db_url, 2).expect("pool");
    let jobs = portal::jobs::Jobs::new(pool, &worker_settings).expect("jobs");
    let soon = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(1);
    assert_eq!(
        jobs.run_once(soon).await.expect("run").queried,
        0,
        "too early to ask"
    );
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::minutes(20);
    let report = jobs.run_once(later).await.expect("run");
    assert_eq!((report.queried, report.settled), (1, 1));
    let code: String = dossiers::table
        .select(dossiers::code)
        .first(&mut app.db())
        .expect("filed by the reconciliation");
    assert!(code.starts_with("00004.01.00.H01-"));
    assert_eq!(
        jobs.run_once(later).await.expect("run").queried,
        0,
        "nothing left pending"
    );
    let res = app.get(&back).await;
    assert_eq!(location(&res), format!("/dossiers/{code}?new=1"));
}

#[tokio::test]
async fn a_fee_is_paid_through_the_gateway_and_its_notification_files_the_dossier() {
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.004222", "commune", "01", "00004").await;
    complete_residence_draft(&app, &draft).await;
    // Submitting without paying is refused.
    let res = submit(&app, &draft).await;
    assert_eq!(res.status().as_u16(), 402);
    let (_, check) = app.get_text(&format!("{draft}/check")).await;
    assert!(check.contains("10.000 đ") && check.contains("Thanh toán lệ phí và nộp hồ sơ"));

    let res = post_page(
        &app,
        &format!("{draft}/check"),
        &format!("{draft}/pay"),
        &[],
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let bank = location(&res);
    assert!(bank.starts_with("/sandbox/vnpay/pay?"), "{bank}");
    assert!(bank.contains("vnp_Amount=1000000") && bank.contains("vnp_SecureHash="));
    let (status, page) = app.get_text(&bank).await;
    assert_eq!(status, 200);
    assert!(page.contains("10.000 đ"));
    // A tampered amount is refused by the bank, as the real gateway would.
    let (status, _) = app
        .get_text(&bank.replace("vnp_Amount=1000000", "vnp_Amount=100"))
        .await;
    assert_eq!(status, 400);

    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(bank.split_once('?').expect("query").1.as_bytes())
            .into_owned()
            .collect();
    form.push(("_csrf".into(), csrf_of(&page)));
    form.push(("decision".into(), "approve".into()));
    let res = app
        .client
        .post(format!("{}/sandbox/vnpay/pay", app.address))
        .form(&form)
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status().as_u16(), 303);
    let back = location(&res);
    assert!(back.starts_with("/payments/vnpay/return?"), "{back}");
    // The IPN, over HTTP, has filed the dossier before the browser is back.
    let code: String = dossiers::table
        .select(dossiers::code)
        .first(&mut app.db())
        .expect("the dossier was filed by the IPN");
    assert!(code.starts_with("00004.01.00.H01-"), "{code}");
    let res = app.get(&back).await;
    assert_eq!(location(&res), format!("/dossiers/{code}?new=1"));

    // Replayed, forged and wrong-amount notifications change nothing and are logged.
    let ipn_query = back.split_once('?').expect("query").1.to_string();
    let ipn = |q: String| {
        let address = app.address.clone();
        async move {
            let v: serde_json::Value = client()
                .get(format!("{address}/payments/vnpay/ipn?{q}"))
                .send()
                .await
                .expect("ipn")
                .json()
                .await
                .expect("json");
            v["RspCode"].as_str().unwrap_or_default().to_string()
        }
    };
    assert_eq!(ipn(ipn_query.clone()).await, "02", "replayed");
    assert_eq!(
        ipn(ipn_query.replace("vnp_Amount=1000000", "vnp_Amount=100")).await,
        "97",
        "forged"
    );
    let mut params: Vec<(String, String)> = form_urlencoded::parse(ipn_query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "vnp_SecureHash")
        .collect();
    for p in params.iter_mut() {
        if p.0 == "vnp_Amount" {
            p.1 = "500000".into();
        }
    }
    let secret = app.settings.payment.hash_secret.clone().expect("secret");
    let hash = portal::payments::sign(&secret, &params);
    params.push(("vnp_SecureHash".into(), hash));
    let signed = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    assert_eq!(ipn(signed).await, "04", "wrong amount");
    let count: i64 = dossiers::table
        .count()
        .get_result(&mut app.db())
        .expect("count");
    assert_eq!(count, 1);
    let outcomes: Vec<String> = payment_notifications::table
        .order(payment_notifications::id)
        .select(payment_notifications::outcome)
        .load(&mut app.db())
        .expect("log");
    assert_eq!(
        outcomes,
        ["paid", "replayed", "bad_signature", "wrong_amount"]
    );
}

/// The answers of a complete birth registration, as the pages store them.
pub fn birth_answers(phone: &str, email: &str) -> portal::domain::form_schema::Answers {
    [
        ("applicant_phone", phone),
        ("applicant_email", email),
        ("req_name", "Trần Thị Bình"),
        ("req_dob", "1995-03-04"),
        ("req_id", "001195012345"),
        ("req_relation", "Mẹ"),
        ("child_name", "Nguyễn Minh An"),
        ("child_dob", "2026-11-20"),
        ("child_sex", "nam"),
        ("child_ethnicity", "Kinh"),
        ("child_nationality", "Việt Nam"),
        ("birthplace_kind", "khac"),
        ("birthplace.province", "01"),
        ("birthplace.ward", "00004"),
        ("child_hometown", "Hà Nội"),
        ("mother_known", "co"),
        ("mother_name", "Trần Thị Bình"),
        ("mother_dob", "1995-03-04"),
        ("mother_ethnicity", "Kinh"),
        ("mother_nationality", "Việt Nam"),
        ("father_known", "khong"),
        ("parents_married", "khong"),
        ("copies_wanted", "khong"),
        ("signed_at", "Phường Ba Đình"),
        ("declaration", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `n` citizens, each with a complete birth-registration draft (certificate attached) at the
/// Ba Đình ward office; returns (user id, draft public id) pairs.
pub fn ready_drafts(
    conn: &mut portal::db::DbConnection,
    n: usize,
    tag: &str,
) -> Vec<(i64, String)> {
    use portal::db::{attachments as att, directory, drafts as dr, forms, users};
    use portal::domain::routing::{Level, decide};
    let now = chrono::Utc::now().naive_utc();
    let service = directory::routable_service(conn, "1.001193")
        .expect("query")
        .expect("service");
    let rules = directory::rules(conn).expect("rules");
    let rule = decide(&rules, &service.key(), Level::Commune)
        .expect("rule")
        .clone();
    let place = directory::Place {
        province: Some("01".into()),
        ward: Some("00004".into()),
    };
    let office = directory::office_for(conn, &rule, service.ministry_id, &place)
        .expect("query")
        .expect("office");
    let (version, _) =
        forms::current(conn, service.id, &service.code, &service.name).expect("form");
    (0..n)
        .map(|i| {
            let email = format!("c{i}.{tag}@example.vn");
            let user = users::insert_citizen(
                conn,
                &portal::domain::account::NewCitizen {
                    full_name: format!("Công dân {i}"),
                    email: email.clone(),
                    phone: format!("09{:08}", i),
                    cccd: format!("0010950{tag}{i:04}"),
                    date_of_birth: chrono::NaiveDate::from_ymd_opt(1995, 1, 1).expect("date"),
                    province_code: "01".into(),
                    ward_code: "00004".into(),
                    address: String::new(),
                },
                "x",
                now,
            )
            .expect("citizen");
            let public_id = format!("d{tag}{i:04}");
            dr::create(
                conn,
                &dr::NewDraft {
                    public_id: &public_id,
                    user_id: user,
                    service_id: service.id,
                    level: Level::Commune,
                    place: &place,
                    agency_id: office.id,
                    rule_id: Some(rule.id),
                    form_version: version,
                    state: &dr::DraftState {
                        answers: birth_answers(&format!("09{:08}", i), &email),
                        visited: Default::default(),
                        channel: None,
                    },
                    now,
                },
            )
            .expect("draft");
            let draft = dr::find_own(conn, &public_id, user)
                .expect("q")
                .expect("draft");
            att::add(
                conn,
                &att::NewAttachment {
                    public_id: &format!("f{tag}{i:04}"),
                    draft_id: draft.id,
                    owner_id: user,
                    slot: "birth_certificate",
                    file_name: "gcs.pdf",
                    content_type: "application/pdf",
                    size_bytes: 100,
                    sha256: "0",
                    storage_key: "att/none",
                    now,
                },
                5,
                1 << 30,
            )
            .expect("q")
            .expect("attached");
            (user, public_id)
        })
        .collect()
}

/// Submits a draft in-process, as the submit handler does.
pub fn submit_in_process(
    conn: &mut portal::db::DbConnection,
    user_id: i64,
    draft: &str,
) -> Result<portal::db::dossiers::Submitted, portal::db::dossiers::SubmitError> {
    let places = |p: &str, w: Option<&str>| match w {
        None => p == "01",
        Some(w) => p == "01" && w == "00004",
    };
    let email = |s: &portal::db::dossiers::Submitted| {
        Ok(portal::mail::RenderedEmail {
            subject: format!("Đã nhận hồ sơ {}", s.code),
            text: "x".into(),
            html: "<p>x</p>".into(),
        })
    };
    portal::db::dossiers::submit(
        conn,
        &portal::db::dossiers::SubmitInput {
            draft_public_id: draft,
            user_id,
            now: chrono::Utc::now().naive_utc(),
            place_exists: &places,
            email: &email,
        },
    )
}

#[test]
fn fifty_concurrent_submissions_to_one_office_get_codes_0001_to_0050() {
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let drafts = ready_drafts(&mut conn, 50, "7");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(drafts.len()));
    let handles: Vec<_> = drafts
        .into_iter()
        .map(|(user, draft)| {
            let url = url.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut conn = portal::db::establish(&url).expect("conn");
                barrier.wait();
                submit_in_process(&mut conn, user, &draft)
                    .map(|s| s.code)
                    .map_err(|e| format!("{e:?}"))
            })
        })
        .collect();
    let mut sequences: Vec<u32> = handles
        .into_iter()
        .map(|h| {
            let code = h.join().expect("thread").expect("submitted");
            portal::domain::dossier::DossierCode::parse(&code)
                .expect("a dossier code")
                .sequence()
        })
        .collect();
    sequences.sort_unstable();
    assert_eq!(
        sequences,
        (1..=50).collect::<Vec<u32>>(),
        "unique and gap-free"
    );
}

#[tokio::test]
async fn drafts_are_reminded_once_then_expire_with_their_files() {
    let url = fresh_database();
    let settings = test_settings(url.clone());
    let pool = portal::db::connect_pool(&url, 2).expect("pool");
    let mut conn = portal::db::establish(&url).expect("conn");
    let made = ready_drafts(&mut conn, 2, "8");
    let now = chrono::Utc::now().naive_utc();
    // The first expires in two days (reminder due), the second expired a minute ago.
    for ((_, public_id), expires) in made.iter().zip([
        now + chrono::Duration::days(2),
        now - chrono::Duration::minutes(1),
    ]) {
        diesel::update(drafts::table.filter(drafts::public_id.eq(public_id)))
            .set(drafts::expires_at.eq(expires))
            .execute(&mut conn)
            .expect("update");
    }
    // Two workers run the jobs: one reminder, one deletion, whoever gets there first.
    let a = portal::jobs::Jobs::new(pool.clone(), &settings).expect("jobs");
    let b = portal::jobs::Jobs::new(pool, &settings).expect("jobs");
    let first = a.run_once(now).await.expect("run");
    let second = b.run_once(now).await.expect("run");
    assert_eq!((first.reminded, second.reminded), (1, 0));
    assert_eq!(first.expired + second.expired, 1);
    let reminders: Vec<(String, String)> = {
        use portal::db::schema::outbox;
        outbox::table
            .select((outbox::to_address, outbox::subject))
            .load(&mut conn)
            .expect("outbox")
    };
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].0, "c0.8@example.vn");
    assert!(reminders[0].1.contains("sắp bị xóa"));
    let left: Vec<String> = drafts::table
        .select(drafts::public_id)
        .load(&mut conn)
        .expect("drafts");
    assert_eq!(left, vec![made[0].1.clone()], "the expired draft is gone");
    let files: i64 = attachments::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(files, 1, "with its attachment");
}

#[test]
fn staff_moves_follow_the_lifecycle_one_wins_a_race_and_the_citizen_is_told() {
    use portal::db::dossiers::{Move, MoveError, apply_move};
    use portal::domain::lifecycle::{Action, Actor};
    use portal::domain::status::Status;
    let url = fresh_database();
    let settings = test_settings(url.clone());
    let tera = portal::startup::load_templates(&settings).expect("templates");
    let messages = portal::i18n::Messages::load(&settings.locales_dir).expect("messages");
    let mut conn = portal::db::establish(&url).expect("conn");
    let (user, draft) = ready_drafts(&mut conn, 1, "9").remove(0);
    let code = submit_in_process(&mut conn, user, &draft)
        .expect("filed")
        .code;
    let office: i64 = dossiers::table
        .select(dossiers::agency_id)
        .first(&mut conn)
        .expect("office");
    let ours = move |d: &portal::db::dossiers::Dossier| d.agency_id == office;
    let theirs = move |d: &portal::db::dossiers::Dossier| d.agency_id != office;
    let email = |d: &portal::db::dossiers::Dossier, s: Status| {
        portal::mail::dossier_status(
            &tera,
            &messages,
            "http://portal.test",
            portal::i18n::Lang::Vi,
            d,
            s,
            "",
        )
    };
    let mut go = |action,
                  actor,
                  seen,
                  note: &str,
                  scope: &dyn Fn(&portal::db::dossiers::Dossier) -> bool| {
        apply_move(
            &mut conn,
            &Move {
                code: &code,
                action,
                actor,
                actor_id: None,
                seen_version: seen,
                note,
                now: chrono::Utc::now().naive_utc(),
                in_scope: scope,
                email: &email,
            },
        )
    };
    // Another office's officer does not even see it.
    assert!(matches!(
        go(Action::Accept, Actor::Officer, 0, "", &theirs),
        Err(MoveError::NotFound)
    ));
    // The citizen cannot accept their own dossier.
    assert!(matches!(
        go(Action::Accept, Actor::Citizen, 0, "", &ours),
        Err(MoveError::Refused(_))
    ));
    let accepted = go(Action::Accept, Actor::Officer, 0, "", &ours).expect("accepted");
    assert_eq!(
        (accepted.status, accepted.lock_version),
        (Status::Accepted, 1)
    );
    // A second officer who opened the page before that sees the conflict and the new state.
    assert!(matches!(
        go(Action::Refuse, Actor::Officer, 0, "Thiếu giấy tờ", &ours),
        Err(MoveError::Conflict(Status::Accepted))
    ));
    // An illegal move says so.
    assert!(matches!(
        go(Action::Deliver, Actor::Lead, 1, "", &ours),
        Err(MoveError::Refused(_))
    ));
    // Asking for documents needs the list of what is missing.
    assert!(matches!(
        go(Action::RequestSupplement, Actor::Officer, 1, "  ", &ours),
        Err(MoveError::NoteRequired)
    ));
    let asked = go(
        Action::RequestSupplement,
        Actor::Officer,
        1,
        "Bản sao giấy chứng sinh",
        &ours,
    )
    .expect("asked");
    assert_eq!(asked.status, Status::SupplementRequested);
    let back =
        go(Action::Supplement, Actor::Citizen, 2, "Đã bổ sung", &ours).expect("supplemented");
    assert_eq!(back.status, Status::Processing);
    assert!(back.due_at >= asked.due_at, "the limit restarts in full");
    let events: Vec<(String, Option<i32>, i32, String)> = {
        use portal::db::schema::dossier_events as e;
        e::table
            .order(e::id)
            .select((e::action, e::from_status, e::to_status, e::note))
            .load(&mut conn)
            .expect("timeline")
    };
    let actions: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        actions,
        ["submit", "accept", "request_supplement", "supplement"]
    );
    assert_eq!(events[2].3, "Bản sao giấy chứng sinh");
    let subjects: Vec<String> = {
        use portal::db::schema::outbox;
        outbox::table
            .filter(outbox::to_address.eq("c0.9@example.vn"))
            .order(outbox::id)
            .select(outbox::subject)
            .load(&mut conn)
            .expect("outbox")
    };
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    assert!(subjects[1].contains("Được tiếp nhận"));
    assert!(subjects[2].contains("Yêu cầu bổ sung giấy tờ"));
}

#[tokio::test]
async fn the_handling_office_works_the_dossier_and_no_other_office_sees_it() {
    use portal::domain::account::Role;
    let app = spawn_app().await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    complete_birth_draft(&app, &draft).await;
    let res = submit(&app, &draft).await;
    let code = location(&res)
        .trim_start_matches("/dossiers/")
        .trim_end_matches("?new=1")
        .to_string();
    let file: String = attachments::table
        .select(attachments::public_id)
        .first(&mut app.db())
        .expect("file");
    let office = |id: &str| -> i64 {
        use portal::db::schema::agencies;
        agencies::table
            .filter(agencies::office_id.eq(id))
            .select(agencies::id)
            .first(&mut app.db())
            .expect("office")
    };
    let mut members = Vec::new();
    for (email, office_id) in [
        ("a@ubnd.vn", "00004.00.00.H01"),
        ("b@ubnd.vn", "00008.00.00.H01"),
    ] {
        let id = crate::authz::create_staff(&app, email, Role::Officer);
        portal::db::agency_members::add(&mut app.db(), id, office(office_id), false)
            .expect("member");
        let http = client();
        crate::authz::enrol(&app, &http, email).await;
        members.push(http);
    }
    let (ours, theirs) = (&members[0], &members[1]);
    let get = |http: &reqwest::Client, path: String| {
        let http = http.clone();
        let address = app.address.clone();
        async move {
            let res = http
                .get(format!("{address}{path}"))
                .send()
                .await
                .expect("get");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let (status, queue) = get(ours, "/staff".into()).await;
    assert_eq!(status, 200);
    assert!(queue.contains(&code));
    assert!(!get(theirs, "/staff".into()).await.1.contains(&code));
    for path in [format!("/staff/dossiers/{code}"), format!("/files/{file}")] {
        assert_eq!(get(theirs, path.clone()).await.0, 404, "{path}");
    }
    assert_eq!(
        get(ours, format!("/files/{file}")).await.0,
        200,
        "the office reads the file"
    );
    assert_eq!(
        app.get_text("/staff").await.0,
        403,
        "citizens have no workspace"
    );

    let (status, page) = get(ours, format!("/staff/dossiers/{code}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Tiếp nhận") && page.contains("Mới đăng ký"));
    // The application as filed: answers read with their labels, the documents.
    assert!(page.contains("Nguyễn Minh An") && page.contains("Bệnh viện Phụ sản Hà Nội"));
    assert!(page.contains("giay-chung-sinh.pdf") && page.contains(&format!("/files/{file}")));
    let csrf = csrf_of(&page);
    let act = |http: &reqwest::Client, fields: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{}/staff/dossiers/{code}", app.address);
        async move {
            let res = http.post(url).form(&fields).send().await.expect("post");
            (res.status().as_u16(), res.text().await.expect("body"))
        }
    };
    let (status, _) = act(
        ours,
        vec![
            ("_csrf", csrf.clone()),
            ("action", "accept".into()),
            ("version", "0".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    // The same page, still open in a second tab: the second move conflicts and says so.
    let (status, html) = act(
        ours,
        vec![
            ("_csrf", csrf.clone()),
            ("action", "refuse".into()),
            ("version", "0".into()),
            ("note", "Thiếu giấy tờ".into()),
        ],
    )
    .await;
    assert_eq!(status, 409);
    assert!(html.contains("vừa được người khác xử lý") && html.contains("Được tiếp nhận"));
    let (status, _) = act(
        theirs,
        vec![
            ("_csrf", csrf),
            ("action", "start".into()),
            ("version", "1".into()),
        ],
    )
    .await;
    assert!(status == 404 || status == 403, "{status}");
    let (subject, _) = last_email(&app, "dan@example.vn").expect("email");
    assert!(subject.contains("Được tiếp nhận"), "{subject}");
    // The citizen sees the new status.
    let (_, mine) = app.get_text(&format!("/dossiers/{code}")).await;
    assert!(mine.contains("Được tiếp nhận"));
}
