//! Decodes arbitrary bytes from a buffered reader (tiny buffer, so every
//! read straddles) and from an unbuffered reader, pickle after pickle, and
//! checks they agree with the slice decoder.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::BufReader;

fuzz_target!(|data: &[u8]| {
    let mut opts = pyckle::DecodeOptions::default();
    opts.limits.max_alloc = 64 << 20;
    opts.limits.max_depth = 100_000;
    let mut u = pyckle::Unpickler::new(opts.clone());
    let mut reader = BufReader::with_capacity(3, data);
    let mut unbuffered = data;
    let mut rest = data;
    loop {
        let from_reader = u.load(&mut reader);
        // The unbuffered, frame-reading path must agree with the buffered one.
        let from_unbuffered = u.load_unbuffered(&mut unbuffered);
        if let (Ok(a), Ok(b)) = (&from_reader, &from_unbuffered) {
            let (mut x, mut y) = (String::new(), String::new());
            let _ = pyckle::json::canonical(a, &mut x);
            let _ = pyckle::json::canonical(b, &mut y);
            assert_eq!(x, y, "buffered and unbuffered readers disagree");
        }
        let from_slice = pyckle::Unpickler::new(opts.clone()).loads_prefix(rest);
        match (from_reader, from_slice) {
            (Ok(a), Ok((b, tail))) => {
                let (mut x, mut y) = (String::new(), String::new());
                let ra = pyckle::json::canonical(&a, &mut x);
                let rb = pyckle::json::canonical(&b, &mut y);
                assert_eq!(ra.is_ok(), rb.is_ok());
                assert_eq!(x, y, "reader and slice decoders disagree");
                rest = tail;
            }
            // A FRAME longer than the input is refused by the slice decoder
            // up front; the reader only sees the end when it gets there.
            (a, _) => {
                if let Err(e) = a {
                    let _ = e.to_string();
                }
                break;
            }
        }
    }
});
