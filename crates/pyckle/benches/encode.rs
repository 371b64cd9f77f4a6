//! Encoding speed, pyckle against CPython's `pickle.dumps`, in one run.
//!
//!     cargo bench -p pyckle --bench encode [-- FILTER]
//!
//! The inputs are the decoding benchmark's (`bench/make_inputs.py`, in
//! `target/bench-data/` or `$PYCKLE_BENCH_DATA`). Each file is decoded
//! once; then `pyckle::dumps(&graph, protocol)`, at the file's own
//! protocol, runs after a warm-up until about a second is spent and at
//! least 5 times (`$PYCKLE_BENCH_SECS`; `$PYCKLE_BENCH_NO_PYTHON` skips
//! CPython); "writer" is `pyckle::dump` of the same graph to `io::sink()`,
//! a stream, where large payloads go straight from the graph to the writer. `bench/cpython_dumps.py` times `pickle.dumps(obj, protocol)`
//! of the object `pickle.loads` made of the same file, the same way. Both
//! produce the same bytes (checked here before timing, when python3 is
//! there to say what CPython writes). The table shows medians; ratio =
//! CPython / pyckle, so above 1 means pyckle is faster.

mod common;

use common::{cpython, cpython_timing, ms, setup, size_text, time};

fn main() {
    let (root, files, budget) = setup();

    let mut rows = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("read input");
        let graph = pyckle::loads(&data).expect("decodes");
        let protocol = graph.protocol();
        let out = pyckle::dumps(&graph, protocol).expect("encodes");
        // make_inputs.py writes with pickle.dumps, and for these shapes
        // pickle.dumps(pickle.loads(data)) == data: the same bytes as CPython.
        let same = if out == data { "same bytes" } else { "bytes differ" };
        let t = time(budget, || {
            let out = pyckle::dumps(std::hint::black_box(&graph), protocol).expect("encodes");
            drop(std::hint::black_box(out));
        });
        let w = time(budget, || {
            pyckle::dump(std::hint::black_box(&graph), std::io::sink(), protocol).expect("encodes");
        });
        rows.push((path.clone(), data.len(), t, w, same));
    }
    let py = if std::env::var_os("PYCKLE_BENCH_NO_PYTHON").is_some() {
        None
    } else {
        cpython(&root, "cpython_dumps.py", &files, budget)
    };
    match &py {
        Some((v, _)) => println!("python3: CPython {v}, pickle.dumps with the cyclic GC off while timed"),
        None => println!("python3: not available; pyckle's numbers only"),
    }
    println!(
        "times are medians of >= 5 runs (~{:.1} s per cell), each including freeing the output",
        budget.as_secs_f64()
    );
    println!();
    println!(
        "| {:<17} | {:>9} | {:>10} | {:>9} | {:>11} | {:>8} | {:<12} |",
        "input", "size", "pyckle ms", "writer ms", "CPython ms", "ratio", "output"
    );
    println!("|{:-<19}|{:->11}|{:->12}|{:->11}|{:->13}|{:->10}|{:-<14}|", "", "", "", "", "", "", "");
    for (path, size, t, w, same) in &rows {
        let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".pickle").to_string();
        let size = size_text(*size);
        let cp = cpython_timing(&py, path);
        let (cp_ms, ratio) = match cp {
            Some(c) => {
                (format!("{:.3}", ms(c.median)), format!("{:.2}x", c.median.as_secs_f64() / t.median.as_secs_f64()))
            }
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {:<17} | {:>9} | {:>10.3} | {:>9.3} | {:>11} | {:>8} | {:<12} |",
            name,
            size,
            ms(t.median),
            ms(w.median),
            cp_ms,
            ratio,
            same
        );
    }
    println!();
    println!("min times (ms) and runs:");
    for (path, _, t, _, _) in &rows {
        let cp = cpython_timing(&py, path);
        println!(
            "  {:<28} pyckle {:>9.3} ({:>4})  CPython {}",
            path.file_name().unwrap().to_string_lossy(),
            ms(t.min),
            t.runs,
            cp.map_or("-".into(), |c| format!("{:>9.3} ({:>4})", ms(c.min), c.runs)),
        );
    }
}
