//! The Deserializer over the object graph.
//!
//! A pickle is first decoded into its [`Graph`] (no code runs); the
//! [`Deserializer`] then walks one value of the graph as serde asks for
//! it. How each Python object looks to serde:
//!
//! | Python | serde |
//! |---|---|
//! | `None` | unit, `Option::None` |
//! | `bool` | bool |
//! | `int` | any integer type (range-checked; ints past `i64` into `i128`/`u128`, or any size with [`bigint`](super::bigint)), `f32`/`f64` |
//! | `float` | `f32`/`f64` |
//! | `str` | `&str` (borrowed from the input when the decoder borrowed it), `String`, `char` (one code point) |
//! | `bytes`, `bytearray`, `PickleBuffer` | bytes (`serde_bytes`), or a sequence of `u8` (`Vec<u8>`) |
//! | `list`, `tuple`, `set`, `frozenset` | sequence, tuple, tuple struct, struct as sequence |
//! | `dict` | map (keys of any type: `HashMap<(i64, i64), _>`), struct |
//! | an instance with `__dict__` (BUILD state) | struct, map: its attributes; CPython's slot state `(dict or None, slots)` is merged |
//! | an instance made from args without state (`namedtuple`) | sequence (struct as sequence, tuple struct) |
//! | a `dict` / `list` subclass instance | map / sequence of its items |
//! | `cls(x)` with one argument and no state (an `enum.Enum` member by value) | `x` itself |
//! | an `Enum` member by name (`getattr(Color, 'RED')`, global `Color.RED`) | the enum variant `RED` |
//! | a class or function (a global) | the str `"module.qualname"` |
//! | standard-library objects | their natural serde form, see [`Deserializer`] |
//!
//! Enums: `'Variant'`, `{'Variant': data}` (serde's standard form) and
//! `('Variant',)`, `('Variant', data)` (serde-pickle's form).

use super::error::{Error, Result};
use crate::classes::stdlib::{self, Std, TimeDelta, TzInfo};
use crate::decode::{DecodeOptions, StringEncoding, Unpickler};
use crate::graph::{Global, Graph, ObjId, Object, PyStr, Record, RecordKind, Value};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, DeserializeSeed, Expected, Visitor};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};

/// The newtype-struct name through which [`bigint`](super::bigint) asks
/// pyckle's Deserializer for an int of any size (answered with its decimal
/// digits as a str), and tells the Serializer to write one.
pub const BIGINT_MAGIC: &str = "$pyckle::BigInt";

/// Options of deserialization: serde-pickle's `DeOptions` (same builder
/// methods), and pyckle's own.
///
/// ```
/// use pyckle::serde::DeOptions;
/// let opts = DeOptions::new().decode_strings().replace_recursive_structures().max_depth(64);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
pub struct DeOptions {
    decode: DecodeOptions,
    keep_restore_state: bool,
    replace_unresolved_globals: bool,
    replace_recursive_structures: bool,
    keep_persistent_ids: bool,
    max_depth: usize,
    max_values: Option<u64>,
}

impl Default for DeOptions {
    fn default() -> Self {
        let decode = DecodeOptions { encoding: StringEncoding::Bytes, ..DecodeOptions::default() };
        DeOptions {
            decode,
            keep_restore_state: false,
            replace_unresolved_globals: false,
            replace_recursive_structures: false,
            keep_persistent_ids: false,
            max_depth: super::DEFAULT_MAX_DEPTH,
            max_values: None,
        }
    }
}

impl DeOptions {
    /// The defaults: Python 2 `str` stays `bytes` (as in serde-pickle; a
    /// `String` field still accepts UTF-8 bytes), globals are
    /// `"module.name"` strings, recursive structures and persistent ids
    /// are errors, nesting is limited to 256 levels.
    pub fn new() -> Self {
        DeOptions::default()
    }

    /// Decodes Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING) as UTF-8
    /// text rather than keeping it as `bytes` (serde-pickle's meaning).
    /// Sets the `encoding` of the current [`decode_options`](Self::decode_options)
    /// to [`StringEncoding::Utf8`]: call it after `decode_options`.
    pub fn decode_strings(mut self) -> Self {
        self.decode.encoding = StringEncoding::Utf8;
        self
    }

    /// Accepted for serde-pickle compatibility; pyckle always keeps it.
    ///
    /// In serde-pickle this option keeps the state BUILD restores (and the
    /// args of NEWOBJ) rather than dropping it. pyckle's graph always
    /// keeps both: an instance deserializes from its BUILD state, and an
    /// instance without state from its constructor args (a `namedtuple`),
    /// so the option changes nothing.
    pub fn keep_restore_state(mut self) -> Self {
        self.keep_restore_state = true;
        self
    }

    /// A class or function found as a value (a global), or a persistent id,
    /// deserializes as unit / `None` instead of `"module.name"` (or an error).
    ///
    /// serde-pickle refuses every global it cannot interpret and this
    /// option makes them `None`; pyckle interprets instances of unknown
    /// classes by their state, so only bare globals (and unresolved
    /// persistent ids) are affected.
    pub fn replace_unresolved_globals(mut self) -> Self {
        self.replace_unresolved_globals = true;
        self
    }

    /// A value met again while it is being deserialized (a list that
    /// contains itself) deserializes as unit / `None` instead of an error.
    /// Sharing without a cycle is never an error: the shared value is
    /// deserialized once per reference.
    pub fn replace_recursive_structures(mut self) -> Self {
        self.replace_recursive_structures = true;
        self
    }

    /// pyckle: a persistent id (PERSID/BINPERSID, e.g. PyTorch's storages)
    /// deserializes as the id value itself (usually a tuple or a str)
    /// instead of being an error.
    pub fn keep_persistent_ids(mut self) -> Self {
        self.keep_persistent_ids = true;
        self
    }

    /// pyckle: the options of the decoder (`encoding`, `errors`,
    /// `fix_imports`, limits) for [`from_slice`] and [`from_reader`].
    /// The default is [`DecodeOptions::default`] with `encoding` =
    /// [`StringEncoding::Bytes`].
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode = options;
        self
    }

    /// pyckle: the deepest nesting of containers deserialized (default
    /// 256); deeper is an error, never a stack overflow.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// pyckle: how many values may be visited in all. A shared object is
    /// deserialized once per reference, so a few KB of pickle can expand
    /// exponentially; the default is 10 million plus 8 per value slot of
    /// the graph, which no pickle without such sharing reaches.
    pub fn max_values(mut self, n: u64) -> Self {
        self.max_values = Some(n);
        self
    }

    /// The decoder options in effect.
    pub fn decode(&self) -> &DecodeOptions {
        &self.decode
    }
}

