//! Settings from flags and environment. `clap` structs hold the raw flags
//! (each with its environment fallback); [`Config`] is the validated whole
//! that [`crate::Application::build`] takes, so tests can build one directly.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret as _, SecretSlice, SecretString};

/// The `brand-gateway` command line.
#[derive(Debug, Parser)]
#[command(
    name = "brand-gateway",
    version,
    about = "Partner GraphQL gateway of the membership programme"
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s flags, for when the subcommand is omitted (`brand-gateway --demo`).
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Database flags.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Token key flags.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Write logs as JSON lines instead of human-readable text.
    #[arg(long, env = "BRAND_GATEWAY_LOG_JSON", global = true)]
    pub log_json: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates first).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Fill an empty database with synthetic platform data.
    Seed(SeedArgs),
    /// Load platform data from a directory of CSV files.
    Import(ImportArgs),
    /// Print the GraphQL schema (the committed `schema.graphql`).
    Sdl,
    /// Issue a credential and print its bearer token alone on stdout (the
    /// credential id goes to stderr).
    Token(TokenArgs),
    /// Revoke a credential: its tokens are refused from the next request.
    Revoke(RevokeArgs),
    /// Rebuild the audience cube into a new data epoch (seed and import do it too).
    Refresh,
    /// Run the steps that are due now (onboarding expiries, re-evaluations,
    /// suspensions and 30-day warnings; benefit starts, ends and the usage
    /// policy) and exit. Idempotent; `serve` also runs it every
    /// `--due-interval-secs`.
    RunDue,
}

/// Flags of `seed`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Number of members to generate.
    #[arg(long, default_value = "100000")]
    pub members: u32,
    /// Number of brands to generate.
    #[arg(long, default_value = "40")]
    pub brands: u32,
    /// Most smaller brands per category beyond `--brands`, drawn from their
    /// own stream (so the listed brands' data stays the same); each
    /// category gets between half that and that many.
    #[arg(long, default_value = "0", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub long_tail: u32,
    /// Random seed; the same seed and as-of day give the same data.
    #[arg(long, default_value = "7")]
    pub seed: u64,
    /// The day the data is "as of" (Asia/Shanghai); default today.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Delete existing platform data first instead of refusing.
    #[arg(long)]
    pub replace: bool,
}

/// Flags of `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Directory holding the CSV files (see README, "Importing data").
    pub dir: PathBuf,
    /// Delete existing platform data first instead of refusing.
    #[arg(long)]
    pub replace: bool,
}

/// Flags of `token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Role to grant.
    #[arg(long, value_parser = parse_role)]
    pub role: entity::enums::Role,
    /// Brand id; required for BRAND_OPERATOR and BRAND_ANALYST.
    #[arg(long)]
    pub brand: Option<i64>,
    /// Who holds it, for the audit log.
    #[arg(long, default_value = "cli")]
    pub subject: String,
    /// Validity in hours.
    #[arg(long, default_value = "24")]
    pub hours: u32,
}

/// Flags of `revoke`.
#[derive(Debug, Clone, Args)]
pub struct RevokeArgs {
    /// The credential id (the token's `jti`; `token` prints it on stderr).
    #[arg(long)]
    pub credential: String,
    /// Who revokes it, for the audit log.
    #[arg(long, default_value = "cli")]
    pub subject: String,
}

fn parse_role(raw: &str) -> Result<entity::enums::Role, String> {
    use sea_orm::ActiveEnum as _;
    entity::enums::Role::try_from_value(&raw.to_ascii_uppercase()).map_err(|_| {
        "expected one of BRAND_OPERATOR, BRAND_ANALYST, REVIEWER, ADMIN, SERVICE".to_owned()
    })
}

/// Storage flags every subcommand shares.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database to use: `sqlite://path?mode=rwc` or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/brand-gateway.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Where filed documents and member snapshots (Parquet) are stored: a
    /// directory, or `s3://bucket/prefix` for an S3-compatible store
    /// configured by the usual `AWS_*` variables (`AWS_ENDPOINT` for a
    /// non-AWS one).
    #[arg(
        long,
        env = "BRAND_GATEWAY_BLOB_STORE",
        default_value = "data/blobs",
        global = true
    )]
    pub blob_store: String,
}

