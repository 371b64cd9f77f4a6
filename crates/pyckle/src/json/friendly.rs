//! Friendly JSON: a rendering of a graph meant for people (and `jq`).
//!
//! | Python                         | JSON                                         |
//! |--------------------------------|----------------------------------------------|
//! | `None`, `True`, `False`        | `null`, `true`, `false`                      |
//! | `int` (any size)               | a JSON integer, all digits                   |
//! | `float`                        | a JSON number; `"nan"`, `"inf"`, `"-inf"`    |
//! | `str`                          | a string (lone surrogates as `\udXXX`)       |
//! | `bytes`, `bytearray`, buffer   | the string of Python's `repr()`              |
//! | list, tuple, set, frozenset    | an array                                     |
//! | dict with only `str` keys      | an object                                    |
//! | any other dict                 | an array of `[key, value]` pairs             |
//! | a global (class, function)     | `"module.qualname"`                          |
//! | an object record               | `{"__class__": ..., "__args__": ..., ...}`   |
//! | a persistent id                | `{"__persistent_id__": pid}`                 |
//!
//! An object record lists `"__class__"` (the REDUCE callable or the NEWOBJ
//! class; for `copyreg._reconstructor(cls, base, state)` it is `cls`),
//! then `"__args__"` (when not empty), `"__kwargs__"`, the BUILD state
//! (merged into the object when it is a dict of `str` keys, or a
//! `(dict_or_None, slots_dict)` pair of them; else under `"__state__"`),
//! `"__items__"` (what APPENDS added) and `"__dict_items__"` (what
//! SETITEMS set).
//!
//! Sharing and cycles: the first occurrence of an object is written in
//! full, every later one as `{"$ref": "<path of the first occurrence>"}`,
//! with paths such as `$`, `$.key`, `$[3]`, `$["weird key"]`. Small atoms
//! (str, bytes, int, global... up to [`SMALL_ATOM`] bytes) are written in
//! full every time, since a `$ref` would only hide them; larger ones follow
//! the `$ref` rule, so a pickle cannot blow up its output by repeating a
//! memo reference to a big payload. A path spells at most its last
//! [`MAX_PATH_STEPS`] steps (`$…` before them) and at most 64 characters
//! of a key longer than 128, for the same reason.
//!
//! The writer is iterative (an explicit task stack), so the depth of the
//! graph is bounded only by memory.

use crate::graph::{Graph, ObjId, Object, Value};
use crate::pyrepr;
use std::collections::HashSet;
use std::fmt::Write as _;

/// Atoms whose payload is at most this many bytes are written in full at
/// every occurrence instead of as a `$ref`.
pub const SMALL_ATOM: usize = 256;

/// Keys the record rendering writes itself: a state dict holding one of
/// them is shown under `"__state__"` rather than merged.
const RESERVED: [&str; 6] = ["__class__", "__args__", "__kwargs__", "__state__", "__items__", "__dict_items__"];

/// "No path node": the parent of the root, and objects not written yet.
const NONE: u32 = u32::MAX;

/// The most steps a `$ref` path spells out (the last ones).
pub const MAX_PATH_STEPS: usize = 256;

/// The deepest level `pretty` output indents; deeper levels line up with it.
pub const MAX_INDENT: usize = 64;

/// Renders `graph` as friendly JSON (no trailing newline); `pretty`
/// indents nested values by 2 spaces, as `json.dumps(indent=2)` does.
pub fn friendly(graph: &Graph, out: &mut String, pretty: bool) {
    Writer { graph, out, pretty, depth: 0, seen: vec![NONE; graph.len()], nodes: Vec::new() }.run();
}

