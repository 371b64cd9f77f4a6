//! `pyckle torch`: PyTorch checkpoints (every format `torch.save` writes).
//!
//! ```text
//! pyckle torch ls [--json] FILE            every tensor: name, dtype, shape
//! pyckle torch to-safetensors FILE OUT     the tensors as a safetensors file
//! ```

use crate::{with_stdout, Failure};
use clap::{Args, Subcommand};
use pyckle_torch::safetensors::{self, OnUnsupported};
use pyckle_torch::Checkpoint;
use std::io::{IsTerminal, Write};
use std::path::Path;

#[derive(Args, Debug)]
pub struct TorchArgs {
    #[command(subcommand)]
    command: TorchCommand,
}

#[derive(Subcommand, Debug)]
enum TorchCommand {
    /// List every tensor of a checkpoint: name, dtype, shape (no tensor data is read).
    Ls(LsArgs),
    /// Write the tensors of a checkpoint as a safetensors file (views made
    /// contiguous; the checkpoint's scalars kept as metadata).
    ToSafetensors(ToSafetensorsArgs),
}

#[derive(Args, Debug)]
struct LsArgs {
    /// Print a JSON array of `{"name", "dtype", "shape"}` (torch's dtype names).
    #[arg(long)]
    json: bool,
    /// The checkpoint (`.pt`, `.pth`, `.bin`, `.tar`...).
    file: String,
}

#[derive(Args, Debug)]
struct ToSafetensorsArgs {
    /// Leave out the tensors safetensors cannot hold (complex, quantized,
    /// float8 fnuz) with a warning, instead of stopping.
    #[arg(long)]
    skip_unsupported: bool,
    /// Do not keep the checkpoint's scalars (`epoch`, ...) in `__metadata__`.
    #[arg(long)]
    no_metadata: bool,
    /// The checkpoint.
    file: String,
    /// The safetensors file to write (replaced only when complete).
    out: String,
}

pub fn run(args: &TorchArgs) -> Result<(), Failure> {
    match &args.command {
        TorchCommand::Ls(args) => ls(args),
        TorchCommand::ToSafetensors(args) => to_safetensors(args),
    }
}

fn open(file: &str) -> Result<Checkpoint, Failure> {
    Checkpoint::open(file).map_err(|e| Failure::file(file, e))
}

/// A shape as `[2, 3]`.
fn shape_text(shape: &[u64]) -> String {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

fn ls(args: &LsArgs) -> Result<(), Failure> {
    let ckpt = open(&args.file)?;
    let tensors = ckpt.tensors();
    with_stdout(|out| {
        let mut text = String::new();
        if args.json {
            text.push('[');
            for (i, (name, tensor)) in tensors.iter().enumerate() {
                // Written by hand, keys in the issue's order: `json!` orders them
                // by serde_json's features (sorted, or as written with preserve_order).
                let shape: Vec<String> = tensor.shape.iter().map(u64::to_string).collect();
                text.push_str(if i == 0 { "\n" } else { ",\n" });
                text.push_str(&format!(
                    "{{\"name\":{},\"dtype\":\"{}\",\"shape\":[{}]}}",
                    serde_json::Value::from(name.as_str()),
                    tensor.dtype.name(),
                    shape.join(",")
                ));
            }
            text.push_str(if tensors.is_empty() { "]\n" } else { "\n]\n" });
        } else {
            let name_width = tensors.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0);
            let dtype_width = tensors.iter().map(|(_, t)| t.dtype.name().len()).max().unwrap_or(0);
            for (name, tensor) in &tensors {
                let line = format!(
                    "{name:<name_width$}  {:<dtype_width$}  {}",
                    tensor.dtype.name(),
                    shape_text(&tensor.shape)
                );
                text.push_str(&line);
                text.push('\n');
            }
        }
        out.write_all(text.as_bytes()).map_err(Failure::output)
    })
}

/// `1.5 GiB`, `12.0 MiB`, `312 B`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn to_safetensors(args: &ToSafetensorsArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let ckpt = open(&args.file)?;
    let options = safetensors::Options {
        unsupported: if args.skip_unsupported { OnUnsupported::Skip } else { OnUnsupported::Error },
        metadata: !args.no_metadata,
        ..safetensors::Options::default()
    };
    // A bar only for a person watching: never in a pipe or a log.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let result = safetensors::write(&ckpt, Path::new(&args.out), &options, |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    // Input and output errors: the checkpoint is read through a memory map,
    // so an I/O error here is one of writing OUT.
    let summary = result.map_err(|e| match e {
        pyckle_torch::Error::Io(e) => Failure::file(&args.out, e),
        e => Failure::file(&args.file, e),
    })?;
    {
        let mut err = std::io::stderr().lock();
        for (name, dtype) in &summary.skipped {
            let _ = writeln!(
                err,
                "pyckle: warning: {}: left out tensor {name:?} ({}): safetensors has no such dtype",
                args.file,
                dtype.name()
            );
        }
    }
    with_stdout(|out| {
        let skipped = match summary.skipped.len() {
            0 => String::new(),
            n => format!(", {n} left out"),
        };
        let line = format!(
            "{}: {} tensors{skipped}, {} metadata entries, {} in {:.2} s\n",
            args.out,
            summary.tensors,
            summary.metadata,
            human_bytes(summary.bytes),
            started.elapsed().as_secs_f64()
        );
        out.write_all(line.as_bytes()).map_err(Failure::output)
    })
}
