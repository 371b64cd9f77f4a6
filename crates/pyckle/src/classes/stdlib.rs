//! The standard library's classes, read from their records into plain Rust
//! types (always available), and from those into well-known crates (each
//! behind a feature: `chrono`, `decimal`, `uuid`, `complex`, `fraction`,
//! `indexmap`).
//!
//! [`recognize`] is the one entry point that looks at any value and says
//! which standard-library object it is, if any; the serde deserializer uses
//! it to present these objects in their natural serde form. Each plain type
//! also reads itself ([`FromPickle`](super::FromPickle): `Date::from_pickle(&graph, v)`)
//! and writes itself ([`ToPickle`](super::ToPickle)) as CPython writes that
//! object, so `pyckle::dumps` of it is `pickle.dumps` of the Python object.
//!
//! What is read, at every protocol (0 to 5) and from Python 2.7 pickles:
//!
//! | class | record |
//! |---|---|
//! | `complex` | `complex(re, im)` |
//! | `datetime.date`, `time`, `datetime` | `cls(state[, tzinfo])`, state the packed bytes (a latin-1 `str` from Python 2, decoded with `encoding='latin1'` or kept as bytes); fold in the high bit of the hour (time) or month (datetime) |
//! | `datetime.timedelta` | `timedelta(days, seconds, us)` (normalized as Python does) |
//! | `datetime.timezone` | `timezone(timedelta[, name])`; `timezone.utc` is `timezone(timedelta(0))` (a global `datetime.timezone.utc` is read too) |
//! | `zoneinfo.ZoneInfo` | `getattr(ZoneInfo, '_unpickle')(key, from_cache)` |
//! | `decimal.Decimal` | `Decimal(str)` (kept as `str()` spells it) |
//! | `fractions.Fraction` | `Fraction(n, d)`, or `Fraction(str)` from Python 2 |
//! | `uuid.UUID` | NEWOBJ or `copyreg._reconstructor(UUID, object, None)`, state `{'int': n, ...}` |
//! | `collections.OrderedDict` | `OrderedDict()` + SETITEMs; Python 2's `OrderedDict([[k, v], ...])` |
//! | `collections.defaultdict` | `defaultdict([factory])` + SETITEMs |
//! | `collections.Counter` | `Counter(dict)` |
//! | `collections.deque` | `deque([iterable[, maxlen]])` + APPENDs (`deque((), maxlen)` from Python 3) |
//! | `range` (`xrange`), `slice` | `range(start, stop, step)`, `slice(start, stop, step)` |
//! | `array.array` | `array._array_reconstructor(array, typecode, mformat_code, bytes)` (protocol 3+, every machine format code 0-21, retyped as CPython does when the format is not the typecode's own), `array(typecode, list)` below |
//! | `types.SimpleNamespace` | `SimpleNamespace()` + BUILD of its `__dict__` |
//! | `pathlib` paths | `cls(*parts)` of `PurePath`, `PurePosixPath`, `PureWindowsPath`, `Path`, `PosixPath`, `WindowsPath` |
//! | enum members | by name only, see [`recognize`]; by value with [`EnumMember`]'s `from_pickle` |
//! | named tuples | with [`NamedTuple`]'s `from_pickle` only |
//!
//! A known class with a malformed record is `Some(Err(..))`, never a panic;
//! allocations are bounded by the input (array data is checked against its
//! item size before it is decoded), and nothing recurses without a bound.
//!
//! Writing: the record is the one CPython writes; where CPython's form
//! depends on the protocol (arrays: the list form below protocol 3; named
//! tuples: `_reconstructor` below 2), `to_pickle` follows
//! [`Graph::protocol`] of the graph it writes into, so set it to the
//! protocol you will dump at (`Graph::new()` is protocol 0, whose forms
//! every protocol loads). One deliberate difference: `fold=1` of a time or
//! datetime is written at every protocol (CPython drops it below 4).

use super::ConvertError;
use crate::graph::{Global, Graph, Value};
use num_bigint::BigInt;

/// `complex`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Complex {
    pub re: f64,
    pub im: f64,
}

/// `datetime.date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// `datetime.timedelta`, normalized as Python keeps it:
/// `0 <= seconds < 86400`, `0 <= microseconds < 1_000_000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeDelta {
    pub days: i32,
    pub seconds: i32,
    pub microseconds: i32,
}

