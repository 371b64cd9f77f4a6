//! Finding the tensors of a checkpoint's object graph.
//!
//! `torch.save` pickles a tensor as a call of one of torch's rebuild
//! functions over a persistent id that names its storage:
//!
//! - `torch._utils._rebuild_tensor(storage, storage_offset, size, stride)`
//! - `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
//!   (metadata: `{"conj": True}` / `{"neg": True}` for torch's lazy conjugate and negative views)
//! - `_rebuild_tensor_v3(..., requires_grad, backward_hooks, dtype[, metadata])`, over an
//!   untyped storage (float8, uint16/32/64)
//! - `_rebuild_parameter(data, requires_grad, backward_hooks)` and
//!   `_rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)`: `nn.Parameter`
//! - `torch._tensor._rebuild_from_type_v2(func, new_type, args, state)` (and `_rebuild_from_type`):
//!   a tensor subclass or a tensor with Python attributes; the tensor is `func(*args)`
//! - `_rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad,
//!   backward_hooks)`: quantized, per tensor `(qscheme, scale, zero_point)` or per channel
//!   `(qscheme, scales, zero_points, axis)` with the scales and zero points as tensors or lists
//! - `_rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad)` when `dtype`
//!   is the data's own.
//!
//! Storages are persistent ids: `('storage', storage_type, key, location, numel)` in the zip
//! format, `('storage', storage_type, root_key, location, numel, view_metadata)` in the legacy
//! one (view_metadata: None, or `(view_key, offset, view_size)` in elements). `storage_type`
//! is a typed storage class (`torch.FloatStorage`: `numel` in elements) or
//! `torch.UntypedStorage` (`numel` in bytes; the dtype from `_rebuild_tensor_v3`).
//!
//! Rebuild functions torch has for tensors without a storage of the
//! checkpoint (`_rebuild_meta_tensor_no_storage`, `_rebuild_device_tensor_from_numpy`,
//! sparse, nested and wrapper-subclass tensors) are [`Error::Unsupported`].
//!
//! ## Names
//!
//! A tensor is named by the path that first leads to it from the root,
//! its parts joined by `.`: dict keys (str as is, ints in decimal), list
//! and tuple indices as numbers, and for objects (records) their BUILD
//! state's attributes by name (a `(dict, slots)` state: both dicts), the
//! items appended to them by index, the items set on them by key, and the
//! arguments of their constructor by index. The attribute dicts of an
//! `nn.Module` (`_modules`, `_parameters`, `_buffers`) add no part, so
//! a whole pickled module names its tensors as its `state_dict()` does
//! (`fc1.weight`, not `_modules.fc1._parameters.weight`). A tensor at the
//! root has the empty name.
//!
//! The walk follows the pickle's order (depth first, containers' items in
//! order), visits every object once (so shared tensors are listed once,
//! under their first name, and cycles end), and stops with an error past
//! [`MAX_DEPTH`] levels of nesting.

use crate::{DType, Error, Quantization, Result, StorageRef, Tensor};
use pyckle::{Global, Graph, Object, Value};

/// How deep containers may nest before the walk gives up (torch checkpoints
/// nest a few levels; a pickle can nest millions).
pub(crate) const MAX_DEPTH: u32 = 10_000;

/// How deeply rebuild calls may wrap each other (a parameter of a subclass
/// of a tensor is three).
const MAX_REBUILD_NESTING: u32 = 16;

/// Attribute dicts of `nn.Module` that add no part to a name.
const MODULE_DICTS: [&str; 3] = ["_modules", "_parameters", "_buffers"];

/// What to make of a persistent id that is not a storage: the tar format's
/// pickle refers to its tensors by key. `Ok(None)`: not a tensor.
pub(crate) type PidTensor<'f> = dyn FnMut(&Graph<'_>, Value) -> Result<Option<Tensor>> + 'f;

/// Every tensor of the graph, in pickle order, with its name and the graph
/// value that stands for it.
pub(crate) fn find_tensors(graph: &Graph<'_>) -> Result<Vec<(String, Value, Tensor)>> {
    find_tensors_with(graph, &mut |_, _| Ok(None))
}

