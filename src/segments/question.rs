//! An audience question, validated and normalised: filter order, value
//! order, letter case, boolean spellings, breakdown order and filters that
//! allow every value all collapse to one canonical form, so rewriting a
//! question can't dodge the stored answer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::dimensions::Dimension;
use crate::error::{CodedError, ErrorCode};
use crate::platform::GrowthTier;

/// Most breakdown dimensions per question.
pub const MAX_BREAKDOWN: usize = 2;

/// Whose members a question counts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::Display,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Population {
    /// Every platform member.
    Platform,
    /// Members of the asking brand's own store.
    Store,
    /// Platform members not in the asking brand's store: post-processing of
    /// a platform table and the store's table, never counted directly.
    Prospects,
}

/// Metrics beyond member counts and shares (always answered).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, strum::Display,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Metric {
    /// Share of the cell's members holding the paid membership.
    PaidMemberShare,
    /// Share of the cell's members holding the black card.
    BlackCardShare,
    /// Mean clamped annual spend.
    MeanAnnualSpend,
    /// Target group index: store share ÷ platform share × 100.
    Tgi,
}

/// A question as the client wrote it.
#[derive(Debug, Clone)]
pub struct QuestionInput {
    /// Whose members.
    pub population: Population,
    /// Per dimension, the value codes allowed (any of them).
    pub filters: Vec<(Dimension, Vec<String>)>,
    /// Dimensions to break the answer down by.
    pub breakdown: Vec<Dimension>,
    /// Extra metrics.
    pub metrics: Vec<Metric>,
}

/// Why a question can't be answered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    /// A code that is not one of the dimension's values.
    #[error("`{code}` is not a value of {dimension}; use one of {allowed}")]
    UnknownValue {
        /// The dimension.
        dimension: Dimension,
        /// The code given.
        code: String,
        /// The codes allowed.
        allowed: String,
    },
    /// The same dimension filtered twice.
    #[error("{0} is filtered more than once; list all its values in one filter")]
    RepeatedFilter(Dimension),
    /// A filter with no values.
    #[error("the filter on {0} lists no values")]
    EmptyFilter(Dimension),
    /// Too many or repeated breakdown dimensions.
    #[error("break down by at most {MAX_BREAKDOWN} different dimensions")]
    Breakdown,
    /// A trend over too few or too many epochs.
    #[error("a trend reads 1 to {0} data epochs")]
    TrendEpochs(u64),
    /// TGI compares the store with the platform.
    #[error("TGI compares the store with the platform: ask it with population STORE")]
    TgiNeedsStore,
}

impl CodedError for QuestionError {
    fn code(&self) -> ErrorCode {
        ErrorCode::BadUserInput
    }
}

/// Which cells a question releases, without its metrics: the unit of noise
/// and of storage. Two questions with the same cells share released tables.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cells {
    /// Whose members.
    pub population: Population,
    /// Allowed values per filtered dimension.
    pub filters: BTreeMap<Dimension, BTreeSet<i16>>,
    /// Breakdown dimensions, in canonical order.
    pub breakdown: Vec<Dimension>,
}

/// A validated, normalised question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The cells released.
    pub cells: Cells,
    /// Extra metrics.
    pub metrics: BTreeSet<Metric>,
}

