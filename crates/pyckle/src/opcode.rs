//! The pickle opcodes.
//!
//! `op` holds one constant per opcode byte; the decoder matches on these.
//! The descriptive table (name, argument kind, protocol, stack effect, doc),
//! which drives `dis` and the docs, lives below it.

/// One constant per opcode, named as in CPython's `pickle.py`.
pub mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const INST: u8 = b'i';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const OBJ: u8 = b'o';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    // protocol 2
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const EXT1: u8 = 0x82;
    pub const EXT2: u8 = 0x83;
    pub const EXT4: u8 = 0x84;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    // protocol 3
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    // protocol 4
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const NEWOBJ_EX: u8 = 0x92;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    // protocol 5
    pub const BYTEARRAY8: u8 = 0x96;
    pub const NEXT_BUFFER: u8 = 0x97;
    pub const READONLY_BUFFER: u8 = 0x98;
}

/// The highest protocol this crate reads and writes.
pub const HIGHEST_PROTOCOL: u8 = 5;

/// The name of an opcode byte, as pickletools spells it.
pub fn name(code: u8) -> Option<&'static str> {
    info(code).map(|i| i.name)
}

/// Everything pickletools knows about an opcode byte, or `None` for a byte
/// that is no opcode of any protocol.
pub fn info(code: u8) -> Option<&'static OpcodeInfo> {
    let idx = INDEX[usize::from(code)];
    OPCODES.get(usize::from(idx))
}

/// A description of one opcode, as in pickletools' `OpcodeInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpcodeInfo {
    /// The opcode byte.
    pub code: u8,
    /// The symbolic name, e.g. `"BININT1"`.
    pub name: &'static str,
    /// The argument embedded in the byte stream after the opcode.
    pub arg: ArgKind,
    /// What the opcode pops from the stack (top of stack last).
    pub stack_before: &'static [StackKind],
    /// What the opcode pushes on the stack (top of stack last).
    pub stack_after: &'static [StackKind],
    /// The protocol that introduced the opcode.
    pub proto: u8,
    /// The first line of pickletools' description (what `pickletools -a` prints).
    pub doc: &'static str,
}

/// How an opcode's inline argument is encoded: one variant per pickletools
/// `ArgumentDescriptor`, plus `None` for opcodes without argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// One-byte unsigned integer.
    Uint1,
    /// Two-byte unsigned integer, little-endian.
    Uint2,
    /// Four-byte signed integer, little-endian.
    Int4,
    /// Four-byte unsigned integer, little-endian.
    Uint4,
    /// Eight-byte unsigned integer, little-endian.
    Uint8,
    /// Newline-terminated decimal integer (`00`/`01` are False/True).
    DecimalnlShort,
    /// Newline-terminated decimal integer with optional trailing `L`.
    DecimalnlLong,
    /// Newline-terminated decimal float literal.
    Floatnl,
    /// Eight-byte big-endian IEEE-754 double.
    Float8,
    /// Little-endian two's-complement integer, one-byte length.
    Long1,
    /// Little-endian two's-complement integer, four-byte signed length.
    Long4,
    /// Newline-terminated quoted string with Python escapes.
    Stringnl,
    /// Newline-terminated string without quotes.
    StringnlNoescape,
    /// Two newline-terminated strings without quotes.
    StringnlNoescapePair,
    /// Counted string, one-byte length.
    String1,
    /// Counted string, four-byte signed length.
    String4,
    /// Counted bytes, one-byte length.
    Bytes1,
    /// Counted bytes, four-byte unsigned length.
    Bytes4,
    /// Counted bytes, eight-byte unsigned length.
    Bytes8,
    /// Counted bytearray, eight-byte unsigned length.
    Bytearray8,
    /// Newline-terminated raw-unicode-escape string.
    Unicodestringnl,
    /// Counted UTF-8 string, one-byte length.
    Unicodestring1,
    /// Counted UTF-8 string, four-byte unsigned length.
    Unicodestring4,
    /// Counted UTF-8 string, eight-byte unsigned length.
    Unicodestring8,
    /// The opcode has no inline argument.
    None,
}

