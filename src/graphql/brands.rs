//! The `Brand` entity, brand lists and the caller's own identity.

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use entity::{brand, category};

use super::{ApiError, connection, db, decode_cursor, loaders, principal, scalars::Date};
use crate::{
    brands::{self, BrandFilter},
    criteria,
    error::ErrorCode,
    pagination::PageRequest,
};

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
pub struct Category {
    /// Stable machine code, e.g. `BEAUTY`.
    code: String,
    /// Display name.
    name: String,
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
pub struct Brand {
    /// The brand's id; also its federation key.
    id: ID,
    /// Display name.
    name: String,
    /// Standing with the programme.
    status: BrandStatus,
    /// When the brand was registered.
    created_at: DateTime<Utc>,
    #[graphql(skip)]
    category_id: i64,
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
pub struct MeasureInput {
    /// What it is, e.g. `brandNetGmvCents`.
    pub(super) name: String,
    /// Its value.
    pub(super) value: f64,
}

/// One entry measure of a brand, with everything needed to check it.
#[derive(SimpleObject)]
pub struct Measure {
    /// The value; null when undefined (see `undefinedReason`).
    value: Option<f64>,
    /// Why the value is undefined, e.g. no sales in the category.
    undefined_reason: Option<String>,
    /// The aggregates it was computed from.
    inputs: Vec<MeasureInput>,
    /// First day covered (Asia/Shanghai).
    period_from: Date,
    /// Last day covered (Asia/Shanghai).
    period_to: Date,
    /// Share of the category's brands whose value is at most this one.
    category_percentile: Option<f64>,
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
pub struct EntryMeasures {
    /// Net GMV ÷ the category's net GMV, the 12 months ending with the as-of month.
    market_share: Measure,
    /// Herfindahl–Hirschman index of the category over the same months (0–10,000).
    category_hhi: Option<f64>,
    /// Voluntary mentions ÷ all brands' voluntary mentions in the category, last 90 days.
    voluntary_mention_share: Measure,
    /// GMV-weighted mean coefficient of variation of daily SKU prices, last 90 days; lower is better.
    price_volatility: Measure,
    /// GMV-weighted share of days a SKU sold below 0.7 × its 90-day median price.
    deep_discount_days: Measure,
    /// Paid members ÷ store members, with the category's ratio, the lift and a Wilson lower bound.
    super_member_ratio: Measure,
    /// Version of the formulas used.
    formula_version: String,
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
    ) -> Result<Connection<OpaqueCursor<i64>, super::criteria::Evaluation>, ApiError> {
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let page = criteria::evaluation::list(db(ctx)?, parse_brand_id(&self.id)?, request).await?;
        Ok(connection(
            page,
            |e| e.id,
            super::criteria::Evaluation::from,
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
        let measures = criteria::evaluate(db(ctx)?, id, as_of).await?;
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
    async fn standing(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<super::onboarding::Application>, ApiError> {
        Ok(super::loaders(ctx)?
            .standings
            .load_one(parse_brand_id(&self.id)?)
            .await?
            .map(Into::into))
    }

    /// The category the brand competes in.
    async fn category(&self, ctx: &Context<'_>) -> Result<Category, ApiError> {
        super::loaders(ctx)?
            .categories
            .load_one(self.category_id)
            .await?
            .map(Category::from)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "brand without a category"))
    }
}

/// Narrows `brands`.
#[derive(InputObject, Default)]
pub struct BrandFilterInput {
    /// Only brands in the category with this code.
    category: Option<String>,
    /// Only brands with this status.
    status: Option<BrandStatus>,
}

/// The caller as the gateway sees them.
#[derive(SimpleObject)]
pub struct Viewer {
    /// Who holds the credential.
    subject: String,
    /// What the caller may do.
    role: Role,
    /// The caller's brand, for brand roles.
    brand: Option<Brand>,
}

/// Parses a brand id; a malformed id names the argument.
pub(super) fn parse_brand_id(id: &ID) -> Result<i64, ApiError> {
    super::parse_id(id, "a brand")
}

/// Brand root fields.
#[derive(Default)]
pub struct BrandQuery;

#[Object]
impl BrandQuery {
    /// The caller's own identity and brand.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer, ApiError> {
        let principal = principal(ctx)?;
        let brand = match principal.brand_id {
            Some(id) => Some(
                brands::get(db(ctx)?, principal.brand_scope(), id)
                    .await?
                    .into(),
            ),
            None => None,
        };
        Ok(Viewer {
            subject: principal.subject.clone(),
            role: principal.role.into(),
            brand,
        })
    }

    /// One brand by id. Another brand's id answers `NOT_FOUND` for brand roles.
    async fn brand(&self, ctx: &Context<'_>, id: ID) -> Result<Brand, ApiError> {
        let principal = principal(ctx)?;
        Ok(
            brands::get(db(ctx)?, principal.brand_scope(), parse_brand_id(&id)?)
                .await?
                .into(),
        )
    }

    /// The brands the caller may see, in id order: its own for brand roles,
    /// all for platform roles. Pass `first` (with `after`) or `last` (with
    /// `before`), 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn brands(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<BrandFilterInput>,
    ) -> Result<Connection<OpaqueCursor<i64>, Brand>, ApiError> {
        let principal = principal(ctx)?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let filter = filter.unwrap_or_default();
        let filter = BrandFilter {
            category_code: filter.category,
            status: filter.status.map(Into::into),
        };
        let page = brands::list(db(ctx)?, principal.brand_scope(), &filter, request).await?;
        Ok(connection(page, |model| model.id, Brand::from))
    }

    /// Every product category, by code.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>, ApiError> {
        principal(ctx)?;
        Ok(brands::categories(db(ctx)?)
            .await?
            .into_iter()
            .map(Category::from)
            .collect())
    }

    /// Federation entity lookup, batched; `null` (with a `NOT_FOUND`
    /// error at its index) for a brand the caller does not see.
    #[graphql(entity)]
    async fn find_brand_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Brand>, ApiError> {
        principal(ctx)?;
        Ok(super::entities::load(&loaders(ctx)?.brands, &id)
            .await?
            .map(Brand::from))
    }
}
