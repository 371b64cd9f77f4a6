//! The user-class registry: teach pyckle a Python class by hand.
//!
//! A pickle does not hold objects of user classes, only what to do to make
//! them again: "call `__main__.Greeter.__new__` with no arguments, then set
//! its `__dict__` to `{'_name': 'Gopher'}`". The decoder keeps that as a
//! [`Record`](crate::Record). A [`Registry`] knows, for the classes you
//! register by module and qualified name, how to turn such a record into a
//! Rust value, and how to write the Rust value back as CPython writes an
//! instance of that class:
//!
//! - how to build it from the constructor's arguments (REDUCE, NEWOBJ,
//!   NEWOBJ_EX with keyword arguments, INST and OBJ, and the `copyreg`
//!   forms `_reconstructor(cls, base, state)`, `__newobj__(cls, *args)`,
//!   `__newobj_ex__(cls, args, kwargs)`, and `functools.partial(cls.__new__,
//!   cls, *args, **kwargs)()`, which CPython 3.11 writes for
//!   `__getnewargs_ex__` at protocols 2 and 3);
//! - how to apply its BUILD state (a `__dict__`, `(__dict__, slots)`, or
//!   whatever `__getstate__` returned);
//! - how to take the items APPENDed to it and SETITEMed on it (subclasses of
//!   `list` and `dict`);
//! - how to write it into a [`Graph`], which [`dumps`](crate::dumps) writes.
//!
//! Two ways to teach it: implement [`PyClass`] on your type and
//! [`register`](Registry::register) it, or hand closures to
//! [`Registry::class`] for a one-off. Nothing of the pickle runs: the
//! registry only reads the record.
//!
//! This is the hand-written way (the talk did it in Go with a class type, a
//! constructor hook and a `__dict__` setter). A class whose state is a plain
//! `__dict__` usually needs none of it: `#[derive(Deserialize)]` and
//! [`pyckle::serde`](crate::serde) read the same pickle (see the second
//! example). The registry is for classes that need more: a custom
//! `__reduce__`, a tuple state, list or dict items, one Rust type for
//! several Python names.
//!
//! ## The talk's Greeter, by hand
//!
//! ```
//! use pyckle::classes::registry::{self, Loader, PyClass, Registry};
//! use pyckle::classes::ConvertError;
//! use pyckle::{Graph, Value};
//!
//! struct Greeter {
//!     name: String,
//! }
//!
//! impl Greeter {
//!     fn greet(&self) -> String {
//!         format!("Hi, {}!", self.name)
//!     }
//! }
//!
//! impl PyClass for Greeter {
//!     const MODULE: &'static str = "__main__";
//!     const QUALNAME: &'static str = "Greeter";
//!     // Greeter.__new__(Greeter): no arguments; __init__ does not run.
//!     fn new(_: &mut Loader, _args: &[Value], _kwargs: &[(Value, Value)]) -> Result<Self, ConvertError> {
//!         Ok(Greeter { name: String::new() })
//!     }
//!     // BUILD with the __dict__ {'_name': 'Gopher'}.
//!     fn set_state(&mut self, cx: &mut Loader, state: Value) -> Result<(), ConvertError> {
//!         self.name = cx.attrs(state)?.string("_name")?;
//!         Ok(())
//!     }
//!     fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
//!         let name = graph.str(self.name.clone());
//!         let state = registry::attrs_dict(graph, [("_name", name)])?;
//!         Ok(registry::instance(graph, Self::MODULE, Self::QUALNAME, Some(state)))
//!     }
//! }
//!
//! let mut classes = Registry::new();
//! classes.register::<Greeter>();
//! for p in 0..=5 {
//!     // Python: pickle.dumps(Greeter('Gopher'), protocol=p), Greeter defined in __main__.
//!     let data = std::fs::read(format!("{}/../../tests/fixtures/talk/greeter_p{p}.pkl", env!("CARGO_MANIFEST_DIR")))?;
//!     let graph = classes.unpickler(true).loads(&data)?; // strict: only Greeter may be named
//!     let greeter: Greeter = classes.load(&graph, graph.root())?;
//!     assert_eq!(greeter.greet(), "Hi, Gopher!");
//!     // And back: byte for byte what CPython wrote.
//!     assert_eq!(classes.dumps(&greeter, p)?, data);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The same with `#[derive(Deserialize)]`
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! #[derive(serde::Deserialize)]
//! struct Greeter {
//!     #[serde(rename = "_name")]
//!     name: String,
//! }
//!
//! for p in 0..=5 {
//!     let data = std::fs::read(format!("{}/../../tests/fixtures/talk/greeter_p{p}.pkl", env!("CARGO_MANIFEST_DIR")))?;
//!     let greeter: Greeter = pyckle::serde::from_slice(&data, pyckle::serde::DeOptions::new())?;
//!     assert_eq!(format!("Hi, {}!", greeter.name), "Hi, Gopher!");
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## A one-off, with closures
//!
//! ```
//! use pyckle::classes::registry::{self, Registry};
//! use pyckle::Value;
//!
//! #[derive(Debug, PartialEq)]
//! struct Version(i64, i64);
//!
//! let mut classes = Registry::new();
//! // class Version: __getstate__ returns (major, minor)
//! classes
//!     .class::<Version>("__main__", "Version", |_, _, _| Ok(Version(0, 0)))
//!     .state(|v, cx, state| {
//!         let [major, minor] = cx.items(state)? else { return Err(cx.unexpected("(major, minor)", state)) };
//!         *v = Version(cx.int(*major)?, cx.int(*minor)?);
//!         Ok(())
//!     })
//!     .write(|v, graph| {
//!         let state = graph.tuple([Value::Int(v.0), Value::Int(v.1)]);
//!         Ok(registry::instance(graph, "__main__", "Version", Some(state)))
//!     });
//! let data = std::fs::read(format!("{}/../../tests/fixtures/talk/version_p2.pkl", env!("CARGO_MANIFEST_DIR")))?;
//! let graph = pyckle::loads(&data)?;
//! assert_eq!(classes.load::<Version>(&graph, graph.root())?, Version(3, 11));
//! assert_eq!(classes.dumps(&Version(3, 11), 2)?, data);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Names, moved classes and strict decoding
//!
//! [`Registry::alias`] maps an old module and name to the registered one,
//! both while loading (a record naming the old class loads as the new one)
//! and while decoding: [`Registry::find_class_hook`] renames aliases in the
//! decoder, and in strict mode refuses every global that is neither a
//! registered class, an alias, a core type ([`CORE_GLOBALS`](crate::decode::CORE_GLOBALS))
//! nor one of the few globals CPython uses to make instances
//! ([`INSTANCE_GLOBALS`]). [`Registry::unpickler`] is an
//! [`Unpickler`](crate::Unpickler) with that hook.
//!
//! ## Sharing and cycles
//!
//! Loading makes Rust values, which own what they hold: an object the
//! pickle references twice is loaded twice (two equal values). A cycle
//! through registered objects (an object whose state holds itself) is an
//! error, as is nesting of registered objects deeper than
//! [`Loader::MAX_DEPTH`]; neither hangs nor overflows the stack.

