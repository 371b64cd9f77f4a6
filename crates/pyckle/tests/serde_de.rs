//! The serde Deserializer: every fixture of tests/fixtures/serde (made by
//! generate_serde.py with CPython 3.11 and 2.7) at every protocol, checked
//! value by value against expected.json; and graphs built by hand for
//! limits, cycles, options and errors.
#![cfg(feature = "serde")]

use num_bigint::BigInt;
use pyckle::serde::{from_reader, from_slice, from_value, DeOptions, Deserializer, Error};
use pyckle::{Graph, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/serde")
}

fn expected_all() -> &'static serde_json::Map<String, J> {
    static E: OnceLock<serde_json::Map<String, J>> = OnceLock::new();
    E.get_or_init(|| {
        let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
        serde_json::from_str(&text).expect("expected.json parses")
    })
}

/// The pickles of a case with their protocol, and what they must give.
fn fixtures(name: &str) -> (Vec<(u64, Vec<u8>)>, J) {
    let e = &expected_all()[name];
    let protocols: Vec<u64> = e["protocols"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect();
    assert!(!protocols.is_empty(), "{name}: no protocol");
    let files = protocols
        .iter()
        .map(|p| {
            let path = dir().join(format!("{name}_p{p}.pkl"));
            (*p, std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect();
    (files, e["expected"].clone())
}

/// Deserializes every protocol of `name` into `T` and compares its JSON
/// form with the expected one; returns the number of pickles checked.
fn check<T: DeserializeOwned + Serialize>(name: &str, options: DeOptions) -> usize {
    let (files, expected) = fixtures(name);
    for (p, data) in &files {
        let v: T = from_slice(data, options.clone()).unwrap_or_else(|e| panic!("{name} protocol {p}: {e}"));
        assert_eq!(serde_json::to_value(&v).unwrap(), expected, "{name} protocol {p}");
    }
    files.len()
}

/// Every protocol of `name` fails with the expected message.
fn check_error<T: DeserializeOwned + std::fmt::Debug>(name: &str, options: DeOptions) -> usize {
    let (files, expected) = fixtures(name);
    let want = expected["error"].as_str().unwrap();
    for (p, data) in &files {
        let e = from_slice::<T>(data, options.clone()).expect_err(name);
        assert_eq!(e.to_string(), want, "{name} protocol {p}");
    }
    files.len()
}

#[derive(Deserialize, Serialize)]
struct Plain {
    name: String,
    count: u32,
    ratio: f64,
    flag: bool,
    none: Option<i64>,
    tags: Vec<String>,
    nested: BTreeMap<String, Vec<i64>>,
    pair: (i64, String),
}

#[test]
fn plain_values() {
    assert_eq!(check::<Plain>("plain", DeOptions::new()), 6);
    // The same through serde_json::Value (deserialize_any).
    assert_eq!(check::<J>("plain", DeOptions::new()), 6);
}

#[derive(Deserialize, Serialize)]
struct Ints {
    i8: i8,
    u8: u8,
    i16: i16,
    u16: u16,
    i32: i32,
    u32: u32,
    i64: i64,
    u64: u64,
    i128: i128,
    u128: u128,
    f: f64,
    c: char,
}

#[test]
fn ints_of_every_width() {
    assert_eq!(check::<Ints>("ints", DeOptions::new()), 6);
}

#[test]
fn ints_out_of_range_are_errors() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Narrow {
        u8: i8,
    }
    let (files, _) = fixtures("ints");
    for (p, data) in &files {
        let e = from_slice::<Narrow>(data, DeOptions::new()).unwrap_err();
        assert_eq!(e.to_string(), "u8: invalid value: int 255 out of range, expected i8", "protocol {p}");
        assert_eq!(e.path(), ".u8");
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Big {
            u128: u64,
        }
        let e = from_slice::<Big>(data, DeOptions::new()).unwrap_err();
        assert!(e.to_string().starts_with("u128: invalid value: int 340282366920938463463374607431768211455"), "{e}");
    }
}

#[test]
fn scalars_in_a_list() {
    type T = (Option<()>, bool, i64, u128, f64, String, ByteBuf, Vec<i64>, Vec<i64>, BTreeMap<String, String>);
    assert_eq!(check::<T>("scalars_list", DeOptions::new()), 6);
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Layer {
    name: String,
    weight: f64,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Model {
    layers: Vec<Layer>,
}

#[test]
fn errors_name_the_path() {
    assert_eq!(check_error::<Model>("layers", DeOptions::new()), 6);
    let (files, _) = fixtures("layers");
    let e = from_slice::<Model>(&files[5].1, DeOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".layers[2].weight");
    assert_eq!(e.message(), "invalid type: str \"abc\", expected f64");
    // A map keyed by str shows keys as ["key"].
    let e = from_slice::<HashMap<String, Vec<HashMap<String, f64>>>>(&files[5].1, DeOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "[\"layers\"][0][\"name\"]: invalid type: str \"l0\", expected f64");
}

#[derive(Deserialize, Serialize)]
struct Bigs {
    #[serde(with = "pyckle::serde::bigint")]
    small: BigInt,
    #[serde(with = "pyckle::serde::bigint")]
    big: BigInt,
    #[serde(with = "pyckle::serde::bigint")]
    neg: BigInt,
}

#[test]
fn big_ints_through_the_bigint_module() {
    assert_eq!(check::<Bigs>("bigints", DeOptions::new()), 6);
    // Other deserializers: an int or a str.
    let b: Bigs = serde_json::from_str(r#"{"small": 5, "big": "1267650600228229401496703205376", "neg": -3}"#).unwrap();
    assert_eq!(b.big, BigInt::from(2).pow(100));
    assert_eq!(b.neg, BigInt::from(-3));
    // Without the module, 2**200 fits no Rust int.
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct NoModule {
        big: i128,
    }
    let (files, _) = fixtures("bigints");
    let e = from_slice::<NoModule>(&files[2].1, DeOptions::new()).unwrap_err();
    assert!(e.to_string().starts_with("big: invalid value: int 1606938044258990275541962092341162602522"), "{e}");
    assert!(e.to_string().ends_with("... out of range, expected i128"), "{e}");
    assert_eq!(pyckle::serde::BIGINT_MAGIC, "$pyckle::BigInt");
}

#[test]
fn tuple_keys() {
    let (files, expected) = fixtures("tuple_keys");
    for (p, data) in &files {
        let m: HashMap<(i64, i64), String> = from_slice(data, DeOptions::new()).unwrap();
        let mut pairs: Vec<_> = m.into_iter().collect();
        pairs.sort();
        assert_eq!(serde_json::to_value(&pairs).unwrap(), expected, "protocol {p}");
    }
    assert_eq!(files.len(), 6);
}

#[test]
fn int_keys() {
    assert_eq!(check::<BTreeMap<i64, String>>("int_keys", DeOptions::new()), 6);
    // And as i8 keys, range-checked.
    assert_eq!(check::<BTreeMap<i8, String>>("int_keys", DeOptions::new()), 6);
}

#[derive(Deserialize, Serialize)]
struct Sets {
    s: BTreeSet<i64>,
    fs: BTreeSet<String>,
    l: BTreeSet<i64>,
}

#[test]
fn sets() {
    assert_eq!(check::<Sets>("sets", DeOptions::new()), 6);
    let (files, _) = fixtures("sets");
    for (p, data) in &files {
        let m: HashMap<String, HashSet<String>> = from_slice(data, DeOptions::new()).unwrap_or_default();
        assert!(m.is_empty(), "ints are not strs (protocol {p})");
        #[derive(Deserialize)]
        struct H {
            s: HashSet<i64>,
        }
        let h: H = from_slice(data, DeOptions::new()).unwrap();
        assert_eq!(h.s, HashSet::from([1, 2, 3]), "protocol {p}");
    }
}

#[derive(Deserialize, Serialize)]
struct Bytes {
    b: ByteBuf,
    ba: ByteBuf,
    v: Vec<u8>,
}

#[test]
fn bytes_and_bytearrays() {
    assert_eq!(check::<Bytes>("bytes", DeOptions::new()), 6);
}

#[test]
fn borrowed_str_and_bytes() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        #[serde(borrow)]
        s: &'a str,
        #[serde(borrow)]
        b: &'a [u8],
        #[serde(borrow, with = "serde_bytes")]
        v: &'a [u8],
    }
    // pickle.dumps({'s': 'hello', 'b': b'xyz', 'v': b'\x01'}, protocol=4)
    let data = b"\x80\x04\x95\x23\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01s\x94\x8c\x05hello\x94\x8c\x01b\x94C\x03xyz\x94\x8c\x01v\x94C\x01\x01\x94u.";
    let v: Borrowed = from_slice(data, DeOptions::new()).unwrap();
    assert_eq!(v.s, "hello");
    assert_eq!(v.b, b"xyz");
    assert_eq!(v.v, b"\x01");
    let range = data.as_ptr_range();
    assert!(range.contains(&v.s.as_ptr()), "the str is borrowed from the input");
    assert!(range.contains(&v.b.as_ptr()), "the bytes are borrowed from the input");
    // From a reader nothing can be borrowed: owned types work.
    let m: HashMap<String, ByteBuf> = from_reader(&data[..], DeOptions::new()).unwrap();
    assert_eq!(m["s"].as_slice(), b"hello");
    assert_eq!(m["b"].as_slice(), b"xyz");
}

#[derive(Deserialize, Serialize)]
struct Shared {
    x: Vec<i64>,
    y: Vec<i64>,
    z: Vec<Vec<i64>>,
}

#[test]
fn shared_values_are_fine() {
    assert_eq!(check::<Shared>("shared", DeOptions::new()), 6);
}

#[test]
fn cycles_are_errors_or_none() {
    assert_eq!(check_error::<J>("cyclic", DeOptions::new()), 6);
    let (files, expected) = fixtures("cyclic");
    for (p, data) in &files {
        let v: J = from_slice(data, DeOptions::new().replace_recursive_structures()).unwrap();
        assert_eq!(v, expected["replaced"], "protocol {p}");
        let v: Vec<Option<Vec<i64>>> = from_slice::<(i64, Option<Vec<i64>>)>(data, DeOptions::new().replace_recursive_structures())
            .map(|(_, b)| vec![b])
            .unwrap();
        assert_eq!(v, vec![None]);
    }
}

#[derive(Deserialize, Serialize)]
enum E {
    Unit,
    Newtype(i64),
    Tuple(i64, i64),
    Struct { x: i64 },
}

#[derive(Deserialize, Serialize)]
struct Forms {
    a: E,
    b: E,
    c: E,
    d: E,
    e: E,
    f: E,
    g: E,
}

#[test]
fn enum_forms() {
    assert_eq!(check::<Forms>("enum_forms", DeOptions::new()), 6);
}

#[derive(Deserialize, Serialize, Debug, PartialEq)]
struct Point {
    x: i64,
    y: f64,
    #[serde(rename = "_name")]
    name: String,
}

#[test]
fn instances_with_dict() {
    assert_eq!(check::<Point>("instance_dict", DeOptions::new()), 6);
    assert_eq!(check::<Vec<Point>>("instances_list", DeOptions::new()), 6);
    // As a map, through deserialize_any.
    assert_eq!(check::<J>("instance_dict", DeOptions::new()), 6);
}

#[test]
fn instances_with_slots() {
    #[derive(Deserialize, Serialize)]
    struct Slotted {
        x: i64,
        y: String,
    }
    #[derive(Deserialize, Serialize)]
    struct Mixed {
        x: i64,
        y: i64,
        z: i64,
    }
    assert_eq!(check::<Slotted>("slots", DeOptions::new()), 4);
    let (files, _) = fixtures("mixed");
    for (p, data) in &files {
        let m: Mixed = from_slice(data, DeOptions::new()).unwrap();
        assert_eq!((m.x, m.y, m.z), (1, 2, 3), "protocol {p}");
    }
    assert_eq!(files.len(), 4);
}

#[test]
fn dataclass() {
    #[derive(Deserialize, Serialize)]
    struct Config {
        name: String,
        size: usize,
        scale: f32,
        items: Vec<u8>,
    }
    assert_eq!(check::<Config>("dataclass", DeOptions::new()), 6);
}

#[test]
fn namedtuple_as_seq() {
    #[derive(Deserialize, Serialize)]
    struct Pt {
        x: i64,
        y: i64,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct PtT(i64, i64);
    assert_eq!(check::<Pt>("namedtuple", DeOptions::new()), 6);
    let (files, _) = fixtures("namedtuple");
    for (p, data) in &files {
        assert_eq!(from_slice::<(i64, i64)>(data, DeOptions::new()).unwrap(), (5, -6), "protocol {p}");
        assert_eq!(from_slice::<PtT>(data, DeOptions::new()).unwrap(), PtT(5, -6), "protocol {p}");
        assert_eq!(from_slice::<Vec<i64>>(data, DeOptions::new()).unwrap(), vec![5, -6], "protocol {p}");
        let e = from_slice::<(i64,)>(data, DeOptions::new()).unwrap_err();
        assert_eq!(e.to_string(), "invalid length 2, expected 1 elements in the sequence", "protocol {p}");
    }
}

#[test]
fn empty_instance_and_subclasses() {
    #[derive(Deserialize, Serialize)]
    struct EmptyS {
        #[serde(default)]
        a: i64,
    }
    assert_eq!(check::<EmptyS>("empty_instance", DeOptions::new()), 6);
    assert_eq!(check::<BTreeMap<String, i64>>("dict_subclass", DeOptions::new()), 6);
    assert_eq!(check::<Vec<i64>>("list_subclass", DeOptions::new()), 6);
}

#[derive(serde_repr::Deserialize_repr, serde_repr::Serialize_repr, Debug, PartialEq)]
#[repr(u8)]
enum Color {
    Red = 1,
    Green = 2,
}

#[derive(serde_repr::Deserialize_repr, serde_repr::Serialize_repr)]
#[repr(i32)]
enum Level {
    Low = 10,
    High = 20,
}

#[derive(Deserialize, Serialize)]
enum Mode {
    #[serde(rename = "fast")]
    Fast,
    #[serde(rename = "slow")]
    Slow,
}

#[derive(Deserialize, Serialize, Debug, PartialEq)]
enum Shade {
    #[serde(rename = "LIGHT")]
    Light,
    #[serde(rename = "DARK")]
    Dark,
}

#[derive(Deserialize, Serialize)]
struct Enums {
    color: Color,
    level: Level,
    mode: Mode,
    shade: Shade,
    colors: Vec<Color>,
}

#[test]
fn python_enum_members() {
    let _ = (Level::Low, Mode::Fast, Shade::Light);
    assert_eq!(check::<Enums>("enums", DeOptions::new()), 6);
    let (files, _) = fixtures("enums");
    for (p, data) in &files {
        // deserialize_any gives a member's value; a member pickled by name gives its name.
        let v: J = from_slice(data, DeOptions::new()).unwrap();
        assert_eq!(v["color"], 2, "protocol {p}");
        assert_eq!(v["mode"], "slow", "protocol {p}");
        assert_eq!(v["shade"], "DARK", "protocol {p}");
        // A derived enum cannot take an int value.
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Bad {
            color: Shade,
        }
        let e = from_slice::<Bad>(data, DeOptions::new()).unwrap_err();
        assert!(e.to_string().starts_with("color: invalid type: int 2, expected enum Shade"), "{e}");
        assert!(e.to_string().contains("serde_repr"), "{e}");
    }
}

#[test]
fn globals() {
    #[derive(Deserialize, Serialize)]
    struct G {
        cls: String,
        r#fn: String,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct O {
        cls: Option<String>,
        r#fn: (),
    }
    assert_eq!(check::<G>("global", DeOptions::new()), 6);
    let (files, _) = fixtures("global");
    for (p, data) in &files {
        let o: O = from_slice(data, DeOptions::new().replace_unresolved_globals()).unwrap();
        assert_eq!(o, O { cls: None, r#fn: () }, "protocol {p}");
        let e = from_slice::<O>(data, DeOptions::new()).unwrap_err();
        assert_eq!(e.to_string(), "fn: invalid type: global builtins.len, expected unit", "protocol {p}");
    }
}

#[test]
fn python2_strings() {
    #[derive(Deserialize, Serialize)]
    struct P2 {
        name: String,
        n: i64,
        tags: Vec<String>,
    }
    // Kept as bytes (the default), a String still takes UTF-8 bytes.
    assert_eq!(check::<P2>("py2_strings", DeOptions::new()), 3);
    assert_eq!(check::<P2>("py2_strings", DeOptions::new().decode_strings()), 3);
    assert_eq!(check::<J>("py2_strings", DeOptions::new().decode_strings()), 3);
    // serde_json::Value has no bytes: without decode_strings the str values are bytes.
    let (files, _) = fixtures("py2_strings");
    for (p, data) in &files {
        assert!(from_slice::<J>(data, DeOptions::new()).is_err(), "protocol {p}");
    }
}

// ---------------------------------------------------------------------------
// Graphs built by hand.

fn deep_list(depth: usize) -> Graph<'static> {
    let mut g = Graph::new();
    let mut v = g.list([Value::Int(1)]);
    for _ in 0..depth {
        v = g.list([v]);
    }
    g.set_root(v);
    g
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
#[allow(dead_code)]
enum Nest {
    Leaf(i64),
    List(Vec<Nest>),
}

#[test]
fn depth_is_limited() {
    let g = deep_list(1_000_000);
    let e = from_value::<J>(&g, g.root(), &DeOptions::new()).unwrap_err();
    assert!(e.message().starts_with("nesting deeper than 256 levels"), "{e}");
    assert_eq!(e.path(), "[0]".repeat(256));
    let g = deep_list(9);
    assert!(from_value::<Nest>(&g, g.root(), &DeOptions::new().max_depth(10)).is_ok());
    let g = deep_list(10);
    assert!(from_value::<Nest>(&g, g.root(), &DeOptions::new().max_depth(10)).is_err());
    // The default depth fits a test thread's stack with a recursive type.
    let g = deep_list(254);
    assert!(from_value::<Nest>(&g, g.root(), &DeOptions::new()).is_ok());
}

#[test]
fn exponential_sharing_is_bounded() {
    let mut g = Graph::new();
    let mut v = g.list([Value::Int(1)]);
    for _ in 0..64 {
        v = g.list([v, v]);
    }
    g.set_root(v);
    let start = std::time::Instant::now();
    let e = from_value::<J>(&g, g.root(), &DeOptions::new().max_values(100_000)).unwrap_err();
    assert!(e.message().contains("expands to more than 100000 values"), "{e}");
    let e = from_value::<J>(&g, g.root(), &DeOptions::new()).unwrap_err();
    assert!(e.message().contains("expands to more than"), "{e}");
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn recursive_instance() {
    let mut g = Graph::new();
    let obj = g.instance("m", "Node", None);
    let key = g.str("next");
    let state = g.dict([(key, obj)]).unwrap();
    g.set_state(obj, state).unwrap();
    g.set_root(obj);
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Node {
        next: Option<Box<Node>>,
    }
    let e = from_value::<Node>(&g, g.root(), &DeOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".next");
    assert!(e.message().starts_with("recursive structure: this object of class m.Node contains itself"), "{e}");
    let n: Node = from_value(&g, g.root(), &DeOptions::new().replace_recursive_structures()).unwrap();
    assert!(n.next.is_none());
}

#[test]
fn persistent_ids() {
    let mut g = Graph::new();
    let id = g.str("storage-0");
    let pid = g.persistent_id(id);
    g.set_root(pid);
    let e = from_value::<J>(&g, pid, &DeOptions::new()).unwrap_err();
    assert!(e.to_string().starts_with("invalid type: persistent id str \"storage-0\""), "{e}");
    let v: String = from_value(&g, pid, &DeOptions::new().keep_persistent_ids()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v, "storage-0");
    let v: Option<String> = from_value(&g, pid, &DeOptions::new().replace_unresolved_globals()).unwrap();
    assert_eq!(v, None);
}

#[test]
fn enum_member_by_global_name() {
    let mut g = Graph::new();
    let m = g.global("mod", "Shade.DARK");
    assert_eq!(from_value::<Shade>(&g, m, &DeOptions::new()).unwrap(), Shade::Dark);
    let c = g.global("mod", "Color");
    let member = g.reduce(c, [Value::Int(2)]);
    assert_eq!(from_value::<Color>(&g, member, &DeOptions::new()).unwrap(), Color::Green);
}

#[test]
fn chars_units_options() {
    let mut g = Graph::new();
    let one = g.str("é");
    let two = g.str("ab");
    let empty = g.tuple([]);
    assert_eq!(from_value::<char>(&g, one, &DeOptions::new()).unwrap(), 'é');
    let e = from_value::<char>(&g, two, &DeOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "invalid value: str \"ab\", expected a character");
    from_value::<()>(&g, Value::None, &DeOptions::new()).unwrap();
    from_value::<()>(&g, empty, &DeOptions::new()).unwrap();
    assert_eq!(from_value::<Option<i64>>(&g, Value::None, &DeOptions::new()).unwrap(), None);
    assert_eq!(from_value::<Option<i64>>(&g, Value::Int(3), &DeOptions::new()).unwrap(), Some(3));
    assert_eq!(from_value::<f32>(&g, Value::Int(3), &DeOptions::new()).unwrap(), 3.0);
    let e = from_value::<bool>(&g, Value::Int(1), &DeOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "invalid type: int 1, expected a boolean");
    let e = from_value::<Vec<i64>>(&g, two, &DeOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "invalid type: str \"ab\", expected a sequence");
}

#[test]
fn trailing_bytes_and_readers() {
    // pickle.dumps(1, protocol=2) twice.
    let one = b"\x80\x02K\x01.";
    let two = [&one[..], &b"\x80\x02K\x02."[..]].concat();
    let e = from_slice::<i64>(&two, DeOptions::new()).unwrap_err();
    assert_eq!(e.to_string(), "5 trailing bytes after the pickle's STOP");
    let mut r = std::io::Cursor::new(two);
    assert_eq!(from_reader::<_, i64>(&mut r, DeOptions::new()).unwrap(), 1);
    assert_eq!(from_reader::<_, i64>(&mut r, DeOptions::new()).unwrap(), 2);
    let e: Error = from_reader::<_, i64>(&mut r, DeOptions::new()).unwrap_err();
    assert!(e.pickle_error().is_some_and(|e| e.is_eof()), "{e}");
}

#[test]
fn public_deserializer() {
    use serde::Deserialize as _;
    let data = std::fs::read(dir().join("instance_dict_p2.pkl")).unwrap();
    let g = pyckle::loads(&data).unwrap();
    let mut de = Deserializer::new(&g, g.root(), &DeOptions::new());
    let p = Point::deserialize(&mut de).unwrap();
    assert_eq!(p, Point { x: 1, y: 2.5, name: "p".into() });
    // The same Deserializer again (it keeps no state between uses).
    let m = BTreeMap::<String, J>::deserialize(&mut de).unwrap();
    assert_eq!(m.len(), 3);
}

/// Speed, by hand: `PYCKLE_SERDE_BENCH=file.pkl cargo test --release --test
/// serde_de -- --ignored --nocapture measure` with a pickle of a list of
/// `{'name': str, 'weight': float, 'shape': (int, int)}` dicts.
#[test]
#[ignore]
fn measure() {
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct L<'a> {
        name: &'a str,
        weight: f64,
        shape: (u32, u32),
    }
    let Ok(path) = std::env::var("PYCKLE_SERDE_BENCH") else { return };
    let data = std::fs::read(path).unwrap();
    let t = std::time::Instant::now();
    let g = pyckle::loads(&data).unwrap();
    let decode = t.elapsed();
    let t = std::time::Instant::now();
    let v: Vec<L> = pyckle::serde::from_graph(&g, &DeOptions::new()).unwrap();
    let de = t.elapsed();
    let t = std::time::Instant::now();
    let w: Vec<L> = from_slice(&data, DeOptions::new()).unwrap();
    let both = t.elapsed();
    println!("{} items: decode {decode:?}, deserialize {de:?}, from_slice {both:?}", v.len().min(w.len()));
}

#[test]
fn errors_in_enum_data_name_the_variant() {
    #[derive(Serialize)]
    enum Out {
        Dense { units: &'static str },
        Scale(&'static str),
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    enum In {
        Dense { units: u32 },
        Scale(f64),
    }
    #[derive(Serialize)]
    struct Written {
        layers: Vec<Out>,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Read {
        layers: Vec<In>,
    }
    // {'layers': [{'Dense': {'units': 'x'}}]} and [{'Scale': 'y'}]
    let data = pyckle::serde::to_vec(&Written { layers: vec![Out::Dense { units: "x" }] }, Default::default()).unwrap();
    let e = from_slice::<Read>(&data, DeOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".layers[0].Dense.units", "{e}");
    assert_eq!(e.to_string(), "layers[0].Dense.units: invalid type: str \"x\", expected u32");
    let data = pyckle::serde::to_vec(&Written { layers: vec![Out::Scale("y")] }, Default::default()).unwrap();
    let e = from_slice::<Read>(&data, DeOptions::new()).unwrap_err();
    assert_eq!(e.path(), ".layers[0].Scale", "{e}");
}
