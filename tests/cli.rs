//! The command line as scripts use it: subcommands, `--help`, and exit codes (0 done, 1 the
//! task failed, 2 a usage error). Runs the real binary.

use std::process::Command;

fn portal(args: &[&str], db: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env(
            "PORTAL_DATA_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/data"),
        )
        .env("RUST_LOG", "error")
        .output()
        .expect("run the portal binary")
}

#[test]
fn seed_on_an_empty_database_with_demo_mode_then_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("portal.db");
    let first = portal(&["seed"], &db);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("services_inserted: 2625"), "{out}");
    let again = portal(&["seed"], &db);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains("skipped: true"));
}

#[test]
fn usage_errors_exit_2_and_failures_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("portal.db");
    assert_eq!(portal(&["nope"], &db).status.code(), Some(2));
    assert_eq!(
        portal(&["admin", "create", "--email", "a@b.vn"], &db)
            .status
            .code(),
        Some(2)
    );
    let help = portal(&["admin", "create", "--help"], &db);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--email"));
    // A task that fails: an address the portal refuses.
    let bad = portal(
        &["admin", "create", "--email", "not-an-email", "--name", "X"],
        &db,
    );
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
}