/// [`find_tensors`], asking `pid` about persistent ids that are not storages
/// (`pid` gets the persistent id's value).
pub(crate) fn find_tensors_with(graph: &Graph<'_>, pid: &mut PidTensor<'_>) -> Result<Vec<(String, Value, Tensor)>> {
    let mut names = Names::default();
    let mut visited = vec![false; graph.len()];
    let mut found = Vec::new();
    // (value, name node, depth)
    let mut stack: Vec<(Value, Option<u32>, u32)> = vec![(graph.root(), None, 0)];
    let mut children: Vec<(Value, Option<u32>)> = Vec::new();
    while let Some((v, node, depth)) = stack.pop() {
        let Some(id) = v.obj() else { continue };
        let Some(obj) = graph.try_get(id) else { continue };
        if std::mem::replace(&mut visited[id.index()], true) {
            continue;
        }
        if depth > MAX_DEPTH {
            return Err(Error::Unsupported(format!(
                "objects nested more than {MAX_DEPTH} levels deep (at {})",
                names.name(node)
            )));
        }
        children.clear();
        match obj {
            Object::Record(r) => {
                if let Some(callable) = rebuild_callable(graph, r.callable) {
                    let name = names.name(node);
                    let tensor = rebuild(graph, callable, r.args, &name, 0)?;
                    found.push((name, v, tensor));
                    continue;
                }
                if let Some(args) = graph.as_tuple(r.args) {
                    for (i, &a) in args.iter().enumerate() {
                        children.push((a, names.index(node, i)));
                    }
                }
                for (i, &a) in r.items.iter().enumerate() {
                    children.push((a, names.index(node, i)));
                }
                for &(k, a) in &r.dict_items {
                    children.push((a, names.key(graph, node, k)));
                }
                if let Some(state) = r.state {
                    match graph.object(state) {
                        Some(Object::Dict(_)) => attributes(graph, state, node, &mut names, &mut children),
                        Some(Object::Tuple(t)) if t.len() == 2 && t.iter().all(|&s| is_dict_or_none(graph, s)) => {
                            for &s in t {
                                attributes(graph, s, node, &mut names, &mut children);
                            }
                        }
                        _ => children.push((state, node)),
                    }
                }
            }
            Object::PersistentId(p) if !is_storage_pid(graph, *p) => {
                let name = names.name(node);
                if let Some(tensor) = pid(graph, *p)? {
                    found.push((name, v, tensor));
                }
            }
            Object::Dict(d) => {
                for &(k, a) in d.iter() {
                    children.push((a, names.key(graph, node, k)));
                }
            }
            Object::List(items) | Object::Tuple(items) => {
                for (i, &a) in items.iter().enumerate() {
                    children.push((a, names.index(node, i)));
                }
            }
            Object::Set(s) | Object::FrozenSet(s) => {
                for (i, &a) in s.iter().enumerate() {
                    children.push((a, names.index(node, i)));
                }
            }
            _ => {}
        }
        stack.extend(children.drain(..).rev().map(|(a, n)| (a, n, depth + 1)));
    }
    Ok(found)
}

fn is_dict_or_none(graph: &Graph<'_>, v: Value) -> bool {
    matches!(v, Value::None) || matches!(graph.object(v), Some(Object::Dict(_)))
}

/// The attributes of an object's state dict, with `nn.Module`'s attribute
/// dicts flattened into the object.
fn attributes(
    graph: &Graph<'_>,
    state: Value,
    node: Option<u32>,
    names: &mut Names,
    children: &mut Vec<(Value, Option<u32>)>,
) {
    let Some(Object::Dict(d)) = graph.object(state) else { return };
    for &(k, a) in d.iter() {
        let flatten = graph.as_str(k).is_some_and(|k| MODULE_DICTS.contains(&k))
            && matches!(graph.object(a), Some(Object::Dict(_)) | Some(Object::Record(_)));
        if flatten {
            children.push((a, node));
        } else {
            children.push((a, names.key(graph, node, k)));
        }
    }
}

/// Name parts as a tree: a node per part, its parent before it. A name is
/// spelled out only for a tensor, so deep nesting costs one node a level.
#[derive(Default)]
struct Names {
    nodes: Vec<(Option<u32>, String)>,
}

impl Names {
    fn add(&mut self, parent: Option<u32>, part: String) -> Option<u32> {
        let id = u32::try_from(self.nodes.len()).ok()?;
        self.nodes.push((parent, part));
        Some(id)
    }
    fn index(&mut self, parent: Option<u32>, i: usize) -> Option<u32> {
        self.add(parent, i.to_string())
    }
    fn key(&mut self, graph: &Graph<'_>, parent: Option<u32>, k: Value) -> Option<u32> {
        self.add(parent, key_part(graph, k))
    }
    fn name(&self, node: Option<u32>) -> String {
        let mut parts = Vec::new();
        let mut n = node;
        while let Some(i) = n {
            let (parent, part) = &self.nodes[i as usize];
            parts.push(part.as_str());
            n = *parent;
        }
        parts.reverse();
        parts.join(".")
    }
}

