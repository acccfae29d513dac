//! Issuing credentials and turning a bearer token back into a principal.
//! A token is only as good as its credential row: unknown or revoked
//! credentials are refused even when the signature checks out.

use chrono::{Duration, Utc};
use entity::{brand, credential};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, TransactionTrait as _, sea_query::Expr,
};

use super::{
    AuthError, CredentialCache, Principal, Role, is_brand_role,
    token::{Claims, Signer, TokenKeys},
};
use crate::error::{CodedError, ErrorCode};

/// A freshly issued credential's token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The bearer token.
    pub token: String,
    /// The credential id (`jti`).
    pub credential_id: String,
    /// When it expires.
    pub expires_at: chrono::DateTime<Utc>,
}

/// Why a credential could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Brand roles need a brand; platform roles must not have one.
    #[error("role {} {requirement}", sea_orm::ActiveEnum::to_value(role))]
    BrandMismatch {
        /// The role asked for.
        role: Role,
        /// What it needs.
        requirement: &'static str,
    },
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(i64),
    /// Validity must be positive and at most a year.
    #[error("validity must be between 1 hour and 8760 hours")]
    BadValidity,
    /// The holder's name is empty, too long, or one the system acts as.
    #[error("subject must be 1 to 128 characters and not screening, scheduler or import")]
    BadSubject,
    /// Signing failed.
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl CodedError for IssueError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BrandMismatch { .. } | Self::BadValidity | Self::BadSubject => {
                ErrorCode::BadUserInput
            }
            Self::UnknownBrand(_) => ErrorCode::NotFound,
            Self::Sign(_) | Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Issues a credential and signs its token; records it in the audit log
/// as issued by its own subject (the CLI, the demo).
pub async fn issue(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    role: Role,
    brand_id: Option<i64>,
    subject: &str,
    valid_hours: u32,
) -> Result<IssuedToken, IssueError> {
    issue_as(db, keys, (role, brand_id), subject, valid_hours, subject).await
}

/// Names the system records its own steps under: no credential may hold
/// them, so an event's actor always says who acted.
const RESERVED_SUBJECTS: [&str; 3] = ["screening", "scheduler", "import"];

/// Whether `subject` holds a live REVIEWER or ADMIN credential at `now`.
pub(crate) async fn can_review(
    db: &impl sea_orm::ConnectionTrait,
    subject: &str,
    now: chrono::DateTime<Utc>,
) -> Result<bool, DbErr> {
    Ok(credential::Entity::find()
        .filter(credential::Column::Subject.eq(subject))
        .filter(credential::Column::RevokedAt.is_null())
        .filter(credential::Column::ExpiresAt.gt(now))
        .filter(credential::Column::Role.is_in([Role::Reviewer, Role::Admin]))
        .one(db)
        .await?
        .is_some())
}

/// Issues a credential for `subject` on behalf of `actor` (an admin),
/// who the audit log names.
pub(crate) async fn issue_as(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    (role, brand_id): (Role, Option<i64>),
    subject: &str,
    valid_hours: u32,
    actor: &str,
) -> Result<IssuedToken, IssueError> {
    match (is_brand_role(role), brand_id) {
        (true, None) => {
            return Err(IssueError::BrandMismatch {
                role,
                requirement: "needs --brand",
            });
        }
        (false, Some(_)) => {
            return Err(IssueError::BrandMismatch {
                role,
                requirement: "is a platform role and takes no brand",
            });
        }
        _ => {}
    }
    if !(1..=8760).contains(&valid_hours) {
        return Err(IssueError::BadValidity);
    }
    let subject = subject.trim();
    if subject.is_empty() || subject.chars().count() > 128 || RESERVED_SUBJECTS.contains(&subject) {
        return Err(IssueError::BadSubject);
    }
    if let Some(id) = brand_id
        && brand::Entity::find_by_id(id).one(db).await?.is_none()
    {
        return Err(IssueError::UnknownBrand(id));
    }
    let issued_at = Utc::now();
    let expires_at = issued_at + Duration::hours(i64::from(valid_hours));
    let credential_id = uuid::Uuid::new_v4().to_string();
    let claims = Claims {
        sub: subject.to_owned(),
        jti: credential_id.clone(),
        role,
        brand: brand_id,
        iat: issued_at.timestamp(),
        exp: expires_at.timestamp(),
    };
    let token = keys.encode(&claims)?;
    // The row and its audit event land together, or neither does.
    let txn = db.begin().await?;
    credential::Entity::insert(credential::ActiveModel {
        id: Set(credential_id.clone()),
        subject: Set(subject.to_owned()),
        role: Set(role),
        brand_id: Set(brand_id),
        issued_at: Set(issued_at),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    })
    .exec(&txn)
    .await?;
    crate::audit::record(
        &txn,
        actor,
        "credential.issued",
        &format!("credential:{credential_id}"),
        serde_json::json!({ "role": role, "brand": brand_id, "subject": subject, "expires_at": expires_at }),
    )
    .await?;
    txn.commit().await?;
    Ok(IssuedToken {
        token,
        credential_id,
        expires_at,
    })
}

