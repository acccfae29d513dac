//! The `Brand` entity and what hangs off it: its category, status, entry
//! measures, evaluations and standing; and the caller's identity.

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use entity::{brand, category};

use crate::graphql::{
    ApiError, connection, db, decode_cursor, principal, privacy_settings, scalars::Date,
};
use crate::{
    criteria::{self, Reader},
    pagination::PageRequest,
};

use crate::graphql::ids::parse_brand_id;
use crate::graphql::types::{application::Application, criteria::Evaluation};

/// Where a brand stands with the membership programme.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::BrandStatus")]
pub enum BrandStatus {
    /// Known to the platform, not (yet) admitted to the programme.
    Prospect,
    /// Admitted: may configure benefits and query its audience.
    Active,
    /// Admitted but failing a re-evaluation; has a deadline to recover.
    Watchlist,
    /// Removed from the programme until re-admitted.
    Suspended,
}

/// What a caller may do, by who they are.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::Role")]
pub enum Role {
    /// A brand's store staff: configures its own brand's benefits.
    BrandOperator,
    /// A brand's analyst: privacy-protected aggregates of its own brand.
    BrandAnalyst,
    /// Platform onboarding reviewer: sees every brand's application.
    Reviewer,
    /// Platform staff: manages brands, credentials and policies.
    Admin,
    /// A platform service (checkout, member subgraph).
    Service,
}

/// A product category brands compete in, such as beauty or sportswear.
#[derive(SimpleObject)]
pub(crate) struct Category {
    /// Stable machine code, e.g. `BEAUTY`.
    pub(crate) code: String,
    /// Display name.
    pub(crate) name: String,
}

impl From<category::Model> for Category {
    fn from(model: category::Model) -> Self {
        Self {
            code: model.code,
            name: model.name,
        }
    }
}

/// A brand in the membership programme. Brand principals see only their own.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct Brand {
    /// The brand's id; also its federation key.
    pub(crate) id: ID,
    /// Display name.
    pub(crate) name: String,
    /// Standing with the programme.
    pub(crate) status: BrandStatus,
    /// When the brand was registered.
    pub(crate) created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub(crate) category_id: i64,
}

impl From<brand::Model> for Brand {
    fn from(model: brand::Model) -> Self {
        Self {
            id: ID(model.id.to_string()),
            name: model.name,
            status: model.status.into(),
            created_at: model.created_at,
            category_id: model.category_id,
        }
    }
}

/// One named aggregate a measure was computed from.
#[derive(SimpleObject)]
pub(crate) struct MeasureInput {
    /// What it is, e.g. `brandNetGmvCents`.
    pub(super) name: String,
    /// Its value.
    pub(super) value: f64,
}

/// One entry measure of a brand, with everything needed to check it.
#[derive(SimpleObject)]
pub(crate) struct Measure {
    /// The value; null when undefined (see `undefinedReason`).
    pub(crate) value: Option<f64>,
    /// Why the value is undefined, e.g. no sales in the category.
    pub(crate) undefined_reason: Option<String>,
    /// The aggregates it was computed from; a brand sees its own figures
    /// only (no category totals, no member counts).
    pub(crate) inputs: Vec<MeasureInput>,
    /// First day covered (Asia/Shanghai).
    pub(crate) period_from: Date,
    /// Last day covered (Asia/Shanghai).
    pub(crate) period_to: Date,
    /// Share of the category's brands whose value is at most this one; a
    /// brand sees the lower bound of its quarter (0, 0.25, 0.5, 0.75), and
    /// only among at least 8 brands with a value.
    pub(crate) category_percentile: Option<f64>,
}

impl From<criteria::Measure> for Measure {
    fn from(measure: criteria::Measure) -> Self {
        Self {
            value: measure.value,
            undefined_reason: measure.reason.map(str::to_owned),
            inputs: measure
                .inputs
                .into_iter()
                .map(|(name, value)| MeasureInput {
                    name: name.to_owned(),
                    value,
                })
                .collect(),
            period_from: Date(measure.period.from),
            period_to: Date(measure.period.to),
            category_percentile: measure.percentile,
        }
    }
}

