//! Containers: every format torch writes opens, by content, with its
//! storages where they should be; the tensors of every fixture match what
//! torch loaded (tests/fixtures/torch/expected.json, tar_expected.json).

use pyckle::{Object, Value};
use pyckle_torch::{ByteOrder, Checkpoint, DType, Format, StorageRef, Tensor};
use serde_json::Value as Json;
use std::path::PathBuf;

mod pyckle_torch_under_test {
    pub use pyckle_torch::*;
}
#[path = "expected/mod.rs"]
mod expected_values;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch")
}

fn open(name: &str) -> Checkpoint {
    Checkpoint::open(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected() -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for f in ["expected.json", "tar_expected.json"] {
        let text = std::fs::read_to_string(dir().join(f)).unwrap();
        let Json::Object(m) = serde_json::from_str::<Json>(&text).unwrap() else { panic!("{f}") };
        out.extend(m.into_iter().filter(|(k, _)| !k.starts_with('_')));
    }
    out
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Zip => "zip",
        Format::TorchScript => "torchscript",
        Format::Legacy => "legacy",
        Format::Tar => "tar",
    }
}

/// Every storage's bytes, sorted: what a checkpoint holds whatever its keys.
fn storage_contents(c: &Checkpoint) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = c.storage_keys().map(|k| c.storage_bytes(k).unwrap().to_vec()).collect();
    v.sort();
    v
}

#[test]
fn every_fixture_opens_as_its_format_from_a_path_and_from_bytes() {
    let all = expected();
    assert!(all.len() >= 19, "{} fixtures", all.len());
    for (name, want) in &all {
        let c = open(name);
        assert_eq!(format_name(c.format()), want["format"].as_str().unwrap(), "{name}");
        let b = Checkpoint::from_bytes(std::fs::read(dir().join(name)).unwrap()).unwrap();
        assert_eq!(b.format(), c.format(), "{name}");
        assert_eq!(storage_contents(&b), storage_contents(&c), "{name}");
        let order = if want.get("byteorder").and_then(Json::as_str) == Some("big") {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        };
        assert_eq!(c.byte_order(), order, "{name}");
        assert!(c.storage_keys().count() > 0, "{name}");
    }
}

