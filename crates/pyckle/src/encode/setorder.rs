//! The order in which CPython 3.11 iterates a set, so a pickler can write
//! set items exactly where `pickle.dumps` writes them.
//!
//! CPython pickles a set or frozenset by iterating it, and a set iterates
//! in the order of its hash table. For a set built by adding items one by
//! one to an empty set (what `set()`, `set(list)`, `frozenset(list)` and
//! EMPTY_SET + ADDITEMS all do), that order follows from the items' hashes
//! and the insertion order alone. This module computes both: [`py_hash`]
//! is CPython 3.11's `hash()` as a process started with `PYTHONHASHSEED=0`
//! computes it, and [`cpython_order`] replays `Objects/setobject.c`
//! (`set_add_entry`, `set_table_resize`, `set_insert_clean`) on a table of
//! hashes.
//!
//! The hashes (64-bit CPython):
//! - int: `long_hash`, the value modulo the Mersenne prime 2^61 - 1 with
//!   the sign of the value (-1 becomes -2); bool is the int 0 or 1.
//! - float: `_Py_HashDouble`, the same residue for the exact rational the
//!   float is (so a float equal to an int hashes as the int); infinities
//!   are +-314159; NaN hashes by identity.
//! - str: SipHash-1-3 (key zero) of the PEP 393 representation: latin-1,
//!   UCS-2 or UCS-4 (little-endian) by the largest code point; bytes:
//!   SipHash-1-3 of the bytes; empty ones hash to 0, -1 becomes -2.
//! - tuple: `tuplehash`, the xxHash-based mix of Python 3.8 and later.
//! - frozenset: `frozenset_hash`, the XOR of the items' hashes after
//!   `_shuffle_bits`, mixed with the size.
//!
//! Everything else has no hash we can know: `None` (3.11 hashes it by
//! identity), globals (classes and functions), records, persistent ids and
//! buffers hash by identity or by code we do not run, and lists, dicts,
//! sets and bytearrays are unhashable.

// Until the pickler calls these, only the tests do.

use crate::graph::{Graph, ObjId, Object, Value};
use hashbrown::HashMap;
use num_bigint::{BigInt, Sign};
use siphasher::sip::SipHasher13;
use std::hash::Hasher;

/// Keys nested deeper than this are refused, as `graph::keys` refuses them.
const MAX_DEPTH: u32 = 512;

/// `_PyHASH_MODULUS`: the Mersenne prime 2^61 - 1.
const MODULUS: u64 = (1 << 61) - 1;
/// `_PyHASH_INF`.
const HASH_INF: i64 = 314_159;

/// `_PyHASH_XXPRIME_1`, `_2`, `_5` of `Objects/tupleobject.c` (64-bit).
const XXPRIME_1: u64 = 11_400_714_785_074_694_791;
const XXPRIME_2: u64 = 14_029_467_366_897_019_727;
const XXPRIME_5: u64 = 2_870_177_450_012_600_261;

/// Strings and bytes at least this long are remembered when they are
/// reached inside a tuple or frozenset (CPython caches a str's hash; we
/// hash a shared long string once per call, not once per reference).
const MEMO_MIN_LEN: usize = 64;

/// `PySet_MINSIZE`, `LINEAR_PROBES` and `PERTURB_SHIFT` of `Objects/setobject.c`.
const SET_MINSIZE: usize = 8;
const LINEAR_PROBES: u64 = 9;
const PERTURB_SHIFT: u32 = 5;

/// CPython 3.11's `hash()` of a value, with `PYTHONHASHSEED=0`; `None` when
/// CPython's hash depends on object identity (`None` itself in 3.11, float
/// NaN, globals, records, persistent ids, buffers) or the value is
/// unhashable (list, dict, set, bytearray, a reference outside the graph),
/// or keys nest deeper than 512.
#[cfg(test)]
pub(crate) fn py_hash(graph: &Graph, v: Value) -> Option<i64> {
    PyHasher::new(graph).hash(v)
}

/// The order in which CPython 3.11 iterates a set made by adding `items`,
/// in this order, to an empty set (`set()`, `set(list)`, `frozenset(list)`
/// and EMPTY_SET + ADDITEMS all build sets so). The items must be distinct
/// under Python equality, as the items of a [`Set`](crate::graph::Set)
/// are. `None` when some item's hash is unknown (see [`py_hash`]).
pub(crate) fn cpython_order(graph: &Graph, items: &[Value]) -> Option<Vec<Value>> {
    let mut order = Vec::with_capacity(items.len());
    // Slots of 4 bytes while positions fit, for a table that stays in cache longer.
    if items.len() < u32::MAX as usize {
        order.extend(SetTable::<u32>::build(graph, items)?.positions().map(|i| items[i]));
    } else {
        order.extend(SetTable::<u64>::build(graph, items)?.positions().map(|i| items[i]));
    }
    Some(order)
}

/// What a slot of the emulated table holds: 0 when it is unused, else
/// one more than the position of its item in the insertion order.
trait Slot: Copy + Eq {
    const UNUSED: Self;
    fn new(position: usize) -> Self;
    fn position(self) -> usize;
}

impl Slot for u32 {
    const UNUSED: Self = 0;
    #[inline]
    fn new(position: usize) -> Self {
        position as u32 + 1
    }
    #[inline]
    fn position(self) -> usize {
        self as usize - 1
    }
}

impl Slot for u64 {
    const UNUSED: Self = 0;
    #[inline]
    fn new(position: usize) -> Self {
        position as u64 + 1
    }
    #[inline]
    fn position(self) -> usize {
        self as usize - 1
    }
}

