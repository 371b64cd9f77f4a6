//! Friendly JSON (being written).
