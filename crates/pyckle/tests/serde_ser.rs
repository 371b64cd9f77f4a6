//! The serde Serializer: Rust values become the pickles CPython writes
//! for the Python values they stand for (tests/fixtures/serde_ser/expected.tsv,
//! made by generate_serde_ser.py), at every protocol; plus graphs,
//! options and errors.
#![cfg(feature = "serde")]

mod common;

use pyckle::serde::{to_graph, to_vec, to_writer, SerOptions, Serializer};
use pyckle::{Object, Value};
use serde::{Serialize, Serializer as _};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Serialize)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize)]
struct Greeter {
    _name: String,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename = "Empty")]
struct EmptyUnit;

#[derive(Serialize)]
struct UnitTuple();

#[derive(Serialize)]
enum E {
    A,
    B(i32),
    C(i32, i32),
    D { x: i32 },
}

#[derive(Serialize)]
enum Color {
    #[serde(rename = "RED")]
    Red,
    #[serde(rename = "GREEN")]
    Green,
}

#[derive(Serialize)]
struct Nested {
    name: &'static str,
    ids: Vec<u8>,
    meta: BTreeMap<&'static str, Meta>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Meta {
    None(Option<i32>),
    Pair((i32, String)),
}

#[derive(Serialize)]
struct Tags {
    #[serde(with = "pyckle::serde::set")]
    tags: BTreeSet<&'static str>,
}

/// A big int the way `pyckle::serde::bigint` writes one.
struct Big(&'static str);

impl Serialize for Big {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("$pyckle::BigInt", self.0)
    }
}

struct Frozen(Vec<i32>);

impl Serialize for Frozen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        pyckle::serde::frozenset::serialize(&self.0, s)
    }
}

fn opts(p: u8) -> SerOptions {
    SerOptions::new().protocol(p)
}

/// The pickle of the Rust value named `name` at protocol `p`.
fn case(name: &str, p: u8) -> Vec<u8> {
    let o = opts(p);
    let r = match name {
        "none" => to_vec(&(), o),
        "true" => to_vec(&true, o),
        "ints" => {
            let v: (u8, i8, i16, u8, u16, u16, u32, i32, i32, u32, i64, i64) =
                (0, 1, -1, 255, 256, 65535, 65536, i32::MIN, i32::MAX, 1 << 31, i64::MAX, i64::MIN);
            // A list, not a tuple: serialize the items one by one.
            let mut ser = Serializer::new(&o);
            let items = [
                v.0.serialize(&mut ser).unwrap(),
                v.1.serialize(&mut ser).unwrap(),
                v.2.serialize(&mut ser).unwrap(),
                v.3.serialize(&mut ser).unwrap(),
                v.4.serialize(&mut ser).unwrap(),
                v.5.serialize(&mut ser).unwrap(),
                v.6.serialize(&mut ser).unwrap(),
                v.7.serialize(&mut ser).unwrap(),
                v.8.serialize(&mut ser).unwrap(),
                v.9.serialize(&mut ser).unwrap(),
                v.10.serialize(&mut ser).unwrap(),
                v.11.serialize(&mut ser).unwrap(),
            ];
            let mut g = ser.into_graph();
            let root = g.list(items);
            g.set_root(root);
            return pyckle::dumps(&g, p).unwrap();
        }
        "u64_max" => to_vec(&u64::MAX, o),
        "i128_min" => to_vec(&i128::MIN, o),
        "u128_max" => to_vec(&u128::MAX, o),
        "floats" => to_vec(&vec![1.5f64, -0.0, 1e300, f64::INFINITY], o),
        "str" => to_vec("h\u{e9}llo \u{263a} \u{1F600}", o),
        "char" => to_vec(&'z', o),
        "bytes" => to_vec(serde_bytes::Bytes::new(b"\x00\xffab"), o),
        "bytes_long" => {
            let b: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
            to_vec(&serde_bytes::ByteBuf::from(b), o)
        }
        "option" => to_vec(&vec![None, Some(3)], o),
        "list_1500" => to_vec(&(0..1500).collect::<Vec<u32>>(), o),
        "tuple" => to_vec(&(1, "two", 3.0f32), o),
        "unit_tuple_struct" => to_vec(&UnitTuple(), o),
        "nested" => to_vec(
            &Nested {
                name: "Gopher",
                ids: vec![1, 2],
                meta: [("a", Meta::None(None)), ("b", Meta::Pair((1, "xy".into())))].into_iter().collect(),
            },
            o,
        ),
        "map_1200" => {
            let m: BTreeMap<u32, u64> = (0..1200).map(|i| (i, i as u64 * 2)).collect();
            to_vec(&m, o)
        }
        "tuple_keys" => to_vec(&PairsMap(vec![((1, IntOrStr::I(2)), "a"), ((3, IntOrStr::S("k")), "b")]), o),
        "point" => to_vec(&Point { x: 1, y: -2 }, o),
        "points" => to_vec(&vec![Point { x: 1, y: 2 }, Point { x: 3, y: 4 }], o),
        "greeter" => to_vec(&Greeter { _name: "Gopher".into() }, o.class("Greeter", "__main__", "Greeter")),
        "greeters" => to_vec(
            &vec![Greeter { _name: "Gopher".into() }, Greeter { _name: "Gordon".into() }],
            o.class("Greeter", "__main__", "Greeter"),
        ),
        "empty_instance" => {
            let unit = to_vec(&EmptyUnit, o.clone().class("Empty", "__main__", "Empty")).unwrap();
            let r = to_vec(&Empty {}, o.class("Empty", "__main__", "Empty"));
            assert_eq!(r.as_ref().ok(), Some(&unit), "a unit struct is an instance too");
            r
        }
        "enum_std" => to_vec(&vec![E::A, E::B(1), E::C(1, 2), E::D { x: 1 }], o),
        "enum_compat" => to_vec(&vec![E::A, E::B(1), E::C(1, 2), E::D { x: 1 }], o.compat_enum_repr()),
        "enum_member" => {
            to_vec(&vec![Color::Red, Color::Green, Color::Red], o.enum_class("Color", "__main__", "Color"))
        }
        "set" => to_vec(&Tags { tags: ["a", "b", "c", "d"].into_iter().collect() }, o),
        "frozenset" => to_vec(&Frozen(vec![1, 2, 3]), o),
        "bigint" => to_vec(&vec![Big("1267650600228229401496703205376"), Big("-1180591620717411303424")], o),
        other => panic!("no Rust value for case {other}"),
    };
    r.unwrap_or_else(|e| panic!("{name} at protocol {p}: {e}"))
}

