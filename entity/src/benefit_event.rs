//! One change to a benefit (who, when, what): append-only.

use sea_orm::entity::prelude::*;

use crate::enums::BenefitState;

/// An event row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_event")]
pub struct Model {
    /// Surrogate key; orders a benefit's events.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The benefit.
    pub benefit_id: i64,
    /// When (UTC).
    pub at: DateTimeUtc,
    /// Who: a principal's subject, or `scheduler`.
    pub actor: String,
    /// What, e.g. `CREATE`, `EDIT`, `SUBMIT`, `APPROVE`, `PAUSE`.
    pub action: String,
    /// The state before.
    pub from_state: BenefitState,
    /// The state after.
    pub to_state: BenefitState,
    /// The revision the event concerns.
    pub revision: Option<i32>,
    /// Reasons, notices, the changed fields.
    pub note: Option<String>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
