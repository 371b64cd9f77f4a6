//! Placeholder until the set-order emulation lands.
use crate::graph::{Graph, Value};

pub(crate) fn cpython_order(_graph: &Graph, _items: &[Value]) -> Option<Vec<Value>> {
    None
}
