//! The pickler's API and its refusals: builders, streams, hooks, and the
//! graphs no pickle can hold (clear errors, never a panic).

use pyckle::graph::Buffer;
use pyckle::{ErrorKind, Global, Graph, Object, Pickler, Unpickler, Value};
use std::borrow::Cow;

fn canonical(g: &Graph) -> String {
    let mut s = String::new();
    pyckle::json::canonical(g, &mut s).unwrap();
    s
}

fn refused(g: &Graph, protocol: u8) -> String {
    match pyckle::dumps(g, protocol) {
        Ok(b) => panic!("protocol {protocol}: expected an error, got {b:?}"),
        Err(e) => {
            assert!(matches!(e.kind(), ErrorKind::Unpicklable(_)), "{e}");
            e.to_string()
        }
    }
}

fn greeter() -> Graph<'static> {
    let mut g = Graph::new();
    let name = g.str("Gopher");
    let key = g.str("_name");
    let state = g.dict([(key, name)]).unwrap();
    let obj = g.instance("__main__", "Greeter", Some(state));
    g.set_root(obj);
    g
}

#[test]
fn a_built_instance_is_what_python_writes() {
    // pickle.dumps(Greeter('Gopher'), 2) for `class Greeter` in __main__.
    let want =
        b"\x80\x02c__main__\nGreeter\nq\x00)\x81q\x01}q\x02X\x05\x00\x00\x00_nameq\x03X\x06\x00\x00\x00Gopherq\x04sb.";
    assert_eq!(pyckle::dumps(&greeter(), 2).unwrap(), want);
    // Every protocol decodes to the same object.
    let want = r#"{"new": {"global": ["__main__", "Greeter"]}, "args": [], "state": {"dict": [["_name", "Gopher"]]}}"#;
    for p in 2..=5 {
        assert_eq!(canonical(&pyckle::loads(&pyckle::dumps(&greeter(), p).unwrap()).unwrap()), want, "protocol {p}");
    }
    // Below protocol 2 there is no NEWOBJ: copyreg.__newobj__(cls) makes the same object.
    let p0 = pyckle::dumps(&greeter(), 0).unwrap();
    assert!(p0.starts_with(b"ccopy_reg\n__newobj__\n"), "{}", String::from_utf8_lossy(&p0));
}

