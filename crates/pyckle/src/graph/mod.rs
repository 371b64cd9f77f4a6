//! The object graph a pickle builds.
//!
//! Every object the pickle program creates is a node in an arena
//! ([`Graph`]), named by an [`ObjId`]; scalars (None, bools, small ints,
//! floats) live inline in a [`Value`]. Sharing and cycles are just two
//! [`Value::Obj`] holding the same id, so they cost nothing, need no `Rc`,
//! and dropping a graph of any depth never recurses.

mod build;
mod keys;
mod pystr;

pub use keys::{Dict, Set};
pub(crate) use keys::{KeyError, KeyWork};
pub use pystr::PyStr;

use num_bigint::BigInt;
use std::borrow::Cow;

/// The id of an object in a [`Graph`]: its index in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub(crate) u32);

impl ObjId {
    /// The index of the object in the graph's arena (0 is the first object the pickle made).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A value: a scalar held inline, or a reference to an object of the graph.
///
/// `repr(u64)`: a word of tag, a word of payload, no padding, so copying a
/// `Value` is two word moves. With padding between tag and payload the
/// compiler copied those bytes too, in overlapping pieces that stalled
/// store forwarding on every memo GET.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(u64)]
pub enum Value {
    None,
    Bool(bool),
    /// An int that fits in `i64`; larger ones are [`Object::Int`].
    Int(i64),
    Float(f64),
    Obj(ObjId),
}

impl Value {
    /// The object id, when the value is a reference.
    pub fn obj(self) -> Option<ObjId> {
        match self {
            Value::Obj(id) => Some(id),
            _ => None,
        }
    }
}

/// A Python class or function, named by module and qualified name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub module: String,
    pub name: String,
}

impl Global {
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Self {
        Global { module: module.into(), name: name.into() }
    }
    /// True for `module.name`.
    pub fn is(&self, module: &str, name: &str) -> bool {
        self.module == module && self.name == name
    }
}

/// The name CPython gives a global it knows under two names: what
/// `__module__` and `__qualname__` of the object say (`builtins.IOError`
/// is `builtins.OSError`).
pub(crate) fn canonical_name<'s>(module: &'s str, name: &'s str) -> (&'s str, &'s str) {
    match (module, name) {
        ("builtins", "IOError" | "EnvironmentError") => ("builtins", "OSError"),
        ("functools", "reduce") => ("_functools", "reduce"),
        _ => (module, name),
    }
}

/// The callables of `builtins` that are not classes (Python 3.11), sorted:
/// NEWOBJ of one of them is refused, as CPython refuses it.
pub(crate) const BUILTIN_FUNCTIONS: &[&str] = &[
    "__build_class__",
    "__import__",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "breakpoint",
    "callable",
    "chr",
    "compile",
    "copyright",
    "credits",
    "delattr",
    "dir",
    "divmod",
    "eval",
    "exec",
    "exit",
    "format",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "locals",
    "max",
    "min",
    "next",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "quit",
    "repr",
    "round",
    "setattr",
    "sorted",
    "sum",
    "vars",
];

/// True when `v` can be a class for NEWOBJ, NEWOBJ_EX, INST and OBJ, as
/// the decoder judges it: a global that is not a builtin function, or an
/// object it cannot see into (a record, a persistent id).
pub(crate) fn may_be_class(graph: &Graph, v: Value) -> bool {
    match graph.object(v) {
        Some(Object::Global(g)) => {
            !(g.module == "builtins" && BUILTIN_FUNCTIONS.binary_search(&g.name.as_str()).is_ok())
        }
        Some(Object::Record(_)) | Some(Object::PersistentId(_)) => true,
        _ => false,
    }
}

/// How the pickle made an object record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// `callable(*args)` (REDUCE).
    Reduce,
    /// `cls.__new__(cls, *args)` (NEWOBJ).
    NewObj,
    /// `cls.__new__(cls, *args, **kwargs)` (NEWOBJ_EX).
    NewObjEx,
    /// INST: the class named inline, the args from the mark.
    Inst,
    /// OBJ: the class and args from the mark.
    Obj,
}

/// An object of a class pyckle does not turn into a core type, recorded as
/// what its pickle said about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub kind: RecordKind,
    /// The callable (REDUCE) or the class (NEWOBJ, NEWOBJ_EX, INST, OBJ).
    pub callable: Value,
    /// The positional arguments: always a tuple object.
    pub args: Value,
    /// The keyword arguments of NEWOBJ_EX: a dict object.
    pub kwargs: Option<Value>,
    /// The argument of BUILD, when BUILD ran (the last one, if it ran twice).
    pub state: Option<Value>,
    /// What APPEND and APPENDS added to it.
    pub items: Vec<Value>,
    /// What SETITEM and SETITEMS set on it.
    pub dict_items: Vec<(Value, Value)>,
}

impl Record {
    /// True for a record made from a class (NEWOBJ, NEWOBJ_EX, INST, OBJ)
    /// rather than by calling a callable (REDUCE).
    pub fn is_new(&self) -> bool {
        !matches!(self.kind, RecordKind::Reduce)
    }
}

/// An out-of-band buffer of protocol 5 (NEXT_BUFFER), made read-only by READONLY_BUFFER.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer<'a> {
    /// Which of the out-of-band buffers (0 for the first NEXT_BUFFER).
    pub index: usize,
    pub readonly: bool,
    pub data: Cow<'a, [u8]>,
}

