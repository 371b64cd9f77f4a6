//! `pyckle recode`: decode every pickle of FILE and write it again, as
//! CPython's `pickle.dumps(pickle.loads(data), protocol)` would.

use crate::{display_name, each_pickle, read_input, DecodeArgs, Failure};
use clap::Args;

#[derive(Args, Debug)]
pub struct RecodeArgs {
    /// The protocol to write (0 to 5); default: each pickle's own.
    #[arg(short, long, value_parser = clap::value_parser!(u8).range(0..=5))]
    protocol: Option<u8>,
    /// Where to write the pickles (`-` for standard output).
    #[arg(short, long)]
    output: String,
    #[command(flatten)]
    decode: DecodeArgs,
    /// The pickle file (`-` for standard input).
    file: String,
}

pub fn run(args: &RecodeArgs) -> Result<(), Failure> {
    let data = read_input(&args.file)?;
    let name = display_name(&args.file);
    let mut unpickler = pyckle::Unpickler::new(args.decode.options());
    let mut out = Vec::new();
    each_pickle(&data, |rest, base, _| {
        let (graph, after) = unpickler.loads_prefix(rest).map_err(|e| Failure::decode(name, e, base))?;
        let protocol = args.protocol.unwrap_or(graph.protocol());
        pyckle::dump(&graph, &mut out, protocol)
            .map_err(|e| Failure::file(name, format!("pickle at byte {base}: {e}")))?;
        Ok(rest.len() - after.len())
    })?;
    crate::write_output(&args.output, &out)
}
