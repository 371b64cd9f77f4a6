//! Differential test of the registry's writing against CPython (skips with
//! a message without python3): a Rust Greeter, registered by hand, written
//! by `Registry::dumps` at every protocol, loads in CPython as the talk's
//! `__main__.Greeter` (tests/fixtures/talk/greet.py), whose `greet()` says
//! hello with the Rust value's name.

use pyckle::classes::Registry;
use std::path::Path;
use std::process::Command;

/// The talk's Greeter, as the example teaches it by hand.
#[allow(dead_code)]
#[path = "../examples/greeter.rs"]
mod greeter_example;
use greeter_example::HandGreeter as Greeter;

#[test]
fn rust_greeters_greet_in_python_at_every_protocol() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("../../tests/fixtures/talk/greet.py");
    let dir = std::env::temp_dir().join(format!("pyckle-registry-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut classes = Registry::new();
    classes.register::<Greeter>();
    let names = ["Gopher", "Ferris \u{1f980}", "Zo\u{eb}", "line\nbreak \\ quote'\"", ""];
    let mut files = Vec::new();
    let mut want = Vec::new();
    for p in 0..=5u8 {
        for name in names {
            let data = classes.dumps(&Greeter { name: name.to_string() }, p).unwrap();
            // pyckle reads back what it wrote.
            let graph = pyckle::loads(&data).unwrap();
            assert_eq!(classes.load::<Greeter>(&graph, graph.root()).unwrap().name, name);
            let file = dir.join(format!("greeter_{}_p{p}.pkl", files.len()));
            std::fs::write(&file, &data).unwrap();
            files.push(file);
            want.push(format!("Hi, {name}!"));
        }
    }
    let out = match Command::new("python3").env("PYTHONIOENCODING", "utf-8").arg(&script).args(&files).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: no python3 ({e})");
            return;
        }
    };
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "greet.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // One greeting per file; a name may hold a newline, so compare the whole text.
    let expected: String = want.iter().map(|w| format!("{w}\n")).collect();
    assert_eq!(text, expected);
    assert_eq!(text.matches("Hi, Gopher!").count(), 6);
}
