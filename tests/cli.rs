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

/// `portal generate` builds the scoreboard's cells; `portal stats check` finds them equal to the
/// timeline, names a cell someone changed behind the portal's back (exit 1), and `portal stats
/// rebuild` puts it right.
#[test]
fn stats_check_finds_a_tampered_cell_and_rebuild_repairs_it() {
    use diesel::prelude::*;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("portal.db");
    let made = portal(&["generate", "--dossiers", "500", "--offices", "3"], &db);
    assert_eq!(made.status.code(), Some(0), "{made:?}");
    let check = portal(&["stats", "check"], &db);
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("0 difference(s)"));
    let mut conn = diesel::SqliteConnection::establish(&db.display().to_string()).expect("db");
    let year: String = diesel::sql_query(
        "SELECT period FROM stat_cells WHERE scope = 'portal' AND length(period) = 4 \
         ORDER BY received DESC LIMIT 1",
    )
    .get_result::<Period>(&mut conn)
    .expect("a year")
    .period;
    diesel::sql_query(format!(
        "UPDATE stat_cells SET received = received + 1 WHERE scope = 'portal' AND period = '{year}'"
    ))
    .execute(&mut conn)
    .expect("tamper");
    let check = portal(&["stats", "check"], &db);
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    let out = String::from_utf8_lossy(&check.stdout);
    assert!(
        out.contains(&format!("portal  {year}: received kept")),
        "{out}"
    );
    assert!(out.contains("1 difference(s)"), "{out}");
    let rebuilt = portal(&["stats", "rebuild"], &db);
    assert_eq!(rebuilt.status.code(), Some(0), "{rebuilt:?}");
    assert!(String::from_utf8_lossy(&rebuilt.stdout).contains("500 dossiers"));
    assert_eq!(portal(&["stats", "check"], &db).status.code(), Some(0));
    // A database whose dossiers lack their contributions (as before the indicators existed):
    // the next start rebuilds them.
    diesel::sql_query("DELETE FROM stat_cells")
        .execute(&mut conn)
        .expect("empty the cells");
    diesel::sql_query("DELETE FROM dossier_stats")
        .execute(&mut conn)
        .expect("empty the contributions");
    let check = portal(&["stats", "check"], &db);
    assert_eq!(check.status.code(), Some(0), "{check:?}");
    let cells: i64 = diesel::sql_query("SELECT COUNT(*) AS n FROM stat_cells")
        .get_result::<Count>(&mut conn)
        .expect("cells")
        .n;
    assert!(cells > 0, "rebuilt at start");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Period {
    #[diesel(sql_type = diesel::sql_types::Text)]
    period: String,
}
