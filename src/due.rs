//! Everything that runs on a schedule, in one call: onboarding deadlines
//! and re-evaluations, benefit starts, ends and the usage policy. Used by
//! `brand-gateway run-due` and by the server's own schedule; idempotent.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::{benefits, onboarding};

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Onboarding steps.
    pub onboarding: onboarding::due::DueReport,
    /// Benefit steps.
    pub benefits: benefits::due::DueReport,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum DueError {
    /// An onboarding step failed.
    #[error(transparent)]
    Onboarding(#[from] onboarding::OnboardingError),
    /// A benefit step failed.
    #[error(transparent)]
    Benefits(#[from] benefits::BenefitError),
}

/// Runs every step due at `now`.
pub async fn run(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<DueReport, DueError> {
    Ok(DueReport {
        onboarding: onboarding::due::run(db, now).await?,
        benefits: benefits::due::run(db, now).await?,
    })
}

impl std::fmt::Display for DueReport {
    /// One line per area, as `run-due` prints them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = &self.onboarding;
        let b = &self.benefits;
        writeln!(
            f,
            "due onboarding steps: {} expired, {} conditions missed, {} re-evaluated ({} suspended), {} warned, {} skipped",
            o.expired, o.conditions_missed, o.reevaluated, o.suspended, o.warned, o.skipped
        )?;
        write!(
            f,
            "due benefit steps: {} activated, {} ended, {} flagged, {} paused, {} retired, {} skipped",
            b.activated, b.ended, b.flagged, b.paused, b.retired, b.skipped
        )
    }
}
