//! Every SQL statement lives under this module: the pool, the connection over both backends,
//! migrations, and one module per aggregate. Functions here return `QueryResult`/`anyhow` and
//! never know about HTTP.

pub mod account_tokens;
pub mod accounts;
pub mod agency_members;
pub mod api_tokens;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod catalogue;
pub mod directory;
pub mod dossiers;
pub mod drafts;
pub mod forms;
pub mod generate;
pub mod login_failures;
pub mod offices;
pub mod open311;
pub mod outbox;
pub mod payments;
pub mod people;
pub mod rate_limits;
pub mod results;
pub mod routing;
pub mod schema;
pub mod second_factor;
pub mod seed;
pub mod service_admin;
pub mod sessions;
pub mod stats;
pub mod types;
pub mod users;
pub mod webhooks;
pub mod workspace;

use std::time::Duration;

use anyhow::{Context, Result};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; statements that differ match on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete backend connection, for the few statements
/// (bulk inserts, upserts, migrations) that `MultiConnection` cannot express.
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend is chosen by the URL's scheme: SQLite would accept any string as a path.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// `sqlite://var/portal.db`, `sqlite:var/portal.db` or a plain path → the file path.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

pub struct ConnectionManager {
    url: String,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        ConnectionManager {
            url: url.to_string(),
        }
    }
}

pub fn establish(url: &str) -> ConnectionResult<DbConnection> {
    match Backend::from_url(url) {
        Backend::Postgres => diesel::PgConnection::establish(url).map(DbConnection::Postgresql),
        Backend::Sqlite => {
            let mut c = diesel::SqliteConnection::establish(sqlite_path(url))?;
            // WAL lets readers run beside the writer; the busy timeout makes writers queue instead of failing.
            // The busy timeout first: switching to WAL needs a lock, and a new connection made
            // while a long write transaction runs must wait for it, not fail.
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
            Ok(DbConnection::Sqlite(c))
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        establish(&self.url).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Creates the SQLite file's folder if needed and builds the pool.
pub fn connect_pool(url: &str, max_size: u32) -> Result<Pool> {
    if Backend::from_url(url) == Backend::Sqlite {
        let path = std::path::Path::new(sqlite_path(url));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::new(url))
        .with_context(|| format!("connecting to the database ({})", redact(url)))
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Applies pending migrations of the connection's backend.
pub fn migrate(conn: &mut DbConnection) -> Result<usize> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| anyhow::anyhow!("running migrations: {e}"))
}

/// Runs `f` in one transaction: everything it writes lands together or not at all.
///
/// On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`): a deferred
/// transaction that reads and then writes fails with "database is locked" when another writer
/// committed in between, and no busy timeout can save it. Nested calls become savepoints.
pub fn transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConnection::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(inner)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE").map_err(E::from)?;
    let result = f(conn);
    let DbConnection::Sqlite(inner) = conn else {
        return result;
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(inner).map_err(E::from)?;
            Ok(value)
        }
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(inner);
            Err(e)
        }
    }
}

/// For `/readyz`.
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Backend::from_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("sqlite://var/p.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("var/p.db"), Backend::Sqlite);
        assert_eq!(sqlite_path("sqlite://var/p.db"), "var/p.db");
        assert_eq!(sqlite_path("sqlite:/tmp/x.db"), "/tmp/x.db");
    }

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact("postgres://portal:secret@db:5432/portal"),
            "postgres://portal:***@db:5432/portal"
        );
        assert_eq!(redact("sqlite://var/p.db"), "sqlite://var/p.db");
    }

    /// Both migration folders must hold the same migrations (names), so both backends evolve together.
    #[test]
    fn migration_folders_match() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let list = |b: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(root.join(b))
                .expect("migrations dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let (s, p) = (list("sqlite"), list("postgres"));
        assert!(!s.is_empty());
        assert_eq!(s, p);
        for name in &s {
            for f in ["up.sql", "down.sql"] {
                assert!(
                    root.join("sqlite").join(name).join(f).exists(),
                    "sqlite/{name}/{f}"
                );
                assert!(
                    root.join("postgres").join(name).join(f).exists(),
                    "postgres/{name}/{f}"
                );
            }
        }
    }
}
