//! A platform member and the dimensions segments are cut by.
//!
//! Member rows never leave the process: every capability reads them only
//! through aggregates. The id is the platform's opaque member reference.

use sea_orm::entity::prelude::*;

use crate::enums::{CityTier, Gender};

/// A member row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member")]
pub struct Model {
    /// The platform's member reference.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// Growth points score; the growth tier is derived from it.
    pub points: i32,
    /// Holds the paid membership (88VIP-like); needs points ≥ 1000.
    pub paid_member: bool,
    /// Holds the invitation-only black card; needs points ≥ 2500.
    pub black_card: bool,
    /// Year of birth; the age band is derived from it.
    pub birth_year: i32,
    /// Declared gender.
    pub gender: Gender,
    /// Tier of the member's city.
    pub city_tier: CityTier,
    /// Spend over the trailing twelve months, in fen (integer cents).
    pub annual_spend_cents: i64,
    /// The interests the member shows, one bit per code (bit `i` for the
    /// code whose value is `i`): a member is one row, not one per code.
    pub interests: i32,
    /// The ecosystem services the member uses, packed as `interests`.
    pub services: i32,
    /// Date of birth, in `birth_year`, when the platform knows it: a
    /// birthday gift needs it.
    pub birth_date: Option<Date>,
}

/// Members relate to nothing directly; store memberships point at them.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
