//! Disassembly: prints exactly what `python3 -m pickletools FILE` prints.
//!
//! This is a line-by-line port of `pickletools.dis()` (CPython 3.11),
//! including its sanity checks. Like pickletools, it stops after the first
//! STOP opcode. On malformed input it prints the same lines pickletools
//! prints before raising, then returns an error. The details that matter for
//! byte-identical output:
//!
//! * each opcode line starts with `"%5d: "` (the offset), printed *before*
//!   pickletools builds the rest of the line; so when building the line
//!   fails (an integer too long for `repr`, a MARK that vanished from the
//!   stack) the output ends with that bare prefix, without newline;
//! * an argument that cannot be read (truncated input, bad literal, bad
//!   UTF-8) fails before the prefix is printed;
//! * arguments are decoded with pickletools' own readers, whose semantics
//!   differ a little from the unpickler's (`I01\n` is `True`, `STRING` and
//!   `GLOBAL` arguments are escape-decoded and must then be ASCII, ...), and
//!   printed with Python's `repr`;
//! * memo and MARK errors are reported after the offending line is printed;
//! * `highest protocol among opcodes = N` is printed after STOP, before the
//!   "stack not empty" check.

use std::io::Write;

use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use crate::error::{Error, ErrorKind, Result};
use crate::opcode::{self, ArgKind, OpcodeInfo, StackKind};
use crate::pyrepr;

/// Options of [`dis`], as in `pickletools.dis()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisOptions {
    /// Column hint for the opcode descriptions; 0 (the default) prints none.
    /// `pickletools -a` uses 30.
    pub annotate: usize,
    /// Number of blanks by which to indent a new MARK level (default 4).
    pub indentlevel: usize,
}

impl Default for DisOptions {
    fn default() -> Self {
        DisOptions { annotate: 0, indentlevel: 4 }
    }
}

/// `sys.get_int_max_str_digits()` default of CPython 3.11: `int(str)` and
/// `repr(int)` refuse integers with more decimal digits than this.
const INT_MAX_STR_DIGITS: usize = 4300;

/// Disassembles the first pickle in `data` to `out`, printing exactly what
/// `python3 -m pickletools` prints (with `-a` when `opts.annotate == 30`).
///
/// Returns the number of bytes consumed (through the STOP opcode). On
/// malformed input, writes the lines pickletools writes before it raises,
/// then returns the error (whose offset is that of the failing opcode).
pub fn dis(data: &[u8], out: &mut dyn Write, opts: &DisOptions) -> Result<usize> {
    let mut w = LineWriter { out, buf: Vec::new() };
    let result = Disassembler::new(data, opts).run(&mut w);
    // Whatever happened, what pickletools would have printed must be out.
    let flushed = w.flush();
    let consumed = result?;
    flushed?;
    Ok(consumed)
}

/// Buffers output and hands it to the caller's writer in large chunks.
struct LineWriter<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
}

impl LineWriter<'_> {
    fn write(&mut self, s: &str) -> Result<()> {
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()?;
        Ok(())
    }
}

/// A decoded opcode argument (pickletools' Python value for it).
#[derive(Debug, Clone)]
enum Arg<'a> {
    /// An int that fits i128 (all fixed-size arguments).
    Int(i128),
    /// Any other int (decimal literals, LONG1, LONG4).
    Big(BigInt),
    Bool(bool),
    Float(f64),
    /// A `str`, as generalized UTF-8.
    Str(Vec<u8>),
    Bytes(&'a [u8]),
    ByteArray(&'a [u8]),
}

/// A memo key: a Python int (bools count as 0 and 1), normalized so that
/// equal ints have equal keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum MemoKey {
    Small(i128),
    Big(BigInt),
}

impl MemoKey {
    fn from_big(v: &BigInt) -> MemoKey {
        match v.to_i128() {
            Some(i) => MemoKey::Small(i),
            None => MemoKey::Big(v.clone()),
        }
    }
    /// The key as an argument (for `MemoMissing`), when it fits.
    fn to_u64(&self) -> Option<u64> {
        match self {
            MemoKey::Small(i) => u64::try_from(*i).ok(),
            MemoKey::Big(b) => b.to_u64(),
        }
    }
}

