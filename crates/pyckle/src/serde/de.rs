//! The Deserializer over the object graph.

use super::error::{Error, Result};
use crate::graph::{Graph, Value};

/// Options of deserialization: serde-pickle's `DeOptions`, and pyckle's own.
#[derive(Clone, Debug, Default)]
pub struct DeOptions {}

impl DeOptions {
    pub fn new() -> Self {
        DeOptions::default()
    }
}

/// A serde Deserializer over one value of a graph.
pub struct Deserializer<'g, 'de> {
    graph: &'g Graph<'de>,
    value: Value,
}

/// Decodes a pickle from a byte slice into `T`; `&str` and `&[u8]` fields may borrow from `data`.
pub fn from_slice<'de, T: serde::Deserialize<'de>>(data: &'de [u8], options: DeOptions) -> Result<T> {
    let _ = (data, options);
    Err(Error::new("not yet"))
}

/// Decodes one pickle from a reader into `T`, consuming exactly its bytes.
pub fn from_reader<R: std::io::Read, T: serde::de::DeserializeOwned>(reader: R, options: DeOptions) -> Result<T> {
    let _ = (reader, options);
    Err(Error::new("not yet"))
}

/// Deserializes `T` from the root of a decoded graph.
pub fn from_graph<'de, T: serde::Deserialize<'de>>(graph: &Graph<'de>, options: &DeOptions) -> Result<T> {
    from_value(graph, graph.root(), options)
}

/// Deserializes `T` from one value of a decoded graph.
pub fn from_value<'de, T: serde::Deserialize<'de>>(graph: &Graph<'de>, value: Value, options: &DeOptions) -> Result<T> {
    let _ = (graph, value, options);
    Err(Error::new("not yet"))
}