/// CPython's set table, reduced to what decides positions: which item is
/// in which slot (the hashes are kept apart, by item). Only adds of new
/// keys happen, so there are never dummy entries and `fill == used`; a new
/// key's probe sequence in `set_add_entry` (which stops at the first
/// unused slot, comparing along the way with entries of equal hash, none of
/// them equal) visits exactly the slots `set_insert_clean` visits.
struct SetTable<S> {
    /// A power of two of them; unused slots are 0, so a new table is
    /// zeroed memory fresh from the allocator.
    slots: Vec<S>,
    /// The hash of each item, by position.
    hashes: Vec<i64>,
}

impl<S: Slot> SetTable<S> {
    /// The table of a set made by adding `items` in order to an empty set.
    fn build(graph: &Graph, items: &[Value]) -> Option<Self> {
        let mut hasher = PyHasher::new(graph);
        let mut table = SetTable { slots: vec![S::UNUSED; SET_MINSIZE], hashes: Vec::with_capacity(items.len()) };
        for &item in items {
            let hash = match item {
                Value::Int(i) => hash_i64(i),
                _ => hasher.hash(item)?,
            };
            table.add(hash);
        }
        Some(table)
    }

    /// The positions in the insertion order of the items in the table, in table order.
    fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().filter(|&&s| s != S::UNUSED).map(|s| s.position())
    }

    /// `set_add_entry` for a key not in the set.
    fn add(&mut self, hash: i64) {
        let position = self.hashes.len();
        self.hashes.push(hash);
        insert_clean(&mut self.slots, hash, S::new(position));
        let fill = self.hashes.len();
        let mask = self.slots.len() - 1;
        // `if ((size_t)so->fill*5 < mask*3) return 0;`
        if fill * 5 >= mask * 3 {
            self.resize(if fill > 50_000 { fill * 2 } else { fill * 4 });
        }
    }

    /// `set_table_resize`: the smallest power of two (at least
    /// `PySet_MINSIZE`) above `minused`, filled by walking the old table
    /// in order.
    fn resize(&mut self, minused: usize) {
        let mut size = SET_MINSIZE;
        while size <= minused {
            size <<= 1;
        }
        let old = std::mem::replace(&mut self.slots, vec![S::UNUSED; size]);
        for &slot in old.iter().filter(|&&s| s != S::UNUSED) {
            insert_clean(&mut self.slots, self.hashes[slot.position()], slot);
        }
    }
}

/// `set_insert_clean`: from `hash & mask`, look at the slot and, when the
/// 9 slots after it are inside the table, those too (linear probing); then
/// jump with `i = i*5 + 1 + perturb`, `perturb` shifting the hash's upper
/// bits in 5 at a time. `slots.len()` is a power of two.
#[inline]
fn insert_clean<S: Slot>(slots: &mut [S], hash: i64, slot: S) {
    let mask = slots.len() as u64 - 1;
    // `size_t perturb = hash;`: the hash's two's complement bits.
    let mut perturb = hash as u64;
    let mut i = perturb & mask;
    loop {
        if i + LINEAR_PROBES <= mask {
            let start = i as usize;
            if let Some(free) = slots[start..=start + LINEAR_PROBES as usize].iter_mut().find(|s| **s == S::UNUSED) {
                *free = slot;
                return;
            }
        } else if slots[i as usize] == S::UNUSED {
            slots[i as usize] = slot;
            return;
        }
        perturb >>= PERTURB_SHIFT;
        i = (i.wrapping_mul(5).wrapping_add(1).wrapping_add(perturb)) & mask;
    }
}

/// Hashes values of one graph, without recursion: tuples and frozensets
/// being hashed wait on an explicit stack, so a key 512 levels deep needs
/// no more native stack than a flat one.
///
/// The hashes of tuples, frozensets and long strings met inside other
/// keys are remembered: a tuple can hold the same tuple many times, many
/// levels deep, and without the memo its hash would take time exponential
/// in its size (CPython itself would spin on such a key; the memo makes
/// the work linear in the graph). The stack and the memo are kept from
/// one item to the next, so a set costs no allocation per item.
struct PyHasher<'g, 'a> {
    graph: &'g Graph<'a>,
    stack: Vec<Frame<'g>>,
    /// The hash of an inner object, and the height of its nesting (0 for
    /// a leaf), so a remembered hash is reused only where the depth limit
    /// would have allowed computing it.
    memo: HashMap<ObjId, (i64, u32)>,
}

/// A tuple or frozenset whose items are being hashed.
struct Frame<'g> {
    id: ObjId,
    frozen: bool,
    remember: bool,
    items: &'g [Value],
    /// The next item to hash.
    next: usize,
    /// `tuplehash`'s accumulator, or the XOR of the shuffled item hashes.
    acc: u64,
    /// The height of the nesting of the items hashed so far, plus one.
    height: u32,
}

/// What visiting a value found: its hash (and height), or a tuple or
/// frozenset to open.
enum Visit<'g> {
    Hash(i64, u32),
    Open(Frame<'g>),
}

impl Frame<'_> {
    /// Takes in the hash of the next item.
    #[inline]
    fn absorb(&mut self, hash: i64, height: u32) {
        self.height = self.height.max(height + 1);
        if self.frozen {
            self.acc ^= shuffle_bits(hash as u64);
        } else {
            // `tuplehash` (Objects/tupleobject.c, 64-bit).
            self.acc = self.acc.wrapping_add((hash as u64).wrapping_mul(XXPRIME_2));
            self.acc = self.acc.rotate_left(31);
            self.acc = self.acc.wrapping_mul(XXPRIME_1);
        }
    }

    /// The hash, once every item is in.
    fn finish(&self) -> i64 {
        let len = self.items.len() as u64;
        if self.frozen {
            // `frozenset_hash` (Objects/setobject.c) XORs the shuffled hash
            // field of every slot of the table, then cancels the empty and
            // dummy slots: what is left is the XOR over the items.
            let mut hash = self.acc ^ (len + 1).wrapping_mul(1_927_868_237);
            hash ^= (hash >> 11) ^ (hash >> 25);
            hash = hash.wrapping_mul(69_069).wrapping_add(907_133_923);
            if hash == u64::MAX {
                590_923_713
            } else {
                hash as i64
            }
        } else {
            // The length, mangled to keep the historical hash of ().
            let acc = self.acc.wrapping_add(len ^ (XXPRIME_5 ^ 3_527_539));
            if acc == u64::MAX {
                1_546_275_796
            } else {
                acc as i64
            }
        }
    }
}

