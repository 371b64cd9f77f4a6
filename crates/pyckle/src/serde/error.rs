//! The error of serde conversions: what went wrong, and where inside the value.

use std::fmt;

/// A serde error: the message, and the path inside the value where it
/// happened (`layers[2].weight`; empty at the top).
#[derive(Debug)]
pub struct Error {
    path: String,
    message: String,
    /// The decode or encode error underneath, if that is what failed.
    source: Option<crate::Error>,
}

/// `Result` with a serde [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error { path: String::new(), message: message.into(), source: None }
    }
    /// Where inside the value the error happened: `.field`, `[3]`, `["key"]` steps.
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Prefixes the path with one more step (`.name`, `[3]`), as the error
    /// bubbles out of a nested value.
    pub fn at(mut self, step: impl fmt::Display) -> Self {
        self.path = format!("{step}{}", self.path);
        self
    }
    /// The pickle decode or encode error, when that is what failed.
    pub fn pickle_error(&self) -> Option<&crate::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.strip_prefix('.').unwrap_or(&self.path);
        if path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{path}: {}", self.message)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<crate::Error> for Error {
    fn from(e: crate::Error) -> Self {
        Error { path: String::new(), message: e.to_string(), source: Some(e) }
    }
}

impl From<crate::classes::ConvertError> for Error {
    fn from(e: crate::classes::ConvertError) -> Self {
        Error { path: e.path, message: e.message, source: None }
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
    // What a visitor found, in Python terms (`str "abc"`, `int 5`).
    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format!("invalid type: {}, expected {exp}", super::de::python_unexpected(&unexp)))
    }
    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Error::new(format!("invalid value: {}, expected {exp}", super::de::python_unexpected(&unexp)))
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(msg.to_string())
    }
}