impl Question {
    /// Validates and normalises.
    pub fn parse(input: &QuestionInput) -> Result<Self, QuestionError> {
        let mut filters = BTreeMap::new();
        for (dimension, codes) in &input.filters {
            if codes.is_empty() {
                return Err(QuestionError::EmptyFilter(*dimension));
            }
            let values = codes
                .iter()
                .map(|code| {
                    dimension
                        .parse(code)
                        .ok_or_else(|| QuestionError::UnknownValue {
                            dimension: *dimension,
                            code: code.clone(),
                            allowed: dimension.codes().join(", "),
                        })
                })
                .collect::<Result<BTreeSet<i16>, _>>()?;
            if filters.insert(*dimension, values).is_some() {
                return Err(QuestionError::RepeatedFilter(*dimension));
            }
        }
        let breakdown: BTreeSet<Dimension> = input.breakdown.iter().copied().collect();
        if breakdown.len() != input.breakdown.len() || breakdown.len() > MAX_BREAKDOWN {
            return Err(QuestionError::Breakdown);
        }
        // A filter allowing every value of a single-valued dimension is no filter.
        filters.retain(|dimension: &Dimension, values: &mut BTreeSet<i16>| {
            dimension.is_multi_valued() || values.len() < dimension.cardinality()
        });
        let metrics: BTreeSet<Metric> = input.metrics.iter().copied().collect();
        if metrics.contains(&Metric::Tgi) && input.population != Population::Store {
            return Err(QuestionError::TgiNeedsStore);
        }
        Ok(Self {
            cells: Cells {
                population: input.population,
                filters,
                breakdown: breakdown.into_iter().collect(),
            },
            metrics,
        })
    }
}

impl Question {
    /// The question as the analyst reads it, in the contract's names, e.g.
    /// `STORE members by AGE_BAND where PAID_MEMBER is YES; metrics
    /// PAID_MEMBER_SHARE`: what the spend history shows.
    pub fn describe(&self) -> String {
        let cells = &self.cells;
        let mut text = format!("{} members", cells.population);
        if !cells.breakdown.is_empty() {
            let by: Vec<String> = cells.breakdown.iter().map(ToString::to_string).collect();
            text.push_str(&format!(" by {}", by.join(" × ")));
        }
        let filters: Vec<String> = cells
            .filters
            .iter()
            .map(|(dimension, values)| {
                let codes: Vec<&str> = values.iter().map(|v| dimension.code(*v)).collect();
                match codes.as_slice() {
                    [one] => format!("{dimension} is {one}"),
                    many => format!("{dimension} is one of {}", many.join(", ")),
                }
            })
            .collect();
        if !filters.is_empty() {
            text.push_str(&format!(" where {}", filters.join(" and ")));
        }
        if !self.metrics.is_empty() {
            let metrics: Vec<String> = self.metrics.iter().map(ToString::to_string).collect();
            text.push_str(&format!("; metrics {}", metrics.join(", ")));
        }
        text
    }
}

impl Cells {
    /// The canonical text of these cells (stable JSON).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The multi-valued dimension the question uses, if any.
    pub fn multi_valued(&self) -> Option<Dimension> {
        self.filters
            .keys()
            .chain(self.breakdown.iter())
            .copied()
            .find(|d| d.is_multi_valued())
    }

    /// Whether a member can fall in several cells (multi-valued breakdown).
    pub fn overlapping(&self) -> bool {
        self.breakdown.iter().any(|d| d.is_multi_valued())
    }

    /// How many cells of a table one member can be counted in: the cap
    /// for each multi-valued breakdown dimension (interests × services:
    /// the cap squared). A table's sensitivity is this (times the spend
    /// clamp for spend sums).
    pub fn copies_per_member(&self, cap: u64) -> u64 {
        self.breakdown
            .iter()
            .filter(|d| d.is_multi_valued())
            .fold(1, |copies, _| copies * cap)
    }

    /// Whether the cube can't answer these cells: members holding any of
    /// several values of a multi-valued dimension it does not break down
    /// by (the cube would count them once per value), or two multi-valued
    /// dimensions (the cube keeps one per row).
    pub fn needs_member_rows(&self) -> bool {
        let multi: BTreeSet<Dimension> = self
            .filters
            .keys()
            .chain(&self.breakdown)
            .copied()
            .filter(|d| d.is_multi_valued())
            .collect();
        multi.len() > 1
            || self.filters.iter().any(|(d, values)| {
                d.is_multi_valued() && values.len() > 1 && !self.breakdown.contains(d)
            })
    }