impl<'g, 'a> PyHasher<'g, 'a> {
    fn new(graph: &'g Graph<'a>) -> Self {
        PyHasher { graph, stack: Vec::new(), memo: HashMap::new() }
    }

    fn hash(&mut self, root: Value) -> Option<i64> {
        self.stack.clear();
        match self.visit(root, 0)? {
            Visit::Hash(hash, _) => return Some(hash),
            Visit::Open(frame) => self.stack.push(frame),
        }
        loop {
            let depth = self.stack.len() as u32;
            let top = self.stack.last_mut()?;
            if let Some(&item) = top.items.get(top.next) {
                top.next += 1;
                match self.visit(item, depth)? {
                    Visit::Hash(hash, height) => self.stack.last_mut()?.absorb(hash, height),
                    Visit::Open(frame) => self.stack.push(frame),
                }
            } else {
                let frame = self.stack.pop()?;
                let hash = frame.finish();
                if frame.remember {
                    self.memo.insert(frame.id, (hash, frame.height));
                }
                match self.stack.last_mut() {
                    Some(parent) => parent.absorb(hash, frame.height),
                    None => return Some(hash),
                }
            }
        }
    }

    /// Visits `v`, reached at nesting `depth`.
    fn visit(&mut self, v: Value, depth: u32) -> Option<Visit<'g>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let id = match v {
            Value::Int(i) => return Some(Visit::Hash(hash_i64(i), 0)),
            Value::Bool(b) => return Some(Visit::Hash(i64::from(b), 0)),
            Value::Float(f) => return hash_f64(f).map(|h| Visit::Hash(h, 0)),
            Value::None => return None,
            Value::Obj(id) => id,
        };
        let graph: &'g Graph<'a> = self.graph;
        let obj = graph.try_get(id)?;
        let remember = depth > 0
            && match obj {
                Object::Tuple(_) | Object::FrozenSet(_) => true,
                Object::Str(s) => s.as_bytes().len() >= MEMO_MIN_LEN,
                Object::Bytes(b) => b.len() >= MEMO_MIN_LEN,
                _ => false,
            };
        if remember {
            if let Some(&(hash, height)) = self.memo.get(&id) {
                return (depth + height <= MAX_DEPTH).then_some(Visit::Hash(hash, height));
            }
        }
        let open = |frozen, items, acc| Visit::Open(Frame { id, frozen, remember, items, next: 0, acc, height: 0 });
        let hash = match obj {
            Object::Int(b) => hash_bigint(b),
            Object::Str(s) => hash_str(s.as_bytes()),
            Object::Bytes(b) => hash_bytes(b),
            Object::Tuple(items) => return Some(open(false, items, XXPRIME_5)),
            Object::FrozenSet(set) => return Some(open(true, set.items(), 0)),
            Object::ByteArray(_)
            | Object::List(_)
            | Object::Dict(_)
            | Object::Set(_)
            | Object::Global(_)
            | Object::Record(_)
            | Object::PersistentId(_)
            | Object::Buffer(_) => return None,
        };
        if remember {
            self.memo.insert(id, (hash, 0));
        }
        Some(Visit::Hash(hash, 0))
    }
}

/// `_shuffle_bits` of Objects/setobject.c.
#[inline]
fn shuffle_bits(h: u64) -> u64 {
    ((h ^ 89_869_747) ^ (h << 16)).wrapping_mul(3_644_798_167)
}

/// A residue in `0..MODULUS` with a sign, as `long_hash` and
/// `_Py_HashDouble` return it: -1 is the error value, so it becomes -2.
#[inline]
fn signed_residue(x: u64, negative: bool) -> i64 {
    let h = if negative { -(x as i64) } else { x as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// `long_hash` of an int that fits in `i64`.
#[inline]
fn hash_i64(i: i64) -> i64 {
    signed_residue(i.unsigned_abs() % MODULUS, i < 0)
}

/// `long_hash` of any int: |i| modulo 2^61 - 1, with the sign of `i`.
fn hash_bigint(b: &BigInt) -> i64 {
    // 2^64 = 8 (mod 2^61 - 1), and x < 2^61, so x*8 fits in 64 bits.
    let mut x = 0u64;
    for digit in b.iter_u64_digits().rev() {
        x = (x << 3) % MODULUS + digit % MODULUS;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    signed_residue(x, b.sign() == Sign::Minus)
}

/// `_Py_HashDouble`: the finite float is `mantissa * 2^exponent` exactly,
/// and its hash that rational modulo 2^61 - 1 (multiplying by 2^e is a
/// rotation of 61 bits, since 2^61 = 1), with the float's sign.
fn hash_f64(f: f64) -> Option<i64> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { HASH_INF } else { -HASH_INF });
    }
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased == 0 { (fraction, -1074) } else { (fraction | 1 << 52, biased - 1075) };
    // mantissa < 2^53 < 2^61 - 1: already a residue.
    let e = exponent.rem_euclid(61) as u32;
    let x = if e == 0 { mantissa } else { ((mantissa << e) & MODULUS) | (mantissa >> (61 - e)) };
    Some(signed_residue(x, f < 0.0))
}

