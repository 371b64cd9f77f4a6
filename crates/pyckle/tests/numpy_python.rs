//! Differential test of numpy writing: Rust arrays -> ToPickle ->
//! `pyckle::dumps` at protocols 0 to 5 -> a Python with numpy loads each
//! and checks that it is a real `numpy.ndarray` with the dtype, shape,
//! layout and bytes the Rust array has.
//!
//! The Python is `$PYCKLE_NUMPY_PYTHON`, else `python3` when it can
//! `import numpy`; without one the test passes with a printed note.
#![cfg(feature = "numpy")]

use half::f16;
use ndarray::{array, Array1, Array2, ArrayD, IxDyn, ShapeBuilder};
use num_complex::Complex;
use pyckle::classes::numpy::{self, Element, Form, Names, NdArray, WriteOptions};
use pyckle::classes::{FromPickle, ToPickle};
use pyckle::Graph;
use std::path::{Path, PathBuf};
use std::process::Command;

fn numpy_python() -> Option<String> {
    if let Ok(p) = std::env::var("PYCKLE_NUMPY_PYTHON") {
        return Some(p);
    }
    let ok = Command::new("python3").args(["-c", "import numpy"]).output().map(|o| o.status.success());
    ok.unwrap_or(false).then(|| "python3".to_string())
}

/// One pickle for Python to check: the file, and what it must load as.
struct Case {
    file: PathBuf,
    /// numpy's dtype.str in native order, or "" to compare with `fixture`.
    dtype: String,
    shape: Vec<usize>,
    fortran: bool,
    /// The items in C order, native bytes, as hex.
    hex: String,
    /// A numpy-made pickle that must load as the same array.
    fixture: Option<PathBuf>,
    /// Only for numpy of at least this major version.
    min_numpy: u32,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

struct Cases {
    dir: PathBuf,
    list: Vec<Case>,
}

impl Cases {
    fn write(&mut self, name: &str, g: &Graph<'static>, p: u8) -> PathBuf {
        let data = pyckle::dumps(g, p).unwrap_or_else(|e| panic!("{name} p{p}: {e}"));
        let file = self.dir.join(format!("{name}_p{p}.pkl"));
        std::fs::write(&file, data).unwrap();
        file
    }

    /// Every protocol, with and without the protocol-5 hint, plus
    /// `_frombuffer` under numpy 2's names.
    fn array<T: Element, D: ndarray::Dimension>(&mut self, name: &str, a: &ndarray::Array<T, D>) {
        let dtype = T::dtype_for(a.iter());
        let mut raw = Vec::new();
        a.iter().for_each(|x| x.write(dtype.itemsize, &mut raw));
        let fortran = a.ndim() > 1 && !a.is_standard_layout() && a.t().is_standard_layout();
        let expect = |file: PathBuf, min_numpy: u32| Case {
            file,
            dtype: dtype.to_string(),
            shape: a.shape().to_vec(),
            fortran,
            hex: hex(&raw),
            fixture: None,
            min_numpy,
        };
        for p in 0..=5u8 {
            for hint in [false, true] {
                let mut g = Graph::new();
                if hint {
                    g.set_protocol(p);
                }
                let v = a.to_pickle(&mut g).unwrap();
                g.set_root(v);
                let file = self.write(&format!("{name}_{}", if hint { "hint" } else { "plain" }), &g, p);
                self.list.push(expect(file, 1));
            }
        }
        let mut g = Graph::new();
        let opts = WriteOptions { form: Form::FromBuffer, names: Names::Numpy2 };
        let v = numpy::write_array(&mut g, a.view().into_dyn(), &opts).unwrap();
        g.set_root(v);
        let file = self.write(&format!("{name}_np2names"), &g, 5);
        self.list.push(expect(file, 2));
    }

