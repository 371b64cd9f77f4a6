//! TensorView on hand-made storages: strided, expanded, empty and 0-d
//! views, big-endian storages, every reader, float8 decoding against
//! torch's own tables, and hostile layouts (no panic, clear errors).

use pyckle_torch::{float8_to_f32, DType, StorageRef, Tensor, TensorView, MAX_EXPANDED_COPY};
use std::borrow::Cow;

fn view<'a>(
    dtype: DType,
    shape: &[u64],
    strides: &[u64],
    offset: u64,
    storage: &'a [u8],
    big_endian: bool,
) -> TensorView<'a> {
    TensorView { dtype, shape: shape.to_vec(), strides: strides.to_vec(), offset, storage, big_endian }
}

fn f32_bytes(v: &[f32], big: bool) -> Vec<u8> {
    v.iter().flat_map(|x| if big { x.to_be_bytes() } else { x.to_le_bytes() }).collect()
}

/// The elements of a view in C order, by the definition (a slow reference).
fn naive_positions(shape: &[u64], strides: &[u64], offset: u64) -> Vec<u64> {
    let n: u64 = shape.iter().product();
    let mut out = Vec::new();
    for mut i in 0..n {
        let mut pos = offset;
        for (d, s) in shape.iter().zip(strides).rev() {
            pos += (i % d) * s;
            i /= d;
        }
        out.push(pos);
    }
    out
}

#[test]
fn contiguous_little_endian_is_borrowed() {
    let storage = f32_bytes(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], false);
    let v = view(DType::F32, &[2, 3], &[3, 1], 1, &storage, false);
    assert!(v.is_contiguous());
    assert_eq!(v.numel().unwrap(), 6);
    assert_eq!(v.nbytes().unwrap(), 24);
    match v.to_contiguous_bytes().unwrap() {
        Cow::Borrowed(b) => assert_eq!(b.as_ptr(), storage[4..].as_ptr()),
        Cow::Owned(_) => panic!("a contiguous little-endian view is borrowed"),
    }
    assert_eq!(v.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn transposed_and_sliced_views_copy_in_c_order() {
    // base = arange(24).reshape(4, 6) as float32
    let base: Vec<f32> = (0..24).map(|x| x as f32).collect();
    let storage = f32_bytes(&base, false);
    type Case<'a> = (&'a [u64], &'a [u64], u64, &'a [f32]);
    let cases: &[Case] = &[
        (
            &[6, 4],
            &[1, 6],
            0,
            &[
                0., 6., 12., 18., 1., 7., 13., 19., 2., 8., 14., 20., 3., 9., 15., 21., 4., 10., 16., 22., 5., 11.,
                17., 23.,
            ],
        ),
        (&[4], &[6], 1, &[1., 7., 13., 19.]),
        (&[2, 3], &[6, 1], 8, &[8., 9., 10., 14., 15., 16.]),
        (&[2, 2], &[12, 3], 0, &[0., 3., 12., 15.]),
        (&[2, 1, 3], &[6, 99, 1], 8, &[8., 9., 10., 14., 15., 16.]),
    ];
    for &(shape, strides, offset, want) in cases {
        let v = view(DType::F32, shape, strides, offset, &storage, false);
        assert!(!v.is_contiguous(), "{shape:?} {strides:?}");
        let bytes = v.to_contiguous_bytes().unwrap();
        assert!(matches!(bytes, Cow::Owned(_)));
        assert_eq!(&bytes[..], &f32_bytes(want, false)[..], "{shape:?} {strides:?}");
        let mut streamed = Vec::new();
        assert_eq!(v.write_contiguous(&mut streamed).unwrap(), bytes.len() as u64);
        assert_eq!(streamed, bytes.to_vec());
        assert_eq!(v.to_vec::<f32>().unwrap(), want);
        assert_eq!(v.to_f64_vec().unwrap(), want.iter().map(|&x| x as f64).collect::<Vec<_>>());
    }
}

#[test]
fn size_one_dimensions_may_have_any_stride() {
    let storage = f32_bytes(&[1.0, 2.0, 3.0], false);
    let v = view(DType::F32, &[1, 3, 1], &[7, 1, 1000], 0, &storage, false);
    assert!(v.is_contiguous());
    assert!(matches!(v.to_contiguous_bytes().unwrap(), Cow::Borrowed(_)));
}

