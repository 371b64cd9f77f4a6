//! Writing a checkpoint's tensors as a [safetensors] file, streamed.
//!
//! ```no_run
//! use pyckle_torch::{safetensors, Checkpoint};
//! let ckpt = Checkpoint::open("model.pt")?;
//! let summary = safetensors::write(&ckpt, "model.safetensors".as_ref(), &Default::default(), |_, _| {})?;
//! println!("{} tensors, {} bytes", summary.tensors, summary.bytes);
//! # Ok::<(), pyckle_torch::Error>(())
//! ```
//!
//! # What is written
//!
//! - Every tensor of [`Checkpoint::tensors`], under its name (the keys that
//!   lead to it joined by `.`), in the order of the pickle. The header is
//!   written first, then each tensor's bytes straight from the memory map:
//!   the file is never built in memory, so the peak memory stays a small
//!   buffer whatever the checkpoint's size ([`Options::release_pages`]).
//! - Views (strided, offset, transposed) are made contiguous, in C order
//!   and little-endian, as `tensor.contiguous()` would give them.
//! - safetensors has no sharing: a storage that several tensors view is
//!   written once per tensor, each time with that tensor's elements only.
//! - The dtypes of the safetensors format as every reader of it knows it
//!   (the `safetensors` crate 0.4, candle, the Python package): `BOOL`,
//!   `U8`, `I8`, `F8_E5M2`, `F8_E4M3` (torch's `float8_e4m3fn`), `I16`,
//!   `U16`, `F16`, `BF16`, `I32`, `U32`, `F32`, `F64`, `I64`, `U64`
//!   ([`safetensors_dtype`]). Complex, the `fnuz` float8 types and quantized
//!   tensors are not written: [`Options::unsupported`] says whether they
//!   stop the conversion with [`Error::Unsupported`] (the default) or are
//!   left out and listed in [`Summary::skipped`].
//!
//! # Metadata
//!
//! safetensors keeps a map of strings to strings (`__metadata__`). Into it go
//! ([`metadata`]):
//!
//! - `format`: `pt`, as `transformers` writes it (unless the checkpoint has
//!   a value of its own at the key `format`, which wins);
//! - every scalar of the checkpoint outside its tensors (`bool`,
//!   `int`, `float`, `str`: `{"epoch": 3, "lr": 0.001}`) under its path,
//!   named as tensors are named (dict keys, list and tuple indices as
//!   numbers, attributes of objects by their names, joined by `.`), its
//!   value as Python's `str()` gives it: `"3"`, `"0.001"`, `"True"`, a
//!   `str` as it is. `None` is left out (an absent parameter, a hook not
//!   set: nothing to keep).
//!
//! The walk goes through dicts, lists and tuples, the items of objects
//! (an `OrderedDict`'s entries) and the attributes of class instances
//! (their `__dict__` state, as in a whole `nn.Module`, whose `_modules`,
//! `_parameters` and `_buffers` add no name: `fc1.training`), each container once
//! (the first path that reaches it names it). It does not go into the state
//! of objects made by calling a function (so not the `_metadata` versions
//! `state_dict()` attaches to its `OrderedDict`), nor into tensors. Left out:
//! bytes, sets, globals, strings that are not valid UTF-8 or longer than
//! [`MAX_METADATA_VALUE`] bytes, anything deeper than [`MAX_METADATA_DEPTH`],
//! and entries past [`MAX_METADATA_ENTRIES`].
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use crate::{Checkpoint, DType, Error, Result, Tensor};
use pyckle::{Graph, Object, Value};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Longest string value kept in the metadata, in bytes.
pub const MAX_METADATA_VALUE: usize = 4096;
/// Most entries kept in the metadata.
pub const MAX_METADATA_ENTRIES: usize = 10_000;
/// Deepest container the metadata walk goes into.
pub const MAX_METADATA_DEPTH: usize = 64;

/// What to do with a tensor whose dtype safetensors cannot hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnUnsupported {
    /// Stop with [`Error::Unsupported`], naming the tensor and its dtype.
    #[default]
    Error,
    /// Leave the tensor out and list it in [`Summary::skipped`].
    Skip,
}

