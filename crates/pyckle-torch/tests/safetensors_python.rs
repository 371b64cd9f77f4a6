//! Differential test of the safetensors writer: every torch fixture is
//! converted by `pyckle_torch::safetensors::write`, then Python loads each
//! output with `safetensors.torch.load_file` and checks it against what
//! `torch.load` (`torch.jit.load` for TorchScript) gives for the fixture:
//! the same names, and for each tensor the same dtype, shape and bytes as
//! `tensor.contiguous()` (bytes rather than `torch.equal`, so that NaN and
//! -0.0 count too). Tensors safetensors cannot hold (complex, float8 fnuz,
//! quantized) must be the ones left out; the scalars of the checkpoint
//! must be in the metadata as `str()` of their values.
//!
//! The Python is `$PYCKLE_TORCH_PYTHON` (one with torch and safetensors,
//! e.g. /work/venv-torch/bin/python); without it the test passes with a note.

use pyckle_torch::safetensors::{self, OnUnsupported, Options};
use pyckle_torch::Checkpoint;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What Python runs: argv[1] is a JSON list of [fixture, output, left out names].
const CHECK: &str = r#"
import json, sys, zipfile
import torch
from safetensors import safe_open
from safetensors.torch import load_file
sys.path.insert(0, sys.argv[2])  # tests/fixtures, for torch_fixtures (whole modules)

from generate_torch import walk as named_tensors  # the fixtures' own naming

def walk(obj):
    return dict(named_tensors(obj))

def as_bytes(t):
    t = t.detach().contiguous()
    return t.reshape(-1).view(torch.uint8).tolist() if t.numel() else []

failures = []
for fixture, out, skipped in json.load(open(sys.argv[1])):
    with zipfile.ZipFile(fixture) if zipfile.is_zipfile(fixture) else open(fixture, "rb") as f:
        script = hasattr(f, "namelist") and any(n.endswith("constants.pkl") for n in f.namelist())
    if script:
        obj = torch.jit.load(fixture, map_location="cpu")
        want = dict(obj.state_dict())
        scalars = {}
    else:
        obj = torch.load(fixture, map_location="cpu", weights_only=False)
        want = walk(obj)
        scalars = {k: str(v) for k, v in obj.items() if isinstance(v, (int, float, str))} if isinstance(obj, dict) else {}
    got = load_file(out)
    expected_names = {n for n, t in want.items() if n not in skipped}
    if set(got) != expected_names:
        failures.append(f"{fixture}: names {sorted(got)} != {sorted(expected_names)}")
    for n in skipped:
        t = want[n]
        if not (t.is_quantized or t.is_complex() or "fnuz" in str(t.dtype) or t.is_neg() or t.is_conj()):
            failures.append(f"{fixture}: {n} ({t.dtype}) left out")
    for n, t in got.items():
        w = want.get(n)
        if w is None:
            continue
        w = w.detach().contiguous()
        if t.dtype != w.dtype or t.shape != w.shape or as_bytes(t) != as_bytes(w):
            failures.append(f"{fixture}: {n}: {t.dtype} {tuple(t.shape)} != {w.dtype} {tuple(w.shape)} or bytes differ")
            continue
        try:
            equal = torch.equal(t, w)
        except Exception:  # no torch.equal for some float8 types on CPU: the bytes said it
            equal = None
        nan = t.is_floating_point() and bool(torch.isnan(t.to(torch.float32)).any())
        if equal is False and not nan:
            failures.append(f"{fixture}: {n}: not torch.equal")
    with safe_open(out, framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != "pt":
        failures.append(f"{fixture}: metadata format {meta.get('format')!r}")
    for k, v in scalars.items():
        if meta.get(k) != v:
            failures.append(f"{fixture}: metadata {k}: {meta.get(k)!r} != {v!r}")
    print(f"{fixture}: {len(got)} tensors, {len(skipped)} left out, {len(meta)} metadata entries")

if failures:
    print("\n".join(failures))
    sys.exit(1)
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn python_loads_what_pyckle_wrote() {
    let Ok(python) = std::env::var("PYCKLE_TORCH_PYTHON") else {
        eprintln!("note: PYCKLE_TORCH_PYTHON is not set (a Python with torch and safetensors): skipped");
        return;
    };
    let dir = std::env::temp_dir().join(format!("pyckle-safetensors-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(fixtures().join("torch"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 19, "only {} fixtures", names.len());
    let options = Options { unsupported: OnUnsupported::Skip, ..Options::default() };
    for fixture in &names {
        let ckpt = Checkpoint::open(fixture).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
        let out = dir.join(fixture.file_name().unwrap()).with_extension("safetensors");
        let summary = safetensors::write(&ckpt, &out, &options, |_, _| {})
            .unwrap_or_else(|e| panic!("{}: {e}", fixture.display()));
        assert_eq!(summary.bytes, std::fs::metadata(&out).unwrap().len());
        let skipped: Vec<String> = summary.skipped.iter().map(|(n, _)| json_str(n)).collect();
        cases.push(format!(
            "[{}, {}, [{}]]",
            json_str(fixture.to_str().unwrap()),
            json_str(out.to_str().unwrap()),
            skipped.join(", ")
        ));
    }
    let list = dir.join("cases.json");
    std::fs::write(&list, format!("[{}]", cases.join(",\n"))).unwrap();
    let out = Command::new(&python)
        .args(["-B", "-W", "ignore", "-c", CHECK])
        .arg(&list)
        .arg(fixtures())
        .output()
        .expect("run the Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "Python found differences:\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), names.len(), "{stdout}");
}
