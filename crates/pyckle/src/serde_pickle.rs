//! A drop-in for the [serde-pickle](https://docs.rs/serde-pickle) crate:
//! the same functions, types and options under the same names, so its
//! users switch by changing an import:
//!
//! ```text
//! - use serde_pickle;
//! + use pyckle::serde_pickle;
//! ```
//!
//! What behaves differently (protocol 4 by default where serde-pickle
//! writes 3, errors that name the path inside the value, class instances,
//! Python 2 strings, cycles...) is listed in `docs/serde-pickle.md`, with
//! a table of serde-pickle's API beside pyckle's own
//! ([`crate::serde`], which reads and writes more: borrowed strings,
//! instances of named classes, Enum members).
//!
//! ```
//! use pyckle::serde_pickle;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Point {
//!     x: i32,
//!     y: i32,
//! }
//!
//! let data = serde_pickle::to_vec(&Point { x: 1, y: 2 }, Default::default())?;
//! // pickle.dumps({'x': 1, 'y': 2}) with Python 3.8 or later (protocol 4)
//! assert_eq!(data, b"\x80\x04\x95\x11\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01x\x94K\x01\x8c\x01y\x94K\x02u.");
//! let back: Point = serde_pickle::from_slice(&data, Default::default())?;
//! assert_eq!(back, Point { x: 1, y: 2 });
//! // serde-pickle's default protocol, 3:
//! let v3 = serde_pickle::to_vec(&Point { x: 1, y: 2 }, serde_pickle::SerOptions::new().protocol(3))?;
//! assert_eq!(&v3[..2], b"\x80\x03");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`from_slice`] and the other `from_*` functions read the pickle as
//! serde-pickle does: first into a [`Value`] (objects of classes become
//! their state, as serde-pickle makes them), then into `T`.

use crate::decode::{DecodeOptions, StringEncoding, Unpickler};
use crate::graph::{Graph, ObjId, Object, RecordKind, Value as GValue};
use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};
use serde::de::{self as sde, DeserializeOwned, IntoDeserializer, Visitor};
use serde::ser::{self as sser, SerializeMap, SerializeSeq, SerializeTuple};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::io;

pub use crate::serde::{Error, Result, SerOptions};

/// serde-pickle's module layout, for paths such as `serde_pickle::de::DeOptions`.
pub mod de {
    pub use super::{
        from_iter, from_reader, from_slice, value_from_iter, value_from_reader, value_from_slice, DeOptions,
    };
}

/// serde-pickle's module layout, for paths such as `serde_pickle::ser::SerOptions`.
pub mod ser {
    pub use super::{to_vec, to_writer, value_to_vec, value_to_writer, SerOptions};
}

/// serde-pickle's module layout, for paths such as `serde_pickle::value::Value`.
pub mod value {
    pub use super::{from_value, to_value, HashableValue, Value};
}

/// serde-pickle's module layout, for `serde_pickle::error::{Error, Result}`.
pub mod error {
    pub use super::{Error, Result};
}

/// How deep a [`Value`] may nest when it is made from a pickle: deeper
/// is an error (serde-pickle has no limit, and overflows the stack).
pub const MAX_VALUE_DEPTH: usize = 512;

/// How many more values than the pickle holds it may expand to: shared
/// objects are copied into every place that refers to them, and a few
/// bytes of tuples that share tuples can stand for more values than
/// memory holds. (A pickle without sharing never comes near: it expands
/// to as many values as it holds.)
pub const MAX_VALUE_NODES: usize = 4_000_000;

/// Options of deserialization, as serde-pickle's.
#[derive(Clone, Debug, Default)]
pub struct DeOptions {
    decode_strings: bool,
    keep_restore_state: bool,
    replace_unresolved_globals: bool,
    replace_recursive_structures: bool,
}

impl DeOptions {
    /// The defaults: Python 2 strings (STRING opcodes, protocols 0-2) stay
    /// bytes, objects become their state or an empty dict, unresolved
    /// globals and recursive structures are errors.
    pub fn new() -> Self {
        DeOptions::default()
    }
    /// Decode Python 2 strings as UTF-8 (an error when they are not).
    pub fn decode_strings(mut self) -> Self {
        self.decode_strings = true;
        self
    }
    /// Keep more of what the pickle says of an object without state:
    /// the arguments of its class (a namedtuple's fields) instead of an
    /// empty dict, and of a call to an unknown function instead of an error.
    pub fn keep_restore_state(mut self) -> Self {
        self.keep_restore_state = true;
        self
    }
    /// A global (a class or function) that does not become a value is
    /// `None` instead of an error.
    pub fn replace_unresolved_globals(mut self) -> Self {
        self.replace_unresolved_globals = true;
        self
    }
    /// A container that contains itself is `None` where it recurs, instead of an error.
    pub fn replace_recursive_structures(mut self) -> Self {
        self.replace_recursive_structures = true;
        self
    }
    fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            encoding: if self.decode_strings { StringEncoding::Utf8 } else { StringEncoding::Bytes },
            ..DecodeOptions::default()
        }
    }
}

