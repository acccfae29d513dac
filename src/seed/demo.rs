//! The demo's onboarding scene (`serve --demo`): every prospect brand
//! applies and is screened, so the reviewer queue has work in it; and one
//! category's policy is set so that one applicant sits exactly on its
//! market-share threshold (margin 0: it passes, just).

use chrono::Utc;
use entity::{
    brand, category,
    enums::{BrandStatus, DocumentKind, TrademarkStatus},
};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _,
};

use crate::{
    auth::{BrandScope, Caller},
    benefits::{
        self, Action, BenefitError, centre,
        definition::{
            Budget, Definition, Kind, KindCode, Schedule, SkuPrice, StackMode, Stacking, Targeting,
            Upgrade,
        },
        redemption::{self, RedeemError},
        stacking,
    },
    criteria::{CriteriaError, evaluate_brand, evaluation, policy},
    onboarding::{
        self, OnboardingError,
        conditions::ConditionSpec,
        documents::{DocumentStore, NewDocument},
    },
    platform::{GrowthTier, business_today},
};

/// The data set `serve --demo` seeds into an empty database.
pub fn options() -> super::SeedOptions {
    super::SeedOptions {
        members: 30_000,
        brands: 24,
        long_tail: 30,
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
    /// A benefit step failed.
    #[error(transparent)]
    Benefit(#[from] BenefitError),
    /// A demo redemption failed.
    #[error(transparent)]
    Redeem(#[from] RedeemError),
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
    /// What the demo did with it after screening, if anything.
    pub scene: Option<&'static str>,
}

/// Stages the scene on freshly seeded data; filed documents go to `documents`.
pub async fn stage(
    db: &DatabaseConnection,
    documents: &DocumentStore,
) -> Result<Vec<Staged>, DemoError> {
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
            policy::set(
                db,
                &code,
                policy::PolicyChange {
                    thresholds,
                    reapply_cooldown_days: None,
                    required_documents: None,
                },
                current.version,
                DEMO_ACTOR,
            )
            .await?;
            boundary = Some(prospect.id);
            break;
        }
    }
    let mut staged = Vec::new();
    let now = Utc::now();
    for prospect in prospects {
        let caller = Caller {
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
            scene: None,
        });
    }
    // A few applications in review are taken further, so the queue shows
    // each state a reviewer meets: documents to verify, conditions to
    // follow up, an appeal to decide (the at-risk list comes from the
    // admitted brands themselves).
    let mut in_review = staged
        .iter_mut()
        .filter(|s| s.state == entity::enums::ApplicationState::InReview && !s.boundary);
    if let Some(s) = in_review.next() {
        file_documents(db, documents, s, now).await?;
    }
    if let Some(s) = in_review.next() {
        approve_with_conditions(db, s, now).await?;
    }
    if let Some(s) = in_review.next() {
        reject_and_appeal(db, s, now).await?;
    }
    Ok(staged)
}

/// The reviewer who takes the demo's applications further (the `demo`
/// reviewer token can then decide the appeal: another reviewer).
const DEMO_REVIEWER: &str = "demo-reviewer";

fn operator_of(brand_id: i64, now: chrono::DateTime<Utc>) -> Caller {
    Caller {
        scope: BrandScope::One(brand_id),
        subject: DEMO_ACTOR.to_owned(),
        now,
    }
}

fn reviewer(now: chrono::DateTime<Utc>) -> Caller {
    Caller {
        scope: BrandScope::All,
        subject: DEMO_REVIEWER.to_owned(),
        now,
    }
}

