//! Differential test of the serde Serializer against CPython: Rust values
//! -> `pyckle::serde::to_vec` at protocols 0 to 5 -> `python3` loads each
//! (tests/fixtures/serde_python_check.py, which defines `__main__.Greeter`
//! and the Enum `__main__.Color`) and prints a canonical repr, compared
//! with what the Rust side expects. Skips (passes with a note) without python3.
#![cfg(feature = "serde")]

use pyckle::serde::{to_vec, SerOptions};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

#[derive(Serialize)]
struct Greeter {
    _name: String,
}

/// A Rust name that differs from the Python class's.
#[derive(Serialize)]
#[serde(rename = "RustGreeter")]
struct Renamed {
    #[serde(rename = "_name")]
    name: String,
}

#[derive(Serialize)]
enum E {
    A,
    B(i32),
    C(i32, String),
    D { x: i32, y: Option<bool> },
}

#[derive(Serialize)]
enum Color {
    #[serde(rename = "RED")]
    Red,
    #[serde(rename = "GREEN")]
    Green,
}

struct Big(&'static str);

impl Serialize for Big {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct("$pyckle::BigInt", self.0)
    }
}

struct Pairs<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
struct Sets {
    #[serde(with = "pyckle::serde::set")]
    tags: BTreeSet<String>,
    #[serde(with = "pyckle::serde::frozenset")]
    ids: Vec<u64>,
    #[serde(with = "pyckle::serde::set")]
    pairs: Vec<(i32, i32)>,
}

#[derive(Serialize)]
struct Team {
    lead: Greeter,
    members: Vec<Greeter>,
    colors: Vec<Color>,
}

type Case = (&'static str, Vec<u8>, &'static str);

fn cases(p: u8) -> Vec<Case> {
    let o = || SerOptions::new().protocol(p);
    let greeter = || o().class("Greeter", "__main__", "Greeter");
    let colors = || o().enum_class("Color", "__main__", "Color");
    let v = |r: pyckle::serde::Result<Vec<u8>>| r.unwrap_or_else(|e| panic!("protocol {p}: {e}"));
    let nested: BTreeMap<String, BTreeMap<String, Vec<i32>>> = [
        ("a".to_string(), [("x".to_string(), vec![1, 2]), ("y".to_string(), vec![])].into_iter().collect()),
        ("b".to_string(), BTreeMap::new()),
    ]
    .into_iter()
    .collect();
    let long_bytes: Vec<u8> = (0..300u32).map(|i| (i % 256) as u8).collect();
    vec![
        ("greeter", v(to_vec(&Greeter { _name: "Gopher".into() }, greeter())), "Greeter<Hi, Gopher!>"),
        (
            "greeter_renamed",
            v(to_vec(&Renamed { name: "Gopher".into() }, o().class("RustGreeter", "__main__", "Greeter"))),
            "Greeter<Hi, Gopher!>",
        ),
        (
            "team",
            v(to_vec(
                &Team {
                    lead: Greeter { _name: "Gopher".into() },
                    members: vec![Greeter { _name: "Ferris".into() }, Greeter { _name: "Duke".into() }],
                    colors: vec![Color::Green, Color::Red, Color::Green],
                },
                greeter().enum_class("Color", "__main__", "Color"),
            )),
            "{'lead': Greeter<Hi, Gopher!>, 'members': [Greeter<Hi, Ferris!>, Greeter<Hi, Duke!>], \
             'colors': [Color.GREEN, Color.RED, Color.GREEN]}",
        ),
        ("struct_as_dict", v(to_vec(&Greeter { _name: "Gopher".into() }, o())), "{'_name': 'Gopher'}"),
        (
            "enum_std",
            v(to_vec(&vec![E::A, E::B(1), E::C(2, "c".into()), E::D { x: 3, y: None }], o())),
            "['A', {'B': 1}, {'C': [2, 'c']}, {'D': {'x': 3, 'y': None}}]",
        ),
        (
            "enum_compat",
            v(to_vec(&vec![E::A, E::B(1), E::C(2, "c".into()), E::D { x: 3, y: Some(true) }], o().compat_enum_repr())),
            "[('A',), ('B', 1), ('C', [2, 'c']), ('D', {'x': 3, 'y': True})]",
        ),
        ("enum_member", v(to_vec(&(Color::Red, Color::Green), colors())), "(Color.RED, Color.GREEN)"),
        (
            "big_ints",
            v(to_vec(
                &(
                    u64::MAX,
                    i128::MIN,
                    u128::MAX,
                    Big("-100000000000000000000000000000000000000000000000000"),
                    i64::MIN,
                ),
                o(),
            )),
            "(18446744073709551615, -170141183460469231731687303715884105728, \
             340282366920938463463374607431768211455, -100000000000000000000000000000000000000000000000000, \
             -9223372036854775808)",
        ),
        (
            "bytes",
            v(to_vec(&(serde_bytes::Bytes::new(b"\x00\xff'\"\\"), serde_bytes::Bytes::new(b"")), o())),
            r#"(b'\x00\xff\'"\\', b'')"#,
        ),
        ("long_bytes_len", v(to_vec(&serde_bytes::ByteBuf::from(long_bytes), o())), ""),
        ("nested_maps", v(to_vec(&nested, o())), "{'a': {'x': [1, 2], 'y': []}, 'b': {}}"),
        (
            "tuple_keys",
            v(to_vec(&Pairs(vec![((1, "a"), 2), ((1, "b"), 3), ((1, "a"), 4)]), o())),
            "{(1, 'a'): 4, (1, 'b'): 3}",
        ),
        (
            "sets",
            v(to_vec(
                &Sets {
                    tags: ["b", "a", "c"].iter().map(|s| s.to_string()).collect(),
                    ids: vec![3, 1, 2, 1],
                    pairs: vec![(1, 2), (3, 4)],
                },
                o(),
            )),
            "{'tags': set{'a', 'b', 'c'}, 'ids': frozenset{1, 2, 3}, 'pairs': set{(1, 2), (3, 4)}}",
        ),
        (
            "scalars",
            v(to_vec(
                &(true, false, (), Option::<u8>::None, 'é', "\u{263a}\u{1F600}", 1.5f32, -0.0f64, f64::INFINITY),
                o(),
            )),
            "(True, False, None, None, 'é', '\u{263a}\u{1F600}', 1.5, -0.0, inf)",
        ),
    ]
}

