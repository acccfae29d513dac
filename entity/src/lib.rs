//! sea-orm entities: the rows brand-gateway stores, and nothing else.
//!
//! Entities are never GraphQL types and carry no business rules; the domain
//! modules of the app crate read and write them, and the GraphQL layer maps
//! domain values to its own types. Column enums that the database stores as
//! short strings live in [`enums`].

pub mod application;
pub mod application_condition;
pub mod application_document;
pub mod application_event;
pub mod audit_log;
pub mod benefit;
pub mod benefit_budget_slot;
pub mod benefit_event;
pub mod benefit_revision;
pub mod brand;
pub mod category;
pub mod category_sales;
pub mod checkout_order;
pub mod credential;
pub mod criteria_policy;
pub mod data_epoch;
pub mod entry_figures;
pub mod enums;
pub mod evaluation;
pub mod member;
pub mod member_centre;
pub mod member_snapshot;
pub mod order_refund;
pub mod paid_renewal;
pub mod platform_release;
pub mod privacy_ledger;
pub mod privacy_split;
pub mod redemption;
pub mod segment_answer;
pub mod sku_price;
pub mod social_mention;
pub mod store_join_day;
pub mod store_membership;
pub mod usage_policy;
pub mod webhook;
pub mod webhook_delivery;
