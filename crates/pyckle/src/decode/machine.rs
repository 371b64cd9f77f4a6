//! The unpickling machine: one pass over the input, a `match` on each
//! opcode, a value stack, a mark stack and a memo, with CPython's semantics
//! (`Modules/_pickle.c`), including its "fence": an opcode cannot pop below
//! the last MARK.

use super::{EncodingErrors, Limits, StringEncoding, Unpickler};
use crate::compat;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::{
    Buffer, Dict, Global, Graph, KeyError, KeyWork, ObjId, Object, PyStr, Record, RecordKind, Set, Value,
};
use crate::literal::{self, IntLit};
use crate::opcode::op;
use crate::read::Read;
use std::borrow::Cow;
use std::collections::HashMap;

/// Approximate bytes an object costs, for the allocation limit.
const OBJECT_COST: u64 = std::mem::size_of::<Object>() as u64;
const VALUE_COST: u64 = std::mem::size_of::<Value>() as u64;

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid(msg.into()))
}

/// A key that cannot go into a dict or set: unhashable (as CPython says),
/// or over the key-work limit.
fn key_error(e: KeyError) -> Error {
    match e {
        KeyError::TooMuchWork => Error::new(ErrorKind::LimitExceeded(e.to_string())),
        other => invalid(other.to_string()),
    }
}

#[cold]
fn refused(module: String, name: String, reason: String) -> Error {
    Error::new(ErrorKind::RefusedGlobal { module, name, reason })
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::MalformedLiteral(msg.into()))
}

/// The memo: dense while keys are small and packed (as picklers write
/// them), a map for sparse keys, so a huge key allocates nothing.
#[derive(Default)]
struct Memo {
    /// `MISSING` marks keys never PUT.
    dense: Vec<Value>,
    sparse: HashMap<u64, Value>,
    len: usize,
}

/// An id no object has (the arena stops short of `u32::MAX` objects): the
/// mark of an empty memo slot. A plain `Value` rather than an
/// `Option<Value>` keeps the hot GET path to simple word moves.
const MISSING: Value = Value::Obj(ObjId(u32::MAX));

fn is_missing(v: Value) -> bool {
    matches!(v, Value::Obj(ObjId(u32::MAX)))
}

impl Memo {
    #[inline]
    fn get(&self, key: u64) -> Option<Value> {
        match self.dense.get(key as usize) {
            Some(&v) if !is_missing(v) => Some(v),
            Some(_) => None,
            None => self.sparse.get(&key).copied(),
        }
    }
    /// Stores `value` under `key`; returns true when the key is new.
    #[inline]
    fn put(&mut self, key: u64, value: Value) -> bool {
        let new = if key == self.dense.len() as u64 {
            // The common case: MEMOIZE, or PUTs numbered in order.
            self.dense.push(value);
            true
        } else if (key as usize) < self.dense.len() {
            is_missing(std::mem::replace(&mut self.dense[key as usize], value))
        } else if key <= self.dense.len() as u64 + 1024 {
            self.dense.resize(key as usize + 1, MISSING);
            self.dense[key as usize] = value;
            true
        } else {
            self.sparse.insert(key, value).is_none()
        };
        if new {
            self.len += 1;
        }
        new
    }
}

pub(super) struct Machine<'u, 'h, 'r, 'a, R: Read<'a>> {
    u: &'u mut Unpickler<'h>,
    input: &'r mut R,
    graph: Graph<'a>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Memo,
    proto: u8,
    alloc: u64,
    /// A copy of `u.options.limits`: read on every push and allocation,
    /// so kept one pointer closer.
    limits: Limits,
    /// What is left of `limits.max_key_work`.
    key_work: KeyWork,
}