/// Decodes a pickle from a byte slice into `T`; `&str` and `&[u8]` fields
/// may borrow from `data`. Bytes after the pickle's STOP are an error (as
/// in serde-pickle).
///
/// ```
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Layer {
///     name: String,
///     weight: f64,
///     shape: (u32, u32),
/// }
///
/// // pickle.dumps({'name': 'fc1', 'weight': 0.5, 'shape': (3, 4)}, protocol=2)
/// let data = b"\x80\x02}q\x00(X\x04\x00\x00\x00nameq\x01X\x03\x00\x00\x00fc1q\x02X\x06\x00\x00\x00weightq\x03G?\xe0\x00\x00\x00\x00\x00\x00X\x05\x00\x00\x00shapeq\x04K\x03K\x04\x86q\x05u.";
/// let layer: Layer = pyckle::serde::from_slice(data, Default::default())?;
/// assert_eq!(layer, Layer { name: "fc1".into(), weight: 0.5, shape: (3, 4) });
/// # Ok::<(), pyckle::serde::Error>(())
/// ```
pub fn from_slice<'de, T: serde::Deserialize<'de>>(data: &'de [u8], options: DeOptions) -> Result<T> {
    let (graph, rest) = Unpickler::new(options.decode.clone()).loads_prefix(data)?;
    if !rest.is_empty() {
        return Err(Error::new(format!("{} trailing bytes after the pickle's STOP", rest.len())));
    }
    from_graph(&graph, &options)
}

/// Decodes one pickle from a reader into `T`, consuming exactly its bytes
/// (not a byte past its STOP: [`Unpickler::load_unbuffered`]), so pickles
/// written back to back can be read one by one.
pub fn from_reader<R: std::io::Read, T: serde::de::DeserializeOwned>(mut reader: R, options: DeOptions) -> Result<T> {
    let graph = Unpickler::new(options.decode.clone()).load_unbuffered(&mut reader)?;
    from_graph(&graph, &options)
}

/// Deserializes `T` from the root of a decoded graph.
pub fn from_graph<'de, T: serde::Deserialize<'de>>(graph: &Graph<'de>, options: &DeOptions) -> Result<T> {
    from_value(graph, graph.root(), options)
}

/// Deserializes `T` from one value of a decoded graph.
pub fn from_value<'de, T: serde::Deserialize<'de>>(graph: &Graph<'de>, value: Value, options: &DeOptions) -> Result<T> {
    let mut de = Deserializer::new(graph, value, options);
    T::deserialize(&mut de)
}

/// A serde Deserializer over one value of a graph.
///
/// `&mut Deserializer` implements [`serde::Deserializer`], so it works with
/// helpers such as `serde_path_to_error`:
///
/// ```
/// use pyckle::serde::{DeOptions, Deserializer};
/// use serde::Deserialize;
///
/// let graph = pyckle::loads(b"\x80\x04]\x94(K\x01K\x02e.")?; // [1, 2]
/// let mut de = Deserializer::new(&graph, graph.root(), &DeOptions::new());
/// let v = Vec::<u8>::deserialize(&mut de)?;
/// assert_eq!(v, [1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Standard-library objects (as [`stdlib::recognize`] finds them) take
/// the forms the well-known crates deserialize from:
///
/// - `datetime`, `date`, `time`: ISO 8601 strings as `isoformat()` writes
///   them and chrono parses them (`2024-01-02T03:04:05.000006`, with
///   `+01:00` when a fixed-offset `timezone` is set; a `zoneinfo` or other
///   tzinfo adds nothing, as its offset needs a time zone database);
/// - `timedelta`: a map `{days, seconds, microseconds}` of Python's
///   normalized fields;
/// - `timezone`: its offset `"+01:00"`; a `ZoneInfo`: its key;
/// - `Decimal`: its `str()` (rust_decimal parses it);
/// - `Fraction`: `"n/d"` when a str is asked for, else the sequence
///   `(n, d)` (num-rational's form);
/// - `UUID`: the hyphenated str, or its 16 bytes when bytes are asked for;
/// - `complex`: the sequence `(re, im)` (num-complex's form);
/// - `OrderedDict`, `defaultdict`, `Counter`, `SimpleNamespace`: maps;
/// - `deque`, `array.array`: sequences (`array('u')`: a str);
/// - `range`, `slice`: maps `{start, stop, step}`;
/// - `pathlib` paths: the path str;
/// - `Enum` members: their value (so `serde_repr` enums match int
///   values), or as an enum the variant named by a str value or by the
///   member's name.
pub struct Deserializer<'g, 'de> {
    ctx: Ctx<'g, 'de>,
    value: Value,
}

impl<'g, 'de> Deserializer<'g, 'de> {
    /// A Deserializer over `value`, a value of `graph`.
    pub fn new(graph: &'g Graph<'de>, value: Value, options: &DeOptions) -> Self {
        Deserializer { ctx: Ctx::new(graph, options), value }
    }
}

// ---------------------------------------------------------------------------
// The context shared by every nested deserializer: the graph, the options,
// the objects being deserialized (for cycles and depth) and the budget.

struct Ctx<'g, 'de> {
    graph: &'g Graph<'de>,
    replace_globals: bool,
    replace_recursive: bool,
    keep_pids: bool,
    max_depth: usize,
    max_values: u64,
    /// The objects being deserialized, outermost first.
    active: RefCell<Vec<ObjId>>,
    visits: Cell<u64>,
}

impl<'g, 'de> Ctx<'g, 'de> {
    fn new(graph: &'g Graph<'de>, o: &DeOptions) -> Self {
        let max_values = o.max_values.unwrap_or_else(|| {
            let slots: u64 = graph
                .objects()
                .map(|(_, obj)| {
                    1 + match obj {
                        Object::List(v) | Object::Tuple(v) => v.len() as u64,
                        Object::Dict(d) => 2 * d.len() as u64,
                        Object::Set(s) | Object::FrozenSet(s) => s.len() as u64,
                        Object::Record(r) => 4 + r.items.len() as u64 + 2 * r.dict_items.len() as u64,
                        _ => 0,
                    }
                })
                .sum();
            10_000_000u64.saturating_add(slots.saturating_mul(8))
        });
        Ctx {
            graph,
            replace_globals: o.replace_unresolved_globals,
            replace_recursive: o.replace_recursive_structures,
            keep_pids: o.keep_persistent_ids,
            max_depth: o.max_depth,
            max_values,
            active: RefCell::new(Vec::new()),
            visits: Cell::new(0),
        }
    }

    /// Resolves a node into what it shows serde, entering (for cycle and
    /// depth checks) every object on the way; the guard leaves them.
    fn resolve<'c>(&'c self, mut node: Node<'g, 'de>) -> Result<Resolved<'c, 'g, 'de>> {
        let mut guard = Guard { active: &self.active, n: 0 };
        let mut origin = None;
        loop {
            let v = match node {
                Node::Val(v) => v,
                other => return Ok(Resolved { kind: Kind::from_node(other), origin, _guard: guard }),
            };
            let n = self.visits.get() + 1;
            self.visits.set(n);
            if n > self.max_values {
                return Err(Error::new(format!(
                    "the value expands to more than {} values through shared references (DeOptions::max_values)",
                    self.max_values
                )));
            }
            let id = match v {
                Value::None => return Ok(Resolved { kind: Kind::None, origin: Some(v), _guard: guard }),
                Value::Bool(b) => return Ok(Resolved { kind: Kind::Bool(b), origin: Some(v), _guard: guard }),
                Value::Int(i) => return Ok(Resolved { kind: Kind::Int(i), origin: Some(v), _guard: guard }),
                Value::Float(f) => return Ok(Resolved { kind: Kind::Float(f), origin: Some(v), _guard: guard }),
                Value::Obj(id) => id,
            };
            origin = Some(v);
            let Some(obj) = self.graph.try_get(id) else {
                return Err(Error::new(format!("object id {} is not of this graph", id.index())));
            };
            if matches!(obj, Object::Str(_) | Object::Bytes(_) | Object::ByteArray(_) | Object::Int(_)) {
                // Leaves: they cannot contain anything, so no cycle check.
                return Ok(Resolved { kind: self.classify(v, obj)?, origin, _guard: guard });
            }
            if self.active.borrow().contains(&id) {
                if self.replace_recursive {
                    return Ok(Resolved { kind: Kind::None, origin: Some(Value::None), _guard: guard });
                }
                return Err(Error::new(format!(
                    "recursive structure: this {} contains itself (DeOptions::replace_recursive_structures makes it None)",
                    describe(self.graph, v)
                )));
            }
            if self.active.borrow().len() >= self.max_depth {
                return Err(Error::new(format!("nesting deeper than {} levels (DeOptions::max_depth)", self.max_depth)));
            }
            self.active.borrow_mut().push(id);
            guard.n += 1;
            match self.classify(v, obj)? {
                Kind::Delegate(next) => node = next,
                kind => return Ok(Resolved { kind, origin, _guard: guard }),
            }
        }
    }

    fn classify(&self, v: Value, obj: &'g Object<'de>) -> Result<Kind<'g, 'de>> {
        Ok(match obj {
            Object::Int(b) => Kind::Big(Cow::Borrowed(b)),
            Object::Str(s) => Kind::Str(S::Py(s)),
            Object::Bytes(b) | Object::ByteArray(b) => Kind::Bytes(B::Graph(b)),
            Object::Buffer(b) => Kind::Bytes(B::Graph(&b.data)),
            Object::List(items) | Object::Tuple(items) => Kind::Seq(Items::Vals(items)),
            Object::Set(s) | Object::FrozenSet(s) => Kind::Seq(Items::Vals(s.items())),
            Object::Dict(d) => Kind::Map(Pairs::Vals(d.entries(), &[])),
            Object::Global(g) => match stdlib::recognize(self.graph, v) {
                Some(std) => std_kind(std?),
                None => Kind::Global(g),
            },
            Object::Record(r) => self.classify_record(v, r)?,
            Object::PersistentId(p) if self.keep_pids => Kind::Delegate(Node::Val(*p)),
            Object::PersistentId(p) => Kind::Pid(*p),
        })
    }

    fn classify_record(&self, v: Value, r: &'g Record) -> Result<Kind<'g, 'de>> {
        let graph = self.graph;
        if let Some(std) = stdlib::recognize(graph, v) {
            return Ok(std_kind(std?));
        }
        if !r.dict_items.is_empty() {
            return Ok(Kind::Map(Pairs::Vals(&r.dict_items, &[])));
        }
        if !r.items.is_empty() {
            return Ok(Kind::Seq(Items::Vals(&r.items)));
        }
        if let Some(state) = r.state.filter(|s| *s != Value::None) {
            return Ok(match graph.object(state) {
                Some(Object::Dict(d)) => Kind::Map(Pairs::Vals(d.entries(), &[])),
                Some(Object::Tuple(t)) if t.len() == 2 && slot_state(graph, t[0], t[1]).is_some() => {
                    let (a, b) = slot_state(graph, t[0], t[1]).unwrap_or((&[], &[]));
                    Kind::Map(Pairs::Vals(a, b))
                }
                _ => Kind::Delegate(Node::Val(state)),
            });
        }
        let args = graph.as_tuple(r.args).unwrap_or(&[]);
        if graph.as_global(r.callable).is_some_and(|g| g.is("copyreg", "_reconstructor")) && args.len() == 3 {
            // copyreg._reconstructor(cls, base, base_state): protocols 0 and 1.
            return Ok(if args[2] == Value::None {
                Kind::Map(Pairs::Vals(&[], &[]))
            } else {
                Kind::Delegate(Node::Val(args[2]))
            });
        }
        if r.kind == RecordKind::Reduce && args.len() == 1 && r.kwargs.is_none() {
            return Ok(Kind::Delegate(Node::Val(args[0])));
        }
        let kwargs = match r.kwargs.and_then(|k| graph.object(k)) {
            Some(Object::Dict(d)) => d.entries(),
            _ => &[],
        };
        Ok(Kind::Args { items: args, kwargs })
    }
}

