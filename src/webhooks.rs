//! Outbound webhooks: a brand's endpoints get its decisions, information
//! requests, deadline warnings and suspensions; the platform queue's get
//! every brand's. Each event is written to an outbox (`webhook_delivery`)
//! in the same transaction as the event itself, so nothing is announced
//! that did not happen and nothing that happened is lost; a worker in the
//! server POSTs deliveries in order per endpoint, signed with HMAC-SHA256,
//! retrying with exponential backoff while the receiver is down.
//!
//! Delivery is at least once: a receiver that crashes after taking a
//! delivery but before answering gets it again, with the same
//! `X-Brand-Gateway-Delivery` id to deduplicate on.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{webhook, webhook_delivery};
use hmac::{Hmac, Mac as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, sea_query::Expr,
};
use sha2::Sha256;

use crate::{
    auth::{BrandScope, Role},
    error::{CodedError, ErrorCode},
};

/// What a delivery announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum WebhookEvent {
    /// An application was approved (with or without conditions), rejected
    /// or upheld on appeal.
    ApplicationDecided,
    /// The brand must answer a question by a deadline.
    InfoRequested,
    /// A deadline is 30 days away or less.
    DeadlineWarning,
    /// The brand was suspended.
    BrandSuspended,
    /// A reviewer verified or rejected one of the brand's documents.
    DocumentReviewed,
    /// A condition of the brand's approval was found met or missed.
    ConditionResolved,
}