/// One step of a path: how a value is reached from its container.
#[derive(Clone, Copy, Debug)]
enum Seg {
    /// The root value (`$`).
    Root,
    /// An array element (`[3]`).
    Index(usize),
    /// The value of a `str` key (the key is the string object).
    Key(ObjId),
    /// One of the record fields (`.__args__`).
    Name(&'static str),
}

/// A node of the path tree: each written container has one, and so has
/// each synthetic array (a record's `__items__`, a `[key, value]` pair).
/// Paths are spelled only when a `$ref` needs them, so deep graphs do not
/// cost quadratic memory.
struct PathNode {
    parent: u32,
    seg: Seg,
}

/// Where the elements of a lazily expanded container come from.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// The items of a list, tuple, set or frozenset, or of a record's `items`.
    Values(ObjId),
    /// The entries of a dict (or of a record's `dict_items`) as object
    /// members (every key is a `str`) or as `[key, value]` pairs.
    Pairs { id: ObjId, as_object: bool },
}

/// The name of an object member.
#[derive(Clone, Copy, Debug)]
enum KeySrc {
    Str(ObjId),
    Name(&'static str),
}

/// What the writer still has to do, on a stack (last pushed runs first).
#[derive(Clone, Copy, Debug)]
enum Task {
    /// Write a value reached from path node `parent` by `seg`.
    Value { v: Value, parent: u32, seg: Seg },
    /// Write `[` or `{` and indent one more level.
    Open(u8),
    /// Dedent and write `]` or `}`.
    Close(u8),
    /// The separator before an element: `,` unless it is the first, then
    /// a newline and the indentation when pretty.
    Sep { first: bool },
    /// An object member's name and the `:`.
    Key(KeySrc),
    /// Element `i` onwards of a container whose path node is `node`;
    /// `leading` is true when element 0 is the first of its JSON container.
    Elems { src: Src, i: usize, node: u32, leading: bool },
}

struct Writer<'g, 'a, 'o> {
    graph: &'g Graph<'a>,
    out: &'o mut String,
    pretty: bool,
    /// The current indentation level.
    depth: usize,
    /// For each object: the path node of its first occurrence, or `NONE`.
    seen: Vec<u32>,
    nodes: Vec<PathNode>,
}

