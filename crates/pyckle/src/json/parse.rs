//! Canonical JSON back into a graph: the inverse of [`super::canonical`],
//! so that a pickle rendered as JSON, edited and parsed again can be
//! written back as a pickle.
//!
//! Two passes, neither of which recurses on the input's nesting:
//!
//! 1. An iterative parser reads the text with an explicit stack of open
//!    objects and arrays and builds a flat tree of typed nodes, children
//!    before parents. It knows what each key's value must be (`"list"`
//!    takes an array of values, `"dict"` an array of pairs, `"float"` a
//!    string...), so most errors are found here, at their place.
//! 2. The builder first makes one graph object for every node that has an
//!    `"id"`, so a `{"ref": N}` can name it wherever it is (inside the
//!    object itself, or before it in the text: key order inside a JSON
//!    object is free), then walks the nodes in order, children first,
//!    turning each into a [`Value`]. Dicts and sets are built with Python's
//!    key semantics ([`Dict`], [`Set`]) before they enter the arena, with
//!    their keys complete: a key can only refer back to a list, dict, set,
//!    bytearray (unhashable, whatever their content) or an object record
//!    or persistent id (hashed by identity).
//!
//! Memory is bounded by the size of the text times a small constant; big
//! ints are parsed by halves, so a long one costs time close to a
//! multiplication's instead of the square of its digits.

use crate::graph::{Dict, Global, Graph, KeyError, KeyWork, ObjId, Object, PyStr, Record, RecordKind, Set, Value};
use num_bigint::{BigInt, BigUint, Sign};
use std::borrow::Cow;
use std::collections::HashMap;

/// The protocol of a parsed graph ([`Graph::protocol`]). A document does not
/// say which protocol its pickle had, and the only rendering that reads the
/// protocol (INST/OBJ records without arguments) never comes out of a
/// document. 4 is CPython's default protocol (3.8 to 3.13) and can say
/// everything a document describes (NEWOBJ_EX, `"kwargs"`, needs 4; below
/// 5 a bytearray is a call of `bytearray`, as CPython writes it).
pub const PARSED_PROTOCOL: u8 = 4;

/// Why a text is not a canonical JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct FromJsonError {
    /// The line of the error, from 1: the document's line in
    /// [`from_canonical_lines`]; in [`from_canonical`], the line inside the
    /// document (1 unless it spans lines).
    pub line: usize,
    /// The column, from 1, counted in characters.
    pub column: usize,
    /// The byte offset of the error from the start of the text given.
    pub offset: usize,
    pub message: String,
}

/// One canonical JSON document -> the graph it describes.
///
/// The graph renders back to the same document with
/// [`canonical`](super::canonical) (set items in the document's order).
/// Its protocol is [`PARSED_PROTOCOL`].
pub fn from_canonical(doc: &str) -> Result<Graph<'static>, FromJsonError> {
    parse_document(doc).map_err(|e| {
        let before = &doc.as_bytes()[..e.at.min(doc.len())];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        FromJsonError {
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: 1 + chars(&before[line_start..]),
            offset: e.at,
            message: e.message,
        }
    })
}

/// A text of documents, one per line (blank lines skipped), as
/// `pyckle json --canonical` prints for a file of several pickles.
pub fn from_canonical_lines(text: &str) -> Result<Vec<Graph<'static>>, FromJsonError> {
    let mut graphs = Vec::new();
    let mut start = 0;
    for (i, line) in text.split('\n').enumerate() {
        if !line.bytes().all(is_ws) {
            let graph = parse_document(line).map_err(|e| FromJsonError {
                line: i + 1,
                column: 1 + chars(&line.as_bytes()[..e.at.min(line.len())]),
                offset: start + e.at,
                message: e.message,
            })?;
            graphs.push(graph);
        }
        start += line.len() + 1;
    }
    Ok(graphs)
}

/// The number of characters in UTF-8 bytes.
fn chars(b: &[u8]) -> usize {
    b.iter().filter(|&&b| (b & 0xc0) != 0x80).count()
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn parse_document(doc: &str) -> Result<Graph<'static>, E> {
    let mut p = Parser::new(doc);
    let root = p.parse()?;
    build(p, root)
}

/// An error at a byte offset of one document.
#[derive(Debug)]
struct E {
    at: usize,
    message: String,
}

