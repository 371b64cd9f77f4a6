//! `pyckle info`: statistics about one pickle.
//!
//! [`info`] decodes the pickle at the start of the input (so a malformed
//! pickle gives the decoder's error, with its offset and opcode), then
//! walks its opcodes once more to count them. The walk checks every length
//! against the input, so it never panics, whatever the bytes.

use crate::decode::Unpickler;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Graph, Object, Value};
use crate::literal::{self, IntLit};
use crate::opcode::{self, op, ArgKind};
use num_traits::ToPrimitive;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// What `pyckle info` reports about one pickle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// The protocol: its PROTO opcode, else 0 or 1 as guessed by the decoder.
    pub protocol: u8,
    /// The highest protocol among the opcodes (as pickletools reports it).
    pub highest_opcode_protocol: u8,
    /// The bytes of this pickle, through its STOP opcode.
    pub size: usize,
    /// The number of opcodes, STOP included.
    pub opcodes: u64,
    /// How many times each opcode occurs, by pickletools name.
    pub opcode_counts: BTreeMap<&'static str, u64>,
    /// The values the pickle made, by Python type name: every object of the
    /// graph ([`Object::type_name`]), plus the scalars held inline (`None`,
    /// `bool`, `int`, `float`), counted from the opcodes that push them.
    pub objects_by_kind: BTreeMap<&'static str, u64>,
    /// The objects of the graph (the arena size).
    pub objects: usize,
    /// The globals, as `"module name"`, in first-seen order, without repeats.
    pub globals: Vec<String>,
    /// The deepest nesting of containers from the root (`0` for a scalar
    /// root, `1` for a flat list), each object entered once.
    pub max_depth: usize,
    /// The type of the root value (for an object record: its class).
    pub root_type: String,
    /// FRAME opcodes.
    pub frames: u64,
    /// Memo writes (PUT, BINPUT, LONG_BINPUT, MEMOIZE).
    pub memo_puts: u64,
    /// Memo reads (GET, BINGET, LONG_BINGET).
    pub memo_gets: u64,
}

/// Statistics about the pickle at the start of `data`, decoded with the
/// default options, and the number of bytes it takes (through STOP).
pub fn info(data: &[u8]) -> Result<(Info, usize)> {
    info_with(&mut Unpickler::default(), data)
}

/// [`info`] with an unpickler of the caller's options.
pub fn info_with(unpickler: &mut Unpickler, data: &[u8]) -> Result<(Info, usize)> {
    let (graph, rest) = unpickler.loads_prefix(data)?;
    let size = data.len().saturating_sub(rest.len());
    let mut info = Info { size, protocol: graph.protocol(), objects: graph.len(), ..Info::default() };
    walk_opcodes(&data[..size], &mut info)?;
    add_graph(&graph, &mut info);
    Ok((info, size))
}

/// Counts the opcodes of one pickle (up to its STOP).
fn walk_opcodes(data: &[u8], info: &mut Info) -> Result<()> {
    let mut pos = 0usize;
    loop {
        let start = pos;
        let Some(&code) = data.get(pos) else {
            return Err(Error::at(ErrorKind::Truncated("pickle ended before STOP"), pos as u64, None));
        };
        let Some(oi) = opcode::info(code) else {
            return Err(Error::at(ErrorKind::UnknownOpcode(code), pos as u64, Some(code)));
        };
        let arg_start = start + 1;
        let Some(end) = skip_arg(data, arg_start, oi.arg) else {
            return Err(Error::at(ErrorKind::Truncated("opcode argument"), start as u64, Some(code)));
        };
        let arg = data.get(arg_start..end).unwrap_or(&[]);
        pos = end;

        info.opcodes += 1;
        *info.opcode_counts.entry(oi.name).or_insert(0) += 1;
        info.highest_opcode_protocol = info.highest_opcode_protocol.max(oi.proto);
        if let Some(kind) = inline_scalar(code, arg) {
            *info.objects_by_kind.entry(kind).or_insert(0) += 1;
        }
        match code {
            op::FRAME => info.frames += 1,
            op::PUT | op::BINPUT | op::LONG_BINPUT | op::MEMOIZE => info.memo_puts += 1,
            op::GET | op::BINGET | op::LONG_BINGET => info.memo_gets += 1,
            op::STOP => return Ok(()),
            _ => {}
        }
    }
}