/// The Python values a pickle can hold, as serde-pickle's `Value`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    /// An int that fits in `i64`.
    I64(i64),
    /// An int of any size (those that fit in `i64` are `I64` when decoded).
    Int(BigInt),
    F64(f64),
    Bytes(Vec<u8>),
    String(String),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Set(BTreeSet<HashableValue>),
    FrozenSet(BTreeSet<HashableValue>),
    Dict(BTreeMap<HashableValue, Value>),
}

/// The values that can be dict keys and set items, as serde-pickle's
/// `HashableValue`. Ordered (for the B-trees) with numbers equal across
/// types as in Python (`1 == 1.0 == True`), then bytes, str, frozensets
/// and tuples.
#[derive(Clone, Debug)]
pub enum HashableValue {
    None,
    Bool(bool),
    I64(i64),
    Int(BigInt),
    F64(f64),
    Bytes(Vec<u8>),
    String(String),
    Tuple(Vec<HashableValue>),
    FrozenSet(BTreeSet<HashableValue>),
}

impl Value {
    /// The hashable version of the value; lists, dicts and sets (and
    /// tuples holding them) are an error.
    pub fn into_hashable(self) -> Result<HashableValue> {
        Ok(match self {
            Value::None => HashableValue::None,
            Value::Bool(b) => HashableValue::Bool(b),
            Value::I64(i) => HashableValue::I64(i),
            Value::Int(i) => HashableValue::Int(i),
            Value::F64(f) => HashableValue::F64(f),
            Value::Bytes(b) => HashableValue::Bytes(b),
            Value::String(s) => HashableValue::String(s),
            Value::FrozenSet(s) => HashableValue::FrozenSet(s),
            Value::Tuple(items) => {
                HashableValue::Tuple(items.into_iter().map(Value::into_hashable).collect::<Result<_>>()?)
            }
            Value::List(_) => return Err(unhashable("list")),
            Value::Dict(_) => return Err(unhashable("dict")),
            Value::Set(_) => return Err(unhashable("set")),
        })
    }
}

fn unhashable(t: &str) -> Error {
    Error::new(format!("unhashable type: '{t}'"))
}

impl HashableValue {
    /// The value as a [`Value`] (always possible).
    pub fn into_value(self) -> Value {
        match self {
            HashableValue::None => Value::None,
            HashableValue::Bool(b) => Value::Bool(b),
            HashableValue::I64(i) => Value::I64(i),
            HashableValue::Int(i) => Value::Int(i),
            HashableValue::F64(f) => Value::F64(f),
            HashableValue::Bytes(b) => Value::Bytes(b),
            HashableValue::String(s) => Value::String(s),
            HashableValue::FrozenSet(s) => Value::FrozenSet(s),
            HashableValue::Tuple(items) => Value::Tuple(items.into_iter().map(HashableValue::into_value).collect()),
        }
    }

    /// Rank of the kind, for ordering values of different kinds.
    fn rank(&self) -> u8 {
        match self {
            HashableValue::None => 0,
            HashableValue::Bool(_) | HashableValue::I64(_) | HashableValue::Int(_) | HashableValue::F64(_) => 1,
            HashableValue::Bytes(_) => 2,
            HashableValue::String(_) => 3,
            HashableValue::FrozenSet(_) => 4,
            HashableValue::Tuple(_) => 5,
        }
    }
}

/// A number, for comparisons across int, bool and float.
enum Num<'a> {
    Int(std::borrow::Cow<'a, BigInt>),
    Float(f64),
}

fn num(v: &HashableValue) -> Option<Num<'_>> {
    use std::borrow::Cow;
    Some(match v {
        HashableValue::Bool(b) => Num::Int(Cow::Owned(BigInt::from(*b as u8))),
        HashableValue::I64(i) => Num::Int(Cow::Owned(BigInt::from(*i))),
        HashableValue::Int(i) => Num::Int(Cow::Borrowed(i)),
        HashableValue::F64(f) => Num::Float(*f),
        _ => return None,
    })
}

