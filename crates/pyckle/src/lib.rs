//! pyckle: Python's pickle format in Rust.
//!
//! Decode every pickle CPython can read (protocols 0 to 5, Python 2 files
//! included) into an object graph that keeps identity, sharing and cycles;
//! disassemble pickles exactly as `pickletools` does; render them as JSON.
//! No code from the pickle ever runs.
//!
//! ```
//! use pyckle::{Object, Value};
//!
//! // pickle.dumps({"name": "Gopher", "ids": [1, 2]}, protocol=4)
//! let data = b"\x80\x04\x95\x23\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04name\x94\x8c\x06Gopher\x94\x8c\x03ids\x94]\x94(K\x01K\x02eu.";
//! let graph = pyckle::loads(data)?;
//! let Some(Object::Dict(d)) = graph.object(graph.root()) else { panic!("a dict") };
//! assert_eq!(graph.as_str(d.get_str(&graph, "name").unwrap()), Some("Gopher"));
//! let ids = d.get_str(&graph, "ids").unwrap();
//! assert!(matches!(graph.object(ids), Some(Object::List(v)) if v == &[Value::Int(1), Value::Int(2)]));
//!
//! let mut json = String::new();
//! pyckle::json::canonical(&graph, &mut json)?;
//! assert_eq!(json, r#"{"dict": [["name", "Gopher"], ["ids", {"list": [1, 2]}]]}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod classes;
mod compat;
pub mod decode;
pub mod dis;
pub mod encode;
pub mod error;
pub mod graph;
pub mod info;
pub mod json;
pub mod literal;
pub mod opcode;
pub mod pyrepr;
pub mod read;
#[cfg(feature = "serde")]
pub mod serde;
#[cfg(feature = "serde")]
pub mod serde_pickle;

pub use decode::{load, loads, DecodeOptions, EncodingErrors, Limits, StringEncoding, Unpickler};
pub use encode::{dump, dumps, dumps_with, EncodeOptions, Pickler, SetOrder};
pub use error::{Error, ErrorKind, Result};
pub use graph::{Global, Graph, ObjId, Object, PyStr, Record, RecordKind, Value};
