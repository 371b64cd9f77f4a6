//! The user-class registry and the decoder's find_class hook, on pickles
//! CPython made (tests/fixtures/talk/, by tests/fixtures/generate_talk.py)
//! and on every plain fixture under tests/fixtures/pickles.

mod common;

#[allow(dead_code)]
#[path = "../examples/greeter.rs"]
mod greeter_example;

use pyckle::classes::registry::{self, Loader, PyClass, Registry};
use pyckle::classes::ConvertError;
use pyckle::decode::{AllowList, Resolve};
use pyckle::{ErrorKind, Graph, Object, Unpickler, Value};
use std::cell::RefCell;

/// A fixture of tests/fixtures/talk, kept for the whole test run (graphs
/// borrow from it).
fn talk(name: &str) -> &'static [u8] {
    let path = common::fixtures().join("talk").join(name);
    Box::leak(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).into_boxed_slice())
}

// --- the classes of generate_talk.py, taught by hand ------------------------

/// The talk's Greeter, as the example teaches it by hand.
use greeter_example::HandGreeter as Greeter;

fn greeters() -> Registry {
    let mut r = Registry::new();
    r.register::<Greeter>();
    r
}

#[derive(Debug, PartialEq)]
struct Point {
    x: i64,
    y: i64,
}

impl PyClass for Point {
    const MODULE: &'static str = "__main__";
    const QUALNAME: &'static str = "Point";
    fn new(cx: &mut Loader, args: &[Value], kwargs: &[(Value, Value)]) -> Result<Self, ConvertError> {
        let [x] = args else {
            return Err(ConvertError::new(format!("Point takes one positional, got {}", args.len())));
        };
        let mut p = Point { x: cx.int(*x)?, y: 0 };
        for &(k, v) in kwargs {
            match cx.str(k)? {
                "y" => p.y = cx.int(v)?,
                other => return Err(ConvertError::new(format!("unexpected keyword {other}"))),
            }
        }
        Ok(p)
    }
    fn to_pickle(&self, _: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Err(ConvertError::new("not written in these tests"))
    }
}

/// A list subclass with an attribute.
#[derive(Debug, PartialEq, Default)]
struct Shelf {
    items: Vec<String>,
    owner: String,
}

impl PyClass for Shelf {
    const MODULE: &'static str = "__main__";
    const QUALNAME: &'static str = "Shelf";
    fn new(cx: &mut Loader, args: &[Value], _: &[(Value, Value)]) -> Result<Self, ConvertError> {
        let mut s = Shelf::default();
        // Below protocol 2: copyreg._reconstructor(Shelf, list, [items]).
        if let [items] = args {
            for &i in cx.items(*items)? {
                s.items.push(cx.string(i)?);
            }
        }
        Ok(s)
    }
    fn set_state(&mut self, cx: &mut Loader, state: Value) -> Result<(), ConvertError> {
        self.owner = cx.attrs(state)?.string("owner")?;
        Ok(())
    }
    fn append(&mut self, cx: &mut Loader, item: Value) -> Result<(), ConvertError> {
        self.items.push(cx.string(item)?);
        Ok(())
    }
    fn to_pickle(&self, _: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Err(ConvertError::new("not written in these tests"))
    }
}

/// A dict subclass with an attribute.
#[derive(Debug, PartialEq, Default)]
struct Tags {
    entries: Vec<(String, String)>,
    owner: String,
}

fn describe(cx: &Loader, v: Value) -> Result<String, ConvertError> {
    match v {
        Value::Int(i) => Ok(i.to_string()),
        _ => cx.string(v),
    }
}

