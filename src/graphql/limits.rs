//! What a request may cost, decided before async-graphql spends work on it,
//! and the phase every request error comes from.
//!
//! async-graphql walks fragment spreads without memoising them: while
//! parsing (its recursion-depth and directive checks) and while validating,
//! so a kilobyte of fragments that each spread the next twice costs
//! exponential CPU before any depth or complexity limit runs. This
//! extension parses the document itself in `prepare_request`, costs it in
//! one pass linear in its size (each fragment costed once and memoised),
//! and refuses it with `QUERY_TOO_EXPENSIVE` before async-graphql sees it.
//! The schema's own depth, complexity and directive limits are switched off
//! in favour of these, so every refusal carries our code.
//!
//! Codes are chosen by phase, never by a library's message text: a
//! parse failure is `GRAPHQL_PARSE_FAILED`, a validation failure
//! `GRAPHQL_VALIDATION_FAILED`, a limit `QUERY_TOO_EXPENSIVE`; an error a
//! field's resolution returns without a code of ours was raised by
//! async-graphql while coercing that field's arguments (our resolvers only
//! return coded errors), so it is `BAD_USER_INPUT` at the field's path.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    Name, Request, Response, ServerError, ServerResult, ValidationResult, Value,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
        NextResolve, NextValidation, ResolveInfo,
    },
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::{config::QueryLimits, error::ErrorCode};

/// Most directives on one field (async-graphql's own check walks fragments
/// without memoising them, so it is done here instead).
const MAX_DIRECTIVES_PER_FIELD: usize = 8;

/// Set once the operation starts executing (parse and validation passed).
#[derive(Debug, Clone, Default)]
pub(crate) struct ExecutionStarted(Arc<AtomicBool>);

impl ExecutionStarted {
    /// Whether execution began.
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The extension factory holding the configured limits.
pub(crate) struct RequestLimits(pub(crate) QueryLimits);

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExtension(self.0.clone()))
    }
}

struct RequestLimitsExtension(QueryLimits);

/// Gives an error our code, unless it has one already.
pub(crate) fn with_code(mut error: ServerError, code: ErrorCode) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    error
}

fn too_expensive(message: String) -> ServerError {
    with_code(
        ServerError::new(message, None),
        ErrorCode::QueryTooExpensive,
    )
}

/// Whether an error already carries an `extensions.code`.
pub(crate) fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some())
}

/// What one selection set costs once every fragment spread is expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    /// Selections (fields, spreads, inline fragments) a full walk visits.
    selections: u64,
    /// Deepest field nesting.
    depth: u64,
    /// Aliased fields a full walk visits.
    aliases: u64,
    /// Fields at this set's own level, through fragments.
    fields_here: u64,
    /// Longest chain of fragment spreads below this set.
    fragment_depth: u64,
}

impl Cost {
    fn add(&mut self, other: Self) {
        self.selections = self.selections.saturating_add(other.selections);
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields_here = self.fields_here.saturating_add(other.fields_here);
        self.fragment_depth = self.fragment_depth.max(other.fragment_depth);
    }
}

/// Why a document was refused before validation.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// A fragment spreads itself, directly or through others.
    FragmentCycle(String),
    /// Fragments spread fragments deeper than allowed.
    FragmentChain(usize),
    /// A field carries too many directives.
    Directives(String),
}

/// One linear pass over a document: every fragment's cost is computed once.
struct Costing<'d> {
    document: &'d ExecutableDocument,
    max_fragment_depth: usize,
    memo: HashMap<&'d Name, Cost>,
    visiting: HashSet<&'d Name>,
}