#[test]
fn expanded_views_repeat_elements() {
    let storage: Vec<u8> = [0i16, 1, 2].iter().flat_map(|x| x.to_le_bytes()).collect();
    let v = view(DType::I16, &[4, 3], &[0, 1], 0, &storage, false);
    assert!(!v.is_contiguous());
    assert_eq!(v.to_vec::<i16>().unwrap(), vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    let v = view(DType::I16, &[2, 3], &[1, 0], 1, &storage, false);
    assert_eq!(v.to_vec::<i16>().unwrap(), vec![1, 1, 1, 2, 2, 2]);
    // A scalar broadcast to a big shape streams without a copy.
    let one = 7.5f32.to_le_bytes();
    let v = view(DType::F32, &[1000, 1000], &[0, 0], 0, &one, false);
    let mut out = Vec::new();
    assert_eq!(v.write_contiguous(&mut out).unwrap(), 4_000_000);
    assert!(out.chunks(4).all(|c| c == one));
    assert_eq!(v.to_contiguous_bytes().unwrap().len(), 4_000_000);
}

#[test]
fn expanded_copies_are_bounded() {
    let one = 1.0f64.to_le_bytes();
    let v = view(DType::F64, &[1 << 16, 1 << 16], &[0, 0], 0, &one, false);
    assert_eq!(v.numel().unwrap(), 1 << 32);
    let e = v.to_contiguous_bytes().unwrap_err().to_string();
    assert!(e.contains("expanded view") && e.contains(&MAX_EXPANDED_COPY.to_string()), "{e}");
    assert!(v.to_vec::<f64>().is_err());
    assert!(v.to_f64_vec().is_err());
    // Streaming it is allowed: stop after the first megabyte.
    struct Stop(u64);
    impl std::io::Write for Stop {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len() as u64;
            if self.0 > 1 << 20 {
                return Err(std::io::Error::other("enough"));
            }
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = v.write_contiguous(&mut Stop(0)).unwrap_err().to_string();
    assert!(e.contains("enough"), "{e}");
}

#[test]
fn empty_and_zero_dimensional_tensors() {
    let storage = f32_bytes(&[1.0, 2.5], false);
    let v = view(DType::F32, &[0, 3], &[3, 1], 0, &storage, false);
    assert_eq!(v.numel().unwrap(), 0);
    assert!(v.is_contiguous());
    assert!(v.to_contiguous_bytes().unwrap().is_empty());
    assert!(v.to_vec::<f32>().unwrap().is_empty());
    let mut out = Vec::new();
    assert_eq!(v.write_contiguous(&mut out).unwrap(), 0);
    // An empty view anywhere (even past its storage) reads nothing.
    let v = view(DType::F32, &[3, 0], &[1, 1], 1000, &storage, false);
    assert!(v.to_f64_vec().unwrap().is_empty());
    // 0-d: one element at the offset.
    let v = view(DType::F32, &[], &[], 1, &storage, false);
    assert_eq!(v.numel().unwrap(), 1);
    assert!(v.is_contiguous());
    assert_eq!(v.to_vec::<f32>().unwrap(), vec![2.5]);
    assert_eq!(&v.to_contiguous_bytes().unwrap()[..], &2.5f32.to_le_bytes());
    #[cfg(feature = "ndarray")]
    {
        let a = v.to_ndarray::<f32>().unwrap();
        assert_eq!(a.ndim(), 0);
        assert_eq!(a.first(), Some(&2.5));
    }
}

#[test]
fn big_endian_storages_read_little_endian() {
    // float32, transposed
    let storage = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], true);
    let v = view(DType::F32, &[3, 2], &[1, 3], 0, &storage, true);
    assert_eq!(v.to_vec::<f32>().unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(&v.to_contiguous_bytes().unwrap()[..], &f32_bytes(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0], false)[..]);
    // contiguous big-endian is a swapped copy
    let v = view(DType::F32, &[6], &[1], 0, &storage, true);
    let b = v.to_contiguous_bytes().unwrap();
    assert!(matches!(b, Cow::Owned(_)));
    assert_eq!(&b[..], &f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], false)[..]);
    // int16, int64, float16, bfloat16, float64
    let s: Vec<u8> = [-2i16, 300].iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(view(DType::I16, &[2], &[1], 0, &s, true).to_vec::<i16>().unwrap(), vec![-2, 300]);
    let s: Vec<u8> = [i64::MIN, 5].iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(view(DType::I64, &[2], &[1], 0, &s, true).to_vec::<i64>().unwrap(), vec![i64::MIN, 5]);
    let s: Vec<u8> = [half::f16::from_f32(-2.5)].iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(view(DType::F16, &[1], &[1], 0, &s, true).to_f64_vec().unwrap(), vec![-2.5]);
    let s: Vec<u8> = [half::bf16::from_f32(0.33203125)].iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(view(DType::BF16, &[1], &[1], 0, &s, true).to_vec::<half::bf16>().unwrap()[0].to_f32(), 0.33203125);
    let s = 0.1f64.to_be_bytes();
    assert_eq!(view(DType::F64, &[], &[], 0, &s, true).to_f64_vec().unwrap(), vec![0.1]);
    // complex64: each half swapped on its own, re before im
    let s: Vec<u8> = [1.5f32, -0.5, 2.0, 3.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    let v = view(DType::C64, &[2], &[1], 0, &s, true);
    assert_eq!(v.to_vec::<[f32; 2]>().unwrap(), vec![[1.5, -0.5], [2.0, 3.0]]);
    assert_eq!(&v.to_contiguous_bytes().unwrap()[..], &f32_bytes(&[1.5, -0.5, 2.0, 3.0], false)[..]);
    // single bytes are not swapped, and stay borrowed
    let s = [1u8, 0, 1];
    let v = view(DType::Bool, &[3], &[1], 0, &s, true);
    assert!(matches!(v.to_contiguous_bytes().unwrap(), Cow::Borrowed(_)));
    assert_eq!(v.to_vec::<bool>().unwrap(), vec![true, false, true]);
}

#[test]
fn big_strided_views_stream_across_chunks() {
    // 300 x 300 float32 transposed, little- and big-endian: 360,000 bytes
    // through the 64 KiB staging buffer, one element per block.
    let n = 300u64;
    let vals: Vec<f32> = (0..n * n).map(|x| x as f32 * 0.5).collect();
    for big in [false, true] {
        let storage = f32_bytes(&vals, big);
        let v = view(DType::F32, &[n, n], &[1, n], 0, &storage, big);
        let want: Vec<f32> = naive_positions(&[n, n], &[1, n], 0).iter().map(|&p| vals[p as usize]).collect();
        let mut out = Vec::new();
        v.write_contiguous(&mut out).unwrap();
        assert_eq!(out, f32_bytes(&want, false));
        assert_eq!(&v.to_contiguous_bytes().unwrap()[..], &out[..]);
        // contiguous and big-endian: whole-chunk swaps
        let v = view(DType::F32, &[n * n], &[1], 0, &storage, big);
        let mut out = Vec::new();
        v.write_contiguous(&mut out).unwrap();
        assert_eq!(out, f32_bytes(&vals, false));
    }
}

