//! Hostile checkpoints: truncated, garbled, lying archives and streams.
//! Each is a clear `Error`, never a panic, a hang or an allocation beyond
//! what the file justifies.

use pyckle_torch::{Checkpoint, Error, Format};
use std::io::Write;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch").join(name);
    std::fs::read(p).unwrap()
}

/// Opens `data` and, if that works, views every tensor and copies it out.
/// Returns the first error met.
fn exercise(data: Vec<u8>) -> Result<usize, Error> {
    let c = Checkpoint::from_bytes(data)?;
    let mut n = 0;
    for (_, t) in c.tensors() {
        let v = c.view(t)?;
        n += v.to_contiguous_bytes()?.len();
    }
    Ok(n)
}

fn malformed(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Malformed(m)) => m,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// `{"t": _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', n), 0, (n,), (1,), False, OrderedDict())}`
fn one_tensor_pickle(n: u32) -> Vec<u8> {
    let mut p = b"\x80\x02}(X\x01\x00\x00\x00tctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ".to_vec();
    p.extend(n.to_le_bytes());
    p.extend(b"tQK\x00J");
    p.extend(n.to_le_bytes());
    p.extend(b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu.");
    p
}

/// A torch zip of `entries` (name under `arch/`, bytes, deflated?).
fn zip_of(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, deflate) in entries {
        let m = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        z.start_file(format!("arch/{name}"), zip::write::SimpleFileOptions::default().compression_method(m)).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Sets the uncompressed size of `name` in the central directory.
fn patch_size(zip: &mut [u8], name: &str, size: u32) {
    let full = format!("arch/{name}");
    let at = (0..zip.len() - 46)
        .find(|&p| zip[p..p + 4] == *b"PK\x01\x02" && zip[p + 46..].starts_with(full.as_bytes()))
        .unwrap();
    zip[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
}

/// Where the first storage's 8-byte count is in a legacy stream.
fn first_count_offset(data: &[u8]) -> usize {
    let mut rest = data;
    for _ in 0..5 {
        rest = pyckle::Unpickler::default().loads_prefix(rest).unwrap().1;
    }
    data.len() - rest.len()
}

#[test]
fn every_truncation_of_every_container_is_an_error_or_a_smaller_checkpoint() {
    for name in ["zip_checkpoint.pt", "zip_deflated.pt", "legacy_checkpoint.pt", "tar_checkpoint.tar", "torchscript.pt"]
    {
        let data = fixture(name);
        for cut in (0..data.len()).step_by(7) {
            // No panic, whatever the cut; most cuts fail.
            let _ = exercise(data[..cut].to_vec());
        }
        assert!(exercise(data.clone()).is_ok(), "{name}");
    }
    // A zip cut anywhere loses its end of central directory.
    let data = fixture("zip_checkpoint.pt");
    let m = malformed(Checkpoint::from_bytes(data[..data.len() / 2].to_vec()));
    assert!(m.contains("end of central directory"), "{m}");
}

#[test]
fn every_garbled_byte_is_survived() {
    for name in ["zip_checkpoint.pt", "zip_deflated.pt", "legacy_views.pt", "tar_checkpoint.tar", "zip_quantized.pt"] {
        let data = fixture(name);
        let mut errors = 0;
        for i in 0..data.len() {
            let mut d = data.clone();
            d[i] ^= 0xFF;
            errors += exercise(d).is_err() as usize;
        }
        assert!(errors > 0, "{name}: no flipped byte was noticed");
    }
}

#[test]
fn not_a_checkpoint() {
    let empty = std::env::temp_dir().join(format!("pyckle-torch-empty-{}.pt", std::process::id()));
    std::fs::write(&empty, b"").unwrap();
    let r = Checkpoint::open(&empty);
    std::fs::remove_file(&empty).unwrap();
    assert!(r.is_err());
    assert!(matches!(Checkpoint::open("/nonexistent/model.pt"), Err(Error::Io(_))));
    malformed(Checkpoint::from_bytes(Vec::new()));
    malformed(Checkpoint::from_bytes(b"hello world".to_vec()));
    malformed(Checkpoint::from_bytes(b"PK\x03\x04 and then nothing".to_vec()));
    // A pickle, but not of torch's magic number.
    let m = malformed(Checkpoint::from_bytes(b"\x80\x02K\x05.".to_vec()));
    assert!(m.contains("magic"), "{m}");
    // A zip with no data.pkl.
    let m = malformed(Checkpoint::from_bytes(zip_of(&[("version", b"3", false)])));
    assert!(m.contains("data.pkl"), "{m}");
    // Entries outside any directory.
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("data.pkl", zip::write::SimpleFileOptions::default()).unwrap();
    z.write_all(&one_tensor_pickle(1)).unwrap();
    let m = malformed(Checkpoint::from_bytes(z.finish().unwrap().into_inner()));
    assert!(m.contains("not in a directory"), "{m}");
    // A byteorder record that is neither.
    let pkl = one_tensor_pickle(1);
    let m = malformed(Checkpoint::from_bytes(zip_of(&[("data.pkl", &pkl, false), ("byteorder", b"middle", false)])));
    assert!(m.contains("byteorder"), "{m}");
}

#[test]
fn a_legacy_stream_cut_in_the_middle_of_a_storage() {
    let data = fixture("legacy_checkpoint.pt");
    let m = malformed(Checkpoint::from_bytes(data[..data.len() - 3].to_vec()));
    assert!(m.contains("cut short"), "{m}");
    let at = first_count_offset(&data);
    let m = malformed(Checkpoint::from_bytes(data[..at + 4].to_vec()));
    assert!(m.contains("cut short before the element count"), "{m}");
}

#[test]
fn a_legacy_count_that_overflows_or_overreaches() {
    let data = fixture("legacy_checkpoint.pt");
    let at = first_count_offset(&data);
    let mut d = data.clone();
    d[at..at + 8].copy_from_slice(&(u64::MAX / 3).to_le_bytes());
    let m = malformed(Checkpoint::from_bytes(d));
    assert!(m.contains("overflow"), "{m}");
    let mut d = data.clone();
    d[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let m = malformed(Checkpoint::from_bytes(d));
    assert!(m.contains("cut short"), "{m}");
}

#[test]
fn a_storage_key_that_is_not_there() {
    let pkl = one_tensor_pickle(4);
    let c = Checkpoint::from_bytes(zip_of(&[("data.pkl", &pkl, false), ("data/1", &[0; 16], false)])).unwrap();
    let (name, t) = &c.tensors()[0];
    assert_eq!(name, "t");
    assert!(matches!(c.view(t), Err(Error::MissingStorage(k)) if k == "0"));
    assert!(matches!(c.storage_bytes("0"), Err(Error::MissingStorage(_))));
    // The legacy stream: the pickle's storage is not in the list of keys.
    let data = fixture("legacy_checkpoint.pt");
    let mut rest = &data[..];
    for _ in 0..4 {
        rest = pyckle::Unpickler::default().loads_prefix(rest).unwrap().1;
    }
    let head = data.len() - rest.len();
    let mut d = data[..head].to_vec();
    d.extend(b"\x80\x02]q\x00."); // an empty list of storage keys
    let c = Checkpoint::from_bytes(d).unwrap();
    let (_, t) = &c.tensors()[0];
    assert!(matches!(c.view(t), Err(Error::MissingStorage(_))));
}

#[test]
fn a_view_past_its_storage() {
    let pkl = one_tensor_pickle(4);
    let c = Checkpoint::from_bytes(zip_of(&[("data.pkl", &pkl, false), ("data/0", &[0; 15], false)])).unwrap();
    let (_, t) = &c.tensors()[0];
    match c.view(t) {
        Err(Error::BadTensor { name, problem }) => {
            assert_eq!(name, "t");
            assert!(problem.contains("16 bytes") && problem.contains("15"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    // The fixture's storages, each one byte short.
    let data = fixture("zip_checkpoint.pt");
    let c = Checkpoint::from_bytes(data).unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = vec![("data.pkl".into(), Vec::new())];
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(fixture("zip_checkpoint.pt"))).unwrap();
    entries[0].1 = std::io::Read::bytes(z.by_name("zip_checkpoint/data.pkl").unwrap()).map(|b| b.unwrap()).collect();
    for k in c.storage_keys() {
        let mut b = c.storage_bytes(k).unwrap().to_vec();
        b.pop();
        entries.push((format!("data/{k}"), b));
    }
    let e: Vec<(&str, &[u8], bool)> = entries.iter().map(|(n, d)| (n.as_str(), &d[..], false)).collect();
    let short = Checkpoint::from_bytes(zip_of(&e)).unwrap();
    let bad = short.tensors().iter().filter(|(_, t)| matches!(short.view(t), Err(Error::BadTensor { .. }))).count();
    assert!(bad >= 10, "{bad} of {} tensors noticed", short.tensors().len());
}

#[test]
fn a_deflate_bomb_is_refused_before_allocating() {
    let pkl = one_tensor_pickle(4);
    let data = [7u8; 16];
    let mut z = zip_of(&[("data.pkl", &pkl, true), ("data/0", &data, true)]);
    assert!(exercise(z.clone()).is_ok());
    // 16 bytes of deflate claiming 4 GiB - 1.
    patch_size(&mut z, "data/0", u32::MAX);
    let c = Checkpoint::from_bytes(z.clone()).unwrap();
    let m = malformed(c.storage_bytes("0"));
    assert!(m.contains("more than deflate can expand"), "{m}");
    let m = malformed(c.view(&c.tensors()[0].1.clone()));
    assert!(m.contains("more than deflate can expand"), "{m}");
    // data.pkl itself.
    patch_size(&mut z, "data.pkl", u32::MAX);
    let m = malformed(Checkpoint::from_bytes(z));
    assert!(m.contains("more than deflate can expand"), "{m}");
}

#[test]
fn a_deflated_entry_that_lies_about_its_size() {
    let pkl = one_tensor_pickle(4);
    let mut z = zip_of(&[("data.pkl", &pkl, true), ("data/0", &[1; 16], true)]);
    patch_size(&mut z, "data/0", 4000);
    let c = Checkpoint::from_bytes(z).unwrap();
    let m = malformed(c.storage_bytes("0"));
    assert!(m.contains("holds 16 bytes, its directory says 4000"), "{m}");
}

#[test]
fn a_highly_compressed_entry_that_is_honest_loads() {
    // 16 MiB of zeros: deflate's best ratio, about 1000 to 1.
    let n = 4u32 << 20;
    let pkl = one_tensor_pickle(n);
    let zeros = vec![0u8; n as usize * 4];
    let z = zip_of(&[("data.pkl", &pkl, false), ("data/0", &zeros, true)]);
    assert!(z.len() < 64 << 10, "{}", z.len());
    let c = Checkpoint::from_bytes(z).unwrap();
    assert_eq!(c.format(), Format::Zip);
    let v = c.view(c.tensors()[0].1).unwrap();
    assert_eq!(v.storage.len(), zeros.len());
    assert!(v.storage.iter().all(|&b| b == 0));
}

#[test]
fn hostile_tar_members() {
    let data = fixture("tar_checkpoint.tar");
    // A header checksum broken: not a tar, then not anything.
    let mut d = data.clone();
    d[0] ^= 1;
    assert!(Checkpoint::from_bytes(d).is_err());
    // The storages member claiming more elements than it holds.
    let at = data.windows(8).position(|w| w == b"storages").unwrap();
    let header = at - at % 512;
    let body = header + 512;
    let mut rest = &data[body..];
    for _ in 0..2 {
        rest = pyckle::Unpickler::default().loads_prefix(rest).unwrap().1;
    }
    let count_at = data.len() - rest.len();
    let mut d = data.clone();
    d[count_at..count_at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let m = malformed(Checkpoint::from_bytes(d));
    assert!(m.contains("overflow"), "{m}");
    let mut d = data.clone();
    d[count_at..count_at + 8].copy_from_slice(&1000u64.to_le_bytes());
    let m = malformed(Checkpoint::from_bytes(d));
    assert!(m.contains("left in the member"), "{m}");
}
