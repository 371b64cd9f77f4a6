//! pyckle: Python's pickle format in Rust.
//!
//! Decode every pickle CPython can read (protocols 0 to 5, Python 2 files
//! included) into an object graph that keeps identity, sharing and cycles;
//! disassemble pickles exactly as `pickletools` does; render them as JSON.
//! No code from the pickle ever runs.

pub mod decode;
pub mod dis;
pub mod error;
pub mod graph;
pub mod info;
pub mod json;
pub mod literal;
pub mod opcode;
pub mod pyrepr;
pub mod read;

pub use decode::{loads, load, DecodeOptions, Limits, Unpickler, StringEncoding, EncodingErrors};
pub use error::{Error, ErrorKind, Result};
pub use graph::{Graph, Object, ObjId, Value, PyStr, Record, RecordKind, Global};
