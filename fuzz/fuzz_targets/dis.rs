//! Disassembles arbitrary bytes as pickletools would. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = pyckle::dis::dis(data, &mut out, &pyckle::dis::DisOptions::default());
    let mut out = Vec::new();
    let opts = pyckle::dis::DisOptions { annotate: 30, ..Default::default() };
    let _ = pyckle::dis::dis(data, &mut out, &opts);
});
