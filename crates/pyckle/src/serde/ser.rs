//! The Serializer into an object graph.

use super::error::{Error, Result};
use crate::graph::Graph;

/// Options of serialization: serde-pickle's `SerOptions`, and pyckle's own.
#[derive(Clone, Debug, Default)]
pub struct SerOptions {}

impl SerOptions {
    pub fn new() -> Self {
        SerOptions::default()
    }
}

/// A serde Serializer that builds an object graph.
pub struct Serializer<'o> {
    options: &'o SerOptions,
}

/// Serializes `value` to a pickle (protocol 4 unless the options say otherwise).
pub fn to_vec<T: serde::Serialize + ?Sized>(value: &T, options: SerOptions) -> Result<Vec<u8>> {
    let _ = (value, options);
    Err(Error::new("not yet"))
}

/// Serializes `value` as a pickle into `writer`.
pub fn to_writer<W: std::io::Write, T: serde::Serialize + ?Sized>(writer: &mut W, value: &T, options: SerOptions) -> Result<()> {
    let _ = (writer, value, options);
    Err(Error::new("not yet"))
}

/// Serializes `value` into an object graph (its root), which
/// [`dumps`](crate::dumps) writes and which can be edited first.
pub fn to_graph<T: serde::Serialize + ?Sized>(value: &T, options: &SerOptions) -> Result<Graph<'static>> {
    let _ = (value, options);
    Err(Error::new("not yet"))
}
