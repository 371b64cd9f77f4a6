//! The serde-pickle drop-in (`pyckle::serde_pickle`): the same functions
//! and options, read and written as serde-pickle does, on pickles made by
//! CPython 3.11 and 2.7 (tests/fixtures/serde_pickle, made by
//! generate_serde_ser.py).
#![cfg(feature = "serde")]

mod common;

use num_bigint::BigInt;
use pyckle::serde_pickle::{self, DeOptions, HashableValue, SerOptions, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

fn fixture(name: &str, p: u8) -> Vec<u8> {
    std::fs::read(common::fixtures().join(format!("serde_pickle/{name}.p{p}.pickle"))).unwrap()
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn hs(x: &str) -> HashableValue {
    HashableValue::String(x.to_string())
}

fn dict(entries: Vec<(HashableValue, Value)>) -> Value {
    Value::Dict(entries.into_iter().collect())
}

#[test]
fn value_from_slice_reads_core_types_at_every_protocol() {
    let want = dict(vec![
        (hs("a"), Value::List(vec![Value::I64(1), Value::F64(2.5), Value::None, Value::Bool(true)])),
        (hs("b"), Value::Tuple(vec![Value::Bytes(b"x".to_vec()), s("y")])),
        (hs("c"), Value::Set([HashableValue::I64(1), HashableValue::I64(2)].into())),
        (hs("d"), Value::FrozenSet([HashableValue::I64(3)].into())),
        (hs("big"), Value::Int(BigInt::from(1u8) << 100)),
    ]);
    for p in 0..=5 {
        let data = fixture("basic", p);
        assert_eq!(serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap(), want, "protocol {p}");
        assert_eq!(serde_pickle::value_from_reader(&data[..], DeOptions::new()).unwrap(), want);
        assert_eq!(serde_pickle::value_from_iter(data.iter().copied(), DeOptions::new()).unwrap(), want);
        let results = data.iter().map(|&b| Ok::<u8, std::io::Error>(b));
        assert_eq!(serde_pickle::value_from_iter(results, DeOptions::new()).unwrap(), want);
    }
}

#[test]
fn instances_become_their_state() {
    for p in 0..=5 {
        let v = serde_pickle::value_from_slice(&fixture("greeter", p), DeOptions::new()).unwrap();
        assert_eq!(v, dict(vec![(hs("_name"), s("Gopher"))]), "protocol {p}");
        #[derive(Deserialize)]
        struct Greeter {
            _name: String,
        }
        let g: Greeter = serde_pickle::from_slice(&fixture("greeter", p), DeOptions::new()).unwrap();
        assert_eq!(format!("Hi, {}!", g._name), "Hi, Gopher!");
    }
}

#[test]
fn namedtuples_are_empty_dicts_or_their_fields_with_keep_restore_state() {
    for p in 0..=5 {
        let data = fixture("namedtuple", p);
        let plain = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap();
        assert_eq!(plain, Value::Dict(BTreeMap::new()), "protocol {p}");
        let kept = serde_pickle::value_from_slice(&data, DeOptions::new().keep_restore_state()).unwrap();
        assert_eq!(kept, Value::Tuple(vec![Value::I64(1), Value::I64(2)]), "protocol {p}");
    }
}

#[test]
fn recursive_structures_are_errors_or_none() {
    for p in 0..=5 {
        let data = fixture("recursive", p);
        let e = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap_err();
        assert!(e.to_string().contains("recursive"), "{e}");
        let v = serde_pickle::value_from_slice(&data, DeOptions::new().replace_recursive_structures()).unwrap();
        assert_eq!(v, Value::List(vec![Value::None]), "protocol {p}");
    }
}

#[test]
fn unresolved_globals_are_errors_or_none() {
    for p in 0..=5 {
        let data = fixture("class_object", p);
        let e = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap_err();
        assert!(e.to_string().contains("unresolved global __main__.Greeter"), "{e}");
        assert_eq!(e.path(), "[0]");
        let v = serde_pickle::value_from_slice(&data, DeOptions::new().replace_unresolved_globals()).unwrap();
        assert_eq!(v, Value::List(vec![Value::None]), "protocol {p}");
    }
}

#[test]
fn ordered_dicts_are_dicts() {
    for p in 0..=5 {
        let v = serde_pickle::value_from_slice(&fixture("ordered", p), DeOptions::new()).unwrap();
        assert_eq!(v, dict(vec![(hs("z"), Value::I64(1)), (hs("a"), Value::I64(2))]), "protocol {p}");
    }
}

#[test]
fn python2_strings_are_bytes_unless_decoded() {
    for p in 0..=2 {
        let data = fixture("py2_str", p);
        let v = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap();
        let want = Value::Dict(
            [
                (HashableValue::Bytes(b"k".to_vec()), Value::Bytes(b"v".to_vec())),
                (HashableValue::Bytes(b"u".to_vec()), s("\u{263a}")),
                (HashableValue::Bytes(b"b".to_vec()), Value::Bytes(b"\xff".to_vec())),
            ]
            .into(),
        );
        assert_eq!(v, want, "protocol {p}");
        // decode_strings: UTF-8, and '\xff' is not.
        let e = serde_pickle::value_from_slice(&data, DeOptions::new().decode_strings()).unwrap_err();
        assert!(e.to_string().to_lowercase().contains("utf"), "{e}");
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum E {
    A,
    B(i32),
    C(i32, i32),
    D { x: i32 },
}

#[test]
fn enums_read_in_both_representations_and_write_in_either() {
    let want = vec![E::A, E::B(1), E::C(1, 2), E::D { x: 1 }];
    for p in 0..=5 {
        for name in ["enum_std", "enum_compat"] {
            let got: Vec<E> = serde_pickle::from_slice(&fixture(name, p), DeOptions::new()).unwrap();
            assert_eq!(got, want, "{name} protocol {p}");
        }
    }
    let std = serde_pickle::to_vec(&want, SerOptions::new()).unwrap();
    assert_eq!(serde_pickle::from_slice::<Vec<E>>(&std, DeOptions::new()).unwrap(), want);
    let compat = serde_pickle::to_vec(&want, SerOptions::new().compat_enum_repr()).unwrap();
    assert_ne!(std, compat);
    assert_eq!(serde_pickle::from_slice::<Vec<E>>(&compat, DeOptions::new()).unwrap(), want);
    // serde-pickle's own names for the options.
    assert_eq!(&serde_pickle::to_vec(&want, SerOptions::new().proto_v2()).unwrap()[..2], b"\x80\x02");
    assert_eq!(
        serde_pickle::to_vec(&want, SerOptions::new().protocol(4)).unwrap(),
        pyckle::serde::to_vec(&want, Default::default()).unwrap()
    );
}

#[test]
fn errors_name_the_path() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Layer {
        weight: f64,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Model {
        layers: Vec<Layer>,
    }
    for p in 0..=5 {
        let e = serde_pickle::from_slice::<Model>(&fixture("model", p), DeOptions::new()).unwrap_err();
        assert_eq!(e.path(), ".layers[1].weight", "{e}");
        assert!(e.to_string().starts_with("layers[1].weight: invalid type: str \"heavy\""), "{e}");
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Everything {
    name: String,
    id: u64,
    big: i128,
    ratio: f32,
    flag: Option<bool>,
    tags: Vec<String>,
    pair: (i8, char),
    map: BTreeMap<String, Vec<u16>>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    kind: E,
}

fn everything() -> Everything {
    Everything {
        name: "Gopher".into(),
        id: u64::MAX,
        big: i128::MIN,
        ratio: 0.5,
        flag: None,
        tags: vec!["a".into(), "b".into()],
        pair: (-3, 'é'),
        map: [("k".to_string(), vec![1, 2])].into(),
        blob: vec![0, 255],
        kind: E::D { x: 9 },
    }
}

#[test]
fn round_trips_through_pickles_and_values() {
    let value = everything();
    for p in 0..=5 {
        let data = serde_pickle::to_vec(&value, SerOptions::new().protocol(p)).unwrap();
        assert_eq!(serde_pickle::from_slice::<Everything>(&data, DeOptions::new()).unwrap(), value, "protocol {p}");
        assert_eq!(serde_pickle::from_reader::<_, Everything>(&data[..], DeOptions::new()).unwrap(), value);
        let mut out = Vec::new();
        serde_pickle::to_writer(&mut out, &value, SerOptions::new().protocol(p)).unwrap();
        assert_eq!(out, data);
    }
    let v = serde_pickle::to_value(&value).unwrap();
    let Value::Dict(d) = &v else { panic!("a dict") };
    assert_eq!(d[&hs("id")], Value::Int(BigInt::from(u64::MAX)));
    assert_eq!(d[&hs("pair")], Value::Tuple(vec![Value::I64(-3), s("é")]));
    assert_eq!(d[&hs("blob")], Value::Bytes(vec![0, 255]));
    assert_eq!(d[&hs("kind")], dict(vec![(hs("D"), dict(vec![(hs("x"), Value::I64(9))]))]));
    assert_eq!(serde_pickle::from_value::<Everything>(v.clone()).unwrap(), value);
    // A Value pickles as itself and comes back equal.
    let data = serde_pickle::value_to_vec(&v, SerOptions::new()).unwrap();
    assert_eq!(serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap(), v);
    let mut out = Vec::new();
    serde_pickle::value_to_writer(&mut out, &v, SerOptions::new()).unwrap();
    assert_eq!(out, data);
    // And a Value deserializes into a Value through serde's data model,
    // where a tuple is a sequence: it comes back a list.
    let Value::Dict(mut d) = v else { unreachable!() };
    let listed = Value::List(vec![Value::I64(-3), s("é")]);
    assert_eq!(serde_pickle::from_value::<Value>(Value::Dict(d.clone())).unwrap(), {
        d.insert(hs("pair"), listed);
        Value::Dict(d)
    });
}

/// The row of tests/fixtures/serde_ser/expected.tsv: CPython's bytes.
fn cpython(name: &str, p: u8) -> Vec<u8> {
    let text = std::fs::read_to_string(common::fixtures().join("serde_ser/expected.tsv")).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name}\t{p}\t"))).unwrap();
    let hex = line.rsplit('\t').next().unwrap();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn values_write_what_cpython_writes() {
    for p in 0..=5 {
        let o = SerOptions::new().protocol(p);
        let fs = Value::FrozenSet([1, 2, 3].map(HashableValue::I64).into());
        assert_eq!(serde_pickle::value_to_vec(&fs, o.clone()).unwrap(), cpython("frozenset", p), "protocol {p}");
        let big = Value::List(vec![Value::Int(BigInt::from(1u8) << 100), Value::Int(-(BigInt::from(1u8) << 70u32))]);
        assert_eq!(serde_pickle::value_to_vec(&big, o.clone()).unwrap(), cpython("bigint", p), "protocol {p}");
        let set = dict(vec![(hs("tags"), Value::Set(["a", "b", "c", "d"].map(hs).into()))]);
        assert_eq!(serde_pickle::value_to_vec(&set, o.clone()).unwrap(), cpython("set", p), "protocol {p}");
        let tk = Value::Dict(
            [
                (HashableValue::Tuple(vec![HashableValue::I64(1), HashableValue::I64(2)]), s("a")),
                (HashableValue::Tuple(vec![HashableValue::I64(3), hs("k")]), s("b")),
            ]
            .into(),
        );
        assert_eq!(serde_pickle::value_to_vec(&tk, o).unwrap(), cpython("tuple_keys", p), "protocol {p}");
    }
}

#[test]
fn hashable_values_compare_as_python_does() {
    use HashableValue as H;
    assert_eq!(H::I64(1), H::F64(1.0));
    assert_eq!(H::Bool(true), H::I64(1));
    assert_eq!(H::Int(BigInt::from(5)), H::F64(5.0));
    assert!(H::I64(1) < H::F64(1.5));
    assert!(H::F64(-0.5) < H::Bool(false));
    assert!(H::Int(BigInt::from(1u8) << 80) > H::F64(1e20));
    assert!(H::Int(BigInt::from(1u8) << 80) < H::F64(f64::INFINITY));
    assert!(H::None < H::Bool(false));
    assert!(H::F64(1e300) < H::Bytes(vec![]));
    assert!(H::Bytes(vec![255]) < hs(""));
    assert!(hs("z") < H::FrozenSet(BTreeSet::new()));
    assert!(H::FrozenSet(BTreeSet::new()) < H::Tuple(vec![]));
    // A set of 1, 1.0 and True has one item, as in Python.
    let set: BTreeSet<H> = [H::I64(1), H::F64(1.0), H::Bool(true)].into();
    assert_eq!(set.len(), 1);
    // NaN is a value like any other for the B-tree.
    let nans: BTreeSet<H> = [H::F64(f64::NAN), H::F64(f64::NAN), H::I64(3)].into();
    assert_eq!(nans.len(), 2);
}

#[test]
fn into_hashable_refuses_mutable_containers() {
    assert!(Value::List(vec![]).into_hashable().is_err());
    assert!(Value::Dict(BTreeMap::new()).into_hashable().is_err());
    assert!(Value::Set(BTreeSet::new()).into_hashable().is_err());
    assert!(Value::Tuple(vec![Value::I64(1), Value::List(vec![])]).into_hashable().is_err());
    let t = Value::Tuple(vec![Value::I64(1), s("a")]);
    assert_eq!(t.clone().into_hashable().unwrap().into_value(), t);
}

#[test]
fn display_is_serde_pickles() {
    let v = Value::List(vec![
        Value::None,
        Value::Bool(true),
        Value::I64(-3),
        Value::F64(1.5),
        Value::Bytes(vec![1, 2]),
        s("a\"b"),
        Value::Tuple(vec![Value::I64(1)]),
        Value::Set(BTreeSet::new()),
        Value::Set([HashableValue::I64(2)].into()),
        Value::FrozenSet([HashableValue::I64(2), HashableValue::I64(1)].into()),
        dict(vec![(hs("k"), Value::I64(1)), (HashableValue::Tuple(vec![]), Value::None)]),
    ]);
    assert_eq!(
        v.to_string(),
        r#"[None, True, -3, 1.5, b[1, 2], "a\"b", (1,), set(), {2}, frozenset([1, 2]), {"k": 1, (): None}]"#
    );
}

#[test]
fn trailing_bytes_are_errors() {
    let mut data = serde_pickle::to_vec(&1, SerOptions::new()).unwrap();
    assert_eq!(serde_pickle::from_slice::<i32>(&data, DeOptions::new()).unwrap(), 1);
    data.push(b'.');
    let e = serde_pickle::from_slice::<i32>(&data, DeOptions::new()).unwrap_err();
    assert!(e.to_string().contains("trailing"), "{e}");
    assert!(serde_pickle::from_reader::<_, i32>(&data[..], DeOptions::new()).is_err());
}

#[test]
fn hostile_pickles_end_in_errors() {
    // 100 000 nested lists: an error, not a stack overflow.
    // Up to the limit, values nest (and deserialize through serde) fine.
    let nested = |n: usize| {
        let mut data = b"\x80\x02".to_vec();
        data.extend(std::iter::repeat_n(b']', n));
        data.extend(std::iter::repeat_n(b'a', n - 1));
        data.push(b'.');
        data
    };
    let v = serde_pickle::value_from_slice(&nested(511), DeOptions::new()).unwrap();
    assert_eq!(serde_pickle::from_value::<Value>(v.clone()).unwrap(), v);
    assert_eq!(serde_pickle::from_slice::<Value>(&nested(511), DeOptions::new()).unwrap(), v);
    assert!(serde_pickle::value_from_slice(&nested(513), DeOptions::new()).is_err());
    let n = 100_000;
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat_n(b']', n));
    data.extend(std::iter::repeat_n(b'a', n - 1));
    data.push(b'.');
    let e = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap_err();
    assert!(e.to_string().contains("deeper than 512"), "{e}");
    // 2^40 leaves in a few hundred bytes: tuples sharing tuples.
    let mut data = b"\x80\x02)".to_vec();
    for _ in 0..40 {
        data.extend_from_slice(b"2\x86"); // DUP, TUPLE2: (t, t)
    }
    data.push(b'.');
    let start = std::time::Instant::now();
    let e = serde_pickle::value_from_slice(&data, DeOptions::new()).unwrap_err();
    assert!(e.to_string().contains("expands to more than"), "{e}");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    // A persistent id is no value.
    let e = serde_pickle::value_from_slice(b"\x80\x02K\x01Q.", DeOptions::new()).unwrap_err();
    assert!(e.to_string().contains("persistent"), "{e}");
    // Garbage is an error.
    assert!(serde_pickle::value_from_slice(b"\x80\x02]q", DeOptions::new()).is_err());
}

#[test]
fn the_module_layout_of_serde_pickle_is_there() {
    let _: serde_pickle::de::DeOptions = serde_pickle::de::DeOptions::new();
    let _: serde_pickle::ser::SerOptions = serde_pickle::ser::SerOptions::new();
    let v: serde_pickle::value::Value = serde_pickle::value::to_value(&1u8).unwrap();
    assert_eq!(v, Value::I64(1));
    let r: serde_pickle::error::Result<u8> = serde_pickle::value::from_value(v);
    assert_eq!(r.unwrap(), 1);
}
