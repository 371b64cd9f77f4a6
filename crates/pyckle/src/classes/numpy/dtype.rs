//! `numpy.dtype`: read from its record, written back as numpy writes it.

use super::util::{err, int_arg, is_numpy_dtype, text_arg};
use crate::classes::ConvertError;
use crate::graph::{Graph, Object, Value};
use std::fmt;

/// The byte order of a dtype's items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`
    Little,
    /// `>`
    Big,
    /// `|`: items of one byte, strings of bytes, records, objects.
    NotApplicable,
}

impl ByteOrder {
    /// The byte order of this machine (what numpy's `=` means).
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "big") { ByteOrder::Big } else { ByteOrder::Little };

    pub fn as_char(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
    /// True when items in this order need no swapping on this machine.
    pub fn is_native(self) -> bool {
        self != Self::opposite(ByteOrder::NATIVE)
    }
    fn opposite(o: ByteOrder) -> ByteOrder {
        match o {
            ByteOrder::Little => ByteOrder::Big,
            ByteOrder::Big => ByteOrder::Little,
            ByteOrder::NotApplicable => ByteOrder::NotApplicable,
        }
    }
}

/// What a dtype's items are (numpy's `dtype.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `b`: bool.
    Bool,
    /// `i`: signed integers.
    Int,
    /// `u`: unsigned integers.
    UInt,
    /// `f`: floats (f2 is `half::f16`).
    Float,
    /// `c`: complex.
    Complex,
    /// `S`: fixed-width bytes.
    Bytes,
    /// `U`: fixed-width UCS-4 text.
    Unicode,
    /// `V`: raw bytes, or records when the dtype has fields.
    Void,
    /// `O`: Python objects.
    Object,
    /// `M`: datetime64.
    DateTime,
    /// `m`: timedelta64.
    TimeDelta,
}

impl Kind {
    /// numpy's `dtype.kind` letter.
    pub fn as_char(self) -> char {
        match self {
            Kind::Bool => 'b',
            Kind::Int => 'i',
            Kind::UInt => 'u',
            Kind::Float => 'f',
            Kind::Complex => 'c',
            Kind::Bytes => 'S',
            Kind::Unicode => 'U',
            Kind::Void => 'V',
            Kind::Object => 'O',
            Kind::DateTime => 'M',
            Kind::TimeDelta => 'm',
        }
    }
    fn from_char(c: char) -> Option<Kind> {
        Some(match c {
            'b' | '?' => Kind::Bool,
            'i' => Kind::Int,
            'u' => Kind::UInt,
            'f' => Kind::Float,
            'c' => Kind::Complex,
            'S' | 'a' => Kind::Bytes,
            'U' => Kind::Unicode,
            'V' => Kind::Void,
            'O' => Kind::Object,
            'M' => Kind::DateTime,
            'm' => Kind::TimeDelta,
            _ => return None,
        })
    }
}

/// The unit of a datetime64/timedelta64 dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateUnit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    Picosecond,
    Femtosecond,
    Attosecond,
    /// No unit yet (`np.dtype('M8')`).
    Generic,
}

impl DateUnit {
    /// numpy's name of the unit (`"ms"`, `"us"`, `"generic"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DateUnit::Year => "Y",
            DateUnit::Month => "M",
            DateUnit::Week => "W",
            DateUnit::Day => "D",
            DateUnit::Hour => "h",
            DateUnit::Minute => "m",
            DateUnit::Second => "s",
            DateUnit::Millisecond => "ms",
            DateUnit::Microsecond => "us",
            DateUnit::Nanosecond => "ns",
            DateUnit::Picosecond => "ps",
            DateUnit::Femtosecond => "fs",
            DateUnit::Attosecond => "as",
            DateUnit::Generic => "generic",
        }
    }
    pub fn parse(s: &str) -> Option<DateUnit> {
        Some(match s {
            "Y" => DateUnit::Year,
            "M" => DateUnit::Month,
            "W" => DateUnit::Week,
            "D" => DateUnit::Day,
            "h" => DateUnit::Hour,
            "m" => DateUnit::Minute,
            "s" => DateUnit::Second,
            "ms" => DateUnit::Millisecond,
            "us" | "μs" => DateUnit::Microsecond,
            "ns" => DateUnit::Nanosecond,
            "ps" => DateUnit::Picosecond,
            "fs" => DateUnit::Femtosecond,
            "as" => DateUnit::Attosecond,
            "generic" => DateUnit::Generic,
            _ => return None,
        })
    }
}

