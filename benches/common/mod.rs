//! What the load benches share: the gateway started on a database as
//! `serve` would start it (rate limit out of the way), and a closed-loop
//! driver that reports throughput and latency percentiles.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use brand_gateway::{
    Application,
    auth::TokenKeys,
    config::{Cli, Command, Config},
};
use clap::Parser as _;
use sea_orm::DatabaseConnection;
use serde_json::Value;

/// The bench's numeric arguments, in order (cargo's own flags skipped).
pub(crate) fn numbers() -> Vec<u64> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// One driven target: how many requests in how long, and latencies.
pub(crate) struct Run {
    /// Requests answered (every one checked).
    pub(crate) requests: usize,
    /// Wall time of the run.
    pub(crate) seconds: f64,
    /// Median latency.
    pub(crate) p50_ms: f64,
    /// 99th-percentile latency.
    pub(crate) p99_ms: f64,
    /// The slowest request: the tail a target like "none beyond 250 ms"
    /// is about.
    pub(crate) max_ms: f64,
}

impl Run {
    /// Requests per second.
    pub(crate) fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// One line of the report.
    pub(crate) fn line(&self) -> String {
        format!(
            "{:.0} rps, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms ({} requests)",
            self.rps(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.requests
        )
    }
}

/// Starts the gateway on `db` (reachable at `url`), listening on a free
/// loopback port; returns its address and the keys to issue tokens with.
pub(crate) async fn serve(url: &str, db: DatabaseConnection) -> (SocketAddr, TokenKeys) {
    let cli = Cli::parse_from([
        "brand-gateway",
        "--database-url",
        url,
        "--jwt-secret",
        "load-test-secret-that-is-long-enough-0123456789",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--rate-limit-per-second",
        "1000000",
        "--rate-limit-burst",
        "1000000",
    ]);
    let Some(Command::Serve(serve)) = &cli.command else {
        unreachable!("serve was given")
    };
    let config = Config::from_args(&cli.database, &cli.auth, serve).expect("config");
    let keys = TokenKeys::new(&config.auth).expect("keys");
    let app = Application::build_with_db(config, db).await.expect("app");
    let addr = app.local_addr().expect("addr");
    tokio::spawn(app.run_until_stopped());
    (addr, keys)
}

/// `clients` closed-loop clients send `make(client, n)` (n counts every
/// request of the run, from 0) for `duration`; every response must be a
/// success whose body passes `check`.
pub(crate) async fn drive<F>(
    client: reqwest::Client,
    clients: usize,
    duration: Duration,
    make: F,
    check: fn(&Value) -> bool,
) -> Run
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
{
    let start = Instant::now();
    let sent_count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, make, sent_count) = (client.clone(), make.clone(), sent_count.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while start.elapsed() < duration {
                    let n = sent_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let sent = Instant::now();
                    let response = make(&client, n).send().await.expect("request");
                    assert!(
                        response.status().is_success(),
                        "status {}",
                        response.status()
                    );
                    let body: Value = response.json().await.expect("json");
                    assert!(check(&body), "unexpected body: {body}");
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run {
        requests: latencies.len(),
        seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}
