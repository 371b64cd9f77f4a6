//! The plain types to and from well-known crates, each behind its feature:
//! `From`/`TryFrom` between the plain type and the crate's, and
//! [`FromPickle`]/[`ToPickle`] for the crate's type through the plain one.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::classes::{FromPickle, ToPickle};

/// FromPickle/ToPickle of `$t` through the plain type `$plain`, with `TryFrom` both ways.
#[allow(unused_macros)]
macro_rules! through {
    ($t:ty, $plain:ty) => {
        impl<'g> FromPickle<'g> for $t {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                <$t>::try_from(<$plain>::from_pickle(graph, value)?)
            }
        }
        impl ToPickle for $t {
            fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
                <$plain>::try_from(self.clone())?.to_pickle(graph)
            }
        }
    };
    ($t:ty, $plain:ty, infallible) => {
        impl<'g> FromPickle<'g> for $t {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                <$t>::try_from(<$plain>::from_pickle(graph, value)?)
            }
        }
        impl ToPickle for $t {
            fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
                <$plain>::from(*self).to_pickle(graph)
            }
        }
    };
    ($t:ty, $plain:ty, from) => {
        impl<'g> FromPickle<'g> for $t {
            fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
                Ok(<$t>::from(<$plain>::from_pickle(graph, value)?))
            }
        }
        impl ToPickle for $t {
            fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
                <$plain>::try_from(*self)?.to_pickle(graph)
            }
        }
    };
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use super::*;
    use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

    fn err(m: impl Into<String>) -> ConvertError {
        ConvertError::new(m)
    }

    impl TryFrom<Date> for NaiveDate {
        type Error = ConvertError;
        fn try_from(d: Date) -> Result<Self, ConvertError> {
            NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                .ok_or_else(|| err(format!("{}-{}-{} is not a date", d.year, d.month, d.day)))
        }
    }

    impl TryFrom<NaiveDate> for Date {
        type Error = ConvertError;
        fn try_from(d: NaiveDate) -> Result<Self, ConvertError> {
            let year = u16::try_from(d.year())
                .ok()
                .filter(|y| (1..=9999).contains(y))
                .ok_or_else(|| err(format!("year {} is out of Python's range 1..9999", d.year())))?;
            Date::new(year, d.month() as u8, d.day() as u8)
        }
    }

    /// A naive time (no tzinfo); a tz-aware time is refused. `fold` is dropped.
    impl TryFrom<Time> for NaiveTime {
        type Error = ConvertError;
        fn try_from(t: Time) -> Result<Self, ConvertError> {
            if t.tz.is_some() {
                return Err(err("a time with a tzinfo is not a chrono::NaiveTime"));
            }
            NaiveTime::from_hms_micro_opt(t.hour.into(), t.minute.into(), t.second.into(), t.microsecond)
                .ok_or_else(|| err("time out of range"))
        }
    }

    /// A leap second (chrono's second 60) and nanoseconds that are not
    /// whole microseconds are refused.
    impl TryFrom<NaiveTime> for Time {
        type Error = ConvertError;
        fn try_from(t: NaiveTime) -> Result<Self, ConvertError> {
            let nanos = t.nanosecond();
            if nanos >= 1_000_000_000 {
                return Err(err("a leap second has no Python datetime.time"));
            }
            if nanos % 1000 != 0 {
                return Err(err(format!("{nanos} ns is not a whole number of microseconds")));
            }
            Ok(Time {
                hour: t.hour() as u8,
                minute: t.minute() as u8,
                second: t.second() as u8,
                microsecond: nanos / 1000,
                fold: 0,
                tz: None,
            })
        }
    }

    impl TryFrom<DateTime> for NaiveDateTime {
        type Error = ConvertError;
        fn try_from(dt: DateTime) -> Result<Self, ConvertError> {
            if dt.time.tz.is_some() {
                return Err(err("a datetime with a tzinfo is not a chrono::NaiveDateTime; use DateTime<FixedOffset>"));
            }
            Ok(NaiveDateTime::new(dt.date.try_into()?, dt.time.try_into()?))
        }
    }

    impl TryFrom<NaiveDateTime> for DateTime {
        type Error = ConvertError;
        fn try_from(dt: NaiveDateTime) -> Result<Self, ConvertError> {
            Ok(DateTime { date: dt.date().try_into()?, time: dt.time().try_into()? })
        }
    }

    impl TryFrom<TzInfo> for FixedOffset {
        type Error = ConvertError;
        fn try_from(tz: TzInfo) -> Result<Self, ConvertError> {
            match tz {
                TzInfo::Fixed { offset, .. } => {
                    let us = offset.total_microseconds();
                    if us % 1_000_000 != 0 {
                        return Err(err(format!("a utc offset of {us} us is not whole seconds")));
                    }
                    i32::try_from(us / 1_000_000)
                        .ok()
                        .and_then(FixedOffset::east_opt)
                        .ok_or_else(|| err("utc offset out of range"))
                }
                TzInfo::Zone(key) => Err(err(format!("zoneinfo.ZoneInfo({key:?}) is not a fixed offset"))),
                TzInfo::Other(_) => Err(err("a tzinfo that is not datetime.timezone is not a fixed offset")),
            }
        }
    }

    /// `datetime.timezone(offset)` (no name).
    impl From<FixedOffset> for TzInfo {
        fn from(o: FixedOffset) -> Self {
            let secs = i64::from(o.local_minus_utc());
            TzInfo::Fixed { offset: TimeDelta::new(0, secs, 0).expect("a FixedOffset is less than a day"), name: None }
        }
    }

    /// A datetime whose tzinfo is a `datetime.timezone` (its name is dropped).
    impl TryFrom<DateTime> for chrono::DateTime<FixedOffset> {
        type Error = ConvertError;
        fn try_from(mut dt: DateTime) -> Result<Self, ConvertError> {
            let tz = dt.time.tz.take().ok_or_else(|| err("a naive datetime has no offset; use NaiveDateTime"))?;
            let offset = FixedOffset::try_from(tz)?;
            let naive = NaiveDateTime::try_from(dt)?;
            naive.and_local_timezone(offset).single().ok_or_else(|| err("datetime out of range"))
        }
    }

    impl TryFrom<chrono::DateTime<FixedOffset>> for DateTime {
        type Error = ConvertError;
        fn try_from(dt: chrono::DateTime<FixedOffset>) -> Result<Self, ConvertError> {
            let mut out = DateTime::try_from(dt.naive_local())?;
            out.time.tz = Some((*dt.offset()).into());
            Ok(out)
        }
    }

    impl From<TimeDelta> for chrono::TimeDelta {
        fn from(d: TimeDelta) -> Self {
            // Python's range (±999999999 days) is within chrono's (±2**63 ms).
            chrono::TimeDelta::days(d.days.into())
                + chrono::TimeDelta::seconds(d.seconds.into())
                + chrono::TimeDelta::microseconds(d.microseconds.into())
        }
    }

    /// Nanoseconds that are not whole microseconds, and durations beyond
    /// Python's ±999999999 days, are refused.
    impl TryFrom<chrono::TimeDelta> for TimeDelta {
        type Error = ConvertError;
        fn try_from(d: chrono::TimeDelta) -> Result<Self, ConvertError> {
            if d.subsec_nanos() % 1000 != 0 {
                return Err(err("a duration that is not a whole number of microseconds"));
            }
            let secs = d.num_seconds();
            let us = (d - chrono::TimeDelta::seconds(secs)).num_microseconds().unwrap_or(0);
            TimeDelta::new(0, secs, us)
        }
    }

    through!(NaiveDate, Date);
    through!(NaiveTime, Time);
    through!(NaiveDateTime, DateTime);
    through!(chrono::DateTime<FixedOffset>, DateTime);
    through!(chrono::TimeDelta, TimeDelta, from);
    through!(FixedOffset, TzInfo, infallible);
}

