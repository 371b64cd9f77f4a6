//! The pickler: writes an object graph as CPython 3.11's C pickler
//! (`pickle.dumps`) would write the objects that graph describes.
//!
//! [`dumps`] writes one pickle to a `Vec<u8>`, [`dump`] to any
//! `io::Write`; a [`Pickler`] carries the options (protocol, Python 2
//! names, extension registry, out-of-band buffer callback) and writes
//! several pickles into one stream.
//!
//! What "as CPython would" means, in detail, is in `pickler.rs`: the same
//! opcode for every value, the same memo (what is memoized, in which order,
//! and the identity CPython gives one-character strings and `b""`), the
//! same batches of APPENDS/SETITEMS/ADDITEMS, the same frames, the same
//! reduce forms of the types a protocol has no opcode for, and sets in the
//! order CPython iterates them.

mod pickler;
pub(crate) mod setorder;

use crate::error::{Error, ErrorKind, Result};
use crate::graph::{Buffer, Global, Graph};
use std::collections::HashMap;
use std::io::Write;

/// The highest protocol this crate writes (and CPython 3.11's `pickle.HIGHEST_PROTOCOL`).
pub const HIGHEST_PROTOCOL: u8 = 5;
/// The protocol `pickle.dumps` uses when none is given (Python 3.8 and later).
pub const DEFAULT_PROTOCOL: u8 = 4;

/// The order in which the items of a set or frozenset are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SetOrder {
    /// The order CPython 3.11 iterates the set that unpickling would build
    /// (string hashes as with `PYTHONHASHSEED=0`), so the bytes equal
    /// `pickle.dumps(pickle.loads(data))`. Sets holding items whose hash
    /// CPython takes from their address (None, NaN, classes, instances)
    /// fall back to insertion order.
    #[default]
    CPython,
    /// The order the items were added to the graph's set (for a decoded
    /// graph, the order of the pickle that made it).
    Insertion,
}

/// How a [`Pickler`] writes.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Protocol 0 to 5.
    pub protocol: u8,
    /// Below protocol 3, write Python 2 names (`__builtin__`, `copy_reg`...)
    /// as `pickle.Pickler(fix_imports=True)` does.
    pub fix_imports: bool,
    pub set_order: SetOrder,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { protocol: DEFAULT_PROTOCOL, fix_imports: true, set_order: SetOrder::default() }
    }
}

impl EncodeOptions {
    pub fn protocol(protocol: u8) -> Self {
        EncodeOptions { protocol, ..Default::default() }
    }
}

/// Decides, for each out-of-band buffer (`Object::Buffer`) written at
/// protocol 5, whether it goes in-band: as `pickle.Pickler(buffer_callback=...)`,
/// returning `false` takes it out of band (NEXT_BUFFER) and the callback
/// keeps the data; `true` writes the data into the pickle.
pub type BufferCallback<'c> = dyn FnMut(&Buffer<'_>) -> bool + 'c;

/// Writes graphs as pickles to `W`, one [`dump`](Pickler::dump) per pickle.
///
/// Each pickle gets a fresh memo: object ids name objects of one graph, so
/// unlike CPython's `Pickler`, nothing is shared between two dumps.
pub struct Pickler<'c, W: Write> {
    out: W,
    options: EncodeOptions,
    extensions: HashMap<Global, u32>,
    buffer_callback: Option<Box<BufferCallback<'c>>>,
}

impl<'c, W: Write> Pickler<'c, W> {
    /// A pickler with the default options at `protocol`.
    pub fn new(out: W, protocol: u8) -> Result<Self> {
        Self::with_options(out, EncodeOptions::protocol(protocol))
    }
    pub fn with_options(out: W, options: EncodeOptions) -> Result<Self> {
        if options.protocol > HIGHEST_PROTOCOL {
            return Err(Error::new(ErrorKind::UnsupportedProtocol(options.protocol as u64)));
        }
        Ok(Pickler { out, options, extensions: HashMap::new(), buffer_callback: None })
    }
    /// Registers an extension code, as `copyreg.add_extension`: from
    /// protocol 2 on, the global is written as EXT1/EXT2/EXT4 `code`.
    pub fn add_extension(&mut self, global: Global, code: u32) -> Result<()> {
        if code == 0 || code > 0x7fff_ffff {
            return Err(Error::new(ErrorKind::Invalid(format!("extension code {code} is out of range"))));
        }
        self.extensions.insert(global, code);
        Ok(())
    }
    /// Sets the callback that decides which buffers go out of band (protocol 5).
    pub fn set_buffer_callback(&mut self, callback: impl FnMut(&Buffer<'_>) -> bool + 'c) {
        self.buffer_callback = Some(Box::new(callback));
    }
    pub fn options(&self) -> &EncodeOptions {
        &self.options
    }
    /// Writes one pickle of `graph` (its root value).
    pub fn dump(&mut self, graph: &Graph) -> Result<()> {
        let mut buf = Vec::new();
        pickler::Encoder::new(graph, &self.options, &self.extensions, self.buffer_callback.as_deref_mut())
            .run(&mut buf, Some(&mut self.out))?;
        self.out.flush()?;
        Ok(())
    }
    pub fn get_ref(&self) -> &W {
        &self.out
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The pickle of `graph` at `protocol`, as `pickle.dumps(obj, protocol)`.
pub fn dumps(graph: &Graph, protocol: u8) -> Result<Vec<u8>> {
    dumps_with(graph, &EncodeOptions::protocol(protocol))
}

/// The pickle of `graph` with `options`.
pub fn dumps_with(graph: &Graph, options: &EncodeOptions) -> Result<Vec<u8>> {
    if options.protocol > HIGHEST_PROTOCOL {
        return Err(Error::new(ErrorKind::UnsupportedProtocol(options.protocol as u64)));
    }
    let mut buf = Vec::new();
    let none = HashMap::new();
    pickler::Encoder::new(graph, options, &none, None).run(&mut buf, None)?;
    Ok(buf)
}

/// Writes the pickle of `graph` at `protocol` to `out`.
pub fn dump(graph: &Graph, out: impl Write, protocol: u8) -> Result<()> {
    Pickler::new(out, protocol)?.dump(graph)
}
