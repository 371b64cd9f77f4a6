//! torch's zip archives (torch >= 1.6, and TorchScript): the central
//! directory read by hand, for the data offsets of stored entries.
//!
//! Layout: `<prefix>/data.pkl`, `<prefix>/data/<key>` (one entry per
//! storage), `<prefix>/byteorder` (`little` or `big`; absent means
//! little), `<prefix>/version`; TorchScript adds `constants.pkl` with its
//! storages under `constants/<key>`, and `code/`. The prefix is whatever
//! directory the first entry is in, as torch's reader takes it.
//!
//! CRCs are never checked (torch tolerates a mismatch). Deflated entries
//! are inflated into a buffer of their declared size, which must be one
//! deflate can reach from the compressed bytes the file holds.

use super::{decode, slice, Opened, Storage};
use crate::{ByteOrder, Error, Format, Result};
use std::collections::HashMap;
use std::sync::OnceLock;

const EOCD: u32 = 0x0605_4b50;
const EOCD64: u32 = 0x0606_4b50;
const EOCD64_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

/// Deflate expands at most about 1032 to 1; a declared size beyond this
/// ratio (plus slack for tiny entries) is a lie, refused before allocating.
const MAX_DEFLATE_RATIO: u64 = 1100;
const DEFLATE_SLACK: u64 = 1 << 16;

/// One entry of the central directory.
#[derive(Debug)]
pub(crate) struct Entry {
    pub name: String,
    method: u16,
    flags: u16,
    local_header: u64,
    compressed: u64,
    size: u64,
    inflated: OnceLock<std::result::Result<Vec<u8>, String>>,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at.checked_add(2)?)?.try_into().ok()?))
}
fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at.checked_add(4)?)?.try_into().ok()?))
}
fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Malformed(format!("zip: {}", msg.into()))
}

/// Reads the central directory: every entry's name, method, sizes and
/// local header offset. Touches the end of the file and the directory only.
pub(crate) fn directory(data: &[u8]) -> Result<Vec<Entry>> {
    // The end of central directory record: 22 bytes and a comment of up
    // to 65535, so it starts in the last 65557 bytes.
    if data.len() < 22 {
        return Err(bad("too short for an end of central directory record"));
    }
    let lowest = data.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=data.len() - 22)
        .rev()
        .find(|&p| u32_at(data, p) == Some(EOCD))
        .ok_or_else(|| bad("no end of central directory record (truncated?)"))?;
    let mut count = u64::from(u16_at(data, eocd + 10).unwrap_or(0));
    let mut cd_size = u64::from(u32_at(data, eocd + 12).unwrap_or(0));
    let mut cd_offset = u64::from(u32_at(data, eocd + 16).unwrap_or(0));
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        // Zip64: the locator sits just before the record.
        let loc = eocd.checked_sub(20).filter(|&l| u32_at(data, l) == Some(EOCD64_LOCATOR));
        if let Some(loc) = loc {
            let at = u64_at(data, loc + 8).ok_or_else(|| bad("zip64 locator cut short"))?;
            let at = usize::try_from(at).map_err(|_| bad("zip64 record offset too large"))?;
            if u32_at(data, at) != Some(EOCD64) {
                return Err(bad("zip64 end of central directory record not where its locator says"));
            }
            count = u64_at(data, at + 32).ok_or_else(|| bad("zip64 record cut short"))?;
            cd_size = u64_at(data, at + 40).ok_or_else(|| bad("zip64 record cut short"))?;
            cd_offset = u64_at(data, at + 48).ok_or_else(|| bad("zip64 record cut short"))?;
        }
    }
    let cd = slice(data, cd_offset, cd_size)
        .map_err(|_| bad(format!("central directory ({cd_size} bytes at {cd_offset}) outside the file")))?;
    // Each entry takes at least 46 bytes of the directory: no more
    // entries than that can be real, whatever `count` says.
    let mut entries = Vec::with_capacity(count.min(cd_size / 46) as usize);
    let mut p = 0usize;
    for i in 0..count {
        if u32_at(cd, p) != Some(CENTRAL) {
            return Err(bad(format!("central directory entry {i} of {count} missing or cut short")));
        }
        let field = |off: usize| u16_at(cd, p + off).ok_or_else(|| bad("central directory entry cut short"));
        let field32 = |off: usize| u32_at(cd, p + off).ok_or_else(|| bad("central directory entry cut short"));
        let flags = field(8)?;
        let method = field(10)?;
        let mut compressed = u64::from(field32(20)?);
        let mut size = u64::from(field32(24)?);
        let name_len = usize::from(field(28)?);
        let extra_len = usize::from(field(30)?);
        let comment_len = usize::from(field(32)?);
        let mut local_header = u64::from(field32(42)?);
        let name_at = p + 46;
        let name = cd.get(name_at..name_at + name_len).ok_or_else(|| bad("central directory entry name cut short"))?;
        let extra = cd
            .get(name_at + name_len..name_at + name_len + extra_len)
            .ok_or_else(|| bad("central directory entry extra field cut short"))?;
        // Zip64 extended information: the 64-bit values, in this order,
        // of those that are 0xFFFFFFFF in the entry.
        let mut e = 0usize;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).unwrap_or(0);
            let len = usize::from(u16_at(extra, e + 2).unwrap_or(0));
            let body = extra.get(e + 4..e + 4 + len).unwrap_or(&[]);
            if id == 1 {
                let mut q = 0usize;
                let mut next = |v: &mut u64| {
                    if *v == 0xFFFF_FFFF {
                        if let Some(x) = u64_at(body, q) {
                            *v = x;
                            q += 8;
                        }
                    }
                };
                next(&mut size);
                next(&mut compressed);
                next(&mut local_header);
            }
            e += 4 + len;
        }
        entries.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            method,
            flags,
            local_header,
            compressed,
            size,
            inflated: OnceLock::new(),
        });
        p = name_at + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

