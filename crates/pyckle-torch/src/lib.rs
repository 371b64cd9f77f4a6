//! PyTorch checkpoints without Python: every format `torch.save` writes,
//! tensors as zero-copy views over a memory map, and safetensors out.
//!
//! [`Checkpoint::open`] memory-maps a file and tells its container by
//! content, not by name:
//!
//! - [`Format::Zip`]: torch 1.6 and later, any archive prefix, stored or
//!   deflated entries, CRCs not checked (as torch does not), zip64;
//! - [`Format::TorchScript`]: `torch.jit.save` archives, as far as tensors go
//!   (`data.pkl`'s module attributes and `constants.pkl`);
//! - [`Format::Legacy`]: the stream of `_use_new_zipfile_serialization=False`;
//! - [`Format::Tar`]: the oldest format, a tar of `storages`, `tensors` and `pickle`.
//!
//! Opening reads the archive's directory and the pickle(s), not the tensor
//! data: the pickle becomes a [`pyckle::Graph`] ([`Checkpoint::graph`]) and
//! every tensor in it a [`Tensor`] (dtype, shape, strides, offset, storage
//! key). [`Checkpoint::view`] gives a [`TensorView`] whose bytes are borrowed
//! from the map (deflated entries are inflated on first use); copies and
//! conversions happen only when asked for.
//!
//! Files are hostile until proven otherwise: every offset, length and
//! product read from a file is checked, a view must stay inside its
//! storage, a deflated entry may not claim more than deflate can expand to,
//! and whatever the bytes, the answer is a [`Result`], not a panic.
//!
//! ```
//! use pyckle_torch::{Checkpoint, DType, Format};
//!
//! // torch.save([torch.ones(2), (torch.zeros(1, 2, dtype=torch.int64), torch.tensor([True]))], path)
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/torch/zip_list.pt");
//! let ckpt = Checkpoint::open(path)?;
//! assert_eq!(ckpt.format(), Format::Zip);
//! let tensors = ckpt.tensors();
//! let names: Vec<&str> = tensors.iter().map(|(name, _)| name.as_str()).collect();
//! assert_eq!(names, ["0", "1.0", "1.1"]);
//!
//! let (_, ones) = tensors[0];
//! assert_eq!((ones.dtype, &ones.shape[..]), (DType::F32, &[2][..]));
//! let view = ckpt.view(ones)?; // borrowed from the memory map
//! assert_eq!(view.to_vec::<f32>()?, [1.0, 1.0]);
//! # Ok::<(), pyckle_torch::Error>(())
//! ```

mod archive;
mod dtype;
mod error;
mod rebuild;
pub mod safetensors;
mod view;

pub use dtype::DType;
pub use error::{Error, Result};
pub use view::{float8_to_f32, Element, MAX_EXPANDED_COPY};

use archive::{Backing, Storage};
use pyckle::{Graph, ObjId, Value};
use std::collections::HashMap;

/// Which container a checkpoint came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The zip archive of torch 1.6 and later (`archive/data.pkl`, `archive/data/0`, ...).
    Zip,
    /// A TorchScript archive (`torch.jit.save`): a zip with `constants.pkl`/`data.pkl` and code.
    TorchScript,
    /// The legacy stream of torch before 1.6 (`_use_new_zipfile_serialization=False`):
    /// magic number, protocol version, sys info, the pickle, storage keys, raw storages.
    Legacy,
    /// The oldest tar format (`storages`, `tensors`, `pickle` members).
    Tar,
}

/// The byte order of a checkpoint's storages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first: what torch writes on every usual machine.
    Little,
    /// Most significant byte first (a zip archive whose `byteorder` record says `big`).
    Big,
}

/// Where a tensor's storage lives, and its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageRef {
    /// The storage's key in the checkpoint (`"0"`, `"140234..."`).
    pub key: String,
    /// The device the checkpoint was saved on (`"cpu"`, `"cuda:0"`); informational.
    pub location: String,
    /// The dtype of the storage's elements as the checkpoint declares it.
    pub dtype: DType,
    /// Where the tensor's storage starts inside the keyed storage, in bytes:
    /// 0, except for the storage views of the legacy format.
    pub byte_offset: u64,
    /// Bytes in the storage (from `byte_offset`), as the pickle declares it.
    pub nbytes: u64,
}

/// Quantization parameters of a quantized tensor, as far as the pickle gives them.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantization {
    PerTensorAffine { scale: f64, zero_point: i64 },
    PerChannelAffine { scales: Vec<f64>, zero_points: Vec<i64>, axis: i64 },
}

