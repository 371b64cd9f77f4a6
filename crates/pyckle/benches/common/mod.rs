//! What the benchmarks share: timing, the inputs of `bench/make_inputs.py`,
//! the CPython side (`bench/cpython_*.py`), the machine's description.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Timing {
    pub median: Duration,
    pub min: Duration,
    pub runs: usize,
}

/// Runs `f` once to warm up, then until `budget` is spent and at least 5 times.
pub fn time(budget: Duration, mut f: impl FnMut()) -> Timing {
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

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The pickle files of the data directory, in the generator's order
/// (shape by shape, protocol 4 before 2), regenerating them when stale.
pub fn inputs(root: &Path, dir: &Path) -> Vec<PathBuf> {
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

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split_once(':').map_or(l, |(_, v)| v).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// CPython's medians by file name, from `bench/SCRIPT` (cpython_loads.py
/// or cpython_dumps.py), and its version.
pub fn cpython(
    root: &Path,
    script: &str,
    files: &[PathBuf],
    budget: Duration,
) -> Option<(String, Vec<(PathBuf, Timing)>)> {
    let out = Command::new("python3")
        .arg(root.join("bench").join(script))
        .arg("--budget")
        .arg(format!("{}", budget.as_secs_f64()))
        .args(files)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{script} failed: {}", String::from_utf8_lossy(&out.stderr));
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

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The workspace root, the input files (filtered by the command line's
/// arguments) and the time budget per cell; prints the machine first.
pub fn setup() -> (PathBuf, Vec<PathBuf>, Duration) {
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
    (root, files, budget)
}

/// A file size as the tables print it.
pub fn size_text(size: usize) -> String {
    if size >= 1 << 20 {
        format!("{:.1} MiB", size as f64 / (1 << 20) as f64)
    } else {
        format!("{:.0} KiB", size as f64 / 1024.0)
    }
}

/// CPython's timing of `path`, if it ran.
pub fn cpython_timing<'a>(py: &'a Option<(String, Vec<(PathBuf, Timing)>)>, path: &Path) -> Option<&'a Timing> {
    py.as_ref().and_then(|(_, r)| r.iter().find(|(p, _)| p == path).map(|(_, t)| t))
}