/// The end of `_Py_HashBytes`: -1 is the error value.
#[inline]
fn finish_bytes(h: u64) -> i64 {
    match h as i64 {
        -1 => -2,
        h => h,
    }
}

/// `_Py_HashBytes` with SipHash-1-3 and the zero key of `PYTHONHASHSEED=0`.
fn hash_bytes(b: &[u8]) -> i64 {
    if b.is_empty() {
        return 0;
    }
    finish_bytes(SipHasher13::new_with_keys(0, 0).hash(b))
}

/// `unicode_hash`: `_Py_HashBytes` of the PEP 393 representation, one,
/// two or four bytes a code point (little-endian) by the largest one.
fn hash_str(wtf8: &[u8]) -> i64 {
    if wtf8.is_ascii() {
        return hash_bytes(wtf8);
    }
    let code_points = || crate::pyrepr::code_points(wtf8);
    let max = code_points().max().unwrap_or(0);
    let mut h = SipHasher13::new_with_keys(0, 0);
    if max < 0x100 {
        code_points().for_each(|c| h.write_u8(c as u8));
    } else if max < 0x1_0000 {
        code_points().for_each(|c| h.write_u16(c as u16));
    } else {
        code_points().for_each(|c| h.write_u32(c));
    }
    finish_bytes(h.finish())
}

#[cfg(test)]
mod tests {
    //! Expected values come from CPython 3.11.7 run with `PYTHONHASHSEED=0`;
    //! `differential_with_python` checks hundreds of random sets against
    //! the local python3 when there is one.

    use super::*;
    use crate::graph::{Global, PyStr, Record, RecordKind, Set};
    use std::borrow::Cow;

    fn big(g: &mut Graph, digits: &str) -> Value {
        g.add(Object::Int(digits.parse::<BigInt>().unwrap()))
    }
    fn s(g: &mut Graph, text: &str) -> Value {
        g.add(Object::Str(PyStr::new(text.to_string())))
    }
    fn wtf8(g: &mut Graph, bytes: &[u8]) -> Value {
        g.add(Object::Str(PyStr::from_wtf8(Cow::Owned(bytes.to_vec())).unwrap()))
    }
    fn b(g: &mut Graph, bytes: &[u8]) -> Value {
        g.add(Object::Bytes(Cow::Owned(bytes.to_vec())))
    }
    fn tuple(g: &mut Graph, items: &[Value]) -> Value {
        g.add(Object::Tuple(items.to_vec()))
    }
    fn frozenset(g: &mut Graph, items: &[Value]) -> Value {
        let mut set = Set::new();
        for &v in items {
            set.insert(g, v).unwrap();
        }
        g.add(Object::FrozenSet(set))
    }
    fn hash(g: &Graph, v: Value) -> i64 {
        py_hash(g, v).expect("hashable")
    }

    /// The positions (in the deduplicated insertion list) of the items
    /// of a set built from `values`, in CPython's iteration order.
    fn order_of(g: &Graph, values: &[Value]) -> Vec<usize> {
        let mut set = Set::new();
        for &v in values {
            set.insert(g, v).unwrap();
        }
        let items = set.items();
        let positions: Vec<usize> = SetTable::<u32>::build(g, items).expect("hashable items").positions().collect();
        let order = cpython_order(g, items).unwrap();
        assert_eq!(order.len(), items.len());
        assert!(positions.iter().zip(&order).all(|(&p, v)| items[p] == *v));
        let wide: Vec<usize> = SetTable::<u64>::build(g, items).unwrap().positions().collect();
        assert_eq!(wide, positions);
        positions
    }

    /// A digest of a long order, as the Python side computed it.
    fn digest(order: &[usize]) -> u64 {
        order.iter().fold(0u64, |d, &p| ((d as u128 * 1_000_003 + p as u128) % MODULUS as u128) as u64)
    }

    fn ints(values: impl IntoIterator<Item = i64>) -> Vec<Value> {
        values.into_iter().map(Value::Int).collect()
    }

    #[test]
    fn int_hashes() {
        let mut g = Graph::new();
        for (v, h) in [
            (0, 0),
            (1, 1),
            (-1, -2),
            (-2, -2),
            ((1 << 61) - 1, 0),
            (1 << 61, 1),
            ((1 << 61) - 2, (1 << 61) - 2),
            (-((1 << 61) - 1), 0),
            (i64::MAX, 3),
            (i64::MIN, -4),
        ] {
            assert_eq!(hash(&g, Value::Int(v)), h, "hash({v})");
        }
        for (digits, h) in [
            ("18446744073709551616", 8),
            ("-1180591620717411303424", -512),
            ("1000000000000000000000000000000", 465_258_685_558_744_706),
            ("-1000000000000000000000000000000", -465_258_685_558_744_706),
            ("9223372036854775807", 3),
            ("-1", -2),
        ] {
            let v = big(&mut g, digits);
            assert_eq!(hash(&g, v), h, "hash({digits})");
        }
        assert_eq!(hash(&g, Value::Bool(true)), 1);
        assert_eq!(hash(&g, Value::Bool(false)), 0);
    }

    #[test]
    fn float_hashes() {
        let g = Graph::new();
        for (f, h) in [
            (0.5, 1_152_921_504_606_846_976),
            (-1.5, -1_152_921_504_606_846_977),
            (1e300, 1_224_995_262_755_759_164),
            (5e-324, 16_777_216),
            (f64::INFINITY, 314_159),
            (f64::NEG_INFINITY, -314_159),
            (-0.0, 0),
            (2.0, 2),
            (-1.0, -2),
            (1e-300, 482_449_582_752_280_463),
            (-2.5e-10, -699_647_011_998_930_896),
            (std::f64::consts::PI, 326_490_430_436_040_707),
            (2f64.powi(61), 1),
            (2f64.powi(100), 549_755_813_888),
        ] {
            assert_eq!(hash(&g, Value::Float(f)), h, "hash({f:?})");
        }
        assert_eq!(py_hash(&g, Value::Float(f64::NAN)), None);
    }

