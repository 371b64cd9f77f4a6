//! The unpickler: runs a pickle program and builds its object graph.
//!
//! [`loads`] decodes one pickle from a byte slice, [`load`] from a buffered
//! reader; an [`Unpickler`] carries the options (encoding, limits, hooks)
//! and decodes streams of pickles back to back.
//!
//! ## Which globals a pickle may name
//!
//! Every global a pickle names (GLOBAL, STACK_GLOBAL, INST, EXT through the
//! extension registry, and `getattr` of a global) passes, after the Python 2
//! names are mapped (`fix_imports`), through the unpickler's
//! [`find_class`](Unpickler::find_class) hook, which allows it, refuses it
//! (decoding stops with [`ErrorKind::RefusedGlobal`](crate::ErrorKind::RefusedGlobal),
//! naming the global, the byte offset of its opcode and the reason) or maps
//! it to another module and name (a class that moved between modules).
//!
//! **The security-team setting** is one call, [`Unpickler::strict`]: every
//! global is refused except the few pyckle itself turns into core types
//! ([`CORE_GLOBALS`]: `set`, `frozenset`, `bytes`, `bytearray`,
//! `_codecs.encode`) and the ones you list. Pickles of plain data (what
//! `json` could hold, plus bytes, sets, tuples and big ints) decode; a
//! pickle naming `posix.system` or any class you did not list is refused
//! before anything else is read. pyckle never runs code from a pickle
//! either way: strict mode is for pipelines that must not pass on, or hand
//! to Python, a pickle that names anything unexpected. With a
//! [`Registry`](crate::classes::Registry), `registry.unpickler(true)` also
//! allows the registered classes (and their aliases).
//!
//! ```
//! use pyckle::decode::Resolve;
//! use pyckle::{ErrorKind, Unpickler};
//!
//! // pickle.dumps of an object whose __reduce__ is (os.system, ("echo pwned",)), protocol 2.
//! let hostile = b"\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.";
//! let err = Unpickler::default().strict([]).loads(hostile).unwrap_err();
//! assert!(matches!(err.kind(), ErrorKind::RefusedGlobal { module, name, .. } if module == "posix" && name == "system"));
//! assert_eq!(err.offset(), Some(2));
//! assert_eq!(err.to_string(), "at byte 2 (opcode GLOBAL): refused global posix.system: not in the allow list");
//!
//! // Plain data decodes in strict mode: {1, 2} at protocol 2 is builtins.set([1, 2]).
//! let set = b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.";
//! assert!(Unpickler::default().strict([]).loads(set).is_ok());
//!
//! // A hook of your own: a class that moved, one refused module.
//! let mut u = Unpickler::default();
//! u.find_class(Box::new(|module: &str, name: &str| match (module, name) {
//!     ("old.models", "Net") => Resolve::rename("models.v2", "Net"),
//!     ("subprocess", _) => Resolve::Refuse("no subprocess here".into()),
//!     _ => Resolve::Allow,
//! }));
//! let old = b"\x80\x02cold.models\nNet\nq\x00.";
//! let g = u.loads(old)?;
//! assert!(g.as_global(g.root()).unwrap().is("models.v2", "Net"));
//! # Ok::<(), pyckle::Error>(())
//! ```

mod machine;

use crate::error::Result;
use crate::graph::{Global, Graph, Value};
use crate::read::{FrameRead, IoRead, SliceRead};
use std::collections::{HashMap, HashSet};
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

/// What a [`find_class`](Unpickler::find_class) hook decides about one global.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Keep the global as the pickle names it.
    Allow,
    /// Stop decoding with [`ErrorKind::RefusedGlobal`](crate::ErrorKind::RefusedGlobal), giving this reason.
    Refuse(String),
    /// Use this module and name instead (a class that moved); the new name
    /// does not go through the hook again.
    Rename { module: String, name: String },
}

impl Resolve {
    /// `Resolve::Rename` from anything string-like.
    pub fn rename(module: impl Into<String>, name: impl Into<String>) -> Self {
        Resolve::Rename { module: module.into(), name: name.into() }
    }
}

/// A find-class hook: given the module and (qualified) name of a global,
/// after the Python 2 names are mapped, decides what becomes of it.
pub type FindClass<'h> = Box<dyn FnMut(&str, &str) -> Resolve + 'h>;

/// The globals the decoder itself turns into core types (when called as
/// CPython's pickler writes them), so [`Unpickler::strict`] always allows
/// them: `set`, `frozenset`, `bytes`, `bytearray` and `_codecs.encode`
/// (`bytes` below protocol 3). Python 2 names (`__builtin__.set`) are
/// mapped to these before the check.
pub const CORE_GLOBALS: &[(&str, &str)] = &[
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("_codecs", "encode"),
];

/// An allow list of globals: the policy behind [`Unpickler::strict`], to
/// combine with other hooks (the registry's does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    /// Module -> names in it (looked up by `&str`, without allocating).
    names: HashMap<String, HashSet<String>>,
    modules: HashSet<String>,
}

impl AllowList {
    /// [`CORE_GLOBALS`] only.
    pub fn new() -> Self {
        AllowList::default()
    }
    /// Allows `module.name`; a name of `"*"` allows every name of the module.
    pub fn allow(&mut self, module: &str, name: &str) -> &mut Self {
        if name == "*" {
            self.modules.insert(module.to_string());
        } else {
            self.names.entry(module.to_string()).or_default().insert(name.to_string());
        }
        self
    }
    /// True for a core global or one of the list.
    pub fn allows(&self, module: &str, name: &str) -> bool {
        CORE_GLOBALS.iter().any(|&(m, n)| m == module && n == name)
            || self.modules.contains(module)
            || self.names.get(module).is_some_and(|names| names.contains(name))
    }
    /// [`Resolve::Allow`] or a refusal.
    pub fn resolve(&self, module: &str, name: &str) -> Resolve {
        if self.allows(module, name) {
            Resolve::Allow
        } else {
            Resolve::Refuse("not in the allow list".into())
        }
    }
}

/// A decoder with its options and hooks.
pub struct Unpickler<'h> {
    options: DecodeOptions,
    persistent_load: Option<PersistentLoad<'h>>,
    find_class: Option<FindClass<'h>>,
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
            find_class: None,
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
    /// Decides about every global the pickle names (see the [module
    /// docs](self)). Replaces an earlier hook or [`strict`](Self::strict).
    /// Without a hook every global is allowed, and costs no call.
    pub fn find_class(&mut self, hook: FindClass<'h>) -> &mut Self {
        self.find_class = Some(hook);
        self
    }
    /// The security-team setting: refuse every global but [`CORE_GLOBALS`]
    /// and the `(module, name)` pairs of `allow` (`"*"` as the name allows a
    /// whole module). Replaces an earlier [`find_class`](Self::find_class) hook.
    pub fn strict<'s>(&mut self, allow: impl IntoIterator<Item = (&'s str, &'s str)>) -> &mut Self {
        let mut list = AllowList::new();
        for (m, n) in allow {
            list.allow(m, n);
        }
        self.find_class(Box::new(move |m: &str, n: &str| list.resolve(m, n)))
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