impl PyClass for Tags {
    const MODULE: &'static str = "__main__";
    const QUALNAME: &'static str = "Tags";
    fn new(cx: &mut Loader, args: &[Value], _: &[(Value, Value)]) -> Result<Self, ConvertError> {
        let mut t = Tags::default();
        if let [d] = args {
            for &(k, v) in cx.dict(*d)? {
                t.entries.push((cx.string(k)?, describe(cx, v)?));
            }
        }
        Ok(t)
    }
    fn set_state(&mut self, cx: &mut Loader, state: Value) -> Result<(), ConvertError> {
        self.owner = cx.attrs(state)?.string("owner")?;
        Ok(())
    }
    fn set_item(&mut self, cx: &mut Loader, key: Value, value: Value) -> Result<(), ConvertError> {
        self.entries.push((cx.string(key)?, describe(cx, value)?));
        Ok(())
    }
    fn to_pickle(&self, _: &mut Graph<'static>) -> Result<Value, ConvertError> {
        Err(ConvertError::new("not written in these tests"))
    }
}

// --- the talk ---------------------------------------------------------------

#[test]
fn greeter_from_every_protocol_and_back_byte_for_byte() {
    let classes = greeters();
    for p in 0..=5u8 {
        let data = talk(&format!("greeter_p{p}.pkl"));
        for strict in [false, true] {
            let graph = classes.unpickler(strict).loads(data).unwrap();
            let g: Greeter = classes.load(&graph, graph.root()).unwrap();
            assert_eq!(g, Greeter { name: "Gopher".into() }, "protocol {p}, strict {strict}");
            let any = classes.load_any(&graph, graph.root()).unwrap();
            assert_eq!(any.downcast_ref::<Greeter>(), Some(&g));
        }
        // What pickle.dumps(Greeter('Gopher'), p) wrote, exactly.
        let g = Greeter { name: "Gopher".into() };
        assert_eq!(classes.dumps(&g, p).unwrap(), data, "protocol {p}");
    }
}

#[test]
fn the_example_greets_six_times_each_way() {
    let results = greeter_example::greetings(&common::fixtures().join("talk"));
    let by_hand: Vec<_> = results.iter().filter(|r| r.1 == "registry").collect();
    assert_eq!(by_hand.len(), 6);
    for (p, _, greeting) in &by_hand {
        assert_eq!(greeting.as_deref(), Ok("Hi, Gopher!"), "protocol {p}");
    }
    let derived: Vec<_> = results.iter().filter(|r| r.1 == "derive").collect();
    // The derive way needs the serde feature (on by default).
    let ways = if cfg!(feature = "serde") { 2 } else { 1 };
    assert_eq!(derived.len(), 6 * (ways - 1));
    for (p, _, greeting) in &derived {
        assert_eq!(greeting.as_deref(), Ok("Hi, Gopher!"), "protocol {p}, derive");
    }
    assert_eq!(results.len(), 6 * ways);
}

#[test]
fn shared_greeters_load_twice() {
    let classes = greeters();
    for p in 0..=5u8 {
        let data = talk(&format!("greeters_shared_p{p}.pkl"));
        let graph = classes.unpickler(true).loads(data).unwrap();
        let items = match graph.object(graph.root()) {
            Some(Object::List(v)) => v.clone(),
            other => panic!("a list, not {other:?}"),
        };
        assert_eq!(items[0], items[2], "protocol {p}: the pickle shares the first Greeter");
        let loaded: Vec<Greeter> = classes.loader(&graph).load_vec(graph.root()).unwrap();
        let names: Vec<&str> = loaded.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Gopher", "Ferris", "Gopher"], "protocol {p}");
    }
}

