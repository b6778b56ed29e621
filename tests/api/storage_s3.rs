//! Uploads in an S3-compatible store: the same journey against a real S3 server on loopback
//! (moto's server, which `.ci/run` installs); skipped when it is missing, unless
//! `PORTAL_REQUIRE_S3=1` says it must run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portal::db::schema::attachments;

use crate::accounts::{csrf_of, registered_citizen};
use crate::applications::{pdf_bytes, start_draft, upload};
use crate::common::{fresh_database, spawn_with, test_settings};

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const BUCKET: &str = "portal-uploads";

async fn moto() -> Option<Moto> {
    let required = std::env::var("PORTAL_REQUIRE_S3").is_ok_and(|v| v == "1");
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("moto_server"))
            .find(|p| p.is_file())
    });
    let Some(bin) = found else {
        assert!(
            !required,
            "moto_server not found (pip install 'moto[server]')"
        );
        eprintln!("skipped: moto_server not found (pip install 'moto[server]')");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(res) = http.put(format!("{}/{BUCKET}", moto.endpoint)).send().await
            && res.status().is_success()
        {
            return Some(moto);
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not start within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn uploads_live_in_an_s3_bucket_and_come_back_intact() {
    let Some(moto) = moto().await else { return };
    let mut settings = test_settings(fresh_database());
    settings.s3 = Some(portal::storage::S3Settings {
        endpoint: moto.endpoint.clone(),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    });
    let app = spawn_with(settings).await;
    registered_citizen(&app, "dan@example.vn", "001195012345").await;
    let draft = start_draft(&app, "1.001193", "commune", "01", "00004").await;
    // Over one 5 MiB part: a real multipart upload.
    let mut big = pdf_bytes();
    big.truncate(big.len() - 6);
    big.extend((0..6 * 1024 * 1024).map(|i| b'a' + (i % 26) as u8));
    big.extend(b"\n%%EOF\n");
    let res = upload(
        &app,
        &draft,
        "birth_certificate",
        "giay-chung-sinh.pdf",
        big.clone(),
    )
    .await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (public_id, key, sha): (String, String, String) = attachments::table
        .select((
            attachments::public_id,
            attachments::storage_key,
            attachments::sha256,
        ))
        .first(&mut app.db())
        .expect("kept");
    // In the bucket, byte for byte.
    let http = reqwest::Client::new();
    let stored = http
        .get(format!("{}/{BUCKET}/{key}", moto.endpoint))
        .send()
        .await
        .expect("get");
    let listing = http
        .get(format!("{}/{BUCKET}", moto.endpoint))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("body");
    assert_eq!(stored.status().as_u16(), 200, "{key} in {listing}");
    assert_eq!(
        stored.bytes().await.expect("bytes").as_ref(),
        big.as_slice()
    );
    use sha2::Digest;
    assert_eq!(
        sha,
        data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&big))
    );
    // Downloaded through the portal, intact.
    let got = app.get(&format!("/files/{public_id}")).await;
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), big.as_slice());
    // Removed from the draft: gone from the bucket.
    let (_, html) = app.get_text(&format!("{draft}/documents")).await;
    let res = app
        .client
        .post(format!(
            "{}{draft}/documents/{public_id}/delete",
            app.address
        ))
        .form(&[("_csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status().as_u16(), 303);
    let gone = http
        .get(format!("{}/{BUCKET}/{key}", moto.endpoint))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status().as_u16(), 404);
}
