//! Writing arrays and dtypes as numpy pickles them.

use super::array::{ArrayData, NdArray};
use super::dtype::{DateUnit, Dtype, Kind};
use super::element::Element;
use super::util::err;
use crate::classes::{ConvertError, ToPickle};
use crate::graph::{Buffer, Graph, Object, Value};
use ndarray::{ArrayBase, ArrayViewD, Data, Dimension};
use std::borrow::Cow;

/// Which pickle form an array is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Form {
    /// What numpy writes: `_frombuffer` when the graph is meant for
    /// protocol 5 (`graph.protocol() >= 5`, see [`Graph::set_protocol`]),
    /// `_reconstruct` otherwise.
    #[default]
    Auto,
    /// `_reconstruct(ndarray, (0,), b'b')` and the BUILD state `(1, shape,
    /// dtype, is_fortran, data)`: loads at every protocol (0 to 5).
    Reconstruct,
    /// `_frombuffer(buffer, dtype, shape, order)` with a protocol-5
    /// `PickleBuffer` ([`Object::Buffer`]): written in-band by
    /// [`dumps`](crate::dumps), out of band through a
    /// [`Pickler`](crate::Pickler) buffer callback. Needs protocol 5.
    FromBuffer,
}

/// Which module names the globals get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Names {
    /// numpy 1's `numpy.core.multiarray` / `numpy.core.numeric`. numpy 1.x
    /// loads them, and numpy 2 too (`_reconstruct` and `scalar` silently;
    /// `numpy.core.numeric._frombuffer` with a DeprecationWarning).
    #[default]
    Numpy1,
    /// numpy 2's `numpy._core.multiarray` / `numpy._core.numeric`. numpy
    /// 1.26 loads `numpy._core.multiarray` but not `numpy._core.numeric`;
    /// older numpy loads neither.
    Numpy2,
}

impl Names {
    fn core(self) -> &'static str {
        match self {
            Names::Numpy1 => "numpy.core",
            Names::Numpy2 => "numpy._core",
        }
    }
}

/// How arrays are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WriteOptions {
    pub form: Form,
    pub names: Names,
}

/// `numpy.dtype(str, False, True)` with its BUILD state, as numpy pickles a dtype.
pub fn write_dtype(graph: &mut Graph<'static>, dtype: &Dtype) -> Result<Value, ConvertError> {
    write_dtype_at(graph, dtype, 0)
}

fn flags(d: &Dtype) -> i64 {
    match d.kind {
        Kind::Object => 63,
        Kind::Unicode => 8,
        Kind::Void if d.fields.is_some() => {
            let inner = d.fields.iter().flatten().fold(0, |acc, f| acc | flags(&f.dtype));
            inner | 16 | if d.aligned { 128 } else { 0 }
        }
        _ => d.subarray.as_ref().map_or(0, |s| flags(&s.base)),
    }
}

fn alignment(d: &Dtype) -> usize {
    if let Some(s) = &d.subarray {
        return alignment(&s.base);
    }
    match d.kind {
        Kind::Unicode => 4,
        Kind::Void if d.aligned => d.fields.iter().flatten().map(|f| alignment(&f.dtype)).max().unwrap_or(1),
        Kind::Void | Kind::Bytes => 1,
        Kind::Complex => (d.itemsize / 2).clamp(1, 8),
        _ => d.itemsize.clamp(1, 8),
    }
}