/// CPython's state of an object with `__slots__`: `(dict or None, slots dict)`.
type Entries<'g> = &'g [(Value, Value)];

fn slot_state<'g>(graph: &'g Graph<'_>, a: Value, b: Value) -> Option<(Entries<'g>, Entries<'g>)> {
    let first: &[(Value, Value)] = match graph.object(a) {
        _ if a == Value::None => &[],
        Some(Object::Dict(d)) => d.entries(),
        _ => return None,
    };
    match graph.object(b) {
        Some(Object::Dict(d)) => Some((first, d.entries())),
        _ => None,
    }
}

struct Guard<'c> {
    active: &'c RefCell<Vec<ObjId>>,
    n: usize,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mut a = self.active.borrow_mut();
        let keep = a.len().saturating_sub(self.n);
        a.truncate(keep);
    }
}

struct Resolved<'c, 'g, 'de> {
    kind: Kind<'g, 'de>,
    /// The graph value the kind came from, for messages.
    origin: Option<Value>,
    _guard: Guard<'c>,
}

/// What the deserializer is asked to walk: a value of the graph, or a
/// value made up to present a standard-library object.
#[derive(Clone, Debug)]
enum Node<'g, 'de> {
    Val(Value),
    None,
    Int(i64),
    Big(BigInt),
    Float(f64),
    Str(String),
    PyStr(&'g PyStr<'de>),
}

