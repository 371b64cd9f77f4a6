//! Reading a tensor's bytes: contiguous copies, streaming, typed elements.
//!
//! A [`TensorView`] borrows its whole storage and describes the tensor in
//! it (shape, strides and offset in elements). Every reader first checks
//! that the view stays inside the storage (checked arithmetic), then walks
//! it in C order one *block* at a time: the largest run of trailing
//! dimensions that is contiguous in the storage, so a contiguous tensor is
//! one block and a transposed matrix is one element per block. Big-endian
//! storages are swapped to little-endian element by element (complex
//! numbers each half on its own, as torch does).
//!
//! Copies are bounded by what the checkpoint justifies: a view never reads
//! more elements than its storage holds unless strides overlap (zero
//! strides of `expand`), and an overlapping view is copied only up to
//! [`MAX_EXPANDED_COPY`] bytes; past that [`TensorView::write_contiguous`]
//! streams it without holding it.

use crate::{DType, Error, Result, TensorView};
use std::borrow::Cow;
use std::io::Write;

/// The largest copy (in bytes) of a view that reads more elements than its
/// storage holds (an expanded tensor). Views that read each stored element
/// at most once are copied whatever their size.
pub const MAX_EXPANDED_COPY: u64 = 1 << 30;

/// The staging buffer of [`TensorView::write_contiguous`].
const CHUNK: usize = 64 * 1024;

fn bad(problem: impl Into<String>) -> Error {
    Error::BadTensor { name: "(view)".into(), problem: problem.into() }
}

/// A checked walk of a view: blocks of `block` elements from element
/// positions given by an odometer over the outer dimensions.
struct Walk {
    itemsize: usize,
    numel: u64,
    /// Elements per contiguous block.
    block: u64,
    /// Outer dimensions (size > 1 only) and their strides, in elements.
    outer: Vec<(u64, u64)>,
    /// Element position of the first element.
    base: u64,
}

impl Walk {
    /// Number of blocks.
    fn blocks(&self) -> u64 {
        self.numel.checked_div(self.block).unwrap_or(0)
    }
}

