//! Text literals of the protocol-0 opcodes, parsed with CPython's semantics.
//!
//! Each function takes the argument line without its trailing `\n` and
//! returns either the value or a short message for a
//! [`MalformedLiteral`](crate::ErrorKind::MalformedLiteral) error.

use num_bigint::BigInt;
use num_traits::{Num, ToPrimitive, Zero};

/// The value of an INT line: CPython turns `I00`/`I01` into booleans.
#[derive(Debug, Clone, PartialEq)]
pub enum IntLit {
    Bool(bool),
    Small(i64),
    Big(BigInt),
}

impl IntLit {
    /// An integer, small when it fits in `i64`.
    pub fn from_bigint(v: BigInt) -> IntLit {
        match v.to_i64() {
            Some(i) => IntLit::Small(i),
            None => IntLit::Big(v),
        }
    }
}

/// C strings end at NUL: CPython's parsers stop there.
fn c_str(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b == 0) {
        Some(n) => &line[..n],
        None => line,
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// C's `strtol(s, &end, 0)` on a 64-bit `long`: `Some((value, consumed))`,
/// or `None` on overflow. `consumed` is 0 when no digits were found.
fn strtol0(s: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = 10u32;
    if i < s.len() && s[i] == b'0' {
        if i + 2 < s.len() && (s[i + 1] == b'x' || s[i + 1] == b'X') && (s[i + 2] as char).is_ascii_hexdigit() {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    let start = i;
    let mut acc: i128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d,
            None => break,
        };
        if !overflow {
            acc = acc * base as i128 + d as i128;
            if acc > i64::MAX as i128 + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == start {
        return Some((0, 0));
    }
    let v = if neg { -acc } else { acc };
    if overflow || v > i64::MAX as i128 || v < i64::MIN as i128 {
        return None;
    }
    Some((v as i64, i))
}

/// Python's `int(s, base)` syntax (`PyLong_FromString`): surrounding white
/// space, a sign, a `0x`/`0o`/`0b` prefix when `base` is 0, underscores
/// between digits, and no leading zeros on a non-zero decimal in base 0.
pub fn parse_python_int(s: &[u8], base: u32) -> Result<BigInt, String> {
    let err = || format!("invalid literal for int() with base {base}: {}", String::from_utf8_lossy(s));
    let t = c_str(s);
    let t = trim_ascii_ws(t);
    let (neg, mut t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut radix = base;
    let mut prefixed = false;
    if t.len() >= 2 && t[0] == b'0' {
        let p = t[1].to_ascii_lowercase();
        let pr = match p {
            b'x' => Some(16),
            b'o' => Some(8),
            b'b' => Some(2),
            _ => None,
        };
        if let Some(pr) = pr {
            if base == 0 || base == pr {
                radix = pr;
                prefixed = true;
                t = &t[2..];
            }
        }
    }
    if radix == 0 {
        radix = 10;
    }
    // Underscores: one at a time, between digits (or right after a prefix).
    let mut digits = Vec::with_capacity(t.len());
    let mut prev_underscore = false;
    for (i, &c) in t.iter().enumerate() {
        if c == b'_' {
            if prev_underscore || (i == 0 && !prefixed) {
                return Err(err());
            }
            prev_underscore = true;
            continue;
        }
        if !(c as char).is_digit(radix) {
            return Err(err());
        }
        prev_underscore = false;
        digits.push(c);
    }
    if digits.is_empty() || prev_underscore {
        return Err(err());
    }
    if base == 0 && !prefixed && digits[0] == b'0' && digits.iter().any(|&d| d != b'0') {
        return Err(err());
    }
    // Safe: every byte is an ASCII digit of `radix`.
    let text = std::str::from_utf8(&digits).map_err(|_| err())?;
    let v = BigInt::from_str_radix(text, radix).map_err(|_| err())?;
    Ok(if neg { -v } else { v })
}

fn trim_ascii_ws(s: &[u8]) -> &[u8] {
    let mut a = 0;
    let mut b = s.len();
    while a < b && (s[a].is_ascii_whitespace() || s[a] == 0x0b) {
        a += 1;
    }
    while b > a && (s[b - 1].is_ascii_whitespace() || s[b - 1] == 0x0b) {
        b -= 1;
    }
    &s[a..b]
}

/// The INT opcode (`load_int`): `strtol` in base 0, falling back to
/// Python's `int()` for what does not fit; `I00`/`I01` (any 2-character
/// line worth 0 or 1) are booleans.
pub fn parse_int_line(line: &[u8]) -> Result<IntLit, String> {
    if line.is_empty() {
        return Err("INT argument is empty".into());
    }
    let s = c_str(line);
    let full = s.len() == line.len();
    if let Some((x, used)) = strtol0(s) {
        // CPython accepts when strtol stopped at the newline or at a NUL.
        if (used == s.len() && used > 0) || (used == 0 && s.is_empty() && !full) {
            if line.len() == 2 && (x == 0 || x == 1) {
                return Ok(IntLit::Bool(x == 1));
            }
            return Ok(IntLit::Small(x));
        }
    }
    parse_python_int(line, 0).map(IntLit::from_bigint).map_err(|_| "could not convert string to int".to_string())
}

/// The LONG opcode (`load_long`): Python's `int()` in base 0, after
/// dropping the trailing `L` that Python 2 writes.
pub fn parse_long_line(line: &[u8]) -> Result<BigInt, String> {
    if line.is_empty() {
        return Err("LONG argument is empty".into());
    }
    let s = if line.last() == Some(&b'L') { &line[..line.len() - 1] } else { line };
    parse_python_int(s, 0)
}

/// A decimal line (the PUT and GET arguments): Python's `int(s, 10)`.
pub fn parse_decimal_line(line: &[u8]) -> Result<BigInt, String> {
    parse_python_int(line, 10)
}

/// The FLOAT opcode: `PyOS_string_to_double`, which takes `inf`, `infinity`
/// and `nan` in any case with a sign, and refuses a finite literal that
/// overflows.
pub fn parse_float_line(line: &[u8]) -> Result<f64, String> {
    let s = c_str(line);
    let err = || format!("could not convert string to float: {}", String::from_utf8_lossy(line));
    let (sign, body) = match s.first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == b"inf" || lower == b"infinity" {
        return Ok(sign * f64::INFINITY);
    }
    if lower == b"nan" {
        return Ok(if sign < 0.0 { -f64::NAN } else { f64::NAN });
    }
    // digits [. digits] [e [sign] digits], at least one digit in the mantissa
    let mut i = 0;
    let mut mant_digits = 0;
    while i < body.len() && body[i].is_ascii_digit() {
        i += 1;
        mant_digits += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            i += 1;
            mant_digits += 1;
        }
    }
    if mant_digits == 0 {
        return Err(err());
    }
    if i < body.len() && (body[i] == b'e' || body[i] == b'E') {
        let mut j = i + 1;
        if j < body.len() && (body[j] == b'+' || body[j] == b'-') {
            j += 1;
        }
        let k = j;
        while j < body.len() && body[j].is_ascii_digit() {
            j += 1;
        }
        if j > k {
            i = j;
        }
    }
    if i != body.len() {
        return Err(err());
    }
    let text = std::str::from_utf8(body).map_err(|_| err())?;
    let v: f64 = text.parse().map_err(|_| err())?;
    if v.is_infinite() {
        return Err("float literal out of range".into());
    }
    Ok(sign * v)
}

/// LONG1/LONG4 payloads: little-endian two's complement.
pub fn decode_long_le(bytes: &[u8]) -> BigInt {
    if bytes.is_empty() {
        BigInt::zero()
    } else {
        BigInt::from_signed_bytes_le(bytes)
    }
}

/// The STRING opcode (`load_string`): the argument must be quoted with
/// matching `'` or `"`; the inside is decoded with Python's string escapes
/// (`codecs.escape_decode`).
pub fn unquote_string(line: &[u8]) -> Result<Vec<u8>, String> {
    let n = line.len();
    if n >= 2 && line[0] == line[n - 1] && (line[0] == b'\'' || line[0] == b'"') {
        escape_decode(&line[1..n - 1])
    } else {
        Err("the STRING opcode argument must be quoted".into())
    }
}

/// `codecs.escape_decode`: the escapes of a Python bytes literal.
pub fn escape_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err("Trailing \\ in string".into());
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
                match (hex(s.get(i)), hex(s.get(i + 1))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => return Err(format!("invalid \\x escape at position {}", i - 2)),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// The UNICODE opcode: `raw-unicode-escape`. Bytes are Latin-1 code points,
/// except `\uXXXX` and `\UXXXXXXXX` after an odd run of backslashes.
/// Returns generalized UTF-8 (lone surrogates allowed).
pub fn raw_unicode_escape(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            crate::pyrepr::push_code_point(&mut out, c as u32);
            i += 1;
            continue;
        }
        let run_start = i;
        while i < s.len() && s[i] == b'\\' {
            i += 1;
        }
        let run = i - run_start;
        let escape = run % 2 == 1 && matches!(s.get(i), Some(b'u') | Some(b'U'));
        let literal = if escape { run - 1 } else { run };
        out.extend(std::iter::repeat(b'\\').take(literal));
        if !escape {
            continue;
        }
        let width = if s[i] == b'u' { 4 } else { 8 };
        let digits = s.get(i + 1..i + 1 + width);
        let cp = digits
            .filter(|d| d.iter().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(std::str::from_utf8(d).ok()?, 16).ok());
        match cp {
            Some(cp) if cp <= 0x10ffff => crate::pyrepr::push_code_point(&mut out, cp),
            Some(_) => return Err("\\Uxxxxxxxx out of range".into()),
            None => {
                return Err(format!(
                    "truncated \\{}{} escape",
                    s[i] as char,
                    if width == 4 { "XXXX" } else { "XXXXXXXX" }
                ))
            }
        }
        i += 1 + width;
    }
    Ok(out)
}

/// Checks UTF-8 with CPython's `surrogatepass`: ordinary UTF-8, plus the
/// three-byte forms of U+D800..U+DFFF. `Ok(true)` when it is plain UTF-8.
pub fn check_utf8_surrogatepass(s: &[u8]) -> Result<bool, String> {
    if std::str::from_utf8(s).is_ok() {
        return Ok(true);
    }
    match crate::pyrepr::check_generalized_utf8(s) {
        Ok(()) => Ok(false),
        Err(i) => {
            Err(format!("'utf-8' codec can't decode byte 0x{:02x} in position {i}", s.get(i).copied().unwrap_or(0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_lines() {
        assert_eq!(parse_int_line(b"01"), Ok(IntLit::Bool(true)));
        assert_eq!(parse_int_line(b"00"), Ok(IntLit::Bool(false)));
        assert_eq!(parse_int_line(b"1"), Ok(IntLit::Small(1)));
        assert_eq!(parse_int_line(b"-17"), Ok(IntLit::Small(-17)));
        assert_eq!(parse_int_line(b"010"), Ok(IntLit::Small(8)));
        assert_eq!(parse_int_line(b"0x1f"), Ok(IntLit::Small(31)));
        assert_eq!(parse_int_line(b"18446744073709551616"), Ok(IntLit::Big("18446744073709551616".parse().unwrap())));
        assert!(parse_int_line(b"").is_err());
        assert!(parse_int_line(b"12x").is_err());
        assert!(parse_int_line(b"abc").is_err());
    }

    #[test]
    fn long_lines() {
        assert_eq!(parse_long_line(b"12L").unwrap(), BigInt::from(12));
        assert_eq!(parse_long_line(b"-99999999999999999999").unwrap().to_string(), "-99999999999999999999");
        assert_eq!(parse_long_line(b"1_000").unwrap(), BigInt::from(1000));
        assert!(parse_long_line(b"L").is_err());
        assert!(parse_long_line(b"010").is_err());
        assert!(parse_long_line(b"1__0").is_err());
    }

    #[test]
    fn float_lines() {
        assert_eq!(parse_float_line(b"1.5"), Ok(1.5));
        assert_eq!(parse_float_line(b"-0.0").unwrap().to_bits(), (-0.0f64).to_bits());
        assert_eq!(parse_float_line(b"INF"), Ok(f64::INFINITY));
        assert!(parse_float_line(b"nan").unwrap().is_nan());
        assert!(parse_float_line(b"1e999").is_err());
        assert!(parse_float_line(b" 1").is_err());
        assert!(parse_float_line(b"1.0x").is_err());
        assert!(parse_float_line(b"").is_err());
        assert_eq!(parse_float_line(b"1e"), Err("could not convert string to float: 1e".into()));
    }

    #[test]
    fn strings() {
        assert_eq!(unquote_string(b"'a\\nb'").unwrap(), b"a\nb");
        assert_eq!(unquote_string(b"\"it's\"").unwrap(), b"it's");
        assert_eq!(unquote_string(b"'\\x00\\377\\q'").unwrap(), b"\x00\xff\\q");
        assert!(unquote_string(b"'abc").is_err());
        assert!(unquote_string(b"'").is_err());
        assert!(unquote_string(b"'a\"").is_err());
        assert!(unquote_string(b"'\\x4'").is_err());
        assert!(unquote_string(b"'\\'").is_err());
    }

    #[test]
    fn raw_unicode() {
        assert_eq!(raw_unicode_escape(b"\\u0041").unwrap(), b"A");
        assert_eq!(raw_unicode_escape(b"\\\\u0041").unwrap(), b"\\\\u0041");
        assert_eq!(raw_unicode_escape(b"\\\\\\u0041").unwrap(), b"\\\\A");
        assert_eq!(raw_unicode_escape(b"\xe9").unwrap(), "é".as_bytes());
        assert_eq!(raw_unicode_escape(b"\\ud800").unwrap(), b"\xed\xa0\x80");
        assert!(raw_unicode_escape(b"\\U00110000").is_err());
        assert!(raw_unicode_escape(b"\\u12").is_err());
    }

    #[test]
    fn surrogatepass() {
        assert_eq!(check_utf8_surrogatepass("héllo".as_bytes()), Ok(true));
        assert_eq!(check_utf8_surrogatepass(b"a\xed\xa0\x80b"), Ok(false));
        assert!(check_utf8_surrogatepass(b"\xff").is_err());
        assert!(check_utf8_surrogatepass(b"\xed\xa0").is_err());
    }
}
