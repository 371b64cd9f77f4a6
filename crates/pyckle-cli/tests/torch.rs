//! `pyckle torch`: `ls` (text and JSON) and `to-safetensors` end to end on
//! the torch fixtures (tests/fixtures/torch, made by generate_torch.py):
//! listings against expected.json, safetensors output parsed with the
//! `safetensors` crate and compared tensor by tensor with the values torch
//! wrote next to the fixtures and with the checkpoint's own views.

use safetensors::SafeTensors;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch")
}

/// Every fixture's entry of expected.json and tar_expected.json.
fn expected() -> serde_json::Map<String, Json> {
    let mut all = serde_json::Map::new();
    for file in ["expected.json", "tar_expected.json"] {
        let text = std::fs::read_to_string(fixtures().join(file)).expect(file);
        let Json::Object(entries) = serde_json::from_str(&text).expect(file) else { panic!("{file}: not an object") };
        all.extend(entries.into_iter().filter(|(k, _)| !k.starts_with('_')));
    }
    assert!(all.len() >= 19, "only {} fixtures in expected.json", all.len());
    all
}

fn pyckle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pyckle")).args(args).output().expect("run pyckle")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn temp_path(ext: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("pyckle-torch-cli-{}-{n}.{ext}", std::process::id()))
}