/// Why a credential could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// No credential has that id.
    #[error("no credential has this id")]
    NotFound,
    /// It was revoked before.
    #[error("the credential is already revoked")]
    AlreadyRevoked,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for RevokeError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::AlreadyRevoked => ErrorCode::IllegalTransition,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Revokes a credential: every token carrying it is refused from the
/// next request on by the instance holding `cache`, and by every other
/// instance within its cache's TTL. Recorded in the audit log.
pub async fn revoke(
    db: &DatabaseConnection,
    cache: &CredentialCache,
    credential_id: &str,
    by: &str,
) -> Result<credential::Model, RevokeError> {
    let now = Utc::now();
    // The revocation and its audit event land together; the update comes
    // first, so the transaction holds the write lock from its start.
    let txn = db.begin().await?;
    let updated = credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(Some(now)))
        .filter(credential::Column::Id.eq(credential_id))
        .filter(credential::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    let row = get(&txn, credential_id)
        .await?
        .ok_or(RevokeError::NotFound)?;
    if updated.rows_affected == 0 {
        return Err(RevokeError::AlreadyRevoked);
    }
    crate::audit::record(
        &txn,
        by,
        "credential.revoked",
        &format!("credential:{credential_id}"),
        serde_json::json!({ "revoked_at": now }),
    )
    .await?;
    txn.commit().await?;
    cache.forget(credential_id);
    Ok(row)
}

/// Verifies a bearer token. Our own tokens must match a live credential
/// row (as read within the cache's TTL); identity-service tokens (RS256)
/// carry the principal themselves.
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    cache: &CredentialCache,
    token: &str,
) -> Result<Principal, AuthError> {
    let (claims, signer) = keys.decode(token)?;
    if signer == Signer::IdentityService {
        if is_brand_role(claims.role) != claims.brand.is_some() {
            return Err(AuthError::MalformedToken);
        }
        return Ok(Principal {
            credential_id: claims.jti,
            subject: claims.sub,
            role: claims.role,
            brand_id: claims.brand,
        });
    }
    let credential = match cache.get(&claims.jti) {
        Some(row) => Some(row),
        None => {
            let read_at = std::time::Instant::now();
            let row = get(db, &claims.jti).await?;
            if let Some(row) = &row {
                cache.put(read_at, row.clone());
            }
            row
        }
    };
    let credential = credential
        .filter(|c| c.revoked_at.is_none() && c.role == claims.role && c.brand_id == claims.brand)
        .ok_or(AuthError::Revoked)?;
    if credential.expires_at < Utc::now() {
        return Err(AuthError::Expired);
    }
    Ok(Principal {
        credential_id: credential.id,
        subject: credential.subject,
        role: credential.role,
        brand_id: credential.brand_id,
    })
}

/// The newest `limit` credentials by issue time, of one brand or all,
/// revoked ones only when asked: what an admin reviews before revoking.
pub(crate) async fn list(
    db: &DatabaseConnection,
    brand_id: Option<i64>,
    include_revoked: bool,
    limit: u64,
) -> Result<Vec<credential::Model>, DbErr> {
    use sea_orm::{QueryOrder as _, QuerySelect as _};
    let mut select = credential::Entity::find()
        .order_by_desc(credential::Column::IssuedAt)
        .order_by_asc(credential::Column::Id)
        .limit(limit);
    if let Some(brand) = brand_id {
        select = select.filter(credential::Column::BrandId.eq(brand));
    }
    if !include_revoked {
        select = select.filter(credential::Column::RevokedAt.is_null());
    }
    select.all(db).await
}

/// One credential by id.
pub(crate) async fn get(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<credential::Model>, DbErr> {
    credential::Entity::find_by_id(id.to_owned()).one(db).await
}
