//! Decoding speed, pyckle against CPython's `pickle.loads`, in one run.
//!
//!     cargo bench -p pyckle --bench decode [-- FILTER]
//!
//! The inputs are written by `bench/make_inputs.py` into
//! `target/bench-data/` (or `$PYCKLE_BENCH_DATA`), regenerated when missing
//! or older than the script. Each file is read into memory once; then
//! `pyckle::loads(&data)` (from the slice, payloads borrowed) and
//! `pyckle::load(&mut BufReader<Cursor>)` (from a reader, payloads copied)
//! run after a warm-up until about a second is spent and at least 5 times
//! (`$PYCKLE_BENCH_SECS` changes the budget; `$PYCKLE_BENCH_NO_PYTHON`
//! skips CPython, for profiling). Every timed call includes
//! dropping the graph, as CPython's time includes freeing the objects.
//! `bench/cpython_loads.py` times `pickle.loads` on the same files in the
//! same way. The table shows medians; ratio = CPython / pyckle, so above 1
//! means pyckle is faster. No criterion: `std::time::Instant` only.

mod common;

use common::{cpython, cpython_timing, ms, setup, size_text, time};
use std::io::{BufReader, Cursor};

fn main() {
    let (root, files, budget) = setup();

    // pyckle first, then CPython, so neither runs while the other is timed.
    let mut rows = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("read input");
        let slice = time(budget, || {
            let g = pyckle::loads(std::hint::black_box(&data)).expect("decodes");
            drop(std::hint::black_box(g));
        });
        let reader = time(budget, || {
            let mut r = BufReader::new(Cursor::new(std::hint::black_box(&data[..])));
            let g = pyckle::load(&mut r).expect("decodes");
            drop(std::hint::black_box(g));
        });
        rows.push((path.clone(), data.len(), slice, reader));
    }
    let py = if std::env::var_os("PYCKLE_BENCH_NO_PYTHON").is_some() {
        None
    } else {
        cpython(&root, "cpython_loads.py", &files, budget)
    };
    match &py {
        Some((v, _)) => println!("python3: CPython {v}, pickle.loads with the cyclic GC off while timed"),
        None => println!("python3: not available; pyckle's numbers only"),
    }
    println!(
        "times are medians of >= 5 runs (~{:.1} s per cell), each including freeing the result",
        budget.as_secs_f64()
    );
    println!();
    println!(
        "| {:<17} | {:>9} | {:>10} | {:>10} | {:>11} | {:>8} | {:>8} |",
        "input", "size", "pyckle ms", "reader ms", "CPython ms", "ratio", "ratio rd"
    );
    println!("|{:-<19}|{:->11}|{:->12}|{:->12}|{:->13}|{:->10}|{:->10}|", "", "", "", "", "", "", "");
    for (path, size, slice, reader) in &rows {
        let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".pickle").to_string();
        let size = size_text(*size);
        let cp = cpython_timing(&py, path);
        let (cp_ms, ratio, ratio_rd) = match cp {
            Some(t) => (
                format!("{:.3}", ms(t.median)),
                format!("{:.2}x", t.median.as_secs_f64() / slice.median.as_secs_f64()),
                format!("{:.2}x", t.median.as_secs_f64() / reader.median.as_secs_f64()),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {:<17} | {:>9} | {:>10.3} | {:>10.3} | {:>11} | {:>8} | {:>8} |",
            name,
            size,
            ms(slice.median),
            ms(reader.median),
            cp_ms,
            ratio,
            ratio_rd
        );
    }
    println!();
    println!("min times (ms) and runs:");
    for (path, _, slice, reader) in &rows {
        let cp = cpython_timing(&py, path);
        println!(
            "  {:<28} pyckle {:>9.3} ({:>4})  reader {:>9.3} ({:>4})  CPython {}",
            path.file_name().unwrap().to_string_lossy(),
            ms(slice.min),
            slice.runs,
            ms(reader.min),
            reader.runs,
            cp.map_or("-".into(), |t| format!("{:>9.3} ({:>4})", ms(t.min), t.runs)),
        );
    }
}