impl<'d> Costing<'d> {
    fn set(&mut self, set: &'d SelectionSet, chain: usize) -> Result<Cost, Refusal> {
        let mut cost = Cost::default();
        for item in &set.items {
            cost.selections = cost.selections.saturating_add(1);
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.directives.len() > MAX_DIRECTIVES_PER_FIELD {
                        return Err(Refusal::Directives(field.name.node.to_string()));
                    }
                    let inner = self.set(&field.selection_set.node, chain)?;
                    cost.selections = cost.selections.saturating_add(inner.selections);
                    cost.aliases = cost
                        .aliases
                        .saturating_add(inner.aliases)
                        .saturating_add(u64::from(field.alias.is_some()));
                    cost.depth = cost.depth.max(inner.depth.saturating_add(1));
                    cost.fields_here = cost.fields_here.saturating_add(1);
                    cost.fragment_depth = cost.fragment_depth.max(inner.fragment_depth);
                }
                Selection::InlineFragment(fragment) => {
                    cost.add(self.set(&fragment.node.selection_set.node, chain)?);
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self.fragment(&spread.node.fragment_name.node, chain + 1)?;
                    cost.add(fragment);
                    cost.fragment_depth = cost.fragment_depth.max(fragment.fragment_depth + 1);
                }
            }
        }
        Ok(cost)
    }

    /// A fragment's cost, spread `chain` spreads deep; a memoised cost
    /// still counts the chain below it.
    fn fragment(&mut self, name: &'d Name, chain: usize) -> Result<Cost, Refusal> {
        let too_deep = |below: u64| chain as u64 + below > self.max_fragment_depth as u64;
        if too_deep(0) {
            return Err(Refusal::FragmentChain(self.max_fragment_depth));
        }
        if let Some(cost) = self.memo.get(name) {
            return if too_deep(cost.fragment_depth) {
                Err(Refusal::FragmentChain(self.max_fragment_depth))
            } else {
                Ok(*cost)
            };
        }
        // An unknown fragment costs nothing here; validation reports it.
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Cost::default());
        };
        if !self.visiting.insert(name) {
            return Err(Refusal::FragmentCycle(name.to_string()));
        }
        let cost = self.set(&fragment.node.selection_set.node, chain)?;
        self.visiting.remove(name);
        self.memo.insert(name, cost);
        Ok(cost)
    }
}

