//! Seeding is idempotent, notices when the seed data changed, and keeps administrators' decisions.

use std::io::{BufRead, Write};

use crate::common::{fresh_database, root, spawn_with, test_settings};
use diesel::prelude::*;
use portal::db::schema::{agencies, services};

#[tokio::test]
async fn second_start_reuses_the_database_and_a_changed_seed_is_applied() {
    let url = fresh_database();
    let mut conn = portal::db::establish(&url).expect("conn");
    let data = root().join("data");
    let again = portal::db::seed::run(&mut conn, &data).expect("seed");
    assert!(again.skipped, "same seed files: nothing to do");

    // An administrator's level survives reseeding.
    assert!(portal::db::catalogue::set_online_level(&mut conn, "1.000005", 1).expect("set"));

    // A new release of the seed data renames one procedure.
    let dir = tempfile::tempdir().expect("tmp");
    for f in [
        "admin_units.json",
        "holidays.csv",
        "synonyms.csv",
        "directory.json",
        "routing_rules.csv",
    ] {
        std::fs::copy(data.join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("forms")).expect("forms dir");
    for entry in std::fs::read_dir(data.join("forms")).expect("forms") {
        let path = entry.expect("entry").path();
        std::fs::copy(
            &path,
            dir.path()
                .join("forms")
                .join(path.file_name().expect("name")),
        )
        .expect("copy form");
    }
    let offices_before: Vec<(i64, String)> = agencies::table
        .order(agencies::id)
        .select((agencies::id, agencies::office_id))
        .load(&mut conn)
        .expect("offices");
    assert_eq!(
        offices_before.len(),
        7 + 34 * 10 + 3321 * 2,
        "the directory"
    );
    let input = flate2::read::GzDecoder::new(
        std::fs::File::open(data.join("procedures.jsonl.gz")).expect("open"),
    );
    let mut out = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("procedures.jsonl.gz")).expect("create"),
        flate2::Compression::fast(),
    );
    for line in std::io::BufReader::new(input).lines() {
        let line = line.expect("line");
        let line = if line.contains("\"code\": \"1.001193\"")
            || line.contains("\"code\":\"1.001193\"")
        {
            line.replace(
                "Thủ tục đăng ký khai sinh",
                "Thủ tục đăng ký khai sinh (sửa đổi)",
            )
        } else if line.contains("\"code\": \"1.000005\"") || line.contains("\"code\":\"1.000005\"")
        {
            line.replace("Thủ tục hải quan", "Thủ tục Hải quan")
        } else {
            line
        };
        writeln!(out, "{line}").expect("write");
    }
    out.finish().expect("finish");

    let report = portal::db::seed::run(&mut conn, dir.path()).expect("reseed");
    assert!(!report.skipped);
    let offices_after: Vec<(i64, String)> = agencies::table
        .order(agencies::id)
        .select((agencies::id, agencies::office_id))
        .load(&mut conn)
        .expect("offices");
    assert_eq!(
        offices_after, offices_before,
        "office identifiers are stable across reseeds"
    );
    assert_eq!(report.services_updated, 2);
    assert_eq!(report.services_inserted, 0);
    assert_eq!(report.services_unchanged, 2623);
    let (name, version): (String, i32) = services::table
        .filter(services::code.eq("1.001193"))
        .select((services::name, services::version))
        .first(&mut conn)
        .expect("row");
    assert_eq!(name, "Thủ tục đăng ký khai sinh (sửa đổi)");
    assert_eq!(version, 2);
    let (level, source): (i32, String) = services::table
        .filter(services::code.eq("1.000005"))
        .select((services::online_level, services::online_level_source))
        .first(&mut conn)
        .expect("row");
    assert_eq!(
        (level, source.as_str()),
        (1, "admin"),
        "the administrator's level is kept"
    );
    assert!(
        portal::db::seed::run(&mut conn, dir.path())
            .expect("again")
            .skipped
    );

    // The app started on this database serves the new name.
    let mut settings = test_settings(url);
    settings.data_dir = dir.path().to_path_buf();
    let app = spawn_with(settings).await;
    let (_, html) = app.get_text("/services/1.001193").await;
    assert!(html.contains("Thủ tục đăng ký khai sinh (sửa đổi)"));
}
