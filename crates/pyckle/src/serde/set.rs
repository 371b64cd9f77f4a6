//! `#[serde(with = "pyckle::serde::set")]`: a Rust set (or any collection
//! of hashable items) written as a Python `set` rather than a `list`.
//!
//! ```
//! use serde::Serialize;
//! use std::collections::BTreeSet;
//!
//! #[derive(Serialize)]
//! struct Tags {
//!     #[serde(with = "pyckle::serde::set")]
//!     tags: BTreeSet<String>,
//! }
//! let tags = Tags { tags: ["a".to_string()].into() };
//! let data = pyckle::serde::to_vec(&tags, Default::default())?;
//! // pickle.dumps({'tags': {'a'}}, protocol=4)
//! assert_eq!(data, b"\x80\x04\x95\x13\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x04tags\x94\x8f\x94(\x8c\x01a\x94\x90s.");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Other serde formats see a newtype around a sequence (a plain list in
//! JSON). Deserializing takes whatever the collection takes (a set, a
//! frozenset, a list...).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A collection's items as a serde sequence.
pub(crate) struct Items<'a, C: ?Sized>(pub(crate) &'a C);

impl<'a, C: ?Sized, T> Serialize for Items<'a, C>
where
    &'a C: IntoIterator<Item = &'a T>,
    T: Serialize + 'a,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0)
    }
}

pub fn serialize<'a, S, C, T>(set: &'a C, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    C: ?Sized,
    &'a C: IntoIterator<Item = &'a T>,
    T: Serialize + 'a,
{
    serializer.serialize_newtype_struct(super::ser::SET_NEWTYPE, &Items(set))
}

pub fn deserialize<'de, D, C>(deserializer: D) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: Deserialize<'de>,
{
    C::deserialize(deserializer)
}
