//! A version of the benefits' usage policy thresholds. Versions are
//! appended, never changed, so a flag always names the thresholds that
//! judged it.

use sea_orm::entity::prelude::*;

/// A usage policy version row.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_policy")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// 1, 2, … (0 is the built-in default, never stored).
    pub version: i32,
    /// Least share of its places a capacity-bound event must fill.
    pub min_fill_rate: f64,
    /// Least share of the eligible members who bought from the store in
    /// the period who must have used a benefit.
    pub min_buyer_use: f64,
    /// The period use is measured over, in days.
    pub period_days: i32,
    /// Days a benefit is live (or resumed) before the policy judges it.
    pub grace_days: i32,
    /// Days from a flag to the pause, and from the pause to retirement.
    pub notice_days: i32,
    /// When it was set (UTC).
    pub created_at: DateTimeUtc,
    /// Who set it.
    pub created_by: String,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
