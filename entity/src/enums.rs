//! Enumerations stored as short upper-case strings, so that a row read by
//! hand (psql, sqlite3) says what it means and both engines store it alike.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a brand stands with the membership programme.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum BrandStatus {
    /// Known to the platform, not (yet) admitted to the programme.
    #[sea_orm(string_value = "PROSPECT")]
    Prospect,
    /// Admitted: may configure benefits and query its audience.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Admitted but failing a re-evaluation; has a deadline to recover.
    #[sea_orm(string_value = "WATCHLIST")]
    Watchlist,
    /// Removed from the programme until re-admitted.
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
}

/// Who a credential speaks for; see DESIGN.md, "Who uses it".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A brand's store staff: configures its own brand's benefits.
    #[sea_orm(string_value = "BRAND_OPERATOR")]
    BrandOperator,
    /// A brand's analyst: privacy-protected aggregates of its own brand.
    #[sea_orm(string_value = "BRAND_ANALYST")]
    BrandAnalyst,
    /// Platform onboarding reviewer: sees every brand's application.
    #[sea_orm(string_value = "REVIEWER")]
    Reviewer,
    /// Platform staff: manages brands, credentials and policies.
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// A platform service (checkout, member subgraph).
    #[sea_orm(string_value = "SERVICE")]
    Service,
}

/// A member's self-declared gender; `Unknown` when not given.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Gender {
    /// Female.
    #[sea_orm(string_value = "F")]
    Female,
    /// Male.
    #[sea_orm(string_value = "M")]
    Male,
    /// Not declared.
    #[sea_orm(string_value = "U")]
    Unknown,
}

/// The tier of the member's city in the platform's city classification.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CityTier {
    /// Beijing, Shanghai, Guangzhou, Shenzhen.
    #[sea_orm(string_value = "TIER1")]
    Tier1,
    /// The fifteen "new first-tier" cities.
    #[sea_orm(string_value = "NEW_TIER1")]
    NewTier1,
    /// Second-tier cities.
    #[sea_orm(string_value = "TIER2")]
    Tier2,
    /// Third-tier cities.
    #[sea_orm(string_value = "TIER3")]
    Tier3,
    /// Fourth-tier cities.
    #[sea_orm(string_value = "TIER4")]
    Tier4,
    /// Fifth-tier cities and below.
    #[sea_orm(string_value = "TIER5")]
    Tier5,
}

/// Where a brand's application to the programme stands; see
/// `src/onboarding` for the transitions between these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApplicationState {
    /// Written by the brand, not yet sent.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Sent; automatic screening runs next.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// Screened; waiting for (or with) a reviewer.
    #[sea_orm(string_value = "IN_REVIEW")]
    InReview,
    /// The brand must answer a question before a deadline.
    #[sea_orm(string_value = "NEEDS_INFO")]
    NeedsInfo,
    /// The brand missed the deadline to answer.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    /// Admitted; the brand is ACTIVE and re-evaluated on a schedule.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Admitted on probation until a date.
    #[sea_orm(string_value = "APPROVED_WITH_CONDITIONS")]
    ApprovedWithConditions,
    /// Refused, with reason codes; may be appealed once within 30 days.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// The brand appealed a rejection; a different reviewer decides.
    #[sea_orm(string_value = "APPEALED")]
    Appealed,
    /// The appeal failed; the rejection stands.
    #[sea_orm(string_value = "UPHELD")]
    Upheld,
    /// Admitted but failing a re-evaluation; must recover before a deadline.
    #[sea_orm(string_value = "WATCHLIST")]
    Watchlist,
    /// Removed from the programme after a missed watchlist deadline.
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
}

/// Where a benefit stands in its lifecycle; see `src/benefits`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BenefitState {
    /// Being written by the brand.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Sent for review.
    #[sea_orm(string_value = "PENDING_REVIEW")]
    PendingReview,
    /// Refused by a reviewer; the brand edits it back into a draft.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Approved, waiting for its start.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Live: members get it.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Stopped for now by the brand or by the usage policy.
    #[sea_orm(string_value = "PAUSED")]
    Paused,
    /// Past its end, or ended by the brand.
    #[sea_orm(string_value = "ENDED")]
    Ended,
    /// Retired for low use (or by the brand); final.
    #[sea_orm(string_value = "RETIRED")]
    Retired,
}

/// Whose share of a brand's privacy budget a debit comes from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrivacyPool {
    /// The brand's analysts' audience questions.
    #[sea_orm(string_value = "ANALYSTS")]
    Analysts,
    /// The brand's operators' benefit insights (reach, usage, renewal).
    #[sea_orm(string_value = "OPERATORS")]
    Operators,
}
