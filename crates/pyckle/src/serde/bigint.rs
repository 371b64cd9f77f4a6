//! Python ints of any size as [`num_bigint::BigInt`] fields:
//! `#[serde(with = "pyckle::serde::bigint")]`.
//!
//! Deserializing asks for the newtype struct [`BIGINT_MAGIC`]
//! (`"$pyckle::BigInt"`), which pyckle's Deserializer answers with the
//! int's decimal digits; other deserializers (serde_json...) are accepted
//! too, with an int (`i64`, `u64`, `i128`, `u128`) or a decimal str.
//! Serializing writes the newtype struct `"$pyckle::BigInt"` holding the
//! decimal digits, which pyckle's Serializer turns into a Python int (and
//! other serializers, which see a newtype, into a str).
//!
//! ```
//! use num_bigint::BigInt;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Big {
//!     #[serde(with = "pyckle::serde::bigint")]
//!     n: BigInt,
//! }
//!
//! // pickle.dumps({'n': 2**100}, protocol=2)
//! let data = b"\x80\x02}q\x00X\x01\x00\x00\x00nq\x01\x8a\x0d\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10s.";
//! let big: Big = pyckle::serde::from_slice(data, Default::default())?;
//! assert_eq!(big.n, BigInt::from(2).pow(100));
//! # Ok::<(), pyckle::serde::Error>(())
//! ```

pub use super::de::BIGINT_MAGIC;
use num_bigint::BigInt;
use serde::de::{self, Visitor};
use std::fmt;

/// Serializes `n` as the newtype struct [`BIGINT_MAGIC`] of its decimal digits.
pub fn serialize<S: serde::Serializer>(n: &BigInt, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(BIGINT_MAGIC, &n.to_string())
}

/// Deserializes an int of any size (see the module documentation).
pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BigInt, D::Error> {
    deserializer.deserialize_newtype_struct(BIGINT_MAGIC, BigIntVisitor)
}

struct BigIntVisitor;

impl<'de> Visitor<'de> for BigIntVisitor {
    type Value = BigInt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an int")
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<BigInt, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<BigInt, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<BigInt, E> {
        Ok(v.into())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<BigInt, E> {
        Ok(v.into())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<BigInt, E> {
        Ok(v.into())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<BigInt, E> {
        v.parse().map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}
