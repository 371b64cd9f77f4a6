//! numpy arrays, scalars and dtypes.
