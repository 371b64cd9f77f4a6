//! The containers torch writes: finding the pickle(s) and the storages'
//! bytes in a zip archive, a legacy stream or a tar archive, without
//! reading tensor data.
//!
//! Everything here works on offsets into the file's bytes (a memory map
//! or a `Vec`); nothing borrows them, so [`Checkpoint`](crate::Checkpoint)
//! can own both. Every offset, length and product read from the file is
//! checked before use.

pub(crate) mod legacy;
pub(crate) mod tar;
pub(crate) mod zip;

use crate::{ByteOrder, Error, Format, Result};
use pyckle::{DecodeOptions, Graph, Object, StringEncoding, Unpickler, Value};
use std::collections::HashMap;

/// The file's bytes: a read-only memory map, or bytes handed over.
pub(crate) enum Backing {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Backing {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Backing::Map(m) => m,
            Backing::Owned(v) => v,
        }
    }
}

/// Where a storage's bytes are.
#[derive(Debug)]
pub(crate) enum Storage {
    /// `len` bytes at `start` of the file (legacy, tar).
    Range { start: u64, len: u64 },
    /// A zip entry: stored ones are borrowed from the file, deflated ones
    /// inflated on first use and kept.
    Zip(zip::Entry),
}

impl Storage {
    pub(crate) fn bytes<'a>(&'a self, data: &'a [u8]) -> Result<&'a [u8]> {
        match self {
            Storage::Range { start, len } => slice(data, *start, *len),
            Storage::Zip(entry) => entry.bytes(data),
        }
    }
}

/// What opening found: the pickles decoded, where the storages are.
pub(crate) struct Opened {
    pub format: Format,
    pub byte_order: ByteOrder,
    pub graph: Graph<'static>,
    /// TorchScript's `constants.pkl`.
    pub constants: Option<Graph<'static>>,
    /// By the key the pickle uses (`"0"`; `"constants/0"` for TorchScript constants).
    pub storages: HashMap<String, Storage>,
    /// The zip archive's `version` record.
    pub version: Option<String>,
}

/// Detects the container by its content and opens it.
pub(crate) fn open(data: &[u8]) -> Result<Opened> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        zip::open(data)
    } else if tar::looks_like_tar(data) {
        tar::open(data)
    } else if data.first() == Some(&0x80) || data.first().is_some_and(|b| b"LI(".contains(b)) {
        legacy::open(data)
    } else if data.is_empty() {
        Err(Error::Malformed("empty file".into()))
    } else {
        Err(Error::Malformed("not a torch checkpoint: neither a zip archive, a tar archive nor a pickle stream".into()))
    }
}

/// `len` bytes at `start` of `data`, or an error naming the range.
pub(crate) fn slice(data: &[u8], start: u64, len: u64) -> Result<&[u8]> {
    let end = start.checked_add(len);
    match end {
        Some(end) if end <= data.len() as u64 => Ok(&data[start as usize..end as usize]),
        _ => Err(Error::Malformed(format!(
            "{len} bytes at offset {start} reach past the end of the file ({} bytes)",
            data.len()
        ))),
    }
}

/// Decode options for one of the checkpoint's pickles: torch's
/// `encoding="utf-8"` for Python 2 strings, and an allocation bound
/// proportional to the pickle's size (every object costs at least an
/// opcode byte; a memo GET of two bytes can add a 16-byte value).
pub(crate) fn pickle_options(len: usize) -> DecodeOptions {
    let mut o = DecodeOptions { encoding: StringEncoding::Utf8, ..DecodeOptions::default() };
    let bound = (len as u64).saturating_mul(64).saturating_add(16 << 20);
    o.limits.max_alloc = o.limits.max_alloc.min(bound);
    o
}

/// Decodes a whole pickle and detaches it from `data`.
pub(crate) fn decode(data: &[u8], what: &str) -> Result<Graph<'static>> {
    Unpickler::new(pickle_options(data.len()))
        .loads(data)
        .map(Graph::into_owned)
        .map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// Decodes the pickle at the start of `data`; returns it and the bytes after it.
pub(crate) fn decode_prefix<'a>(data: &'a [u8], what: &str) -> Result<(Graph<'a>, &'a [u8])> {
    Unpickler::new(pickle_options(data.len())).loads_prefix(data).map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// A storage key as a string: keys are `str` in torch's pickles, `int`
/// (an object's address) in the tar format, `bytes` from Python 2 files
/// read without an encoding.
pub(crate) fn key_string(graph: &Graph<'_>, v: Value) -> Option<String> {
    match v {
        Value::Int(i) => Some(i.to_string()),
        _ => match graph.object(v)? {
            Object::Str(s) => Some(s.to_string_lossy().into_owned()),
            Object::Bytes(b) => std::str::from_utf8(b).ok().map(str::to_owned),
            Object::Int(b) => Some(b.to_string()),
            _ => None,
        },
    }
}

/// A str (or ASCII bytes) value as text.
pub(crate) fn text<'g>(graph: &'g Graph<'_>, v: Value) -> Option<&'g str> {
    match graph.object(v)? {
        Object::Str(s) => s.as_str(),
        Object::Bytes(b) => std::str::from_utf8(b).ok(),
        _ => None,
    }
}

/// Bytes per element of a legacy storage class (`FloatStorage`, ...),
/// as `torch._utils._element_size` gives them for the class's dtype.
pub(crate) fn storage_itemsize(name: &str) -> Option<u64> {
    Some(match name {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "ComplexDoubleStorage" => 16,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QInt8Storage" | "QUInt8Storage" | "QUInt4x2Storage"
        | "QUInt2x4Storage" | "UntypedStorage" => 1,
        _ => return None,
    })
}

/// The class name of a storage type global (`torch.FloatStorage`, or
/// `torch.cuda.FloatStorage` from a GPU checkpoint).
pub(crate) fn storage_class<'g>(graph: &'g Graph<'_>, v: Value) -> Option<&'g str> {
    let g = graph.as_global(v)?;
    g.module.starts_with("torch").then_some(g.name.as_str())
}