#[test]
fn moved_class_loads_through_an_alias() {
    for p in 0..=5u8 {
        let data = talk(&format!("greeter_old_module_p{p}.pkl"));
        // Without an alias: a clear error naming both classes.
        let classes = greeters();
        let graph = pyckle::loads(data).unwrap();
        let err = classes.load::<Greeter>(&graph, graph.root()).unwrap_err();
        assert_eq!(
            err.message, "expected an object of __main__.Greeter, found one of gopher_talk.greeting.Greeter",
            "protocol {p}"
        );
        let err = classes.unpickler(true).loads(data).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::RefusedGlobal { module, name, .. } if module == "gopher_talk.greeting" && name == "Greeter"),
            "protocol {p}: {err}"
        );
        assert!(err.to_string().contains("refused global gopher_talk.greeting.Greeter"), "{err}");

        let mut classes = greeters();
        classes.alias("gopher_talk.greeting", "Greeter", "__main__", "Greeter");
        assert!(classes.is_registered("gopher_talk.greeting", "Greeter"));
        // The alias applies at load time on a graph decoded without the hook...
        let g: Greeter = classes.load(&graph, graph.root()).unwrap();
        assert_eq!(g.name, "Gopher");
        // ...and in the decoder, which renames the global (strict or not).
        for strict in [false, true] {
            let graph = classes.unpickler(strict).loads(data).unwrap();
            let names: Vec<String> = graph
                .objects()
                .filter_map(|(_, o)| match o {
                    Object::Global(g) => Some(format!("{}.{}", g.module, g.name)),
                    _ => None,
                })
                .collect();
            assert!(names.contains(&"__main__.Greeter".to_string()), "protocol {p}: {names:?}");
            assert!(!names.iter().any(|n| n.starts_with("gopher_talk")), "protocol {p}: {names:?}");
            let g: Greeter = classes.load(&graph, graph.root()).unwrap();
            assert_eq!(g.name, "Gopher");
        }
    }
}

#[test]
fn newobj_ex_keyword_arguments() {
    let mut classes = Registry::new();
    classes.register::<Point>();
    for p in 2..=5u8 {
        let data = talk(&format!("point_p{p}.pkl"));
        let graph = pyckle::loads(data).unwrap();
        if p >= 4 {
            let r = graph.as_record(graph.root()).unwrap();
            assert_eq!(r.kind, pyckle::RecordKind::NewObjEx);
        }
        let point: Point = classes.load(&graph, graph.root()).unwrap();
        assert_eq!(point, Point { x: 3, y: 4 }, "protocol {p}");
        // At 2 and 3 CPython writes functools.partial(getattr(Point, '__new__'), Point, 3, y=4)():
        // strict mode refuses functools.partial unless it is allowed.
        let strict = classes.unpickler(true).loads(data);
        if p >= 4 {
            let graph = strict.unwrap();
            assert_eq!(classes.load::<Point>(&graph, graph.root()).unwrap(), Point { x: 3, y: 4 });
        } else {
            let err = strict.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::RefusedGlobal { module, name, .. } if module == "functools" && name == "partial"),
                "{err}"
            );
            let mut allow = AllowList::new();
            allow.allow("functools", "partial").allow("builtins", "getattr");
            let mut u = Unpickler::default();
            u.find_class(classes.find_class_hook(Some(allow)));
            let graph = u.loads(data).unwrap();
            assert_eq!(classes.load::<Point>(&graph, graph.root()).unwrap(), Point { x: 3, y: 4 });
        }
    }
}

#[test]
fn appended_items_and_set_items() {
    let mut classes = Registry::new();
    classes.register::<Shelf>().register::<Tags>();
    for p in 0..=5u8 {
        let graph = classes.unpickler(true).loads(talk(&format!("shelf_p{p}.pkl"))).unwrap();
        let shelf: Shelf = classes.load(&graph, graph.root()).unwrap();
        assert_eq!(shelf, Shelf { items: vec!["a".into(), "b".into(), "c".into()], owner: "Gopher".into() }, "p{p}");
        if p >= 2 {
            assert_eq!(graph.as_record(graph.root()).unwrap().items.len(), 3, "APPENDS on the record");
        }
        let graph = classes.unpickler(true).loads(talk(&format!("tags_p{p}.pkl"))).unwrap();
        let tags: Tags = classes.load(&graph, graph.root()).unwrap();
        let want = vec![("lang".to_string(), "go".to_string()), ("year".to_string(), "2019".to_string())];
        assert_eq!(tags, Tags { entries: want, owner: "Gopher".into() }, "p{p}");
        if p >= 2 {
            assert_eq!(graph.as_record(graph.root()).unwrap().dict_items.len(), 2, "SETITEMS on the record");
        }
    }
}