/// A datetime64/timedelta64 unit with its multiplier: `[3us]` is
/// `TimeUnit { unit: Microsecond, count: 3 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeUnit {
    pub unit: DateUnit,
    pub count: u32,
}

impl TimeUnit {
    pub const GENERIC: TimeUnit = TimeUnit { unit: DateUnit::Generic, count: 1 };
    pub fn new(unit: DateUnit, count: u32) -> Self {
        TimeUnit { unit, count }
    }
}

impl fmt::Display for TimeUnit {
    /// `ms`, `3us`; empty for the generic unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.unit, self.count) {
            (DateUnit::Generic, _) => Ok(()),
            (u, 1) => f.write_str(u.as_str()),
            (u, n) => write!(f, "{n}{}", u.as_str()),
        }
    }
}

/// One field of a structured dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    /// The field's title, when it has one (`dtype.fields[name][2]`).
    pub title: Option<String>,
    pub dtype: Dtype,
    /// Its byte offset inside an item.
    pub offset: usize,
}

/// A subarray dtype: `np.dtype(('<i2', (2, 3)))`, items that are arrays.
#[derive(Clone, Debug, PartialEq)]
pub struct Subarray {
    pub base: Dtype,
    pub shape: Vec<usize>,
}

/// A numpy dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct Dtype {
    pub kind: Kind,
    pub byte_order: ByteOrder,
    /// Bytes per item (`dtype.itemsize`): for `U`, four per character.
    pub itemsize: usize,
    /// The fields of a structured dtype, in order (`dtype.names`).
    pub fields: Option<Vec<Field>>,
    /// The item shape and base of a subarray dtype.
    pub subarray: Option<Box<Subarray>>,
    /// The unit of datetime64 and timedelta64.
    pub time_unit: Option<TimeUnit>,
    /// `align=True` (dtype flag `NPY_ALIGNED_STRUCT`).
    pub aligned: bool,
}

/// How deep dtypes may nest (fields of fields, subarrays of subarrays).
pub const MAX_DTYPE_DEPTH: usize = 64;
/// How many dtypes one parse may visit in all (a record shared by many
/// fields is parsed once per use; this bounds the blow-up).
pub const MAX_DTYPE_NODES: usize = 100_000;

impl Dtype {
    /// A dtype without fields, subarray or unit: `Dtype::simple(Kind::Float, 8)`
    /// is `float64` in native byte order.
    pub fn simple(kind: Kind, itemsize: usize) -> Dtype {
        let byte_order = match kind {
            Kind::Bool | Kind::Bytes | Kind::Void | Kind::Object => ByteOrder::NotApplicable,
            Kind::Int | Kind::UInt if itemsize == 1 => ByteOrder::NotApplicable,
            _ => ByteOrder::NATIVE,
        };
        let time_unit = matches!(kind, Kind::DateTime | Kind::TimeDelta).then_some(TimeUnit::GENERIC);
        Dtype { kind, byte_order, itemsize, fields: None, subarray: None, time_unit, aligned: false }
    }
    /// datetime64 or timedelta64 with a unit, native byte order.
    pub fn time(kind: Kind, unit: TimeUnit) -> Dtype {
        let mut d = Dtype::simple(kind, 8);
        d.time_unit = Some(unit);
        d
    }
    /// True for records: kind `V` with fields.
    pub fn is_structured(&self) -> bool {
        self.kind == Kind::Void && self.fields.is_some()
    }
    /// True when an item holds a Python object somewhere (numpy's
    /// `NPY_ITEM_HASOBJECT`): such arrays pickle their items as a list.
    pub fn has_object(&self) -> bool {
        let mut stack = vec![self];
        while let Some(d) = stack.pop() {
            if d.kind == Kind::Object {
                return true;
            }
            if let Some(s) = &d.subarray {
                stack.push(&s.base);
            }
            if let Some(fs) = &d.fields {
                stack.extend(fs.iter().map(|f| &f.dtype));
            }
        }
        false
    }
    /// numpy's `dtype.char` (`d` for float64, `e` for float16, `?` for bool...).
    pub fn char(&self) -> char {
        let s = self.itemsize;
        match self.kind {
            Kind::Bool => '?',
            Kind::Int => match s {
                1 => 'b',
                2 => 'h',
                4 => 'i',
                _ => 'q',
            },
            Kind::UInt => match s {
                1 => 'B',
                2 => 'H',
                4 => 'I',
                _ => 'Q',
            },
            Kind::Float => match s {
                2 => 'e',
                4 => 'f',
                8 => 'd',
                _ => 'g',
            },
            Kind::Complex => match s {
                8 => 'F',
                16 => 'D',
                _ => 'G',
            },
            Kind::Bytes => 'S',
            Kind::Unicode => 'U',
            Kind::Void => 'V',
            Kind::Object => 'O',
            Kind::DateTime => 'M',
            Kind::TimeDelta => 'm',
        }
    }
    /// numpy's `dtype.name`: `float64`, `bytes40`, `str96`, `void144`,
    /// `datetime64[ms]`, `object`, `bool`.
    pub fn name(&self) -> String {
        let bits = self.itemsize * 8;
        match self.kind {
            Kind::Bool => "bool".into(),
            Kind::Int => format!("int{bits}"),
            Kind::UInt => format!("uint{bits}"),
            Kind::Float => format!("float{bits}"),
            Kind::Complex => format!("complex{bits}"),
            Kind::Bytes => format!("bytes{bits}"),
            Kind::Unicode => format!("str{bits}"),
            Kind::Void => format!("void{bits}"),
            Kind::Object => "object".into(),
            Kind::DateTime | Kind::TimeDelta => {
                let base = if self.kind == Kind::DateTime { "datetime64" } else { "timedelta64" };
                match self.time_unit {
                    Some(u) if u.unit != DateUnit::Generic => format!("{base}[{u}]"),
                    _ => base.into(),
                }
            }
        }
    }
    /// The type string numpy pickles as `dtype(...)`'s first argument
    /// (`f8`, `U3`, `V18`, `M8`, `O8`).
    pub fn reduce_str(&self) -> String {
        match self.kind {
            Kind::Unicode => format!("U{}", self.itemsize / 4),
            Kind::Bool => "b1".into(),
            k => format!("{}{}", k.as_char(), self.itemsize),
        }
    }

