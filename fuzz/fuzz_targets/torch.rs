//! Opens arbitrary bytes as a torch checkpoint (zip, TorchScript, legacy
//! stream, tar), then views every tensor and copies it out contiguously.
//! Nothing may panic, hang, abort or allocate beyond what the input
//! justifies (deflated entries: deflate's ratio at most).
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyckle_torch::Checkpoint;

/// Copies larger than this are skipped: an expanded view (zero strides)
/// may legitimately ask for up to `MAX_EXPANDED_COPY` bytes, which is the
/// caller's choice, not a finding.
const MAX_COPY: u64 = 16 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Checkpoint::from_bytes(data.to_vec()) else { return };
    let _ = (c.format(), c.byte_order(), c.version(), c.graph().len());
    for key in c.storage_keys() {
        if let Ok(b) = c.storage_bytes(key) {
            std::hint::black_box(b.iter().fold(0u8, |a, &x| a ^ x));
        }
    }
    for (name, t) in c.tensors() {
        let _ = c.tensor(pyckle::Value::None);
        let _ = (name.len(), t.extent_bytes());
        let Ok(v) = c.view(t) else { continue };
        match v.nbytes() {
            Ok(n) if n <= MAX_COPY => {
                if let Ok(bytes) = v.to_contiguous_bytes() {
                    assert_eq!(bytes.len() as u64, n);
                }
                let _ = v.to_f64_vec();
            }
            _ => {}
        }
    }
});