/// A one-page PDF standing in for a scan.
fn scan(title: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% brand-gateway demo scan\n1 0 obj << /Title ({title}) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

/// The brand files its business licence and trademark registration; both
/// wait for a reviewer.
async fn file_documents(
    db: &DatabaseConnection,
    documents: &DocumentStore,
    staged: &mut Staged,
    now: chrono::DateTime<Utc>,
) -> Result<(), DemoError> {
    let operator = operator_of(staged.brand_id, now);
    let company = format!("{} Trading Co., Ltd.", staged.brand_name);
    let filings = [
        NewDocument {
            kind: DocumentKind::BusinessLicense,
            trademark_status: None,
            number: "91330100MA2H3YQ5XU".to_owned(),
            holder: company.clone(),
            nice_class: None,
            chain: Vec::new(),
            expires_on: None,
            file_name: "business-licence.pdf".to_owned(),
            content: scan("business licence"),
        },
        NewDocument {
            kind: DocumentKind::TrademarkRegistration,
            trademark_status: Some(TrademarkStatus::Registered),
            number: format!("3{:07}", staged.brand_id * 7919),
            holder: company,
            nice_class: Some(3),
            chain: Vec::new(),
            expires_on: business_today().checked_add_months(chrono::Months::new(60)),
            file_name: "trademark-registration.pdf".to_owned(),
            content: scan("trademark registration"),
        },
    ];
    for filing in filings {
        onboarding::documents::file(db, documents, &operator, staged.application_id, filing)
            .await?;
    }
    staged.scene = Some("two documents wait for verification");
    Ok(())
}

/// The demo reviewer claims a staged application and decides it.
async fn claim_and_decide(
    db: &DatabaseConnection,
    staged: &Staged,
    decision: &onboarding::Decision,
    now: chrono::DateTime<Utc>,
) -> Result<entity::application::Model, DemoError> {
    let reviewer = reviewer(now);
    let current = onboarding::get(db, BrandScope::All, staged.application_id).await?;
    let claimed = onboarding::claim(db, &reviewer, current.id, current.version).await?;
    Ok(onboarding::decide(db, &reviewer, claimed.id, claimed.version, decision).await?)
}

/// A reviewer admits the brand on probation with two tracked conditions;
/// the brand has sent evidence for the first.
async fn approve_with_conditions(
    db: &DatabaseConnection,
    staged: &mut Staged,
    now: chrono::DateTime<Utc>,
) -> Result<(), DemoError> {
    let decision = onboarding::Decision {
        probation_days: Some(90),
        conditions: vec![
            ConditionSpec {
                description: "Keep list prices within 5% of the launch prices for 30 days."
                    .to_owned(),
                due_in_days: Some(30),
            },
            ConditionSpec {
                description: "Publish a 7-day no-reason returns policy in the store.".to_owned(),
                due_in_days: Some(60),
            },
        ],
        ..onboarding::Decision::new(onboarding::Action::ApproveWithConditions)
    };
    let admitted = claim_and_decide(db, staged, &decision, now).await?;
    let conditions = onboarding::conditions::of_applications(db, &[admitted.id]).await?;
    if let Some(first) = conditions.first() {
        onboarding::conditions::submit_evidence(
            db,
            &operator_of(staged.brand_id, now),
            first.id,
            "Price log for the first two weeks: no list price changed.",
            None,
        )
        .await?;
    }
    staged.state = admitted.state;
    staged.scene = Some("on probation: 2 conditions, 1 with evidence to judge");
    Ok(())
}

/// A reviewer rejects the brand; the brand appeals with new evidence, and
/// the appeal waits for a second reviewer.
async fn reject_and_appeal(
    db: &DatabaseConnection,
    staged: &mut Staged,
    now: chrono::DateTime<Utc>,
) -> Result<(), DemoError> {
    let decision = onboarding::Decision {
        reasons: vec![onboarding::ReasonCode::BrandRisk],
        note: Some("Complaints about counterfeit stock in the last quarter.".to_owned()),
        ..onboarding::Decision::new(onboarding::Action::Reject)
    };
    let rejected = claim_and_decide(db, staged, &decision, now).await?;
    let appealed = onboarding::appeal(
        db,
        &operator_of(staged.brand_id, now),
        rejected.id,
        rejected.version,
        "The complaints concerned a reseller we have since cut off; our authorisation chain is attached.",
    )
    .await?;
    staged.state = appealed.state;
    staged.scene = Some("rejected, appealed: waits for a second reviewer");
    Ok(())
}

/// How far through review a demo benefit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Approved (active, or scheduled when its start is to come).
    Live,
    /// Submitted, waiting for a reviewer.
    InReview,
    /// Still a draft.
    Draft,
}

