//! Canonical JSON back into graphs (`pyckle::json::from_canonical`): every
//! committed fixture document round-trips byte for byte; identity, cycles,
//! big ints, floats and lone surrogates survive; errors say where; deep and
//! broken input fails cleanly, never with a panic or a stack overflow.

use pyckle::json::{canonical, from_canonical, from_canonical_lines, FromJsonError, PARSED_PROTOCOL};
use pyckle::{Graph, Object, RecordKind, Value};
use std::path::Path;

fn render(g: &Graph) -> String {
    let mut s = String::new();
    canonical(g, &mut s).unwrap();
    s
}

/// Parses `doc` and renders it again.
fn round(doc: &str) -> String {
    render(&from_canonical(doc).unwrap_or_else(|e| panic!("{e}: {doc}")))
}

fn err(doc: &str) -> FromJsonError {
    match from_canonical(doc) {
        Ok(g) => panic!("parsed, expected an error: {doc} -> {}", render(&g)),
        Err(e) => e,
    }
}

fn obj<'g>(g: &'g Graph, v: Value) -> &'g Object<'g> {
    g.object(v).unwrap_or_else(|| panic!("not an object: {v:?}"))
}

fn list<'g>(g: &'g Graph, v: Value) -> &'g [Value] {
    match obj(g, v) {
        Object::List(items) => items,
        other => panic!("not a list: {other:?}"),
    }
}