impl ArgKind {
    /// pickletools' name for the argument descriptor (`"none"` for no argument).
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Uint1 => "uint1",
            ArgKind::Uint2 => "uint2",
            ArgKind::Int4 => "int4",
            ArgKind::Uint4 => "uint4",
            ArgKind::Uint8 => "uint8",
            ArgKind::DecimalnlShort => "decimalnl_short",
            ArgKind::DecimalnlLong => "decimalnl_long",
            ArgKind::Floatnl => "floatnl",
            ArgKind::Float8 => "float8",
            ArgKind::Long1 => "long1",
            ArgKind::Long4 => "long4",
            ArgKind::Stringnl => "stringnl",
            ArgKind::StringnlNoescape => "stringnl_noescape",
            ArgKind::StringnlNoescapePair => "stringnl_noescape_pair",
            ArgKind::String1 => "string1",
            ArgKind::String4 => "string4",
            ArgKind::Bytes1 => "bytes1",
            ArgKind::Bytes4 => "bytes4",
            ArgKind::Bytes8 => "bytes8",
            ArgKind::Bytearray8 => "bytearray8",
            ArgKind::Unicodestringnl => "unicodestringnl",
            ArgKind::Unicodestring1 => "unicodestring1",
            ArgKind::Unicodestring4 => "unicodestring4",
            ArgKind::Unicodestring8 => "unicodestring8",
            ArgKind::None => "none",
        }
    }
}

/// The kinds of stack items pickletools uses to describe stack effects
/// (its `StackObject`s; `pyint` and `pylong` are both `Int`, `pystring` and
/// `pybytes_or_str` are both `BytesOrStr`, as their pickletools names are equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackKind {
    /// Any object (`anyobject`).
    Any,
    /// The MARK object (`markobject`).
    Mark,
    /// All the items above the topmost MARK (`stackslice`).
    StackSlice,
    /// An int.
    Int,
    /// An int or a bool (INT's result).
    IntOrBool,
    /// A bool.
    Bool,
    /// A float.
    Float,
    /// bytes or str (protocol 0-2 strings).
    BytesOrStr,
    /// bytes.
    Bytes,
    /// bytearray.
    ByteArray,
    /// str.
    Str,
    /// None.
    None,
    /// tuple.
    Tuple,
    /// list.
    List,
    /// dict.
    Dict,
    /// set.
    Set,
    /// frozenset.
    FrozenSet,
    /// A buffer (PickleBuffer).
    Buffer,
}

impl StackKind {
    /// pickletools' name for the stack object.
    pub fn name(self) -> &'static str {
        match self {
            StackKind::Any => "any",
            StackKind::Mark => "mark",
            StackKind::StackSlice => "stackslice",
            StackKind::Int => "int",
            StackKind::IntOrBool => "int_or_bool",
            StackKind::Bool => "bool",
            StackKind::Float => "float",
            StackKind::BytesOrStr => "bytes_or_str",
            StackKind::Bytes => "bytes",
            StackKind::ByteArray => "bytearray",
            StackKind::Str => "str",
            StackKind::None => "None",
            StackKind::Tuple => "tuple",
            StackKind::List => "list",
            StackKind::Dict => "dict",
            StackKind::Set => "set",
            StackKind::FrozenSet => "frozenset",
            StackKind::Buffer => "buffer",
        }
    }
}

// BEGIN GENERATED OPCODE TABLE (tools/gen_opcodes.py)
// Generated from CPython 3.11.7's pickletools; do not edit by hand.