/// A map given as its pairs, in order.
struct PairsMap<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for PairsMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn every_case_equals_cpython_at_every_protocol() {
    let text = std::fs::read_to_string(common::fixtures().join("serde_ser/expected.tsv")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, p, want) = (cols[0], cols[1].parse::<u8>().unwrap(), hex(cols[2]));
        let got = case(name, p);
        if got != want {
            failures.push(format!(
                "{name} at protocol {p}:\n  want {:?}\n  got  {:?}",
                want.escape_ascii().to_string(),
                got.escape_ascii().to_string()
            ));
        }
        checked += 1;
    }
    assert_eq!(checked, 29 * 6, "every case at every protocol");
    assert!(failures.is_empty(), "{} of {checked} differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn to_writer_writes_what_to_vec_returns() {
    let value = Greeter { _name: "Gopher".into() };
    for p in 0..=5 {
        let o = opts(p).class("Greeter", "__main__", "Greeter");
        let mut out = Vec::new();
        to_writer(&mut out, &value, o.clone()).unwrap();
        assert_eq!(out, to_vec(&value, o).unwrap(), "protocol {p}");
    }
}

#[test]
fn default_protocol_is_4_and_proto_v2_is_2() {
    assert_eq!(SerOptions::new().get_protocol(), 4);
    assert_eq!(SerOptions::default().get_protocol(), 4);
    assert_eq!(SerOptions::new().proto_v2().get_protocol(), 2);
    assert_eq!(&to_vec(&1, SerOptions::new()).unwrap()[..2], b"\x80\x04");
    assert_eq!(&to_vec(&1, SerOptions::new().proto_v2()).unwrap()[..2], b"\x80\x02");
    assert_eq!(to_vec(&1, SerOptions::new().protocol(0)).unwrap(), b"I1\n.");
    let e = to_vec(&1, SerOptions::new().protocol(6)).unwrap_err();
    assert!(e.to_string().contains('6'), "{e}");
}

