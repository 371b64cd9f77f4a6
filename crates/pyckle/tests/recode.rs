//! The pickler against what CPython writes: for every fixture and every
//! protocol P, `tests/fixtures/expected/recode/NAME.pP.pkl` holds
//! `pickle.dumps(pickle.loads(fixture), P)` (made by generate.py with
//! PYTHONHASHSEED=0), and pyckle's decode + encode must give exactly those
//! bytes, except in the cases listed in `KNOWN` with their reasons. Every
//! output, equal or not, must decode to a graph that encodes to itself
//! again. None of this needs Python; tests/recode_python.rs checks with
//! CPython that the outputs that differ load to the same objects.

mod common;

use common::{fixtures, manifest, options};
use pyckle::{Object, RecordKind, Unpickler};

/// Fixtures (by name prefix) whose objects CPython reduces differently at
/// some protocols, in ways that depend on the class, not on the pickle: the
/// record keeps the form of the fixture's protocol, CPython re-reduces the
/// live object at the target protocol. `(prefix, protocols where the bytes differ, why)`.
const KNOWN: &[(&str, &str, &str)] = &[
    ("obj_list_subclass_p", "cross", "below 2: _reconstructor(cls, list, [...]); from 2: NEWOBJ and APPENDS"),
    ("obj_dict_subclass_p", "cross", "below 2: _reconstructor(cls, dict, {...}); from 2: NEWOBJ and SETITEMS"),
    ("obj_newobj_ex_p", "cross", "__getnewargs_ex__: functools.partial form at 2 and 3, __newobj_ex__ REDUCE here"),
    ("std_collections_p", "cross", "namedtuple: _reconstructor(cls, tuple, (...)) below 2, NEWOBJ from 2"),
    ("std_array_p", "cross", "array.array: (array, (typecode, list)) below 3, _array_reconstructor from 3"),
    ("cpython_data_cookie", "all", "the Morsel's state keys come in Python 3's __getstate__ order, not the pickle's"),
];

fn known(name: &str, proto: u8, target: u8) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(prefix, when, _)| name.starts_with(prefix) && (*when != "cross" || proto != target))
        .map(|k| k.2)
}

/// The fixture's own protocol, from MANIFEST.tsv's second column.
fn protocols() -> std::collections::HashMap<String, u8> {
    let text = std::fs::read_to_string(fixtures().join("MANIFEST.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[1].parse().unwrap_or(0))
        })
        .collect()
}

#[test]
fn recode_gives_what_cpython_writes() {
    let dir = fixtures().join("expected/recode");
    let protos = protocols();
    let (mut exact, mut known_diff, mut refused, mut cpython_refused) = (0, 0, Vec::new(), 0);
    let mut failures = Vec::new();
    for (name, flags) in manifest() {
        let data = std::fs::read(fixtures().join("pickles").join(format!("{name}.pkl"))).unwrap();
        let graphs = Unpickler::new(options(&flags)).loads_all(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        let proto = protos[&name];
        for p in 0..=5u8 {
            let mut ours = Vec::new();
            let mut error = None;
            for g in &graphs {
                if let Err(e) = pyckle::dump(g, &mut ours, p) {
                    error = Some(e.to_string());
                    break;
                }
            }
            let want = std::fs::read(dir.join(format!("{name}.p{p}.pkl"))).ok();
            let Some(want) = want else {
                // CPython refused (the .err file says why); pyckle may write
                // what Python can load (e.g. __slots__ state below 2).
                assert!(dir.join(format!("{name}.p{p}.err")).exists(), "{name}: no expected output for protocol {p}");
                cpython_refused += 1;
                continue;
            };
            if let Some(e) = error {
                refused.push(format!("{name} p{p}: {e}"));
                continue;
            }
            // Whatever we wrote decodes, and encodes again to itself.
            let back = Unpickler::new(options(&flags)).loads_all(&ours).unwrap_or_else(|e| panic!("{name} p{p}: {e}"));
            let mut again = Vec::new();
            for g in &back {
                pyckle::dump(g, &mut again, p).unwrap();
            }
            assert!(again == ours, "{name} p{p}: a second recode changes the bytes");
            // What CPython writes for an instance below protocol 2 depends
            // on its class's base (`_reconstructor(cls, dict, {...})` for a
            // dict subclass, `(cls, object, None)` for a plain class), which
            // a NEWOBJ record does not say; pyckle writes
            // `copyreg.__newobj__(cls, *args)`, the same object for any class.
            let newobj_below_2 = p < 2
                && graphs.iter().any(|g| {
                    g.objects().any(|(_, o)| {
                        matches!(o, Object::Record(r) if matches!(r.kind, RecordKind::NewObj | RecordKind::NewObjEx))
                    })
                });
            if ours == want {
                exact += 1;
            } else if newobj_below_2 || known(&name, proto, p).is_some() {
                known_diff += 1;
            } else {
                let at = ours.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(ours.len().min(want.len()));
                failures.push(format!("{name} p{p}: differs from CPython at byte {at}"));
            }
        }
    }
    eprintln!(
        "{exact} outputs equal to CPython's bytes, {known_diff} known differences, \
         {} refused by pyckle, {cpython_refused} refused by CPython",
        refused.len()
    );
    for r in &refused {
        eprintln!("  refused: {r}");
        // CPython writes str(pid) for a persistent id that is not a str at
        // protocol 0, which loads back as another value: pyckle refuses.
        assert!(r.starts_with("persid_") && r.contains(" p0: "), "unexpected refusal: {r}");
    }
    assert!(failures.is_empty(), "{} outputs differ from CPython:\n{}", failures.len(), failures.join("\n"));
}
