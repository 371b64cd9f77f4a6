//! Differential test: `pyckle::dis::dis` against `pickletools.dis` of the
//! local python3, on a few hundred generated pickles (valid ones of every
//! protocol, hand-made Python 2 style ones, and corrupted ones).
//! Skips silently when python3 is not available.

use std::path::PathBuf;
use std::process::Command;

use pyckle::dis::{dis, DisOptions};

/// The generator script (next to this file).
const GENERATOR: &str = include_str!("dis_gen.py");

fn python3() -> Option<String> {
    let ok = Command::new("python3")
        .args(["-c", "import sys; assert sys.version_info >= (3, 11)"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then(|| "python3".to_string())
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// Runs the generator and returns its cases.
fn generate(count: usize, seed: u64) -> Option<Vec<serde_json::Value>> {
    let py = python3()?;
    let dir = std::env::temp_dir();
    let tag = format!("{}-{seed}", std::process::id());
    let script: PathBuf = dir.join(format!("pyckle-dis-gen-{tag}.py"));
    std::fs::write(&script, GENERATOR).unwrap();
    let out = dir.join(format!("pyckle-dis-cases-{tag}.json"));
    let status = Command::new(py).arg(&script).arg(&out).arg(count.to_string()).arg(seed.to_string()).status().ok()?;
    assert!(status.success(), "dis_gen.py failed");
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&script);
    match serde_json::from_str::<serde_json::Value>(&text).unwrap() {
        serde_json::Value::Array(v) => Some(v),
        _ => panic!("bad json"),
    }
}

/// The first differing line of two outputs, with its line number.
fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.split_inclusive('\n').collect(), got.split_inclusive('\n').collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied().unwrap_or("<none>"), g.get(i).copied().unwrap_or("<none>"));
        if a != b {
            return format!("line {}:\n  want {a:?}\n  got  {b:?}", i + 1);
        }
    }
    "outputs are equal".to_string()
}

fn check_cases(cases: &[serde_json::Value]) {
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = hex_decode(case["pkl"].as_str().unwrap());
        for annotate in [0usize, 30] {
            let want = case[format!("out{annotate}")].as_str().unwrap();
            let want_err = case[format!("err{annotate}")].as_bool().unwrap();
            let mut out = Vec::new();
            let r = dis(&data, &mut out, &DisOptions { annotate, indentlevel: 4 });
            let got = String::from_utf8_lossy(&out);
            if got != want || r.is_err() != want_err {
                failures.push(format!(
                    "{name} (annotate={annotate}): error want {want_err} got {:?}\npickle: {}\n{}",
                    r.as_ref().err().map(|e| e.to_string()),
                    case["pkl"].as_str().unwrap(),
                    first_difference(want, &got)
                ));
            }
        }
    }
    if !failures.is_empty() {
        let shown: Vec<_> = failures.iter().take(15).cloned().collect();
        panic!("{} of {} cases differ:\n{}", failures.len(), cases.len() * 2, shown.join("\n=====\n"));
    }
}

#[test]
fn dis_matches_pickletools() {
    let Some(cases) = generate(300, 12345) else { return };
    assert!(cases.len() > 300);
    check_cases(&cases);
}

#[test]
fn dis_matches_pickletools_other_seeds() {
    // PYCKLE_DIS_SEEDS=N runs seeds 1..=N instead of 1..=3 (for long runs).
    let seeds: u64 = std::env::var("PYCKLE_DIS_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    for seed in 1..=seeds {
        let Some(cases) = generate(150, seed) else { return };
        check_cases(&cases);
    }
}