#[test]
fn a_class_without_item_hooks_refuses_items() {
    let mut classes = Registry::new();
    classes.class::<Vec<String>>("__main__", "Shelf", |_, _, _| Ok(Vec::new())).state(|_, _, _| Ok(()));
    let graph = pyckle::loads(talk("shelf_p4.pkl")).unwrap();
    let err = classes.load::<Vec<String>>(&graph, graph.root()).unwrap_err();
    assert_eq!(err.message, "__main__.Shelf takes no items (APPEND), but the pickle gives it (str)");
    // And a PyClass with the default set_state refuses a state.
    #[derive(Debug)]
    struct Bare;
    impl PyClass for Bare {
        const MODULE: &'static str = "__main__";
        const QUALNAME: &'static str = "Greeter";
        fn new(_: &mut Loader, _: &[Value], _: &[(Value, Value)]) -> Result<Self, ConvertError> {
            Ok(Bare)
        }
        fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
            Ok(registry::instance(graph, Self::MODULE, Self::QUALNAME, None))
        }
    }
    let mut classes = Registry::new();
    classes.register::<Bare>();
    let graph = pyckle::loads(talk("greeter_p2.pkl")).unwrap();
    let err = classes.load::<Bare>(&graph, graph.root()).unwrap_err();
    assert_eq!(err.message, "__main__.Greeter takes no state (BUILD), but the pickle gives it (dict)");
    // With no state, nothing to refuse; and CPython writes no BUILD for an empty __dict__.
    let data = classes.dumps(&Bare, 2).unwrap();
    assert_eq!(data, b"\x80\x02c__main__\nGreeter\nq\x00)\x81q\x01.");
    let graph = pyckle::loads(&data).unwrap();
    assert!(classes.load::<Bare>(&graph, graph.root()).is_ok());
}

#[test]
fn state_of_every_shape() {
    // (None, {slots}): __slots__ only.
    let mut classes = Registry::new();
    classes.class::<(i64, i64)>("__main__", "Slotted", |_, _, _| Ok((0, 0))).state(|xy, cx, state| {
        let attrs = cx.attrs(state)?;
        *xy = (cx.int(attrs.require("x")?)?, cx.int(attrs.require("y")?)?);
        Ok(())
    });
    // ({dict}, {slots}): __slots__ and __dict__.
    classes.class::<(i64, String)>("__main__", "SlottedDict", |_, _, _| Ok((0, String::new()))).state(
        |v, cx, state| {
            let [dict, slots] = cx.items(state)? else { return Err(cx.unexpected("(dict, slots)", state)) };
            assert!(cx.dict(*dict).is_ok() && cx.dict(*slots).is_ok());
            let attrs = cx.attrs(state)?;
            assert_eq!(attrs.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["label", "x"]);
            *v = (cx.int(attrs.require("x")?)?, attrs.string("label")?);
            Ok(())
        },
    );
    // A tuple from __getstate__, and writing it back as CPython does.
    classes
        .class::<(i64, i64, u8)>("__main__", "Version", |_, _, _| Ok((0, 0, 0)))
        .state(|v, cx, state| {
            assert!(cx.attrs(state).is_err(), "a 2-tuple of ints is no (dict, slots)");
            let [major, minor] = cx.items(state)? else { return Err(cx.unexpected("(major, minor)", state)) };
            *v = (cx.int(*major)?, cx.int(*minor)?, v.2 + 1);
            Ok(())
        })
        .write(|v, graph| {
            let state = graph.tuple([Value::Int(v.0), Value::Int(v.1)]);
            Ok(registry::instance(graph, "__main__", "Version", Some(state)))
        });
    for p in 2..=5u8 {
        let graph = pyckle::loads(talk(&format!("slotted_p{p}.pkl"))).unwrap();
        let state = graph.as_record(graph.root()).unwrap().state.unwrap();
        assert_eq!(graph.as_tuple(state).unwrap()[0], Value::None, "(None, slots)");
        assert_eq!(classes.load::<(i64, i64)>(&graph, graph.root()).unwrap(), (1, 2), "p{p}");
        let graph = pyckle::loads(talk(&format!("slotted_dict_p{p}.pkl"))).unwrap();
        assert_eq!(classes.load::<(i64, String)>(&graph, graph.root()).unwrap(), (7, "seven".into()), "p{p}");
    }
    for p in 0..=5u8 {
        let data = talk(&format!("version_p{p}.pkl"));
        let graph = pyckle::loads(data).unwrap();
        assert_eq!(classes.load::<(i64, i64, u8)>(&graph, graph.root()).unwrap(), (3, 11, 1), "p{p}: state set once");
        assert_eq!(classes.dumps(&(3i64, 11i64, 0u8), p).unwrap(), data, "p{p}");
    }
    // A state that is no __dict__ for a class that reads attributes.
    let graph = pyckle::loads(talk("version_p4.pkl")).unwrap();
    let mut only_greeter = Registry::new();
    only_greeter.register::<Greeter>().alias("__main__", "Version", "__main__", "Greeter");
    let err = only_greeter.load::<Greeter>(&graph, graph.root()).unwrap_err();
    assert_eq!(err.message, "expected a __dict__ state (a dict, or (dict, slots)), found tuple");
}

