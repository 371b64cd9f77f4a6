//! numpy scalars (`numpy.float64(1.5)`...) and the items of arrays.

use super::array::{decode, NdArray};
use super::dtype::{found, Dtype, Kind, TimeUnit};
use super::util::{err, is_scalar, raw_bytes};
use crate::classes::ConvertError;
use crate::graph::{Graph, Value};
use half::f16;
use num_complex::Complex;

/// One numpy value: a numpy scalar (`np.float64(1.5)`), or one item of an
/// array.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F16(f16),
    F32(f32),
    F64(f64),
    C64(Complex<f32>),
    C128(Complex<f64>),
    /// `np.datetime64`: a count of units since the epoch (`i64::MIN` is NaT).
    DateTime64(i64, TimeUnit),
    /// `np.timedelta64`: a count of units (`i64::MIN` is NaT).
    TimeDelta64(i64, TimeUnit),
    /// `np.bytes_`, trailing NULs stripped.
    Bytes(Vec<u8>),
    /// `np.str_`, trailing NULs stripped.
    Str(String),
    /// `np.void` without fields: raw bytes.
    Void(Vec<u8>),
    /// A record (`np.void` with fields): each field by name, in order.
    Struct(Vec<(String, Scalar)>),
    /// A field of a subarray dtype: an array.
    Array(Box<NdArray>),
    /// An item of an object array (or `scalar(dtype('O'), obj)`): the graph's value.
    Object(Value),
}

impl Scalar {
    /// Reads `numpy.core.multiarray.scalar(dtype, data)` (or numpy 2's
    /// `numpy._core.multiarray.scalar`).
    pub fn from_graph(graph: &Graph<'_>, value: Value) -> Result<Scalar, ConvertError> {
        let record = graph.as_record(value).ok_or_else(|| err(found("a numpy scalar", graph, value)))?;
        if !graph.as_global(record.callable).is_some_and(is_scalar) {
            return Err(err(found("a numpy scalar", graph, value)));
        }
        let args = graph.as_tuple(record.args).unwrap_or(&[]);
        let dtype = args.first().ok_or_else(|| err("numpy scalar() without a dtype"))?;
        let dtype = Dtype::from_graph(graph, *dtype).map_err(|e| e.at(".dtype"))?;
        let data = args.get(1).copied();
        if dtype.kind == Kind::Object {
            return Ok(Scalar::Object(data.unwrap_or(Value::None)));
        }
        if dtype.has_object() {
            return Err(err("numpy scalars of records with object fields are not supported"));
        }
        let data = data.ok_or_else(|| err("numpy scalar() without data"))?;
        let bytes = raw_bytes(graph, data).map_err(|e| e.at(".data"))?;
        Scalar::from_item(&dtype, &bytes)
    }

    /// One item of `dtype` from its raw bytes (in the dtype's byte order).
    pub fn from_item(dtype: &Dtype, bytes: &[u8]) -> Result<Scalar, ConvertError> {
        if bytes.len() != dtype.itemsize {
            return Err(err(format!("{} bytes for an item of {dtype} ({} bytes)", bytes.len(), dtype.itemsize)));
        }
        if let Some(sub) = &dtype.subarray {
            let a = NdArray::from_raw(sub.base.clone(), sub.shape.clone(), false, bytes)?;
            return Ok(Scalar::Array(Box::new(a)));
        }
        if let (Kind::Void, Some(fields)) = (dtype.kind, &dtype.fields) {
            let mut out = Vec::with_capacity(fields.len());
            for f in fields {
                let b = bytes.get(f.offset..f.offset + f.dtype.itemsize).unwrap_or(&[]);
                out.push((f.name.clone(), Scalar::from_item(&f.dtype, b).map_err(|e| e.at(format!(".{}", f.name)))?));
            }
            return Ok(Scalar::Struct(out));
        }
        if dtype.kind == Kind::Object {
            return Err(err("an object item has no raw bytes"));
        }
        let a = decode(dtype, &[], false, bytes)?;
        a.get(&[]).ok_or_else(|| err("empty item"))
    }

    /// numpy's type name: `float64`, `int8`, `bool`, `str`, `void`...
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Bool(_) => "bool",
            Scalar::I8(_) => "int8",
            Scalar::I16(_) => "int16",
            Scalar::I32(_) => "int32",
            Scalar::I64(_) => "int64",
            Scalar::U8(_) => "uint8",
            Scalar::U16(_) => "uint16",
            Scalar::U32(_) => "uint32",
            Scalar::U64(_) => "uint64",
            Scalar::F16(_) => "float16",
            Scalar::F32(_) => "float32",
            Scalar::F64(_) => "float64",
            Scalar::C64(_) => "complex64",
            Scalar::C128(_) => "complex128",
            Scalar::DateTime64(..) => "datetime64",
            Scalar::TimeDelta64(..) => "timedelta64",
            Scalar::Bytes(_) => "bytes",
            Scalar::Str(_) => "str",
            Scalar::Void(_) | Scalar::Struct(_) => "void",
            Scalar::Array(_) => "ndarray",
            Scalar::Object(_) => "object",
        }
    }

    /// The value as an `i64`, when it is an integer (or bool) that fits.
    pub fn as_i64(&self) -> Option<i64> {
        Some(match *self {
            Scalar::Bool(b) => b as i64,
            Scalar::I8(v) => v.into(),
            Scalar::I16(v) => v.into(),
            Scalar::I32(v) => v.into(),
            Scalar::I64(v) => v,
            Scalar::U8(v) => v.into(),
            Scalar::U16(v) => v.into(),
            Scalar::U32(v) => v.into(),
            Scalar::U64(v) => i64::try_from(v).ok()?,
            _ => return None,
        })
    }
    /// The value as a `u64`, when it is a non-negative integer (or bool).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Scalar::U64(v) => Some(v),
            _ => self.as_i64().and_then(|v| u64::try_from(v).ok()),
        }
    }
    /// The value as an `f64`, when it is a float, or an integer an f64 holds exactly.
    pub fn as_f64(&self) -> Option<f64> {
        const EXACT: i64 = 1 << 53;
        Some(match *self {
            Scalar::F16(v) => v.to_f64(),
            Scalar::F32(v) => v.into(),
            Scalar::F64(v) => v,
            _ => match self.as_i64() {
                Some(i) if (-EXACT..=EXACT).contains(&i) => i as f64,
                _ => match self.as_u64() {
                    Some(u) if u <= EXACT as u64 => u as f64,
                    _ => return None,
                },
            },
        })
    }
    /// The value as a complex number, when it is complex or real.
    pub fn as_complex(&self) -> Option<Complex<f64>> {
        match *self {
            Scalar::C64(c) => Some(Complex::new(c.re.into(), c.im.into())),
            Scalar::C128(c) => Some(c),
            _ => self.as_f64().map(|re| Complex::new(re, 0.0)),
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }
}