impl TensorView<'_> {
    /// The number of elements (the product of the shape); an error when it overflows.
    pub fn numel(&self) -> Result<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| bad(format!("{:?} elements overflow u64", self.shape)))
    }

    /// The bytes of the tensor made contiguous: `numel * itemsize`.
    pub fn nbytes(&self) -> Result<u64> {
        self.numel()?.checked_mul(self.dtype.itemsize() as u64).ok_or_else(|| bad("the tensor's bytes overflow u64"))
    }

    /// True when the elements lie in C order without gaps (dimensions of
    /// size 1 may have any stride; an empty tensor is contiguous), as
    /// torch's `is_contiguous()`.
    pub fn is_contiguous(&self) -> bool {
        if self.shape.len() != self.strides.len() {
            return false;
        }
        if self.shape.contains(&0) {
            return true;
        }
        let mut expected = 1u64;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 {
                if s != expected {
                    return false;
                }
                match expected.checked_mul(d) {
                    Some(e) => expected = e,
                    None => return false,
                }
            }
        }
        true
    }

    /// Whether bytes must be swapped to read little-endian.
    fn swaps(&self) -> bool {
        self.big_endian && self.dtype.swap_unit() > 1
    }

    /// Checks the view against its storage and plans the walk.
    fn walk(&self) -> Result<Walk> {
        if self.shape.len() != self.strides.len() {
            return Err(bad(format!("{} sizes and {} strides", self.shape.len(), self.strides.len())));
        }
        let itemsize = self.dtype.itemsize();
        let numel = self.numel()?;
        if numel == 0 {
            return Ok(Walk { itemsize, numel, block: 1, outer: Vec::new(), base: self.offset });
        }
        let overflow = || bad("the view's extent overflows u64");
        let mut last = self.offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = (d - 1).checked_mul(s).and_then(|x| last.checked_add(x)).ok_or_else(overflow)?;
        }
        let end = last.checked_add(1).and_then(|n| n.checked_mul(itemsize as u64)).ok_or_else(overflow)?;
        if end > self.storage.len() as u64 {
            return Err(bad(format!("the view reaches byte {end} of a storage of {} bytes", self.storage.len())));
        }
        // Trailing dimensions contiguous in the storage make one block.
        let dims: Vec<(u64, u64)> =
            self.shape.iter().zip(&self.strides).map(|(&d, &s)| (d, s)).filter(|&(d, _)| d != 1).collect();
        let mut block = 1u64;
        let mut split = dims.len();
        while split > 0 && dims[split - 1].1 == block {
            block *= dims[split - 1].0; // <= numel: no overflow
            split -= 1;
        }
        Ok(Walk { itemsize, numel, block, outer: dims[..split].to_vec(), base: self.offset })
    }

    /// Calls `f` with the bytes of every block, in C order.
    fn for_each_block(&self, w: &Walk, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        if w.numel == 0 {
            return Ok(());
        }
        let is = w.itemsize as u64;
        let block_bytes = (w.block * is) as usize;
        let mut idx = vec![0u64; w.outer.len()];
        let mut pos = w.base;
        for _ in 0..w.blocks() {
            // In bounds: walk() checked the last element of the view.
            let start = (pos * is) as usize;
            f(&self.storage[start..start + block_bytes])?;
            let mut k = w.outer.len();
            while k > 0 {
                k -= 1;
                let (d, s) = w.outer[k];
                idx[k] += 1;
                pos = pos.wrapping_add(s);
                if idx[k] < d {
                    break;
                }
                idx[k] = 0;
                pos = pos.wrapping_sub(s.wrapping_mul(d));
            }
        }
        Ok(())
    }

    /// Checks that a copy of `numel` elements of `size` bytes each is
    /// justified by the storage (or small), and returns its bytes.
    fn copy_size(&self, numel: u64, size: usize) -> Result<usize> {
        let bytes = numel.checked_mul(size as u64).ok_or_else(|| bad("the copy's size overflows"))?;
        let stored = self.storage.len() as u64 / self.dtype.itemsize().max(1) as u64;
        if numel > stored && bytes > MAX_EXPANDED_COPY {
            return Err(bad(format!(
                "an expanded view of {numel} elements over a storage of {stored} would copy {bytes} bytes \
                 (more than {MAX_EXPANDED_COPY}); stream it with write_contiguous"
            )));
        }
        usize::try_from(bytes).map_err(|_| bad("the copy does not fit in memory"))
    }

    /// The tensor's bytes in C order and little-endian: borrowed from the
    /// storage when the view is contiguous and needs no byte swapping,
    /// otherwise a copy.
    pub fn to_contiguous_bytes(&self) -> Result<Cow<'_, [u8]>> {
        let w = self.walk()?;
        if w.numel == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        if !self.swaps() && w.blocks() == 1 {
            let start = (w.base * w.itemsize as u64) as usize;
            return Ok(Cow::Borrowed(&self.storage[start..start + (w.numel as usize) * w.itemsize]));
        }
        let bytes = self.copy_size(w.numel, w.itemsize)?;
        let mut out = Vec::new();
        out.try_reserve_exact(bytes).map_err(|_| bad(format!("cannot allocate {bytes} bytes")))?;
        self.for_each_block(&w, |b| {
            out.extend_from_slice(b);
            Ok(())
        })?;
        if self.swaps() {
            swap_units(&mut out, self.dtype.swap_unit());
        }
        Ok(Cow::Owned(out))
    }

    /// Writes the tensor's bytes in C order and little-endian to `out`
    /// without a copy of the whole tensor (through a 64 KiB buffer; large
    /// contiguous blocks go straight from the storage). Returns the bytes written.
    pub fn write_contiguous<W: Write + ?Sized>(&self, out: &mut W) -> Result<u64> {
        if write_transposed(self, out)? {
            return self.nbytes();
        }
        self.write_walk(out)
    }

    /// [`write_contiguous`](Self::write_contiguous) element block by block, for any layout.
    fn write_walk<W: Write + ?Sized>(&self, out: &mut W) -> Result<u64> {
        let w = self.walk()?;
        let swap = self.swaps();
        let unit = self.dtype.swap_unit();
        let mut staging: Vec<u8> = Vec::with_capacity(CHUNK.min(self.nbytes()?.try_into().unwrap_or(CHUNK)));
        let mut written = 0u64;
        self.for_each_block(&w, |b| {
            written += b.len() as u64;
            if !swap && b.len() >= CHUNK {
                if !staging.is_empty() {
                    out.write_all(&staging)?;
                    staging.clear();
                }
                out.write_all(b)?;
                return Ok(());
            }
            // Blocks hold whole elements: swap units never straddle chunks.
            let mut rest = b;
            while !rest.is_empty() {
                let room = (CHUNK - staging.len()).max(w.itemsize);
                let take = rest.len().min(room - room % w.itemsize);
                let from = staging.len();
                staging.extend_from_slice(&rest[..take]);
                if swap {
                    swap_units(&mut staging[from..], unit);
                }
                rest = &rest[take..];
                if staging.len() >= CHUNK {
                    out.write_all(&staging)?;
                    staging.clear();
                }
            }
            Ok(())
        })?;
        if !staging.is_empty() {
            out.write_all(&staging)?;
        }
        Ok(written)
    }

    /// The elements in C order as `T`, which must be the dtype's own type
    /// (see [`Element`]): `f32` for float32, `half::bf16` for bfloat16,
    /// `i8` for int8 and qint8 (a quantized tensor's integer representation)...
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if !T::reads(self.dtype) {
            return Err(Error::Unsupported(format!(
                "reading {} elements as {}",
                self.dtype,
                std::any::type_name::<T>()
            )));
        }
        self.map_elements(std::mem::size_of::<T>(), |b, big| T::read(b, big))
    }

    /// The elements in C order as f64, for every dtype but the complex
    /// ones: floats (float16, bfloat16 and the float8 types decoded
    /// exactly), integers (64-bit ones beyond 2^53 rounded), bool as 0 or 1,
    /// quantized tensors as their integer representation (not dequantized).
    pub fn to_f64_vec(&self) -> Result<Vec<f64>> {
        if self.dtype.is_complex() {
            return Err(Error::Unsupported(format!(
                "{} as real numbers (read it with to_vec::<[f{}; 2]>)",
                self.dtype,
                self.dtype.itemsize() * 4
            )));
        }
        let dtype = self.dtype;
        self.map_elements(8, move |b, big| element_f64(dtype, b, big))
    }

    /// Every element, read from its (stored-order) bytes by `read`.
    fn map_elements<T>(&self, out_size: usize, mut read: impl FnMut(&[u8], bool) -> T) -> Result<Vec<T>> {
        let w = self.walk()?;
        self.copy_size(w.numel, out_size)?;
        let mut out = Vec::new();
        out.try_reserve_exact(w.numel as usize).map_err(|_| bad("cannot allocate the elements"))?;
        let big = self.big_endian;
        self.for_each_block(&w, |b| {
            out.extend(b.chunks_exact(w.itemsize).map(|e| read(e, big)));
            Ok(())
        })?;
        Ok(out)
    }

    /// The tensor as an `ndarray` array of its own element type (`f32`,
    /// `half::f16`, `half::bf16`, `i64`, `bool`...), a copy in C order.
    #[cfg(feature = "ndarray")]
    pub fn to_ndarray<T: Element>(&self) -> Result<ndarray::ArrayD<T>> {
        let shape = self
            .shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| bad("a dimension does not fit in usize")))
            .collect::<Result<Vec<usize>>>()?;
        let data = self.to_vec::<T>()?;
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), data).map_err(|e| bad(e.to_string()))
    }

    /// The tensor's elements as f64 in an `ndarray` array (see [`TensorView::to_f64_vec`]).
    #[cfg(feature = "ndarray")]
    pub fn to_ndarray_f64(&self) -> Result<ndarray::ArrayD<f64>> {
        let shape = self
            .shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| bad("a dimension does not fit in usize")))
            .collect::<Result<Vec<usize>>>()?;
        let data = self.to_f64_vec()?;
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), data).map_err(|e| bad(e.to_string()))
    }
}