#[test]
fn the_format_is_told_by_content_not_by_the_file_name() {
    let tmp = std::env::temp_dir().join(format!("pyckle-torch-names-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for (src, as_name, format) in [
        ("legacy_checkpoint.pt", "model.zip", Format::Legacy),
        ("zip_checkpoint.pt", "model.tar", Format::Zip),
        ("tar_checkpoint.tar", "model.pt", Format::Tar),
        ("torchscript.pt", "weights.bin", Format::TorchScript),
    ] {
        let p = tmp.join(as_name);
        std::fs::copy(dir().join(src), &p).unwrap();
        assert_eq!(Checkpoint::open(&p).unwrap().format(), format, "{src} as {as_name}");
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn one_checkpoint_in_every_container_has_the_same_storages() {
    let zip = storage_contents(&open("zip_checkpoint.pt"));
    assert_eq!(zip.len(), 13);
    for other in ["zip_deflated.pt", "zip_cuda.pt", "legacy_checkpoint.pt"] {
        assert_eq!(storage_contents(&open(other)), zip, "{other}");
    }
    // The same views, stored, under another archive prefix, and in the legacy stream.
    let views = storage_contents(&open("zip_views.pt"));
    assert_eq!(storage_contents(&open("zip_prefix.pt")), views);
    assert_eq!(storage_contents(&open("legacy_views.pt")), views);
}

#[test]
fn a_zip_whose_crc_does_not_match_loads_like_the_original() {
    let bad = open("zip_badcrc.pt");
    let good = open("zip_list.pt");
    for key in ["0", "1", "2"] {
        assert_eq!(bad.storage_bytes(key).unwrap(), good.storage_bytes(key).unwrap(), "{key}");
    }
    // data/0 is [1.0, 1.0] as f32, its CRC is wrong, and it reads.
    let want: Vec<u8> = [1.0f32, 1.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(bad.storage_bytes("0").unwrap(), &want[..]);
}

#[test]
fn zip_records_version_and_byteorder() {
    let c = open("zip_checkpoint.pt");
    assert_eq!(c.format(), Format::Zip);
    assert!(c.version().is_some_and(|v| v.parse::<u32>().is_ok()), "{:?}", c.version());
    assert_eq!(open("zip_bigendian.pt").byte_order(), ByteOrder::Big);
    // The big-endian float64 storage holds 0.0, 1.0, -2.5, ... in big-endian.
    let be = open("zip_bigendian.pt");
    let found = be.storage_keys().any(|k| {
        let b = be.storage_bytes(k).unwrap();
        b.len() == 56 && b[8..16] == 1.0f64.to_be_bytes() && b[16..24] == (-2.5f64).to_be_bytes()
    });
    assert!(found, "no big-endian float64 storage [0, 1, -2.5, ...]");
}

#[test]
fn deflated_entries_inflate_once_and_equal_the_stored_ones() {
    let d = open("zip_deflated.pt");
    let s = open("zip_checkpoint.pt");
    for k in s.storage_keys() {
        let a = d.storage_bytes(k).unwrap();
        let again = d.storage_bytes(k).unwrap();
        assert_eq!(a.as_ptr(), again.as_ptr(), "{k}: inflated twice");
        assert_eq!(a, s.storage_bytes(k).unwrap(), "{k}");
    }
}

#[test]
fn torchscript_has_data_and_constants_pickles() {
    let c = open("torchscript.pt");
    assert_eq!(c.format(), Format::TorchScript);
    let constants = c.constants_graph().expect("constants.pkl");
    assert!(matches!(constants.object(constants.root()), Some(Object::Tuple(_))));
    let mut keys: Vec<&str> = c.storage_keys().collect();
    keys.sort();
    assert_eq!(keys, ["0", "1", "2", "3"]);
    // The module is an object record.
    assert!(matches!(c.graph().object(c.graph().root()), Some(Object::Record(_))));
}

#[test]
fn tar_pickle_ids_become_rebuild_records_over_storage_ids() {
    let c = open("tar_checkpoint.tar");
    assert_eq!(c.format(), Format::Tar);
    let g = c.graph();
    let Some(Object::Dict(root)) = g.object(g.root()) else { panic!("root is not a dict") };
    let model = root.get_str(g, "model").unwrap();
    let Some(Object::Dict(model)) = g.object(model) else { panic!("model") };
    let weight = model.get_str(g, "weight").unwrap();
    assert_eq!(root.get_str(g, "again"), Some(weight), "one tensor, shared");
    let rec = g.as_record(weight).expect("a record");
    assert!(g.as_global(rec.callable).unwrap().is("torch._utils", "_rebuild_tensor_v2"));
    let args = g.as_tuple(rec.args).unwrap();
    assert_eq!(args.len(), 6);
    let Some(Object::PersistentId(pid)) = g.object(args[0]) else { panic!("storage pid") };
    let pid = g.as_tuple(*pid).unwrap();
    assert_eq!(g.as_str(pid[0]), Some("storage"));
    assert!(g.as_global(pid[1]).unwrap().is("torch", "FloatStorage"));
    let key = g.as_str(pid[2]).unwrap();
    assert_eq!(pid[4], Value::Int(6));
    let want: Vec<u8> = [0.5f32, -1.0, 2.0, 3.25, -4.0, 5.5].iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(c.storage_bytes(key).unwrap(), &want[..]);
    assert_eq!(g.as_tuple(args[2]).unwrap(), &[Value::Int(2), Value::Int(3)]);
    // "tail" is a view of the float64 storage from element 1: legacy view metadata.
    let tail = model.get_str(g, "tail").unwrap();
    let args = g.as_tuple(g.as_record(tail).unwrap().args).unwrap();
    let Some(Object::PersistentId(pid)) = g.object(args[0]) else { panic!("storage pid") };
    let pid = g.as_tuple(*pid).unwrap();
    let view = g.as_tuple(pid[5]).expect("view metadata");
    assert_eq!((view[1], view[2]), (Value::Int(1), Value::Int(3)));
    let root_bytes = c.storage_bytes(g.as_str(pid[2]).unwrap()).unwrap();
    assert_eq!(root_bytes.len(), 32);
    assert_eq!(root_bytes[16..24], 7.0f64.to_le_bytes());
}

#[test]
fn a_view_is_borrowed_from_the_storage_and_checked_against_it() {
    let c = open("zip_checkpoint.pt");
    let key = "1";
    let len = c.storage_bytes(key).unwrap().len() as u64;
    let t = |shape: Vec<u64>, strides: Vec<u64>, offset: u64| Tensor {
        dtype: DType::F32,
        shape,
        strides,
        storage_offset: offset,
        storage: StorageRef { key: key.into(), location: "cpu".into(), dtype: DType::F32, byte_offset: 0, nbytes: len },
        requires_grad: false,
        parameter: false,
        quantization: None,
        conj: false,
        neg: false,
    };
    let whole = t(vec![len / 4], vec![1], 0);
    let v = c.view(&whole).unwrap();
    assert_eq!(v.storage.as_ptr(), c.storage_bytes(key).unwrap().as_ptr(), "a view borrows");
    assert!(!v.big_endian);
    assert!(c.view(&t(vec![len / 4], vec![1], 1)).is_err(), "one element past the end");
    assert!(c.view(&t(vec![2, 2], vec![len / 4, 1], 0)).is_err(), "a stride past the end");
    assert!(c.view(&t(vec![0, 5], vec![1 << 40, 1], 1 << 50)).is_ok(), "an empty tensor needs no bytes");
    let mut missing = whole.clone();
    missing.storage.key = "999".into();
    assert!(matches!(c.view(&missing), Err(pyckle_torch::Error::MissingStorage(k)) if k == "999"));
}

/// A stored zip of more than 100 MB opens without reading its data: in
/// well under a second even in a debug build, however big it is.
#[test]
fn opening_reads_the_directory_and_the_pickle_not_the_data() {
    use std::io::Write;
    const N: u32 = 32 << 20; // f32 elements: 128 MiB
    let path = std::env::temp_dir().join(format!("pyckle-torch-big-{}.pt", std::process::id()));
    {
        let mut pkl = b"\x80\x02}(X\x03\x00\x00\x00bigctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ".to_vec();
        pkl.extend(N.to_le_bytes());
        pkl.extend(b"tQK\x00J");
        pkl.extend(N.to_le_bytes());
        pkl.extend(b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu.");
        assert!(pyckle::loads(&pkl).is_ok());
        let f = std::fs::File::create(&path).unwrap();
        let mut z = zip::ZipWriter::new(std::io::BufWriter::new(f));
        let o = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file("big/data.pkl", o).unwrap();
        z.write_all(&pkl).unwrap();
        z.start_file("big/byteorder", o).unwrap();
        z.write_all(b"little").unwrap();
        z.start_file("big/data/0", o).unwrap();
        let chunk: Vec<u8> = (0..1u32 << 20).flat_map(|i| (i as f32).to_le_bytes()).collect();
        for _ in 0..(N as usize * 4 / chunk.len()) {
            z.write_all(&chunk).unwrap();
        }
        z.start_file("big/version", o).unwrap();
        z.write_all(b"3").unwrap();
        z.finish().unwrap();
    }
    assert!(std::fs::metadata(&path).unwrap().len() > 128 << 20);
    let t0 = std::time::Instant::now();
    let c = Checkpoint::open(&path).unwrap();
    let tensors = c.tensors();
    let opened = t0.elapsed();
    assert_eq!(c.format(), Format::Zip);
    eprintln!("opened a {} MiB zip in {opened:?}", std::fs::metadata(&path).unwrap().len() >> 20);
    assert!(opened.as_millis() < 250, "opening took {opened:?}");
    let data = c.storage_bytes("0").unwrap();
    assert_eq!(data.len(), N as usize * 4);
    assert_eq!(data[4 * 12345..4 * 12346], 12345f32.to_le_bytes());
    // With the tensors found (rebuild.rs), the one tensor views all of it.
    if let Some((name, t)) = tensors.first() {
        assert_eq!(name, "big");
        assert_eq!(c.view(t).unwrap().storage.len(), N as usize * 4);
    }
    drop(c);
    std::fs::remove_file(&path).unwrap();
}

/// Every tensor of every fixture, in every container: names in pickle
/// order, dtype, shape, strides, offset, grad flags, quantization, and the
/// values torch loaded, read through `Checkpoint::view`.
#[test]
fn every_tensor_of_every_fixture_is_what_torch_loaded() {
    let mut files = 0;
    let mut count = 0;
    for (file, want) in expected() {
        let c = open(&file);
        let got = c.tensors();
        let want = want["tensors"].as_array().unwrap();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let wanted: Vec<&str> = want.iter().map(|w| w["name"].as_str().unwrap()).collect();
        assert_eq!(names, wanted, "{file}: names");
        // TorchScript keeps no Parameter flags: its state_dict has plain tensors.
        let grad = c.format() != Format::TorchScript;
        for ((name, t), w) in got.iter().zip(want) {
            expected_values::check_meta(&file, name, t, w, grad);
            let v = c.view(t).unwrap_or_else(|e| panic!("{file}: {name}: {e}"));
            expected_values::check_values(&format!("{file}: {name}"), &v, w);
            count += 1;
        }
        files += 1;
    }
    assert!(files >= 19 && count >= 150, "{files} files, {count} tensors");
}

#[test]
fn tensor_finds_the_tensor_a_graph_value_stands_for() {
    let c = open("tar_checkpoint.tar");
    let g = c.graph();
    let Some(Object::Dict(root)) = g.object(g.root()) else { panic!() };
    let again = c.tensor(root.get_str(g, "again").unwrap()).expect("a tensor");
    let (name, first) = &c.tensors()[0];
    assert_eq!(name, "model.weight");
    assert!(std::ptr::eq(again, *first));
    assert!(c.tensor(root.get_str(g, "epoch").unwrap()).is_none());
    assert!(c.tensor(g.root()).is_none());
}
