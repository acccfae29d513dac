//! Partial refunds and early-access windows. A refund may give back some
//! units of an order: each refund is a row (idempotent per order and
//! refund reference), and a redemption keeps the money refunds have given
//! back so far. Early access gains the public launch time its early hours
//! count back from; definitions stored before it take their end as the
//! launch (they keep granting until then, in their last early hours), or,
//! without an end, their start plus their early hours.

use chrono::{DateTime, Duration, Utc};
use sea_orm_migration::{prelude::*, schema::*};

/// Creates `order_refund`, adds `redemption.refunded_cents`, and gives
/// stored early-access definitions a `publicAt`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000009_partial_refunds"
    }
}

/// A stored definition with `publicAt` added to an early-access kind
/// that has none; `None` when nothing changes.
fn with_public_at(definition: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(definition).ok()?;
    let kind = value.get("kind")?;
    if kind.get("kind")? != "earlyAccess" || kind.get("publicAt").is_some() {
        return None;
    }
    let hours = kind.get("hoursEarly")?.as_i64()?;
    let schedule = value.get("schedule")?;
    let at = |field: &str| -> Option<DateTime<Utc>> { schedule.get(field)?.as_str()?.parse().ok() };
    let launch = at("endsAt").or_else(|| Some(at("startsAt")? + Duration::hours(hours)))?;
    let public_at = serde_json::to_value(launch).ok()?;
    value
        .get_mut("kind")?
        .as_object_mut()?
        .insert("publicAt".to_owned(), public_at);
    serde_json::to_string(&value).ok()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("order_refund")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("order_id"))
                    .col(string_len_null("refund_ref", 128))
                    .col(text("request"))
                    .col(text("detail"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("order_refund", "order_id")
                            .to("checkout_order", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_refund_ref")
                    .table(Alias::new("order_refund"))
                    .col(Alias::new("order_id"))
                    .col(Alias::new("refund_ref"))
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("redemption"))
                    .add_column(big_integer("refunded_cents").default(0))
                    .take(),
            )
            .await?;
        // A whole refund gave everything back.
        manager
            .exec_stmt(
                Query::update()
                    .table(Alias::new("redemption"))
                    .value(
                        Alias::new("refunded_cents"),
                        Expr::col(Alias::new("amount_cents")),
                    )
                    .and_where(Expr::col(Alias::new("refunded_at")).is_not_null())
                    .take(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let stored = db
            .query_all_raw(
                backend.build(
                    Query::select()
                        .columns([Alias::new("id"), Alias::new("definition")])
                        .from(Alias::new("benefit_revision"))
                        .and_where(Expr::col(Alias::new("definition")).like("%earlyAccess%")),
                ),
            )
            .await?;
        for row in stored {
            let id: i64 = row.try_get("", "id")?;
            let definition: String = row.try_get("", "definition")?;
            if let Some(updated) = with_public_at(&definition) {
                manager
                    .exec_stmt(
                        Query::update()
                            .table(Alias::new("benefit_revision"))
                            .value(Alias::new("definition"), updated)
                            .and_where(Expr::col(Alias::new("id")).eq(id))
                            .take(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("redemption"))
                    .drop_column(Alias::new("refunded_cents"))
                    .take(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("order_refund")).take())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::with_public_at;

    #[test]
    fn early_access_gets_the_launch_its_schedule_implies() {
        let stored = r#"{"name":"n","kind":{"kind":"earlyAccess","hoursEarly":24,"skus":["A"]},"schedule":{"startsAt":"2026-11-01T00:00:00Z","endsAt":null}}"#;
        let updated: serde_json::Value =
            serde_json::from_str(&with_public_at(stored).expect("updated")).expect("json");
        assert_eq!(updated["kind"]["publicAt"], "2026-11-02T00:00:00Z");
        let ending = stored.replace("\"endsAt\":null", "\"endsAt\":\"2026-12-31T16:00:00Z\"");
        let ending: serde_json::Value =
            serde_json::from_str(&with_public_at(&ending).expect("updated")).expect("json");
        assert_eq!(ending["kind"]["publicAt"], "2026-12-31T16:00:00Z");
        assert_eq!(with_public_at(&updated.to_string()), None, "once");
        let coupon =
            r#"{"kind":{"kind":"fixedCoupon"},"schedule":{"startsAt":"2026-11-01T00:00:00Z"}}"#;
        assert_eq!(with_public_at(coupon), None);
    }
}