enum S<'g, 'de> {
    Py(&'g PyStr<'de>),
    Own(String),
}

enum B<'g, 'de> {
    Graph(&'g Cow<'de, [u8]>),
}

enum Items<'g, 'de> {
    Vals(&'g [Value]),
    Nodes(Vec<Node<'g, 'de>>),
}

enum Pairs<'g, 'de> {
    /// Entries, then more entries (CPython's slot state: the `__dict__`, then the slots).
    Vals(&'g [(Value, Value)], &'g [(Value, Value)]),
    Nodes(Vec<(Node<'g, 'de>, Node<'g, 'de>)>),
}

enum Kind<'g, 'de> {
    None,
    Bool(bool),
    Int(i64),
    Big(Cow<'g, BigInt>),
    Float(f64),
    Str(S<'g, 'de>),
    Bytes(B<'g, 'de>),
    Seq(Items<'g, 'de>),
    Map(Pairs<'g, 'de>),
    /// An instance made from args without state: a sequence, or a map
    /// (of its keyword args) when there are no positional ones.
    Args {
        items: &'g [Value],
        kwargs: &'g [(Value, Value)],
    },
    Global(&'g Global),
    Pid(Value),
    EnumName(String),
    Fraction(BigInt, BigInt),
    Uuid(u128),
    /// Stands for another value (resolved before a method sees it).
    Delegate(Node<'g, 'de>),
}

impl<'g, 'de> Kind<'g, 'de> {
    fn from_node(n: Node<'g, 'de>) -> Self {
        match n {
            Node::Val(_) => unreachable!("resolved by Ctx::resolve"),
            Node::None => Kind::None,
            Node::Int(i) => Kind::Int(i),
            Node::Big(b) => Kind::Big(Cow::Owned(b)),
            Node::Float(f) => Kind::Float(f),
            Node::Str(s) => Kind::Str(S::Own(s)),
            Node::PyStr(s) => Kind::Str(S::Py(s)),
        }
    }

    /// A Python description of a made-up value, for messages.
    fn describe(&self) -> String {
        match self {
            Kind::None => "None".into(),
            Kind::Bool(b) => format!("bool {}", if *b { "True" } else { "False" }),
            Kind::Int(i) => format!("int {i}"),
            Kind::Big(b) => format!("int {}", short(&b.to_string())),
            Kind::Float(f) => format!("float {}", crate::pyrepr::repr_float(*f)),
            Kind::Str(S::Own(s)) => format!("str {:?}", short(s)),
            Kind::Str(S::Py(s)) => format!("str {:?}", short(&s.to_string_lossy())),
            Kind::Bytes(_) => "bytes".into(),
            Kind::Seq(_) => "sequence".into(),
            Kind::Map(_) => "mapping".into(),
            Kind::Args { .. } => "object".into(),
            Kind::Global(g) => format!("global {}.{}", g.module, g.name),
            Kind::Pid(_) => "persistent id".into(),
            Kind::EnumName(n) => format!("enum member {n}"),
            Kind::Fraction(..) => "Fraction".into(),
            Kind::Uuid(_) => "UUID".into(),
            Kind::Delegate(_) => "value".into(),
        }
    }
}

fn int_node(b: BigInt) -> Node<'static, 'static> {
    match b.to_i64() {
        Some(i) => Node::Int(i),
        None => Node::Big(b),
    }
}

fn vals<'g, 'de>(items: Vec<(Value, Value)>) -> Vec<(Node<'g, 'de>, Node<'g, 'de>)> {
    items.into_iter().map(|(k, v)| (Node::Val(k), Node::Val(v))).collect()
}

fn fields3<'g, 'de>(a: Node<'g, 'de>, b: Node<'g, 'de>, c: Node<'g, 'de>, names: [&str; 3]) -> Kind<'g, 'de> {
    Kind::Map(Pairs::Nodes(vec![
        (Node::Str(names[0].into()), a),
        (Node::Str(names[1].into()), b),
        (Node::Str(names[2].into()), c),
    ]))
}

fn std_kind<'g, 'de>(std: Std) -> Kind<'g, 'de> {
    #[allow(unreachable_patterns)]
    match std {
        Std::Complex(c) => Kind::Seq(Items::Nodes(vec![Node::Float(c.re), Node::Float(c.im)])),
        Std::Date(d) => Kind::Str(S::Own(fmt_date(&d))),
        Std::Time(t) => Kind::Str(S::Own(fmt_time(&t))),
        Std::DateTime(dt) => Kind::Str(S::Own(format!("{}T{}", fmt_date(&dt.date), fmt_time(&dt.time)))),
        Std::TimeDelta(td) => fields3(
            Node::Int(td.days.into()),
            Node::Int(td.seconds.into()),
            Node::Int(td.microseconds.into()),
            ["days", "seconds", "microseconds"],
        ),
        Std::TimeZone(TzInfo::Fixed { offset, .. }) => Kind::Str(S::Own(fmt_offset(&offset))),
        Std::TimeZone(TzInfo::Zone(key)) => Kind::Str(S::Own(key)),
        Std::TimeZone(TzInfo::Other(v)) => Kind::Delegate(Node::Val(v)),
        Std::Decimal(d) => Kind::Str(S::Own(d.0)),
        Std::Fraction(f) => Kind::Fraction(f.numerator, f.denominator),
        Std::Uuid(u) => Kind::Uuid(u.0),
        Std::OrderedDict(items) | Std::Counter(items) | Std::Namespace(items) => Kind::Map(Pairs::Nodes(vals(items))),
        Std::DefaultDict(d) => Kind::Map(Pairs::Nodes(vals(d.items))),
        Std::Deque(d) => Kind::Seq(Items::Nodes(d.items.into_iter().map(Node::Val).collect())),
        Std::Enum(m) => match (m.value, m.name) {
            (Some(v), _) => Kind::Delegate(Node::Val(v)),
            (None, Some(name)) => Kind::EnumName(name),
            (None, None) => Kind::Str(S::Own(global_name(&m.class))),
        },
        Std::Range(r) => fields3(Node::Int(r.start), Node::Int(r.stop), Node::Int(r.step), ["start", "stop", "step"]),
        Std::Slice(s) => fields3(Node::Val(s.start), Node::Val(s.stop), Node::Val(s.step), ["start", "stop", "step"]),
        Std::Array(a) => array_kind(a.items),
        Std::Path(p) => Kind::Str(S::Own(join_path(&p))),
        // A kind of object this deserializer does not know yet: its
        // record, as a generic instance would show it.
        _ => Kind::Str(S::Own("<unsupported standard-library object>".into())),
    }
}

fn array_kind<'g, 'de>(items: stdlib::ArrayItems) -> Kind<'g, 'de> {
    use stdlib::ArrayItems as A;
    fn ints<'g, 'de, T: Into<i64>>(v: Vec<T>) -> Kind<'g, 'de> {
        Kind::Seq(Items::Nodes(v.into_iter().map(|x| Node::Int(x.into())).collect()))
    }
    match items {
        A::I8(v) => ints(v),
        A::U8(v) => ints(v),
        A::I16(v) => ints(v),
        A::U16(v) => ints(v),
        A::I32(v) => ints(v),
        A::U32(v) => ints(v),
        A::I64(v) => ints(v),
        A::U64(v) => Kind::Seq(Items::Nodes(v.into_iter().map(|x| int_node(x.into())).collect())),
        A::F32(v) => Kind::Seq(Items::Nodes(v.into_iter().map(|x| Node::Float(x.into())).collect())),
        A::F64(v) => Kind::Seq(Items::Nodes(v.into_iter().map(Node::Float).collect())),
        A::Unicode(s) => Kind::Str(S::Own(s)),
    }
}

fn join_path(p: &stdlib::Path) -> String {
    let sep = if p.flavor == stdlib::PathFlavor::Windows { '\\' } else { '/' };
    let mut out = String::new();
    for (i, part) in p.parts.iter().enumerate() {
        if i > 0 && !out.ends_with(['/', '\\']) {
            out.push(sep);
        }
        out.push_str(part);
    }
    out
}

fn fmt_date(d: &stdlib::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// `time.isoformat()`: the fraction only when there are microseconds, the
/// offset of a fixed-offset timezone.
fn fmt_time(t: &stdlib::Time) -> String {
    let mut s = format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
    if t.microsecond != 0 {
        s.push_str(&format!(".{:06}", t.microsecond));
    }
    if let Some(TzInfo::Fixed { offset, .. }) = &t.tz {
        s.push_str(&fmt_offset(offset));
    }
    s
}

/// A UTC offset as Python's `isoformat()` writes it: `+01:00`, `-05:30`,
/// `+00:00:30` with seconds, `.ffffff` with microseconds.
fn fmt_offset(td: &TimeDelta) -> String {
    let total_us = (i64::from(td.days) * 86_400 + i64::from(td.seconds)) * 1_000_000 + i64::from(td.microseconds);
    let sign = if total_us < 0 { '-' } else { '+' };
    let us = total_us.unsigned_abs();
    let (secs, micros) = (us / 1_000_000, us % 1_000_000);
    let (h, m, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut s = format!("{sign}{h:02}:{m:02}");
    if sec != 0 || micros != 0 {
        s.push_str(&format!(":{sec:02}"));
    }
    if micros != 0 {
        s.push_str(&format!(".{micros:06}"));
    }
    s
}

fn fmt_uuid(u: u128) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        u >> 96,
        (u >> 80) & 0xffff,
        (u >> 64) & 0xffff,
        (u >> 48) & 0xffff,
        u & 0xffff_ffff_ffff
    )
}

fn short(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(60) {
        Some((i, _)) => Cow::Owned(format!("{}...", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

/// The class of an instance record, for messages.
fn record_class(graph: &Graph<'_>, r: &Record) -> Option<String> {
    let g = graph.as_global(r.callable)?;
    if g.is("copyreg", "_reconstructor") {
        let cls = graph.as_tuple(r.args).and_then(|a| a.first().copied())?;
        let c = graph.as_global(cls)?;
        return Some(format!("{}.{}", c.module, c.name));
    }
    Some(format!("{}.{}", g.module, g.name))
}

/// A value in Python terms, for messages: `str "abc"`, `dict`, `object of class mod.Cls`.
fn describe(graph: &Graph<'_>, v: Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => format!("bool {}", if b { "True" } else { "False" }),
        Value::Int(i) => format!("int {i}"),
        Value::Float(f) => format!("float {}", crate::pyrepr::repr_float(f)),
        Value::Obj(_) => match graph.object(v) {
            None => "an object of another graph".into(),
            Some(Object::Int(b)) => format!("int {}", short(&b.to_string())),
            Some(Object::Str(s)) => format!("str {:?}", short(&s.to_string_lossy())),
            Some(Object::Bytes(b)) => format!("bytes {}", short(&crate::pyrepr::repr_bytes(b))),
            Some(Object::ByteArray(b)) => format!("bytearray of {} bytes", b.len()),
            Some(Object::Global(g)) => format!("global {}.{}", g.module, g.name),
            Some(Object::Record(r)) => match record_class(graph, r) {
                Some(c) => format!("object of class {c}"),
                None => "object".into(),
            },
            Some(o) => o.type_name().into(),
        },
    }
}

/// serde's `Unexpected` in Python terms, for the errors visitors raise.
pub(super) fn python_unexpected(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("bool {}", if *b { "True" } else { "False" }),
        U::Unsigned(n) => format!("int {n}"),
        U::Signed(n) => format!("int {n}"),
        U::Float(f) => format!("float {}", crate::pyrepr::repr_float(*f)),
        U::Char(c) => format!("str {:?}", c.to_string()),
        U::Str(s) => format!("str {:?}", short(s)),
        U::Bytes(b) => format!("bytes {}", short(&crate::pyrepr::repr_bytes(b))),
        U::Unit => "None".into(),
        U::Seq => "sequence".into(),
        U::Map => "dict".into(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------
// The deserializer of one node.

struct ValueDe<'c, 'g, 'de> {
    ctx: &'c Ctx<'g, 'de>,
    node: Node<'g, 'de>,
}

impl<'c, 'g, 'de> ValueDe<'c, 'g, 'de> {
    fn new(ctx: &'c Ctx<'g, 'de>, node: Node<'g, 'de>) -> Self {
        ValueDe { ctx, node }
    }
}

fn mismatch(ctx: &Ctx<'_, '_>, r: &Resolved<'_, '_, '_>, exp: &dyn Expected) -> Error {
    let found = match r.origin {
        Some(v) => describe(ctx.graph, v),
        None => r.kind.describe(),
    };
    Error::new(format!("invalid type: {found}, expected {exp}"))
}

fn out_of_range(found: &str, exp: &dyn Expected) -> Error {
    Error::new(format!("invalid value: int {found} out of range, expected {exp}"))
}

fn seq_access<'c, 'g, 'de>(ctx: &'c Ctx<'g, 'de>, items: Items<'g, 'de>) -> SeqDe<'c, 'g, 'de> {
    let iter = match items {
        Items::Vals(v) => It::Vals(v.iter()),
        Items::Nodes(v) => It::Nodes(v.into_iter()),
    };
    SeqDe { ctx, iter, index: 0 }
}

fn bytes_seq<'c, 'g, 'de>(ctx: &'c Ctx<'g, 'de>, b: B<'g, 'de>) -> SeqDe<'c, 'g, 'de> {
    let iter = match b {
        B::Graph(c) => It::Bytes(c.iter()),
    };
    SeqDe { ctx, iter, index: 0 }
}

fn map_access<'c, 'g, 'de>(ctx: &'c Ctx<'g, 'de>, pairs: Pairs<'g, 'de>, fields: bool) -> MapDe<'c, 'g, 'de> {
    let iter = match pairs {
        Pairs::Vals(a, b) => Pi::Vals(a.iter(), b.iter()),
        Pairs::Nodes(v) => Pi::Nodes(v.into_iter()),
    };
    MapDe { ctx, iter, value: None, key: None, fields, count: 0 }
}

fn visit_seq_all<'c, 'g, 'de, V: Visitor<'de>>(mut seq: SeqDe<'c, 'g, 'de>, visitor: V) -> Result<V::Value> {
    let out = visitor.visit_seq(&mut seq)?;
    let left = seq.iter.remaining();
    if left > 0 {
        return Err(Error::new(format!(
            "invalid length {}, expected {} elements in the sequence",
            seq.index + left,
            seq.index
        )));
    }
    Ok(out)
}

fn visit_map_all<'c, 'g, 'de, V: Visitor<'de>>(mut map: MapDe<'c, 'g, 'de>, visitor: V) -> Result<V::Value> {
    let out = visitor.visit_map(&mut map)?;
    let left = map.iter.remaining();
    if left > 0 {
        return Err(Error::new(format!(
            "invalid length {}, expected {} entries in the map",
            map.count + left,
            map.count
        )));
    }
    Ok(out)
}

fn visit_str_kind<'de, V: Visitor<'de>>(s: S<'_, 'de>, visitor: V) -> Result<V::Value> {
    match s {
        S::Own(s) => visitor.visit_string(s),
        S::Py(p) => {
            if let Some(b) = p.borrowed_str() {
                visitor.visit_borrowed_str(b)
            } else if let Some(s) = p.as_str() {
                visitor.visit_str(s)
            } else {
                Err(Error::new(format!(
                    "invalid value: str {:?} holds a lone surrogate, which Rust text cannot hold, expected {}",
                    short(&p.to_string_lossy()),
                    &visitor as &dyn Expected
                )))
            }
        }
    }
}

fn visit_bytes_kind<'de, V: Visitor<'de>>(b: B<'_, 'de>, visitor: V) -> Result<V::Value> {
    match b {
        B::Graph(Cow::Borrowed(b)) => visitor.visit_borrowed_bytes(b),
        B::Graph(Cow::Owned(b)) => visitor.visit_bytes(b),
    }
}

fn global_name(g: &Global) -> String {
    format!("{}.{}", g.module, g.name)
}

/// The variant an Enum member by name picks: the last part of `Color.RED`.
fn member_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

macro_rules! de_int {
    ($($method:ident $ty:ty => $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let ctx = self.ctx;
            let r = ctx.resolve(self.node)?;
            match &r.kind {
                Kind::Int(i) => match <$ty>::try_from(*i) {
                    Ok(x) => visitor.$visit(x),
                    Err(_) => Err(out_of_range(&i.to_string(), &visitor)),
                },
                Kind::Big(b) => match <$ty>::try_from(&**b) {
                    Ok(x) => visitor.$visit(x),
                    Err(_) => Err(out_of_range(&short(&b.to_string()), &visitor)),
                },
                _ => Err(mismatch(ctx, &r, &visitor)),
            }
        }
    )*};
}

