//! How many members a benefit reaches, only through the privacy engine:
//! its targeting becomes an audience question (filters from the targeting,
//! broken down by growth tier × paid membership), answered with noise,
//! suppression and the brand's budget like any analyst's question, and
//! stored, so asking again costs nothing.

use super::definition::{Definition, Kind};
use crate::{
    platform::GrowthTier,
    segments::{Dimension, Population, QuestionInput},
};

/// Why a targeting can't be previewed as one question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a reach preview counts one interest at a time (a member can hold several); preview a copy per interest"
)]
pub(crate) struct SeveralInterests;

/// The audience question whose answer is the benefit's reach.
pub(crate) fn question(
    definition: &Definition,
    population: Population,
) -> Result<QuestionInput, SeveralInterests> {
    let t = &definition.targeting;
    let mut filters = Vec::new();
    if let Some(min) = t.min_tier {
        let tiers: Vec<String> = GrowthTier::ALL
            .iter()
            .filter(|tier| **tier >= min)
            .map(|tier| Dimension::GrowthTier.code(*tier as i16).to_owned())
            .collect();
        filters.push((Dimension::GrowthTier, tiers));
    }
    for (dimension, wanted) in [
        (Dimension::PaidMember, t.paid_member),
        (Dimension::BlackCard, t.black_card),
    ] {
        if let Some(yes) = wanted {
            filters.push((dimension, vec![if yes { "YES" } else { "NO" }.to_owned()]));
        }
    }
    for (dimension, wanted) in [
        (Dimension::AgeBand, &t.age_bands),
        (Dimension::CityTier, &t.city_tiers),
    ] {
        if !wanted.is_empty() {
            filters.push((dimension, wanted.clone()));
        }
    }
    let mut interests = t.interests.clone();
    if let Kind::InterestService {
        interests: kind, ..
    } = &definition.kind
    {
        if interests.is_empty() {
            interests.clone_from(kind);
        } else {
            interests.retain(|i| kind.contains(i));
        }
    }
    match interests.as_slice() {
        [] => {}
        [one] => filters.push((Dimension::Interest, vec![one.clone()])),
        _ => return Err(SeveralInterests),
    }
    Ok(QuestionInput {
        population,
        filters,
        breakdown: vec![Dimension::GrowthTier, Dimension::PaidMember],
        metrics: Vec::new(),
    })
}