/// Reverses the bytes of every `unit`-byte group.
fn swap_units(bytes: &mut [u8], unit: usize) {
    if unit > 1 {
        for c in bytes.chunks_exact_mut(unit) {
            c.reverse();
        }
    }
}

/// `N` bytes of an element in little-endian order.
fn le<const N: usize>(b: &[u8], big: bool) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    if big {
        a.reverse();
    }
    a
}

/// One element (its stored bytes) as f64.
fn element_f64(dtype: DType, b: &[u8], big: bool) -> f64 {
    match dtype {
        DType::F64 => f64::from_le_bytes(le(b, big)),
        DType::F32 => f32::from_le_bytes(le(b, big)) as f64,
        DType::F16 => half::f16::from_le_bytes(le(b, big)).to_f64(),
        DType::BF16 => half::bf16::from_le_bytes(le(b, big)).to_f64(),
        DType::F8E4M3FN | DType::F8E4M3FNUZ | DType::F8E5M2 | DType::F8E5M2FNUZ => {
            float8_to_f32(dtype, b[0]).unwrap_or(f32::NAN) as f64
        }
        DType::I8 | DType::QInt8 => b[0] as i8 as f64,
        DType::U8 | DType::QUInt8 | DType::QUInt4x2 | DType::QUInt2x4 => b[0] as f64,
        DType::Bool => (b[0] != 0) as u8 as f64,
        DType::I16 => i16::from_le_bytes(le(b, big)) as f64,
        DType::U16 => u16::from_le_bytes(le(b, big)) as f64,
        DType::I32 | DType::QInt32 => i32::from_le_bytes(le(b, big)) as f64,
        DType::U32 => u32::from_le_bytes(le(b, big)) as f64,
        DType::I64 => i64::from_le_bytes(le(b, big)) as f64,
        DType::U64 => u64::from_le_bytes(le(b, big)) as f64,
        // Not reached: to_f64_vec refuses complex dtypes.
        DType::C64 | DType::C128 => f64::NAN,
    }
}