/// The four measures brands are admitted on, computed from platform data.
#[derive(SimpleObject)]
pub(crate) struct EntryMeasures {
    /// Net GMV ÷ the category's net GMV, the 12 months ending with the as-of month.
    pub(crate) market_share: Measure,
    /// Herfindahl–Hirschman index of the category over the same months
    /// (0–10,000); platform roles only (null for a brand: with few brands
    /// it solves for rivals' GMV).
    pub(crate) category_hhi: Option<f64>,
    /// Voluntary mentions ÷ all brands' voluntary mentions in the category, last 90 days.
    pub(crate) voluntary_mention_share: Measure,
    /// GMV-weighted mean coefficient of variation of daily SKU prices, last 90 days; lower is better.
    pub(crate) price_volatility: Measure,
    /// GMV-weighted share of days a SKU sold below 0.7 × its 90-day median price.
    pub(crate) deep_discount_days: Measure,
    /// Paid members ÷ store members, with the category's ratio, the lift and a Wilson lower bound.
    pub(crate) super_member_ratio: Measure,
    /// Version of the formulas used.
    pub(crate) formula_version: String,
}

impl Brand {
    /// The brand that owns an application or a benefit the caller was
    /// allowed to read, through the request's loader. Missing is a broken
    /// foreign key: an internal error naming the owned object.
    pub(crate) async fn owner_of(
        ctx: &Context<'_>,
        brand_id: i64,
        owned: &str,
    ) -> Result<Self, ApiError> {
        crate::graphql::loaders(ctx)?
            .brands()
            .load_one(brand_id)
            .await?
            .map(Self::from)
            .ok_or_else(|| ApiError::internal(format!("{owned} without brand {brand_id}")))
    }
}

#[ComplexObject]
impl Brand {
    /// The brand's evaluations, oldest first. Pass `first` or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn evaluations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<OpaqueCursor<i64>, Evaluation>, ApiError> {
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let page = criteria::evaluation::list(db(ctx)?, parse_brand_id(&self.id)?, request).await?;
        let reader = Reader::of(principal(ctx)?.brand_scope());
        Ok(connection(
            page,
            |e| e.id,
            |e| Evaluation::seen_by(e, reader),
        ))
    }

    /// The brand's entry measures as of a day (default today, Asia/Shanghai).
    async fn entry_measures(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> Result<EntryMeasures, ApiError> {
        let id = parse_brand_id(&self.id)?;
        let as_of = as_of.map_or_else(crate::platform::business_today, |day| day.0);
        let principal = principal(ctx)?;
        let reader = Reader::of(principal.brand_scope());
        let pool = crate::privacy::ledger::pool_of_role(principal.role);
        // Read once per category and day for every brand of the request.
        let figures = crate::graphql::loaders(ctx)?
            .category_figures()
            .load_one((self.category_id, as_of))
            .await?
            .ok_or_else(|| ApiError::internal("category figures were not read"))?;
        let measures = criteria::for_reader(
            db(ctx)?,
            privacy_settings(ctx)?,
            &figures,
            (id, reader, pool),
            as_of,
            chrono::Utc::now(),
        )
        .await?;
        Ok(EntryMeasures {
            market_share: measures.market_share.into(),
            category_hhi: measures.category_hhi,
            voluntary_mention_share: measures.voluntary_mention_share.into(),
            price_volatility: measures.price_volatility.into(),
            deep_discount_days: measures.deep_discount_days.into(),
            super_member_ratio: measures.super_member_ratio.into(),
            formula_version: measures.formula_version.to_owned(),
        })
    }

    /// The brand's latest application: its standing with the programme
    /// (state, deadline, history). Null if it never applied.
    async fn standing(&self, ctx: &Context<'_>) -> Result<Option<Application>, ApiError> {
        Ok(crate::graphql::loaders(ctx)?
            .standings()
            .load_one(parse_brand_id(&self.id)?)
            .await?
            .map(Into::into))
    }

    /// The category the brand competes in.
    async fn category(&self, ctx: &Context<'_>) -> Result<Category, ApiError> {
        crate::graphql::loaders(ctx)?
            .categories()
            .load_one(self.category_id)
            .await?
            .map(Category::from)
            .ok_or_else(|| ApiError::internal(format!("brand {} without a category", self.id.0)))
    }
}

/// Narrows `brands`.
#[derive(InputObject, Default)]
pub(crate) struct BrandFilterInput {
    /// Only brands in the category with this code.
    pub(crate) category: Option<String>,
    /// Only brands with this status.
    pub(crate) status: Option<BrandStatus>,
}

/// The caller as the gateway sees them.
#[derive(SimpleObject)]
pub(crate) struct Viewer {
    /// Who holds the credential.
    pub(crate) subject: String,
    /// What the caller may do.
    pub(crate) role: Role,
    /// The caller's brand, for brand roles.
    pub(crate) brand: Option<Brand>,
}
