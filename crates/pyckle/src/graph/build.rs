//! Building graphs by hand, to write pickles that Python loads into real
//! objects.
//!
//! Every constructor adds one object to the arena and returns its
//! [`Value`]; scalars need no graph (`Value::Int(3)`, `Value::from(1.5)`).
//! Containers are made whole, or empty and filled afterwards, which is how
//! a cycle is made: a list that holds itself is `let l = g.list([]);
//! g.append(l, l)?`.
//!
//! Objects of named Python classes are records, written as the pickle of
//! such an object would be:
//!
//! ```
//! use pyckle::{Graph, Value};
//!
//! let mut g = Graph::new();
//! // __main__.Greeter with __dict__ {'_name': 'Gopher'}: what pickle.dumps(Greeter('Gopher')) holds.
//! let name = g.str("Gopher");
//! let key = g.str("_name");
//! let state = g.dict([(key, name)])?;
//! let greeter = g.instance("__main__", "Greeter", Some(state));
//! // collections.OrderedDict([('a', 1)]): OrderedDict() then its items.
//! let od_class = g.global("collections", "OrderedDict");
//! let od = g.reduce(od_class, []);
//! let a = g.str("a");
//! g.set_item(od, a, Value::Int(1))?;
//! // datetime.datetime(2024, 1, 2, 3, 4, 5): the class called with its 10-byte state.
//! let dt_class = g.global("datetime", "datetime");
//! let dt_state = g.bytes(vec![0x07, 0xe8, 1, 2, 3, 4, 5, 0, 0, 0]);
//! let dt = g.reduce(dt_class, [dt_state]);
//! let root = g.list([greeter, od, dt]);
//! g.set_root(root);
//!
//! let data = pyckle::dumps(&g, 4)?;
//! // Python: pickle.loads(data) == [Greeter('Gopher'), OrderedDict(a=1), datetime(2024, 1, 2, 3, 4, 5)]
//! let back = pyckle::loads(&data)?;
//! assert_eq!(pyckle::dumps(&back, 4)?, data);
//! # Ok::<(), pyckle::Error>(())
//! ```

