#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

pub(crate) async fn tiny_cohorts_are_suppressed_without_numbers(backend: Backend) {
    // k = 100 instead of 50: an empty cell is shown only if the noise alone
    // reaches k, and at scale 10 that is e^-10 / 2 per cell; at k = 50 it is
    // 1 in 300, which would make this case flaky, not the guard weaker.
    let app = TestApp::spawn_with(backend, &["--privacy-min-cell", "100"]).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let answer = app
        .answer(
            &token,
            json!({
                "population": "STORE",
                "filters": [
                    { "dimension": "BLACK_CARD", "values": ["YES"] },
                    { "dimension": "CITY_TIER", "values": ["TIER5"] }
                ],
                "breakdown": ["AGE_BAND"],
                "metrics": ["PAID_MEMBER_SHARE", "MEAN_ANNUAL_SPEND"]
            }),
        )
        .await;
    let cells = answer["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 6, "every cell is listed, empty or not");
    for cell in cells {
        assert_eq!(cell["suppressed"], true, "{cell}");
        for field in [
            "members",
            "share",
            "paidMemberShare",
            "meanAnnualSpendCents",
        ] {
            assert!(cell[field].is_null(), "{field} leaked: {cell}");
        }
    }
    assert_eq!(answer["shownMembers"], 0);
    assert_eq!(answer["privacy"]["suppressedCells"], 6);
    assert_eq!(answer["privacy"]["minimumCellSize"], 100);
    app.stop().await;
}