#[test]
fn wrong_values_are_clear_errors() {
    let classes = greeters();
    let graph = pyckle::loads(b"K\x05.").unwrap();
    let err = classes.load::<Greeter>(&graph, graph.root()).unwrap_err();
    assert_eq!(err.message, "expected an object of a registered class, found int");
    let err = classes.load::<Point>(&graph, graph.root()).unwrap_err();
    assert!(err.message.ends_with("Point is not a registered class"), "{}", err.message);
    let graph = pyckle::loads(talk("point_p4.pkl")).unwrap();
    let err = classes.load_any(&graph, graph.root()).unwrap_err();
    assert_eq!(err.message, "__main__.Point is not a registered class");
    // A Greeter whose _name is not a str: the path names the attribute.
    let mut g = Graph::new();
    let state = registry::attrs_dict(&mut g, [("_name", Value::Int(3))]).unwrap();
    let root = registry::instance(&mut g, "__main__", "Greeter", Some(state));
    let err = classes.load::<Greeter>(&g, root).unwrap_err();
    assert_eq!(err.to_string(), "at ._name: expected a str, found int");
    let err = classes.write(&mut g, &Point { x: 1, y: 2 }).unwrap_err();
    assert!(err.message.ends_with("Point is not a registered class"));
}

/// A Greeter whose name is another registered object.
#[derive(Debug)]
struct Chain {
    next: Option<Box<Chain>>,
}

fn chains() -> Registry {
    let mut r = Registry::new();
    r.class::<Chain>("__main__", "Greeter", |_, _, _| Ok(Chain { next: None })).state(|c, cx, state| {
        let next = cx.attrs(state)?.require("_name")?;
        if next != Value::None {
            c.next = Some(Box::new(cx.load::<Chain>(next)?));
        }
        Ok(())
    });
    r
}

#[test]
fn a_cycle_through_registered_objects_is_an_error() {
    let graph = pyckle::loads(talk("greeter_cycle_p4.pkl")).unwrap();
    let err = chains().load::<Chain>(&graph, graph.root()).unwrap_err();
    assert!(err.message.starts_with("a cycle through registered objects: the __main__.Greeter object"), "{err}");
    // The plain Greeter just finds no str there.
    let err = greeters().load::<Greeter>(&graph, graph.root()).unwrap_err();
    assert_eq!(err.to_string(), "at ._name: expected a str, found __main__.Greeter object");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut g = Graph::new();
    let mut inner = Value::None;
    for _ in 0..100_000 {
        let state = registry::attrs_dict(&mut g, [("_name", inner)]).unwrap();
        inner = registry::instance(&mut g, "__main__", "Greeter", Some(state));
    }
    let err = chains().load::<Chain>(&g, inner).unwrap_err();
    assert!(err.message.starts_with("registered objects nested deeper than 256"), "{err}");
    // 200 deep is fine.
    let mut inner = Value::None;
    for _ in 0..200 {
        let state = registry::attrs_dict(&mut g, [("_name", inner)]).unwrap();
        inner = registry::instance(&mut g, "__main__", "Greeter", Some(state));
    }
    let mut c = chains().load::<Chain>(&g, inner).unwrap();
    let mut depth = 1;
    while let Some(next) = c.next {
        c = *next;
        depth += 1;
    }
    assert_eq!(depth, 200);
}

