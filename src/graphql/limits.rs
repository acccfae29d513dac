//! Limits async-graphql does not have built in: aliases per document and
//! root fields per operation (the cheap way to fan one request out into
//! hundreds of resolver calls). Depth and complexity use the schema's own
//! limits. Also marks when execution starts, so the HTTP layer can tell a
//! request error (4xx under `application/graphql-response+json`) from a
//! field error.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response, ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::error::ErrorCode;

/// Set once the operation starts executing (parse and validation passed).
#[derive(Debug, Clone, Default)]
pub struct ExecutionStarted(Arc<AtomicBool>);

impl ExecutionStarted {
    /// Whether execution began.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The extension factory holding the configured limits.
pub struct ShapeLimits {
    /// Most aliases per document.
    pub max_aliases: usize,
    /// Most root fields per operation.
    pub max_root_fields: usize,
}

impl ExtensionFactory for ShapeLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ShapeLimitsExtension {
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
        })
    }
}

struct ShapeLimitsExtension {
    max_aliases: usize,
    max_root_fields: usize,
}

fn too_expensive(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", ErrorCode::QueryTooExpensive.as_str());
    error
}

/// Counts aliased fields in a selection set, fragments' own sets included
/// (each fragment definition is counted once, where it is defined).
fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some())
                    + count_aliases(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_aliases(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Counts the fields a root selection set resolves, through fragments.
fn count_root_fields(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(fragment) => {
                count_root_fields(document, &fragment.node.selection_set.node, depth + 1)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |fragment| {
                    count_root_fields(document, &fragment.node.selection_set.node, depth + 1)
                }),
        })
        .sum()
}

#[async_graphql::async_trait::async_trait]
impl Extension for ShapeLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let aliases: usize = document
            .operations
            .iter()
            .map(|(_, op)| count_aliases(&op.node.selection_set.node))
            .chain(
                document
                    .fragments
                    .values()
                    .map(|f| count_aliases(&f.node.selection_set.node)),
            )
            .sum();
        if aliases > self.max_aliases {
            return Err(too_expensive(format!(
                "the query uses {aliases} aliases; at most {} are allowed",
                self.max_aliases
            )));
        }
        for (_, operation) in document.operations.iter() {
            let roots = count_root_fields(&document, &operation.node.selection_set.node, 0);
            if roots > self.max_root_fields {
                return Err(too_expensive(format!(
                    "an operation selects {roots} root fields; at most {} are allowed",
                    self.max_root_fields
                )));
            }
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(started) = ctx.data_opt::<ExecutionStarted>() {
            started.0.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }
}
