//! Dicts and sets with Python's key semantics.
//!
//! Keys compare as Python compares them: `1`, `1.0` and `True` are one key,
//! `"a"` and `b"a"` are two, tuples and frozensets compare by content,
//! other objects by identity. Lists, dicts, sets and bytearrays are
//! unhashable, so they cannot be keys.

use super::{Graph, ObjId, Object, Value};
use hashbrown::HashTable;
use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

/// Keys nested deeper than this (tuples in tuples...) are refused.
const MAX_KEY_DEPTH: usize = 512;

/// Below this many entries a lookup scans; above, a hash table is kept.
const SCAN_LIMIT: usize = 8;

/// The work one call of the public API may spend hashing and comparing.
const WORK_PER_CALL: u64 = 1 << 32;

/// A budget for hashing and comparing keys, in units of one value visited
/// (or 16 bytes of a str or bytes hashed or compared). Keys can be
/// expensive without being big: a tuple that holds the same tuple a hundred
/// times, six levels deep, has 10^12 leaves, and one huge key can be set
/// again and again through the memo. CPython would spin on such a pickle;
/// pyckle stops with an error when the budget runs out.
#[derive(Debug)]
pub(crate) struct KeyWork(Cell<u64>);

impl KeyWork {
    pub(crate) fn new(budget: u64) -> Self {
        KeyWork(Cell::new(budget))
    }
    /// Spends `n` units; false (and the budget empty) when there were not enough.
    #[inline]
    fn spend(&self, n: u64) -> bool {
        match self.0.get().checked_sub(n) {
            Some(left) => {
                self.0.set(left);
                true
            }
            None => {
                self.0.set(0);
                false
            }
        }
    }
    fn exhausted(&self) -> bool {
        self.0.get() == 0
    }
}

/// The cost of hashing or comparing `len` bytes.
#[inline]
fn bytes_cost(len: usize) -> u64 {
    1 + (len as u64 >> 4)
}

/// Why a value cannot be a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyError {
    Unhashable(&'static str),
    TooDeep,
    TooMuchWork,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Unhashable(t) => write!(f, "unhashable type: '{t}'"),
            KeyError::TooDeep => write!(f, "key nested deeper than {MAX_KEY_DEPTH} levels"),
            KeyError::TooMuchWork => {
                write!(f, "dict and set keys took more work to hash and compare than the limit allows")
            }
        }
    }
}

/// The positions of keys by their Python hash.
///
/// Up to [`SCAN_LIMIT`] keys there is no index at all (one pointer, no
/// allocation): a lookup scans the keys and accepts one whose hash
/// (recomputed) matches and that Python equality accepts, which finds
/// exactly what a scan of stored hashes would. For a flat key (anything
/// but a tuple or frozenset) equality is cheap and never recurses, so it
/// is tested first and the hash only recomputed for an equal key; for a
/// tuple or frozenset the hash is tested first, so a deep comparison only
/// runs on a hash match, as with stored hashes. Most dicts and
/// sets in pickles are small, so this saves an allocation per object and
/// keeps [`Dict`] and [`Set`] (and so every [`Object`]) small. Past the
/// limit the hashes are stored and a hash table maps them to positions.
#[derive(Clone, Debug, Default)]
struct Index(Option<Box<Table>>);

#[derive(Clone, Debug)]
struct Table {
    /// The hash of the key at each position.
    hashes: Vec<u64>,
    table: HashTable<usize>,
}

impl Index {
    /// True while lookups scan and the key at position `len` would still
    /// be scanned: then a flat key needs no hash at all (equal flat keys
    /// have equal hashes, so the hash could not tell the scan anything).
    #[inline]
    fn scans(&self, len: usize) -> bool {
        self.0.is_none() && len < SCAN_LIMIT
    }