fn write_dtype_at(graph: &mut Graph<'static>, d: &Dtype, depth: usize) -> Result<Value, ConvertError> {
    if depth > super::dtype::MAX_DTYPE_DEPTH {
        return Err(err("dtype nested too deep"));
    }
    let class = graph.global("numpy", "dtype");
    let spec = graph.str(d.reduce_str());
    let rec = graph.reduce(class, [spec, Value::Bool(false), Value::Bool(true)]);
    let order = graph.str(d.byte_order.as_char().to_string());
    let subarray = match &d.subarray {
        Some(s) => {
            let base = write_dtype_at(graph, &s.base, depth + 1)?;
            let shape = int_tuple(graph, &s.shape);
            graph.tuple([base, shape])
        }
        None => Value::None,
    };
    let (names, fields) = match &d.fields {
        Some(fs) => {
            let mut names = Vec::with_capacity(fs.len());
            let mut entries = Vec::with_capacity(fs.len());
            for f in fs {
                let name = graph.str(f.name.clone());
                let fd = write_dtype_at(graph, &f.dtype, depth + 1)?;
                let off = int(graph, f.offset);
                let entry = match &f.title {
                    Some(t) => {
                        let title = graph.str(t.clone());
                        let e = graph.tuple([fd, off, title]);
                        entries.push((title, e));
                        e
                    }
                    None => graph.tuple([fd, off]),
                };
                names.push(name);
                entries.push((name, entry));
            }
            let names = graph.tuple(names);
            let fields = graph.dict(entries).map_err(|e| err(e.to_string()))?;
            (names, fields)
        }
        None => (Value::None, Value::None),
    };
    let flexible = matches!(d.kind, Kind::Bytes | Kind::Unicode | Kind::Void);
    let (elsize, align) =
        if flexible { (int(graph, d.itemsize), int(graph, alignment(d))) } else { (Value::Int(-1), Value::Int(-1)) };
    // numpy 1.x keeps the flags in a signed char and writes 144 as -112;
    // numpy 2 reads both.
    let flags = Value::Int((flags(d) as u8 as i8).into());
    let mut state = vec![Value::Int(3), order, subarray, names, fields, elsize, align, flags];
    if let (Kind::DateTime | Kind::TimeDelta, Some(u)) = (d.kind, d.time_unit) {
        state[0] = Value::Int(4);
        let unit = graph.bytes(u.unit.as_str().as_bytes().to_vec());
        let count = if u.unit == DateUnit::Generic { 1 } else { u.count };
        let info = graph.tuple([unit, Value::Int(count.into()), Value::Int(1), Value::Int(1)]);
        // numpy 1.x writes an empty metadata dict here (numpy 2 writes None).
        let metadata = graph.dict([]).map_err(|e| err(e.to_string()))?;
        state.push(graph.tuple([metadata, info]));
    }
    let state = graph.tuple(state);
    graph.set_state(rec, state).map_err(|e| err(e.to_string()))?;
    Ok(rec)
}

fn int(graph: &mut Graph<'static>, n: usize) -> Value {
    match i64::try_from(n) {
        Ok(i) => Value::Int(i),
        Err(_) => graph.int(n as u64),
    }
}

fn int_tuple(graph: &mut Graph<'static>, items: &[usize]) -> Value {
    let items: Vec<Value> = items.iter().map(|&n| int(graph, n)).collect();
    graph.tuple(items)
}

/// Writes an array of `dtype` from its raw items (in the dtype's byte
/// order; Fortran memory order when `fortran`).
pub fn write_raw(
    graph: &mut Graph<'static>,
    dtype: &Dtype,
    shape: &[usize],
    fortran: bool,
    data: Vec<u8>,
    options: &WriteOptions,
) -> Result<Value, ConvertError> {
    let core = options.names.core();
    let frombuffer = match options.form {
        Form::Auto => graph.protocol() >= 5 && dtype.itemsize > 0,
        Form::Reconstruct => false,
        Form::FromBuffer => true,
    };
    let dt = write_dtype(graph, dtype)?;
    let shape_v = int_tuple(graph, shape);
    if frombuffer {
        let index = graph.objects().filter(|(_, o)| matches!(o, Object::Buffer(_))).count();
        let buf = graph.add(Object::Buffer(Box::new(Buffer { index, readonly: false, data: Cow::Owned(data) })));
        let f = graph.global(&format!("{core}.numeric"), "_frombuffer");
        let order = graph.str(if fortran { "F" } else { "C" });
        return Ok(graph.reduce(f, [buf, dt, shape_v, order]));
    }
    let f = graph.global(&format!("{core}.multiarray"), "_reconstruct");
    let cls = graph.global("numpy", "ndarray");
    let zero = graph.tuple([Value::Int(0)]);
    let b = graph.bytes(b"b".to_vec());
    let rec = graph.reduce(f, [cls, zero, b]);
    let raw = graph.bytes(data);
    let state = graph.tuple([Value::Int(1), shape_v, dt, Value::Bool(fortran), raw]);
    graph.set_state(rec, state).map_err(|e| err(e.to_string()))?;
    Ok(rec)
}

