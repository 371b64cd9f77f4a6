//! Errors of reading checkpoints.

/// What went wrong opening a checkpoint or reading a tensor.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A pickle could not be decoded (the container's own pickles report
    /// this as [`Error::Malformed`], naming which pickle).
    #[error("pickle: {0}")]
    Pickle(#[from] pyckle::Error),
    /// The container (zip, legacy stream, tar) is not what torch writes.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// A tensor refers to a storage the checkpoint does not have.
    #[error("storage {0:?} is not in the checkpoint")]
    MissingStorage(String),
    /// A tensor's view reaches outside its storage, or its sizes overflow.
    /// `name` is the tensor's name in the checkpoint, when known.
    #[error("tensor {name}: {problem}")]
    BadTensor { name: String, problem: String },
    /// Something torch can write that this crate does not read (an encrypted
    /// or otherwise compressed zip entry, an unknown storage class, ...).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
