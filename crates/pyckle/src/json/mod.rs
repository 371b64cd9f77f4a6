//! JSON renderings of a graph: the canonical form of
//! `shared/spec/canonical-json.md` ([`canonical`]) and a friendly one for
//! people ([`friendly`]); and the way back from the canonical form to a
//! graph ([`from_canonical`]).

mod canonical;
pub mod friendly;
mod parse;

pub use canonical::{canonical, CanonicalError, MAX_NODES};
pub use parse::{from_canonical, from_canonical_lines, FromJsonError, PARSED_PROTOCOL};
