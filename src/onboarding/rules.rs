//! The state machine's rules as data: which action may start from which
//! states, where deadlines fall, what a state means for the brand's status.
//! Pure functions, so the whole table is unit-tested without a database.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use entity::enums::{ApplicationState as State, BrandStatus};

use crate::platform::{business_day, start_of_business_day};

/// Days a brand has to answer a request for information, unless the
/// reviewer says otherwise.
pub const DEFAULT_INFO_DAYS: u32 = 14;
/// Days after a rejection within which the brand may appeal (once).
pub const APPEAL_WINDOW_DAYS: u32 = 30;
/// Days a brand on the watchlist has to pass a re-evaluation.
pub const WATCHLIST_DAYS: u32 = 90;
/// Months between scheduled re-evaluations of an admitted brand (quarterly).
pub const REEVALUATION_MONTHS: u32 = 3;
/// Days before a deadline at which a warning is recorded.
pub const WARNING_DAYS: i64 = 30;

/// Something that moves an application (or, for claims and warnings,
/// marks it without moving it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// The brand creates a draft.
    Create,
    /// A standing loaded with platform data (admitted before this system).
    Import,
    /// The brand sends its draft.
    Submit,
    /// Automatic screening after a submission.
    Screen,
    /// The brand answers a request for information.
    Respond,
    /// A reviewer takes an application in review or appeal.
    Claim,
    /// The holder (or an admin, taking over) gives the claim back.
    Release,
    /// A reviewer admits the brand.
    Approve,
    /// A reviewer admits the brand on probation.
    ApproveWithConditions,
    /// A reviewer refuses, with reason codes.
    Reject,
    /// A reviewer asks the brand a question, with a deadline.
    RequestInfo,
    /// The brand appeals a rejection.
    Appeal,
    /// A second reviewer confirms a rejection on appeal.
    Uphold,
    /// The admitted brand is measured again (schedule, probation end or on demand).
    Reevaluate,
    /// A NEEDS_INFO deadline passed unanswered.
    Expire,
    /// A deadline is 30 days away or less.
    Warn,
    /// The brand filed a qualification document.
    FileDocument,
    /// A reviewer verified a document.
    VerifyDocument,
    /// A reviewer rejected a document, with a reason.
    RejectDocument,
    /// The brand sent evidence for a condition.
    SubmitEvidence,
    /// A reviewer found a condition met.
    MeetCondition,
    /// A condition was missed (found by a reviewer, or its deadline passed).
    MissCondition,
}

/// Every state, for steps that may happen at any time.
const ANY_STATE: &[State] = &[
    State::Draft,
    State::Submitted,
    State::InReview,
    State::NeedsInfo,
    State::Expired,
    State::Approved,
    State::ApprovedWithConditions,
    State::Rejected,
    State::Appealed,
    State::Upheld,
    State::Watchlist,
    State::Suspended,
];

impl Action {
    /// The stored and displayed name, e.g. `REQUEST_INFO`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The states this action may start from.
    pub fn source_states(self) -> &'static [State] {
        use State::*;
        match self {
            Self::Create | Self::Import => &[],
            Self::Submit => &[Draft],
            Self::Screen => &[Submitted],
            Self::Respond | Self::Expire => &[NeedsInfo],
            Self::Claim | Self::Release => &[InReview, Appealed],
            Self::Approve | Self::ApproveWithConditions => &[InReview, Appealed],
            Self::Reject | Self::RequestInfo => &[InReview],
            Self::Appeal => &[Rejected],
            Self::Uphold => &[Appealed],
            Self::Reevaluate => &[Approved, ApprovedWithConditions, Watchlist],
            // Documents are filed while the application is open (renewals
            // of an admitted brand too) and as new evidence for an appeal.
            Self::FileDocument => &[
                Draft,
                NeedsInfo,
                InReview,
                Rejected,
                Appealed,
                Approved,
                ApprovedWithConditions,
                Watchlist,
            ],
            Self::VerifyDocument | Self::RejectDocument => ANY_STATE,
            Self::SubmitEvidence | Self::MeetCondition | Self::MissCondition => {
                &[Approved, ApprovedWithConditions, Watchlist]
            }
            Self::Warn => &[
                NeedsInfo,
                Approved,
                ApprovedWithConditions,
                Watchlist,
                Rejected,
            ],
        }
    }

    /// Whether the action may start from `state`.
    pub fn allowed_from(self, state: State) -> bool {
        self.source_states().contains(&state)
    }
}

/// Whether an application in `state` holds its brand's one open slot. A
/// closed application can only be followed by a new one (an appeal reopens
/// a rejection).
pub fn is_open(state: State) -> bool {
    !matches!(
        state,
        State::Rejected | State::Expired | State::Upheld | State::Suspended
    )
}