#[test]
fn cycles_and_sharing_are_kept() {
    let mut g = Graph::new();
    let l = g.list([]);
    g.append(l, l).unwrap();
    g.set_root(l);
    assert_eq!(pyckle::dumps(&g, 2).unwrap(), b"\x80\x02]q\x00h\x00a.");
    assert_eq!(pyckle::dumps(&g, 0).unwrap(), b"(lp0\ng0\na.");

    let mut g = Graph::new();
    let d = g.dict([]).unwrap();
    let k = g.str("me");
    g.set_item(d, k, d).unwrap();
    let shared = g.list([d, d]);
    g.set_root(shared);
    let back = pyckle::loads(&pyckle::dumps(&g, 4).unwrap()).unwrap().into_owned();
    assert_eq!(canonical(&back), canonical(&g));
    assert_eq!(canonical(&g), r#"{"list": [{"dict": [["me", {"ref": 0}]], "id": 0}, {"ref": 0}]}"#);
}

#[test]
fn several_pickles_stream_into_one_writer() {
    let mut out = Vec::new();
    let mut graphs = Vec::new();
    for p in 0..=5u8 {
        let mut g = Graph::new();
        let items = [Value::Int(p as i64), Value::Float(0.5), Value::Bool(true)];
        let s = g.str(format!("pickle {p}"));
        let t = g.tuple(items.into_iter().chain([s]));
        g.set_root(t);
        graphs.push(g);
    }
    {
        let mut pickler = Pickler::new(&mut out, 4).unwrap();
        for g in &graphs {
            pickler.dump(g).unwrap();
        }
    }
    let back = Unpickler::new(Default::default()).loads_all(&out).unwrap();
    assert_eq!(back.len(), graphs.len());
    for (a, b) in back.iter().zip(&graphs) {
        assert_eq!(canonical(a), canonical(b));
    }
}

#[test]
fn buffers_go_in_band_or_through_the_callback() {
    let mut g = Graph::new();
    let ro = g.add(Object::Buffer(Box::new(Buffer { index: 0, readonly: true, data: Cow::Borrowed(b"abc") })));
    let rw = g.add(Object::Buffer(Box::new(Buffer { index: 1, readonly: false, data: Cow::Borrowed(b"xy") })));
    let root = g.list([ro, rw]);
    g.set_root(root);
    // No callback: in band, as bytes and bytearray.
    let inband = pyckle::dumps(&g, 5).unwrap();
    assert!(inband.windows(5).any(|w| w == b"C\x03abc"));
    assert!(inband.windows(11).any(|w| w == b"\x96\x02\x00\x00\x00\x00\x00\x00\x00xy"));
    // A callback that keeps them: NEXT_BUFFER, READONLY_BUFFER for the read-only one.
    let mut kept = Vec::new();
    let mut out = Vec::new();
    {
        let mut p = Pickler::new(&mut out, 5).unwrap();
        p.set_buffer_callback(|b| {
            kept.push(b.data.to_vec());
            false
        });
        p.dump(&g).unwrap();
    }
    assert_eq!(kept, vec![b"abc".to_vec(), b"xy".to_vec()]);
    assert!(out.windows(2).any(|w| w == b"\x97\x98"));
    let back = Unpickler::new(Default::default()).buffers(kept).loads(&out).unwrap().into_owned();
    assert_eq!(canonical(&back), canonical(&pyckle::loads(&inband).unwrap()));
    // Protocols without buffers refuse.
    assert!(refused(&g, 4).contains("protocol 5"));
}

#[test]
fn extensions_are_written_from_protocol_2() {
    let mut g = Graph::new();
    let c = g.global("copyreg", "_reconstructor");
    g.set_root(c);
    let mut out = Vec::new();
    let mut p = Pickler::new(&mut out, 2).unwrap();
    p.add_extension(Global::new("copyreg", "_reconstructor"), 7).unwrap();
    p.dump(&g).unwrap();
    assert_eq!(out, b"\x80\x02\x82\x07.");
    let mut out = Vec::new();
    let mut p = Pickler::new(&mut out, 1).unwrap();
    p.add_extension(Global::new("copyreg", "_reconstructor"), 7).unwrap();
    p.dump(&g).unwrap();
    assert_eq!(out, b"ccopy_reg\n_reconstructor\nq\x00.");
    assert!(Pickler::new(Vec::new(), 6).is_err());
}

#[test]
fn graphs_no_pickle_can_hold_are_refused() {
    // A value of another graph: its id names nothing here.
    let mut big = Graph::new();
    for i in 0..10 {
        big.str(format!("{i}"));
    }
    let stray = big.str("stray");
    let mut g = Graph::new();
    let l = g.list([stray]);
    g.set_root(l);
    assert!(refused(&g, 4).contains("is not in the graph"));

    // Names that a text protocol cannot hold.
    let mut g = Graph::new();
    let c = g.global("módulo", "Clase");
    g.set_root(c);
    assert!(refused(&g, 2).contains("ASCII"));
    assert!(pyckle::dumps(&g, 3).is_ok() && pyckle::dumps(&g, 4).is_ok());
    let mut g = Graph::new();
    let c = g.global("m", "a\nb");
    g.set_root(c);
    assert!(refused(&g, 1).contains("newline"));

    // A tuple that holds itself: no pickle can make it (CPython recurses forever).
    let mut g = Graph::new();
    let t = g.tuple([]);
    if let Object::Tuple(items) = g.get_mut(t.obj().unwrap()) {
        items.push(t);
    }
    g.set_root(t);
    for p in 0..=5 {
        assert!(refused(&g, p).contains("contains itself"));
    }

    // A record whose arguments are not a tuple.
    let mut g = Graph::new();
    let c = g.global("m", "f");
    let r = g.reduce(c, []);
    g.record_mut(r).unwrap().args = Value::Int(1);
    g.set_root(r);
    assert!(refused(&g, 2).contains("not a tuple"));

    // An int that protocols 0 and 1 would write in more than 4300 decimal
    // digits, which CPython 3.11 neither writes nor reads.
    let mut g = Graph::new();
    let big = g.int(num_bigint::BigInt::from(10).pow(4300));
    g.set_root(big);
    assert!(refused(&g, 0).contains("4300"));
    assert!(refused(&g, 1).contains("4300"));
    assert!(pyckle::dumps(&g, 2).is_ok());
    let mut g = Graph::new();
    let big = g.int(num_bigint::BigInt::from(10).pow(4299));
    g.set_root(big);
    assert!(pyckle::dumps(&g, 0).is_ok());

    // A persistent id that protocol 0 would write as another value.
    let mut g = Graph::new();
    let pid = g.persistent_id(Value::Int(7));
    g.set_root(pid);
    assert!(refused(&g, 0).contains("persistent id"));
    assert_eq!(pyckle::dumps(&g, 1).unwrap(), b"K\x07Q.");
}