impl Arg<'_> {
    /// The memo key this argument denotes (for PUT/GET-like opcodes).
    fn memo_key(&self) -> Option<MemoKey> {
        match self {
            Arg::Int(i) => Some(MemoKey::Small(*i)),
            Arg::Big(b) => Some(MemoKey::from_big(b)),
            Arg::Bool(b) => Some(MemoKey::Small(i128::from(*b))),
            _ => None,
        }
    }

    /// Python's `repr()` of the argument; fails like Python for ints with
    /// more than 4300 digits.
    fn repr(&self) -> std::result::Result<String, ErrorKind> {
        Ok(match self {
            Arg::Int(i) => i.to_string(),
            Arg::Big(b) => repr_bigint(b)?,
            Arg::Bool(true) => "True".to_string(),
            Arg::Bool(false) => "False".to_string(),
            Arg::Float(f) => pyrepr::repr_float(*f),
            Arg::Str(s) => pyrepr::repr_str(s),
            Arg::Bytes(b) => pyrepr::repr_bytes(b),
            Arg::ByteArray(b) => pyrepr::repr_bytearray(b),
        })
    }
}

/// `repr(int)` with CPython 3.11's limit on the number of digits.
fn repr_bigint(b: &BigInt) -> std::result::Result<String, ErrorKind> {
    let too_long = || {
        ErrorKind::LimitExceeded(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion"
        ))
    };
    // 2**14300 > 10**4304: such numbers certainly have too many digits, and
    // converting them (quadratic) could be slow.
    if b.bits() >= 14300 {
        return Err(too_long());
    }
    let s = b.to_string();
    let digits = s.trim_start_matches('-').len();
    if digits > INT_MAX_STR_DIGITS {
        return Err(too_long());
    }
    Ok(s)
}

/// The state of one disassembly: pickletools' `dis()` locals.
struct Disassembler<'a> {
    data: &'a [u8],
    /// Read position.
    pos: usize,
    /// Crude emulation of the unpickler stack: `true` is a markobject.
    stack: Vec<bool>,
    /// Offsets of the MARK opcodes whose marks are (supposedly) on the stack.
    markstack: Vec<usize>,
    /// The memo keys defined so far.
    memo: hashbrown::HashSet<MemoKey>,
    /// Highest protocol among the opcodes seen (-1 before any).
    maxproto: i32,
    indentchunk: String,
    annotate: usize,
    annocol: usize,
}

/// The deepest MARK nesting `dis` indents before it stops with an error.
pub const MAX_MARK_DEPTH: usize = 4096;

impl<'a> Disassembler<'a> {
    fn new(data: &'a [u8], opts: &DisOptions) -> Self {
        Disassembler {
            data,
            pos: 0,
            stack: Vec::new(),
            markstack: Vec::new(),
            memo: hashbrown::HashSet::new(),
            maxproto: -1,
            indentchunk: " ".repeat(opts.indentlevel),
            annotate: opts.annotate,
            annocol: opts.annotate,
        }
    }

