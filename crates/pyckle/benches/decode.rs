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

use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Timing {
    median: Duration,
    min: Duration,
    runs: usize,
}

/// Runs `f` once to warm up, then until `budget` is spent and at least 5 times.
fn time(budget: Duration, mut f: impl FnMut()) -> Timing {
    f();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || start.elapsed() < budget {
        let t0 = Instant::now();
        f();
        times.push(t0.elapsed());
    }
    times.sort();
    Timing { median: times[times.len() / 2], min: times[0], runs: times.len() }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The pickle files of the data directory, in the generator's order
/// (shape by shape, protocol 4 before 2), regenerating them when stale.
fn inputs(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let script = root.join("bench/make_inputs.py");
    let stamp = dir.join("VERSION");
    let stale = match (mtime(&script), mtime(&stamp)) {
        (Some(s), Some(v)) => s > v,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if stale {
        eprintln!("writing the inputs: python3 bench/make_inputs.py {}", dir.display());
        let ok = Command::new("python3").arg(&script).arg(dir).status().map(|s| s.success()).unwrap_or(false);
        if !ok {
            eprintln!("could not run python3 bench/make_inputs.py; using what {} holds", dir.display());
        }
    }
    const ORDER: &[&str] = &["ints", "strings", "dicts", "bytes", "shared", "floats", "nested"];
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run python3 bench/make_inputs.py)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pickle"))
        .collect();
    let key = |p: &PathBuf| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let shape = name.split('.').next().unwrap_or("").to_string();
        let rank = ORDER.iter().position(|s| *s == shape).unwrap_or(ORDER.len());
        let proto = name.split('.').nth(1).unwrap_or("").to_string();
        (rank, shape, std::cmp::Reverse(proto))
    };
    files.sort_by_key(key);
    files
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split_once(':').map_or(l, |(_, v)| v).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// CPython's medians by file name, from `bench/cpython_loads.py`, and its version.
fn cpython(root: &Path, files: &[PathBuf], budget: Duration) -> Option<(String, Vec<(PathBuf, Timing)>)> {
    let out = Command::new("python3")
        .arg(root.join("bench/cpython_loads.py"))
        .arg("--budget")
        .arg(format!("{}", budget.as_secs_f64()))
        .args(files)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("cpython_loads.py failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let mut version = String::new();
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        if let Some(p) = v.get("python").and_then(|p| p.as_str()) {
            version = p.to_string();
            continue;
        }
        let ns = |k: &str| Duration::from_nanos(v[k].as_u64().unwrap_or(0));
        rows.push((
            PathBuf::from(v["file"].as_str()?),
            Timing { median: ns("median_ns"), min: ns("min_ns"), runs: v["runs"].as_u64()? as usize },
        ));
    }
    Some((version, rows))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters by file name.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let budget =
        Duration::from_secs_f64(std::env::var("PYCKLE_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0));
    let root = workspace_root();
    let dir =
        std::env::var_os("PYCKLE_BENCH_DATA").map(PathBuf::from).unwrap_or_else(|| root.join("target/bench-data"));
    let files: Vec<PathBuf> = inputs(&root, &dir)
        .into_iter()
        .filter(|p| filter.is_empty() || filter.iter().any(|f| p.to_string_lossy().contains(f.as_str())))
        .collect();

    println!("cpu: {} ({} logical CPUs)", cpu_model(), std::thread::available_parallelism().map_or(0, |n| n.get()));
    if let Ok(l) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average before the run: {}", l.trim());
    }

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
    let py = if std::env::var_os("PYCKLE_BENCH_NO_PYTHON").is_some() { None } else { cpython(&root, &files, budget) };
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
        let size = if *size >= 1 << 20 {
            format!("{:.1} MiB", *size as f64 / (1 << 20) as f64)
        } else {
            format!("{:.0} KiB", *size as f64 / 1024.0)
        };
        let cp = py.as_ref().and_then(|(_, r)| r.iter().find(|(p, _)| p == path).map(|(_, t)| t));
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
        let cp = py.as_ref().and_then(|(_, r)| r.iter().find(|(p, _)| p == path).map(|(_, t)| t));
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
