//! The oldest format (torch before 0.4?): a tar archive of four members,
//! read the way `torch.serialization._legacy_load` reads them:
//!
//! - `sys_info`: a pickle of the sys info dict;
//! - `storages`: a pickle of the storage count, then per storage a pickle
//!   of `(key, location, storage_type)` followed by the element count
//!   (8 bytes, little-endian) and the raw bytes; then a pickle of the list
//!   of storage views `(view_key, root_key, offset, numel)`;
//! - `tensors`: a pickle of the tensor count, then per tensor a pickle of
//!   `(key, storage_key, tensor_type)` followed by ndim (4 bytes, plus 4
//!   unused), the sizes and strides (8 bytes each) and the storage offset
//!   (8 bytes), all little-endian;
//! - `pickle`: the object pickle, whose persistent ids are the keys of
//!   tensors and storages (`str` of an int).
//!
//! The tar headers are parsed here (512-byte blocks, ustar/GNU/pax). The
//! graph is then made to look like the other formats: each persistent id
//! of a tensor becomes a `torch._utils._rebuild_tensor_v2` record over a
//! storage persistent id of the legacy stream's shape
//! `('storage', storage_type, root_key, location, numel, view_metadata)`,
//! so that tensors are found the same way in every format.

use super::{decode, decode_prefix, key_string, slice, storage_class, storage_itemsize, Opened, Storage};
use crate::{ByteOrder, Error, Format, Result};
use pyckle::{Global, Graph, Object, PyStr, Record, RecordKind, Value};
use std::collections::HashMap;

fn bad(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("tar: {}", msg.into()))
}

/// True when the first 512 bytes are a tar header with a valid checksum.
pub(crate) fn looks_like_tar(data: &[u8]) -> bool {
    data.len() >= 512 && data[0] != 0 && checksum_ok(&data[..512])
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(want) = octal(&h[148..156]) else { return false };
    let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
    sum == want
}

/// A tar number: octal digits (space or NUL padded), or GNU base-256.
fn octal(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(f[0] & 0x7F);
        for &b in &f[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let s = f.iter().skip_while(|&&b| b == b' ' || b == 0);
    let mut v: u64 = 0;
    let mut any = false;
    for &b in s {
        match b {
            b'0'..=b'7' => {
                v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
                any = true;
            }
            b' ' | 0 => break,
            _ => return None,
        }
    }
    any.then_some(v)
}

fn cstr(f: &[u8]) -> &[u8] {
    &f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())]
}

/// The regular files of the archive: name → (offset, size).
fn members(data: &[u8]) -> Result<HashMap<String, (u64, u64)>> {
    let mut out = HashMap::new();
    let mut at = 0u64;
    let mut long_name: Option<String> = None;
    while let Ok(h) = slice(data, at, 512) {
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(h) {
            return Err(bad(format!("bad header checksum at offset {at}")));
        }
        let size = octal(&h[124..136]).ok_or_else(|| bad(format!("bad member size at offset {at}")))?;
        let body = at + 512;
        let body_bytes =
            slice(data, body, size).map_err(|_| bad(format!("member at offset {at} ({size} bytes) is cut short")))?;
        let mut name = String::from_utf8_lossy(cstr(&h[0..100])).into_owned();
        if &h[257..262] == b"ustar" && h[345] != 0 {
            name = format!("{}/{}", String::from_utf8_lossy(cstr(&h[345..500])), name);
        }
        match h[156] {
            b'x' => long_name = pax_path(body_bytes),
            b'L' => long_name = Some(String::from_utf8_lossy(cstr(body_bytes)).into_owned()),
            b'0' | 0 | b'7' => {
                let name = long_name.take().unwrap_or(name);
                out.entry(name).or_insert((body, size));
            }
            _ => long_name = None,
        }
        // body + size rounded up to a block; body + size is in the file.
        at = (body + size).div_ceil(512).saturating_mul(512);
    }
    Ok(out)
}

/// The `path` of a pax extended header (`"<len> path=<name>\n"` records).
fn pax_path(mut b: &[u8]) -> Option<String> {
    let mut path = None;
    while !b.is_empty() {
        let sp = b.iter().position(|&c| c == b' ')?;
        let len: usize = std::str::from_utf8(&b[..sp]).ok()?.parse().ok()?;
        let rec = b.get(sp + 1..len)?;
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(p) = rec.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(p).into_owned());
        }
        b = &b[len..];
    }
    path
}

