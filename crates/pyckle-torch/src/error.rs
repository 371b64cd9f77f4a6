//! Errors of reading checkpoints.

/// What went wrong opening a checkpoint or reading a tensor.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("pickle: {0}")]
    Pickle(#[from] pyckle::Error),
    /// The container (zip, legacy stream, tar) is not what torch writes.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// A tensor refers to a storage the checkpoint does not have.
    #[error("storage {0:?} is not in the checkpoint")]
    MissingStorage(String),
    /// A tensor's view reaches outside its storage, or its sizes overflow.
    #[error("tensor {name}: {problem}")]
    BadTensor { name: String, problem: String },
    #[error("unsupported: {0}")]
    Unsupported(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
