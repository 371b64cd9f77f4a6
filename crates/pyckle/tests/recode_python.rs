//! Differential test against CPython, where python3 and shared/spec exist:
//! every fixture decoded and re-encoded by pyckle at every protocol, and
//! every fixture's canonical JSON turned back into a pickle
//! (`json::from_canonical` + `dumps`), loads in CPython to the fixture's
//! objects: tests/fixtures/check_recoded.py renders each with canonical.py
//! and compares with expected/NAME.json. Skips (with a message) when
//! python3 or canonical.py is missing.

mod common;

use common::{fixtures, manifest, options};
use pyckle::Unpickler;
use std::process::Command;

fn check(dir: &std::path::Path) -> bool {
    let out = Command::new("python3").arg(fixtures().join("check_recoded.py")).arg(dir).output();
    match out {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            eprint!("{text}{}", String::from_utf8_lossy(&o.stderr));
            assert!(o.status.success(), "CPython loads some of pyckle's pickles to other objects (above)");
            true
        }
        Err(e) => {
            eprintln!("skipped: no python3 ({e})");
            false
        }
    }
}

#[test]
fn cpython_loads_every_recoding_to_the_fixtures_objects() {
    if !fixtures().join("../../../shared/spec/canonical.py").exists() {
        eprintln!("skipped: ../shared/spec/canonical.py not found");
        return;
    }
    let dir = std::env::temp_dir().join(format!("pyckle-recode-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, flags) in manifest() {
        let data = std::fs::read(fixtures().join("pickles").join(format!("{name}.pkl"))).unwrap();
        let graphs = Unpickler::new(options(&flags)).loads_all(&data).unwrap();
        for p in 0..=5u8 {
            let mut out = Vec::new();
            if graphs.iter().all(|g| pyckle::dump(g, &mut out, p).is_ok()) {
                std::fs::write(dir.join(format!("{name}.p{p}.pkl")), out).unwrap();
            }
        }
    }
    let ran = check(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    if !ran {
        return;
    }
    // From canonical JSON back to a pickle, at the fixture's protocol when it
    // can express the document (persistent ids and buffers need 1 and 5).
    std::fs::create_dir_all(&dir).unwrap();
    for (name, _) in manifest() {
        let text = std::fs::read_to_string(fixtures().join("expected").join(format!("{name}.json"))).unwrap();
        let graphs = pyckle::json::from_canonical_lines(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let proto = std::fs::read(fixtures().join("pickles").join(format!("{name}.pkl")))
            .map(|d| if d.first() == Some(&0x80) { d[1] } else { 4 })
            .unwrap();
        let mut out = Vec::new();
        if graphs.iter().all(|g| pyckle::dump(g, &mut out, proto).is_ok()) {
            std::fs::write(dir.join(format!("{name}.p{proto}.pkl")), out).unwrap();
        }
    }
    check(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}
