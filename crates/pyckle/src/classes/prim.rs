//! [`FromPickle`] and [`ToPickle`] for Rust's core types.
//!
//! Reading is as strict as Rust's types are: an `i8` takes an int from
//! -128 to 127 (not a bool, not a float), an `f64` takes a float or an int,
//! a `String` a `str` (not `bytes`). Sequences (`Vec<T>`) read lists,
//! tuples, sets and frozensets; maps read dicts and the dict-like classes
//! of `collections` (`OrderedDict`, `defaultdict`, `Counter`). Errors name
//! where they happened: `[2]`, `["key"]`, `[3]` for a non-str key (its
//! position).
//!
//! `Vec<u8>` is a list of small ints like any `Vec<T>`; `bytes` and
//! `bytearray` are [`Bytes`].
//!
//! Writing gives the Python object a Rust value naturally is: ints, floats,
//! `str`, `bytes` ([`Bytes`]), lists (`Vec`), tuples, dicts (maps), sets,
//! and `None` for `Option::None` and `()`.

use super::{ConvertError, FromPickle, ToPickle};
use crate::graph::{Graph, Object, Value};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

/// Python's name of what `value` is, for messages: `int`, `str`, `None`,
/// `datetime.date object`...
pub fn describe(graph: &Graph<'_>, value: Value) -> String {
    match value {
        Value::None => "None".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Float(_) => "float".into(),
        Value::Obj(_) => match graph.object(value) {
            None => "a value of another graph".into(),
            Some(Object::Record(r)) => match graph.as_global(r.callable) {
                // The copyreg forms name the class in their first argument.
                Some(g) if g.is("copyreg", "_reconstructor") || g.is("copyreg", "__newobj__") => {
                    match graph.as_tuple(r.args).and_then(|a| a.first()).and_then(|&c| graph.as_global(c)) {
                        Some(c) => format!("{}.{} object", c.module, c.name),
                        None => "object".into(),
                    }
                }
                Some(g) => format!("{}.{} object", g.module, g.name),
                None => "object".into(),
            },
            Some(Object::Global(g)) => format!("global {}.{}", g.module, g.name),
            Some(o) => o.type_name().into(),
        },
    }
}

pub(crate) fn expected(graph: &Graph<'_>, what: &str, value: Value) -> ConvertError {
    ConvertError::new(format!("expected {what}, found {}", describe(graph, value)))
}

pub(crate) fn build_error(e: crate::Error) -> ConvertError {
    ConvertError::new(e.to_string())
}

/// A Python int of any size.
pub(crate) fn to_bigint(graph: &Graph<'_>, value: Value) -> Option<BigInt> {
    match value {
        Value::Int(i) => Some(BigInt::from(i)),
        Value::Obj(_) => match graph.object(value) {
            Some(Object::Int(i)) => Some(i.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The step of a path for a dict key: `["name"]` for a str, `[3]` for an
/// int, `[#i]` (the entry's position) for anything else.
pub(crate) fn key_step(graph: &Graph<'_>, key: Value, position: usize) -> String {
    if let Some(s) = graph.as_str(key) {
        return format!("[{s:?}]");
    }
    match key {
        Value::Int(i) => format!("[{i}]"),
        _ => format!("[#{position}]"),
    }
}

impl<'g> FromPickle<'g> for Value {
    fn from_pickle(_graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Ok(value)
    }
}

impl<'g> FromPickle<'g> for bool {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Bool(b) => Ok(b),
            _ => Err(expected(graph, "bool", value)),
        }
    }
}

impl ToPickle for bool {
    fn to_pickle(&self, _graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(Value::Bool(*self))
    }
}

macro_rules! int_impls {
    ($($t:ty),*) => {$(
        impl<'g> FromPickle<'g> for $t {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                let Some(i) = to_bigint(graph, value) else {
                    return Err(expected(graph, "int", value));
                };
                <$t>::try_from(&i).map_err(|_| {
                    ConvertError::new(format!("int {} out of range for {}", i, stringify!($t)))
                })
            }
        }
        impl ToPickle for $t {
            fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
                Ok(graph.int(*self))
            }
        }
    )*};
}
int_impls!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl<'g> FromPickle<'g> for BigInt {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        to_bigint(graph, value).ok_or_else(|| expected(graph, "int", value))
    }
}

impl ToPickle for BigInt {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(graph.int(self.clone()))
    }
}

/// A Python float, or an int as `float(i)` makes it.
pub(crate) fn to_f64(graph: &Graph<'_>, value: Value) -> Option<f64> {
    match value {
        Value::Float(f) => Some(f),
        Value::Int(i) => Some(i as f64),
        Value::Obj(_) => match graph.object(value) {
            Some(Object::Int(i)) => i.to_f64().filter(|f| f.is_finite()),
            _ => None,
        },
        _ => None,
    }
}

impl<'g> FromPickle<'g> for f64 {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        to_f64(graph, value).ok_or_else(|| expected(graph, "float", value))
    }
}

