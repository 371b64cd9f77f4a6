//! Reading standard-library records: [`recognize`] and the typed readers.

use super::*;
use crate::classes::prim::{expected, to_bigint, to_f64};
use crate::classes::FromPickle;
use crate::graph::{Object, Record, RecordKind};
use num_traits::{Signed, ToPrimitive, Zero};
use std::borrow::Cow;

/// A record seen as a call of a class: `class(*args)`, with the record for
/// its state and items. `copyreg._reconstructor(cls, base, state)` and
/// `copyreg.__newobj__(cls, *args)` are seen through, and so is a callable
/// that is `getattr(cls, 'name')` (class `cls.name`).
pub(super) struct Call<'a> {
    pub class: Cow<'a, Global>,
    pub args: &'a [Value],
    pub rec: &'a Record,
    /// `Some(base)` for `copyreg._reconstructor(cls, base, state)`; `args`
    /// is then `[state]` (or empty when the state is None).
    pub base: Option<&'a Global>,
}

/// The global a value names: a global, or `getattr(global, 'name')` left
/// as a record (the decoder folds those made of globals; a graph built by
/// hand may hold the record).
fn global_of<'a>(graph: &'a Graph<'_>, v: Value) -> Option<Cow<'a, Global>> {
    global_within(graph, v, 0)
}

/// Nested getattr records are followed this deep at most.
const MAX_GETATTR_DEPTH: usize = 32;

fn global_within<'a>(graph: &'a Graph<'_>, v: Value, depth: usize) -> Option<Cow<'a, Global>> {
    if let Some(g) = graph.as_global(v) {
        return Some(Cow::Borrowed(g));
    }
    let rec = graph.as_record(v)?;
    if rec.kind != RecordKind::Reduce || !graph.as_global(rec.callable)?.is("builtins", "getattr") {
        return None;
    }
    match graph.as_tuple(rec.args)? {
        [obj, attr] => {
            if depth >= MAX_GETATTR_DEPTH {
                return None;
            }
            let parent = global_within(graph, *obj, depth + 1)?;
            let attr = graph.as_str(*attr)?;
            Some(Cow::Owned(Global::new(parent.module.clone(), format!("{}.{attr}", parent.name))))
        }
        _ => None,
    }
}

pub(super) fn call_of<'a>(graph: &'a Graph<'_>, value: Value) -> Option<Call<'a>> {
    let rec = graph.as_record(value)?;
    let callable = global_of(graph, rec.callable)?;
    let args: &[Value] = graph.as_tuple(rec.args).unwrap_or(&[]);
    if rec.kind == RecordKind::Reduce {
        if callable.is("copyreg", "_reconstructor") {
            if let [cls, base, state] = args {
                let (cls, base) = (global_of(graph, *cls)?, graph.as_global(*base)?);
                let args = if *state == Value::None { &args[..0] } else { &args[2..] };
                return Some(Call { class: cls, args, rec, base: Some(base) });
            }
        }
        if callable.is("copyreg", "__newobj__") {
            if let [cls, rest @ ..] = args {
                return Some(Call { class: global_of(graph, *cls)?, args: rest, rec, base: None });
            }
        }
    }
    Some(Call { class: callable, args, rec, base: None })
}

fn err(message: impl Into<String>) -> ConvertError {
    ConvertError::new(message)
}

fn int_arg(graph: &Graph<'_>, v: Value, what: &str) -> Result<i64, ConvertError> {
    match to_bigint(graph, v) {
        Some(i) => i.to_i64().ok_or_else(|| err(format!("{what}: int {i} out of range"))),
        None => Err(expected(graph, "int", v).at(format!(".{what}"))),
    }
}

/// Bytes of a packed state: `bytes`, or a `str` of code points below 256
/// (Python 2's `str`, decoded as latin-1).
pub(super) fn state_bytes<'a>(graph: &'a Graph<'_>, v: Value) -> Option<Cow<'a, [u8]>> {
    match graph.object(v)? {
        Object::Bytes(b) | Object::ByteArray(b) => Some(Cow::Borrowed(&b[..])),
        Object::Str(s) => {
            let mut out = Vec::with_capacity(s.as_bytes().len());
            for cp in s.code_points() {
                out.push(u8::try_from(cp).ok()?);
            }
            Some(Cow::Owned(out))
        }
        _ => None,
    }
}

