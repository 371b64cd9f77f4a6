//! `pyckle::dis::dis` against the recorded output of `python3 -m pickletools`
//! (`tests/fixtures/expected/NAME.dis`, and `NAME.dis-a` for `-a`), byte for
//! byte; plus robustness: every prefix of every fixture (good and bad)
//! disassembles or fails cleanly, never panics, and prints a prefix of the
//! full disassembly.
//!
//! The fixture directory is `tests/fixtures` at the repository root, or
//! `$PYCKLE_FIXTURES` when set.

use std::path::{Path, PathBuf};

use pyckle::dis::{dis, DisOptions};

fn fixtures() -> PathBuf {
    match std::env::var_os("PYCKLE_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures"),
    }
}

/// Files in `dir` whose names end with `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(suffix)))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn run(data: &[u8], annotate: usize) -> (Vec<u8>, pyckle::Result<usize>) {
    let mut out = Vec::new();
    let r = dis(data, &mut out, &DisOptions { annotate, indentlevel: 4 });
    (out, r)
}

/// The first differing line, for the failure report.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let w: Vec<&[u8]> = want.split_inclusive(|&b| b == b'\n').collect();
    let g: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied().unwrap_or(b"<none>"), g.get(i).copied().unwrap_or(b"<none>"));
        if a != b {
            return format!(
                "line {}:\n  want {:?}\n  got  {:?}",
                i + 1,
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
    }
    "outputs are equal".into()
}

#[test]
fn dis_matches_recorded_pickletools_output() {
    let root = fixtures();
    let expected_dir = root.join("expected");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (suffix, annotate) in [(".dis", 0usize), (".dis-a", 30)] {
        for exp in files_ending(&expected_dir, suffix) {
            let file = exp.file_name().unwrap().to_str().unwrap();
            let name = &file[..file.len() - suffix.len()];
            let pkl = root.join("pickles").join(format!("{name}.pkl"));
            let (Ok(want), Ok(data)) = (std::fs::read(&exp), std::fs::read(&pkl)) else {
                failures.push(format!("{file}: cannot read {}", pkl.display()));
                continue;
            };
            checked += 1;
            let (got, r) = run(&data, annotate);
            match &r {
                Err(e) => failures.push(format!("{file}: error {e}\n{}", first_difference(&want, &got))),
                Ok(n) if got != want => {
                    failures.push(format!("{file}: consumed {n}\n{}", first_difference(&want, &got)))
                }
                Ok(n) if *n > data.len() || (!name.starts_with("multi_") && *n != data.len()) => {
                    failures.push(format!("{file}: consumed {n} of {} bytes", data.len()))
                }
                Ok(_) => {}
            }
        }
    }
    eprintln!("compared {checked} recorded disassemblies");
    assert!(failures.is_empty(), "{} of {checked} differ:\n{}", failures.len(), failures.join("\n=====\n"));
}

/// Every prefix of every fixture: no panic; for good fixtures, the output is
/// a prefix of the full disassembly, and only the full pickle succeeds.
#[test]
fn every_truncation_fails_cleanly() {
    let root = fixtures();
    let mut files = files_ending(&root.join("pickles"), ".pkl");
    let good = files.len();
    files.extend(files_ending(&root.join("bad"), ".pkl"));
    let mut failures = Vec::new();
    let mut prefixes = 0usize;
    for (i, path) in files.iter().enumerate() {
        let Ok(data) = std::fs::read(path) else { continue };
        let (full, full_result) = run(&data, 30);
        // Keep the quadratic cost bounded on large fixtures.
        let step = (data.len() / 500).max(1);
        for cut in (0..data.len()).step_by(step) {
            prefixes += 1;
            let prefix = &data[..cut];
            let (out, r) = run(prefix, 30);
            if i < good {
                if let Ok(n) = full_result {
                    if cut < n && r.is_ok() {
                        failures.push(format!("{}: prefix of {cut} bytes succeeded", path.display()));
                    }
                    if !full.starts_with(&out) {
                        failures.push(format!(
                            "{}: output for prefix of {cut} bytes is not a prefix of the full output\n{}",
                            path.display(),
                            first_difference(&full, &out)
                        ));
                    }
                }
            }
        }
    }
    eprintln!("disassembled {prefixes} prefixes of {} files", files.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Bad pickles (those CPython refuses) must not panic the disassembler.
#[test]
fn bad_fixtures_do_not_panic() {
    let root = fixtures();
    for path in files_ending(&root.join("bad"), ".pkl") {
        let data = std::fs::read(&path).unwrap();
        for annotate in [0, 30] {
            let _ = run(&data, annotate);
        }
    }
}

/// Random byte strings over the opcode alphabet (plus digits, newlines and
/// arbitrary bytes): the disassembler must never panic.
#[test]
fn random_inputs_do_not_panic() {
    let alphabet: Vec<u8> =
        (0u8..=255).filter(|&b| pyckle::opcode::info(b).is_some()).chain(*b"0123456789\n'\"\\_-+. LuUx").collect();
    let mut state: u64 = 0x1234_5678_9ABC_DEF1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20000 {
        let len = (next() % 40) as usize;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if r % 5 == 0 {
                    (r >> 8) as u8
                } else {
                    alphabet[(r >> 8) as usize % alphabet.len()]
                }
            })
            .collect();
        for annotate in [0, 30] {
            let _ = run(&data, annotate);
        }
    }
}