/// A dict key as a name part: str as is, ints in decimal, others as Python shows them.
fn key_part(graph: &Graph<'_>, k: Value) -> String {
    match k {
        Value::None => "None".into(),
        Value::Bool(b) => if b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Obj(_) => match graph.object(k) {
            Some(Object::Str(s)) => s.to_string_lossy().into_owned(),
            Some(Object::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(Object::Int(i)) => i.to_string(),
            Some(Object::Tuple(t)) => {
                let parts: Vec<String> = t.iter().map(|&x| scalar_part(graph, x)).collect();
                format!("({})", parts.join(", "))
            }
            Some(Object::Global(g)) => format!("{}.{}", g.module, g.name),
            Some(o) => format!("<{}>", o.type_name()),
            None => "<?>".into(),
        },
    }
}

/// A tuple key's item, without recursing further.
fn scalar_part(graph: &Graph<'_>, k: Value) -> String {
    match graph.object(k) {
        Some(Object::Tuple(_)) => "(...)".into(),
        _ => key_part(graph, k),
    }
}

/// The global of a record's callable when it is one of torch's tensor rebuild functions.
fn rebuild_callable<'g>(graph: &'g Graph<'_>, callable: Value) -> Option<&'g Global> {
    let g = graph.as_global(callable)?;
    let known = (g.module == "torch._utils" && g.name.starts_with("_rebuild_"))
        || (g.module == "torch._tensor" && g.name.starts_with("_rebuild_from_type"));
    known.then_some(g)
}

fn bad(name: &str, problem: impl Into<String>) -> Error {
    Error::BadTensor { name: name.to_string(), problem: problem.into() }
}

/// The rebuild call `callable(*args)` as a tensor.
fn rebuild(graph: &Graph<'_>, callable: &Global, args: Value, name: &str, nesting: u32) -> Result<Tensor> {
    if nesting > MAX_REBUILD_NESTING {
        return Err(bad(name, "rebuild calls nested too deeply"));
    }
    let fname = format!("{}.{}", callable.module, callable.name);
    let args = graph.as_tuple(args).ok_or_else(|| bad(name, format!("{fname}: arguments are not a tuple")))?;
    let arg = |i: usize| -> Result<Value> {
        args.get(i).copied().ok_or_else(|| bad(name, format!("{fname}: {} arguments, wants more", args.len())))
    };
    let inner = |v: Value| -> Result<Tensor> {
        let r = graph.as_record(v).ok_or_else(|| bad(name, format!("{fname}: the data is not a tensor")))?;
        let g = rebuild_callable(graph, r.callable)
            .ok_or_else(|| bad(name, format!("{fname}: the data is not a tensor")))?;
        rebuild(graph, g, r.args, name, nesting + 1)
    };
    match (callable.module.as_str(), callable.name.as_str()) {
        ("torch._utils", "_rebuild_tensor") => strided(graph, name, arg(0)?, arg(1)?, arg(2)?, arg(3)?, None),
        ("torch._utils", "_rebuild_tensor_v2") => {
            if args.len() > 7 {
                return Err(bad(name, format!("{fname}: {} arguments", args.len())));
            }
            let mut t = strided(graph, name, arg(0)?, arg(1)?, arg(2)?, arg(3)?, None)?;
            t.requires_grad = truth(graph, name, arg(4)?)?;
            if let Some(&m) = args.get(6) {
                metadata(graph, name, m, &mut t)?;
            }
            Ok(t)
        }
        ("torch._utils", "_rebuild_tensor_v3") => {
            if args.len() > 8 {
                return Err(bad(name, format!("{fname}: {} arguments", args.len())));
            }
            let dtype = dtype_arg(graph, name, arg(6)?)?;
            let mut t = strided(graph, name, arg(0)?, arg(1)?, arg(2)?, arg(3)?, Some(dtype))?;
            t.requires_grad = truth(graph, name, arg(4)?)?;
            if let Some(&m) = args.get(7) {
                metadata(graph, name, m, &mut t)?;
            }
            Ok(t)
        }
        ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
            let mut t = inner(arg(0)?)?;
            t.requires_grad = truth(graph, name, arg(1)?)?;
            t.parameter = true;
            Ok(t)
        }
        ("torch._tensor", "_rebuild_from_type_v2" | "_rebuild_from_type") => {
            let func = arg(0)?;
            let g = graph
                .as_global(func)
                .filter(|_| rebuild_callable(graph, func).is_some())
                .ok_or_else(|| bad(name, format!("{fname}: the tensor is not made by a torch rebuild function")))?;
            rebuild(graph, g, arg(2)?, name, nesting + 1)
        }
        ("torch._utils", "_rebuild_qtensor") => {
            let mut t = strided(graph, name, arg(0)?, arg(1)?, arg(2)?, arg(3)?, None)?;
            if !t.dtype.is_quantized() {
                return Err(bad(name, format!("{fname}: a storage of {}, not a quantized dtype", t.dtype)));
            }
            t.quantization = Some(quantization(graph, name, arg(4)?, nesting)?.0);
            t.requires_grad = truth(graph, name, arg(5)?)?;
            Ok(t)
        }
        ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor") => {
            let mut t = inner(arg(0)?)?;
            let dtype = dtype_arg(graph, name, arg(1)?)?;
            if dtype != t.dtype {
                return Err(Error::Unsupported(format!("tensor {name}: {fname} converting {} to {dtype}", t.dtype)));
            }
            t.requires_grad = truth(graph, name, arg(3)?)?;
            Ok(t)
        }
        (_, f) => {
            let what = match f {
                "_rebuild_meta_tensor_no_storage" => "a meta tensor, which has no data",
                "_rebuild_device_tensor_from_numpy" | "_rebuild_xla_tensor" => "a device tensor saved as a numpy array",
                "_rebuild_sparse_tensor" | "_rebuild_sparse_csr_tensor" => "a sparse tensor",
                "_rebuild_nested_tensor" => "a nested tensor",
                "_rebuild_wrapper_subclass" => "a wrapper subclass without data",
                "_rebuild_mkldnn_tensor" => "an mkldnn tensor",
                _ => "an unknown rebuild function",
            };
            Err(Error::Unsupported(format!("tensor {name}: {fname} ({what})")))
        }
    }
}