    #[test]
    fn str_and_bytes_hashes() {
        let mut g = Graph::new();
        for (text, h) in [
            ("", 0),
            ("a", 4_644_417_185_603_328_019),
            ("héllo", 6_395_329_678_795_984_700),
            ("日本", 6_243_316_497_235_261_705),
            ("\u{1f600}", -3_536_540_696_076_613_844),
            ("abcdefgh", 4_574_395_652_268_504_554),
            ("abcdefghi", -532_774_252_720_507_163),
            ("\u{ff}", 3_476_900_567_878_811_119),
            ("\u{100}", 75_343_234_424_780_393),
            ("a\u{10ffff}", 182_237_349_966_588_339),
        ] {
            let v = s(&mut g, text);
            assert_eq!(hash(&g, v), h, "hash({text:?})");
        }
        let lone = wtf8(&mut g, b"\xed\xa0\x80");
        assert_eq!(hash(&g, lone), 5_926_611_903_945_376_553, "hash('\\ud800')");
        let all: Vec<u8> = (0..=255).collect();
        for (bytes, h) in [
            (&b""[..], 0),
            (b"a", 4_644_417_185_603_328_019),
            (b"\x00", 7_541_581_120_933_061_747),
            (b"abcdefgh", 4_574_395_652_268_504_554),
            (&all[..], 3_579_909_164_457_460_488),
        ] {
            let v = b(&mut g, bytes);
            assert_eq!(hash(&g, v), h, "hash({bytes:?})");
        }
    }

    #[test]
    fn tuple_and_frozenset_hashes() {
        let mut g = Graph::new();
        let empty = tuple(&mut g, &[]);
        assert_eq!(hash(&g, empty), 5_740_354_900_026_072_187);
        let one = tuple(&mut g, &[Value::Int(1)]);
        assert_eq!(hash(&g, one), -6_644_214_454_873_602_895);
        let pair = tuple(&mut g, &[Value::Int(1), Value::Int(2)]);
        assert_eq!(hash(&g, pair), -3_550_055_125_485_641_917);
        let nested_empty = tuple(&mut g, &[empty]);
        assert_eq!(hash(&g, nested_empty), -5_486_347_211_504_344_842);
        // ((1, 2), (3, (4, 'x')))
        let x = s(&mut g, "x");
        let four_x = tuple(&mut g, &[Value::Int(4), x]);
        let three = tuple(&mut g, &[Value::Int(3), four_x]);
        let nested = tuple(&mut g, &[pair, three]);
        assert_eq!(hash(&g, nested), 578_841_897_765_871_068);
        // ('a', b'a', 1.5)
        let a = s(&mut g, "a");
        let ba = b(&mut g, b"a");
        let mixed = tuple(&mut g, &[a, ba, Value::Float(1.5)]);
        assert_eq!(hash(&g, mixed), -9_044_040_371_338_649_288);

        let fs_empty = frozenset(&mut g, &[]);
        assert_eq!(hash(&g, fs_empty), 133_146_708_735_736);
        let fs_one = frozenset(&mut g, &[Value::Int(1)]);
        assert_eq!(hash(&g, fs_one), -558_064_481_276_695_278);
        let fs_three = frozenset(&mut g, &[Value::Int(3), Value::Int(1), Value::Int(2)]);
        assert_eq!(hash(&g, fs_three), -272_375_401_224_217_160);
        let fs_mixed = frozenset(&mut g, &[a, pair]);
        assert_eq!(hash(&g, fs_mixed), -3_138_234_825_583_958_797);
        let fs_nested = frozenset(&mut g, &[fs_empty, fs_one]);
        assert_eq!(hash(&g, fs_nested), -67_101_846_648_477_850);
    }

    #[test]
    fn unknown_hashes() {
        let mut g = Graph::new();
        let list = g.add(Object::List(vec![]));
        let global = g.add(Object::Global(Box::new(Global::new("builtins", "int"))));
        let args = tuple(&mut g, &[]);
        let record = g.add(Object::Record(Box::new(Record {
            kind: RecordKind::Reduce,
            callable: global,
            args,
            kwargs: None,
            state: None,
            items: vec![],
            dict_items: vec![],
        })));
        let persistent = g.add(Object::PersistentId(Value::Int(1)));
        let bytearray = g.add(Object::ByteArray(Cow::Borrowed(b"x")));
        let tuple_with_list = tuple(&mut g, &[Value::Int(1), list]);
        let tuple_with_none = tuple(&mut g, &[Value::None]);
        let dangling = Value::Obj(ObjId(1_000_000));
        for v in [
            Value::None,
            Value::Float(f64::NAN),
            list,
            global,
            record,
            persistent,
            bytearray,
            tuple_with_list,
            tuple_with_none,
            dangling,
        ] {
            assert_eq!(py_hash(&g, v), None, "{v:?}");
        }
        assert_eq!(cpython_order(&g, &[Value::Int(1), Value::None]), None);
        assert_eq!(cpython_order(&g, &[record, Value::Int(1)]), None);
        assert_eq!(cpython_order(&g, &[]), Some(vec![]));
    }