use super::{ConvertError, FromPickle};
use crate::decode::{AllowList, FindClass, Resolve, Unpickler};
use crate::graph::{Graph, ObjId, Object, RecordKind, Value};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;

/// The globals besides the registered classes that CPython's pickles of
/// instances name, so strict mode with a registry allows them:
/// `copyreg._reconstructor` (protocols 0 and 1), `copyreg.__newobj__` and
/// `copyreg.__newobj_ex__`, and the bases `_reconstructor` names
/// (`builtins.object`, `list`, `dict`). Each only makes an instance of a
/// class given to it, which strict mode also checks.
pub const INSTANCE_GLOBALS: &[(&str, &str)] = &[
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("builtins", "object"),
    ("builtins", "list"),
    ("builtins", "dict"),
];

/// A Python class taught to pyckle by implementing a trait: how to build
/// the Rust value from a record, and how to write it back.
///
/// `new` receives the constructor's positional arguments and keyword
/// arguments; the other hooks default to refusing what they are given (a
/// class that takes no state, no items), so that a pickle holding more
/// than the Rust type knows is an error, not silently dropped.
pub trait PyClass: Sized + 'static {
    /// The module of the Python class (`__module__`).
    const MODULE: &'static str;
    /// Its qualified name (`__qualname__`, `"Outer.Inner"` for a nested class).
    const QUALNAME: &'static str;

    /// Builds the value from the constructor's arguments: REDUCE's args
    /// (the class called), NEWOBJ's (`cls.__new__(cls, *args)`), NEWOBJ_EX's
    /// args and kwargs, INST's and OBJ's. For `copyreg._reconstructor(cls,
    /// base, state)`, `args` is `[state]` when `state` is not None (the
    /// items of a list subclass below protocol 2), and empty otherwise.
    fn new(cx: &mut Loader<'_, '_>, args: &[Value], kwargs: &[(Value, Value)]) -> Result<Self, ConvertError>;

    /// Applies the BUILD state: a `__dict__` (a dict), `(__dict__, slots)`
    /// (either may be None), or what `__getstate__` returned.
    /// [`Loader::attrs`] reads the first two.
    fn set_state(&mut self, cx: &mut Loader<'_, '_>, state: Value) -> Result<(), ConvertError> {
        Err(cx.refused(Self::MODULE, Self::QUALNAME, "state (BUILD)", state))
    }

    /// An item APPENDed to the object (a list subclass).
    fn append(&mut self, cx: &mut Loader<'_, '_>, item: Value) -> Result<(), ConvertError> {
        Err(cx.refused(Self::MODULE, Self::QUALNAME, "items (APPEND)", item))
    }

    /// A key and value SETITEMed on the object (a dict subclass).
    fn set_item(&mut self, cx: &mut Loader<'_, '_>, key: Value, value: Value) -> Result<(), ConvertError> {
        let _ = value;
        Err(cx.refused(Self::MODULE, Self::QUALNAME, "dict items (SETITEM)", key))
    }

    /// Writes the value into `graph` and returns it: usually
    /// [`instance`]`(graph, Self::MODULE, Self::QUALNAME, Some(state))`.
    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError>;
}