    /// The position of the key with hash `hash` that `eq` accepts, among
    /// `len` keys; `hash_of(i)` is the hash of the key at position `i`;
    /// `flat` says that `eq` is cheap (see above). `hash` may be `None`
    /// only for a flat key while [`Index::scans`].
    #[inline]
    fn find(
        &self,
        len: usize,
        hash: Option<u64>,
        flat: bool,
        mut eq: impl FnMut(usize) -> bool,
        hash_of: impl Fn(usize) -> u64,
    ) -> Option<usize> {
        match (&self.0, hash) {
            (Some(t), Some(hash)) => t.table.find(hash, |&i| t.hashes[i] == hash && eq(i)).copied(),
            (_, _) if flat => (0..len).find(|&i| eq(i)),
            (None, Some(hash)) => (0..len).find(|&i| hash_of(i) == hash && eq(i)),
            (_, None) => None,
        }
    }
    /// Records that the key at position `len - 1`, of hash `hash` (`None`:
    /// not computed, `hash_of` gives it when needed), was added.
    #[inline]
    fn push(&mut self, len: usize, hash: Option<u64>, hash_of: impl Fn(usize) -> u64) {
        match &mut self.0 {
            Some(t) => {
                let i = t.hashes.len();
                let hash = hash.unwrap_or_else(|| hash_of(i));
                t.hashes.push(hash);
                let hashes = &t.hashes;
                t.table.insert_unique(hash, i, |&j| hashes[j]);
            }
            None if len > SCAN_LIMIT => {
                let last = hash.unwrap_or_else(|| hash_of(len - 1));
                let hashes: Vec<u64> = (0..len - 1).map(hash_of).chain(std::iter::once(last)).collect();
                let mut table = HashTable::with_capacity(len * 2);
                for (j, &h) in hashes.iter().enumerate() {
                    table.insert_unique(h, j, |&k| hashes[k]);
                }
                self.0 = Some(Box::new(Table { hashes, table }));
            }
            None => {}
        }
    }

    /// How [`Index::find`] looks up a key of hash `hash` (`flat`: the key
    /// is flat), for a caller that compares one candidate at a time: the
    /// table's candidates are pushed on `buf`, in the order `find` would
    /// try them.
    fn scan(&self, hash: u64, flat: bool, buf: &mut Vec<usize>) -> Scan {
        match &self.0 {
            Some(t) => {
                let start = buf.len();
                t.table.find(hash, |&i| {
                    if t.hashes[i] == hash {
                        buf.push(i);
                    }
                    false
                });
                Scan::Table { start, end: buf.len() }
            }
            None if flat => Scan::All,
            None => Scan::Hashed,
        }
    }
}

/// The hash of a key already stored: it hashed when it was added, and
/// keys are immutable, so it hashes the same again.
fn stored_hash(graph: &Graph, key: Value, work: &KeyWork) -> u64 {
    graph.hash_key_within(key, work).unwrap_or(0)
}

/// True unless `key` is a tuple or frozenset: comparing it never recurses.
#[inline]
fn is_flat(graph: &Graph, key: Value) -> bool {
    !matches!(graph.object(key), Some(Object::Tuple(_)) | Some(Object::FrozenSet(_)))
}

/// A Python dict: entries in insertion order, keys unique by Python equality.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    entries: Vec<(Value, Value)>,
    index: Index,
}