/// Reads an int pickle.
fn int_of(g: &Graph<'_>, what: &str) -> Result<u64> {
    match g.root() {
        Value::Int(n) if n >= 0 => Ok(n as u64),
        _ => Err(bad(format!("{what} is not a count"))),
    }
}

fn norm_key(g: &Graph<'_>, v: Value) -> Option<String> {
    let s = key_string(g, v)?;
    Some(match s.parse::<i64>() {
        Ok(i) => i.to_string(),
        Err(_) => s,
    })
}

struct RootStorage {
    class: String,
    module: String,
    location: String,
    numel: i64,
}

struct TarTensor {
    storage: String,
    sizes: Vec<i64>,
    strides: Vec<i64>,
    offset: i64,
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Opens a tar checkpoint.
pub(crate) fn open(data: &[u8]) -> Result<Opened> {
    let members = members(data)?;
    let member = |name: &str| {
        members
            .get(name)
            .map(|&(start, len)| (start, len))
            .ok_or_else(|| bad(format!("no {name:?} member: not a torch tar checkpoint")))
    };

    // storages
    let (st_start, st_len) = member("storages")?;
    let st = slice(data, st_start, st_len)?;
    let (g, mut rest) = decode_prefix(st, "tar storages: count")?;
    let n = int_of(&g, "the storage count")?;
    let mut roots: HashMap<String, RootStorage> = HashMap::new();
    let mut storages = HashMap::new();
    for i in 0..n {
        let (g, r) = decode_prefix(rest, "tar storages: storage header")?;
        let t = g.as_tuple(g.root()).filter(|t| t.len() == 3);
        let t = t.ok_or_else(|| bad(format!("storage {i}: header is not (key, location, type)")))?;
        let key = norm_key(&g, t[0]).ok_or_else(|| bad(format!("storage {i}: bad key")))?;
        let location = super::text(&g, t[1]).unwrap_or("cpu").to_owned();
        let class =
            storage_class(&g, t[2]).ok_or_else(|| bad(format!("storage {key}: type is not a torch storage class")))?;
        let itemsize = storage_itemsize(class)
            .ok_or_else(|| Error::Unsupported(format!("storage {key}: storage class {class}")))?;
        let module = g.as_global(t[2]).map(|g| g.module.clone()).unwrap_or_default();
        let count = r.get(..8).ok_or_else(|| bad(format!("storage {key}: cut short before its element count")))?;
        let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
        let len = count
            .checked_mul(itemsize)
            .ok_or_else(|| bad(format!("storage {key}: {count} elements of {itemsize} bytes overflow")))?;
        let body = r.get(8..).unwrap_or(&[]);
        if len > body.len() as u64 {
            return Err(bad(format!("storage {key}: {len} bytes, but only {} left in the member", body.len())));
        }
        let start = st_start + (st.len() - body.len()) as u64;
        storages.insert(key.clone(), Storage::Range { start, len });
        let numel = i64::try_from(count).map_err(|_| bad(format!("storage {key}: count too large")))?;
        roots.insert(key, RootStorage { class: class.to_owned(), module, location, numel });
        rest = &body[len as usize..];
    }
    let (g, rest_after) = decode_prefix(rest, "tar storages: views")?;
    let _ = rest_after;
    // view key → (root key, offset, numel)
    let mut views: HashMap<String, (String, Value, Value)> = HashMap::new();
    if let Some(Object::List(v)) | Some(Object::Tuple(v)) = g.object(g.root()) {
        for &item in v {
            let t = g.as_tuple(item).filter(|t| t.len() == 4).ok_or_else(|| bad("a storage view is not a 4-tuple"))?;
            let view = norm_key(&g, t[0]).ok_or_else(|| bad("bad storage view key"))?;
            let root = norm_key(&g, t[1]).ok_or_else(|| bad("bad storage view root"))?;
            if !matches!((t[2], t[3]), (Value::Int(_), Value::Int(_))) {
                return Err(bad(format!("storage view {view}: offset and size are not ints")));
            }
            views.insert(view, (root, t[2], t[3]));
        }
    }

    // tensors
    let (tn_start, tn_len) = member("tensors")?;
    let tn = slice(data, tn_start, tn_len)?;
    let (g, mut rest) = decode_prefix(tn, "tar tensors: count")?;
    let n = int_of(&g, "the tensor count")?;
    let mut tensors: HashMap<String, TarTensor> = HashMap::new();
    for i in 0..n {
        let (g, r) = decode_prefix(rest, "tar tensors: tensor header")?;
        let t = g.as_tuple(g.root()).filter(|t| t.len() == 3);
        let t = t.ok_or_else(|| bad(format!("tensor {i}: header is not (key, storage, type)")))?;
        let key = norm_key(&g, t[0]).ok_or_else(|| bad(format!("tensor {i}: bad key")))?;
        let storage = norm_key(&g, t[1]).ok_or_else(|| bad(format!("tensor {key}: no storage")))?;
        let ndim = r.get(..4).ok_or_else(|| bad(format!("tensor {key}: cut short before ndim")))?;
        let ndim = i32::from_le_bytes(ndim.try_into().expect("4 bytes"));
        let ndim = usize::try_from(ndim).map_err(|_| bad(format!("tensor {key}: ndim {ndim}")))?;
        let need = ndim.checked_mul(16).and_then(|x| x.checked_add(16));
        let meta = need
            .and_then(|need| r.get(..need))
            .ok_or_else(|| bad(format!("tensor {key}: metadata of {ndim} dimensions cut short")))?;
        let sizes = (0..ndim).map(|d| le_i64(meta, 8 + 8 * d)).collect();
        let strides = (0..ndim).map(|d| le_i64(meta, 8 + 8 * ndim + 8 * d)).collect();
        let offset = le_i64(meta, 8 + 16 * ndim);
        tensors.insert(key, TarTensor { storage, sizes, strides, offset });
        rest = &r[meta.len()..];
    }

    // the object pickle
    let (pk_start, pk_len) = member("pickle")?;
    let mut graph = decode(slice(data, pk_start, pk_len)?, "tar pickle")?;
    normalize(&mut graph, &roots, &views, &tensors)?;
    Ok(Opened { format: Format::Tar, byte_order: ByteOrder::Little, graph, constants: None, storages, version: None })
}

/// Rewrites the tar pickle's persistent ids into the shapes of the other
/// formats (see the module docs).
fn normalize(
    graph: &mut Graph<'static>,
    roots: &HashMap<String, RootStorage>,
    views: &HashMap<String, (String, Value, Value)>,
    tensors: &HashMap<String, TarTensor>,
) -> Result<()> {
    let pids: Vec<(pyckle::ObjId, Value)> = graph
        .objects()
        .filter_map(|(id, o)| match o {
            Object::PersistentId(v) => Some((id, *v)),
            _ => None,
        })
        .collect();
    // Python's pickler does not memoize persistent ids: a tensor saved
    // twice is two ids with one key. torch makes them one object; so do we.
    let mut first: HashMap<String, pyckle::ObjId> = HashMap::new();
    let mut canon: HashMap<pyckle::ObjId, pyckle::ObjId> = HashMap::new();
    for (id, pid) in pids {
        if graph.as_tuple(pid).is_none() {
            if let Some(key) = norm_key(graph, pid) {
                if tensors.contains_key(&key) || roots.contains_key(&key) || views.contains_key(&key) {
                    match first.get(&key) {
                        Some(&f) => {
                            canon.insert(id, f);
                            continue;
                        }
                        None => {
                            first.insert(key, id);
                        }
                    }
                }
            }
        }
        // A module class with its source: torch returns the class.
        if let Some(t) = graph.as_tuple(pid) {
            if let Some(class) = t.first().and_then(|&c| graph.object(c)).cloned() {
                if matches!(class, Object::Global(_)) {
                    *graph.get_mut(id) = class;
                }
            }
            continue;
        }
        let Some(key) = norm_key(graph, pid) else { continue };
        if let Some(t) = tensors.get(&key) {
            let storage = storage_pid(graph, &t.storage, roots, views)?;
            let size = int_tuple(graph, &t.sizes);
            let stride = int_tuple(graph, &t.strides);
            let hooks_class = graph.add(Object::Global(Box::new(Global::new("collections", "OrderedDict"))));
            let empty = graph.add(Object::Tuple(Vec::new()));
            let hooks = graph.add(record(hooks_class, empty));
            let callable = graph.add(Object::Global(Box::new(Global::new("torch._utils", "_rebuild_tensor_v2"))));
            let args =
                graph.add(Object::Tuple(vec![storage, Value::Int(t.offset), size, stride, Value::Bool(false), hooks]));
            *graph.get_mut(id) = record(callable, args);
        } else if roots.contains_key(&key) || views.contains_key(&key) {
            let storage = storage_pid(graph, &key, roots, views)?;
            let inner = match graph.object(storage) {
                Some(Object::PersistentId(v)) => *v,
                _ => continue,
            };
            *graph.get_mut(id) = Object::PersistentId(inner);
        }
        // Other ids are left as they are: no tensor stands behind them.
    }
    if !canon.is_empty() {
        share(graph, &canon)?;
    }
    Ok(())
}

/// Points every reference to a duplicate at its first object.
fn share(graph: &mut Graph<'static>, canon: &HashMap<pyckle::ObjId, pyckle::ObjId>) -> Result<()> {
    let map = |v: &mut Value| {
        if let Value::Obj(id) = *v {
            if let Some(&c) = canon.get(&id) {
                *v = Value::Obj(c);
            }
        }
    };
    let ids: Vec<pyckle::ObjId> = graph.objects().map(|(id, _)| id).collect();
    for id in ids {
        match graph.get_mut(id) {
            Object::List(v) | Object::Tuple(v) => v.iter_mut().for_each(map),
            Object::Record(r) => {
                map(&mut r.callable);
                map(&mut r.args);
                r.kwargs.iter_mut().for_each(map);
                r.state.iter_mut().for_each(map);
                r.items.iter_mut().for_each(map);
                for (k, v) in &mut r.dict_items {
                    map(k);
                    map(v);
                }
            }
            Object::PersistentId(v) => map(v),
            Object::Dict(d) => {
                let touched =
                    d.iter().any(|(k, v)| [k, v].iter().any(|x| x.obj().is_some_and(|i| canon.contains_key(&i))));
                if touched {
                    let old = std::mem::replace(graph.get_mut(id), Object::Tuple(Vec::new()));
                    let Object::Dict(old) = old else { unreachable!() };
                    let mut new = pyckle::graph::Dict::new();
                    for &(mut k, mut v) in old.iter() {
                        map(&mut k);
                        map(&mut v);
                        new.insert(graph, k, v).map_err(|e| bad(format!("pickle: {e}")))?;
                    }
                    *graph.get_mut(id) = Object::Dict(new);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn record(callable: Value, args: Value) -> Object<'static> {
    Object::Record(Box::new(Record {
        kind: RecordKind::Reduce,
        callable,
        args,
        kwargs: None,
        state: None,
        items: Vec::new(),
        dict_items: Vec::new(),
    }))
}

fn int_tuple(graph: &mut Graph<'static>, v: &[i64]) -> Value {
    graph.add(Object::Tuple(v.iter().map(|&x| Value::Int(x)).collect()))
}

fn str_value(graph: &mut Graph<'static>, s: &str) -> Value {
    graph.add(Object::Str(PyStr::new(s.to_owned())))
}

/// A new persistent id object `('storage', type, root_key, location, numel, view_metadata)`.
fn storage_pid(
    graph: &mut Graph<'static>,
    key: &str,
    roots: &HashMap<String, RootStorage>,
    views: &HashMap<String, (String, Value, Value)>,
) -> Result<Value> {
    let (root_key, view) = match views.get(key) {
        Some((root, offset, numel)) => (root.as_str(), Some((*offset, *numel))),
        None => (key, None),
    };
    let root = roots.get(root_key).ok_or_else(|| Error::MissingStorage(root_key.to_owned()))?;
    let tag = str_value(graph, "storage");
    let class = graph.add(Object::Global(Box::new(Global::new(root.module.clone(), root.class.clone()))));
    let root_key_v = str_value(graph, root_key);
    let location = str_value(graph, &root.location);
    let view_meta = match view {
        Some((offset, numel)) => {
            let k = str_value(graph, key);
            graph.add(Object::Tuple(vec![k, offset, numel]))
        }
        None => Value::None,
    };
    let t = graph.add(Object::Tuple(vec![tag, class, root_key_v, location, Value::Int(root.numel), view_meta]));
    Ok(graph.add(Object::PersistentId(t)))
}
