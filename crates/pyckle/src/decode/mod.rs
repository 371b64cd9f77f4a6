//! The unpickler: runs a pickle program and builds its object graph.
//!
//! [`loads`] decodes one pickle from a byte slice, [`load`] from a buffered
//! reader; an [`Unpickler`] carries the options (encoding, limits, hooks)
//! and decodes streams of pickles back to back.

mod machine;

use crate::error::Result;
use crate::graph::{Global, Graph, Value};
use crate::read::{FrameRead, IoRead, SliceRead};
use std::collections::HashMap;
use std::io::BufRead;

/// How Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING) is decoded:
/// `pickle.Unpickler(encoding=...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum StringEncoding {
    /// CPython's default.
    #[default]
    Ascii,
    Latin1,
    Utf8,
    /// Keep them as `bytes`.
    Bytes,
}

/// `pickle.Unpickler(errors=...)` for [`StringEncoding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EncodingErrors {
    #[default]
    Strict,
    Replace,
    Ignore,
    SurrogateEscape,
}

/// Bounds on what a pickle may make the decoder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Values on the unpickling stack plus open marks: the deepest nesting
    /// a pickle can build without the memo.
    pub max_depth: usize,
    /// Memo entries.
    pub max_memo: usize,
    /// Bytes the decoder may allocate: objects, items and copied payloads.
    /// Payloads borrowed from a slice do not count.
    pub max_alloc: u64,
    /// The longest text line (protocol-0 arguments).
    pub max_line: u64,
    /// Work spent hashing and comparing dict and set keys, in values
    /// visited (or 16-byte blocks of str and bytes): it bounds keys that
    /// are cheap to write but expensive to hash (tuples sharing tuples,
    /// one huge key set again and again).
    pub max_key_work: u64,
}

impl Default for Limits {
    /// Generous: any pickle CPython writes on a large machine decodes.
    fn default() -> Self {
        Limits {
            max_depth: 10_000_000,
            max_memo: 100_000_000,
            max_alloc: 16 << 30,
            max_line: 1 << 30,
            max_key_work: 1_000_000_000,
        }
    }
}

/// The options of `pickle.Unpickler`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeOptions {
    pub encoding: StringEncoding,
    pub errors: EncodingErrors,
    /// Map Python 2 names (`__builtin__`, `copy_reg`, ...) to Python 3 ones
    /// in protocol 0-2 pickles.
    pub fix_imports: bool,
    pub limits: Limits,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            encoding: StringEncoding::Ascii,
            errors: EncodingErrors::Strict,
            fix_imports: true,
            limits: Limits::default(),
        }
    }
}

/// A persistent-load hook: given the graph and the persistent id, returns
/// the value that stands for it (an `Err` message stops decoding).
pub type PersistentLoad<'h> = Box<dyn for<'g> FnMut(&mut Graph<'g>, Value) -> Result<Value, String> + 'h>;

/// A decoder with its options and hooks.
pub struct Unpickler<'h> {
    options: DecodeOptions,
    persistent_load: Option<PersistentLoad<'h>>,
    extensions: HashMap<i64, Global>,
    buffers: std::collections::VecDeque<Vec<u8>>,
    buffers_used: usize,
    /// Frame bytes that `load_unbuffered` read past a STOP, kept for the
    /// next pickle from the same reader.
    pending: Vec<u8>,
}

impl Default for Unpickler<'_> {
    fn default() -> Self {
        Unpickler::new(DecodeOptions::default())
    }
}

impl<'h> Unpickler<'h> {
    pub fn new(options: DecodeOptions) -> Self {
        Unpickler {
            options,
            persistent_load: None,
            extensions: HashMap::new(),
            buffers: Default::default(),
            buffers_used: 0,
            pending: Vec::new(),
        }
    }
    pub fn options(&self) -> &DecodeOptions {
        &self.options
    }
    /// Resolves persistent ids. Without a hook, a persistent id is kept as
    /// an [`Object::PersistentId`](crate::Object::PersistentId) value.
    pub fn persistent_load(&mut self, hook: PersistentLoad<'h>) -> &mut Self {
        self.persistent_load = Some(hook);
        self
    }
    /// Registers an extension code, as `copyreg.add_extension` does.
    pub fn add_extension(&mut self, code: i64, module: &str, name: &str) -> &mut Self {
        self.extensions.insert(code, Global::new(module, name));
        self
    }
    /// The out-of-band buffers of protocol 5, taken in order by NEXT_BUFFER.
    pub fn buffers(&mut self, buffers: impl IntoIterator<Item = Vec<u8>>) -> &mut Self {
        self.buffers = buffers.into_iter().collect();
        self
    }

    /// Decodes the pickle at the start of `data` (bytes after its STOP are ignored).
    pub fn loads<'a>(&mut self, data: &'a [u8]) -> Result<Graph<'a>> {
        let mut input = SliceRead::new(data);
        machine::Machine::new(self, &mut input).run()
    }

    /// Decodes the pickle at the start of `data` and returns the bytes after its STOP.
    pub fn loads_prefix<'a>(&mut self, data: &'a [u8]) -> Result<(Graph<'a>, &'a [u8])> {
        let mut input = SliceRead::new(data);
        let g = machine::Machine::new(self, &mut input).run()?;
        Ok((g, input.rest()))
    }

    /// Decodes every pickle in `data`, back to back, until its end.
    pub fn loads_all<'a>(&mut self, mut data: &'a [u8]) -> Result<Vec<Graph<'a>>> {
        let mut out = Vec::new();
        // Where the current pickle starts in `data`, for error offsets.
        let mut consumed = 0u64;
        while !data.is_empty() {
            let mut input = SliceRead::new(data);
            let g = machine::Machine::new(self, &mut input).run().map_err(|e| e.shift(consumed))?;
            consumed += crate::read::Read::offset(&input);
            data = input.rest();
            out.push(g);
        }
        Ok(out)
    }

    /// Decodes one pickle from a buffered reader, consuming exactly its
    /// bytes. At a clean end of input the error [`is_eof`](crate::Error::is_eof).
    pub fn load<R: BufRead>(&mut self, reader: &mut R) -> Result<Graph<'static>> {
        let mut input = IoRead::new(reader);
        machine::Machine::new(self, &mut input).run()
    }

    /// Decodes one pickle from an unbuffered reader (a socket, a pipe):
    /// each FRAME is read whole, single opcodes outside frames, and not a
    /// byte past the STOP. At a clean end of input the error
    /// [`is_eof`](crate::Error::is_eof).
    ///
    /// A FRAME that runs on past its pickle's STOP (no pickler writes one)
    /// has been read whole; its unused bytes are kept here and served first
    /// to the next `load_unbuffered` call, which must read the same reader.
    pub fn load_unbuffered<R: std::io::Read>(&mut self, reader: &mut R) -> Result<Graph<'static>> {
        let mut input = FrameRead::with_pending(reader, std::mem::take(&mut self.pending));
        let result = machine::Machine::new(self, &mut input).run();
        self.pending = input.into_pending();
        result
    }
}

/// Decodes one pickle from a byte slice with the default options.
/// Large `bytes` and `str` payloads are borrowed from `data`.
pub fn loads(data: &[u8]) -> Result<Graph<'_>> {
    Unpickler::default().loads(data)
}

/// Decodes one pickle from a buffered reader with the default options.
pub fn load<R: BufRead>(reader: &mut R) -> Result<Graph<'static>> {
    Unpickler::default().load(reader)
}