/// Longest URL accepted.
const MAX_URL: usize = 2048;
/// Deliveries one endpoint takes per pass.
const BATCH: u64 = 50;
/// How long an attempt holds a delivery before another instance may try.
const LEASE: Duration = Duration::from_secs(60);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Why a webhook could not be created or deleted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebhookError {
    /// Not an absolute http(s) URL.
    #[error("`url` must be an absolute http:// or https:// URL of at most 2048 characters")]
    BadUrl,
    /// A brand's endpoint on an internal address.
    #[error("`url` must not name a loopback, private or link-local address")]
    InternalAddress,
    /// No such webhook or brand, or not the caller's.
    #[error("webhook not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for WebhookError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadUrl | Self::InternalAddress => ErrorCode::BadUserInput,
            Self::NotFound => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Creates an endpoint for `brand_id` (none: the platform queue) with a
/// fresh signing secret, returned this once with the row.
pub(crate) async fn create(
    db: &DatabaseConnection,
    brand_id: Option<i64>,
    url: &str,
    (actor, role): (&str, Role),
) -> Result<webhook::Model, WebhookError> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| WebhookError::BadUrl)?;
    if url.len() > MAX_URL || !matches!(parsed.scheme(), "http" | "https") {
        return Err(WebhookError::BadUrl);
    }
    // A brand may not point the platform at its own network: loopback,
    // private and link-local addresses are for platform staff's receivers
    // (checked here for addresses, at delivery for what names resolve to).
    let may_reach_internal = role == Role::Admin;
    if !may_reach_internal && internal(&parsed) {
        return Err(WebhookError::InternalAddress);
    }
    if let Some(brand) = brand_id
        && entity::brand::Entity::find_by_id(brand)
            .one(db)
            .await?
            .is_none()
    {
        return Err(WebhookError::NotFound);
    }
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let row = webhook::Entity::insert(webhook::ActiveModel {
        brand_id: Set(brand_id),
        url: Set(url.to_owned()),
        secret: Set(secret),
        created_by: Set(actor.to_owned()),
        created_at: Set(Utc::now()),
        deleted_at: Set(None),
        may_reach_internal: Set(may_reach_internal),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await?;
    crate::audit::record(
        db,
        actor,
        "webhook.created",
        &format!("webhook:{}", row.id),
        serde_json::json!({ "brand": brand_id, "url": url }),
    )
    .await?;
    Ok(row)
}

/// Whether an address is loopback, private, link-local or unspecified:
/// the one rule for URLs at creation and for resolved names at delivery.
fn internal_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(ip) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        std::net::IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => internal_ip(std::net::IpAddr::V4(v4)),
            None => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (ip.segments()[0] & 0xfe00) == 0xfc00
                    || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Whether a URL names an internal address (see [`internal_ip`]) or
/// `localhost`. What other names resolve to is checked at delivery
/// ([`PublicOnly`]).
fn internal(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => internal_ip(ip.into()),
        Some(url::Host::Ipv6(ip)) => internal_ip(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => true,
    }
}

/// Scopes a webhook query to what the caller may see: a brand its own,
/// the platform every endpoint.
fn scoped(scope: BrandScope) -> sea_orm::Select<webhook::Entity> {
    let select = webhook::Entity::find().filter(webhook::Column::DeletedAt.is_null());
    match scope {
        BrandScope::One(brand) => select.filter(webhook::Column::BrandId.eq(brand)),
        BrandScope::All => select,
    }
}

/// Deletes an endpoint: it receives nothing more, pending deliveries
/// included.
pub(crate) async fn delete(
    db: &DatabaseConnection,
    scope: BrandScope,
    id: i64,
    actor: &str,
) -> Result<webhook::Model, WebhookError> {
    let row = scoped(scope)
        .filter(webhook::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(WebhookError::NotFound)?;
    webhook::Entity::update_many()
        .col_expr(webhook::Column::DeletedAt, Expr::value(Some(Utc::now())))
        .filter(webhook::Column::Id.eq(id))
        .exec(db)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .exec(db)
        .await?;
    crate::audit::record(
        db,
        actor,
        "webhook.deleted",
        &format!("webhook:{id}"),
        serde_json::json!({}),
    )
    .await?;
    Ok(row)
}

/// The live endpoints the caller may see, by id.
pub(crate) async fn list(
    db: &DatabaseConnection,
    scope: BrandScope,
) -> Result<Vec<webhook::Model>, DbErr> {
    scoped(scope)
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await
}

/// The newest `limit` deliveries to `webhook_id`, newest first.
pub(crate) async fn deliveries(
    db: &DatabaseConnection,
    webhook_id: i64,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, DbErr> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Writes one delivery of `event` per live endpoint of `brand_id` and of
/// the platform queue, on `db` (the event's own transaction).
pub(crate) async fn enqueue(
    db: &impl ConnectionTrait,
    brand_id: i64,
    event: WebhookEvent,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let endpoints = webhook::Entity::find()
        .filter(webhook::Column::DeletedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(webhook::Column::BrandId.eq(brand_id))
                .add(webhook::Column::BrandId.is_null()),
        )
        .all(db)
        .await?;
    let name: &'static str = event.into();
    let body =
        serde_json::json!({ "event": name, "brandId": brand_id, "at": now, "data": payload })
            .to_string();
    for endpoint in endpoints {
        webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
            webhook_id: Set(endpoint.id),
            brand_id: Set(brand_id),
            event: Set(name.to_owned()),
            payload: Set(body.clone()),
            created_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            delivered_at: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            ..Default::default()
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The signature of a delivery: hex HMAC-SHA256 of `{timestamp}.{body}`
/// under the endpoint's secret, sent as `sha256=<hex>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Exponential backoff after `attempts` failures: base × 2^(attempts−1),
/// at most [`MAX_BACKOFF`].
fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    base.saturating_mul(1 << exponent).min(MAX_BACKOFF)
}

/// One pass of the delivery worker: for every live endpoint, its pending
/// deliveries in order, stopping at the first that fails (later events
/// wait for it: in order per endpoint). Returns how many were delivered.
pub async fn deliver_due(
    db: &DatabaseConnection,
    clients: &Clients,
    retry_base: Duration,
) -> Result<u32, DbErr> {
    let now = Utc::now();
    // Only endpoints with something pending: an idle outbox costs one
    // indexed query a pass, however many endpoints there are.
    let waiting: Vec<i64> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::WebhookId)
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let endpoints = webhook::Entity::find()
        .filter(webhook::Column::DeletedAt.is_null())
        .filter(webhook::Column::Id.is_in(waiting))
        .all(db)
        .await?;
    let mut delivered = 0;
    for endpoint in endpoints {
        // Each endpoint's own queue, so one backlog never crowds out others.
        let queue = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(endpoint.id))
            .filter(webhook_delivery::Column::DeliveredAt.is_null())
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        for delivery in &queue {
            if delivery.next_attempt_at > now
                || !attempt(
                    db,
                    clients.for_endpoint(&endpoint),
                    &endpoint,
                    delivery,
                    retry_base,
                )
                .await?
            {
                break;
            }
            delivered += 1;
        }
    }
    Ok(delivered)
}

/// Tries one delivery; `Ok(true)` when the receiver took it.
async fn attempt(
    db: &DatabaseConnection,
    client: &reqwest::Client,
    endpoint: &webhook::Model,
    delivery: &webhook_delivery::Model,
    retry_base: Duration,
) -> Result<bool, DbErr> {
    // Take a lease, so another instance does not send it meanwhile.
    let now = Utc::now();
    let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let taken = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::value(delivery.attempts + 1),
        )
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(lease))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
        .filter(webhook_delivery::Column::DeliveredAt.is_null())
        .exec(db)
        .await?;
    if taken.rows_affected == 0 {
        return Ok(false);
    }
    let timestamp = now.timestamp();
    let sent = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("x-brand-gateway-event", &delivery.event)
        .header("x-brand-gateway-delivery", delivery.id.to_string())
        .header("x-brand-gateway-timestamp", timestamp.to_string())
        .header(
            "x-brand-gateway-signature",
            signature(&endpoint.secret, timestamp, &delivery.payload),
        )
        .body(delivery.payload.clone())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("the receiver answered {}", response.status())),
        ),
        Err(error) => (None, Some(describe(&error))),
    };
    let mut row = webhook_delivery::ActiveModel {
        last_status: Set(status.map(i32::from)),
        last_error: Set(error.clone()),
        ..Default::default()
    };
    match error {
        None => row.delivered_at = Set(Some(Utc::now())),
        Some(_) => {
            let wait = backoff(retry_base, delivery.attempts + 1);
            row.next_attempt_at =
                Set(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
        }
    }
    let ok = row.delivered_at.is_set();
    webhook_delivery::Entity::update_many()
        .set(row)
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .exec(db)
        .await?;
    Ok(ok)
}