/// An object of the graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Object<'a> {
    /// An int that does not fit in `i64`.
    Int(BigInt),
    Str(PyStr<'a>),
    Bytes(Cow<'a, [u8]>),
    ByteArray(Cow<'a, [u8]>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Dict),
    Set(Set),
    FrozenSet(Set),
    /// Boxed, as `Record` and `Buffer` are: they are rare, and inline
    /// they would make every object of the arena bigger (the largest
    /// variants left, `Str`, `Dict`, `Set` and `Int`, take 32 bytes, so an
    /// `Object` takes 40).
    Global(Box<Global>),
    Record(Box<Record>),
    /// A persistent id (PERSID/BINPERSID) that no hook resolved.
    PersistentId(Value),
    Buffer(Box<Buffer<'a>>),
}

impl Object<'_> {
    /// Python's type name of the object, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Int(_) => "int",
            Object::Str(_) => "str",
            Object::Bytes(_) => "bytes",
            Object::ByteArray(_) => "bytearray",
            Object::List(_) => "list",
            Object::Tuple(_) => "tuple",
            Object::Dict(_) => "dict",
            Object::Set(_) => "set",
            Object::FrozenSet(_) => "frozenset",
            Object::Global(_) => "global",
            Object::Record(_) => "object",
            Object::PersistentId(_) => "persistent id",
            Object::Buffer(_) => "PickleBuffer",
        }
    }
}

/// The graph one pickle built: the arena of objects and the root value.
#[derive(Clone, Debug)]
pub struct Graph<'a> {
    pub(crate) objects: Vec<Object<'a>>,
    pub(crate) root: Value,
    pub(crate) protocol: u8,
    pub(crate) hasher: hashbrown::DefaultHashBuilder,
}

impl Default for Graph<'_> {
    fn default() -> Self {
        Graph::new()
    }
}

impl<'a> Graph<'a> {
    /// An empty graph whose root is `None`.
    pub fn new() -> Self {
        Graph { objects: Vec::new(), root: Value::None, protocol: 0, hasher: Default::default() }
    }
    /// The value the pickle returned.
    pub fn root(&self) -> Value {
        self.root
    }
    pub fn set_root(&mut self, root: Value) {
        self.root = root;
    }
    /// The protocol of the pickle: its PROTO opcode, or 0 or 1 (guessed from
    /// its first opcode, as `canonical.py` does) when it has none.
    pub fn protocol(&self) -> u8 {
        self.protocol
    }
    pub fn set_protocol(&mut self, protocol: u8) {
        self.protocol = protocol;
    }
    /// The number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
    /// The object `id` names. Panics if `id` is not of this graph.
    pub fn get(&self, id: ObjId) -> &Object<'a> {
        &self.objects[id.index()]
    }
    /// The object `id` names, or `None` for an id of another graph.
    pub fn try_get(&self, id: ObjId) -> Option<&Object<'a>> {
        self.objects.get(id.index())
    }
    pub fn get_mut(&mut self, id: ObjId) -> &mut Object<'a> {
        &mut self.objects[id.index()]
    }
    /// Adds an object and returns its value.
    pub fn add(&mut self, obj: Object<'a>) -> Value {
        let id = ObjId(self.objects.len() as u32);
        self.objects.push(obj);
        Value::Obj(id)
    }
    /// Every object with its id, in the order they were made.
    pub fn objects(&self) -> impl ExactSizeIterator<Item = (ObjId, &Object<'a>)> {
        self.objects.iter().enumerate().map(|(i, o)| (ObjId(i as u32), o))
    }
    /// The object a value refers to, if it does.
    pub fn object(&self, v: Value) -> Option<&Object<'a>> {
        v.obj().and_then(|id| self.try_get(id))
    }
    /// The text of a `str` value, when it is valid UTF-8.
    pub fn as_str(&self, v: Value) -> Option<&str> {
        match self.object(v) {
            Some(Object::Str(s)) => s.as_str(),
            _ => None,
        }
    }
    /// The items of a tuple value.
    pub fn as_tuple(&self, v: Value) -> Option<&[Value]> {
        match self.object(v) {
            Some(Object::Tuple(t)) => Some(t),
            _ => None,
        }
    }
    /// The global a value refers to.
    pub fn as_global(&self, v: Value) -> Option<&Global> {
        match self.object(v) {
            Some(Object::Global(g)) => Some(&**g),
            _ => None,
        }
    }
    /// The record a value refers to.
    pub fn as_record(&self, v: Value) -> Option<&Record> {
        match self.object(v) {
            Some(Object::Record(r)) => Some(r),
            _ => None,
        }
    }
    /// Makes every borrowed payload owned, so the graph outlives its input.
    pub fn into_owned(self) -> Graph<'static> {
        let objects = self
            .objects
            .into_iter()
            .map(|o| match o {
                Object::Int(i) => Object::Int(i),
                Object::Str(s) => Object::Str(s.into_owned()),
                Object::Bytes(b) => Object::Bytes(Cow::Owned(b.into_owned())),
                Object::ByteArray(b) => Object::ByteArray(Cow::Owned(b.into_owned())),
                Object::List(v) => Object::List(v),
                Object::Tuple(v) => Object::Tuple(v),
                Object::Dict(d) => Object::Dict(d),
                Object::Set(s) => Object::Set(s),
                Object::FrozenSet(s) => Object::FrozenSet(s),
                Object::Global(g) => Object::Global(g),
                Object::Record(r) => Object::Record(r),
                Object::PersistentId(v) => Object::PersistentId(v),
                Object::Buffer(b) => Object::Buffer(Box::new(Buffer {
                    index: b.index,
                    readonly: b.readonly,
                    data: Cow::Owned(b.data.into_owned()),
                })),
            })
            .collect();
        Graph { objects, root: self.root, protocol: self.protocol, hasher: self.hasher }
    }
}

// The hot path relies on these sizes: 16 bytes a value, also as an option.
const _: () = assert!(std::mem::size_of::<Value>() == 16);
const _: () = assert!(std::mem::size_of::<Option<Value>>() == 16);