/// Exact comparison of an int with a float; NaN is above every number.
fn cmp_int_float(i: &BigInt, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Less;
    }
    if f.is_infinite() {
        return if f > 0.0 { Ordering::Less } else { Ordering::Greater };
    }
    let t = f.trunc();
    let ti = BigInt::from_f64(t).unwrap_or_default();
    match i.cmp(&ti) {
        Ordering::Equal => {
            let frac = f - t;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

fn cmp_float(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl Ord for HashableValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.rank().cmp(&other.rank()) {
            Ordering::Equal => {}
            o => return o,
        }
        if let (Some(a), Some(b)) = (num(self), num(other)) {
            return match (a, b) {
                (Num::Int(a), Num::Int(b)) => a.as_ref().cmp(b.as_ref()),
                (Num::Int(a), Num::Float(b)) => cmp_int_float(&a, b),
                (Num::Float(a), Num::Int(b)) => cmp_int_float(&b, a).reverse(),
                (Num::Float(a), Num::Float(b)) => cmp_float(a, b),
            };
        }
        match (self, other) {
            (HashableValue::Bytes(a), HashableValue::Bytes(b)) => a.cmp(b),
            (HashableValue::String(a), HashableValue::String(b)) => a.cmp(b),
            (HashableValue::FrozenSet(a), HashableValue::FrozenSet(b)) => a.cmp(b),
            (HashableValue::Tuple(a), HashableValue::Tuple(b)) => a.cmp(b),
            _ => Ordering::Equal, // None and None
        }
    }
}

impl PartialOrd for HashableValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for HashableValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for HashableValue {}

fn write_items<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    items: impl ExactSizeIterator<Item = T>,
    open: &str,
    close: &str,
    comma_after_one: bool,
) -> fmt::Result {
    let n = items.len();
    f.write_str(open)?;
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    if n == 1 && comma_after_one {
        f.write_str(",")?;
    }
    f.write_str(close)
}

/// As serde-pickle's: Python-like (`None`, `True`, `(1,)`, `{...}`,
/// `frozenset([...])`, `set()`), with bytes as `b[0, 255]`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::I64(i) => write!(f, "{i}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::F64(x) => write!(f, "{x}"),
            Value::Bytes(b) => write!(f, "b{b:?}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(v) => write_items(f, v.iter(), "[", "]", false),
            Value::Tuple(v) => write_items(f, v.iter(), "(", ")", true),
            Value::Set(s) if s.is_empty() => f.write_str("set()"),
            Value::Set(s) => write_items(f, s.iter(), "{", "}", false),
            Value::FrozenSet(s) => write_items(f, s.iter(), "frozenset([", "])", false),
            Value::Dict(d) => write_items(f, d.iter().map(|(k, v)| DictEntry(k, v)), "{", "}", false),
        }
    }
}

struct DictEntry<'a>(&'a HashableValue, &'a Value);

impl fmt::Display for DictEntry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

impl fmt::Display for HashableValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashableValue::Tuple(v) => write_items(f, v.iter(), "(", ")", true),
            HashableValue::FrozenSet(s) => write_items(f, s.iter(), "frozenset([", "])", false),
            other => fmt::Display::fmt(&other.clone().into_value(), f),
        }
    }
}

// ---------------------------------------------------------------------------
// Serialize: a Value is written as the Python value it is (big ints, tuples,
// sets and frozensets included), through pyckle's Serializer.

struct SetItems<'a>(&'a BTreeSet<HashableValue>);

impl sser::Serialize for SetItems<'_> {
    fn serialize<S: sser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

fn serialize_tuple<S: sser::Serializer, T: sser::Serialize>(s: S, items: &[T]) -> std::result::Result<S::Ok, S::Error> {
    let mut t = s.serialize_tuple(items.len())?;
    for item in items {
        t.serialize_element(item)?;
    }
    t.end()
}

fn serialize_bigint<S: sser::Serializer>(s: S, i: &BigInt) -> std::result::Result<S::Ok, S::Error> {
    match i.to_i64() {
        Some(small) => s.serialize_i64(small),
        None => s.serialize_newtype_struct(crate::serde::BIGINT_MAGIC, &i.to_string()),
    }
}

impl sser::Serialize for Value {
    fn serialize<S: sser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::None => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I64(i) => s.serialize_i64(*i),
            Value::Int(i) => serialize_bigint(s, i),
            Value::F64(f) => s.serialize_f64(*f),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::String(st) => s.serialize_str(st),
            Value::List(items) => s.collect_seq(items),
            Value::Tuple(items) => serialize_tuple(s, items),
            Value::Set(items) => s.serialize_newtype_struct(crate::serde::SET_NEWTYPE, &SetItems(items)),
            Value::FrozenSet(items) => s.serialize_newtype_struct(crate::serde::FROZENSET_NEWTYPE, &SetItems(items)),
            Value::Dict(d) => {
                let mut m = s.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl sser::Serialize for HashableValue {
    fn serialize<S: sser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            HashableValue::Tuple(items) => serialize_tuple(s, items),
            HashableValue::FrozenSet(items) => {
                s.serialize_newtype_struct(crate::serde::FROZENSET_NEWTYPE, &SetItems(items))
            }
            HashableValue::Int(i) => serialize_bigint(s, i),
            HashableValue::None => s.serialize_unit(),
            HashableValue::Bool(b) => s.serialize_bool(*b),
            HashableValue::I64(i) => s.serialize_i64(*i),
            HashableValue::F64(f) => s.serialize_f64(*f),
            HashableValue::Bytes(b) => s.serialize_bytes(b),
            HashableValue::String(st) => s.serialize_str(st),
        }
    }
}