/// A plain strided tensor over a storage persistent id.
fn strided(
    graph: &Graph<'_>,
    name: &str,
    storage: Value,
    offset: Value,
    size: Value,
    stride: Value,
    dtype: Option<DType>,
) -> Result<Tensor> {
    let (storage, storage_dtype) = storage_ref(graph, name, storage)?;
    let storage_offset = uint(graph, name, offset, "storage offset")?;
    let shape = uints(graph, name, size, "size")?;
    let strides = uints(graph, name, stride, "stride")?;
    if shape.len() != strides.len() {
        return Err(bad(name, format!("{} sizes and {} strides", shape.len(), strides.len())));
    }
    let tensor = Tensor {
        dtype: dtype.unwrap_or(storage_dtype),
        shape,
        strides,
        storage_offset,
        storage,
        requires_grad: false,
        parameter: false,
        quantization: None,
        conj: false,
        neg: false,
    };
    let extent = tensor.extent_bytes().map_err(|_| bad(name, "the view's size overflows"))?;
    let have = tensor.storage.byte_offset.checked_add(tensor.storage.nbytes);
    if have.map_or(true, |have| extent > have) {
        return Err(bad(
            name,
            format!(
                "the view needs {extent} bytes of storage {:?}, which has {} from byte {}",
                tensor.storage.key, tensor.storage.nbytes, tensor.storage.byte_offset
            ),
        ));
    }
    Ok(tensor)
}

/// True for `('storage', ...)`.
fn is_storage_pid(graph: &Graph<'_>, pid: Value) -> bool {
    graph.as_tuple(pid).and_then(|t| t.first()).and_then(|&s| text(graph, s)).as_deref() == Some("storage")
}