type NewFn =
    Box<dyn Fn(&mut Loader<'_, '_>, &[Value], &[(Value, Value)]) -> Result<Box<dyn Any>, ConvertError> + Send + Sync>;
type StateFn = Box<dyn Fn(&mut dyn Any, &mut Loader<'_, '_>, Value) -> Result<(), ConvertError> + Send + Sync>;
type ItemFn =
    Box<dyn Fn(&mut dyn Any, &mut Loader<'_, '_>, Value, Option<Value>) -> Result<(), ConvertError> + Send + Sync>;
type WriteFn = Box<dyn Fn(&dyn Any, &mut Graph<'static>) -> Result<Value, ConvertError> + Send + Sync>;

/// One registered class.
struct Class {
    module: String,
    qualname: String,
    type_id: TypeId,
    type_name: &'static str,
    new: NewFn,
    state: Option<StateFn>,
    append: Option<ItemFn>,
    set_item: Option<ItemFn>,
    write: Option<WriteFn>,
}

/// Classes taught to pyckle, by module and qualified name, and their aliases.
///
/// `Send + Sync`: build it once, share it between threads.
#[derive(Default)]
pub struct Registry {
    classes: Vec<Class>,
    /// Module -> qualname -> index in `classes` (looked up by `&str`).
    by_name: HashMap<String, HashMap<String, usize>>,
    by_type: HashMap<TypeId, usize>,
    /// Old module -> old name -> (module, name).
    aliases: HashMap<String, HashMap<String, (String, String)>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let classes: Vec<String> =
            self.classes.iter().map(|c| format!("{}.{} => {}", c.module, c.qualname, c.type_name)).collect();
        f.debug_struct("Registry").field("classes", &classes).field("aliases", &self.aliases).finish()
    }
}

fn downcast_mut<T: 'static>(obj: &mut dyn Any) -> &mut T {
    obj.downcast_mut::<T>().expect("the registry calls a class's hooks with its own type")
}