// ---------------------------------------------------------------------------
// Deserialize: a Value from any self-describing format.

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::I64(v))
    }
    fn visit_i128<E>(self, v: i128) -> std::result::Result<Value, E> {
        Ok(int_value(BigInt::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(int_value(BigInt::from(v)))
    }
    fn visit_u128<E>(self, v: u128) -> std::result::Result<Value, E> {
        Ok(int_value(BigInt::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> std::result::Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_none<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_some<D: sde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        sde::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: sde::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        sde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: sde::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: sde::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut d = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<Value, Value>()? {
            let k = k.into_hashable().map_err(sde::Error::custom)?;
            d.insert(k, v);
        }
        Ok(Value::Dict(d))
    }
}

fn int_value(i: BigInt) -> Value {
    match i.to_i64() {
        Some(small) => Value::I64(small),
        None => Value::Int(i),
    }
}

impl<'de> sde::Deserialize<'de> for Value {
    fn deserialize<D: sde::Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl<'de> sde::Deserialize<'de> for HashableValue {
    fn deserialize<D: sde::Deserializer<'de>>(d: D) -> std::result::Result<HashableValue, D::Error> {
        let v = d.deserialize_any(ValueVisitor)?;
        v.into_hashable().map_err(sde::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// From a pickle to a Value: the decoded graph, walked as serde-pickle sees it.

/// What a graph value starts as: a finished value, or a container (or a
/// record) whose parts are converted first.
enum Start<'g> {
    Done(Value),
    Frame(Frame<'g>),
}

/// A container being converted, part after part: an explicit stack of
/// these walks a graph of any depth without recursion.
struct Frame<'g> {
    id: ObjId,
    /// The part being converted.
    i: usize,
    kind: FrameKind<'g>,
}

enum FrameKind<'g> {
    Seq {
        src: &'g [GValue],
        tuple: bool,
        out: Vec<Value>,
    },
    Set {
        src: &'g [GValue],
        frozen: bool,
        out: BTreeSet<HashableValue>,
    },
    /// Keys and values alternate: part 2k is the key of entry k, 2k+1 its value.
    Dict {
        src: &'g [(GValue, GValue)],
        key: Option<HashableValue>,
        out: BTreeMap<HashableValue, Value>,
    },
    /// A record that stands for another value of the graph (its state).
    Redirect {
        to: GValue,
        out: Option<Value>,
    },
}

impl Frame<'_> {
    fn next_child(&self) -> Option<GValue> {
        match &self.kind {
            FrameKind::Seq { src, .. } | FrameKind::Set { src, .. } => src.get(self.i).copied(),
            FrameKind::Dict { src, .. } => src.get(self.i / 2).map(|&(k, v)| if self.i % 2 == 0 { k } else { v }),
            FrameKind::Redirect { to, out } => match out {
                None => Some(*to),
                Some(_) => None,
            },
        }
    }

    fn accept(&mut self, v: Value) -> Result<()> {
        match &mut self.kind {
            FrameKind::Seq { out, .. } => out.push(v),
            FrameKind::Set { out, .. } => {
                out.insert(v.into_hashable()?);
            }
            FrameKind::Dict { key, out, .. } => {
                if self.i % 2 == 0 {
                    *key = Some(v.into_hashable()?);
                } else if let Some(k) = key.take() {
                    out.insert(k, v);
                }
            }
            FrameKind::Redirect { out, .. } => *out = Some(v),
        }
        self.i += 1;
        Ok(())
    }

    /// The path step of the part being converted, for errors.
    fn step(&self) -> Option<String> {
        match &self.kind {
            FrameKind::Seq { .. } | FrameKind::Set { .. } => Some(format!("[{}]", self.i)),
            FrameKind::Dict { key: Some(HashableValue::String(s)), .. } if self.i % 2 == 1 => Some(format!("[{s:?}]")),
            FrameKind::Dict { key: Some(k), .. } if self.i % 2 == 1 => Some(format!("[{k}]")),
            FrameKind::Dict { .. } => Some(format!("[<key {}>]", self.i / 2)),
            FrameKind::Redirect { .. } => None,
        }
    }

    fn finish(self) -> Value {
        match self.kind {
            FrameKind::Seq { out, tuple: false, .. } => Value::List(out),
            FrameKind::Seq { out, tuple: true, .. } => Value::Tuple(out),
            FrameKind::Set { out, frozen: false, .. } => Value::Set(out),
            FrameKind::Set { out, frozen: true, .. } => Value::FrozenSet(out),
            FrameKind::Dict { out, .. } => Value::Dict(out),
            FrameKind::Redirect { out, .. } => out.unwrap_or(Value::None),
        }
    }
}

struct ToValue<'g, 'a> {
    graph: &'g Graph<'a>,
    options: &'g DeOptions,
    /// Objects being converted (the path from the root): meeting one again is a cycle.
    active: HashSet<ObjId>,
    nodes: usize,
    max_nodes: usize,
}

impl<'g> ToValue<'g, '_> {
    fn run(&mut self, root: GValue) -> Result<Value> {
        let mut stack: Vec<Frame<'g>> = Vec::new();
        match self.start(root, 0)? {
            Start::Done(v) => return Ok(v),
            Start::Frame(f) => stack.push(f),
        }
        let mut incoming: Option<Value> = None;
        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else { unreachable!("the loop returns when the stack empties") };
            if let Some(v) = incoming.take() {
                if let Err(e) = top.accept(v) {
                    return Err(with_path(&stack, e));
                }
            }
            let top = stack.last().unwrap_or_else(|| unreachable!());
            match top.next_child() {
                Some(child) => match self.start(child, depth) {
                    Ok(Start::Done(v)) => incoming = Some(v),
                    Ok(Start::Frame(f)) => stack.push(f),
                    Err(e) => return Err(with_path(&stack, e)),
                },
                None => {
                    let Some(done) = stack.pop() else { unreachable!() };
                    self.active.remove(&done.id);
                    let v = done.finish();
                    if stack.is_empty() {
                        return Ok(v);
                    }
                    incoming = Some(v);
                }
            }
        }
    }

    fn start(&mut self, v: GValue, depth: usize) -> Result<Start<'g>> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(Error::new(format!(
                "the pickle expands to more than {} values (shared objects are copied where they are used)",
                self.max_nodes
            )));
        }
        let id = match v {
            GValue::None => return Ok(Start::Done(Value::None)),
            GValue::Bool(b) => return Ok(Start::Done(Value::Bool(b))),
            GValue::Int(i) => return Ok(Start::Done(Value::I64(i))),
            GValue::Float(f) => return Ok(Start::Done(Value::F64(f))),
            GValue::Obj(id) => id,
        };
        let graph: &'g Graph<'_> = self.graph;
        let obj = graph.try_get(id).ok_or_else(|| Error::new("a reference outside the graph"))?;
        // Scalars first: they hold nothing, so they can neither recur nor nest.
        let done = match obj {
            Object::Int(i) => int_value(i.clone()),
            Object::Str(s) => match s.as_str() {
                Some(s) => Value::String(s.to_string()),
                None => return Err(Error::new("a str with lone surrogates is not UTF-8")),
            },
            Object::Bytes(b) | Object::ByteArray(b) => Value::Bytes(b.to_vec()),
            Object::Buffer(b) => Value::Bytes(b.data.to_vec()),
            Object::Global(g) if self.options.replace_unresolved_globals => {
                let _ = g;
                Value::None
            }
            Object::Global(g) => return Err(Error::new(format!("unresolved global {}.{}", g.module, g.name))),
            Object::PersistentId(_) => return Err(Error::new("a persistent id (PERSID) cannot be a value")),
            _ => return self.start_container(id, obj, depth),
        };
        Ok(Start::Done(done))
    }

    fn start_container(&mut self, id: ObjId, obj: &'g Object<'_>, depth: usize) -> Result<Start<'g>> {
        if depth >= MAX_VALUE_DEPTH {
            return Err(Error::new(format!("the value nests deeper than {MAX_VALUE_DEPTH} levels")));
        }
        if self.active.contains(&id) {
            return if self.options.replace_recursive_structures {
                Ok(Start::Done(Value::None))
            } else {
                Err(Error::new("recursive structure (a container that contains itself)"))
            };
        }
        let kind = match obj {
            Object::List(items) => FrameKind::Seq { src: items, tuple: false, out: Vec::with_capacity(items.len()) },
            Object::Tuple(items) => FrameKind::Seq { src: items, tuple: true, out: Vec::with_capacity(items.len()) },
            Object::Set(s) => FrameKind::Set { src: s.items(), frozen: false, out: BTreeSet::new() },
            Object::FrozenSet(s) => FrameKind::Set { src: s.items(), frozen: true, out: BTreeSet::new() },
            Object::Dict(d) => FrameKind::Dict { src: d.entries(), key: None, out: BTreeMap::new() },
            Object::Record(r) => match self.record(r)? {
                Some(kind) => kind,
                None => return Ok(Start::Done(Value::Dict(BTreeMap::new()))),
            },
            _ => return Err(Error::new(format!("a {} cannot be a value", obj.type_name()))),
        };
        self.active.insert(id);
        Ok(Start::Frame(Frame { id, i: 0, kind }))
    }

    /// What a record becomes, as serde-pickle makes it: its state (its
    /// `__dict__`, or what `__setstate__` takes); without state, an empty
    /// dict (`None` here), or with `keep_restore_state` its arguments.
    fn record(&self, r: &'g crate::graph::Record) -> Result<Option<FrameKind<'g>>> {
        if let Some(state) = r.state {
            return Ok(Some(FrameKind::Redirect { to: state, out: None }));
        }
        let graph: &'g Graph<'_> = self.graph;
        let callable = graph.as_global(r.callable);
        let is = |m: &str, n: &str| callable.is_some_and(|g| g.is(m, n));
        let args: &'g [GValue] = graph.as_tuple(r.args).unwrap_or(&[]);
        let seq = |src: &'g [GValue], tuple: bool| FrameKind::Seq { src, tuple, out: Vec::with_capacity(src.len()) };
        if r.kind == RecordKind::Reduce && args.len() == 1 && (is("builtins", "list") || is("builtins", "int")) {
            // builtins.list(x) and builtins.int(x), which serde-pickle understands.
            return Ok(Some(FrameKind::Redirect { to: args[0], out: None }));
        }
        if !r.dict_items.is_empty() {
            return Ok(Some(FrameKind::Dict { src: &r.dict_items, key: None, out: BTreeMap::new() }));
        }
        if !r.items.is_empty() {
            return Ok(Some(seq(&r.items, false)));
        }
        let reconstructor = is("copyreg", "_reconstructor");
        // copyreg._reconstructor(cls, base, state): an instance of a
        // subclass of a builtin (a namedtuple below protocol 2).
        if reconstructor && self.options.keep_restore_state && args.len() == 3 && args[2] != GValue::None {
            return Ok(Some(FrameKind::Redirect { to: args[2], out: None }));
        }
        if r.kind == RecordKind::Reduce && !reconstructor {
            return if self.options.keep_restore_state {
                Ok(Some(seq(args, true)))
            } else if self.options.replace_unresolved_globals {
                Ok(Some(FrameKind::Redirect { to: GValue::None, out: None }))
            } else {
                let name = callable.map(|g| format!("{}.{}", g.module, g.name)).unwrap_or_else(|| "?".into());
                Err(Error::new(format!("unresolved global {name} (called with no state to keep)")))
            };
        }
        if self.options.keep_restore_state && !reconstructor && !args.is_empty() {
            Ok(Some(seq(args, true)))
        } else {
            Ok(None)
        }
    }
}