impl PartialEq for Dict {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Dict {
    pub fn new() -> Self {
        Dict::default()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The entries in insertion order.
    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &(Value, Value)> {
        self.entries.iter()
    }
    /// `d[key] = value`: a new key goes last; an equal key keeps its place
    /// and its first spelling, and takes the new value.
    pub fn insert(&mut self, graph: &Graph, key: Value, value: Value) -> Result<(), String> {
        self.insert_within(graph, key, value, &KeyWork::new(WORK_PER_CALL)).map_err(|e| e.to_string())
    }

    pub(crate) fn insert_within(
        &mut self,
        graph: &Graph,
        key: Value,
        value: Value,
        work: &KeyWork,
    ) -> Result<(), KeyError> {
        let flat = is_flat(graph, key);
        let hash = graph.key_hash_if_needed(key, flat, self.index.scans(self.entries.len()), work)?;
        let entries = &self.entries;
        let found = self.index.find(
            entries.len(),
            hash,
            flat,
            |i| graph.eq_depth(entries[i].0, key, 0, work),
            |i| stored_hash(graph, entries[i].0, work),
        );
        if work.exhausted() {
            return Err(KeyError::TooMuchWork);
        }
        match found {
            Some(i) => self.entries[i].1 = value,
            None => {
                self.entries.push((key, value));
                let entries = &self.entries;
                self.index.push(entries.len(), hash, |i| stored_hash(graph, entries[i].0, work));
            }
        }
        Ok(())
    }
    /// `d[key]`, with Python's key equality.
    pub fn get(&self, graph: &Graph, key: Value) -> Option<Value> {
        let work = KeyWork::new(WORK_PER_CALL);
        let hash = graph.hash_key_within(key, &work).ok()?;
        let entries = &self.entries;
        self.index
            .find(
                entries.len(),
                Some(hash),
                is_flat(graph, key),
                |i| graph.eq_depth(entries[i].0, key, 0, &work),
                |i| stored_hash(graph, entries[i].0, &work),
            )
            .map(|i| entries[i].1)
    }
    /// The value of a `str` key.
    pub fn get_str(&self, graph: &Graph, key: &str) -> Option<Value> {
        self.entries.iter().find(|(k, _)| graph.as_str(*k) == Some(key)).map(|(_, v)| *v)
    }
}

/// A Python set or frozenset: items in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Set {
    items: Vec<Value>,
    index: Index,
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl Set {
    pub fn new() -> Self {
        Set::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn items(&self) -> &[Value] {
        &self.items
    }
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.items.iter()
    }
    /// `s.add(item)`; an item equal to one already there is ignored.
    pub fn insert(&mut self, graph: &Graph, item: Value) -> Result<(), String> {
        self.insert_within(graph, item, &KeyWork::new(WORK_PER_CALL)).map_err(|e| e.to_string())
    }

    pub(crate) fn insert_within(&mut self, graph: &Graph, item: Value, work: &KeyWork) -> Result<(), KeyError> {
        let flat = is_flat(graph, item);
        let hash = graph.key_hash_if_needed(item, flat, self.index.scans(self.items.len()), work)?;
        let items = &self.items;
        let found = self.index.find(
            items.len(),
            hash,
            flat,
            |i| graph.eq_depth(items[i], item, 0, work),
            |i| stored_hash(graph, items[i], work),
        );
        if work.exhausted() {
            return Err(KeyError::TooMuchWork);
        }
        if found.is_none() {
            self.items.push(item);
            let items = &self.items;
            self.index.push(items.len(), hash, |i| stored_hash(graph, items[i], work));
        }
        Ok(())
    }
    /// `item in s`.
    pub fn contains(&self, graph: &Graph, item: Value) -> bool {
        let work = KeyWork::new(WORK_PER_CALL);
        graph.set_contains(self, item, 0, &work)
    }
}

/// A number, as Python compares numbers.
enum Num<'g> {
    Small(i128),
    Big(&'g BigInt),
    Float(f64),
}

const TAG_NONE: u8 = 1;
const TAG_NUM: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_STR: u8 = 4;
const TAG_BYTES: u8 = 5;
const TAG_TUPLE: u8 = 6;
const TAG_FROZENSET: u8 = 7;
const TAG_GLOBAL: u8 = 8;
const TAG_IDENTITY: u8 = 9;

/// The hasher of keys (the graph's `hasher` builds them).
type KeyHasher = <hashbrown::DefaultHashBuilder as BuildHasher>::Hasher;

/// What [`Graph::hash_step`] left to do.
enum HashStep<'g> {
    /// The value is hashed.
    Done,
    /// A tuple's head is written; its items are to hash.
    Tuple(&'g [Value]),
    /// A frozenset's items are to hash, then its head.
    FrozenSet(&'g [Value]),
}

/// A tuple or frozenset whose items are being hashed.
struct HashFrame<'g> {
    items: &'g [Value],
    /// The next item to hash.
    next: usize,
    /// The depth of the items.
    depth: usize,
    /// For a frozenset: the hasher its head goes into (each item goes
    /// into a fresh one) and the sum of its items' hashes so far.
    set: Option<(KeyHasher, u64)>,
}

/// The head of a frozenset, after its items: order-independent, with the
/// sum of the items' own hashes.
fn write_frozenset_head(h: &mut impl Hasher, len: usize, sum: u64) {
    h.write_u8(TAG_FROZENSET);
    h.write_usize(len);
    h.write_u64(sum);
}

/// What [`Graph::eq_step`] left to do.
enum EqStep<'g> {
    /// The answer.
    Done(bool),
    /// Two tuples of the same length: their items compare pairwise.
    Tuple(&'g [Value], &'g [Value]),
    /// Two frozensets of the same size: the items of the first are looked up in the second.
    FrozenSet(&'g [Value], &'g Set),
}

/// A comparison or lookup under way in [`Graph::eq_nested`].
enum EqFrame<'g> {
    /// `s == t` for tuples: the pairs from `next` on, at `depth`.
    Tuple { s: &'g [Value], t: &'g [Value], next: usize, depth: usize },
    /// `s == t` for frozensets: the items of `s` from `next` on are looked up in `t`, at `depth`.
    FrozenSet { s: &'g [Value], t: &'g Set, next: usize, depth: usize },
    /// `item in set`, of hash `hash`: the candidates from `next` on compare with `item` at `depth`.
    Contains { set: &'g Set, item: Value, hash: u64, scan: Scan, next: usize, depth: usize },
}

/// Pushes the frame of two tuples or frozensets at `depth` whose items are still to compare.
fn push_eq_frame<'g>(step: EqStep<'g>, depth: usize, stack: &mut Vec<EqFrame<'g>>) {
    match step {
        EqStep::Done(_) => {}
        EqStep::Tuple(s, t) => stack.push(EqFrame::Tuple { s, t, next: 0, depth: depth + 1 }),
        EqStep::FrozenSet(s, t) => stack.push(EqFrame::FrozenSet { s, t, next: 0, depth: depth + 1 }),
    }
}

