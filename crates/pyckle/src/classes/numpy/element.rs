//! The Rust item types of typed arrays: which dtype each is written as,
//! and which dtypes each reads without loss.

use super::array::{ArrayData, NdArray};
use super::dtype::{Dtype, Kind};
use super::scalar::Scalar;
use super::util::err;
use crate::classes::{ConvertError, FromPickle};
use crate::graph::{Graph, Value};
use half::f16;
use ndarray::{Array, ArrayD, Dimension, IxDyn};
use num_complex::Complex;

/// A Rust type that numpy arrays hold: every integer type, `bool`,
/// `f32`/`f64`, `half::f16`, `Complex<f32>`/`Complex<f64>`, `String`
/// (dtype `U`) and `Vec<u8>` (dtype `S`).
///
/// Reading is exact or lossless: an array of `T` reads from a dtype of
/// `T` itself, or from one every value of which `T` holds exactly
/// (`i64` reads int8..int64 and uint8..uint32; `f64` reads float16,
/// float32 and integers of up to 32 bits; `Complex<f64>` reads complex64).
/// Anything else (float64 into `f32`, int64 into `f64`, uint64 into `i64`,
/// bool into an integer) is an error naming both types.
pub trait Element: Clone + Sized + 'static {
    /// The dtype an array of these items is written with (native byte order).
    fn dtype_for<'a>(items: impl Iterator<Item = &'a Self>) -> Dtype
    where
        Self: 'a;
    /// Appends one item's bytes (native order, `itemsize` bytes).
    fn write(&self, itemsize: usize, out: &mut Vec<u8>);
    /// The array, when its items convert to `Self` without loss; the data back otherwise.
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData>;
    /// The Rust name, for messages.
    fn rust_name() -> &'static str {
        std::any::type_name::<Self>()
    }
}

macro_rules! number {
    ($t:ty, $kind:expr, $own:ident $(, $from:ident => $conv:expr)*) => {
        impl Element for $t {
            fn dtype_for<'a>(_: impl Iterator<Item = &'a Self>) -> Dtype {
                Dtype::simple($kind, std::mem::size_of::<$t>())
            }
            fn write(&self, _: usize, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
            fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
                match data {
                    ArrayData::$own(a) => Ok(a),
                    $(ArrayData::$from(a) => Ok(a.mapv($conv)),)*
                    other => Err(other),
                }
            }
        }
    };
}

number!(i8, Kind::Int, I8);
number!(i16, Kind::Int, I16, I8 => i16::from, U8 => i16::from);
number!(i32, Kind::Int, I32, I16 => i32::from, I8 => i32::from, U16 => i32::from, U8 => i32::from);
number!(i64, Kind::Int, I64, I32 => i64::from, I16 => i64::from, I8 => i64::from, U32 => i64::from,
    U16 => i64::from, U8 => i64::from);
number!(u8, Kind::UInt, U8);
number!(u16, Kind::UInt, U16, U8 => u16::from);
number!(u32, Kind::UInt, U32, U16 => u32::from, U8 => u32::from);
number!(u64, Kind::UInt, U64, U32 => u64::from, U16 => u64::from, U8 => u64::from);
number!(f16, Kind::Float, F16);
number!(f32, Kind::Float, F32, F16 => f32::from, I16 => f32::from, I8 => f32::from, U16 => f32::from,
    U8 => f32::from);
number!(f64, Kind::Float, F64, F32 => f64::from, F16 => f64::from, I32 => f64::from, I16 => f64::from,
    I8 => f64::from, U32 => f64::from, U16 => f64::from, U8 => f64::from);

impl Element for bool {
    fn dtype_for<'a>(_: impl Iterator<Item = &'a Self>) -> Dtype {
        Dtype::simple(Kind::Bool, 1)
    }
    fn write(&self, _: usize, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
        match data {
            ArrayData::Bool(a) => Ok(a),
            other => Err(other),
        }
    }
}

impl Element for Complex<f32> {
    fn dtype_for<'a>(_: impl Iterator<Item = &'a Self>) -> Dtype {
        Dtype::simple(Kind::Complex, 8)
    }
    fn write(&self, _: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.re.to_ne_bytes());
        out.extend_from_slice(&self.im.to_ne_bytes());
    }
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
        match data {
            ArrayData::C64(a) => Ok(a),
            other => Err(other),
        }
    }
}

impl Element for Complex<f64> {
    fn dtype_for<'a>(_: impl Iterator<Item = &'a Self>) -> Dtype {
        Dtype::simple(Kind::Complex, 16)
    }
    fn write(&self, _: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.re.to_ne_bytes());
        out.extend_from_slice(&self.im.to_ne_bytes());
    }
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
        match data {
            ArrayData::C128(a) => Ok(a),
            ArrayData::C64(a) => Ok(a.mapv(|c| Complex::new(c.re.into(), c.im.into()))),
            other => Err(other),
        }
    }
}

