//! Opening the database: SQLite (embedded default) or PostgreSQL, chosen by
//! the URL scheme, with the same migrations on both.
//!
//! Migrations run under a lock, so N instances (or `serve` and `migrate`)
//! starting together apply each migration once: the first to take the lock
//! migrates, the others wait for it and then find nothing pending. On
//! PostgreSQL the lock is the session-level advisory lock
//! [`MIGRATION_LOCK_KEY`]; on SQLite it is an exclusive OS file lock on
//! `<database file>.migrate.lock` beside the database.

use std::{
    collections::HashMap,
    fs::File,
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex, PoisonError},
    time::Duration,
};

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, TransactionTrait as _,
};

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbOpenError {
    /// The SQLite file's directory could not be created.
    #[error("cannot create the directory for the SQLite database {dir}: {source}")]
    CreateDir {
        /// The directory.
        dir: String,
        /// Why not.
        source: std::io::Error,
    },
    /// Connecting or configuring failed.
    #[error("cannot open the database: {0}")]
    Connect(#[from] DbErr),
    /// The SQLite migration lock file could not be opened or locked.
    #[error("cannot take the migration lock {path}: {source}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// The PostgreSQL migration advisory lock could not be taken or released.
    #[error("cannot take or release the migration advisory lock: {0}")]
    AdvisoryLock(#[source] sea_orm::sqlx::Error),
    /// The task waiting for the SQLite lock file died.
    #[error("the task waiting for the migration lock failed: {0}")]
    LockTask(#[from] tokio::task::JoinError),
}

/// The PostgreSQL advisory lock key that migrations run under (session
/// level, `pg_advisory_lock`): the ASCII bytes of `"brand_gw"` as a
/// big-endian `i64`, 7093839489820223351. Fixed, so every version of the gateway takes the same
/// lock; other applications sharing the database must not use it.
pub const MIGRATION_LOCK_KEY: i64 = i64::from_be_bytes(*b"brand_gw");

/// Reads a value of a fixed set that is stored as text (an event's action,
/// a revision's review …). A value the code does not know is corrupt data,
/// an internal error, never a silent default.
pub fn stored<T: std::str::FromStr>(column: &'static str, value: &str) -> Result<T, DbErr> {
    value
        .parse()
        .map_err(|_| DbErr::Type(format!("unknown value `{value}` stored in {column}")))
}

/// Connects, creating the SQLite file (and its directory) on first use, with
/// WAL, foreign keys and a busy timeout so concurrent writers wait instead
/// of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbOpenError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if let Some(path) = sqlite_path(url) {
        create_parent_dir(path)?;
        options.max_connections(8).map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .create_if_missing(true)
        });
    } else {
        options.max_connections(16);
    }
    Ok(Database::connect(options).await?)
}

/// This process's turn to write one SQLite file, held until the
/// transaction it was taken for ends (nothing on PostgreSQL).
pub(crate) struct WriteTurn {
    _held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// A turn per SQLite file, for one kind of this process's writers.
type Turns = LazyLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>>;

/// The busy paths' turns ([`begin_write`]).
static SQLITE_TURNS: Turns = LazyLock::new(Mutex::default);

/// The turns of writes nobody waits for ([`background_turn`]).
static SQLITE_BACKGROUND_TURNS: Turns = LazyLock::new(Mutex::default);

/// Waits for this process's turn in `turns` to write `db`'s SQLite file
/// (nothing on PostgreSQL).
async fn take_turn(turns: &Turns, db: &DatabaseConnection) -> WriteTurn {
    let held = if db.get_database_backend() == DbBackend::Sqlite {
        let file = db
            .get_sqlite_connection_pool()
            .connect_options()
            .get_filename()
            .to_owned();
        let gate = turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(file)
            .or_default()
            .clone();
        Some(gate.lock_owned().await)
    } else {
        None
    };
    WriteTurn { _held: held }
}

/// Begins a transaction that will write at once and soon, on a busy path
/// (redemptions, orders, refunds). On SQLite, which has one writer per
/// file, this process's writers queue for their turn first, in arrival
/// order, instead of each retrying the file's lock with SQLite's growing
/// sleeps (which stretched the tail: placeOrder's p99 at 16 clients went
/// from 146 to 75 ms with turns); writers in other processes still wait
/// on the file's lock. On PostgreSQL rows are locked as the transaction
/// goes.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(WriteTurn, DatabaseTransaction), DbErr> {
    let turn = take_turn(&SQLITE_TURNS, db).await;
    Ok((turn, db.begin().await?))
}