/// Which keys of a set a lookup compares with, as [`Index::find`] chooses them.
#[derive(Clone, Copy)]
enum Scan {
    /// The positions `start..end` of the candidates buffer: those the hash
    /// table finds with the hash, in the order it tries them.
    Table { start: usize, end: usize },
    /// Every key (the item looked up is flat).
    All,
    /// Every key whose hash, recomputed, is the item's.
    Hashed,
}

impl Graph<'_> {
    fn num(&self, v: Value) -> Option<Num<'_>> {
        match v {
            Value::Bool(b) => Some(Num::Small(b as i128)),
            Value::Int(i) => Some(Num::Small(i as i128)),
            Value::Float(f) => Some(Num::Float(f)),
            Value::Obj(id) => match self.try_get(id) {
                Some(Object::Int(b)) => Some(Num::Big(b)),
                _ => None,
            },
            Value::None => None,
        }
    }

    /// The hash of a key about to be looked up, or `None` (after checking
    /// that it is hashable) when the lookup scans a small dict or set and
    /// the key is flat, so no hash is needed.
    #[inline]
    fn key_hash_if_needed(&self, v: Value, flat: bool, scans: bool, work: &KeyWork) -> Result<Option<u64>, KeyError> {
        if !(flat && scans) {
            return self.hash_key_within(v, work).map(Some);
        }
        match self.object(v) {
            Some(
                o @ (Object::List(_) | Object::Dict(_) | Object::Set(_) | Object::ByteArray(_) | Object::Buffer(_)),
            ) => Err(KeyError::Unhashable(o.type_name())),
            None if v.obj().is_some() => Err(KeyError::Unhashable("invalid reference")),
            _ => Ok(None),
        }
    }

    /// Python's hash of a key, consistent with [`Graph::py_eq`].
    pub(crate) fn hash_key_within(&self, v: Value, work: &KeyWork) -> Result<u64, KeyError> {
        self.hash_at(v, 0, work)
    }

    /// The hash of `v`, found `depth` levels down a key. A flat value is
    /// hashed here without allocating; a tuple or frozenset goes on to
    /// [`Graph::hash_nested`].
    #[inline]
    fn hash_at(&self, v: Value, depth: usize, work: &KeyWork) -> Result<u64, KeyError> {
        let mut h = self.hasher.build_hasher();
        match self.hash_step(v, &mut h, depth, work)? {
            HashStep::Done => Ok(h.finish()),
            step => self.hash_nested(step, h, depth, work),
        }
    }

    /// Hashes `v` into `h` as far as it can without going down: a flat
    /// value whole; a tuple its head, leaving its items; a frozenset
    /// nothing, leaving its items (its head goes after them, with the sum
    /// of their hashes). Spends the work of `v` itself.
    #[inline]
    fn hash_step(&self, v: Value, h: &mut KeyHasher, depth: usize, work: &KeyWork) -> Result<HashStep<'_>, KeyError> {
        if depth > MAX_KEY_DEPTH {
            return Err(KeyError::TooDeep);
        }
        let cost = match self.object(v) {
            Some(Object::Str(s)) => bytes_cost(s.as_bytes().len()),
            Some(Object::Bytes(b)) => bytes_cost(b.len()),
            _ => 1,
        };
        if !work.spend(cost) {
            return Err(KeyError::TooMuchWork);
        }
        if let Some(n) = self.num(v) {
            hash_num(n, h);
            return Ok(HashStep::Done);
        }
        let id = match v {
            Value::None => {
                h.write_u8(TAG_NONE);
                return Ok(HashStep::Done);
            }
            Value::Obj(id) => id,
            _ => unreachable!("numbers are handled above"),
        };
        match self.try_get(id) {
            Some(Object::Str(s)) => {
                h.write_u8(TAG_STR);
                h.write(s.as_bytes());
                h.write_u8(0xff);
            }
            Some(Object::Bytes(b)) => {
                h.write_u8(TAG_BYTES);
                h.write(b);
                h.write_u8(0xff);
            }
            Some(Object::Tuple(items)) => {
                h.write_u8(TAG_TUPLE);
                h.write_usize(items.len());
                if !items.is_empty() {
                    return Ok(HashStep::Tuple(items));
                }
            }
            Some(Object::FrozenSet(set)) => {
                if !set.is_empty() {
                    return Ok(HashStep::FrozenSet(set.items()));
                }
                write_frozenset_head(h, 0, 0);
            }
            Some(Object::Global(g)) => {
                h.write_u8(TAG_GLOBAL);
                h.write(g.module.as_bytes());
                h.write_u8(0xff);
                h.write(g.name.as_bytes());
            }
            Some(Object::Record(_)) | Some(Object::PersistentId(_)) => {
                h.write_u8(TAG_IDENTITY);
                h.write_u32(id.0);
            }
            Some(other) => return Err(KeyError::Unhashable(other.type_name())),
            None => return Err(KeyError::Unhashable("invalid reference")),
        }
        Ok(HashStep::Done)
    }

    /// Finishes hashing a tuple or frozenset (`first`, at `depth`, its
    /// head already in `h` for a tuple) with an explicit stack: the items
    /// of a tuple go into the tuple's hasher in order; each item of a
    /// frozenset into a fresh hasher, whose hashes are summed
    /// (order-independent). The bytes hashed, the work spent and the
    /// errors are those of the depth-first walk, item by item.
    #[inline(never)]
    fn hash_nested(
        &self,
        first: HashStep<'_>,
        mut h: KeyHasher,
        depth: usize,
        work: &KeyWork,
    ) -> Result<u64, KeyError> {
        let mut stack: Vec<HashFrame<'_>> = Vec::new();
        self.open_hash_frame(first, &mut h, depth, &mut stack);
        while let Some(top) = stack.last_mut() {
            if top.next < top.items.len() {
                let item = top.items[top.next];
                top.next += 1;
                if top.set.is_some() {
                    h = self.hasher.build_hasher();
                }
                let d = top.depth;
                match self.hash_step(item, &mut h, d, work)? {
                    HashStep::Done => {}
                    step => {
                        self.open_hash_frame(step, &mut h, d, &mut stack);
                        continue;
                    }
                }
            } else {
                let frame = stack.pop().expect("the top frame");
                if let Some((outer, sum)) = frame.set {
                    h = outer;
                    write_frozenset_head(&mut h, frame.items.len(), sum);
                }
            }
            // A value just finished into `h`: a frozenset above adds its hash.
            if let Some(HashFrame { set: Some((_, sum)), .. }) = stack.last_mut() {
                *sum = sum.wrapping_add(h.finish());
            }
        }
        Ok(h.finish())
    }

    /// Pushes the frame of a tuple or frozenset at `depth` whose items are
    /// still to hash; a frozenset keeps the hasher it finally writes into.
    fn open_hash_frame<'g>(&self, step: HashStep<'g>, h: &mut KeyHasher, depth: usize, stack: &mut Vec<HashFrame<'g>>) {
        match step {
            HashStep::Done => {}
            HashStep::Tuple(items) => stack.push(HashFrame { items, next: 0, depth: depth + 1, set: None }),
            HashStep::FrozenSet(items) => {
                let outer = std::mem::replace(h, self.hasher.build_hasher());
                stack.push(HashFrame { items, next: 0, depth: depth + 1, set: Some((outer, 0)) });
            }
        }
    }

    /// Python's `==` between two hashable values (`1 == 1.0 == True`;
    /// tuples and frozensets by content; other objects by identity).
    pub fn py_eq(&self, a: Value, b: Value) -> bool {
        self.eq_depth(a, b, 0, &KeyWork::new(WORK_PER_CALL))
    }

    /// `==` within a work budget: false once the budget is spent (the
    /// caller checks [`KeyWork::exhausted`] and reports it). Flat values
    /// compare here without allocating; tuples and frozensets go on to
    /// [`Graph::eq_nested`].
    #[inline]
    fn eq_depth(&self, a: Value, b: Value, depth: usize, work: &KeyWork) -> bool {
        match self.eq_step(a, b, depth, work) {
            EqStep::Done(r) => r,
            step => self.eq_nested(step, depth, work),
        }
    }

    /// Compares `a` and `b` as far as it can without going down: the
    /// answer, or the items of two tuples or frozensets of the same
    /// (non-zero) length still to compare. Spends the work of the pair itself.
    #[inline]
    fn eq_step(&self, a: Value, b: Value, depth: usize, work: &KeyWork) -> EqStep<'_> {
        if depth > MAX_KEY_DEPTH || !work.spend(1) {
            return EqStep::Done(false);
        }
        if let (Some(x), Some(y)) = (self.num(a), self.num(b)) {
            return EqStep::Done(num_eq(x, y));
        }
        let r = match (a, b) {
            (Value::None, Value::None) => true,
            (Value::Obj(x), Value::Obj(y)) => {
                if x == y {
                    return EqStep::Done(true);
                }
                match (self.try_get(x), self.try_get(y)) {
                    (Some(Object::Str(s)), Some(Object::Str(t))) => {
                        work.spend(bytes_cost(s.as_bytes().len())) && s.as_bytes() == t.as_bytes()
                    }
                    (Some(Object::Bytes(s)), Some(Object::Bytes(t))) => work.spend(bytes_cost(s.len())) && s == t,
                    (Some(Object::Tuple(s)), Some(Object::Tuple(t))) => {
                        if s.len() != t.len() {
                            false
                        } else if s.is_empty() {
                            true
                        } else {
                            return EqStep::Tuple(s, t);
                        }
                    }
                    (Some(Object::FrozenSet(s)), Some(Object::FrozenSet(t))) => {
                        if s.len() != t.len() {
                            false
                        } else if s.is_empty() {
                            true
                        } else {
                            return EqStep::FrozenSet(s.items(), t);
                        }
                    }
                    (Some(Object::Global(g)), Some(Object::Global(h))) => g == h,
                    _ => false,
                }
            }
            _ => false,
        };
        EqStep::Done(r)
    }

    /// Finishes comparing two tuples or frozensets (`first`, at `depth`)
    /// with an explicit stack. Tuples compare item by item, stopping at
    /// the first unequal pair; a frozenset `s == t` looks each item of `s`
    /// up in `t` as [`Graph::set_contains`] does (the item hashed, then the
    /// candidates of `t`'s index compared one at a time, in the order
    /// [`Index::find`] tries them), stopping at the first item missing.
    /// The answers and the work spent are those of the depth-first walk.
    #[inline(never)]
    fn eq_nested(&self, first: EqStep<'_>, depth: usize, work: &KeyWork) -> bool {
        let mut stack: Vec<EqFrame<'_>> = Vec::new();
        // The table candidates of the `Contains` frames, stacked as they are.
        let mut cands: Vec<usize> = Vec::new();
        push_eq_frame(first, depth, &mut stack);
        // The answer of the comparison or lookup that just finished, if any.
        let mut ret: Option<bool> = None;
        loop {
            let Some(top) = stack.last_mut() else { return ret == Some(true) };
            let (a, b, at) = match top {
                EqFrame::Tuple { s, t, next, depth } => {
                    if ret == Some(false) || *next == s.len() {
                        ret = Some(ret != Some(false));
                        stack.pop();
                        continue;
                    }
                    let i = *next;
                    *next += 1;
                    (s[i], t[i], *depth)
                }
                EqFrame::FrozenSet { s, t, next, depth } => {
                    if ret == Some(false) || *next == s.len() {
                        ret = Some(ret != Some(false));
                        stack.pop();
                        continue;
                    }
                    let (item, set, depth) = (s[*next], *t, *depth);
                    *next += 1;
                    ret = match self.hash_at(item, depth, work) {
                        Err(_) => Some(false),
                        Ok(hash) => {
                            let scan = set.index.scan(hash, is_flat(self, item), &mut cands);
                            let next = match scan {
                                Scan::Table { start, .. } => start,
                                Scan::All | Scan::Hashed => 0,
                            };
                            stack.push(EqFrame::Contains { set, item, hash, scan, next, depth });
                            None
                        }
                    };
                    continue;
                }
                EqFrame::Contains { set, item, hash, scan, next, depth } => {
                    let items = &set.items;
                    let cand = if ret == Some(true) {
                        None
                    } else {
                        match *scan {
                            Scan::Table { end, .. } => (*next < end).then(|| {
                                *next += 1;
                                cands[*next - 1]
                            }),
                            Scan::All => (*next < items.len()).then(|| {
                                *next += 1;
                                *next - 1
                            }),
                            Scan::Hashed => loop {
                                if *next == items.len() {
                                    break None;
                                }
                                let i = *next;
                                *next += 1;
                                if stored_hash(self, items[i], work) == *hash {
                                    break Some(i);
                                }
                            },
                        }
                    };
                    match cand {
                        Some(i) => (items[i], *item, *depth),
                        None => {
                            if let Scan::Table { start, .. } = *scan {
                                cands.truncate(start);
                            }
                            ret = Some(ret == Some(true));
                            stack.pop();
                            continue;
                        }
                    }
                }
            };
            match self.eq_step(a, b, at, work) {
                EqStep::Done(r) => ret = Some(r),
                step => {
                    push_eq_frame(step, at, &mut stack);
                    ret = None;
                }
            }
        }
    }

    /// `item in set` (`set` at `depth`'s level): the item hashed, then
    /// compared with the candidates the set's index finds.
    fn set_contains(&self, set: &Set, item: Value, depth: usize, work: &KeyWork) -> bool {
        let Ok(hash) = self.hash_at(item, depth, work) else { return false };
        let items = &set.items;
        set.index
            .find(
                items.len(),
                Some(hash),
                is_flat(self, item),
                |i| self.eq_depth(items[i], item, depth, work),
                |i| stored_hash(self, items[i], work),
            )
            .is_some()
    }

    /// Takes a dict or set out of the arena so it can be changed while the
    /// rest of the graph is read; [`Graph::put_back`] returns it.
    pub(crate) fn take(&mut self, id: ObjId) -> Object<'static> {
        // An empty list stands in: it is unhashable, as dicts and sets are,
        // so a key that reaches the object being changed is refused either way.
        match std::mem::replace(&mut self.objects[id.index()], Object::List(Vec::new())) {
            Object::Dict(d) => Object::Dict(d),
            Object::Set(s) => Object::Set(s),
            other => {
                // Only dicts and sets are taken; put anything else straight back.
                self.objects[id.index()] = other;
                Object::List(Vec::new())
            }
        }
    }

    pub(crate) fn put_back(&mut self, id: ObjId, obj: Object<'static>) {
        self.objects[id.index()] = match obj {
            Object::Dict(d) => Object::Dict(d),
            Object::Set(s) => Object::Set(s),
            _ => return,
        };
    }
}