    /// Runs `f` on a thread with a stack of `kb` KiB.
    fn with_stack<T: Send>(kb: usize, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            std::thread::Builder::new().stack_size(kb << 10).spawn_scoped(scope, f).unwrap().join()
        })
        .unwrap()
    }

    /// Whether `Set::insert` takes `v` (it recurses, and needs a big stack
    /// 512 levels deep in a debug build).
    fn keys_take(g: &Graph, v: Value) -> bool {
        with_stack(64 << 10, || Set::new().insert(g, v).is_ok())
    }

    /// `t = ()` wrapped in 512 more tuples is as deep as a key may be;
    /// one more level is refused, as `Set::insert` refuses it. Hashing
    /// does not recurse: 64 KiB of stack are enough.
    #[test]
    fn depth_limit() {
        let mut g = Graph::new();
        let mut t = tuple(&mut g, &[]);
        for _ in 0..512 {
            t = tuple(&mut g, &[t]);
        }
        let deeper = tuple(&mut g, &[t]);
        // A remembered hash is not reused below the limit: `x` is 500 deep
        // and hashes at depth 1 first, then again at depth 21.
        let mut x = tuple(&mut g, &[]);
        for _ in 0..499 {
            x = tuple(&mut g, &[x]);
        }
        let mut chain = x;
        for _ in 0..20 {
            chain = tuple(&mut g, &[chain]);
        }
        let both = tuple(&mut g, &[x, chain]);
        let shallow = tuple(&mut g, &[x, x]);

        with_stack(64, || {
            assert_eq!(py_hash(&g, t), Some(-4_939_187_074_402_862_794));
            assert_eq!(py_hash(&g, deeper), None);
            assert_eq!(cpython_order(&g, &[Value::Int(1), deeper]), None);
            assert_eq!(py_hash(&g, both), None);
            assert!(py_hash(&g, shallow).is_some());
        });
        assert!(keys_take(&g, t));
        assert!(!keys_take(&g, deeper));
        assert!(!keys_take(&g, both));
        assert!(keys_take(&g, shallow));
    }

    /// Shared inner keys are hashed once: 2^20 paths here (CPython hashes
    /// every one of them), 2^200 in the second key.
    #[test]
    fn shared_keys_hash_fast() {
        let mut g = Graph::new();
        let mut t = tuple(&mut g, &[Value::Int(1), Value::Int(2), Value::Int(3)]);
        for _ in 0..20 {
            t = tuple(&mut g, &[t, t]);
        }
        assert_eq!(hash(&g, t), 8_655_976_505_270_144_074);
        for _ in 0..180 {
            t = tuple(&mut g, &[t, t]);
        }
        assert!(py_hash(&g, t).is_some());

        // f = frozenset([1, 2]); 20 times f = frozenset([f, (f, 'x')])
        let x = s(&mut g, "x");
        let mut f = frozenset(&mut g, &[Value::Int(1), Value::Int(2)]);
        for _ in 0..20 {
            let pair = tuple(&mut g, &[f, x]);
            f = frozenset(&mut g, &[f, pair]);
        }
        assert_eq!(hash(&g, f), 5_185_417_761_068_546_058);
    }

    #[test]
    fn small_orders() {
        let mut g = Graph::new();
        // 1, 9, 17, 25, 33 all start at slot 1 of the first table; -1 and
        // -2 share the hash -2; 0 and multiples of 2^61 - 1 hash to 0.
        let m = (1i64 << 61) - 1;
        let collide = ints([1, 9, 17, 25, 33, -1, -2, 0, m, 2 * m, 3 * m]);
        assert_eq!(order_of(&g, &collide), [7, 0, 4, 8, 9, 10, 1, 2, 6, 3, 5]);
        // Slot 7 of 8 has no room for linear probes: the next slot is 7*5+1.
        assert_eq!(order_of(&g, &ints([7, 15, 23, 31])), [3, 1, 2, 0]);

        let mut strs = vec![];
        for text in ["", "a", "b", "héllo", "日本", "\u{1f600}"] {
            strs.push(s(&mut g, text));
        }
        strs.push(wtf8(&mut g, b"\xed\xa0\x80"));
        for k in 0..60 {
            strs.push(s(&mut g, &format!("s{k}")));
        }
        assert_eq!(
            order_of(&g, &strs),
            [
                0, 13, 11, 4, 15, 66, 48, 35, 30, 1, 44, 47, 16, 27, 61, 40, 14, 6, 9, 5, 33, 64, 7, 63, 36, 59, 55, 3,
                51, 23, 45, 24, 26, 43, 25, 60, 2, 38, 39, 37, 53, 34, 8, 31, 41, 49, 17, 21, 54, 62, 56, 28, 50, 10,
                20, 46, 52, 32, 19, 22, 42, 57, 18, 58, 65, 12, 29
            ]
        );

        // [True, 2, 2.5, 'x', b'x', (1, 'x'), frozenset([1, 2]), (), 1.0, 3.0, -0.5, inf]
        // (1.0 == True: the set keeps True)
        let x = s(&mut g, "x");
        let bx = b(&mut g, b"x");
        let one_x = tuple(&mut g, &[Value::Int(1), x]);
        let fs = frozenset(&mut g, &[Value::Int(1), Value::Int(2)]);
        let empty = tuple(&mut g, &[]);
        let mixed = [
            Value::Bool(true),
            Value::Int(2),
            Value::Float(2.5),
            x,
            bx,
            one_x,
            fs,
            empty,
            Value::Float(1.0),
            Value::Float(3.0),
            Value::Float(-0.5),
            Value::Float(f64::INFINITY),
        ];
        assert_eq!(order_of(&g, &mixed), [9, 0, 1, 2, 3, 4, 6, 8, 10, 7, 5]);
    }

    #[test]
    fn large_orders() {
        let g = Graph::new();
        // [((k * 7919) % 1009 - 504) * (8 if k % 2 else 1) for k in range(100)]
        let v100 = ints((0..100).map(|k| ((k * 7919) % 1009 - 504) * if k % 2 == 1 { 8 } else { 1 }));
        assert_eq!(
            order_of(&g, &v100),
            [
                19, 0, 56, 75, 35, 46, 89, 36, 49, 92, 26, 82, 9, 16, 63, 72, 6, 62, 23, 77, 52, 42, 37, 93, 98, 91,
                32, 88, 53, 22, 51, 78, 11, 12, 68, 67, 2, 65, 27, 58, 25, 48, 81, 79, 41, 38, 39, 94, 1, 28, 95, 55,
                84, 18, 74, 15, 8, 13, 69, 64, 54, 29, 83, 44, 34, 43, 99, 90, 3, 97, 24, 80, 14, 57, 70, 17, 4, 60,
                73, 71, 33, 50, 31, 40, 87, 85, 96, 47, 30, 45, 86, 7, 20, 5, 61, 76, 10, 59, 66, 21
            ]
        );
        // [(k * 2654435761) % 2**40 - 2**39 if k % 5 else -8 * k for k in range(2000)]
        let v2000 =
            ints((0..2000).map(|k| if k % 5 != 0 { (k * 2_654_435_761) % (1 << 40) - (1 << 39) } else { -8 * k }));
        let order = order_of(&g, &v2000);
        assert_eq!(order.len(), 2000);
        assert_eq!(order[..16], [0, 1821, 1471, 1121, 771, 421, 71, 1020, 1892, 1542, 1192, 842, 492, 142, 1963, 1613]);
        assert_eq!(digest(&order), 1_222_534_926_608_980_747);
        // Every item starts at slot 0 until the table has 2^20 slots: long
        // runs of linear probes, then jumps driven by the high bits.
        // [k << 20 for k in range(-150, 150)] + [k << 45 for k in range(1, 40)]
        let clustered = ints((-150..150).map(|k| k << 20).chain((1..40).map(|k| k << 45)));
        let order = order_of(&g, &clustered);
        assert_eq!(order[..16], [0, 1, 4, 2, 3, 5, 6, 7, 8, 9, 10, 12, 14, 200, 270, 254]);
        assert_eq!(digest(&order), 663_167_955_778_312_560);
        // Past 50000 items a full table doubles instead of growing fourfold
        // (sets that only grow resize at 19661 items, then at 78643).
        // [k * 8 - 400000 if k % 3 else k * 2654435761 for k in range(100000)]
        let v100000 = ints((0..100_000).map(|k| if k % 3 != 0 { k * 8 - 400_000 } else { k * 2_654_435_761 }));
        let order = order_of(&g, &v100000);
        assert_eq!(order.len(), 99_999);
        assert_eq!(
            order[..16],
            [
                0, 82767, 17233, 82768, 17234, 50001, 50002, 82770, 17236, 82771, 17237, 50004, 50005, 82773, 17239,
                82774
            ]
        );
        assert_eq!(digest(&order), 1_362_722_104_310_046_562);
    }

    /// The cost on a big set: `cargo test --release -p pyckle --lib million -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn million_ints_timing() {
        let mut g = Graph::new();
        let strs: Vec<Value> = (0..1_000_000).map(|k| s(&mut g, &format!("item {k}"))).collect();
        let tuples: Vec<Value> = (0..1_000_000).map(|k| tuple(&mut g, &[Value::Int(k), strs[k as usize]])).collect();
        for (name, items) in [
            ("sequential ints", ints(0..1_000_000)),
            ("spread ints", ints((0..1_000_000).map(|k: i64| k.wrapping_mul(0x9E37_79B9_7F4A_7C15u64 as i64)))),
            ("strs", strs),
            ("(int, str) tuples", tuples),
        ] {
            let start = std::time::Instant::now();
            let order = cpython_order(&g, &items).unwrap();
            eprintln!("{name}: {} items in {:?}", order.len(), start.elapsed());
        }
    }

    /// Prints, one JSON line per set, a random insertion list (deduplicated
    /// as a set deduplicates), CPython's hash of each item and the
    /// positions of the items in `list(set(items))`. Values are tagged:
    /// ints as decimal text, floats as their little-endian bits, strs as
    /// UTF-8 with surrogatepass, bytes as hex.
    const DIFFERENTIAL_SCRIPT: &str = r#"