/// Closures of a class registered with [`Registry::class`], to chain.
pub struct ClassBuilder<'r, T> {
    class: &'r mut Class,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: 'static> ClassBuilder<'_, T> {
    /// How to apply the BUILD state (see [`PyClass::set_state`]).
    pub fn state(
        self,
        f: impl Fn(&mut T, &mut Loader<'_, '_>, Value) -> Result<(), ConvertError> + Send + Sync + 'static,
    ) -> Self {
        self.class.state = Some(Box::new(move |obj, cx, state| f(downcast_mut::<T>(obj), cx, state)));
        self
    }
    /// How to take an APPENDed item.
    pub fn append(
        self,
        f: impl Fn(&mut T, &mut Loader<'_, '_>, Value) -> Result<(), ConvertError> + Send + Sync + 'static,
    ) -> Self {
        self.class.append = Some(Box::new(move |obj, cx, item, _| f(downcast_mut::<T>(obj), cx, item)));
        self
    }
    /// How to take a SETITEMed key and value.
    pub fn set_item(
        self,
        f: impl Fn(&mut T, &mut Loader<'_, '_>, Value, Value) -> Result<(), ConvertError> + Send + Sync + 'static,
    ) -> Self {
        self.class.set_item =
            Some(Box::new(move |obj, cx, key, value| f(downcast_mut::<T>(obj), cx, key, value.unwrap_or(Value::None))));
        self
    }
    /// How to write the value into a graph (see [`PyClass::to_pickle`]).
    pub fn write(
        self,
        f: impl Fn(&T, &mut Graph<'static>) -> Result<Value, ConvertError> + Send + Sync + 'static,
    ) -> Self {
        self.class.write = Some(Box::new(move |obj, graph| {
            f(obj.downcast_ref::<T>().expect("the registry writes a class with its own type"), graph)
        }));
        self
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers a [`PyClass`] under `T::MODULE` and `T::QUALNAME`.
    pub fn register<T: PyClass>(&mut self) -> &mut Self {
        self.insert::<T>(T::MODULE, T::QUALNAME, Box::new(|cx, args, kwargs| Ok(Box::new(T::new(cx, args, kwargs)?))));
        let class = self.class_mut::<T>();
        class.state = Some(Box::new(|obj, cx, state| downcast_mut::<T>(obj).set_state(cx, state)));
        class.append = Some(Box::new(|obj, cx, item, _| downcast_mut::<T>(obj).append(cx, item)));
        class.set_item = Some(Box::new(|obj, cx, key, value| {
            downcast_mut::<T>(obj).set_item(cx, key, value.unwrap_or(Value::None))
        }));
        class.write =
            Some(Box::new(|obj, graph| obj.downcast_ref::<T>().expect("the class's own type").to_pickle(graph)));
        self
    }

    /// Registers the class `module.qualname` as the Rust type `T`, built by
    /// `new` from the constructor's arguments (see [`PyClass::new`]); the
    /// returned builder adds the other hooks. Without them the class takes
    /// no state and no items, and cannot be written.
    pub fn class<T: 'static>(
        &mut self,
        module: &str,
        qualname: &str,
        new: impl Fn(&mut Loader<'_, '_>, &[Value], &[(Value, Value)]) -> Result<T, ConvertError> + Send + Sync + 'static,
    ) -> ClassBuilder<'_, T> {
        self.insert::<T>(module, qualname, Box::new(move |cx, args, kwargs| Ok(Box::new(new(cx, args, kwargs)?))));
        ClassBuilder { class: self.class_mut::<T>(), _type: std::marker::PhantomData }
    }

    fn insert<T: 'static>(&mut self, module: &str, qualname: &str, new: NewFn) {
        let class = Class {
            module: module.to_string(),
            qualname: qualname.to_string(),
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
            new,
            state: None,
            append: None,
            set_item: None,
            write: None,
        };
        let index = match self.by_name.get(module).and_then(|names| names.get(qualname)) {
            Some(&i) => {
                self.classes[i] = class;
                i
            }
            None => {
                self.classes.push(class);
                self.classes.len() - 1
            }
        };
        self.by_name.entry(module.to_string()).or_default().insert(qualname.to_string(), index);
        self.by_type.insert(TypeId::of::<T>(), index);
    }

    fn class_mut<T: 'static>(&mut self) -> &mut Class {
        let i = self.by_type[&TypeId::of::<T>()];
        &mut self.classes[i]
    }

    /// `old_module.old_name` is the class now registered (or to be
    /// registered) as `module.name`: records naming the old class load as
    /// the new one, and [`find_class_hook`](Self::find_class_hook) renames
    /// the old name while decoding, as pickles of classes that moved
    /// between modules need.
    pub fn alias(&mut self, old_module: &str, old_name: &str, module: &str, name: &str) -> &mut Self {
        self.aliases.entry(old_module.into()).or_default().insert(old_name.into(), (module.into(), name.into()));
        self
    }

    /// The name an alias stands for, or the name itself.
    pub fn resolve_name<'s>(&'s self, module: &'s str, name: &'s str) -> (&'s str, &'s str) {
        match self.lookup_alias(module, name) {
            Some((m, n)) => (m.as_str(), n.as_str()),
            None => (module, name),
        }
    }

    fn lookup_alias(&self, module: &str, name: &str) -> Option<&(String, String)> {
        self.aliases.get(module).and_then(|names| names.get(name))
    }

    fn index_of(&self, module: &str, name: &str) -> Option<usize> {
        let (module, name) = self.resolve_name(module, name);
        self.by_name.get(module).and_then(|names| names.get(name)).copied()
    }

    /// True when `module.name` (or the class an alias of it names) is registered.
    pub fn is_registered(&self, module: &str, name: &str) -> bool {
        self.index_of(module, name).is_some()
    }

    /// The decoder hook of this registry: aliases are renamed to the
    /// classes they stand for. With `strict`, every other global is refused
    /// unless it is a registered class, a core type, one of
    /// [`INSTANCE_GLOBALS`], or allowed by the list (`AllowList::new()` for
    /// none); `registered.__new__` (from `getattr`) is allowed for
    /// registered classes. Without `strict`, everything else is allowed.
    pub fn find_class_hook(&self, strict: Option<AllowList>) -> FindClass<'_> {
        Box::new(move |module: &str, name: &str| {
            if let Some((m, n)) = self.lookup_alias(module, name) {
                return Resolve::Rename { module: m.clone(), name: n.clone() };
            }
            let Some(list) = &strict else { return Resolve::Allow };
            let registered = |n: &str| self.by_name.get(module).is_some_and(|names| names.contains_key(n));
            if list.allows(module, name)
                || INSTANCE_GLOBALS.iter().any(|&(m, n)| m == module && n == name)
                || registered(name)
                || name.strip_suffix(".__new__").is_some_and(registered)
            {
                Resolve::Allow
            } else {
                Resolve::Refuse("not a registered class, nor in the allow list".into())
            }
        })
    }

    /// An [`Unpickler`] with default options and this registry's
    /// [`find_class_hook`](Self::find_class_hook); `strict` refuses every
    /// global but the registered classes, their aliases, core types and
    /// [`INSTANCE_GLOBALS`].
    pub fn unpickler(&self, strict: bool) -> Unpickler<'_> {
        let mut u = Unpickler::default();
        u.find_class(self.find_class_hook(strict.then(AllowList::new)));
        u
    }

    /// A loader over `graph`, for several loads or lists of objects.
    pub fn loader<'r, 'g>(&'r self, graph: &'r Graph<'g>) -> Loader<'r, 'g> {
        Loader { registry: self, graph, active: Vec::new() }
    }

    /// Loads `value` (a record of the class `T` is registered as, or of an
    /// alias of it) as a `T`.
    pub fn load<T: 'static>(&self, graph: &Graph<'_>, value: Value) -> Result<T, ConvertError> {
        self.loader(graph).load(value)
    }

    /// Loads `value` as whichever registered class its record names.
    pub fn load_any(&self, graph: &Graph<'_>, value: Value) -> Result<Box<dyn Any>, ConvertError> {
        self.loader(graph).load_any(value)
    }

    /// Writes `value` (of a registered type with a writer) into `graph`.
    pub fn write<T: 'static>(&self, graph: &mut Graph<'static>, value: &T) -> Result<Value, ConvertError> {
        let class =
            self.by_type.get(&TypeId::of::<T>()).map(|&i| &self.classes[i]).ok_or_else(|| {
                ConvertError::new(format!("{} is not a registered class", std::any::type_name::<T>()))
            })?;
        let write = class.write.as_ref().ok_or_else(|| {
            ConvertError::new(format!("{}.{} was registered without a writer", class.module, class.qualname))
        })?;
        write(value, graph)
    }

    /// A graph whose root is `value`, for [`dumps`](crate::dumps) or the
    /// [`Pickler`](crate::Pickler).
    pub fn to_graph<T: 'static>(&self, value: &T) -> Result<Graph<'static>, ConvertError> {
        let mut graph = Graph::new();
        let root = self.write(&mut graph, value)?;
        graph.set_root(root);
        graph.set_protocol(crate::encode::DEFAULT_PROTOCOL);
        Ok(graph)
    }

    /// The pickle of `value` at `protocol`, as CPython writes an instance
    /// of its class. A conversion error is [`ErrorKind::Unpicklable`](crate::ErrorKind::Unpicklable).
    pub fn dumps<T: 'static>(&self, value: &T, protocol: u8) -> crate::Result<Vec<u8>> {
        let graph =
            self.to_graph(value).map_err(|e| crate::Error::new(crate::ErrorKind::Unpicklable(e.to_string())))?;
        crate::dumps(&graph, protocol)
    }
}

