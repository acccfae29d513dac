//! Outbound webhooks: ADMIN manages every endpoint (a brand's, or the
//! platform queue's), a brand operator its own brand's; each endpoint
//! shows its deliveries and their status. Rules live in
//! [`crate::webhooks`].

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{ApiError, UserError, db, ids::parse_brand_id, outcome, parse_id, principal, require};
use crate::{
    auth::{BrandScope, Role},
    webhooks::{self, WebhookError},
};

/// Most deliveries one `deliveries` call returns.
const MAX_DELIVERIES: i32 = 100;

/// What a delivery announces.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::webhooks::WebhookEvent")]
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

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not tried yet.
    Pending,
    /// Tried and failed; it will be tried again at `nextAttemptAt`.
    Retrying,
    /// The receiver answered 2xx.
    Delivered,
}

/// One event sent (or to send) to one endpoint.
#[derive(SimpleObject)]
pub(super) struct WebhookDelivery {
    /// Its id, sent as `X-Brand-Gateway-Delivery` (deduplicate on it).
    id: ID,
    /// What it announces.
    event: Option<WebhookEvent>,
    /// Where it stands.
    status: DeliveryStatus,
    /// Attempts so far.
    attempts: i32,
    /// The last HTTP status received.
    last_status: Option<i32>,
    /// Why the last attempt failed.
    last_error: Option<String>,
    /// When the event happened.
    created_at: DateTime<Utc>,
    /// When it will be tried next (while not delivered).
    next_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver took it.
    delivered_at: Option<DateTime<Utc>>,
}

impl From<entity::webhook_delivery::Model> for WebhookDelivery {
    fn from(row: entity::webhook_delivery::Model) -> Self {
        let status = match (row.delivered_at, row.attempts) {
            (Some(_), _) => DeliveryStatus::Delivered,
            (None, 0) => DeliveryStatus::Pending,
            (None, _) => DeliveryStatus::Retrying,
        };
        Self {
            id: ID(row.id.to_string()),
            event: row
                .event
                .parse::<webhooks::WebhookEvent>()
                .ok()
                .map(Into::into),
            status,
            attempts: row.attempts,
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: row.created_at,
            next_attempt_at: row.delivered_at.is_none().then_some(row.next_attempt_at),
            delivered_at: row.delivered_at,
        }
    }
}

/// An outbound webhook endpoint.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(super) struct Webhook {
    /// Its id.
    id: ID,
    /// The brand whose events it receives; null for the platform queue
    /// (every brand's).
    brand_id: Option<ID>,
    /// Where deliveries are POSTed.
    url: String,
    /// When it was created.
    created_at: DateTime<Utc>,
}

#[ComplexObject]
impl Webhook {
    /// Its newest deliveries, newest first (`first` 1 to 100).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<WebhookDelivery>, ApiError> {
        let first = first.clamp(1, MAX_DELIVERIES);
        let rows = webhooks::deliveries(db(ctx)?, parse_id(&self.id, "a webhook")?, first as u64)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl From<entity::webhook::Model> for Webhook {
    fn from(row: entity::webhook::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            brand_id: row.brand_id.map(|b| ID(b.to_string())),
            url: row.url,
            created_at: row.created_at,
        }
    }
}

/// A new endpoint.
#[derive(InputObject)]
pub(super) struct CreateWebhookInput {
    /// The brand whose events it receives: a brand operator's own (the
    /// default for them); ADMIN may name any, or none for the platform
    /// queue.
    brand_id: Option<ID>,
    /// An absolute http:// or https:// URL; a brand operator's may not
    /// name a loopback, private or link-local address.
    url: String,
}

/// The result of `createWebhook`.
#[derive(SimpleObject)]
pub(super) struct CreateWebhookPayload {
    /// The endpoint.
    webhook: Option<Webhook>,
    /// The HMAC-SHA256 key its deliveries are signed with: shown this
    /// once. The signature is `sha256=` + hex HMAC of
    /// `{X-Brand-Gateway-Timestamp}.{body}`.
    secret: Option<String>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

/// The result of `deleteWebhook`.
#[derive(SimpleObject)]
pub(super) struct DeleteWebhookPayload {
    /// The endpoint, now receiving nothing more.
    webhook: Option<Webhook>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

const MANAGERS: &[Role] = &[Role::Admin, Role::BrandOperator];

/// Webhook root fields.
#[derive(Default)]
pub(super) struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The endpoints you manage: every one for ADMIN, your brand's for a
    /// brand operator.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>, ApiError> {
        let principal = principal(ctx)?;
        require(principal, MANAGERS, "managing webhooks")?;
        let rows = webhooks::list(db(ctx)?, principal.brand_scope())
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Webhook mutations.
#[derive(Default)]
pub(super) struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Creates an endpoint and returns its signing secret, once (ADMIN, or
    /// a brand operator for its own brand).
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> Result<CreateWebhookPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, MANAGERS, "managing webhooks")?;
        let asked = input.brand_id.as_ref().map(parse_brand_id).transpose()?;
        let brand = match (principal.brand_scope(), asked) {
            (BrandScope::All, asked) => Ok(asked),
            (BrandScope::One(own), None) => Ok(Some(own)),
            (BrandScope::One(own), Some(asked)) if asked == own => Ok(Some(own)),
            (BrandScope::One(_), Some(_)) => Err(WebhookError::NotFound),
        };
        let result = match brand {
            Ok(brand) => {
                webhooks::create(
                    db(ctx)?,
                    brand,
                    &input.url,
                    (&principal.subject, principal.role),
                )
                .await
            }
            Err(error) => Err(error),
        };
        let (row, user_errors) = outcome(result, |e| match e {
            WebhookError::BadUrl | WebhookError::InternalAddress => "input.url".to_owned(),
            _ => "input.brandId".to_owned(),
        })?;
        Ok(CreateWebhookPayload {
            secret: row.as_ref().map(|r| r.secret.clone()),
            webhook: row.map(Into::into),
            user_errors,
        })
    }

    /// Deletes an endpoint: nothing more is delivered to it.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<DeleteWebhookPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, MANAGERS, "managing webhooks")?;
        let id = parse_id(&id, "a webhook")?;
        let result =
            webhooks::delete(db(ctx)?, principal.brand_scope(), id, &principal.subject).await;
        let (row, user_errors) = outcome(result, |_| "id".to_owned())?;
        Ok(DeleteWebhookPayload {
            webhook: row.map(Into::into),
            user_errors,
        })
    }
}
