//! Federation `_entities`, hardened. async-graphql resolves each
//! representation on its own, answers an unknown `__typename` or a
//! malformed key with an uncoded "Entity not found.", and lets one missing
//! entity null the whole list. Here:
//! - before execution, every `_entities` call's representations are
//!   checked: at most the configured number (`QUERY_TOO_EXPENSIVE`), each an
//!   object with a `__typename` this subgraph resolves and a well-formed
//!   `id` (`BAD_USER_INPUT` naming the index otherwise);
//! - entity resolvers load through the request's scoped loaders, so any
//!   number of representations costs one query per type, and answer `null`
//!   for an id that does not exist or is not the caller's (the two are
//!   indistinguishable);
//! - each `null` in the list gets its own `NOT_FOUND` error with its path,
//!   so the caller's other entities survive.

use std::sync::{Arc, Mutex};

use async_graphql::{
    ID, Name, PathSegment, Request, Response, ServerError, ServerResult, Value, Variables,
    dataloader::DataLoader,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
        NextResolve, ResolveInfo,
    },
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use super::{
    ApiError,
    limits::with_code,
    loaders::{Batch, ByKey},
};
use crate::error::ErrorCode;

/// The types this subgraph resolves as entities, all keyed by `id`. A unit
/// test checks this list against the schema's `@key` types.
pub(crate) const ENTITY_TYPES: [&str; 3] = ["Application", "Benefit", "Brand"];

/// The extension factory holding the representation cap.
pub(crate) struct EntityLimits {
    /// Most representations one `_entities` call may carry.
    pub(crate) max_representations: usize,
}

impl ExtensionFactory for EntityLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(EntitiesExtension {
            max_representations: self.max_representations,
            misses: Mutex::default(),
        })
    }
}

/// Per request: the cap, and the `NOT_FOUND` errors of null entities,
/// added to the response once execution ends.
struct EntitiesExtension {
    max_representations: usize,
    misses: Mutex<Vec<ServerError>>,
}

fn bad_input(message: String) -> ServerError {
    with_code(ServerError::new(message, None), ErrorCode::BadUserInput)
}

/// Whether a representation's `id` has the form our ids take.
fn well_formed_id(id: &Value) -> bool {
    match id {
        Value::String(text) => text.parse::<i64>().is_ok(),
        Value::Number(number) => number.is_i64(),
        _ => false,
    }
}

impl EntitiesExtension {
    /// Checks the representations of every `_entities` field at the root.
    fn check(&self, document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
        let mut fields = Vec::new();
        for (_, operation) in document.operations.iter() {
            root_entity_fields(document, &operation.node.selection_set.node, &mut fields, 0);
        }
        for field in fields {
            let Some(argument) = field.get_argument("representations") else {
                continue; // validation reports the missing argument
            };
            let Ok(value) = argument
                .node
                .clone()
                .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
            else {
                continue; // an undefined variable: validation reports it
            };
            let representations = match value {
                Value::List(items) => items,
                single => vec![single],
            };
            if representations.len() > self.max_representations {
                return Err(with_code(
                    ServerError::new(
                        format!(
                            "`_entities` asks for {} representations; at most {} are allowed per call",
                            representations.len(),
                            self.max_representations
                        ),
                        None,
                    ),
                    ErrorCode::QueryTooExpensive,
                ));
            }
            for (index, representation) in representations.iter().enumerate() {
                let Value::Object(fields) = representation else {
                    return Err(bad_input(format!(
                        "representations[{index}] must be an object with `__typename` and `id`"
                    )));
                };
                let typename = match fields.get("__typename") {
                    Some(Value::String(name)) if ENTITY_TYPES.contains(&name.as_str()) => name,
                    _ => {
                        return Err(bad_input(format!(
                            "representations[{index}].__typename must be one of {}",
                            ENTITY_TYPES.join(", ")
                        )));
                    }
                };
                if !fields.get("id").is_some_and(well_formed_id) {
                    return Err(bad_input(format!(
                        "representations[{index}].id must be a {typename} id (a string of digits)"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Collects the `_entities` fields an operation selects at its root,
/// through fragments (their depth is already bounded by `limits`).
fn root_entity_fields<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    out: &mut Vec<&'d async_graphql::parser::types::Field>,
    hops: usize,
) {
    if hops > 64 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) if field.node.name.node == "_entities" => out.push(&field.node),
            Selection::Field(_) => {}
            Selection::InlineFragment(fragment) => {
                root_entity_fields(document, &fragment.node.selection_set.node, out, hops + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    root_entity_fields(document, &fragment.node.selection_set.node, out, hops + 1);
                }
            }
        }
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for EntitiesExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // `limits` parsed (and bounded) the document before this runs; the
        // variables step aside while it is borrowed, instead of a copy.
        let variables = std::mem::take(&mut request.variables);
        let checked = request
            .parsed_query()
            .map_err(|error| with_code(error, ErrorCode::GraphqlParseFailed))
            .and_then(|document| self.check(document, &variables));
        request.variables = variables;
        checked?;
        next.run(ctx, request).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Every field of every request passes here: only the root
        // `_entities` field does any work.
        if info.path_node.parent.is_some() || info.name != "_entities" {
            return next.run(ctx, info).await;
        }
        let key = Name::new(info.alias.unwrap_or(info.name));
        let value = next.run(ctx, info).await?;
        if let Some(Value::List(items)) = &value {
            let mut misses = self
                .misses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (index, _) in items
                .iter()
                .enumerate()
                .filter(|(_, v)| matches!(v, Value::Null))
            {
                let mut error = with_code(
                    ServerError::new(format!("representations[{index}]: no such entity"), None),
                    ErrorCode::NotFound,
                );
                error.path = vec![
                    PathSegment::Field(key.to_string()),
                    PathSegment::Index(index),
                ];
                misses.push(error);
            }
        }
        Ok(value)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let misses = std::mem::take(
            &mut *self
                .misses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        response.errors.extend(misses);
        response
    }
}

/// One entity through the request's scoped loader: `None` when the id does
/// not exist or belongs to a brand the caller does not see.
pub(crate) async fn load<B: Batch>(
    loader: &DataLoader<ByKey<B>>,
    id: &ID,
) -> Result<Option<B::Value>, ApiError> {
    // The form was checked before execution; a bad one is simply absent.
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    Ok(loader.load_one(id).await?)
}

#[cfg(test)]
mod tests {
    use super::ENTITY_TYPES;

    #[test]
    fn the_entity_list_matches_the_schemas_key_types() {
        let sdl = crate::graphql::sdl();
        let mut keyed: Vec<&str> = sdl
            .lines()
            .filter(|line| line.contains("@key("))
            .filter_map(|line| line.split_whitespace().nth(1))
            .collect();
        keyed.sort_unstable();
        assert_eq!(keyed, ENTITY_TYPES);
    }
}