    /// The one cell of every member the question's cells are drawn from:
    /// no breakdown, and no filter on a multi-valued dimension it breaks
    /// down by (that filter picks cells, not members: a member share of
    /// BEAUTY is of all the population's members, not of those holding
    /// BEAUTY or PETS).
    pub fn population_total(&self) -> Self {
        Self {
            population: self.population,
            filters: self
                .filters
                .iter()
                .filter(|(d, _)| !(d.is_multi_valued() && self.breakdown.contains(d)))
                .map(|(d, v)| (*d, v.clone()))
                .collect(),
            breakdown: Vec::new(),
        }
    }

    /// The same cells over the whole platform (TGI's denominator).
    pub fn on_platform(&self) -> Self {
        Self {
            population: Population::Platform,
            ..self.clone()
        }
    }

    /// The values of `dimension` a member of the cell `key` can have:
    /// its breakdown value, else its filter, else every value.
    fn allowed(&self, key: &[i16], dimension: Dimension) -> BTreeSet<i16> {
        if let Some(index) = self.breakdown.iter().position(|d| *d == dimension) {
            return key.get(index).copied().into_iter().collect();
        }
        self.filters
            .get(&dimension)
            .cloned()
            .unwrap_or_else(|| (0..dimension.cardinality() as i16).collect())
    }

    /// The paid-member or black-card share of a cell when the cell's
    /// definition and the programme's public rules fix it (a cell of paid
    /// members is all paid members; nobody below GOLD can be one, nobody
    /// below DIAMOND holds the black card). Using public facts is
    /// post-processing: it costs no privacy and removes pure noise.
    pub fn known_share(&self, key: &[i16], holding: Dimension) -> Option<f64> {
        let (paid, black_card) = match holding {
            Dimension::PaidMember => (true, false),
            Dimension::BlackCard => (false, true),
            _ => return None,
        };
        let may_hold = |tier: &i16| {
            GrowthTier::ALL
                .get(*tier as usize)
                .is_none_or(|tier| tier.may_hold(paid, black_card))
        };
        let holds = self.allowed(key, holding);
        let tiers = self.allowed(key, Dimension::GrowthTier);
        if holds == BTreeSet::from([1]) {
            Some(1.0)
        } else if holds == BTreeSet::from([0]) || !tiers.iter().any(may_hold) {
            Some(0.0)
        } else {
            None
        }
    }