/// Text of a str, or of bytes (Python 2's str in old legacy files).
fn text(graph: &Graph<'_>, v: Value) -> Option<String> {
    match graph.object(v)? {
        Object::Str(s) => Some(s.to_string_lossy().into_owned()),
        Object::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// The storage a persistent id names, and the dtype of its class (uint8 for untyped).
fn storage_ref(graph: &Graph<'_>, name: &str, storage: Value) -> Result<(StorageRef, DType)> {
    let pid = match graph.object(storage) {
        Some(Object::PersistentId(p)) => *p,
        _ => return Err(bad(name, "the storage is not a persistent id")),
    };
    let t = graph
        .as_tuple(pid)
        .filter(|t| matches!(t.len(), 5 | 6) && is_storage_pid(graph, pid))
        .ok_or_else(|| bad(name, "the storage's persistent id is not ('storage', type, key, location, numel)"))?;
    let class = graph.as_global(t[1]).ok_or_else(|| bad(name, "the storage type is not a class"))?;
    let (dtype, typed) = storage_class(class)
        .ok_or_else(|| Error::Unsupported(format!("tensor {name}: storage class {}.{}", class.module, class.name)))?;
    let key = match t[2] {
        Value::Int(i) => i.to_string(),
        k => text(graph, k).ok_or_else(|| bad(name, "the storage key is not a str"))?,
    };
    let location = text(graph, t[3]).unwrap_or_default();
    let numel = uint(graph, name, t[4], "storage size")?;
    let itemsize = if typed { dtype.itemsize() as u64 } else { 1 };
    let overflow = || bad(name, "the storage's size overflows");
    let mut byte_offset = 0;
    let mut nbytes = numel.checked_mul(itemsize).ok_or_else(overflow)?;
    if let Some(&view) = t.get(5) {
        if view != Value::None {
            let v = graph
                .as_tuple(view)
                .filter(|v| v.len() == 3)
                .ok_or_else(|| bad(name, "the storage view is not (key, offset, size)"))?;
            let offset = uint(graph, name, v[1], "storage view offset")?;
            let size = uint(graph, name, v[2], "storage view size")?;
            if offset.checked_add(size).map_or(true, |end| end > numel) {
                return Err(bad(
                    name,
                    format!("the storage view [{offset}, +{size}) is outside its storage of {numel}"),
                ));
            }
            byte_offset = offset.checked_mul(itemsize).ok_or_else(overflow)?;
            nbytes = size.checked_mul(itemsize).ok_or_else(overflow)?;
        }
    }
    let storage_dtype = if typed { dtype } else { DType::U8 };
    Ok((StorageRef { key, location, dtype: storage_dtype, byte_offset, nbytes }, dtype))
}

/// A storage class: its dtype, and whether it is typed (`UntypedStorage`: uint8, untyped).
fn storage_class(class: &Global) -> Option<(DType, bool)> {
    if !matches!(class.module.as_str(), "torch" | "torch.cuda" | "torch.storage") {
        return None;
    }
    if class.name == "UntypedStorage" {
        return Some((DType::U8, false));
    }
    DType::from_storage_class(&class.name).map(|d| (d, true))
}

fn dtype_arg(graph: &Graph<'_>, name: &str, v: Value) -> Result<DType> {
    let g = graph.as_global(v).ok_or_else(|| bad(name, "the dtype is not a torch dtype"))?;
    if g.module != "torch" {
        return Err(bad(name, format!("the dtype {}.{} is not a torch dtype", g.module, g.name)));
    }
    DType::from_torch_name(&g.name).ok_or_else(|| Error::Unsupported(format!("tensor {name}: dtype torch.{}", g.name)))
}

fn truth(graph: &Graph<'_>, name: &str, v: Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Int(i) => Ok(i != 0),
        Value::None => Ok(false),
        _ => Err(bad(name, format!("requires_grad is a {}", type_name(graph, v)))),
    }
}

fn type_name(graph: &Graph<'_>, v: Value) -> &'static str {
    match v {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::Obj(_) => graph.object(v).map_or("?", |o| o.type_name()),
    }
}

fn uint(graph: &Graph<'_>, name: &str, v: Value, what: &str) -> Result<u64> {
    match v {
        Value::Int(i) if i >= 0 => Ok(i as u64),
        Value::Int(i) => Err(bad(name, format!("{what} {i} is negative"))),
        Value::Bool(b) => Ok(b as u64),
        _ => Err(bad(name, format!("{what} is a {}, not an int", type_name(graph, v)))),
    }
}

/// A tuple (or list, or `torch.Size((...))`) of non-negative ints.
fn uints(graph: &Graph<'_>, name: &str, v: Value, what: &str) -> Result<Vec<u64>> {
    let items = match graph.object(v) {
        Some(Object::Tuple(t)) | Some(Object::List(t)) => t,
        Some(Object::Record(r)) if graph.as_global(r.callable).is_some_and(|g| g.is("torch", "Size")) => {
            match graph.as_tuple(r.args).and_then(|a| a.first()).and_then(|&a| graph.object(a)) {
                Some(Object::Tuple(t)) | Some(Object::List(t)) => t,
                _ => return Err(bad(name, format!("{what}: torch.Size without a tuple"))),
            }
        }
        _ => return Err(bad(name, format!("{what} is a {}, not a tuple", type_name(graph, v)))),
    };
    items.iter().map(|&i| uint(graph, name, i, what)).collect()
}

/// `_rebuild_tensor_v2`'s metadata: None, or a dict of `conj`/`neg` bits.
fn metadata(graph: &Graph<'_>, name: &str, m: Value, t: &mut Tensor) -> Result<()> {
    match graph.object(m) {
        None if matches!(m, Value::None) => Ok(()),
        Some(Object::Dict(d)) => {
            for &(k, v) in d.iter() {
                match graph.as_str(k) {
                    Some("conj") => t.conj = truth(graph, name, v)?,
                    Some("neg") => t.neg = truth(graph, name, v)?,
                    _ => {}
                }
            }
            Ok(())
        }
        // An OrderedDict record, or anything else torch would not write: no bits.
        _ => Ok(()),
    }
}

/// The tensors that hold a per-channel quantized tensor's scales and zero points.
pub(crate) struct ChannelTensors {
    pub scales: Tensor,
    pub zero_points: Tensor,
}

/// The quantizer parameters of `_rebuild_qtensor`; for per-channel ones
/// given as tensors, the scales and zero points are left empty and the
/// tensors that hold them come back beside.
fn quantization(
    graph: &Graph<'_>,
    name: &str,
    q: Value,
    nesting: u32,
) -> Result<(Quantization, Option<ChannelTensors>)> {
    let t = graph.as_tuple(q).ok_or_else(|| bad(name, "the quantizer parameters are not a tuple"))?;
    let scheme = t
        .first()
        .and_then(|&s| graph.as_global(s))
        .filter(|g| g.module == "torch")
        .ok_or_else(|| bad(name, "the quantizer parameters do not start with a torch qscheme"))?;
    let float = |v: Value, what: &str| -> Result<f64> {
        match v {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            _ => Err(bad(name, format!("{what} is a {}", type_name(graph, v)))),
        }
    };
    let int = |v: Value, what: &str| -> Result<i64> {
        match v {
            Value::Int(i) => Ok(i),
            Value::Float(f) if f.is_finite() => Ok(f.round() as i64),
            _ => Err(bad(name, format!("{what} is a {}", type_name(graph, v)))),
        }
    };
    match scheme.name.as_str() {
        "per_tensor_affine" | "per_tensor_symmetric" => {
            if t.len() != 3 {
                return Err(bad(name, "per-tensor quantizer parameters are not (qscheme, scale, zero_point)"));
            }
            Ok((
                Quantization::PerTensorAffine { scale: float(t[1], "scale")?, zero_point: int(t[2], "zero_point")? },
                None,
            ))
        }
        "per_channel_affine" | "per_channel_symmetric" | "per_channel_affine_float_qparams" => {
            if t.len() != 4 {
                return Err(bad(name, "per-channel quantizer parameters are not (qscheme, scales, zero_points, axis)"));
            }
            let axis = int(t[3], "axis")?;
            let list = |v: Value| -> Option<&[Value]> {
                match graph.object(v) {
                    Some(Object::List(l)) | Some(Object::Tuple(l)) => Some(l),
                    _ => None,
                }
            };
            if let (Some(s), Some(z)) = (list(t[1]), list(t[2])) {
                let scales = s.iter().map(|&v| float(v, "a scale")).collect::<Result<_>>()?;
                let zero_points = z.iter().map(|&v| int(v, "a zero point")).collect::<Result<_>>()?;
                return Ok((Quantization::PerChannelAffine { scales, zero_points, axis }, None));
            }
            let tensor = |v: Value, what: &str| -> Result<Tensor> {
                let r = graph.as_record(v);
                let g = r.and_then(|r| rebuild_callable(graph, r.callable));
                match (r, g) {
                    (Some(r), Some(g)) => rebuild(graph, g, r.args, name, nesting + 1),
                    _ => Err(bad(name, format!("the per-channel {what} are neither a list nor a tensor"))),
                }
            };
            let scales = tensor(t[1], "scales")?;
            let zero_points = tensor(t[2], "zero points")?;
            Ok((
                Quantization::PerChannelAffine { scales: Vec::new(), zero_points: Vec::new(), axis },
                Some(ChannelTensors { scales, zero_points }),
            ))
        }
        other => Err(Error::Unsupported(format!("tensor {name}: qscheme torch.{other}"))),
    }
}

/// The scale and zero-point tensors of a per-channel quantized tensor whose
/// graph value is `v` (as [`find_tensors`] gave it), when it has them.
pub(crate) fn channel_tensors(graph: &Graph<'_>, v: Value, name: &str) -> Result<Option<ChannelTensors>> {
    let Some(r) = graph.as_record(v) else { return Ok(None) };
    let Some(g) = rebuild_callable(graph, r.callable) else { return Ok(None) };
    channel_tensors_of_call(graph, g, r.args, name, 0)
}

fn channel_tensors_of_call(
    graph: &Graph<'_>,
    g: &Global,
    args: Value,
    name: &str,
    nesting: u32,
) -> Result<Option<ChannelTensors>> {
    if nesting > MAX_REBUILD_NESTING {
        return Ok(None);
    }
    let args = graph.as_tuple(args).unwrap_or(&[]);
    let (func, fargs) = match g.name.as_str() {
        "_rebuild_qtensor" => {
            let Some(&q) = args.get(4) else { return Ok(None) };
            return Ok(quantization(graph, name, q, nesting)?.1);
        }
        "_rebuild_parameter" | "_rebuild_parameter_with_state" | "_rebuild_device_tensor_from_cpu_tensor" => {
            let Some(r) = args.first().and_then(|&a| graph.as_record(a)) else { return Ok(None) };
            (r.callable, r.args)
        }
        "_rebuild_from_type_v2" | "_rebuild_from_type" => match (args.first(), args.get(2)) {
            (Some(&f), Some(&a)) => (f, a),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    match rebuild_callable(graph, func) {
        Some(fg) => channel_tensors_of_call(graph, fg, fargs, name, nesting + 1),
        None => Ok(None),
    }
}

/// Fills in the scales and zero points of per-channel quantized tensors
/// that the pickle gives as tensors, reading them with `values` (the
/// tensor's elements as f64, e.g. `|t| checkpoint.view(t)?.to_f64_vec()`).
pub(crate) fn fill_quantization(
    graph: &Graph<'_>,
    found: &mut [(String, Value, Tensor)],
    values: &mut dyn FnMut(&Tensor) -> Result<Vec<f64>>,
) -> Result<()> {
    for (name, v, t) in found.iter_mut() {
        let Some(Quantization::PerChannelAffine { scales, zero_points, .. }) = &mut t.quantization else {
            continue;
        };
        if !scales.is_empty() || !zero_points.is_empty() {
            continue;
        }
        let Some(c) = channel_tensors(graph, *v, name)? else { continue };
        *scales = values(&c.scales)?;
        *zero_points =
            values(&c.zero_points)?.into_iter().map(|z| if z.is_finite() { z.round() as i64 } else { 0 }).collect();
    }
    Ok(())
}

impl Tensor {
    /// The bytes from the start of the keyed storage (including the
    /// storage's `byte_offset`) that the tensor's view reaches: 0 for an
    /// empty tensor. [`Error::BadTensor`] when the sizes overflow.
    pub fn extent_bytes(&self) -> Result<u64> {
        let overflow = || bad("", "the view's size overflows u64");
        if self.shape.len() != self.strides.len() {
            return Err(bad("", format!("{} sizes and {} strides", self.shape.len(), self.strides.len())));
        }
        if self.shape.contains(&0) {
            return Ok(0);
        }
        let mut last = self.storage_offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = (d - 1).checked_mul(s).and_then(|x| last.checked_add(x)).ok_or_else(overflow)?;
        }
        last.checked_add(1)
            .and_then(|n| n.checked_mul(self.dtype.itemsize() as u64))
            .and_then(|b| b.checked_add(self.storage.byte_offset))
            .ok_or_else(overflow)
    }

    /// The number of elements (product of the shape), or `None` when it overflows.
    pub fn numel(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d))
    }
}

#[cfg(test)]
mod pyckle_torch_under_test {
    pub use crate::*;
}
#[cfg(test)]
#[path = "../tests/expected/mod.rs"]
mod expected;

#[cfg(test)]
mod tests {
    //! find_tensors over the zip fixtures' pickles, with the storages read
    //! straight from the archive (the integration test tests/tensors.rs
    //! goes through `Checkpoint`).
    use super::expected;
    use super::*;
    use crate::TensorView;
    use std::io::Read;

    #[test]
    fn zip_fixtures_tensor_by_tensor() {
        let mut files = 0;
        let mut tensors = 0;
        for (file, want) in expected::expected() {
            // (zip_badcrc.pt: the zip crate refuses its CRC; the container's reader does not.)
            if !(want["format"] == "zip" || want["format"] == "torchscript") || file == "zip_badcrc.pt" {
                continue;
            }
            let data = std::fs::read(expected::fixtures().join(&file)).unwrap();
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&data)).unwrap();
            let names: Vec<String> = zip.file_names().map(String::from).collect();
            let pkl = names.iter().find(|n| n.ends_with("/data.pkl")).unwrap().clone();
            let prefix = pkl.trim_end_matches("data.pkl").to_string();
            let mut read = |name: &str| -> Option<Vec<u8>> {
                let mut f = zip.by_name(&format!("{prefix}{name}")).ok()?;
                let mut out = Vec::new();
                f.read_to_end(&mut out).ok()?;
                Some(out)
            };
            let big_endian = read("byteorder").as_deref() == Some(b"big");
            let pickle = read("data.pkl").unwrap();
            let graph = pyckle::loads(&pickle).unwrap();
            let mut found = find_tensors(&graph).unwrap();
            let mut values = |t: &Tensor| -> Result<Vec<f64>> {
                let storage = read(&format!("data/{}", t.storage.key)).unwrap();
                view_of(t, &storage, big_endian).to_f64_vec()
            };
            fill_quantization(&graph, &mut found, &mut values).unwrap();
            let want_format = want["format"].as_str().unwrap().to_string();
            let want = want["tensors"].as_array().unwrap();
            let got: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
            let wanted: Vec<&str> = want.iter().map(|w| w["name"].as_str().unwrap()).collect();
            assert_eq!(got, wanted, "{file}: names");
            for ((name, _, t), w) in found.iter().zip(want) {
                // TorchScript's expected values come from a state_dict (detached).
                expected::check_meta(&file, name, t, w, want_format != "torchscript");
                assert!(t.extent_bytes().unwrap() <= t.storage.nbytes, "{file}: {name}");
                let storage = read(&format!("data/{}", t.storage.key)).unwrap();
                assert_eq!(storage.len() as u64, t.storage.nbytes, "{file}: {name}: storage size");
                expected::check_values(&format!("{file}: {name}"), &view_of(t, &storage, big_endian), w);
                tensors += 1;
            }
            files += 1;
        }
        assert!(files >= 13 && tensors >= 100, "{files} files, {tensors} tensors");
    }

    /// The view of `t` over its whole storage read from the zip.
    fn view_of<'a>(t: &Tensor, storage: &'a [u8], big_endian: bool) -> TensorView<'a> {
        TensorView {
            dtype: t.dtype,
            shape: t.shape.clone(),
            strides: t.strides.clone(),
            offset: t.storage_offset,
            storage,
            big_endian,
        }
    }

    /// data.pkl of `torch.save({"c": x.conj(), "n": torch._neg_view(y), "u": uint16 tensor})`
    /// (torch 2.15): metadata bits and an untyped storage of 4 bytes.
    const CONJ_NEG_U16: &[u8] = b"\x80\x02}q\x00(X\x01\x00\x00\x00cq\x01ctorch._utils\x0a_rebuild_tensor_v2\x0aq\x02((X\x07\x00\x00\x00storageq\x03ctorch\x0aComplexFloatStorage\x0aq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06K\x02tq\x07QK\x00K\x02\x85q\x08K\x01\x85q\x09\x89ccollections\x0aOrderedDict\x0aq\x0a)Rq\x0b}q\x0cX\x04\x00\x00\x00conjq\x0d\x88stq\x0eRq\x0fX\x01\x00\x00\x00nq\x10h\x02((h\x03ctorch\x0aFloatStorage\x0aq\x11X\x01\x00\x00\x001q\x12h\x06K\x02tq\x13QK\x00K\x02\x85q\x14K\x01\x85q\x15\x89h\x0a)Rq\x16}q\x17X\x03\x00\x00\x00negq\x18\x88stq\x19Rq\x1aX\x01\x00\x00\x00uq\x1bctorch._utils\x0a_rebuild_tensor_v3\x0aq\x1c((h\x03ctorch.storage\x0aUntypedStorage\x0aq\x1dX\x01\x00\x00\x002q\x1eh\x06K\x04tq\x1fQK\x00K\x02\x85q K\x01\x85q!\x89h\x0a)Rq\x22ctorch\x0auint16\x0aq#tq$Rq%u.";

    #[test]
    fn conj_and_neg_bits_and_untyped_storages() {
        let graph = pyckle::loads(CONJ_NEG_U16).unwrap();
        let found = find_tensors(&graph).unwrap();
        let names: Vec<&str> = found.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["c", "n", "u"]);
        let (c, n, u) = (&found[0].2, &found[1].2, &found[2].2);
        assert!(c.conj && !c.neg && c.dtype == DType::C64);
        assert!(n.neg && !n.conj && n.dtype == DType::F32);
        assert!(!u.conj && !u.neg);
        assert_eq!(u.dtype, DType::U16);
        assert_eq!(u.storage.dtype, DType::U8, "an untyped storage");
        assert_eq!(u.storage.nbytes, 4, "numel of an untyped storage is in bytes");
        assert_eq!(u.extent_bytes().unwrap(), 4);
        assert_eq!(c.storage.nbytes, 16);
    }

    /// Lists nested `depth` deep around a tensor record copied from a fixture.
    fn nested(depth: usize) -> pyckle::Graph<'static> {
        let data = std::fs::read(expected::fixtures().join("zip_list.pt")).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
        let mut pkl = Vec::new();
        zip.by_name("zip_list/data.pkl").unwrap().read_to_end(&mut pkl).unwrap();
        let mut graph = pyckle::loads(&pkl).unwrap().into_owned();
        let mut v = graph.root();
        for _ in 0..depth {
            v = graph.add(Object::List(vec![v]));
        }
        graph.set_root(v);
        graph
    }

    #[test]
    fn deep_nesting_is_bounded_and_cycles_end() {
        let found = find_tensors(&nested(100)).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, format!("{}0", "0.".repeat(100)));
        let e = find_tensors(&nested(200_000)).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)) && e.to_string().contains("nested"), "{e}");
        // A list that holds itself and a tensor: the tensor once.
        let mut graph = nested(1);
        let root = graph.root();
        let me = graph.add(Object::List(vec![root]));
        if let Object::List(items) = graph.get_mut(me.obj().unwrap()) {
            items.push(me);
        }
        graph.set_root(me);
        let found = find_tensors(&graph).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].0, "0.0.0");
    }

    #[test]
    fn module_dicts_add_no_name_part() {
        // zip_module.pt: TinyNet with _modules/_parameters/_buffers.
        let data = std::fs::read(expected::fixtures().join("zip_module.pt")).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
        let mut pkl = Vec::new();
        zip.by_name("zip_module/data.pkl").unwrap().read_to_end(&mut pkl).unwrap();
        let graph = pyckle::loads(&pkl).unwrap();
        let names: Vec<String> = find_tensors(&graph).unwrap().into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(names, ["running", "fc1.weight", "fc1.bias", "fc2.weight"]);
    }

    #[test]
    fn mutated_pickles_never_panic() {
        // Every fixture's data.pkl with bytes changed: errors or tensors, never a panic.
        let mut seed = 1u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut decoded = 0;
        for (file, want) in expected::expected() {
            if want["format"] != "zip" || file == "zip_badcrc.pt" {
                continue;
            }
            let data = std::fs::read(expected::fixtures().join(&file)).unwrap();
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
            let name = zip.file_names().find(|n| n.ends_with("/data.pkl")).unwrap().to_string();
            let mut pkl = Vec::new();
            zip.by_name(&name).unwrap().read_to_end(&mut pkl).unwrap();
            for _ in 0..300 {
                let mut m = pkl.clone();
                for _ in 0..1 + rnd() % 3 {
                    let at = rnd() % m.len();
                    m[at] = match rnd() % 4 {
                        0 => rnd() as u8,
                        1 => m[at].wrapping_add(1),
                        2 => b'K',
                        _ => 0xff,
                    };
                }
                if let Ok(graph) = pyckle::loads(&m) {
                    decoded += 1;
                    if let Ok(mut found) = find_tensors(&graph) {
                        for (_, _, t) in &found {
                            let _ = t.extent_bytes();
                        }
                        let _ = fill_quantization(&graph, &mut found, &mut |_| Ok(vec![1.0, 2.0]));
                    }
                }
            }
        }
        assert!(decoded > 500, "{decoded} mutated pickles decoded");
    }

    /// The legacy stream's main pickle: after the magic number, protocol
    /// version and sys info pickles.
    fn legacy_pickle(data: &[u8]) -> pyckle::Graph<'_> {
        let mut rest = data;
        for _ in 0..3 {
            rest = pyckle::Unpickler::new(Default::default()).loads_prefix(rest).unwrap().1;
        }
        pyckle::Unpickler::new(Default::default()).loads_prefix(rest).unwrap().0
    }

    #[test]
    fn legacy_fixtures_names_and_layouts() {
        let mut files = 0;
        for (file, want) in expected::expected() {
            if want["format"] != "legacy" {
                continue;
            }
            let data = std::fs::read(expected::fixtures().join(&file)).unwrap();
            let graph = legacy_pickle(&data);
            let found = find_tensors(&graph).unwrap();
            let want = want["tensors"].as_array().unwrap();
            assert_eq!(found.len(), want.len(), "{file}");
            for ((name, _, t), w) in found.iter().zip(want) {
                expected::check_meta(&file, name, t, w, true);
                assert!(t.storage.key.parse::<u64>().is_ok(), "{file}: {name}: key {:?}", t.storage.key);
                assert_eq!(t.storage.location, "cpu");
                assert!(t.extent_bytes().unwrap() <= t.storage.byte_offset + t.storage.nbytes);
            }
            files += 1;
        }
        assert_eq!(files, 4);
    }
}
