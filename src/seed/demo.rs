//! The demo's onboarding scene (`serve --demo`): every prospect brand
//! applies and is screened, so the reviewer queue has work in it; and one
//! category's policy is set so that one applicant sits exactly on its
//! market-share threshold (margin 0: it passes, just).

use chrono::Utc;
use entity::{brand, category, enums::BrandStatus};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _,
};

use crate::{
    auth::BrandScope,
    criteria::{CriteriaError, evaluate_brand, evaluation, policy},
    onboarding::{self, OnboardingError},
    platform::business_today,
};

/// The data set `serve --demo` seeds into an empty database.
pub fn options() -> super::SeedOptions {
    super::SeedOptions {
        members: 30_000,
        brands: 24,
        seed: 7,
        as_of: business_today(),
        replace: false,
    }
}

/// The actor the demo's applications and policy are recorded under.
pub const DEMO_ACTOR: &str = "demo";

/// Why the scene could not be staged.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A workflow step failed.
    #[error(transparent)]
    Onboarding(#[from] OnboardingError),
    /// The boundary policy could not be set.
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// Measuring failed.
    #[error(transparent)]
    Criteria(#[from] CriteriaError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// One staged application, for the start-up banner.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The brand.
    pub brand_id: i64,
    /// Its name.
    pub brand_name: String,
    /// Its application.
    pub application_id: i64,
    /// Where screening put it (IN_REVIEW or NEEDS_INFO).
    pub state: entity::enums::ApplicationState,
    /// Whether the screening evaluation passed every measure.
    pub passed: bool,
    /// Whether its category's market-share threshold equals its share.
    pub boundary: bool,
}

/// Stages the scene on freshly seeded data.
pub async fn stage(db: &DatabaseConnection) -> Result<Vec<Staged>, DemoError> {
    let prospects = brand::Entity::find()
        .filter(brand::Column::Status.eq(BrandStatus::Prospect))
        .order_by_asc(brand::Column::Id)
        .all(db)
        .await?;
    let today = business_today();
    let mut boundary = None;
    for prospect in &prospects {
        let measures = evaluate_brand(db, prospect, today).await?;
        if let Some(share) = measures.market_share.value.filter(|s| *s > 0.0) {
            let code = category::Entity::find_by_id(prospect.category_id)
                .one(db)
                .await?
                .map(|c| c.code)
                .unwrap_or_default();
            let current = policy::current(db, prospect.category_id).await?;
            let thresholds = policy::Thresholds {
                min_market_share: share,
                ..current.thresholds
            };
            policy::set(db, &code, thresholds, current.version, DEMO_ACTOR).await?;
            boundary = Some(prospect.id);
            break;
        }
    }
    let mut staged = Vec::new();
    let now = Utc::now();
    for prospect in prospects {
        let caller = onboarding::Caller {
            scope: BrandScope::One(prospect.id),
            subject: DEMO_ACTOR.to_owned(),
            now,
        };
        let draft = onboarding::create(
            db,
            &caller,
            prospect.id,
            &format!("{} asks to join the membership programme.", prospect.name),
        )
        .await?;
        let screened = onboarding::submit(db, &caller, draft.id, draft.version).await?;
        let passed = match screened.evaluation_id {
            Some(id) => evaluation::get(db, BrandScope::All, id).await?.passed,
            None => false,
        };
        staged.push(Staged {
            brand_id: prospect.id,
            brand_name: prospect.name,
            application_id: screened.id,
            state: screened.state,
            passed,
            boundary: boundary == Some(prospect.id),
        });
    }
    Ok(staged)
}