/// `e` with the path of the parts being converted on `stack`.
fn with_path(stack: &[Frame<'_>], mut e: Error) -> Error {
    for f in stack.iter().rev() {
        if let Some(step) = f.step() {
            e = e.at(step);
        }
    }
    e
}

fn graph_to_value(graph: &Graph<'_>, options: &DeOptions) -> Result<Value> {
    // Every value the pickle holds, once: what it expands to without sharing.
    let held: usize = graph
        .objects()
        .map(|(_, o)| match o {
            Object::List(v) | Object::Tuple(v) => v.len(),
            Object::Dict(d) => 2 * d.len(),
            Object::Set(s) | Object::FrozenSet(s) => s.len(),
            Object::Record(r) => r.items.len() + 2 * r.dict_items.len() + 1,
            _ => 1,
        })
        .sum();
    let max_nodes = MAX_VALUE_NODES.saturating_add(held.saturating_mul(2));
    let mut t = ToValue { graph, options, active: HashSet::new(), nodes: 0, max_nodes };
    t.run(graph.root())
}

fn decode_whole(data: &[u8], options: &DeOptions) -> Result<Value> {
    let (graph, rest) = Unpickler::new(options.decode_options()).loads_prefix(data)?;
    if !rest.is_empty() {
        return Err(Error::new(format!("{} trailing bytes after the pickle's STOP", rest.len())));
    }
    graph_to_value(&graph, options)
}

/// Decodes a pickle from a byte slice into a [`Value`] (the whole slice:
/// bytes after the pickle are an error).
pub fn value_from_slice(data: &[u8], options: DeOptions) -> Result<Value> {
    decode_whole(data, &options)
}

/// Decodes a pickle from a reader into a [`Value`], reading it to its end.
pub fn value_from_reader<R: io::Read>(mut reader: R, options: DeOptions) -> Result<Value> {
    let mut data = Vec::new();
    reader.read_to_end(&mut data).map_err(|e| Error::from(crate::Error::from(e)))?;
    decode_whole(&data, &options)
}

/// A byte from an iterator: `u8`, or `io::Result<u8>` (serde-pickle's
/// `IterReadItem`).
pub trait IterReadItem {
    fn into_byte(self) -> io::Result<u8>;
}

impl IterReadItem for u8 {
    fn into_byte(self) -> io::Result<u8> {
        Ok(self)
    }
}

impl IterReadItem for io::Result<u8> {
    fn into_byte(self) -> io::Result<u8> {
        self
    }
}

fn collect_iter<E: IterReadItem, I: IntoIterator<Item = E>>(it: I) -> Result<Vec<u8>> {
    it.into_iter().map(|b| b.into_byte().map_err(|e| Error::from(crate::Error::from(e)))).collect()
}

/// Decodes a pickle from an iterator of bytes into a [`Value`].
pub fn value_from_iter<E: IterReadItem, I: IntoIterator<Item = E>>(it: I, options: DeOptions) -> Result<Value> {
    decode_whole(&collect_iter(it)?, &options)
}

/// Decodes a pickle from a byte slice into `T` (through a [`Value`], as
/// serde-pickle does: `T` cannot borrow from `data`; `pyckle::serde::from_slice` can).
pub fn from_slice<'de, T: sde::Deserialize<'de>>(data: &[u8], options: DeOptions) -> Result<T> {
    T::deserialize(ValueDeserializer::new(value_from_slice(data, options)?))
}

/// Decodes a pickle from a reader into `T`, reading it to its end.
pub fn from_reader<R: io::Read, T: DeserializeOwned>(reader: R, options: DeOptions) -> Result<T> {
    from_value(value_from_reader(reader, options)?)
}

/// Decodes a pickle from an iterator of bytes into `T`.
pub fn from_iter<E: IterReadItem, I: IntoIterator<Item = E>, T: DeserializeOwned>(
    it: I,
    options: DeOptions,
) -> Result<T> {
    from_value(value_from_iter(it, options)?)
}

/// Serializes `value` to a pickle (protocol 4 unless the options say
/// otherwise; serde-pickle writes 3).
pub fn to_vec<T: sser::Serialize + ?Sized>(value: &T, options: SerOptions) -> Result<Vec<u8>> {
    crate::serde::to_vec(value, options)
}

/// Serializes `value` as a pickle into `writer`.
pub fn to_writer<W: io::Write, T: sser::Serialize + ?Sized>(
    writer: &mut W,
    value: &T,
    options: SerOptions,
) -> Result<()> {
    crate::serde::to_writer(writer, value, options)
}

/// Writes a [`Value`] as a pickle: big ints, tuples, sets and frozensets as themselves.
pub fn value_to_vec(value: &Value, options: SerOptions) -> Result<Vec<u8>> {
    crate::serde::to_vec(value, options)
}

/// Writes a [`Value`] as a pickle into `writer`.
pub fn value_to_writer<W: io::Write>(writer: &mut W, value: &Value, options: SerOptions) -> Result<()> {
    crate::serde::to_writer(writer, value, options)
}

/// The [`Value`] that `value` serializes to (what a pickle of it decodes to).
pub fn to_value<T: sser::Serialize + ?Sized>(value: &T) -> Result<Value> {
    let graph = crate::serde::to_graph(value, &SerOptions::new())?;
    graph_to_value(&graph, &DeOptions::new())
}

/// Deserializes `T` from a [`Value`]. Errors name the path inside the
/// value (`layers[2].weight`).
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(ValueDeserializer::new(value))
}

