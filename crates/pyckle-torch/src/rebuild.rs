//! STUB (torch-core branch only): the tensors engineer's `rebuild.rs`
//! replaces this file. It finds no tensors; `extent_bytes` is a minimal
//! checked version so that `Checkpoint::view` compiles and is testable.

use crate::{Error, Result, Tensor};
use pyckle::{Graph, Value};

pub(crate) fn find_tensors(graph: &Graph<'_>) -> Result<Vec<(String, Value, Tensor)>> {
    let _ = graph;
    Ok(Vec::new())
}

impl Tensor {
    /// Bytes from the start of the storage (including `byte_offset`) that
    /// the view needs; 0 for an empty tensor.
    pub fn extent_bytes(&self) -> Result<u64> {
        let bad = || Error::BadTensor { name: String::new(), problem: "sizes overflow".into() };
        if self.shape.contains(&0) {
            return Ok(0);
        }
        let mut last = self.storage_offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = last.checked_add((d - 1).checked_mul(s).ok_or_else(bad)?).ok_or_else(bad)?;
        }
        let items = last.checked_add(1).ok_or_else(bad)?;
        items
            .checked_mul(self.dtype.itemsize() as u64)
            .and_then(|b| b.checked_add(self.storage.byte_offset))
            .ok_or_else(bad)
    }
}
