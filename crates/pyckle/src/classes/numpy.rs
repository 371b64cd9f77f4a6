//! numpy arrays, scalars and dtypes, read from their pickle records into
//! the `ndarray` crate (f16 through `half`, complex through `num-complex`)
//! and written back as numpy writes them.
//!
//! No numpy is needed: a pickle of an array is a record the decoder keeps
//! as it is, and this module reads it.
//!
//! - [`Dtype`]: `numpy.dtype(...)` with its state: kind, byte order, item
//!   size, fields of records, subarrays, datetime units. `Display` is
//!   numpy's `dtype.str` (`<f8`, `|S5`, `<M8[ms]`), [`Dtype::name`] its
//!   `dtype.name`.
//! - [`NdArray`]: any array: its dtype, its items as an [`ArrayData`] (one
//!   `ndarray::ArrayD` per item type, records as a [`StructuredArray`],
//!   objects as graph values), its layout and class. Both forms numpy
//!   writes are read: `_reconstruct` + BUILD `(1, shape, dtype,
//!   is_fortran, data)` at protocols 0 to 5, and protocol 5's
//!   `_frombuffer(buffer, dtype, shape, order)` with the buffer in band
//!   or out of band; under numpy 1's names (`numpy.core...`) and numpy 2's
//!   (`numpy._core...`); big- and little-endian items (made native), C
//!   and Fortran order, 0-d and empty arrays, subclasses (`numpy.matrix`).
//! - [`MaskedArray`]: `numpy.ma` arrays (not of records).
//! - [`Scalar`]: numpy scalars (`numpy.float64(1.5)`) and array items.
//! - Typed: `FromPickle` for `ndarray::Array<T, D>` of every [`Element`]
//!   (lossless conversions only, see there), [`Exact<T>`] for numpy
//!   scalars; `ToPickle` for `ndarray` arrays, [`NdArray`] and [`Dtype`].
//!
//! ```
//! use ndarray::{array, Array2};
//! use pyckle::classes::{FromPickle, ToPickle};
//!
//! let a: Array2<f64> = array![[1.0, 2.0], [3.0, 4.5]];
//! let mut g = pyckle::Graph::new();
//! let root = a.to_pickle(&mut g)?;
//! g.set_root(root);
//! let data = pyckle::dumps(&g, 4)?; // pickle.loads(data) is a numpy.ndarray
//! let back = pyckle::loads(&data)?;
//! assert_eq!(Array2::<f64>::from_pickle(&back, back.root())?, a);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Hostile input: shapes are checked (no negative dimension, at most
//! [`MAX_DIMS`] of them, their product fits an `isize`), the data length
//! must equal items times item size before anything is allocated, item
//! sizes must be numpy's for their kind, and dtypes may nest at most
//! [`dtype::MAX_DTYPE_DEPTH`] deep. Every failure is a [`ConvertError`].
//!
//! Not read: float128/complex256 (`longdouble`) items, records with
//! object fields, and masks of masked record arrays.

mod array;
pub mod dtype;
mod element;
mod scalar;
mod util;
mod write;

pub use array::{ArrayData, MaskedArray, NdArray, StructuredArray};
pub use dtype::{ByteOrder, DateUnit, Dtype, Field, Kind, Subarray, TimeUnit};
pub use element::{scalar_as, typed, Element, Exact};
pub use scalar::Scalar;
pub use write::{write_array, write_dtype, write_ndarray, write_raw, Form, Names, WriteOptions};

use super::{ConvertError, FromPickle};
use crate::graph::{Graph, Value};

/// The most dimensions an array may have (numpy 2's `NPY_MAXDIMS`).
pub const MAX_DIMS: usize = 64;
/// The most items an array of zero-sized items (`S0`, `V0`) may have:
/// such an array costs nothing in the pickle, so its shape alone is no bound.
pub const MAX_EMPTY_ITEMS: usize = 1 << 20;

/// Any numpy object a record can be.
#[derive(Clone, Debug, PartialEq)]
pub enum Numpy {
    Array(NdArray),
    Masked(MaskedArray),
    Scalar(Scalar),
    Dtype(Dtype),
}

/// Which numpy object `value` is, by its record's callable, and that
/// object read; `None` when it is no numpy record at all.
pub fn recognize(graph: &Graph<'_>, value: Value) -> Option<Result<Numpy, ConvertError>> {
    let record = graph.as_record(value)?;
    let g = graph.as_global(record.callable)?;
    Some(if util::is_reconstruct(g) || util::is_frombuffer(g) {
        NdArray::from_graph(graph, value).map(Numpy::Array)
    } else if util::is_mareconstruct(g) {
        MaskedArray::from_graph(graph, value).map(Numpy::Masked)
    } else if util::is_scalar(g) {
        Scalar::from_graph(graph, value).map(Numpy::Scalar)
    } else if util::is_numpy_dtype(g) {
        Dtype::from_graph(graph, value).map(Numpy::Dtype)
    } else {
        return None;
    })
}

impl<'g> FromPickle<'g> for NdArray {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        NdArray::from_graph(graph, value)
    }
}

impl<'g> FromPickle<'g> for MaskedArray {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        MaskedArray::from_graph(graph, value)
    }
}

impl<'g> FromPickle<'g> for Scalar {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Scalar::from_graph(graph, value)
    }
}

impl<'g> FromPickle<'g> for Dtype {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Dtype::from_graph(graph, value)
    }
}

impl<'g> FromPickle<'g> for Numpy {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        recognize(graph, value).unwrap_or_else(|| Err(ConvertError::new(dtype::found("a numpy object", graph, value))))
    }
}
