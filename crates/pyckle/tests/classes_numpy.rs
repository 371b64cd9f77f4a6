//! numpy conversions against the pickles numpy 2.4 and 1.26 wrote
//! (tests/fixtures/numpy/, made by generate_numpy.py): every fixture at
//! every protocol, value by value against expected.json; typed getters;
//! hand-made Python 2 and hostile records; writing and reading back; and
//! byte-for-byte equality with numpy 1.26's own pickles.
#![cfg(feature = "numpy")]

use half::f16;
use ndarray::{array, Array1, Array2, ArrayD, IxDyn, ShapeBuilder};
use num_complex::Complex;
use pyckle::classes::numpy::{
    self, ArrayData, ByteOrder, DateUnit, Dtype, Exact, Form, Kind, MaskedArray, Names, NdArray, Numpy, Scalar,
    TimeUnit, WriteOptions,
};
use pyckle::classes::{FromPickle, ToPickle};
use pyckle::{Graph, Object, Value};
use serde_json::Value as J;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/numpy")
}

fn expected() -> serde_json::Map<String, J> {
    let text = std::fs::read_to_string(dir().join("expected.json")).expect("expected.json");
    match serde_json::from_str(&text).unwrap() {
        J::Object(m) => m,
        _ => panic!("expected.json is not an object"),
    }
}

fn same_float(x: f64, want: &J) -> bool {
    let s = want.as_str().expect("float as a repr string");
    let w: f64 = match s {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => s.parse().unwrap(),
    };
    (x.is_nan() && w.is_nan()) || (x == w && x.is_sign_negative() == w.is_sign_negative())
}

fn int_is(n: impl ToString, want: &J) -> bool {
    match want {
        J::Number(w) => w.to_string() == n.to_string(),
        _ => false,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|c| format!("{c:02x}")).collect()
}

/// Whether a scalar is the value expected.json holds for it (enc() of generate_numpy.py).
fn scalar_is(g: &Graph, s: &Scalar, want: &J) -> bool {
    match s {
        Scalar::Bool(b) => want.as_bool() == Some(*b),
        Scalar::I8(v) => int_is(v, want),
        Scalar::I16(v) => int_is(v, want),
        Scalar::I32(v) => int_is(v, want),
        Scalar::I64(v) => int_is(v, want),
        Scalar::U8(v) => int_is(v, want),
        Scalar::U16(v) => int_is(v, want),
        Scalar::U32(v) => int_is(v, want),
        Scalar::U64(v) => int_is(v, want),
        Scalar::F16(v) => same_float(v.to_f64(), want),
        Scalar::F32(v) => same_float(*v as f64, want),
        Scalar::F64(v) => same_float(*v, want),
        Scalar::C64(c) => same_float(c.re as f64, &want[0]) && same_float(c.im as f64, &want[1]),
        Scalar::C128(c) => same_float(c.re, &want[0]) && same_float(c.im, &want[1]),
        Scalar::DateTime64(v, _) | Scalar::TimeDelta64(v, _) => int_is(v, want),
        Scalar::Bytes(b) | Scalar::Void(b) => want.as_str() == Some(&hex(b)),
        Scalar::Str(t) => want.as_str() == Some(t.as_str()),
        Scalar::Struct(fields) => {
            let Some(w) = want.as_array() else { return false };
            w.len() == fields.len() && fields.iter().zip(w).all(|((_, f), w)| scalar_is(g, f, w))
        }
        Scalar::Array(a) => nested_is(g, a, want),
        Scalar::Object(v) => object_is(g, *v, want),
    }
}

/// A subarray against nested lists.
fn nested_is(g: &Graph, a: &NdArray, want: &J) -> bool {
    fn flatten<'j>(j: &'j J, depth: usize, out: &mut Vec<&'j J>) {
        match j.as_array() {
            Some(items) if depth > 0 => items.iter().for_each(|i| flatten(i, depth - 1, out)),
            _ => out.push(j),
        }
    }
    let mut flat = Vec::new();
    flatten(want, a.ndim(), &mut flat);
    let items = a.data.scalars();
    items.len() == flat.len() && items.iter().zip(flat).all(|(s, w)| scalar_is(g, s, w))
}

/// A graph value against enc_obj's tagged form.
fn object_is(g: &Graph, v: Value, want: &J) -> bool {
    let (tag, w) = want.as_object().and_then(|m| m.iter().next()).expect("a tagged object");
    match (tag.as_str(), v, g.object(v)) {
        ("none", Value::None, _) => true,
        ("bool", Value::Bool(b), _) => w.as_bool() == Some(b),
        ("int", Value::Int(i), _) => w.as_str() == Some(&i.to_string()),
        ("int", _, Some(Object::Int(i))) => w.as_str() == Some(&i.to_string()),
        ("float", Value::Float(f), _) => same_float(f, w),
        ("str", _, Some(Object::Str(s))) => w.as_str() == s.as_str(),
        ("bytes", _, Some(Object::Bytes(b))) => w.as_str() == Some(&hex(b)),
        ("list", _, Some(Object::List(items) | Object::Tuple(items))) => {
            let w = w.as_array().unwrap();
            w.len() == items.len() && items.iter().zip(w).all(|(v, w)| object_is(g, *v, w))
        }
        _ => false,
    }
}

