//! `pyckle dis`: what `python3 -m pickletools FILE` prints.

use crate::{display_name, read_input, Failure};
use clap::Args;
use std::io::{self, Write};

#[derive(Args, Debug)]
pub struct DisArgs {
    /// Annotate each line with a short opcode description (pickletools' `-a`).
    #[arg(short = 'a', long)]
    annotate: bool,
    /// The number of blanks by which to indent a new MARK level.
    #[arg(short = 'l', long = "indentlevel", value_name = "INDENT", default_value_t = 4)]
    indentlevel: usize,
    /// The pickle file (`-` for standard input). Only its first pickle is shown, as pickletools does.
    file: String,
}

pub fn run(args: &DisArgs) -> Result<(), Failure> {
    let data = read_input(&args.file)?;
    let name = display_name(&args.file);
    let opts = pyckle::dis::DisOptions { annotate: if args.annotate { 30 } else { 0 }, indentlevel: args.indentlevel };
    let mut out = io::stdout().lock();
    // `dis` writes everything pickletools would have printed before it
    // returns an error, so the message comes after the partial listing.
    let result = pyckle::dis::dis(&data, &mut out, &opts);
    let flushed = out.flush();
    match result {
        Ok(_) => flushed.map_err(Failure::output),
        Err(e) => match e.kind() {
            pyckle::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe => Err(Failure::ClosedOutput),
            pyckle::ErrorKind::Io(io) => Err(Failure::Message(format!("writing the output: {io}"))),
            _ => Err(Failure::file(name, e)),
        },
    }
}