/// A float8 value (its byte) as f32, exactly: `float8_e4m3fn` (no
/// infinities, NaN at S.1111.111), `float8_e5m2` (IEEE-like, the top byte
/// of a float16), `float8_e4m3fnuz` and `float8_e5m2fnuz` (exponent bias
/// 8 and 16, no infinities or negative zero, NaN at 0x80). `None` for
/// dtypes that are not float8.
pub fn float8_to_f32(dtype: DType, bits: u8) -> Option<f32> {
    let (mant_bits, bias, fnuz) = match dtype {
        DType::F8E4M3FN => (3, 7, false),
        DType::F8E4M3FNUZ => (3, 8, true),
        DType::F8E5M2 => (2, 15, false),
        DType::F8E5M2FNUZ => (2, 16, true),
        _ => return None,
    };
    let negative = bits & 0x80 != 0;
    let exp_max: i32 = 0x7f >> mant_bits;
    let exp = ((bits & 0x7f) >> mant_bits) as i32;
    let mant = (bits & ((1 << mant_bits) - 1)) as i32;
    if fnuz && bits == 0x80 {
        return Some(f32::NAN);
    }
    if !fnuz {
        if dtype == DType::F8E4M3FN && exp == exp_max && mant == (1 << mant_bits) - 1 {
            return Some(f32::NAN);
        }
        if dtype == DType::F8E5M2 && exp == exp_max {
            return Some(match (mant, negative) {
                (0, false) => f32::INFINITY,
                (0, true) => f32::NEG_INFINITY,
                _ => f32::NAN,
            });
        }
    }
    let scale = (1i32 << mant_bits) as f32;
    let magnitude = if exp == 0 {
        mant as f32 / scale * 2f32.powi(1 - bias)
    } else {
        (1.0 + mant as f32 / scale) * 2f32.powi(exp - bias)
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// A Rust type that elements of some dtypes are read as, by
/// [`TensorView::to_vec`] and [`TensorView::to_ndarray`].
///
/// | type | dtypes |
/// |---|---|
/// | `f64`, `f32` | float64, float32 |
/// | `half::f16`, `half::bf16` | float16, bfloat16 |
/// | `[f32; 2]`, `[f64; 2]` | complex64, complex128 (re, im) |
/// | `i8`, `i16`, `i32`, `i64` | int8 (and qint8), int16, int32 (and qint32), int64 |
/// | `u8`, `u16`, `u32`, `u64` | uint8 (and quint8, quint4x2, quint2x4, the float8 types' bytes), uint16, uint32, uint64 |
/// | `bool` | bool (any nonzero byte is true) |
pub trait Element: Copy + 'static {
    /// True when elements of `dtype` read as this type.
    fn reads(dtype: DType) -> bool;
    /// One element from its stored bytes (`big`: stored big-endian).
    fn read(bytes: &[u8], big: bool) -> Self;
}

macro_rules! element {
    ($t:ty, $($d:pat_param)|+) => {
        impl Element for $t {
            fn reads(dtype: DType) -> bool {
                matches!(dtype, $($d)|+)
            }
            fn read(bytes: &[u8], big: bool) -> Self {
                <$t>::from_le_bytes(le(bytes, big))
            }
        }
    };
}

element!(f64, DType::F64);
element!(f32, DType::F32);
element!(half::f16, DType::F16);
element!(half::bf16, DType::BF16);
element!(i8, DType::I8 | DType::QInt8);
element!(i16, DType::I16);
element!(i32, DType::I32 | DType::QInt32);
element!(i64, DType::I64);
element!(
    u8,
    DType::U8
        | DType::QUInt8
        | DType::QUInt4x2
        | DType::QUInt2x4
        | DType::F8E4M3FN
        | DType::F8E4M3FNUZ
        | DType::F8E5M2
        | DType::F8E5M2FNUZ
);
element!(u16, DType::U16);
element!(u32, DType::U32);
element!(u64, DType::U64);

impl Element for bool {
    fn reads(dtype: DType) -> bool {
        dtype == DType::Bool
    }
    fn read(bytes: &[u8], _big: bool) -> Self {
        bytes[0] != 0
    }
}

impl Element for [f32; 2] {
    fn reads(dtype: DType) -> bool {
        dtype == DType::C64
    }
    fn read(bytes: &[u8], big: bool) -> Self {
        [f32::from_le_bytes(le(&bytes[..4], big)), f32::from_le_bytes(le(&bytes[4..], big))]
    }
}

impl Element for [f64; 2] {
    fn reads(dtype: DType) -> bool {
        dtype == DType::C128
    }
    fn read(bytes: &[u8], big: bool) -> Self {
        [f64::from_le_bytes(le(&bytes[..8], big)), f64::from_le_bytes(le(&bytes[8..], big))]
    }
}

// The tiled copy of transposed views: `write_contiguous` would gather a
// transposed matrix element by element, each read on another cache line;
// tiles of 64 x 64 are ~10x faster.

/// Bytes of the band [`write_transposed`] gathers before writing it.
const BAND_BYTES: u64 = 1 << 20;
/// Elements per side of the tiles it copies.
const TILE: u64 = 64;

/// The tiled copy of a view whose last two dimensions (of size > 1) are a
/// transposed contiguous pair (strides `[1, m]`-like: the second-to-last has
/// stride 1, the last does not), in the checkpoint's little-endian order;
/// `false` (nothing written) for any other view.
fn write_transposed<W: Write + ?Sized>(view: &TensorView, w: &mut W) -> Result<bool> {
    let size = view.dtype.itemsize();
    if (view.big_endian && size > 1) || view.shape.len() != view.strides.len() {
        return Ok(false);
    }
    let dims: Vec<(u64, u64)> =
        view.shape.iter().zip(&view.strides).map(|(&d, &s)| (d, s)).filter(|&(d, _)| d != 1).collect();
    let [.., (m, 1), (n, sn)] = dims[..] else { return Ok(false) };
    if sn == 1 || m < TILE || n.saturating_mul(size as u64).saturating_mul(TILE) > BAND_BYTES * 4 {
        return Ok(false);
    }
    // The extent, checked as write_contiguous checks it.
    let overflow = || bad("the view's extent overflows");
    let mut last = view.offset;
    for &(d, s) in &dims {
        last = (d - 1).checked_mul(s).and_then(|x| last.checked_add(x)).ok_or_else(overflow)?;
    }
    let end = last.checked_add(1).and_then(|e| e.checked_mul(size as u64)).ok_or_else(overflow)?;
    if end > view.storage.len() as u64 {
        return Err(bad(format!("the view reaches byte {end} of a storage of {} bytes", view.storage.len())));
    }
    let band = (BAND_BYTES / (n * size as u64)).clamp(1, m);
    let outer = &dims[..dims.len() - 2];
    let mut index = vec![0u64; outer.len()];
    let mut buf = vec![0u8; (band * n) as usize * size];
    loop {
        let base = index.iter().zip(outer).fold(view.offset, |acc, (&i, &(_, s))| acc + i * s);
        let mut i0 = 0;
        while i0 < m {
            let rows = band.min(m - i0);
            let out = &mut buf[..(rows * n) as usize * size];
            match size {
                1 => gather::<1>(view.storage, out, base + i0, rows, n, sn),
                2 => gather::<2>(view.storage, out, base + i0, rows, n, sn),
                4 => gather::<4>(view.storage, out, base + i0, rows, n, sn),
                8 => gather::<8>(view.storage, out, base + i0, rows, n, sn),
                16 => gather::<16>(view.storage, out, base + i0, rows, n, sn),
                _ => return Ok(false),
            }
            w.write_all(out)?;
            i0 += rows;
        }
        // The next outer index, in C order.
        let mut k = outer.len();
        loop {
            if k == 0 {
                return Ok(true);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < outer[k].0 {
                break;
            }
            index[k] = 0;
        }
    }
}

/// `out[i][j] = storage[start + i + j * sn]` for `rows` rows of `n`
/// elements of `S` bytes, tile by tile (each tile's source columns are
/// runs of contiguous elements).
fn gather<const S: usize>(storage: &[u8], out: &mut [u8], start: u64, rows: u64, n: u64, sn: u64) {
    let (rows, n, start, sn) = (rows as usize, n as usize, start as usize, sn as usize);
    for j0 in (0..n).step_by(TILE as usize) {
        let j1 = (j0 + TILE as usize).min(n);
        for i in 0..rows {
            let row = &mut out[(i * n + j0) * S..(i * n + j1) * S];
            for (k, element) in row.chunks_exact_mut(S).enumerate() {
                let at = (start + i + (j0 + k) * sn) * S;
                element.copy_from_slice(&storage[at..at + S]);
            }
        }
    }
}

#[cfg(test)]
mod tiled_tests {
    use super::*;

    /// A view over `storage` of `dtype` with the given layout.
    fn view<'a>(storage: &'a [u8], dtype: DType, shape: &[u64], strides: &[u64], offset: u64) -> TensorView<'a> {
        TensorView { dtype, shape: shape.to_vec(), strides: strides.to_vec(), offset, storage, big_endian: false }
    }

    /// The tiled copy gives what the element walk gives, for transposed
    /// views of every element size, with several bands, a remainder, outer
    /// dimensions and an offset; other views are left to the walk.
    #[test]
    fn transposed_views_by_tiles_equal_the_plain_walk() {
        let storage: Vec<u8> = (0..8_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let cases: &[(DType, &[u64], &[u64], u64)] = &[
            (DType::F32, &[70, 130], &[1, 70], 0),
            (DType::F32, &[200, 5000], &[1, 200], 3),
            (DType::BF16, &[1024, 300], &[1, 1024], 0),
            (DType::Bool, &[64, 64], &[1, 64], 5),
            (DType::I64, &[100, 65], &[1, 100], 1),
            (DType::C128, &[64, 70], &[1, 64], 0),
            (DType::I16, &[3, 100, 65], &[6500, 1, 100], 7),
            (DType::F16, &[2, 1, 80, 1, 90], &[7200, 5, 1, 9, 80], 0),
        ];
        for &(dtype, shape, strides, offset) in cases {
            let v = view(&storage, dtype, shape, strides, offset);
            let mut tiled = Vec::new();
            assert!(write_transposed(&v, &mut tiled).unwrap(), "{shape:?} {strides:?}: not tiled");
            let mut plain = Vec::new();
            v.write_walk(&mut plain).unwrap();
            assert_eq!(tiled.len() as u64, v.nbytes().unwrap(), "{shape:?}");
            assert!(tiled == plain, "{dtype:?} {shape:?} {strides:?}: bytes differ");
        }
        for (shape, strides) in [
            (&[70u64, 130][..], &[130u64, 1][..]), // contiguous
            (&[10, 130], &[1, 10]),                // too few rows to tile
            (&[70, 130], &[2, 140]),               // not a transpose
            (&[70], &[3]),
        ] {
            let v = view(&storage, DType::F32, shape, strides, 0);
            let mut out = Vec::new();
            assert!(!write_transposed(&v, &mut out).unwrap(), "{shape:?} {strides:?}");
            assert!(out.is_empty());
        }
        // Big-endian storages go the plain way (it swaps).
        let mut v = view(&storage, DType::F32, &[70, 130], &[1, 70], 0);
        v.big_endian = true;
        assert!(!write_transposed(&v, &mut Vec::new()).unwrap());
    }

    #[test]
    fn a_transposed_view_past_its_storage_is_an_error() {
        let storage = vec![0u8; 64 * 64 * 4 - 1];
        let v = view(&storage, DType::F32, &[64, 64], &[1, 64], 0);
        let mut out = Vec::new();
        assert!(matches!(write_transposed(&v, &mut out), Err(Error::BadTensor { .. })));
        assert!(out.is_empty());
        let v = view(&storage, DType::F32, &[64, u64::MAX / 2], &[1, 64], 0);
        assert!(write_transposed(&v, &mut out).is_err() || out.is_empty());
    }
}