/// Writes an `ndarray` array as a numpy array with `options`.
pub fn write_array<T: Element>(
    graph: &mut Graph<'static>,
    a: ArrayViewD<'_, T>,
    options: &WriteOptions,
) -> Result<Value, ConvertError> {
    let shape = a.shape().to_vec();
    let (dtype, fortran, data) = raw_of(a);
    write_raw(graph, &dtype, &shape, fortran, data, options)
}

/// Writes an [`NdArray`] (any dtype but object, whose items belong to
/// another graph) as a plain `numpy.ndarray`, in native byte order.
pub fn write_ndarray(graph: &mut Graph<'static>, a: &NdArray, options: &WriteOptions) -> Result<Value, ConvertError> {
    let shape = a.shape().to_vec();
    let (dtype, fortran, data) = match &a.data {
        ArrayData::Bool(x) => raw_of(x.view()),
        ArrayData::I8(x) => raw_of(x.view()),
        ArrayData::I16(x) => raw_of(x.view()),
        ArrayData::I32(x) => raw_of(x.view()),
        ArrayData::I64(x) => raw_of(x.view()),
        ArrayData::U8(x) => raw_of(x.view()),
        ArrayData::U16(x) => raw_of(x.view()),
        ArrayData::U32(x) => raw_of(x.view()),
        ArrayData::U64(x) => raw_of(x.view()),
        ArrayData::F16(x) => raw_of(x.view()),
        ArrayData::F32(x) => raw_of(x.view()),
        ArrayData::F64(x) => raw_of(x.view()),
        ArrayData::C64(x) => raw_of(x.view()),
        ArrayData::C128(x) => raw_of(x.view()),
        ArrayData::DateTime64(x, u) | ArrayData::TimeDelta64(x, u) => {
            let (_, fortran, data) = raw_of(x.view());
            (Dtype::time(a.dtype.kind, *u), fortran, data)
        }
        ArrayData::Bytes(x) => raw_of(x.view()),
        ArrayData::Str(x) => raw_of(x.view()),
        ArrayData::Void(x) => {
            let (mut dtype, fortran, data) = raw_of(x.view());
            dtype.kind = Kind::Void;
            (dtype, fortran, data)
        }
        ArrayData::Structured(s) => (s.dtype().clone(), false, s.raw().to_vec()),
        ArrayData::Object(_) => {
            return Err(err("object arrays cannot be written (their items belong to another graph)"))
        }
    };
    write_raw(graph, &dtype, &shape, fortran, data, options)
}

/// `ndarray` arrays of every [`Element`] type and dimension, written as
/// real `numpy.ndarray`s with [`WriteOptions::default`]: `_reconstruct`,
/// or `_frombuffer` when `graph.protocol()` is 5.
impl<A: Element, S: Data<Elem = A>, D: Dimension> ToPickle for ArrayBase<S, D> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        write_array(graph, self.view().into_dyn(), &WriteOptions::default())
    }
}

impl ToPickle for NdArray {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        write_ndarray(graph, self, &WriteOptions::default())
    }
}

impl ToPickle for Dtype {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        write_dtype(graph, self)
    }
}

/// The dtype, layout and native bytes of an array: Fortran order when the
/// array is laid out so (and not also C-contiguous), C order otherwise.
pub(crate) fn raw_of<T: Element>(a: ArrayViewD<'_, T>) -> (Dtype, bool, Vec<u8>) {
    let dtype = T::dtype_for(a.iter());
    let fortran = a.ndim() > 1 && !a.is_standard_layout() && a.t().is_standard_layout();
    let mut data = Vec::with_capacity(a.len().saturating_mul(dtype.itemsize));
    if fortran {
        a.t().iter().for_each(|x| x.write(dtype.itemsize, &mut data));
    } else {
        a.iter().for_each(|x| x.write(dtype.itemsize, &mut data));
    }
    (dtype, fortran, data)
}
