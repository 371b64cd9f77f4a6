//! Deep dict and set keys: tuples and frozensets nested hundreds of levels
//! hash and compare with explicit stacks, so they work on a thread with a
//! small stack even in a debug build, and keys deeper than 512 levels are
//! refused as before.

use pyckle::graph::{Dict, Object, Set, Value};
use pyckle::Graph;

/// Runs `f` on a thread with a 2 MiB stack (the default of test threads,
/// stated here so the test does not depend on it).
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap();
}

/// `((((1,),),),)`: `levels` tuples around `1`.
fn deep_tuple(g: &mut Graph<'static>, levels: usize) -> Value {
    let mut v = Value::Int(1);
    for _ in 0..levels {
        v = g.tuple([v]);
    }
    v
}

/// `levels` containers around `1`, tuples and frozensets by turns; with
/// `wide`, each frozenset also holds 1..=9 (so its items are found through
/// a hash table rather than a scan).
fn deep_mixed(g: &mut Graph<'static>, levels: usize, wide: bool) -> Value {
    let mut v = Value::Int(1);
    for level in 0..levels {
        v = if level % 2 == 0 {
            g.tuple([v])
        } else if wide {
            let items: Vec<Value> = std::iter::once(v).chain((1..=9).map(Value::Int)).collect();
            g.frozenset(items).unwrap()
        } else {
            g.frozenset([v]).unwrap()
        };
    }
    v
}

fn dict<'g>(g: &'g Graph, v: Value) -> &'g Dict {
    match g.object(v) {
        Some(Object::Dict(d)) => d,
        other => panic!("not a dict: {other:?}"),
    }
}

fn set<'g>(g: &'g Graph, v: Value) -> &'g Set {
    match g.object(v) {
        Some(Object::Set(s)) => s,
        other => panic!("not a set: {other:?}"),
    }
}

/// Two equal deep keys built apart: one dict entry, found by either; a
/// key one level shallower is another key.
fn check_equal_deep_keys(make: fn(&mut Graph<'static>, usize) -> Value, levels: usize) {
    let mut g = Graph::new();
    let a = make(&mut g, levels);
    let b = make(&mut g, levels);
    assert_ne!(a, b, "two objects");
    assert!(g.py_eq(a, b));
    assert!(g.py_eq(b, a));
    // A small dict (scanned) and one past the scan limit (hash table).
    for others in [0, 20] {
        let mut entries: Vec<(Value, Value)> = (0..others).map(|i| (Value::Int(1000 + i), Value::None)).collect();
        entries.push((a, Value::Int(1)));
        entries.push((b, Value::Int(2)));
        let d = g.dict(entries).unwrap();
        let d = dict(&g, d);
        assert_eq!(d.len(), others as usize + 1);
        assert_eq!(d.entries().last(), Some(&(a, Value::Int(2))), "the first spelling, the last value");
        assert_eq!(d.get(&g, a), Some(Value::Int(2)));
        assert_eq!(d.get(&g, b), Some(Value::Int(2)));
    }
    let s = g.set([a, b]).unwrap();
    assert_eq!(set(&g, s).len(), 1);
    assert!(set(&g, s).contains(&g, b));
    // A key one level shallower is another key.
    let shallower = make(&mut g, levels - 1);
    assert!(!g.py_eq(a, shallower));
    let d = g.dict([(a, Value::Int(1)), (shallower, Value::Int(2))]).unwrap();
    assert_eq!(dict(&g, d).len(), 2);
    assert_eq!(dict(&g, d).get(&g, b), Some(Value::Int(1)));
}

#[test]
fn deep_tuple_keys_on_a_small_stack() {
    on_small_stack(|| check_equal_deep_keys(deep_tuple, 500));
}

#[test]
fn deep_frozenset_keys_on_a_small_stack() {
    on_small_stack(|| check_equal_deep_keys(|g, n| deep_mixed(g, n, false), 500));
    on_small_stack(|| check_equal_deep_keys(|g, n| deep_mixed(g, n, true), 500));
}

#[test]
fn deep_keys_differing_at_the_bottom() {
    on_small_stack(|| {
        let mut g = Graph::new();
        let mut a = Value::Int(1);
        let mut b = Value::Int(2);
        for level in 0..500 {
            (a, b) = if level % 3 == 2 {
                (g.frozenset([a, Value::Int(7)]).unwrap(), g.frozenset([Value::Int(7), b]).unwrap())
            } else {
                (g.tuple([a]), g.tuple([b]))
            };
        }
        assert!(!g.py_eq(a, b));
        let d = g.dict([(a, Value::Int(1)), (b, Value::Int(2))]).unwrap();
        assert_eq!(dict(&g, d).len(), 2);
    });
}

#[test]
fn keys_deeper_than_512_levels_are_refused() {
    on_small_stack(|| {
        let mut g = Graph::new();
        // 512 tuples around 1: the 1 is 512 levels down, the limit.
        let ok = deep_tuple(&mut g, 512);
        let d = g.dict([(ok, Value::None)]).unwrap();
        assert_eq!(dict(&g, d).len(), 1);
        let too_deep = deep_tuple(&mut g, 513);
        let e = g.dict([(too_deep, Value::None)]).unwrap_err();
        assert!(e.to_string().contains("key nested deeper than 512 levels"), "{e}");
        let mut d = Dict::new();
        let e = d.insert(&g, too_deep, Value::None).unwrap_err();
        assert_eq!(e, "key nested deeper than 512 levels");
        let mut s = Set::new();
        assert_eq!(s.insert(&g, too_deep).unwrap_err(), "key nested deeper than 512 levels");
        // A frozenset in the way counts as a level too.
        let mut v = Value::Int(1);
        for level in 0..513 {
            v = if level == 100 { g.frozenset([v]).unwrap() } else { g.tuple([v]) };
        }
        assert_eq!(Dict::new().insert(&g, v, Value::None).unwrap_err(), "key nested deeper than 512 levels");
        // Too deep is never equal, as before.
        let other = deep_tuple(&mut g, 513);
        assert!(!g.py_eq(too_deep, other));
    });
}

/// `levels` TUPLE1s around `K 1`, or frozensets (MARK ... FROZENSET) by turns.
fn deep_key_pickle(levels: usize, frozensets: bool) -> Vec<u8> {
    let mut key = b"K\x01".to_vec();
    for level in 0..levels {
        if frozensets && level % 2 == 1 {
            key.insert(0, b'(');
            key.push(0x91);
        } else {
            key.push(0x85);
        }
    }
    key
}

#[test]
fn deep_keys_through_the_decoder() {
    on_small_stack(|| {
        for frozensets in [false, true] {
            // {key: 1, equal_key: 2} by EMPTY_DICT MARK ... SETITEMS.
            let key = deep_key_pickle(500, frozensets);
            let mut data = b"\x80\x04}(".to_vec();
            data.extend_from_slice(&key);
            data.extend_from_slice(b"K\x01");
            data.extend_from_slice(&key);
            data.extend_from_slice(b"K\x02u.");
            let g = pyckle::loads(&data).unwrap();
            let d = dict(&g, g.root());
            assert_eq!(d.len(), 1);
            assert_eq!(d.entries()[0].1, Value::Int(2));
            // 513 levels: refused, as before.
            let mut data = b"\x80\x04}".to_vec();
            data.extend_from_slice(&deep_key_pickle(513, frozensets));
            data.extend_from_slice(b"K\x01s.");
            let e = pyckle::loads(&data).unwrap_err();
            assert!(e.to_string().contains("key nested deeper than 512 levels"), "{e}");
        }
    });
}