impl E {
    #[cold]
    fn new(at: usize, message: impl Into<String>) -> Self {
        E { at, message: message.into() }
    }
}

/// More nodes than this and the document is refused: node and object ids
/// are `u32`, and every record adds an args tuple to its own object.
const MAX_NODES: usize = (u32::MAX / 2) as usize;

/// The keys of the canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    List,
    Tuple,
    Set,
    FrozenSet,
    Dict,
    Bytes,
    ByteArray,
    Float,
    Global,
    PersistentId,
    Reduce,
    New,
    Ref,
    Args,
    Kwargs,
    State,
    Items,
    DictItems,
    Id,
}

const KEYS: [Key; 19] = [
    Key::List,
    Key::Tuple,
    Key::Set,
    Key::FrozenSet,
    Key::Dict,
    Key::Bytes,
    Key::ByteArray,
    Key::Float,
    Key::Global,
    Key::PersistentId,
    Key::Reduce,
    Key::New,
    Key::Ref,
    Key::Args,
    Key::Kwargs,
    Key::State,
    Key::Items,
    Key::DictItems,
    Key::Id,
];

impl Key {
    fn name(self) -> &'static str {
        match self {
            Key::List => "list",
            Key::Tuple => "tuple",
            Key::Set => "set",
            Key::FrozenSet => "frozenset",
            Key::Dict => "dict",
            Key::Bytes => "bytes",
            Key::ByteArray => "bytearray",
            Key::Float => "float",
            Key::Global => "global",
            Key::PersistentId => "persistent_id",
            Key::Reduce => "reduce",
            Key::New => "new",
            Key::Ref => "ref",
            Key::Args => "args",
            Key::Kwargs => "kwargs",
            Key::State => "state",
            Key::Items => "items",
            Key::DictItems => "dict_items",
            Key::Id => "id",
        }
    }

    fn from_name(name: &[u8]) -> Option<Key> {
        KEYS.into_iter().find(|k| k.name().as_bytes() == name)
    }

    /// What the key's value must be.
    fn want(self) -> Want {
        match self {
            Key::List | Key::Tuple | Key::Set | Key::FrozenSet | Key::Args | Key::Items => Want::Items,
            Key::Dict | Key::DictItems => Want::Pairs,
            Key::Bytes | Key::ByteArray | Key::Float => Want::Text,
            Key::Global => Want::Names,
            Key::PersistentId | Key::Reduce | Key::New | Key::Kwargs | Key::State => Want::Value,
            Key::Ref | Key::Id => Want::Int,
        }
    }

    /// True for the keys that say what an object is (one per object).
    fn is_kind(self) -> bool {
        !matches!(self, Key::Args | Key::Kwargs | Key::State | Key::Items | Key::DictItems | Key::Id)
    }

    /// True when `self` may stand beside the kind key `kind`.
    fn goes_with(self, kind: Key) -> bool {
        let record = matches!(kind, Key::Reduce | Key::New);
        match self {
            Key::Id => record || matches!(kind, Key::List | Key::Dict | Key::Set | Key::ByteArray | Key::PersistentId),
            Key::Args | Key::State | Key::Items | Key::DictItems => record,
            Key::Kwargs => kind == Key::New,
            _ => false,
        }
    }
}

/// What the next JSON value of the text must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// A value of the document: becomes a node.
    Value,
    /// `[value, ...]`: a span of nodes.
    Items,
    /// `[[value, value], ...]`: a span of two nodes a pair.
    Pairs,
    /// `[value, value]`, inside `Pairs`.
    Pair,
    /// `["module", "name"]`.
    Names,
    /// A JSON string (float repr, hex).
    Text,
    /// A non-negative JSON integer (`id`, `ref`).
    Int,
}

impl Want {
    /// What the items of an array of this kind must be.
    fn item(self) -> Want {
        match self {
            Want::Pairs => Want::Pair,
            Want::Names => Want::Text,
            _ => Want::Value,
        }
    }
}

/// A range of `Parser::kids`.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// A node of the parsed tree; children are indices of earlier nodes.
#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Where it starts in the text.
    at: usize,
}