/// Where token-signing keys come from; shared by `serve` and `token`.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// HS256 signing secret (at least 32 bytes). When unset, the secret is
    /// read from `--jwt-secret-file`, which is created on first use.
    #[arg(
        long,
        env = "BRAND_GATEWAY_JWT_SECRET",
        hide_env_values = true,
        global = true,
        value_parser = parse_secret
    )]
    pub jwt_secret: Option<SecretString>,
    /// File holding the HS256 secret when `--jwt-secret` is not given.
    #[arg(
        long,
        env = "BRAND_GATEWAY_JWT_SECRET_FILE",
        default_value = "data/jwt-secret",
        global = true
    )]
    pub jwt_secret_file: PathBuf,
    /// Optional PEM file with an RS256 public key; tokens signed by the
    /// matching private key (e.g. by a platform identity service) are accepted too.
    #[arg(long, env = "BRAND_GATEWAY_JWT_RS256_PUBLIC_KEY", global = true)]
    pub jwt_rs256_public_key: Option<PathBuf>,
}

/// Wraps a secret flag value at once, so `Debug` of the parsed flags never
/// shows it.
fn parse_secret(raw: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(raw))
}

/// Flags of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BRAND_GATEWAY_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Length of the queue of connections the kernel has accepted and the
    /// server not yet taken (`listen(2)`'s backlog; Linux caps it at
    /// `net.core.somaxconn`). Bursts beyond it are dropped and retried.
    #[arg(long, env = "BRAND_GATEWAY_LISTEN_BACKLOG", default_value = "1024", value_parser = clap::value_parser!(u32).range(1..))]
    pub listen_backlog: u32,
    /// Address `/metrics` is served on, apart from the public listener
    /// (loopback by default: only the host's scraper reaches it).
    #[arg(
        long,
        env = "BRAND_GATEWAY_METRICS_LISTEN",
        default_value = "127.0.0.1:9464"
    )]
    pub metrics_listen: SocketAddr,
    /// Seed a modest demo data set when the database is empty, and print
    /// ready tokens for each role.
    #[arg(long, env = "BRAND_GATEWAY_DEMO")]
    pub demo: bool,
    /// Requests per second each principal may make (token bucket refill).
    #[arg(
        long,
        env = "BRAND_GATEWAY_RATE_LIMIT_PER_SECOND",
        default_value = "20"
    )]
    pub rate_limit_per_second: NonZeroU32,
    /// Burst size of each principal's token bucket.
    #[arg(long, env = "BRAND_GATEWAY_RATE_LIMIT_BURST", default_value = "40")]
    pub rate_limit_burst: NonZeroU32,
    /// Longest a request may run before it is answered with 503, in seconds.
    #[arg(long, env = "BRAND_GATEWAY_REQUEST_TIMEOUT_SECS", default_value = "30")]
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "BRAND_GATEWAY_MAX_BODY_BYTES", default_value = "65536")]
    pub max_body_bytes: usize,
    /// Deepest query accepted (introspection included).
    #[arg(long, env = "BRAND_GATEWAY_MAX_DEPTH", default_value = "15")]
    pub max_depth: usize,
    /// Highest query complexity accepted; list fields cost their page size.
    #[arg(long, env = "BRAND_GATEWAY_MAX_COMPLEXITY", default_value = "2000")]
    pub max_complexity: usize,
    /// Most aliased fields in one document.
    #[arg(long, env = "BRAND_GATEWAY_MAX_ALIASES", default_value = "30")]
    pub max_aliases: usize,
    /// Most root fields in one operation.
    #[arg(long, env = "BRAND_GATEWAY_MAX_ROOT_FIELDS", default_value = "20")]
    pub max_root_fields: usize,
    /// Most selections a document may expand to once fragment spreads are
    /// expanded (bounds validation work; checked in one linear pass).
    #[arg(long, env = "BRAND_GATEWAY_MAX_SELECTIONS", default_value = "2000")]
    pub max_selections: usize,
    /// Longest chain of fragments spreading fragments.
    #[arg(long, env = "BRAND_GATEWAY_MAX_FRAGMENT_DEPTH", default_value = "10")]
    pub max_fragment_depth: usize,
    /// Most representations one `_entities` call may ask for.
    #[arg(long, env = "BRAND_GATEWAY_MAX_ENTITIES", default_value = "100")]
    pub max_entities: usize,
    /// ε per released audience table (decimal).
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_EPSILON_PER_TABLE", default_value = "0.1", value_parser = crate::privacy::parse_epsilon)]
    pub privacy_epsilon_per_table: u64,
    /// ε a brand may spend per calendar day, Asia/Shanghai (decimal).
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_DAILY_BUDGET", default_value = "1", value_parser = crate::privacy::parse_epsilon)]
    pub privacy_daily_budget: u64,
    /// ε a brand may spend in any 30 days (decimal).
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_30_DAY_BUDGET", default_value = "10", value_parser = crate::privacy::parse_epsilon)]
    pub privacy_30_day_budget: u64,
    /// Audience cells whose noisy member count is below this are suppressed.
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_MIN_CELL", default_value = "50", value_parser = clap::value_parser!(i64).range(1..))]
    pub privacy_min_cell: i64,
    /// ε of each data epoch's platform release, shared by every brand (decimal).
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_PLATFORM_EPSILON_PER_EPOCH", default_value = "4", value_parser = crate::privacy::parse_epsilon)]
    pub privacy_platform_epsilon_per_epoch: u64,
    /// ε all platform releases may spend in any 365 days (decimal); an
    /// epoch whose release would pass it gets none.
    #[arg(long, env = "BRAND_GATEWAY_PRIVACY_PLATFORM_YEARLY_BUDGET", default_value = "48", value_parser = crate::privacy::parse_epsilon)]
    pub privacy_platform_yearly_budget: u64,
    /// Seconds between runs of the due onboarding steps inside the server
    /// (first run one interval after start); 0 turns the task off.
    #[arg(long, env = "BRAND_GATEWAY_DUE_INTERVAL_SECS", default_value = "3600")]
    pub due_interval_secs: u64,
    /// Milliseconds before the first retry of a failed webhook delivery;
    /// each further retry waits twice as long, at most 10 minutes.
    #[arg(long, env = "BRAND_GATEWAY_WEBHOOK_RETRY_BASE_MS", default_value = "1000", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_retry_base_ms: u64,
    /// Milliseconds a credential row read by this instance is trusted
    /// before it is read again: the longest a revocation made elsewhere
    /// (another instance, the CLI) goes unnoticed here. The instance that
    /// revokes refuses the token at once. 0 reads the row on every request.
    #[arg(long, env = "BRAND_GATEWAY_CREDENTIAL_CACHE_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(0..=300_000))]
    pub credential_cache_ms: u64,
    /// Milliseconds the current data epoch and a brand's standing, read by
    /// this instance, are trusted for repeat (free) audience answers: the
    /// longest a new epoch (made by `refresh`, `seed` or `import`, always
    /// another process) goes unseen here, repeat questions meanwhile
    /// answered from the previous epoch, and the longest a suspension
    /// takes to stop them. Questions that pay read the standing afresh. 0
    /// reads both on every question.
    #[arg(long, env = "BRAND_GATEWAY_REPEAT_CACHE_MS", default_value = "5000", value_parser = clap::value_parser!(u64).range(0..=300_000))]
    pub repeat_cache_ms: u64,
    /// Largest qualification document accepted, in bytes.
    #[arg(long, env = "BRAND_GATEWAY_MAX_DOCUMENT_BYTES", default_value = "10485760", value_parser = clap::value_parser!(u64).range(1..=104_857_600))]
    pub max_document_bytes: u64,
}