/// A tensor of the checkpoint: what it is, and where its bytes are. No data is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<u64>,
    /// In elements, as torch gives them.
    pub strides: Vec<u64>,
    /// In elements from the start of the storage.
    pub storage_offset: u64,
    pub storage: StorageRef,
    pub requires_grad: bool,
    /// A `torch.nn.Parameter` (from `_rebuild_parameter`).
    pub parameter: bool,
    pub quantization: Option<Quantization>,
    /// torch's lazy conjugate bit (`_rebuild_tensor_v2`'s metadata
    /// `{"conj": True}`, a saved `x.conj()`): the tensor's values are the
    /// conjugates of the stored ones. Views and their readers give the stored values.
    pub conj: bool,
    /// torch's lazy negation bit (metadata `{"neg": True}`): the tensor's
    /// values are the negated stored ones. Views give the stored values.
    pub neg: bool,
}

/// The bytes of a tensor, borrowed from the memory map (or from a storage
/// decompressed on demand), with the tensor's layout.
#[derive(Clone, Debug)]
pub struct TensorView<'a> {
    pub dtype: DType,
    pub shape: Vec<u64>,
    pub strides: Vec<u64>,
    /// In elements from the start of `storage`.
    pub offset: u64,
    /// The whole storage, in the checkpoint's byte order.
    pub storage: &'a [u8],
    /// True when the checkpoint's byte order is big-endian.
    pub big_endian: bool,
}

/// An opened checkpoint: the file's bytes (memory-mapped, or handed
/// over), the decoded pickle, and where each storage is. Tensor data is
/// not read until asked for: opening reads the archive's directory and
/// the pickle(s) only.
pub struct Checkpoint {
    data: Backing,
    format: Format,
    byte_order: ByteOrder,
    graph: Graph<'static>,
    constants: Option<Graph<'static>>,
    tensors: Vec<Named>,
    /// Tensors of the main graph by their object.
    by_obj: HashMap<ObjId, usize>,
    storages: HashMap<String, Storage>,
    version: Option<String>,
}

