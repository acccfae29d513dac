//! `brand-gateway run-due`, the command: it runs the due steps and prints
//! what they did. The steps themselves are tested in process
//! (`TestApp::run_due`) with the onboarding and benefit workflows.

use brand_gateway::{due::DueReport, onboarding};
use chrono::{Duration, Utc};
use entity::{application, enums::ApplicationState};
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, sea_query::Expr,
};

use crate::helpers::{Backend, TestApp, scalar};

/// The command runs the steps due now on the database it is given, prints
/// the report `Display`s, and commits what it reports: an in-process run
/// right after it finds nothing left to do.
pub(crate) async fn run_due_command_prints_its_report(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // One adopted brand's quarterly re-evaluation falls due; the others'
    // lie within the warning horizon.
    let first = application::Entity::find()
        .filter(application::Column::State.eq(ApplicationState::Approved))
        .order_by_asc(application::Column::Id)
        .one(&app.db.db)
        .await
        .expect("query")
        .expect("an approved application");
    application::Entity::update_many()
        .col_expr(
            application::Column::DueAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(application::Column::Id.eq(first.id))
        .exec(&app.db.db)
        .await
        .expect("move the deadline");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
        .arg("run-due")
        .env("DATABASE_URL", &app.db.url)
        .env_remove("RUST_LOG")
        .output()
        .await
        .expect("run run-due");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");

    // What it did, read back from the event log.
    let reevaluated = scalar(
        &app.db.db,
        "SELECT COUNT(DISTINCT application_id) FROM application_event \
         WHERE actor = 'scheduler' AND action <> 'WARN'",
    )
    .await;
    let warned = scalar(
        &app.db.db,
        "SELECT COUNT(*) FROM application_event WHERE actor = 'scheduler' AND action = 'WARN'",
    )
    .await;
    assert_eq!(reevaluated, 1);
    assert!(warned > 0, "the seeded deadlines within 30 days are warned");
    // An admitted brand's warning says whether it would fail today, and
    // on which measures (reason codes, never the values a brand may not
    // see), by the rule the at-risk list uses.
    let admitted = "actor = 'scheduler' AND action = 'WARN' \
         AND to_state IN ('APPROVED', 'APPROVED_WITH_CONDITIONS', 'WATCHLIST')";
    let said = scalar(
        &app.db.db,
        &format!(
            "SELECT COUNT(*) FROM application_event WHERE {admitted} \
             AND (note LIKE '%passes policy version%today%' OR note LIKE '%would fail policy version%today: %') \
             AND note NOT LIKE '%needs%'"
        ),
    )
    .await;
    let all = scalar(
        &app.db.db,
        &format!("SELECT COUNT(*) FROM application_event WHERE {admitted}"),
    )
    .await;
    assert!(
        all > 0 && said == all,
        "{said} of {all} admitted warnings say how the brand stands"
    );
    let failing_without_reasons = scalar(
        &app.db.db,
        &format!(
            "SELECT COUNT(*) FROM application_event WHERE {admitted} \
             AND note LIKE '%would fail%' AND reason_codes = ''"
        ),
    )
    .await;
    assert_eq!(failing_without_reasons, 0);
    let expected = DueReport {
        onboarding: onboarding::due::DueReport {
            reevaluated: 1,
            warned: u32::try_from(warned).expect("a count"),
            ..Default::default()
        },
        benefits: Default::default(),
    };
    assert!(
        stderr.contains(&expected.to_string()),
        "expected\n{expected}\nin\n{stderr}"
    );
    assert!(
        stderr.contains(
            "due onboarding steps: 0 expired, 0 conditions missed, 1 re-evaluated (0 suspended), "
        ),
        "{stderr}"
    );

    assert_eq!(app.run_due().await, DueReport::default());
    app.stop().await;
}