impl<'g> FromPickle<'g> for f32 {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        to_f64(graph, value).map(|f| f as f32).ok_or_else(|| expected(graph, "float", value))
    }
}

impl ToPickle for f64 {
    fn to_pickle(&self, _graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(Value::Float(*self))
    }
}

impl ToPickle for f32 {
    fn to_pickle(&self, _graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(Value::Float(f64::from(*self)))
    }
}

impl<'g> FromPickle<'g> for String {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match graph.object(value) {
            Some(Object::Str(s)) => s
                .as_str()
                .map(String::from)
                .ok_or_else(|| ConvertError::new("str holds a lone surrogate, which a Rust String cannot")),
            _ => Err(expected(graph, "str", value)),
        }
    }
}

impl ToPickle for String {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(graph.str(self.clone()))
    }
}

impl ToPickle for str {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(graph.str(self.to_string()))
    }
}

impl<'g> FromPickle<'g> for char {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        let s = String::from_pickle(graph, value)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(ConvertError::new(format!(
                "expected a str of one character, found {} characters",
                s.chars().count()
            ))),
        }
    }
}

impl ToPickle for char {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(graph.str(self.to_string()))
    }
}

/// `bytes` (or, when read, `bytearray`): `Vec<u8>` is a list of ints like
/// any `Vec<T>`, so bytes need a type of their own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl<'g> FromPickle<'g> for Bytes {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match graph.object(value) {
            Some(Object::Bytes(b)) | Some(Object::ByteArray(b)) => Ok(Bytes(b.to_vec())),
            _ => Err(expected(graph, "bytes", value)),
        }
    }
}

impl ToPickle for Bytes {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(graph.bytes(self.0.clone()))
    }
}

impl<'g> FromPickle<'g> for () {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::None => Ok(()),
            _ => Err(expected(graph, "None", value)),
        }
    }
}

impl ToPickle for () {
    fn to_pickle(&self, _graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(Value::None)
    }
}

impl<'g, T: FromPickle<'g>> FromPickle<'g> for Option<T> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::None => Ok(None),
            _ => T::from_pickle(graph, value).map(Some),
        }
    }
}

impl<T: ToPickle> ToPickle for Option<T> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        match self {
            None => Ok(Value::None),
            Some(v) => v.to_pickle(graph),
        }
    }
}

impl<T: ToPickle + ?Sized> ToPickle for &T {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        (**self).to_pickle(graph)
    }
}

impl<T: ToPickle + ?Sized> ToPickle for Box<T> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        (**self).to_pickle(graph)
    }
}

impl<'g, T: FromPickle<'g>> FromPickle<'g> for Box<T> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        T::from_pickle(graph, value).map(Box::new)
    }
}

/// The items of a list, tuple, set, frozenset (or `deque`).
pub(crate) fn sequence<'a>(graph: &'a Graph<'_>, value: Value) -> Option<std::borrow::Cow<'a, [Value]>> {
    match graph.object(value) {
        Some(Object::List(v)) | Some(Object::Tuple(v)) => Some(std::borrow::Cow::Borrowed(v)),
        Some(Object::Set(s)) | Some(Object::FrozenSet(s)) => Some(std::borrow::Cow::Borrowed(s.items())),
        Some(Object::Record(_)) => match super::stdlib::recognize(graph, value) {
            Some(Ok(super::stdlib::Std::Deque(d))) => Some(std::borrow::Cow::Owned(d.items)),
            _ => None,
        },
        _ => None,
    }
}

fn read_items<'g, T: FromPickle<'g>>(graph: &Graph<'g>, value: Value) -> Result<Vec<T>, ConvertError> {
    let items = sequence(graph, value).ok_or_else(|| expected(graph, "a list, tuple or set", value))?;
    items.iter().enumerate().map(|(i, &v)| T::from_pickle(graph, v).map_err(|e| e.at(format!("[{i}]")))).collect()
}

impl<'g, T: FromPickle<'g>> FromPickle<'g> for Vec<T> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        read_items(graph, value)
    }
}

fn write_items<'a, T: ToPickle + 'a>(
    graph: &mut Graph<'static>,
    items: impl IntoIterator<Item = &'a T>,
) -> Result<Vec<Value>, ConvertError> {
    items.into_iter().enumerate().map(|(i, v)| v.to_pickle(graph).map_err(|e| e.at(format!("[{i}]")))).collect()
}

impl<T: ToPickle> ToPickle for Vec<T> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let items = write_items(graph, self)?;
        Ok(graph.list(items))
    }
}

impl<T: ToPickle> ToPickle for [T] {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let items = write_items(graph, self)?;
        Ok(graph.list(items))
    }
}

impl<'g, T: FromPickle<'g> + Eq + Hash, S: BuildHasher + Default> FromPickle<'g> for HashSet<T, S> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Ok(read_items(graph, value)?.into_iter().collect())
    }
}

