//! Opening the database: SQLite (embedded default) or PostgreSQL, chosen by
//! the URL scheme, with the same migrations on both.

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbErr};

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
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| DbOpenError::CreateDir {
                dir: dir.display().to_string(),
                source,
            })?;
        }
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

/// Connects and applies pending migrations.
pub async fn connect_and_migrate(url: &str) -> Result<DatabaseConnection, DbOpenError> {
    let db = connect(url).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
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
    use super::sqlite_path;

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
}
