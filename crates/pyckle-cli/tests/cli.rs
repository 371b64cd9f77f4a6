//! End-to-end tests of the `pyckle` binary.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// class Point (module geo); p = Point(); p.x = 1; p.y = [2.5, 'hi']
/// pickle.dumps({'p': p, 'b': b'\x00a', 'n': None}, 4)
const P4: &[u8] = b"\x80\x04\x95K\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01p\x94\x8c\x03geo\x94\x8c\x05Point\x94\x93\x94)\x81\x94}\x94(\x8c\x01x\x94K\x01\x8c\x01y\x94]\x94(G@\x04\x00\x00\x00\x00\x00\x00\x8c\x02hi\x94eub\x8c\x01b\x94C\x02\x00a\x94\x8c\x01n\x94Nu.";
const P4_JSON: &str = r#"{"p":{"__class__":"geo.Point","x":1,"y":[2.5,"hi"]},"b":"b'\\x00a'","n":null}"#;

/// pickle.dumps([1, (True, 'x')], 0)
const P0: &[u8] = b"(lp0\nI1\na(I01\nVx\np1\ntp2\na.";
const P0_JSON: &str = r#"[1,[true,"x"]]"#;
/// python3 -m pickletools on P0.
const P0_DIS: &str = "    0: (    MARK
    1: l        LIST       (MARK at 0)
    2: p    PUT        0
    5: I    INT        1
    8: a    APPEND
    9: (    MARK
   10: I        INT        True
   14: V        UNICODE    'x'
   17: p        PUT        1
   20: t        TUPLE      (MARK at 9)
   21: p    PUT        2
   24: a    APPEND
   25: .    STOP
highest protocol among opcodes = 0
";

fn pyckle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pyckle"))
}

/// Writes `data` to a fresh temporary file.
fn temp_file(data: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!("pyckle-cli-test-{}-{n}.pkl", std::process::id()));
    std::fs::write(&path, data).expect("write temp file");
    path
}

/// Runs `pyckle ARGS... FILE` on a temporary file holding `data`.
fn run(args: &[&str], data: &[u8]) -> Output {
    let path = temp_file(data);
    let out = pyckle().args(args).arg(&path).output().expect("run pyckle");
    let _ = std::fs::remove_file(&path);
    out
}

/// Runs `pyckle ARGS... -` with `data` on stdin.
fn run_stdin(args: &[&str], data: &[u8]) -> Output {
    let mut child = pyckle()
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pyckle");
    child.stdin.take().expect("stdin").write_all(data).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// Exit 1 with exactly one stderr line `pyckle: ...` mentioning `what`.
fn assert_fails(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("pyckle: "), "{err:?}");
    assert!(err.contains(what), "{err:?}");
    assert!(!err.contains("panicked"), "{err:?}");
}

#[test]
fn json_friendly() {
    let o = run(&["json"], P4);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{P4_JSON}\n"));
    let o = run(&["json"], P0);
    assert_eq!(stdout(&o), format!("{P0_JSON}\n"));
}

