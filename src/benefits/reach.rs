//! How many members a benefit reaches, only through the privacy engine:
//! its targeting becomes an audience question (filters from the targeting,
//! broken down by growth tier × paid membership), answered with noise,
//! suppression and the brand's budget like any analyst's question, and
//! stored, so asking again costs nothing.

use super::definition::Definition;
use crate::{
    platform::GrowthTier,
    segments::{Dimension, Population, QuestionInput},
};

/// The audience question whose answer is the benefit's reach: the
/// definition's audience as filters (its interests as any-of, as the
/// targeting reads them).
pub(crate) fn question(definition: &Definition, population: Population) -> QuestionInput {
    let t = definition.audience();
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
    let codes = |codes: Vec<&str>| codes.into_iter().map(str::to_owned).collect::<Vec<_>>();
    if !t.age_bands.is_empty() {
        let bands = t.age_bands.iter().map(|band| band.code()).collect();
        filters.push((Dimension::AgeBand, codes(bands)));
    }
    if !t.city_tiers.is_empty() {
        let tiers = t
            .city_tiers
            .iter()
            .map(sea_orm::ActiveEnum::to_value)
            .collect();
        filters.push((Dimension::CityTier, tiers));
    }
    if !t.interests.is_empty() {
        let interests = t.interests.iter().map(|i| i.code()).collect();
        filters.push((Dimension::Interest, codes(interests)));
    }
    QuestionInput {
        population,
        filters,
        breakdown: vec![Dimension::GrowthTier, Dimension::PaidMember],
        metrics: Vec::new(),
    }
}
