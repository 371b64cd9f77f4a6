//! The torch benchmark: a checkpoint of more than 1 GB, opened and listed,
//! and converted to safetensors, by pyckle and by Python side by side.
//!
//!     PYCKLE_TORCH_PYTHON=/work/venv-torch/bin/python cargo bench -p pyckle-torch --bench torch
//!
//! The checkpoint is made once by `bench/torch_python.py make` (torch,
//! fixed seed) into `target/bench-data/torch/` (or `$PYCKLE_BENCH_DATA`),
//! again when the script is newer; never committed. Then:
//!
//! - open + list: `Checkpoint::open` and every tensor's name, dtype and
//!   shape, in this process (one warm-up, then at least 20 runs), and in a
//!   child process for its peak memory; Python's `torch.load(mmap=True)` and
//!   the same listing, as a child.
//! - convert: each side in a child process of its own, so that its peak
//!   resident memory (VmHWM, which counts the pages of a memory map too) is
//!   its own: pyckle (`Checkpoint::open` + `safetensors::write`, this
//!   benchmark's binary run again with `--child`), Python `torch.load`
//!   (`mmap=False`, the default) + `safetensors.torch.save_file`, and Python
//!   `torch.load(mmap=True)` + `save_file`.
//!
//! Every side runs once to warm up (so the checkpoint comes from the page
//! cache for everyone, not from the disk), then `$PYCKLE_BENCH_RUNS` times
//! (3); medians. "time" is what the operation took inside the process
//! (after Python's imports); "process" is the child's whole wall time,
//! start-up and imports included. Without `$PYCKLE_TORCH_PYTHON` and without
//! a checkpoint already made, the benchmark prints a note and stops; with a
//! checkpoint but no Python, only pyckle's side runs.

use pyckle_torch::{safetensors, Checkpoint};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Open the checkpoint and list every tensor; the number of tensors.
fn open_and_list(path: &Path) -> usize {
    let ckpt = Checkpoint::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut n = 0;
    let mut text = String::new();
    for (name, tensor) in ckpt.tensors() {
        text.clear();
        text.push_str(&name);
        text.push_str(tensor.dtype.name());
        std::hint::black_box((&text, &tensor.shape));
        n += 1;
    }
    n
}

/// `--child ls FILE` and `--child convert FILE OUT`: one side, measured by itself.
fn child(args: &[String]) {
    let base = status_kib("VmRSS");
    let t0 = Instant::now();
    let (tensors, bytes) = match args {
        [op, file] if op == "ls" => (open_and_list(Path::new(file)), 0),
        [op, file, out] if op == "convert" => {
            let ckpt = Checkpoint::open(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            let summary = safetensors::write(&ckpt, Path::new(out), &safetensors::Options::default(), |_, _| {})
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            (summary.tensors, summary.bytes)
        }
        _ => panic!("--child ls FILE | --child convert FILE OUT"),
    };
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds}, \"tensors\": {tensors}, \"bytes\": {bytes}, \"base_kib\": {base}, \"peak_kib\": {}}}",
        status_kib("VmHWM")
    );
}

struct Run {
    seconds: f64,
    wall: f64,
    base_kib: u64,
    peak_kib: u64,
    tensors: u64,
}