/// A `tzinfo`.
#[derive(Clone, Debug, PartialEq)]
pub enum TzInfo {
    /// `datetime.timezone(offset, name)`; `timezone.utc` is offset 0, no name.
    Fixed { offset: TimeDelta, name: Option<String> },
    /// `zoneinfo.ZoneInfo(key)`: the zone's key (`"Europe/Paris"`).
    Zone(String),
    /// Any other tzinfo (pytz, dateutil, a user's class): its value in the graph.
    Other(Value),
}

/// `datetime.time`.
#[derive(Clone, Debug, PartialEq)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub microsecond: u32,
    /// PEP 495's fold (0 or 1).
    pub fold: u8,
    pub tz: Option<TzInfo>,
}

/// `datetime.datetime`.
#[derive(Clone, Debug, PartialEq)]
pub struct DateTime {
    pub date: Date,
    pub time: Time,
}

/// `decimal.Decimal`, as `str(d)` gives it (`"3.14"`, `"-0E+3"`, `"NaN"`, `"-Infinity"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal(pub String);

/// `fractions.Fraction`, in lowest terms with a positive denominator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fraction {
    pub numerator: BigInt,
    pub denominator: BigInt,
}

/// `uuid.UUID`: its 128-bit value (`UUID.int`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Uuid(pub u128);

/// `collections.deque`.
#[derive(Clone, Debug, PartialEq)]
pub struct Deque {
    pub items: Vec<Value>,
    pub maxlen: Option<u64>,
}

/// `collections.defaultdict`.
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultDict {
    /// The `default_factory` (a class or function, usually a global), or None.
    pub factory: Value,
    pub items: Vec<(Value, Value)>,
}

/// A member of an `enum.Enum` class.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumMember {
    pub class: Global,
    /// The member's value, when pickled by value (`Color(1)`, the default).
    pub value: Option<Value>,
    /// The member's name, when pickled by name (`getattr(Color, 'RED')`,
    /// or a global `module.Color.RED`).
    pub name: Option<String>,
}

/// `range` (ints that fit in `i64`; larger ones are refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Range {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

/// `slice`: any values, as Python allows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slice {
    pub start: Value,
    pub stop: Value,
    pub step: Value,
}

/// The items of an `array.array`, by typecode.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayItems {
    /// `b`
    I8(Vec<i8>),
    /// `B`
    U8(Vec<u8>),
    /// `h`
    I16(Vec<i16>),
    /// `H`
    U16(Vec<u16>),
    /// `i`, `l` (on the machine that wrote it, as its pickle says)
    I32(Vec<i32>),
    /// `I`, `L`
    U32(Vec<u32>),
    /// `q`, `l` of 8 bytes
    I64(Vec<i64>),
    /// `Q`, `L` of 8 bytes
    U64(Vec<u64>),
    /// `f`
    F32(Vec<f32>),
    /// `d`
    F64(Vec<f64>),
    /// `u`, `w`
    Unicode(String),
}

/// `array.array`.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub typecode: char,
    pub items: ArrayItems,
}

/// Which `pathlib` class a path was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathFlavor {
    /// `PurePosixPath`, `PosixPath`
    Posix,
    /// `PureWindowsPath`, `WindowsPath`
    Windows,
    /// `PurePath`, `Path`
    Native,
}

/// A `pathlib` path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub class: Global,
    pub flavor: PathFlavor,
    /// The parts as the pickle gives them (`('/', 'usr', 'lib')`).
    pub parts: Vec<String>,
}

/// `collections.namedtuple` instances (and `typing.NamedTuple`): a class
/// made with NEWOBJ (or REDUCE) from a tuple of field values, without state.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTuple {
    pub class: Global,
    pub items: Vec<Value>,
}

/// A standard-library object that [`recognize`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Std {
    Complex(Complex),
    Date(Date),
    Time(Time),
    DateTime(DateTime),
    TimeDelta(TimeDelta),
    TimeZone(TzInfo),
    Decimal(Decimal),
    Fraction(Fraction),
    Uuid(Uuid),
    /// `collections.OrderedDict`: its items in order.
    OrderedDict(Vec<(Value, Value)>),
    DefaultDict(DefaultDict),
    /// `collections.Counter`: element to count.
    Counter(Vec<(Value, Value)>),
    Deque(Deque),
    Enum(EnumMember),
    Range(Range),
    Slice(Slice),
    Array(Array),
    /// `types.SimpleNamespace`: its attributes in order.
    Namespace(Vec<(Value, Value)>),
    Path(Path),
}

#[cfg(any(
    feature = "chrono",
    feature = "decimal",
    feature = "uuid",
    feature = "complex",
    feature = "fraction",
    feature = "indexmap"
))]
mod crates;
mod read;
mod write;

pub use read::{recognize, DecimalKind, DecimalParts};