import json, random, struct, sys
if sys.version_info[:2] != (3, 11) or sys.hash_info.algorithm != "siphash13" or sys.hash_info.width != 64:
    sys.exit(3)
rng = random.Random(20240611)
M = 2**61 - 1

def rint():
    r = rng.random()
    if r < 0.3: return rng.randint(-300, 300)
    if r < 0.4: return rng.randint(-1000, 1000) * 8
    if r < 0.5: return rng.choice([1, -1]) * rng.randint(0, 4) * M + rng.randint(-3, 3)
    if r < 0.6: return rng.choice([1, -1]) * 2 ** rng.randint(0, 130) + rng.randint(-2, 2)
    if r < 0.8: return rng.randint(-2**63, 2**63 - 1)
    return rng.randint(-2**rng.randint(64, 300), 2**rng.randint(64, 300))

def rfloat():
    r = rng.random()
    if r < 0.2: return rng.randint(-2000, 2000) / 8
    if r < 0.3: return float(rng.randint(-10**6, 10**6))
    if r < 0.4:
        return rng.choice([float("inf"), float("-inf"), 0.0, -0.0, 5e-324, -5e-324, 1e308, 2.0**63, -2.0**64, 2.0**61, 2.0**61 - 2**9])
    if r < 0.7: return rng.uniform(-1e6, 1e6)
    f = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
    return 1.5 if f != f else f

ALPHABET = ["a", "z", "0", " ", "\xe9", "\xff", "\x00", "\u0100", "\u65e5", "\ud800", "\udfff", "\uffff", "\U0001f600", "\U0010ffff"]