/// Every opcode, in pickletools' order.
pub static OPCODES: [OpcodeInfo; 68] = [
    OpcodeInfo {
        code: 0x49,
        name: "INT",
        arg: ArgKind::DecimalnlShort,
        stack_before: &[],
        stack_after: &[StackKind::IntOrBool],
        proto: 0,
        doc: "Push an integer or bool.",
    },
    OpcodeInfo {
        code: 0x4a,
        name: "BININT",
        arg: ArgKind::Int4,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 1,
        doc: "Push a four-byte signed integer.",
    },
    OpcodeInfo {
        code: 0x4b,
        name: "BININT1",
        arg: ArgKind::Uint1,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 1,
        doc: "Push a one-byte unsigned integer.",
    },
    OpcodeInfo {
        code: 0x4d,
        name: "BININT2",
        arg: ArgKind::Uint2,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 1,
        doc: "Push a two-byte unsigned integer.",
    },
    OpcodeInfo {
        code: 0x4c,
        name: "LONG",
        arg: ArgKind::DecimalnlLong,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 0,
        doc: "Push a long integer.",
    },
    OpcodeInfo {
        code: 0x8a,
        name: "LONG1",
        arg: ArgKind::Long1,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 2,
        doc: "Long integer using one-byte length.",
    },
    OpcodeInfo {
        code: 0x8b,
        name: "LONG4",
        arg: ArgKind::Long4,
        stack_before: &[],
        stack_after: &[StackKind::Int],
        proto: 2,
        doc: "Long integer using found-byte length.",
    },
    OpcodeInfo {
        code: 0x53,
        name: "STRING",
        arg: ArgKind::Stringnl,
        stack_before: &[],
        stack_after: &[StackKind::BytesOrStr],
        proto: 0,
        doc: "Push a Python string object.",
    },
    OpcodeInfo {
        code: 0x54,
        name: "BINSTRING",
        arg: ArgKind::String4,
        stack_before: &[],
        stack_after: &[StackKind::BytesOrStr],
        proto: 1,
        doc: "Push a Python string object.",
    },
    OpcodeInfo {
        code: 0x55,
        name: "SHORT_BINSTRING",
        arg: ArgKind::String1,
        stack_before: &[],
        stack_after: &[StackKind::BytesOrStr],
        proto: 1,
        doc: "Push a Python string object.",
    },
    OpcodeInfo {
        code: 0x42,
        name: "BINBYTES",
        arg: ArgKind::Bytes4,
        stack_before: &[],
        stack_after: &[StackKind::Bytes],
        proto: 3,
        doc: "Push a Python bytes object.",
    },
    OpcodeInfo {
        code: 0x43,
        name: "SHORT_BINBYTES",
        arg: ArgKind::Bytes1,
        stack_before: &[],
        stack_after: &[StackKind::Bytes],
        proto: 3,
        doc: "Push a Python bytes object.",
    },
    OpcodeInfo {
        code: 0x8e,
        name: "BINBYTES8",
        arg: ArgKind::Bytes8,
        stack_before: &[],
        stack_after: &[StackKind::Bytes],
        proto: 4,
        doc: "Push a Python bytes object.",
    },
    OpcodeInfo {
        code: 0x96,
        name: "BYTEARRAY8",
        arg: ArgKind::Bytearray8,
        stack_before: &[],
        stack_after: &[StackKind::ByteArray],
        proto: 5,
        doc: "Push a Python bytearray object.",
    },
    OpcodeInfo {
        code: 0x97,
        name: "NEXT_BUFFER",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Buffer],
        proto: 5,
        doc: "Push an out-of-band buffer object.",
    },
    OpcodeInfo {
        code: 0x98,
        name: "READONLY_BUFFER",
        arg: ArgKind::None,
        stack_before: &[StackKind::Buffer],
        stack_after: &[StackKind::Buffer],
        proto: 5,
        doc: "Make an out-of-band buffer object read-only.",
    },
    OpcodeInfo {
        code: 0x4e,
        name: "NONE",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::None],
        proto: 0,
        doc: "Push None on the stack.",
    },
    OpcodeInfo {
        code: 0x88,
        name: "NEWTRUE",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Bool],
        proto: 2,
        doc: "Push True onto the stack.",
    },
    OpcodeInfo {
        code: 0x89,
        name: "NEWFALSE",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Bool],
        proto: 2,
        doc: "Push False onto the stack.",
    },
    OpcodeInfo {
        code: 0x56,
        name: "UNICODE",
        arg: ArgKind::Unicodestringnl,
        stack_before: &[],
        stack_after: &[StackKind::Str],
        proto: 0,
        doc: "Push a Python Unicode string object.",
    },
    OpcodeInfo {
        code: 0x8c,
        name: "SHORT_BINUNICODE",
        arg: ArgKind::Unicodestring1,
        stack_before: &[],
        stack_after: &[StackKind::Str],
        proto: 4,
        doc: "Push a Python Unicode string object.",
    },
    OpcodeInfo {
        code: 0x58,
        name: "BINUNICODE",
        arg: ArgKind::Unicodestring4,
        stack_before: &[],
        stack_after: &[StackKind::Str],
        proto: 1,
        doc: "Push a Python Unicode string object.",
    },
    OpcodeInfo {
        code: 0x8d,
        name: "BINUNICODE8",
        arg: ArgKind::Unicodestring8,
        stack_before: &[],
        stack_after: &[StackKind::Str],
        proto: 4,
        doc: "Push a Python Unicode string object.",
    },
    OpcodeInfo {
        code: 0x46,
        name: "FLOAT",
        arg: ArgKind::Floatnl,
        stack_before: &[],
        stack_after: &[StackKind::Float],
        proto: 0,
        doc: "Newline-terminated decimal float literal.",
    },
    OpcodeInfo {
        code: 0x47,
        name: "BINFLOAT",
        arg: ArgKind::Float8,
        stack_before: &[],
        stack_after: &[StackKind::Float],
        proto: 1,
        doc: "Float stored in binary form, with 8 bytes of data.",
    },
    OpcodeInfo {
        code: 0x5d,
        name: "EMPTY_LIST",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::List],
        proto: 1,
        doc: "Push an empty list.",
    },
    OpcodeInfo {
        code: 0x61,
        name: "APPEND",
        arg: ArgKind::None,
        stack_before: &[StackKind::List, StackKind::Any],
        stack_after: &[StackKind::List],
        proto: 0,
        doc: "Append an object to a list.",
    },
    OpcodeInfo {
        code: 0x65,
        name: "APPENDS",
        arg: ArgKind::None,
        stack_before: &[StackKind::List, StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::List],
        proto: 1,
        doc: "Extend a list by a slice of stack objects.",
    },
    OpcodeInfo {
        code: 0x6c,
        name: "LIST",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::List],
        proto: 0,
        doc: "Build a list out of the topmost stack slice, after markobject.",
    },
    OpcodeInfo {
        code: 0x29,
        name: "EMPTY_TUPLE",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Tuple],
        proto: 1,
        doc: "Push an empty tuple.",
    },
    OpcodeInfo {
        code: 0x74,
        name: "TUPLE",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::Tuple],
        proto: 0,
        doc: "Build a tuple out of the topmost stack slice, after markobject.",
    },
    OpcodeInfo {
        code: 0x85,
        name: "TUPLE1",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[StackKind::Tuple],
        proto: 2,
        doc: "Build a one-tuple out of the topmost item on the stack.",
    },
    OpcodeInfo {
        code: 0x86,
        name: "TUPLE2",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Tuple],
        proto: 2,
        doc: "Build a two-tuple out of the top two items on the stack.",
    },
    OpcodeInfo {
        code: 0x87,
        name: "TUPLE3",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Tuple],
        proto: 2,
        doc: "Build a three-tuple out of the top three items on the stack.",
    },
    OpcodeInfo {
        code: 0x7d,
        name: "EMPTY_DICT",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Dict],
        proto: 1,
        doc: "Push an empty dict.",
    },
    OpcodeInfo {
        code: 0x64,
        name: "DICT",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::Dict],
        proto: 0,
        doc: "Build a dict out of the topmost stack slice, after markobject.",
    },
    OpcodeInfo {
        code: 0x73,
        name: "SETITEM",
        arg: ArgKind::None,
        stack_before: &[StackKind::Dict, StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Dict],
        proto: 0,
        doc: "Add a key+value pair to an existing dict.",
    },
    OpcodeInfo {
        code: 0x75,
        name: "SETITEMS",
        arg: ArgKind::None,
        stack_before: &[StackKind::Dict, StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::Dict],
        proto: 1,
        doc: "Add an arbitrary number of key+value pairs to an existing dict.",
    },
    OpcodeInfo {
        code: 0x8f,
        name: "EMPTY_SET",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Set],
        proto: 4,
        doc: "Push an empty set.",
    },
    OpcodeInfo {
        code: 0x90,
        name: "ADDITEMS",
        arg: ArgKind::None,
        stack_before: &[StackKind::Set, StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::Set],
        proto: 4,
        doc: "Add an arbitrary number of items to an existing set.",
    },
    OpcodeInfo {
        code: 0x91,
        name: "FROZENSET",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::FrozenSet],
        proto: 4,
        doc: "Build a frozenset out of the topmost slice, after markobject.",
    },
    OpcodeInfo {
        code: 0x30,
        name: "POP",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[],
        proto: 0,
        doc: "Discard the top stack item, shrinking the stack by one item.",
    },
    OpcodeInfo {
        code: 0x32,
        name: "DUP",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[StackKind::Any, StackKind::Any],
        proto: 0,
        doc: "Push the top stack item onto the stack again, duplicating it.",
    },
    OpcodeInfo {
        code: 0x28,
        name: "MARK",
        arg: ArgKind::None,
        stack_before: &[],
        stack_after: &[StackKind::Mark],
        proto: 0,
        doc: "Push markobject onto the stack.",
    },
    OpcodeInfo {
        code: 0x31,
        name: "POP_MARK",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[],
        proto: 1,
        doc: "Pop all the stack objects at and above the topmost markobject.",
    },
    OpcodeInfo {
        code: 0x67,
        name: "GET",
        arg: ArgKind::DecimalnlShort,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Read an object from the memo and push it on the stack.",
    },
    OpcodeInfo {
        code: 0x68,
        name: "BINGET",
        arg: ArgKind::Uint1,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 1,
        doc: "Read an object from the memo and push it on the stack.",
    },
    OpcodeInfo {
        code: 0x6a,
        name: "LONG_BINGET",
        arg: ArgKind::Uint4,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 1,
        doc: "Read an object from the memo and push it on the stack.",
    },
    OpcodeInfo {
        code: 0x70,
        name: "PUT",
        arg: ArgKind::DecimalnlShort,
        stack_before: &[],
        stack_after: &[],
        proto: 0,
        doc: "Store the stack top into the memo.  The stack is not popped.",
    },
    OpcodeInfo {
        code: 0x71,
        name: "BINPUT",
        arg: ArgKind::Uint1,
        stack_before: &[],
        stack_after: &[],
        proto: 1,
        doc: "Store the stack top into the memo.  The stack is not popped.",
    },
    OpcodeInfo {
        code: 0x72,
        name: "LONG_BINPUT",
        arg: ArgKind::Uint4,
        stack_before: &[],
        stack_after: &[],
        proto: 1,
        doc: "Store the stack top into the memo.  The stack is not popped.",
    },
    OpcodeInfo {
        code: 0x94,
        name: "MEMOIZE",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 4,
        doc: "Store the stack top into the memo.  The stack is not popped.",
    },
    OpcodeInfo {
        code: 0x82,
        name: "EXT1",
        arg: ArgKind::Uint1,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 2,
        doc: "Extension code.",
    },
    OpcodeInfo {
        code: 0x83,
        name: "EXT2",
        arg: ArgKind::Uint2,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 2,
        doc: "Extension code.",
    },
    OpcodeInfo {
        code: 0x84,
        name: "EXT4",
        arg: ArgKind::Int4,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 2,
        doc: "Extension code.",
    },
    OpcodeInfo {
        code: 0x63,
        name: "GLOBAL",
        arg: ArgKind::StringnlNoescapePair,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Push a global object (module.attr) on the stack.",
    },
    OpcodeInfo {
        code: 0x93,
        name: "STACK_GLOBAL",
        arg: ArgKind::None,
        stack_before: &[StackKind::Str, StackKind::Str],
        stack_after: &[StackKind::Any],
        proto: 4,
        doc: "Push a global object (module.attr) on the stack.",
    },
    OpcodeInfo {
        code: 0x52,
        name: "REDUCE",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Push an object built from a callable and an argument tuple.",
    },
    OpcodeInfo {
        code: 0x62,
        name: "BUILD",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Finish building an object, via __setstate__ or dict update.",
    },
    OpcodeInfo {
        code: 0x69,
        name: "INST",
        arg: ArgKind::StringnlNoescapePair,
        stack_before: &[StackKind::Mark, StackKind::StackSlice],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Build a class instance.",
    },
    OpcodeInfo {
        code: 0x6f,
        name: "OBJ",
        arg: ArgKind::None,
        stack_before: &[StackKind::Mark, StackKind::Any, StackKind::StackSlice],
        stack_after: &[StackKind::Any],
        proto: 1,
        doc: "Build a class instance.",
    },
    OpcodeInfo {
        code: 0x81,
        name: "NEWOBJ",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 2,
        doc: "Build an object instance.",
    },
    OpcodeInfo {
        code: 0x92,
        name: "NEWOBJ_EX",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any, StackKind::Any, StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 4,
        doc: "Build an object instance.",
    },
    OpcodeInfo {
        code: 0x80,
        name: "PROTO",
        arg: ArgKind::Uint1,
        stack_before: &[],
        stack_after: &[],
        proto: 2,
        doc: "Protocol version indicator.",
    },
    OpcodeInfo {
        code: 0x2e,
        name: "STOP",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[],
        proto: 0,
        doc: "Stop the unpickling machine.",
    },
    OpcodeInfo {
        code: 0x95,
        name: "FRAME",
        arg: ArgKind::Uint8,
        stack_before: &[],
        stack_after: &[],
        proto: 4,
        doc: "Indicate the beginning of a new frame.",
    },
    OpcodeInfo {
        code: 0x50,
        name: "PERSID",
        arg: ArgKind::StringnlNoescape,
        stack_before: &[],
        stack_after: &[StackKind::Any],
        proto: 0,
        doc: "Push an object identified by a persistent ID.",
    },
    OpcodeInfo {
        code: 0x51,
        name: "BINPERSID",
        arg: ArgKind::None,
        stack_before: &[StackKind::Any],
        stack_after: &[StackKind::Any],
        proto: 1,
        doc: "Push an object identified by a persistent ID.",
    },
];