impl<'c, 'g, 'de> de::Deserializer<'de> for ValueDe<'c, 'g, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::None => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::Int(i) => visitor.visit_i64(i),
            Kind::Big(b) => {
                if let Some(i) = b.to_i128() {
                    visitor.visit_i128(i)
                } else if let Some(u) = b.to_u128() {
                    visitor.visit_u128(u)
                } else {
                    // Past 128 bits: its decimal digits (see `bigint`).
                    visitor.visit_string(b.to_string())
                }
            }
            Kind::Float(f) => visitor.visit_f64(f),
            Kind::Str(s) => match s {
                S::Py(p) if !p.is_utf8() => visitor.visit_string(p.to_string_lossy().into_owned()),
                s => visit_str_kind(s, visitor),
            },
            Kind::Bytes(b) => visit_bytes_kind(b, visitor),
            Kind::Seq(items) => visit_seq_all(seq_access(ctx, items), visitor),
            Kind::Map(pairs) => visit_map_all(map_access(ctx, pairs, false), visitor),
            Kind::Args { items, kwargs } => {
                if items.is_empty() {
                    visit_map_all(map_access(ctx, Pairs::Vals(kwargs, &[]), false), visitor)
                } else {
                    visit_seq_all(seq_access(ctx, Items::Vals(items)), visitor)
                }
            }
            Kind::Global(g) => {
                if ctx.replace_globals {
                    visitor.visit_unit()
                } else {
                    visitor.visit_string(global_name(g))
                }
            }
            Kind::Pid(p) => {
                if ctx.replace_globals {
                    visitor.visit_unit()
                } else {
                    Err(pid_error(ctx, p))
                }
            }
            Kind::EnumName(n) => visitor.visit_string(n),
            Kind::Fraction(n, d) => {
                visit_seq_all(seq_access(ctx, Items::Nodes(vec![int_node(n), int_node(d)])), visitor)
            }
            Kind::Uuid(u) => visitor.visit_string(fmt_uuid(u)),
            Kind::Delegate(_) => unreachable!("resolved"),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Bool(b) => visitor.visit_bool(b),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    de_int! {
        deserialize_i8 i8 => visit_i8;
        deserialize_i16 i16 => visit_i16;
        deserialize_i32 i32 => visit_i32;
        deserialize_i64 i64 => visit_i64;
        deserialize_i128 i128 => visit_i128;
        deserialize_u8 u8 => visit_u8;
        deserialize_u16 u16 => visit_u16;
        deserialize_u32 u32 => visit_u32;
        deserialize_u64 u64 => visit_u64;
        deserialize_u128 u128 => visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match &r.kind {
            Kind::Float(f) => visitor.visit_f64(*f),
            Kind::Int(i) => visitor.visit_f64(*i as f64),
            Kind::Big(b) => visitor.visit_f64(b.to_f64().unwrap_or(f64::NAN)),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Str(s) => visit_str_kind(s, visitor),
            Kind::Bytes(b) => visit_bytes_kind(b, visitor),
            Kind::Global(g) if !ctx.replace_globals => visitor.visit_string(global_name(g)),
            Kind::EnumName(n) => visitor.visit_string(n),
            Kind::Fraction(n, d) => visitor.visit_string(format!("{n}/{d}")),
            Kind::Uuid(u) => visitor.visit_string(fmt_uuid(u)),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Bytes(b) => visit_bytes_kind(b, visitor),
            Kind::Str(s) => visit_str_kind(s, visitor),
            Kind::Uuid(u) => visitor.visit_bytes(&u.to_be_bytes()),
            Kind::Seq(items) => visit_seq_all(seq_access(ctx, items), visitor),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        if let Node::Val(v) = self.node {
            match ctx.graph.object(v) {
                _ if v == Value::None => return visitor.visit_none(),
                Some(Object::Global(_)) if ctx.replace_globals => return visitor.visit_none(),
                Some(Object::PersistentId(_)) if ctx.replace_globals && !ctx.keep_pids => return visitor.visit_none(),
                _ => {}
            }
            if ctx.replace_recursive && v.obj().is_some_and(|id| ctx.active.borrow().contains(&id)) {
                return visitor.visit_none();
            }
        }
        if let Node::None = self.node {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match &r.kind {
            Kind::None => visitor.visit_unit(),
            Kind::Seq(Items::Vals([])) => visitor.visit_unit(),
            Kind::Global(_) | Kind::Pid(_) if ctx.replace_globals => visitor.visit_unit(),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value> {
        if name != BIGINT_MAGIC {
            return visitor.visit_newtype_struct(self);
        }
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match &r.kind {
            Kind::Int(i) => visitor.visit_string(i.to_string()),
            Kind::Big(b) => visitor.visit_string(b.to_string()),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Seq(items) => visit_seq_all(seq_access(ctx, items), visitor),
            Kind::Bytes(b) => visit_seq_all(bytes_seq(ctx, b), visitor),
            Kind::Args { items, .. } => visit_seq_all(seq_access(ctx, Items::Vals(items)), visitor),
            Kind::Fraction(n, d) => {
                visit_seq_all(seq_access(ctx, Items::Nodes(vec![int_node(n), int_node(d)])), visitor)
            }
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Map(pairs) => visit_map_all(map_access(ctx, pairs, false), visitor),
            Kind::Args { items: [], kwargs } => visit_map_all(map_access(ctx, Pairs::Vals(kwargs, &[]), false), visitor),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Map(pairs) => visit_map_all(map_access(ctx, pairs, true), visitor),
            Kind::Args { items: [], kwargs } => visit_map_all(map_access(ctx, Pairs::Vals(kwargs, &[]), true), visitor),
            Kind::Args { items, .. } => visit_seq_all(seq_access(ctx, Items::Vals(items)), visitor),
            Kind::Seq(items) => visit_seq_all(seq_access(ctx, items), visitor),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        let graph = ctx.graph;
        let (variant, data) = match r.kind {
            Kind::Str(S::Py(p)) => (Node::PyStr(p), None),
            Kind::Str(S::Own(s)) => (Node::Str(s), None),
            Kind::Bytes(_) => (Node::Val(r.origin.unwrap_or(Value::None)), None),
            Kind::Global(g) => (Node::Str(member_name(&g.name).to_string()), None),
            Kind::EnumName(n) => (Node::Str(member_name(&n).to_string()), None),
            Kind::Map(Pairs::Vals(&[(k, v)], &[])) => (Node::Val(k), Some(Node::Val(v))),
            Kind::Seq(Items::Vals(&[k])) if is_name(graph, k) => (Node::Val(k), None),
            Kind::Seq(Items::Vals(&[k, v])) if is_name(graph, k) => (Node::Val(k), Some(Node::Val(v))),
            Kind::Map(Pairs::Nodes(mut v)) if v.len() == 1 => {
                let (k, v) = v.pop().expect("one entry");
                (k, Some(v))
            }
            _ => {
                let mut e = mismatch(ctx, &r, &visitor);
                if matches!(r.kind, Kind::Int(_) | Kind::Big(_)) && r.origin.is_some() {
                    e = Error::new(format!(
                        "{}: an enum variant is picked by a str (its name); an int-valued Python Enum matches a serde_repr enum",
                        e.message()
                    ));
                }
                return Err(e);
            }
        };
        visitor.visit_enum(EnumDe { ctx, variant, data })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let ctx = self.ctx;
        let r = ctx.resolve(self.node)?;
        match r.kind {
            Kind::Str(s) => visit_str_kind(s, visitor),
            Kind::Bytes(b) => visit_bytes_kind(b, visitor),
            Kind::EnumName(n) => visitor.visit_string(n),
            Kind::Int(i) if i >= 0 => visitor.visit_u64(i as u64),
            _ => Err(mismatch(ctx, &r, &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

fn is_name(graph: &Graph<'_>, v: Value) -> bool {
    matches!(graph.object(v), Some(Object::Str(_)) | Some(Object::Bytes(_)))
}

fn pid_error(ctx: &Ctx<'_, '_>, p: Value) -> Error {
    Error::new(format!(
        "invalid type: persistent id {}, which no hook resolved (DeOptions::keep_persistent_ids gives the id, replace_unresolved_globals None)",
        describe(ctx.graph, p)
    ))
}

// ---------------------------------------------------------------------------
// Sequences, maps and enums.

enum It<'g, 'de> {
    Vals(std::slice::Iter<'g, Value>),
    Nodes(std::vec::IntoIter<Node<'g, 'de>>),
    Bytes(std::slice::Iter<'g, u8>),
}

impl<'g, 'de> It<'g, 'de> {
    fn next(&mut self) -> Option<Node<'g, 'de>> {
        match self {
            It::Vals(i) => i.next().map(|v| Node::Val(*v)),
            It::Nodes(i) => i.next(),
            It::Bytes(i) => i.next().map(|b| Node::Int(i64::from(*b))),
        }
    }
    fn remaining(&self) -> usize {
        match self {
            It::Vals(i) => i.len(),
            It::Nodes(i) => i.len(),
            It::Bytes(i) => i.len(),
        }
    }
}

struct SeqDe<'c, 'g, 'de> {
    ctx: &'c Ctx<'g, 'de>,
    iter: It<'g, 'de>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(node) = self.iter.next() else { return Ok(None) };
        let i = self.index;
        self.index += 1;
        seed.deserialize(ValueDe::new(self.ctx, node)).map(Some).map_err(|e| e.at(format_args!("[{i}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.remaining())
    }
}

enum Pi<'g, 'de> {
    Vals(std::slice::Iter<'g, (Value, Value)>, std::slice::Iter<'g, (Value, Value)>),
    Nodes(std::vec::IntoIter<(Node<'g, 'de>, Node<'g, 'de>)>),
}

impl<'g, 'de> Pi<'g, 'de> {
    fn next(&mut self) -> Option<(Node<'g, 'de>, Node<'g, 'de>)> {
        match self {
            Pi::Vals(a, b) => a.next().or_else(|| b.next()).map(|(k, v)| (Node::Val(*k), Node::Val(*v))),
            Pi::Nodes(i) => i.next(),
        }
    }
    fn remaining(&self) -> usize {
        match self {
            Pi::Vals(a, b) => a.len() + b.len(),
            Pi::Nodes(i) => i.len(),
        }
    }
}

struct MapDe<'c, 'g, 'de> {
    ctx: &'c Ctx<'g, 'de>,
    iter: Pi<'g, 'de>,
    value: Option<Node<'g, 'de>>,
    /// The key of the current entry, for error paths.
    key: Option<Node<'g, 'de>>,
    /// A struct's fields: paths say `.name` rather than `["name"]`.
    fields: bool,
    count: usize,
}

impl MapDe<'_, '_, '_> {
    fn step(&self) -> String {
        let graph = self.ctx.graph;
        let text = |s: &str| {
            if self.fields && !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_') {
                format!(".{s}")
            } else {
                format!("[{s:?}]")
            }
        };
        match &self.key {
            Some(Node::Val(v)) => match graph.object(*v) {
                Some(Object::Str(s)) => text(&s.to_string_lossy()),
                Some(Object::Bytes(b)) => text(&String::from_utf8_lossy(b)),
                _ => format!("[{}]", key_repr(graph, *v, 0)),
            },
            Some(Node::Str(s)) => text(s),
            Some(Node::Int(i)) => format!("[{i}]"),
            _ => "[?]".into(),
        }
    }
}

/// A short Python repr of a dict key for paths: `3`, `'a'`, `(1, 2)`.
fn key_repr(graph: &Graph<'_>, v: Value, depth: usize) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => (if b { "True" } else { "False" }).into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => crate::pyrepr::repr_float(f),
        Value::Obj(_) => match graph.object(v) {
            Some(Object::Int(b)) => short(&b.to_string()).into_owned(),
            Some(Object::Str(s)) => format!("{:?}", short(&s.to_string_lossy())),
            Some(Object::Bytes(b)) => short(&crate::pyrepr::repr_bytes(b)).into_owned(),
            Some(Object::Tuple(t)) if depth < 3 && t.len() <= 8 => {
                let parts: Vec<String> = t.iter().map(|x| key_repr(graph, *x, depth + 1)).collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            Some(o) => format!("<{}>", o.type_name()),
            None => "<?>".into(),
        },
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((k, v)) = self.iter.next() else { return Ok(None) };
        self.count += 1;
        self.value = Some(v);
        self.key = Some(match &k {
            Node::Val(v) => Node::Val(*v),
            Node::Str(s) => Node::Str(s.clone()),
            Node::Int(i) => Node::Int(*i),
            _ => Node::None,
        });
        match seed.deserialize(ValueDe::new(self.ctx, k)) {
            Ok(key) => Ok(Some(key)),
            Err(e) => Err(e.at(format_args!("{} (the key)", self.step()))),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        let Some(v) = self.value.take() else {
            return Err(Error::new("next_value called before next_key"));
        };
        seed.deserialize(ValueDe::new(self.ctx, v)).map_err(|e| e.at(self.step()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.remaining())
    }
}

struct EnumDe<'c, 'g, 'de> {
    ctx: &'c Ctx<'g, 'de>,
    variant: Node<'g, 'de>,
    data: Option<Node<'g, 'de>>,
}

impl<'c, 'g, 'de> de::EnumAccess<'de> for EnumDe<'c, 'g, 'de> {
    type Error = Error;
    type Variant = VariantDe<'c, 'g, 'de>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant)> {
        // The variant's name, for the paths of errors in its data (`.Variant`).
        let name = match &self.variant {
            Node::Str(s) => Some(s.clone()),
            Node::PyStr(p) => p.as_str().map(str::to_string),
            Node::Val(v) => self.ctx.graph.as_str(*v).map(str::to_string),
            _ => None,
        };
        let v = seed.deserialize(ValueDe::new(self.ctx, self.variant))?;
        Ok((v, VariantDe { ctx: self.ctx, data: self.data, name }))
    }
}

struct VariantDe<'c, 'g, 'de> {
    ctx: &'c Ctx<'g, 'de>,
    data: Option<Node<'g, 'de>>,
    name: Option<String>,
}

impl<'c, 'g, 'de> VariantDe<'c, 'g, 'de> {
    fn data(&self, what: &str) -> Result<ValueDe<'c, 'g, 'de>> {
        match &self.data {
            Some(d) => Ok(ValueDe::new(self.ctx, d.clone())),
            None => Err(Error::new(format!("invalid type: unit variant, expected {what}"))),
        }
    }
    /// An error in the variant's data, with the variant's step in its path.
    fn at(&self, e: Error) -> Error {
        match &self.name {
            Some(name) => e.at(format_args!(".{name}")),
            None => e,
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantDe<'_, '_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.data {
            None => Ok(()),
            Some(d) => <() as de::Deserialize>::deserialize(ValueDe::new(self.ctx, d)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.data("newtype variant")?).map_err(|e| self.at(e))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self.data("tuple variant")?, len, visitor).map_err(|e| self.at(e))
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self.data("struct variant")?, "", fields, visitor).map_err(|e| self.at(e))
    }
}

// ---------------------------------------------------------------------------
// The public Deserializer forwards to a ValueDe over its value.

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value> {
            ValueDe::new(&self.ctx, Node::Val(self.value)).$method($($arg,)* visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'_, 'de> {
    type Error = Error;

    forward! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }
}