/// Limits applied to every GraphQL request.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// Deepest selection nesting.
    pub max_depth: usize,
    /// Highest total complexity.
    pub max_complexity: usize,
    /// Most aliases in a document.
    pub max_aliases: usize,
    /// Most root fields in an operation.
    pub max_root_fields: usize,
    /// Most selections once fragments are expanded.
    pub max_selections: usize,
    /// Longest chain of fragment spreads.
    pub max_fragment_depth: usize,
    /// Most representations per `_entities` call.
    pub max_entities: usize,
}

/// Per-principal token bucket.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Refill rate.
    pub per_second: NonZeroU32,
    /// Bucket size.
    pub burst: NonZeroU32,
}

/// Keys that verify bearer tokens, and the one that signs development tokens.
/// The secret is a [`SecretSlice`]: `Debug` shows it redacted, and it is
/// zeroed when dropped.
#[derive(Clone)]
pub struct AuthKeys {
    /// HS256 secret; signs and verifies.
    pub hs256_secret: SecretSlice<u8>,
    /// RS256 public key in PEM; verifies only.
    pub rs256_public_key_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for AuthKeys {
    /// Secrets are never printed, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("hs256_secret", &self.hs256_secret)
            .field("rs256_public_key", &self.rs256_public_key_pem.is_some())
            .finish()
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The HS256 secret is too short to be safe.
    #[error("the JWT secret must be at least 32 bytes long")]
    WeakSecret,
    /// A key file could not be read or created.
    #[error("cannot use key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl AuthArgs {
    /// Resolves the signing keys, creating a random secret file on first use
    /// so a fresh checkout needs no set-up.
    pub fn load(&self) -> Result<AuthKeys, ConfigError> {
        let hs256_secret = match &self.jwt_secret {
            Some(secret) => SecretSlice::from(secret.expose_secret().as_bytes().to_vec()),
            None => read_or_create_secret(&self.jwt_secret_file)?,
        };
        if hs256_secret.expose_secret().len() < 32 {
            return Err(ConfigError::WeakSecret);
        }
        let rs256_public_key_pem = self
            .jwt_rs256_public_key
            .as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|source| ConfigError::KeyFile {
                    path: path.clone(),
                    source,
                })
            })
            .transpose()?;
        Ok(AuthKeys {
            hs256_secret,
            rs256_public_key_pem,
        })
    }
}