#[test]
fn python_loads_what_pyckle_serializes() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("../../tests/fixtures/serde_python_check.py");
    let dir = std::env::temp_dir().join(format!("pyckle-serde-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut expected = BTreeMap::new();
    for p in 0..=5u8 {
        for (name, data, want) in cases(p) {
            std::fs::write(dir.join(format!("{name}.{p}.pkl")), &data).unwrap();
            let want = if name == "long_bytes_len" {
                format!("b'{}'", (0..300u32).map(|i| py_byte((i % 256) as u8)).collect::<String>())
            } else {
                want.to_string()
            };
            expected.insert((name.to_string(), p), want);
        }
    }
    let out = match Command::new("python3").arg(&script).arg(&dir).env("PYTHONHASHSEED", "0").output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: no python3 ({e})");
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let mut cols = line.splitn(3, '\t');
        let (name, p, got) = (cols.next().unwrap(), cols.next().unwrap(), cols.next().unwrap_or(""));
        let p: u8 = p.parse().unwrap();
        let want = &expected[&(name.to_string(), p)];
        if got != want {
            failures.push(format!("{name} at protocol {p}:\n  want {want}\n  got  {got}"));
        }
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "python printed one line per pickle");
    assert!(failures.is_empty(), "{} of {seen} differ:\n{}", failures.len(), failures.join("\n"));
    eprintln!("python3 loaded {seen} pickles as expected");
}

/// Python's repr of one byte inside b'...'.
fn py_byte(b: u8) -> String {
    match b {
        b'\\' => "\\\\".into(),
        b'\'' => "\\'".into(),
        b'\t' => "\\t".into(),
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        0x20..=0x7e => (b as char).to_string(),
        _ => format!("\\x{b:02x}"),
    }
}
