//! `numpy.ndarray` (and masked arrays) read from their records.

use super::dtype::{found, shape_of, ByteOrder, Dtype, Kind, TimeUnit};
use super::scalar::Scalar;
use super::util::{err, int_arg, is_frombuffer, is_mareconstruct, is_reconstruct, raw_bytes, text_arg};
use super::{MAX_DIMS, MAX_EMPTY_ITEMS};
use crate::classes::ConvertError;
use crate::graph::{Global, Graph, Object, Value};
use half::f16;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use num_complex::Complex;

/// The items of an array, by dtype: numbers in native byte order whatever
/// order the pickle had, laid out in memory as the pickle had them (C or
/// Fortran order; indexing gives the same logical elements either way).
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayData {
    Bool(ArrayD<bool>),
    I8(ArrayD<i8>),
    I16(ArrayD<i16>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    U8(ArrayD<u8>),
    U16(ArrayD<u16>),
    U32(ArrayD<u32>),
    U64(ArrayD<u64>),
    F16(ArrayD<f16>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    C64(ArrayD<Complex<f32>>),
    C128(ArrayD<Complex<f64>>),
    /// datetime64: counts of `unit` since 1970-01-01T00:00; NaT is `i64::MIN`.
    DateTime64(ArrayD<i64>, TimeUnit),
    /// timedelta64: counts of `unit`; NaT is `i64::MIN`.
    TimeDelta64(ArrayD<i64>, TimeUnit),
    /// `S`: each item's bytes, trailing NULs stripped (as numpy's `bytes_` items are).
    Bytes(ArrayD<Vec<u8>>),
    /// `U`: each item's text, trailing NULs stripped (as numpy's `str_` items are).
    Str(ArrayD<String>),
    /// `V` without fields: each item's raw bytes.
    Void(ArrayD<Vec<u8>>),
    /// `V` with fields: records, decoded on access.
    Structured(StructuredArray),
    /// `O`: the graph's values.
    Object(ArrayD<Value>),
}

macro_rules! each {
    ($data:expr, $a:ident => $e:expr, $s:ident => $se:expr) => {
        match $data {
            ArrayData::Bool($a) => $e,
            ArrayData::I8($a) => $e,
            ArrayData::I16($a) => $e,
            ArrayData::I32($a) => $e,
            ArrayData::I64($a) => $e,
            ArrayData::U8($a) => $e,
            ArrayData::U16($a) => $e,
            ArrayData::U32($a) => $e,
            ArrayData::U64($a) => $e,
            ArrayData::F16($a) => $e,
            ArrayData::F32($a) => $e,
            ArrayData::F64($a) => $e,
            ArrayData::C64($a) => $e,
            ArrayData::C128($a) => $e,
            ArrayData::DateTime64($a, _) => $e,
            ArrayData::TimeDelta64($a, _) => $e,
            ArrayData::Bytes($a) => $e,
            ArrayData::Str($a) => $e,
            ArrayData::Void($a) => $e,
            ArrayData::Object($a) => $e,
            ArrayData::Structured($s) => $se,
        }
    };
}

impl ArrayData {
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape(), s => &s.shape)
    }
    /// The number of items.
    pub fn len(&self) -> usize {
        each!(self, a => a.len(), s => s.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The item at a multi-index, as a scalar (`None` out of bounds).
    pub fn get(&self, index: &[usize]) -> Option<Scalar> {
        let ix = IxDyn(index);
        Some(match self {
            ArrayData::Bool(a) => Scalar::Bool(*a.get(ix)?),
            ArrayData::I8(a) => Scalar::I8(*a.get(ix)?),
            ArrayData::I16(a) => Scalar::I16(*a.get(ix)?),
            ArrayData::I32(a) => Scalar::I32(*a.get(ix)?),
            ArrayData::I64(a) => Scalar::I64(*a.get(ix)?),
            ArrayData::U8(a) => Scalar::U8(*a.get(ix)?),
            ArrayData::U16(a) => Scalar::U16(*a.get(ix)?),
            ArrayData::U32(a) => Scalar::U32(*a.get(ix)?),
            ArrayData::U64(a) => Scalar::U64(*a.get(ix)?),
            ArrayData::F16(a) => Scalar::F16(*a.get(ix)?),
            ArrayData::F32(a) => Scalar::F32(*a.get(ix)?),
            ArrayData::F64(a) => Scalar::F64(*a.get(ix)?),
            ArrayData::C64(a) => Scalar::C64(*a.get(ix)?),
            ArrayData::C128(a) => Scalar::C128(*a.get(ix)?),
            ArrayData::DateTime64(a, u) => Scalar::DateTime64(*a.get(ix)?, *u),
            ArrayData::TimeDelta64(a, u) => Scalar::TimeDelta64(*a.get(ix)?, *u),
            ArrayData::Bytes(a) => Scalar::Bytes(a.get(ix)?.clone()),
            ArrayData::Str(a) => Scalar::Str(a.get(ix)?.clone()),
            ArrayData::Void(a) => Scalar::Void(a.get(ix)?.clone()),
            ArrayData::Object(a) => Scalar::Object(*a.get(ix)?),
            ArrayData::Structured(s) => {
                let flat = flat_index(index, &s.shape)?;
                Scalar::Struct(s.record(flat).ok()?)
            }
        })
    }
    /// The items in logical C order (`arr.ravel(order='C')`), as scalars.
    pub fn scalars(&self) -> Vec<Scalar> {
        let n = self.len();
        let shape = self.shape().to_vec();
        let mut out = Vec::with_capacity(n);
        let mut idx = vec![0usize; shape.len()];
        for _ in 0..n {
            if let Some(s) = self.get(&idx) {
                out.push(s);
            }
            for d in (0..shape.len()).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        out
    }
}

fn flat_index(index: &[usize], shape: &[usize]) -> Option<usize> {
    if index.len() != shape.len() {
        return None;
    }
    let mut flat = 0usize;
    for (&i, &n) in index.iter().zip(shape) {
        if i >= n {
            return None;
        }
        flat = flat * n + i;
    }
    Some(flat)
}

/// An array of records (a structured dtype): the raw items in logical C
/// order, decoded field by field on access.
#[derive(Clone, Debug, PartialEq)]
pub struct StructuredArray {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl StructuredArray {
    pub fn dtype(&self) -> &Dtype {
        &self.dtype
    }
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The raw items, in logical C order, in the dtype's byte order.
    pub fn raw(&self) -> &[u8] {
        &self.data
    }
    fn item(&self, flat: usize) -> Option<&[u8]> {
        let s = self.dtype.itemsize;
        let start = flat.checked_mul(s)?;
        self.data.get(start..start.checked_add(s)?)
    }
    /// Item `flat` (in C order) as its fields: `[(name, value)]`.
    pub fn record(&self, flat: usize) -> Result<Vec<(String, Scalar)>, ConvertError> {
        if flat >= self.len() {
            return Err(err(format!("record {flat} of {}", self.len())));
        }
        let bytes = self.item(flat).unwrap_or(&[]);
        match Scalar::from_item(&self.dtype, bytes)? {
            Scalar::Struct(fields) => Ok(fields),
            _ => Err(err("not a record")),
        }
    }
    /// Every record, in C order.
    pub fn records(&self) -> impl Iterator<Item = Result<Vec<(String, Scalar)>, ConvertError>> + '_ {
        (0..self.len()).map(|i| self.record(i))
    }
    /// One field of every record, as an array of the record array's shape
    /// (plus the field's subarray shape): numpy's `arr['name']`.
    pub fn field(&self, name: &str) -> Result<NdArray, ConvertError> {
        let fields = self.dtype.fields.as_deref().unwrap_or(&[]);
        let f = fields.iter().find(|f| f.name == name || f.title.as_deref() == Some(name));
        let f = f.ok_or_else(|| err(format!("no field {name:?}")))?;
        let size = f.dtype.itemsize;
        let mut data = Vec::with_capacity(self.len().saturating_mul(size).min(self.data.len()));
        for i in 0..self.len() {
            let item = self.item(i).unwrap_or(&[]);
            data.extend_from_slice(item.get(f.offset..f.offset + size).unwrap_or(&[]));
        }
        NdArray::from_raw(f.dtype.clone(), self.shape.clone(), false, &data).map_err(|e| e.at(format!(".{name}")))
    }
}

/// A numpy array: what `pickle.loads` gives for `numpy.ndarray` (and its
/// subclasses: `numpy.matrix`, `numpy.memmap`... named by `class`).
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray {
    /// The dtype as pickled (its byte order is the pickle's; the items in
    /// `data` are native whatever it says). A subarray dtype at the top is
    /// expanded as numpy does: its shape joins the array's.
    pub dtype: Dtype,
    pub data: ArrayData,
    /// The pickle held Fortran-order data (`is_fortran`, or order `'F'`).
    pub fortran: bool,
    /// The class: `numpy.ndarray`, or the subclass the pickle named.
    pub class: Global,
}

impl NdArray {
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// The item at a multi-index, as a scalar.
    pub fn get(&self, index: &[usize]) -> Option<Scalar> {
        self.data.get(index)
    }

    /// Reads an array record: `_reconstruct(cls, (0,), b'b')` with its
    /// BUILD state `(version, shape, dtype, is_fortran, rawdata)`, or
    /// protocol 5's `_frombuffer(buffer, dtype, shape, order)`, under the
    /// numpy 1 (`numpy.core`) or numpy 2 (`numpy._core`) names.
    pub fn from_graph(graph: &Graph<'_>, value: Value) -> Result<NdArray, ConvertError> {
        let record = graph.as_record(value).ok_or_else(|| err(found("a numpy array", graph, value)))?;
        let callable = graph.as_global(record.callable);
        let args = graph.as_tuple(record.args).unwrap_or(&[]);
        match callable {
            Some(g) if is_reconstruct(g) => {
                let class = args
                    .first()
                    .and_then(|&c| graph.as_global(c))
                    .cloned()
                    .ok_or_else(|| err("_reconstruct: the class is not a global"))?;
                let state = record.state.ok_or_else(|| err("_reconstruct without a BUILD state"))?;
                let mut a = from_state(graph, state, 0).map(|(a, _)| a)?;
                a.class = class;
                Ok(a)
            }
            Some(g) if is_frombuffer(g) => from_frombuffer(graph, args),
            Some(g) if is_mareconstruct(g) => {
                Err(err("a numpy.ma masked array: read it as MaskedArray (or take its .data)"))
            }
            _ => Err(err(found("a numpy array", graph, value))),
        }
    }

    /// An array from raw item bytes (in `dtype`'s byte order, C or Fortran order).
    pub fn from_raw(dtype: Dtype, shape: Vec<usize>, fortran: bool, data: &[u8]) -> Result<NdArray, ConvertError> {
        let (dtype, shape) = expand_subarray(dtype, shape)?;
        let data = decode(&dtype, &shape, fortran, data)?;
        Ok(NdArray { dtype, data, fortran, class: ndarray_class() })
    }
}

pub(crate) fn ndarray_class() -> Global {
    Global::new("numpy", "ndarray")
}

/// A numpy masked array (`numpy.ma.MaskedArray`).
#[derive(Clone, Debug, PartialEq)]
pub struct MaskedArray {
    pub data: NdArray,
    /// True where the value is masked (invalid); the shape of `data`.
    pub mask: ArrayD<bool>,
    /// The fill value, as the pickle gave it (`None`, or a number or a numpy scalar).
    pub fill_value: Value,
}

impl MaskedArray {
    /// Reads `numpy.ma.core._mareconstruct(subtype, baseclass, baseshape,
    /// basetype)` with its state `(version, shape, dtype, is_fortran,
    /// data, mask, fill_value)`. Masks of structured arrays (records of
    /// bools) are not read.
    pub fn from_graph(graph: &Graph<'_>, value: Value) -> Result<MaskedArray, ConvertError> {
        let record = graph.as_record(value).ok_or_else(|| err(found("a masked array", graph, value)))?;
        if !graph.as_global(record.callable).is_some_and(is_mareconstruct) {
            return Err(err(found("a masked array", graph, value)));
        }
        let args = graph.as_tuple(record.args).unwrap_or(&[]);
        let class = args.first().and_then(|&c| graph.as_global(c)).cloned();
        let class = class.ok_or_else(|| err("_mareconstruct: the class is not a global"))?;
        let state = record.state.ok_or_else(|| err("_mareconstruct without a BUILD state"))?;
        let (mut data, rest) = from_state(graph, state, 2)?;
        data.class = class;
        let [mask, fill_value] = rest[..] else { return Err(err("masked array state: expected 7 items")) };
        if data.dtype.is_structured() {
            return Err(err("masked arrays of records are not supported"));
        }
        let mask = match graph.object(mask) {
            // The mask of an object array is still bools, pickled as bytes.
            Some(Object::Bytes(_) | Object::ByteArray(_) | Object::Str(_)) => {
                let bytes = raw_bytes(graph, mask).map_err(|e| e.at(".mask"))?;
                let shape = data.shape().to_vec();
                match decode(&Dtype::simple(Kind::Bool, 1), &shape, data.fortran, &bytes).map_err(|e| e.at(".mask"))? {
                    ArrayData::Bool(m) => m,
                    _ => return Err(err("mask is not bools")),
                }
            }
            _ => return Err(err(found("the mask's bytes", graph, mask)).at(".mask")),
        };
        Ok(MaskedArray { data, mask, fill_value })
    }
}

/// The ndarray state `(version, shape, dtype, is_fortran, rawdata, ...)`
/// (or without the version), with `extra` items after rawdata: the array and those items.
fn from_state(graph: &Graph<'_>, state: Value, extra: usize) -> Result<(NdArray, Vec<Value>), ConvertError> {
    let st = graph.as_tuple(state).ok_or_else(|| err(found("an array state tuple", graph, state)))?;
    // Version 1 states start with the version; the oldest ones with the shape.
    let st = if st.len() == 5 + extra {
        &st[1..]
    } else if st.len() == 4 + extra {
        st
    } else {
        return Err(err(format!("array state has {} items", st.len())));
    };
    let shape = shape_of(graph, st[0]).map_err(|e| e.at(".shape"))?;
    let dtype = Dtype::from_graph(graph, st[1]).map_err(|e| e.at(".dtype"))?;
    let fortran = match st[2] {
        Value::Bool(b) => b,
        v => int_arg(graph, v).ok_or_else(|| err("array state: is_fortran is not a bool"))? != 0,
    };
    let array = from_parts(graph, dtype, shape, fortran, st[3])?;
    Ok((array, st[4..].to_vec()))
}

fn from_parts(
    graph: &Graph<'_>,
    dtype: Dtype,
    shape: Vec<usize>,
    fortran: bool,
    raw: Value,
) -> Result<NdArray, ConvertError> {
    let (dtype, shape) = expand_subarray(dtype, shape)?;
    if dtype.has_object() {
        if dtype.kind != Kind::Object {
            return Err(err("arrays of records with object fields are not supported"));
        }
        let Some(Object::List(items)) = graph.object(raw) else {
            return Err(err(found("a list of the object array's items", graph, raw)));
        };
        let count = count(&shape)?;
        if items.len() != count {
            return Err(err(format!("object array of shape {shape:?} with {} items", items.len())));
        }
        // Object items are pickled in C order whatever the layout.
        let a = ArrayD::from_shape_vec(IxDyn(&shape), items.clone()).map_err(|e| err(e.to_string()))?;
        return Ok(NdArray { dtype, data: ArrayData::Object(a), fortran, class: ndarray_class() });
    }
    let bytes = raw_bytes(graph, raw).map_err(|e| e.at(".data"))?;
    let data = decode(&dtype, &shape, fortran, &bytes)?;
    Ok(NdArray { dtype, data, fortran, class: ndarray_class() })
}

fn from_frombuffer(graph: &Graph<'_>, args: &[Value]) -> Result<NdArray, ConvertError> {
    let [buf, dtype, shape, order] = args[..] else {
        return Err(err(format!("_frombuffer takes (buffer, dtype, shape, order), got {} arguments", args.len())));
    };
    let dtype = Dtype::from_graph(graph, dtype).map_err(|e| e.at(".dtype"))?;
    let shape = shape_of(graph, shape).map_err(|e| e.at(".shape"))?;
    let fortran = match text_arg(graph, order).as_deref() {
        Some("C") | Some("A") | Some("K") => false,
        Some("F") => true,
        _ => return Err(err("_frombuffer: order is not 'C' or 'F'")),
    };
    if dtype.has_object() {
        return Err(err("_frombuffer of an object dtype"));
    }
    if dtype.itemsize == 0 {
        return Err(err("_frombuffer: itemsize cannot be zero"));
    }
    let bytes = raw_bytes(graph, buf).map_err(|e| e.at(".buffer"))?;
    if bytes.len() % dtype.itemsize != 0 {
        return Err(err(format!(
            "_frombuffer: {} bytes is not a multiple of the item size {}",
            bytes.len(),
            dtype.itemsize
        )));
    }
    let (dtype, shape) = expand_subarray(dtype, shape)?;
    let data = decode(&dtype, &shape, fortran, &bytes)?;
    Ok(NdArray { dtype, data, fortran, class: ndarray_class() })
}

/// numpy turns an array of a subarray dtype into a bigger array of its base.
fn expand_subarray(mut dtype: Dtype, mut shape: Vec<usize>) -> Result<(Dtype, Vec<usize>), ConvertError> {
    while let Some(sub) = dtype.subarray.take() {
        shape.extend_from_slice(&sub.shape);
        dtype = sub.base;
    }
    if shape.len() > MAX_DIMS {
        return Err(err(format!("array of {} dimensions, more than {MAX_DIMS}", shape.len())));
    }
    Ok((dtype, shape))
}

/// The number of items of a shape, checked as numpy checks it: the
/// product of the non-zero dimensions must fit in an `isize`.
pub(crate) fn count(shape: &[usize]) -> Result<usize, ConvertError> {
    let mut nonzero = 1usize;
    let mut zero = false;
    for &d in shape {
        if d == 0 {
            zero = true;
        } else {
            nonzero = nonzero
                .checked_mul(d)
                .filter(|&n| n <= isize::MAX as usize)
                .ok_or_else(|| err(format!("shape {shape:?} is too large")))?;
        }
    }
    Ok(if zero { 0 } else { nonzero })
}

fn shaped<T>(shape: &[usize], fortran: bool, items: Vec<T>) -> Result<ArrayD<T>, ConvertError> {
    let r = if fortran {
        ArrayD::from_shape_vec(IxDyn(shape).f(), items)
    } else {
        ArrayD::from_shape_vec(IxDyn(shape), items)
    };
    r.map_err(|e| err(format!("shape {shape:?}: {e}")))
}

fn fixed<T, const N: usize>(data: &[u8], big: bool, le: fn([u8; N]) -> T, be: fn([u8; N]) -> T) -> Vec<T> {
    data.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            if big {
                be(a)
            } else {
                le(a)
            }
        })
        .collect()
}

fn complexes<F: Copy, const N: usize>(
    data: &[u8],
    big: bool,
    le: fn([u8; N]) -> F,
    be: fn([u8; N]) -> F,
) -> Vec<Complex<F>> {
    let parts = fixed(data, big, le, be);
    parts.chunks_exact(2).map(|p| Complex::new(p[0], p[1])).collect()
}

/// Decodes raw items (in `dtype`'s byte order; `fortran` for Fortran
/// memory order) into an array of `shape`. Checks the data length against
/// the shape before allocating anything.
pub(crate) fn decode(dtype: &Dtype, shape: &[usize], fortran: bool, data: &[u8]) -> Result<ArrayData, ConvertError> {
    if shape.len() > MAX_DIMS {
        return Err(err(format!("array of {} dimensions, more than {MAX_DIMS}", shape.len())));
    }
    let n = count(shape)?;
    let size = dtype.itemsize;
    let want = n.checked_mul(size).ok_or_else(|| err(format!("shape {shape:?} is too large")))?;
    if data.len() != want {
        return Err(err(format!("array data has {} bytes; shape {shape:?} of {dtype} needs {want}", data.len())));
    }
    if size == 0 && n > MAX_EMPTY_ITEMS {
        return Err(err(format!("{n} items of size 0 (at most {MAX_EMPTY_ITEMS})")));
    }
    let big = dtype.byte_order == ByteOrder::Big;
    let unsupported = || err(format!("arrays of {} ({dtype}) are not supported", dtype.name()));
    Ok(match dtype.kind {
        Kind::Bool => ArrayData::Bool(shaped(shape, fortran, data.iter().map(|&b| b != 0).collect())?),
        Kind::Int => match size {
            1 => ArrayData::I8(shaped(shape, fortran, data.iter().map(|&b| b as i8).collect())?),
            2 => ArrayData::I16(shaped(shape, fortran, fixed(data, big, i16::from_le_bytes, i16::from_be_bytes))?),
            4 => ArrayData::I32(shaped(shape, fortran, fixed(data, big, i32::from_le_bytes, i32::from_be_bytes))?),
            8 => ArrayData::I64(shaped(shape, fortran, fixed(data, big, i64::from_le_bytes, i64::from_be_bytes))?),
            _ => return Err(unsupported()),
        },
        Kind::UInt => match size {
            1 => ArrayData::U8(shaped(shape, fortran, data.to_vec())?),
            2 => ArrayData::U16(shaped(shape, fortran, fixed(data, big, u16::from_le_bytes, u16::from_be_bytes))?),
            4 => ArrayData::U32(shaped(shape, fortran, fixed(data, big, u32::from_le_bytes, u32::from_be_bytes))?),
            8 => ArrayData::U64(shaped(shape, fortran, fixed(data, big, u64::from_le_bytes, u64::from_be_bytes))?),
            _ => return Err(unsupported()),
        },
        Kind::Float => match size {
            2 => ArrayData::F16(shaped(shape, fortran, fixed(data, big, f16::from_le_bytes, f16::from_be_bytes))?),
            4 => ArrayData::F32(shaped(shape, fortran, fixed(data, big, f32::from_le_bytes, f32::from_be_bytes))?),
            8 => ArrayData::F64(shaped(shape, fortran, fixed(data, big, f64::from_le_bytes, f64::from_be_bytes))?),
            _ => return Err(unsupported()),
        },
        Kind::Complex => match size {
            8 => ArrayData::C64(shaped(shape, fortran, complexes(data, big, f32::from_le_bytes, f32::from_be_bytes))?),
            16 => {
                ArrayData::C128(shaped(shape, fortran, complexes(data, big, f64::from_le_bytes, f64::from_be_bytes))?)
            }
            _ => return Err(unsupported()),
        },
        Kind::DateTime | Kind::TimeDelta => {
            let unit = dtype.time_unit.unwrap_or(TimeUnit::GENERIC);
            let a = shaped(shape, fortran, fixed(data, big, i64::from_le_bytes, i64::from_be_bytes))?;
            if dtype.kind == Kind::DateTime {
                ArrayData::DateTime64(a, unit)
            } else {
                ArrayData::TimeDelta64(a, unit)
            }
        }
        Kind::Bytes => ArrayData::Bytes(shaped(shape, fortran, items(data, size, n, |b| Ok(strip_nuls(b).to_vec()))?)?),
        Kind::Unicode => {
            if size % 4 != 0 {
                return Err(unsupported());
            }
            ArrayData::Str(shaped(shape, fortran, items(data, size, n, |b| ucs4(b, big))?)?)
        }
        Kind::Void if dtype.fields.is_some() => {
            let data = if fortran && n > 1 && size > 0 { c_order(data, size, shape)? } else { data.to_vec() };
            ArrayData::Structured(StructuredArray { dtype: dtype.clone(), shape: shape.to_vec(), data })
        }
        Kind::Void => ArrayData::Void(shaped(shape, fortran, items(data, size, n, |b| Ok(b.to_vec()))?)?),
        Kind::Object => return Err(err("object arrays hold a list of items, not raw data")),
    })
}

/// `n` items of `size` bytes each (size 0 gives `n` empty items).
fn items<T>(
    data: &[u8],
    size: usize,
    n: usize,
    f: impl Fn(&[u8]) -> Result<T, ConvertError>,
) -> Result<Vec<T>, ConvertError> {
    if size == 0 {
        return (0..n).map(|_| f(&[])).collect();
    }
    data.chunks_exact(size).map(f).collect()
}

fn strip_nuls(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
    &b[..end]
}

/// UCS-4 text, trailing NULs stripped. Code points that are not Unicode
/// scalar values (lone surrogates, values past U+10FFFF) are an error.
pub(crate) fn ucs4(b: &[u8], big: bool) -> Result<String, ConvertError> {
    let units = fixed(b, big, u32::from_le_bytes, u32::from_be_bytes);
    let end = units.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
    units[..end]
        .iter()
        .map(|&c| char::from_u32(c).ok_or_else(|| err(format!("str item holds U+{c:04X}, not a Unicode scalar value"))))
        .collect()
}

/// Items of a Fortran-order buffer rearranged into C order.
fn c_order(data: &[u8], size: usize, shape: &[usize]) -> Result<Vec<u8>, ConvertError> {
    let n = count(shape)?;
    let positions = shaped(shape, true, (0..n).collect::<Vec<usize>>())?;
    let mut out = Vec::with_capacity(data.len());
    for &p in positions.iter() {
        out.extend_from_slice(&data[p * size..(p + 1) * size]);
    }
    Ok(out)
}
