//! A brand: the tenant every brand principal is scoped to.

use sea_orm::entity::prelude::*;

use crate::enums::BrandStatus;

/// A brand row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "brand")]
pub struct Model {
    /// Surrogate key; also the brand id in tokens and in GraphQL.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Display name; unique.
    #[sea_orm(unique)]
    pub name: String,
    /// The category the brand competes in.
    pub category_id: i64,
    /// Standing with the programme.
    pub status: BrandStatus,
    /// When the brand was registered (UTC).
    pub created_at: DateTimeUtc,
}

/// Relations of a brand.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The brand's category.
    #[sea_orm(
        belongs_to = "super::category::Entity",
        from = "Column::CategoryId",
        to = "super::category::Column::Id"
    )]
    Category,
}

impl Related<super::category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
