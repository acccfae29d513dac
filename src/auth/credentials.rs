//! Issuing credentials and turning a bearer token back into a principal.
//! A token is only as good as its credential row: unknown or revoked
//! credentials are refused even when the signature checks out.

use chrono::{Duration, Utc};
use entity::{brand, credential};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _,
    QueryFilter as _, sea_query::Expr,
};

use super::{
    AuthError, Principal, Role, is_brand_role,
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
            Self::BrandMismatch { .. } | Self::BadValidity => ErrorCode::BadUserInput,
            Self::UnknownBrand(_) => ErrorCode::NotFound,
            Self::Sign(_) | Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Issues a credential and signs its token; records it in the audit log.
pub async fn issue(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    role: Role,
    brand_id: Option<i64>,
    subject: &str,
    valid_hours: u32,
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
    credential::Entity::insert(credential::ActiveModel {
        id: Set(credential_id.clone()),
        subject: Set(subject.to_owned()),
        role: Set(role),
        brand_id: Set(brand_id),
        issued_at: Set(issued_at),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    })
    .exec(db)
    .await?;
    crate::audit::record(
        db,
        subject,
        "credential.issued",
        &format!("credential:{credential_id}"),
        serde_json::json!({ "role": role, "brand": brand_id, "expires_at": expires_at }),
    )
    .await?;
    Ok(IssuedToken {
        token,
        credential_id,
        expires_at,
    })
}

/// Revokes a credential at once: every token carrying it is refused from
/// the next request on. `Ok(false)` when no live credential has that id
/// (unknown, or revoked already). Recorded in the audit log.
pub async fn revoke(db: &DatabaseConnection, credential_id: &str, by: &str) -> Result<bool, DbErr> {
    let now = Utc::now();
    let updated = credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(Some(now)))
        .filter(credential::Column::Id.eq(credential_id))
        .filter(credential::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(false);
    }
    crate::audit::record(
        db,
        by,
        "credential.revoked",
        &format!("credential:{credential_id}"),
        serde_json::json!({ "revoked_at": now }),
    )
    .await?;
    Ok(true)
}

/// Verifies a bearer token. Our own tokens must match a live credential
/// row; identity-service tokens (RS256) carry the principal themselves.
pub async fn authenticate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
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
    let credential = credential::Entity::find_by_id(claims.jti.clone())
        .one(db)
        .await?
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
