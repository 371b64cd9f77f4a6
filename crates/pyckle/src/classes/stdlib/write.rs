//! [`ToPickle`] of the plain types: each writes the record CPython writes
//! for that object, so `pyckle::dumps` of it is `pickle.dumps` of the
//! object (where it differs, the type's doc says so).
//!
//! Values a plain type holds (`Deque::items`, `Slice::start`...) are values
//! of the graph being written into: build them in that graph first.

use super::read::MFormat;
use super::*;
use crate::classes::prim::build_error;
use crate::classes::ToPickle;

fn err(message: impl Into<String>) -> ConvertError {
    ConvertError::new(message)
}

fn call(graph: &mut Graph<'static>, module: &str, name: &str, args: Vec<Value>) -> Value {
    let class = graph.global(module, name);
    graph.reduce(class, args)
}

impl ToPickle for Complex {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(call(graph, "builtins", "complex", vec![Value::Float(self.re), Value::Float(self.im)]))
    }
}

impl Date {
    fn state(&self) -> [u8; 4] {
        [(self.year >> 8) as u8, self.year as u8, self.month, self.day]
    }
}

impl ToPickle for Date {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Date::new(self.year, self.month, self.day)?;
        let state = graph.bytes(self.state().to_vec());
        Ok(call(graph, "datetime", "date", vec![state]))
    }
}

impl Time {
    fn check(&self) -> Result<(), ConvertError> {
        if self.hour > 23 || self.minute > 59 || self.second > 59 || self.microsecond > 999_999 || self.fold > 1 {
            return Err(err(format!(
                "time {}:{}:{}.{} fold={} is out of range",
                self.hour, self.minute, self.second, self.microsecond, self.fold
            )));
        }
        Ok(())
    }
    fn state_tail(&self) -> [u8; 5] {
        let us = self.microsecond;
        [self.minute, self.second, (us >> 16) as u8, (us >> 8) as u8, us as u8]
    }
}

fn tz_args(graph: &mut Graph<'static>, state: Value, tz: &Option<TzInfo>) -> Result<Vec<Value>, ConvertError> {
    Ok(match tz {
        None => vec![state],
        Some(tz) => {
            let tz = tz.to_pickle(graph).map_err(|e| e.at(".tz"))?;
            vec![state, tz]
        }
    })
}

/// `datetime.time`: the fold bit is written at every protocol (CPython
/// writes it only from protocol 4, and drops fold=1 below).
impl ToPickle for Time {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        self.check()?;
        let mut state = vec![self.hour | self.fold << 7];
        state.extend_from_slice(&self.state_tail());
        let state = graph.bytes(state);
        let args = tz_args(graph, state, &self.tz)?;
        Ok(call(graph, "datetime", "time", args))
    }
}

/// `datetime.datetime`: the fold bit is written at every protocol (CPython
/// writes it only from protocol 4).
impl ToPickle for DateTime {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Date::new(self.date.year, self.date.month, self.date.day)?;
        self.time.check()?;
        let mut state = self.date.state().to_vec();
        state[2] |= self.time.fold << 7;
        state.push(self.time.hour);
        state.extend_from_slice(&self.time.state_tail());
        let state = graph.bytes(state);
        let args = tz_args(graph, state, &self.time.tz)?;
        Ok(call(graph, "datetime", "datetime", args))
    }
}

impl ToPickle for TimeDelta {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let d = TimeDelta::new(self.days.into(), self.seconds.into(), self.microseconds.into())?;
        let args = vec![Value::Int(d.days.into()), Value::Int(d.seconds.into()), Value::Int(d.microseconds.into())];
        Ok(call(graph, "datetime", "timedelta", args))
    }
}

