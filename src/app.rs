//! Wiring: [`Application::build`] opens the database, migrates, builds the
//! schema and binds the listeners (the public one and the metrics one);
//! [`Application::run_until_stopped`] serves both until SIGINT/SIGTERM (or
//! the given shutdown future), draining requests.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;
use tokio::net::{TcpListener, TcpSocket};

use crate::{
    auth::{CredentialCache, TokenKeys},
    config::Config,
    graphql::{AppSchema, build_schema},
    http::{Metrics, RateLimiter, metrics_router, router},
    onboarding::documents::DocumentStore,
};

/// Everything a request handler needs, behind one `Arc`: each request
/// clones the state once per middleware and handler, and cloning the
/// fields one by one (a dozen reference counts) showed in the profile.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// The database pool.
    pub db: DatabaseConnection,
    /// The executable schema.
    pub schema: AppSchema,
    /// Token verification keys.
    pub keys: TokenKeys,
    /// Credential rows recently read (shared with `revokeCredential`).
    pub credentials: CredentialCache,
    /// Metric families.
    pub metrics: Metrics,
    /// Per-principal rate limiter.
    pub rate_limiter: RateLimiter,
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// How often due onboarding steps run; `None` never.
    pub due_interval: Option<Duration>,
    /// The privacy settings (the platform release's ε among them).
    pub privacy: crate::privacy::PrivacySettings,
    /// Wait before the first retry of a failed webhook delivery.
    pub webhook_retry_base: Duration,
    /// Where filed documents are stored.
    pub documents: DocumentStore,
    /// GraphQL documents recently parsed, by their text.
    pub parsed: crate::graphql::ParsedDocuments,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Database(#[from] crate::db::DbOpenError),
    /// The token keys are unusable.
    #[error("invalid token key: {0}")]
    Keys(#[from] jsonwebtoken::errors::Error),
    /// The blob store could not be opened.
    #[error(transparent)]
    Blobs(#[from] crate::blobs::BlobError),
    /// Metrics could not be registered.
    #[error("cannot register metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
}

/// A built, bound, not yet serving application.
pub struct Application {
    listener: TcpListener,
    metrics_listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Opens and migrates the database, builds the schema and binds.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let db = crate::db::connect_and_migrate(&config.database_url).await?;
        Self::build_with_db(config, db).await
    }

    /// As [`Application::build`], on an already migrated connection.
    pub async fn build_with_db(
        config: Config,
        mut db: DatabaseConnection,
    ) -> Result<Self, StartError> {
        let metrics = Metrics::new()?;
        metrics.count_statements(&mut db);
        let keys = TokenKeys::new(&config.auth)?;
        let credentials = CredentialCache::new(config.credential_cache);
        let documents = DocumentStore {
            blobs: crate::blobs::BlobStore::open(&config.blob_store)?,
            max_bytes: config.max_document_bytes,
        };
        let state = AppState(Arc::new(Shared {
            schema: build_schema(
                db.clone(),
                &config.limits,
                config.privacy,
                keys.clone(),
                credentials.clone(),
                documents.clone(),
                crate::segments::RepeatCache::new(config.repeat_cache),
            ),
            db,
            keys,
            credentials,
            metrics,
            rate_limiter: RateLimiter::new(config.rate_limit),
            request_timeout: config.request_timeout,
            max_body_bytes: config.max_body_bytes,
            due_interval: config.due_interval,
            privacy: config.privacy,
            webhook_retry_base: config.webhook_retry_base,
            documents,
            parsed: crate::graphql::ParsedDocuments::default(),
        }));
        let bind_error = |addr| move |source| StartError::Bind { addr, source };
        let listener =
            bind(config.listen, config.listen_backlog).map_err(bind_error(config.listen))?;
        let metrics_listener = bind(config.metrics_listen, METRICS_BACKLOG)
            .map_err(bind_error(config.metrics_listen))?;
        Ok(Self {
            listener,
            metrics_listener,
            state,
        })
    }

    /// The bound public address (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound address of `/metrics` (port 0 resolved).
    pub fn metrics_addr(&self) -> std::io::Result<SocketAddr> {
        self.metrics_listener.local_addr()
    }

    /// The shared state, e.g. to issue tokens against the same database.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves the public and the metrics listener until `shutdown`
    /// resolves, then drains in-flight requests on both.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limiter = self.state.rate_limiter.clone();
        let janitor = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter.shrink();
            }
        });
        let scheduler = self
            .state
            .due_interval
            .map(|period| tokio::spawn(run_due_every(self.state.db.clone(), period)));
        let releaser = tokio::spawn(keep_platform_release(
            self.state.db.clone(),
            self.state.privacy,
        ));
        let deliverer = tokio::spawn(crate::webhooks::run_deliveries(
            self.state.db.clone(),
            WEBHOOK_TICK,
            self.state.webhook_retry_base,
        ));
        // One shutdown signal, seen by both servers.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let signal = tokio::spawn(async move {
            shutdown.await;
            stop.send_replace(true);
        });
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            // An error means the sender is gone, which happens only once the
            // signal fired or the task was aborted: stop either way.
            stopped.wait_for(|stop| *stop).await.ok();
        };
        let metrics = axum::serve(self.metrics_listener, metrics_router(self.state.clone()))
            .with_graceful_shutdown(until_stopped(stopped.clone()));
        let public = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(until_stopped(stopped));
        let result = tokio::try_join!(public, metrics).map(drop);
        signal.abort();
        janitor.abort();
        releaser.abort();
        deliverer.abort();
        if let Some(scheduler) = scheduler {
            scheduler.abort();
        }
        result
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// Backlog of the metrics listener: one scraper, now and then.
const METRICS_BACKLOG: u32 = 64;

/// Binds `addr` with a listen backlog of `backlog` (the kernel caps it at
/// `net.core.somaxconn`). `SO_REUSEADDR` is set as std and tokio set it, so
/// a restarted server can rebind while old connections sit in `TIME_WAIT`.
fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // On Windows SO_REUSEADDR would let another socket take the port.
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Runs the due steps (onboarding and benefits) every `period`, first after one period.
/// A failed run is logged and retried at the next tick; the steps are
/// idempotent, so an overlap with `brand-gateway run-due` is harmless.
async fn run_due_every(db: DatabaseConnection, period: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        match crate::due::run(&db, chrono::Utc::now()).await {
            Ok(report) => tracing::info!(?report, "due steps ran"),
            Err(error) => tracing::error!(%error, "due steps failed"),
        }
    }
}

/// Makes each new data epoch's platform release soon after a `refresh`
/// (run in another process), before brands ask: so no brand's first
/// platform question waits for it, or can tell from the wait (or from the
/// release's time) that it came first.
async fn keep_platform_release(db: DatabaseConnection, privacy: crate::privacy::PrivacySettings) {
    let mut tick = tokio::time::interval(PLATFORM_RELEASE_CHECK);
    loop {
        tick.tick().await;
        if let Err(error) = crate::segments::prepare_platform_release(&db, &privacy).await {
            tracing::error!(%error, "platform release failed");
        }
    }
}

/// How often the server looks for webhook deliveries to send.
const WEBHOOK_TICK: Duration = Duration::from_millis(250);

/// How often the server looks for a new data epoch without a release.
const PLATFORM_RELEASE_CHECK: Duration = Duration::from_secs(10);

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