/// The text of a str (or of ASCII bytes: a Python 2 `str` kept as bytes).
pub(super) fn text<'a>(graph: &'a Graph<'_>, v: Value) -> Option<Cow<'a, str>> {
    match graph.object(v)? {
        Object::Str(s) => Some(s.to_string_lossy()),
        Object::Bytes(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
        _ => None,
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// A date, checked as `datetime.date` checks it (years 1 to 9999).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, ConvertError> {
        if !(1..=9999).contains(&year) {
            return Err(err(format!("year {year} is out of range")));
        }
        if !(1..=12).contains(&month) {
            return Err(err("month must be in 1..12"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(err("day is out of range for month"));
        }
        Ok(Date { year, month, day })
    }
}

impl TimeDelta {
    /// `timedelta(days, seconds, microseconds)`, normalized as Python does;
    /// out of Python's range (|days| > 999999999) is an error.
    pub fn new(days: i64, seconds: i64, microseconds: i64) -> Result<TimeDelta, ConvertError> {
        let total = i128::from(days) * 86_400_000_000 + i128::from(seconds) * 1_000_000 + i128::from(microseconds);
        let us = total.rem_euclid(1_000_000);
        let secs = total.div_euclid(1_000_000);
        let s = secs.rem_euclid(86_400);
        let d = secs.div_euclid(86_400);
        if d.abs() > 999_999_999 {
            return Err(err(format!("days={d}; must have magnitude <= 999999999")));
        }
        Ok(TimeDelta { days: d as i32, seconds: s as i32, microseconds: us as i32 })
    }
    /// The whole duration in microseconds (`timedelta.max` needs more than 64 bits).
    pub fn total_microseconds(&self) -> i128 {
        (i128::from(self.days) * 86_400 + i128::from(self.seconds)) * 1_000_000 + i128::from(self.microseconds)
    }
}

fn check_time(hour: u8, minute: u8, second: u8, microsecond: u32) -> Result<(), ConvertError> {
    if hour > 23 || minute > 59 || second > 59 || microsecond > 999_999 {
        return Err(err(format!("time {hour}:{minute}:{second}.{microsecond} is out of range")));
    }
    Ok(())
}

fn tz_arg(graph: &Graph<'_>, v: Option<&Value>) -> Result<Option<TzInfo>, ConvertError> {
    match v {
        None | Some(Value::None) => Ok(None),
        // Only a tzinfo class is looked into (a tzinfo that is a datetime
        // holding a datetime... would nest without end).
        Some(&v) if is_tz(graph, v) => match recognize(graph, v) {
            Some(Ok(Std::TimeZone(tz))) => Ok(Some(tz)),
            Some(Err(e)) => Err(e.at(".tzinfo")),
            _ => Ok(Some(TzInfo::Other(v))),
        },
        Some(&v) => Ok(Some(TzInfo::Other(v))),
    }
}

fn is_tz(graph: &Graph<'_>, v: Value) -> bool {
    if graph.as_global(v).is_some_and(|g| g.is("datetime", "timezone.utc")) {
        return true;
    }
    call_of(graph, v).is_some_and(|c| {
        matches!(
            (c.class.module.as_str(), c.class.name.as_str()),
            ("datetime", "timezone") | ("zoneinfo", "ZoneInfo._unpickle" | "ZoneInfo")
        )
    })
}

fn date_call(graph: &Graph<'_>, args: &[Value]) -> Result<Date, ConvertError> {
    match args {
        [state] => {
            let b = state_bytes(graph, *state).ok_or_else(|| expected(graph, "the bytes of a date", *state))?;
            let [hi, lo, m, d] = b[..] else {
                return Err(err(format!("a date's state has 4 bytes, not {}", b.len())));
            };
            Date::new(u16::from(hi) << 8 | u16::from(lo), m, d)
        }
        [y, m, d] => {
            let (y, m, d) = (int_arg(graph, *y, "year")?, int_arg(graph, *m, "month")?, int_arg(graph, *d, "day")?);
            let y = u16::try_from(y).map_err(|_| err(format!("year {y} is out of range")))?;
            Date::new(y, u8::try_from(m).unwrap_or(0), u8::try_from(d).unwrap_or(0))
        }
        _ => Err(err(format!("datetime.date takes 1 or 3 arguments, not {}", args.len()))),
    }
}

fn time_call(graph: &Graph<'_>, args: &[Value]) -> Result<Time, ConvertError> {
    let (state, tz) = match args {
        [state] => (*state, None),
        [state, tz] => (*state, Some(tz)),
        _ => return Err(err(format!("datetime.time takes 1 or 2 arguments from a pickle, not {}", args.len()))),
    };
    let b = state_bytes(graph, state).ok_or_else(|| expected(graph, "the bytes of a time", state))?;
    let [h, mi, s, u0, u1, u2] = b[..] else {
        return Err(err(format!("a time's state has 6 bytes, not {}", b.len())));
    };
    let (hour, fold) = (h & 0x7f, h >> 7);
    let microsecond = u32::from(u0) << 16 | u32::from(u1) << 8 | u32::from(u2);
    check_time(hour, mi, s, microsecond)?;
    Ok(Time { hour, minute: mi, second: s, microsecond, fold, tz: tz_arg(graph, tz)? })
}

fn datetime_call(graph: &Graph<'_>, args: &[Value]) -> Result<DateTime, ConvertError> {
    let (state, tz) = match args {
        [state] => (*state, None),
        [state, tz] => (*state, Some(tz)),
        _ => return Err(err(format!("datetime.datetime takes 1 or 2 arguments from a pickle, not {}", args.len()))),
    };
    let b = state_bytes(graph, state).ok_or_else(|| expected(graph, "the bytes of a datetime", state))?;
    let [yh, yl, mo, d, h, mi, s, u0, u1, u2] = b[..] else {
        return Err(err(format!("a datetime's state has 10 bytes, not {}", b.len())));
    };
    let date = Date::new(u16::from(yh) << 8 | u16::from(yl), mo & 0x7f, d)?;
    let microsecond = u32::from(u0) << 16 | u32::from(u1) << 8 | u32::from(u2);
    check_time(h, mi, s, microsecond)?;
    let time = Time { hour: h, minute: mi, second: s, microsecond, fold: mo >> 7, tz: tz_arg(graph, tz)? };
    Ok(DateTime { date, time })
}

fn timedelta_call(graph: &Graph<'_>, args: &[Value]) -> Result<TimeDelta, ConvertError> {
    if args.len() > 3 {
        return Err(err(format!("datetime.timedelta takes at most 3 arguments from a pickle, not {}", args.len())));
    }
    let mut parts = [0i64; 3];
    for (i, (&a, what)) in args.iter().zip(["days", "seconds", "microseconds"]).enumerate() {
        parts[i] = int_arg(graph, a, what)?;
    }
    TimeDelta::new(parts[0], parts[1], parts[2])
}

fn timezone_call(graph: &Graph<'_>, args: &[Value]) -> Result<TzInfo, ConvertError> {
    let (offset, name) = match args {
        [offset] => (*offset, None),
        [offset, name] => (*offset, Some(*name)),
        _ => return Err(err(format!("datetime.timezone takes 1 or 2 arguments, not {}", args.len()))),
    };
    let is_timedelta = call_of(graph, offset).is_some_and(|c| c.class.is("datetime", "timedelta"));
    let found = if is_timedelta { recognize(graph, offset) } else { None };
    let offset = match found {
        Some(Ok(Std::TimeDelta(d))) => d,
        Some(Err(e)) => return Err(e.at(".offset")),
        _ => return Err(expected(graph, "a timedelta", offset).at(".offset")),
    };
    if offset.total_microseconds().abs() >= 86_400_000_000 {
        return Err(err("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)"));
    }
    let name = match name {
        None => None,
        Some(n) => Some(String::from_pickle(graph, n).map_err(|e| e.at(".name"))?),
    };
    Ok(TzInfo::Fixed { offset, name })
}

fn complex_call(graph: &Graph<'_>, args: &[Value]) -> Result<Complex, ConvertError> {
    if args.len() > 2 {
        return Err(err(format!("complex takes at most 2 arguments, not {}", args.len())));
    }
    let mut parts = [0.0f64; 2];
    for (i, &a) in args.iter().enumerate() {
        parts[i] = match a {
            Value::Bool(b) => f64::from(u8::from(b)),
            _ => to_f64(graph, a)
                .ok_or_else(|| expected(graph, "a float", a).at(if i == 0 { ".real" } else { ".imag" }))?,
        };
    }
    Ok(Complex { re: parts[0], im: parts[1] })
}

impl Decimal {
    /// A decimal from any spelling `decimal.Decimal(str)` accepts, kept as
    /// `str()` of that decimal spells it (`"1e5"` is `"1E+5"`, `"inf"` is `"Infinity"`).
    pub fn parse(text: &str) -> Result<Decimal, ConvertError> {
        parse_decimal(text).map(|p| Decimal(p.to_string()))
    }
    /// Sign, coefficient digits and exponent (or which special value).
    pub fn parts(&self) -> Result<DecimalParts, ConvertError> {
        parse_decimal(&self.0)
    }
}

/// The parts of a [`Decimal`]: `(-1)**negative * digits * 10**exponent`,
/// or a special value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecimalParts {
    pub negative: bool,
    pub kind: DecimalKind,
}

/// What a decimal is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecimalKind {
    /// `digits` (ASCII, no leading zeros; `"0"` for zero) times ten to `exponent`.
    Finite {
        digits: String,
        exponent: i64,
    },
    Infinity,
    /// A quiet NaN with its payload digits (empty for none).
    NaN(String),
    /// A signaling NaN with its payload digits.
    SNaN(String),
}

impl std::fmt::Display for DecimalParts {
    /// `Decimal.__str__`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        match &self.kind {
            DecimalKind::Infinity => f.write_str("Infinity"),
            DecimalKind::NaN(p) => write!(f, "NaN{p}"),
            DecimalKind::SNaN(p) => write!(f, "sNaN{p}"),
            DecimalKind::Finite { digits, exponent } => {
                let n = digits.len() as i64;
                let left = exponent + n;
                let dot = if *exponent <= 0 && left > -6 { left } else { 1 };
                if dot <= 0 {
                    write!(f, "0.{}{digits}", "0".repeat((-dot) as usize))?;
                } else if dot >= n {
                    write!(f, "{digits}{}", "0".repeat((dot - n) as usize))?;
                } else {
                    write!(f, "{}.{}", &digits[..dot as usize], &digits[dot as usize..])?;
                }
                if left != dot {
                    write!(f, "E{:+}", left - dot)?;
                }
                Ok(())
            }
        }
    }
}

