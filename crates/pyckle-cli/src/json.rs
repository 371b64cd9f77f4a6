//! `pyckle json`: every pickle of FILE as JSON, one document per line.

use crate::{display_name, each_pickle, read_input, with_stdout, DecodeArgs, Failure};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct JsonArgs {
    /// The canonical JSON form (stable, lossless, for machines) instead of the friendly one.
    #[arg(long, conflicts_with = "pretty")]
    canonical: bool,
    /// Indent the friendly JSON by 2 spaces.
    #[arg(long)]
    pretty: bool,
    #[command(flatten)]
    decode: DecodeArgs,
    /// The pickle file (`-` for standard input).
    file: String,
}

pub fn run(args: &JsonArgs) -> Result<(), Failure> {
    let data = read_input(&args.file)?;
    let name = display_name(&args.file);
    with_stdout(|out| write_all(args, name, &data, out))
}

/// Decodes the pickles of `data` back to back, writing each as it is decoded.
fn write_all(args: &JsonArgs, name: &str, data: &[u8], out: &mut dyn Write) -> Result<(), Failure> {
    let mut unpickler = pyckle::Unpickler::new(args.decode.options());
    let mut doc = String::new();
    each_pickle(data, |rest, base, _| {
        let (graph, after) = unpickler.loads_prefix(rest).map_err(|e| Failure::decode(name, e, base))?;
        doc.clear();
        if args.canonical {
            // Graphs with no canonical form (a cycle through a set, too
            // large) are reported at the start of their pickle.
            pyckle::json::canonical(&graph, &mut doc)
                .map_err(|e| Failure::file(name, format!("pickle at byte {base}: no canonical JSON: {e}")))?;
        } else {
            pyckle::json::friendly::friendly(&graph, &mut doc, args.pretty);
        }
        doc.push('\n');
        out.write_all(doc.as_bytes()).map_err(Failure::output)?;
        Ok(rest.len() - after.len())
    })
}