/// A transport failure in words, without the URL's query or credentials.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the receiver did not answer in time".to_owned()
    } else if error.is_connect() {
        // The resolver's refusal surfaces as a connect error: say which.
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            if cause.is::<InternalOnly>() {
                return "the receiver's name resolves only to internal addresses".to_owned();
            }
            source = cause.source();
        }
        "could not connect to the receiver".to_owned()
    } else {
        "the request to the receiver failed".to_owned()
    }
}

/// A name that resolves only to internal addresses (the resolver's refusal,
/// found again by type in the transport error's causes).
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to internal addresses")]
struct InternalOnly(String);

/// A DNS resolver that keeps only public addresses: a brand's endpoint
/// whose name resolves to an internal address (or is re-pointed there
/// after it was created) gets no connection. The addresses connected to
/// are the ones checked, so a second lookup cannot change the answer.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> =
                found.filter(|addr| !internal_ip(addr.ip())).collect();
            if public.is_empty() {
                return Err(
                    Box::new(InternalOnly(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The delivery clients: one for endpoints that may reach internal
/// addresses, one that resolves names to public addresses only. Neither
/// follows redirects (a receiver can't send the platform somewhere else).
pub struct Clients {
    internal: reqwest::Client,
    public: reqwest::Client,
}

impl Clients {
    /// Builds both clients.
    pub fn new() -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
        };
        Ok(Self {
            internal: builder().build()?,
            public: builder()
                .dns_resolver(std::sync::Arc::new(PublicOnly))
                .build()?,
        })
    }

    fn for_endpoint(&self, endpoint: &webhook::Model) -> &reqwest::Client {
        if endpoint.may_reach_internal {
            &self.internal
        } else {
            &self.public
        }
    }
}

/// Runs the delivery worker every `tick` until the task is dropped.
pub async fn run_deliveries(db: DatabaseConnection, tick: Duration, retry_base: Duration) {
    let clients = match Clients::new() {
        Ok(clients) => clients,
        Err(error) => {
            tracing::error!(%error, "webhook clients could not be built");
            return;
        }
    };
    let mut interval = tokio::time::interval(tick);
    loop {
        interval.tick().await;
        if let Err(error) = deliver_due(&db, &clients, retry_base).await {
            tracing::error!(%error, "webhook deliveries failed");
        }
    }
}
