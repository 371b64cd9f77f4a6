//! `pyckle info` statistics (being written).
