//! The GraphQL schema: a thin layer over the domain modules. Roots are
//! merged from one module per capability; every resolver takes the caller's
//! [`Principal`] from the context and hands its scope to the domain.

mod audience;
mod brands;
mod criteria;
mod error;
mod limits;
mod loaders;

use async_graphql::{
    Context, EmptySubscription, MergedObject, SDLExportOptions, Schema, SchemaBuilder,
};
use sea_orm::DatabaseConnection;

pub use error::ApiError;
pub use limits::ExecutionStarted;
pub use loaders::Loaders;

use crate::{
    auth::Principal, config::QueryLimits, error::ErrorCode, pagination::PageError,
    privacy::PrivacySettings,
};

/// The query root, merged from every capability's root.
#[derive(MergedObject, Default)]
pub struct Query(
    brands::BrandQuery,
    audience::AudienceQuery,
    criteria::CriteriaQuery,
);

/// The mutation root, merged from every capability's mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(criteria::CriteriaMutation);

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
) -> AppSchema {
    builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(8)
        .extension(limits::ShapeLimits {
            max_aliases: limits.max_aliases,
            max_root_fields: limits.max_root_fields,
        })
        .data(db)
        .data(privacy)
        .finish()
}

/// The SDL as a federation gateway sees it (`_service { sdl }`): the text
/// committed as `schema.graphql`.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}

fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    ctx.data_opt::<Principal>()
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "authentication required"))
}

/// Request or schema data the server always provides; missing means a
/// wiring bug, reported as an internal error rather than a panic.
fn provided<'a, T: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> Result<&'a T, ApiError> {
    ctx.data_opt::<T>()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "internal error; it has been logged"))
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

/// Decodes an opaque Relay cursor into the key it wraps.
fn decode_cursor(cursor: Option<String>) -> Result<Option<i64>, ApiError> {
    use async_graphql::connection::{CursorType as _, OpaqueCursor};
    cursor
        .map(|raw| {
            OpaqueCursor::<i64>::decode_cursor(&raw)
                .map(|c| c.0)
                .map_err(|_| PageError::Cursor.into())
        })
        .transpose()
}

/// A Relay connection over one page of keyset-paginated items.
fn connection<M, T: async_graphql::OutputType>(
    page: crate::pagination::Page<M>,
    key: impl Fn(&M) -> i64,
    node: impl Fn(M) -> T,
) -> async_graphql::connection::Connection<async_graphql::connection::OpaqueCursor<i64>, T> {
    let mut connection =
        async_graphql::connection::Connection::new(page.has_previous, page.has_next);
    connection.edges.extend(page.items.into_iter().map(|item| {
        async_graphql::connection::Edge::new(
            async_graphql::connection::OpaqueCursor(key(&item)),
            node(item),
        )
    }));
    connection
}