/// The benefits a demo brand offers, varied by brand so the demo shows
/// every kind, every stacking mode and several lifecycle states.
fn demo_benefits(
    brand_id: i64,
    name: &str,
    now: chrono::DateTime<Utc>,
) -> Vec<(Definition, Stage)> {
    let schedule = |days_from: i64, days: i64| Schedule {
        starts_at: now + chrono::Duration::days(days_from),
        ends_at: Some(now + chrono::Duration::days(days_from + days)),
    };
    let stacking = |mode, combines_with: &[KindCode], priority| Stacking {
        mode,
        combines_with: combines_with.to_vec(),
        priority,
    };
    let definition = |name: String, kind, targeting, stacking, schedule| Definition {
        name,
        description: None,
        kind,
        targeting,
        stacking,
        upgrade: None,
        schedule,
        budget: Budget::default(),
    };
    let mut everyone = definition(
        format!("{name} member price"),
        Kind::PercentOff { percent: 5 },
        Targeting::default(),
        stacking(
            StackMode::BestOf,
            &[
                KindCode::FixedCoupon,
                KindCode::OrderRebate,
                KindCode::PointsMultiplier,
                KindCode::BirthdayGift,
                KindCode::EarlyAccess,
            ],
            10,
        ),
        schedule(-40, 365),
    );
    everyone.upgrade = Some(Upgrade {
        min_tier: Some(GrowthTier::Platinum),
        paid_member: true,
        black_card: false,
        value: 8,
    });
    let mut coupon = definition(
        format!("{name} ¥30 off ¥299 for 88VIP"),
        Kind::FixedCoupon {
            amount_cents: 3000,
            threshold_cents: 29900,
        },
        Targeting {
            paid_member: Some(true),
            ..Targeting::default()
        },
        stacking(
            StackMode::Combinable,
            &[
                KindCode::PercentOff,
                KindCode::OrderRebate,
                KindCode::BirthdayGift,
            ],
            5,
        ),
        schedule(-40, 90),
    );
    coupon.budget = Budget {
        total_redemptions: Some(5000),
        per_member: Some(2),
        total_money_cents: Some(15_000_000),
        ..Budget::default()
    };
    let black_card = definition(
        format!("{name} private preview"),
        Kind::OfflineExperience {
            title: "Private preview evening".to_owned(),
            locations: vec!["Shanghai, Jing'an flagship".to_owned()],
            slot_start: now + chrono::Duration::days(20),
            slot_end: now + chrono::Duration::days(20) + chrono::Duration::hours(3),
            capacity: 30,
        },
        Targeting {
            black_card: Some(true),
            ..Targeting::default()
        },
        stacking(StackMode::Exclusive, &[], 100),
        schedule(-1, 30),
    );
    let birthday = definition(
        format!("{name} birthday gift"),
        Kind::BirthdayGift {
            gift: "Travel-size set".to_owned(),
            days_before: 7,
            days_after: 7,
        },
        Targeting {
            min_tier: Some(GrowthTier::Gold),
            ..Targeting::default()
        },
        stacking(
            StackMode::Combinable,
            &[KindCode::PercentOff, KindCode::FixedCoupon],
            1,
        ),
        schedule(-10, 365),
    );
    let early = definition(
        format!("{name} early access"),
        Kind::EarlyAccess {
            hours_early: 24,
            skus: vec![
                format!("SKU-{brand_id}-NEW-1"),
                format!("SKU-{brand_id}-NEW-2"),
            ],
            // Its 24 early hours open the day it starts.
            public_at: now + chrono::Duration::days(8),
        },
        Targeting {
            min_tier: Some(GrowthTier::Platinum),
            ..Targeting::default()
        },
        stacking(
            StackMode::Combinable,
            &[KindCode::PercentOff, KindCode::MemberPrice],
            20,
        ),
        schedule(7, 14),
    );
    // 88VIP member prices on two SKUs (JD PLUS / Tmall 会员价 style).
    let member_price = definition(
        format!("{name} 88VIP member price"),
        Kind::MemberPrice {
            prices: vec![
                SkuPrice {
                    sku: "SERUM-30ML".to_owned(),
                    price_cents: 15_900,
                },
                SkuPrice {
                    sku: "MASK-5P".to_owned(),
                    price_cents: 8_900,
                },
            ],
        },
        Targeting {
            paid_member: Some(true),
            ..Targeting::default()
        },
        stacking(StackMode::Combinable, &[KindCode::EarlyAccess], 10),
        schedule(-40, 365),
    );
    // Xiaomi UP style: ¥20 back on the third order within 30 days.
    let rebate = definition(
        format!("{name} third-order rebate"),
        Kind::OrderRebate {
            nth_order: 3,
            period_days: 30,
            amount_cents: 2_000,
        },
        Targeting::default(),
        stacking(
            StackMode::Combinable,
            &[KindCode::PercentOff, KindCode::FixedCoupon],
            3,
        ),
        schedule(-40, 365),
    );
    let points = definition(
        format!("{name} double points"),
        Kind::PointsMultiplier {
            multiplier_tenths: 20,
        },
        Targeting::default(),
        stacking(StackMode::Combinable, &[KindCode::PercentOff], 2),
        schedule(3, 30),
    );
    // 大会员 tier ladder: more points the higher the growth tier; best-of,
    // so a member moving up gets the next rung instead, never less.
    let ladder = [
        (GrowthTier::Gold, "GOLD", 15),
        (GrowthTier::Platinum, "PLATINUM", 20),
        (GrowthTier::Diamond, "DIAMOND", 30),
    ]
    .map(|(tier, label, tenths)| {
        definition(
            format!("{name} {label}+ points ×{}.{}", tenths / 10, tenths % 10),
            Kind::PointsMultiplier {
                multiplier_tenths: tenths,
            },
            Targeting {
                min_tier: Some(tier),
                ..Targeting::default()
            },
            stacking(StackMode::BestOf, &[], 5),
            schedule(-40, 365),
        )
    });
    let mut all = vec![
        (everyone, Stage::Live),
        (coupon, Stage::Live),
        (birthday, Stage::Live),
        (member_price, Stage::Live),
        (rebate, Stage::Live),
    ];
    all.extend(ladder.map(|rung| (rung, Stage::Live)));
    match brand_id % 3 {
        0 => all.push((black_card, Stage::Live)),
        1 => all.push((early, Stage::InReview)),
        _ => all.push((points, Stage::Draft)),
    }
    all
}

