//! Differential test: `pyckle::pyrepr` against the local python3's `repr()`
//! of str, bytes, bytearray and float: every code point (in chunks of 256),
//! thousands of random strings (lone surrogates included), random bytes and
//! random floats (random bit patterns and decimal edge cases).
//! Skips silently when python3 (3.11 or later) is not available.

use std::io::Write;
use std::process::{Command, Stdio};

use pyckle::pyrepr::{push_code_point, repr_bytearray, repr_bytes, repr_float, repr_str};

/// Reads lines `KIND HEX` and prints the repr of each value.
const SCRIPT: &str = r#"
import struct, sys
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    kind, _, hexdata = line.strip().partition(b" ")
    data = bytes.fromhex(hexdata.decode())
    if kind == b"s":
        r = repr(data.decode("utf-8", "surrogatepass"))
    elif kind == b"b":
        r = repr(data)
    elif kind == b"a":
        r = repr(bytearray(data))
    else:
        r = repr(struct.unpack("<d", data)[0])
    out.write(r.encode("utf-8") + b"\n")
"#;

fn python_ok() -> bool {
    Command::new("python3")
        .args(["-c", "import sys; assert sys.version_info[:2] == (3, 11)"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A small deterministic PRNG (xorshift64*), so the test needs no crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

enum Case {
    Str(Vec<u8>),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    Float(f64),
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // Every code point, 256 at a time (checks the whole printable table).
    for chunk in 0..(0x110000 / 256) {
        let mut s = Vec::new();
        for cp in chunk * 256..(chunk + 1) * 256 {
            push_code_point(&mut s, cp);
        }
        cases.push(Case::Str(s));
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Random strings mixing quotes, backslashes, controls and all planes.
    let specials: &[u32] = &[
        0x27, 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x00, 0x7F, 0x80, 0xA0, 0xAD, 0xD800, 0xDFFF, 0x2028, 0xFEFF, 0x1F600,
        0xE0001, 0x10FFFF, 0x20,
    ];
    for _ in 0..5000 {
        let n = rng.below(12);
        let mut s = Vec::new();
        for _ in 0..n {
            let cp = match rng.below(6) {
                0 => 0x20 + rng.below(0x5F) as u32,
                1 => rng.below(0x100) as u32,
                2 => rng.below(0x3000) as u32,
                3 => rng.below(0x110000) as u32,
                4 => 0xD800 + rng.below(0x800) as u32,
                _ => specials[rng.below(specials.len() as u64) as usize],
            };
            push_code_point(&mut s, cp);
        }
        cases.push(Case::Str(s));
    }
    for i in 0..3000 {
        let n = rng.below(10) as usize;
        let pool = b"'\"\\\t\n\r\x00\x7f\x80\xffab ";
        let b: Vec<u8> = (0..n)
            .map(|_| if rng.below(2) == 0 { pool[rng.below(pool.len() as u64) as usize] } else { rng.below(256) as u8 })
            .collect();
        cases.push(if i % 3 == 0 { Case::ByteArray(b) } else { Case::Bytes(b) });
    }
    let edges = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        0.00012345,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        123456789012345678.0,
        1.5e300,
        0.3,
        2.0 / 3.0,
        1e22,
        1e23,
        1e-7,
        100.0,
        12345.678,
    ];
    cases.extend(edges.iter().map(|&f| Case::Float(f)));
    for i in 0..20000 {
        let f = match i % 4 {
            0 => f64::from_bits(rng.next()),
            // Short decimals: 1 to 17 digits times a power of ten.
            1 => {
                let digits = 1 + rng.below(17) as u32;
                let m = rng.below(10u64.pow(digits.min(19))) as f64;
                m * 10f64.powi(rng.below(60) as i32 - 30)
            }
            2 => (rng.below(1 << 53) as f64) / (1u64 << rng.below(60)) as f64,
            _ => f64::from_bits(rng.below(1 << 20)) * if rng.below(2) == 0 { 1.0 } else { -1.0 },
        };
        cases.push(Case::Float(f));
    }
    cases
}

#[test]
fn repr_matches_python() {
    if !python_ok() {
        return;
    }
    let cases = cases();
    let mut input = String::new();
    let mut ours = Vec::new();
    for case in &cases {
        match case {
            Case::Str(s) => {
                input.push_str(&format!("s {}\n", hex(s)));
                ours.push(repr_str(s));
            }
            Case::Bytes(b) => {
                input.push_str(&format!("b {}\n", hex(b)));
                ours.push(repr_bytes(b));
            }
            Case::ByteArray(b) => {
                input.push_str(&format!("a {}\n", hex(b)));
                ours.push(repr_bytearray(b));
            }
            Case::Float(f) => {
                input.push_str(&format!("f {}\n", hex(&f.to_le_bytes())));
                ours.push(repr_float(*f));
            }
        }
    }
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    let theirs = String::from_utf8(output.stdout).unwrap();
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(theirs.len(), ours.len());
    let mut failures = Vec::new();
    for (i, (t, o)) in theirs.iter().zip(&ours).enumerate() {
        if t != o {
            failures.push(format!("case {i}: python {t:?}\n          pyckle {o:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        ours.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}