    /// Reads a `numpy.dtype` record.
    pub fn from_graph(graph: &Graph<'_>, value: Value) -> Result<Dtype, ConvertError> {
        let mut budget = MAX_DTYPE_NODES;
        parse(graph, value, 0, &mut budget)
    }
}

impl fmt::Display for Dtype {
    /// numpy's `dtype.str`: `<f8`, `|S5`, `<U3` (characters), `|V18`, `<M8[ms]`, `|O`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.byte_order.as_char();
        match self.kind {
            Kind::Object => write!(f, "|O"),
            Kind::Unicode => write!(f, "{o}U{}", self.itemsize / 4),
            Kind::DateTime | Kind::TimeDelta => {
                write!(f, "{o}{}8", self.kind.as_char())?;
                match self.time_unit {
                    Some(u) if u.unit != DateUnit::Generic => write!(f, "[{u}]"),
                    _ => Ok(()),
                }
            }
            k => write!(f, "{o}{}{}", k.as_char(), self.itemsize),
        }
    }
}

fn parse(graph: &Graph<'_>, value: Value, depth: usize, budget: &mut usize) -> Result<Dtype, ConvertError> {
    if depth > MAX_DTYPE_DEPTH {
        return Err(err(format!("dtype nested more than {MAX_DTYPE_DEPTH} deep")));
    }
    if *budget == 0 {
        return Err(err(format!("dtype has more than {MAX_DTYPE_NODES} parts")));
    }
    *budget -= 1;
    let record = graph.as_record(value).ok_or_else(|| err(found("a numpy.dtype", graph, value)))?;
    if !graph.as_global(record.callable).is_some_and(is_numpy_dtype) {
        return Err(err(found("a numpy.dtype", graph, value)));
    }
    let args = graph.as_tuple(record.args).unwrap_or(&[]);
    let first = args.first().ok_or_else(|| err("numpy.dtype() without a type"))?;
    let spec = text_arg(graph, *first).ok_or_else(|| err("numpy.dtype(): the type is not a str"))?;
    let mut chars = spec.chars();
    let kind_char = chars.next().ok_or_else(|| err("numpy.dtype(''): empty type"))?;
    let kind = Kind::from_char(kind_char).ok_or_else(|| err(format!("numpy.dtype({spec:?}): unknown kind")))?;
    let digits = chars.as_str();
    let mut n: usize = if digits.is_empty() {
        match kind {
            Kind::Bool => 1,
            Kind::Object => 8,
            _ => 0,
        }
    } else {
        digits.parse().map_err(|_| err(format!("numpy.dtype({spec:?}): bad size")))?
    };
    if kind == Kind::Unicode {
        n = n.checked_mul(4).ok_or_else(|| err(format!("numpy.dtype({spec:?}): size overflows")))?;
    }
    let mut d = Dtype::simple(kind, n);
    if kind == Kind::Object {
        d.itemsize = std::mem::size_of::<usize>();
    }
    if let Some(state) = record.state {
        apply_state(graph, &mut d, state, depth, budget)?;
    }
    check_size(&d)?;
    Ok(d)
}

