//! Deserializes arbitrary bytes with pyckle::serde::from_slice into a
//! recursive "any value" type (deserialize_any everywhere) and into a
//! struct of typed fields, with and without the options that change the
//! walk. Nothing may panic, hang, overflow the stack or abort.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyckle::serde::{from_slice, DeOptions};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// Any value, through deserialize_any at every level.
#[allow(dead_code)]
enum Any {
    Unit,
    Bool(bool),
    I(i128),
    U(u128),
    F(f64),
    Str(String),
    Bytes(Vec<u8>),
    Seq(Vec<Any>),
    Map(Vec<(Any, Any)>),
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Any;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_unit<E>(self) -> Result<Any, E> {
        Ok(Any::Unit)
    }
    fn visit_none<E>(self) -> Result<Any, E> {
        Ok(Any::Unit)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Any, E> {
        Ok(Any::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Any, E> {
        Ok(Any::I(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Any, E> {
        Ok(Any::I(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Any, E> {
        Ok(Any::U(v.into()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Any, E> {
        Ok(Any::U(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Any, E> {
        Ok(Any::F(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Any, E> {
        Ok(Any::Str(v.into()))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Any, E> {
        Ok(Any::Bytes(v.into()))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Any, D::Error> {
        Any::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Any, D::Error> {
        Any::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Any, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = a.next_element()? {
            v.push(x);
        }
        Ok(Any::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Any, A::Error> {
        let mut v = Vec::new();
        while let Some(kv) = a.next_entry()? {
            v.push(kv);
        }
        Ok(Any::Map(v))
    }
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
enum Kind<'a> {
    A,
    B(i64),
    C(String, Option<f32>),
    D { x: u8, #[serde(borrow)] y: &'a str },
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Typed<'a> {
    name: String,
    #[serde(borrow)]
    tag: Option<&'a str>,
    count: u32,
    weight: f64,
    flags: Vec<bool>,
    pair: (i8, char),
    kinds: Vec<Kind<'a>>,
    map: HashMap<(i64, i64), Vec<u8>>,
    #[serde(default)]
    nested: Option<Box<Typed<'a>>>,
}

fuzz_target!(|data: &[u8]| {
    let mut decode = pyckle::DecodeOptions::default();
    decode.limits.max_alloc = 64 << 20;
    decode.limits.max_depth = 100_000;
    let base = DeOptions::new().decode_options(decode).max_values(2_000_000);
    let _ = from_slice::<Any>(data, base.clone());
    let _ = from_slice::<Any>(data, base.clone().replace_recursive_structures().replace_unresolved_globals().keep_persistent_ids());
    let _ = from_slice::<Typed>(data, base.clone());
    let _ = from_slice::<Typed>(data, base.decode_strings().replace_recursive_structures());
});
