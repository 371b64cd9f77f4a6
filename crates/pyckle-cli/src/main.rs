//! `pyckle`: read Python pickles without Python.
//!
//! ```text
//! pyckle json [--canonical | --pretty] FILE   every pickle in FILE as JSON, one per line
//! pyckle dis [-a] [-l INDENT] FILE             what `python3 -m pickletools FILE` prints
//! pyckle info FILE                             a summary of every pickle in FILE
//! pyckle recode [-p N] -o OUT FILE             every pickle in FILE written again, as CPython writes it
//! pyckle from-json [-p N] -o OUT FILE          the pickle of each canonical JSON document in FILE
//! pyckle torch ls [--json] FILE                every tensor of a PyTorch checkpoint: name, dtype, shape
//! pyckle torch to-safetensors FILE OUT         a PyTorch checkpoint's tensors as a safetensors file
//! ```
//!
//! FILE `-` is standard input. On a malformed pickle the exit code is 1
//! and stderr gets one line: `pyckle: FILE: at byte N (opcode X): problem`.
//! A closed stdout (`pyckle json big.pkl | head -1`) ends the program quietly.

mod dis;
mod from_json;
mod info;
mod json;
mod recode;
mod torch;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, Read, Write};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pyckle", version, about = "Read Python pickles without Python: JSON, disassembly, statistics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every pickle in FILE as JSON, one document per line.
    Json(json::JsonArgs),
    /// Disassemble the first pickle in FILE exactly as `python3 -m pickletools FILE` does.
    Dis(dis::DisArgs),
    /// Summarize every pickle in FILE: protocol, size, opcodes, objects, globals, depth.
    Info(info::InfoArgs),
    /// Decode every pickle in FILE and write it again, as CPython would write what it loads.
    Recode(recode::RecodeArgs),
    /// Write the pickle of each canonical JSON document in FILE (what `json --canonical` prints).
    FromJson(from_json::FromJsonArgs),
    /// PyTorch checkpoints: list their tensors, convert them to safetensors.
    Torch(torch::TorchArgs),
}

/// `pickle.Unpickler`'s decoding options, shared by the subcommands that decode.
#[derive(Args, Clone, Debug)]
pub struct DecodeArgs {
    /// How Python 2 `str` objects are decoded.
    #[arg(long, value_enum, default_value_t = Encoding::Ascii)]
    encoding: Encoding,
    /// What to do with Python 2 `str` bytes the encoding refuses.
    #[arg(long, value_enum, default_value_t = Errors::Strict)]
    errors: Errors,
    /// Keep Python 2 module names (`__builtin__`, `copy_reg`, ...) as they are.
    #[arg(long)]
    no_fix_imports: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Encoding {
    #[value(alias = "ASCII")]
    Ascii,
    #[value(alias = "latin-1", alias = "iso-8859-1")]
    Latin1,
    #[value(alias = "utf-8")]
    Utf8,
    /// Keep them as bytes.
    Bytes,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Errors {
    Strict,
    Replace,
    Ignore,
    Surrogateescape,
}

impl DecodeArgs {
    /// The library's options for these flags (default limits).
    pub fn options(&self) -> pyckle::DecodeOptions {
        pyckle::DecodeOptions {
            encoding: match self.encoding {
                Encoding::Ascii => pyckle::StringEncoding::Ascii,
                Encoding::Latin1 => pyckle::StringEncoding::Latin1,
                Encoding::Utf8 => pyckle::StringEncoding::Utf8,
                Encoding::Bytes => pyckle::StringEncoding::Bytes,
            },
            errors: match self.errors {
                Errors::Strict => pyckle::EncodingErrors::Strict,
                Errors::Replace => pyckle::EncodingErrors::Replace,
                Errors::Ignore => pyckle::EncodingErrors::Ignore,
                Errors::Surrogateescape => pyckle::EncodingErrors::SurrogateEscape,
            },
            fix_imports: !self.no_fix_imports,
            ..pyckle::DecodeOptions::default()
        }
    }
}

/// Why a subcommand stopped early.
#[derive(Debug)]
pub enum Failure {
    /// Report `pyckle: <message>` on stderr and exit 1.
    Message(String),
    /// Stdout was closed (EPIPE): exit quietly.
    ClosedOutput,
}

impl Failure {
    /// A failure about FILE: `FILE: what`.
    pub fn file(name: &str, what: impl std::fmt::Display) -> Self {
        Failure::Message(format!("{name}: {what}"))
    }

    /// A failure to write to stdout: quiet when stdout was closed.
    pub fn output(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::ClosedOutput
        } else {
            Failure::Message(format!("writing the output: {e}"))
        }
    }

    /// A decoding error of the pickle that starts `base` bytes into FILE.
    pub fn decode(name: &str, e: pyckle::Error, base: u64) -> Self {
        Failure::file(name, e.shift(base))
    }
}

/// Runs `write` with a buffered standard output, then flushes it: what was
/// written before a failure comes out before the failure's message.
pub fn with_stdout(write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>) -> Result<(), Failure> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = write(&mut out);
    let flushed = out.flush().map_err(Failure::output);
    result.and(flushed)
}

/// Runs `step` on each pickle of `data`, back to back, until the end
/// (on an empty `data` once, so that it reports the missing pickle):
/// `step(rest, base, index)` gets the bytes from the pickle's start, where
/// it starts in the file and its number, and returns how many bytes the
/// pickle took.
pub fn each_pickle(
    data: &[u8],
    mut step: impl FnMut(&[u8], u64, usize) -> Result<usize, Failure>,
) -> Result<(), Failure> {
    let mut rest = data;
    let mut base = 0u64;
    let mut index = 0;
    // At least once: an empty file is not a pickle, and says so.
    loop {
        let used = step(rest, base, index)?;
        base += used as u64;
        rest = rest.get(used..).unwrap_or(&[]);
        index += 1;
        if rest.is_empty() || used == 0 {
            return Ok(());
        }
    }
}

/// The name FILE is shown by in messages.
pub fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// The whole content of FILE (`-`: standard input).
pub fn read_input(path: &str) -> Result<Vec<u8>, Failure> {
    let result = if path == "-" {
        let mut data = Vec::new();
        io::stdin().lock().read_to_end(&mut data).map(|_| data)
    } else {
        std::fs::read(path)
    };
    result.map_err(|e| Failure::file(display_name(path), e))
}

/// Writes `data` to the file OUT (`-`: standard output).
pub fn write_output(path: &str, data: &[u8]) -> Result<(), Failure> {
    if path == "-" {
        return with_stdout(|out| out.write_all(data).map_err(Failure::output));
    }
    std::fs::write(path, data).map_err(|e| Failure::file(path, e))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Json(args) => json::run(args),
        Command::Dis(args) => dis::run(args),
        Command::Info(args) => info::run(args),
        Command::Recode(args) => recode::run(args),
        Command::FromJson(args) => from_json::run(args),
        Command::Torch(args) => torch::run(args),
    };
    match result {
        Ok(()) | Err(Failure::ClosedOutput) => ExitCode::SUCCESS,
        Err(Failure::Message(m)) => {
            // Nothing more to do if stderr is closed too.
            use std::io::Write;
            let _ = writeln!(io::stderr().lock(), "pyckle: {m}");
            ExitCode::FAILURE
        }
    }
}