/// `timezone(offset[, name])`, `ZoneInfo._unpickle(key, 1)` (as
/// `getattr(ZoneInfo, '_unpickle')`, as CPython writes that method); an
/// `Other` tzinfo is its value (of the graph written into).
impl ToPickle for TzInfo {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        match self {
            TzInfo::Fixed { offset, name } => {
                if offset.total_microseconds().abs() >= 86_400_000_000 {
                    return Err(err("a timezone's offset must be strictly between -24 and 24 hours"));
                }
                let mut args = vec![offset.to_pickle(graph)?];
                if let Some(n) = name {
                    args.push(graph.str(n.clone()));
                }
                Ok(call(graph, "datetime", "timezone", args))
            }
            TzInfo::Zone(key) => {
                let getattr = graph.global("builtins", "getattr");
                let class = graph.global("zoneinfo", "ZoneInfo");
                let attr = graph.str("_unpickle");
                let method = graph.reduce(getattr, [class, attr]);
                let key = graph.str(key.clone());
                Ok(graph.reduce(method, [key, Value::Int(1)]))
            }
            TzInfo::Other(v) => Ok(*v),
        }
    }
}

/// `Decimal(str)`: the text is checked (and written as `str()` of the
/// decimal spells it).
impl ToPickle for Decimal {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let text = Decimal::parse(&self.0)?.0;
        let s = graph.str(text);
        Ok(call(graph, "decimal", "Decimal", vec![s]))
    }
}

impl ToPickle for Fraction {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let f = Fraction::new(self.numerator.clone(), self.denominator.clone())?;
        let (n, d) = (graph.int(f.numerator), graph.int(f.denominator));
        Ok(call(graph, "fractions", "Fraction", vec![n, d]))
    }
}

/// `uuid.UUID` with state `{'int': n}` (`is_safe` unknown), written as
/// `object.__reduce_ex__` does: NEWOBJ from protocol 2, `copyreg._reconstructor` below.
impl ToPickle for Uuid {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let class = graph.global("uuid", "UUID");
        let object = graph.global("builtins", "object");
        let obj = call(graph, "copyreg", "_reconstructor", vec![class, object, Value::None]);
        let key = graph.str("int");
        let int = graph.int(self.0);
        let state = graph.dict([(key, int)]).map_err(build_error)?;
        graph.set_state(obj, state).map_err(build_error)?;
        Ok(obj)
    }
}

/// `deque()` or `deque((), maxlen)`, then its items appended.
impl ToPickle for Deque {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let args = match self.maxlen {
            None => vec![],
            Some(m) => {
                let empty = graph.tuple([]);
                vec![empty, graph.int(m)]
            }
        };
        let d = call(graph, "collections", "deque", args);
        for &item in &self.items {
            graph.append(d, item).map_err(build_error)?;
        }
        Ok(d)
    }
}

/// `defaultdict(factory)` (or `defaultdict()` for a None factory), then its items set.
impl ToPickle for DefaultDict {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let args = if self.factory == Value::None { vec![] } else { vec![self.factory] };
        let d = call(graph, "collections", "defaultdict", args);
        for &(k, v) in &self.items {
            graph.set_item(d, k, v).map_err(build_error)?;
        }
        Ok(d)
    }
}

/// By value, `Color(value)`, when it has one; else by name,
/// `getattr(Color, 'NAME')` (`enum.pickle_by_enum_name`).
impl ToPickle for EnumMember {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        if self.class.name.is_empty() {
            let name = self.name.as_deref().ok_or_else(|| err("an enum member needs a class, or a global name"))?;
            return Ok(graph.global(&self.class.module, name));
        }
        let class = graph.global(&self.class.module, &self.class.name);
        match (&self.value, &self.name) {
            (Some(v), _) => Ok(graph.reduce(class, [*v])),
            (None, Some(name)) => {
                let getattr = graph.global("builtins", "getattr");
                let name = graph.str(name.clone());
                Ok(graph.reduce(getattr, [class, name]))
            }
            (None, None) => Err(err("an enum member needs a value or a name")),
        }
    }
}

impl ToPickle for Range {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        if self.step == 0 {
            return Err(err("range() arg 3 must not be zero"));
        }
        Ok(call(graph, "builtins", "range", vec![self.start.into(), self.stop.into(), self.step.into()]))
    }
}

impl ToPickle for Slice {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Ok(call(graph, "builtins", "slice", vec![self.start, self.stop, self.step]))
    }
}

