//! serde for pickles: a [`Deserializer`] over the object graph a pickle
//! builds, and a [`Serializer`] into a graph that the pickler writes the
//! way CPython does.
//!
//! The API follows serde-pickle's (`from_slice(data, DeOptions)`,
//! `to_vec(&value, SerOptions)`), so its users can switch by changing an
//! import; see [`crate::serde_pickle`] for the drop-in module.

pub mod bigint;
mod de;
mod error;
pub mod frozenset;
mod ser;
pub mod set;

pub use de::{from_graph, from_reader, from_slice, from_value, DeOptions, Deserializer, BIGINT_MAGIC};
pub use error::{Error, Result};
pub use ser::{to_graph, to_vec, to_writer, SerOptions, Serializer, DEFAULT_MAX_DEPTH, FROZENSET_NEWTYPE, SET_NEWTYPE};
