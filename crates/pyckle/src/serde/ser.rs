//! The Serializer into an object graph.
//!
//! A Rust value becomes the graph of the Python value it stands for; the
//! pickler then writes that graph as CPython's `pickle.dumps` would write
//! the same Python value, at the protocol the options ask for (4 unless
//! told otherwise, as Python 3.8 and later).
//!
//! | Rust (serde data model)            | Python                                  |
//! |------------------------------------|-----------------------------------------|
//! | `bool`                             | `bool`                                  |
//! | integers (any width, `i128`/`u128`) | `int` (of any size)                    |
//! | `f32`, `f64`                       | `float`                                 |
//! | `char`, `&str`, `String`           | `str`                                   |
//! | bytes (`serde_bytes`)              | `bytes`                                 |
//! | `None`, `()`, unit struct          | `None`                                  |
//! | `Some(x)`, newtype struct          | `x`                                     |
//! | sequence (`Vec`, slices, sets)     | `list`                                  |
//! | tuple, tuple struct                | `tuple`                                 |
//! | map                                | `dict` (keys must be hashable)          |
//! | struct                             | `dict` of fields, or an instance of a class named by [`SerOptions::class`] |
//! | enum                               | see [`SerOptions::compat_enum_repr`] and [`SerOptions::enum_class`] |
//!
//! Two newtype names are understood: `"$pyckle::BigInt"` around a string
//! of decimal digits is an `int` (what `pyckle::serde::bigint` writes), and
//! `"$pyckle::Set"` / `"$pyckle::FrozenSet"` around a sequence is a `set` /
//! `frozenset` (what [`set`](super::set) and [`frozenset`](super::frozenset) write).

use super::error::{Error, Result};
use crate::encode::{EncodeOptions, Pickler, DEFAULT_PROTOCOL, HIGHEST_PROTOCOL};
use super::de::BIGINT_MAGIC;
use crate::graph::{Dict, Graph, Object, Set, Value};
use num_bigint::BigInt;
use serde::ser::{self, Serialize};
use std::collections::HashMap;
use std::fmt;

/// The newtype name that makes a sequence a Python `set`.
pub const SET_NEWTYPE: &str = "$pyckle::Set";
/// The newtype name that makes a sequence a Python `frozenset`.
pub const FROZENSET_NEWTYPE: &str = "$pyckle::FrozenSet";

/// How deep values may nest by default (containers, options, newtypes
/// and enum variants each count one level).
pub const DEFAULT_MAX_DEPTH: usize = 256;

/// A Python class, by module and qualified name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PyClass {
    module: String,
    qualname: String,
}

/// Options of serialization: serde-pickle's `SerOptions`, and pyckle's own.
///
/// The default protocol is 4, what `pickle.dumps` uses since Python 3.8;
/// serde-pickle's default is 3 (ask for it with `.protocol(3)`).
#[derive(Clone, Debug)]
pub struct SerOptions {
    protocol: u8,
    compat_enum_repr: bool,
    fix_imports: bool,
    max_depth: usize,
    classes: HashMap<String, PyClass>,
    enum_classes: HashMap<String, PyClass>,
}

impl Default for SerOptions {
    fn default() -> Self {
        SerOptions {
            protocol: DEFAULT_PROTOCOL,
            compat_enum_repr: false,
            fix_imports: true,
            max_depth: DEFAULT_MAX_DEPTH,
            classes: HashMap::new(),
            enum_classes: HashMap::new(),
        }
    }
}

impl SerOptions {
    /// The default options: protocol 4, serde's standard enum
    /// representation, structs as dicts.
    pub fn new() -> Self {
        SerOptions::default()
    }

    /// Protocol 2 (serde-pickle's option: loads in Python 2 and 3).
    pub fn proto_v2(self) -> Self {
        self.protocol(2)
    }

    /// The pickle protocol, 0 to 5 (a higher one is an error when writing).
    pub fn protocol(mut self, protocol: u8) -> Self {
        self.protocol = protocol;
        self
    }

