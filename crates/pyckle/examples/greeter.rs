//! The talk's Greeter, brought to life in Rust.
//!
//! Python (tests/fixtures/generate_talk.py):
//!
//! ```python
//! class Greeter:
//!     def __init__(self, name):
//!         self._name = name
//!     def greet(self):
//!         return "Hi, %s!" % self._name
//!
//! pickle.dumps(Greeter('Gopher'), protocol=p)   # p = 0..5
//! ```
//!
//! Rust, two ways: (a) one `#[derive(Deserialize)]` and `pyckle::serde`,
//! (b) a class registered by hand with the registry, as the talk did in Go.
//!
//!     cargo run -p pyckle --example greeter [DIR]
//!
//! reads `greeter_p0.pkl` .. `greeter_p5.pkl` from DIR (default: the
//! committed tests/fixtures/talk) and prints one line per protocol and way.

use pyckle::classes::registry::{self, Loader, PyClass, Registry};
use pyckle::classes::ConvertError;
use pyckle::{Graph, Value};
use std::path::{Path, PathBuf};

/// (a) The derived struct: the pickle's `__dict__` fills its fields.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct Greeter {
    #[serde(rename = "_name")]
    name: String,
}

#[cfg(feature = "serde")]
impl Greeter {
    fn greet(&self) -> String {
        format!("Hi, {}!", self.name)
    }
}

/// (b) The hand-registered class: a constructor hook and a `__dict__` setter.
/// (The registry's tests use this one too.)
#[derive(Debug, PartialEq)]
pub struct HandGreeter {
    pub name: String,
}

impl HandGreeter {
    fn greet(&self) -> String {
        format!("Hi, {}!", self.name)
    }
}

impl PyClass for HandGreeter {
    const MODULE: &'static str = "__main__";
    const QUALNAME: &'static str = "Greeter";

    // Greeter.__new__(Greeter): the pickle passes no arguments (__init__ does not run).
    fn new(_: &mut Loader, args: &[Value], kwargs: &[(Value, Value)]) -> Result<Self, ConvertError> {
        if !args.is_empty() || !kwargs.is_empty() {
            return Err(ConvertError::new("Greeter.__new__ takes no arguments"));
        }
        Ok(HandGreeter { name: String::new() })
    }

    fn set_state(&mut self, cx: &mut Loader, state: Value) -> Result<(), ConvertError> {
        self.name = cx.attrs(state)?.string("_name")?;
        Ok(())
    }

    fn to_pickle(&self, graph: &mut Graph<'static>) -> Result<Value, ConvertError> {
        let name = graph.str(self.name.clone());
        let state = registry::attrs_dict(graph, [("_name", name)])?;
        Ok(registry::instance(graph, Self::MODULE, Self::QUALNAME, Some(state)))
    }
}

/// One greeting per protocol and way, in order; an error is printed
/// instead of a greeting.
pub fn greetings(dir: &Path) -> Vec<(u8, &'static str, Result<String, String>)> {
    let mut classes = Registry::new();
    classes.register::<HandGreeter>();
    let mut out = Vec::new();
    for p in 0..=5u8 {
        let data = match std::fs::read(dir.join(format!("greeter_p{p}.pkl"))) {
            Ok(d) => d,
            Err(e) => {
                out.push((p, "file", Err(e.to_string())));
                continue;
            }
        };
        #[cfg(feature = "serde")]
        {
            let derived = pyckle::serde::from_slice::<Greeter>(&data, pyckle::serde::DeOptions::new());
            out.push((p, "derive", derived.map(|g| g.greet()).map_err(|e| e.to_string())));
        }
        let by_hand = classes
            .unpickler(true)
            .loads(&data)
            .map_err(|e| e.to_string())
            .and_then(|graph| classes.load::<HandGreeter>(&graph, graph.root()).map_err(|e| e.to_string()));
        out.push((p, "registry", by_hand.map(|g| g.greet())));
    }
    out
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/talk"));
    let mut failed = false;
    for (p, way, greeting) in greetings(&dir) {
        match greeting {
            Ok(s) => println!("protocol {p}, {way}: {s}"),
            Err(e) => {
                failed = true;
                println!("protocol {p}, {way}: error: {e}");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