use super::{Dict, Global, Graph, Object, PyStr, Record, RecordKind, Set, Value};
use crate::error::{Error, ErrorKind, Result};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use std::borrow::Cow;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid(msg.into()))
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl<'a> Graph<'a> {
    /// A `str`.
    pub fn str(&mut self, s: impl Into<Cow<'a, str>>) -> Value {
        self.add(Object::Str(PyStr::new(s)))
    }
    /// A `bytes`.
    pub fn bytes(&mut self, b: impl Into<Cow<'a, [u8]>>) -> Value {
        self.add(Object::Bytes(b.into()))
    }
    /// A `bytearray`.
    pub fn bytearray(&mut self, b: impl Into<Cow<'a, [u8]>>) -> Value {
        self.add(Object::ByteArray(b.into()))
    }
    /// An `int` of any size: inline when it fits in `i64`.
    pub fn int(&mut self, i: impl Into<BigInt>) -> Value {
        let i = i.into();
        match i.to_i64() {
            Some(small) => Value::Int(small),
            None => self.add(Object::Int(i)),
        }
    }
    /// A `list`.
    pub fn list(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.add(Object::List(items.into_iter().collect()))
    }
    /// A `tuple`.
    pub fn tuple(&mut self, items: impl IntoIterator<Item = Value>) -> Value {
        self.add(Object::Tuple(items.into_iter().collect()))
    }
    /// A `dict`, with Python's key semantics (a later equal key replaces the
    /// value and keeps the first one's place). Unhashable keys are an error.
    pub fn dict(&mut self, entries: impl IntoIterator<Item = (Value, Value)>) -> Result<Value> {
        let mut d = Dict::new();
        for (k, v) in entries {
            d.insert(self, k, v).map_err(invalid)?;
        }
        Ok(self.add(Object::Dict(d)))
    }
    /// A `set`.
    pub fn set(&mut self, items: impl IntoIterator<Item = Value>) -> Result<Value> {
        let s = self.collect_set(items)?;
        Ok(self.add(Object::Set(s)))
    }
    /// A `frozenset`.
    pub fn frozenset(&mut self, items: impl IntoIterator<Item = Value>) -> Result<Value> {
        let s = self.collect_set(items)?;
        Ok(self.add(Object::FrozenSet(s)))
    }
    fn collect_set(&self, items: impl IntoIterator<Item = Value>) -> Result<Set> {
        let mut s = Set::new();
        for v in items {
            s.insert(self, v).map_err(invalid)?;
        }
        Ok(s)
    }
    /// A class or function, by module and qualified name (`"Outer.Inner"`).
    pub fn global(&mut self, module: &str, qualname: &str) -> Value {
        self.add(Object::Global(Box::new(Global::new(module, qualname))))
    }
    /// `callable(*args)`: REDUCE.
    pub fn reduce(&mut self, callable: Value, args: impl IntoIterator<Item = Value>) -> Value {
        self.record(RecordKind::Reduce, callable, args)
    }
    /// `cls.__new__(cls, *args)`: NEWOBJ, what protocols 2 and up write
    /// for instances of most classes.
    pub fn new_object(&mut self, class: Value, args: impl IntoIterator<Item = Value>) -> Value {
        self.record(RecordKind::NewObj, class, args)
    }
    /// An instance of `module.qualname` made without calling `__init__`,
    /// with `state` (usually its `__dict__`) applied by BUILD: what
    /// `pickle.dumps` writes for an instance of a plain Python class.
    pub fn instance(&mut self, module: &str, qualname: &str, state: Option<Value>) -> Value {
        let class = self.global(module, qualname);
        let obj = self.new_object(class, []);
        if let Some(Object::Record(r)) = obj.obj().map(|id| &mut self.objects[id.index()]) {
            r.state = state;
        }
        obj
    }
    fn record(&mut self, kind: RecordKind, callable: Value, args: impl IntoIterator<Item = Value>) -> Value {
        let args = self.tuple(args);
        let record =
            Record { kind, callable, args, kwargs: None, state: None, items: Vec::new(), dict_items: Vec::new() };
        self.add(Object::Record(Box::new(record)))
    }
    /// A persistent id (written PERSID/BINPERSID).
    pub fn persistent_id(&mut self, pid: Value) -> Value {
        self.add(Object::PersistentId(pid))
    }
    /// The record `v` refers to, to set its kwargs, state or items.
    pub fn record_mut(&mut self, v: Value) -> Option<&mut Record> {
        match v.obj().and_then(|id| self.objects.get_mut(id.index())) {
            Some(Object::Record(r)) => Some(r),
            _ => None,
        }
    }
    /// Sets the BUILD state of a record (`obj.__setstate__(state)` or its `__dict__`).
    pub fn set_state(&mut self, obj: Value, state: Value) -> Result<()> {
        let r = self.record_mut(obj).ok_or_else(|| invalid("set_state: not an object record"))?;
        r.state = Some(state);
        Ok(())
    }
    /// `list.append(item)`; on a record, an item APPENDed to it.
    pub fn append(&mut self, container: Value, item: Value) -> Result<()> {
        match container.obj().and_then(|id| self.objects.get_mut(id.index())) {
            Some(Object::List(items)) => items.push(item),
            Some(Object::Record(r)) => r.items.push(item),
            Some(other) => return Err(invalid(format!("append: a {} has no append", other.type_name()))),
            None => return Err(invalid("append: not an object of this graph")),
        }
        Ok(())
    }
    /// `d[key] = value`; on a record, an item SETITEMed on it.
    pub fn set_item(&mut self, container: Value, key: Value, value: Value) -> Result<()> {
        let id = container.obj().filter(|id| id.index() < self.objects.len());
        let id = id.ok_or_else(|| invalid("set_item: not an object of this graph"))?;
        match &mut self.objects[id.index()] {
            Object::Record(r) => {
                r.dict_items.push((key, value));
                return Ok(());
            }
            Object::Dict(_) => {}
            other => return Err(invalid(format!("set_item: a {} takes no items", other.type_name()))),
        }
        let Object::Dict(mut d) = self.take(id) else { return Err(invalid("set_item: not a dict")) };
        let done = d.insert(self, key, value);
        self.put_back(id, Object::Dict(d));
        done.map_err(invalid)
    }
    /// `s.add(item)` on a set.
    pub fn add_item(&mut self, set: Value, item: Value) -> Result<()> {
        let id = set.obj().filter(|id| matches!(self.objects.get(id.index()), Some(Object::Set(_))));
        let id = id.ok_or_else(|| invalid("add_item: not a set of this graph"))?;
        let Object::Set(mut s) = self.take(id) else { return Err(invalid("add_item: not a set")) };
        let done = s.insert(self, item);
        self.put_back(id, Object::Set(s));
        done.map_err(invalid)
    }
}