    /// Enums as serde-pickle wrote them up to its version 0.6:
    ///
    /// ```text
    ///   Variant           ->  ('Variant',)
    ///   Variant(T)        ->  ('Variant', T)
    ///   Variant(T1, T2)   ->  ('Variant', [T1, T2])
    ///   Variant { x: T }  ->  ('Variant', {'x': T})
    /// ```
    ///
    /// instead of serde's standard representation (the default):
    ///
    /// ```text
    ///   Variant           ->  'Variant'
    ///   Variant(T)        ->  {'Variant': T}
    ///   Variant(T1, T2)   ->  {'Variant': [T1, T2]}
    ///   Variant { x: T }  ->  {'Variant': {'x': T}}
    /// ```
    pub fn compat_enum_repr(mut self) -> Self {
        self.compat_enum_repr = true;
        self
    }

    /// Writes the Rust struct named `rust_name` (the name serde sees: the
    /// type's name, or its `#[serde(rename)]`) as an instance of the
    /// Python class `module.qualname`, its fields as the instance's
    /// `__dict__`: what `pickle.dumps` writes for an instance of a plain
    /// class (`cls.__new__(cls)` then the `__dict__` by BUILD, or below
    /// protocol 2 `copyreg._reconstructor(cls, object, None)`).
    pub fn class(mut self, rust_name: &str, module: &str, qualname: &str) -> Self {
        self.classes
            .insert(rust_name.to_string(), PyClass { module: module.to_string(), qualname: qualname.to_string() });
        self
    }

    /// Writes the unit variants of the Rust enum named `rust_name` as the
    /// members of the Python `enum.Enum` class `module.qualname` with the
    /// same names (`getattr(cls, 'NAME')`, which `pickle.loads` turns into
    /// the member). Variants with data keep the representation chosen by
    /// [`compat_enum_repr`](Self::compat_enum_repr).
    pub fn enum_class(mut self, rust_name: &str, module: &str, qualname: &str) -> Self {
        self.enum_classes
            .insert(rust_name.to_string(), PyClass { module: module.to_string(), qualname: qualname.to_string() });
        self
    }

    /// How deep values may nest (default [`DEFAULT_MAX_DEPTH`]): deeper
    /// is an error, never a stack overflow.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Below protocol 3, whether Python 3 module names are written as
    /// their Python 2 names (`builtins` as `__builtin__`), as
    /// `pickle.dumps(fix_imports=True)` does (the default).
    pub fn fix_imports(mut self, fix: bool) -> Self {
        self.fix_imports = fix;
        self
    }

    /// The protocol the pickle is written with.
    pub fn get_protocol(&self) -> u8 {
        self.protocol
    }

    /// The pickler options these options write with.
    pub fn encode_options(&self) -> EncodeOptions {
        EncodeOptions { protocol: self.protocol, fix_imports: self.fix_imports, ..EncodeOptions::default() }
    }
}

/// A serde Serializer that builds an object graph: each value serialized
/// with `&mut Serializer` returns the [`Value`] of the object it made.
///
/// ```
/// use pyckle::serde::{SerOptions, Serializer};
/// use serde::Serialize;
///
/// let options = SerOptions::new();
/// let mut ser = Serializer::new(&options);
/// let a = vec![1u8, 2].serialize(&mut ser)?;
/// let b = "x".serialize(&mut ser)?;
/// let mut graph = ser.into_graph();
/// let root = graph.tuple([a, b]);
/// graph.set_root(root);
/// assert_eq!(pyckle::dumps(&graph, 4)?, b"\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e\x8c\x01x\x94\x86\x94.");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Serializer<'o> {
    options: &'o SerOptions,
    graph: Graph<'static>,
    depth: usize,
    /// Globals made so far, by module and name, so each is one object.
    globals: HashMap<(String, String), Value>,
    /// Field and variant names made so far: one str object each, as
    /// Python interns identifiers (a list of instances shares its
    /// attribute names, and the pickle writes each name once).
    names: HashMap<&'static str, Value>,
    /// Enum members made so far, by module and qualified name.
    members: HashMap<(String, String), Value>,
}

impl<'o> Serializer<'o> {
    pub fn new(options: &'o SerOptions) -> Self {
        let mut graph = Graph::new();
        graph.set_protocol(options.protocol.min(HIGHEST_PROTOCOL));
        Serializer { options, graph, depth: 0, globals: HashMap::new(), names: HashMap::new(), members: HashMap::new() }
    }

