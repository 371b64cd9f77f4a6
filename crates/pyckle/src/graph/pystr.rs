//! Python `str`: a sequence of code points, lone surrogates included.

use std::borrow::Cow;

/// A Python `str`, held as "generalized UTF-8": UTF-8, except that lone
/// surrogates (U+D800..U+DFFF), which Python strings may hold, appear as
/// their three-byte forms, exactly as CPython's `surrogatepass` writes
/// them. Byte equality is code-point equality. Most strings are plain
/// UTF-8 and [`PyStr::as_str`] gives them as `&str`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyStr<'a> {
    bytes: Cow<'a, [u8]>,
    utf8: bool,
}

impl<'a> PyStr<'a> {
    /// A string from Rust text.
    pub fn new(s: impl Into<Cow<'a, str>>) -> Self {
        let bytes = match s.into() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        PyStr { bytes, utf8: true }
    }

    /// A string from generalized UTF-8, checked.
    pub fn from_wtf8(bytes: Cow<'a, [u8]>) -> Result<Self, String> {
        let utf8 = crate::literal::check_utf8_surrogatepass(&bytes)?;
        Ok(PyStr { bytes, utf8 })
    }

    /// A string from bytes already checked by `check_utf8_surrogatepass`.
    pub(crate) fn from_checked(bytes: Cow<'a, [u8]>, utf8: bool) -> Self {
        PyStr { bytes, utf8 }
    }

    /// The text, when the string holds no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        if self.utf8 {
            std::str::from_utf8(&self.bytes).ok()
        } else {
            None
        }
    }

    /// The text, lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match self.as_str() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.code_points().map(|c| char::from_u32(c).unwrap_or('\u{fffd}')).collect()),
        }
    }

    /// The text with the lifetime of the pickle's input, when it is
    /// borrowed from it and holds no lone surrogate (serde's borrowed `&str`).
    pub fn borrowed_str(&self) -> Option<&'a str> {
        match self.bytes {
            Cow::Borrowed(b) if self.utf8 => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The generalized UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// True when the string holds no lone surrogate.
    pub fn is_utf8(&self) -> bool {
        self.utf8
    }

    /// The code points, surrogates included.
    pub fn code_points(&self) -> impl Iterator<Item = u32> + '_ {
        crate::pyrepr::code_points(&self.bytes)
    }

    /// The number of code points (Python's `len()`).
    pub fn char_len(&self) -> usize {
        self.bytes.iter().filter(|&&b| (b & 0xc0) != 0x80).count()
    }

    pub fn into_owned(self) -> PyStr<'static> {
        PyStr { bytes: Cow::Owned(self.bytes.into_owned()), utf8: self.utf8 }
    }
}

impl std::fmt::Debug for PyStr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}
