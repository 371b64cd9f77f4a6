//! The user-class registry.
