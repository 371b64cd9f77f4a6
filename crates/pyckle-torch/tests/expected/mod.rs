//! tests/fixtures/torch/expected.json, and checking a tensor against it
//! (shared by tests/tensors.rs and the crate's own unit tests).

#![allow(dead_code)]

use super::pyckle_torch_under_test::{DType, Quantization, Tensor, TensorView};
use serde_json::Value as J;
use std::path::PathBuf;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/torch")
}

/// expected.json: file name -> its entry.
pub fn expected() -> serde_json::Map<String, J> {
    read_expected("expected.json")
}

/// expected.json and tar_expected.json (the oldest tar format, made by make_torch_tar.py).
pub fn all_expected() -> serde_json::Map<String, J> {
    let mut m = expected();
    if fixtures().join("tar_expected.json").exists() {
        m.extend(read_expected("tar_expected.json"));
    }
    m
}

fn read_expected(file: &str) -> serde_json::Map<String, J> {
    let text = std::fs::read_to_string(fixtures().join(file)).expect(file);
    match serde_json::from_str(&text).expect("expected json parses") {
        J::Object(m) => m.into_iter().filter(|(k, _)| !k.starts_with('_')).collect(),
        _ => panic!("{file} is not an object"),
    }
}

fn uints(j: &J) -> Vec<u64> {
    j.as_array().expect("an array").iter().map(|x| x.as_u64().expect("a u64")).collect()
}