#[derive(Debug)]
enum Kind {
    Scalar(Value),
    Big(Box<BigInt>),
    /// Generalized UTF-8, and whether it holds no lone surrogate.
    Str(Box<[u8]>, bool),
    Bytes(Box<[u8]>),
    ByteArray(Box<[u8]>),
    List(Span),
    Tuple(Span),
    Set(Span),
    FrozenSet(Span),
    /// Key, value, key, value...
    Dict(Span),
    Global(Box<Global>),
    PersistentId(u32),
    Record(Box<RecordNode>),
    Ref(u64),
    /// Already turned into a value.
    Built,
}

#[derive(Debug)]
struct RecordNode {
    kind: RecordKind,
    head: u32,
    args: Span,
    kwargs: Option<u32>,
    state: Option<u32>,
    items: Span,
    dict_items: Span,
}

/// A finished JSON value, handed to the container it is in.
#[derive(Debug)]
enum Done {
    Node(u32),
    Span(Span),
    Pair,
    Names(Box<Global>),
    Text(Vec<u8>),
    Int(u64),
}

/// A member of an object being read.
#[derive(Debug)]
struct Member {
    key: Key,
    key_at: usize,
    at: usize,
    done: Done,
}

#[derive(Clone, Copy, Debug)]
enum Frame {
    /// An object: its members so far are `Parser::members[members..]`;
    /// `key` is the key whose value is being read.
    Obj { at: usize, members: usize, seen: u32, key: Key, key_at: usize },
    /// An array of kind `want`: its items so far are `Parser::pending[start..]`
    /// (`Parser::names[start..]` for `Names`).
    Arr { at: usize, want: Want, start: usize },
}

/// What starting a value did.
enum Start {
    /// It was read whole.
    Done(Done),
    /// It opened a container whose first item, of this kind, comes next.
    Open(Want),
}

