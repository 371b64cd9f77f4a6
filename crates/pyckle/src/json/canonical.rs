//! The canonical JSON form of `shared/spec/canonical-json.md`, written
//! exactly as `shared/spec/canonical.py` writes it (`json.dumps` with
//! `ensure_ascii=True`), so documents compare byte for byte except for the
//! order of set items.
//!
//! Both passes are iterative: a graph of any depth renders without
//! recursion.

use crate::graph::{canonical_name, Graph, Object, Record, RecordKind, Value};
use crate::pyrepr::repr_float;
use std::fmt::Write;

/// A value to write, or a global that the canonical form names without
/// the pickle holding it (`copyreg._reconstructor`, see [`parts`]).
#[derive(Clone, Copy)]
enum Node {
    V(Value),
    G(&'static str, &'static str),
}

/// An object record as `canonical.py` sees it after re-reducing the object.
struct Parts {
    head_key: &'static str,
    head: Node,
    args: Vec<Node>,
    kwargs: Option<Value>,
    state: Option<Value>,
}

/// How `canonical.py` writes a record. INST and OBJ without arguments make
/// `cls.__new__(cls)`; re-reduced below protocol 2 that object is
/// `copyreg._reconstructor(cls, object, None)`, and that is what the
/// reference prints, so it is what we print.
fn parts(graph: &Graph, r: &Record) -> Parts {
    let args: Vec<Node> = graph.as_tuple(r.args).unwrap_or(&[]).iter().map(|&v| Node::V(v)).collect();
    // Re-reduced by `object.__reduce_ex__`, an instance with an empty
    // `__dict__` has no state: canonical.py leaves out what BUILD set to `{}`.
    let default_reduce = r.is_new() || graph.as_global(r.callable).is_some_and(|g| g.is("copyreg", "_reconstructor"));
    let empty_dict = |s: &Value| matches!(graph.object(*s), Some(Object::Dict(d)) if d.is_empty());
    let state = r.state.filter(|s| *s != Value::None && !(default_reduce && empty_dict(s)));
    let (head_key, head, args, kwargs) = match r.kind {
        RecordKind::Reduce => ("reduce", Node::V(r.callable), args, None),
        RecordKind::NewObj => ("new", Node::V(r.callable), args, None),
        RecordKind::NewObjEx => ("new", Node::V(r.callable), args, r.kwargs),
        RecordKind::Inst | RecordKind::Obj if !args.is_empty() => ("reduce", Node::V(r.callable), args, None),
        RecordKind::Inst | RecordKind::Obj if graph.protocol() >= 2 => ("new", Node::V(r.callable), args, None),
        RecordKind::Inst | RecordKind::Obj => (
            "reduce",
            Node::G("copyreg", "_reconstructor"),
            vec![Node::V(r.callable), Node::G("builtins", "object"), Node::V(Value::None)],
            None,
        ),
    };
    Parts { head_key, head, args, kwargs, state }
}

/// Objects that keep their identity in the document (`"id"`/`"ref"`).
fn is_tracked(obj: &Object) -> bool {
    matches!(
        obj,
        Object::List(_)
            | Object::Dict(_)
            | Object::Set(_)
            | Object::ByteArray(_)
            | Object::Record(_)
            | Object::PersistentId(_)
    )
}

/// The children `canonical.py` walks when it counts references, in order.
/// Set and frozenset contents are opaque: not walked, not counted.
fn children(graph: &Graph, obj: &Object, out: &mut Vec<Value>) {
    match obj {
        Object::List(items) | Object::Tuple(items) => out.extend_from_slice(items),
        Object::Dict(d) => {
            for &(k, v) in d.iter() {
                out.push(k);
                out.push(v);
            }
        }
        Object::Record(r) => {
            let p = parts(graph, r);
            for n in std::iter::once(p.head).chain(p.args) {
                if let Node::V(v) = n {
                    out.push(v);
                }
            }
            out.extend(p.kwargs);
            out.extend(p.state);
            out.extend_from_slice(&r.items);
            for &(k, v) in &r.dict_items {
                out.push(k);
                out.push(v);
            }
        }
        Object::PersistentId(pid) => out.push(*pid),
        _ => {}
    }
}

/// The most values one document may write. Tuples and frozensets are
/// written in full wherever they occur, so a small hostile pickle can
/// describe a document of astronomic size (tuples of tuples sharing their
/// items); past this budget rendering stops with an error.
pub const MAX_NODES: u64 = 200_000_000;

/// Why a graph has no canonical document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("the document would hold more than {MAX_NODES} values")]
    TooLarge,
    #[error("an object inside a set refers back to itself: its canonical form is infinite")]
    CycleInSet,
}