    /// Every cell key (one value per breakdown dimension), in canonical
    /// order, empty cells included: whether a cell is empty must not show.
    pub fn keys(&self) -> Vec<Vec<i16>> {
        let mut keys: Vec<Vec<i16>> = vec![Vec::new()];
        for dimension in &self.breakdown {
            let values: Vec<i16> = match self.filters.get(dimension) {
                Some(allowed) => allowed.iter().copied().collect(),
                None => (0..dimension.cardinality() as i16).collect(),
            };
            keys = keys
                .into_iter()
                .flat_map(|key| {
                    values.iter().map(move |v| {
                        let mut next = key.clone();
                        next.push(*v);
                        next
                    })
                })
                .collect();
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(filters: Vec<(Dimension, Vec<&str>)>, breakdown: Vec<Dimension>) -> QuestionInput {
        QuestionInput {
            population: Population::Store,
            filters: filters
                .into_iter()
                .map(|(d, v)| (d, v.into_iter().map(str::to_owned).collect()))
                .collect(),
            breakdown,
            metrics: vec![],
        }
    }

    #[test]
    fn rewritten_questions_normalise_to_the_same_cells() {
        let a = Question::parse(&input(
            vec![
                (Dimension::CityTier, vec!["TIER1", "new_tier1"]),
                (Dimension::PaidMember, vec!["true"]),
            ],
            vec![Dimension::GrowthTier, Dimension::Gender],
        ))
        .expect("valid");
        let b = Question::parse(&input(
            vec![
                (Dimension::PaidMember, vec!["YES"]),
                (Dimension::CityTier, vec!["NEW_TIER1", "TIER1", "tier1"]),
                (Dimension::AgeBand, Dimension::AgeBand.codes()),
            ],
            vec![Dimension::Gender, Dimension::GrowthTier],
        ))
        .expect("valid");
        assert_eq!(a.cells.canonical(), b.cells.canonical());
    }

    #[test]
    fn bad_questions_say_what_is_wrong() {
        let error = Question::parse(&input(vec![(Dimension::CityTier, vec!["TIER9"])], vec![]))
            .expect_err("bad");
        assert!(
            error
                .to_string()
                .contains("`TIER9` is not a value of CITY_TIER")
        );
        assert_eq!(
            Question::parse(&input(
                vec![],
                vec![Dimension::Gender, Dimension::CityTier, Dimension::AgeBand]
            )),
            Err(QuestionError::Breakdown)
        );
    }

    /// Any-of over interests, and interests × services, are read from
    /// member rows; one interest, or a breakdown by interest, from the cube.
    #[test]
    fn the_cube_answers_what_it_holds() {
        let cells = |filters, breakdown| {
            Question::parse(&input(filters, breakdown))
                .expect("valid")
                .cells
        };
        let any_of = cells(vec![(Dimension::Interest, vec!["BEAUTY", "PETS"])], vec![]);
        assert!(any_of.needs_member_rows());
        assert_eq!(any_of.copies_per_member(5), 1);
        let both = cells(vec![], vec![Dimension::Interest, Dimension::Service]);
        assert!(both.needs_member_rows());
        assert_eq!(both.copies_per_member(5), 25);
        let one = cells(
            vec![(Dimension::Interest, vec!["BEAUTY"])],
            vec![Dimension::Gender],
        );
        assert!(!one.needs_member_rows());
        let picked = cells(
            vec![(Dimension::Interest, vec!["BEAUTY", "PETS"])],
            vec![Dimension::Interest],
        );
        assert!(!picked.needs_member_rows());
        assert_eq!(picked.copies_per_member(5), 5);
    }

    #[test]
    fn shares_fixed_by_the_cell_or_the_rules_are_known() {
        let q = Question::parse(&input(
            vec![],
            vec![Dimension::GrowthTier, Dimension::BlackCard],
        ))
        .expect("valid");
        // SILVER members can't be paid members, nor black-card holders.
        assert_eq!(
            q.cells.known_share(&[1, 0], Dimension::PaidMember),
            Some(0.0)
        );
        assert_eq!(
            q.cells.known_share(&[3, 1], Dimension::BlackCard),
            Some(1.0)
        );
        assert_eq!(
            q.cells.known_share(&[3, 0], Dimension::BlackCard),
            Some(0.0)
        );
        assert_eq!(q.cells.known_share(&[3, 0], Dimension::PaidMember), None);
        assert_eq!(q.cells.known_share(&[5, 1], Dimension::PaidMember), None);
    }

    #[test]
    fn a_question_reads_in_the_contracts_names() {
        let question = Question::parse(&QuestionInput {
            population: Population::Store,
            filters: vec![
                (Dimension::PaidMember, vec!["yes".to_owned()]),
                (
                    Dimension::CityTier,
                    vec!["TIER1".to_owned(), "NEW_TIER1".to_owned()],
                ),
            ],
            breakdown: vec![Dimension::AgeBand],
            metrics: vec![Metric::PaidMemberShare, Metric::Tgi],
        })
        .expect("valid");
        assert_eq!(
            question.describe(),
            "STORE members by AGE_BAND where PAID_MEMBER is YES and CITY_TIER is one of \
             TIER1, NEW_TIER1; metrics PAID_MEMBER_SHARE, TGI"
        );
    }

    #[test]
    fn keys_cover_every_cell_including_filtered_breakdowns() {
        let q = Question::parse(&input(
            vec![(Dimension::CityTier, vec!["TIER1", "TIER2"])],
            vec![Dimension::CityTier, Dimension::PaidMember],
        ))
        .expect("valid");
        // Breakdown in canonical order: PaidMember before CityTier.
        assert_eq!(
            q.cells.keys(),
            vec![vec![0, 0], vec![0, 2], vec![1, 0], vec![1, 2]]
        );
    }
}