/// The item sizes numpy has for each kind.
fn check_size(d: &Dtype) -> Result<(), ConvertError> {
    let s = d.itemsize;
    let ok = match d.kind {
        Kind::Bool => s == 1,
        Kind::Int | Kind::UInt => matches!(s, 1 | 2 | 4 | 8),
        Kind::Float => matches!(s, 2 | 4 | 8 | 10 | 12 | 16),
        Kind::Complex => matches!(s, 8 | 16 | 20 | 24 | 32),
        Kind::DateTime | Kind::TimeDelta => s == 8,
        Kind::Object => matches!(s, 4 | 8),
        Kind::Unicode => s % 4 == 0,
        Kind::Bytes | Kind::Void => true,
    };
    if !ok {
        return Err(err(format!("numpy.dtype: kind {} has no item size {s}", d.kind.as_char())));
    }
    if s > i32::MAX as usize {
        return Err(err(format!("numpy.dtype: item size {s} is too large")));
    }
    Ok(())
}

/// `dtype.__setstate__`: `(version, byteorder, subarray, names, fields,
/// elsize, alignment, flags[, metadata])`, and the older 5-, 6- and
/// 7-item forms.
fn apply_state(
    graph: &Graph<'_>,
    d: &mut Dtype,
    state: Value,
    depth: usize,
    budget: &mut usize,
) -> Result<(), ConvertError> {
    let st = graph.as_tuple(state).ok_or_else(|| err("numpy.dtype state is not a tuple"))?;
    // (endian, subarray, names, fields, elsize, alignment, flags, metadata), missing ones None.
    let (endian, subarray, names, fields, elsize, flags, metadata) = match st.len() {
        9 => (st[1], st[2], Some(st[3]), st[4], st[5], Some(st[7]), Some(st[8])),
        8 => (st[1], st[2], Some(st[3]), st[4], st[5], Some(st[7]), None),
        7 => (st[1], st[2], Some(st[3]), st[4], st[5], None, None),
        6 => (st[1], st[2], None, st[3], st[4], None, None),
        5 => (st[0], st[1], None, st[2], st[3], None, None),
        n => return Err(err(format!("numpy.dtype state has {n} items"))),
    };
    let e = text_arg(graph, endian).ok_or_else(|| err("numpy.dtype state: byte order is not a str"))?;
    d.byte_order = match e.as_str() {
        "<" => ByteOrder::Little,
        ">" => ByteOrder::Big,
        "=" => ByteOrder::NATIVE,
        "|" => ByteOrder::NotApplicable,
        other => return Err(err(format!("numpy.dtype state: byte order {other:?}"))),
    };
    let elsize = int_arg(graph, elsize).ok_or_else(|| err("numpy.dtype state: item size is not an int"))?;
    if elsize >= 0 && matches!(d.kind, Kind::Bytes | Kind::Unicode | Kind::Void) {
        d.itemsize = usize::try_from(elsize).map_err(|_| err("numpy.dtype state: item size too large"))?;
    }
    if let Some(flags) = flags {
        d.aligned = int_arg(graph, flags).is_some_and(|f| f & 0x80 != 0);
    }
    if subarray != Value::None {
        let sub = graph.as_tuple(subarray).filter(|t| t.len() == 2);
        let sub = sub.ok_or_else(|| err("numpy.dtype state: subarray is not (dtype, shape)"))?;
        let base = parse(graph, sub[0], depth + 1, budget).map_err(|e| e.at(".subarray"))?;
        let shape = shape_of(graph, sub[1]).map_err(|e| e.at(".subarray"))?;
        let count = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
        let total = count.and_then(|c| c.checked_mul(base.itemsize));
        if total != Some(d.itemsize) {
            return Err(err(format!(
                "numpy.dtype state: subarray of {shape:?} items of {} bytes in an item of {}",
                base.itemsize, d.itemsize
            )));
        }
        d.subarray = Some(Box::new(Subarray { base, shape }));
    }
    if fields != Value::None {
        let Some(Object::Dict(fd)) = graph.object(fields) else {
            return Err(err("numpy.dtype state: fields is not a dict"));
        };
        let names: Vec<Value> = match names.filter(|n| *n != Value::None) {
            Some(n) => graph.as_tuple(n).ok_or_else(|| err("numpy.dtype state: names is not a tuple"))?.to_vec(),
            // The oldest form keeps the names under the key -1.
            None => match fd.get(graph, Value::Int(-1)) {
                Some(n) => graph.as_tuple(n).ok_or_else(|| err("numpy.dtype state: names is not a tuple"))?.to_vec(),
                None => return Err(err("numpy.dtype state: fields without names")),
            },
        };
        let mut out = Vec::with_capacity(names.len().min(1024));
        for name in names {
            let n = text_arg(graph, name).ok_or_else(|| err("numpy.dtype state: a field name is not a str"))?;
            let entry = fd.get(graph, name).ok_or_else(|| err(format!("numpy.dtype state: no field {n:?}")))?;
            let t = graph.as_tuple(entry).filter(|t| t.len() == 2 || t.len() == 3);
            let t = t.ok_or_else(|| err(format!("numpy.dtype state: field {n:?} is not (dtype, offset[, title])")))?;
            let fdt = parse(graph, t[0], depth + 1, budget).map_err(|e| e.at(format!(".{n}")))?;
            let off = int_arg(graph, t[1]).and_then(|o| usize::try_from(o).ok());
            let off = off.ok_or_else(|| err(format!("numpy.dtype state: field {n:?} has a bad offset")))?;
            if off.checked_add(fdt.itemsize).map_or(true, |end| end > d.itemsize) {
                return Err(err(format!(
                    "numpy.dtype state: field {n:?} ({} bytes at {off}) runs past the item ({} bytes)",
                    fdt.itemsize, d.itemsize
                )));
            }
            let title = t.get(2).and_then(|&v| text_arg(graph, v));
            out.push(Field { name: n, title, dtype: fdt, offset: off });
        }
        d.fields = Some(out);
    }
    if matches!(d.kind, Kind::DateTime | Kind::TimeDelta) {
        d.time_unit = Some(match metadata {
            Some(m) => time_unit(graph, m)?.unwrap_or(TimeUnit::GENERIC),
            None => TimeUnit::GENERIC,
        });
    }
    Ok(())
}