fn shape_of(want: &J) -> Vec<usize> {
    want["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect()
}

/// Checks one decoded fixture against its entry; returns the number of values checked.
fn check(name: &str, g: &Graph, want: &J) -> usize {
    let kind = want["kind"].as_str().unwrap();
    let found = numpy::recognize(g, g.root()).unwrap_or_else(|| panic!("{name}: not recognized"));
    let found = found.unwrap_or_else(|e| panic!("{name}: {e}"));
    let values = want["values"].as_array();
    match (kind, found) {
        ("array", Numpy::Array(a)) => {
            check_array(name, g, &a, want);
            values.unwrap().len()
        }
        ("masked", Numpy::Masked(m)) => {
            check_array(name, g, &m.data, want);
            let mask: Vec<bool> = want["mask"].as_array().unwrap().iter().map(|b| b.as_bool().unwrap()).collect();
            assert_eq!(m.mask.iter().copied().collect::<Vec<_>>(), mask, "{name}: mask");
            assert_eq!(m.data.class.name, "MaskedArray", "{name}");
            values.unwrap().len() + mask.len()
        }
        ("scalar", Numpy::Scalar(s)) => {
            let w = &values.unwrap()[0];
            assert!(scalar_is(g, &s, w), "{name}: {s:?} is not {w}");
            // The dtype it was pickled with.
            let r = g.as_record(g.root()).unwrap();
            let dt = Dtype::from_graph(g, g.as_tuple(r.args).unwrap()[0]).unwrap();
            assert_eq!(dt.to_string(), want["dtype"].as_str().unwrap(), "{name}: dtype");
            assert_eq!(dt.name(), want["name"].as_str().unwrap(), "{name}: dtype name");
            1
        }
        ("dtype", Numpy::Dtype(d)) => {
            assert_eq!(d.to_string(), want["dtype"].as_str().unwrap(), "{name}: dtype.str");
            assert_eq!(d.name(), want["name"].as_str().unwrap(), "{name}: dtype.name");
            assert_eq!(d.itemsize as u64, want["itemsize"].as_u64().unwrap(), "{name}: itemsize");
            1
        }
        (k, other) => panic!("{name}: expected a {k}, got {other:?}"),
    }
}

fn check_array(name: &str, g: &Graph, a: &NdArray, want: &J) {
    assert_eq!(a.dtype.to_string(), want["dtype"].as_str().unwrap(), "{name}: dtype");
    assert_eq!(a.dtype.name(), want["name"].as_str().unwrap(), "{name}: dtype name");
    assert_eq!(a.shape(), &shape_of(want)[..], "{name}: shape");
    assert_eq!(a.fortran, want["fortran"].as_bool().unwrap(), "{name}: fortran");
    if want["kind"] == "array" {
        let class = format!("{}.{}", a.class.module, a.class.name);
        assert_eq!(class, want["class"].as_str().unwrap(), "{name}: class");
    }
    let values = want["values"].as_array().unwrap();
    let got = a.data.scalars();
    assert_eq!(got.len(), values.len(), "{name}: number of values");
    for (i, (s, w)) in got.iter().zip(values).enumerate() {
        assert!(scalar_is(g, s, w), "{name}: value {i}: {s:?} is not {w}");
    }
}

#[test]
fn every_fixture_at_every_protocol() {
    let exp = expected();
    let mut files = 0;
    let mut values = 0;
    for (name, want) in &exp {
        for p in 0..=5 {
            let path = dir().join(format!("{name}_p{p}.pkl"));
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let g = pyckle::loads(&data).unwrap_or_else(|e| panic!("{name} p{p}: {e}"));
            values += check(&format!("{name} p{p}"), &g, want);
            files += 1;
        }
    }
    // 72 cases by numpy 2.4 and by numpy 1.26.
    assert_eq!(exp.len(), 144);
    assert_eq!(files, 864);
    println!("{files} fixtures, {values} values checked");
}

#[test]
fn out_of_band_buffers() {
    let exp = expected();
    let mut n = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let Some(name) = file.strip_suffix("_p5oob.pkl") else { continue };
        let data = std::fs::read(&path).unwrap();
        let mut bufs = Vec::new();
        while let Ok(b) = std::fs::read(dir().join(format!("{name}_p5oob.buf{}", bufs.len()))) {
            bufs.push(b);
        }
        assert!(!bufs.is_empty(), "{name}");
        let mut u = pyckle::Unpickler::default();
        u.buffers(bufs);
        let g = u.loads(&data).unwrap();
        assert!(g.objects().any(|(_, o)| matches!(o, Object::Buffer(_))), "{name}: the data is out of band");
        check(&file, &g, &exp[name]);
        n += 1;
    }
    assert_eq!(n, 4);
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

#[test]
fn typed_getters_read_exact_and_lossless() {
    for p in 0..=5 {
        for np in ["np1", "np2"] {
            let data = load(&format!("{np}_arr_f8_be_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let a = Array2::<f64>::from_pickle(&g, g.root()).unwrap();
            assert_eq!(a.shape(), &[2, 3]);
            assert_eq!(a[[0, 0]], 1.5);
            assert_eq!(a[[1, 2]], 1.0 / 3.0);
            assert!(a[[1, 0]].is_nan());
            let e = ArrayD::<f32>::from_pickle(&g, g.root()).unwrap_err();
            assert!(e.message.contains("float64") && e.message.contains("f32"), "{e}");
            let e = Array1::<f64>::from_pickle(&g, g.root()).unwrap_err();
            assert!(e.message.contains("2 dimensions"), "{e}");

            let data = load(&format!("{np}_arr_i2_be_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let want = array![[-32768i64, 32767, 0], [1, -32767, 7]];
            assert_eq!(Array2::<i64>::from_pickle(&g, g.root()).unwrap(), want);
            assert_eq!(Array2::<i16>::from_pickle(&g, g.root()).unwrap(), want.mapv(|v| v as i16));
            assert_eq!(Array2::<f32>::from_pickle(&g, g.root()).unwrap(), want.mapv(|v| v as f32));
            assert!(Array2::<i8>::from_pickle(&g, g.root()).is_err());
            assert!(Array2::<u16>::from_pickle(&g, g.root()).is_err());

            let data = load(&format!("{np}_arr_u8_le_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            assert_eq!(Array2::<u64>::from_pickle(&g, g.root()).unwrap()[[0, 1]], u64::MAX);
            assert!(Array2::<i64>::from_pickle(&g, g.root()).is_err());
            assert!(Array2::<f64>::from_pickle(&g, g.root()).is_err());

            let data = load(&format!("{np}_arr_f2_le_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let h = Array2::<f16>::from_pickle(&g, g.root()).unwrap();
            assert_eq!(h[[0, 0]], f16::from_f32(1.5));
            assert_eq!(Array2::<f64>::from_pickle(&g, g.root()).unwrap()[[0, 0]], 1.5);

            let data = load(&format!("{np}_arr_c8_be_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let c = Array2::<Complex<f32>>::from_pickle(&g, g.root()).unwrap();
            assert_eq!(c[[0, 0]], Complex::new(1.0, 2.0));
            assert_eq!(Array2::<Complex<f64>>::from_pickle(&g, g.root()).unwrap()[[0, 1]], Complex::new(0.0, -0.5));

            let data = load(&format!("{np}_arr_b1_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            assert_eq!(
                Array2::<bool>::from_pickle(&g, g.root()).unwrap(),
                array![[true, false, true], [false, false, true]]
            );
            assert!(Array2::<u8>::from_pickle(&g, g.root()).is_err());

            // Fortran order: the logical elements, whatever the layout.
            let data = load(&format!("{np}_fortran_i2_be_3d_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let a = ArrayD::<i16>::from_pickle(&g, g.root()).unwrap();
            let want = ArrayD::from_shape_vec(IxDyn(&[2, 3, 4]), (0..24).collect()).unwrap();
            assert_eq!(a, want);
            assert!(!a.is_standard_layout(), "kept in Fortran layout");

            let data = load(&format!("{np}_unicode_U4_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let s = Array1::<String>::from_pickle(&g, g.root()).unwrap();
            assert_eq!(s.to_vec(), ["ab", "", "été", "😀x"]);
            let data = load(&format!("{np}_bytes_S5_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            let s = Array1::<Vec<u8>>::from_pickle(&g, g.root()).unwrap();
            assert_eq!(s.to_vec(), [b"abc".to_vec(), vec![], b"a\0b".to_vec(), b"hello".to_vec()]);

            // 0-d.
            let data = load(&format!("{np}_zero_d_i4_be_p{p}.pkl"));
            let g = pyckle::loads(&data).unwrap();
            assert_eq!(ndarray::Array0::<i32>::from_pickle(&g, g.root()).unwrap()[()], -17);
        }
    }
}

#[test]
fn scalars_read_exactly() {
    for p in 0..=5 {
        let g_data = load(&format!("np2_scalar_f4_nan_p{p}.pkl"));
        let g = pyckle::loads(&g_data).unwrap();
        assert!(Exact::<f64>::from_pickle(&g, g.root()).unwrap().0.is_nan());
        let data = load(&format!("np1_scalar_i4_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        assert_eq!(Exact::<i64>::from_pickle(&g, g.root()).unwrap(), Exact(-7));
        assert_eq!(Exact::<f64>::from_pickle(&g, g.root()).unwrap(), Exact(-7.0));
        assert!(Exact::<i16>::from_pickle(&g, g.root()).is_err());
        assert!(Exact::<u32>::from_pickle(&g, g.root()).is_err());
        let data = load(&format!("np2_scalar_f8_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        assert!(Exact::<f32>::from_pickle(&g, g.root()).is_err());
        assert_eq!(Scalar::from_pickle(&g, g.root()).unwrap().as_f64(), Some(1.5));
        let data = load(&format!("np2_scalar_datetime_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        assert_eq!(
            Scalar::from_pickle(&g, g.root()).unwrap(),
            Scalar::DateTime64(19724, TimeUnit::new(DateUnit::Day, 1))
        );
        let data = load(&format!("np2_scalar_timedelta_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        assert_eq!(
            Scalar::from_pickle(&g, g.root()).unwrap(),
            Scalar::TimeDelta64(90, TimeUnit::new(DateUnit::Minute, 1))
        );
        let data = load(&format!("np1_scalar_void_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        assert_eq!(
            Scalar::from_pickle(&g, g.root()).unwrap(),
            Scalar::Struct(vec![("a".into(), Scalar::I32(1)), ("b".into(), Scalar::F64(2.0))])
        );
    }
}

#[test]
fn dtypes_in_detail() {
    let dt = |name: &str| {
        let data = load(name);
        let g = pyckle::loads(&data).unwrap();
        Dtype::from_pickle(&g, g.root()).unwrap()
    };
    for np in ["np1", "np2"] {
        for p in 0..=5 {
            let d = dt(&format!("{np}_dtype_structured_p{p}.pkl"));
            assert_eq!(d.kind, Kind::Void);
            assert_eq!(d.itemsize, 21);
            let f = d.fields.as_ref().unwrap();
            let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, ["a", "b", "s"]);
            assert_eq!(f[1].offset, 4);
            let inner = f[1].dtype.fields.as_ref().unwrap();
            assert_eq!(inner[0].dtype.byte_order, ByteOrder::Big);
            let y = &inner[1].dtype;
            assert_eq!(y.subarray.as_ref().unwrap().shape, [2, 3]);
            assert_eq!(y.subarray.as_ref().unwrap().base, Dtype::simple(Kind::UInt, 1));
            assert_eq!(f[2].offset, 18);
            assert_eq!(f[2].dtype.to_string(), "|S3");

            let d = dt(&format!("{np}_dtype_titles_p{p}.pkl"));
            let f = d.fields.as_ref().unwrap();
            assert_eq!(f.len(), 2);
            assert_eq!(f[0].title.as_deref(), Some("A"));
            assert_eq!(f[1].offset, 8);

            let d = dt(&format!("{np}_dtype_M8_ns_p{p}.pkl"));
            assert_eq!(d.time_unit, Some(TimeUnit::new(DateUnit::Nanosecond, 1)));
            let d = dt(&format!("{np}_dtype_m8_generic_p{p}.pkl"));
            assert_eq!(d.time_unit, Some(TimeUnit::GENERIC));
            let d = dt(&format!("{np}_dtype_U7_p{p}.pkl"));
            assert_eq!((d.kind, d.itemsize, d.char()), (Kind::Unicode, 28, 'U'));
            let d = dt(&format!("{np}_dtype_subarray_p{p}.pkl"));
            assert_eq!(d.subarray.as_ref().unwrap().shape, [2, 2]);
            assert_eq!(d.subarray.as_ref().unwrap().base.to_string(), "<i2");
            let d = dt(&format!("{np}_dtype_i2_be_p{p}.pkl"));
            assert_eq!((d.byte_order, d.char()), (ByteOrder::Big, 'h'));
        }
    }
}

#[test]
fn structured_records_and_fields() {
    for p in 0..=5 {
        let data = load(&format!("np2_structured_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        let ArrayData::Structured(s) = &a.data else { panic!("records") };
        assert_eq!(s.len(), 2);
        let r = s.record(1).unwrap();
        assert_eq!(r[0], ("a".to_string(), Scalar::I32(-7)));
        assert_eq!(r[2], ("s".to_string(), Scalar::Bytes(b"xyz".to_vec())));
        assert!(s.record(2).is_err());
        let a_field = s.field("a").unwrap();
        assert_eq!(numpy::typed::<i32, ndarray::Ix1>(a_field).unwrap().to_vec(), [1, -7]);
        let b = s.field("b").unwrap();
        let ArrayData::Structured(b) = &b.data else { panic!("nested records") };
        let x = numpy::typed::<f64, ndarray::Ix1>(b.field("x").unwrap()).unwrap();
        assert_eq!(x[0], 2.5);
        assert!(x[1] == 0.0 && x[1].is_sign_negative());
        let y = numpy::typed::<u8, ndarray::Ix3>(b.field("y").unwrap()).unwrap();
        assert_eq!(y.shape(), &[2, 2, 3]);
        assert_eq!(y[[1, 0, 0]], 9);
        assert!(s.field("nope").is_err());
        assert_eq!(s.records().count(), 2);
    }
}

#[test]
fn masked_matrix_object() {
    for p in 0..=5 {
        let data = load(&format!("np2_masked_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let m = MaskedArray::from_pickle(&g, g.root()).unwrap();
        assert_eq!(m.mask.iter().copied().collect::<Vec<_>>(), [false, true, false]);
        assert!(NdArray::from_pickle(&g, g.root()).unwrap_err().message.contains("masked"));

        let data = load(&format!("np1_matrix_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        assert!(a.class.is("numpy", "matrix"));
        assert_eq!(Array2::<i64>::from_pickle(&g, g.root()).unwrap(), array![[1, 2], [3, 4]]);

        let data = load(&format!("np2_object_mixed_p{p}.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        let ArrayData::Object(o) = &a.data else { panic!("objects") };
        assert_eq!(o[[0]], Value::Int(1));
        assert_eq!(g.as_str(o[[1]]), Some("two"));
        assert!(Array1::<i64>::from_pickle(&g, g.root()).is_err());
    }
}

// ---- hand-made records: Python 2 data, hostile shapes and dtypes ----------

/// numpy.dtype(spec) with a version-3 state.
fn dtype_rec(g: &mut Graph<'static>, spec: &str, order: &str, elsize: i64) -> Value {
    let class = g.global("numpy", "dtype");
    let s = g.str(spec.to_string());
    let d = g.reduce(class, [s, Value::Bool(false), Value::Bool(true)]);
    let o = g.str(order.to_string());
    let st = g.tuple([
        Value::Int(3),
        o,
        Value::None,
        Value::None,
        Value::None,
        Value::Int(elsize),
        Value::Int(-1),
        Value::Int(0),
    ]);
    g.set_state(d, st).unwrap();
    d
}

/// _reconstruct with a BUILD state (1, shape, dtype, fortran, raw).
fn array_rec(g: &mut Graph<'static>, module: &str, shape: &[i64], dtype: Value, fortran: bool, raw: Value) -> Value {
    let f = g.global(module, "_reconstruct");
    let cls = g.global("numpy", "ndarray");
    let z = g.tuple([Value::Int(0)]);
    let b = g.str("b");
    let a = g.reduce(f, [cls, z, b]);
    let sh: Vec<Value> = shape.iter().map(|&d| Value::Int(d)).collect();
    let sh = g.tuple(sh);
    let st = g.tuple([Value::Int(1), sh, dtype, Value::Bool(fortran), raw]);
    g.set_state(a, st).unwrap();
    a
}

#[test]
fn python2_latin1_str_data() {
    // What numpy 1.x under Python 2 writes, read with encoding='latin1':
    // the data is a str whose code points are the bytes.
    let mut g = Graph::new();
    let d = dtype_rec(&mut g, "i2", "<", -1);
    let raw = g.str("\u{ff}\u{7f}\u{1}\u{80}".to_string());
    let a = array_rec(&mut g, "numpy.core.multiarray", &[2], d, false, raw);
    let arr = Array1::<i16>::from_pickle(&g, a).unwrap();
    assert_eq!(arr.to_vec(), [0x7fff, -0x7fff]);
    // A code point above U+00FF cannot be a byte.
    let raw = g.str("\u{100}\u{0}".to_string());
    let a = array_rec(&mut g, "numpy.core.multiarray", &[1], d, false, raw);
    assert!(NdArray::from_pickle(&g, a).unwrap_err().message.contains("latin-1"));
    // And read with encoding='bytes', the dtype string is bytes too.
    let class = g.global("numpy", "dtype");
    let s = g.bytes(b"f8".to_vec());
    let d = g.reduce(class, [s, Value::Int(0), Value::Int(1)]);
    let raw = g.bytes(1.5f64.to_le_bytes().to_vec());
    let a = array_rec(&mut g, "numpy.core.multiarray", &[], d, false, raw);
    assert_eq!(ndarray::Array0::<f64>::from_pickle(&g, a).unwrap()[()], 1.5);
}

#[test]
fn hostile_records_are_errors() {
    let mut g = Graph::new();
    let f8 = dtype_rec(&mut g, "f8", "<", -1);
    let m = "numpy._core.multiarray";
    let cases: Vec<(&[i64], usize, &str)> = vec![
        (&[3], 16, "needs 24"),
        (&[-1], 0, "negative dimension"),
        (&[1 << 40, 1 << 40], 0, "too large"),
        (&[0, 1 << 62, 1 << 62], 0, "too large"),
        (&[2; 65], 0, "dimensions"),
        (&[i64::MAX], 8, "too large"),
    ];
    for (shape, len, msg) in cases {
        let raw = g.bytes(vec![0; len]);
        let a = array_rec(&mut g, m, shape, f8, false, raw);
        let e = NdArray::from_pickle(&g, a).unwrap_err();
        assert!(e.to_string().contains(msg), "{shape:?}: {e}");
    }
    // Empty arrays with huge non-zero dims but a zero: fine when the product fits.
    let raw = g.bytes(vec![]);
    let a = array_rec(&mut g, m, &[0, 1 << 40], f8, false, raw);
    assert_eq!(NdArray::from_pickle(&g, a).unwrap().shape(), &[0, 1 << 40]);
    // Zero-sized items cost nothing in the pickle: their count is bounded.
    let s0 = dtype_rec(&mut g, "S0", "|", 0);
    let raw = g.bytes(vec![]);
    let a = array_rec(&mut g, m, &[1 << 40], s0, false, raw);
    assert!(NdArray::from_pickle(&g, a).unwrap_err().message.contains("size 0"));
    let a = array_rec(&mut g, m, &[3], s0, false, raw);
    assert_eq!(NdArray::from_pickle(&g, a).unwrap().len(), 3);
    // Item sizes must be numpy's.
    for (spec, elsize) in [("i3", -1), ("f1", -1), ("b2", -1), ("M4", -1), ("U3", 13), ("Q8", -1), ("S", -5)] {
        let d = dtype_rec(&mut g, spec, "<", elsize);
        let raw = g.bytes(vec![0; 4]);
        let a = array_rec(&mut g, m, &[1], d, false, raw);
        assert!(NdArray::from_pickle(&g, a).is_err(), "{spec}");
    }
    // Unsupported items are named, not garbage.
    let g16 = dtype_rec(&mut g, "f16", "<", -1);
    let raw = g.bytes(vec![0; 16]);
    let a = array_rec(&mut g, m, &[1], g16, false, raw);
    assert!(NdArray::from_pickle(&g, a).unwrap_err().message.contains("float128"));
    // UCS-4 beyond Unicode.
    let u1 = dtype_rec(&mut g, "U1", "<", 4);
    let raw = g.bytes(0x110000u32.to_le_bytes().to_vec());
    let a = array_rec(&mut g, m, &[1], u1, false, raw);
    assert!(NdArray::from_pickle(&g, a).unwrap_err().message.contains("U+110000"));
    // A data object that is no bytes.
    let a = array_rec(&mut g, m, &[1], f8, false, Value::Int(3));
    assert!(NdArray::from_pickle(&g, a).is_err());
    // Object arrays whose list does not match the shape.
    let o = dtype_rec(&mut g, "O8", "|", -1);
    let l = g.list([Value::Int(1)]);
    let a = array_rec(&mut g, m, &[2], o, false, l);
    assert!(NdArray::from_pickle(&g, a).is_err());
    // A field that runs past its record.
    let class = g.global("numpy", "dtype");
    let s = g.str("V4");
    let v4 = g.reduce(class, [s, Value::Bool(false), Value::Bool(true)]);
    let name = g.str("x");
    let entry = g.tuple([f8, Value::Int(0)]);
    let fields = g.dict([(name, entry)]).unwrap();
    let names = g.tuple([name]);
    let bar = g.str("|");
    let st = g.tuple([Value::Int(3), bar, Value::None, names, fields, Value::Int(4), Value::Int(1), Value::Int(16)]);
    g.set_state(v4, st).unwrap();
    assert!(Dtype::from_graph(&g, v4).unwrap_err().message.contains("runs past"));
    // A dtype whose field is itself: a cycle, stopped by the depth limit.
    let s = g.str("V8");
    let cyc = g.reduce(class, [s, Value::Bool(false), Value::Bool(true)]);
    let entry = g.tuple([cyc, Value::Int(0)]);
    let fields = g.dict([(name, entry)]).unwrap();
    let st = g.tuple([Value::Int(3), bar, Value::None, names, fields, Value::Int(8), Value::Int(1), Value::Int(16)]);
    g.set_state(cyc, st).unwrap();
    assert!(Dtype::from_graph(&g, cyc).unwrap_err().to_string().contains("deep"));
    // A dtype sharing one sub-dtype in many fields, many levels deep: bounded work.
    let mut inner = f8;
    for level in 0..40 {
        let spec = g.str(format!("V{}", 8usize << level.min(20)));
        let d = g.reduce(class, [spec, Value::Bool(false), Value::Bool(true)]);
        let n1 = g.str("a");
        let n2 = g.str("b");
        let e = g.tuple([inner, Value::Int(0)]);
        let fields = g.dict([(n1, e), (n2, e)]).unwrap();
        let names = g.tuple([n1, n2]);
        let st = g.tuple([
            Value::Int(3),
            bar,
            Value::None,
            names,
            fields,
            Value::Int(1 << 30),
            Value::Int(1),
            Value::Int(16),
        ]);
        g.set_state(d, st).unwrap();
        inner = d;
    }
    let t = std::time::Instant::now();
    assert!(Dtype::from_graph(&g, inner).is_err());
    assert!(t.elapsed().as_secs() < 5);
    // _frombuffer with a buffer that is not whole items, or a bad order.
    let fb = g.global("numpy.core.numeric", "_frombuffer");
    let buf = g.bytearray(vec![0; 12]);
    let sh = g.tuple([Value::Int(1)]);
    let c = g.str("C");
    let a = g.reduce(fb, [buf, f8, sh, c]);
    assert!(NdArray::from_pickle(&g, a).unwrap_err().message.contains("multiple"));
    let x = g.str("X");
    let buf = g.bytearray(vec![0; 8]);
    let a = g.reduce(fb, [buf, f8, sh, x]);
    assert!(NdArray::from_pickle(&g, a).is_err());
    // Not numpy at all.
    assert!(numpy::recognize(&g, Value::Int(1)).is_none());
    assert!(NdArray::from_pickle(&g, Value::Int(1)).unwrap_err().message.contains("found int"));
}

// ---- writing ---------------------------------------------------------------

fn roundtrip<T, D>(a: &ndarray::Array<T, D>) -> usize
where
    T: numpy::Element + PartialEq + std::fmt::Debug,
    D: ndarray::Dimension,
{
    let mut forms = 0;
    for p in 0..=5u8 {
        for marked in [false, true] {
            let mut g = Graph::new();
            if marked {
                g.set_protocol(p);
            }
            let v = a.to_pickle(&mut g).unwrap();
            g.set_root(v);
            let data = pyckle::dumps(&g, p).unwrap();
            let back = pyckle::loads(&data).unwrap();
            let r = back.as_record(back.root()).unwrap();
            let callable = back.as_global(r.callable).unwrap();
            let want = if marked && p == 5 { "_frombuffer" } else { "_reconstruct" };
            assert_eq!(callable.name, want, "protocol {p}");
            assert!(callable.module.starts_with("numpy.core."));
            let got = ndarray::Array::<T, D>::from_pickle(&back, back.root()).unwrap();
            assert_eq!(&got, a, "protocol {p}");
            let n = NdArray::from_pickle(&back, back.root()).unwrap();
            let f_layout = a.ndim() > 1 && !a.is_standard_layout() && a.t().is_standard_layout();
            assert_eq!(n.fortran, f_layout, "protocol {p}");
            forms += 1;
        }
    }
    forms
}

#[test]
fn arrays_write_and_read_back() {
    let mut n = 0;
    n += roundtrip(&array![[1.5f64, -0.0], [f64::INFINITY, 1e-300]]);
    n += roundtrip(&array![1.5f32, 2.25]);
    n += roundtrip(&array![f16::from_f32(0.5), f16::MAX]);
    n += roundtrip(&array![i8::MIN, 0, i8::MAX]);
    n += roundtrip(&array![[i16::MIN], [i16::MAX]]);
    n += roundtrip(&array![i32::MIN, 7]);
    n += roundtrip(&array![i64::MIN, i64::MAX]);
    n += roundtrip(&array![0u8, 255]);
    n += roundtrip(&array![u16::MAX]);
    n += roundtrip(&array![u32::MAX]);
    n += roundtrip(&array![u64::MAX, 1]);
    n += roundtrip(&array![true, false]);
    n += roundtrip(&array![Complex::new(1.0f32, -2.0)]);
    n += roundtrip(&array![[Complex::new(1.0f64, -2.0), Complex::new(0.0, f64::NAN.abs().min(3.0))]]);
    n += roundtrip(&array!["ab".to_string(), "".into(), "😀".into()]);
    n += roundtrip(&array![b"ab".to_vec(), b"xyz".to_vec()]);
    // Fortran layout, 0-d, empty, a non-contiguous view made owned.
    let f = ArrayD::from_shape_vec(IxDyn(&[2, 3, 4]).f(), (0..24).map(|v| v as f64).collect()).unwrap();
    n += roundtrip(&f);
    n += roundtrip(&ndarray::arr0(42i32));
    n += roundtrip(&Array2::<f64>::zeros((3, 0)));
    n += roundtrip(&Array1::<u8>::zeros(0));
    let big = Array2::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as i64);
    let s = big.slice(ndarray::s![..;2, 1..;2]);
    let mut g = Graph::new();
    let v = s.to_pickle(&mut g).unwrap();
    g.set_root(v);
    let back = pyckle::loads(&pyckle::dumps(&g, 2).unwrap()).unwrap().into_owned();
    assert_eq!(Array2::<i64>::from_pickle(&back, back.root()).unwrap(), s);
    assert_eq!(n, 20 * 12);
}

#[test]
fn writing_names_forms_and_out_of_band() {
    let a = array![[1.0f64, 2.0], [3.0, 4.0]];
    let mut g = Graph::new();
    let opts = WriteOptions { form: Form::FromBuffer, names: Names::Numpy2 };
    let v = numpy::write_array(&mut g, a.view().into_dyn(), &opts).unwrap();
    g.set_root(v);
    assert!(pyckle::dumps(&g, 4).is_err(), "PickleBuffer needs protocol 5");
    let mut bufs = Vec::new();
    let mut out = Vec::new();
    {
        let mut p = pyckle::Pickler::new(&mut out, 5).unwrap();
        p.set_buffer_callback(|b: &pyckle::graph::Buffer<'_>| {
            bufs.push(b.data.to_vec());
            false
        });
        p.dump(&g).unwrap();
    }
    assert_eq!(bufs.len(), 1);
    assert_eq!(bufs[0].len(), 32);
    let mut u = pyckle::Unpickler::default();
    u.buffers(bufs);
    let back = u.loads(&out).unwrap();
    let r = back.as_record(back.root()).unwrap();
    assert!(back.as_global(r.callable).unwrap().is("numpy._core.numeric", "_frombuffer"));
    assert_eq!(Array2::<f64>::from_pickle(&back, back.root()).unwrap(), a);

    // Other dtypes through NdArray: datetime, structured, big-endian data written native.
    for name in [
        "np2_datetime_ms_be",
        "np2_structured",
        "np1_timedelta_3us",
        "np2_arr_c16_be",
        "np2_void_V4",
        "np2_unicode_U3_be_2d",
    ] {
        let data = load(&format!("{name}_p2.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        for p in 0..=5 {
            let mut w = Graph::new();
            w.set_protocol(p);
            let v = a.to_pickle(&mut w).unwrap();
            w.set_root(v);
            let bytes = pyckle::dumps(&w, p).unwrap();
            let back = pyckle::loads(&bytes).unwrap();
            let b = NdArray::from_pickle(&back, back.root()).unwrap();
            // Debug text, so that NaN equals NaN.
            assert_eq!(format!("{:?}", b.data.scalars()), format!("{:?}", a.data.scalars()), "{name} p{p}");
            assert_eq!(b.shape(), a.shape());
            assert_eq!(b.dtype.name(), a.dtype.name());
        }
    }
    // Object arrays' items live in another graph.
    let data = load("np2_object_mixed_p4.pkl");
    let g = pyckle::loads(&data).unwrap();
    let a = NdArray::from_pickle(&g, g.root()).unwrap();
    assert!(a.to_pickle(&mut Graph::new()).is_err());
}

/// pyckle writes what numpy 1.26 writes, byte for byte, for plain arrays
/// and dtypes at every protocol (protocol 5 with `graph.set_protocol(5)`).
#[test]
fn identical_to_numpy_1_pickles() {
    let mut same = 0;
    for name in [
        "arr_f8_le",
        "arr_i4_le",
        "arr_u1",
        "arr_b1",
        "arr_c8_le",
        "arr_f2_le",
        "fortran_f8",
        "zero_d_f8",
        "empty_i4_3x0",
    ] {
        let data = load(&format!("np1_{name}_p2.pkl"));
        let g = pyckle::loads(&data).unwrap();
        let a = NdArray::from_pickle(&g, g.root()).unwrap();
        for p in 0..=5u8 {
            let mut w = Graph::new();
            w.set_protocol(p);
            let v = a.to_pickle(&mut w).unwrap();
            w.set_root(v);
            let ours = pyckle::dumps(&w, p).unwrap();
            let theirs = load(&format!("np1_{name}_p{p}.pkl"));
            assert_eq!(ours, theirs, "{name} protocol {p}");
            same += 1;
        }
    }
    for name in ["dtype_f8", "dtype_U7", "dtype_M8_ns", "dtype_object", "dtype_structured", "dtype_subarray"] {
        for p in 0..=5u8 {
            let theirs = load(&format!("np1_{name}_p{p}.pkl"));
            let g = pyckle::loads(&theirs).unwrap();
            let d = Dtype::from_pickle(&g, g.root()).unwrap();
            let mut w = Graph::new();
            let v = d.to_pickle(&mut w).unwrap();
            w.set_root(v);
            assert_eq!(pyckle::dumps(&w, p).unwrap(), theirs, "{name} protocol {p}");
            same += 1;
        }
    }
    assert_eq!(same, 90);
}