#[test]
fn every_fixture_document_round_trips_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/expected");
    let mut files = 0;
    let mut docs = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        for line in &lines {
            docs += 1;
            match from_canonical(line) {
                Ok(g) => {
                    assert_eq!(g.protocol(), PARSED_PROTOCOL);
                    let mut s = String::new();
                    match canonical(&g, &mut s) {
                        Ok(()) if s == *line => {}
                        Ok(()) => failures.push(format!("{}:\n  got  {s:.300}\n  want {line:.300}", path.display())),
                        Err(e) => failures.push(format!("{}: render: {e}", path.display())),
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
        let all = from_canonical_lines(&text).unwrap();
        assert_eq!(all.len(), lines.len(), "{}", path.display());
    }
    assert!(failures.is_empty(), "{} of {docs} documents differ:\n{}", failures.len(), failures.join("\n"));
    assert!(docs > 400, "only {docs} documents found");
    eprintln!("{files} files, {docs} documents round-trip exactly");
}

#[test]
fn a_list_holding_itself() {
    let doc = r#"{"list": [{"ref": 0}], "id": 0}"#;
    let g = from_canonical(doc).unwrap();
    assert_eq!(list(&g, g.root()), &[g.root()]);
    assert_eq!(render(&g), doc);
    // Key order is free: the id may come first.
    let g = from_canonical(r#"{"id": 0, "list": [{"ref": 0}]}"#).unwrap();
    assert_eq!(list(&g, g.root()), &[g.root()]);
    assert_eq!(render(&g), doc);
}

#[test]
fn shared_objects_are_one_object() {
    let doc = r#"{"list": [{"dict": [["a", 1]], "id": 0}, {"ref": 0}, {"tuple": [{"ref": 0}]}]}"#;
    let g = from_canonical(doc).unwrap();
    let items = list(&g, g.root());
    assert_eq!(items[0], items[1]);
    assert_eq!(g.as_tuple(items[2]), Some(&[items[0]][..]));
    assert!(matches!(obj(&g, items[0]), Object::Dict(d) if d.len() == 1));
    assert_eq!(render(&g), doc);
    // A ref before the object with the id, in the text.
    let g = from_canonical(r#"{"list": [{"ref": 7}, {"list": [], "id": 7}]}"#).unwrap();
    let items = list(&g, g.root());
    assert_eq!(items[0], items[1]);
    assert_eq!(render(&g), r#"{"list": [{"list": [], "id": 0}, {"ref": 0}]}"#);
    // A bytearray, a set and a persistent id keep their identity too.
    for doc in [
        r#"{"list": [{"bytearray": "00ff", "id": 0}, {"ref": 0}]}"#,
        r#"{"list": [{"set": [1, 2], "id": 0}, {"ref": 0}]}"#,
        r#"{"list": [{"persistent_id": "x", "id": 0}, {"ref": 0}]}"#,
    ] {
        let g = from_canonical(doc).unwrap();
        let items = list(&g, g.root());
        assert_eq!(items[0], items[1], "{doc}");
        assert_eq!(render(&g), doc);
    }
}

#[test]
fn records() {
    // An object whose state refers to itself.
    let doc = r#"{"new": {"global": ["m", "C"]}, "args": [], "state": {"dict": [["me", {"ref": 0}]]}, "id": 0}"#;
    let g = from_canonical(doc).unwrap();
    let r = g.as_record(g.root()).unwrap();
    assert_eq!(r.kind, RecordKind::NewObj);
    assert_eq!(g.as_global(r.callable).unwrap().name, "C");
    assert_eq!(g.as_tuple(r.args), Some(&[][..]));
    let Some(Object::Dict(state)) = g.object(r.state.unwrap()) else { panic!("a dict state") };
    assert_eq!(state.get_str(&g, "me"), Some(g.root()));
    assert_eq!(render(&g), doc);

    let doc = r#"{"new": {"global": ["m", "C"]}, "args": [1], "kwargs": {"dict": [["k", 2]]}}"#;
    let g = from_canonical(doc).unwrap();
    assert_eq!(g.as_record(g.root()).unwrap().kind, RecordKind::NewObjEx);
    assert_eq!(render(&g), doc);

    let doc = r#"{"reduce": {"global": ["collections", "OrderedDict"]}, "args": [], "items": [1, {"list": []}], "dict_items": [["a", 1], ["a", 2]]}"#;
    let g = from_canonical(doc).unwrap();
    let r = g.as_record(g.root()).unwrap();
    assert_eq!(r.kind, RecordKind::Reduce);
    assert_eq!(r.items.len(), 2);
    assert_eq!(r.dict_items.len(), 2, "SETITEMs are kept as they came, not as a dict");
    assert_eq!(render(&g), doc);

    // Any key order.
    let g = from_canonical(r#"{"state": 5, "args": [1], "id": 3, "reduce": {"global": ["m", "f"]}}"#).unwrap();
    assert_eq!(render(&g), r#"{"reduce": {"global": ["m", "f"]}, "args": [1], "state": 5}"#);

    // A persistent id.
    let g = from_canonical(r#"{"persistent_id": {"tuple": ["a", 1]}}"#).unwrap();
    assert!(matches!(obj(&g, g.root()), Object::PersistentId(_)));
}

#[test]
fn scalars() {
    for doc in [
        "null",
        "true",
        "false",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        r#""""#,
        r#"{"bytes": ""}"#,
        r#"{"bytes": "00ff7f"}"#,
        r#"{"bytearray": "61"}"#,
        r#"{"global": ["builtins", "OSError"]}"#,
        r#"{"tuple": []}"#,
        r#"{"frozenset": []}"#,
        r#"{"dict": []}"#,
    ] {
        assert_eq!(round(doc), doc);
    }
    assert_eq!(from_canonical("-9223372036854775808").unwrap().root(), Value::Int(i64::MIN));
    assert_eq!(from_canonical(" \t\r\n7\n ").unwrap().root(), Value::Int(7));
    assert_eq!(round(r#"{"bytes": "00FF"}"#), r#"{"bytes": "00ff"}"#);
}

#[test]
fn big_ints() {
    for doc in [
        "9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "-340282366920938463463374607431768211456",
    ] {
        let g = from_canonical(doc).unwrap();
        assert!(matches!(obj(&g, g.root()), Object::Int(b) if b.to_string() == doc));
        assert_eq!(render(&g), doc);
    }
    // Long enough to be parsed by halves.
    let mut long = String::from("-");
    let mut x: u64 = 12345;
    for _ in 0..30_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        long.push((b'0' + (x >> 60) as u8 % 10) as char);
    }
    long.replace_range(1..2, "7");
    let g = from_canonical(&long).unwrap();
    let Object::Int(b) = obj(&g, g.root()) else { panic!("a big int") };
    assert_eq!(b, &long.parse::<num_bigint::BigInt>().unwrap());
    assert_eq!(render(&g), long);
    let in_list = format!("{{\"list\": [{long}, 1]}}");
    assert_eq!(round(&in_list), in_list);
}

#[test]
fn floats() {
    let cases: &[(&str, f64)] = &[
        ("1.5", 1.5),
        ("-0.0", -0.0),
        ("0.0", 0.0),
        ("1e+300", 1e300),
        ("1e-05", 1e-5),
        ("5e-324", 5e-324),
        ("0.1", 0.1),
        ("inf", f64::INFINITY),
        ("-inf", f64::NEG_INFINITY),
        ("1.7976931348623157e+308", f64::MAX),
    ];
    for &(repr, want) in cases {
        let doc = format!("{{\"float\": \"{repr}\"}}");
        let g = from_canonical(&doc).unwrap();
        let Value::Float(f) = g.root() else { panic!("a float: {doc}") };
        assert_eq!(f.to_bits(), want.to_bits(), "{doc}");
        assert_eq!(render(&g), doc);
    }
    let g = from_canonical(r#"{"float": "nan"}"#).unwrap();
    assert!(matches!(g.root(), Value::Float(f) if f.is_nan()));
    assert_eq!(render(&g), r#"{"float": "nan"}"#);
    // What Python's float() takes of the same shape is read too, and written as repr.
    assert_eq!(round(r#"{"float": "1.50"}"#), r#"{"float": "1.5"}"#);
    assert_eq!(round(r#"{"float": "-Infinity"}"#), r#"{"float": "-inf"}"#);
    assert_eq!(round(r#"{"float": "1E300"}"#), r#"{"float": "1e+300"}"#);
    for bad in ["", " 1.5", "1.5 ", "1,5", "--1", "+-1", "1_0", "0x10", "e", "nanx"] {
        let e = err(&format!("{{\"float\": \"{bad}\"}}"));
        assert!(e.message.contains("repr of a float"), "{bad}: {e}");
        assert_eq!(e.column, 11, "{bad}");
    }
}

#[test]
fn strings_and_surrogates() {
    let s = |doc: &str| -> Vec<u8> {
        let g = from_canonical(doc).unwrap();
        let Object::Str(s) = obj(&g, g.root()) else { panic!("a str") };
        s.as_bytes().to_vec()
    };
    assert_eq!(s(r#""\ud83d\ude00""#), "😀".as_bytes());
    assert_eq!(s(r#""😀é""#), "😀é".as_bytes());
    assert_eq!(s(r#""\"\\\/\b\f\n\r\t\u0000\u00e9""#), "\"\\/\u{8}\u{c}\n\r\t\0é".as_bytes());
    // Lone surrogates: their three-byte forms.
    assert_eq!(s(r#""\ud800""#), b"\xed\xa0\x80");
    assert_eq!(s(r#""a\udfffb""#), b"a\xed\xbf\xbfb");
    assert_eq!(s(r#""\ud83dA""#), b"\xed\xa0\xbdA");
    assert_eq!(s(r#""\ud83d\u0041""#), b"\xed\xa0\xbdA");
    assert_eq!(s(r#""\ude00\ud83d""#), b"\xed\xb8\x80\xed\xa0\xbd");
    assert_eq!(s(r#""\ud83d\ud83d\ude00""#), b"\xed\xa0\xbd\xf0\x9f\x98\x80");
    let g = from_canonical(r#""\ud800""#).unwrap();
    let Object::Str(py) = obj(&g, g.root()) else { panic!() };
    assert!(!py.is_utf8());
    assert_eq!(py.code_points().collect::<Vec<_>>(), [0xd800]);
    for doc in [r#""\ud800""#, r#""x\udc00\ud83d\ude00\udbff""#, r#""\u00e9\u0001\n""#] {
        assert_eq!(round(doc), doc);
    }
    assert_eq!(round(r#""é😀""#), r#""\u00e9\ud83d\ude00""#);
    // A lone surrogate as a dict key and in a set.
    let doc = r#"{"dict": [["\ud800", 1], ["\udc00", 2]]}"#;
    assert_eq!(round(doc), doc);
}

#[test]
fn python_key_semantics() {
    // 1, 1.0 and True are one key: the first spelling stays, the last value wins.
    let g = from_canonical(r#"{"dict": [[1, "a"], [{"float": "1.0"}, "b"], [true, "c"], ["1", "d"]]}"#).unwrap();
    assert_eq!(render(&g), r#"{"dict": [[1, "c"], ["1", "d"]]}"#);
    assert_eq!(round(r#"{"set": [1, true, {"float": "1.0"}, 2]}"#), r#"{"set": [1, 2]}"#);
    assert_eq!(
        round(r#"{"frozenset": [{"tuple": [1, "a"]}, {"tuple": [{"float": "1.0"}, "a"]}]}"#),
        r#"{"frozenset": [{"tuple": [1, "a"]}]}"#
    );
    // Hashable keys: tuples, frozensets, records (by identity), globals, bytes.
    let doc = r#"{"dict": [[{"tuple": [1, {"frozenset": [2]}]}, 1], [{"new": {"global": ["m", "C"]}, "args": []}, 2], [{"global": ["m", "f"]}, 3], [{"bytes": "00"}, 4], [null, 5]]}"#;
    assert_eq!(round(doc), doc);
    let shared = r#"{"list": [{"new": {"global": ["m", "C"]}, "args": [], "id": 0}, {"dict": [[{"ref": 0}, 1], [{"ref": 0}, 2]]}]}"#;
    assert_eq!(
        round(shared),
        r#"{"list": [{"new": {"global": ["m", "C"]}, "args": [], "id": 0}, {"dict": [[{"ref": 0}, 2]]}]}"#
    );
}

#[test]
fn unhashable_keys() {
    let cases = [
        (r#"{"dict": [[{"list": []}, 1]]}"#, "unhashable dict key: list", 12),
        (r#"{"dict": [[1, 2], [{"tuple": [1, {"dict": []}]}, 1]]}"#, "unhashable dict key: dict", 20),
        (r#"{"set": [1, {"bytearray": ""}]}"#, "unhashable set item: bytearray", 13),
        (r#"{"frozenset": [{"set": []}]}"#, "unhashable set item: set", 16),
        (r#"{"dict": [[{"ref": 0}, 1]], "id": 0}"#, "unhashable dict key: dict", 12),
        (r#"{"set": [{"tuple": [{"ref": 0}]}], "id": 0}"#, "unhashable set item: set", 10),
        (r#"{"list": [{"list": [], "id": 0}, {"dict": [[{"ref": 0}, 1]]}]}"#, "unhashable dict key: list", 45),
    ];
    for (doc, message, column) in cases {
        let e = err(doc);
        assert_eq!((e.message.as_str(), e.column), (message, column), "{doc}");
    }
}

#[test]
fn errors_say_what_and_where() {
    let cases: &[(&str, &str, usize)] = &[
        ("", "expected a value, found the end of the document", 1),
        ("   ", "expected a value, found the end of the document", 4),
        ("[1]", "expected a value, found an array", 1),
        ("{}", "expected a key, found '}'", 2),
        (r#"{"foo": 1}"#, r#"unknown key "foo" in object"#, 2),
        (r#"{"list": [1], "list": [2]}"#, r#"key "list" given twice"#, 15),
        (r#"{"list": [1], "tuple": [2]}"#, r#""list" and "tuple" in one object"#, 15),
        (r#"{"ref": 3}"#, r#"{"ref": 3} names no id"#, 1),
        (r#"{"list": [{"list": [], "id": 2}, {"list": [], "id": 2}]}"#, "id 2 given twice", 53),
        (r#"{"tuple": [], "id": 0}"#, r#"key "id" does not go with "tuple""#, 15),
        (r#"{"list": [], "state": 1}"#, r#"key "state" does not go with "list""#, 14),
        (r#"{"reduce": null, "args": [], "kwargs": {"dict": []}}"#, r#"key "kwargs" does not go with "reduce""#, 30),
        (r#"{"new": null}"#, r#"an object record needs "args""#, 1),
        (r#"{"new": null, "args": [], "kwargs": 1}"#, r#""kwargs" must be a dict"#, 37),
        (r#"{"id": 0}"#, "an object needs one of the keys", 1),
        (r#"{"list": 1}"#, "expected an array, found a number", 10),
        (r#"{"dict": [1]}"#, "expected a pair [key, value], found a number", 11),
        (r#"{"dict": [[1]]}"#, "a pair [key, value] has two items", 11),
        (r#"{"dict": [[1, 2, 3]]}"#, "a pair [key, value] has two items", 18),
        (r#"{"global": ["m"]}"#, r#"a global is ["module", "name"]: two strings"#, 12),
        (r#"{"global": ["m", "n", "o"]}"#, r#"a global is ["module", "name"]: two strings"#, 23),
        (r#"{"global": ["m", 1]}"#, "expected a string, found a number", 18),
        (r#"{"global": ["\ud800", "n"]}"#, "a module or global name cannot hold a lone surrogate", 13),
        (r#"{"bytes": "0"}"#, r#""bytes" takes hex digits, two a byte: the length is odd"#, 11),
        (r#"{"bytearray": "zz"}"#, r#""bytearray" takes hex digits, two a byte"#, 15),
        (r#"{"float": 1.5}"#, "expected a string, found a number", 11),
        ("1.5", r#"a float is written {"float": "1.5"}, not as a JSON number"#, 1),
        ("1e5", r#"a float is written {"float": "1.5"}, not as a JSON number"#, 1),
        ("01", "a number cannot start with 0", 1),
        ("-", "expected a digit, found the end of the document", 2),
        ("-x", "expected a digit, found 'x'", 2),
        (r#"{"ref": -1}"#, "an id is an integer from 0 to 2**63-1", 9),
        (r#"{"ref": 99999999999999999999}"#, "an id is an integer from 0 to 2**63-1", 9),
        (r#"{"ref": "0"}"#, "expected an integer, found a string", 9),
        ("nul", "expected a value, found 'n'", 1),
        ("1 2", "expected the end of the document, found a number", 3),
        (r#"{"list": [1 2]}"#, "expected ',' or ']', found a number", 13),
        (r#"{"list": [1,]}"#, "expected a value, found ']'", 13),
        (r#"{"list": []"#, "expected ',' or '}', found the end of the document", 12),
        (r#"{"list" []}"#, "expected ':', found '['", 9),
        (r#"{"list": [], }"#, "expected a key, found '}'", 14),
        (r#""abc"#, "unterminated string", 1),
        ("\"a\tb\"", "control character in string: it must be escaped", 3),
        (r#""a\x""#, "invalid escape in string", 3),
        (r#""a\u12""#, "\\u needs four hex digits", 3),
        (r#""a\u12g4""#, "\\u needs four hex digits", 3),
        ("\"é\" é", "expected the end of the document, found 'é'", 5),
    ];
    for &(doc, message, column) in cases {
        let e = err(doc);
        assert!(e.message.starts_with(message), "{doc}: {e}\n  expected message {message}");
        assert_eq!(e.column, column, "{doc}: {e}");
        assert_eq!(e.line, 1, "{doc}: {e}");
        assert_eq!(e.offset, doc.char_indices().nth(column - 1).map_or(doc.len(), |(i, _)| i), "{doc}: {e}");
    }
    // A long unknown key is cut short in the message, at a character.
    let e = err(&format!("{{\"{}\": 1}}", "é".repeat(200)));
    assert_eq!(e.message, format!("unknown key \"{}\"... in object", "\\u00e9".repeat(50)));
    // Lines and columns of a document that spans lines, and the Display form.
    let e = err("{\"list\": [\n  1,\n  x]}");
    assert_eq!((e.line, e.column, e.offset), (3, 3, 18));
    assert_eq!(e.to_string(), "line 3, column 3: expected a value, found 'x'");
}

#[test]
fn lines_of_documents() {
    let text = "1\n\n  \n{\"list\": [{\"ref\": 0}], \"id\": 0}\r\n\"x\"\n";
    let graphs = from_canonical_lines(text).unwrap();
    assert_eq!(graphs.len(), 3);
    assert_eq!(render(&graphs[1]), r#"{"list": [{"ref": 0}], "id": 0}"#);
    assert!(from_canonical_lines("").unwrap().is_empty());
    assert!(from_canonical_lines("\n \n").unwrap().is_empty());
    let e = from_canonical_lines("1\n2\n\n{\"list\": [1, x]}\n").unwrap_err();
    assert_eq!((e.line, e.column, e.offset), (4, 14, 18));
    assert!(e.message.starts_with("expected a value"));
    // Each line is its own document: ids do not reach across lines.
    let e = from_canonical_lines("{\"list\": [], \"id\": 0}\n{\"ref\": 0}").unwrap_err();
    assert_eq!((e.line, e.column, e.message.as_str()), (2, 1, r#"{"ref": 0} names no id"#));
}

const DEEP: usize = 1_000_000;

#[test]
fn a_million_levels_deep() {
    // A list in a list... a million deep: parses, renders back, drops.
    let mut doc = String::with_capacity(DEEP * 12 + 1);
    for _ in 0..DEEP {
        doc.push_str("{\"list\": [");
    }
    doc.push('1');
    for _ in 0..DEEP {
        doc.push_str("]}");
    }
    let g = from_canonical(&doc).unwrap();
    assert_eq!(g.len(), DEEP);
    assert_eq!(render(&g), doc);
    drop(g);

    // Cut short: an error at the end, not a crash.
    let e = err(&doc[..DEEP * 10]);
    assert_eq!(e.offset, DEEP * 10);
    // Deep records, persistent ids and dicts.
    for (open, close) in [
        ("{\"new\": null, \"args\": [", "]}"),
        ("{\"persistent_id\": ", "}"),
        ("{\"dict\": [[1, ", "]]}"),
        ("{\"reduce\": ", ", \"args\": []}"),
    ] {
        let mut doc = open.repeat(DEEP);
        doc.push_str("null");
        doc.push_str(&close.repeat(DEEP));
        let g = from_canonical(&doc).unwrap();
        assert_eq!(render(&g), doc);
    }
    // A million open arrays or objects: clean errors.
    assert!(err(&"[".repeat(DEEP)).message.contains("found an array"));
    assert!(err(&"{\"list\": [".repeat(DEEP)).message.starts_with("expected a value, found the end"));
    assert!(err(&"{\"dict\": [[".repeat(DEEP)).message.starts_with("expected a value, found the end"));
    assert!(err(&"{\"dict\": [[[".repeat(DEEP)).message.starts_with("expected a value, found an array"));
}

/// Keys a million levels deep are refused by the graph's key depth limit
/// (512). The graph hashes keys recursively up to that limit; unoptimized,
/// a level of `Graph::hash_into` takes about 7 KB of stack, more than a
/// test thread's 2 MB holds at 512 levels, so this runs on a bigger stack
/// (optimized builds pass on 2 MB).
#[test]
fn keys_a_million_levels_deep_are_refused() {
    let run = || {
        let nest = |open: &str| format!("{}{}", open.repeat(DEEP), "]}".repeat(DEEP));
        let e = err(&format!("{{\"dict\": [[{}, 1]]}}", nest("{\"tuple\": [")));
        assert!(e.message.starts_with("dict key: key nested deeper than 512 levels"), "{e}");
        assert_eq!(e.column, 12);
        // Frozensets in frozensets: each hashes its item when it is built.
        let e = err(&nest("{\"frozenset\": ["));
        assert!(e.message.starts_with("set item: key nested deeper than 512 levels"), "{e}");
        // Deep tuples that are no key need no hashing at all.
        let doc = nest("{\"tuple\": [");
        assert_eq!(round(&doc), doc);
    };
    let stack = if cfg!(debug_assertions) { 64 << 20 } else { 2 << 20 };
    std::thread::Builder::new().stack_size(stack).spawn(run).unwrap().join().unwrap();
}

/// A few documents that use every form.
const SAMPLES: &[&str] = &[
    r#"{"list": [{"ref": 0}, {"dict": [["a", {"float": "-0.0"}], [{"tuple": [1, "\ud800"]}, {"bytes": "00ff"}]], "id": 1}, {"ref": 1}, 18446744073709551616], "id": 0}"#,
    r#"{"new": {"global": ["m", "C"]}, "args": [1, {"set": [1, 2]}], "kwargs": {"dict": [["k", {"frozenset": [3]}]]}, "state": {"dict": [["me", {"ref": 0}]]}, "items": [null, true, false], "dict_items": [["x", {"bytearray": "61"}]], "id": 0}"#,
    r#"{"reduce": {"global": ["builtins", "complex"]}, "args": [{"float": "1.5"}, {"float": "nan"}], "state": {"persistent_id": {"tuple": ["db", -7]}}}"#,
    r#"{"list": [{"list": [], "id": 0}, {"ref": 0}, "\u00e9\ud83d\ude00\n\"\\", {"float": "1e+300"}, {"float": "-inf"}]}"#,
];

/// Parsing must never panic: an error or a graph (which renders).
fn no_panic(doc: &str) {
    if let Ok(g) = from_canonical(doc) {
        let mut s = String::new();
        let _ = canonical(&g, &mut s);
    }
}

#[test]
fn every_prefix_is_an_error_or_a_graph() {
    let mut checked = 0;
    for doc in SAMPLES {
        assert_eq!(round(doc), *doc);
        for i in 0..doc.len() {
            if let Some(prefix) = doc.get(..i) {
                no_panic(prefix);
                assert!(from_canonical(prefix).is_err() || prefix.trim().parse::<i64>().is_ok(), "{prefix}");
                checked += 1;
            }
        }
    }
    assert!(checked > 500);
}

#[test]
fn random_mutations_never_panic() {
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const BYTES: &[u8] = b"{}[]\",:0123456789-.eE\\u tfnlr\"ab\xed\xa0";
    let mut parsed = 0;
    for round in 0..20_000 {
        let mut doc = SAMPLES[round % SAMPLES.len()].as_bytes().to_vec();
        for _ in 0..1 + rand() % 4 {
            let i = (rand() % doc.len() as u64) as usize;
            match rand() % 4 {
                0 => doc[i] = BYTES[(rand() % BYTES.len() as u64) as usize],
                1 => {
                    doc.remove(i);
                }
                2 => doc.insert(i, BYTES[(rand() % BYTES.len() as u64) as usize]),
                _ => doc[i] = rand() as u8,
            }
            if doc.is_empty() {
                break;
            }
        }
        let doc = String::from_utf8_lossy(&doc);
        no_panic(&doc);
        parsed += from_canonical(&doc).is_ok() as usize;
    }
    eprintln!("{parsed} of 20000 mutated documents parsed");
}
