//! Decodes arbitrary bytes from a slice, then renders what decoded in both
//! JSON forms and the info summary. Nothing may panic, hang or abort.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = pyckle::DecodeOptions::default();
    // Small limits keep each run fast and exercise the limit paths.
    opts.limits.max_alloc = 64 << 20;
    opts.limits.max_depth = 100_000;
    let mut u = pyckle::Unpickler::new(opts);
    if let Ok(graphs) = u.loads_all(data) {
        for g in &graphs {
            let mut s = String::new();
            let _ = pyckle::json::canonical(g, &mut s);
            let mut f = String::new();
            pyckle::json::friendly::friendly(g, &mut f, true);
        }
    }
    let _ = pyckle::info::info(data);
});