impl RequestLimitsExtension {
    /// Costs the document and refuses it past a limit.
    fn check(&self, document: &ExecutableDocument) -> ServerResult<()> {
        let limits = &self.0;
        let mut costing = Costing {
            document,
            max_fragment_depth: limits.max_fragment_depth,
            memo: HashMap::new(),
            visiting: HashSet::new(),
        };
        let refused = |refusal: Refusal| match refusal {
            Refusal::FragmentCycle(name) => with_code(
                ServerError::new(format!("fragment `{name}` spreads itself"), None),
                ErrorCode::GraphqlValidationFailed,
            ),
            Refusal::FragmentChain(max) => too_expensive(format!(
                "fragments spread fragments more than {max} levels deep"
            )),
            Refusal::Directives(field) => too_expensive(format!(
                "the field `{field}` carries more than {MAX_DIRECTIVES_PER_FIELD} directives"
            )),
        };
        // Unused fragments are costed too: validation walks them.
        let mut total = Cost::default();
        for name in document.fragments.keys() {
            total.add(costing.fragment(name, 1).map_err(refused)?);
        }
        let mut operations = Vec::new();
        for (_, operation) in document.operations.iter() {
            let cost = costing
                .set(&operation.node.selection_set.node, 0)
                .map_err(refused)?;
            total.add(cost);
            operations.push(cost);
        }
        if total.selections > limits.max_selections as u64 {
            return Err(too_expensive(format!(
                "the query expands to {} selections once fragments are spread; at most {} are allowed",
                total.selections, limits.max_selections
            )));
        }
        for cost in operations {
            if cost.fields_here > limits.max_root_fields as u64 {
                return Err(too_expensive(format!(
                    "an operation selects {} root fields; at most {} are allowed",
                    cost.fields_here, limits.max_root_fields
                )));
            }
            if cost.depth > limits.max_depth as u64 {
                return Err(too_expensive(format!(
                    "the query nests fields {} deep; at most {} is allowed",
                    cost.depth, limits.max_depth
                )));
            }
        }
        if total.aliases > limits.max_aliases as u64 {
            return Err(too_expensive(format!(
                "the query uses {} aliases once fragments are spread; at most {} are allowed",
                total.aliases, limits.max_aliases
            )));
        }
        Ok(())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Parsed here once; async-graphql reuses the parsed document.
        let document = request
            .parsed_query()
            .map_err(|error| with_code(error, ErrorCode::GraphqlParseFailed))?;
        self.check(document)?;
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, ErrorCode::GraphqlValidationFailed))
                .collect::<Vec<_>>()
        })?;
        if result.complexity > self.0.max_complexity {
            return Err(vec![too_expensive(format!(
                "the query's complexity is {}; at most {} is allowed (each page counts its size)",
                result.complexity, self.0.max_complexity
            ))]);
        }
        Ok(result)
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

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        next.run(ctx, info).await.map_err(|error| {
            if has_code(&error) {
                error
            } else {
                with_code(error, ErrorCode::BadUserInput)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> QueryLimits {
        QueryLimits {
            max_depth: 15,
            max_complexity: 2000,
            max_aliases: 30,
            max_root_fields: 20,
            max_selections: 2000,
            max_fragment_depth: 10,
            max_entities: 100,
        }
    }

    fn check(query: &str) -> Result<(), String> {
        check_with(limits(), query)
    }

    fn check_with(limits: QueryLimits, query: &str) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        RequestLimitsExtension(limits)
            .check(&document)
            .map_err(|error| error.message)
    }

    /// `n` fragments, each spreading the next twice: 2^n selections.
    fn doubling(n: usize) -> String {
        let mut query = String::from("{ ...F0 }");
        for i in 0..n {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{next} ...F{next} }}",
                next = i + 1
            ));
        }
        query.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
        query
    }

    #[test]
    fn doubling_fragments_are_costed_without_expanding_them() {
        // 2^70 selections behind a chain the limits allow: refused at
        // once, the count saturating instead of overflowing.
        let long_chains = QueryLimits {
            max_fragment_depth: 100,
            ..limits()
        };
        let refused = check_with(long_chains, &doubling(70)).expect_err("too many selections");
        assert!(refused.contains("selections"), "{refused}");
        // With the default chain limit the same document stops earlier.
        let refused = check(&doubling(70)).expect_err("too long a chain");
        assert!(refused.contains("levels deep"), "{refused}");
        // Four doublings are fine (16 root `__typename`s); nine expand to
        // 1,535 selections in the operation and 3,049 in the fragments'
        // own definitions (validation walks both): refused.
        assert_eq!(check(&doubling(4)), Ok(()));
        let refused = check(&doubling(9)).expect_err("nine");
        assert!(refused.contains("selections"), "{refused}");
    }

    #[test]
    fn fragment_chains_cycles_and_directives_are_refused() {
        let mut chain = String::from("{ ...F0 }");
        for i in 0..12 {
            chain.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
        }
        chain.push_str(" fragment F12 on Query { __typename }");
        assert!(check(&chain).expect_err("chain").contains("levels deep"));

        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(check(cycle).expect_err("cycle").contains("spreads itself"));

        let directives = format!("{{ __typename {} }}", "@skip(if: false) ".repeat(9));
        assert!(
            check(&directives)
                .expect_err("directives")
                .contains("directives")
        );
    }

    #[test]
    fn root_fields_depth_and_aliases_count_through_fragments() {
        let roots = format!(
            "{{ ...R ...R }} fragment R on Query {{ {} }}",
            (0..11)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(check(&roots).expect_err("roots").contains("root fields"));

        let mut deep = String::from("__typename");
        for _ in 0..16 {
            deep = format!("ofType {{ {deep} }}");
        }
        let deep =
            format!("{{ ...D }} fragment D on Query {{ __type(name: \"Brand\") {{ {deep} }} }}");
        assert!(check(&deep).expect_err("deep").contains("deep"));
    }
}
