//! `pyckle from-json`: the pickle of each canonical JSON document in FILE,
//! so a pickle can be edited as JSON (`pyckle json --canonical`) and written back.

use crate::{display_name, read_input, Failure};
use clap::Args;

#[derive(Args, Debug)]
pub struct FromJsonArgs {
    /// The protocol to write (0 to 5).
    #[arg(short, long, default_value_t = pyckle::encode::DEFAULT_PROTOCOL,
          value_parser = clap::value_parser!(u8).range(0..=5))]
    protocol: u8,
    /// Where to write the pickles (`-` for standard output).
    #[arg(short, long)]
    output: String,
    /// Canonical JSON documents, one per line (`-` for standard input).
    file: String,
}

pub fn run(args: &FromJsonArgs) -> Result<(), Failure> {
    let data = read_input(&args.file)?;
    let name = display_name(&args.file);
    let text = std::str::from_utf8(&data).map_err(|e| Failure::file(name, format!("not UTF-8 text: {e}")))?;
    let graphs = pyckle::json::from_canonical_lines(text).map_err(|e| Failure::file(name, e))?;
    if graphs.is_empty() {
        return Err(Failure::file(name, "no JSON document"));
    }
    let mut out = Vec::new();
    for (i, g) in graphs.iter().enumerate() {
        pyckle::dump(g, &mut out, args.protocol)
            .map_err(|e| Failure::file(name, format!("document {}: {e}", i + 1)))?;
    }
    crate::write_output(&args.output, &out)
}