impl<'g, T: FromPickle<'g> + Ord> FromPickle<'g> for BTreeSet<T> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Ok(read_items(graph, value)?.into_iter().collect())
    }
}

impl<T: ToPickle, S> ToPickle for HashSet<T, S> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let items = write_items(graph, self)?;
        graph.set(items).map_err(build_error)
    }
}

impl<T: ToPickle> ToPickle for BTreeSet<T> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let items = write_items(graph, self)?;
        graph.set(items).map_err(build_error)
    }
}

/// The entries of a dict, or of a dict-like class of `collections`
/// (`OrderedDict`, `defaultdict`, `Counter`).
pub(crate) fn mapping<'a>(graph: &'a Graph<'_>, value: Value) -> Option<std::borrow::Cow<'a, [(Value, Value)]>> {
    use super::stdlib::{recognize, Std};
    match graph.object(value) {
        Some(Object::Dict(d)) => Some(std::borrow::Cow::Borrowed(d.entries())),
        Some(Object::Record(_)) => match recognize(graph, value) {
            Some(Ok(Std::OrderedDict(items))) | Some(Ok(Std::Counter(items))) => Some(std::borrow::Cow::Owned(items)),
            Some(Ok(Std::DefaultDict(d))) => Some(std::borrow::Cow::Owned(d.items)),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn read_entries<'g, K: FromPickle<'g>, V: FromPickle<'g>>(
    graph: &Graph<'g>,
    value: Value,
) -> Result<Vec<(K, V)>, ConvertError> {
    let entries = mapping(graph, value).ok_or_else(|| expected(graph, "a dict", value))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, &(k, v))| {
            let step = key_step(graph, k, i);
            let key = K::from_pickle(graph, k).map_err(|e| e.at(format!("{step}.<key>")))?;
            let val = V::from_pickle(graph, v).map_err(|e| e.at(&step))?;
            Ok((key, val))
        })
        .collect()
}

pub(crate) fn write_entries<'a, K: ToPickle + 'a, V: ToPickle + 'a>(
    graph: &mut Graph<'static>,
    entries: impl IntoIterator<Item = (&'a K, &'a V)>,
) -> Result<Vec<(Value, Value)>, ConvertError> {
    entries
        .into_iter()
        .enumerate()
        .map(|(i, (k, v))| {
            let key = k.to_pickle(graph).map_err(|e| e.at(format!("[#{i}].<key>")))?;
            let step = key_step(graph, key, i);
            let val = v.to_pickle(graph).map_err(|e| e.at(&step))?;
            Ok((key, val))
        })
        .collect()
}

impl<'g, K: FromPickle<'g> + Eq + Hash, V: FromPickle<'g>, S: BuildHasher + Default> FromPickle<'g>
    for HashMap<K, V, S>
{
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Ok(read_entries(graph, value)?.into_iter().collect())
    }
}

impl<'g, K: FromPickle<'g> + Ord, V: FromPickle<'g>> FromPickle<'g> for BTreeMap<K, V> {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        Ok(read_entries(graph, value)?.into_iter().collect())
    }
}

impl<K: ToPickle, V: ToPickle, S> ToPickle for HashMap<K, V, S> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let entries = write_entries(graph, self)?;
        graph.dict(entries).map_err(build_error)
    }
}

impl<K: ToPickle, V: ToPickle> ToPickle for BTreeMap<K, V> {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let entries = write_entries(graph, self)?;
        graph.dict(entries).map_err(build_error)
    }
}

macro_rules! tuple_impls {
    ($len:expr => $($t:ident $i:tt),+) => {
        impl<'g, $($t: FromPickle<'g>),+> FromPickle<'g> for ($($t,)+) {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                let items = match graph.object(value) {
                    Some(Object::Tuple(v)) | Some(Object::List(v)) => v,
                    _ => return Err(expected(graph, concat!("a tuple of ", stringify!($len)), value)),
                };
                if items.len() != $len {
                    return Err(ConvertError::new(format!(
                        "expected a tuple of {}, found {} items", $len, items.len()
                    )));
                }
                Ok(($($t::from_pickle(graph, items[$i]).map_err(|e| e.at(concat!("[", stringify!($i), "]")))?,)+))
            }
        }
        impl<$($t: ToPickle),+> ToPickle for ($($t,)+) {
            fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
                let items = [$(self.$i.to_pickle(graph).map_err(|e| e.at(concat!("[", stringify!($i), "]")))?),+];
                Ok(graph.tuple(items))
            }
        }
    };
}
tuple_impls!(1 => A 0);
tuple_impls!(2 => A 0, B 1);
tuple_impls!(3 => A 0, B 1, C 2);
tuple_impls!(4 => A 0, B 1, C 2, D 3);
tuple_impls!(5 => A 0, B 1, C 2, D 3, E 4);
tuple_impls!(6 => A 0, B 1, C 2, D 3, E 4, F 5);
tuple_impls!(7 => A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_impls!(8 => A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