/// The datetime part of a version-4 state's metadata: `(metadata, (unit, num, den, events))`.
fn time_unit(graph: &Graph<'_>, m: Value) -> Result<Option<TimeUnit>, ConvertError> {
    let Some(pair) = graph.as_tuple(m).filter(|t| t.len() == 2) else { return Ok(None) };
    let Some(info) = graph.as_tuple(pair[1]).filter(|t| t.len() >= 2) else { return Ok(None) };
    let unit = match graph.object(info[0]) {
        Some(Object::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => text_arg(graph, info[0]).ok_or_else(|| err("numpy.dtype: datetime unit is not a str"))?,
    };
    let unit = DateUnit::parse(&unit).ok_or_else(|| err(format!("numpy.dtype: unknown datetime unit {unit:?}")))?;
    let count = int_arg(graph, info[1]).and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0);
    let count = count.ok_or_else(|| err("numpy.dtype: bad datetime unit multiplier"))?;
    Ok(Some(TimeUnit { unit, count }))
}

/// A shape: a tuple (or list) of non-negative ints, or one int.
pub(crate) fn shape_of(graph: &Graph<'_>, v: Value) -> Result<Vec<usize>, ConvertError> {
    let single;
    let items: &[Value] = match graph.object(v) {
        Some(Object::Tuple(t)) | Some(Object::List(t)) => t,
        _ if matches!(v, Value::Int(_)) => {
            single = [v];
            &single
        }
        _ => return Err(err(found("a shape tuple", graph, v))),
    };
    if items.len() > super::MAX_DIMS {
        return Err(err(format!("shape has {} dimensions, more than {}", items.len(), super::MAX_DIMS)));
    }
    items
        .iter()
        .map(|&d| match d {
            Value::Int(n) if n >= 0 => usize::try_from(n).map_err(|_| err("dimension too large")),
            Value::Int(n) => Err(err(format!("negative dimension {n}"))),
            _ => Err(err(found("an int dimension", graph, d))),
        })
        .collect()
}

pub(crate) fn found(what: &str, graph: &Graph<'_>, v: Value) -> String {
    let t = match (v, graph.object(v)) {
        (Value::None, _) => "None".to_string(),
        (Value::Bool(_), _) => "bool".into(),
        (Value::Int(_), _) => "int".into(),
        (Value::Float(_), _) => "float".into(),
        (_, Some(Object::Record(r))) => match graph.as_global(r.callable) {
            Some(g) => format!("an object of {}.{}", g.module, g.name),
            None => "an object".into(),
        },
        (_, Some(Object::Global(g))) => format!("the global {}.{}", g.module, g.name),
        (_, Some(o)) => o.type_name().into(),
        (_, None) => "a dangling reference".into(),
    };
    format!("expected {what}, found {t}")
}