// --- the find_class hook ------------------------------------------------------

/// The globals the hook saw, and what it decided.
fn recording<'a>(seen: &'a RefCell<Vec<String>>, decide: fn(&str, &str) -> Resolve) -> pyckle::decode::FindClass<'a> {
    Box::new(move |m: &str, n: &str| {
        seen.borrow_mut().push(format!("{m}.{n}"));
        decide(m, n)
    })
}

#[test]
fn hook_sees_every_global_after_fix_imports() {
    let seen = RefCell::new(Vec::new());
    let data = talk("greeter_p0.pkl"); // copy_reg._reconstructor, __main__.Greeter, __builtin__.object
    let mut u = Unpickler::default();
    u.find_class(recording(&seen, |_, _| Resolve::Allow));
    u.loads(data).unwrap();
    assert_eq!(*seen.borrow(), ["copyreg._reconstructor", "__main__.Greeter", "builtins.object"]);
    // STACK_GLOBAL (protocol 4).
    seen.borrow_mut().clear();
    let mut u = Unpickler::default();
    u.find_class(recording(&seen, |_, _| Resolve::Allow));
    u.loads(talk("greeter_p4.pkl")).unwrap();
    assert_eq!(*seen.borrow(), ["__main__.Greeter"]);
    // INST, and EXT through the extension registry.
    seen.borrow_mut().clear();
    let mut u = Unpickler::default();
    u.find_class(recording(&seen, |_, _| Resolve::Allow));
    u.add_extension(7, "copy_reg", "_reconstructor");
    u.loads(b"(i__main__\nGreeter\n.").unwrap();
    u.loads(b"\x80\x02\x82\x07.").unwrap();
    assert_eq!(*seen.borrow(), ["__main__.Greeter", "copyreg._reconstructor"]);
    // getattr of a global: the attribute is a global too.
    seen.borrow_mut().clear();
    let mut u = Unpickler::default();
    u.find_class(recording(&seen, |_, _| Resolve::Allow));
    let g = u.loads(talk("point_p3.pkl")).unwrap();
    assert_eq!(*seen.borrow(), ["functools.partial", "builtins.getattr", "__main__.Point", "__main__.Point.__new__"]);
    assert!(g.objects().any(|(_, o)| matches!(o, Object::Global(g) if g.is("__main__", "Point.__new__"))));
}

#[test]
fn refusal_names_the_global_the_offset_and_the_reason() {
    let refuse = |m: &str, n: &str| {
        if m == "__main__" {
            Resolve::Refuse(format!("{n} is not for this service"))
        } else {
            Resolve::Allow
        }
    };
    // (file, offset of the opcode naming __main__.Greeter, opcode)
    for (file, offset, opcode) in
        [("greeter_p0.pkl", 29, "GLOBAL"), ("greeter_p2.pkl", 2, "GLOBAL"), ("greeter_p4.pkl", 32, "STACK_GLOBAL")]
    {
        let seen = RefCell::new(Vec::new());
        let mut u = Unpickler::default();
        u.find_class(recording(&seen, refuse));
        let err = u.loads(talk(file)).unwrap_err();
        assert_eq!(err.offset(), Some(offset), "{file}");
        assert_eq!(
            err.to_string(),
            format!(
                "at byte {offset} (opcode {opcode}): refused global __main__.Greeter: Greeter is not for this service"
            )
        );
        match err.kind() {
            ErrorKind::RefusedGlobal { module, name, reason } => {
                assert_eq!((module.as_str(), name.as_str()), ("__main__", "Greeter"));
                assert_eq!(reason, "Greeter is not for this service");
            }
            other => panic!("{other:?}"),
        }
        // Nothing after the refused global was asked about.
        assert_eq!(seen.borrow().last().map(String::as_str), Some("__main__.Greeter"));
    }
}

