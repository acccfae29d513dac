//! The GraphQL schema: a thin layer over the domain modules. Roots are
//! merged from one module per capability; every resolver takes the caller's
//! [`Principal`] from the context and hands its scope to the domain.

mod admin;
mod audience;
mod benefits;
mod brands;
mod criteria;
mod entities;
mod error;
mod ids;
mod limits;
mod loaders;
mod onboarding;
mod parsed;
mod scalars;
mod types;
mod webhooks;

use async_graphql::{
    Context, EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder,
};
use sea_orm::DatabaseConnection;

pub use error::ApiError;
use ids::{connection, decode_cursor, parse_id};
pub(crate) use limits::ExecutionStarted;
pub use loaders::Loaders;
pub use parsed::ParsedDocuments;

use crate::{
    auth::{Principal, Role},
    config::QueryLimits,
    error::ErrorCode,
    privacy::PrivacySettings,
};

/// The query root, merged from every capability's root.
#[derive(MergedObject, Default)]
pub struct Query(
    brands::BrandQuery,
    admin::AdminQuery,
    audience::AudienceQuery,
    criteria::CriteriaQuery,
    onboarding::OnboardingQuery,
    benefits::BenefitQuery,
    webhooks::WebhookQuery,
);

/// The mutation root, merged from every capability's mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    admin::AdminMutation,
    audience::AudienceMutation,
    criteria::CriteriaMutation,
    onboarding::OnboardingMutation,
    benefits::BenefitMutation,
    webhooks::WebhookMutation,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation()
}

/// Builds the schema with its limits and the database handle.
pub fn build_schema(
    db: DatabaseConnection,
    limits: &QueryLimits,
    privacy: PrivacySettings,
    keys: crate::auth::TokenKeys,
    credentials: crate::auth::CredentialCache,
    documents: crate::onboarding::documents::DocumentStore,
    repeats: crate::segments::RepeatCache,
) -> AppSchema {
    // Depth, complexity and directive limits are ours (`limits`), checked
    // before async-graphql's own walks; its recursion guard stays as a
    // backstop.
    builder()
        .limit_recursive_depth(32)
        .extension(limits::RequestLimits(limits.clone()))
        .extension(entities::EntityLimits {
            max_representations: limits.max_entities,
        })
        .data(db)
        .data(privacy)
        .data(keys)
        .data(credentials)
        .data(documents)
        .data(repeats)
        .finish()
}

/// The SDL as a federation gateway sees it (`_service { sdl }`): the text
/// committed as `schema.graphql`.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

/// A problem with a mutation's input, naming the field.
#[derive(async_graphql::SimpleObject)]
pub struct UserError {
    /// Path of the input field, e.g. `["input", "minMarketShare"]`.
    field: Vec<String>,
    /// What is wrong.
    message: String,
    /// What kind of problem, for clients to branch on.
    code: UserErrorCode,
}

/// The codes a mutation's `userErrors` carry: problems with what was asked
/// that the caller can fix. Every other code is a GraphQL error.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum UserErrorCode {
    /// The input is malformed or out of range.
    BadUserInput,
    /// Something the input names does not exist or is not the caller's.
    NotFound,
    /// The object changed underneath the request (stale version, race).
    Conflict,
    /// The workflow does not allow this step from where the object stands.
    IllegalTransition,
    /// The caller's role may not take this step on this object.
    Forbidden,
    /// The brand's privacy budget cannot pay for this now.
    PrivacyBudgetExhausted,
    /// The brand's standing (prospect, suspended) does not allow this step.
    BrandNotInStanding,
}

impl UserErrorCode {
    /// The user-error form of a code, if it is one (exhaustive, so a new
    /// code must be placed on one side or the other).
    fn of(code: ErrorCode) -> Option<Self> {
        match code {
            ErrorCode::BadUserInput => Some(Self::BadUserInput),
            ErrorCode::NotFound => Some(Self::NotFound),
            ErrorCode::Conflict => Some(Self::Conflict),
            ErrorCode::IllegalTransition => Some(Self::IllegalTransition),
            ErrorCode::Forbidden => Some(Self::Forbidden),
            ErrorCode::PrivacyBudgetExhausted => Some(Self::PrivacyBudgetExhausted),
            ErrorCode::BrandNotInStanding => Some(Self::BrandNotInStanding),
            ErrorCode::Unauthenticated
            | ErrorCode::RateLimited
            | ErrorCode::QueryTooExpensive
            | ErrorCode::GraphqlParseFailed
            | ErrorCode::GraphqlValidationFailed
            | ErrorCode::Internal => None,
        }
    }
}

/// Refuses a caller whose role may not do `what` at all.
fn require(principal: &Principal, roles: &[Role], what: &str) -> Result<(), ApiError> {
    if roles.contains(&principal.role) {
        Ok(())
    } else {
        // The contract's spelling (`BRAND_OPERATOR`), as stored.
        let names: Vec<String> = roles.iter().map(sea_orm::ActiveEnum::to_value).collect();
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("{what} is for {}", names.join(", ")),
        ))
    }
}

/// Splits a domain result for a mutation payload: the value, or a user
/// error at the input path `path` names; internal failures stay (masked)
/// GraphQL errors, as does any code that is not a [`UserErrorCode`]. Every
/// mutation payload goes through this one place.
fn outcome<T, E: crate::error::CodedError>(
    result: Result<T, E>,
    path: impl FnOnce(&E) -> String,
) -> Result<(Option<T>, Vec<UserError>), ApiError> {
    match result {
        Ok(value) => Ok((Some(value), Vec::new())),
        Err(error) => match UserErrorCode::of(error.code()) {
            Some(code) => Ok((None, vec![UserError::at(&path(&error), &error, code)])),
            None => Err(error.into()),
        },
    }
}

impl UserError {
    /// A domain refusal as a user error naming the input field by its
    /// dotted path (`input.kind.percentOff.percent`).
    fn at(path: &str, error: &impl crate::error::CodedError, code: UserErrorCode) -> Self {
        Self {
            field: path.split('.').map(str::to_owned).collect(),
            message: error.client_message(),
            code,
        }
    }
}

fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    ctx.data_opt::<Principal>()
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "authentication required"))
}

/// Request or schema data the server always provides; missing means a
/// wiring bug, reported as an internal error rather than a panic.
fn provided<'a, T: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> Result<&'a T, ApiError> {
    ctx.data_opt::<T>().ok_or_else(|| {
        ApiError::internal(format!(
            "{} missing from the context",
            std::any::type_name::<T>()
        ))
    })
}

fn db<'a>(ctx: &Context<'a>) -> Result<&'a DatabaseConnection, ApiError> {
    provided(ctx)
}

fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders, ApiError> {
    provided(ctx)
}

fn privacy_settings<'a>(ctx: &Context<'a>) -> Result<&'a PrivacySettings, ApiError> {
    provided(ctx)
}

fn repeat_cache<'a>(ctx: &Context<'a>) -> Result<&'a crate::segments::RepeatCache, ApiError> {
    provided(ctx)
}
