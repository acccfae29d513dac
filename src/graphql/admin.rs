//! Administration (ADMIN only): brands (create, rename, recategorise) and
//! credentials (issue, list, revoke). Thin: every rule is in
//! [`crate::brands`] and [`crate::auth`], every change in the audit log.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{ApiError, UserError, db, ids::parse_brand_id, outcome, principal, provided, require};
use crate::{
    auth::{self, Role as DomainRole, TokenKeys},
    brands,
    error::ErrorCode,
    graphql::types::brand::{Brand, Role},
};

/// Most credentials one `credentials` call lists.
const MAX_CREDENTIALS: i32 = 100;

/// An issued credential (never its token, which is shown once at issue).
#[derive(SimpleObject)]
pub(super) struct Credential {
    /// Its id: the token's `jti`.
    id: ID,
    /// Who holds it.
    subject: String,
    /// The role it grants.
    role: Role,
    /// The brand, for brand roles.
    brand_id: Option<ID>,
    /// When it was issued.
    issued_at: DateTime<Utc>,
    /// When it stops working.
    expires_at: DateTime<Utc>,
    /// When it was revoked; its tokens are refused from then on.
    revoked_at: Option<DateTime<Utc>>,
}

impl From<entity::credential::Model> for Credential {
    fn from(row: entity::credential::Model) -> Self {
        Self {
            id: ID(row.id),
            subject: row.subject,
            role: row.role.into(),
            brand_id: row.brand_id.map(|b| ID(b.to_string())),
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A new brand.
#[derive(InputObject)]
pub(super) struct CreateBrandInput {
    /// Its name, 1 to 80 characters, unique (case-insensitively).
    name: String,
    /// Its category's code, e.g. `BEAUTY`.
    category: String,
}

/// Changes to a brand; omitted fields stay as they are.
#[derive(InputObject)]
pub(super) struct UpdateBrandInput {
    /// The brand.
    id: ID,
    /// A new name.
    name: Option<String>,
    /// A new category's code.
    category: Option<String>,
}

/// The result of `createBrand` and `updateBrand`.
#[derive(SimpleObject)]
pub(super) struct BrandPayload {
    /// The brand as it now is; null when refused.
    brand: Option<Brand>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

/// A credential to issue.
#[derive(InputObject)]
pub(super) struct IssueCredentialInput {
    /// The role it grants.
    role: Role,
    /// The brand, for BRAND_OPERATOR and BRAND_ANALYST; none for the rest.
    brand_id: Option<ID>,
    /// Who will hold it (a person or a system), 1 to 128 characters.
    subject: String,
    /// Hours it is valid, 1 to 8,760.
    #[graphql(default = 24)]
    valid_hours: i32,
}

/// The result of `issueCredential`.
#[derive(SimpleObject)]
pub(super) struct IssueCredentialPayload {
    /// The credential; null when refused.
    credential: Option<Credential>,
    /// Its bearer token: shown this once, never stored.
    token: Option<String>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

/// The result of `revokeCredential`.
#[derive(SimpleObject)]
pub(super) struct RevokeCredentialPayload {
    /// The credential, revoked.
    credential: Option<Credential>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

/// Admin root fields.
#[derive(Default)]
pub(super) struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Credentials, newest first (ADMIN): one brand's or all, live only
    /// unless `includeRevoked`. `first` is 1 to 100.
    async fn credentials(
        &self,
        ctx: &Context<'_>,
        brand_id: Option<ID>,
        #[graphql(default = false)] include_revoked: bool,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<Credential>, ApiError> {
        require(principal(ctx)?, &[DomainRole::Admin], "listing credentials")?;
        if !(1..=MAX_CREDENTIALS).contains(&first) {
            return Err(ApiError::new(
                ErrorCode::BadUserInput,
                "`first` must be between 1 and 100",
            ));
        }
        let brand = brand_id.as_ref().map(parse_brand_id).transpose()?;
        let rows = auth::credentials(db(ctx)?, brand, include_revoked, first as u64)
            .await
            .map_err(ApiError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// Admin mutations.
#[derive(Default)]
pub(super) struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Creates a brand, a PROSPECT until an application admits it (ADMIN).
    async fn create_brand(
        &self,
        ctx: &Context<'_>,
        input: CreateBrandInput,
    ) -> Result<BrandPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[DomainRole::Admin], "creating brands")?;
        let result =
            brands::create(db(ctx)?, &input.name, &input.category, &principal.subject).await;
        let (brand, user_errors) = outcome(result, |e| e.field().to_owned())?;
        Ok(BrandPayload {
            brand: brand.map(Into::into),
            user_errors,
        })
    }

    /// Renames or recategorises a brand, each change an audit event
    /// (ADMIN).
    async fn update_brand(
        &self,
        ctx: &Context<'_>,
        input: UpdateBrandInput,
    ) -> Result<BrandPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[DomainRole::Admin], "changing brands")?;
        let result = brands::change(
            db(ctx)?,
            parse_brand_id(&input.id)?,
            (input.name.as_deref(), input.category.as_deref()),
            &principal.subject,
        )
        .await;
        let (brand, user_errors) = outcome(result, |e| e.field().to_owned())?;
        Ok(BrandPayload {
            brand: brand.map(Into::into),
            user_errors,
        })
    }

    /// Issues a credential and returns its token, once (ADMIN).
    async fn issue_credential(
        &self,
        ctx: &Context<'_>,
        input: IssueCredentialInput,
    ) -> Result<IssueCredentialPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[DomainRole::Admin], "issuing credentials")?;
        let keys = provided::<TokenKeys>(ctx)?;
        let brand = input.brand_id.as_ref().map(parse_brand_id).transpose()?;
        let db = db(ctx)?;
        let result = auth::issue_as(
            db,
            keys,
            (input.role.into(), brand),
            &input.subject,
            u32::try_from(input.valid_hours).unwrap_or(0),
            &principal.subject,
        )
        .await;
        let (issued, user_errors) = outcome(result, |e| match e {
            auth::IssueError::BadValidity => "input.validHours".to_owned(),
            auth::IssueError::BadSubject => "input.subject".to_owned(),
            _ => "input.brandId".to_owned(),
        })?;
        let Some(issued) = issued else {
            return Ok(IssueCredentialPayload {
                credential: None,
                token: None,
                user_errors,
            });
        };
        let credential = auth::credential(db, &issued.credential_id)
            .await
            .map_err(ApiError::from)?;
        Ok(IssueCredentialPayload {
            credential: credential.map(Into::into),
            token: Some(issued.token),
            user_errors,
        })
    }

    /// Revokes a credential: its tokens are refused from the next request
    /// on by this instance, and by every other within its credential cache
    /// time (ADMIN).
    async fn revoke_credential(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RevokeCredentialPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[DomainRole::Admin], "revoking credentials")?;
        let result = auth::revoke(
            db(ctx)?,
            provided::<auth::CredentialCache>(ctx)?,
            &id,
            &principal.subject,
        )
        .await;
        let (credential, user_errors) = outcome(result, |_| "id".to_owned())?;
        Ok(RevokeCredentialPayload {
            credential: credential.map(Into::into),
            user_errors,
        })
    }
}
