//! The pickling machine: CPython 3.11's `_pickle.c` `save()` over an
//! object graph, with an explicit stack instead of recursion.
//!
//! Every place where `_pickle.c` calls `save()` is a place where this
//! machine calls [`Encoder::save`] (or a `save_*` helper that starts the
//! same way), because `save()` is where CPython closes a frame that has
//! grown past 64 KiB: to put FRAME opcodes where CPython puts them, the
//! machine must pass the same "opcode boundaries".
//!
//! Identity is CPython's: objects of the graph are memoized by id; besides
//! them, a few objects are one object in CPython whatever made them, and
//! are memoized by value here: the empty str and one-character str below
//! U+0100 (CPython caches them), `b""`, classes and functions (one object
//! per name), module names (`__module__`), and the temporaries the
//! reduce forms use (`'latin1'`, one-byte bytes).

use super::{setorder, BufferCallback, EncodeOptions, SetOrder};
use crate::compat;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{
    canonical_name, may_be_class, Buffer, Global, Graph, ObjId, Object, Record, RecordKind, Value, BUILTIN_FUNCTIONS,
};
use crate::opcode::op;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

/// Items per APPENDS, SETITEMS and ADDITEMS, as `_pickle.c`'s BATCHSIZE.
const BATCHSIZE: u32 = 1000;
/// A frame is closed at the first opcode boundary past this size.
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// A frame smaller than this loses its header.
const FRAME_SIZE_MIN: usize = 4;
const FRAME_HEADER_SIZE: usize = 9;
/// `sys.get_int_max_str_digits()`: CPython 3.11 converts no longer ints to decimal.
const MAX_STR_DIGITS: usize = 4300;
/// Not memoized / not active.
const NONE: u32 = u32::MAX;

fn unpicklable(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unpicklable(msg.into()))
}

/// Where the items of a sequence come from.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// A list or tuple of the graph.
    Seq(ObjId),
    /// A dict of the graph: key, value, key, value...
    Dict(ObjId),
    /// A set or frozenset of the graph, in insertion order.
    Set(ObjId),
    /// What was appended to a record.
    Items(ObjId),
    /// What was set on a record: key, value...
    DictItems(ObjId),
    /// A list of values the encoder made (a set in CPython's order, the
    /// arguments of a reduce form).
    Temp(u32),
}

/// How a sequence is cut into batches, after `_pickle.c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// Items only (tuple elements, INST/OBJ arguments, FROZENSET items).
    Plain,
    /// Protocol 0: the opcode after every item.
    Each(u8),
    /// `batch_list_exact`: one item is APPEND; else MARK ... APPENDS by 1000.
    ListExact,
    /// `batch_dict_exact`: one item is SETITEM; else MARK ... SETITEMS by
    /// 1000, and after a full last batch one more, empty, batch.
    DictExact,
    /// `save_set`: MARK ... ADDITEMS by 1000, with the same empty batch.
    SetExact,
    /// `batch_list`/`batch_dict` over an iterator: MARK ... APPENDS by 1000,
    /// a last batch of one item is a lone APPEND (SETITEM).
    Iter(u8, u8),
}

#[derive(Clone, Copy, Debug)]
struct Seq {
    src: Src,
    /// Next value (a dict item is two values).
    pos: u32,
    len: u32,
    style: Style,
    /// Values per item: 1, or 2 for dicts.
    unit: u8,
    /// Values left in the batch being written.
    left: u32,
    /// The opcode that closes the batch (0: none).
    closer: u8,
    open: bool,
    /// An exact dict or set just closed a full batch: one more follows.
    tail: bool,
}

impl Seq {
    fn new(src: Src, len: usize, style: Style, unit: u8) -> Seq {
        Seq { src, pos: 0, len: len as u32, style, unit, left: 0, closer: 0, open: false, tail: false }
    }
}

