//! Who is calling: bearer tokens, the credentials behind them, and the
//! [`Principal`] every resolver receives. [`Principal::brand_scope`] is the
//! one place that decides which brands a caller can see.

mod cache;
mod credentials;
mod token;

pub use cache::CredentialCache;

pub use credentials::{IssueError, IssuedToken, RevokeError, authenticate, issue, revoke};
pub(crate) use credentials::{can_review, get as credential, issue_as, list as credentials};
pub use entity::enums::Role;
pub use token::TokenKeys;

use crate::error::{CodedError, ErrorCode};

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The credential (token `jti`) the caller presented.
    pub credential_id: String,
    /// Who holds the credential, for audit.
    pub subject: String,
    /// What the caller may do.
    pub role: Role,
    /// The caller's brand, for brand roles.
    pub brand_id: Option<i64>,
}

/// Who takes a workflow step and when: the caller's scope (a brand
/// principal sees only its own objects, as if no other existed), its subject
/// for the audit trail, and the instant. Domain steps take this instead of a
/// [`Principal`], so schedulers and the demo can act too.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Which brands' objects the caller may see.
    pub scope: BrandScope,
    /// Recorded as the actor of events.
    pub subject: String,
    /// When the step happens.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl Caller {
    /// The principal of a request, acting now.
    pub fn now(principal: &Principal) -> Self {
        Self {
            scope: principal.brand_scope(),
            subject: principal.subject.clone(),
            now: chrono::Utc::now(),
        }
    }
}

/// Which brands' data a principal may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrandScope {
    /// Exactly one brand; every other brand is as if it did not exist.
    One(i64),
    /// Every brand (platform roles).
    All,
}

impl Principal {
    /// The brands this principal may see. Brand roles always carry a brand
    /// (credentials are issued that way), so a missing one sees nothing.
    pub fn brand_scope(&self) -> BrandScope {
        if is_brand_role(self.role) {
            BrandScope::One(self.brand_id.unwrap_or(-1))
        } else {
            BrandScope::All
        }
    }
}

/// Whether `role` is a brand's own staff (and so needs a brand).
pub fn is_brand_role(role: Role) -> bool {
    match role {
        Role::BrandOperator | Role::BrandAnalyst => true,
        Role::Reviewer | Role::Admin | Role::Service => false,
    }
}

/// Why a request could not be authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    MissingToken,
    /// A header that is not `Bearer <token>`.
    #[error("malformed Authorization header: expected `Bearer <token>`")]
    MalformedHeader,
    /// Not a JWT, or one without the claims a credential carries.
    #[error("malformed bearer token: expected a JWT with `sub`, `jti` and `exp` claims")]
    MalformedToken,
    /// A well-formed token whose signature does not verify with our keys,
    /// or signed with an algorithm we do not accept.
    #[error("the bearer token's signature is not valid")]
    ForgedToken,
    /// The token has expired.
    #[error("the bearer token has expired")]
    Expired,
    /// The credential was revoked or never issued here.
    #[error("the bearer token's credential is revoked or unknown")]
    Revoked,
    /// The credential store could not be read.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl CodedError for AuthError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Db(_) => ErrorCode::Internal,
            _ => ErrorCode::Unauthenticated,
        }
    }
}