#[cfg(feature = "decimal")]
mod decimal_impls {
    use super::*;

    /// NaN, sNaN, Infinity and values that need more than rust_decimal's 28
    /// decimal places or 96-bit coefficient are refused (never rounded).
    impl TryFrom<Decimal> for rust_decimal::Decimal {
        type Error = ConvertError;
        fn try_from(d: Decimal) -> Result<Self, ConvertError> {
            let parts = d.parts()?;
            let (digits, exponent) = match parts.kind {
                DecimalKind::Finite { digits, exponent } => (digits, exponent),
                _ => return Err(ConvertError::new(format!("Decimal('{}') has no rust_decimal::Decimal", d.0))),
            };
            let too_big = || ConvertError::new(format!("Decimal('{}') does not fit in a rust_decimal::Decimal", d.0));
            // Zeros carried by the exponent: at most rust_decimal's 29 digits in all.
            let (digits, scale) = if exponent >= 0 {
                if digits.len() as i64 + exponent > 29 {
                    return Err(too_big());
                }
                if digits == "0" {
                    (digits, 0u32)
                } else {
                    (format!("{digits}{}", "0".repeat(exponent as usize)), 0u32)
                }
            } else {
                (digits, u32::try_from(-exponent).map_err(|_| too_big())?)
            };
            if digits.len() > 29 || scale > 28 {
                return Err(too_big());
            }
            let mut m: i128 = digits.parse().map_err(|_| too_big())?;
            if parts.negative {
                m = -m;
            }
            let mut out = rust_decimal::Decimal::try_from_i128_with_scale(m, scale).map_err(|_| too_big())?;
            if parts.negative && m == 0 {
                out.set_sign_negative(true);
            }
            Ok(out)
        }
    }