    /// The main loop of `pickletools.dis()`.
    fn run(&mut self, w: &mut LineWriter<'_>) -> Result<usize> {
        loop {
            let start = self.pos;
            let (info, arg) = self.next_op()?;
            let code = info.code;
            let err = |kind: ErrorKind| Error::at(kind, start as u64, Some(code));

            // pickletools indents each line by its MARK depth, so output
            // grows with the square of the nesting: a hostile file of MARKs
            // would print terabytes. No pickle Python writes comes near this.
            if self.markstack.len() > MAX_MARK_DEPTH {
                return Err(err(ErrorKind::LimitExceeded(format!(
                    "more than {MAX_MARK_DEPTH} nested MARKs to indent"
                ))));
            }
            w.write(&format!("{start:5}: "))?;

            let mut line =
                format!("{:<4} {}{}", code_repr(code), self.indentchunk.repeat(self.markstack.len()), info.name);
            self.maxproto = self.maxproto.max(i32::from(info.proto));
            let before = info.stack_before;
            let mut numtopop = before.len();

            // See whether a MARK should be popped.
            let mut markmsg: Option<String> = None;
            let mut error: Option<ErrorKind> = None;
            let takes_mark = before.contains(&StackKind::Mark);
            if takes_mark || (code == opcode::op::POP && self.stack.last() == Some(&true)) {
                if let Some(markpos) = self.markstack.pop() {
                    markmsg = Some(format!("(MARK at {markpos})"));
                    // Pop everything at and after the topmost markobject.
                    // (pickletools raises IndexError when there is none.)
                    match self.stack.iter().rposition(|&is_mark| is_mark) {
                        Some(i) => self.stack.truncate(i),
                        None => return Err(err(ErrorKind::MissingMark)),
                    }
                    numtopop = before.iter().position(|k| *k == StackKind::Mark).unwrap_or(0);
                } else {
                    markmsg = Some("no MARK exists on stack".to_string());
                    error = Some(ErrorKind::MissingMark);
                }
            }

            // Check for correct memo usage.
            let mut pushes_memo_value = false;
            match code {
                opcode::op::PUT | opcode::op::BINPUT | opcode::op::LONG_BINPUT | opcode::op::MEMOIZE => {
                    let key = if code == opcode::op::MEMOIZE {
                        let idx = self.memo.len();
                        markmsg = Some(format!("(as {idx})"));
                        MemoKey::Small(idx as i128)
                    } else {
                        arg.as_ref()
                            .and_then(Arg::memo_key)
                            .ok_or_else(|| err(ErrorKind::Invalid("bad memo key".into())))?
                    };
                    if self.memo.contains(&key) {
                        error = Some(ErrorKind::Invalid(format!("memo key {} already defined", memo_key_text(&key))));
                    } else if self.stack.is_empty() {
                        error = Some(ErrorKind::StackUnderflow);
                    } else if self.stack.last() == Some(&true) {
                        error = Some(ErrorKind::Invalid("can't store markobject in the memo".into()));
                    } else {
                        self.memo.insert(key);
                    }
                }
                opcode::op::GET | opcode::op::BINGET | opcode::op::LONG_BINGET => {
                    let key = arg
                        .as_ref()
                        .and_then(Arg::memo_key)
                        .ok_or_else(|| err(ErrorKind::Invalid("bad memo key".into())))?;
                    if self.memo.contains(&key) {
                        pushes_memo_value = true;
                    } else {
                        error = Some(match key.to_u64() {
                            Some(k) => ErrorKind::MemoMissing(k),
                            None => ErrorKind::Invalid(format!(
                                "memo key {} has never been stored into",
                                memo_key_text(&key)
                            )),
                        });
                    }
                }
                _ => {}
            }

            if arg.is_some() || markmsg.is_some() {
                // Make a mild effort to align arguments.
                pad_to(&mut line, 10usize.saturating_sub(info.name.len()));
                if let Some(a) = &arg {
                    line.push(' ');
                    line.push_str(&a.repr().map_err(err)?);
                }
                if let Some(m) = &markmsg {
                    line.push(' ');
                    line.push_str(m);
                }
            }
            if self.annotate != 0 {
                // Python's len() counts code points.
                let len = line.chars().count();
                pad_to(&mut line, self.annocol.saturating_sub(len));
                // Make a mild effort to align annotations.
                self.annocol = line.chars().count();
                if self.annocol > 50 {
                    self.annocol = self.annotate;
                }
                line.push(' ');
                line.push_str(info.doc);
            }
            line.push('\n');
            w.write(&line)?;

            if let Some(kind) = error {
                // Complaints are delayed until the offending opcode is printed.
                return Err(err(kind));
            }

            // Emulate the stack effects.
            if self.stack.len() < numtopop {
                return Err(err(ErrorKind::StackUnderflow));
            }
            self.stack.truncate(self.stack.len() - numtopop);
            if pushes_memo_value {
                // GET pushes the memoized object, never a markobject.
                self.stack.push(false);
            } else {
                for kind in info.stack_after {
                    if *kind == StackKind::Mark {
                        self.markstack.push(start);
                    }
                    self.stack.push(*kind == StackKind::Mark);
                }
            }

            if code == opcode::op::STOP {
                break;
            }
        }
        w.write(&format!("highest protocol among opcodes = {}\n", self.maxproto))?;
        if !self.stack.is_empty() {
            return Err(Error::at(
                ErrorKind::BadStop(format!("stack not empty after STOP: {} items", self.stack.len())),
                self.pos.saturating_sub(1) as u64,
                Some(opcode::op::STOP),
            ));
        }
        Ok(self.pos)
    }