// ---------------------------------------------------------------------------
// A serde Deserializer over an owned Value.

/// A serde Deserializer that reads an owned [`Value`].
pub struct ValueDeserializer {
    value: Value,
}

impl ValueDeserializer {
    pub fn new(value: Value) -> Self {
        ValueDeserializer { value }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::I64(_) | Value::Int(_) => "int",
        Value::F64(_) => "float",
        Value::Bytes(_) => "bytes",
        Value::String(_) => "str",
        Value::List(_) => "list",
        Value::Tuple(_) => "tuple",
        Value::Set(_) => "set",
        Value::FrozenSet(_) => "frozenset",
        Value::Dict(_) => "dict",
    }
}

impl<'de> sde::Deserializer<'de> for ValueDeserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::I64(i) => visitor.visit_i64(i),
            Value::Int(i) => {
                // The narrowest visit: serde's u64 visitor takes u64 but not i128.
                if let Some(x) = i.to_i64() {
                    visitor.visit_i64(x)
                } else if let Some(x) = i.to_u64() {
                    visitor.visit_u64(x)
                } else if let Some(x) = i.to_i128() {
                    visitor.visit_i128(x)
                } else if let Some(x) = i.to_u128() {
                    visitor.visit_u128(x)
                } else {
                    Err(Error::new(format!("int too large for 128 bits: {i}")))
                }
            }
            Value::F64(f) => visitor.visit_f64(f),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::String(s) => visitor.visit_string(s),
            Value::List(items) | Value::Tuple(items) => visit_seq(items, visitor),
            Value::Set(items) | Value::FrozenSet(items) => {
                visit_seq(items.into_iter().map(HashableValue::into_value).collect(), visitor)
            }
            Value::Dict(d) => visitor.visit_map(MapDe { iter: d.into_iter(), value: None, step: None, fields: false }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Dict(d) => visitor.visit_map(MapDe { iter: d.into_iter(), value: None, step: None, fields: true }),
            other => ValueDeserializer::new(other).deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let (variant, value) = match self.value {
            // 'Variant'
            Value::String(s) => (s, None),
            // {'Variant': value}
            Value::Dict(d) if d.len() == 1 => {
                let (k, v) = d.into_iter().next().unwrap_or((HashableValue::None, Value::None));
                match k {
                    HashableValue::String(s) => (s, Some(v)),
                    other => return Err(Error::new(format!("an enum variant's name must be a str, not {other}"))),
                }
            }
            // ('Variant',) and ('Variant', value): serde-pickle's compat representation.
            Value::Tuple(mut t) if (1..=2).contains(&t.len()) => {
                let value = if t.len() == 2 { t.pop() } else { None };
                match t.pop() {
                    Some(Value::String(s)) => (s, value),
                    _ => return Err(Error::new("an enum variant's name must be a str")),
                }
            }
            other => {
                return Err(Error::new(format!(
                    "an enum must be a str, a dict of one entry or a tuple of one or two items, not a {}",
                    kind(&other)
                )))
            }
        };
        visitor.visit_enum(EnumDe { variant, value })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value> {
    let len = items.len();
    let mut seq = SeqDe { iter: items.into_iter(), index: 0 };
    let out = visitor.visit_seq(&mut seq)?;
    if seq.iter.len() > 0 {
        return Err(sde::Error::invalid_length(len, &format!("{} items", seq.index).as_str()));
    }
    Ok(out)
}

struct SeqDe {
    iter: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> sde::SeqAccess<'de> for &mut SeqDe {
    type Error = Error;
    fn next_element_seed<T: sde::DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.iter.next() {
            Some(v) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(ValueDeserializer::new(v)).map(Some).map_err(|e| e.at(format!("[{i}]")))
            }
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe {
    iter: std::collections::btree_map::IntoIter<HashableValue, Value>,
    value: Option<Value>,
    step: Option<String>,
    /// The dict is read as a struct: string keys are `.field` steps.
    fields: bool,
}

impl<'de> sde::MapAccess<'de> for MapDe {
    type Error = Error;
    fn next_key_seed<K: sde::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.iter.next() {
            Some((k, v)) => {
                let step = match &k {
                    HashableValue::String(s) if self.fields => format!(".{s}"),
                    HashableValue::String(s) => format!("[{s:?}]"),
                    other => format!("[{other}]"),
                };
                self.value = Some(v);
                let key = seed.deserialize(ValueDeserializer::new(k.into_value())).map_err(|e| e.at(&step))?;
                self.step = Some(step);
                Ok(Some(key))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: sde::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let v = self.value.take().ok_or_else(|| Error::new("a map value asked for before its key"))?;
        let step = self.step.take().unwrap_or_default();
        seed.deserialize(ValueDeserializer::new(v)).map_err(|e| e.at(step))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct EnumDe {
    variant: String,
    value: Option<Value>,
}

impl<'de> sde::EnumAccess<'de> for EnumDe {
    type Error = Error;
    type Variant = VariantDe;
    fn variant_seed<V: sde::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantDe)> {
        let step = format!(".{}", self.variant);
        let name: sde::value::StringDeserializer<Error> = self.variant.into_deserializer();
        let v = seed.deserialize(name)?;
        Ok((v, VariantDe { value: self.value, step }))
    }
}

struct VariantDe {
    value: Option<Value>,
    step: String,
}

impl VariantDe {
    fn take(self) -> Result<(Value, String)> {
        match self.value {
            Some(v) => Ok((v, self.step)),
            None => Err(Error::new("this enum variant has data, and the pickle holds only its name").at(self.step)),
        }
    }
}

impl<'de> sde::VariantAccess<'de> for VariantDe {
    type Error = Error;
    fn unit_variant(self) -> Result<()> {
        match self.value {
            None | Some(Value::None) => Ok(()),
            Some(other) => {
                Err(Error::new(format!("a unit variant holds no data, not a {}", kind(&other))).at(self.step))
            }
        }
    }
    fn newtype_variant_seed<T: sde::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        let (v, step) = self.take()?;
        seed.deserialize(ValueDeserializer::new(v)).map_err(|e| e.at(step))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        let (v, step) = self.take()?;
        sde::Deserializer::deserialize_seq(ValueDeserializer::new(v), visitor).map_err(|e| e.at(step))
    }
    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        let (v, step) = self.take()?;
        sde::Deserializer::deserialize_struct(ValueDeserializer::new(v), "", fields, visitor).map_err(|e| e.at(step))
    }
}