/// Writes the canonical JSON document of `graph` (without a newline).
pub fn canonical(graph: &Graph, out: &mut String) -> Result<(), CanonicalError> {
    let counts = count(graph)?;
    let mut r = Renderer {
        graph,
        counts,
        ids: vec![u32::MAX; graph.len()],
        next_id: 0,
        out,
        opaque_path: vec![false; graph.len()],
        budget: MAX_NODES,
    };
    r.render(graph.root())
}

/// Pass 1: how many places refer to each tracked object (walking into an
/// object only the first time it is reached).
fn count(graph: &Graph) -> Result<Vec<u32>, CanonicalError> {
    let mut counts = vec![0u32; graph.len()];
    let mut stack = vec![graph.root()];
    let mut kids = Vec::new();
    let mut budget = MAX_NODES;
    while let Some(v) = stack.pop() {
        budget = budget.checked_sub(1).ok_or(CanonicalError::TooLarge)?;
        let Some(id) = v.obj() else { continue };
        let Some(obj) = graph.try_get(id) else { continue };
        if is_tracked(obj) {
            let c = &mut counts[id.index()];
            *c = c.saturating_add(1);
            if *c > 1 {
                continue;
            }
        }
        kids.clear();
        children(graph, obj, &mut kids);
        stack.extend(kids.iter().rev());
    }
    Ok(counts)
}

/// Work for pass 2: a value to render, or text to write.
enum Task {
    Node(Node, bool),
    Text(&'static str),
    CloseWithId(u32),
    /// The end of an object written in full inside a set.
    LeaveOpaque(usize),
}

struct Renderer<'g, 'a, 'o> {
    graph: &'g Graph<'a>,
    counts: Vec<u32>,
    ids: Vec<u32>,
    next_id: u32,
    out: &'o mut String,
    /// Tracked objects being written in full inside a set, to catch cycles.
    opaque_path: Vec<bool>,
    budget: u64,
}