/// (name, dtype, shape) of each tensor a fixture's expected.json lists.
fn listed(entry: &Json) -> Vec<(String, String, Vec<u64>)> {
    entry["tensors"]
        .as_array()
        .expect("tensors")
        .iter()
        .map(|t| {
            let shape = t["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect();
            (t["name"].as_str().unwrap().to_string(), t["dtype"].as_str().unwrap().to_string(), shape)
        })
        .collect()
}

fn shape_text(shape: &[u64]) -> String {
    format!("[{}]", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
}

#[test]
fn ls_text_every_fixture() {
    for (file, entry) in expected() {
        let path = fixtures().join(&file);
        let out = stdout(&pyckle(&["torch", "ls", path.to_str().unwrap()]));
        let tensors = listed(&entry);
        let name_width = tensors.iter().map(|t| t.0.chars().count()).max().unwrap_or(0);
        let dtype_width = tensors.iter().map(|t| t.1.len()).max().unwrap_or(0);
        let want: String = tensors
            .iter()
            .map(|(name, dtype, shape)| format!("{name:<name_width$}  {dtype:<dtype_width$}  {}\n", shape_text(shape)))
            .collect();
        assert_eq!(out, want, "{file}");
    }
}

#[test]
fn ls_text_columns_line_up() {
    let path = fixtures().join("zip_checkpoint.pt");
    let out = stdout(&pyckle(&["torch", "ls", path.to_str().unwrap()]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 13);
    // The longest name, optimizer.state.0.exp_avg_sq, sets the first column's width (28).
    assert_eq!(lines[0], "model.running                 float32  [2]");
    assert_eq!(lines[1], "model.fc1.weight              float32  [4, 3]");
    assert_eq!(lines[4], "optimizer.state.0.step        float32  []");
    assert_eq!(lines[6], "optimizer.state.0.exp_avg_sq  float32  [4, 3]");
}

#[test]
fn ls_json_every_fixture() {
    for (file, entry) in expected() {
        let path = fixtures().join(&file);
        let out = stdout(&pyckle(&["torch", "ls", "--json", path.to_str().unwrap()]));
        let got: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{file}: {e}: {out}"));
        let want: Vec<Json> = listed(&entry)
            .into_iter()
            .map(|(name, dtype, shape)| serde_json::json!({"name": name, "dtype": dtype, "shape": shape}))
            .collect();
        assert_eq!(got, Json::Array(want), "{file}");
    }
}

#[test]
fn ls_json_of_a_checkpoint_is_one_object_per_line() {
    let path = fixtures().join("zip_list.pt");
    let out = stdout(&pyckle(&["torch", "ls", "--json", path.to_str().unwrap()]));
    assert_eq!(
        out,
        "[\n{\"name\":\"0\",\"dtype\":\"float32\",\"shape\":[2]},\n{\"name\":\"1.0\",\"dtype\":\"int64\",\"shape\":[1,2]},\n{\"name\":\"1.1\",\"dtype\":\"bool\",\"shape\":[1]}\n]\n"
    );
}

/// The safetensors name of a torch dtype, for those the writer keeps.
fn st_dtype(torch: &str) -> Option<safetensors::Dtype> {
    use safetensors::Dtype::*;
    Some(match torch {
        "bool" => BOOL,
        "uint8" => U8,
        "int8" => I8,
        "float8_e5m2" => F8_E5M2,
        "float8_e4m3fn" => F8_E4M3,
        "int16" => I16,
        "uint16" => U16,
        "float16" => F16,
        "bfloat16" => BF16,
        "int32" => I32,
        "uint32" => U32,
        "float32" => F32,
        "float64" => F64,
        "int64" => I64,
        "uint64" => U64,
        _ => return None,
    })
}

fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((bits >> 10) & 0x1f) as i32;
    let frac = (bits & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// The elements of little-endian `data` of a torch dtype, as JSON like
/// expected.json writes them (floats as numbers or "nan"/"inf"/"-inf").
/// None for the float8 types (checked against the views only).
/// `j` with every non-integer number as the f64 it stands for.
fn numbers(j: &Json) -> Json {
    match j {
        Json::Array(items) => Json::Array(items.iter().map(numbers).collect()),
        Json::Number(n) if !(n.is_i64() || n.is_u64()) => Json::from(n.as_f64().expect("a float")),
        other => other.clone(),
    }
}

fn decode(dtype: &str, data: &[u8]) -> Option<Vec<Json>> {
    fn float(f: f64) -> Json {
        if f.is_nan() {
            "nan".into()
        } else if f.is_infinite() {
            if f > 0.0 { "inf" } else { "-inf" }.into()
        } else {
            serde_json::json!(f)
        }
    }
    let size = match dtype {
        "float64" | "int64" | "uint64" => 8,
        "float32" | "int32" | "uint32" => 4,
        "float16" | "bfloat16" | "int16" | "uint16" => 2,
        _ => 1,
    };
    let items = data.chunks_exact(size).map(|c| {
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(c);
        u64::from_le_bytes(b)
    });
    Some(match dtype {
        "float64" => items.map(|u| float(f64::from_bits(u))).collect(),
        "float32" => items.map(|u| float(f32::from_bits(u as u32) as f64)).collect(),
        "bfloat16" => items.map(|u| float(f32::from_bits((u as u32) << 16) as f64)).collect(),
        "float16" => items.map(|u| float(f16_to_f64(u as u16))).collect(),
        "int8" => items.map(|u| (u as u8 as i8).into()).collect(),
        "int16" => items.map(|u| (u as u16 as i16).into()).collect(),
        "int32" => items.map(|u| (u as u32 as i32).into()).collect(),
        "int64" => items.map(|u| (u as i64).into()).collect(),
        "uint8" | "uint16" | "uint32" | "uint64" => items.map(|u| u.into()).collect(),
        "bool" => items.map(|u| (u != 0).into()).collect(),
        _ => return None,
    })
}

/// The elements of a view in C order, little-endian: element by element,
/// the plainest way (the reference the writer is compared with).
fn reference_bytes(view: &pyckle_torch::TensorView) -> Vec<u8> {
    let size = view.dtype.itemsize();
    let numel: u64 = view.shape.iter().product();
    let mut out = Vec::new();
    for flat in 0..numel {
        let mut rest = flat;
        let mut at = view.offset;
        for (d, s) in view.shape.iter().zip(&view.strides).rev() {
            at += (rest % d) * s;
            rest /= d;
        }
        let start = at as usize * size;
        let mut element = view.storage[start..start + size].to_vec();
        if view.big_endian {
            element.reverse();
        }
        out.extend(element);
    }
    out
}

fn convert(fixture: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["torch", "to-safetensors"];
    args.extend(extra);
    args.push(fixture.to_str().unwrap());
    args.push(out.to_str().unwrap());
    pyckle(&args)
}

#[test]
fn to_safetensors_every_fixture_tensor_by_tensor() {
    let mut checked = 0;
    let mut left_out = 0;
    for (file, entry) in expected() {
        let fixture = fixtures().join(&file);
        let out_path = temp_path("safetensors");
        let out = convert(&fixture, &out_path, &["--skip-unsupported"]);
        let summary = stdout(&out);
        let data = std::fs::read(&out_path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let _ = std::fs::remove_file(&out_path);
        let st = SafeTensors::deserialize(&data).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let ckpt = pyckle_torch::Checkpoint::open(&fixture).expect("opens");
        let views: std::collections::HashMap<String, &pyckle_torch::Tensor> = ckpt.tensors().into_iter().collect();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let mut kept = 0;
        for t in entry["tensors"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let dtype = t["dtype"].as_str().unwrap();
            let quantized = t.get("quantization").is_some();
            // torch's lazy neg/conj bits: the stored bytes are not the values.
            let lazy = t["neg"] == Json::Bool(true) || t["conj"] == Json::Bool(true);
            match st_dtype(dtype).filter(|_| !quantized && !lazy) {
                None => {
                    assert!(st.tensor(name).is_err(), "{file}: {name} ({dtype}) should be left out");
                    assert!(
                        stderr.contains(&format!("left out tensor {name:?} ({dtype})")),
                        "{file}: no warning for {name}: {stderr}"
                    );
                    left_out += 1;
                }
                Some(want_dtype) => {
                    let got = st.tensor(name).unwrap_or_else(|e| panic!("{file}: {name}: {e:?}"));
                    assert_eq!(got.dtype(), want_dtype, "{file}: {name}");
                    let shape: Vec<usize> =
                        t["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
                    assert_eq!(got.shape(), &shape[..], "{file}: {name}");
                    if let Some(values) = decode(dtype, got.data()) {
                        // Numbers compared as f64 (serde_json's arbitrary_precision, on
                        // in a workspace build, compares their text).
                        assert_eq!(numbers(&Json::Array(values)), numbers(&t["values"]), "{file}: {name}: values");
                    }
                    let view = ckpt.view(views[name]).expect("view");
                    assert_eq!(got.data(), &reference_bytes(&view)[..], "{file}: {name}: bytes");
                    kept += 1;
                    checked += 1;
                }
            }
        }
        assert_eq!(st.len(), kept, "{file}: the file has other tensors");
        assert!(summary.contains(&format!(": {kept} tensors")), "{file}: {summary}");
    }
    assert!(checked >= 140, "only {checked} tensors checked");
    assert!(left_out >= 10, "only {left_out} tensors left out");
}

#[test]
fn to_safetensors_keeps_scalars_as_metadata() {
    let out_path = temp_path("safetensors");
    let out = convert(&fixtures().join("zip_checkpoint.pt"), &out_path, &[]);
    let summary = stdout(&out);
    let data = std::fs::read(&out_path).unwrap();
    let _ = std::fs::remove_file(&out_path);
    let (_, meta) = SafeTensors::read_metadata(&data).expect("header");
    let meta = meta.metadata().clone().expect("__metadata__");
    assert_eq!(meta.get("format").map(String::as_str), Some("pt"));
    assert_eq!(meta.get("epoch").map(String::as_str), Some("3"));
    assert_eq!(meta.get("loss").map(String::as_str), Some("0.25"));
    assert_eq!(meta.get("note").map(String::as_str), Some("tiny"));
    // The optimizer's hyperparameters: optimizer.param_groups.0.lr = 0.001.
    assert_eq!(meta.get("optimizer.param_groups.0.lr").map(String::as_str), Some("0.001"));
    assert_eq!(meta.get("optimizer.param_groups.0.amsgrad").map(String::as_str), Some("False"));
    // Nothing of the tensors, nor the state_dict's _metadata versions.
    assert!(!meta.keys().any(|k| k.starts_with("model.")), "{meta:?}");
    assert!(summary.contains(&format!("{} metadata entries", meta.len())), "{summary}");

    let out = convert(&fixtures().join("zip_checkpoint.pt"), &out_path, &["--no-metadata"]);
    stdout(&out);
    let data = std::fs::read(&out_path).unwrap();
    let _ = std::fs::remove_file(&out_path);
    let (_, meta) = SafeTensors::read_metadata(&data).expect("header");
    let meta = meta.metadata().clone().expect("__metadata__");
    assert_eq!(meta.into_iter().collect::<Vec<_>>(), vec![("format".to_string(), "pt".to_string())]);
}

#[test]
fn to_safetensors_header_is_aligned_and_data_in_checkpoint_order() {
    let out_path = temp_path("safetensors");
    stdout(&convert(&fixtures().join("zip_views.pt"), &out_path, &[]));
    let data = std::fs::read(&out_path).unwrap();
    let _ = std::fs::remove_file(&out_path);
    let n = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
    assert_eq!((8 + n) % 8, 0);
    let header: Json = serde_json::from_slice(&data[8..8 + n]).unwrap();
    let mut offsets: Vec<(u64, &str)> = header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| (v["data_offsets"][0].as_u64().unwrap(), k.as_str()))
        .collect();
    offsets.sort();
    let order: Vec<&str> = offsets.iter().map(|o| o.1).collect();
    assert_eq!(order, ["base", "t", "row", "col", "block", "every_other", "expand", "shared_a", "shared_b"]);
    // Views of one storage each get their own bytes: 24 + 24 + 6 + 4 + 6 + 4 floats, 12 int16, 12 + 12 floats.
    assert_eq!(data.len() - 8 - n, (24 + 24 + 6 + 4 + 6 + 4 + 12 + 12) * 4 + 12 * 2);
}

#[test]
fn to_safetensors_refuses_unsupported_dtypes_by_default() {
    for (file, tensor) in
        [("zip_dtypes.pt", "float8_e4m3fnuz"), ("zip_quantized.pt", "qint8"), ("legacy_dtypes.pt", "complex64")]
    {
        let out_path = temp_path("safetensors");
        let out = convert(&fixtures().join(file), &out_path, &[]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let path = fixtures().join(file);
        let want = format!("pyckle: {}: unsupported: tensor {tensor:?}: safetensors has no ", path.display());
        assert!(stderr.starts_with(&want), "{file}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!out_path.exists(), "{file}: output written anyway");
    }
}

#[test]
fn to_safetensors_failure_leaves_an_existing_output_alone() {
    let out_path = temp_path("safetensors");
    std::fs::write(&out_path, b"keep me").unwrap();
    let out = convert(&fixtures().join("zip_quantized.pt"), &out_path, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&out_path).unwrap(), b"keep me");
    let _ = std::fs::remove_file(&out_path);
    // And no temporary file is left next to it.
    let dir = std::fs::read_dir(out_path.parent().unwrap()).unwrap();
    let stem = out_path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(!dir.flatten().any(|e| e.file_name().to_string_lossy().contains(&format!("{stem}."))));
}

#[test]
fn errors_on_what_is_not_a_checkpoint() {
    let not_ckpt = temp_path("pt");
    // A plain pickle ({'a': 1}, protocol 2) and text: neither is a checkpoint.
    for content in [&b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."[..], b"hello, world\n", b""] {
        std::fs::write(&not_ckpt, content).unwrap();
        let name = not_ckpt.to_str().unwrap();
        for args in [vec!["torch", "ls", name], vec!["torch", "ls", "--json", name]] {
            let out = pyckle(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert!(out.stdout.is_empty());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.starts_with(&format!("pyckle: {name}: ")), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
        }
        let out_path = temp_path("safetensors");
        let out = convert(&not_ckpt, &out_path, &[]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("pyckle: {name}: ")));
        assert!(!out_path.exists());
    }
    let _ = std::fs::remove_file(&not_ckpt);

    let missing = temp_path("pt");
    let out = pyckle(&["torch", "ls", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(&format!("pyckle: {}: ", missing.display())));
}

#[test]
fn to_safetensors_into_a_missing_directory_names_the_output() {
    let out_path = temp_path("dir").join("sub").join("out.safetensors");
    let out = convert(&fixtures().join("zip_list.pt"), &out_path, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("pyckle: "), "{stderr}");
    assert!(stderr.contains("out.safetensors"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn to_safetensors_writes_through_a_symlink_without_replacing_it() {
    // What is not a regular file (a link, /dev/null, a pipe) is written in
    // place: replacing it with a renamed temporary file would be wrong.
    let target = temp_path("target");
    let link = temp_path("link");
    std::fs::write(&target, b"old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    stdout(&convert(&fixtures().join("zip_list.pt"), &link, &[]));
    let is_link = std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink();
    let data = std::fs::read(&target).unwrap();
    let _ = std::fs::remove_file(&link);
    let _ = std::fs::remove_file(&target);
    assert!(is_link, "the link was replaced");
    let st = SafeTensors::deserialize(&data).expect("the target holds the safetensors file");
    assert_eq!(st.len(), 3);
}