#[test]
fn elements_read_only_as_their_own_type() {
    let s = [0u8; 16];
    let v = view(DType::F32, &[4], &[1], 0, &s, false);
    assert!(v.to_vec::<f64>().is_err());
    assert!(v.to_vec::<i32>().is_err());
    assert!(v.to_vec::<f32>().is_ok());
    // quantized: the integer representation
    let s = [0xffu8, 3];
    assert_eq!(view(DType::QInt8, &[2], &[1], 0, &s, false).to_vec::<i8>().unwrap(), vec![-1, 3]);
    assert_eq!(view(DType::QUInt8, &[2], &[1], 0, &s, false).to_vec::<u8>().unwrap(), vec![255, 3]);
    assert_eq!(view(DType::QInt8, &[2], &[1], 0, &s, false).to_f64_vec().unwrap(), vec![-1.0, 3.0]);
    // float8: their bytes as u8
    assert_eq!(view(DType::F8E4M3FN, &[2], &[1], 0, &s, false).to_vec::<u8>().unwrap(), vec![255, 3]);
    // complex is not real
    let s = [0u8; 16];
    assert!(view(DType::C128, &[1], &[1], 0, &s, false).to_f64_vec().is_err());
    assert_eq!(view(DType::C128, &[1], &[1], 0, &s, false).to_vec::<[f64; 2]>().unwrap(), vec![[0.0, 0.0]]);
    // unsigned 64-bit beyond i64
    let s = u64::MAX.to_le_bytes();
    assert_eq!(view(DType::U64, &[1], &[1], 0, &s, false).to_vec::<u64>().unwrap(), vec![u64::MAX]);
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_arrays() {
    let vals: Vec<half::bf16> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0].iter().map(|&x| half::bf16::from_f32(x)).collect();
    let storage: Vec<u8> = vals.iter().flat_map(|x| x.to_le_bytes()).collect();
    let v = view(DType::BF16, &[3, 2], &[1, 3], 0, &storage, false);
    let a = v.to_ndarray::<half::bf16>().unwrap();
    assert_eq!(a.shape(), &[3, 2]);
    assert_eq!(a[[0, 1]].to_f32(), 4.0);
    assert_eq!(a[[2, 0]].to_f32(), 3.0);
    let f = v.to_ndarray_f64().unwrap();
    assert_eq!(f[[1, 1]], 5.0);
    assert!(v.to_ndarray::<f32>().is_err());
}

#[test]
fn views_outside_their_storage_are_errors() {
    let s = [0u8; 24]; // six float32
    let bad: &[(&[u64], &[u64], u64)] = &[
        (&[7], &[1], 0),
        (&[6], &[1], 1),
        (&[2, 3], &[3, 1], 1),
        (&[3, 2], &[1, 3], 1),
        (&[2], &[6], 0),
        (&[], &[], 6),
        (&[2, 2], &[1], 0),                // sizes and strides differ in length
        (&[1 << 33, 1 << 33], &[1, 1], 0), // numel overflows
        (&[2], &[u64::MAX], 0),            // extent overflows
        (&[1], &[1], u64::MAX),
    ];
    for &(shape, strides, offset) in bad {
        let v = view(DType::F32, shape, strides, offset, &s, false);
        assert!(v.to_contiguous_bytes().is_err(), "{shape:?} {strides:?} {offset}");
        assert!(v.to_vec::<f32>().is_err(), "{shape:?} {strides:?} {offset}");
        assert!(v.to_f64_vec().is_err());
        assert!(v.write_contiguous(&mut Vec::new()).is_err());
        let msg = v.to_contiguous_bytes().unwrap_err().to_string();
        assert!(!msg.is_empty());
    }
}