/// Checks one tensor's metadata (name, dtype, shape, stride, offset,
/// quantization; requires_grad and parameter when `grad`) against `want`.
pub fn check_meta(file: &str, name: &str, t: &Tensor, want: &J, grad: bool) {
    let at = format!("{file}: {name}");
    assert_eq!(name, want["name"].as_str().unwrap(), "{at}: name");
    assert_eq!(t.dtype.name(), want["dtype"].as_str().unwrap(), "{at}: dtype");
    assert_eq!(DType::from_torch_name(t.dtype.name()), Some(t.dtype), "{at}");
    assert_eq!(t.shape, uints(&want["shape"]), "{at}: shape");
    assert_eq!(t.strides, uints(&want["stride"]), "{at}: stride");
    assert_eq!(t.storage_offset, want["storage_offset"].as_u64().unwrap(), "{at}: storage offset");
    if grad {
        assert_eq!(t.requires_grad, want["requires_grad"].as_bool().unwrap(), "{at}: requires_grad");
        assert_eq!(t.parameter, want["parameter"].as_bool().unwrap(), "{at}: parameter");
    }
    let flag = |k: &str| want.get(k).and_then(J::as_bool).unwrap_or(false);
    assert_eq!((t.neg, t.conj), (flag("neg"), flag("conj")), "{at}: neg and conj bits");
    match (&t.quantization, want.get("quantization")) {
        (None, None) => {}
        (Some(Quantization::PerTensorAffine { scale, zero_point }), Some(q)) => {
            assert_eq!(*scale, q["scale"].as_f64().unwrap(), "{at}: scale");
            assert_eq!(*zero_point, q["zero_point"].as_i64().unwrap(), "{at}: zero point");
        }
        (Some(Quantization::PerChannelAffine { scales, zero_points, axis }), Some(q)) => {
            assert_eq!(*axis, q["axis"].as_i64().unwrap(), "{at}: axis");
            let ws: Vec<f64> = q["scales"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let wz: Vec<i64> = q["zero_points"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
            assert_eq!(scales, &ws, "{at}: scales");
            assert_eq!(zero_points, &wz, "{at}: zero points");
        }
        (got, want) => panic!("{at}: quantization {got:?}, want {want:?}"),
    }
}

/// A float of expected.json: a number or "nan"/"inf"/"-inf".
fn float(j: &J) -> f64 {
    match j {
        J::String(s) if s == "nan" => f64::NAN,
        J::String(s) if s == "inf" => f64::INFINITY,
        J::String(s) if s == "-inf" => f64::NEG_INFINITY,
        _ => j.as_f64().unwrap_or_else(|| panic!("a float: {j}")),
    }
}

fn same_float(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

/// Checks a view's values (C order) against `want["values"]`, with the
/// reader fitting the dtype; and that the contiguous bytes and the streamed
/// bytes agree with the values.
pub fn check_values(at: &str, v: &TensorView<'_>, want: &J) {
    // A view reads the stored values: undo torch's lazy neg/conj bits on the expected ones.
    let flag = |k: &str| want.get(k).and_then(J::as_bool).unwrap_or(false);
    let stored: Vec<J>;
    let want = if flag("neg") || flag("conj") {
        let neg = |x: &J| match x {
            J::String(s) if s == "inf" => J::from("-inf"),
            J::String(s) if s == "-inf" => J::from("inf"),
            J::String(s) => J::from(s.clone()),
            _ => J::from(-x.as_f64().expect("a float")),
        };
        stored = want["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|x| match (x, flag("neg"), flag("conj")) {
                (J::Array(c), n, cj) => {
                    let (re, im) = (c[0].clone(), c[1].clone());
                    let (re, im) = if n { (neg(&re), neg(&im)) } else { (re, im) };
                    J::Array(vec![re, if cj { neg(&im) } else { im }])
                }
                (x, true, _) => neg(x),
                (x, _, _) => x.clone(),
            })
            .collect();
        &stored
    } else {
        want["values"].as_array().expect("values")
    };
    assert_eq!(v.numel().unwrap(), want.len() as u64, "{at}: numel");
    let bytes = v.to_contiguous_bytes().unwrap();
    assert_eq!(bytes.len() as u64, v.nbytes().unwrap(), "{at}: contiguous bytes");
    let mut streamed = Vec::new();
    assert_eq!(v.write_contiguous(&mut streamed).unwrap(), bytes.len() as u64, "{at}");
    assert_eq!(&streamed[..], &bytes[..], "{at}: streamed == contiguous");
    let d = v.dtype;
    match d {
        DType::C64 | DType::C128 => {
            let got: Vec<[f64; 2]> = if d == DType::C64 {
                v.to_vec::<[f32; 2]>().unwrap().into_iter().map(|[a, b]| [a as f64, b as f64]).collect()
            } else {
                v.to_vec::<[f64; 2]>().unwrap()
            };
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                let w = w.as_array().unwrap();
                assert!(same_float(g[0], float(&w[0])) && same_float(g[1], float(&w[1])), "{at}[{i}]: {g:?} != {w:?}");
            }
            assert!(v.to_f64_vec().is_err(), "{at}: complex as f64");
        }
        DType::Bool => {
            let got = v.to_vec::<bool>().unwrap();
            let w: Vec<bool> = want.iter().map(|x| x.as_bool().unwrap()).collect();
            assert_eq!(got, w, "{at}");
        }
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::QInt8 | DType::QInt32 => {
            let got: Vec<i64> = match d {
                DType::I8 | DType::QInt8 => v.to_vec::<i8>().unwrap().into_iter().map(i64::from).collect(),
                DType::I16 => v.to_vec::<i16>().unwrap().into_iter().map(i64::from).collect(),
                DType::I32 | DType::QInt32 => v.to_vec::<i32>().unwrap().into_iter().map(i64::from).collect(),
                _ => v.to_vec::<i64>().unwrap(),
            };
            let w: Vec<i64> = want.iter().map(|x| x.as_i64().unwrap()).collect();
            assert_eq!(got, w, "{at}");
        }
        DType::U8 | DType::U16 | DType::U32 | DType::U64 | DType::QUInt8 => {
            let got: Vec<u64> = match d {
                DType::U8 | DType::QUInt8 => v.to_vec::<u8>().unwrap().into_iter().map(u64::from).collect(),
                DType::U16 => v.to_vec::<u16>().unwrap().into_iter().map(u64::from).collect(),
                DType::U32 => v.to_vec::<u32>().unwrap().into_iter().map(u64::from).collect(),
                _ => v.to_vec::<u64>().unwrap(),
            };
            let w: Vec<u64> = want.iter().map(|x| x.as_u64().unwrap()).collect();
            assert_eq!(got, w, "{at}");
        }
        _ => {}
    }
    if !d.is_complex() {
        // Every real dtype through f64 (ints here are all exact in f64 or rounded alike).
        let got = v.to_f64_vec().unwrap();
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let w = match w {
                J::Bool(b) => *b as u8 as f64,
                J::Number(n) => n.as_f64().unwrap(),
                _ => float(w),
            };
            assert!(same_float(*g, w) || (g == &w), "{at}[{i}]: {g} != {w}");
        }
        #[cfg(feature = "ndarray")]
        {
            let a = v.to_ndarray_f64().unwrap();
            assert_eq!(a.shape().iter().map(|&x| x as u64).collect::<Vec<_>>(), v.shape, "{at}: ndarray shape");
            assert_eq!(a.len(), got.len());
        }
    }
    if d == DType::F32 {
        let got = v.to_vec::<f32>().unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!(same_float(*g as f64, float(w)), "{at}: f32 {g} != {w}");
        }
    }
}
