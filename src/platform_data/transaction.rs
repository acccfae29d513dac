//! The transaction a load runs in. sea-orm's own transaction turns a
//! statement's values into the driver's arguments on the task that then
//! waits for the database, so the next statement's values could only be
//! encoded after the database had finished this one: in a `perf` profile of
//! a 10M seed (6fbf252), that hand-off took about 28 s of a 100 s load with
//! SQLite idle. This transaction runs inserts whose arguments the writer
//! has already encoded, with the conversion sea-orm's driver uses
//! (`sea-query-sqlx`'s `SqlxValues`), and runs the load's other statements
//! (the checks, the clearing, the records) as sea-orm's [`ConnectionTrait`],
//! so those are still sea-orm's.

use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement, Values,
    prelude::async_trait,
    sqlx::{
        self, AssertSqlSafe, IntoArguments, Postgres, Sqlite, postgres::PgArguments,
        sqlite::SqliteArguments,
    },
};
use sea_query_sqlx::SqlxValues;
use std::sync::Arc;
use tokio::sync::Mutex;

/// A load's transaction (module docs): begun like sea-orm's `db.begin()`
/// (a deferred `BEGIN` on SQLite) on a connection of the same pool, and
/// rolled back when dropped without [`LoadTransaction::commit`].
pub struct LoadTransaction {
    /// Locked per statement: sea-orm's [`ConnectionTrait`] takes `&self`.
    open: Mutex<Open>,
    engine: Engine,
}

enum Open {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// The databases a load runs on, for the statements made for it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// sea-orm's name for it, to build statements with.
    pub(super) fn backend(self) -> DatabaseBackend {
        match self {
            Self::Sqlite => DatabaseBackend::Sqlite,
            Self::Postgres => DatabaseBackend::Postgres,
        }
    }
}

/// A statement ready for the database: its text and its values, already
/// in the driver's form.
pub(super) struct Encoded {
    /// The statement's text (the tests read which table it writes).
    pub(super) sql: String,
    arguments: Arguments,
}

enum Arguments {
    Sqlite(SqliteArguments),
    Postgres(PgArguments),
}

impl Encoded {
    /// Converts sea-orm's statement into `engine`'s arguments, as sea-orm's
    /// own driver would, on the caller's thread.
    pub(super) fn new(statement: Statement, engine: Engine) -> Self {
        let values = SqlxValues(statement.values.unwrap_or(Values(Vec::new())));
        let arguments = match engine {
            Engine::Sqlite => Arguments::Sqlite(IntoArguments::<Sqlite>::into_arguments(values)),
            Engine::Postgres => {
                Arguments::Postgres(IntoArguments::<Postgres>::into_arguments(values))
            }
        };
        Self {
            sql: statement.sql,
            arguments,
        }
    }
}

impl LoadTransaction {
    /// Begins a transaction on a connection of `db`'s pool.
    pub async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let (open, engine) = match db.get_database_backend() {
            DatabaseBackend::Sqlite => (
                db.get_sqlite_connection_pool()
                    .begin()
                    .await
                    .map(Open::Sqlite),
                Engine::Sqlite,
            ),
            DatabaseBackend::Postgres => (
                db.get_postgres_connection_pool()
                    .begin()
                    .await
                    .map(Open::Postgres),
                Engine::Postgres,
            ),
            _ => {
                let only = "platform data loads into SQLite or PostgreSQL";
                return Err(DbErr::Custom(only.to_owned()));
            }
        };
        // sea-orm's forms: a pool that cannot give a connection, or a
        // `BEGIN` that failed.
        let open = open.map_err(|error| match error {
            sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            error => query_error(error),
        })?;
        Ok(Self {
            open: Mutex::new(open),
            engine,
        })
    }

    /// The database the transaction is on.
    pub(super) fn engine(&self) -> Engine {
        self.engine
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbErr> {
        match self.open.into_inner() {
            Open::Sqlite(open) => open.commit().await,
            Open::Postgres(open) => open.commit().await,
        }
        .map_err(query_error)
    }

    /// Runs a statement encoded for [`LoadTransaction::engine`].
    pub(super) async fn execute_encoded(&self, encoded: Encoded) -> Result<ExecResult, DbErr> {
        let sql = AssertSqlSafe(encoded.sql);
        match (&mut *self.open.lock().await, encoded.arguments) {
            (Open::Sqlite(open), Arguments::Sqlite(arguments)) => sqlx::query_with(sql, arguments)
                .execute(&mut **open)
                .await
                .map(Into::into),
            (Open::Postgres(open), Arguments::Postgres(arguments)) => {
                sqlx::query_with(sql, arguments)
                    .execute(&mut **open)
                    .await
                    .map(Into::into)
            }
            _ => unreachable!("statements are encoded for the transaction's own engine"),
        }
        .map_err(exec_error)
    }
}

/// sea-orm's form of a failed statement, so it reads as any other.
fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

/// sea-orm's form of a failed query, so it reads as any other.
fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

/// sea-orm's statements (checks, clearing, records) on the load's
/// transaction, through the same sqlx calls and value conversion as
/// sea-orm's driver. Unlike it, a one-row query fetches all rows (these
/// return one), and the connection's metric callback does not see these
/// statements (the server's connection never runs a load).
#[async_trait::async_trait]
impl ConnectionTrait for LoadTransaction {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.engine.backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.execute_encoded(Encoded::new(statement, self.engine))
            .await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()));
        match &mut *self.open.lock().await {
            Open::Sqlite(open) => sql.execute(&mut **open).await.map(Into::into),
            Open::Postgres(open) => sql.execute(&mut **open).await.map(Into::into),
        }
        .map_err(exec_error)
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query_all_raw(statement).await?.into_iter().next())
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let Encoded { sql, arguments } = Encoded::new(statement, self.engine);
        let sql = AssertSqlSafe(sql);
        match (&mut *self.open.lock().await, arguments) {
            (Open::Sqlite(open), Arguments::Sqlite(arguments)) => sqlx::query_with(sql, arguments)
                .fetch_all(&mut **open)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect()),
            (Open::Postgres(open), Arguments::Postgres(arguments)) => {
                sqlx::query_with(sql, arguments)
                    .fetch_all(&mut **open)
                    .await
                    .map(|rows| rows.into_iter().map(Into::into).collect())
            }
            _ => unreachable!("statements are encoded for the transaction's own engine"),
        }
        .map_err(query_error)
    }
}