/// How [`write`] converts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Complex, `fnuz` float8 and quantized tensors: an error, or left out.
    pub unsupported: OnUnsupported,
    /// Keep the checkpoint's scalars in `__metadata__` ([`metadata`]).
    /// Without it, `__metadata__` holds `format: pt` only.
    pub metadata: bool,
    /// Bytes of the output buffer.
    pub buffer: usize,
    /// Drop the pages of the memory map each tensor was read from once it is
    /// written (Linux; see the module's documentation): the resident memory
    /// stays small instead of growing to the size of the checkpoint.
    pub release_pages: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { unsupported: OnUnsupported::Error, metadata: true, buffer: 1 << 20, release_pages: true }
    }
}

/// What [`write`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tensors written.
    pub tensors: usize,
    /// Bytes of the whole file (header included).
    pub bytes: u64,
    /// Bytes of the header (its length field, JSON and padding).
    pub header_bytes: u64,
    /// Entries of `__metadata__`.
    pub metadata: usize,
    /// Tensors left out ([`OnUnsupported::Skip`]), with their dtypes.
    pub skipped: Vec<(String, DType)>,
}

/// The safetensors name of a dtype, if the `safetensors` crate (0.4) and
/// every reader has it: [`DType::safetensors_name`] of the dtypes that
/// [`DType::safetensors_dtype`] knows.
pub fn safetensors_dtype(dtype: DType) -> Option<&'static str> {
    dtype.safetensors_dtype().and(dtype.safetensors_name())
}

/// One tensor of the plan: its name, the tensor, and where its bytes go.
struct Entry<'c> {
    name: String,
    tensor: &'c Tensor,
    nbytes: u64,
}

/// The header and the tensors in the order of their bytes.
struct Plan<'c> {
    header: Vec<u8>,
    entries: Vec<Entry<'c>>,
    metadata: usize,
    skipped: Vec<(String, DType)>,
    data_bytes: u64,
}

fn unsupported(name: &str, what: &str) -> Error {
    Error::Unsupported(format!("tensor {name:?}: safetensors has no {what}"))
}

fn bad(name: &str, problem: impl Into<String>) -> Error {
    Error::BadTensor { name: name.to_string(), problem: problem.into() }
}

fn plan<'c>(ckpt: &'c Checkpoint, options: &Options) -> Result<Plan<'c>> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = HashSet::new();
    let mut tensors = serde_json::Map::new();
    let mut offset = 0u64;
    for (name, tensor) in ckpt.tensors() {
        // A lazily negated or conjugated tensor's values are not its stored
        // bytes; safetensors has no such flag, so it is not written as stored.
        let lazy = tensor.neg || tensor.conj;
        let st = if tensor.quantization.is_some() || lazy { None } else { safetensors_dtype(tensor.dtype) };
        let Some(st) = st else {
            let what = match (&tensor.quantization, tensor.dtype) {
                (Some(_), dtype) => format!("quantized tensors ({})", dtype.name()),
                (None, _) if tensor.neg => "lazily negated tensors (torch's neg bit)".to_string(),
                (None, _) if tensor.conj => "lazily conjugated tensors (torch's conj bit)".to_string(),
                (None, dtype) => format!("dtype {}", dtype.name()),
            };
            match options.unsupported {
                OnUnsupported::Error => return Err(unsupported(&name, &what)),
                OnUnsupported::Skip => {
                    skipped.push((name, tensor.dtype));
                    continue;
                }
            }
        };
        if name == "__metadata__" {
            return Err(Error::Unsupported("a tensor named \"__metadata__\" (safetensors' metadata key)".into()));
        }
        if !seen.insert(name.clone()) {
            return Err(Error::Unsupported(format!("two tensors named {name:?}")));
        }
        let numel = tensor
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| bad(&name, "its number of elements overflows"))?;
        let nbytes = numel
            .checked_mul(tensor.dtype.itemsize() as u64)
            .ok_or_else(|| bad(&name, "its size in bytes overflows"))?;
        let end = offset.checked_add(nbytes).ok_or_else(|| bad(&name, "the file's size overflows"))?;
        tensors.insert(
            name.clone(),
            serde_json::json!({ "dtype": st, "shape": tensor.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
        entries.push(Entry { name, tensor, nbytes });
    }
    let mut meta = if options.metadata { metadata(ckpt) } else { BTreeMap::new() };
    meta.entry("format".to_string()).or_insert_with(|| "pt".to_string());
    let metadata_len = meta.len();
    tensors.insert("__metadata__".into(), serde_json::to_value(meta).map_err(|e| Error::Malformed(e.to_string()))?);
    let mut header = serde_json::to_vec(&serde_json::Value::Object(tensors))
        .map_err(|e| Error::Malformed(format!("the safetensors header: {e}")))?;
    // The data starts 8-aligned: pad the JSON with spaces (8 + len is a multiple of 8).
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    Ok(Plan { header, entries, metadata: metadata_len, skipped, data_bytes: offset })
}

/// A writer that counts the bytes through it and reports them now and then.
struct Counting<'p, W, F> {
    inner: W,
    /// Drops the map's pages of what went through, as it goes: a big
    /// tensor's pages do not all stay until its end.
    releaser: Option<&'p release::Releaser>,
    done: u64,
    total: u64,
    reported: u64,
    progress: &'p mut F,
}