/// A little deterministic generator for the randomized test.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_layouts_match_the_definition() {
    let mut rng = Lcg(5);
    let dtypes = [DType::F32, DType::I16, DType::C64, DType::F64, DType::U8, DType::BF16];
    let mut checked = 0;
    for _ in 0..3000 {
        let dtype = dtypes[rng.below(dtypes.len() as u64) as usize];
        let is = dtype.itemsize() as u64;
        let nelems = rng.below(40);
        let storage: Vec<u8> = (0..nelems * is).map(|_| rng.next() as u8).collect();
        let ndim = rng.below(4) as usize;
        let shape: Vec<u64> = (0..ndim).map(|_| rng.below(5)).collect();
        let strides: Vec<u64> = (0..ndim).map(|_| rng.below(9)).collect();
        let offset = rng.below(12);
        let big = rng.below(2) == 1;
        let v = view(dtype, &shape, &strides, offset, &storage, big);
        let positions = naive_positions(&shape, &strides, offset);
        let inside = positions.iter().all(|&p| (p + 1) * is <= storage.len() as u64);
        let got = v.to_contiguous_bytes();
        if !inside {
            assert!(got.is_err(), "{dtype:?} {shape:?} {strides:?} {offset} over {nelems}");
            continue;
        }
        let unit = dtype.swap_unit();
        let mut want = Vec::new();
        for &p in &positions {
            let mut e = storage[(p * is) as usize..((p + 1) * is) as usize].to_vec();
            if big {
                for c in e.chunks_mut(unit) {
                    c.reverse();
                }
            }
            want.extend(e);
        }
        let got = got.unwrap();
        assert_eq!(&got[..], &want[..], "{dtype:?} {shape:?} {strides:?} {offset} big={big}");
        let mut streamed = Vec::new();
        v.write_contiguous(&mut streamed).unwrap();
        assert_eq!(streamed, want);
        if dtype == DType::F32 {
            let vals = v.to_vec::<f32>().unwrap();
            let w: Vec<f32> = want.chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
            assert_eq!(
                vals.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                w.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn tensor_extent_bytes() {
    let t = |shape: &[u64], strides: &[u64], offset: u64, byte_offset: u64| Tensor {
        dtype: DType::F32,
        shape: shape.to_vec(),
        strides: strides.to_vec(),
        storage_offset: offset,
        storage: StorageRef { key: "0".into(), location: "cpu".into(), dtype: DType::F32, byte_offset, nbytes: 96 },
        requires_grad: false,
        parameter: false,
        quantization: None,
        conj: false,
        neg: false,
    };
    assert_eq!(t(&[4, 6], &[6, 1], 0, 0).extent_bytes().unwrap(), 96);
    assert_eq!(t(&[2, 5], &[6, 1], 13, 0).extent_bytes().unwrap(), (13 + 6 + 4 + 1) * 4);
    assert_eq!(t(&[4, 3], &[0, 1], 0, 8).extent_bytes().unwrap(), 12 + 8);
    assert_eq!(t(&[0, 3], &[3, 1], 100, 0).extent_bytes().unwrap(), 0);
    assert_eq!(t(&[], &[], 2, 0).extent_bytes().unwrap(), 12);
    assert!(t(&[3], &[u64::MAX / 2], 0, 0).extent_bytes().is_err());
    assert!(t(&[2], &[1], u64::MAX, 0).extent_bytes().is_err());
    assert!(t(&[2], &[1], 0, u64::MAX).extent_bytes().is_err());
    assert!(t(&[2], &[], 0, 0).extent_bytes().is_err());
    assert_eq!(t(&[2, 3], &[3, 1], 0, 0).numel(), Some(6));
}

#[test]
fn dtype_names() {
    for d in DType::ALL {
        assert_eq!(DType::from_torch_name(d.name()), Some(d));
        assert_eq!(DType::from_torch_name(&format!("torch.{}", d.name())), Some(d));
        assert_eq!(d.to_string(), d.name());
    }
    for (alias, d) in [
        ("float", DType::F32),
        ("double", DType::F64),
        ("half", DType::F16),
        ("long", DType::I64),
        ("int", DType::I32),
        ("short", DType::I16),
        ("cfloat", DType::C64),
        ("cdouble", DType::C128),
    ] {
        assert_eq!(DType::from_torch_name(alias), Some(d));
    }
    assert_eq!(DType::from_torch_name("complex32"), None);
    let classes = [
        ("DoubleStorage", DType::F64),
        ("FloatStorage", DType::F32),
        ("HalfStorage", DType::F16),
        ("BFloat16Storage", DType::BF16),
        ("ComplexFloatStorage", DType::C64),
        ("ComplexDoubleStorage", DType::C128),
        ("CharStorage", DType::I8),
        ("ShortStorage", DType::I16),
        ("IntStorage", DType::I32),
        ("LongStorage", DType::I64),
        ("ByteStorage", DType::U8),
        ("BoolStorage", DType::Bool),
        ("QInt8Storage", DType::QInt8),
        ("QUInt8Storage", DType::QUInt8),
        ("QInt32Storage", DType::QInt32),
        ("QUInt4x2Storage", DType::QUInt4x2),
        ("QUInt2x4Storage", DType::QUInt2x4),
    ];
    for (c, d) in classes {
        assert_eq!(DType::from_storage_class(c), Some(d), "{c}");
    }
    assert_eq!(DType::from_storage_class("UntypedStorage"), None);
    let floats: Vec<DType> = DType::ALL.into_iter().filter(|d| d.is_float()).collect();
    assert_eq!(floats.len(), 8);
    assert!(!DType::C64.is_float() && DType::C64.is_complex());
    assert_eq!(DType::C64.swap_unit(), 4);
    assert_eq!(DType::C128.swap_unit(), 8);
    // safetensors: every name the crate has matches it; the rest are names only the format has.
    for d in DType::ALL {
        if let Some(s) = d.safetensors_dtype() {
            assert_eq!(Some(format!("{s:?}").as_str()), d.safetensors_name(), "{d}");
            assert_eq!(s.size(), d.itemsize(), "{d}");
        }
    }
    assert_eq!(DType::F8E4M3FN.safetensors_name(), Some("F8_E4M3"));
    assert_eq!(DType::F8E4M3FNUZ.safetensors_name(), Some("F8_E4M3FNUZ"));
    assert_eq!(DType::F8E4M3FNUZ.safetensors_dtype(), None);
    assert_eq!(DType::C64.safetensors_name(), Some("C64"));
    assert_eq!(DType::C128.safetensors_name(), None);
    assert_eq!(DType::QInt8.safetensors_name(), None);
    assert_eq!(DType::QInt8.int_repr(), DType::I8);
    assert_eq!(DType::QInt32.int_repr(), DType::I32);
    assert_eq!(DType::Bool.safetensors_name(), Some("BOOL"));
}

#[test]
fn float8_decoding_matches_torch_for_every_byte() {
    for (dtype, table) in [
        (DType::F8E4M3FN, &E4M3FN),
        (DType::F8E4M3FNUZ, &E4M3FNUZ),
        (DType::F8E5M2, &E5M2),
        (DType::F8E5M2FNUZ, &E5M2FNUZ),
    ] {
        let storage: Vec<u8> = (0..=255).collect();
        let via_view = view(dtype, &[256], &[1], 0, &storage, false).to_f64_vec().unwrap();
        for b in 0..=255u8 {
            let want = f32::from_bits(table[b as usize]);
            let got = float8_to_f32(dtype, b).unwrap();
            if want.is_nan() {
                assert!(got.is_nan() && via_view[b as usize].is_nan(), "{dtype:?} {b:#04x}");
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "{dtype:?} {b:#04x}: {got} != {want}");
                assert_eq!(via_view[b as usize].to_bits(), (want as f64).to_bits());
            }
        }
    }
    // A few by hand: the largest finite values and the smallest subnormals.
    assert_eq!(float8_to_f32(DType::F8E4M3FN, 0x7e), Some(448.0));
    assert_eq!(float8_to_f32(DType::F8E5M2, 0x7b), Some(57344.0));
    assert_eq!(float8_to_f32(DType::F8E5M2, 0x7c), Some(f32::INFINITY));
    assert_eq!(float8_to_f32(DType::F8E4M3FNUZ, 0x01), Some(2f32.powi(-10)));
    assert_eq!(float8_to_f32(DType::F8E5M2FNUZ, 0x01), Some(2f32.powi(-17)));
    assert!(float8_to_f32(DType::F8E4M3FNUZ, 0x80).unwrap().is_nan());
    assert_eq!(float8_to_f32(DType::F32, 0), None);
}

// f32 bits of every float8 byte 0x00..=0xff, as torch 2.15 decodes it:
// torch.arange(256, dtype=torch.uint8).view(DT).float().view(torch.int32), printed as hex
const E4M3FN: [u32; 256] = [
    0x00000000, 0x3b000000, 0x3b800000, 0x3bc00000, 0x3c000000, 0x3c200000, 0x3c400000, 0x3c600000, 0x3c800000,
    0x3c900000, 0x3ca00000, 0x3cb00000, 0x3cc00000, 0x3cd00000, 0x3ce00000, 0x3cf00000, 0x3d000000, 0x3d100000,
    0x3d200000, 0x3d300000, 0x3d400000, 0x3d500000, 0x3d600000, 0x3d700000, 0x3d800000, 0x3d900000, 0x3da00000,
    0x3db00000, 0x3dc00000, 0x3dd00000, 0x3de00000, 0x3df00000, 0x3e000000, 0x3e100000, 0x3e200000, 0x3e300000,
    0x3e400000, 0x3e500000, 0x3e600000, 0x3e700000, 0x3e800000, 0x3e900000, 0x3ea00000, 0x3eb00000, 0x3ec00000,
    0x3ed00000, 0x3ee00000, 0x3ef00000, 0x3f000000, 0x3f100000, 0x3f200000, 0x3f300000, 0x3f400000, 0x3f500000,
    0x3f600000, 0x3f700000, 0x3f800000, 0x3f900000, 0x3fa00000, 0x3fb00000, 0x3fc00000, 0x3fd00000, 0x3fe00000,
    0x3ff00000, 0x40000000, 0x40100000, 0x40200000, 0x40300000, 0x40400000, 0x40500000, 0x40600000, 0x40700000,
    0x40800000, 0x40900000, 0x40a00000, 0x40b00000, 0x40c00000, 0x40d00000, 0x40e00000, 0x40f00000, 0x41000000,
    0x41100000, 0x41200000, 0x41300000, 0x41400000, 0x41500000, 0x41600000, 0x41700000, 0x41800000, 0x41900000,
    0x41a00000, 0x41b00000, 0x41c00000, 0x41d00000, 0x41e00000, 0x41f00000, 0x42000000, 0x42100000, 0x42200000,
    0x42300000, 0x42400000, 0x42500000, 0x42600000, 0x42700000, 0x42800000, 0x42900000, 0x42a00000, 0x42b00000,
    0x42c00000, 0x42d00000, 0x42e00000, 0x42f00000, 0x43000000, 0x43100000, 0x43200000, 0x43300000, 0x43400000,
    0x43500000, 0x43600000, 0x43700000, 0x43800000, 0x43900000, 0x43a00000, 0x43b00000, 0x43c00000, 0x43d00000,
    0x43e00000, 0x7ff00000, 0x80000000, 0xbb000000, 0xbb800000, 0xbbc00000, 0xbc000000, 0xbc200000, 0xbc400000,
    0xbc600000, 0xbc800000, 0xbc900000, 0xbca00000, 0xbcb00000, 0xbcc00000, 0xbcd00000, 0xbce00000, 0xbcf00000,
    0xbd000000, 0xbd100000, 0xbd200000, 0xbd300000, 0xbd400000, 0xbd500000, 0xbd600000, 0xbd700000, 0xbd800000,
    0xbd900000, 0xbda00000, 0xbdb00000, 0xbdc00000, 0xbdd00000, 0xbde00000, 0xbdf00000, 0xbe000000, 0xbe100000,
    0xbe200000, 0xbe300000, 0xbe400000, 0xbe500000, 0xbe600000, 0xbe700000, 0xbe800000, 0xbe900000, 0xbea00000,
    0xbeb00000, 0xbec00000, 0xbed00000, 0xbee00000, 0xbef00000, 0xbf000000, 0xbf100000, 0xbf200000, 0xbf300000,
    0xbf400000, 0xbf500000, 0xbf600000, 0xbf700000, 0xbf800000, 0xbf900000, 0xbfa00000, 0xbfb00000, 0xbfc00000,
    0xbfd00000, 0xbfe00000, 0xbff00000, 0xc0000000, 0xc0100000, 0xc0200000, 0xc0300000, 0xc0400000, 0xc0500000,
    0xc0600000, 0xc0700000, 0xc0800000, 0xc0900000, 0xc0a00000, 0xc0b00000, 0xc0c00000, 0xc0d00000, 0xc0e00000,
    0xc0f00000, 0xc1000000, 0xc1100000, 0xc1200000, 0xc1300000, 0xc1400000, 0xc1500000, 0xc1600000, 0xc1700000,
    0xc1800000, 0xc1900000, 0xc1a00000, 0xc1b00000, 0xc1c00000, 0xc1d00000, 0xc1e00000, 0xc1f00000, 0xc2000000,
    0xc2100000, 0xc2200000, 0xc2300000, 0xc2400000, 0xc2500000, 0xc2600000, 0xc2700000, 0xc2800000, 0xc2900000,
    0xc2a00000, 0xc2b00000, 0xc2c00000, 0xc2d00000, 0xc2e00000, 0xc2f00000, 0xc3000000, 0xc3100000, 0xc3200000,
    0xc3300000, 0xc3400000, 0xc3500000, 0xc3600000, 0xc3700000, 0xc3800000, 0xc3900000, 0xc3a00000, 0xc3b00000,
    0xc3c00000, 0xc3d00000, 0xc3e00000, 0xfff00000,
];
const E4M3FNUZ: [u32; 256] = [
    0x00000000, 0x3a800000, 0x3b000000, 0x3b400000, 0x3b800000, 0x3ba00000, 0x3bc00000, 0x3be00000, 0x3c000000,
    0x3c100000, 0x3c200000, 0x3c300000, 0x3c400000, 0x3c500000, 0x3c600000, 0x3c700000, 0x3c800000, 0x3c900000,
    0x3ca00000, 0x3cb00000, 0x3cc00000, 0x3cd00000, 0x3ce00000, 0x3cf00000, 0x3d000000, 0x3d100000, 0x3d200000,
    0x3d300000, 0x3d400000, 0x3d500000, 0x3d600000, 0x3d700000, 0x3d800000, 0x3d900000, 0x3da00000, 0x3db00000,
    0x3dc00000, 0x3dd00000, 0x3de00000, 0x3df00000, 0x3e000000, 0x3e100000, 0x3e200000, 0x3e300000, 0x3e400000,
    0x3e500000, 0x3e600000, 0x3e700000, 0x3e800000, 0x3e900000, 0x3ea00000, 0x3eb00000, 0x3ec00000, 0x3ed00000,
    0x3ee00000, 0x3ef00000, 0x3f000000, 0x3f100000, 0x3f200000, 0x3f300000, 0x3f400000, 0x3f500000, 0x3f600000,
    0x3f700000, 0x3f800000, 0x3f900000, 0x3fa00000, 0x3fb00000, 0x3fc00000, 0x3fd00000, 0x3fe00000, 0x3ff00000,
    0x40000000, 0x40100000, 0x40200000, 0x40300000, 0x40400000, 0x40500000, 0x40600000, 0x40700000, 0x40800000,
    0x40900000, 0x40a00000, 0x40b00000, 0x40c00000, 0x40d00000, 0x40e00000, 0x40f00000, 0x41000000, 0x41100000,
    0x41200000, 0x41300000, 0x41400000, 0x41500000, 0x41600000, 0x41700000, 0x41800000, 0x41900000, 0x41a00000,
    0x41b00000, 0x41c00000, 0x41d00000, 0x41e00000, 0x41f00000, 0x42000000, 0x42100000, 0x42200000, 0x42300000,
    0x42400000, 0x42500000, 0x42600000, 0x42700000, 0x42800000, 0x42900000, 0x42a00000, 0x42b00000, 0x42c00000,
    0x42d00000, 0x42e00000, 0x42f00000, 0x43000000, 0x43100000, 0x43200000, 0x43300000, 0x43400000, 0x43500000,
    0x43600000, 0x43700000, 0x7f800001, 0xba800000, 0xbb000000, 0xbb400000, 0xbb800000, 0xbba00000, 0xbbc00000,
    0xbbe00000, 0xbc000000, 0xbc100000, 0xbc200000, 0xbc300000, 0xbc400000, 0xbc500000, 0xbc600000, 0xbc700000,
    0xbc800000, 0xbc900000, 0xbca00000, 0xbcb00000, 0xbcc00000, 0xbcd00000, 0xbce00000, 0xbcf00000, 0xbd000000,
    0xbd100000, 0xbd200000, 0xbd300000, 0xbd400000, 0xbd500000, 0xbd600000, 0xbd700000, 0xbd800000, 0xbd900000,
    0xbda00000, 0xbdb00000, 0xbdc00000, 0xbdd00000, 0xbde00000, 0xbdf00000, 0xbe000000, 0xbe100000, 0xbe200000,
    0xbe300000, 0xbe400000, 0xbe500000, 0xbe600000, 0xbe700000, 0xbe800000, 0xbe900000, 0xbea00000, 0xbeb00000,
    0xbec00000, 0xbed00000, 0xbee00000, 0xbef00000, 0xbf000000, 0xbf100000, 0xbf200000, 0xbf300000, 0xbf400000,
    0xbf500000, 0xbf600000, 0xbf700000, 0xbf800000, 0xbf900000, 0xbfa00000, 0xbfb00000, 0xbfc00000, 0xbfd00000,
    0xbfe00000, 0xbff00000, 0xc0000000, 0xc0100000, 0xc0200000, 0xc0300000, 0xc0400000, 0xc0500000, 0xc0600000,
    0xc0700000, 0xc0800000, 0xc0900000, 0xc0a00000, 0xc0b00000, 0xc0c00000, 0xc0d00000, 0xc0e00000, 0xc0f00000,
    0xc1000000, 0xc1100000, 0xc1200000, 0xc1300000, 0xc1400000, 0xc1500000, 0xc1600000, 0xc1700000, 0xc1800000,
    0xc1900000, 0xc1a00000, 0xc1b00000, 0xc1c00000, 0xc1d00000, 0xc1e00000, 0xc1f00000, 0xc2000000, 0xc2100000,
    0xc2200000, 0xc2300000, 0xc2400000, 0xc2500000, 0xc2600000, 0xc2700000, 0xc2800000, 0xc2900000, 0xc2a00000,
    0xc2b00000, 0xc2c00000, 0xc2d00000, 0xc2e00000, 0xc2f00000, 0xc3000000, 0xc3100000, 0xc3200000, 0xc3300000,
    0xc3400000, 0xc3500000, 0xc3600000, 0xc3700000,
];
const E5M2: [u32; 256] = [
    0x00000000, 0x37800000, 0x38000000, 0x38400000, 0x38800000, 0x38a00000, 0x38c00000, 0x38e00000, 0x39000000,
    0x39200000, 0x39400000, 0x39600000, 0x39800000, 0x39a00000, 0x39c00000, 0x39e00000, 0x3a000000, 0x3a200000,
    0x3a400000, 0x3a600000, 0x3a800000, 0x3aa00000, 0x3ac00000, 0x3ae00000, 0x3b000000, 0x3b200000, 0x3b400000,
    0x3b600000, 0x3b800000, 0x3ba00000, 0x3bc00000, 0x3be00000, 0x3c000000, 0x3c200000, 0x3c400000, 0x3c600000,
    0x3c800000, 0x3ca00000, 0x3cc00000, 0x3ce00000, 0x3d000000, 0x3d200000, 0x3d400000, 0x3d600000, 0x3d800000,
    0x3da00000, 0x3dc00000, 0x3de00000, 0x3e000000, 0x3e200000, 0x3e400000, 0x3e600000, 0x3e800000, 0x3ea00000,
    0x3ec00000, 0x3ee00000, 0x3f000000, 0x3f200000, 0x3f400000, 0x3f600000, 0x3f800000, 0x3fa00000, 0x3fc00000,
    0x3fe00000, 0x40000000, 0x40200000, 0x40400000, 0x40600000, 0x40800000, 0x40a00000, 0x40c00000, 0x40e00000,
    0x41000000, 0x41200000, 0x41400000, 0x41600000, 0x41800000, 0x41a00000, 0x41c00000, 0x41e00000, 0x42000000,
    0x42200000, 0x42400000, 0x42600000, 0x42800000, 0x42a00000, 0x42c00000, 0x42e00000, 0x43000000, 0x43200000,
    0x43400000, 0x43600000, 0x43800000, 0x43a00000, 0x43c00000, 0x43e00000, 0x44000000, 0x44200000, 0x44400000,
    0x44600000, 0x44800000, 0x44a00000, 0x44c00000, 0x44e00000, 0x45000000, 0x45200000, 0x45400000, 0x45600000,
    0x45800000, 0x45a00000, 0x45c00000, 0x45e00000, 0x46000000, 0x46200000, 0x46400000, 0x46600000, 0x46800000,
    0x46a00000, 0x46c00000, 0x46e00000, 0x47000000, 0x47200000, 0x47400000, 0x47600000, 0x7f800000, 0x7fe00000,
    0x7fc00000, 0x7fe00000, 0x80000000, 0xb7800000, 0xb8000000, 0xb8400000, 0xb8800000, 0xb8a00000, 0xb8c00000,
    0xb8e00000, 0xb9000000, 0xb9200000, 0xb9400000, 0xb9600000, 0xb9800000, 0xb9a00000, 0xb9c00000, 0xb9e00000,
    0xba000000, 0xba200000, 0xba400000, 0xba600000, 0xba800000, 0xbaa00000, 0xbac00000, 0xbae00000, 0xbb000000,
    0xbb200000, 0xbb400000, 0xbb600000, 0xbb800000, 0xbba00000, 0xbbc00000, 0xbbe00000, 0xbc000000, 0xbc200000,
    0xbc400000, 0xbc600000, 0xbc800000, 0xbca00000, 0xbcc00000, 0xbce00000, 0xbd000000, 0xbd200000, 0xbd400000,
    0xbd600000, 0xbd800000, 0xbda00000, 0xbdc00000, 0xbde00000, 0xbe000000, 0xbe200000, 0xbe400000, 0xbe600000,
    0xbe800000, 0xbea00000, 0xbec00000, 0xbee00000, 0xbf000000, 0xbf200000, 0xbf400000, 0xbf600000, 0xbf800000,
    0xbfa00000, 0xbfc00000, 0xbfe00000, 0xc0000000, 0xc0200000, 0xc0400000, 0xc0600000, 0xc0800000, 0xc0a00000,
    0xc0c00000, 0xc0e00000, 0xc1000000, 0xc1200000, 0xc1400000, 0xc1600000, 0xc1800000, 0xc1a00000, 0xc1c00000,
    0xc1e00000, 0xc2000000, 0xc2200000, 0xc2400000, 0xc2600000, 0xc2800000, 0xc2a00000, 0xc2c00000, 0xc2e00000,
    0xc3000000, 0xc3200000, 0xc3400000, 0xc3600000, 0xc3800000, 0xc3a00000, 0xc3c00000, 0xc3e00000, 0xc4000000,
    0xc4200000, 0xc4400000, 0xc4600000, 0xc4800000, 0xc4a00000, 0xc4c00000, 0xc4e00000, 0xc5000000, 0xc5200000,
    0xc5400000, 0xc5600000, 0xc5800000, 0xc5a00000, 0xc5c00000, 0xc5e00000, 0xc6000000, 0xc6200000, 0xc6400000,
    0xc6600000, 0xc6800000, 0xc6a00000, 0xc6c00000, 0xc6e00000, 0xc7000000, 0xc7200000, 0xc7400000, 0xc7600000,
    0xff800000, 0xffe00000, 0xffc00000, 0xffe00000,
];
const E5M2FNUZ: [u32; 256] = [
    0x00000000, 0x37000000, 0x37800000, 0x37c00000, 0x38000000, 0x38200000, 0x38400000, 0x38600000, 0x38800000,
    0x38a00000, 0x38c00000, 0x38e00000, 0x39000000, 0x39200000, 0x39400000, 0x39600000, 0x39800000, 0x39a00000,
    0x39c00000, 0x39e00000, 0x3a000000, 0x3a200000, 0x3a400000, 0x3a600000, 0x3a800000, 0x3aa00000, 0x3ac00000,
    0x3ae00000, 0x3b000000, 0x3b200000, 0x3b400000, 0x3b600000, 0x3b800000, 0x3ba00000, 0x3bc00000, 0x3be00000,
    0x3c000000, 0x3c200000, 0x3c400000, 0x3c600000, 0x3c800000, 0x3ca00000, 0x3cc00000, 0x3ce00000, 0x3d000000,
    0x3d200000, 0x3d400000, 0x3d600000, 0x3d800000, 0x3da00000, 0x3dc00000, 0x3de00000, 0x3e000000, 0x3e200000,
    0x3e400000, 0x3e600000, 0x3e800000, 0x3ea00000, 0x3ec00000, 0x3ee00000, 0x3f000000, 0x3f200000, 0x3f400000,
    0x3f600000, 0x3f800000, 0x3fa00000, 0x3fc00000, 0x3fe00000, 0x40000000, 0x40200000, 0x40400000, 0x40600000,
    0x40800000, 0x40a00000, 0x40c00000, 0x40e00000, 0x41000000, 0x41200000, 0x41400000, 0x41600000, 0x41800000,
    0x41a00000, 0x41c00000, 0x41e00000, 0x42000000, 0x42200000, 0x42400000, 0x42600000, 0x42800000, 0x42a00000,
    0x42c00000, 0x42e00000, 0x43000000, 0x43200000, 0x43400000, 0x43600000, 0x43800000, 0x43a00000, 0x43c00000,
    0x43e00000, 0x44000000, 0x44200000, 0x44400000, 0x44600000, 0x44800000, 0x44a00000, 0x44c00000, 0x44e00000,
    0x45000000, 0x45200000, 0x45400000, 0x45600000, 0x45800000, 0x45a00000, 0x45c00000, 0x45e00000, 0x46000000,
    0x46200000, 0x46400000, 0x46600000, 0x46800000, 0x46a00000, 0x46c00000, 0x46e00000, 0x47000000, 0x47200000,
    0x47400000, 0x47600000, 0x7f800001, 0xb7000000, 0xb7800000, 0xb7c00000, 0xb8000000, 0xb8200000, 0xb8400000,
    0xb8600000, 0xb8800000, 0xb8a00000, 0xb8c00000, 0xb8e00000, 0xb9000000, 0xb9200000, 0xb9400000, 0xb9600000,
    0xb9800000, 0xb9a00000, 0xb9c00000, 0xb9e00000, 0xba000000, 0xba200000, 0xba400000, 0xba600000, 0xba800000,
    0xbaa00000, 0xbac00000, 0xbae00000, 0xbb000000, 0xbb200000, 0xbb400000, 0xbb600000, 0xbb800000, 0xbba00000,
    0xbbc00000, 0xbbe00000, 0xbc000000, 0xbc200000, 0xbc400000, 0xbc600000, 0xbc800000, 0xbca00000, 0xbcc00000,
    0xbce00000, 0xbd000000, 0xbd200000, 0xbd400000, 0xbd600000, 0xbd800000, 0xbda00000, 0xbdc00000, 0xbde00000,
    0xbe000000, 0xbe200000, 0xbe400000, 0xbe600000, 0xbe800000, 0xbea00000, 0xbec00000, 0xbee00000, 0xbf000000,
    0xbf200000, 0xbf400000, 0xbf600000, 0xbf800000, 0xbfa00000, 0xbfc00000, 0xbfe00000, 0xc0000000, 0xc0200000,
    0xc0400000, 0xc0600000, 0xc0800000, 0xc0a00000, 0xc0c00000, 0xc0e00000, 0xc1000000, 0xc1200000, 0xc1400000,
    0xc1600000, 0xc1800000, 0xc1a00000, 0xc1c00000, 0xc1e00000, 0xc2000000, 0xc2200000, 0xc2400000, 0xc2600000,
    0xc2800000, 0xc2a00000, 0xc2c00000, 0xc2e00000, 0xc3000000, 0xc3200000, 0xc3400000, 0xc3600000, 0xc3800000,
    0xc3a00000, 0xc3c00000, 0xc3e00000, 0xc4000000, 0xc4200000, 0xc4400000, 0xc4600000, 0xc4800000, 0xc4a00000,
    0xc4c00000, 0xc4e00000, 0xc5000000, 0xc5200000, 0xc5400000, 0xc5600000, 0xc5800000, 0xc5a00000, 0xc5c00000,
    0xc5e00000, 0xc6000000, 0xc6200000, 0xc6400000, 0xc6600000, 0xc6800000, 0xc6a00000, 0xc6c00000, 0xc6e00000,
    0xc7000000, 0xc7200000, 0xc7400000, 0xc7600000,
];

/// By hand: `cargo test --release -p pyckle-torch --test views -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed_of_the_readers() {
    let n = 4096u64;
    let storage: Vec<u8> = (0..n * n * 4).map(|i| i as u8).collect();
    let mb = storage.len() as f64 / 1e6;
    let time = |what: &str, f: &mut dyn FnMut()| {
        let t = std::time::Instant::now();
        f();
        let s = t.elapsed().as_secs_f64();
        println!("{what}: {:.1} ms, {:.0} MB/s", s * 1e3, mb / s);
    };
    let v = view(DType::F32, &[n, n], &[n, 1], 0, &storage, false);
    time("contiguous LE to_contiguous_bytes (borrowed)", &mut || assert!(v.to_contiguous_bytes().is_ok()));
    time("contiguous LE write_contiguous to a sink", &mut || {
        v.write_contiguous(&mut std::io::sink()).unwrap();
    });
    let v = view(DType::F32, &[n, n], &[1, n], 0, &storage, false);
    time("transposed to_contiguous_bytes", &mut || assert!(v.to_contiguous_bytes().is_ok()));
    time("transposed write_contiguous", &mut || {
        v.write_contiguous(&mut std::io::sink()).unwrap();
    });
    let v = view(DType::F32, &[n, n], &[n, 1], 0, &storage, true);
    time("big-endian contiguous to_contiguous_bytes", &mut || assert!(v.to_contiguous_bytes().is_ok()));
    time("big-endian contiguous write_contiguous", &mut || {
        v.write_contiguous(&mut std::io::sink()).unwrap();
    });
    let v = view(DType::F32, &[n, n], &[n, 1], 0, &storage, false);
    time("to_vec::<f32>", &mut || assert!(v.to_vec::<f32>().is_ok()));
    time("to_f64_vec", &mut || assert!(v.to_f64_vec().is_ok()));
}