struct Named {
    name: String,
    tensor: Tensor,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("format", &self.format)
            .field("byte_order", &self.byte_order)
            .field("tensors", &self.tensors.len())
            .field("storages", &self.storages.len())
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// Opens a checkpoint file of any format (told by its content, not its
    /// name), memory-mapping it.
    ///
    /// The file must not be changed while the checkpoint is open (the
    /// memory map would see the change).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Checkpoint> {
        let file = std::fs::File::open(path.as_ref())?;
        // Safety: the map is read-only; as for every memory-mapped reader,
        // the caller keeps the file unchanged while it is open.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Checkpoint::new(Backing::Map(map))
    }

    /// Opens a checkpoint held in memory.
    pub fn from_bytes(data: Vec<u8>) -> Result<Checkpoint> {
        Checkpoint::new(Backing::Owned(data))
    }

    fn new(data: Backing) -> Result<Checkpoint> {
        let opened = archive::open(data.bytes())?;
        let bytes = data.bytes();
        let order = opened.byte_order;
        let mut tensors = Vec::new();
        let mut by_obj = HashMap::new();
        let mut found = rebuild::find_tensors(&opened.graph)?;
        // Per-channel quantization parameters the pickle gives as tensors:
        // read now (a few values per channel), so that tensors are complete.
        let mut values = |t: &Tensor| view_in(bytes, &opened.storages, order, t, "")?.to_f64_vec();
        rebuild::fill_quantization(&opened.graph, &mut found, &mut values)?;
        for (name, value, tensor) in found {
            if let Value::Obj(id) = value {
                by_obj.entry(id).or_insert(tensors.len());
            }
            tensors.push(Named { name, tensor });
        }
        if let Some(constants) = &opened.constants {
            // TorchScript constants: their storages are `constants/<key>`.
            let mut found = rebuild::find_tensors(constants)?;
            for (_, _, t) in &mut found {
                t.storage.key = format!("constants/{}", t.storage.key);
            }
            rebuild::fill_quantization(constants, &mut found, &mut values)?;
            for (name, _, tensor) in found {
                tensors.push(Named { name: format!("constants.{name}"), tensor });
            }
        }
        Ok(Checkpoint {
            format: opened.format,
            byte_order: opened.byte_order,
            graph: opened.graph,
            constants: opened.constants,
            tensors,
            by_obj,
            storages: opened.storages,
            version: opened.version,
            data,
        })
    }

    /// The container the checkpoint came in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The byte order of the storages: the zip archive's `byteorder`
    /// record (little when absent); always little for the legacy and tar
    /// formats, which torch writes little-endian on every machine.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    /// The zip archive's `version` record, if it has one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The object graph of the checkpoint's main pickle (`data.pkl`).
    /// Tensors are records of `torch._utils._rebuild_tensor_v2` (and
    /// friends) over persistent ids. In the tar format, whose pickle names
    /// tensors by key, those ids are rewritten into the same records.
    pub fn graph(&self) -> &Graph<'static> {
        &self.graph
    }

    /// TorchScript's `constants.pkl`, whose tensors [`tensors`](Self::tensors)
    /// lists as `constants.<index>`.
    pub fn constants_graph(&self) -> Option<&Graph<'static>> {
        self.constants.as_ref()
    }

    /// Every tensor, in the order of the pickle, named by the keys that
    /// lead to it joined by `.` (list and tuple indices as numbers;
    /// attributes of objects by their names). A tensor reached twice is
    /// listed once, under its first name.
    pub fn tensors(&self) -> Vec<(String, &Tensor)> {
        self.tensors.iter().map(|n| (n.name.clone(), &n.tensor)).collect()
    }

    /// The tensor a value of [`graph`](Self::graph) stands for, if it is one.
    pub fn tensor(&self, value: Value) -> Option<&Tensor> {
        let id = value.obj()?;
        self.by_obj.get(&id).map(|&i| &self.tensors[i].tensor)
    }

    /// The keys of the checkpoint's storages, in no particular order.
    pub fn storage_keys(&self) -> impl Iterator<Item = &str> {
        self.storages.keys().map(String::as_str)
    }

    /// The bytes of a storage, by the key the pickle uses (`"0"`; TorchScript
    /// constants as `"constants/0"`), in the checkpoint's byte order.
    /// Borrowed from the file, except deflated zip entries, which are
    /// inflated on first use and kept.
    pub fn storage_bytes(&self, key: &str) -> Result<&[u8]> {
        let storage = self.storages.get(key).ok_or_else(|| Error::MissingStorage(key.to_owned()))?;
        storage.bytes(self.data.bytes())
    }

    /// The view of a tensor's bytes. Checks that the view stays inside its
    /// storage ([`Error::BadTensor`] when not) and that the storage is
    /// there ([`Error::MissingStorage`]).
    pub fn view(&self, tensor: &Tensor) -> Result<TensorView<'_>> {
        view_in(self.data.bytes(), &self.storages, self.byte_order, tensor, "").map_err(|e| match e {
            Error::BadTensor { problem, .. } => Error::BadTensor { name: self.name_of(tensor), problem },
            e => e,
        })
    }

    fn name_of(&self, tensor: &Tensor) -> String {
        self.tensors
            .iter()
            .find(|n| std::ptr::eq(&n.tensor, tensor))
            .map(|n| n.name.clone())
            .unwrap_or_else(|| format!("over storage {:?}", tensor.storage.key))
    }
}

/// The view of `tensor` over the storages of a checkpoint.
fn view_in<'a>(
    data: &'a [u8],
    storages: &'a HashMap<String, Storage>,
    order: ByteOrder,
    tensor: &Tensor,
    name: &str,
) -> Result<TensorView<'a>> {
    let key = &tensor.storage.key;
    let bytes = storages.get(key).ok_or_else(|| Error::MissingStorage(key.clone()))?.bytes(data)?;
    let extent = tensor.extent_bytes().map_err(|e| match e {
        Error::BadTensor { problem, .. } => Error::BadTensor { name: name.to_owned(), problem },
        e => e,
    })?;
    if extent > bytes.len() as u64 {
        return Err(Error::BadTensor {
            name: name.to_owned(),
            problem: format!("its view needs {extent} bytes of storage {key:?}, which has {}", bytes.len()),
        });
    }
    // extent > 0 covers byte_offset; an empty view may point anywhere.
    let start = usize::try_from(tensor.storage.byte_offset).unwrap_or(usize::MAX).min(bytes.len());
    Ok(TensorView {
        dtype: tensor.dtype,
        shape: tensor.shape.clone(),
        strides: tensor.strides.clone(),
        offset: tensor.storage_offset,
        storage: &bytes[start..],
        big_endian: order == ByteOrder::Big,
    })
}