/// How a record says its object is made: the class, and the arguments.
struct Construction<'r> {
    id: ObjId,
    module: &'r str,
    name: &'r str,
    args: Vec<Value>,
    kwargs: &'r [(Value, Value)],
}

/// Reads values of one graph for the hooks of registered classes: the
/// registry's classes ([`load`](Self::load)), attributes of a state
/// ([`attrs`](Self::attrs)), and plain values ([`str`](Self::str),
/// [`int`](Self::int), ...). It keeps the records being loaded, so a cycle
/// through registered objects is an error.
pub struct Loader<'r, 'g> {
    registry: &'r Registry,
    graph: &'r Graph<'g>,
    active: Vec<ObjId>,
}

impl<'r, 'g> Loader<'r, 'g> {
    /// Registered objects nested deeper than this are an error (loading
    /// recurses through the classes' hooks).
    pub const MAX_DEPTH: usize = 256;

    pub fn graph(&self) -> &'r Graph<'g> {
        self.graph
    }
    pub fn registry(&self) -> &'r Registry {
        self.registry
    }

    /// Loads `value` as a `T` (registered, and named by the record).
    pub fn load<T: 'static>(&mut self, value: Value) -> Result<T, ConvertError> {
        let want =
            self.registry.by_type.get(&TypeId::of::<T>()).copied().ok_or_else(|| {
                ConvertError::new(format!("{} is not a registered class", std::any::type_name::<T>()))
            })?;
        let c = self.construction(value)?;
        let found = self.registry.index_of(c.module, c.name);
        if found.map(|i| self.registry.classes[i].type_id) != Some(TypeId::of::<T>()) {
            let class = &self.registry.classes[want];
            return Err(ConvertError::new(format!(
                "expected an object of {}.{}, found one of {}.{}",
                class.module, class.qualname, c.module, c.name
            )));
        }
        let obj = self.build(found.expect("checked above"), c)?;
        Ok(*obj.downcast::<T>().expect("the class's own type"))
    }

    /// Loads `value` as whichever registered class its record names.
    pub fn load_any(&mut self, value: Value) -> Result<Box<dyn Any>, ConvertError> {
        let c = self.construction(value)?;
        let index = self
            .registry
            .index_of(c.module, c.name)
            .ok_or_else(|| ConvertError::new(format!("{}.{} is not a registered class", c.module, c.name)))?;
        self.build(index, c)
    }

    /// Loads every item of a list or tuple as a `T`.
    pub fn load_vec<T: 'static>(&mut self, value: Value) -> Result<Vec<T>, ConvertError> {
        let items = self.items(value)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, &item) in items.iter().enumerate() {
            out.push(self.load(item).map_err(|e| e.at(format!("[{i}]")))?);
        }
        Ok(out)
    }

    fn build(&mut self, index: usize, c: Construction<'r>) -> Result<Box<dyn Any>, ConvertError> {
        if self.active.contains(&c.id) {
            return Err(ConvertError::new(format!(
                "a cycle through registered objects: the {}.{} object (object {}) holds itself",
                c.module,
                c.name,
                c.id.index()
            )));
        }
        if self.active.len() >= Self::MAX_DEPTH {
            return Err(ConvertError::new(format!(
                "registered objects nested deeper than {} (at {}.{})",
                Self::MAX_DEPTH,
                c.module,
                c.name
            )));
        }
        self.active.push(c.id);
        let result = self.build_inner(index, &c);
        self.active.pop();
        result
    }

    fn build_inner(&mut self, index: usize, c: &Construction<'r>) -> Result<Box<dyn Any>, ConvertError> {
        let (registry, graph) = (self.registry, self.graph);
        let class = &registry.classes[index];
        let Some(Object::Record(record)) = graph.try_get(c.id) else { unreachable!("a construction is of a record") };
        let mut obj = (class.new)(self, &c.args, c.kwargs)?;
        if let Some(state) = record.state {
            match &class.state {
                Some(f) => f(&mut *obj, self, state)?,
                None => return Err(self.refused(&class.module, &class.qualname, "state (BUILD)", state)),
            }
        }
        for (i, &item) in record.items.iter().enumerate() {
            match &class.append {
                Some(f) => f(&mut *obj, self, item, None).map_err(|e| e.at(format!("[{i}]")))?,
                None => return Err(self.refused(&class.module, &class.qualname, "items (APPEND)", item)),
            }
        }
        for &(key, value) in &record.dict_items {
            match &class.set_item {
                Some(f) => f(&mut *obj, self, key, Some(value))?,
                None => return Err(self.refused(&class.module, &class.qualname, "dict items (SETITEM)", key)),
            }
        }
        Ok(obj)
    }

    /// Reads the class and constructor arguments of the record `value`.
    fn construction(&self, value: Value) -> Result<Construction<'r>, ConvertError> {
        let graph = self.graph;
        let id = value.obj().filter(|&id| matches!(graph.try_get(id), Some(Object::Record(_))));
        let Some(id) = id else { return Err(self.unexpected("an object of a registered class", value)) };
        let Some(Object::Record(r)) = graph.try_get(id) else { unreachable!("checked above") };
        let args = graph.as_tuple(r.args).unwrap_or(&[]);
        let mut kwargs: &'r [(Value, Value)] = match r.kwargs.and_then(|k| graph.object(k)) {
            Some(Object::Dict(d)) => d.entries(),
            _ => &[],
        };
        let (class, args): (Value, Vec<Value>) = match r.kind {
            RecordKind::NewObj | RecordKind::NewObjEx | RecordKind::Inst | RecordKind::Obj => {
                (r.callable, args.to_vec())
            }
            RecordKind::Reduce => match graph.object(r.callable) {
                Some(Object::Global(g)) if g.is("copyreg", "_reconstructor") => match args {
                    [cls, _base, Value::None] => (*cls, Vec::new()),
                    [cls, _base, state] => (*cls, vec![*state]),
                    _ => return Err(ConvertError::new("copyreg._reconstructor takes 3 arguments")),
                },
                Some(Object::Global(g)) if g.is("copyreg", "__newobj__") => match args {
                    [cls, rest @ ..] => (*cls, rest.to_vec()),
                    [] => return Err(ConvertError::new("copyreg.__newobj__ without a class")),
                },
                Some(Object::Global(g)) if g.is("copyreg", "__newobj_ex__") => match args {
                    [cls, a, k] => {
                        kwargs = match graph.object(*k) {
                            Some(Object::Dict(d)) => d.entries(),
                            _ => return Err(self.unexpected("the kwargs dict of copyreg.__newobj_ex__", *k)),
                        };
                        (*cls, self.items(*a)?.to_vec())
                    }
                    _ => return Err(ConvertError::new("copyreg.__newobj_ex__ takes 3 arguments")),
                },
                Some(Object::Global(_)) => (r.callable, args.to_vec()),
                Some(Object::Record(p)) if args.is_empty() && self.is_new_partial(p) => {
                    // functools.partial(cls.__new__, cls, *args, **kwargs)(), with the
                    // partial's state (func, args, kwargs, dict) set by BUILD.
                    let state = p.state.and_then(|s| graph.as_tuple(s)).unwrap_or(&[]);
                    let (func, pargs) = (state[0], graph.as_tuple(state[1]).unwrap_or(&[]));
                    kwargs = match state.get(2).and_then(|&k| graph.object(k)) {
                        Some(Object::Dict(d)) => d.entries(),
                        _ => &[],
                    };
                    let g = graph.as_global(func).expect("is_new_partial checked it");
                    let name = g.name.strip_suffix(".__new__").expect("is_new_partial checked it");
                    let rest = pargs.get(1..).unwrap_or(&[]).to_vec();
                    return Ok(Construction { id, module: &g.module, name, args: rest, kwargs });
                }
                _ => return Err(self.unexpected("an object made by calling a class", r.callable)),
            },
        };
        match graph.as_global(class) {
            Some(g) => Ok(Construction { id, module: &g.module, name: &g.name, args, kwargs }),
            None => Err(self.unexpected("a class (a global)", class)),
        }
    }

    /// `functools.partial` of `cls.__new__` with `cls` as its first argument.
    fn is_new_partial(&self, p: &crate::Record) -> bool {
        let graph = self.graph;
        if !graph.as_global(p.callable).is_some_and(|g| g.is("functools", "partial")) {
            return false;
        }
        let Some(state) = p.state.and_then(|s| graph.as_tuple(s)) else { return false };
        let (Some(&func), Some(&pargs)) = (state.first(), state.get(1)) else { return false };
        let Some(g) = graph.as_global(func) else { return false };
        let Some(cls_name) = g.name.strip_suffix(".__new__") else { return false };
        let cls = graph.as_tuple(pargs).and_then(|a| a.first()).and_then(|&c| graph.as_global(c));
        cls.is_some_and(|c| c.module == g.module && c.name == cls_name)
    }

    // --- reading values -------------------------------------------------

    /// Python's type name of a value, for messages (`int`, `dict`,
    /// `__main__.Greeter object`, `global os.system`).
    pub fn type_name(&self, value: Value) -> String {
        super::describe(self.graph, value)
    }

    /// "expected `what`, found a ...".
    pub fn unexpected(&self, what: &str, found: Value) -> ConvertError {
        ConvertError::new(format!("expected {what}, found {}", self.type_name(found)))
    }

    fn refused(&self, module: &str, qualname: &str, what: &str, found: Value) -> ConvertError {
        ConvertError::new(format!(
            "{module}.{qualname} takes no {what}, but the pickle gives it ({})",
            self.type_name(found)
        ))
    }

    /// A `str`.
    pub fn str(&self, value: Value) -> Result<&'r str, ConvertError> {
        self.graph.as_str(value).ok_or_else(|| self.unexpected("a str", value))
    }
    /// A `str`, owned.
    pub fn string(&self, value: Value) -> Result<String, ConvertError> {
        self.str(value).map(String::from)
    }
    /// An `int` that fits in `i64` (a bool is one, as in Python).
    pub fn int(&self, value: Value) -> Result<i64, ConvertError> {
        match value {
            Value::Int(i) => Ok(i),
            Value::Bool(b) => Ok(b as i64),
            _ => Err(self.unexpected("an int", value)),
        }
    }
    /// A `float`, or an `int` as one.
    pub fn float(&self, value: Value) -> Result<f64, ConvertError> {
        match value {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            _ => Err(self.unexpected("a float", value)),
        }
    }
    /// A `bool`.
    pub fn bool(&self, value: Value) -> Result<bool, ConvertError> {
        match value {
            Value::Bool(b) => Ok(b),
            _ => Err(self.unexpected("a bool", value)),
        }
    }
    /// The items of a list or a tuple.
    pub fn items(&self, value: Value) -> Result<&'r [Value], ConvertError> {
        match self.graph.object(value) {
            Some(Object::List(v)) | Some(Object::Tuple(v)) => Ok(v),
            _ => Err(self.unexpected("a list or tuple", value)),
        }
    }
    /// The entries of a dict, in order.
    pub fn dict(&self, value: Value) -> Result<&'r [(Value, Value)], ConvertError> {
        match self.graph.object(value) {
            Some(Object::Dict(d)) => Ok(d.entries()),
            _ => Err(self.unexpected("a dict", value)),
        }
    }
    /// Any [`FromPickle`] type.
    pub fn convert<T: FromPickle<'g>>(&self, value: Value) -> Result<T, ConvertError> {
        T::from_pickle(self.graph, value)
    }

    /// The attributes of an object's state: a `__dict__` (dict with str
    /// keys), or `(__dict__, slots)` as objects with `__slots__` have it
    /// (either part may be None), attributes of both in order.
    pub fn attrs(&self, state: Value) -> Result<Attrs<'r>, ConvertError> {
        let mut out = Vec::new();
        let mut add = |d: Value| -> Result<(), ConvertError> {
            for &(k, v) in self.dict(d)? {
                out.push((self.str(k).map_err(|e| e.at("(attribute name)"))?, v));
            }
            Ok(())
        };
        let dict_or_none = |v: Value| v == Value::None || matches!(self.graph.object(v), Some(Object::Dict(_)));
        match self.graph.object(state) {
            Some(Object::Dict(_)) => add(state)?,
            Some(Object::Tuple(t)) if t.len() == 2 && t.iter().all(|&v| dict_or_none(v)) => {
                for &part in t.iter() {
                    if part != Value::None {
                        add(part)?;
                    }
                }
            }
            _ => return Err(self.unexpected("a __dict__ state (a dict, or (dict, slots))", state)),
        }
        Ok(Attrs { attrs: out, describe: self.graph })
    }
}

