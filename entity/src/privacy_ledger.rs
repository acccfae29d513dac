//! The per-brand privacy budget ledger: one row per debit, append-only.

use sea_orm::entity::prelude::*;

/// A debit row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_ledger")]
pub struct Model {
    /// Insertion order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The brand whose budget paid.
    pub brand_id: i64,
    /// When (UTC).
    pub at: DateTimeUtc,
    /// ε spent, in millionths.
    pub epsilon_micros: i64,
    /// The data epoch answered from.
    pub epoch_id: i64,
    /// The normalised question, for the analyst's spend history.
    pub question: String,
    /// Whose share of the brand's budget paid.
    pub pool: crate::enums::PrivacyPool,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
