//! A product category (beauty, sportswear …); brands compete within one.

use sea_orm::entity::prelude::*;

/// A category row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "category")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Stable machine code, e.g. `BEAUTY`; unique.
    #[sea_orm(unique)]
    pub code: String,
    /// Display name.
    pub name: String,
}

/// Relations of a category.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The brands in this category.
    #[sea_orm(has_many = "super::brand::Entity")]
    Brand,
}

impl Related<super::brand::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Brand.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
