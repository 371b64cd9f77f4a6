//! Small readers of graph values shared by the numpy conversions.

use crate::classes::ConvertError;
use crate::graph::{Global, Graph, Object, Value};
use std::borrow::Cow;

pub(crate) fn err(message: impl Into<String>) -> ConvertError {
    ConvertError::new(message)
}

/// An int that fits in i64 (bools count, as in Python).
pub(crate) fn int_arg(graph: &Graph<'_>, v: Value) -> Option<i64> {
    let _ = graph;
    match v {
        Value::Int(i) => Some(i),
        Value::Bool(b) => Some(b as i64),
        _ => None,
    }
}

/// A `str` (or, from Python 2 pickles read with `encoding='bytes'`, an ASCII `bytes`).
pub(crate) fn text_arg(graph: &Graph<'_>, v: Value) -> Option<String> {
    match graph.object(v)? {
        Object::Str(s) => Some(s.to_string_lossy().into_owned()),
        Object::Bytes(b) if b.is_ascii() => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The bytes of raw array data: `bytes`, `bytearray`, a protocol-5 buffer,
/// or a Python 2 `str` decoded as latin-1 (each code point one byte).
pub(crate) fn raw_bytes<'a>(graph: &'a Graph<'_>, v: Value) -> Result<Cow<'a, [u8]>, ConvertError> {
    match graph.object(v) {
        Some(Object::Bytes(b)) | Some(Object::ByteArray(b)) => Ok(Cow::Borrowed(&b[..])),
        Some(Object::Buffer(b)) => Ok(Cow::Borrowed(&b.data[..])),
        Some(Object::Str(s)) => {
            let mut out = Vec::with_capacity(s.as_bytes().len());
            for c in s.code_points() {
                let b = u8::try_from(c).map_err(|_| {
                    err("array data is a str with a character above U+00FF (a Python 2 str must be read as latin-1)")
                })?;
                out.push(b);
            }
            Ok(Cow::Owned(out))
        }
        _ => Err(err(super::dtype::found("bytes of array data", graph, v))),
    }
}

const CORE: [&str; 2] = ["numpy.core", "numpy._core"];

fn in_core(g: &Global, sub: &str, name: &str) -> bool {
    g.name == name && CORE.iter().any(|c| g.module.strip_prefix(c).and_then(|rest| rest.strip_prefix('.')) == Some(sub))
}

pub(crate) fn is_numpy_dtype(g: &Global) -> bool {
    g.is("numpy", "dtype")
}
/// `numpy.core.multiarray._reconstruct` (numpy 1) or `numpy._core.multiarray._reconstruct` (numpy 2).
pub(crate) fn is_reconstruct(g: &Global) -> bool {
    in_core(g, "multiarray", "_reconstruct")
}
/// `numpy.core.numeric._frombuffer` or `numpy._core.numeric._frombuffer` (protocol 5).
pub(crate) fn is_frombuffer(g: &Global) -> bool {
    in_core(g, "numeric", "_frombuffer")
}
/// `numpy.core.multiarray.scalar` or `numpy._core.multiarray.scalar`.
pub(crate) fn is_scalar(g: &Global) -> bool {
    in_core(g, "multiarray", "scalar")
}
/// `numpy.ma.core._mareconstruct`.
pub(crate) fn is_mareconstruct(g: &Global) -> bool {
    g.is("numpy.ma.core", "_mareconstruct")
}