fn parse_decimal(text: &str) -> Result<DecimalParts, ConvertError> {
    let bad = || err(format!("invalid literal for decimal.Decimal: {text:?}"));
    let t = text.trim().replace('_', "");
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    let lower = body.to_ascii_lowercase();
    let payload = |p: &str| -> Result<String, ConvertError> {
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(p.trim_start_matches('0').to_string())
    };
    let kind = if lower == "inf" || lower == "infinity" {
        DecimalKind::Infinity
    } else if let Some(p) = lower.strip_prefix("snan") {
        DecimalKind::SNaN(payload(p)?)
    } else if let Some(p) = lower.strip_prefix("nan") {
        DecimalKind::NaN(payload(p)?)
    } else {
        let (mantissa, exp) = match lower.find('e') {
            Some(i) => (&lower[..i], Some(&lower[i + 1..])),
            None => (&lower[..], None),
        };
        let (int, frac) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let mut exponent: i64 = match exp {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                e.parse().map_err(|_| err(format!("decimal exponent out of range: {text:?}")))?
            }
        };
        exponent = exponent.checked_sub(frac.len() as i64).ok_or_else(bad)?;
        let all = format!("{int}{frac}");
        let digits = all.trim_start_matches('0');
        let digits = if digits.is_empty() { "0".to_string() } else { digits.to_string() };
        // Keep room for the arithmetic of Display.
        if exponent.unsigned_abs() > (1 << 60) {
            return Err(err(format!("decimal exponent out of range: {text:?}")));
        }
        DecimalKind::Finite { digits, exponent }
    };
    Ok(DecimalParts { negative, kind })
}

/// Largest ints whose gcd is computed to normalize a Fraction (bits).
const FRACTION_GCD_BITS: u64 = 1 << 16;

fn gcd(mut a: BigInt, mut b: BigInt) -> BigInt {
    a = a.abs();
    b = b.abs();
    while !b.is_zero() {
        let r = &a % &b;
        a = b;
        b = r;
    }
    a
}

