//! The legacy stream of torch before 1.6 (`_use_new_zipfile_serialization=False`):
//!
//! 1. a pickle of the magic number `0x1950a86a20f9469cfc6c`,
//! 2. a pickle of the protocol version, 1001,
//! 3. a pickle of the sys info dict (`little_endian`, type sizes),
//! 4. the main pickle, whose persistent ids are
//!    `('storage', storage_type, root_key, location, numel, view_metadata)`,
//! 5. a pickle of the list of storage keys,
//! 6. for each key in that order: the element count (8 bytes, little-endian)
//!    and count × itemsize raw bytes, the itemsize being that of the
//!    storage type the first persistent id of the key names.
//!
//! Storages are always written little-endian (torch converts on a
//! big-endian machine and ignores `little_endian` when loading). Opening
//! reads the pickles and the 8-byte counts, and nothing of the data.

use super::{decode_prefix, key_string, storage_class, storage_itemsize, text, Opened, Storage};
use crate::{ByteOrder, Error, Format, Result};
use pyckle::{Graph, Object};
use std::collections::HashMap;

/// `0x1950a86a20f9469cfc6c` in decimal.
const MAGIC: &str = "119547037146038801333356";
const PROTOCOL_VERSION: i64 = 1001;

fn bad(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("legacy stream: {}", msg.into()))
}

/// Opens a legacy stream.
pub(crate) fn open(data: &[u8]) -> Result<Opened> {
    let (magic, rest) = decode_prefix(data, "legacy stream: magic number")?;
    match magic.object(magic.root()) {
        Some(Object::Int(i)) if i.to_string() == MAGIC => {}
        _ => {
            return Err(Error::Malformed(
                "not a torch checkpoint: a pickle, but not torch's legacy magic number".into(),
            ))
        }
    }
    let (version, rest) = decode_prefix(rest, "legacy stream: protocol version")?;
    if version.root() != pyckle::Value::Int(PROTOCOL_VERSION) {
        return Err(bad("protocol version is not 1001"));
    }
    let (_sys_info, rest) = decode_prefix(rest, "legacy stream: sys info")?;
    let (graph, rest) = decode_prefix(rest, "legacy stream: main pickle")?;
    let graph = graph.into_owned();
    let (keys, rest) = decode_prefix(rest, "legacy stream: storage keys")?;
    let key_list = match keys.object(keys.root()) {
        Some(Object::List(v)) | Some(Object::Tuple(v)) => v,
        _ => return Err(bad("the storage keys are not a list")),
    };
    let itemsizes = itemsizes(&graph)?;
    let mut at = (data.len() - rest.len()) as u64;
    let mut storages = HashMap::new();
    for &k in key_list {
        let key = key_string(&keys, k).ok_or_else(|| bad("a storage key is not a string"))?;
        let itemsize = *itemsizes
            .get(&key)
            .ok_or_else(|| bad(format!("storage {key:?} is listed but no tensor of the pickle uses it")))?;
        let count = super::slice(data, at, 8)
            .map_err(|_| bad(format!("cut short before the element count of storage {key:?}")))?;
        let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
        let len = count
            .checked_mul(itemsize)
            .ok_or_else(|| bad(format!("storage {key:?}: {count} elements of {itemsize} bytes overflow")))?;
        let start = at + 8;
        let end = start.checked_add(len).filter(|&e| e <= data.len() as u64).ok_or_else(|| {
            bad(format!(
                "storage {key:?} ({len} bytes at offset {start}) is cut short: the file has {} bytes",
                data.len()
            ))
        })?;
        storages.insert(key, Storage::Range { start, len });
        at = end;
    }
    Ok(Opened {
        format: Format::Legacy,
        byte_order: ByteOrder::Little,
        graph,
        constants: None,
        storages,
        version: None,
    })
}

/// The itemsize of each root storage, from the first persistent id that
/// names it (torch makes the storage then, with that id's type).
fn itemsizes(graph: &Graph<'_>) -> Result<HashMap<String, u64>> {
    let mut out = HashMap::new();
    for (_, obj) in graph.objects() {
        let Object::PersistentId(pid) = obj else { continue };
        let Some(t) = graph.as_tuple(*pid) else { continue };
        if t.len() < 3 || text(graph, t[0]) != Some("storage") {
            continue;
        }
        let Some(key) = key_string(graph, t[2]) else { continue };
        if out.contains_key(&key) {
            continue;
        }
        let class = storage_class(graph, t[1])
            .ok_or_else(|| bad(format!("storage {key:?}: its type is not a torch storage class")))?;
        let size = storage_itemsize(class)
            .ok_or_else(|| Error::Unsupported(format!("storage {key:?}: storage class {class}")))?;
        out.insert(key, size);
    }
    Ok(out)
}