/// The values of a [`Src`], borrowed for one step of a sequence.
enum View<'g> {
    Flat(&'g [Value]),
    Pairs(&'g [(Value, Value)]),
    Temp(Rc<[Value]>),
}

/// The opcode that ends a call.
#[derive(Clone, Copy, Debug)]
enum CallOp {
    Reduce,
    NewObj,
    NewObjEx,
    Obj,
    /// INST, with the class it names.
    Inst(ObjId),
}

#[derive(Clone, Copy, Debug)]
enum Frame {
    Seq(Seq),
    Save(Value),
    SaveGlobal(&'static str, &'static str),
    Op(u8),
    /// `save(tuple)` of a temporary tuple: the boundary, and MARK when marked.
    TupleStart {
        marked: bool,
    },
    EmptyTuple,
    /// After the elements of a tuple of the graph.
    TupleEnd {
        id: ObjId,
        len: u32,
        marked: bool,
        prev: u32,
    },
    /// After the elements of a temporary tuple.
    TempTupleEnd {
        len: u32,
        marked: bool,
    },
    FrozenSetEnd {
        id: ObjId,
        prev: u32,
    },
    /// After the callable (class) and arguments of `id`.
    CallEnd {
        id: ObjId,
        op: CallOp,
        prev: u32,
        drop_empty_state: bool,
    },
}

pub(super) struct Encoder<'g, 'a, 'o, 'c> {
    graph: &'g Graph<'a>,
    proto: u8,
    fix_imports: bool,
    cpython_sets: bool,
    extensions: &'o HashMap<Global, u32>,
    buffer_callback: Option<&'o mut BufferCallback<'c>>,
    out: Vec<u8>,
    frame_start: usize,
    /// `boundary` acts when the output reaches this length.
    next_check: usize,
    streaming: bool,
    /// Memo index of each object of the graph.
    memo: Vec<u32>,
    memo_len: u32,
    /// Objects of the graph memoized so far: the progress that lets an
    /// object be entered again while it is being written.
    graph_memos: u32,
    /// For objects whose memo comes after their children (tuples,
    /// frozensets, calls): `graph_memos` when the innermost write of them began.
    active: Vec<u32>,
    chars: [u32; 257],
    bytes1: [u32; 256],
    empty_bytes: u32,
    latin1: u32,
    globals: HashMap<(String, String), u32>,
    modules: HashMap<(String, bool), u32>,
    stack: Vec<Frame>,
    temps: Vec<Rc<[Value]>>,
}

impl<'g, 'a, 'o, 'c> Encoder<'g, 'a, 'o, 'c> {
    pub(super) fn new(
        graph: &'g Graph<'a>,
        options: &EncodeOptions,
        extensions: &'o HashMap<Global, u32>,
        buffer_callback: Option<&'o mut BufferCallback<'c>>,
    ) -> Self {
        Encoder {
            graph,
            proto: options.protocol,
            fix_imports: options.fix_imports,
            cpython_sets: options.set_order == SetOrder::CPython,
            extensions,
            buffer_callback,
            out: Vec::new(),
            frame_start: usize::MAX,
            next_check: usize::MAX,
            streaming: false,
            memo: vec![NONE; graph.len()],
            memo_len: 0,
            graph_memos: 0,
            active: vec![NONE; graph.len()],
            chars: [NONE; 257],
            bytes1: [NONE; 256],
            empty_bytes: NONE,
            latin1: NONE,
            globals: HashMap::new(),
            modules: HashMap::new(),
            stack: Vec::new(),
            temps: Vec::new(),
        }
    }

    /// Writes one pickle: to `sink` as it goes when there is one (and the
    /// rest at the end), else into `buf`.
    pub(super) fn run(mut self, buf: &mut Vec<u8>, mut sink: Option<&mut dyn Write>) -> Result<()> {
        self.out = std::mem::take(buf);
        self.streaming = sink.is_some();
        if !self.streaming {
            self.out.reserve(size_hint(self.graph));
        }
        if self.proto >= 2 {
            self.out.extend_from_slice(&[op::PROTO, self.proto]);
        }
        if self.proto >= 4 {
            self.open_frame();
        } else if self.streaming {
            self.next_check = FRAME_SIZE_TARGET;
        }
        self.save(self.graph.root(), &mut sink)?;
        self.drive(&mut sink)?;
        self.out.push(op::STOP);
        if self.proto >= 4 {
            self.commit_frame();
        }
        if let Some(sink) = sink {
            sink.write_all(&self.out)?;
            self.out.clear();
        }
        *buf = self.out;
        Ok(())
    }

    fn drive(&mut self, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        while let Some(frame) = self.stack.pop() {
            match frame {
                Frame::Seq(s) => self.step_seq(s, sink)?,
                Frame::Save(v) => self.save(v, sink)?,
                Frame::SaveGlobal(module, name) => self.save_global_name(module, name, sink)?,
                Frame::Op(code) => self.out.push(code),
                Frame::TupleStart { marked } => {
                    self.boundary(sink)?;
                    if marked {
                        self.out.push(op::MARK);
                    }
                }
                Frame::EmptyTuple => {
                    self.boundary(sink)?;
                    self.empty_tuple();
                }
                Frame::TupleEnd { id, len, marked, prev } => {
                    self.active[id.index()] = prev;
                    let m = self.memo[id.index()];
                    if m != NONE {
                        // The tuple was written while its elements were: drop ours.
                        if marked && self.proto >= 1 {
                            self.out.push(op::POP_MARK);
                        } else {
                            let n = len as usize + marked as usize;
                            self.out.extend(std::iter::repeat(op::POP).take(n));
                        }
                        self.write_get(m);
                    } else {
                        self.out.push(self.tuple_op(len, marked));
                        self.memo_put_obj(id)?;
                    }
                }
                Frame::TempTupleEnd { len, marked } => {
                    self.out.push(self.tuple_op(len, marked));
                    self.memo_put()?;
                }
                Frame::FrozenSetEnd { id, prev } => {
                    self.active[id.index()] = prev;
                    let m = self.memo[id.index()];
                    if m != NONE {
                        self.out.push(op::POP_MARK);
                        self.write_get(m);
                    } else {
                        self.out.push(op::FROZENSET);
                        self.memo_put_obj(id)?;
                    }
                }
                Frame::CallEnd { id, op: call, prev, drop_empty_state } => {
                    self.call_end(id, call, prev, drop_empty_state)?
                }
            }
        }
        Ok(())
    }

    // --- output -------------------------------------------------------------

    fn open_frame(&mut self) {
        self.frame_start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_SIZE]);
        self.next_check = self.frame_start + FRAME_HEADER_SIZE + FRAME_SIZE_TARGET;
    }

    /// `_Pickler_CommitFrame`: the header of the open frame, or no header
    /// when the frame is too small to be worth one.
    fn commit_frame(&mut self) {
        if self.frame_start == usize::MAX {
            return;
        }
        let start = self.frame_start;
        let len = self.out.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = op::FRAME;
            self.out[start + 1..start + FRAME_HEADER_SIZE].copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER_SIZE);
        }
        self.frame_start = usize::MAX;
    }

    fn flush(&mut self, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if let Some(sink) = sink {
            sink.write_all(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// `_Pickler_OpcodeBoundary`, at the start of every `save()`.
    #[inline]
    fn boundary(&mut self, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if self.out.len() >= self.next_check {
            self.boundary_slow(sink)?;
        }
        Ok(())
    }

    #[cold]
    fn boundary_slow(&mut self, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if self.proto >= 4 {
            self.commit_frame();
            self.flush(sink)?;
            self.open_frame();
        } else {
            self.flush(sink)?;
            self.next_check = self.out.len() + FRAME_SIZE_TARGET;
        }
        Ok(())
    }

    /// `_Pickler_write_bytes`: a payload of 64 KiB or more goes outside
    /// any frame (and straight to the sink).
    fn write_payload(&mut self, header: &[u8], data: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if data.len() < FRAME_SIZE_TARGET {
            self.out.extend_from_slice(header);
            self.out.extend_from_slice(data);
            return Ok(());
        }
        let framing = self.proto >= 4;
        if framing {
            self.commit_frame();
        }
        if sink.is_none() {
            // Room for what follows too, so that the next write does not
            // copy this payload again to grow the buffer.
            self.out.reserve(header.len() + data.len() + data.len() / 8 + 4096);
        }
        self.out.extend_from_slice(header);
        match sink {
            Some(s) => {
                s.write_all(&self.out)?;
                self.out.clear();
                s.write_all(data)?;
                if !framing {
                    self.next_check = FRAME_SIZE_TARGET;
                }
            }
            None => self.out.extend_from_slice(data),
        }
        if framing {
            self.open_frame();
        }
        Ok(())
    }

    fn text_int(&mut self, code: u8, i: impl std::fmt::Display) {
        self.out.push(code);
        let _ = writeln!(self.out, "{i}");
    }

    // --- memo ------------------------------------------------------------------

    /// `memo_put`: the next memo index, and the opcode that stores it.
    fn memo_put(&mut self) -> Result<u32> {
        let idx = self.memo_len;
        if idx == NONE {
            return Err(unpicklable("more memo entries than LONG_BINPUT can name"));
        }
        self.memo_len += 1;
        if self.proto >= 4 {
            self.out.push(op::MEMOIZE);
        } else if self.proto == 0 {
            self.text_int(op::PUT, idx);
        } else if idx < 256 {
            self.out.extend_from_slice(&[op::BINPUT, idx as u8]);
        } else {
            self.out.push(op::LONG_BINPUT);
            self.out.extend_from_slice(&idx.to_le_bytes());
        }
        Ok(idx)
    }

    fn memo_put_obj(&mut self, id: ObjId) -> Result<u32> {
        let m = self.memo_put()?;
        self.memo[id.index()] = m;
        self.graph_memos += 1;
        Ok(m)
    }

    fn write_get(&mut self, idx: u32) {
        if self.proto == 0 {
            self.text_int(op::GET, idx);
        } else if idx < 256 {
            self.out.extend_from_slice(&[op::BINGET, idx as u8]);
        } else {
            self.out.push(op::LONG_BINGET);
            self.out.extend_from_slice(&idx.to_le_bytes());
        }
    }

    /// Marks `id` as being written; an error when it is entered again
    /// without any object memoized since (a cycle through tuples and call
    /// arguments only, on which CPython recurses until it fails).
    fn activate(&mut self, id: ObjId) -> Result<u32> {
        let prev = self.active[id.index()];
        if prev == self.graph_memos {
            let what = self.graph.get(id).type_name();
            return Err(unpicklable(format!(
                "object {} ({what}) contains itself through tuples or call arguments only, \
                 which no pickle can express (CPython recurses until it fails)",
                id.index()
            )));
        }
        self.active[id.index()] = self.graph_memos;
        Ok(prev)
    }

    // --- save ---------------------------------------------------------------

    /// `save()`: one value.
    #[inline]
    fn save(&mut self, v: Value, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        self.boundary(sink)?;
        match v {
            Value::None => self.out.push(op::NONE),
            Value::Bool(b) => self.save_bool(b),
            Value::Int(i) => self.save_int(i),
            Value::Float(f) => self.save_float(f),
            Value::Obj(id) => return self.save_obj(id, sink),
        }
        Ok(())
    }

    fn save_bool(&mut self, b: bool) {
        if self.proto >= 2 {
            self.out.push(if b { op::NEWTRUE } else { op::NEWFALSE });
        } else {
            self.out.extend_from_slice(if b { b"I01\n" } else { b"I00\n" });
        }
    }

    #[inline]
    fn save_int(&mut self, i: i64) {
        if let Ok(i) = i32::try_from(i) {
            if self.proto == 0 {
                self.text_int(op::INT, i);
            } else if (0..=0xff).contains(&i) {
                self.out.extend_from_slice(&[op::BININT1, i as u8]);
            } else if (0..=0xffff).contains(&i) {
                self.out.push(op::BININT2);
                self.out.extend_from_slice(&(i as u16).to_le_bytes());
            } else {
                self.out.push(op::BININT);
                self.out.extend_from_slice(&i.to_le_bytes());
            }
        } else if self.proto >= 2 {
            let bytes = i.to_le_bytes();
            let mut n = 8;
            while n > 1
                && ((bytes[n - 1] == 0 && bytes[n - 2] & 0x80 == 0)
                    || (bytes[n - 1] == 0xff && bytes[n - 2] & 0x80 != 0))
            {
                n -= 1;
            }
            self.out.extend_from_slice(&[op::LONG1, n as u8]);
            self.out.extend_from_slice(&bytes[..n]);
        } else {
            self.out.push(op::LONG);
            let _ = writeln!(self.out, "{i}L");
        }
    }

    fn save_bigint(&mut self, b: &BigInt) -> Result<()> {
        if let Some(i) = b.to_i64() {
            self.save_int(i);
            return Ok(());
        }
        if self.proto >= 2 {
            let bytes = if b.sign() == Sign::NoSign { Vec::new() } else { b.to_signed_bytes_le() };
            if bytes.len() < 256 {
                self.out.extend_from_slice(&[op::LONG1, bytes.len() as u8]);
            } else if bytes.len() <= 0x7fff_ffff {
                self.out.push(op::LONG4);
                self.out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            } else {
                return Err(unpicklable("int too large to pickle"));
            }
            self.out.extend_from_slice(&bytes);
        } else {
            // Protocols 0 and 1 write the decimal repr, which CPython 3.11
            // refuses to make (and to read back) beyond 4300 digits.
            let text = b.to_string();
            if text.trim_start_matches('-').len() > MAX_STR_DIGITS {
                return Err(unpicklable(format!(
                    "an int of more than {MAX_STR_DIGITS} digits needs protocol 2 or higher \
                     (protocols 0 and 1 write it in decimal, past CPython's int/str conversion limit)"
                )));
            }
            self.out.push(op::LONG);
            self.out.extend_from_slice(text.as_bytes());
            self.out.extend_from_slice(b"L\n");
        }
        Ok(())
    }

    fn save_float(&mut self, f: f64) {
        if self.proto >= 1 {
            self.out.push(op::BINFLOAT);
            self.out.extend_from_slice(&f.to_be_bytes());
        } else {
            self.out.push(op::FLOAT);
            self.out.extend_from_slice(crate::pyrepr::repr_float(f).as_bytes());
            self.out.push(b'\n');
        }
    }

    /// An empty list or dict: EMPTY_LIST (EMPTY_DICT), or MARK LIST (DICT) at protocol 0.
    fn empty_container(&mut self, binary: u8, text: u8) {
        if self.proto >= 1 {
            self.out.push(binary);
        } else {
            self.out.extend_from_slice(&[op::MARK, text]);
        }
    }

    fn empty_tuple(&mut self) {
        if self.proto >= 1 {
            self.out.push(op::EMPTY_TUPLE);
        } else {
            self.out.extend_from_slice(&[op::MARK, op::TUPLE]);
        }
    }

    fn tuple_op(&self, len: u32, marked: bool) -> u8 {
        match (marked, len) {
            (false, 1) => op::TUPLE1,
            (false, 2) => op::TUPLE2,
            (false, 3) => op::TUPLE3,
            _ => op::TUPLE,
        }
    }

    /// True when a tuple of `len` items is written MARK ... TUPLE.
    fn tuple_marked(&self, len: usize) -> bool {
        !(self.proto >= 2 && len <= 3)
    }

    /// Pushes the frames that save a temporary tuple of `items` (after
    /// whatever is above them on the stack).
    fn push_temp_tuple(&mut self, items: Vec<Value>) {
        if items.is_empty() {
            self.stack.push(Frame::EmptyTuple);
            return;
        }
        let marked = self.tuple_marked(items.len());
        let len = items.len();
        self.stack.push(Frame::TempTupleEnd { len: len as u32, marked });
        self.temps.push(Rc::from(items));
        self.stack.push(Frame::Seq(Seq::new(Src::Temp(self.temps.len() as u32 - 1), len, Style::Plain, 1)));
        self.stack.push(Frame::TupleStart { marked });
    }

    fn save_obj(&mut self, id: ObjId, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        let graph = self.graph;
        let Some(obj) = graph.try_get(id) else {
            return Err(unpicklable(format!(
                "object id {} is not in the graph (it has {} objects)",
                id.index(),
                graph.len()
            )));
        };
        if let Object::Int(b) = obj {
            return self.save_bigint(b);
        }
        let m = self.memo[id.index()];
        if m != NONE {
            self.write_get(m);
            return Ok(());
        }
        match obj {
            Object::Int(_) => Ok(()),
            Object::Str(s) => self.save_str(Some(id), s.as_bytes(), sink),
            Object::Bytes(b) => self.save_bytes(Some(id), b, sink),
            Object::ByteArray(b) => self.save_bytearray(id, b, sink),
            Object::List(items) => {
                self.empty_container(op::EMPTY_LIST, op::LIST);
                self.memo_put_obj(id)?;
                if !items.is_empty() {
                    let style = if self.proto >= 1 { Style::ListExact } else { Style::Each(op::APPEND) };
                    self.stack.push(Frame::Seq(Seq::new(Src::Seq(id), items.len(), style, 1)));
                }
                Ok(())
            }
            Object::Dict(d) => {
                self.empty_container(op::EMPTY_DICT, op::DICT);
                self.memo_put_obj(id)?;
                if !d.is_empty() {
                    let style = if self.proto >= 1 { Style::DictExact } else { Style::Each(op::SETITEM) };
                    self.stack.push(Frame::Seq(Seq::new(Src::Dict(id), d.len() * 2, style, 2)));
                }
                Ok(())
            }
            Object::Tuple(items) => {
                if items.is_empty() {
                    self.empty_tuple();
                    return Ok(());
                }
                let prev = self.activate(id)?;
                let marked = self.tuple_marked(items.len());
                if marked {
                    self.out.push(op::MARK);
                }
                self.stack.push(Frame::TupleEnd { id, len: items.len() as u32, marked, prev });
                self.stack.push(Frame::Seq(Seq::new(Src::Seq(id), items.len(), Style::Plain, 1)));
                Ok(())
            }
            Object::Set(s) | Object::FrozenSet(s) => {
                let frozen = matches!(obj, Object::FrozenSet(_));
                let src = self.set_src(id, s.items());
                if self.proto < 4 {
                    return self.save_set_reduce(id, frozen, src, s.len(), sink);
                }
                if frozen {
                    let prev = self.activate(id)?;
                    self.out.push(op::MARK);
                    self.stack.push(Frame::FrozenSetEnd { id, prev });
                    self.stack.push(Frame::Seq(Seq::new(src, s.len(), Style::Plain, 1)));
                } else {
                    self.out.push(op::EMPTY_SET);
                    self.memo_put_obj(id)?;
                    if !s.is_empty() {
                        self.stack.push(Frame::Seq(Seq::new(src, s.len(), Style::SetExact, 1)));
                    }
                }
                Ok(())
            }
            Object::Global(g) => self.save_global(Some(id), &g.module, &g.name, sink),
            Object::Record(r) => self.save_record(id, r),
            Object::PersistentId(pid) => self.save_persistent_id(*pid),
            Object::Buffer(b) => self.save_buffer(id, b, sink),
        }
    }

    /// The items of a set, in the order they are written.
    fn set_src(&mut self, id: ObjId, items: &[Value]) -> Src {
        if self.cpython_sets && items.len() > 1 {
            if let Some(order) = setorder::cpython_order(self.graph, items) {
                self.temps.push(Rc::from(order));
                return Src::Temp(self.temps.len() as u32 - 1);
            }
        }
        Src::Set(id)
    }

    /// Below protocol 4: `builtins.set([items])` (or frozenset), memoized after REDUCE.
    fn save_set_reduce(
        &mut self,
        id: ObjId,
        frozen: bool,
        src: Src,
        len: usize,
        sink: &mut Option<&mut dyn Write>,
    ) -> Result<()> {
        let prev = self.activate(id)?;
        self.save_global_name("builtins", if frozen { "frozenset" } else { "set" }, sink)?;
        // save((list,))
        self.boundary(sink)?;
        let marked = self.tuple_marked(1);
        if marked {
            self.out.push(op::MARK);
        }
        // save(list)
        self.boundary(sink)?;
        self.empty_container(op::EMPTY_LIST, op::LIST);
        self.memo_put()?;
        self.stack.push(Frame::CallEnd { id, op: CallOp::Reduce, prev, drop_empty_state: false });
        self.stack.push(Frame::TempTupleEnd { len: 1, marked });
        if len > 0 {
            let style = if self.proto >= 1 { Style::ListExact } else { Style::Each(op::APPEND) };
            self.stack.push(Frame::Seq(Seq::new(src, len, style, 1)));
        }
        Ok(())
    }

    // --- sequences -------------------------------------------------------------

    /// The values a source names: a slice of the graph, or a temporary.
    fn view(&self, src: Src) -> View<'g> {
        let graph = self.graph;
        let flat = |v: Option<&'g [Value]>| View::Flat(v.unwrap_or(&[]));
        match src {
            Src::Seq(id) => flat(match graph.try_get(id) {
                Some(Object::List(v) | Object::Tuple(v)) => Some(v),
                _ => None,
            }),
            Src::Dict(id) => match graph.try_get(id) {
                Some(Object::Dict(d)) => View::Pairs(d.entries()),
                _ => View::Flat(&[]),
            },
            Src::Set(id) => flat(match graph.try_get(id) {
                Some(Object::Set(s) | Object::FrozenSet(s)) => Some(s.items()),
                _ => None,
            }),
            Src::Items(id) => flat(graph.as_record(Value::Obj(id)).map(|r| &r.items[..])),
            Src::DictItems(id) => match graph.as_record(Value::Obj(id)) {
                Some(r) => View::Pairs(&r.dict_items),
                None => View::Flat(&[]),
            },
            Src::Temp(t) => View::Temp(self.temps.get(t as usize).cloned().unwrap_or_else(|| Rc::from(Vec::new()))),
        }
    }

    fn step_seq(&mut self, mut s: Seq, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        let unit = s.unit as u32;
        let view = self.view(s.src);
        loop {
            if !s.open {
                let rem = s.len - s.pos;
                let batch = BATCHSIZE * unit;
                match s.style {
                    Style::Plain => {
                        if rem == 0 {
                            return Ok(());
                        }
                        s.left = rem;
                        s.closer = 0;
                    }
                    Style::Each(code) => {
                        if rem == 0 {
                            return Ok(());
                        }
                        s.left = unit;
                        s.closer = code;
                    }
                    Style::ListExact => {
                        if rem == 0 {
                            return Ok(());
                        }
                        if s.len == 1 {
                            s.left = 1;
                            s.closer = op::APPEND;
                        } else {
                            self.out.push(op::MARK);
                            s.left = rem.min(batch);
                            s.closer = op::APPENDS;
                        }
                    }
                    Style::Iter(one, many) => {
                        if rem == 0 {
                            return Ok(());
                        }
                        if rem == unit {
                            s.left = unit;
                            s.closer = one;
                        } else {
                            self.out.push(op::MARK);
                            s.left = rem.min(batch);
                            s.closer = many;
                        }
                    }
                    Style::DictExact | Style::SetExact => {
                        if rem == 0 && !s.tail {
                            return Ok(());
                        }
                        let dict = s.style == Style::DictExact;
                        if dict && s.len == 2 {
                            s.left = 2;
                            s.closer = op::SETITEM;
                        } else {
                            self.out.push(op::MARK);
                            s.left = rem.min(batch);
                            s.tail = s.left == batch;
                            s.closer = if dict { op::SETITEMS } else { op::ADDITEMS };
                        }
                    }
                }
                s.open = true;
            }
            while s.left > 0 {
                let i = s.pos as usize;
                // Sources are fixed while the graph is borrowed: never None.
                let v = match &view {
                    View::Flat(a) => a.get(i).copied(),
                    View::Pairs(p) => p.get(i / 2).map(|e| if i % 2 == 0 { e.0 } else { e.1 }),
                    View::Temp(a) => a.get(i).copied(),
                };
                let v = v.unwrap_or(Value::None);
                s.pos += 1;
                s.left -= 1;
                let depth = self.stack.len();
                self.save(v, sink)?;
                if self.stack.len() > depth {
                    self.stack.insert(depth, Frame::Seq(s));
                    return Ok(());
                }
            }
            if s.closer != 0 {
                self.out.push(s.closer);
            }
            s.open = false;
        }
    }

    // --- str and bytes ------------------------------------------------------------

    /// Writes a str (generalized UTF-8) and memoizes it: by id for an
    /// object of the graph, and by value for the strs CPython caches.
    fn save_str(&mut self, id: Option<ObjId>, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        let cached = cached_char(b);
        if let Some(k) = cached {
            let m = self.chars[k];
            if m != NONE {
                self.write_get(m);
                if let Some(id) = id {
                    self.memo[id.index()] = m;
                }
                return Ok(());
            }
        }
        self.write_str(b, sink)?;
        let m = match id {
            Some(id) => self.memo_put_obj(id)?,
            None => self.memo_put()?,
        };
        if let Some(k) = cached {
            self.chars[k] = m;
        }
        Ok(())
    }

    fn write_str(&mut self, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if self.proto == 0 {
            self.out.push(op::UNICODE);
            raw_unicode_escape(&mut self.out, b);
            self.out.push(b'\n');
            return Ok(());
        }
        let short = (self.proto >= 4).then_some(op::SHORT_BINUNICODE);
        let (header, len) = self.counted_header(b.len(), short, op::BINUNICODE, op::BINUNICODE8, "a str")?;
        let header = &header[..len];
        self.write_payload(header, b, sink)
    }

    /// `save_bytes`. `id` is the object of the graph, or None for the
    /// temporary bytes of a bytearray's reduce form.
    fn save_bytes(&mut self, id: Option<ObjId>, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        // b"" is one object in CPython; so is a one-byte temporary.
        let cached = match b {
            [] => Some(self.empty_bytes),
            [c] if id.is_none() => Some(self.bytes1[*c as usize]),
            _ => None,
        };
        if let Some(m) = cached.filter(|&m| m != NONE) {
            self.write_get(m);
            if let Some(id) = id {
                self.memo[id.index()] = m;
            }
            return Ok(());
        }
        if self.proto >= 3 {
            self.write_bytes_data(b, sink)?;
        } else if b.is_empty() {
            self.save_global_name("builtins", "bytes", sink)?;
            self.boundary(sink)?;
            self.empty_tuple();
            self.out.push(op::REDUCE);
        } else {
            // _codecs.encode(b.decode('latin1'), 'latin1')
            self.save_global_name("_codecs", "encode", sink)?;
            self.boundary(sink)?;
            let marked = self.tuple_marked(2);
            if marked {
                self.out.push(op::MARK);
            }
            let text: String = b.iter().map(|&c| c as char).collect();
            self.boundary(sink)?;
            self.save_str(None, text.as_bytes(), sink)?;
            self.boundary(sink)?;
            if self.latin1 != NONE {
                self.write_get(self.latin1);
            } else {
                self.write_str(b"latin1", sink)?;
                self.latin1 = self.memo_put()?;
            }
            self.out.push(self.tuple_op(2, marked));
            self.memo_put()?;
            self.out.push(op::REDUCE);
        }
        let m = match id {
            Some(id) => self.memo_put_obj(id)?,
            None => self.memo_put()?,
        };
        match b {
            [] => self.empty_bytes = m,
            [c] if id.is_none() => self.bytes1[*c as usize] = m,
            _ => {}
        }
        Ok(())
    }

    /// The opcode and length of a str or bytes of `n` bytes: the one-byte
    /// length form up to 255 (when the protocol has it), four bytes up to
    /// 4 GiB, eight bytes from protocol 4.
    fn counted_header(&self, n: usize, short: Option<u8>, four: u8, eight: u8, what: &str) -> Result<([u8; 9], usize)> {
        let mut header = [0u8; 9];
        match short {
            Some(code) if n <= 0xff => {
                header[..2].copy_from_slice(&[code, n as u8]);
                return Ok((header, 2));
            }
            _ => {}
        }
        if n <= 0xffff_ffff {
            header[0] = four;
            header[1..5].copy_from_slice(&(n as u32).to_le_bytes());
            Ok((header, 5))
        } else if self.proto >= 4 {
            header[0] = eight;
            header[1..9].copy_from_slice(&(n as u64).to_le_bytes());
            Ok((header, 9))
        } else {
            Err(unpicklable(format!("{what} larger than 4 GiB needs protocol 4 or higher")))
        }
    }

    /// `_save_bytes_data` without the memo.
    fn write_bytes_data(&mut self, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        let (header, len) =
            self.counted_header(b.len(), Some(op::SHORT_BINBYTES), op::BINBYTES, op::BINBYTES8, "a bytes object")?;
        let header = &header[..len];
        self.write_payload(header, b, sink)
    }

    fn write_bytearray_data(&mut self, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        let mut header = [op::BYTEARRAY8, 0, 0, 0, 0, 0, 0, 0, 0];
        header[1..].copy_from_slice(&(b.len() as u64).to_le_bytes());
        self.write_payload(&header, b, sink)
    }

    fn save_bytearray(&mut self, id: ObjId, b: &[u8], sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if self.proto >= 5 {
            self.write_bytearray_data(b, sink)?;
        } else {
            // bytearray() or bytearray(bytes(b))
            self.save_global_name("builtins", "bytearray", sink)?;
            self.boundary(sink)?;
            if b.is_empty() {
                self.empty_tuple();
            } else {
                let marked = self.tuple_marked(1);
                if marked {
                    self.out.push(op::MARK);
                }
                self.boundary(sink)?;
                self.save_bytes(None, b, sink)?;
                self.out.push(self.tuple_op(1, marked));
                self.memo_put()?;
            }
            self.out.push(op::REDUCE);
        }
        self.memo_put_obj(id)?;
        Ok(())
    }

    fn save_buffer(&mut self, id: ObjId, b: &Buffer, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if self.proto < 5 {
            return Err(unpicklable(format!(
                "object {} is an out-of-band buffer (PickleBuffer), which needs protocol 5",
                id.index()
            )));
        }
        let in_band = match self.buffer_callback.as_mut() {
            Some(callback) => callback(b),
            None => true,
        };
        if in_band {
            if b.readonly {
                self.write_bytes_data(&b.data, sink)?;
            } else {
                self.write_bytearray_data(&b.data, sink)?;
            }
            self.memo_put_obj(id)?;
        } else {
            self.out.push(op::NEXT_BUFFER);
            if b.readonly {
                self.out.push(op::READONLY_BUFFER);
            }
        }
        Ok(())
    }

    fn save_persistent_id(&mut self, pid: Value) -> Result<()> {
        if self.proto >= 1 {
            // save(pid) then BINPERSID; the persistent object is not memoized.
            self.stack.push(Frame::Op(op::BINPERSID));
            self.stack.push(Frame::Save(pid));
            return Ok(());
        }
        let text = self.graph.as_str(pid).filter(|s| s.is_ascii() && !s.contains('\n'));
        let Some(text) = text else {
            return Err(unpicklable("a persistent id written at protocol 0 must be an ASCII str without a newline"));
        };
        self.out.push(op::PERSID);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\n');
        Ok(())
    }

    // --- globals -------------------------------------------------------------------

    /// `save(obj)` of a class or function the encoder names itself.
    fn save_global_name(&mut self, module: &str, name: &str, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        self.boundary(sink)?;
        self.save_global(None, module, name, sink)
    }

    /// `save_type` and `save_global`.
    fn save_global(
        &mut self,
        id: Option<ObjId>,
        module: &str,
        name: &str,
        sink: &mut Option<&mut dyn Write>,
    ) -> Result<()> {
        let (module, name) = canonical_name(module, name);
        if let Some(&m) = self.globals.get(&(module.to_string(), name.to_string())) {
            self.write_get(m);
            if let Some(id) = id {
                self.memo[id.index()] = m;
            }
            return Ok(());
        }
        let singleton = match (module, name) {
            ("builtins", "NoneType") => Some(None),
            ("builtins", "ellipsis") => Some(Some("Ellipsis")),
            ("builtins", "NotImplementedType") => Some(Some("NotImplemented")),
            _ => None,
        };
        if let Some(instance) = singleton {
            // type(None), as save_singleton_type writes it.
            self.save_global_name("builtins", "type", sink)?;
            self.boundary(sink)?;
            let marked = self.tuple_marked(1);
            if marked {
                self.out.push(op::MARK);
            }
            match instance {
                None => {
                    self.boundary(sink)?;
                    self.out.push(op::NONE);
                }
                Some(name) => self.save_global_name("builtins", name, sink)?,
            }
            self.out.push(self.tuple_op(1, marked));
            self.memo_put()?;
            self.out.push(op::REDUCE);
        } else if let Some(code) = self.extension(module, name) {
            match code {
                0..=0xff => self.out.extend_from_slice(&[op::EXT1, code as u8]),
                0x100..=0xffff => {
                    self.out.push(op::EXT2);
                    self.out.extend_from_slice(&(code as u16).to_le_bytes());
                }
                _ => {
                    self.out.push(op::EXT4);
                    self.out.extend_from_slice(&code.to_le_bytes());
                }
            }
            return Ok(());
        } else if self.proto >= 4 {
            self.boundary(sink)?;
            self.save_module_name(module, name, sink)?;
            self.boundary(sink)?;
            self.save_str(None, name.as_bytes(), sink)?;
            self.out.push(op::STACK_GLOBAL);
        } else if name.contains('.') {
            return self.save_nested_global(id, module, name, sink);
        } else {
            self.write_global_text(op::GLOBAL, module, name)?;
        }
        let m = match id {
            Some(id) => self.memo_put_obj(id)?,
            None => self.memo_put()?,
        };
        self.globals.insert((module.to_string(), name.to_string()), m);
        Ok(())
    }

    fn extension(&self, module: &str, name: &str) -> Option<u32> {
        if self.proto < 2 || self.extensions.is_empty() {
            return None;
        }
        self.extensions.get(&Global::new(module, name)).copied()
    }

    /// The module name of STACK_GLOBAL: `__module__`, which is one str
    /// object per module, except that the functions of the C modules
    /// `builtins` and `array` have the module's `__name__` and their types
    /// another str.
    fn save_module_name(&mut self, module: &str, name: &str, sink: &mut Option<&mut dyn Write>) -> Result<()> {
        if cached_char(module.as_bytes()).is_some() {
            return self.save_str(None, module.as_bytes(), sink);
        }
        let c_function = match module {
            "builtins" => BUILTIN_FUNCTIONS.binary_search(&name).is_ok(),
            "array" => name == "_array_reconstructor",
            _ => false,
        };
        let key = (module.to_string(), c_function);
        if let Some(&m) = self.modules.get(&key) {
            self.write_get(m);
            return Ok(());
        }
        self.write_str(module.as_bytes(), sink)?;
        let m = self.memo_put()?;
        self.modules.insert(key, m);
        Ok(())
    }

    /// Below protocol 4, a nested name `A.B.c` is `getattr(getattr(A, 'B'), 'c')`,
    /// every level memoized as the object it names.
    fn save_nested_global(
        &mut self,
        id: Option<ObjId>,
        module: &str,
        name: &str,
        sink: &mut Option<&mut dyn Write>,
    ) -> Result<()> {
        let parts: Vec<&str> = name.split('.').collect();
        let n = parts.len();
        let prefix = |k: usize| -> String { parts[..k].join(".") };
        let marked = self.tuple_marked(2);
        // Down: getattr, (, parent... until a level that is memoized or the top one.
        let mut k = n;
        loop {
            self.save_global_name("builtins", "getattr", sink)?;
            self.boundary(sink)?;
            if marked {
                self.out.push(op::MARK);
            }
            k -= 1;
            self.boundary(sink)?;
            if let Some(&m) = self.globals.get(&(module.to_string(), prefix(k))) {
                self.write_get(m);
                break;
            }
            if k == 1 {
                self.save_global(None, module, parts[0], sink)?;
                break;
            }
        }
        // Up: name, TUPLE, REDUCE, and the memo of each level.
        for j in k + 1..=n {
            self.boundary(sink)?;
            self.save_str(None, parts[j - 1].as_bytes(), sink)?;
            self.out.push(self.tuple_op(2, marked));
            self.memo_put()?;
            self.out.push(op::REDUCE);
            let m = match id {
                Some(id) if j == n => self.memo_put_obj(id)?,
                _ => self.memo_put()?,
            };
            self.globals.insert((module.to_string(), prefix(j)), m);
        }
        Ok(())
    }

    /// GLOBAL or INST: `module\nname\n`, in Python 2's names below protocol 3.
    fn write_global_text(&mut self, code: u8, module: &str, name: &str) -> Result<()> {
        let (module, name) =
            if self.proto < 3 && self.fix_imports { python2_name(module, name) } else { (module, name) };
        // GLOBAL is read as UTF-8 but written so only at protocol 3 (Python
        // 2 reads ASCII); INST is read as ASCII at every protocol.
        let utf8 = code == op::GLOBAL && self.proto == 3;
        let bad = |s: &str| s.contains('\n') || (!utf8 && !s.is_ascii());
        if bad(module) || bad(name) {
            return Err(unpicklable(format!(
                "the global {module}.{name} cannot be written at protocol {}: {}",
                self.proto,
                if module.contains('\n') || name.contains('\n') {
                    "its name holds a newline"
                } else {
                    "only GLOBAL at protocol 3 and STACK_GLOBAL (4 and up) take names that are not ASCII"
                }
            )));
        }
        self.out.push(code);
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
        Ok(())
    }

    // --- object records -----------------------------------------------------------

    fn save_record(&mut self, id: ObjId, r: &'g Record) -> Result<()> {
        let graph = self.graph;
        let args: &'g [Value] = match graph.object(r.args) {
            Some(Object::Tuple(t)) => t,
            _ => {
                return Err(unpicklable(format!("the arguments of object {} are not a tuple", id.index())));
            }
        };
        let kwargs_empty = match r.kwargs.map(|k| graph.object(k)) {
            None => true,
            Some(Some(Object::Dict(d))) => d.is_empty(),
            Some(_) => {
                return Err(unpicklable(format!("the keyword arguments of object {} are not a dict", id.index())));
            }
        };
        let callable = graph.as_global(r.callable).map(|g| canonical_name(&g.module, &g.name));
        let is = |m: &str, n: &str| callable == Some((m, n));
        let proto = self.proto;
        let prev = self.activate(id)?;
        let end = |op, drop_empty_state| Frame::CallEnd { id, op, prev, drop_empty_state };
        // INST and OBJ without arguments made `cls.__new__(cls)` (pickle's
        // `_instantiate`), as NEWOBJ does: written as CPython writes such an
        // instance, by object.__reduce_ex__ (no BUILD for an empty __dict__).
        let classic = matches!(r.kind, RecordKind::Inst | RecordKind::Obj) && args.is_empty();
        let kind = match r.kind {
            RecordKind::NewObjEx if proto < 4 && kwargs_empty => RecordKind::NewObj,
            _ if classic && may_be_class(graph, r.callable) => RecordKind::NewObj,
            k => k,
        };
        match kind {
            RecordKind::Reduce
                if proto >= 2
                    && is("copyreg", "__newobj__")
                    && args.first().is_some_and(|&c| may_be_class(graph, c)) =>
            {
                // What save_reduce does with a callable named __newobj__.
                self.stack.push(end(CallOp::NewObj, false));
                self.push_temp_tuple(args[1..].to_vec());
                self.stack.push(Frame::Save(args[0]));
            }
            RecordKind::Reduce
                if proto >= 4
                    && is("copyreg", "__newobj_ex__")
                    && args.len() == 3
                    && may_be_class(graph, args[0])
                    && graph.as_tuple(args[1]).is_some()
                    && matches!(graph.object(args[2]), Some(Object::Dict(_))) =>
            {
                self.stack.push(end(CallOp::NewObjEx, false));
                self.stack.push(Frame::Save(args[2]));
                self.stack.push(Frame::Save(args[1]));
                self.stack.push(Frame::Save(args[0]));
            }
            RecordKind::Reduce
                if proto >= 2
                    && is("copyreg", "_reconstructor")
                    && args.len() == 3
                    && may_be_class(graph, args[0])
                    && graph.as_global(args[1]).is_some_and(|g| g.is("builtins", "object"))
                    && args[2] == Value::None =>
            {
                // copyreg._reconstructor(cls, object, None) is what
                // object.__reduce_ex__ gives below protocol 2; from 2 on it gives NEWOBJ.
                self.stack.push(end(CallOp::NewObj, true));
                self.stack.push(Frame::EmptyTuple);
                self.stack.push(Frame::Save(args[0]));
            }
            RecordKind::Reduce => {
                self.stack.push(end(CallOp::Reduce, false));
                self.stack.push(Frame::Save(r.args));
                self.stack.push(Frame::Save(r.callable));
            }
            RecordKind::NewObj if proto >= 2 => {
                self.stack.push(end(CallOp::NewObj, classic));
                self.stack.push(Frame::Save(r.args));
                self.stack.push(Frame::Save(r.callable));
            }
            RecordKind::NewObj if classic => {
                // A classic instance (INST/OBJ) is of a plain class: below
                // protocol 2 CPython writes it as object.__reduce_ex__ does.
                self.stack.push(end(CallOp::Reduce, true));
                let marked = self.tuple_marked(3);
                self.stack.push(Frame::TempTupleEnd { len: 3, marked });
                self.stack.push(Frame::Save(Value::None));
                self.stack.push(Frame::SaveGlobal("builtins", "object"));
                self.stack.push(Frame::Save(r.callable));
                self.stack.push(Frame::TupleStart { marked });
                self.stack.push(Frame::SaveGlobal("copyreg", "_reconstructor"));
            }
            RecordKind::NewObj => {
                // cls.__new__(cls, *args) through copyreg.__newobj__: what
                // CPython writes here depends on the class (a subclass of
                // dict is `_reconstructor(cls, dict, {...})`, a plain class
                // `_reconstructor(cls, object, None)`), which the record
                // does not say; this form makes the same object for any class.
                self.stack.push(end(CallOp::Reduce, false));
                let mut items = Vec::with_capacity(args.len() + 1);
                items.push(r.callable);
                items.extend_from_slice(args);
                self.push_temp_tuple(items);
                self.stack.push(Frame::SaveGlobal("copyreg", "__newobj__"));
            }
            RecordKind::NewObjEx => {
                let kwargs = r.kwargs.unwrap_or(Value::None);
                if proto >= 4 {
                    self.stack.push(end(CallOp::NewObjEx, false));
                    self.stack.push(Frame::Save(kwargs));
                    self.stack.push(Frame::Save(r.args));
                    self.stack.push(Frame::Save(r.callable));
                } else {
                    self.stack.push(end(CallOp::Reduce, false));
                    self.push_temp_tuple(vec![r.callable, r.args, kwargs]);
                    self.stack.push(Frame::SaveGlobal("copyreg", "__newobj_ex__"));
                }
            }
            RecordKind::Inst | RecordKind::Obj => {
                let class = r.callable.obj().filter(|_| graph.as_global(r.callable).is_some());
                let inst = match (kind, class) {
                    (RecordKind::Inst, Some(c)) => Some(c),
                    (_, Some(c)) if proto == 0 => Some(c),
                    (_, None) if proto == 0 => {
                        self.active[id.index()] = prev;
                        return Err(unpicklable(format!(
                            "object {} was made by INST/OBJ from a class that is not a global; \
                             protocol 0 can only name the class inline",
                            id.index()
                        )));
                    }
                    _ => None,
                };
                self.out.push(op::MARK);
                match inst {
                    Some(class) => {
                        self.stack.push(end(CallOp::Inst(class), false));
                        self.stack.push(Frame::Seq(Seq::new(
                            Src::Seq(r.args.obj().unwrap_or(id)),
                            args.len(),
                            Style::Plain,
                            1,
                        )));
                    }
                    None => {
                        self.stack.push(end(CallOp::Obj, false));
                        self.stack.push(Frame::Seq(Seq::new(
                            Src::Seq(r.args.obj().unwrap_or(id)),
                            args.len(),
                            Style::Plain,
                            1,
                        )));
                        self.stack.push(Frame::Save(r.callable));
                    }
                }
            }
        }
        Ok(())
    }

    /// REDUCE (NEWOBJ, ...) of `id`, its memo, then what the record holds.
    fn call_end(&mut self, id: ObjId, call: CallOp, prev: u32, drop_empty_state: bool) -> Result<()> {
        match call {
            CallOp::Reduce => self.out.push(op::REDUCE),
            CallOp::NewObj => self.out.push(op::NEWOBJ),
            CallOp::NewObjEx => self.out.push(op::NEWOBJ_EX),
            CallOp::Obj => self.out.push(op::OBJ),
            CallOp::Inst(class) => {
                let g = self.graph.as_global(Value::Obj(class)).cloned().unwrap_or_else(|| Global::new("", ""));
                self.write_global_text(op::INST, &g.module, &g.name)?;
            }
        }
        self.active[id.index()] = prev;
        let m = self.memo[id.index()];
        if m != NONE {
            // Written while its arguments were: drop this one, as save_reduce does.
            self.out.push(op::POP);
            self.write_get(m);
            return Ok(());
        }
        self.memo_put_obj(id)?;
        let graph = self.graph;
        let Some(Object::Record(r)) = graph.try_get(id) else {
            return Ok(());
        };
        let empty_dict = |v: Value| matches!(graph.object(v), Some(Object::Dict(d)) if d.is_empty());
        if let Some(state) = r.state.filter(|&s| !(drop_empty_state && empty_dict(s))) {
            self.stack.push(Frame::Op(op::BUILD));
            self.stack.push(Frame::Save(state));
        }
        if !r.dict_items.is_empty() {
            let style = if self.proto >= 1 { Style::Iter(op::SETITEM, op::SETITEMS) } else { Style::Each(op::SETITEM) };
            self.stack.push(Frame::Seq(Seq::new(Src::DictItems(id), r.dict_items.len() * 2, style, 2)));
        }
        if !r.items.is_empty() {
            let style = if self.proto >= 1 { Style::Iter(op::APPEND, op::APPENDS) } else { Style::Each(op::APPEND) };
            self.stack.push(Frame::Seq(Seq::new(Src::Items(id), r.items.len(), style, 1)));
        }
        Ok(())
    }
}