#[test]
fn graphs_hold_the_python_values() {
    let o = SerOptions::new();
    let g = to_graph(&u64::MAX, &o).unwrap();
    assert!(matches!(g.object(g.root()), Some(Object::Int(i)) if i.to_string() == "18446744073709551615"));
    let g = to_graph(&(i64::MAX as u64), &o).unwrap();
    assert_eq!(g.root(), Value::Int(i64::MAX));
    let g = to_graph(&Some(Some(5u8)), &o).unwrap();
    assert_eq!(g.root(), Value::Int(5));
    let g = to_graph(&Option::<u8>::None, &o).unwrap();
    assert_eq!(g.root(), Value::None);
    let g = to_graph(&2.5f32, &o).unwrap();
    assert_eq!(g.root(), Value::Float(2.5));
    let g = to_graph(&'\u{263a}', &o).unwrap();
    assert_eq!(g.as_str(g.root()), Some("\u{263a}"));
    let g = to_graph(&Point { x: 1, y: 2 }, &o).unwrap();
    let Some(Object::Dict(d)) = g.object(g.root()) else { panic!("a dict") };
    assert_eq!(d.get_str(&g, "x"), Some(Value::Int(1)));
    assert_eq!(d.get_str(&g, "y"), Some(Value::Int(2)));
    // The class option makes a record of copyreg._reconstructor with the __dict__ as state.
    let g = to_graph(&Greeter { _name: "Gopher".into() }, &o.clone().class("Greeter", "__main__", "Greeter")).unwrap();
    let r = g.as_record(g.root()).expect("a record");
    let args = g.as_tuple(r.args).unwrap();
    assert!(g.as_global(r.callable).unwrap().is("copyreg", "_reconstructor"));
    assert!(g.as_global(args[0]).unwrap().is("__main__", "Greeter"));
    assert!(g.as_global(args[1]).unwrap().is("builtins", "object"));
    let Some(Object::Dict(state)) = g.object(r.state.unwrap()) else { panic!("a dict state") };
    assert_eq!(g.as_str(state.get_str(&g, "_name").unwrap()), Some("Gopher"));
    // An enum_class member is getattr(cls, 'NAME').
    let g = to_graph(&Color::Green, &o.clone().enum_class("Color", "enums", "Outer.Color")).unwrap();
    let r = g.as_record(g.root()).expect("a record");
    assert!(g.as_global(r.callable).unwrap().is("builtins", "getattr"));
    let args = g.as_tuple(r.args).unwrap();
    assert!(g.as_global(args[0]).unwrap().is("enums", "Outer.Color"));
    assert_eq!(g.as_str(args[1]), Some("GREEN"));
    // Without the option, the same enum is its variant's name.
    let g = to_graph(&Color::Green, &o).unwrap();
    assert_eq!(g.as_str(g.root()), Some("GREEN"));
}

#[test]
fn enum_representations() {
    let o = SerOptions::new();
    let std = to_graph(&E::C(1, 2), &o).unwrap();
    let Some(Object::Dict(d)) = std.object(std.root()) else { panic!("a dict") };
    assert_eq!(d.len(), 1);
    let inner = d.get_str(&std, "C").unwrap();
    assert!(matches!(std.object(inner), Some(Object::List(v)) if v == &[Value::Int(1), Value::Int(2)]));
    let compat = to_graph(&E::B(7), &o.clone().compat_enum_repr()).unwrap();
    let t = compat.as_tuple(compat.root()).unwrap();
    assert_eq!((compat.as_str(t[0]), t[1]), (Some("B"), Value::Int(7)));
    let unit = to_graph(&E::A, &o.clone().compat_enum_repr()).unwrap();
    let t = unit.as_tuple(unit.root()).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(unit.as_str(t[0]), Some("A"));
}

#[test]
fn duplicate_keys_keep_the_last_value_in_the_first_place() {
    let g = to_graph(&PairsMap(vec![("a", 1), ("b", 2), ("a", 3)]), &SerOptions::new()).unwrap();
    let Some(Object::Dict(d)) = g.object(g.root()) else { panic!("a dict") };
    let entries: Vec<(Option<&str>, Value)> = d.iter().map(|&(k, v)| (g.as_str(k), v)).collect();
    assert_eq!(entries, [(Some("a"), Value::Int(3)), (Some("b"), Value::Int(2))]);
    // 1 == 1.0 == True in Python: one key.
    let g = to_graph(&PairsMap(vec![(Value1::I(1), 1), (Value1::F(1.0), 2), (Value1::B(true), 3)]), &SerOptions::new())
        .unwrap();
    let Some(Object::Dict(d)) = g.object(g.root()) else { panic!("a dict") };
    assert_eq!(d.entries(), &[(Value::Int(1), Value::Int(3))]);
}

