//! A drop-in for the serde-pickle crate.