impl Fraction {
    /// `Fraction(numerator, denominator)`: in lowest terms with a positive
    /// denominator. (Parts longer than 65536 bits are only sign-normalized:
    /// their gcd would take quadratic time; CPython writes fractions already reduced.)
    pub fn new(numerator: BigInt, denominator: BigInt) -> Result<Fraction, ConvertError> {
        if denominator.is_zero() {
            return Err(err(format!("Fraction({numerator}, 0)")));
        }
        let (mut n, mut d) =
            if denominator.is_negative() { (-numerator, -denominator) } else { (numerator, denominator) };
        if n.bits() <= FRACTION_GCD_BITS && d.bits() <= FRACTION_GCD_BITS {
            let g = gcd(n.clone(), d.clone());
            if g > BigInt::from(1) {
                n /= &g;
                d /= &g;
            }
        }
        Ok(Fraction { numerator: n, denominator: d })
    }
    /// `Fraction(str)`: `"3/4"`, `"-5"`, `"1.25"`, `"2e-3"` (what Python 2 wrote).
    pub fn parse(text: &str) -> Result<Fraction, ConvertError> {
        let bad = || err(format!("invalid literal for Fraction: {text:?}"));
        let t = text.trim();
        if let Some((n, d)) = t.split_once('/') {
            let (n, d) = (n.trim_end(), d.trim_start());
            if d.starts_with(['+', '-']) {
                return Err(bad());
            }
            let n: BigInt = parse_int(n).ok_or_else(bad)?;
            let d: BigInt = parse_int(d).ok_or_else(bad)?;
            return Fraction::new(n, d);
        }
        let p = parse_decimal(t)?;
        let DecimalKind::Finite { digits, exponent } = p.kind else { return Err(bad()) };
        // 10**|exponent| is allocated: keep it proportionate.
        if exponent.unsigned_abs() > 4 * t.len() as u64 + 64 {
            return Err(err(format!("Fraction exponent too large: {text:?}")));
        }
        let mut n: BigInt = digits.parse().map_err(|_| bad())?;
        if p.negative {
            n = -n;
        }
        let ten = BigInt::from(10);
        let scale = num_traits::pow(ten, exponent.unsigned_abs() as usize);
        if exponent >= 0 {
            Fraction::new(n * scale, BigInt::from(1))
        } else {
            Fraction::new(n, scale)
        }
    }
}

