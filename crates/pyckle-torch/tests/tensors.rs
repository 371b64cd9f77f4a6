//! Every torch fixture (tests/fixtures/torch, made by generate_torch.py and
//! make_torch_tar.py with real torch) opened with `Checkpoint::open`, tensor
//! by tensor against expected.json: name, dtype, shape, stride, storage
//! offset, requires_grad, nn.Parameter, quantization, and every value
//! through every reader of the view.

mod pyckle_torch_under_test {
    pub use pyckle_torch::*;
}
mod expected;

use pyckle_torch::{Checkpoint, DType, Error, Format, Quantization};

fn format_of(name: &str) -> Format {
    match name {
        "zip" => Format::Zip,
        "torchscript" => Format::TorchScript,
        "legacy" => Format::Legacy,
        "tar" => Format::Tar,
        f => panic!("format {f}"),
    }
}

#[test]
fn every_fixture_tensor_by_tensor() {
    let all = expected::all_expected();
    let mut files = 0;
    let mut tensors = 0;
    let mut dtypes = std::collections::HashSet::new();
    for (file, want) in &all {
        let path = expected::fixtures().join(file);
        let ckpt = Checkpoint::open(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let fmt = want["format"].as_str().unwrap();
        assert_eq!(ckpt.format(), format_of(fmt), "{file}");
        let want_tensors = want["tensors"].as_array().unwrap();
        // TorchScript's constants are listed after the module's tensors; the
        // fixture's expected values are the module's state_dict.
        let got: Vec<(String, &pyckle_torch::Tensor)> =
            ckpt.tensors().into_iter().filter(|(n, _)| !n.starts_with("constants.")).collect();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let wanted: Vec<&str> = want_tensors.iter().map(|w| w["name"].as_str().unwrap()).collect();
        assert_eq!(names, wanted, "{file}: names in pickle order");
        for ((name, t), w) in got.iter().zip(want_tensors) {
            // A TorchScript state_dict is detached: requires_grad is not the pickle's.
            expected::check_meta(file, name, t, w, fmt != "torchscript");
            if let Some(loc) = want.get("location") {
                assert_eq!(t.storage.location, loc.as_str().unwrap(), "{file}: {name}");
            }
            let v = ckpt.view(t).unwrap_or_else(|e| panic!("{file}: {name}: {e}"));
            assert_eq!(v.big_endian, want.get("byteorder").is_some_and(|b| b == "big"), "{file}");
            expected::check_values(&format!("{file}: {name}"), &v, w);
            dtypes.insert(t.dtype);
            tensors += 1;
        }
        files += 1;
    }
    assert_eq!(files, 20, "every fixture");
    assert!(tensors > 150, "{tensors} tensors");
    // Every dtype but the sub-byte quantized ones is in some fixture.
    for d in DType::ALL {
        if !matches!(d, DType::QUInt4x2 | DType::QUInt2x4) {
            assert!(dtypes.contains(&d), "no fixture has {d}");
        }
    }
}

#[test]
fn shared_storages_are_one_storage() {
    let ckpt = Checkpoint::open(expected::fixtures().join("zip_views.pt")).unwrap();
    let ts = ckpt.tensors();
    let key = |n: &str| ts.iter().find(|(name, _)| name == n).unwrap().1.storage.key.clone();
    for n in ["t", "row", "col", "block", "every_other", "shared_a", "shared_b"] {
        assert_eq!(key(n), key("base"), "{n} shares base's storage");
    }
    assert_ne!(key("expand"), key("base"));
    // Views of one storage borrow the same bytes.
    let base = ckpt.view(ts[0].1).unwrap();
    let row = ckpt.view(ts.iter().find(|(n, _)| n == "row").unwrap().1).unwrap();
    assert_eq!(base.storage.as_ptr(), row.storage.as_ptr());
    assert_eq!(row.to_vec::<f32>().unwrap(), vec![12.0, 13.0, 14.0, 15.0, 16.0, 17.0]);
}

#[test]
fn graph_values_map_to_their_tensors() {
    let ckpt = Checkpoint::open(expected::fixtures().join("zip_params.pt")).unwrap();
    let g = ckpt.graph();
    let Some(pyckle::Object::Dict(d)) = g.object(g.root()) else { panic!("a dict") };
    let p = ckpt.tensor(d.get_str(g, "p").unwrap()).expect("p is a tensor");
    assert!(p.parameter && p.requires_grad);
    let tagged = ckpt.tensor(d.get_str(g, "tagged").unwrap()).expect("a tensor with attributes");
    assert_eq!(tagged.dtype, DType::I32);
    assert!(ckpt.tensor(g.root()).is_none());
}

#[test]
fn quantized_parameters() {
    let ckpt = Checkpoint::open(expected::fixtures().join("zip_quantized.pt")).unwrap();
    let ts = ckpt.tensors();
    let q = |n: &str| ts.iter().find(|(name, _)| name == n).unwrap().1;
    assert_eq!(q("qint8").quantization, Some(Quantization::PerTensorAffine { scale: 0.05, zero_point: 3 }));
    assert_eq!(
        q("per_channel").quantization,
        Some(Quantization::PerChannelAffine { scales: vec![0.1, 0.05], zero_points: vec![0, 2], axis: 0 })
    );
    // The scale and zero-point tensors are not listed as tensors of their own.
    assert_eq!(ts.len(), 4);
}

/// Rewrites one stored member of a fixture zip in place (same length), for
/// checkpoints torch would not write.
fn patched(file: &str, find: &[u8], replace: &[u8]) -> Vec<u8> {
    assert_eq!(find.len(), replace.len());
    let mut data = std::fs::read(expected::fixtures().join(file)).unwrap();
    let at = data.windows(find.len()).position(|w| w == find).unwrap_or_else(|| panic!("{find:?} in {file}"));
    data[at..at + find.len()].copy_from_slice(replace);
    data
}

#[test]
fn hostile_tensor_records_are_clear_errors() {
    // zip_list.pt's first tensor: FloatStorage key '0' of 2 elements, size (2,).
    // A storage class torch does not have.
    let data = patched("zip_list.pt", b"torch\nFloatStorage", b"torch\nFlo_tStorage");
    let e = Checkpoint::from_bytes(data).unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    assert!(e.to_string().contains("Flo_tStorage"), "{e}");
    // A rebuild function torch does not have.
    let data = patched("zip_list.pt", b"_rebuild_tensor_v2", b"_rebuild_tensor_v9");
    let e = Checkpoint::from_bytes(data).unwrap_err();
    assert!(e.to_string().contains("_rebuild_tensor_v9"), "{e}");
    // A size that is not a tuple of ints: (2,) becomes (None, None).
    let data = patched("zip_list.pt", b"K\x00K\x02\x85", b"K\x00NN\x86");
    match Checkpoint::from_bytes(data).map(|_| ()).unwrap_err() {
        Error::BadTensor { name, problem } => {
            assert_eq!(name, "0");
            assert!(problem.contains("size is a None"), "{problem}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn a_view_past_its_declared_storage_is_refused_on_open() {
    // zip_offset.pt: a (2, 5) view at offset 13 of a 24-element storage.
    // Declare the storage 23 elements long: the view's last element is past it.
    let data = std::fs::read(expected::fixtures().join("zip_offset.pt")).unwrap();
    let at = data.windows(3).position(|w| w == b"K\x18t").expect("numel 24 in the pickle");
    let mut bad = data.clone();
    bad[at + 1] = 23;
    match Checkpoint::from_bytes(bad) {
        Err(Error::BadTensor { name, problem }) => {
            assert_eq!(name, "view");
            assert!(problem.contains("storage"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}
