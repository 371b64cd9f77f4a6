//! The one error type of the crate: what went wrong, where, and in which opcode.

use std::fmt;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a pickle.
    #[error("truncated input: {0}")]
    Truncated(&'static str),
    /// The input ended cleanly before a pickle started (only `load` from a stream sees this).
    #[error("end of input")]
    Eof,
    /// An opcode needed more items than the stack (above the last mark) holds.
    #[error("stack underflow")]
    StackUnderflow,
    /// An opcode that works on the items above a MARK found no MARK.
    #[error("missing MARK")]
    MissingMark,
    /// GET of a memo key that was never PUT.
    #[error("memo key {0} is missing")]
    MemoMissing(u64),
    /// A byte that is no opcode of any protocol.
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    /// PROTO names a protocol this crate does not know.
    #[error("unsupported pickle protocol {0}")]
    UnsupportedProtocol(u64),
    /// A text literal (INT, LONG, FLOAT, STRING, GET, PUT, GLOBAL...) that does not parse.
    #[error("malformed literal: {0}")]
    MalformedLiteral(String),
    /// Text that must be UTF-8 (or raw-unicode-escape, or the chosen encoding) is not.
    #[error("invalid text: {0}")]
    BadText(String),
    /// A limit (depth, memo size, allocation) was reached.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// An operation Python would refuse: appending to a tuple, an unhashable dict key, ...
    #[error("{0}")]
    Invalid(String),
    /// The pickle did not leave exactly one value at STOP.
    #[error("{0}")]
    BadStop(String),
    /// An extension code (EXT1/2/4) the registry does not know.
    #[error("unregistered extension code {0}")]
    UnregisteredExtension(i64),
    /// The find-class hook (or strict mode) refused a global the pickle names.
    #[error("refused global {module}.{name}: {reason}")]
    RefusedGlobal { module: String, name: String, reason: String },
    /// The persistent-load hook refused a persistent id.
    #[error("persistent load: {0}")]
    Persistent(String),
    /// A NEXT_BUFFER with no out-of-band buffer left.
    #[error("pickle stream refers to out-of-band data but no (more) buffers were given")]
    NoBuffer,
    /// The pickler cannot write this graph: a dangling object id, a value
    /// the chosen protocol cannot express, a shape CPython cannot pickle.
    #[error("cannot pickle: {0}")]
    Unpicklable(String),
    /// The underlying reader or writer failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// An error with the byte offset and the opcode where it happened.
///
/// One pointer wide, so that the decoder's `Result<Value>` stays small on
/// its hot path.
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    offset: Option<u64>,
    opcode: Option<u8>,
}

impl Error {
    /// An error with no position (yet).
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { kind, offset: None, opcode: None }))
    }
    /// An error at `offset`, in the opcode `opcode` when known.
    pub fn at(kind: ErrorKind, offset: u64, opcode: Option<u8>) -> Self {
        Error(Box::new(Inner { kind, offset: Some(offset), opcode }))
    }
    /// Adds the position unless the error already has one.
    pub fn with_position(mut self, offset: u64, opcode: Option<u8>) -> Self {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
            self.0.opcode = opcode;
        }
        self
    }
    /// Moves the offset by `by`: for an error in a pickle that started `by`
    /// bytes into a larger input, the offset in that input.
    pub fn shift(mut self, by: u64) -> Self {
        self.0.offset = self.0.offset.map(|o| o + by);
        self
    }
    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }
    /// The byte offset of the opcode that failed, from the start of the input.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }
    /// The opcode byte that failed, when the failure was inside an opcode.
    pub fn opcode(&self) -> Option<u8> {
        self.0.opcode
    }
    /// True when the input ended cleanly before a new pickle started.
    pub fn is_eof(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Eof)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.offset, self.0.opcode) {
            (Some(off), Some(op)) => match crate::opcode::name(op) {
                Some(name) => write!(f, "at byte {off} (opcode {name}): {}", self.0.kind),
                None => write!(f, "at byte {off}: {}", self.0.kind),
            },
            (Some(off), None) => write!(f, "at byte {off}: {}", self.0.kind),
            _ => write!(f, "{}", self.0.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io(e))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