/// The brand status an application state implies, if it implies one.
pub fn brand_status(state: State) -> Option<BrandStatus> {
    match state {
        State::Approved | State::ApprovedWithConditions => Some(BrandStatus::Active),
        State::Watchlist => Some(BrandStatus::Watchlist),
        State::Suspended => Some(BrandStatus::Suspended),
        _ => None,
    }
}

/// What the deadline of a state means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKind {
    /// The brand must answer by then, or the application expires.
    InfoDeadline,
    /// Probation ends; the brand is re-evaluated.
    ProbationEnd,
    /// The next scheduled re-evaluation.
    Reevaluation,
    /// The brand must pass a re-evaluation by then, or is suspended.
    WatchlistDeadline,
    /// The last moment to appeal.
    AppealWindowEnd,
}

impl DueKind {
    /// A phrase for notes, e.g. "info deadline".
    pub fn describe(self) -> &'static str {
        match self {
            Self::InfoDeadline => "the deadline to answer (then the application expires)",
            Self::ProbationEnd => "the end of probation (then a re-evaluation)",
            Self::Reevaluation => "the scheduled re-evaluation",
            Self::WatchlistDeadline => "the watchlist deadline (then suspension unless it passes)",
            Self::AppealWindowEnd => "the end of the appeal window",
        }
    }
}

/// What `state`'s deadline means, for states that have one.
pub fn due_kind(state: State) -> Option<DueKind> {
    match state {
        State::NeedsInfo => Some(DueKind::InfoDeadline),
        State::ApprovedWithConditions => Some(DueKind::ProbationEnd),
        State::Approved => Some(DueKind::Reevaluation),
        State::Watchlist => Some(DueKind::WatchlistDeadline),
        State::Rejected => Some(DueKind::AppealWindowEnd),
        _ => None,
    }
}

/// The end of business day `day` (midnight after it, Asia/Shanghai), in UTC.
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    start_of_business_day(day + Days::new(1))
}

/// The end of the `days`-th business day after `now`: a deadline given in
/// days includes the whole last day in Shanghai.
pub fn deadline_after_days(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let last = business_day(now) + Days::new(u64::from(days));
    start_of_business_day(last + Days::new(1))
}

/// The next scheduled re-evaluation: the start of the business day
/// [`REEVALUATION_MONTHS`] after `now`.
pub fn next_reevaluation(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = business_day(now);
    start_of_business_day(
        day.checked_add_months(Months::new(REEVALUATION_MONTHS))
            .unwrap_or(day),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_reachable_and_closed_states_are_final() {
        use sea_orm::Iterable as _;
        let actions = [
            Action::Submit,
            Action::Screen,
            Action::Respond,
            Action::Claim,
            Action::Approve,
            Action::ApproveWithConditions,
            Action::Reject,
            Action::RequestInfo,
            Action::Appeal,
            Action::Uphold,
            Action::Reevaluate,
            Action::Expire,
        ];
        for state in State::iter() {
            let leaves = actions.iter().any(|a| a.allowed_from(state));
            let final_state = matches!(state, State::Expired | State::Upheld | State::Suspended);
            assert_eq!(!leaves, final_state, "{state:?}");
        }
        assert!(!Action::Approve.allowed_from(State::Draft));
        assert!(!Action::Appeal.allowed_from(State::Upheld));
        assert!(!Action::Uphold.allowed_from(State::InReview));
        // An appeal has every outcome but a second rejection.
        for outcome in [
            Action::Approve,
            Action::ApproveWithConditions,
            Action::Uphold,
        ] {
            assert!(outcome.allowed_from(State::Appealed), "{outcome:?}");
        }
        assert!(!Action::Reject.allowed_from(State::Appealed));
    }

    #[test]
    fn stored_action_names_round_trip() {
        // The spelling of events written before the names were derived.
        let stored = "CREATE IMPORT SUBMIT SCREEN RESPOND CLAIM RELEASE APPROVE \
            APPROVE_WITH_CONDITIONS REJECT REQUEST_INFO APPEAL UPHOLD REEVALUATE EXPIRE WARN \
            FILE_DOCUMENT VERIFY_DOCUMENT REJECT_DOCUMENT SUBMIT_EVIDENCE MEET_CONDITION \
            MISS_CONDITION";
        for name in stored.split_whitespace() {
            let action: Action = name.parse().expect(name);
            assert_eq!(action.as_str(), name);
        }
        assert!("request_info".parse::<Action>().is_err());
    }

    #[test]
    fn deadlines_end_with_a_shanghai_day() {
        // 2026-11-24 20:00 UTC is already 25 November in Shanghai.
        let now = "2026-11-24T20:00:00Z"
            .parse::<DateTime<Utc>>()
            .expect("time");
        assert_eq!(
            deadline_after_days(now, 14).to_rfc3339(),
            "2026-12-09T16:00:00+00:00"
        );
        assert_eq!(
            next_reevaluation(now).to_rfc3339(),
            "2027-02-24T16:00:00+00:00"
        );
    }
}