/// A guess at the size of the pickle, so that a few large payloads are
/// copied once and not again as the buffer grows. Graphs of many objects
/// are not walked for it: their output grows in small steps anyway.
fn size_hint(graph: &Graph) -> usize {
    if graph.len() > 1 << 16 {
        return 0;
    }
    let payloads: usize = graph
        .objects()
        .map(|(_, o)| match o {
            Object::Str(s) => s.as_bytes().len(),
            Object::Bytes(b) | Object::ByteArray(b) => b.len(),
            Object::Buffer(b) => b.data.len(),
            _ => 0,
        })
        .sum();
    if payloads < 1 << 20 {
        return 0;
    }
    payloads + payloads / 8 + 16 * graph.len() + 4096
}

/// The index in the cache of CPython's shared strs (one character below
/// U+0100: its code point; the empty str: 256), if `b` is one of them.
#[inline]
fn cached_char(b: &[u8]) -> Option<usize> {
    match *b {
        [] => Some(256),
        [c] => Some(c as usize),
        [c0 @ 0xc2..=0xc3, c1] => Some((((c0 & 0x1f) as usize) << 6) | (c1 & 0x3f) as usize),
        _ => None,
    }
}

/// Protocol 0's UNICODE argument: `_pickle.c`'s raw_unicode_escape, which
/// also escapes `\`, NUL, `\n`, `\r` and `\x1a` so the line stays a line.
fn raw_unicode_escape(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for cp in crate::pyrepr::code_points(s) {
        if cp >= 0x10000 {
            out.extend_from_slice(b"\\U");
            for shift in (0..8).rev() {
                out.push(HEX[(cp >> (4 * shift)) as usize & 15]);
            }
        } else if cp >= 256 || matches!(cp, 0x5c | 0 | 0x0a | 0x0d | 0x1a) {
            out.extend_from_slice(b"\\u");
            for shift in (0..4).rev() {
                out.push(HEX[(cp >> (4 * shift)) as usize & 15]);
            }
        } else {
            out.push(cp as u8);
        }
    }
}

/// `fix_imports` of `_pickle.c`: Python 3 names to Python 2 names.
fn python2_name<'s>(module: &'s str, name: &'s str) -> (&'s str, &'s str) {
    if let Ok(i) = compat::REVERSE_NAME_MAPPING.binary_search_by(|(k, _)| k.cmp(&(module, name))) {
        return compat::REVERSE_NAME_MAPPING[i].1;
    }
    if let Ok(i) = compat::REVERSE_IMPORT_MAPPING.binary_search_by(|(k, _)| k.cmp(&module)) {
        return (compat::REVERSE_IMPORT_MAPPING[i].1, name);
    }
    (module, name)
}