impl Element for String {
    /// `U` with room for the longest string (at least one character, as numpy).
    fn dtype_for<'a>(items: impl Iterator<Item = &'a Self>) -> Dtype {
        let chars = items.map(|s| s.chars().count()).max().unwrap_or(0).max(1);
        Dtype::simple(Kind::Unicode, chars.saturating_mul(4))
    }
    fn write(&self, itemsize: usize, out: &mut Vec<u8>) {
        let start = out.len();
        for c in self.chars().take(itemsize / 4) {
            out.extend_from_slice(&(c as u32).to_ne_bytes());
        }
        out.resize(start + itemsize, 0);
    }
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
        match data {
            ArrayData::Str(a) => Ok(a),
            other => Err(other),
        }
    }
}

impl Element for Vec<u8> {
    /// `S` with room for the longest item (at least one byte, as numpy).
    /// Trailing NUL bytes do not survive the trip, as in numpy.
    fn dtype_for<'a>(items: impl Iterator<Item = &'a Self>) -> Dtype {
        let n = items.map(|s| s.len()).max().unwrap_or(0).max(1);
        Dtype::simple(Kind::Bytes, n)
    }
    fn write(&self, itemsize: usize, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self[..self.len().min(itemsize)]);
        out.resize(start + itemsize, 0);
    }
    fn from_data(data: ArrayData) -> Result<ArrayD<Self>, ArrayData> {
        match data {
            ArrayData::Bytes(a) => Ok(a),
            other => Err(other),
        }
    }
}

/// A numpy array read as an `ndarray` array of `T` and dimension `D`
/// (`ArrayD<f64>`, `Array2<i32>`...): see [`Element`] for which dtypes
/// each `T` reads. A masked array, a scalar or a dimension mismatch is an error.
impl<'g, T: Element, D: Dimension> FromPickle<'g> for Array<T, D> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        let a = NdArray::from_graph(graph, value)?;
        typed(a)
    }
}

/// The items of `a` as `T`, with the dimension `D`.
pub fn typed<T: Element, D: Dimension>(a: NdArray) -> Result<Array<T, D>, ConvertError> {
    let dtype = a.dtype.clone();
    let ndim = a.ndim();
    let arr = T::from_data(a.data).map_err(|_| {
        err(format!("a numpy array of {} ({dtype}) does not convert to {} without loss", dtype.name(), T::rust_name()))
    })?;
    arr.into_dimensionality::<D>().map_err(|_| {
        err(format!("a numpy array of {ndim} dimensions does not fit {}", std::any::type_name::<Array<T, D>>()))
    })
}

/// A numpy scalar (`np.float64(1.5)`, `np.int32(7)`...) read exactly as
/// `T`, with [`Element`]'s rules: `Exact::<f64>` reads float16/32/64 and
/// small integers, never a float64 into `f32`.
///
/// (`FromPickle` for `f64` and friends is the plain Python value's; this
/// wrapper is the numpy scalar's.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Exact<T>(pub T);

impl<'g, T: Element> FromPickle<'g> for Exact<T> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        let s = Scalar::from_graph(graph, value)?;
        scalar_as::<T>(s).map(Exact)
    }
}

/// A scalar as `T`, losslessly (see [`Element`]).
pub fn scalar_as<T: Element>(s: Scalar) -> Result<T, ConvertError> {
    let name = s.type_name();
    let data = match s {
        Scalar::Bool(v) => ArrayData::Bool(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::I8(v) => ArrayData::I8(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::I16(v) => ArrayData::I16(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::I32(v) => ArrayData::I32(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::I64(v) => ArrayData::I64(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::U8(v) => ArrayData::U8(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::U16(v) => ArrayData::U16(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::U32(v) => ArrayData::U32(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::U64(v) => ArrayData::U64(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::F16(v) => ArrayData::F16(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::F32(v) => ArrayData::F32(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::F64(v) => ArrayData::F64(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::C64(v) => ArrayData::C64(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::C128(v) => ArrayData::C128(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::Bytes(v) => ArrayData::Bytes(ArrayD::from_elem(IxDyn(&[]), v)),
        Scalar::Str(v) => ArrayData::Str(ArrayD::from_elem(IxDyn(&[]), v)),
        _ => return Err(err(format!("a numpy {name} does not convert to {}", T::rust_name()))),
    };
    let a = T::from_data(data)
        .map_err(|_| err(format!("a numpy {name} does not convert to {} without loss", T::rust_name())))?;
    a.into_iter().next().ok_or_else(|| err("empty scalar"))
}