/// Report progress every this many bytes.
const REPORT_EVERY: u64 = 4 << 20;

impl<W: Write, F: FnMut(u64, u64)> Write for Counting<'_, W, F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(releaser) = self.releaser {
            releaser.after_reading(&buf[..n]);
        }
        self.done += n as u64;
        if self.done - self.reported >= REPORT_EVERY {
            self.reported = self.done;
            (self.progress)(self.done, self.total);
        }
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Big slices pass through in pieces, so that progress moves inside one tensor.
        for piece in buf.chunks(REPORT_EVERY as usize) {
            self.inner.write_all(piece)?;
            if let Some(releaser) = self.releaser {
                releaser.after_reading(piece);
            }
            self.done += piece.len() as u64;
            if self.done - self.reported >= REPORT_EVERY {
                self.reported = self.done;
                (self.progress)(self.done, self.total);
            }
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the safetensors file of `ckpt` into `out`, streaming.
/// `progress(done, total)` is called with the bytes written so far and the
/// size of the whole file: at the start, every few MiB, and at the end.
pub fn write_to<W: Write>(
    ckpt: &Checkpoint,
    out: W,
    options: &Options,
    mut progress: impl FnMut(u64, u64),
) -> Result<Summary> {
    let plan = plan(ckpt, options)?;
    let header_bytes = 8 + plan.header.len() as u64;
    let total = header_bytes
        .checked_add(plan.data_bytes)
        .ok_or_else(|| Error::Unsupported("a safetensors file larger than 2^64 bytes".into()))?;
    progress(0, total);
    let releaser = if options.release_pages { Some(release::Releaser::new()) } else { None };
    let mut w =
        Counting { inner: out, releaser: releaser.as_ref(), done: 0, total, reported: 0, progress: &mut progress };
    w.write_all(&(plan.header.len() as u64).to_le_bytes())?;
    w.write_all(&plan.header)?;
    for entry in &plan.entries {
        let view = ckpt.view(entry.tensor).map_err(|e| match e {
            Error::BadTensor { problem, .. } => bad(&entry.name, problem),
            e => e,
        })?;
        let before = w.done;
        view.write_contiguous(&mut w).map(|_| ()).map_err(|e| match e {
            Error::BadTensor { problem, .. } => bad(&entry.name, problem),
            e => e,
        })?;
        let wrote = w.done - before;
        if wrote != entry.nbytes {
            return Err(bad(&entry.name, format!("its view gave {wrote} bytes, not {}", entry.nbytes)));
        }
        if let Some(releaser) = &releaser {
            // The output buffer may still hold the last bytes, but they are copies.
            releaser.after_reading(view.storage);
        }
    }
    w.flush()?;
    let done = w.done;
    drop(w);
    progress(done, total);
    Ok(Summary {
        tensors: plan.entries.len(),
        bytes: total,
        header_bytes,
        metadata: plan.metadata,
        skipped: plan.skipped,
    })
}

/// Writes the safetensors file of `ckpt` to the path `out`, streaming (see
/// [`write_to`]). A new file, or a regular file `out` replaces, is written
/// next to `out` under a temporary name and renamed when complete: on an
/// error, `out` is left as it was. Anything else (`/dev/null`, a pipe, a
/// symbolic link) is opened and written in place, never replaced.
pub fn write(ckpt: &Checkpoint, out: &Path, options: &Options, progress: impl FnMut(u64, u64)) -> Result<Summary> {
    let in_place = std::fs::symlink_metadata(out).is_ok_and(|m| !m.is_file());
    let buffer = options.buffer.max(4096);
    if in_place {
        let file = File::create(out)?;
        return write_to(ckpt, BufWriter::with_capacity(buffer, &file), options, progress);
    }
    let tmp = temporary_name(out);
    let file = File::create(&tmp)?;
    let result = write_to(ckpt, BufWriter::with_capacity(buffer, &file), options, progress).and_then(|summary| {
        // No fsync, as torch.save and safetensors' save_file: the page cache writes it.
        std::fs::rename(&tmp, out)?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temporary_name(out: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(out.file_name().unwrap_or_else(|| std::ffi::OsStr::new("out")));
    name.push(format!(".{}.partial", std::process::id()));
    out.with_file_name(name)
}

/// The `__metadata__` entries of the checkpoint's scalars (without `format`):
/// see the [module's documentation](self).
pub fn metadata(ckpt: &Checkpoint) -> BTreeMap<String, String> {
    let graph = ckpt.graph();
    let mut out = BTreeMap::new();
    let mut visited = HashSet::new();
    // Depth-first, children pushed in reverse so that the pickle's order is kept.
    let mut stack: Vec<(String, Value, usize)> = vec![(String::new(), graph.root(), 0)];
    while let Some((path, value, depth)) = stack.pop() {
        if out.len() >= MAX_METADATA_ENTRIES {
            break;
        }
        if let Some(text) = scalar(graph, value) {
            if !path.is_empty() && text.len() <= MAX_METADATA_VALUE {
                out.entry(path).or_insert(text);
            }
            continue;
        }
        let Some(id) = value.obj() else { continue };
        if depth >= MAX_METADATA_DEPTH || ckpt.tensor(value).is_some() || !visited.insert(id) {
            continue;
        }
        let children = children(graph, value);
        for (key, child) in children.into_iter().rev() {
            let child_path = match key {
                None => path.clone(),
                Some(key) if path.is_empty() => key,
                Some(key) => format!("{path}.{key}"),
            };
            stack.push((child_path, child, depth + 1));
        }
    }
    out
}

/// Python's `str()` of a scalar value, if it is one.
fn scalar(graph: &Graph, value: Value) -> Option<String> {
    Some(match value {
        Value::None => return None,
        Value::Bool(b) => if b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => pyckle::pyrepr::repr_float(f),
        Value::Obj(_) => match graph.object(value)? {
            Object::Int(i) => i.to_string(),
            Object::Str(s) => s.as_str()?.to_string(),
            _ => return None,
        },
    })
}

/// A dict key as a path component: a `str`, or an int in decimal.
fn key_name(graph: &Graph, key: Value) -> Option<String> {
    match key {
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if b { "True" } else { "False" }.into()),
        _ => match graph.object(key)? {
            Object::Str(s) => s.as_str().map(str::to_string),
            Object::Int(i) => Some(i.to_string()),
            _ => None,
        },
    }
}

fn dict_children(graph: &Graph, entries: &[(Value, Value)], out: &mut Vec<(Option<String>, Value)>) {
    out.extend(entries.iter().filter_map(|&(k, v)| Some((Some(key_name(graph, k)?), v))));
}

/// The attributes of an `nn.Module` that hold its children, parameters
/// and buffers: names go through them (`fc1.weight`, not
/// `_modules.fc1._parameters.weight`), as `state_dict()` names them.
const MODULE_CONTAINERS: [&str; 3] = ["_modules", "_parameters", "_buffers"];

/// The children of a container the metadata walk goes into, each with the
/// path component that names it (None: the child takes its parent's path).
fn children(graph: &Graph, value: Value) -> Vec<(Option<String>, Value)> {
    let mut out = Vec::new();
    match graph.object(value) {
        Some(Object::Dict(d)) => dict_children(graph, d.entries(), &mut out),
        Some(Object::List(items)) | Some(Object::Tuple(items)) => {
            out.extend(items.iter().enumerate().map(|(i, &v)| (Some(i.to_string()), v)))
        }
        Some(Object::Record(r)) => {
            if r.is_new() {
                if let Some(Object::Dict(d)) = r.state.and_then(|s| graph.object(s)) {
                    for &(k, v) in d.entries() {
                        let Some(key) = key_name(graph, k) else { continue };
                        let transparent = MODULE_CONTAINERS.contains(&key.as_str()) && graph.object(v).is_some();
                        out.push((if transparent { None } else { Some(key) }, v));
                    }
                }
            }
            out.extend(r.items.iter().enumerate().map(|(i, &v)| (Some(i.to_string()), v)));
            dict_children(graph, &r.dict_items, &mut out);
        }
        _ => {}
    }
    out
}

/// Dropping the pages of the memory map a tensor was read from, once it
/// is written: without it every page of the checkpoint stays mapped in
/// the process until the end, and the resident memory grows to the size of
/// the file. Only whole pages inside a read-only file mapping (as
/// `/proc/self/maps` lists them when the writing starts) are dropped, with
/// `madvise(MADV_DONTNEED)`: the kernel reads them again from the page
/// cache if a later tensor needs them, the content cannot change. Memory of
/// the heap (a checkpoint held in memory, a storage decompressed on demand)
/// is never touched. Elsewhere than Linux, nothing is dropped.
mod release {
    #[cfg(target_os = "linux")]
    pub struct Releaser {
        /// Read-only file mappings: start and end addresses.
        mappings: Vec<(usize, usize)>,
        page: usize,
    }

    #[cfg(target_os = "linux")]
    impl Releaser {
        pub fn new() -> Releaser {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = usize::try_from(page).ok().filter(|p| p.is_power_of_two()).unwrap_or(4096);
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
            let mappings = maps.lines().filter_map(read_only_file_mapping).collect();
            Releaser { mappings, page }
        }

        pub fn after_reading(&self, bytes: &[u8]) {
            let start = bytes.as_ptr() as usize;
            let Some(end) = start.checked_add(bytes.len()) else { return };
            let inside = self.mappings.iter().any(|&(lo, hi)| lo <= start && end <= hi);
            // Whole pages only: the first page boundary at or after the start, the last at or before the end.
            let first = start.checked_add(self.page - 1).map(|s| s & !(self.page - 1));
            let last = end & !(self.page - 1);
            if let (true, Some(first)) = (inside, first) {
                if first < last {
                    // SAFETY: [first, last) is whole pages of a read-only
                    // file mapping that `bytes` borrows: MADV_DONTNEED only
                    // drops them from this process's page tables, and the
                    // next read faults the same bytes in from the file.
                    unsafe {
                        libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_DONTNEED);
                    }
                }
            }
        }
    }

    /// `start-end perms offset dev inode path`: a mapping of a file (inode
    /// not 0) that the process cannot write.
    #[cfg(target_os = "linux")]
    fn read_only_file_mapping(line: &str) -> Option<(usize, usize)> {
        let mut fields = line.split_ascii_whitespace();
        let (lo, hi) = fields.next()?.split_once('-')?;
        let perms = fields.next()?;
        let inode = fields.nth(2)?;
        if !perms.starts_with('r') || perms.as_bytes().get(1) != Some(&b'-') || inode == "0" {
            return None;
        }
        Some((usize::from_str_radix(lo, 16).ok()?, usize::from_str_radix(hi, 16).ok()?))
    }

    #[cfg(not(target_os = "linux"))]
    pub struct Releaser;

    #[cfg(not(target_os = "linux"))]
    impl Releaser {
        pub fn new() -> Releaser {
            Releaser
        }
        pub fn after_reading(&self, _bytes: &[u8]) {}
    }
}
