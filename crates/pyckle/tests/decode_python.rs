//! Differential test against CPython, where python3 and shared/spec exist:
//! random graphs (sharing, cycles, every core type, every protocol) pickled
//! by python3 decode to the canonical JSON CPython's own loader gives.
//! Skips (with a message) when python3 or canonical.py is missing.

use std::path::Path;
use std::process::Command;

#[test]
fn random_pickles_match_cpython() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let canonical_py = manifest.join("../../../shared/spec/canonical.py");
    if !canonical_py.exists() {
        eprintln!("skipped: {} not found", canonical_py.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("pyckle-decode-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seeds: u64 = std::env::var("PYCKLE_DECODE_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let count = 600;
    let mut checked = 0;
    for seed in 0..seeds {
        let status = Command::new("python3")
            .arg(manifest.join("tests/decode_gen.py"))
            .arg(&canonical_py)
            .arg(&dir)
            .arg(seed.to_string())
            .arg(count.to_string())
            .env("PYTHONHASHSEED", "0")
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("decode_gen.py failed: {s}"),
            Err(e) => {
                eprintln!("skipped: no python3 ({e})");
                return;
            }
        }
        for i in 0..count {
            let data = std::fs::read(dir.join(format!("{i}.pkl"))).unwrap();
            let want = std::fs::read_to_string(dir.join(format!("{i}.json"))).unwrap();
            let g = pyckle::loads(&data).unwrap_or_else(|e| panic!("seed {seed} #{i}: {e}"));
            let mut got = String::new();
            pyckle::json::canonical(&g, &mut got).unwrap();
            if got != want {
                // Set items may come in another order. serde_json refuses lone
                // surrogate escapes, so hide them (alike on both sides) first.
                let norm = |s: &str| normalize(serde_json::from_str(&s.replace("\\ud", "\\\\ud")).unwrap());
                assert_eq!(norm(&got), norm(&want), "seed {seed} #{i} (protocol {})", i % 6);
            }
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{checked} random pickles equal to CPython's");
}

/// Sorts set and frozenset items, as canonical.py --compare does.
fn normalize(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::Array(a) => J::Array(a.into_iter().map(normalize).collect()),
        J::Object(m) => J::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut v = normalize(v);
                    if let (true, J::Array(items)) = (k == "set" || k == "frozenset", &mut v) {
                        items.sort_by_key(|x| x.to_string());
                    }
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}