struct Parser<'t> {
    text: &'t str,
    src: &'t [u8],
    pos: usize,
    nodes: Vec<Node>,
    kids: Vec<u32>,
    /// Items of open arrays.
    pending: Vec<u32>,
    /// Members of open objects.
    members: Vec<Member>,
    /// Strings of open `["module", "name"]` arrays.
    names: Vec<String>,
    frames: Vec<Frame>,
    /// (node, id, where the id is), in node order.
    ids: Vec<(u32, u64, usize)>,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Self {
        Parser {
            text,
            src: text.as_bytes(),
            pos: 0,
            nodes: Vec::new(),
            kids: Vec::new(),
            pending: Vec::new(),
            members: Vec::new(),
            names: Vec::new(),
            frames: Vec::new(),
            ids: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// What is at `at`, for messages.
    fn found(&self, at: usize) -> String {
        match self.text.get(at..).and_then(|s| s.chars().next()) {
            None => "the end of the document".to_string(),
            Some('"') => "a string".to_string(),
            Some(c) if c == '-' || c.is_ascii_digit() => "a number".to_string(),
            Some(c) => format!("{c:?}"),
        }
    }

    #[cold]
    fn expected(&self, at: usize, what: &str) -> E {
        E::new(at, format!("expected {what}, found {}", self.found(at)))
    }

    fn push(&mut self, kind: Kind, at: usize) -> Result<u32, E> {
        if self.nodes.len() >= MAX_NODES {
            return Err(E::new(at, format!("the document holds more than {MAX_NODES} values")));
        }
        self.nodes.push(Node { kind, at });
        Ok((self.nodes.len() - 1) as u32)
    }

    /// Reads the document; returns the root node.
    fn parse(&mut self) -> Result<u32, E> {
        let mut want = Want::Value;
        loop {
            self.skip_ws();
            let mut at = self.pos;
            let mut done = match self.start(want, at)? {
                Start::Open(w) => {
                    want = w;
                    continue;
                }
                Start::Done(d) => d,
            };
            // Hand the value to its container; close containers that end here.
            loop {
                match self.frames.last().copied() {
                    None => {
                        let Done::Node(root) = done else { return Err(E::new(at, "internal: the root is no value")) };
                        self.skip_ws();
                        if self.pos < self.src.len() {
                            return Err(self.expected(self.pos, "the end of the document"));
                        }
                        return Ok(root);
                    }
                    Some(Frame::Arr { at: arr_at, want: arr_want, start }) => {
                        match done {
                            Done::Node(n) => {
                                self.pending.push(n);
                                if arr_want == Want::Pair && self.pending.len() - start > 2 {
                                    return Err(E::new(at, "a pair [key, value] has two items"));
                                }
                            }
                            Done::Pair => {}
                            Done::Text(bytes) => {
                                if self.names.len() - start >= 2 {
                                    return Err(E::new(at, "a global is [\"module\", \"name\"]: two strings"));
                                }
                                let name = String::from_utf8(bytes)
                                    .map_err(|_| E::new(at, "a module or global name cannot hold a lone surrogate"))?;
                                self.names.push(name);
                            }
                            _ => return Err(E::new(at, "internal: unexpected array item")),
                        }
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                want = arr_want.item();
                                break;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                done = self.close_array()?;
                                at = arr_at;
                            }
                            _ => return Err(self.expected(self.pos, "',' or ']'")),
                        }
                    }
                    Some(Frame::Obj { key, key_at, .. }) => {
                        self.members.push(Member { key, key_at, at, done });
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                want = self.key()?;
                                break;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                let (node, obj_at) = self.close_object()?;
                                done = Done::Node(node);
                                at = obj_at;
                            }
                            _ => return Err(self.expected(self.pos, "',' or '}'")),
                        }
                    }
                }
            }
        }
    }

    /// Starts reading a value of kind `want` at `at` (whitespace skipped).
    fn start(&mut self, want: Want, at: usize) -> Result<Start, E> {
        match want {
            Want::Value => match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.frames.push(Frame::Obj { at, members: self.members.len(), seen: 0, key: Key::Id, key_at: at });
                    Ok(Start::Open(self.key()?))
                }
                Some(b'"') => {
                    let (bytes, utf8) = self.string()?;
                    Ok(Start::Done(Done::Node(self.push(Kind::Str(bytes.into(), utf8), at)?)))
                }
                Some(b'-' | b'0'..=b'9') => {
                    let kind = self.number()?;
                    Ok(Start::Done(Done::Node(self.push(kind, at)?)))
                }
                Some(b't' | b'f' | b'n') => {
                    let rest = &self.src[at..];
                    let (len, v) = if rest.starts_with(b"true") {
                        (4, Value::Bool(true))
                    } else if rest.starts_with(b"false") {
                        (5, Value::Bool(false))
                    } else if rest.starts_with(b"null") {
                        (4, Value::None)
                    } else {
                        return Err(self.expected(at, "a value"));
                    };
                    self.pos += len;
                    Ok(Start::Done(Done::Node(self.push(Kind::Scalar(v), at)?)))
                }
                Some(b'[') => Err(E::new(
                    at,
                    "expected a value, found an array: a list is {\"list\": [...]}, a tuple {\"tuple\": [...]}",
                )),
                _ => Err(self.expected(at, "a value")),
            },
            Want::Items | Want::Pairs | Want::Pair | Want::Names => {
                if self.peek() != Some(b'[') {
                    let what = match want {
                        Want::Pairs => "an array of [key, value] pairs",
                        Want::Pair => "a pair [key, value]",
                        Want::Names => "[\"module\", \"name\"]",
                        _ => "an array",
                    };
                    return Err(self.expected(at, what));
                }
                self.pos += 1;
                let start = if want == Want::Names { self.names.len() } else { self.pending.len() };
                self.frames.push(Frame::Arr { at, want, start });
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Start::Done(self.close_array()?));
                }
                Ok(Start::Open(want.item()))
            }
            Want::Text => {
                if self.peek() != Some(b'"') {
                    return Err(self.expected(at, "a string"));
                }
                let (bytes, _) = self.string()?;
                Ok(Start::Done(Done::Text(bytes)))
            }
            Want::Int => {
                if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
                    return Err(self.expected(at, "an integer"));
                }
                match self.number()? {
                    Kind::Scalar(Value::Int(i)) if i >= 0 => Ok(Start::Done(Done::Int(i as u64))),
                    _ => Err(E::new(at, "an id is an integer from 0 to 2**63-1")),
                }
            }
        }
    }

    /// Reads `"key":` after `{` or `,`; returns what its value must be.
    fn key(&mut self) -> Result<Want, E> {
        self.skip_ws();
        let key_at = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.expected(key_at, "a key"));
        }
        let (name, _) = self.string()?;
        let Some(key) = Key::from_name(&name) else {
            // Quoted as the canonical form quotes strings, cut at a character after 100 bytes.
            let cut = (100..name.len()).find(|&i| name[i] & 0xc0 != 0x80).unwrap_or(name.len());
            let mut quoted = String::new();
            super::canonical::write_str(&mut quoted, &name[..cut]);
            let more = if cut < name.len() { "..." } else { "" };
            return Err(E::new(key_at, format!("unknown key {quoted}{more} in object")));
        };
        let Some(Frame::Obj { seen, key: k, key_at: ka, .. }) = self.frames.last_mut() else {
            return Err(E::new(key_at, "internal: a key outside an object"));
        };
        let bit = 1u32 << key as u32;
        if *seen & bit != 0 {
            return Err(E::new(key_at, format!("key \"{}\" given twice", key.name())));
        }
        *seen |= bit;
        *k = key;
        *ka = key_at;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.expected(self.pos, "':'"));
        }
        self.pos += 1;
        Ok(key.want())
    }

    /// Closes the array on top of the frames (its `]` read).
    fn close_array(&mut self) -> Result<Done, E> {
        let Some(Frame::Arr { at, want, start }) = self.frames.pop() else {
            return Err(E::new(self.pos, "internal: no array to close"));
        };
        match want {
            Want::Pair => {
                if self.pending.len() - start != 2 {
                    return Err(E::new(at, "a pair [key, value] has two items"));
                }
                Ok(Done::Pair)
            }
            Want::Names => {
                if self.names.len() - start != 2 {
                    return Err(E::new(at, "a global is [\"module\", \"name\"]: two strings"));
                }
                let name = self.names.pop().unwrap_or_default();
                let module = self.names.pop().unwrap_or_default();
                Ok(Done::Names(Box::new(Global { module, name })))
            }
            _ => {
                let span = Span { start: self.kids.len() as u32, len: (self.pending.len() - start) as u32 };
                self.kids.extend(self.pending.drain(start..));
                Ok(Done::Span(span))
            }
        }
    }

    /// Closes the object on top of the frames (its `}` read): checks its
    /// keys and makes its node. Returns the node and where the object starts.
    fn close_object(&mut self) -> Result<(u32, usize), E> {
        let Some(Frame::Obj { at, members, .. }) = self.frames.pop() else {
            return Err(E::new(self.pos, "internal: no object to close"));
        };
        let mut kind: Option<Member> = None;
        let mut fields: [Option<Member>; 6] = Default::default();
        for m in self.members.drain(members..) {
            if m.key.is_kind() {
                match &kind {
                    // Members come in the order of the text: report at the second.
                    Some(k) => {
                        let message = format!("\"{}\" and \"{}\" in one object", k.key.name(), m.key.name());
                        return Err(E::new(m.key_at, message));
                    }
                    None => kind = Some(m),
                }
            } else {
                let slot = match m.key {
                    Key::Args => 0,
                    Key::Kwargs => 1,
                    Key::State => 2,
                    Key::Items => 3,
                    Key::DictItems => 4,
                    _ => 5,
                };
                fields[slot] = Some(m);
            }
        }
        let Some(kind) = kind else {
            return Err(E::new(
                at,
                "an object needs one of the keys \"list\", \"tuple\", \"dict\", \"set\", \"frozenset\", \"bytes\", \
                 \"bytearray\", \"float\", \"global\", \"persistent_id\", \"reduce\", \"new\", \"ref\"",
            ));
        };
        // Report the first key (in the text) that does not belong with the kind.
        let mut bad: Option<(usize, Key)> = None;
        for m in fields.iter().flatten() {
            if !m.key.goes_with(kind.key) && bad.map_or(true, |(a, _)| m.key_at < a) {
                bad = Some((m.key_at, m.key));
            }
        }
        if let Some((key_at, key)) = bad {
            return Err(E::new(key_at, format!("key \"{}\" does not go with \"{}\"", key.name(), kind.key.name())));
        }
        let [args, kwargs, state, items, dict_items, id] = fields;
        let node_kind = match (kind.key, kind.done) {
            (Key::List, Done::Span(s)) => Kind::List(s),
            (Key::Tuple, Done::Span(s)) => Kind::Tuple(s),
            (Key::Set, Done::Span(s)) => Kind::Set(s),
            (Key::FrozenSet, Done::Span(s)) => Kind::FrozenSet(s),
            (Key::Dict, Done::Span(s)) => Kind::Dict(s),
            (Key::Bytes, Done::Text(t)) => Kind::Bytes(hex(&t, kind.at, "bytes")?),
            (Key::ByteArray, Done::Text(t)) => Kind::ByteArray(hex(&t, kind.at, "bytearray")?),
            (Key::Float, Done::Text(t)) => Kind::Scalar(Value::Float(
                float(&t)
                    .ok_or_else(|| E::new(kind.at, "expected the repr of a float (\"1.5\", \"1e+300\", \"nan\")"))?,
            )),
            (Key::Global, Done::Names(g)) => Kind::Global(g),
            (Key::PersistentId, Done::Node(n)) => Kind::PersistentId(n),
            (Key::Ref, Done::Int(n)) => Kind::Ref(n),
            (k @ (Key::Reduce | Key::New), Done::Node(head)) => {
                let Some(Member { done: Done::Span(args), .. }) = args else {
                    return Err(E::new(at, "an object record needs \"args\""));
                };
                let span = |m: Option<Member>| match m {
                    Some(Member { done: Done::Span(s), .. }) => s,
                    _ => Span { start: 0, len: 0 },
                };
                let node = |m: Option<Member>| match m {
                    Some(Member { done: Done::Node(n), .. }) => Some(n),
                    _ => None,
                };
                let kwargs = node(kwargs);
                let record_kind = match (k, kwargs) {
                    (Key::Reduce, _) => RecordKind::Reduce,
                    (_, None) => RecordKind::NewObj,
                    (_, Some(_)) => RecordKind::NewObjEx,
                };
                Kind::Record(Box::new(RecordNode {
                    kind: record_kind,
                    head,
                    args,
                    kwargs,
                    state: node(state),
                    items: span(items),
                    dict_items: span(dict_items),
                }))
            }
            _ => return Err(E::new(kind.at, "internal: a value of the wrong shape")),
        };
        let node = self.push(node_kind, at)?;
        if let Some(Member { done: Done::Int(n), at: id_at, .. }) = id {
            self.ids.push((node, n, id_at));
        }
        Ok((node, at))
    }

    /// Reads a JSON string (at its `"`) as generalized UTF-8: `\u` escapes
    /// of a surrogate pair make one character; a lone surrogate is kept as
    /// its three-byte form. Returns the bytes and whether they are UTF-8.
    fn string(&mut self) -> Result<(Vec<u8>, bool), E> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let mut utf8 = true;
        loop {
            let run = self.pos;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            out.extend_from_slice(&self.src[run..self.pos]);
            match self.peek() {
                None => return Err(E::new(start, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok((out, utf8));
                }
                Some(b'\\') => {
                    let esc = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let unit = self.hex4(esc)?;
                            let cp = match unit {
                                0xd800..=0xdbff => match self.low_surrogate() {
                                    Some(low) => 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00),
                                    None => unit,
                                },
                                _ => unit,
                            };
                            if (0xd800..=0xdfff).contains(&cp) {
                                utf8 = false;
                                out.extend_from_slice(&[
                                    0xe0 | (cp >> 12) as u8,
                                    0x80 | ((cp >> 6) & 0x3f) as u8,
                                    0x80 | (cp & 0x3f) as u8,
                                ]);
                            } else {
                                let c = char::from_u32(cp).unwrap_or('\u{fffd}');
                                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            }
                            continue;
                        }
                        _ => return Err(E::new(esc, "invalid escape in string")),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => return Err(E::new(self.pos, "control character in string: it must be escaped")),
            }
        }
    }

    /// Four hex digits of a `\u` escape that starts at `esc`.
    fn hex4(&mut self, esc: usize) -> Result<u32, E> {
        let digits = self.src.get(self.pos..self.pos + 4).ok_or_else(|| E::new(esc, "\\u needs four hex digits"))?;
        let mut v = 0;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16).ok_or_else(|| E::new(esc, "\\u needs four hex digits"))?;
        }
        self.pos += 4;
        Ok(v)
    }

    /// After a high surrogate: the low surrogate escape that follows, if
    /// one does (consumed), to make a pair.
    fn low_surrogate(&mut self) -> Option<u32> {
        let rest = self.src.get(self.pos..self.pos + 6)?;
        if &rest[..2] != b"\\u" || !rest[2..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let unit = rest[2..].iter().fold(0, |v, &d| v * 16 + (d as char).to_digit(16).unwrap_or(0));
        if !(0xdc00..=0xdfff).contains(&unit) {
            return None;
        }
        self.pos += 6;
        Some(unit)
    }

    /// Reads a JSON number that must be an integer.
    fn number(&mut self) -> Result<Kind, E> {
        let at = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.expected(self.pos, "a digit")),
        }
        match self.peek() {
            Some(b'.' | b'e' | b'E') => {
                return Err(E::new(at, "a float is written {\"float\": \"1.5\"}, not as a JSON number"))
            }
            Some(b'0'..=b'9') => return Err(E::new(at, "a number cannot start with 0")),
            _ => {}
        }
        let text = std::str::from_utf8(&self.src[at..self.pos]).unwrap_or("0");
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Kind::Scalar(Value::Int(i)));
        }
        let sign = if digits > at { Sign::Minus } else { Sign::Plus };
        Ok(Kind::Big(Box::new(BigInt::from_biguint(sign, decimal(&self.src[digits..self.pos])))))
    }
}