    /// pickletools' `genops` step: reads one opcode and its argument.
    fn next_op(&mut self) -> Result<(&'static OpcodeInfo, Option<Arg<'a>>)> {
        let start = self.pos;
        let code = match self.data.get(start) {
            Some(&c) => c,
            None => {
                return Err(Error::at(ErrorKind::Truncated("pickle exhausted before seeing STOP"), start as u64, None))
            }
        };
        let info = opcode::info(code).ok_or_else(|| Error::at(ErrorKind::UnknownOpcode(code), start as u64, None))?;
        self.pos += 1;
        let arg = self.read_arg(info.arg).map_err(|kind| Error::at(kind, start as u64, Some(code)))?;
        Ok((info, arg))
    }

    /// Reads `n` bytes, or fails with `Truncated`.
    fn take(&mut self, n: u64, what: &'static str) -> std::result::Result<&'a [u8], ErrorKind> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        match usize::try_from(n) {
            Ok(n) if n <= rest.len() => {
                self.pos += n;
                Ok(&rest[..n])
            }
            _ => Err(ErrorKind::Truncated(what)),
        }
    }

    /// Reads a fixed-size little-endian field.
    fn fixed<const N: usize>(&mut self, what: &'static str) -> std::result::Result<[u8; N], ErrorKind> {
        let bytes = self.take(N as u64, what)?;
        let mut arr = [0u8; N];
        arr.copy_from_slice(bytes);
        Ok(arr)
    }

    /// `f.readline()` that must end with a newline; returns the line without it.
    fn readline(&mut self, what: &'static str) -> std::result::Result<&'a [u8], ErrorKind> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => {
                self.pos = self.data.len();
                Err(ErrorKind::Truncated(what))
            }
        }
    }

    /// A `read_uint8`-style byte count for a counted argument, which
    /// pickletools refuses above `sys.maxsize`.
    fn count8(&mut self, what: &'static str) -> std::result::Result<u64, ErrorKind> {
        let n = u64::from_le_bytes(self.fixed::<8>(what)?);
        if n > i64::MAX as u64 {
            return Err(ErrorKind::MalformedLiteral(format!("byte count > sys.maxsize: {n}")));
        }
        Ok(n)
    }

    /// A `read_int4` byte count that must not be negative.
    fn count4_signed(&mut self, what: &'static str) -> std::result::Result<u64, ErrorKind> {
        let n = i32::from_le_bytes(self.fixed::<4>(what)?);
        u64::try_from(n).map_err(|_| ErrorKind::MalformedLiteral(format!("byte count < 0: {n}")))
    }

    /// The argument readers of pickletools.
    fn read_arg(&mut self, kind: ArgKind) -> std::result::Result<Option<Arg<'a>>, ErrorKind> {
        const NL: &str = "no newline found";
        Ok(Some(match kind {
            ArgKind::None => return Ok(None),
            ArgKind::Uint1 => Arg::Int(i128::from(self.fixed::<1>("uint1")?[0])),
            ArgKind::Uint2 => Arg::Int(i128::from(u16::from_le_bytes(self.fixed("uint2")?))),
            ArgKind::Int4 => Arg::Int(i128::from(i32::from_le_bytes(self.fixed("int4")?))),
            ArgKind::Uint4 => Arg::Int(i128::from(u32::from_le_bytes(self.fixed("uint4")?))),
            ArgKind::Uint8 => Arg::Int(i128::from(u64::from_le_bytes(self.fixed("uint8")?))),
            ArgKind::DecimalnlShort => {
                let line = self.readline(NL)?;
                match line {
                    // There's a hack for True and False here.
                    b"00" => Arg::Bool(false),
                    b"01" => Arg::Bool(true),
                    _ => Arg::Big(py_int(line)?),
                }
            }
            ArgKind::DecimalnlLong => {
                let line = self.readline(NL)?;
                let line = line.strip_suffix(b"L").unwrap_or(line);
                Arg::Big(py_int(line)?)
            }
            ArgKind::Floatnl => Arg::Float(py_float(self.readline(NL)?)?),
            ArgKind::Float8 => Arg::Float(f64::from_be_bytes(self.fixed("float8")?)),
            ArgKind::Long1 => {
                let n = self.fixed::<1>("long1")?[0];
                let bytes = self.take(u64::from(n), "long1")?;
                Arg::Big(decode_long(bytes))
            }
            ArgKind::Long4 => {
                let n = self.count4_signed("long4")?;
                let bytes = self.take(n, "long4")?;
                Arg::Big(decode_long(bytes))
            }
            ArgKind::Stringnl => {
                let line = self.readline(NL)?;
                Arg::Str(ascii_escape_decode(strip_quotes(line)?)?)
            }
            ArgKind::StringnlNoescape => Arg::Str(ascii_escape_decode(self.readline(NL)?)?),
            ArgKind::StringnlNoescapePair => {
                let mut first = ascii_escape_decode(self.readline(NL)?)?;
                let second = ascii_escape_decode(self.readline(NL)?)?;
                first.push(b' ');
                first.extend_from_slice(&second);
                Arg::Str(first)
            }
            ArgKind::String1 => {
                let n = self.fixed::<1>("string1")?[0];
                Arg::Str(latin1(self.take(u64::from(n), "string1")?))
            }
            ArgKind::String4 => {
                let n = self.count4_signed("string4")?;
                Arg::Str(latin1(self.take(n, "string4")?))
            }
            ArgKind::Bytes1 => {
                let n = self.fixed::<1>("bytes1")?[0];
                Arg::Bytes(self.take(u64::from(n), "bytes1")?)
            }
            ArgKind::Bytes4 => {
                let n = u32::from_le_bytes(self.fixed("bytes4")?);
                Arg::Bytes(self.take(u64::from(n), "bytes4")?)
            }
            ArgKind::Bytes8 => {
                let n = self.count8("bytes8")?;
                Arg::Bytes(self.take(n, "bytes8")?)
            }
            ArgKind::Bytearray8 => {
                let n = self.count8("bytearray8")?;
                Arg::ByteArray(self.take(n, "bytearray8")?)
            }
            ArgKind::Unicodestringnl => Arg::Str(raw_unicode_escape(self.readline(NL)?)?),
            ArgKind::Unicodestring1 => {
                let n = self.fixed::<1>("unicodestring1")?[0];
                Arg::Str(utf8_surrogatepass(self.take(u64::from(n), "unicodestring1")?)?)
            }
            ArgKind::Unicodestring4 => {
                let n = u32::from_le_bytes(self.fixed("unicodestring4")?);
                Arg::Str(utf8_surrogatepass(self.take(u64::from(n), "unicodestring4")?)?)
            }
            ArgKind::Unicodestring8 => {
                let n = self.count8("unicodestring8")?;
                Arg::Str(utf8_surrogatepass(self.take(n, "unicodestring8")?)?)
            }
        }))
    }
}

