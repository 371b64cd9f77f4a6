//! `#[serde(with = "pyckle::serde::frozenset")]`: a Rust set (or any
//! collection of hashable items) written as a Python `frozenset`; the same
//! as [`set`](super::set) otherwise.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<'a, S, C, T>(set: &'a C, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    C: ?Sized,
    &'a C: IntoIterator<Item = &'a T>,
    T: Serialize + 'a,
{
    serializer.serialize_newtype_struct(super::ser::FROZENSET_NEWTYPE, &super::set::Items(set))
}

pub fn deserialize<'de, D, C>(deserializer: D) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: Deserialize<'de>,
{
    C::deserialize(deserializer)
}