/// The end of the argument of kind `kind` that starts at `pos`, or `None`
/// when the input is too short (or a length is negative).
fn skip_arg(data: &[u8], pos: usize, kind: ArgKind) -> Option<usize> {
    // `n` bytes from `at`, if the input has them.
    let fixed = |at: usize, n: usize| at.checked_add(n).filter(|&end| end <= data.len());
    // Through the next `\n`.
    let line = |at: usize| {
        let rest = data.get(at..)?;
        rest.iter().position(|&b| b == b'\n').map(|i| at + i + 1)
    };
    let le = |at: usize, n: usize| -> Option<u64> {
        let bytes = data.get(at..fixed(at, n)?)?;
        Some(bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    };
    // A counted payload: an `n`-byte length, then that many bytes.
    let counted = |n: usize, signed: bool| -> Option<usize> {
        let len = le(pos, n)?;
        let len = if signed && n == 4 { i64::from(len as u32 as i32) } else { i64::try_from(len).ok()? };
        let len = usize::try_from(len).ok()?;
        fixed(pos + n, len)
    };
    match kind {
        ArgKind::None => Some(pos),
        ArgKind::Uint1 => fixed(pos, 1),
        ArgKind::Uint2 => fixed(pos, 2),
        ArgKind::Int4 | ArgKind::Uint4 => fixed(pos, 4),
        ArgKind::Uint8 | ArgKind::Float8 => fixed(pos, 8),
        ArgKind::DecimalnlShort
        | ArgKind::DecimalnlLong
        | ArgKind::Floatnl
        | ArgKind::Stringnl
        | ArgKind::StringnlNoescape
        | ArgKind::Unicodestringnl => line(pos),
        ArgKind::StringnlNoescapePair => line(line(pos)?),
        ArgKind::Long1 | ArgKind::String1 | ArgKind::Bytes1 | ArgKind::Unicodestring1 => counted(1, false),
        ArgKind::Long4 | ArgKind::String4 => counted(4, true),
        ArgKind::Bytes4 | ArgKind::Unicodestring4 => counted(4, false),
        ArgKind::Bytes8 | ArgKind::Bytearray8 | ArgKind::Unicodestring8 => counted(8, false),
    }
}

/// The kind of the scalar an opcode pushes inline (not as an object of the
/// graph): `None`, `bool`, an `int` that fits in `i64`, `float`.
fn inline_scalar(code: u8, arg: &[u8]) -> Option<&'static str> {
    let line = arg.strip_suffix(b"\n").unwrap_or(arg);
    match code {
        op::NONE => Some("None"),
        op::NEWTRUE | op::NEWFALSE => Some("bool"),
        op::BININT | op::BININT1 | op::BININT2 => Some("int"),
        op::FLOAT | op::BINFLOAT => Some("float"),
        op::INT => match literal::parse_int_line(line) {
            Ok(IntLit::Bool(_)) => Some("bool"),
            Ok(IntLit::Small(_)) => Some("int"),
            // Big ints are objects of the graph, counted there.
            _ => None,
        },
        op::LONG => match literal::parse_long_line(line) {
            Ok(v) if v.to_i64().is_some() => Some("int"),
            _ => None,
        },
        // LONG1 and LONG4: the length, then the two's-complement bytes; up
        // to 8 bytes always fit in `i64`.
        op::LONG1 => arg.first().filter(|&&n| n <= 8).map(|_| "int"),
        op::LONG4 => {
            let n = arg.get(..4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))?;
            (0..=8).contains(&n).then_some("int")
        }
        _ => None,
    }
}

/// Adds what the graph tells: objects by kind, globals, depth, root type.
fn add_graph(graph: &Graph, info: &mut Info) {
    let mut seen_globals = HashSet::new();
    for (_, obj) in graph.objects() {
        *info.objects_by_kind.entry(obj.type_name()).or_insert(0) += 1;
        if let Object::Global(g) = obj {
            let name = format!("{} {}", g.module, g.name);
            if seen_globals.insert(name.clone()) {
                info.globals.push(name);
            }
        }
    }
    info.max_depth = max_depth(graph);
    info.root_type = match graph.root() {
        Value::None => "None".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Int(_) => "int".to_string(),
        Value::Float(_) => "float".to_string(),
        Value::Obj(id) => match graph.try_get(id) {
            Some(Object::Record(r)) => match graph.as_global(r.callable) {
                Some(g) => format!("{}.{}", g.module, g.name),
                None => "object".to_string(),
            },
            Some(obj) => obj.type_name().to_string(),
            None => "?".to_string(),
        },
    };
}