#[test]
fn json_pretty() {
    let o = run(&["json", "--pretty"], P0);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[\n  1,\n  [\n    true,\n    \"x\"\n  ]\n]\n");
}

#[test]
fn json_several_pickles_one_per_line() {
    let mut data = P4.to_vec();
    data.extend_from_slice(P0);
    data.extend_from_slice(P4);
    let o = run(&["json"], &data);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{P4_JSON}\n{P0_JSON}\n{P4_JSON}\n"));
}

#[test]
fn json_canonical() {
    let mut data = P4.to_vec();
    data.extend_from_slice(P0);
    let o = run(&["json", "--canonical"], &data);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in lines {
        assert!(line.starts_with('{') || line.starts_with('['), "{line}");
    }
    // --canonical and --pretty do not go together.
    let o = run(&["json", "--canonical", "--pretty"], P0);
    assert!(!o.status.success());
}

#[test]
fn json_stdin() {
    let o = run_stdin(&["json"], P4);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{P4_JSON}\n"));
}

#[test]
fn json_decode_options() {
    // Python 2: pickle.dumps(['\xe9'], 2) of a byte string: SHORT_BINSTRING '\xe9'.
    let data = b"\x80\x02]q\x00U\x01\xe9a.";
    // ASCII (the default) refuses it.
    assert_fails(&run(&["json"], data), "byte");
    let o = run(&["json", "--encoding", "latin1"], data);
    assert_eq!(stdout(&o), "[\"\u{e9}\"]\n", "{}", stderr(&o));
    let o = run(&["json", "--encoding", "bytes"], data);
    assert_eq!(stdout(&o), "[\"b'\\\\xe9'\"]\n", "{}", stderr(&o));
    let o = run(&["json", "--errors", "replace"], data);
    assert_eq!(stdout(&o), "[\"\u{fffd}\"]\n", "{}", stderr(&o));
    // fix_imports: __builtin__.len is builtins.len, unless --no-fix-imports.
    let data = b"\x80\x02c__builtin__\nlen\nq\x00.";
    assert_eq!(stdout(&run(&["json"], data)), "\"builtins.len\"\n");
    assert_eq!(stdout(&run(&["json", "--no-fix-imports"], data)), "\"__builtin__.len\"\n");
}

#[test]
fn json_truncated() {
    let o = run(&["json"], &P4[..40]);
    assert_fails(&o, "byte");
    assert!(o.stdout.is_empty());
}

#[test]
fn json_error_offset_counts_from_file_start() {
    // A good pickle, then a truncated one: the first is printed, the
    // error's offset is from the start of the file.
    let mut data = P0.to_vec();
    data.extend_from_slice(b"\x80\x02]K");
    let o = run(&["json"], &data);
    assert_fails(&o, &format!("at byte {} (opcode BININT1)", P0.len() + 3));
    assert_eq!(stdout(&o), format!("{P0_JSON}\n"));
}

#[test]
fn not_a_pickle() {
    assert_fails(&run(&["json"], b"hello world"), "at byte 0");
    assert_fails(&run(&["info"], b"hello world"), "at byte 0");
    assert_fails(&run(&["json"], b""), "byte");
}

#[test]
fn missing_file() {
    for cmd in ["json", "dis", "info"] {
        let o = pyckle().args([cmd, "/nonexistent/pyckle/file.pkl"]).output().expect("run");
        assert_fails(&o, "/nonexistent/pyckle/file.pkl");
    }
}

#[test]
fn dis_matches_pickletools() {
    let o = run(&["dis"], P0);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), P0_DIS);
    let o = run_stdin(&["dis"], P0);
    assert_eq!(stdout(&o), P0_DIS);
}

#[test]
fn dis_options() {
    let o = run(&["dis", "-a", "-l", "2"], P4);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // Lines as `python3 -m pickletools -a -l 2` prints them.
    assert!(out.starts_with("    0: \\x80 PROTO      4              Protocol version indicator.\n"), "{out}");
    assert!(out.contains("\n   14: \\x8c   SHORT_BINUNICODE 'p'    Push a Python Unicode string object.\n"), "{out}");
    assert!(out.ends_with("highest protocol among opcodes = 4\n"), "{out}");
    assert_eq!(out.lines().count(), 43);
}

#[test]
fn dis_first_pickle_only() {
    let mut data = P0.to_vec();
    data.extend_from_slice(P4);
    assert_eq!(stdout(&run(&["dis"], &data)), P0_DIS);
}

#[test]
fn dis_truncated_prints_the_prefix() {
    let o = run(&["dis"], &P0[..21]);
    assert_fails(&o, "byte");
    // The lines pickletools prints before it raises.
    let expected: String = P0_DIS.lines().take(10).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&o), expected);
}

#[test]
fn info_summary() {
    let o = run(&["info"], P4);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("protocol: 4"), "{out}");
    assert!(out.contains(&format!("size: {} bytes", P4.len())), "{out}");
    assert!(out.contains("geo Point"), "{out}");
    assert!(!out.contains("pickle 1"), "{out}");
    // Several pickles: one summary each.
    let mut data = P4.to_vec();
    data.extend_from_slice(P0);
    let out = stdout(&run(&["info"], &data));
    assert!(out.contains("pickle 1 at byte 0:"), "{out}");
    assert!(out.contains(&format!("pickle 2 at byte {}:", P4.len())), "{out}");
    assert!(out.contains("protocol: 0"), "{out}");
    let out = stdout(&run_stdin(&["info"], P0));
    assert!(out.contains(&format!("size: {} bytes", P0.len())), "{out}");
}

#[test]
fn info_truncated() {
    assert_fails(&run(&["info"], &P0[..10]), "byte");
}