impl ArrayItems {
    /// The number of items.
    pub fn len(&self) -> usize {
        match self {
            ArrayItems::I8(v) => v.len(),
            ArrayItems::U8(v) => v.len(),
            ArrayItems::I16(v) => v.len(),
            ArrayItems::U16(v) => v.len(),
            ArrayItems::I32(v) => v.len(),
            ArrayItems::U32(v) => v.len(),
            ArrayItems::I64(v) => v.len(),
            ArrayItems::U64(v) => v.len(),
            ArrayItems::F32(v) => v.len(),
            ArrayItems::F64(v) => v.len(),
            ArrayItems::Unicode(s) => s.chars().count(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Machine format code and little-endian bytes, as `array.__reduce_ex__` (protocol 3+) writes them.
    fn machine(&self) -> (i64, Vec<u8>) {
        fn le<const N: usize, T: Copy>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
            v.iter().flat_map(|&x| f(x)).collect()
        }
        match self {
            ArrayItems::U8(v) => (0, v.clone()),
            ArrayItems::I8(v) => (1, le(v, i8::to_le_bytes)),
            ArrayItems::U16(v) => (2, le(v, u16::to_le_bytes)),
            ArrayItems::I16(v) => (4, le(v, i16::to_le_bytes)),
            ArrayItems::U32(v) => (6, le(v, u32::to_le_bytes)),
            ArrayItems::I32(v) => (8, le(v, i32::to_le_bytes)),
            ArrayItems::U64(v) => (10, le(v, u64::to_le_bytes)),
            ArrayItems::I64(v) => (12, le(v, i64::to_le_bytes)),
            ArrayItems::F32(v) => (14, le(v, f32::to_le_bytes)),
            ArrayItems::F64(v) => (16, le(v, f64::to_le_bytes)),
            ArrayItems::Unicode(s) => (20, s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect()),
        }
    }
    fn values(&self, graph: &mut Graph<'static>) -> Vec<Value> {
        fn ints<T: Copy + Into<i64>>(v: &[T]) -> Vec<Value> {
            v.iter().map(|&x| Value::Int(x.into())).collect()
        }
        match self {
            ArrayItems::I8(v) => ints(v),
            ArrayItems::U8(v) => ints(v),
            ArrayItems::I16(v) => ints(v),
            ArrayItems::U16(v) => ints(v),
            ArrayItems::I32(v) => ints(v),
            ArrayItems::U32(v) => ints(v),
            ArrayItems::I64(v) => ints(v),
            ArrayItems::U64(v) => v.iter().map(|&x| graph.int(x)).collect(),
            ArrayItems::F32(v) => v.iter().map(|&x| Value::Float(x.into())).collect(),
            ArrayItems::F64(v) => v.iter().map(|&x| Value::Float(x)).collect(),
            ArrayItems::Unicode(s) => s.chars().map(|c| graph.str(c.to_string())).collect(),
        }
    }
}

/// The typecodes an [`ArrayItems`] variant can have (on a 64-bit Linux or
/// macOS machine, where `l` is 8 bytes).
fn typecode_fits(typecode: char, items: &ArrayItems) -> bool {
    matches!(
        (typecode, items),
        ('b', ArrayItems::I8(_))
            | ('B', ArrayItems::U8(_))
            | ('h', ArrayItems::I16(_))
            | ('H', ArrayItems::U16(_))
            | ('i', ArrayItems::I32(_))
            | ('I', ArrayItems::U32(_))
            | ('l' | 'q', ArrayItems::I64(_))
            | ('L' | 'Q', ArrayItems::U64(_))
            | ('f', ArrayItems::F32(_))
            | ('d', ArrayItems::F64(_))
            | ('u' | 'w', ArrayItems::Unicode(_))
    )
}

/// What CPython writes at `graph.protocol()`: from protocol 3,
/// `array._array_reconstructor(array, typecode, mformat_code, bytes)`
/// (little-endian machine formats); below, `array(typecode, [items])`,
/// which every Python loads. (`Graph::new()` is protocol 0: set the
/// protocol you will write at to get CPython's bytes.)
impl ToPickle for Array {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        if !typecode_fits(self.typecode, &self.items) {
            return Err(err(format!("array typecode '{}' does not fit its items", self.typecode)));
        }
        let typecode = graph.str(self.typecode.to_string());
        let class = graph.global("array", "array");
        if graph.protocol() >= 3 {
            let (code, data) = self.items.machine();
            debug_assert!(MFormat::from_code(code).is_some());
            let data = graph.bytes(data);
            return Ok(call(graph, "array", "_array_reconstructor", vec![class, typecode, Value::Int(code), data]));
        }
        let values = self.items.values(graph);
        let list = graph.list(values);
        Ok(graph.reduce(class, [typecode, list]))
    }
}

/// `cls(*parts)` of the path's class.
impl ToPickle for Path {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let parts: Vec<Value> = self.parts.iter().map(|p| graph.str(p.clone())).collect();
        Ok(call(graph, &self.class.module, &self.class.name, parts))
    }
}