def rstr():
    n = rng.choice([0, 1, 2, 3, 5, 8, 9, 16, 40, 100])
    if rng.random() < 0.5:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))
    pick = lambda: rng.choice(ALPHABET) if rng.random() < 0.5 else chr(rng.randint(0, rng.choice([0xff, 0xffff, 0x10ffff])))
    return "".join(pick() for _ in range(n))

def rbytes():
    return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 3, 7, 8, 9, 15, 16, 33, 80])))

def ratom(kinds, d=0):
    k = rng.choice(kinds)
    if k == "t" and d < 4: return tuple(ratom(kinds, d + 1) for _ in range(rng.randint(0, 4)))
    if k == "F" and d < 4: return frozenset(ratom(kinds, d + 1) for _ in range(rng.randint(0, 5)))
    if k == "B": return rng.choice([True, False])
    if k == "f": return rfloat()
    if k == "s": return rstr()
    if k == "b": return rbytes()
    return rint()

def enc(x):
    if isinstance(x, bool): return ["B", int(x)]
    if isinstance(x, int): return ["i", str(x)]
    if isinstance(x, float): return ["f", struct.pack("<d", x).hex()]
    if isinstance(x, str): return ["s", x.encode("utf-8", "surrogatepass").hex()]
    if isinstance(x, bytes): return ["b", x.hex()]
    if isinstance(x, tuple): return ["t", [enc(y) for y in x]]
    return ["F", [enc(y) for y in x]]

MIXES = ["i", "i", "f", "s", "b", "is", "ifB", "ift", "sbt", "tF", "ifsbtFB", "ifsbtFB"]
for case in range(int(sys.argv[1])):
    r = rng.random()
    n = rng.randint(0, 20) if r < 0.6 else rng.randint(20, 300) if r < 0.9 else rng.randint(300, 3000)
    kinds = list(rng.choice(MIXES))
    items = list(dict.fromkeys(ratom(kinds) for _ in range(n)))
    position = {id(x): i for i, x in enumerate(items)}
    order = [position[id(x)] for x in set(items)]
    assert order == [position[id(x)] for x in frozenset(items)]
    print(json.dumps({"items": [enc(x) for x in items], "hashes": [str(hash(x)) for x in items], "order": order}))
"#;

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect()
    }

    /// Builds the value a tagged JSON item describes.
    fn build(g: &mut Graph, j: &serde_json::Value) -> Value {
        let tag = j[0].as_str().unwrap();
        let arg = &j[1];
        match tag {
            "B" => Value::Bool(arg.as_u64() == Some(1)),
            "i" => {
                let digits = arg.as_str().unwrap();
                match digits.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => big(g, digits),
                }
            }
            "f" => Value::Float(f64::from_le_bytes(unhex(arg.as_str().unwrap()).try_into().unwrap())),
            "s" => wtf8(g, &unhex(arg.as_str().unwrap())),
            "b" => b(g, &unhex(arg.as_str().unwrap())),
            "t" => {
                let items: Vec<Value> = arg.as_array().unwrap().iter().map(|x| build(g, x)).collect();
                tuple(g, &items)
            }
            "F" => {
                let items: Vec<Value> = arg.as_array().unwrap().iter().map(|x| build(g, x)).collect();
                frozenset(g, &items)
            }
            other => panic!("unknown tag {other}"),
        }
    }

    /// Random sets of every kind of hashable value (sizes 0 to 3000)
    /// against the local python3 3.11 with `PYTHONHASHSEED=0`: every
    /// item's hash and every set's iteration order.
    #[test]
    fn differential_with_python() {
        const CASES: usize = 400;
        let output = match std::process::Command::new("python3")
            .args(["-c", DIFFERENTIAL_SCRIPT, &CASES.to_string()])
            .env("PYTHONHASHSEED", "0")
            .output()
        {
            Ok(o) if o.status.code() == Some(3) => {
                eprintln!("skipped: python3 is not a 64-bit CPython 3.11 with siphash13");
                return;
            }
            Ok(o) => o,
            Err(e) => {
                eprintln!("skipped: no python3 ({e})");
                return;
            }
        };
        assert!(output.status.success(), "python3 failed: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout).unwrap();
        let (mut sets, mut items_seen, mut failures) = (0, 0, Vec::new());
        for (case, line) in text.lines().enumerate() {
            let j: serde_json::Value = serde_json::from_str(line).unwrap();
            let mut g = Graph::new();
            let values: Vec<Value> = j["items"].as_array().unwrap().iter().map(|x| build(&mut g, x)).collect();
            let hashes: Vec<i64> =
                j["hashes"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().parse().unwrap()).collect();
            let order: Vec<usize> =
                j["order"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap() as usize).collect();
            for (i, (&v, &h)) in values.iter().zip(&hashes).enumerate() {
                if py_hash(&g, v) != Some(h) {
                    failures.push(format!(
                        "case {case} item {i}: {:?} python {h}, pyckle {:?}",
                        j["items"][i],
                        py_hash(&g, v)
                    ));
                }
            }
            let mut set = Set::new();
            for &v in &values {
                set.insert(&g, v).unwrap();
            }
            assert_eq!(set.items(), &values[..], "case {case}: the graph deduplicates as Python does");
            let ours: Vec<usize> = SetTable::<u32>::build(&g, set.items()).unwrap().positions().collect();
            if ours != order {
                failures.push(format!("case {case} ({} items): orders differ", values.len()));
            }
            sets += 1;
            items_seen += values.len();
        }
        assert_eq!(sets, CASES);
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
        eprintln!("{sets} sets, {items_seen} items: hashes and orders as CPython's");
    }
}