#[test]
fn closed_stdout_is_quiet() {
    // Many pickles, so the output is far larger than a pipe buffer.
    let mut data = Vec::new();
    for _ in 0..20_000 {
        data.extend_from_slice(P4);
    }
    let path = temp_file(&data);
    for cmd in ["json", "info"] {
        let mut child =
            pyckle().arg(cmd).arg(&path).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run pyckle");
        let mut first = [0u8; 16];
        child.stdout.as_mut().expect("stdout").read_exact(&mut first).expect("read");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        let err = stderr(&o);
        assert!(err.is_empty(), "{cmd}: {err:?}");
        assert!(o.status.success(), "{cmd}: {:?}", o.status);
    }
    let _ = std::fs::remove_file(&path);
    // dis: one large pickle (a list of 200,000 ints).
    let mut data = b"\x80\x02](".to_vec();
    for _ in 0..200_000 {
        data.extend_from_slice(b"K\x01");
    }
    data.extend_from_slice(b"e.");
    let path = temp_file(&data);
    let mut child =
        pyckle().arg("dis").arg(&path).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run pyckle");
    let mut first = [0u8; 16];
    child.stdout.as_mut().expect("stdout").read_exact(&mut first).expect("read");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    assert!(stderr(&o).is_empty(), "dis: {:?}", stderr(&o));
    assert!(o.status.success(), "dis: {:?}", o.status);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn recode_writes_what_cpython_writes() {
    // pickle.dumps([1, 'a', b'xy'], 4), recoded at 2 and at its own protocol.
    let p4 = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94C\x02xy\x94e.";
    let out = run(&["recode", "-p", "2", "-o", "-"], p4);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // pickle.dumps([1, 'a', b'xy'], 2)
    let want: &[u8] =
        b"\x80\x02]q\x00(K\x01X\x01\x00\x00\x00aq\x01c_codecs\nencode\nq\x02X\x02\x00\x00\x00xyq\x03X\x06\x00\x00\x00latin1q\x04\x86q\x05Rq\x06e.";
    assert_eq!(out.stdout, want);
    let same = run(&["recode", "-o", "-"], p4);
    assert_eq!(same.stdout, p4);
    // Several pickles: each at its own protocol, back to back.
    let two = [want, &p4[..]].concat();
    assert_eq!(run(&["recode", "-o", "-"], &two).stdout, two);
    // Into a file.
    let dest = std::env::temp_dir().join(format!("pyckle-cli-recode-{}.pkl", std::process::id()));
    let out = run(&["recode", "-p", "0", "-o", dest.to_str().unwrap()], p4);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        b"(lp0\nI1\naVa\np1\nac_codecs\nencode\np2\n(Vxy\np3\nVlatin1\np4\ntp5\nRp6\na."
    );
    let _ = std::fs::remove_file(&dest);
}

#[test]
fn recode_refuses_what_the_protocol_cannot_hold() {
    // An int of 1800 bytes (over 4300 digits): protocols 0 and 1 would
    // write it in decimal, which CPython 3.11 neither writes nor reads.
    let mut data = vec![0x80, 2, 0x8b];
    data.extend_from_slice(&1800u32.to_le_bytes());
    data.extend(std::iter::repeat(0x11).take(1800));
    data.push(b'.');
    let out = run(&["recode", "-p", "0", "-o", "-"], &data);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot pickle") && err.contains("4300"), "{err}");
    assert!(run(&["recode", "-p", "4", "-o", "-"], &data).status.success());
}

#[test]
fn from_json_writes_the_pickle_of_a_canonical_document() {
    let doc =
        r#"{"list": [{"dict": [["a", {"ref": 0}]], "id": 0}, {"ref": 0}, {"float": "1.5"}, 18446744073709551616]}"#;
    let out = run_stdin(&["from-json", "-p", "2", "-o", "-"], doc.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Back to the same document.
    let back = run_stdin(&["json", "--canonical"], &out.stdout);
    assert_eq!(stdout(&back).trim_end(), doc);
    // pickle.dumps of that object at protocol 2.
    let d = b"\x80\x02]q\x00(}q\x01X\x01\x00\x00\x00aq\x02h\x01sh\x01G?\xf8\x00\x00\x00\x00\x00\x00\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00\x01e.";
    assert_eq!(out.stdout, d);
    // A malformed document: one line on stderr, exit 1.
    let bad = run_stdin(&["from-json", "-o", "-"], b"{\"list\": [1, }");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("pyckle: <stdin>: "));
}