/// True for objects that hold other values (they add a level of nesting).
fn is_container(obj: &Object) -> bool {
    matches!(
        obj,
        Object::List(_)
            | Object::Tuple(_)
            | Object::Dict(_)
            | Object::Set(_)
            | Object::FrozenSet(_)
            | Object::Record(_)
            | Object::PersistentId(_)
    )
}

/// The deepest nesting of containers reachable from the root: a
/// depth-first walk with an explicit stack, entering each object once
/// (so a cycle or a shared object counts at the depth it is first met).
pub fn max_depth(graph: &Graph) -> usize {
    let mut entered = vec![false; graph.len()];
    let mut max = 0usize;
    // (value, number of containers above it)
    let mut stack: Vec<(Value, usize)> = vec![(graph.root(), 0)];
    let mut children: Vec<Value> = Vec::new();
    while let Some((v, above)) = stack.pop() {
        let Some(id) = v.obj() else { continue };
        let Some(obj) = graph.try_get(id) else { continue };
        match entered.get_mut(id.index()) {
            Some(e) if !*e => *e = true,
            _ => continue,
        }
        if !is_container(obj) {
            continue;
        }
        let level = above + 1;
        max = max.max(level);
        children.clear();
        match obj {
            Object::List(v) | Object::Tuple(v) => children.extend_from_slice(v),
            Object::Set(s) | Object::FrozenSet(s) => children.extend_from_slice(s.items()),
            Object::Dict(d) => children.extend(d.entries().iter().flat_map(|&(k, v)| [k, v])),
            Object::Record(r) => {
                children.extend([r.callable, r.args]);
                children.extend(r.kwargs);
                children.extend(r.state);
                children.extend_from_slice(&r.items);
                children.extend(r.dict_items.iter().flat_map(|&(k, v)| [k, v]));
            }
            Object::PersistentId(pid) => children.push(*pid),
            _ => {}
        }
        // Only objects can nest; scalars are not worth a stack slot.
        stack.extend(children.iter().filter(|c| c.obj().is_some()).map(|&c| (c, level)));
    }
    max
}