#[test]
fn rename_resolves_a_moved_class_to_the_registered_one() {
    let classes = greeters();
    let mut u = Unpickler::default();
    u.find_class(Box::new(|m: &str, n: &str| match (m, n) {
        ("gopher_talk.greeting", "Greeter") => Resolve::rename("__main__", "Greeter"),
        _ => Resolve::Allow,
    }));
    for p in 0..=5u8 {
        let graph = u.loads(talk(&format!("greeter_old_module_p{p}.pkl"))).unwrap();
        assert_eq!(classes.load::<Greeter>(&graph, graph.root()).unwrap().name, "Gopher", "p{p}");
    }
    // A rename into a core type folds as if the pickle had named it.
    let mut u = Unpickler::default();
    u.find_class(Box::new(|m: &str, n: &str| match (m, n) {
        ("mylib", "OrderedSet") => Resolve::rename("builtins", "set"),
        _ => Resolve::Allow,
    }));
    let g = u.loads(b"\x80\x02cmylib\nOrderedSet\n]K\x01a\x85R.").unwrap();
    assert!(matches!(g.object(g.root()), Some(Object::Set(s)) if s.len() == 1));
}

#[test]
fn strict_refuses_os_system_at_every_protocol() {
    for p in 0..=5u8 {
        let data = talk(&format!("hostile_p{p}.pkl"));
        // Without strict mode, it is just a record (pyckle runs nothing).
        let graph = pyckle::loads(data).unwrap();
        assert!(graph.as_record(graph.root()).is_some());
        for err in [
            Unpickler::default().strict([]).loads(data).unwrap_err(),
            greeters().unpickler(true).loads(data).unwrap_err(),
        ] {
            assert!(
                matches!(err.kind(), ErrorKind::RefusedGlobal { module, name, .. } if module == "posix" && name == "system"),
                "p{p}: {err}"
            );
            let at = err.offset().unwrap() as usize;
            let want = if p >= 4 { 0x93 } else { b'c' };
            assert_eq!(data[at], want, "p{p}: the offset is the opcode naming posix.system");
        }
        // Allowing it by name lets it through; so does non-strict.
        assert!(Unpickler::default().strict([("posix", "system")]).loads(data).is_ok());
        assert!(Unpickler::default().strict([("posix", "*")]).loads(data).is_ok());
        assert!(greeters().unpickler(false).loads(data).is_ok());
    }
    let err = Unpickler::default().strict([]).loads(talk("hostile_p0.pkl")).unwrap_err();
    assert_eq!(err.to_string(), "at byte 0 (opcode GLOBAL): refused global posix.system: not in the allow list");
}

#[test]
fn strict_mode_without_a_registry_refuses_the_greeter_but_allows_it_by_name() {
    for p in 0..=5u8 {
        let data = talk(&format!("greeter_p{p}.pkl"));
        assert!(Unpickler::default().strict([]).loads(data).is_err());
        let allowed = [("__main__", "Greeter"), ("copyreg", "_reconstructor"), ("builtins", "object")];
        let graph = Unpickler::default().strict(allowed).loads(data).unwrap();
        assert_eq!(greeters().load::<Greeter>(&graph, graph.root()).unwrap().name, "Gopher");
    }
}

