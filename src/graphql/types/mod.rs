//! GraphQL object and input types, apart from the root resolvers that
//! return them, so each capability's roots can share them without
//! importing one another.

pub(crate) mod application;
pub(crate) mod audience;
pub(crate) mod benefit;
pub(crate) mod benefit_input;
pub(crate) mod benefit_insight;
pub(crate) mod brand;
pub(crate) mod checkout;
pub(crate) mod criteria;
pub(crate) mod qualification;