impl fmt::Display for Info {
    /// The `pyckle info` text: a short summary, one fact per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "protocol: {} (highest among opcodes: {})", self.protocol, self.highest_opcode_protocol)?;
        writeln!(f, "size: {} bytes", self.size)?;
        writeln!(f, "root: {}", self.root_type)?;
        writeln!(
            f,
            "opcodes: {} ({} frames, {} memo puts, {} memo gets)",
            self.opcodes, self.frames, self.memo_puts, self.memo_gets
        )?;
        writeln!(f, "objects: {} (max depth {})", self.objects, self.max_depth)?;
        writeln!(f, "values by type:")?;
        for (kind, n) in &self.objects_by_kind {
            writeln!(f, "  {kind}: {n}")?;
        }
        if self.globals.is_empty() {
            writeln!(f, "globals: none")?;
        } else {
            writeln!(f, "globals:")?;
            for g in &self.globals {
                writeln!(f, "  {g}")?;
            }
        }
        writeln!(f, "opcode counts:")?;
        for (name, n) in &self.opcode_counts {
            writeln!(f, "  {name}: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_a_small_pickle() {
        // pickle.dumps([{'a': 1, 'b c': (2,)}, {1: 'x'}, {3}, frozenset(), len], 4)
        let data = b"\x80\x04\x95>\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x01a\x94K\x01\x8c\x03b c\x94K\x02\x85\x94u}\x94K\x01\x8c\x01x\x94s\x8f\x94(K\x03\x90(\x91\x94\x8c\x08builtins\x94\x8c\x03len\x94\x93\x94e.";
        let mut with_tail = data.to_vec();
        with_tail.extend_from_slice(b"\x80\x02N.");
        let (info, used) = info(&with_tail).expect("decodes");
        assert_eq!(used, data.len());
        assert_eq!(info.size, data.len());
        assert_eq!(info.protocol, 4);
        assert_eq!(info.highest_opcode_protocol, 4);
        assert_eq!(info.frames, 1);
        assert_eq!(info.memo_puts, 12);
        assert_eq!(info.opcode_counts.get("BININT1"), Some(&4));
        assert_eq!(info.opcode_counts.get("STOP"), Some(&1));
        assert_eq!(info.opcodes, info.opcode_counts.values().sum::<u64>());
        assert_eq!(info.objects_by_kind.get("int"), Some(&4));
        assert_eq!(info.objects_by_kind.get("dict"), Some(&2));
        assert_eq!(info.objects_by_kind.get("list"), Some(&1));
        assert_eq!(info.globals, vec!["builtins len".to_string()]);
        // list > dict > tuple
        assert_eq!(info.max_depth, 3);
        assert_eq!(info.root_type, "list");
        let text = info.to_string();
        assert!(text.contains("protocol: 4"), "{text}");
        assert!(text.contains("builtins len"), "{text}");
    }

    #[test]
    fn protocol0_scalars_and_globals() {
        // pickle.dumps([None, True, 2**70, 1.5, 'x', len, len], 0)
        let data = b"(lp0\nNaI01\naL1180591620717411303424L\naF1.5\naVx\np1\nac__builtin__\nlen\np2\nag2\na.";
        let (info, used) = info(data).expect("decodes");
        assert_eq!(used, data.len());
        assert_eq!(info.protocol, 0);
        assert_eq!(info.objects_by_kind.get("None"), Some(&1));
        assert_eq!(info.objects_by_kind.get("bool"), Some(&1));
        assert_eq!(info.objects_by_kind.get("int"), Some(&1));
        assert_eq!(info.objects_by_kind.get("float"), Some(&1));
        assert_eq!(info.globals, vec!["builtins len".to_string()]);
        assert_eq!(info.memo_gets, 1);
        assert_eq!(info.max_depth, 1);
    }

    #[test]
    fn errors_are_the_decoders() {
        let err = info(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00]K\x01").unwrap_err();
        assert!(err.to_string().contains("byte"), "{err}");
        assert!(info(b"").is_err());
        assert!(info(b"\xff").is_err());
    }

    #[test]
    fn skip_arg_is_bounds_checked() {
        assert_eq!(skip_arg(b"\x05ab", 0, ArgKind::Bytes1), None);
        assert_eq!(skip_arg(b"\x02ab", 0, ArgKind::Bytes1), Some(3));
        assert_eq!(skip_arg(b"\xff\xff\xff\xffab", 0, ArgKind::String4), None);
        assert_eq!(skip_arg(b"\xff\xff\xff\xff\xff\xff\xff\xff", 0, ArgKind::Bytes8), None);
        assert_eq!(skip_arg(b"ab\ncd\n", 0, ArgKind::StringnlNoescapePair), Some(6));
        assert_eq!(skip_arg(b"ab\ncd", 0, ArgKind::StringnlNoescapePair), None);
        assert_eq!(skip_arg(b"", 5, ArgKind::Uint8), None);
        // Every opcode on every short input: no panic.
        for code in 0..=255u8 {
            for len in 0..12 {
                let mut data = vec![code];
                data.extend(std::iter::repeat(0xffu8).take(len));
                let _ = info(&data);
                if let Some(oi) = opcode::info(code) {
                    let _ = skip_arg(&data, 1, oi.arg);
                }
            }
        }
    }

    #[test]
    fn depth_of_a_million_deep_list() {
        const N: usize = 1_000_000;
        let mut data = b"\x80\x02".to_vec();
        data.extend(std::iter::repeat(b']').take(N));
        data.extend(std::iter::repeat(b'a').take(N - 1));
        data.push(b'.');
        match info(&data) {
            Ok((info, used)) => {
                assert_eq!(used, data.len());
                assert_eq!(info.max_depth, N);
                assert_eq!(info.objects_by_kind.get("list"), Some(&(N as u64)));
            }
            Err(e) => assert!(e.to_string().contains("depth"), "unexpected error: {e}"),
        }
    }

    #[test]
    fn cycles_terminate() {
        // a = []; a.append(a); pickle.dumps(a, 2)
        let (info, _) = info(b"\x80\x02]q\x00h\x00a.").expect("decodes");
        assert_eq!(info.max_depth, 1);
    }
}