impl<'u, 'h, 'r, 'a, R: Read<'a>> Machine<'u, 'h, 'r, 'a, R> {
    pub(super) fn new(u: &'u mut Unpickler<'h>, input: &'r mut R) -> Self {
        Machine {
            key_work: KeyWork::new(u.options.limits.max_key_work),
            limits: u.options.limits,
            u,
            input,
            graph: Graph::new(),
            stack: Vec::with_capacity(64),
            marks: Vec::new(),
            memo: Memo::default(),
            proto: 0,
            alloc: 0,
        }
    }

    /// Runs the pickle to its STOP and returns the graph.
    pub(super) fn run(mut self) -> Result<Graph<'a>> {
        let mut first = true;
        loop {
            let pos = self.input.offset();
            let code = match self.input.next_byte() {
                Ok(Some(c)) => c,
                Ok(None) if first => return Err(Error::at(ErrorKind::Eof, pos, None)),
                Ok(None) => return Err(Error::at(ErrorKind::Truncated("the input ended before STOP"), pos, None)),
                Err(e) => return Err(e.with_position(pos, None)),
            };
            if first {
                first = false;
                // canonical.py's guess for pickles without PROTO.
                self.graph.protocol = if matches!(code, b'}' | b']' | b')') { 1 } else { 0 };
            }
            match self.step(code) {
                Ok(true) => {}
                Ok(false) => return Ok(self.graph),
                Err(e) => return Err(e.with_position(pos, Some(code))),
            }
        }
    }

    // --- the stacks ------------------------------------------------------

    #[inline(always)]
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    #[inline(always)]
    fn push(&mut self, v: Value) -> Result<()> {
        if self.stack.len() + self.marks.len() >= self.limits.max_depth {
            return Err(self.depth_error());
        }
        self.stack.push(v);
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn depth_error(&self) -> Error {
        Error::new(ErrorKind::LimitExceeded(format!(
            "nesting deeper than {} (stack plus marks)",
            self.limits.max_depth
        )))
    }

    #[inline(always)]
    fn pop(&mut self) -> Result<Value> {
        if self.stack.len() <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        Ok(self.stack.pop().expect("stack is above the fence"))
    }

    #[inline(always)]
    fn top(&self) -> Result<Value> {
        if self.stack.len() <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        Ok(self.stack[self.stack.len() - 1])
    }

    /// Pops the last MARK and returns the stack length it marked.
    fn pop_mark(&mut self) -> Result<usize> {
        self.marks.pop().ok_or_else(|| Error::new(ErrorKind::MissingMark))
    }

    /// Pops the items above the last MARK, and the MARK.
    fn pop_marked(&mut self) -> Result<Vec<Value>> {
        let k = self.pop_mark()?;
        Ok(self.stack.split_off(k.min(self.stack.len())))
    }

    // --- allocation ------------------------------------------------------

    #[inline(always)]
    fn charge(&mut self, bytes: u64) -> Result<()> {
        self.alloc = self.alloc.saturating_add(bytes);
        if self.alloc > self.limits.max_alloc {
            return Err(self.alloc_error());
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self) -> Error {
        Error::new(ErrorKind::LimitExceeded(format!("more than {} bytes allocated", self.limits.max_alloc)))
    }

    #[inline(always)]
    fn add(&mut self, obj: Object<'a>) -> Result<Value> {
        self.charge(OBJECT_COST)?;
        if self.graph.objects.len() >= u32::MAX as usize {
            return Err(Error::new(ErrorKind::LimitExceeded("more than 2^32 objects".into())));
        }
        Ok(self.graph.add(obj))
    }

    fn add_items(&mut self, items: Vec<Value>, make: fn(Vec<Value>) -> Object<'a>) -> Result<Value> {
        self.charge(items.len() as u64 * VALUE_COST)?;
        self.add(make(items))
    }

    /// A payload of `n` bytes: borrowed from a slice, or copied (and charged) from a reader.
    #[inline]
    fn payload(&mut self, n: u64) -> Result<Cow<'a, [u8]>> {
        if !R::BORROWS {
            self.charge(n)?;
        }
        self.input.read_bytes(n)
    }

    fn line(&mut self) -> Result<Cow<'a, [u8]>> {
        let max = self.limits.max_line;
        let line = self.input.read_line(max)?;
        if !R::BORROWS {
            self.charge(line.len() as u64)?;
        }
        Ok(line)
    }

    // --- values ----------------------------------------------------------

    fn int(&mut self, lit: IntLit) -> Result<Value> {
        match lit {
            IntLit::Bool(b) => Ok(Value::Bool(b)),
            IntLit::Small(i) => Ok(Value::Int(i)),
            IntLit::Big(b) => {
                self.charge(b.bits() / 8)?;
                self.add(Object::Int(b))
            }
        }
    }

    #[inline]
    fn str_utf8(&mut self, bytes: Cow<'a, [u8]>) -> Result<Value> {
        // Most strs are short and ASCII: `is_ascii` checks a word at a time
        // and is much cheaper than a UTF-8 validation call; ASCII is valid
        // UTF-8, so the answer is the same.
        let utf8 = bytes.is_ascii()
            || literal::check_utf8_surrogatepass(&bytes).map_err(|m| Error::new(ErrorKind::BadText(m)))?;
        self.add(Object::Str(PyStr::from_checked(bytes, utf8)))
    }

    /// A Python 2 `str`, decoded as `encoding=` and `errors=` say.
    fn py2_string(&mut self, bytes: Cow<'a, [u8]>) -> Result<Value> {
        let errors = self.u.options.errors;
        let text: Cow<'a, [u8]> = match self.u.options.encoding {
            StringEncoding::Bytes => return self.add(Object::Bytes(bytes)),
            StringEncoding::Ascii if bytes.is_ascii() => bytes,
            StringEncoding::Ascii => Cow::Owned(decode_ascii(&bytes, errors)?),
            StringEncoding::Latin1 if bytes.is_ascii() => bytes,
            StringEncoding::Latin1 => {
                let mut out = Vec::with_capacity(bytes.len() * 2);
                for &b in bytes.iter() {
                    crate::pyrepr::push_code_point(&mut out, b as u32);
                }
                Cow::Owned(out)
            }
            StringEncoding::Utf8 if std::str::from_utf8(&bytes).is_ok() => bytes,
            StringEncoding::Utf8 => Cow::Owned(decode_utf8(&bytes, errors)?),
        };
        self.str_utf8(text)
    }

    fn global(&mut self, module: String, name: String) -> Result<Value> {
        let (module, name) = self.find_class(module, name)?;
        self.add(Object::Global(Box::new(Global { module, name })))
    }

    /// `Unpickler.find_class` without the import: the Python 2 names of
    /// protocols 0 to 2 mapped as `fix_imports=True` does, then the user's
    /// hook, when there is one.
    fn find_class(&mut self, module: String, name: String) -> Result<(String, String)> {
        let (module, name) = self.fix_imports(module, name);
        self.resolve(module, name)
    }

    /// The user's find-class hook on one global (nothing to do without one).
    #[inline]
    fn resolve(&mut self, module: String, name: String) -> Result<(String, String)> {
        match self.u.find_class.as_mut() {
            None => Ok((module, name)),
            Some(hook) => match hook(&module, &name) {
                super::Resolve::Allow => Ok((module, name)),
                super::Resolve::Rename { module, name } => Ok((module, name)),
                super::Resolve::Refuse(reason) => Err(refused(module, name, reason)),
            },
        }
    }

    fn fix_imports(&self, module: String, name: String) -> (String, String) {
        if self.proto < 3 && self.u.options.fix_imports {
            let key = (module.as_str(), name.as_str());
            if let Ok(i) = compat::NAME_MAPPING.binary_search_by(|(k, _)| k.cmp(&key)) {
                let (m, n) = compat::NAME_MAPPING[i].1;
                return (m.to_string(), n.to_string());
            }
            if let Ok(i) = compat::IMPORT_MAPPING.binary_search_by(|(k, _)| k.cmp(&module.as_str())) {
                return (compat::IMPORT_MAPPING[i].1.to_string(), name);
            }
        }
        (module, name)
    }

    fn utf8_line(&mut self, what: &str) -> Result<String> {
        let line = self.line()?;
        String::from_utf8(line.into_owned()).map_err(|_| Error::new(ErrorKind::BadText(format!("{what} is not UTF-8"))))
    }

    fn persistent(&mut self, pid: Value) -> Result<Value> {
        match self.u.persistent_load.as_mut() {
            Some(hook) => hook(&mut self.graph, pid).map_err(|m| Error::new(ErrorKind::Persistent(m))),
            None => self.add(Object::PersistentId(pid)),
        }
    }

    #[inline(always)]
    fn memo_get(&self, key: u64) -> Result<Value> {
        self.memo.get(key).ok_or_else(|| Error::new(ErrorKind::MemoMissing(key)))
    }

    #[inline]
    fn memo_put(&mut self, key: u64) -> Result<()> {
        let v = self.top()?;
        if self.memo.len >= self.limits.max_memo && self.memo.get(key).is_none() {
            return Err(Error::new(ErrorKind::LimitExceeded(format!(
                "more than {} memo entries",
                self.limits.max_memo
            ))));
        }
        if self.memo.put(key, v) {
            self.charge(VALUE_COST)?;
        }
        Ok(())
    }

    fn text_memo_key(&mut self, what: &str) -> Result<Option<u64>> {
        let line = self.line()?;
        let key = literal::parse_decimal_line(&line).map_err(malformed)?;
        if key.sign() == num_bigint::Sign::Minus {
            if what == "PUT" {
                return Err(invalid("negative PUT argument"));
            }
            return Ok(None);
        }
        Ok(Some(num_traits::ToPrimitive::to_u64(&key).unwrap_or(u64::MAX)))
    }

    fn tuple(&mut self, items: Vec<Value>) -> Result<Value> {
        self.add_items(items, Object::Tuple)
    }

    fn set_from(&mut self, items: &[Value], frozen: bool) -> Result<Value> {
        self.charge(items.len() as u64 * VALUE_COST * 2)?;
        let mut set = Set::new();
        for &item in items {
            set.insert_within(&self.graph, item, &self.key_work).map_err(key_error)?;
        }
        self.add(if frozen { Object::FrozenSet(set) } else { Object::Set(set) })
    }

    // --- calls -----------------------------------------------------------

    /// REDUCE: `callable(*args)`. The few calls CPython's unpickler turns
    /// into core types become them; every other call is recorded.
    fn call(&mut self, callable: Value, args: Value) -> Result<Value> {
        let arg_items = match self.graph.as_tuple(args) {
            Some(t) => t.to_vec(),
            None => return Err(invalid("REDUCE arguments must be a tuple")),
        };
        if !matches!(
            self.graph.object(callable),
            Some(Object::Global(_)) | Some(Object::Record(_)) | Some(Object::PersistentId(_))
        ) {
            let t = self.graph.object(callable).map(|o| o.type_name()).unwrap_or_else(|| scalar_type(callable));
            return Err(invalid(format!("'{t}' object is not callable")));
        }
        if let Some(v) = self.core_call(callable, &arg_items)? {
            return Ok(v);
        }
        self.record(RecordKind::Reduce, callable, args, None)
    }

    fn core_call(&mut self, callable: Value, args: &[Value]) -> Result<Option<Value>> {
        let Some(g) = self.graph.as_global(callable) else { return Ok(None) };
        let (module, name) = (g.module.as_str(), g.name.as_str());
        let to_bytearray = name == "bytearray";
        let v = match (module, name, args) {
            ("builtins", "set" | "frozenset", []) => self.set_from(&[], name == "frozenset")?,
            ("builtins", "set" | "frozenset", [items]) => {
                let items: Vec<Value> = match self.graph.object(*items) {
                    Some(Object::List(v)) | Some(Object::Tuple(v)) => v.clone(),
                    Some(Object::Set(s)) | Some(Object::FrozenSet(s)) => s.items().to_vec(),
                    _ => return Ok(None),
                };
                self.set_from(&items, name == "frozenset")?
            }
            ("builtins", "bytes", []) => self.add(Object::Bytes(Cow::Borrowed(&[])))?,
            ("builtins", "bytearray", []) => self.add(Object::ByteArray(Cow::Borrowed(&[])))?,
            ("builtins", "bytearray", [b]) => match self.graph.object(*b) {
                Some(Object::Bytes(bytes)) => {
                    let data = bytes.clone();
                    self.charge(data.len() as u64)?;
                    self.add(Object::ByteArray(data))?
                }
                _ => return Ok(None),
            },
            ("builtins", "bytearray", [s, enc]) | ("_codecs", "encode", [s, enc]) => {
                let enc = self.graph.as_str(*enc);
                if !matches!(enc, Some("latin1") | Some("latin-1")) {
                    return Ok(None);
                }
                let Some(Object::Str(s)) = self.graph.object(*s) else { return Ok(None) };
                let mut out = Vec::with_capacity(s.as_bytes().len());
                for cp in s.code_points() {
                    if cp > 0xff {
                        return Err(invalid("'latin-1' codec can't encode a character of the str"));
                    }
                    out.push(cp as u8);
                }
                self.charge(out.len() as u64)?;
                if to_bytearray {
                    self.add(Object::ByteArray(Cow::Owned(out)))?
                } else {
                    self.add(Object::Bytes(Cow::Owned(out)))?
                }
            }
            ("builtins", "getattr", [obj, attr]) => {
                let (Some(parent), Some(attr)) = (self.graph.as_global(*obj), self.graph.as_str(*attr)) else {
                    return Ok(None);
                };
                let (module, name) = (parent.module.clone(), format!("{}.{}", parent.name, attr));
                // The attribute is a global too: the hook sees it (without
                // the Python 2 mapping, which names modules and classes).
                let (module, name) = self.resolve(module, name)?;
                self.add(Object::Global(Box::new(Global { module, name })))?
            }
            ("builtins", "type", [arg]) => {
                let name = match (*arg, self.graph.as_global(*arg)) {
                    (Value::None, _) => "NoneType",
                    (_, Some(g)) if g.is("builtins", "NotImplemented") => "NotImplementedType",
                    (_, Some(g)) if g.is("builtins", "Ellipsis") => "ellipsis",
                    _ => return Ok(None),
                };
                self.add(Object::Global(Box::new(Global::new("builtins", name))))?
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    fn record(&mut self, kind: RecordKind, callable: Value, args: Value, kwargs: Option<Value>) -> Result<Value> {
        self.add(Object::Record(Box::new(Record {
            kind,
            callable,
            args,
            kwargs,
            state: None,
            items: Vec::new(),
            dict_items: Vec::new(),
        })))
    }

    /// NEWOBJ, NEWOBJ_EX, INST and OBJ take a class.
    fn check_class(&self, cls: Value, opcode: &str) -> Result<()> {
        match self.graph.object(cls) {
            Some(Object::Global(g))
                if g.module == "builtins"
                    && crate::graph::BUILTIN_FUNCTIONS.binary_search(&g.name.as_str()).is_ok() =>
            {
                Err(invalid(format!("{opcode} class argument isn't a type object: builtins.{} is a function", g.name)))
            }
            Some(Object::Global(_)) | Some(Object::Record(_)) | Some(Object::PersistentId(_)) => Ok(()),
            _ => Err(invalid(format!("{opcode} class argument isn't a type object"))),
        }
    }

    // --- mutation --------------------------------------------------------

    /// APPENDS/ADDITEMS: the items above stack position `x` go into the object at `x - 1`.
    fn extend(&mut self, x: usize, add: bool) -> Result<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        if len == x {
            return Ok(());
        }
        self.charge((len - x) as u64 * VALUE_COST)?;
        let target = self.stack[x - 1];
        let id = target.obj();
        match id.map(|id| self.graph.get(id)) {
            Some(Object::List(_)) if !add => {
                let Some(Object::List(list)) = id.map(|id| self.graph.get_mut(id)) else { unreachable!() };
                // `Value` is `Copy`: a memcpy and a truncate, rather than
                // `extend(drain(..))`, which moves the items one by one.
                list.extend_from_slice(&self.stack[x..]);
                self.stack.truncate(x);
            }
            Some(Object::Set(_)) if add => {
                let id = id.expect("a set is an object");
                let mut taken = self.graph.take(id);
                let items: Vec<Value> = self.stack.drain(x..).collect();
                let mut result = Ok(());
                if let Object::Set(set) = &mut taken {
                    for item in items {
                        if let Err(m) = set.insert_within(&self.graph, item, &self.key_work) {
                            result = Err(key_error(m));
                            break;
                        }
                    }
                }
                self.graph.put_back(id, taken);
                result?;
            }
            Some(Object::Record(_)) => {
                let Some(Object::Record(r)) = id.map(|id| self.graph.get_mut(id)) else { unreachable!() };
                r.items.extend_from_slice(&self.stack[x..]);
                self.stack.truncate(x);
            }
            other => {
                let t = other.map(|o| o.type_name()).unwrap_or_else(|| scalar_type(target));
                let what = if add { "add items to" } else { "append to" };
                return Err(invalid(format!("cannot {what} a {t} object")));
            }
        }
        Ok(())
    }

    /// SETITEMS/SETITEM: the key/value pairs above stack position `x` are set on the object at `x - 1`.
    fn set_items(&mut self, x: usize) -> Result<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(Error::new(ErrorKind::StackUnderflow));
        }
        if len == x {
            return Ok(());
        }
        if (len - x) % 2 != 0 {
            return Err(invalid("odd number of items for SETITEMS"));
        }
        self.charge((len - x) as u64 * VALUE_COST)?;
        let target = self.stack[x - 1];
        let id = target.obj();
        match id.map(|id| self.graph.get(id)) {
            Some(Object::Dict(_)) => {
                let id = id.expect("a dict is an object");
                let mut taken = self.graph.take(id);
                let mut result = Ok(());
                if let Object::Dict(dict) = &mut taken {
                    for pair in self.stack[x..].chunks_exact(2) {
                        if let Err(m) = dict.insert_within(&self.graph, pair[0], pair[1], &self.key_work) {
                            result = Err(key_error(m));
                            break;
                        }
                    }
                }
                self.graph.put_back(id, taken);
                result?;
                self.stack.truncate(x);
            }
            Some(Object::Record(_)) => {
                let pairs: Vec<(Value, Value)> = self.stack[x..].chunks_exact(2).map(|p| (p[0], p[1])).collect();
                self.stack.truncate(x);
                let Some(Object::Record(r)) = id.map(|id| self.graph.get_mut(id)) else { unreachable!() };
                r.dict_items.extend(pairs);
            }
            other => {
                let t = other.map(|o| o.type_name()).unwrap_or_else(|| scalar_type(target));
                return Err(invalid(format!("cannot set items on a {t} object")));
            }
        }
        Ok(())
    }

    fn dict_from(&mut self, items: Vec<Value>) -> Result<Value> {
        if items.len() % 2 != 0 {
            return Err(invalid("odd number of items for DICT"));
        }
        self.charge(items.len() as u64 * VALUE_COST)?;
        let mut dict = Dict::new();
        for pair in items.chunks_exact(2) {
            dict.insert_within(&self.graph, pair[0], pair[1], &self.key_work).map_err(key_error)?;
        }
        self.add(Object::Dict(dict))
    }

    // --- the opcodes -----------------------------------------------------

    /// Runs one opcode; `Ok(false)` after STOP. The opcodes that fill
    /// large pickles (scalars, short strings, containers, the memo) are
    /// handled here, inlined into the loop of [`Machine::run`]; the rest
    /// are in [`Machine::step_cold`], out of line, so the hot path keeps a
    /// small stack frame and few spills.
    #[inline(always)]
    fn step(&mut self, code: u8) -> Result<bool> {
        match code {
            op::MARK => {
                if self.stack.len() + self.marks.len() >= self.limits.max_depth {
                    return Err(self.depth_error());
                }
                self.marks.push(self.stack.len());
            }
            op::POP => {
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            op::NONE => self.push(Value::None)?,
            op::NEWTRUE => self.push(Value::Bool(true))?,
            op::NEWFALSE => self.push(Value::Bool(false))?,
            op::BININT => {
                let v = i32::from_le_bytes(self.input.read_array()?);
                self.push(Value::Int(v as i64))?;
            }
            op::BININT1 => {
                let [b] = self.input.read_array()?;
                self.push(Value::Int(b as i64))?;
            }
            op::BININT2 => {
                let v = u16::from_le_bytes(self.input.read_array()?);
                self.push(Value::Int(v as i64))?;
            }
            op::BINFLOAT => {
                let f = f64::from_be_bytes(self.input.read_array()?);
                self.push(Value::Float(f))?;
            }
            op::SHORT_BINUNICODE => {
                let [n] = self.input.read_array()?;
                let bytes = self.payload(n as u64)?;
                let v = self.str_utf8(bytes)?;
                self.push(v)?;
            }
            op::BINUNICODE => {
                let n = u32::from_le_bytes(self.input.read_array()?);
                let bytes = self.payload(n as u64)?;
                let v = self.str_utf8(bytes)?;
                self.push(v)?;
            }
            op::SHORT_BINBYTES => {
                let [n] = self.input.read_array()?;
                let bytes = self.payload(n as u64)?;
                let v = self.add(Object::Bytes(bytes))?;
                self.push(v)?;
            }
            op::BINBYTES => {
                let n = u32::from_le_bytes(self.input.read_array()?);
                let bytes = self.payload(n as u64)?;
                let v = self.add(Object::Bytes(bytes))?;
                self.push(v)?;
            }
            op::EMPTY_LIST => {
                let v = self.add(Object::List(Vec::new()))?;
                self.push(v)?;
            }
            op::EMPTY_TUPLE => {
                let v = self.add(Object::Tuple(Vec::new()))?;
                self.push(v)?;
            }
            op::EMPTY_DICT => {
                let v = self.add(Object::Dict(Dict::new()))?;
                self.push(v)?;
            }
            op::LIST => {
                let items = self.pop_marked()?;
                let v = self.add_items(items, Object::List)?;
                self.push(v)?;
            }
            op::TUPLE => {
                let items = self.pop_marked()?;
                let v = self.tuple(items)?;
                self.push(v)?;
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let n = (code - op::TUPLE1 + 1) as usize;
                if self.stack.len() < self.fence() + n {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                let items = self.stack.split_off(self.stack.len() - n);
                let v = self.tuple(items)?;
                self.push(v)?;
            }
            op::APPEND => {
                if self.stack.len() <= self.fence() + 1 {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                self.extend(self.stack.len() - 1, false)?;
            }
            op::APPENDS => {
                let x = self.pop_mark()?;
                self.extend(x, false)?;
            }
            op::SETITEM => {
                if self.stack.len() < 2 {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                self.set_items(self.stack.len() - 2)?;
            }
            op::SETITEMS => {
                let x = self.pop_mark()?;
                self.set_items(x)?;
            }
            op::BINGET => {
                let [k] = self.input.read_array()?;
                let v = self.memo_get(k as u64)?;
                self.push(v)?;
            }
            op::LONG_BINGET => {
                let k = u32::from_le_bytes(self.input.read_array()?);
                let v = self.memo_get(k as u64)?;
                self.push(v)?;
            }
            op::BINPUT => {
                let [k] = self.input.read_array()?;
                self.memo_put(k as u64)?;
            }
            op::LONG_BINPUT => {
                let k = u32::from_le_bytes(self.input.read_array()?);
                self.memo_put(k as u64)?;
            }
            op::MEMOIZE => {
                let k = self.memo.len as u64;
                self.memo_put(k)?;
            }
            op::FRAME => {
                let n = u64::from_le_bytes(self.input.read_array()?);
                if !R::BORROWS {
                    self.charge(n)?;
                }
                self.input.frame(n)?;
            }
            _ => return self.step_cold(code),
        }
        Ok(true)
    }

    /// The opcodes [`Machine::step`] does not handle inline.
    #[inline(never)]
    fn step_cold(&mut self, code: u8) -> Result<bool> {
        match code {
            op::STOP => {
                let root = self.pop()?;
                self.graph.root = root;
                return Ok(false);
            }
            op::POP_MARK => {
                let k = self.pop_mark()?;
                self.stack.truncate(k);
            }
            op::DUP => {
                let v = self.top()?;
                self.push(v)?;
            }

            // numbers
            op::INT => {
                let line = self.line()?;
                let lit = literal::parse_int_line(&line).map_err(malformed)?;
                let v = self.int(lit)?;
                self.push(v)?;
            }
            op::LONG => {
                let line = self.line()?;
                let n = literal::parse_long_line(&line).map_err(malformed)?;
                let v = self.int(IntLit::from_bigint(n))?;
                self.push(v)?;
            }
            op::LONG1 => {
                let [n] = self.input.read_array()?;
                let bytes = self.payload(n as u64)?;
                let v = self.int(IntLit::from_bigint(literal::decode_long_le(&bytes)))?;
                self.push(v)?;
            }
            op::LONG4 => {
                let n = i32::from_le_bytes(self.input.read_array()?);
                if n < 0 {
                    return Err(invalid("LONG pickle has negative byte count"));
                }
                let bytes = self.payload(n as u64)?;
                self.charge(bytes.len() as u64)?;
                let v = self.int(IntLit::from_bigint(literal::decode_long_le(&bytes)))?;
                self.push(v)?;
            }
            op::FLOAT => {
                let line = self.line()?;
                let f = literal::parse_float_line(&line).map_err(malformed)?;
                self.push(Value::Float(f))?;
            }

            // strings and bytes
            op::STRING => {
                let line = self.line()?;
                let bytes = literal::unquote_string(&line).map_err(malformed)?;
                let v = self.py2_string(Cow::Owned(bytes))?;
                self.push(v)?;
            }
            op::BINSTRING => {
                let n = i32::from_le_bytes(self.input.read_array()?);
                if n < 0 {
                    return Err(invalid("BINSTRING pickle has negative byte count"));
                }
                let bytes = self.payload(n as u64)?;
                let v = self.py2_string(bytes)?;
                self.push(v)?;
            }
            op::SHORT_BINSTRING => {
                let [n] = self.input.read_array()?;
                let bytes = self.payload(n as u64)?;
                let v = self.py2_string(bytes)?;
                self.push(v)?;
            }
            op::UNICODE => {
                let line = self.line()?;
                let text = literal::raw_unicode_escape(&line).map_err(|m| Error::new(ErrorKind::BadText(m)))?;
                let v = self.str_utf8(Cow::Owned(text))?;
                self.push(v)?;
            }
            op::BINUNICODE8 => {
                let n = u64::from_le_bytes(self.input.read_array()?);
                let bytes = self.payload(n)?;
                let v = self.str_utf8(bytes)?;
                self.push(v)?;
            }
            op::BINBYTES8 => {
                let n = u64::from_le_bytes(self.input.read_array()?);
                let bytes = self.payload(n)?;
                let v = self.add(Object::Bytes(bytes))?;
                self.push(v)?;
            }
            op::BYTEARRAY8 => {
                let n = u64::from_le_bytes(self.input.read_array()?);
                let bytes = self.payload(n)?;
                let v = self.add(Object::ByteArray(bytes))?;
                self.push(v)?;
            }

            // containers
            op::EMPTY_SET => {
                let v = self.add(Object::Set(Set::new()))?;
                self.push(v)?;
            }
            op::DICT => {
                let items = self.pop_marked()?;
                let v = self.dict_from(items)?;
                self.push(v)?;
            }
            op::FROZENSET => {
                let items = self.pop_marked()?;
                let v = self.set_from(&items, true)?;
                self.push(v)?;
            }
            op::ADDITEMS => {
                let x = self.pop_mark()?;
                self.extend(x, true)?;
            }

            // the memo
            op::GET => {
                let key = self.text_memo_key("GET")?;
                let v = match key {
                    Some(k) => self.memo_get(k)?,
                    None => return Err(invalid("GET of a negative memo key")),
                };
                self.push(v)?;
            }
            op::PUT => {
                let key = self.text_memo_key("PUT")?.expect("negative keys are refused");
                self.memo_put(key)?;
            }

            // classes, calls and objects
            op::GLOBAL => {
                let module = self.utf8_line("GLOBAL module")?;
                let name = self.utf8_line("GLOBAL name")?;
                let v = self.global(module, name)?;
                self.push(v)?;
            }
            op::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Some(m), Some(n)) = (self.graph.as_str(module), self.graph.as_str(name)) else {
                    return Err(invalid("STACK_GLOBAL requires str"));
                };
                let (m, n) = (m.to_string(), n.to_string());
                let v = self.global(m, n)?;
                self.push(v)?;
            }
            op::EXT1 | op::EXT2 | op::EXT4 => {
                let code_value: i64 = match code {
                    op::EXT1 => self.input.read_array::<1>()?[0] as i64,
                    op::EXT2 => u16::from_le_bytes(self.input.read_array()?) as i64,
                    _ => i32::from_le_bytes(self.input.read_array()?) as i64,
                };
                if code_value <= 0 {
                    return Err(invalid("EXT specifies code <= 0"));
                }
                let g = self
                    .u
                    .extensions
                    .get(&code_value)
                    .cloned()
                    .ok_or_else(|| Error::new(ErrorKind::UnregisteredExtension(code_value)))?;
                let v = self.global(g.module, g.name)?;
                self.push(v)?;
            }
            op::REDUCE => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.push(v)?;
            }
            op::NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                if self.graph.as_tuple(args).is_none() {
                    return Err(invalid("NEWOBJ expected an arg tuple."));
                }
                self.check_class(cls, "NEWOBJ")?;
                let v = self.record(RecordKind::NewObj, cls, args, None)?;
                self.push(v)?;
            }
            op::NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                if self.graph.as_tuple(args).is_none() {
                    return Err(invalid("NEWOBJ_EX args argument must be a tuple"));
                }
                if !matches!(self.graph.object(kwargs), Some(Object::Dict(_))) {
                    return Err(invalid("NEWOBJ_EX kwargs argument must be a dict"));
                }
                self.check_class(cls, "NEWOBJ_EX")?;
                let v = self.record(RecordKind::NewObjEx, cls, args, Some(kwargs))?;
                self.push(v)?;
            }
            op::INST => {
                let module = self.utf8_line("INST module")?;
                let name = self.utf8_line("INST name")?;
                let items = self.pop_marked()?;
                let cls = self.global(module, name)?;
                let args = self.tuple(items)?;
                let v = self.record(RecordKind::Inst, cls, args, None)?;
                self.push(v)?;
            }
            op::OBJ => {
                let k = self.pop_mark()?;
                if self.stack.len() < k + 1 {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                let mut items = self.stack.split_off(k);
                let cls = items.remove(0);
                self.check_class(cls, "OBJ")?;
                let args = self.tuple(items)?;
                let v = self.record(RecordKind::Obj, cls, args, None)?;
                self.push(v)?;
            }
            op::BUILD => {
                if self.stack.len() < self.fence() + 2 {
                    return Err(Error::new(ErrorKind::StackUnderflow));
                }
                let state = self.pop()?;
                let inst = self.top()?;
                match inst.obj().map(|id| self.graph.get_mut(id)) {
                    Some(Object::Record(r)) => r.state = Some(state),
                    other => {
                        let t = other.map(|o| o.type_name()).unwrap_or_else(|| scalar_type(inst));
                        return Err(invalid(format!("cannot BUILD a {t} object: it has no state to set")));
                    }
                }
            }
            op::PERSID => {
                let line = self.line()?;
                if !line.is_ascii() {
                    return Err(Error::new(ErrorKind::BadText(
                        "persistent IDs in protocol 0 must be ASCII strings".into(),
                    )));
                }
                let pid = self.add(Object::Str(PyStr::from_checked(line, true)))?;
                let v = self.persistent(pid)?;
                self.push(v)?;
            }
            op::BINPERSID => {
                let pid = self.pop()?;
                let v = self.persistent(pid)?;
                self.push(v)?;
            }

            // framing and protocol 5 buffers
            op::PROTO => {
                let [p] = self.input.read_array()?;
                if p > crate::opcode::HIGHEST_PROTOCOL {
                    return Err(Error::new(ErrorKind::UnsupportedProtocol(p as u64)));
                }
                self.proto = p;
                self.graph.protocol = p;
            }
            op::NEXT_BUFFER => {
                let data = self.u.buffers.pop_front().ok_or_else(|| Error::new(ErrorKind::NoBuffer))?;
                let index = self.u.buffers_used;
                self.u.buffers_used += 1;
                let v =
                    self.add(Object::Buffer(Box::new(Buffer { index, readonly: false, data: Cow::Owned(data) })))?;
                self.push(v)?;
            }
            op::READONLY_BUFFER => {
                let v = self.top()?;
                if let Some(Object::Buffer(b)) = v.obj().map(|id| self.graph.get_mut(id)) {
                    b.readonly = true;
                }
            }
            other => return Err(Error::new(ErrorKind::UnknownOpcode(other))),
        }
        Ok(true)
    }
}