    impl From<rust_decimal::Decimal> for Decimal {
        fn from(d: rust_decimal::Decimal) -> Self {
            let m = d.mantissa();
            let parts = DecimalParts {
                negative: d.is_sign_negative(),
                kind: DecimalKind::Finite { digits: m.unsigned_abs().to_string(), exponent: -i64::from(d.scale()) },
            };
            Decimal(parts.to_string())
        }
    }

    impl<'g> FromPickle<'g> for rust_decimal::Decimal {
        fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
            Decimal::from_pickle(graph, value)?.try_into()
        }
    }

    impl ToPickle for rust_decimal::Decimal {
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            Decimal::from(*self).to_pickle(graph)
        }
    }
}

#[cfg(feature = "uuid")]
mod uuid_impls {
    use super::*;

    impl From<Uuid> for uuid::Uuid {
        fn from(u: Uuid) -> Self {
            uuid::Uuid::from_u128(u.0)
        }
    }

    impl From<uuid::Uuid> for Uuid {
        fn from(u: uuid::Uuid) -> Self {
            Uuid(u.as_u128())
        }
    }

    impl<'g> FromPickle<'g> for uuid::Uuid {
        fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
            Uuid::from_pickle(graph, value).map(Into::into)
        }
    }

    impl ToPickle for uuid::Uuid {
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            Uuid::from(*self).to_pickle(graph)
        }
    }
}

#[cfg(feature = "complex")]
mod complex_impls {
    use super::*;
    use num_complex::Complex64;

    impl From<Complex> for Complex64 {
        fn from(c: Complex) -> Self {
            Complex64::new(c.re, c.im)
        }
    }

    impl From<Complex64> for Complex {
        fn from(c: Complex64) -> Self {
            Complex { re: c.re, im: c.im }
        }
    }

    impl<'g> FromPickle<'g> for Complex64 {
        fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
            Complex::from_pickle(graph, value).map(Into::into)
        }
    }

    impl ToPickle for Complex64 {
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            Complex::from(*self).to_pickle(graph)
        }
    }
}

#[cfg(feature = "fraction")]
mod fraction_impls {
    use super::*;
    use num_rational::BigRational;

    /// A zero denominator is refused.
    impl TryFrom<Fraction> for BigRational {
        type Error = ConvertError;
        fn try_from(f: Fraction) -> Result<Self, ConvertError> {
            let f = Fraction::new(f.numerator, f.denominator)?;
            Ok(BigRational::new_raw(f.numerator, f.denominator))
        }
    }

    impl From<BigRational> for Fraction {
        fn from(r: BigRational) -> Self {
            let (n, d) = r.into_raw();
            Fraction::new(n, d).expect("a BigRational has a non-zero denominator")
        }
    }

    impl<'g> FromPickle<'g> for BigRational {
        fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
            Fraction::from_pickle(graph, value)?.try_into()
        }
    }

    impl ToPickle for BigRational {
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            Fraction::from(self.clone()).to_pickle(graph)
        }
    }
}

#[cfg(feature = "indexmap")]
mod indexmap_impls {
    use super::*;
    use crate::classes::prim::{build_error, read_entries, write_entries};
    use indexmap::IndexMap;
    use std::hash::{BuildHasher, Hash};

    /// From a dict or an `OrderedDict` (or `defaultdict`, `Counter`), in order.
    impl<'g, K: FromPickle<'g> + Eq + Hash, V: FromPickle<'g>, S: BuildHasher + Default> FromPickle<'g>
        for IndexMap<K, V, S>
    {
        fn from_pickle(graph: &Graph<'g>, value: Value) -> Result<Self, ConvertError> {
            Ok(read_entries(graph, value)?.into_iter().collect())
        }
    }

    /// A dict, in the map's order.
    impl<K: ToPickle, V: ToPickle, S> ToPickle for IndexMap<K, V, S> {
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            let entries = write_entries(graph, self)?;
            graph.dict(entries).map_err(build_error)
        }
    }
}