/// Runs a child that prints one JSON line, timing it from outside too.
fn run_child(cmd: &mut Command) -> Run {
    let t0 = Instant::now();
    let out = cmd.output().expect("run the child");
    let wall = t0.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{cmd:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().last().unwrap_or("");
    let json: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{cmd:?}: {e}: {line}"));
    Run {
        seconds: json["seconds"].as_f64().unwrap(),
        wall,
        base_kib: json["base_kib"].as_u64().unwrap_or(0),
        peak_kib: json["peak_kib"].as_u64().unwrap_or(0),
        tensors: json["tensors"].as_u64().unwrap_or(0),
    }
}

struct Side {
    label: String,
    seconds: f64,
    wall: f64,
    base_kib: u64,
    peak_kib: u64,
    tensors: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One warm-up run, then `runs` timed ones (medians; the largest peak).
fn measure(label: &str, runs: usize, mut make: impl FnMut() -> Command, cleanup: impl Fn()) -> Side {
    eprintln!("  {label}: warm-up + {runs} runs");
    run_child(&mut make());
    cleanup();
    let results: Vec<Run> = (0..runs)
        .map(|_| {
            let r = run_child(&mut make());
            cleanup();
            r
        })
        .collect();
    Side {
        label: label.to_string(),
        seconds: median(results.iter().map(|r| r.seconds).collect()),
        wall: median(results.iter().map(|r| r.wall).collect()),
        base_kib: results.iter().map(|r| r.base_kib).max().unwrap_or(0),
        peak_kib: results.iter().map(|r| r.peak_kib).max().unwrap_or(0),
        tensors: results[0].tensors,
    }
}

fn human_time(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn human_kib(k: u64) -> String {
    if k >= 1 << 20 {
        format!("{:.2} GiB", k as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} MiB", k as f64 / 1024.0)
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn mtime(p: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..]);
        return;
    }
    let root = workspace_root();
    let script = root.join("bench/torch_python.py");
    let dir = std::env::var_os("PYCKLE_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench-data/torch"));
    let ckpt_path = dir.join("big.pt");
    let python = std::env::var("PYCKLE_TORCH_PYTHON").ok();
    let stale = match (mtime(&script), mtime(&ckpt_path)) {
        (Some(s), Some(c)) => s > c,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if stale {
        let Some(python) = &python else {
            eprintln!(
                "note: no checkpoint in {} and PYCKLE_TORCH_PYTHON is not set (a Python with torch and \
                 safetensors) to make one: skipped",
                dir.display()
            );
            return;
        };
        std::fs::create_dir_all(&dir).expect("create the data directory");
        eprintln!("making the checkpoint: {python} bench/torch_python.py make {}", ckpt_path.display());
        let ok = Command::new(python).arg(&script).arg("make").arg(&ckpt_path).status().is_ok_and(|s| s.success());
        assert!(ok, "bench/torch_python.py make failed");
    }
    let size = std::fs::metadata(&ckpt_path).expect("the checkpoint").len();
    let runs: usize = std::env::var("PYCKLE_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let out_path = dir.join("out.safetensors");
    let exe = std::env::current_exe().expect("this benchmark's path");
    let versions = python.as_ref().and_then(|p| {
        let out = Command::new(p)
            .args(["-c", "import sys, torch, safetensors; print(sys.version.split()[0], torch.__version__, safetensors.__version__)"])
            .output()
            .ok()?;
        String::from_utf8(out.stdout).ok().map(|s| s.trim().to_string())
    });

    // Open + list, in this process.
    eprintln!("open + list");
    let tensors = open_and_list(&ckpt_path);
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 20 || start.elapsed() < Duration::from_secs(1) {
        let t0 = Instant::now();
        std::hint::black_box(open_and_list(&ckpt_path));
        times.push(t0.elapsed().as_secs_f64());
    }
    let in_process = median(times.clone());
    let in_process_min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let in_process_runs = times.len();
    let mut listing = vec![measure(
        "pyckle (child process)",
        runs,
        || {
            let mut c = Command::new(&exe);
            c.args(["--child", "ls"]).arg(&ckpt_path);
            c
        },
        || {},
    )];
    if let Some(python) = &python {
        listing.push(measure(
            "python torch.load(mmap=True) + list",
            runs,
            || {
                let mut c = Command::new(python);
                c.arg(&script).arg("list").arg(&ckpt_path);
                c
            },
            || {},
        ));
    }

    // Convert.
    eprintln!("convert to safetensors");
    let cleanup = || {
        let _ = std::fs::remove_file(&out_path);
    };
    let mut convert = vec![measure(
        "pyckle: Checkpoint::open + safetensors::write",
        runs,
        || {
            let mut c = Command::new(&exe);
            c.args(["--child", "convert"]).arg(&ckpt_path).arg(&out_path);
            c
        },
        cleanup,
    )];
    // The output pyckle writes is a safetensors file with every tensor.
    {
        let mut c = Command::new(&exe);
        c.args(["--child", "convert"]).arg(&ckpt_path).arg(&out_path);
        run_child(&mut c);
        // Its header: every tensor, and offsets that end where the file ends.
        let data = std::fs::read(&out_path).expect("the output");
        let n = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&data[8..8 + n]).expect("a safetensors header");
        let entries = header.as_object().expect("a JSON object");
        let ends =
            entries.iter().filter(|(k, _)| *k != "__metadata__").map(|(_, v)| v["data_offsets"][1].as_u64().unwrap());
        assert_eq!(entries.len() - 1, tensors, "tensors in the output");
        assert_eq!(8 + n as u64 + ends.max().unwrap_or(0), data.len() as u64, "the output's length");
        ::safetensors::SafeTensors::deserialize(&data).expect("the safetensors crate reads it");
        cleanup();
    }
    if let Some(python) = &python {
        for (label, mmap) in
            [("python torch.load + save_file", false), ("python torch.load(mmap=True) + save_file", true)]
        {
            convert.push(measure(
                label,
                runs,
                || {
                    let mut c = Command::new(python);
                    c.arg(&script).arg("convert");
                    if mmap {
                        c.arg("--mmap");
                    }
                    c.arg(&ckpt_path).arg(&out_path);
                    c
                },
                cleanup,
            ));
        }
    }

    println!();
    println!(
        "checkpoint: {} ({:.2} GiB, {size} bytes, {tensors} tensors){}",
        ckpt_path.display(),
        size as f64 / (1u64 << 30) as f64,
        versions.map(|v| format!("; Python, torch, safetensors: {v}")).unwrap_or_default()
    );
    println!("every side: one warm-up run (the checkpoint is in the page cache), then {runs} runs, medians");
    println!();
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>12}",
        "open + list every tensor", "time", "process", "peak RSS", "RSS at start"
    );
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>12}   (min {}, {in_process_runs} runs)",
        "pyckle (in process)",
        human_time(in_process),
        "",
        "",
        "",
        human_time(in_process_min)
    );
    for s in &listing {
        println!(
            "{:<46} {:>10} {:>10} {:>10} {:>12}   {:.0}x pyckle's time",
            s.label,
            human_time(s.seconds),
            human_time(s.wall),
            human_kib(s.peak_kib),
            human_kib(s.base_kib),
            s.seconds / in_process
        );
    }
    println!();
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>12} {:>10} {:>10}",
        "convert to safetensors", "time", "process", "peak RSS", "RSS at start", "time ratio", "proc. ratio"
    );
    let (mine_time, mine_wall) = (convert[0].seconds, convert[0].wall);
    for s in &convert {
        println!(
            "{:<46} {:>10} {:>10} {:>10} {:>12} {:>9.1}x {:>10.1}x",
            s.label,
            human_time(s.seconds),
            human_time(s.wall),
            human_kib(s.peak_kib),
            human_kib(s.base_kib),
            s.seconds / mine_time,
            s.wall / mine_wall,
        );
        assert_eq!(s.tensors as usize, tensors, "{}: tensors converted", s.label);
    }
    println!();
    println!("time: the operation inside its process; process: the child's wall time, start-up and imports included;");
    println!("peak RSS: the child's VmHWM (memory-mapped pages count); ratios: the side over pyckle (above 1x: pyckle is faster).");
}