fn scalar_type(v: Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Obj(_) => "object",
    }
}

/// `bytes.decode('ascii', errors)` for bytes that are not all ASCII.
fn decode_ascii(bytes: &[u8], errors: EncodingErrors) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x80 {
            out.push(b);
            continue;
        }
        match errors {
            EncodingErrors::Strict => {
                return Err(Error::new(ErrorKind::BadText(format!(
                    "'ascii' codec can't decode byte 0x{b:02x} in position {i}: ordinal not in range(128)"
                ))))
            }
            EncodingErrors::Replace => out.extend_from_slice("\u{fffd}".as_bytes()),
            EncodingErrors::Ignore => {}
            EncodingErrors::SurrogateEscape => crate::pyrepr::push_code_point(&mut out, 0xdc00 + b as u32),
        }
    }
    Ok(out)
}

/// `bytes.decode('utf-8', errors)` for bytes that are not valid UTF-8.
fn decode_utf8(bytes: &[u8], errors: EncodingErrors) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend_from_slice(s.as_bytes());
                return Ok(out);
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.extend_from_slice(&rest[..good]);
                let bad = e.error_len().unwrap_or(rest.len() - good);
                match errors {
                    EncodingErrors::Strict => {
                        return Err(Error::new(ErrorKind::BadText(format!(
                            "'utf-8' codec can't decode byte 0x{:02x} in position {}",
                            rest[good],
                            bytes.len() - rest.len() + good
                        ))))
                    }
                    EncodingErrors::Replace => out.extend_from_slice("\u{fffd}".as_bytes()),
                    EncodingErrors::Ignore => {}
                    EncodingErrors::SurrogateEscape => {
                        for &b in &rest[good..good + bad] {
                            crate::pyrepr::push_code_point(&mut out, 0xdc00 + b as u32);
                        }
                    }
                }
                rest = &rest[good + bad..];
            }
        }
    }
}