/// Decimal digits to a number, by halves above a few thousand digits
/// (`hi * 10**m + lo`), so a long number costs a few multiplications
/// instead of the square of its length. Recursion is logarithmic in the
/// length.
fn decimal(digits: &[u8]) -> BigUint {
    if digits.len() <= 4096 {
        return BigUint::parse_bytes(digits, 10).unwrap_or_default();
    }
    let m = digits.len() / 2;
    let (hi, lo) = digits.split_at(digits.len() - m);
    decimal(hi) * BigUint::from(10u32).pow(m as u32) + decimal(lo)
}

/// Hex digits, two a byte.
fn hex(text: &[u8], at: usize, what: &str) -> Result<Box<[u8]>, E> {
    if text.len() % 2 != 0 {
        return Err(E::new(at, format!("\"{what}\" takes hex digits, two a byte: the length is odd")));
    }
    text.chunks(2)
        .map(|pair| {
            let d = |b: u8| (b as char).to_digit(16);
            match (d(pair[0]), d(pair[1])) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(E::new(at, format!("\"{what}\" takes hex digits, two a byte"))),
            }
        })
        .collect()
}

/// A float from its Python repr (or what Python's `float()` takes of the
/// same shape: no spaces, no underscores).
fn float(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body.as_bytes()[0] != b'+'
        && body.as_bytes()[0] != b'-'
    {
        body.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

/// Pass 2: the graph of the parsed nodes.
fn build(p: Parser, root: u32) -> Result<Graph<'static>, E> {
    let Parser { mut nodes, kids, ids, .. } = p;
    let mut graph = Graph::new();
    graph.set_protocol(PARSED_PROTOCOL);

    // Objects with an id first, as placeholders of their own type (what a
    // key that reaches them hashes by), so refs anywhere can name them.
    let mut by_id: HashMap<u64, ObjId> = HashMap::with_capacity(ids.len());
    let mut slots: Vec<ObjId> = Vec::with_capacity(ids.len());
    for &(node, n, at) in &ids {
        let placeholder = match &nodes[node as usize].kind {
            Kind::List(_) => Object::List(Vec::new()),
            Kind::Dict(_) => Object::Dict(Dict::new()),
            Kind::Set(_) => Object::Set(Set::new()),
            Kind::ByteArray(_) => Object::ByteArray(Cow::Borrowed(&[])),
            Kind::PersistentId(_) => Object::PersistentId(Value::None),
            Kind::Record(r) => Object::Record(Box::new(Record {
                kind: r.kind,
                callable: Value::None,
                args: Value::None,
                kwargs: None,
                state: None,
                items: Vec::new(),
                dict_items: Vec::new(),
            })),
            _ => return Err(E::new(at, "internal: an id on an object without identity")),
        };
        let id = ObjId(graph.len() as u32);
        graph.add(placeholder);
        if by_id.insert(n, id).is_some() {
            return Err(E::new(at, format!("id {n} given twice")));
        }
        slots.push(id);
    }

    // Then every node, children before parents.
    let work = KeyWork::new(1 << 32);
    let mut vals: Vec<Value> = Vec::with_capacity(nodes.len());
    let mut next_slot = 0;
    for i in 0..nodes.len() {
        let kind = std::mem::replace(&mut nodes[i].kind, Kind::Built);
        let at = nodes[i].at;
        // The object's own slot, when it has an id.
        let slot = match ids.get(next_slot) {
            Some(&(node, _, _)) if node as usize == i => {
                next_slot += 1;
                Some(slots[next_slot - 1])
            }
            _ => None,
        };
        let place = |graph: &mut Graph<'static>, obj: Object<'static>| match slot {
            Some(id) => {
                *graph.get_mut(id) = obj;
                Value::Obj(id)
            }
            None => graph.add(obj),
        };
        let values =
            |s: Span, vals: &[Value]| -> Vec<Value> { kids[s.range()].iter().map(|&k| vals[k as usize]).collect() };
        let value = match kind {
            Kind::Scalar(v) => v,
            Kind::Big(b) => graph.add(Object::Int(*b)),
            Kind::Str(s, utf8) => graph.add(Object::Str(PyStr::from_checked(Cow::Owned(s.into_vec()), utf8))),
            Kind::Bytes(b) => graph.add(Object::Bytes(Cow::Owned(b.into_vec()))),
            Kind::ByteArray(b) => place(&mut graph, Object::ByteArray(Cow::Owned(b.into_vec()))),
            Kind::List(s) => {
                let items = values(s, &vals);
                place(&mut graph, Object::List(items))
            }
            Kind::Tuple(s) => {
                let items = values(s, &vals);
                graph.add(Object::Tuple(items))
            }
            Kind::Set(s) => {
                let set = build_set(&graph, &kids[s.range()], &vals, &nodes, &work)?;
                place(&mut graph, Object::Set(set))
            }
            Kind::FrozenSet(s) => {
                let set = build_set(&graph, &kids[s.range()], &vals, &nodes, &work)?;
                graph.add(Object::FrozenSet(set))
            }
            Kind::Dict(s) => {
                let mut dict = Dict::new();
                for pair in kids[s.range()].chunks(2) {
                    let (k, v) = (pair[0] as usize, pair[1] as usize);
                    dict.insert_within(&graph, vals[k], vals[v], &work)
                        .map_err(|e| key_error(e, nodes[k].at, "dict key"))?;
                }
                place(&mut graph, Object::Dict(dict))
            }
            Kind::Global(g) => graph.add(Object::Global(g)),
            Kind::PersistentId(n) => place(&mut graph, Object::PersistentId(vals[n as usize])),
            Kind::Record(r) => {
                let args = values(r.args, &vals);
                let args = graph.add(Object::Tuple(args));
                let kwargs = match r.kwargs {
                    Some(k) => {
                        let v = vals[k as usize];
                        if !matches!(graph.object(v), Some(Object::Dict(_))) {
                            return Err(E::new(nodes[k as usize].at, "\"kwargs\" must be a dict"));
                        }
                        Some(v)
                    }
                    None => None,
                };
                let record = Record {
                    kind: r.kind,
                    callable: vals[r.head as usize],
                    args,
                    kwargs,
                    state: r.state.map(|n| vals[n as usize]),
                    items: values(r.items, &vals),
                    dict_items: kids[r.dict_items.range()]
                        .chunks(2)
                        .map(|p| (vals[p[0] as usize], vals[p[1] as usize]))
                        .collect(),
                };
                place(&mut graph, Object::Record(Box::new(record)))
            }
            Kind::Ref(n) => match by_id.get(&n) {
                Some(&id) => Value::Obj(id),
                None => return Err(E::new(at, format!("{{\"ref\": {n}}} names no id"))),
            },
            Kind::Built => return Err(E::new(at, "internal: a node built twice")),
        };
        vals.push(value);
    }
    graph.set_root(vals[root as usize]);
    Ok(graph)
}

/// A set of the items `kids` name, with Python's equality.
fn build_set(graph: &Graph, kids: &[u32], vals: &[Value], nodes: &[Node], work: &KeyWork) -> Result<Set, E> {
    let mut set = Set::new();
    for &k in kids {
        set.insert_within(graph, vals[k as usize], work).map_err(|e| key_error(e, nodes[k as usize].at, "set item"))?;
    }
    Ok(set)
}

fn key_error(e: KeyError, at: usize, what: &str) -> E {
    match e {
        KeyError::Unhashable(t) => E::new(at, format!("unhashable {what}: {t}")),
        other => E::new(at, format!("{what}: {other}")),
    }
}