fn hash_num(n: Num<'_>, h: &mut impl Hasher) {
    match n {
        Num::Small(i) => {
            h.write_u8(TAG_NUM);
            h.write_i128(i);
        }
        Num::Big(b) => match b.to_i128() {
            Some(i) => hash_num(Num::Small(i), h),
            None => {
                h.write_u8(TAG_NUM);
                h.write(&b.to_signed_bytes_le());
            }
        },
        Num::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 {
                if f.abs() < 1.7e38 {
                    hash_num(Num::Small(f as i128), h);
                } else if let Some(b) = BigInt::from_f64(f) {
                    h.write_u8(TAG_NUM);
                    h.write(&b.to_signed_bytes_le());
                }
            } else {
                h.write_u8(TAG_FLOAT);
                h.write_u64(f.to_bits());
            }
        }
    }
}

fn num_eq(a: Num<'_>, b: Num<'_>) -> bool {
    match (a, b) {
        (Num::Small(x), Num::Small(y)) => x == y,
        (Num::Big(x), Num::Big(y)) => x == y,
        (Num::Small(x), Num::Big(y)) | (Num::Big(y), Num::Small(x)) => y.to_i128() == Some(x),
        (Num::Float(x), Num::Float(y)) => x == y,
        (Num::Float(f), Num::Small(i)) | (Num::Small(i), Num::Float(f)) => {
            f.is_finite() && f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i
        }
        (Num::Float(f), Num::Big(b)) | (Num::Big(b), Num::Float(f)) => {
            f.is_finite() && f.fract() == 0.0 && BigInt::from_f64(f).as_ref() == Some(b)
        }
    }
}
