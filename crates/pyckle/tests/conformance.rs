//! Conformance against pickles that real Python made (tests/fixtures, made
//! by tests/fixtures/generate.py): every fixture decodes to the canonical
//! JSON that CPython's own loader gives (shared/spec/canonical.py), every
//! truncation of every fixture is an error, and every bad pickle CPython
//! refuses is an error too. None of this needs Python.

mod common;

use common::{fixtures, manifest, options};
use pyckle::{DecodeOptions, Unpickler};
use serde_json::Value as J;

/// Sorts the items of every set and frozenset, as canonical.py --compare does.
fn normalize(v: J) -> J {
    match v {
        J::Array(a) => J::Array(a.into_iter().map(normalize).collect()),
        J::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let mut v = normalize(v);
                if k == "set" || k == "frozenset" {
                    if let J::Array(items) = &mut v {
                        items.sort_by_key(|x| serde_json::to_string(x).unwrap());
                    }
                }
                out.insert(k, v);
            }
            J::Object(out)
        }
        other => other,
    }
}

fn canonical_docs(data: &[u8], opts: DecodeOptions) -> Result<Vec<String>, String> {
    let mut u = Unpickler::new(opts);
    let graphs = u.loads_all(data).map_err(|e| e.to_string())?;
    graphs
        .iter()
        .map(|g| {
            let mut s = String::new();
            pyckle::json::canonical(g, &mut s).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .collect()
}

/// Fixtures whose expected document depends on more than the pickle says,
/// with the reason.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[(
    "cpython_data_cookie",
    "Python 3's Morsel.__getstate__ orders the state's keys its own way, not as the Python 2 pickle did",
)];

#[test]
fn every_fixture_matches_cpython() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut exact = 0;
    for (name, flags) in manifest() {
        let expected_path = fixtures().join("expected").join(format!("{name}.json"));
        let Ok(expected) = std::fs::read_to_string(&expected_path) else { continue };
        if KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let data = std::fs::read(fixtures().join("pickles").join(format!("{name}.pkl"))).unwrap();
        checked += 1;
        let docs = match canonical_docs(&data, options(&flags)) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{name}: decode error: {e}"));
                continue;
            }
        };
        let want: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
        if docs.len() != want.len() {
            failures.push(format!("{name}: {} documents, expected {}", docs.len(), want.len()));
            continue;
        }
        for (got, want) in docs.iter().zip(&want) {
            if got == want {
                exact += 1;
                continue;
            }
            let g: J = serde_json::from_str(got).unwrap_or_else(|e| panic!("{name}: invalid JSON {e}: {got}"));
            let w: J = serde_json::from_str(want).unwrap();
            if normalize(g) != normalize(w) {
                failures.push(format!("{name}:\n  got  {}\n  want {}", clip(got), clip(want)));
            } else {
                exact += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} fixtures differ:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 100, "only {checked} fixtures found");
    eprintln!("{checked} fixtures, {exact} documents equal to CPython's");
}

fn clip(s: &str) -> String {
    if s.len() > 600 {
        format!("{}...", &s[..s.char_indices().take_while(|(i, _)| *i < 600).last().map(|(i, _)| i).unwrap_or(0)])
    } else {
        s.to_string()
    }
}

/// Every strict prefix of every fixture's first pickle is an error, never a panic.
#[test]
fn every_truncation_is_an_error() {
    let mut n = 0u64;
    for (name, flags) in manifest() {
        let data = std::fs::read(fixtures().join("pickles").join(format!("{name}.pkl"))).unwrap();
        let mut u = Unpickler::new(options(&flags));
        let Ok((_, rest)) = u.loads_prefix(&data) else { continue };
        let len = data.len() - rest.len();
        // All prefixes of small pickles; a sample plus the tail of large ones.
        let step = (len / 3000).max(1);
        let cuts = (0..len).step_by(step).chain(len.saturating_sub(64)..len);
        for cut in cuts {
            let r = u.loads(&data[..cut]);
            assert!(r.is_err(), "{name}: prefix of {cut} of {len} bytes decoded");
            n += 1;
        }
    }
    eprintln!("{n} truncations checked");
}

/// The pickles CPython refuses (its own bad-input vectors among them) are errors.
#[test]
fn bad_pickles_are_errors() {
    let dir = fixtures().join("bad");
    let mut n = 0;
    let mut accepted = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("pkl") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let kind = std::fs::read_to_string(path.with_extension("err")).unwrap_or_default();
        let r = Unpickler::default().loads_all(&data);
        if kind.starts_with("import") {
            // CPython refuses these only because it cannot import the class;
            // pyckle imports nothing and records the global.
            assert!(r.is_ok(), "{}: {:?}", path.display(), r.err());
            continue;
        }
        if r.is_ok_and(|graphs| !graphs.is_empty()) {
            accepted.push(path.file_name().unwrap().to_string_lossy().to_string());
        }
        n += 1;
    }
    assert!(accepted.is_empty(), "CPython refuses these, pyckle decoded them: {accepted:?}");
    assert!(n >= 20, "only {n} bad pickles");
    eprintln!("{n} bad pickles refused");
}
