//! Decodes arbitrary bytes and writes what decoded at every protocol. The
//! pickler may refuse a graph (with an error, never a panic), and what it
//! writes must be a well-formed pickle (pickletools' rules, via `dis`) that
//! decodes, and that encodes again to the same bytes: after one round the
//! pickler is at a fixed point (two rounds when Python 2 names from a
//! protocol 3+ pickle are written below 3 and read back renamed). Where the graph has no object records (whose
//! form can change with the protocol), the decoded pickle has the same
//! canonical JSON as the original.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = pyckle::DecodeOptions::default();
    opts.limits.max_alloc = 64 << 20;
    opts.limits.max_depth = 100_000;
    let mut u = pyckle::Unpickler::new(opts.clone());
    let Ok(g) = u.loads(data) else { return };
    let records = g.objects().any(|(_, o)| matches!(o, pyckle::Object::Record(_)));
    let mut want = String::new();
    let canonical = pyckle::json::canonical(&g, &mut want).is_ok();
    for p in 0..=5u8 {
        // Sets in insertion order, so that canonical JSON (which keeps the
        // graph's order of set items) can compare equal.
        let eo = pyckle::EncodeOptions { protocol: p, set_order: pyckle::SetOrder::Insertion, ..Default::default() };
        let Ok(out) = pyckle::dumps_with(&g, &eo) else { continue };
        let mut sink = std::io::sink();
        // pickletools reads text arguments by its own rules (GLOBAL names as
        // ASCII with escapes, though CPython writes and reads them raw, and
        // UTF-8 at protocol 3; no int of more than 4300 digits): only the
        // structure of what we wrote must satisfy it.
        if let Err(e) = pyckle::dis::dis(&out, &mut sink, &Default::default()) {
            use pyckle::ErrorKind as K;
            let structural = matches!(
                e.kind(),
                K::Truncated(_) | K::StackUnderflow | K::MissingMark | K::MemoMissing(_) | K::UnknownOpcode(_) | K::BadStop(_)
            );
            assert!(!structural, "protocol {p}: pickletools refuses our pickle: {e}");
        }
        let mut u2 = pyckle::Unpickler::new(opts.clone());
        let g2 = u2.loads(&out).unwrap_or_else(|e| panic!("protocol {p}: our pickle does not decode: {e}"));
        let again = pyckle::dumps_with(&g2, &eo).unwrap_or_else(|e| panic!("protocol {p}: second encoding fails: {e}"));
        // Python 2 names in a pickle of protocol 3 or more stay as they are;
        // written below 3 they are read back as their Python 3 names (as by
        // CPython), which may change the graph once. After that round the
        // encoding must not change.
        let renamed = p < 3 && g.protocol() >= 3;
        if again != out {
            assert!(renamed, "protocol {p}: encoding is not at a fixed point");
            let g3 = pyckle::Unpickler::new(opts.clone())
                .loads(&again)
                .unwrap_or_else(|e| panic!("protocol {p}: our second pickle does not decode: {e}"));
            let third = pyckle::dumps_with(&g3, &eo).unwrap_or_else(|e| panic!("protocol {p}: third encoding: {e}"));
            assert!(third == again, "protocol {p}: encoding is not at a fixed point after renaming");
        }
        if canonical && !records && !renamed {
            let mut got = String::new();
            pyckle::json::canonical(&g2, &mut got).expect("canonical");
            assert_eq!(got, want, "protocol {p}: canonical JSON changed");
        }
    }
});