fn read_or_create_secret(path: &PathBuf) -> Result<SecretSlice<u8>, ConfigError> {
    let key_error = |source| ConfigError::KeyFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(path).map(SecretString::from) {
        Ok(secret) => Ok(SecretSlice::from(
            secret.expose_secret().trim().as_bytes().to_vec(),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            use base64::Engine as _;
            use rand::RngCore as _;
            let mut bytes = [0u8; 48];
            // ThreadRng is a CSPRNG seeded from the operating system.
            rand::rng().fill_bytes(&mut bytes);
            let secret =
                SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
            secrecy::zeroize::Zeroize::zeroize(&mut bytes);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(key_error)?;
            }
            write_private_file(path, secret.expose_secret()).map_err(key_error)?;
            Ok(SecretSlice::from(
                secret.expose_secret().as_bytes().to_vec(),
            ))
        }
        Err(error) => Err(key_error(error)),
    }
}

#[cfg(unix)]
fn write_private_file(path: &PathBuf, contents: &str) -> std::io::Result<()> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private_file(path: &PathBuf, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Everything [`crate::Application::build`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL (SQLite or PostgreSQL).
    pub database_url: String,
    /// Listen address; port 0 picks a free one (tests).
    pub listen: SocketAddr,
    /// Backlog of the public listener.
    pub listen_backlog: u32,
    /// Listen address of `/metrics`; port 0 picks a free one (tests).
    pub metrics_listen: SocketAddr,
    /// Token keys.
    pub auth: AuthKeys,
    /// GraphQL limits.
    pub limits: QueryLimits,
    /// Per-principal rate limit.
    pub rate_limit: RateLimit,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Audience privacy settings.
    pub privacy: crate::privacy::PrivacySettings,
    /// How often the server runs due onboarding steps; `None` never.
    pub due_interval: Option<Duration>,
    /// Wait before the first retry of a failed webhook delivery.
    pub webhook_retry_base: Duration,
    /// Where filed documents are stored (a directory or an `s3://` URL).
    pub blob_store: String,
    /// Largest qualification document accepted, in bytes.
    pub max_document_bytes: usize,
    /// How long a credential row is trusted before it is read again.
    pub credential_cache: Duration,
    /// How long the current data epoch and a brand's standing are trusted
    /// for repeat answers.
    pub repeat_cache: Duration,
}

impl Config {
    /// Builds the validated config from `serve`'s flags.
    pub fn from_args(
        database: &DatabaseArgs,
        auth: &AuthArgs,
        serve: &ServeArgs,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: database.database_url.clone(),
            listen: serve.listen,
            listen_backlog: serve.listen_backlog,
            metrics_listen: serve.metrics_listen,
            auth: auth.load()?,
            limits: QueryLimits {
                max_depth: serve.max_depth,
                max_complexity: serve.max_complexity,
                max_aliases: serve.max_aliases,
                max_root_fields: serve.max_root_fields,
                max_selections: serve.max_selections,
                max_fragment_depth: serve.max_fragment_depth,
                max_entities: serve.max_entities,
            },
            rate_limit: RateLimit {
                per_second: serve.rate_limit_per_second,
                burst: serve.rate_limit_burst,
            },
            request_timeout: Duration::from_secs(serve.request_timeout_secs),
            max_body_bytes: serve.max_body_bytes,
            privacy: crate::privacy::PrivacySettings {
                epsilon_per_table_micros: serve.privacy_epsilon_per_table,
                daily_budget_micros: serve.privacy_daily_budget,
                thirty_day_budget_micros: serve.privacy_30_day_budget,
                min_cell: serve.privacy_min_cell,
                platform_epsilon_per_epoch_micros: serve.privacy_platform_epsilon_per_epoch,
                platform_yearly_budget_micros: serve.privacy_platform_yearly_budget,
            },
            due_interval: (serve.due_interval_secs > 0)
                .then(|| Duration::from_secs(serve.due_interval_secs)),
            webhook_retry_base: Duration::from_millis(serve.webhook_retry_base_ms),
            blob_store: database.blob_store.clone(),
            max_document_bytes: usize::try_from(serve.max_document_bytes).unwrap_or(usize::MAX),
            credential_cache: Duration::from_millis(serve.credential_cache_ms),
            repeat_cache: Duration::from_millis(serve.repeat_cache_ms),
        })
    }
}