/// Opcode byte -> index into `OPCODES` (0xff: no such opcode).
static INDEX: [u8; 256] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0x2b, 0x1d, 0xff, 0xff, 0xff, 0xff, 0x40, 0xff, 0x29, 0x2c, 0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x0b, 0xff, 0xff, 0x17, 0x18, 0xff, 0x00, 0x01, 0x02,
    0x04, 0x03, 0x10, 0xff, 0x42, 0x43, 0x39, 0x07, 0x08, 0x09, 0x13, 0xff, 0x15, 0xff, 0xff, 0xff, 0xff, 0x19, 0xff,
    0xff, 0xff, 0x1a, 0x3a, 0x37, 0x23, 0x1b, 0xff, 0x2d, 0x2e, 0x3b, 0x2f, 0xff, 0x1c, 0xff, 0xff, 0x3c, 0x30, 0x31,
    0x32, 0x24, 0x1e, 0x25, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x22, 0xff, 0xff, 0x3f, 0x3d, 0x34, 0x35, 0x36,
    0x1f, 0x20, 0x21, 0x11, 0x12, 0x05, 0x06, 0x14, 0x16, 0x0c, 0x26, 0x27, 0x28, 0x3e, 0x38, 0x33, 0x41, 0x0d, 0x0e,
    0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];
