//! One brand's entry figures in one data epoch, as of one day: what its
//! category's shares, percentiles and ratio are made from. A category's
//! figures take a second or more to read from sales, mentions and 90 days
//! of every SKU's prices, and change only with the data and the formulas,
//! so they are kept per formula version, epoch and member snapshot:
//! `refresh` keeps the epoch's as-of day, and any other day is kept when
//! first read.

use sea_orm::entity::prelude::*;

/// A brand's figures.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entry_figures")]
pub struct Model {
    /// The data epoch whose store join days they sum (0 before any).
    #[sea_orm(primary_key, auto_increment = false)]
    pub epoch_id: i64,
    /// The formula version that read them.
    #[sea_orm(primary_key, auto_increment = false)]
    pub formula_version: String,
    /// The member snapshot whose load wrote the sales, mentions and prices
    /// (0 before any).
    #[sea_orm(primary_key, auto_increment = false)]
    pub snapshot_id: i64,
    /// The brand's category when they were read.
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: i64,
    /// The day they are as of.
    #[sea_orm(primary_key, auto_increment = false)]
    pub as_of: Date,
    /// The brand.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// Net GMV over the 12 months ending with the as-of month.
    pub net_gmv_cents: i64,
    /// Voluntary mentions over the lookback.
    pub voluntary_mentions: i64,
    /// Paid mentions over the lookback.
    pub paid_mentions: i64,
    /// GMV-weighted coefficient of variation of its SKUs' prices.
    pub price_cv: Option<f64>,
    /// GMV-weighted share of deep-discount days.
    pub deep_discount_days: Option<f64>,
    /// SKUs sold in the lookback.
    pub priced_skus: i64,
    /// Their GMV, the weights' total.
    pub priced_gmv_cents: f64,
    /// Store members who joined by the as-of day.
    pub store_members: i64,
    /// Of them, paid members.
    pub paid_store_members: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
