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

/// A qualification document's kind; see `src/onboarding/documents.rs`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentKind {
    /// A trademark registration (®) or filing (™) certificate.
    #[sea_orm(string_value = "TRADEMARK_REGISTRATION")]
    TrademarkRegistration,
    /// The trademark owner's authorisation to sell, with its chain.
    #[sea_orm(string_value = "BRAND_AUTHORIZATION")]
    BrandAuthorization,
    /// The applying company's business licence.
    #[sea_orm(string_value = "BUSINESS_LICENSE")]
    BusinessLicense,
}

/// Whether a trademark is registered or only filed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrademarkStatus {
    /// Registered (®).
    #[sea_orm(string_value = "REGISTERED")]
    Registered,
    /// Filed, not yet registered (™).
    #[sea_orm(string_value = "FILED")]
    Filed,
}

/// Where a qualification document stands with the reviewers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentState {
    /// Uploaded, not yet checked.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Checked and accepted by a reviewer.
    #[sea_orm(string_value = "VERIFIED")]
    Verified,
    /// Refused by a reviewer, with a reason.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// Why a reviewer refused a qualification document.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentRejection {
    /// The file cannot be read.
    #[sea_orm(string_value = "ILLEGIBLE")]
    Illegible,
    /// The file does not show what the stated details say.
    #[sea_orm(string_value = "DETAILS_MISMATCH")]
    DetailsMismatch,
    /// The registry or issuer does not confirm it.
    #[sea_orm(string_value = "NOT_CONFIRMED")]
    NotConfirmed,
    /// Expired, or about to.
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
    /// A link in the authorisation chain is missing or unsigned.
    #[sea_orm(string_value = "CHAIN_INCOMPLETE")]
    ChainIncomplete,
    /// The trademark's class does not cover the category's goods.
    #[sea_orm(string_value = "WRONG_CLASS")]
    WrongClass,
    /// Anything else; the note says what.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a condition of a conditional approval stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConditionState {
    /// Waiting for the brand's evidence.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// The brand sent evidence; a reviewer judges it.
    #[sea_orm(string_value = "EVIDENCED")]
    Evidenced,
    /// A reviewer found it met.
    #[sea_orm(string_value = "MET")]
    Met,
    /// A reviewer found it missed, or its deadline passed without evidence.
    #[sea_orm(string_value = "MISSED")]
    Missed,
}
