//! Standard-library objects through the serde Deserializer, into the
//! well-known crates' own Deserialize impls (chrono, rust_decimal, uuid,
//! num-complex, num-rational) and into plain serde types: the `stdlib`
//! fixture of tests/fixtures/serde (generate_serde.py) at every protocol.
//!
//! These need `classes::stdlib::recognize` to know the objects.
#![cfg(feature = "serde")]

use pyckle::serde::{from_slice, DeOptions};
use serde::Deserialize;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/serde")
}

fn fixtures() -> (Vec<(u64, Vec<u8>)>, J) {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    let all: J = serde_json::from_str(&text).unwrap();
    let e = &all["stdlib"];
    let files: Vec<_> = e["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let p = p.as_u64().unwrap();
            (p, std::fs::read(dir().join(format!("stdlib_p{p}.pkl"))).unwrap())
        })
        .collect();
    assert_eq!(files.len(), 6);
    (files, e["expected"].clone())
}

#[derive(Deserialize, Debug)]
struct Typed {
    dt: chrono::NaiveDateTime,
    dt0: chrono::NaiveDateTime,
    dt_tz: chrono::DateTime<chrono::FixedOffset>,
    dt_utc: chrono::DateTime<chrono::Utc>,
    date: chrono::NaiveDate,
    time: chrono::NaiveTime,
    dec: rust_decimal::Decimal,
    frac: num_rational::Ratio<i64>,
    uuid: uuid::Uuid,
    cplx: num_complex::Complex<f64>,
    td: TimeDelta,
    od: BTreeMap<String, i64>,
    dd: BTreeMap<String, Vec<i64>>,
    counter: BTreeMap<char, u32>,
    ns: Ns,
    dq: std::collections::VecDeque<i64>,
    arr: Vec<i32>,
    arrf: Vec<f64>,
    rng: Range,
    path: PathBuf,
    color: u8,
}

#[derive(Deserialize, Debug, PartialEq)]
struct TimeDelta {
    days: i32,
    seconds: i32,
    microseconds: i32,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Ns {
    p: i64,
    q: String,
}

#[derive(Deserialize, Debug, PartialEq)]
struct Range {
    start: i64,
    stop: i64,
    step: i64,
}

#[test]
fn into_the_well_known_crates() {
    use chrono::{Datelike, Timelike};
    let (files, _) = fixtures();
    for (p, data) in &files {
        let t: Typed = from_slice(data, DeOptions::new()).unwrap_or_else(|e| panic!("protocol {p}: {e}"));
        assert_eq!(t.dt.to_string(), "2024-01-02 03:04:05.000006", "protocol {p}");
        assert_eq!(t.dt0.second(), 5);
        assert_eq!(t.dt_tz.offset().local_minus_utc(), 3600);
        assert_eq!(t.dt_tz.naive_local(), t.dt);
        assert_eq!(t.dt_utc.naive_utc(), t.dt0);
        assert_eq!((t.date.year(), t.date.month(), t.date.day()), (1999, 12, 31));
        assert_eq!(t.time.nanosecond(), 123_000);
        assert_eq!(t.dec.to_string(), "3.14");
        assert_eq!(t.frac, num_rational::Ratio::new(3, 4));
        assert_eq!(t.uuid.to_string(), "12345678-1234-5678-1234-567812345678");
        assert_eq!(t.cplx, num_complex::Complex::new(1.5, -2.0));
        assert_eq!(t.td, TimeDelta { days: -1, seconds: 5, microseconds: 7 });
        assert_eq!(t.od.len(), 2);
        assert_eq!(t.dd["k"], [1]);
        assert_eq!(t.counter[&'a'], 2);
        assert_eq!(t.ns, Ns { p: 1, q: "r".into() });
        assert_eq!(t.dq, [1, 2, 3]);
        assert_eq!(t.arr, [7, -8]);
        assert_eq!(t.arrf, [0.5]);
        assert_eq!(t.rng, Range { start: 1, stop: 10, step: 2 });
        assert_eq!(t.path, PathBuf::from("/usr/lib"));
        assert_eq!(t.color, 1);
    }
}

#[test]
fn natural_forms() {
    let (files, expected) = fixtures();
    for (p, data) in &files {
        // deserialize_any of each value, as serde_json::Value.
        let m: serde_json::Map<String, J> = from_slice(data, DeOptions::new()).unwrap_or_else(|e| panic!("protocol {p}: {e}"));
        for (k, v) in &m {
            let want = match k.as_str() {
                // A Fraction is (n, d) unless a str is asked for.
                "frac" => &expected["frac_seq"],
                // An OrderedDict keeps its order.
                "od" => {
                    let pairs: Vec<(String, J)> = v.as_object().unwrap().clone().into_iter().collect();
                    assert_eq!(serde_json::to_value(pairs).unwrap(), expected["od"], "protocol {p}");
                    continue;
                }
                _ => &expected[k],
            };
            assert_eq!(v, want, "{k} protocol {p}");
        }
        assert_eq!(m.len(), 21);
        // A str is asked for: the Fraction's "n/d", the UUID's hyphenated form.
        #[derive(Deserialize)]
        struct S {
            frac: String,
            uuid: String,
            dec: String,
        }
        let s: S = from_slice(data, DeOptions::new()).unwrap();
        assert_eq!((s.frac.as_str(), s.uuid.as_str(), s.dec.as_str()), ("3/4", "12345678-1234-5678-1234-567812345678", "3.14"));
        // Bytes are asked for: the UUID's 16 bytes.
        #[derive(Deserialize)]
        struct U {
            uuid: serde_bytes::ByteBuf,
        }
        let u: U = from_slice(data, DeOptions::new()).unwrap();
        assert_eq!(u.uuid.as_slice(), 0x12345678_1234_5678_1234_567812345678u128.to_be_bytes());
    }
}
