//! JSON renderings of a graph: the canonical form of
//! `shared/spec/canonical-json.md` ([`canonical`]) and a friendly one for
//! people ([`friendly`]).

mod canonical;
pub mod friendly;

pub use canonical::{canonical, CanonicalError, MAX_NODES};