impl Path {
    /// A `pathlib.PurePosixPath` (`flavor` Posix), `PureWindowsPath` or `PurePath` of these parts.
    pub fn pure(flavor: PathFlavor, parts: impl IntoIterator<Item = impl Into<String>>) -> Path {
        let name = match flavor {
            PathFlavor::Posix => "PurePosixPath",
            PathFlavor::Windows => "PureWindowsPath",
            PathFlavor::Native => "PurePath",
        };
        Path { class: Global::new("pathlib", name), flavor, parts: parts.into_iter().map(Into::into).collect() }
    }
}

/// From protocol 2 (by `graph.protocol()`), `cls.__new__(cls, *items)`
/// (NEWOBJ); below, `copyreg._reconstructor(cls, tuple, items)`, as
/// CPython writes a named tuple.
impl ToPickle for NamedTuple {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let class = graph.global(&self.class.module, &self.class.name);
        if graph.protocol() >= 2 {
            return Ok(graph.new_object(class, self.items.iter().copied()));
        }
        let tuple_class = graph.global("builtins", "tuple");
        let items = graph.tuple(self.items.iter().copied());
        Ok(call(graph, "copyreg", "_reconstructor", vec![class, tuple_class, items]))
    }
}

impl ToPickle for Std {
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        match self {
            Std::Complex(v) => v.to_pickle(graph),
            Std::Date(v) => v.to_pickle(graph),
            Std::Time(v) => v.to_pickle(graph),
            Std::DateTime(v) => v.to_pickle(graph),
            Std::TimeDelta(v) => v.to_pickle(graph),
            Std::TimeZone(v) => v.to_pickle(graph),
            Std::Decimal(v) => v.to_pickle(graph),
            Std::Fraction(v) => v.to_pickle(graph),
            Std::Uuid(v) => v.to_pickle(graph),
            Std::OrderedDict(items) => {
                let d = call(graph, "collections", "OrderedDict", vec![]);
                for &(k, v) in items {
                    graph.set_item(d, k, v).map_err(build_error)?;
                }
                Ok(d)
            }
            Std::DefaultDict(v) => v.to_pickle(graph),
            Std::Counter(items) => {
                let dict = graph.dict(items.iter().copied()).map_err(build_error)?;
                Ok(call(graph, "collections", "Counter", vec![dict]))
            }
            Std::Deque(v) => v.to_pickle(graph),
            Std::Enum(v) => v.to_pickle(graph),
            Std::Range(v) => v.to_pickle(graph),
            Std::Slice(v) => v.to_pickle(graph),
            Std::Array(v) => v.to_pickle(graph),
            Std::Namespace(items) => {
                let ns = call(graph, "types", "SimpleNamespace", vec![]);
                let state = graph.dict(items.iter().copied()).map_err(build_error)?;
                graph.set_state(ns, state).map_err(build_error)?;
                Ok(ns)
            }
            Std::Path(v) => v.to_pickle(graph),
        }
    }
}