/// The attributes of an object's state, from [`Loader::attrs`].
pub struct Attrs<'r> {
    attrs: Vec<(&'r str, Value)>,
    describe: &'r dyn TypeNames,
}

/// Type names for messages (keeps [`Attrs`] free of the graph's lifetime).
trait TypeNames {
    fn describe(&self, v: Value) -> String;
    fn text(&self, v: Value) -> Option<&str>;
}

impl TypeNames for Graph<'_> {
    fn describe(&self, v: Value) -> String {
        super::describe(self, v)
    }
    fn text(&self, v: Value) -> Option<&str> {
        self.as_str(v)
    }
}


impl<'r> Attrs<'r> {
    /// The attribute `name` (the last one, if a slot and the dict both have it).
    pub fn get(&self, name: &str) -> Option<Value> {
        self.attrs.iter().rev().find(|(k, _)| *k == name).map(|&(_, v)| v)
    }
    /// The attribute `name`, or an error at `.name`.
    pub fn require(&self, name: &str) -> Result<Value, ConvertError> {
        self.get(name).ok_or_else(|| ConvertError::new(format!("missing attribute {name:?}")))
    }
    /// The `str` attribute `name`, owned.
    pub fn string(&self, name: &str) -> Result<String, ConvertError> {
        let v = self.require(name)?;
        match self.describe.text(v) {
            Some(s) => Ok(s.to_string()),
            None => Err(ConvertError::new(format!("expected a str, found {}", self.describe.describe(v)))
                .at(format!(".{name}"))),
        }
    }
    /// Every attribute, in the state's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'r str, Value)> + '_ {
        self.attrs.iter().copied()
    }
    pub fn len(&self) -> usize {
        self.attrs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

/// An instance of `module.qualname` as CPython pickles an instance of a
/// plain class (`object.__reduce_ex__`): `copyreg._reconstructor(cls,
/// object, None)` below protocol 2, `cls.__new__(cls)` (NEWOBJ) from 2 on,
/// then BUILD with `state` (none for an empty `__dict__`, as CPython).
pub fn instance(graph: &mut Graph<'static>, module: &str, qualname: &str, state: Option<Value>) -> Value {
    let reconstructor = graph.global("copyreg", "_reconstructor");
    let class = graph.global(module, qualname);
    let object = graph.global("builtins", "object");
    let obj = graph.reduce(reconstructor, [class, object, Value::None]);
    if let (Some(state), Some(r)) = (state, graph.record_mut(obj)) {
        r.state = Some(state);
    }
    obj
}

/// A `__dict__`: a dict of attribute names (str) to values.
pub fn attrs_dict<'k>(
    graph: &mut Graph<'static>,
    attrs: impl IntoIterator<Item = (&'k str, Value)>,
) -> Result<Value, ConvertError> {
    let entries: Vec<(Value, Value)> = attrs.into_iter().map(|(k, v)| (graph.str(k.to_string()), v)).collect();
    graph.dict(entries).map_err(|e| ConvertError::new(e.to_string()))
}