    /// The graph built so far.
    pub fn graph(&self) -> &Graph<'static> {
        &self.graph
    }

    /// The graph built so far (its root is not set: set it to a value the
    /// serializer returned).
    pub fn into_graph(self) -> Graph<'static> {
        self.graph
    }

    fn global(&mut self, module: &str, name: &str) -> Value {
        if let Some(&v) = self.globals.get(&(module.to_string(), name.to_string())) {
            return v;
        }
        let v = self.graph.global(module, name);
        self.globals.insert((module.to_string(), name.to_string()), v);
        v
    }

    fn enter(&mut self) -> Result<()> {
        if self.depth >= self.options.max_depth {
            return Err(Error::new(format!(
                "the value nests deeper than {} levels (SerOptions::max_depth)",
                self.options.max_depth
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Serializes `value` one level deeper.
    fn nested<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<Value> {
        self.enter()?;
        let v = value.serialize(&mut *self);
        self.leave();
        v
    }

    fn str_value(&mut self, s: &str) -> Value {
        self.graph.str(s.to_string())
    }

    /// The str of a field or variant name, made once.
    fn name(&mut self, s: &'static str) -> Value {
        if let Some(&v) = self.names.get(s) {
            return v;
        }
        let v = self.graph.str(s);
        self.names.insert(s, v);
        v
    }

    /// A dict of one entry `{variant: value}`.
    fn variant_dict(&mut self, variant: &'static str, value: Value) -> Value {
        let key = self.name(variant);
        let mut d = Dict::new();
        // A str key is always hashable and the dict is empty: this cannot fail.
        let _ = d.insert(&self.graph, key, value);
        self.graph.add(Object::Dict(d))
    }

    /// An enum variant with data in the chosen representation.
    fn variant_value(&mut self, variant: &'static str, value: Value) -> Value {
        if self.options.compat_enum_repr {
            let name = self.name(variant);
            self.graph.tuple([name, value])
        } else {
            self.variant_dict(variant, value)
        }
    }

    /// A member of a Python Enum class: one object however often it is
    /// written, as members are singletons (the pickle writes it once, then
    /// refers to it).
    fn enum_member(&mut self, class: &PyClass, variant: &'static str) -> Value {
        let key = (class.module.clone(), format!("{}.{variant}", class.qualname));
        if let Some(&v) = self.members.get(&key) {
            return v;
        }
        let v = self.new_enum_member(class, variant);
        self.members.insert(key, v);
        v
    }

    fn new_enum_member(&mut self, class: &PyClass, variant: &'static str) -> Value {
        let getattr = self.global("builtins", "getattr");
        let cls = self.global(&class.module, &class.qualname);
        let name = self.name(variant);
        self.graph.reduce(getattr, [cls, name])
    }

    /// An instance of `class` with `state` as its `__dict__`, as
    /// `object.__reduce_ex__` makes it: `copyreg._reconstructor(cls,
    /// object, None)`, which the pickler writes as NEWOBJ from protocol 2.
    fn instance(&mut self, class: &PyClass, state: Value) -> Value {
        let reconstructor = self.global("copyreg", "_reconstructor");
        let cls = self.global(&class.module, &class.qualname);
        let object = self.global("builtins", "object");
        let obj = self.graph.reduce(reconstructor, [cls, object, Value::None]);
        let empty = matches!(self.graph.object(state), Some(Object::Dict(d)) if d.is_empty());
        if !empty {
            if let Some(r) = self.graph.record_mut(obj) {
                r.state = Some(state);
            }
        }
        obj
    }

    fn items_of(&self, v: Value) -> Option<Vec<Value>> {
        match self.graph.object(v) {
            Some(Object::List(items)) | Some(Object::Tuple(items)) => Some(items.clone()),
            _ => None,
        }
    }

    fn make_set(&mut self, items: Vec<Value>, frozen: bool) -> Result<Value> {
        let mut s = Set::new();
        for (i, item) in items.into_iter().enumerate() {
            s.insert(&self.graph, item).map_err(|e| Error::new(e).at(format!("[{i}]")))?;
        }
        Ok(self.graph.add(if frozen { Object::FrozenSet(s) } else { Object::Set(s) }))
    }

    /// The path step of a dict key, for errors: `["name"]`, `[3]`, `[...]`.
    fn key_step(&self, key: Value) -> String {
        match key {
            Value::Int(i) => format!("[{i}]"),
            Value::Bool(b) => format!("[{}]", if b { "True" } else { "False" }),
            Value::None => "[None]".to_string(),
            Value::Float(f) => format!("[{f}]"),
            Value::Obj(_) => match self.graph.as_str(key) {
                Some(s) => format!("[{s:?}]"),
                None => match self.graph.object(key) {
                    Some(Object::Int(i)) => format!("[{i}]"),
                    Some(o) => format!("[<{}>]", o.type_name()),
                    None => "[?]".to_string(),
                },
            },
        }
    }
}

/// Serializes `value` into an object graph (its root), which
/// [`dumps`](crate::dumps) writes and which can be edited first.
pub fn to_graph<T: Serialize + ?Sized>(value: &T, options: &SerOptions) -> Result<Graph<'static>> {
    let mut ser = Serializer::new(options);
    let root = value.serialize(&mut ser)?;
    let mut graph = ser.into_graph();
    graph.set_root(root);
    Ok(graph)
}

/// Serializes `value` to a pickle (protocol 4 unless the options say otherwise).
pub fn to_vec<T: Serialize + ?Sized>(value: &T, options: SerOptions) -> Result<Vec<u8>> {
    let graph = to_graph(value, &options)?;
    Ok(crate::encode::dumps_with(&graph, &options.encode_options())?)
}

/// Serializes `value` as a pickle into `writer`.
pub fn to_writer<W: std::io::Write, T: Serialize + ?Sized>(
    writer: &mut W,
    value: &T,
    options: SerOptions,
) -> Result<()> {
    let graph = to_graph(value, &options)?;
    let mut pickler = Pickler::with_options(writer, options.encode_options())?;
    pickler.dump(&graph)?;
    Ok(())
}

/// A sequence, tuple or the fields of a tuple variant under way.
pub struct SeqBuilder<'s, 'o> {
    ser: &'s mut Serializer<'o>,
    items: Vec<Value>,
    kind: SeqKind,
}

enum SeqKind {
    List,
    Tuple,
    /// A tuple variant: its fields as a list, in the variant's representation.
    Variant(&'static str),
}

impl SeqBuilder<'_, '_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let i = self.items.len();
        let v = value.serialize(&mut *self.ser).map_err(|e| e.at(format!("[{i}]")))?;
        self.items.push(v);
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        let SeqBuilder { ser, items, kind } = self;
        ser.leave();
        Ok(match kind {
            SeqKind::List => ser.graph.list(items),
            SeqKind::Tuple => ser.graph.tuple(items),
            SeqKind::Variant(variant) => {
                let list = ser.graph.list(items);
                ser.variant_value(variant, list)
            }
        })
    }
}

impl ser::SerializeSeq for SeqBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

/// A map, a struct or the fields of a struct variant under way: a dict
/// filled with Python's key semantics as it goes.
pub struct MapBuilder<'s, 'o> {
    ser: &'s mut Serializer<'o>,
    dict: Dict,
    key: Option<Value>,
    kind: MapKind,
}

enum MapKind {
    Map,
    Struct(&'static str),
    Variant(&'static str),
}

impl MapBuilder<'_, '_> {
    fn insert(&mut self, key: Value, value: Value) -> Result<()> {
        let step = self.ser.key_step(key);
        self.dict.insert(&self.ser.graph, key, value).map_err(|e| Error::new(format!("dict key: {e}")).at(step))
    }

    fn finish(self) -> Result<Value> {
        let MapBuilder { ser, dict, kind, .. } = self;
        ser.leave();
        let d = ser.graph.add(Object::Dict(dict));
        Ok(match kind {
            MapKind::Map => d,
            MapKind::Struct(name) => match ser.options.classes.get(name) {
                Some(class) => {
                    let class = class.clone();
                    ser.instance(&class, d)
                }
                None => d,
            },
            MapKind::Variant(variant) => ser.variant_value(variant, d),
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<()> {
        let v = value.serialize(&mut *self.ser).map_err(|e| e.at(format!(".{name}")))?;
        let k = self.ser.name(name);
        self.insert(k, v)
    }
}

impl ser::SerializeMap for MapBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        let n = self.dict.len();
        self.key = Some(key.serialize(&mut *self.ser).map_err(|e| e.at(format!("[<key {n}>]")))?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(|| Error::new("serialize_value called before serialize_key"))?;
        let v = value.serialize(&mut *self.ser).map_err(|e| e.at(self.ser.key_step(key)))?;
        self.insert(key, v)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapBuilder<'_, '_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.field(key, value)
    }
    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl<'s, 'o> ser::Serializer for &'s mut Serializer<'o> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder<'s, 'o>;
    type SerializeTuple = SeqBuilder<'s, 'o>;
    type SerializeTupleStruct = SeqBuilder<'s, 'o>;
    type SerializeTupleVariant = SeqBuilder<'s, 'o>;
    type SerializeMap = MapBuilder<'s, 'o>;
    type SerializeStruct = MapBuilder<'s, 'o>;
    type SerializeStructVariant = MapBuilder<'s, 'o>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(self.graph.int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(self.graph.int(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(self.graph.int(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(self.graph.str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(self.str_value(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(self.graph.bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        self.nested(value)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::None)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Value> {
        // A unit struct named by SerOptions::class is an instance with an empty __dict__.
        match self.options.classes.get(name) {
            Some(class) => {
                let class = class.clone();
                let state = self.graph.add(Object::Dict(Dict::new()));
                Ok(self.instance(&class, state))
            }
            None => Ok(Value::None),
        }
    }
    fn serialize_unit_variant(self, name: &'static str, _index: u32, variant: &'static str) -> Result<Value> {
        if let Some(class) = self.options.enum_classes.get(name) {
            let class = class.clone();
            return Ok(self.enum_member(&class, variant));
        }
        let v = self.name(variant);
        Ok(if self.options.compat_enum_repr { self.graph.tuple([v]) } else { v })
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<Value> {
        let inner = self.nested(value)?;
        match name {
            BIGINT_MAGIC => {
                let digits = match inner {
                    Value::Int(i) => return Ok(Value::Int(i)),
                    _ => self.graph.as_str(inner),
                };
                let digits =
                    digits.ok_or_else(|| Error::new("a $pyckle::BigInt must be a string of decimal digits"))?;
                let i: BigInt = digits
                    .parse()
                    .map_err(|_| Error::new(format!("a $pyckle::BigInt must be decimal digits, not {digits:?}")))?;
                // The digits str stays in the arena, unreferenced: the pickler writes only what the root reaches.
                Ok(self.graph.int(i))
            }
            SET_NEWTYPE | FROZENSET_NEWTYPE => {
                let items = self.items_of(inner).ok_or_else(|| Error::new(format!("a {name} must be a sequence")))?;
                self.make_set(items, name == FROZENSET_NEWTYPE)
            }
            _ => Ok(inner),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let inner = self.nested(value).map_err(|e| e.at(format!(".{variant}")))?;
        Ok(self.variant_value(variant, inner))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder<'s, 'o>> {
        self.enter()?;
        let items = Vec::with_capacity(len.unwrap_or(0).min(4096));
        Ok(SeqBuilder { ser: self, items, kind: SeqKind::List })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder<'s, 'o>> {
        self.enter()?;
        Ok(SeqBuilder { ser: self, items: Vec::with_capacity(len.min(4096)), kind: SeqKind::Tuple })
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder<'s, 'o>> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder<'s, 'o>> {
        self.enter()?;
        Ok(SeqBuilder { ser: self, items: Vec::with_capacity(len.min(4096)), kind: SeqKind::Variant(variant) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder<'s, 'o>> {
        self.enter()?;
        Ok(MapBuilder { ser: self, dict: Dict::new(), key: None, kind: MapKind::Map })
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<MapBuilder<'s, 'o>> {
        self.enter()?;
        Ok(MapBuilder { ser: self, dict: Dict::new(), key: None, kind: MapKind::Struct(name) })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<MapBuilder<'s, 'o>> {
        self.enter()?;
        Ok(MapBuilder { ser: self, dict: Dict::new(), key: None, kind: MapKind::Variant(variant) })
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Value> {
        Ok(self.graph.str(value.to_string()))
    }
}
