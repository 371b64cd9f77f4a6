//! Interpretations of object records: the user-class registry, and typed
//! conversions of standard-library and numpy records into Rust types.
//!
//! A record ([`Record`](crate::Record)) is what a pickle said about an
//! object of a class: the callable or class, its args, its state, its
//! items. This module turns the records of classes pyckle knows (or that
//! a user taught it) into Rust values, and back.

pub mod registry;
pub mod stdlib;
#[cfg(feature = "numpy")]
pub mod numpy;

use crate::graph::{Graph, Value};
use std::fmt;

/// A conversion between the object graph and a Rust type failed: what was
/// expected, what was found, and where inside the value (`layers[2].weight`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    /// Where inside the converted value, in Rust-ish syntax: `.field`,
    /// `[index]`, `["key"]`; empty at the top.
    pub path: String,
    pub message: String,
}

impl ConvertError {
    pub fn new(message: impl Into<String>) -> Self {
        ConvertError { path: String::new(), message: message.into() }
    }
    /// Prefixes the path with one more step (`.name` or `[3]`), for errors
    /// bubbling out of a nested conversion.
    pub fn at(mut self, step: impl fmt::Display) -> Self {
        self.path = format!("{step}{}", self.path);
        self
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConvertError {}

/// A Rust type that can be read from a value of an object graph.
pub trait FromPickle<'g>: Sized {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError>;
}

/// A Rust type that can be written into an object graph (and from there,
/// with [`dumps`](crate::dumps), into a pickle that Python loads).
pub trait ToPickle {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError>;
}
