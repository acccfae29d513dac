//! Ahead of time: the admitted brands that would fail the policy in force
//! today, and which ones a proposed policy would newly fail. Judged by the
//! rule evaluations use ([`evaluation::verdicts`]), never stored: a
//! reviewer looks before acting, an evaluation is what they act on.

use std::collections::{HashMap, hash_map::Entry};

use chrono::NaiveDate;
use entity::{brand, enums::BrandStatus};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

use super::{
    CategoryFigures, CriteriaError, Measures, evaluate_brand,
    evaluation::{self, Verdict},
    policy::{self, Policy, PolicyError, Thresholds},
};

/// An admitted brand failing a policy, with the measures it fails.
#[derive(Debug, Clone)]
pub(crate) struct AtRisk {
    /// The brand.
    pub brand: brand::Model,
    /// The policy version it was judged against (none for a proposal).
    pub policy_version: Option<i32>,
    /// The failing verdicts: measure, value, threshold, margin.
    pub failing: Vec<Verdict>,
}

/// Admitted brands (ACTIVE, WATCHLIST), of one category or all, by id.
async fn admitted(
    db: &DatabaseConnection,
    category_id: Option<i64>,
) -> Result<Vec<brand::Model>, sea_orm::DbErr> {
    let mut select = brand::Entity::find()
        .filter(brand::Column::Status.is_in([BrandStatus::Active, BrandStatus::Watchlist]))
        .order_by_asc(brand::Column::Id);
    if let Some(category) = category_id {
        select = select.filter(brand::Column::CategoryId.eq(category));
    }
    select.all(db).await
}

fn failing(verdicts: Vec<Verdict>) -> Vec<Verdict> {
    verdicts.into_iter().filter(|v| !v.passed).collect()
}

/// The measures `brand` would fail if evaluated on `as_of` against its
/// category's policy in force, and that policy's version: what the at-risk
/// list and the deadline warnings say.
pub(crate) async fn failing_today(
    db: &DatabaseConnection,
    brand: &brand::Model,
    as_of: NaiveDate,
) -> Result<(i32, Vec<Verdict>), CriteriaError> {
    let measures = evaluate_brand(db, brand, as_of).await?;
    let policy = policy::current(db, brand.category_id).await?;
    Ok(failing_against(&policy, measures))
}

/// The measures of `measures` that fail `policy`, and its version.
fn failing_against(policy: &Policy, measures: Measures) -> (i32, Vec<Verdict>) {
    (
        policy.version,
        failing(evaluation::verdicts(measures, &policy.thresholds)),
    )
}

/// The admitted brands that would fail their category's policy in force
/// if evaluated on `as_of`.
pub(crate) async fn at_risk(
    db: &DatabaseConnection,
    as_of: NaiveDate,
) -> Result<Vec<AtRisk>, CriteriaError> {
    let mut out = Vec::new();
    // Each category's figures and policy are read once, for all its brands.
    let mut categories: HashMap<i64, (CategoryFigures, Policy)> = HashMap::new();
    for brand in admitted(db, None).await? {
        let (figures, policy) = match categories.entry(brand.category_id) {
            Entry::Occupied(read) => read.into_mut(),
            Entry::Vacant(unread) => unread.insert((
                CategoryFigures::read(db, brand.category_id, as_of).await?,
                policy::current(db, brand.category_id).await?,
            )),
        };
        let (version, failing) = failing_against(policy, figures.measures_of(brand.id));
        if !failing.is_empty() {
            out.push(AtRisk {
                brand,
                policy_version: Some(version),
                failing,
            });
        }
    }
    Ok(out)
}

/// What a proposed policy would change for the category's admitted brands.
#[derive(Debug, Clone)]
pub(crate) struct Impact {
    /// The version in force it is compared with.
    pub current_version: i32,
    /// Brands that pass the policy in force and would fail the proposal.
    pub newly_failing: Vec<AtRisk>,
    /// Brands that fail the policy in force and would pass the proposal.
    pub newly_passing: Vec<brand::Model>,
}

/// The impact of `proposed` thresholds for category `code`, measured on
/// `as_of`; nothing is saved.
pub(crate) async fn preview(
    db: &DatabaseConnection,
    code: &str,
    proposed: Thresholds,
    as_of: NaiveDate,
) -> Result<Impact, PolicyError> {
    policy::check(&proposed)?;
    let category = policy::category_id(db, code).await?;
    let current = policy::current(db, category).await?;
    let mut impact = Impact {
        current_version: current.version,
        newly_failing: Vec::new(),
        newly_passing: Vec::new(),
    };
    let figures = CategoryFigures::read(db, category, as_of).await?;
    for brand in admitted(db, Some(category)).await? {
        let measures = figures.measures_of(brand.id);
        let now = evaluation::verdicts(measures.clone(), &current.thresholds);
        let then = failing(evaluation::verdicts(measures, &proposed));
        let passes_now = now.iter().all(|v| v.passed);
        match (passes_now, then.is_empty()) {
            (true, false) => impact.newly_failing.push(AtRisk {
                brand,
                policy_version: None,
                failing: then,
            }),
            (false, true) => impact.newly_passing.push(brand),
            _ => {}
        }
    }
    Ok(impact)
}
