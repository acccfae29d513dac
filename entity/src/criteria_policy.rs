//! A version of a category's entry thresholds. Versions are appended, never
//! changed, so a past evaluation always names the thresholds it used.

use sea_orm::entity::prelude::*;

/// A policy version row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "criteria_policy")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The category it applies to.
    pub category_id: i64,
    /// 1, 2, … per category (0 is the built-in default, never stored).
    pub version: i32,
    /// Least market share admitted.
    pub min_market_share: f64,
    /// Least voluntary mention share admitted.
    pub min_voluntary_mention_share: f64,
    /// Most price volatility admitted.
    pub max_price_volatility: f64,
    /// Least super-member ratio admitted (judged on its Wilson lower bound).
    pub min_super_member_ratio: f64,
    /// Most deep-discount day share admitted.
    pub max_deep_discount_days: f64,
    /// When it was set (UTC).
    pub created_at: DateTimeUtc,
    /// Who set it.
    pub created_by: String,
    /// Days a brand waits after a final refusal before applying again.
    pub reapply_cooldown_days: i32,
    /// Documents an application must have verified before approval,
    /// comma-separated kinds (`BUSINESS_LICENSE,TRADEMARK_REGISTRATION`).
    pub required_documents: String,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