// END GENERATED OPCODE TABLE

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(OPCODES.len(), 68);
        for (i, o) in OPCODES.iter().enumerate() {
            assert_eq!(info(o.code).map(|x| x.name), Some(o.name));
            assert_eq!(usize::from(INDEX[usize::from(o.code)]), i);
        }
        let known = (0..=255u8).filter(|c| info(*c).is_some()).count();
        assert_eq!(known, OPCODES.len());
        assert_eq!(name(op::BININT1), Some("BININT1"));
        assert_eq!(name(op::READONLY_BUFFER), Some("READONLY_BUFFER"));
        assert_eq!(name(b'z'), None);
        assert_eq!(info(op::PROTO).map(|i| i.proto), Some(2));
        assert_eq!(info(op::INT).map(|i| i.doc), Some("Push an integer or bool."));
    }

    #[test]
    fn op_constants_match_table() {
        let pairs: &[(u8, &str)] = &[
            (op::MARK, "MARK"),
            (op::STOP, "STOP"),
            (op::FRAME, "FRAME"),
            (op::MEMOIZE, "MEMOIZE"),
            (op::STACK_GLOBAL, "STACK_GLOBAL"),
            (op::NEXT_BUFFER, "NEXT_BUFFER"),
            (op::BINFLOAT, "BINFLOAT"),
        ];
        for (c, n) in pairs {
            assert_eq!(name(*c), Some(*n));
        }
    }
}