impl<'g, 'a> Writer<'g, 'a, '_> {
    fn run(&mut self) {
        let mut stack = vec![Task::Value { v: self.graph.root(), parent: NONE, seg: Seg::Root }];
        while let Some(task) = stack.pop() {
            match task {
                Task::Value { v, parent, seg } => self.value(v, parent, seg, &mut stack),
                Task::Open(c) => {
                    self.out.push(char::from(c));
                    self.depth += 1;
                }
                Task::Close(c) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.newline();
                    self.out.push(char::from(c));
                }
                Task::Sep { first } => {
                    if !first {
                        self.out.push(',');
                    }
                    self.newline();
                }
                Task::Key(k) => {
                    match k {
                        KeySrc::Str(id) => self.str_obj(id),
                        KeySrc::Name(n) => push_json_str(self.out, n.chars().map(u32::from)),
                    }
                    self.out.push_str(if self.pretty { ": " } else { ":" });
                }
                Task::Elems { src, i, node, leading } => self.elems(src, i, node, leading, &mut stack),
            }
        }
    }

    /// A newline and the indentation, when pretty. Indentation stops
    /// growing at [`MAX_INDENT`] levels, so a deeply nested graph costs
    /// output linear in its size, not quadratic.
    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.depth.min(MAX_INDENT) {
                self.out.push_str("  ");
            }
        }
    }

    fn new_node(&mut self, parent: u32, seg: Seg) -> u32 {
        // More than 4 billion path nodes cannot fit in memory anyway; the
        // saturation only keeps the arithmetic panic-free.
        let n = u32::try_from(self.nodes.len()).unwrap_or(NONE - 1);
        self.nodes.push(PathNode { parent, seg });
        n
    }

    /// Writes a value, or schedules the tasks that write it.
    fn value(&mut self, v: Value, parent: u32, seg: Seg, stack: &mut Vec<Task>) {
        let id = match v {
            Value::None => return self.out.push_str("null"),
            Value::Bool(b) => return self.out.push_str(if b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
                return;
            }
            Value::Float(f) => return self.float(f),
            Value::Obj(id) => id,
        };
        let Some(obj) = self.graph.try_get(id) else {
            // An id of another graph: nothing sensible to show.
            return self.out.push_str("null");
        };
        if let Some(size) = atom_size(obj) {
            if size <= SMALL_ATOM {
                return self.atom(id, obj);
            }
        }
        let seen = self.seen.get(id.index()).copied().unwrap_or(NONE);
        if seen != NONE {
            return self.reference(seen);
        }
        let node = self.new_node(parent, seg);
        if let Some(slot) = self.seen.get_mut(id.index()) {
            *slot = node;
        }
        match obj {
            Object::List(items) | Object::Tuple(items) => self.container(Src::Values(id), items.len(), node, stack),
            Object::Set(s) | Object::FrozenSet(s) => self.container(Src::Values(id), s.len(), node, stack),
            Object::Dict(d) => {
                let as_object = self.all_str_keys(d.entries());
                self.container(Src::Pairs { id, as_object }, d.len(), node, stack);
            }
            Object::PersistentId(pid) => {
                self.out.push('{');
                self.depth += 1;
                stack.push(Task::Close(b'}'));
                stack.push(Task::Value { v: *pid, parent: node, seg: Seg::Name("__persistent_id__") });
                stack.push(Task::Key(KeySrc::Name("__persistent_id__")));
                stack.push(Task::Sep { first: true });
            }
            Object::Record(_) => self.record(id, node, stack),
            // Large atoms, written in full at their first occurrence.
            _ => self.atom(id, obj),
        }
    }

    fn float(&mut self, f: f64) {
        if f.is_finite() {
            self.out.push_str(&pyrepr::repr_float(f));
        } else {
            // repr gives "nan", "inf" or "-inf": written as strings.
            self.out.push('"');
            self.out.push_str(&pyrepr::repr_float(f));
            self.out.push('"');
        }
    }

    /// An object without children, in full.
    fn atom(&mut self, id: ObjId, obj: &Object) {
        match obj {
            Object::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Object::Str(_) => self.str_obj(id),
            Object::Bytes(b) => push_json_str(self.out, pyrepr::repr_bytes(b).chars().map(u32::from)),
            Object::ByteArray(b) => push_json_str(self.out, pyrepr::repr_bytearray(b).chars().map(u32::from)),
            Object::Buffer(b) => push_json_str(self.out, pyrepr::repr_bytes(&b.data).chars().map(u32::from)),
            Object::Global(g) => {
                let dotted = format!("{}.{}", g.module, g.name);
                push_json_str(self.out, dotted.chars().map(u32::from));
            }
            // Containers never reach here.
            _ => self.out.push_str("null"),
        }
    }

    /// A `str` object as a JSON string.
    fn str_obj(&mut self, id: ObjId) {
        match self.graph.try_get(id) {
            Some(Object::Str(s)) => push_json_str(self.out, s.code_points()),
            _ => self.out.push_str("\"\""),
        }
    }

    /// `{"$ref": "<path>"}`.
    fn reference(&mut self, node: u32) {
        let path = self.path(node);
        self.out.push_str(if self.pretty { "{\"$ref\": " } else { "{\"$ref\":" });
        push_json_str(self.out, path.chars().map(u32::from));
        self.out.push('}');
    }

    /// The path of a node: `$`, then `.name`, `[3]` or `["key"]` per step.
    /// Only the last [`MAX_PATH_STEPS`] steps are spelled (after `$…`), so
    /// many references deep in a deep graph cost linear output, not quadratic.
    fn path(&self, mut node: u32) -> String {
        let mut segs = Vec::new();
        while let Some(n) = self.nodes.get(node as usize) {
            if segs.len() == MAX_PATH_STEPS {
                break;
            }
            segs.push(n.seg);
            node = n.parent;
        }
        let complete = self.nodes.get(node as usize).is_none();
        let mut p = String::from(if complete { "$" } else { "$…" });
        for seg in segs.iter().rev() {
            match *seg {
                Seg::Root => {}
                Seg::Index(i) => {
                    let _ = write!(p, "[{i}]");
                }
                Seg::Name(n) => {
                    p.push('.');
                    p.push_str(n);
                }
                Seg::Key(id) => match self.graph.try_get(id) {
                    Some(Object::Str(s)) => match s.as_str() {
                        Some(k) if k.len() > 128 => {
                            // A long key is shortened: enough to recognise it.
                            let cut = k.char_indices().nth(64).map(|(i, _)| i).unwrap_or(k.len());
                            p.push('[');
                            push_json_str(&mut p, k[..cut].chars().chain(std::iter::once('…')).map(u32::from));
                            p.push(']');
                        }
                        Some(k) if is_identifier(k) => {
                            p.push('.');
                            p.push_str(k);
                        }
                        _ => {
                            p.push('[');
                            push_json_str(&mut p, s.code_points());
                            p.push(']');
                        }
                    },
                    _ => p.push_str("[?]"),
                },
            }
        }
        p
    }

    /// True when every key is a `str` object (vacuously for no keys).
    fn all_str_keys(&self, entries: &[(Value, Value)]) -> bool {
        entries.iter().all(|(k, _)| matches!(self.graph.object(*k), Some(Object::Str(_))))
    }

    /// A JSON array or object of the `len` elements of `src`: `[]`/`{}`
    /// at once when empty, else the opening bracket now and the elements
    /// as a lazy task, so a huge container costs no more stack than a small one.
    fn container(&mut self, src: Src, len: usize, node: u32, stack: &mut Vec<Task>) {
        let (open, close) = match src {
            Src::Pairs { as_object: true, .. } => (b'{', b'}'),
            _ => (b'[', b']'),
        };
        if len == 0 {
            self.out.push(char::from(open));
            self.out.push(char::from(close));
            return;
        }
        self.out.push(char::from(open));
        self.depth += 1;
        stack.push(Task::Close(close));
        stack.push(Task::Elems { src, i: 0, node, leading: true });
    }

    /// The values of a `Values` source.
    fn values_of(&self, id: ObjId) -> &'g [Value] {
        match self.graph.try_get(id) {
            Some(Object::List(v)) | Some(Object::Tuple(v)) => v,
            Some(Object::Set(s)) | Some(Object::FrozenSet(s)) => s.items(),
            Some(Object::Record(r)) => &r.items,
            _ => &[],
        }
    }

    /// The entries of a `Pairs` source.
    fn pairs_of(&self, id: ObjId) -> &'g [(Value, Value)] {
        match self.graph.try_get(id) {
            Some(Object::Dict(d)) => d.entries(),
            Some(Object::Record(r)) => &r.dict_items,
            _ => &[],
        }
    }

    /// Schedules element `i` of `src` and, after it, the rest.
    fn elems(&mut self, src: Src, i: usize, node: u32, leading: bool, stack: &mut Vec<Task>) {
        let first = leading && i == 0;
        match src {
            Src::Values(id) => {
                let Some(&v) = self.values_of(id).get(i) else { return };
                stack.push(Task::Elems { src, i: i + 1, node, leading });
                stack.push(Task::Value { v, parent: node, seg: Seg::Index(i) });
                stack.push(Task::Sep { first });
            }
            Src::Pairs { id, as_object } => {
                let Some(&(k, v)) = self.pairs_of(id).get(i) else { return };
                stack.push(Task::Elems { src, i: i + 1, node, leading });
                match (as_object, k.obj()) {
                    (true, Some(kid)) => {
                        stack.push(Task::Value { v, parent: node, seg: Seg::Key(kid) });
                        stack.push(Task::Key(KeySrc::Str(kid)));
                    }
                    _ => {
                        // A `[key, value]` pair: a synthetic array with its own path node.
                        let pair = self.new_node(node, Seg::Index(i));
                        stack.push(Task::Close(b']'));
                        stack.push(Task::Value { v, parent: pair, seg: Seg::Index(1) });
                        stack.push(Task::Sep { first: false });
                        stack.push(Task::Value { v: k, parent: pair, seg: Seg::Index(0) });
                        stack.push(Task::Sep { first: true });
                        stack.push(Task::Open(b'['));
                    }
                }
                stack.push(Task::Sep { first });
            }
        }
    }

    /// An object record: `{"__class__": ..., ...}`. The members are
    /// gathered in order, then pushed in reverse.
    fn record(&mut self, id: ObjId, node: u32, stack: &mut Vec<Task>) {
        let graph = self.graph;
        let Some(rec) = graph.as_record(Value::Obj(id)) else { return };
        let mut tasks: Vec<Task> = Vec::new();
        // True until the first member is scheduled.
        let mut first = true;
        fn member(tasks: &mut Vec<Task>, first: &mut bool, name: &'static str) {
            tasks.push(Task::Sep { first: *first });
            tasks.push(Task::Key(KeySrc::Name(name)));
            *first = false;
        }

        // The class, and the arguments that are not the class.
        let args = graph.as_tuple(rec.args);
        let reconstructor = match (graph.as_global(rec.callable), args) {
            (Some(g), Some([cls, base, state]))
                if rec.kind == crate::graph::RecordKind::Reduce && g.is("copyreg", "_reconstructor") =>
            {
                Some((*cls, *base, *state))
            }
            _ => None,
        };
        match reconstructor {
            Some((cls, base, state)) => {
                member(&mut tasks, &mut first, "__class__");
                tasks.push(Task::Value { v: cls, parent: node, seg: Seg::Name("__class__") });
                let plain =
                    graph.as_global(base).is_some_and(|b| b.is("builtins", "object") || b.is("__builtin__", "object"))
                        && state == Value::None;
                if !plain {
                    // `[base, state]`, a synthetic array.
                    member(&mut tasks, &mut first, "__args__");
                    let a = self.new_node(node, Seg::Name("__args__"));
                    tasks.push(Task::Open(b'['));
                    tasks.push(Task::Sep { first: true });
                    tasks.push(Task::Value { v: base, parent: a, seg: Seg::Index(0) });
                    tasks.push(Task::Sep { first: false });
                    tasks.push(Task::Value { v: state, parent: a, seg: Seg::Index(1) });
                    tasks.push(Task::Close(b']'));
                }
            }
            None => {
                member(&mut tasks, &mut first, "__class__");
                tasks.push(Task::Value { v: rec.callable, parent: node, seg: Seg::Name("__class__") });
                if args.map_or(true, |a| !a.is_empty()) {
                    member(&mut tasks, &mut first, "__args__");
                    tasks.push(Task::Value { v: rec.args, parent: node, seg: Seg::Name("__args__") });
                }
            }
        }

        if let Some(kw) = rec.kwargs {
            let empty = matches!(graph.object(kw), Some(Object::Dict(d)) if d.is_empty());
            if !empty {
                member(&mut tasks, &mut first, "__kwargs__");
                tasks.push(Task::Value { v: kw, parent: node, seg: Seg::Name("__kwargs__") });
            }
        }

        if let Some(state) = rec.state {
            match self.mergeable_state(state) {
                Some(dicts) => {
                    for d in dicts.into_iter().flatten() {
                        if let Some(Object::Dict(dict)) = graph.try_get(d) {
                            for &(k, v) in dict.entries() {
                                if let Some(kid) = k.obj() {
                                    tasks.push(Task::Sep { first });
                                    tasks.push(Task::Key(KeySrc::Str(kid)));
                                    tasks.push(Task::Value { v, parent: node, seg: Seg::Key(kid) });
                                    first = false;
                                }
                            }
                        }
                    }
                }
                None if state == Value::None => {}
                None => {
                    member(&mut tasks, &mut first, "__state__");
                    tasks.push(Task::Value { v: state, parent: node, seg: Seg::Name("__state__") });
                }
            }
        }

        if !rec.items.is_empty() {
            member(&mut tasks, &mut first, "__items__");
            let n = self.new_node(node, Seg::Name("__items__"));
            tasks.push(Task::Open(b'['));
            tasks.push(Task::Elems { src: Src::Values(id), i: 0, node: n, leading: true });
            tasks.push(Task::Close(b']'));
        }

        if !rec.dict_items.is_empty() {
            member(&mut tasks, &mut first, "__dict_items__");
            let n = self.new_node(node, Seg::Name("__dict_items__"));
            // An object only when the keys are `str` and distinct (SETITEMS
            // on a record may set one key twice).
            let as_object = self.all_str_keys(&rec.dict_items) && {
                let mut keys = HashSet::new();
                rec.dict_items.iter().all(|(k, _)| match graph.object(*k) {
                    Some(Object::Str(s)) => keys.insert(s.as_bytes()),
                    _ => false,
                })
            };
            let (open, close) = if as_object { (b'{', b'}') } else { (b'[', b']') };
            tasks.push(Task::Open(open));
            tasks.push(Task::Elems { src: Src::Pairs { id, as_object }, i: 0, node: n, leading: true });
            tasks.push(Task::Close(close));
        }

        self.out.push('{');
        self.depth += 1;
        stack.push(Task::Close(b'}'));
        stack.extend(tasks.into_iter().rev());
    }

    /// The dicts whose entries a BUILD state merges into the record: the
    /// state itself when it is a dict of `str` keys, or both halves of a
    /// `(dict_or_None, slots_dict)` pair; `None` when it must be shown as
    /// `"__state__"` (other shapes, non-`str` keys, a key the record uses
    /// itself, a key in both halves).
    fn mergeable_state(&self, state: Value) -> Option<[Option<ObjId>; 2]> {
        let graph = self.graph;
        let dict_of = |v: Value| match graph.object(v) {
            Some(Object::Dict(d)) => v.obj().map(|id| (id, d)),
            _ => None,
        };
        let dicts: [Option<ObjId>; 2] = if let Some((id, _)) = dict_of(state) {
            [Some(id), None]
        } else {
            match graph.as_tuple(state) {
                Some(&[a, b]) => {
                    let first = if a == Value::None { None } else { Some(dict_of(a)?.0) };
                    let second = if b == Value::None { None } else { Some(dict_of(b)?.0) };
                    [first, second]
                }
                _ => return None,
            }
        };
        let mut keys = HashSet::new();
        for id in dicts.iter().flatten() {
            let Some(Object::Dict(d)) = graph.try_get(*id) else { return None };
            for (k, _) in d.entries() {
                let Some(Object::Str(s)) = graph.object(*k) else { return None };
                if RESERVED.iter().any(|r| r.as_bytes() == s.as_bytes()) || !keys.insert(s.as_bytes()) {
                    return None;
                }
            }
        }
        Some(dicts)
    }
}