/// `repr(opcode.code)[1:-1]`: the opcode byte as pickletools shows it.
fn code_repr(code: u8) -> String {
    if (0x20..0x7F).contains(&code) {
        char::from(code).to_string()
    } else {
        format!("\\x{code:02x}")
    }
}

/// Appends `n` blanks (Python's `' ' * n`, nothing when n <= 0).
fn pad_to(line: &mut String, n: usize) {
    line.push_str(&" ".repeat(n));
}

/// A memo key as Python's `%r` prints it.
fn memo_key_text(key: &MemoKey) -> String {
    match key {
        MemoKey::Small(i) => i.to_string(),
        MemoKey::Big(b) => b.to_string(),
    }
}

/// `pickle.decode_long`: little-endian two's complement, empty is 0.
fn decode_long(bytes: &[u8]) -> BigInt {
    if bytes.is_empty() {
        BigInt::zero()
    } else {
        BigInt::from_signed_bytes_le(bytes)
    }
}

/// A latin-1 decoded `str`, as generalized UTF-8.
fn latin1(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for &b in bytes {
        pyrepr::push_code_point(&mut out, u32::from(b));
    }
    out
}

/// `str(data, 'utf-8', 'surrogatepass')`.
fn utf8_surrogatepass(bytes: &[u8]) -> std::result::Result<Vec<u8>, ErrorKind> {
    match pyrepr::check_generalized_utf8(bytes) {
        Ok(()) => Ok(bytes.to_vec()),
        Err(at) => Err(ErrorKind::BadText(format!("invalid UTF-8 at byte {at} of a string"))),
    }
}