impl Renderer<'_, '_, '_> {
    fn render(&mut self, root: Value) -> Result<(), CanonicalError> {
        let mut tasks = vec![Task::Node(Node::V(root), false)];
        while let Some(task) = tasks.pop() {
            match task {
                Task::LeaveOpaque(i) => self.opaque_path[i] = false,
                Task::Text(t) => self.out.push_str(t),
                Task::CloseWithId(id) => {
                    let _ = write!(self.out, ", \"id\": {id}}}");
                }
                Task::Node(Node::G(m, n), _) => self.global(m, n),
                Task::Node(Node::V(v), opaque) => {
                    self.budget = self.budget.checked_sub(1).ok_or(CanonicalError::TooLarge)?;
                    self.value(v, opaque, &mut tasks)?;
                }
            }
        }
        Ok(())
    }

    fn global(&mut self, module: &str, name: &str) {
        let (module, name) = canonical_name(module, name);
        self.out.push_str("{\"global\": [");
        write_str(self.out, module.as_bytes());
        self.out.push_str(", ");
        write_str(self.out, name.as_bytes());
        self.out.push_str("]}");
    }

    fn value(&mut self, v: Value, opaque: bool, tasks: &mut Vec<Task>) -> Result<(), CanonicalError> {
        let id = match v {
            Value::Obj(id) => id,
            _ => {
                self.scalar(v);
                return Ok(());
            }
        };
        let Some(obj) = self.graph.try_get(id) else {
            self.out.push_str("null");
            return Ok(());
        };
        // Identity: a tracked object reached again is a ref; one reached
        // from two places gets its id where it is first written.
        let mut close = Task::Text("}");
        if is_tracked(obj) && !opaque {
            let slot = self.ids[id.index()];
            if slot != u32::MAX {
                let _ = write!(self.out, "{{\"ref\": {slot}}}");
                return Ok(());
            }
            if self.counts[id.index()] >= 2 {
                let n = self.next_id;
                self.next_id += 1;
                self.ids[id.index()] = n;
                close = Task::CloseWithId(n);
            }
        } else if is_tracked(obj) {
            // Inside a set everything is written in full; an object that
            // contains itself there has no finite form.
            if self.opaque_path[id.index()] {
                return Err(CanonicalError::CycleInSet);
            }
            self.opaque_path[id.index()] = true;
            tasks.push(Task::LeaveOpaque(id.index()));
        }
        let g = self.graph;
        match obj {
            Object::Int(b) => {
                let _ = write!(self.out, "{b}");
            }
            Object::Str(s) => write_str(self.out, s.as_bytes()),
            Object::Bytes(b) => self.hex("bytes", b),
            Object::ByteArray(b) => {
                self.hex_open("bytearray", b);
                tasks.push(close);
            }
            Object::Buffer(b) => self.hex(if b.readonly { "bytes" } else { "bytearray" }, &b.data),
            Object::Global(gl) => self.global(&gl.module, &gl.name),
            Object::List(items) => self.seq("list", items, opaque, close, tasks),
            Object::Tuple(items) => self.seq("tuple", items, opaque, Task::Text("}"), tasks),
            Object::Set(s) => self.seq("set", s.items(), true, close, tasks),
            Object::FrozenSet(s) => self.seq("frozenset", s.items(), true, Task::Text("}"), tasks),
            Object::Dict(d) => {
                self.out.push_str("{\"dict\": [");
                tasks.push(close);
                tasks.push(Task::Text("]"));
                let entries = d.entries();
                for (i, &(k, v)) in entries.iter().enumerate().rev() {
                    tasks.push(Task::Text("]"));
                    tasks.push(Task::Node(Node::V(v), opaque));
                    tasks.push(Task::Text(", "));
                    tasks.push(Task::Node(Node::V(k), opaque));
                    tasks.push(Task::Text(if i == 0 { "[" } else { ", [" }));
                }
            }
            Object::PersistentId(pid) => {
                self.out.push_str("{\"persistent_id\": ");
                tasks.push(close);
                tasks.push(Task::Node(Node::V(*pid), opaque));
            }
            Object::Record(r) => {
                let p = parts(g, r);
                // Pushed in reverse: the last field first.
                tasks.push(close);
                if !r.dict_items.is_empty() {
                    tasks.push(Task::Text("]"));
                    for (i, &(k, v)) in r.dict_items.iter().enumerate().rev() {
                        tasks.push(Task::Text("]"));
                        tasks.push(Task::Node(Node::V(v), opaque));
                        tasks.push(Task::Text(", "));
                        tasks.push(Task::Node(Node::V(k), opaque));
                        tasks.push(Task::Text(if i == 0 { "[" } else { ", [" }));
                    }
                    tasks.push(Task::Text(", \"dict_items\": ["));
                }
                if !r.items.is_empty() {
                    tasks.push(Task::Text("]"));
                    push_list(tasks, r.items.iter().map(|&v| Node::V(v)), opaque);
                    tasks.push(Task::Text(", \"items\": ["));
                }
                if let Some(s) = p.state {
                    tasks.push(Task::Node(Node::V(s), opaque));
                    tasks.push(Task::Text(", \"state\": "));
                }
                if let Some(k) = p.kwargs {
                    tasks.push(Task::Node(Node::V(k), opaque));
                    tasks.push(Task::Text(", \"kwargs\": "));
                }
                tasks.push(Task::Text("]"));
                push_list(tasks, p.args.into_iter(), opaque);
                tasks.push(Task::Text(", \"args\": ["));
                tasks.push(Task::Node(p.head, opaque));
                self.out.push_str(if p.head_key == "new" { "{\"new\": " } else { "{\"reduce\": " });
            }
        }
        Ok(())
    }

    fn scalar(&mut self, v: Value) {
        match v {
            Value::None => self.out.push_str("null"),
            Value::Bool(true) => self.out.push_str("true"),
            Value::Bool(false) => self.out.push_str("false"),
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Float(f) => {
                self.out.push_str("{\"float\": \"");
                self.out.push_str(&repr_float(f));
                self.out.push_str("\"}");
            }
            Value::Obj(_) => unreachable!("objects are not scalars"),
        }
    }

    fn seq(&mut self, key: &str, items: &[Value], opaque: bool, close: Task, tasks: &mut Vec<Task>) {
        let _ = write!(self.out, "{{\"{key}\": [");
        tasks.push(close);
        tasks.push(Task::Text("]"));
        push_list(tasks, items.iter().map(|&v| Node::V(v)), opaque);
    }

    fn hex_open(&mut self, key: &str, b: &[u8]) {
        let _ = write!(self.out, "{{\"{key}\": \"");
        for byte in b {
            let _ = write!(self.out, "{byte:02x}");
        }
        self.out.push('"');
    }

    fn hex(&mut self, key: &str, b: &[u8]) {
        self.hex_open(key, b);
        self.out.push('}');
    }
}

/// Pushes the tasks that write `items` separated by `, ` (in reverse, for the stack).
fn push_list(tasks: &mut Vec<Task>, items: impl DoubleEndedIterator<Item = Node> + ExactSizeIterator, opaque: bool) {
    for (i, n) in items.enumerate().rev() {
        tasks.push(Task::Node(n, opaque));
        if i > 0 {
            tasks.push(Task::Text(", "));
        }
    }
}

/// A JSON string as Python's `json.dumps(ensure_ascii=True)` writes it;
/// `s` is generalized UTF-8, so a lone surrogate comes out as `\udXXX`.
pub(crate) fn write_str(out: &mut String, s: &[u8]) {
    out.push('"');
    for cp in crate::pyrepr::code_points(s) {
        match cp {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(cp as u8 as char),
            0x10000.. => {
                let v = cp - 0x10000;
                let _ = write!(out, "\\u{:04x}\\u{:04x}", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            }
            _ => {
                let _ = write!(out, "\\u{cp:04x}");
            }
        }
    }
    out.push('"');
}
