//! `pyckle info`: a summary of every pickle in FILE.

use crate::{display_name, each_pickle, read_input, with_stdout, DecodeArgs, Failure};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    decode: DecodeArgs,
    /// The pickle file (`-` for standard input).
    file: String,
}

pub fn run(args: &InfoArgs) -> Result<(), Failure> {
    let data = read_input(&args.file)?;
    let name = display_name(&args.file);
    with_stdout(|out| write_all(args, name, &data, out))
}

/// One summary per pickle; when the file holds several, each gets a
/// header with its number and offset, and a blank line separates them.
fn write_all(args: &InfoArgs, name: &str, data: &[u8], out: &mut dyn Write) -> Result<(), Failure> {
    let mut unpickler = pyckle::Unpickler::new(args.decode.options());
    each_pickle(data, |rest, base, index| {
        let (info, used) = pyckle::info::info_with(&mut unpickler, rest).map_err(|e| Failure::decode(name, e, base))?;
        let mut text = String::new();
        if index > 0 {
            text.push('\n');
        }
        if index > 0 || used < rest.len() {
            text.push_str(&format!("pickle {} at byte {}:\n", index + 1, base));
        }
        text.push_str(&info.to_string());
        out.write_all(text.as_bytes()).map_err(Failure::output)?;
        Ok(used)
    })
}