/// Every fixture under tests/fixtures/pickles decodes in strict mode exactly
/// when its canonical JSON (what CPython's pickle.load gives) holds no
/// global: plain data passes, anything naming a class or function does not.
#[test]
fn strict_accepts_exactly_the_plain_data_fixtures() {
    let (mut accepted, mut refused) = (0, 0);
    for (name, flags) in common::manifest() {
        let data = std::fs::read(common::fixtures().join("pickles").join(format!("{name}.pkl"))).unwrap();
        let json = std::fs::read_to_string(common::fixtures().join("expected").join(format!("{name}.json"))).unwrap();
        let has_global = json.contains("{\"global\": [");
        let mut u = Unpickler::new(common::options(&flags));
        u.strict([]);
        let result = u.loads_all(&data);
        match (&result, has_global) {
            (Ok(graphs), false) => {
                accepted += 1;
                // The same graphs as without the hook.
                let plain = Unpickler::new(common::options(&flags)).loads_all(&data).unwrap();
                assert_eq!(graphs.len(), plain.len(), "{name}");
            }
            (Err(e), true) => {
                refused += 1;
                assert!(matches!(e.kind(), ErrorKind::RefusedGlobal { .. }), "{name}: {e}");
            }
            (Ok(_), true) => panic!("{name}: names a global, but strict mode accepted it"),
            (Err(e), false) => panic!("{name}: plain data, but strict mode refused it: {e}"),
        }
    }
    assert!(accepted > 200 && refused > 100, "accepted {accepted}, refused {refused}");
    eprintln!("strict mode: {accepted} plain-data fixtures accepted, {refused} refused");
}

#[test]
fn a_registry_is_shared_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let classes = greeters();
    send_sync(&classes);
    let data = talk("greeter_p3.pkl");
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let graph = classes.unpickler(true).loads(data).unwrap();
                    classes.load::<Greeter>(&graph, graph.root()).unwrap().name
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), "Gopher");
        }
    });
}

#[test]
fn allow_list_by_name_and_by_module() {
    let mut list = AllowList::new();
    list.allow("collections", "OrderedDict").allow("numpy", "*");
    assert!(list.allows("builtins", "set") && list.allows("_codecs", "encode"), "core globals");
    assert!(list.allows("collections", "OrderedDict") && !list.allows("collections", "deque"));
    assert!(list.allows("numpy", "dtype") && list.allows("numpy", "ndarray"));
    assert!(!list.allows("numpy.core.multiarray", "_reconstruct"), "a module, not its submodules");
    assert!(!list.allows("builtins", "eval") && !list.allows("builtins", "getattr"));
    assert_eq!(list.resolve("os", "system"), Resolve::Refuse("not in the allow list".into()));
    assert_eq!(list.resolve("numpy", "dtype"), Resolve::Allow);
}

/// Loading any object of any fixture (every record form CPython writes,
/// Python 2 files, cycles) is an answer, never a panic; a record the
/// registry knows loads, any other value is an error.
#[test]
fn loading_every_object_of_every_fixture_never_panics() {
    let mut classes = greeters();
    classes.register::<Shelf>().register::<Tags>().register::<Point>();
    // pyckle_fixtures.Greeter has the same __dict__ as the talk's.
    classes.alias("pyckle_fixtures", "Greeter", "__main__", "Greeter");
    classes.alias("gopher_talk.greeting", "Greeter", "__main__", "Greeter");
    let mut files: Vec<_> =
        common::manifest().into_iter().map(|(name, flags)| (format!("pickles/{name}.pkl"), flags)).collect();
    for entry in std::fs::read_dir(common::fixtures().join("talk")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".pkl") {
            files.push((format!("talk/{name}"), Vec::new()));
        }
    }
    let (mut loaded, mut errors) = (0, 0);
    for (file, flags) in files {
        let data = std::fs::read(common::fixtures().join(&file)).unwrap();
        for graph in Unpickler::new(common::options(&flags)).loads_all(&data).unwrap() {
            for (id, _) in graph.objects() {
                match classes.load_any(&graph, Value::Obj(id)) {
                    Ok(_) => loaded += 1,
                    Err(_) => errors += 1,
                }
            }
        }
    }
    // The talk's Greeters (6 + 12 in the shared lists + 6 old), Shelf, Tags,
    // Point, and pyckle_fixtures.Greeter (6 obj_greeter fixtures at least).
    eprintln!("{loaded} objects loaded, {errors} refused");
    assert!(loaded >= 6 + 12 + 6 + 6 + 6 + 4 + 6, "loaded {loaded}");
    assert!(errors > 1000, "errors {errors}");
}