/// The payload size of an object without children (`None` for containers).
fn atom_size(obj: &Object) -> Option<usize> {
    match obj {
        Object::Int(i) => Some((i.bits() / 3) as usize),
        Object::Str(s) => Some(s.as_bytes().len()),
        Object::Bytes(b) | Object::ByteArray(b) => Some(b.len()),
        Object::Buffer(b) => Some(b.data.len()),
        Object::Global(g) => Some(g.module.len() + g.name.len()),
        _ => None,
    }
}

/// True for a key that can follow a `.` in a path.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Writes code points as a JSON string. Lone surrogates, which JSON text
/// cannot hold raw, become `\udXXX` escapes; so do controls (`\n`, `\u0001`).
fn push_json_str(out: &mut String, cps: impl Iterator<Item = u32>) {
    out.push('"');
    for cp in cps {
        match cp {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0..=0x1f | 0xd800..=0xdfff => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            _ => out.push(char::from_u32(cp).unwrap_or('\u{fffd}')),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loads;

    fn render(data: &[u8]) -> String {
        let g = loads(data).expect("decodes");
        let mut s = String::new();
        friendly(&g, &mut s, false);
        s
    }

    fn render_pretty(data: &[u8]) -> String {
        let g = loads(data).expect("decodes");
        let mut s = String::new();
        friendly(&g, &mut s, true);
        s
    }

    /// Every rendering must be valid JSON.
    fn check_json(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap_or_else(|e| panic!("invalid JSON {s:?}: {e}"))
    }

    #[test]
    fn scalars() {
        // pickle.dumps([None, True, False, 1, -2, 2**70, 1.5, 1e300, float('nan'), float('inf'), float('-inf')], 2)
        let data = b"\x80\x02]q\x00(N\x88\x89K\x01J\xfe\xff\xff\xff\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00@G?\xf8\x00\x00\x00\x00\x00\x00G~7\xe4<\x88\x00u\x9cG\x7f\xf8\x00\x00\x00\x00\x00\x00G\x7f\xf0\x00\x00\x00\x00\x00\x00G\xff\xf0\x00\x00\x00\x00\x00\x00e.";
        let s = render(data);
        assert_eq!(s, r#"[null,true,false,1,-2,1180591620717411303424,1.5,1e+300,"nan","inf","-inf"]"#);
        check_json(&s);
    }

    #[test]
    fn strings_and_bytes() {
        // pickle.dumps(['a"b\n', '\udc80x', b'\x00ab', bytearray(b'hi'), 'é'], 5)
        let data = b"\x80\x05\x95*\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x04a\"b\n\x94\x8c\x04\xed\xb2\x80x\x94C\x03\x00ab\x94\x96\x02\x00\x00\x00\x00\x00\x00\x00hi\x94\x8c\x02\xc3\xa9\x94e.";
        let s = render(data);
        assert_eq!(s, r#"["a\"b\n","\udc80x","b'\\x00ab'","bytearray(b'hi')","é"]"#);
        // (serde_json refuses lone surrogates, which Python's json accepts.)
        check_json(&s.replace("\\udc80", "\\u00e0"));
    }

    #[test]
    fn dicts_sets_globals() {
        // pickle.dumps([{'a': 1, 'b c': (2,)}, {1: 'x'}, {3}, frozenset(), len], 4)
        let data = b"\x80\x04\x95>\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x01a\x94K\x01\x8c\x03b c\x94K\x02\x85\x94u}\x94K\x01\x8c\x01x\x94s\x8f\x94(K\x03\x90(\x91\x94\x8c\x08builtins\x94\x8c\x03len\x94\x93\x94e.";
        let s = render(data);
        assert_eq!(s, r#"[{"a":1,"b c":[2]},[[1,"x"]],[3],[],"builtins.len"]"#);
        check_json(&s);
    }

    #[test]
    fn shared_and_cycles() {
        // a = []; a.append(a); d = {'k': a, 'weird key': [a]}; pickle.dumps([d, d], 2)
        let data = b"\x80\x02]q\x00(}q\x01(X\x01\x00\x00\x00kq\x02]q\x03h\x03aX\t\x00\x00\x00weird keyq\x04]q\x05h\x03auh\x01e.";
        let s = render(data);
        assert_eq!(s, r#"[{"k":[{"$ref":"$[0].k"}],"weird key":[{"$ref":"$[0].k"}]},{"$ref":"$[0]"}]"#);
        check_json(&s);
        // The path of a non-identifier key.
        // x = [1]; pickle.dumps({'weird key': x, 'y': x}, 2)
        let data = b"\x80\x02}q\x00(X\t\x00\x00\x00weird keyq\x01]q\x02K\x01aX\x01\x00\x00\x00yq\x03h\x02u.";
        let s = render(data);
        assert_eq!(s, r#"{"weird key":[1],"y":{"$ref":"$[\"weird key\"]"}}"#);
        check_json(&s);
    }

    #[test]
    fn records() {
        // class P: pass; p = P(); p.x = 1; pickle.dumps(p, 2)
        let data = b"\x80\x02c__main__\nP\nq\x00)\x81q\x01}q\x02X\x01\x00\x00\x00xq\x03K\x01sb.";
        let s = render(data);
        assert_eq!(s, r#"{"__class__":"__main__.P","x":1}"#);
        // By hand: m.C(1, 2), BUILD 5, APPENDS 7, 8, SETITEMS k=9.
        let data = b"\x80\x02cm\nC\nK\x01K\x02\x86RK\x05b(K\x07K\x08e(X\x01\x00\x00\x00kK\x09u.";
        let s = render(data);
        assert_eq!(
            s,
            r#"{"__class__":"m.C","__args__":[1,2],"__state__":5,"__items__":[7,8],"__dict_items__":{"k":9}}"#
        );
        check_json(&s);
        // copyreg._reconstructor(cls, object, None) with a (None, slots) state.
        let data =
            b"\x80\x02ccopyreg\n_reconstructor\ncm\nC\nc__builtin__\nobject\nN\x87RN}X\x01\x00\x00\x00aK\x01s\x86b.";
        let s = render(data);
        assert_eq!(s, r#"{"__class__":"m.C","a":1}"#);
        // A state key the record uses itself goes under __state__.
        let data = b"\x80\x02cm\nC\n)\x81}X\t\x00\x00\x00__class__K\x01sb.";
        let s = render(data);
        assert_eq!(s, r#"{"__class__":"m.C","__state__":{"__class__":1}}"#);
        // A persistent id.
        let data = b"\x80\x02X\x03\x00\x00\x00pidQ.";
        assert_eq!(render(data), r#"{"__persistent_id__":"pid"}"#);
    }

    #[test]
    fn pretty() {
        let data = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02eX\x01\x00\x00\x00bq\x03]q\x04u.";
        let s = render_pretty(data);
        assert_eq!(s, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}");
        check_json(&s);
    }

    #[test]
    fn small_atoms_repeat_large_ones_ref() {
        // s = 'x' * 300; pickle.dumps(['ab', 'ab', s, s] with memo sharing, 2)
        let mut data = b"\x80\x02](X\x02\x00\x00\x00abq\x01h\x01X,\x01\x00\x00".to_vec();
        data.extend(std::iter::repeat(b'x').take(300));
        data.extend_from_slice(b"q\x02h\x02e.");
        let s = render(&data);
        let expected = format!(r#"["ab","ab","{}",{{"$ref":"$[2]"}}]"#, "x".repeat(300));
        assert_eq!(s, expected);
    }

    #[test]
    fn million_deep_list() {
        const N: usize = 1_000_000;
        let mut data = b"\x80\x02".to_vec();
        data.extend(std::iter::repeat(b']').take(N));
        data.extend(std::iter::repeat(b'a').take(N - 1));
        data.push(b'.');
        match loads(&data) {
            Ok(g) => {
                let mut s = String::new();
                friendly(&g, &mut s, false);
                assert_eq!(s.len(), 2 * N);
                assert!(s.starts_with("[[[") && s.ends_with("]]]"));
            }
            Err(e) => assert!(e.to_string().contains("depth"), "unexpected error: {e}"),
        }
    }

    #[test]
    fn deep_reference_paths_spell_only_their_last_steps() {
        // 300 nested lists; the innermost holds itself.
        let n = 300;
        let mut data = b"\x80\x02".to_vec();
        data.extend(std::iter::repeat(b']').take(n));
        data.extend_from_slice(b"q\x00h\x00a");
        data.extend(std::iter::repeat(b'a').take(n - 1));
        data.push(b'.');
        let s = render(&data);
        let want = format!("{{\"$ref\":\"$…{}\"}}", "[0]".repeat(MAX_PATH_STEPS));
        assert!(s.contains(&want), "{}", &s[s.len().saturating_sub(200)..]);
    }
}