/// Gives every admitted listed demo brand a spread of benefits (live, waiting for
/// review, or draft), records some redemptions of brand 1's, and fills
/// brand 1's member centre. Returns how many benefits it created.
pub async fn stage_benefits(db: &DatabaseConnection) -> Result<usize, DemoError> {
    let now = Utc::now();
    // The listed brands only: the long tail gets none, so start-up stays quick.
    let brands = brand::Entity::find()
        .filter(brand::Column::Status.eq(BrandStatus::Active))
        .filter(brand::Column::Id.lte(i64::from(options().brands)))
        .order_by_asc(brand::Column::Id)
        .all(db)
        .await?;
    let reviewer = Caller {
        scope: BrandScope::All,
        subject: "demo-reviewer".to_owned(),
        now,
    };
    let mut created = 0;
    let mut first_brand: Vec<(i64, Definition)> = Vec::new();
    for brand in &brands {
        let operator = Caller {
            scope: BrandScope::One(brand.id),
            subject: DEMO_ACTOR.to_owned(),
            now,
        };
        for (definition, stage) in demo_benefits(brand.id, &brand.name, now) {
            let mut b = benefits::create(db, &operator, brand.id, &definition).await?;
            created += 1;
            if stage != Stage::Draft {
                b = benefits::step(db, &operator, b.row.id, b.row.version, Action::Submit, None)
                    .await?;
            }
            if stage == Stage::Live {
                b = benefits::step(
                    db,
                    &reviewer,
                    b.row.id,
                    b.row.version,
                    Action::Approve,
                    None,
                )
                .await?;
            }
            if brand.id == brands[0].id {
                first_brand.push((b.row.id, definition));
            }
        }
    }
    // Brand 1's checkout history and member centre.
    if let Some(first) = brands.first() {
        let live: Vec<i64> = first_brand.iter().take(3).map(|(id, _)| *id).collect();
        for member in 1..=150 {
            for benefit_id in &live {
                let request = redemption::Request {
                    benefit_id: *benefit_id,
                    member_id: member,
                    idempotency_key: &format!("demo-{benefit_id}-{member}"),
                    order_cents: 30_000,
                    service: "demo-checkout",
                    now,
                };
                redemption::redeem(db, &request).await?;
            }
        }
        for tier in GrowthTier::ALL {
            let shown: Vec<i64> = first_brand
                .iter()
                .take(3)
                .filter(|(_, d)| stacking::reaches_tier(d, tier))
                .map(|(id, _)| *id)
                .collect();
            centre::set(db, first.id, tier, &shown).await?;
        }
    }
    Ok(created)
}