#[derive(Serialize)]
#[serde(untagged)]
enum IntOrStr {
    I(i32),
    S(&'static str),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Value1 {
    I(i32),
    F(f64),
    B(bool),
}

#[test]
fn unhashable_keys_are_errors_with_a_path() {
    // A list key (a Vec) cannot be a dict key in Python.
    let mut m = BTreeMap::new();
    m.insert(vec![1, 2], "x");
    let e = to_vec(&m, SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("unhashable type: 'list'"), "{e}");
    // Nested: the path names where.
    #[derive(Serialize)]
    struct Outer {
        layers: Vec<HashMap<Vec<u8>, u8>>,
    }
    let mut bad = HashMap::new();
    bad.insert(vec![1u8], 1u8);
    let e = to_vec(&Outer { layers: vec![HashMap::new(), bad] }, SerOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".layers[1][<list>]", "{e}");
    assert!(e.to_string().starts_with("layers[1][<list>]: dict key: unhashable type: 'list'"), "{e}");
    // A dict key (a map inside a tuple key) too.
    let e = to_vec(&PairsMap(vec![((1, BTreeMap::from([(1, 2)])), 1)]), SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("unhashable type: 'dict'"), "{e}");
    // And a set item.
    #[derive(Serialize)]
    struct S {
        #[serde(with = "pyckle::serde::set")]
        s: Vec<Vec<u8>>,
    }
    let e = to_vec(&S { s: vec![vec![1]] }, SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("unhashable type: 'list'"), "{e}");
    assert_eq!(e.path(), ".s[0]");
}

#[test]
fn custom_errors_carry_the_path() {
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no way"))
        }
    }
    #[derive(Serialize)]
    struct Layer {
        weight: Fails,
    }
    #[derive(Serialize)]
    struct Model {
        layers: Vec<Layer>,
    }
    let e = to_vec(&Model { layers: vec![Layer { weight: Fails }] }, SerOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".layers[0].weight");
    assert_eq!(e.to_string(), "layers[0].weight: no way");
    let e = to_vec(&BTreeMap::from([("k", Fails)]), SerOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "[\"k\"]: no way");
    let e = to_vec(&E2::V(Fails), SerOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "V: no way");
}

#[derive(Serialize)]
enum E2<T> {
    V(T),
}

#[test]
fn bigint_newtype_needs_digits() {
    let g = to_graph(&Big("-12345678901234567890123"), &SerOptions::new()).unwrap();
    assert!(matches!(g.object(g.root()), Some(Object::Int(i)) if i.to_string() == "-12345678901234567890123"));
    let g = to_graph(&Big("42"), &SerOptions::new()).unwrap();
    assert_eq!(g.root(), Value::Int(42));
    let e = to_vec(&Big("12x"), SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("decimal digits"), "{e}");
    struct NotStr;
    impl Serialize for NotStr {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_newtype_struct("$pyckle::BigInt", &[1, 2])
        }
    }
    assert!(to_vec(&NotStr, SerOptions::new()).is_err());
}

/// A list nested `n` deep, serialized without recursion in the test itself.
struct Deep(usize);

impl Serialize for Deep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(1))?;
        if self.0 > 0 {
            seq.serialize_element(&Deep(self.0 - 1))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Chain(Option<Box<Chain>>);

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    assert!(to_vec(&Deep(200), SerOptions::new()).is_ok());
    let e = to_vec(&Deep(100_000), SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("deeper than 256 levels"), "{e}");
    assert!(to_vec(&Deep(1000), SerOptions::new().max_depth(2000)).is_ok());
    assert!(to_vec(&Deep(10), SerOptions::new().max_depth(5)).is_err());
    // Options and newtypes count too (no container in sight).
    let mut c = Chain(None);
    for _ in 0..300 {
        c = Chain(Some(Box::new(c)));
    }
    let e = to_vec(&c, SerOptions::new()).unwrap_err();
    assert!(e.to_string().contains("deeper than"), "{e}");
    // Drop iteratively: a 300-deep Box chain is fine to drop.
}

#[test]
fn serializer_builds_into_one_graph() {
    let o = SerOptions::new();
    let mut ser = Serializer::new(&o);
    let a = Point { x: 1, y: 2 }.serialize(&mut ser).unwrap();
    let b = (&mut ser).serialize_str("s").unwrap();
    assert_eq!(ser.graph().len(), 4, "'x', 'y', the dict, 's'");
    let mut g = ser.into_graph();
    let root = g.list([a, b, a]);
    g.set_root(root);
    // The shared dict is written once and then fetched from the memo.
    let data = pyckle::dumps(&g, 4).unwrap();
    assert_eq!(data.iter().filter(|&&b| b == b'}').count(), 1);
    let reloaded = pyckle::loads(&data).unwrap();
    let items = match reloaded.object(reloaded.root()) {
        Some(Object::List(v)) => v.clone(),
        _ => panic!("a list"),
    };
    assert_eq!(items[0], items[2], "one dict, twice");
}