impl Entry {
    /// Where the entry's data starts: after its local header, whose name
    /// and extra field may differ in length from the central directory's.
    fn data_start(&self, data: &[u8]) -> Result<u64> {
        let h = usize::try_from(self.local_header).map_err(|_| bad("local header offset too large"))?;
        if u32_at(data, h) != Some(LOCAL) {
            return Err(bad(format!("no local header for {:?} at offset {h}", self.name)));
        }
        let n = u16_at(data, h + 26).ok_or_else(|| bad("local header cut short"))?;
        let e = u16_at(data, h + 28).ok_or_else(|| bad("local header cut short"))?;
        Ok(self.local_header + 30 + u64::from(n) + u64::from(e))
    }

    /// The entry's bytes: borrowed from the file when stored, inflated
    /// (once) when deflated.
    pub(crate) fn bytes<'a>(&'a self, data: &'a [u8]) -> Result<&'a [u8]> {
        if self.flags & 1 != 0 {
            return Err(Error::Unsupported(format!("zip entry {:?} is encrypted", self.name)));
        }
        match self.method {
            0 => {
                if self.compressed != self.size {
                    return Err(bad(format!(
                        "stored entry {:?} has compressed size {} and size {}",
                        self.name, self.compressed, self.size
                    )));
                }
                let start = self.data_start(data)?;
                slice(data, start, self.size)
                    .map_err(|_| bad(format!("entry {:?} reaches past the end of the file", self.name)))
            }
            8 => {
                let out = self.inflated.get_or_init(|| self.inflate(data).map_err(|e| e.to_string()));
                match out {
                    Ok(v) => Ok(v),
                    Err(msg) => Err(Error::Malformed(msg.clone())),
                }
            }
            m => Err(Error::Unsupported(format!("zip entry {:?}: compression method {m}", self.name))),
        }
    }

    fn inflate(&self, data: &[u8]) -> Result<Vec<u8>> {
        use std::io::Read;
        let limit = self.compressed.saturating_mul(MAX_DEFLATE_RATIO).saturating_add(DEFLATE_SLACK);
        if self.size > limit {
            return Err(bad(format!(
                "deflated entry {:?} claims {} bytes from {} compressed: more than deflate can expand to",
                self.name, self.size, self.compressed
            )));
        }
        let size = usize::try_from(self.size).map_err(|_| bad("entry too large for this machine"))?;
        let start = self.data_start(data)?;
        let input = slice(data, start, self.compressed)
            .map_err(|_| bad(format!("entry {:?} reaches past the end of the file", self.name)))?;
        let mut out = Vec::with_capacity(size);
        flate2::read::DeflateDecoder::new(input)
            .take(self.size)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("entry {:?}: bad deflate data: {e}", self.name)))?;
        if out.len() as u64 != self.size {
            return Err(bad(format!(
                "deflated entry {:?} holds {} bytes, its directory says {}",
                self.name,
                out.len(),
                self.size
            )));
        }
        Ok(out)
    }
}

/// Opens a torch zip archive or TorchScript archive.
pub(crate) fn open(data: &[u8]) -> Result<Opened> {
    let entries = directory(data)?;
    let first = entries.first().ok_or_else(|| bad("the archive is empty"))?;
    // torch's reader: the archive's name is the first entry's directory.
    let prefix = match first.name.find('/') {
        Some(i) => first.name[..=i].to_owned(),
        None => return Err(bad(format!("first entry {:?} is not in a directory", first.name))),
    };
    let mut by_name: HashMap<String, Entry> = HashMap::with_capacity(entries.len());
    for e in entries {
        if let Some(rest) = e.name.strip_prefix(&prefix) {
            let rest = rest.to_owned();
            by_name.entry(rest).or_insert(e);
        }
    }
    let torchscript = by_name.contains_key("constants.pkl") || by_name.keys().any(|k| k.starts_with("code/"));
    let byte_order = match by_name.get("byteorder") {
        None => ByteOrder::Little,
        Some(e) => match e.bytes(data)?.trim_ascii() {
            b"little" => ByteOrder::Little,
            b"big" => ByteOrder::Big,
            other => return Err(bad(format!("byteorder record says {:?}", String::from_utf8_lossy(other)))),
        },
    };
    let version = match by_name.get("version").or_else(|| by_name.get(".data/version")) {
        Some(e) => Some(String::from_utf8_lossy(e.bytes(data)?).trim().to_owned()),
        None => None,
    };
    let pkl = by_name.get("data.pkl").ok_or_else(|| bad(format!("no {prefix}data.pkl in the archive")))?;
    let graph = decode(pkl.bytes(data)?, "data.pkl")?;
    let constants = match by_name.get("constants.pkl") {
        Some(e) if torchscript => Some(decode(e.bytes(data)?, "constants.pkl")?),
        _ => None,
    };
    let mut storages = HashMap::new();
    for (name, e) in by_name {
        if let Some(key) = name.strip_prefix("data/") {
            storages.insert(key.to_owned(), Storage::Zip(e));
        } else if torchscript && name.starts_with("constants/") {
            storages.insert(name, Storage::Zip(e));
        }
    }
    Ok(Opened {
        format: if torchscript { Format::TorchScript } else { Format::Zip },
        byte_order,
        graph,
        constants,
        storages,
        version,
    })
}