/// This process's turn for a write nobody waits for (entry figures kept
/// for later reads). On SQLite such writes take turns among themselves,
/// per file: at most one holds a pooled connection while it waits for the
/// file's lock (which a load or an epoch build holds for minutes), and
/// none holds the busy paths' turn ([`begin_write`]), which would keep
/// them waiting behind it. Nothing on PostgreSQL.
pub(crate) async fn background_turn(db: &DatabaseConnection) -> WriteTurn {
    take_turn(&SQLITE_BACKGROUND_TURNS, db).await
}

/// Begins a transaction for reads only (enforced on PostgreSQL) that reads
/// one state of the database throughout: on SQLite a deferred transaction,
/// which in WAL mode reads from the snapshot its first read takes; on
/// PostgreSQL REPEATABLE READ (each statement of a default transaction
/// sees what has committed before it).
pub(crate) async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

/// Connects and applies pending migrations under the migration lock
/// (module docs), so concurrent callers on one database, in one process or
/// many, each see every migration applied exactly once. Waits as long as
/// another holder keeps the lock.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbOpenError> {
    // On SQLite the lock is taken before connecting: the first connection
    // to a new file switches it to WAL, which needs the file to itself, so
    // instances opening a new file together would see it locked.
    let lock = match sqlite_path(url) {
        Some(path) => {
            create_parent_dir(path)?;
            Some(lock_file(lock_path(path)).await?)
        }
        None => None,
    };
    let db = connect(url).await?;
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => migrate_under_advisory_lock(&db).await?,
        // In-memory SQLite is one connection's private database: no lock.
        _ => {
            let migrated = Migrator::up(&db, None).await;
            // Closing the file releases the lock, on error too.
            drop(lock);
            migrated?;
        }
    }
    Ok(db)
}

/// Creates the directory a SQLite file is to live in.
fn create_parent_dir(path: &str) -> Result<(), DbOpenError> {
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| DbOpenError::CreateDir {
            dir: dir.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Runs the migrations while one dedicated session holds
/// [`MIGRATION_LOCK_KEY`]. The session is a connection taken out of the
/// pool and closed afterwards (and on drop, should the future be
/// cancelled), so the lock never outlives this call in a pooled connection.
async fn migrate_under_advisory_lock(db: &DatabaseConnection) -> Result<(), DbOpenError> {
    use sea_orm::sqlx;
    let mut session = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(DbOpenError::AdvisoryLock)?;
    session.close_on_drop();
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .fetch_one(&mut *session)
        .await
        .map_err(DbOpenError::AdvisoryLock)?;
    if !taken {
        tracing::info!("another instance is migrating the database; waiting for it");
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *session)
            .await
            .map_err(DbOpenError::AdvisoryLock)?;
    }
    let migrated = Migrator::up(db, None).await;
    let released = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK_KEY)
        .fetch_one(&mut *session)
        .await;
    // Closing the session releases the lock whatever the unlock said.
    let closed = session.close().await;
    migrated?;
    match released {
        Ok(true) => {}
        Ok(false) => tracing::warn!("the migration advisory lock was not held at unlock"),
        Err(error) => return Err(DbOpenError::AdvisoryLock(error)),
    }
    closed.map_err(DbOpenError::AdvisoryLock)
}

/// `<database file>.migrate.lock`, beside the database.
fn lock_path(database: &str) -> PathBuf {
    let mut name = Path::new(database).as_os_str().to_owned();
    name.push(".migrate.lock");
    PathBuf::from(name)
}

/// Opens (creating) `path` and takes an exclusive lock on it, waiting for
/// any other holder, on a blocking thread. The lock lasts until the
/// returned file is closed.
async fn lock_file(path: PathBuf) -> Result<File, DbOpenError> {
    tokio::task::spawn_blocking(move || {
        let locked = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .and_then(|file| {
                if file.try_lock().is_err() {
                    tracing::info!("another instance is migrating the database; waiting for it");
                    file.lock()?;
                }
                Ok(file)
            });
        locked.map_err(|source| DbOpenError::LockFile { path, source })
    })
    .await?
}

/// The file path of a `sqlite:` URL, or `None` for other engines and for
/// in-memory SQLite.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Checks the database answers; used by `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::{lock_path, sqlite_path};

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db")
        );
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[test]
    fn the_migration_lock_key_is_the_documented_one() {
        assert_eq!(super::MIGRATION_LOCK_KEY, 7_093_839_489_820_223_351);
    }

    #[test]
    fn the_sqlite_lock_file_sits_beside_the_database() {
        assert_eq!(
            lock_path("data/x.db"),
            std::path::PathBuf::from("data/x.db.migrate.lock")
        );
    }
}