fn parse_int(s: &str) -> Option<BigInt> {
    let s = s.replace('_', "");
    let digits = s.strip_prefix(['+', '-']).unwrap_or(&s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(&s).parse().ok()
}

fn fraction_call(graph: &Graph<'_>, args: &[Value]) -> Result<Fraction, ConvertError> {
    match args {
        [n, d] => {
            let n = to_bigint(graph, *n).ok_or_else(|| expected(graph, "int", *n).at(".numerator"))?;
            let d = to_bigint(graph, *d).ok_or_else(|| expected(graph, "int", *d).at(".denominator"))?;
            Fraction::new(n, d)
        }
        [x] => match (to_bigint(graph, *x), text(graph, *x)) {
            (Some(n), _) => Fraction::new(n, BigInt::from(1)),
            (None, Some(t)) => Fraction::parse(&t),
            _ => Err(expected(graph, "int or str", *x)),
        },
        [] => Ok(Fraction { numerator: BigInt::zero(), denominator: BigInt::from(1) }),
        _ => Err(err(format!("fractions.Fraction takes at most 2 arguments, not {}", args.len()))),
    }
}

/// The entries of a dict state (or `(dict, slots)` state, merged).
fn state_entries(graph: &Graph<'_>, state: Value) -> Option<Vec<(Value, Value)>> {
    match graph.object(state)? {
        Object::Dict(d) => Some(d.entries().to_vec()),
        // (dict or None, slots dict or None): no deeper.
        Object::Tuple(t) if t.len() == 2 => {
            let mut out = Vec::new();
            for &part in t.iter() {
                match graph.object(part) {
                    Some(Object::Dict(d)) => out.extend_from_slice(d.entries()),
                    _ if part == Value::None => {}
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

fn uuid_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Uuid, ConvertError> {
    let state = call.rec.state.ok_or_else(|| err("a uuid.UUID without state"))?;
    let entries = state_entries(graph, state).ok_or_else(|| expected(graph, "a dict state", state))?;
    let int = entries
        .iter()
        .find(|(k, _)| text(graph, *k).as_deref() == Some("int"))
        .map(|&(_, v)| v)
        .ok_or_else(|| err("uuid.UUID state has no 'int'"))?;
    let i = to_bigint(graph, int).ok_or_else(|| expected(graph, "int", int).at(".int"))?;
    i.to_u128().map(Uuid).ok_or_else(|| err(format!("UUID int {i} is not in 0..2**128")))
}

/// Items of `(k, v)` pairs from a list or tuple of 2-item lists or tuples.
fn pairs(graph: &Graph<'_>, v: Value) -> Result<Vec<(Value, Value)>, ConvertError> {
    if let Some(Object::Dict(d)) = graph.object(v) {
        return Ok(d.entries().to_vec());
    }
    let items = match graph.object(v) {
        Some(Object::List(i)) | Some(Object::Tuple(i)) => i,
        _ => return Err(expected(graph, "a dict or a list of pairs", v)),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, &p)| match graph.object(p) {
            Some(Object::List(kv)) | Some(Object::Tuple(kv)) if kv.len() == 2 => Ok((kv[0], kv[1])),
            _ => Err(expected(graph, "a (key, value) pair", p).at(format!("[{i}]"))),
        })
        .collect()
}

fn ordered_dict_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Vec<(Value, Value)>, ConvertError> {
    let mut items = match call.args {
        [] => Vec::new(),
        [p] => pairs(graph, *p)?,
        _ => return Err(err(format!("collections.OrderedDict takes at most 1 argument, not {}", call.args.len()))),
    };
    merge_items(graph, &mut items, &call.rec.dict_items)?;
    Ok(items)
}

/// `d[k] = v` for each of `more`, keys compared as Python compares them.
fn merge_items(
    graph: &Graph<'_>,
    items: &mut Vec<(Value, Value)>,
    more: &[(Value, Value)],
) -> Result<(), ConvertError> {
    if more.is_empty() {
        return Ok(());
    }
    // `d[k] = v` with Python's key equality (and hashing: no quadratic scans).
    let mut d = crate::graph::Dict::new();
    for &(k, v) in items.iter().chain(more) {
        d.insert(graph, k, v).map_err(|e| err(format!("a key of the items: {e}")))?;
    }
    *items = d.entries().to_vec();
    Ok(())
}

fn defaultdict_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<DefaultDict, ConvertError> {
    let (factory, mut items) = match call.args {
        [] => (Value::None, Vec::new()),
        [f] => (*f, Vec::new()),
        [f, p] => (*f, pairs(graph, *p)?),
        _ => return Err(err(format!("collections.defaultdict takes at most 2 arguments, not {}", call.args.len()))),
    };
    merge_items(graph, &mut items, &call.rec.dict_items)?;
    Ok(DefaultDict { factory, items })
}

fn counter_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Vec<(Value, Value)>, ConvertError> {
    let mut items = match call.args {
        [] => Vec::new(),
        [p] => pairs(graph, *p)?,
        _ => return Err(err(format!("collections.Counter takes at most 1 argument, not {}", call.args.len()))),
    };
    merge_items(graph, &mut items, &call.rec.dict_items)?;
    Ok(items)
}

fn deque_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Deque, ConvertError> {
    let (iterable, maxlen) = match call.args {
        [] => (None, Value::None),
        [i] => (Some(*i), Value::None),
        [i, m] => (Some(*i), *m),
        _ => return Err(err(format!("collections.deque takes at most 2 arguments, not {}", call.args.len()))),
    };
    let mut items = match iterable {
        None => Vec::new(),
        Some(i) => match graph.object(i) {
            Some(Object::List(v)) | Some(Object::Tuple(v)) => v.clone(),
            _ => return Err(expected(graph, "a list or tuple", i).at(".iterable")),
        },
    };
    items.extend_from_slice(&call.rec.items);
    let maxlen = match maxlen {
        Value::None => None,
        m => {
            let n = int_arg(graph, m, "maxlen")?;
            Some(u64::try_from(n).map_err(|_| err("maxlen must be non-negative"))?)
        }
    };
    if let Some(m) = maxlen {
        // A bounded deque keeps its last maxlen items.
        let m = usize::try_from(m).unwrap_or(usize::MAX);
        if items.len() > m {
            items.drain(..items.len() - m);
        }
    }
    Ok(Deque { items, maxlen })
}

fn range_call(graph: &Graph<'_>, args: &[Value]) -> Result<Range, ConvertError> {
    let int = |v, w| int_arg(graph, v, w);
    let (start, stop, step) = match args {
        [stop] => (0, int(*stop, "stop")?, 1),
        [start, stop] => (int(*start, "start")?, int(*stop, "stop")?, 1),
        [start, stop, step] => (int(*start, "start")?, int(*stop, "stop")?, int(*step, "step")?),
        _ => return Err(err(format!("range takes 1 to 3 arguments, not {}", args.len()))),
    };
    if step == 0 {
        return Err(err("range() arg 3 must not be zero"));
    }
    Ok(Range { start, stop, step })
}

fn slice_call(args: &[Value]) -> Result<Slice, ConvertError> {
    match *args {
        [stop] => Ok(Slice { start: Value::None, stop, step: Value::None }),
        [start, stop] => Ok(Slice { start, stop, step: Value::None }),
        [start, stop, step] => Ok(Slice { start, stop, step }),
        _ => Err(err(format!("slice takes 1 to 3 arguments, not {}", args.len()))),
    }
}

/// Machine format codes of `array._array_reconstructor` (arraymodule.c).
#[derive(Clone, Copy)]
pub(super) enum MFormat {
    Int { size: usize, signed: bool, big: bool },
    Float { size: usize, big: bool },
    Utf16 { big: bool },
    Utf32 { big: bool },
}

impl MFormat {
    pub(super) fn from_code(code: i64) -> Option<MFormat> {
        Some(match code {
            0..=13 => {
                let size = [1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8][code as usize];
                let signed = match code {
                    0 => false,
                    1 => true,
                    c => (c - 2) % 4 >= 2,
                };
                let big = code >= 2 && code % 2 == 1;
                MFormat::Int { size, signed, big }
            }
            14 | 15 => MFormat::Float { size: 4, big: code == 15 },
            16 | 17 => MFormat::Float { size: 8, big: code == 17 },
            18 | 19 => MFormat::Utf16 { big: code == 19 },
            20 | 21 => MFormat::Utf32 { big: code == 21 },
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            MFormat::Int { size, .. } | MFormat::Float { size, .. } => size,
            MFormat::Utf16 { .. } => 2,
            MFormat::Utf32 { .. } => 4,
        }
    }
}

/// Array items before they take the typecode's type.
enum Raw {
    Ints(Vec<i128>),
    Floats(Vec<f64>),
    Text(String),
}

fn word(chunk: &[u8], big: bool) -> u64 {
    let mut w = 0u64;
    if big {
        for &b in chunk {
            w = w << 8 | u64::from(b);
        }
    } else {
        for &b in chunk.iter().rev() {
            w = w << 8 | u64::from(b);
        }
    }
    w
}

fn decode_machine(format: MFormat, data: &[u8]) -> Result<Raw, ConvertError> {
    let size = format.size();
    if data.len() % size != 0 {
        return Err(err(format!("array data of {} bytes is not a whole number of {size}-byte items", data.len())));
    }
    let words = data.chunks_exact(size);
    Ok(match format {
        MFormat::Int { size, signed, big } => Raw::Ints(
            words
                .map(|c| {
                    let w = word(c, big);
                    if signed {
                        let shift = 64 - 8 * size as u32;
                        i128::from(((w << shift) as i64) >> shift)
                    } else {
                        i128::from(w)
                    }
                })
                .collect(),
        ),
        MFormat::Float { size: 4, big } => {
            Raw::Floats(words.map(|c| f64::from(f32::from_bits(word(c, big) as u32))).collect())
        }
        MFormat::Float { big, .. } => Raw::Floats(words.map(|c| f64::from_bits(word(c, big))).collect()),
        MFormat::Utf16 { big } => {
            let units: Vec<u16> = words.map(|c| word(c, big) as u16).collect();
            Raw::Text(String::from_utf16(&units).map_err(|_| err("array 'u' data is not valid UTF-16"))?)
        }
        MFormat::Utf32 { big } => {
            let mut s = String::with_capacity(data.len() / 4);
            for c in words {
                let cp = word(c, big) as u32;
                s.push(char::from_u32(cp).ok_or_else(|| err(format!("array 'u' item {cp:#x} is not a character")))?);
            }
            Raw::Text(s)
        }
    })
}

fn int_items<T: TryFrom<i128>>(raw: Vec<i128>, typecode: char) -> Result<Vec<T>, ConvertError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, v)| {
            T::try_from(v).map_err(|_| err(format!("array '{typecode}' item {v} out of range")).at(format!("[{i}]")))
        })
        .collect()
}

/// The items of an array of `typecode` from raw items; `wide` is the size
/// of `l`/`L` items (4 or 8).
fn typed_items(typecode: char, raw: Raw, wide: usize) -> Result<ArrayItems, ConvertError> {
    let kind_error = || err(format!("array '{typecode}' cannot hold these items"));
    Ok(match (typecode, raw) {
        ('b', Raw::Ints(v)) => ArrayItems::I8(int_items(v, typecode)?),
        ('B', Raw::Ints(v)) => ArrayItems::U8(int_items(v, typecode)?),
        ('h', Raw::Ints(v)) => ArrayItems::I16(int_items(v, typecode)?),
        ('H', Raw::Ints(v)) => ArrayItems::U16(int_items(v, typecode)?),
        ('i', Raw::Ints(v)) => ArrayItems::I32(int_items(v, typecode)?),
        ('I', Raw::Ints(v)) => ArrayItems::U32(int_items(v, typecode)?),
        ('l', Raw::Ints(v)) if wide == 4 => ArrayItems::I32(int_items(v, typecode)?),
        ('L', Raw::Ints(v)) if wide == 4 => ArrayItems::U32(int_items(v, typecode)?),
        ('q' | 'l', Raw::Ints(v)) => ArrayItems::I64(int_items(v, typecode)?),
        ('Q' | 'L', Raw::Ints(v)) => ArrayItems::U64(int_items(v, typecode)?),
        ('f', Raw::Floats(v)) => ArrayItems::F32(v.into_iter().map(|f| f as f32).collect()),
        ('d', Raw::Floats(v)) => ArrayItems::F64(v),
        ('u' | 'w', Raw::Text(s)) => ArrayItems::Unicode(s),
        ('b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'f' | 'd' | 'u' | 'w', _) => {
            return Err(kind_error())
        }
        _ => return Err(err(format!("bad array typecode {typecode:?}"))),
    })
}

/// The machine format code of a typecode on a 64-bit little-endian machine.
fn native_mformat(typecode: char) -> Option<i64> {
    Some(match typecode {
        'B' => 0,
        'b' => 1,
        'H' => 2,
        'h' => 4,
        'I' => 6,
        'i' => 8,
        'L' | 'Q' => 10,
        'l' | 'q' => 12,
        'f' => 14,
        'd' => 16,
        'u' | 'w' => 20,
        _ => return None,
    })
}

fn typecode_arg(graph: &Graph<'_>, v: Value) -> Result<char, ConvertError> {
    let t = text(graph, v).ok_or_else(|| expected(graph, "a typecode str", v).at(".typecode"))?;
    let mut chars = t.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(err(format!("bad array typecode {t:?}"))),
    }
}

fn array_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Array, ConvertError> {
    let args = call.args;
    if call.class.name == "_array_reconstructor" {
        let [cls, typecode, mformat, data] = args else {
            return Err(err(format!("array._array_reconstructor takes 4 arguments, not {}", args.len())));
        };
        if !graph.as_global(*cls).is_some_and(|g| g.is("array", "array")) {
            return Err(expected(graph, "the class array.array", *cls));
        }
        let typecode = typecode_arg(graph, *typecode)?;
        if native_mformat(typecode).is_none() {
            return Err(err(format!("bad array typecode {typecode:?}")));
        }
        let code = int_arg(graph, *mformat, "mformat_code")?;
        let format = MFormat::from_code(code).ok_or_else(|| err(format!("bad array machine format code {code}")))?;
        let data = match graph.object(*data) {
            Some(Object::Bytes(b)) | Some(Object::ByteArray(b)) => &b[..],
            _ => return Err(expected(graph, "bytes", *data).at(".items")),
        };
        if matches!(typecode, 'u' | 'w') != matches!(format, MFormat::Utf16 { .. } | MFormat::Utf32 { .. }) {
            return Err(err(format!("array typecode '{typecode}' does not match machine format code {code}")));
        }
        let raw = decode_machine(format, data)?;
        let typecode = match format {
            // What array_reconstructor does when the format is not the
            // typecode's own (on a 64-bit little-endian machine): the last
            // integer typecode of the format's size and signedness.
            MFormat::Int { size, signed, .. } if native_mformat(typecode) != Some(code) => match (size, signed) {
                (1, true) => 'b',
                (1, false) => 'B',
                (2, true) => 'h',
                (2, false) => 'H',
                (4, true) => 'i',
                (4, false) => 'I',
                (_, true) => 'q',
                (_, false) => 'Q',
            },
            _ => typecode,
        };
        let items = typed_items(typecode, raw, 8)?;
        return Ok(Array { typecode, items });
    }
    let (typecode, init) = match args {
        [t] => (typecode_arg(graph, *t)?, None),
        [t, i] => (typecode_arg(graph, *t)?, Some(*i)),
        _ => return Err(err(format!("array.array takes 1 or 2 arguments, not {}", args.len()))),
    };
    let raw = match init.map(|i| (i, graph.object(i))) {
        None => match typecode {
            'f' | 'd' => Raw::Floats(Vec::new()),
            'u' | 'w' => Raw::Text(String::new()),
            _ => Raw::Ints(Vec::new()),
        },
        Some((_, Some(Object::List(v)))) | Some((_, Some(Object::Tuple(v)))) => match typecode {
            'f' | 'd' => Raw::Floats(
                v.iter()
                    .enumerate()
                    .map(|(i, &x)| to_f64(graph, x).ok_or_else(|| expected(graph, "float", x).at(format!("[{i}]"))))
                    .collect::<Result<_, _>>()?,
            ),
            'u' | 'w' => {
                let mut s = String::new();
                for (i, &x) in v.iter().enumerate() {
                    let c = char::from_pickle(graph, x).map_err(|e| e.at(format!("[{i}]")))?;
                    s.push(c);
                }
                Raw::Text(s)
            }
            'c' => Raw::Ints(
                v.iter()
                    .enumerate()
                    .map(|(i, &x)| match state_bytes(graph, x) {
                        Some(b) if b.len() == 1 => Ok(i128::from(b[0])),
                        _ => Err(expected(graph, "a 1-character str", x).at(format!("[{i}]"))),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => Raw::Ints(
                v.iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        let n = to_bigint(graph, x).ok_or_else(|| expected(graph, "int", x).at(format!("[{i}]")))?;
                        n.to_i128().ok_or_else(|| err(format!("array item {n} out of range")).at(format!("[{i}]")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        },
        Some((i, _)) => return Err(expected(graph, "a list of items", i).at(".items")),
    };
    // Python 2's 'c' (a char) is a byte.
    let (typecode, raw) = if typecode == 'c' { ('B', raw) } else { (typecode, raw) };
    let items = typed_items(typecode, raw, 8)?;
    Ok(Array { typecode, items })
}

fn namespace_call(graph: &Graph<'_>, call: &Call<'_>) -> Result<Vec<(Value, Value)>, ConvertError> {
    if !call.args.is_empty() {
        return Err(err("types.SimpleNamespace takes no positional arguments"));
    }
    let mut items = Vec::new();
    if let Some(kw) = call.rec.kwargs {
        items = state_entries(graph, kw).ok_or_else(|| expected(graph, "a dict", kw).at(".kwargs"))?;
    }
    if let Some(state) = call.rec.state {
        let more = state_entries(graph, state).ok_or_else(|| expected(graph, "a dict state", state))?;
        merge_items(graph, &mut items, &more)?;
    }
    Ok(items)
}

fn path_call(graph: &Graph<'_>, call: &Call<'_>, flavor: PathFlavor) -> Result<Path, ConvertError> {
    let parts = call
        .args
        .iter()
        .enumerate()
        .map(|(i, &p)| String::from_pickle(graph, p).map_err(|e| e.at(format!("[{i}]"))))
        .collect::<Result<_, _>>()?;
    Ok(Path { class: call.class.clone().into_owned(), flavor, parts })
}

fn path_flavor(name: &str) -> Option<PathFlavor> {
    Some(match name {
        "PurePosixPath" | "PosixPath" => PathFlavor::Posix,
        "PureWindowsPath" | "WindowsPath" => PathFlavor::Windows,
        "PurePath" | "Path" => PathFlavor::Native,
        _ => return None,
    })
}

/// Which standard-library object `value` is, if any: `None` for anything
/// else (core types, unknown classes). `Some(Err)` when the class is known
/// but its record is malformed (a `datetime` with 3 bytes of state).
///
/// Records are matched by class (Python 2 names are already Python 3 ones:
/// the decoder maps them), at every protocol and in the forms CPython 3
/// and Python 2.7 write; see each type for the forms it accepts.
///
/// Not recognized here, because a pickle cannot tell them from any other
/// class called with a tuple: named tuples (read them with
/// [`NamedTuple::from_pickle`]) and enum members pickled by value
/// (`Color(1)`, the default; read them with [`EnumMember::from_pickle`]).
/// Enum members pickled by name are recognized: a global whose qualified
/// name has a dot, `module.Color.RED` (what `getattr(Color, 'RED')`, the
/// form of `enum.pickle_by_enum_name`, becomes when decoded), gives
/// `Std::Enum` with class `module.Color` and name `RED`; the last part must
/// not start with `_`. (A nested class `Outer.Inner` used as a value looks
/// the same, and is read as a member too.)
pub fn recognize(graph: &Graph<'_>, value: Value) -> Option<Result<Std, ConvertError>> {
    match graph.object(value)? {
        Object::Global(g) => return recognize_global(g).map(Ok),
        Object::Record(_) => {}
        _ => return None,
    }
    if let Some(Cow::Owned(g)) = global_of(graph, value) {
        return recognize_global(&g).map(Ok);
    }
    let call = call_of(graph, value)?;
    let (module, name) = (call.class.module.as_str(), call.class.name.as_str());
    let args = call.args;
    let what = |r: Result<Std, ConvertError>| -> Result<Std, ConvertError> {
        r.map_err(|e| ConvertError { message: format!("{module}.{name}: {}", e.message), path: e.path })
    };
    let r = match (module, name) {
        ("builtins", "complex") => complex_call(graph, args).map(Std::Complex),
        ("datetime", "date") => date_call(graph, args).map(Std::Date),
        ("datetime", "time") => time_call(graph, args).map(Std::Time),
        ("datetime", "datetime") => datetime_call(graph, args).map(Std::DateTime),
        ("datetime", "timedelta") => timedelta_call(graph, args).map(Std::TimeDelta),
        ("datetime", "timezone") => timezone_call(graph, args).map(Std::TimeZone),
        ("zoneinfo", "ZoneInfo._unpickle" | "ZoneInfo") => match args.first() {
            Some(&k) => String::from_pickle(graph, k).map(|k| Std::TimeZone(TzInfo::Zone(k))).map_err(|e| e.at(".key")),
            None => Err(err("a ZoneInfo without its key")),
        },
        ("decimal" | "_pydecimal", "Decimal") => match args {
            [s] => match text(graph, *s) {
                Some(t) => Decimal::parse(&t).map(Std::Decimal),
                None => match to_bigint(graph, *s) {
                    Some(i) => Ok(Std::Decimal(Decimal(i.to_string()))),
                    None => Err(expected(graph, "a str", *s)),
                },
            },
            [] => Ok(Std::Decimal(Decimal("0".into()))),
            _ => Err(err(format!("takes at most 1 argument, not {}", args.len()))),
        },
        ("fractions", "Fraction") => fraction_call(graph, args).map(Std::Fraction),
        ("uuid", "UUID") => uuid_call(graph, &call).map(Std::Uuid),
        ("collections", "OrderedDict") => ordered_dict_call(graph, &call).map(Std::OrderedDict),
        ("collections", "defaultdict") => defaultdict_call(graph, &call).map(Std::DefaultDict),
        ("collections", "Counter") => counter_call(graph, &call).map(Std::Counter),
        ("collections", "deque") => deque_call(graph, &call).map(Std::Deque),
        ("builtins", "range" | "xrange") => range_call(graph, args).map(Std::Range),
        ("builtins", "slice") => slice_call(args).map(Std::Slice),
        ("array", "array" | "_array_reconstructor") => array_call(graph, &call).map(Std::Array),
        ("types", "SimpleNamespace") => namespace_call(graph, &call).map(Std::Namespace),
        ("pathlib" | "pathlib._local", n) => match path_flavor(n) {
            Some(f) => path_call(graph, &call, f).map(Std::Path),
            None => return None,
        },
        _ => return None,
    };
    Some(what(r))
}

fn recognize_global(g: &Global) -> Option<Std> {
    if g.is("datetime", "timezone.utc") {
        return Some(Std::TimeZone(TzInfo::Fixed {
            offset: TimeDelta { days: 0, seconds: 0, microseconds: 0 },
            name: None,
        }));
    }
    let (class, member) = g.name.rsplit_once('.')?;
    if class.is_empty() || member.is_empty() || member.starts_with('_') {
        return None;
    }
    Some(Std::Enum(EnumMember {
        class: Global::new(g.module.clone(), class),
        value: None,
        name: Some(member.to_string()),
    }))
}

macro_rules! from_std {
    ($($t:ty => $variant:ident, $what:expr;)*) => {$(
        impl<'g> FromPickle<'g> for $t {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                match recognize(graph, value) {
                    Some(Ok(Std::$variant(v))) => Ok(v),
                    Some(Err(e)) => Err(e),
                    _ => Err(expected(graph, $what, value)),
                }
            }
        }
    )*};
}

from_std! {
    Complex => Complex, "complex";
    Date => Date, "datetime.date";
    Time => Time, "datetime.time";
    DateTime => DateTime, "datetime.datetime";
    TimeDelta => TimeDelta, "datetime.timedelta";
    TzInfo => TimeZone, "datetime.timezone or zoneinfo.ZoneInfo";
    Decimal => Decimal, "decimal.Decimal";
    Fraction => Fraction, "fractions.Fraction";
    Uuid => Uuid, "uuid.UUID";
    Deque => Deque, "collections.deque";
    DefaultDict => DefaultDict, "collections.defaultdict";
    Range => Range, "range";
    Slice => Slice, "slice";
    Array => Array, "array.array";
    Path => Path, "a pathlib path";
}

impl<'g> FromPickle<'g> for Std {
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        match recognize(graph, value) {
            Some(r) => r,
            None => Err(expected(graph, "an object of the standard library", value)),
        }
    }
}

impl<'g> FromPickle<'g> for EnumMember {
    /// Any of the forms an enum member is pickled in: by value,
    /// `REDUCE(Color, (1,))` (any class called with one argument is taken for
    /// an enum here: the caller asked for one); by name, a global
    /// `module.Color.RED` (or `getattr(Color, 'RED')`); and by global name
    /// (`enum.global_enum`, `re.IGNORECASE`): a global `module.RED`, whose
    /// class is unknown (`Global { module, name: "" }`).
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        if let Some(g) = global_of(graph, value) {
            if let Some(Std::Enum(m)) = recognize_global(&g) {
                return Ok(m);
            }
            return Ok(EnumMember {
                class: Global::new(g.module.clone(), ""),
                value: None,
                name: Some(g.name.clone()),
            });
        }
        if let Some(call) = call_of(graph, value) {
            if call.rec.kind == RecordKind::Reduce && call.class.is("builtins", "getattr") {
                if let [cls, name] = call.args {
                    if let (Some(cls), Some(name)) = (graph.as_global(*cls), graph.as_str(*name)) {
                        return Ok(EnumMember { class: cls.clone(), value: None, name: Some(name.to_string()) });
                    }
                }
            }
            if let [v] = call.args {
                if call.base.is_none() && call.rec.state.is_none() {
                    return Ok(EnumMember { class: call.class.into_owned(), value: Some(*v), name: None });
                }
            }
        }
        Err(expected(graph, "an enum member", value))
    }
}

impl<'g> FromPickle<'g> for NamedTuple {
    /// A record of a class made from its field values: NEWOBJ (protocols 2
    /// and up), `copyreg._reconstructor(cls, tuple, values)` (protocols 0
    /// and 1), or REDUCE; without state (an empty dict state is allowed).
    fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
        let call = call_of(graph, value).ok_or_else(|| expected(graph, "a named tuple", value))?;
        if let Some(state) = call.rec.state {
            if !matches!(graph.object(state), Some(Object::Dict(d)) if d.is_empty()) && state != Value::None {
                return Err(err(format!(
                    "a {}.{} with state is not a named tuple",
                    call.class.module, call.class.name
                )));
            }
        }
        let items = match call.base {
            Some(b) if b.is("builtins", "tuple") => match call.args {
                [] => Vec::new(),
                [t] => graph.as_tuple(*t).ok_or_else(|| expected(graph, "a tuple", *t))?.to_vec(),
                _ => return Err(err("copyreg._reconstructor with more than 3 arguments")),
            },
            Some(b) => {
                return Err(err(format!(
                    "a {}.{} based on {}.{} is not a named tuple",
                    call.class.module, call.class.name, b.module, b.name
                )))
            }
            None => call.args.to_vec(),
        };
        Ok(NamedTuple { class: call.class.into_owned(), items })
    }
}

impl NamedTuple {
    /// The items read as one Rust type each: `nt.get::<f64>(&graph, 0)`.
    pub fn get<'g, T: FromPickle<'g>>(&self, graph: &Graph<'g>, index: usize) -> Result<T, ConvertError> {
        let v = *self
            .items
            .get(index)
            .ok_or_else(|| err(format!("a named tuple of {} items has no item {index}", self.items.len())))?;
        T::from_pickle(graph, v).map_err(|e| e.at(format!("[{index}]")))
    }
}
