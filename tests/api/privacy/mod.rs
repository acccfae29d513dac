//! Golden privacy cases: one folder per attack, each with a `readme.md`
//! naming the attack and what the case asserts (compiled into the case's
//! docs, so the note can't go missing).

pub(crate) mod averaging_across_epochs;
pub(crate) mod averaging_by_repetition;
pub(crate) mod budget_exhaustion_and_reset;
pub(crate) mod differencing_overlapping_filters;
pub(crate) mod parallel_queries_at_budget_edge;
pub(crate) mod rewriting_to_dodge_the_store;
pub(crate) mod small_cohort;
pub(crate) mod suppressed_cell_from_totals;
pub(crate) mod what_rivals_asked;

use serde_json::Value;

/// ε spent by an answer.
pub(crate) fn spent(answer: &Value) -> f64 {
    answer["privacy"]["epsilonSpent"]
        .as_f64()
        .expect("epsilonSpent")
}

/// Sample standard deviation.
pub(crate) fn std_dev(values: &[f64]) -> f64 {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}
