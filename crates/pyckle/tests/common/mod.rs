//! What the fixture tests share: where the fixtures are, MANIFEST.tsv, and
//! the decoding options each fixture's flags ask for.
#![allow(dead_code)]

use pyckle::{DecodeOptions, StringEncoding};
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// (name, flags) of every good fixture, from MANIFEST.tsv.
pub fn manifest() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixtures().join("MANIFEST.tsv")).expect("tests/fixtures/MANIFEST.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let flags = cols.get(4).map(|f| f.split(',').filter(|s| !s.is_empty()).map(String::from).collect());
            (cols[0].to_string(), flags.unwrap_or_default())
        })
        .collect()
}

pub fn options(flags: &[String]) -> DecodeOptions {
    let mut o = DecodeOptions::default();
    if flags.iter().any(|f| f == "latin1") {
        o.encoding = StringEncoding::Latin1;
    }
    if flags.iter().any(|f| f == "bytes") {
        o.encoding = StringEncoding::Bytes;
    }
    o
}