    /// A numpy fixture read into an NdArray and written back at every protocol.
    fn fixture(&mut self, fixture: &Path) {
        let data = std::fs::read(fixture).unwrap();
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        let stem = fixture.file_stem().unwrap().to_str().unwrap().to_string();
        for p in 0..=5u8 {
            let mut w = Graph::new();
            w.set_protocol(p);
            let v = a.to_pickle(&mut w).unwrap();
            w.set_root(v);
            let file = self.write(&format!("re_{stem}"), &w, p);
            self.list.push(Case {
                file,
                dtype: String::new(),
                shape: a.shape().to_vec(),
                fortran: a.fortran,
                hex: String::new(),
                fixture: Some(fixture.to_path_buf()),
                min_numpy: 1,
            });
        }
    }
}

const CHECK: &str = r#"
import json, pickle, sys, warnings
import numpy as np
major = int(np.__version__.split(".")[0])
cases = json.load(open(sys.argv[1]))
checked = skipped = deprecations = 0
bad = []
for c in cases:
    if major < c["min_numpy"]:
        skipped += 1
        continue
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        a = pickle.loads(open(c["file"], "rb").read())
    deprecations += sum(issubclass(w.category, DeprecationWarning) for w in ws)
    why = []
    if type(a) is not np.ndarray:
        why.append("type %r" % type(a))
    else:
        if list(a.shape) != c["shape"]:
            why.append("shape %r" % (a.shape,))
        f = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
        if f != c["fortran"]:
            why.append("fortran %r" % f)
        if c["fixture"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                b = pickle.loads(open(c["fixture"], "rb").read())
            b = np.asarray(b)
            if a.dtype != b.dtype.newbyteorder("=") and a.dtype != b.dtype:
                why.append("dtype %s, numpy's %s" % (a.dtype.str, b.dtype.str))
            elif a.dtype.hasobject:
                why.append("object")
            elif a.dtype.names is not None:
                # Records: compare field values (padding bytes are not values).
                if repr(a.tolist()) != repr(b.tolist()):
                    why.append("records %r, numpy's %r" % (a, b))
            elif np.ascontiguousarray(a).tobytes() != np.ascontiguousarray(b.astype(a.dtype)).tobytes():
                why.append("values %r, numpy's %r" % (a, b))
        else:
            if a.dtype != np.dtype(c["dtype"]):
                why.append("dtype %s" % a.dtype.str)
            elif np.ascontiguousarray(a).tobytes().hex() != c["hex"]:
                why.append("values %r" % (a,))
    if why:
        bad.append("%s: %s" % (c["file"], "; ".join(why)))
    checked += 1
for b in bad[:20]:
    print("MISMATCH", b)
print("numpy %s: %d pickles checked, %d mismatches, %d skipped (need numpy 2), %d DeprecationWarnings"
      % (np.__version__, checked, len(bad), skipped, deprecations))
print("total %d" % (checked + skipped))
sys.exit(1 if bad else 0)
"#;

#[test]
fn python_loads_real_ndarrays() {
    let Some(python) = numpy_python() else {
        eprintln!("skipped: no Python with numpy (set PYCKLE_NUMPY_PYTHON, or install numpy for python3)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("pyckle-numpy-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases = Cases { dir: dir.clone(), list: Vec::new() };

    cases.array("f64", &array![[1.5f64, -0.0, f64::NAN], [f64::INFINITY, f64::NEG_INFINITY, 1e-300]]);
    cases.array("f32", &array![1.5f32, f32::MIN_POSITIVE, -3.0]);
    cases.array("f16", &array![f16::from_f32(0.5), f16::MAX, f16::NEG_INFINITY]);
    cases.array("i8", &array![i8::MIN, 0, i8::MAX]);
    cases.array("i16", &array![[i16::MIN], [i16::MAX]]);
    cases.array("i32", &array![i32::MIN, 7, i32::MAX]);
    cases.array("i64", &array![i64::MIN, -1, i64::MAX]);
    cases.array("u8", &array![0u8, 255]);
    cases.array("u16", &array![u16::MAX, 1]);
    cases.array("u32", &array![u32::MAX, 2]);
    cases.array("u64", &array![u64::MAX, 3]);
    cases.array("bool", &array![[true, false], [false, true]]);
    cases.array("c64", &array![Complex::new(1.0f32, -2.0), Complex::new(f32::NAN, 0.5)]);
    cases.array("c128", &array![[Complex::new(1.0f64, -2.0)], [Complex::new(0.0, f64::INFINITY)]]);
    cases.array("str", &array!["ab".to_string(), String::new(), "été😀".into()]);
    cases.array("bytes", &array![b"ab".to_vec(), b"x\0y".to_vec(), vec![]]);
    let f = ArrayD::from_shape_vec(IxDyn(&[2, 3, 4]).f(), (0..24).map(|v| v as f64 * 0.5).collect()).unwrap();
    cases.array("fortran3d", &f);
    let f2 = Array2::from_shape_vec((3, 2).f(), vec![1i32, 2, 3, 4, 5, 6]).unwrap();
    cases.array("fortran2d", &f2);
    cases.array("zero_d", &ndarray::arr0(42i64));
    cases.array("empty", &Array1::<f32>::zeros(0));
    cases.array("empty3x0", &Array2::<i16>::zeros((3, 0)));
    let big = Array2::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as u32);
    cases.array("slice", &big.slice(ndarray::s![..;2, 1..;2]).to_owned());
    cases.array("transposed", &big.t().to_owned());

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/numpy");
    for name in [
        "np2_datetime_ms_be_p4",
        "np2_datetime_D_p2",
        "np1_timedelta_3us_p2",
        "np2_structured_p4",
        "np1_structured_aligned_p2",
        "np2_unicode_U3_be_2d_p3",
        "np2_bytes_S5_p0",
        "np1_void_V4_p5",
        "np1_fortran_i2_be_3d_p5",
        "np1_arr_c16_be_p1",
        "np1_noncontig_p5",
        "np2_zero_d_i4_be_p2",
    ] {
        cases.fixture(&fixtures.join(format!("{name}.pkl")));
    }

    let mut json = String::from("[\n");
    for (i, c) in cases.list.iter().enumerate() {
        let shape: Vec<String> = c.shape.iter().map(|d| d.to_string()).collect();
        let fixture = c.fixture.as_ref().map_or("null".to_string(), |f| json_str(&f.display().to_string()));
        json += &format!(
            "{{\"file\": {}, \"dtype\": {}, \"shape\": [{}], \"fortran\": {}, \"hex\": \"{}\", \"fixture\": {}, \"min_numpy\": {}}}{}\n",
            json_str(&c.file.display().to_string()),
            json_str(&c.dtype),
            shape.join(", "),
            c.fortran,
            c.hex,
            fixture,
            c.min_numpy,
            if i + 1 < cases.list.len() { "," } else { "" }
        );
    }
    json += "]\n";
    let manifest = dir.join("cases.json");
    std::fs::write(&manifest, json).unwrap();
    let out = Command::new(&python).arg("-c").arg(CHECK).arg(&manifest).output().expect("run the numpy Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "numpy disagrees:\n{stdout}");
    assert!(stdout.contains(" 0 mismatches"), "{stdout}");
    assert!(stdout.contains(&format!("total {}\n", cases.list.len())), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}