/// The quote stripping of `read_stringnl`: `"..."` or `'...'`.
fn strip_quotes(line: &[u8]) -> std::result::Result<&[u8], ErrorKind> {
    for q in [b'"', b'\''] {
        if line.first() == Some(&q) {
            if line.last() != Some(&q) {
                return Err(ErrorKind::MalformedLiteral("string quote not found at both ends".into()));
            }
            // `data[1:-1]`: a lone quote character gives the empty string.
            return Ok(line.get(1..line.len() - 1).unwrap_or(&[]));
        }
    }
    Err(ErrorKind::MalformedLiteral("no string quotes around string".into()))
}

/// Python's ASCII whitespace (`Py_ISSPACE`).
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

fn trim_py_space(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_py_space(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_py_space(b)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or(&[])
}

/// `int(bytes)`: base 10, surrounding whitespace, optional sign, single
/// underscores between digits, at most 4300 digits.
fn py_int(s: &[u8]) -> std::result::Result<BigInt, ErrorKind> {
    let bad =
        || ErrorKind::MalformedLiteral(format!("invalid literal for int() with base 10: {}", pyrepr::repr_bytes(s)));
    let t = trim_py_space(s);
    let (negative, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut digits = Vec::with_capacity(body.len());
    let mut prev_underscore = true; // no underscore allowed first
    for &b in body {
        match b {
            b'0'..=b'9' => {
                digits.push(b);
                prev_underscore = false;
            }
            b'_' if !prev_underscore => prev_underscore = true,
            _ => return Err(bad()),
        }
    }
    if digits.is_empty() || prev_underscore {
        return Err(bad());
    }
    if digits.len() > INT_MAX_STR_DIGITS {
        return Err(ErrorKind::LimitExceeded(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits",
            digits.len()
        )));
    }
    let v = BigInt::parse_bytes(&digits, 10).ok_or_else(bad)?;
    Ok(if negative { -v } else { v })
}

/// `float(bytes)`: Python's float literal grammar with PEP 515 underscores,
/// surrounding whitespace, `inf`/`infinity`/`nan` in any case.
fn py_float(s: &[u8]) -> std::result::Result<f64, ErrorKind> {
    let bad = || ErrorKind::MalformedLiteral(format!("could not convert string to float: {}", pyrepr::repr_bytes(s)));
    // Underscores are only allowed between digits; then they are dropped.
    let mut clean = Vec::with_capacity(s.len());
    let mut prev = 0u8;
    for &b in s {
        if b == b'_' {
            if !prev.is_ascii_digit() {
                return Err(bad());
            }
        } else {
            if prev == b'_' && !b.is_ascii_digit() {
                return Err(bad());
            }
            clean.push(b);
        }
        prev = b;
    }
    if prev == b'_' {
        return Err(bad());
    }
    let t = trim_py_space(&clean);
    let (negative, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let magnitude = match lower.as_slice() {
        b"inf" | b"infinity" => f64::INFINITY,
        b"nan" => f64::NAN,
        _ => {
            if !is_decimal_float(body) {
                return Err(bad());
            }
            // Validated ASCII; Rust's parser is correctly rounded like Python's.
            let text = std::str::from_utf8(body).map_err(|_| bad())?;
            text.parse::<f64>().map_err(|_| bad())?
        }
    };
    Ok(if negative { -magnitude } else { magnitude })
}

/// `digits [. digits] [e [sign] digits]` with at least one mantissa digit.
fn is_decimal_float(s: &[u8]) -> bool {
    let mut i = 0;
    let count_digits = |from: usize| s.iter().skip(from).take_while(|b| b.is_ascii_digit()).count();
    let int_digits = count_digits(i);
    i += int_digits;
    let mut frac_digits = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = count_digits(i);
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = count_digits(i);
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == s.len()
}

/// `codecs.escape_decode(data)[0].decode("ascii")`, as generalized UTF-8
/// (which for ASCII is just the bytes).
fn ascii_escape_decode(s: &[u8]) -> std::result::Result<Vec<u8>, ErrorKind> {
    let out = escape_decode(s)?;
    if let Some(b) = out.iter().find(|b| !b.is_ascii()) {
        return Err(ErrorKind::BadText(format!(
            "'ascii' codec can't decode byte 0x{b:02x}: ordinal not in range(128)"
        )));
    }
    Ok(out)
}

/// `codecs.escape_decode`: Python's bytes-literal escapes. Unknown escapes
/// keep their backslash; octal escapes above `\377` wrap modulo 256.
fn escape_decode(s: &[u8]) -> std::result::Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err(ErrorKind::MalformedLiteral("Trailing \\ in string".into()));
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0C),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0B),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xFF) as u8);
            }
            b'x' => {
                let hi = s.get(i).and_then(|&d| char::from(d).to_digit(16));
                let lo = s.get(i + 1).and_then(|&d| char::from(d).to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => return Err(ErrorKind::MalformedLiteral(format!("invalid \\x escape at position {}", i - 2))),
                }
            }
            _ => {
                // Not an escape: keep the backslash, reprocess the character.
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

/// `str(data, 'raw-unicode-escape')`, as generalized UTF-8: bytes are
/// latin-1 code points, except `\uXXXX` and `\UXXXXXXXX` after an odd number
/// of backslashes.
fn raw_unicode_escape(s: &[u8]) -> std::result::Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        i += 1;
        if c != b'\\' {
            pyrepr::push_code_point(&mut out, u32::from(c));
            continue;
        }
        let count = match s.get(i) {
            Some(b'u') => 4,
            Some(b'U') => 8,
            Some(b'\\') => {
                // An escaped backslash pair: both are kept literally.
                out.extend_from_slice(b"\\\\");
                i += 1;
                continue;
            }
            _ => {
                out.push(b'\\');
                continue;
            }
        };
        i += 1;
        let mut v: u32 = 0;
        for _ in 0..count {
            match s.get(i).and_then(|&d| char::from(d).to_digit(16)) {
                Some(d) => {
                    v = (v << 4) | d;
                    i += 1;
                }
                None => {
                    return Err(ErrorKind::BadText(if count == 4 {
                        "truncated \\uXXXX escape".into()
                    } else {
                        "truncated \\UXXXXXXXX escape".into()
                    }))
                }
            }
        }
        if v > 0x10FFFF {
            return Err(ErrorKind::BadText("\\Uxxxxxxxx out of range".into()));
        }
        pyrepr::push_code_point(&mut out, v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8], annotate: usize) -> (String, Result<usize>) {
        let mut out = Vec::new();
        let r = dis(data, &mut out, &DisOptions { annotate, indentlevel: 4 });
        (String::from_utf8(out).unwrap(), r)
    }

    #[test]
    fn simple_protocol0_list() {
        let (text, r) = run(b"(lp0\nI1\naI2\na.", 0);
        assert_eq!(r.unwrap(), 14);
        assert_eq!(
            text,
            "    0: (    MARK\n    1: l        LIST       (MARK at 0)\n    2: p    PUT        0\n\
             \x20   5: I    INT        1\n    8: a    APPEND\n    9: I    INT        2\n   12: a    APPEND\n\
             \x20  13: .    STOP\nhighest protocol among opcodes = 0\n"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(py_int(b" 1_000 ").unwrap(), BigInt::from(1000));
        assert!(py_int(b"1__0").is_err());
        assert!(py_int(b"_1").is_err());
        assert!(py_int(b"12L").is_err());
        assert_eq!(py_float(b" 1_0.5 ").unwrap(), 10.5);
        assert!(py_float(b"1_e5").is_err());
        assert!(py_float(b"1e").is_err());
        assert!(py_float(b"infinit").is_err());
        assert_eq!(py_float(b"-Infinity").unwrap(), f64::NEG_INFINITY);
        assert_eq!(escape_decode(b"\\777\\x41\\q\\\n").unwrap(), b"\xffA\\q");
        assert!(escape_decode(b"a\\").is_err());
        assert!(escape_decode(b"\\x4").is_err());
        assert_eq!(raw_unicode_escape(b"\\\\u0041").unwrap(), b"\\\\u0041");
        assert_eq!(raw_unicode_escape(b"\\\\\\u0041").unwrap(), b"\\\\A");
        assert!(raw_unicode_escape(b"\\U00110000").is_err());
        assert_eq!(strip_quotes(b"'").unwrap(), b"");
        assert!(strip_quotes(b"'a\"").is_err());
    }

    #[test]
    fn errors_do_not_panic() {
        for data in [&b""[..], b"\xff", b"K", b"(t", b"h\x05.", b"\x8b\xff\xff\xff\xff", b"0", b"]q\x00q\x00."] {
            let (_, r) = run(data, 30);
            assert!(r.is_err(), "{data:?}");
        }
    }
}
