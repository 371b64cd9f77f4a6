//! The unpickler's semantics, opcode by opcode where CPython is subtle:
//! identity and cycles, Python's key equality, the fence of MARK, limits,
//! options and hooks, streams of pickles, and errors with their offsets.

use pyckle::graph::{Object, Value};
use pyckle::{DecodeOptions, ErrorKind, Graph, StringEncoding, Unpickler};
use std::io::{BufReader, Cursor};

fn canon(g: &Graph) -> String {
    let mut s = String::new();
    pyckle::json::canonical(g, &mut s).unwrap();
    s
}

fn loads_canon(data: &[u8]) -> String {
    canon(&pyckle::loads(data).unwrap())
}

fn err_kind(data: &[u8]) -> pyckle::Error {
    pyckle::loads(data).expect_err("should fail")
}

#[test]
fn shared_and_recursive_structures_keep_identity() {
    // a = [1]; pickle.dumps([a, a], 2)
    let g = pyckle::loads(b"\x80\x02]q\x00(]q\x01K\x01ah\x01e.").unwrap();
    let Some(Object::List(items)) = g.object(g.root()) else { panic!() };
    assert_eq!(items[0], items[1], "both items are the same object");
    assert_eq!(canon(&g), r#"{"list": [{"list": [1], "id": 0}, {"ref": 0}]}"#);
    // L = []; L.append(L)
    assert_eq!(loads_canon(b"\x80\x02]q\x00h\x00a."), r#"{"list": [{"ref": 0}], "id": 0}"#);
    // L = []; t = (L,); L.append(t); pickle.dumps(L, 2)
    let g = pyckle::loads(b"\x80\x02]q\x00h\x00\x85q\x01a.").unwrap();
    let root = g.root().obj().unwrap();
    let Some(Object::List(items)) = g.object(g.root()) else { panic!() };
    let Some(Object::Tuple(t)) = g.object(items[0]) else { panic!() };
    assert_eq!(t[0].obj(), Some(root));
}

#[test]
fn python_key_equality() {
    // {1: 'a', 1.0: 'b', True: 'c'} built key by key: one key, the first spelling, the last value.
    let data = b"\x80\x02}q\x00(K\x01X\x01\x00\x00\x00aG?\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00b\x88X\x01\x00\x00\x00cu.";
    assert_eq!(loads_canon(data), r#"{"dict": [[1, "c"]]}"#);
    // 'a' and b'a' are different keys; (1, 2) and (1.0, 2) are the same.
    let data = b"\x80\x03}(X\x01\x00\x00\x00aK\x01C\x01aK\x02K\x01K\x02\x86K\x03G?\xf0\x00\x00\x00\x00\x00\x00K\x02\x86K\x04u.";
    assert_eq!(loads_canon(data), r#"{"dict": [["a", 1], [{"bytes": "61"}, 2], [{"tuple": [1, 2]}, 4]]}"#);
    // Big ints equal to floats: 2**64 and 2.0**64.
    let data = b"\x80\x02}(\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00\x01K\x01GC\xf0\x00\x00\x00\x00\x00\x00K\x02u.";
    assert_eq!(loads_canon(data), r#"{"dict": [[18446744073709551616, 2]]}"#);
    // A list key is unhashable, as in CPython.
    let e = err_kind(b"\x80\x02}]K\x01s.");
    assert!(e.to_string().contains("unhashable type: 'list'"), "{e}");
}

#[test]
fn sets_dedupe_with_python_equality() {
    // set([1, 1.0, True, 2]) via EMPTY_SET/ADDITEMS
    let g = pyckle::loads(b"\x80\x04\x8f(K\x01G?\xf0\x00\x00\x00\x00\x00\x00\x88K\x02\x90.").unwrap();
    let Some(Object::Set(s)) = g.object(g.root()) else { panic!() };
    assert_eq!(s.items(), &[Value::Int(1), Value::Int(2)]);
}

#[test]
fn floats_keep_sign_and_nan_payload() {
    let g = pyckle::loads(b"\x80\x02G\x80\x00\x00\x00\x00\x00\x00\x00.").unwrap();
    assert_eq!(g.root(), Value::Float(-0.0));
    let Value::Float(f) = g.root() else { panic!() };
    assert!(f.is_sign_negative());
    let g = pyckle::loads(b"\x80\x02G\x7f\xf8\x00\x00\x00\x00\x12\x34.").unwrap();
    let Value::Float(f) = g.root() else { panic!() };
    assert_eq!(f.to_bits(), 0x7ff8_0000_0000_1234);
}

#[test]
fn lone_surrogates_survive() {
    // BINUNICODE with surrogatepass bytes for '\ud800'
    let g = pyckle::loads(b"\x80\x04\x8c\x03\xed\xa0\x80.").unwrap();
    let Some(Object::Str(s)) = g.object(g.root()) else { panic!() };
    assert!(!s.is_utf8());
    assert_eq!(s.code_points().collect::<Vec<_>>(), vec![0xd800]);
    assert_eq!(canon(&g), r#""\ud800""#);
    // UNICODE (protocol 0) with a raw-unicode-escape surrogate
    assert_eq!(loads_canon(b"V\\udc00abc\n."), r#""\udc00abc""#);
    // Invalid UTF-8 is an error that says so.
    let e = err_kind(b"\x80\x04\x8c\x02\xc3\x28.");
    assert!(matches!(e.kind(), ErrorKind::BadText(_)), "{e}");
}

#[test]
fn slices_are_borrowed() {
    let data = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00C\x05hello\x8c\x05world\x86.";
    let g = pyckle::loads(data).unwrap();
    let Some(Object::Tuple(t)) = g.object(g.root()) else { panic!() };
    let Some(Object::Bytes(b)) = g.object(t[0]) else { panic!() };
    assert!(matches!(b, std::borrow::Cow::Borrowed(_)), "bytes are borrowed from the input");
    let Some(Object::Str(s)) = g.object(t[1]) else { panic!() };
    assert_eq!(s.as_str(), Some("world"));
    let owned: Graph<'static> = g.into_owned();
    assert_eq!(owned.len(), 3);
}

#[test]
fn core_calls_become_core_types() {
    // Protocol 2: set([1, 2]), frozenset([3]), bytes via _codecs.encode, bytearray(), getattr
    let cases: &[(&[u8], &str)] = &[
        (b"\x80\x02c__builtin__\nset\n]K\x01aK\x02a\x85R.", r#"{"set": [1, 2]}"#),
        (b"\x80\x02c__builtin__\nfrozenset\n]K\x03a\x85R.", r#"{"frozenset": [3]}"#),
        (b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.", r#"{"bytes": "ff"}"#),
        (b"\x80\x02c__builtin__\nbytearray\n)R.", r#"{"bytearray": ""}"#),
        (b"\x80\x02c__builtin__\nbytes\n)R.", r#"{"bytes": ""}"#),
        (
            b"\x80\x02c__builtin__\ngetattr\ncmod\nOuter\nX\x05\x00\x00\x00Inner\x86R.",
            r#"{"global": ["mod", "Outer.Inner"]}"#,
        ),
        (b"\x80\x02c__builtin__\ntype\nN\x85R.", r#"{"global": ["builtins", "NoneType"]}"#),
    ];
    for (data, want) in cases {
        assert_eq!(&loads_canon(data), want, "{data:?}");
    }
}

#[test]
fn python2_names_are_mapped_below_protocol_3_only() {
    assert_eq!(loads_canon(b"c__builtin__\nobject\n."), r#"{"global": ["builtins", "object"]}"#);
    assert_eq!(loads_canon(b"ccopy_reg\n_reconstructor\n."), r#"{"global": ["copyreg", "_reconstructor"]}"#);
    assert_eq!(loads_canon(b"\x80\x03c__builtin__\nobject\n."), r#"{"global": ["__builtin__", "object"]}"#);
    let mut u = Unpickler::new(DecodeOptions { fix_imports: false, ..Default::default() });
    assert_eq!(canon(&u.loads(b"c__builtin__\nobject\n.").unwrap()), r#"{"global": ["__builtin__", "object"]}"#);
}

#[test]
fn python2_strings_follow_encoding() {
    let data = b"U\x04caf\xe9q\x00.";
    let e = err_kind(data);
    assert!(e.to_string().contains("'ascii' codec can't decode byte 0xe9"), "{e}");
    let mut latin1 = Unpickler::new(DecodeOptions { encoding: StringEncoding::Latin1, ..Default::default() });
    assert_eq!(canon(&latin1.loads(data).unwrap()), r#""caf\u00e9""#);
    let mut bytes = Unpickler::new(DecodeOptions { encoding: StringEncoding::Bytes, ..Default::default() });
    assert_eq!(canon(&bytes.loads(data).unwrap()), r#"{"bytes": "636166e9"}"#);
    // Protocol-0 STRING with escapes
    assert_eq!(loads_canon(b"S'a\\nb\\'c'\np0\n."), r#""a\nb'c""#);
    let e = err_kind(b"S'abc\np0\n.");
    assert!(e.to_string().contains("must be quoted"), "{e}");
}

#[test]
fn int_opcodes() {
    assert_eq!(loads_canon(b"I01\n."), "true");
    assert_eq!(loads_canon(b"I00\n."), "false");
    assert_eq!(loads_canon(b"I123\n."), "123");
    assert_eq!(loads_canon(b"I-99999999999999999999\n."), "-99999999999999999999");
    assert_eq!(loads_canon(b"L12345678901234567890L\n."), "12345678901234567890");
    assert_eq!(loads_canon(b"\x80\x02\x8a\x00."), "0");
    assert_eq!(loads_canon(b"\x80\x02\x8a\x01\xff."), "-1");
    assert_eq!(loads_canon(b"\x80\x02\x8b\x02\x00\x00\x00\x00\x80."), "-32768");
    assert_eq!(loads_canon(b"F1e+300\n."), r#"{"float": "1e+300"}"#);
    assert!(matches!(err_kind(b"Iabc\n.").kind(), ErrorKind::MalformedLiteral(_)));
    assert!(matches!(err_kind(b"\x80\x02\x8b\xff\xff\xff\xff.").kind(), ErrorKind::Invalid(_)));
}

#[test]
fn records_keep_what_the_pickle_said() {
    // copyreg._reconstructor(Foo, object, None) + BUILD {'x': 1}, protocol 0
    let data =
        b"ccopy_reg\n_reconstructor\np0\n(cmod\nFoo\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nVx\np6\nI1\nsb.";
    assert_eq!(
        loads_canon(data),
        r#"{"reduce": {"global": ["copyreg", "_reconstructor"]}, "args": [{"global": ["mod", "Foo"]}, {"global": ["builtins", "object"]}, null], "state": {"dict": [["x", 1]]}}"#
    );
    // NEWOBJ_EX with kwargs, then APPENDS and SETITEMS on the object
    let data = b"\x80\x04\x8c\x03mod\x8c\x03Cls\x93)}\x8c\x01k\x88s\x92(K\x01K\x02e(K\x03K\x04u.";
    assert_eq!(
        loads_canon(data),
        r#"{"new": {"global": ["mod", "Cls"]}, "args": [], "kwargs": {"dict": [["k", true]]}, "items": [1, 2], "dict_items": [[3, 4]]}"#
    );
}

#[test]
fn persistent_ids_hook_and_extensions() {
    assert_eq!(loads_canon(b"\x80\x02K\x07Q."), r#"{"persistent_id": 7}"#);
    assert_eq!(loads_canon(b"Pabc\n."), r#"{"persistent_id": "abc"}"#);
    let mut u = Unpickler::default();
    u.persistent_load(Box::new(|_g, pid| match pid {
        Value::Int(i) => Ok(Value::Int(i * 10)),
        _ => Err("only ints".into()),
    }));
    assert_eq!(canon(&u.loads(b"\x80\x02K\x07Q.").unwrap()), "70");
    let e = u.loads(b"\x80\x02NQ.").unwrap_err();
    assert!(e.to_string().contains("only ints"), "{e}");

    let e = err_kind(b"\x80\x02\x82\x05.");
    assert!(matches!(e.kind(), ErrorKind::UnregisteredExtension(5)), "{e}");
    let mut u = Unpickler::default();
    u.add_extension(5, "collections", "OrderedDict");
    assert_eq!(canon(&u.loads(b"\x80\x02\x82\x05.").unwrap()), r#"{"global": ["collections", "OrderedDict"]}"#);
}

#[test]
fn out_of_band_buffers() {
    let data = b"\x80\x05\x97\x97\x98\x86.";
    let e = err_kind(data);
    assert!(matches!(e.kind(), ErrorKind::NoBuffer), "{e}");
    let mut u = Unpickler::default();
    u.buffers(vec![b"ab".to_vec(), b"cd".to_vec()]);
    assert_eq!(canon(&u.loads(data).unwrap()), r#"{"tuple": [{"bytearray": "6162"}, {"bytes": "6364"}]}"#);
}

#[test]
fn the_mark_fences_the_stack() {
    // CPython: an opcode cannot pop below the last MARK.
    for data in [&b"K\x01(R."[..], b"K\x01(a.", b"K\x01(\x85.", b"(."] {
        let e = err_kind(data);
        assert!(matches!(e.kind(), ErrorKind::StackUnderflow), "{data:?}: {e}");
    }
    assert!(matches!(err_kind(b"K\x01e.").kind(), ErrorKind::MissingMark));
    assert!(matches!(err_kind(b"]K\x01K\x02e.").kind(), ErrorKind::MissingMark));
    // POP pops a MARK when the MARK is on top, as CPython's load_pop does.
    assert_eq!(loads_canon(b"K\x01(0."), "1");
}

#[test]
fn errors_name_offset_and_opcode() {
    let e = err_kind(b"\x80\x02]q\x00h\x05.");
    assert!(matches!(e.kind(), ErrorKind::MemoMissing(5)));
    assert_eq!(e.offset(), Some(5));
    assert_eq!(e.opcode(), Some(b'h'));
    assert_eq!(e.to_string(), "at byte 5 (opcode BINGET): memo key 5 is missing");
    let e = err_kind(b"\x80\x06N.");
    assert!(matches!(e.kind(), ErrorKind::UnsupportedProtocol(6)));
    let e = err_kind(b"\x80\x02\xff.");
    assert!(matches!(e.kind(), ErrorKind::UnknownOpcode(0xff)));
    assert_eq!(e.offset(), Some(2));
    let e = err_kind(b"\x80\x02X\xff\xff\xff\x7fabc");
    assert!(matches!(e.kind(), ErrorKind::Truncated(_)), "{e}");
    let e = err_kind(b"(g-1\n.");
    assert!(e.to_string().contains("negative memo key"), "{e}");
    let e = err_kind(b"(K\x01p-1\n.");
    assert!(e.to_string().contains("negative PUT"), "{e}");
    let e = err_kind(b"");
    assert!(e.is_eof());
    let e = err_kind(b"\x80\x02N");
    assert!(matches!(e.kind(), ErrorKind::Truncated(_)));
}

#[test]
fn a_million_deep_list_decodes_and_drops() {
    let n = 1_000_000;
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat(b']').take(n));
    data.extend(std::iter::repeat(b'a').take(n - 1));
    data.push(b'.');
    let g = pyckle::loads(&data).unwrap();
    assert_eq!(g.len(), n);
    let s = canon(&g);
    assert!(s.starts_with(r#"{"list": [{"list": [{"list": ["#));
    drop(g);
    // With a smaller depth limit it is a clear error.
    let mut opts = DecodeOptions::default();
    opts.limits.max_depth = 1000;
    let e = Unpickler::new(opts).loads(&data).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded(_)), "{e}");
}

#[test]
fn limits_memo_and_allocation() {
    let mut opts = DecodeOptions::default();
    opts.limits.max_memo = 2;
    let e = Unpickler::new(opts).loads(b"\x80\x04N\x94\x94\x94.").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded(_)), "{e}");
    let mut opts = DecodeOptions::default();
    opts.limits.max_alloc = 1000;
    let data: Vec<u8> = [&b"\x80\x02"[..], &b"]".repeat(100), b"."].concat();
    let e = Unpickler::new(opts.clone()).loads(&data).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded(_)), "{e}");
    // A huge length from a reader allocates nothing up front: it is truncated.
    let data = b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10abc";
    let e = pyckle::load(&mut Cursor::new(&data[..])).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Truncated(_) | ErrorKind::LimitExceeded(_)), "{e}");
    // A huge memo key does not allocate either.
    assert_eq!(loads_canon(b"\x80\x02K\x07r\xff\xff\xff\xff0j\xff\xff\xff\xff."), "7");
}

#[test]
fn streams_of_pickles_from_a_reader() {
    let one = b"\x80\x02K\x01.";
    let two = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8c\x05hello\x94.";
    let three = b"(lp0\nI3\na.";
    let all = [&one[..], two, three].concat();
    let mut reader = BufReader::with_capacity(4, Cursor::new(all.clone()));
    let mut u = Unpickler::default();
    let mut docs = Vec::new();
    loop {
        match u.load(&mut reader) {
            Ok(g) => docs.push(canon(&g)),
            Err(e) if e.is_eof() => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(docs, vec!["1", "\"hello\"", r#"{"list": [3]}"#]);
    // The reader is left right after each STOP.
    let mut cursor = Cursor::new(all.clone());
    pyckle::load(&mut cursor).unwrap();
    assert_eq!(cursor.position(), one.len() as u64);
    // The slice API agrees.
    let graphs = u.loads_all(&all).unwrap();
    assert_eq!(graphs.iter().map(canon).collect::<Vec<_>>(), docs);
    // An error in the third pickle names its offset in the whole input.
    let bad = [&one[..], two, b"\x80\x02h\x09."].concat();
    let e = u.loads_all(&bad).unwrap_err();
    assert_eq!(e.offset(), Some((one.len() + two.len() + 2) as u64));
}

/// A reader that counts how many `read` calls it answered.
struct Counting<'d> {
    data: &'d [u8],
    reads: usize,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn unbuffered_reader_reads_frames_whole_and_stops_at_stop() {
    // pickle.dumps(["a" * 100, list(range(50))], 4) followed by a second pickle.
    let first: &[u8] = &std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pickles/obj_greeter_p4.pkl"),
    )
    .unwrap();
    let second = b"\x80\x02K\x05.";
    let all = [first, &second[..]].concat();
    let mut src = Counting { data: &all, reads: 0 };
    let mut u = Unpickler::default();
    let g = u.load_unbuffered(&mut src).unwrap();
    assert_eq!(canon(&g), canon(&pyckle::loads(first).unwrap()));
    // PROTO (2 reads), the FRAME header (2), the frame itself (1): no
    // byte-by-byte reading inside the frame.
    assert!(src.reads <= 6, "{} reads", src.reads);
    assert_eq!(src.data, &second[..], "nothing past the STOP was read");
    assert_eq!(canon(&u.load_unbuffered(&mut src).unwrap()), "5");
    assert!(u.load_unbuffered(&mut src).unwrap_err().is_eof());
}

#[test]
fn every_fixture_decodes_the_same_from_every_input() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pickles");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let opts = DecodeOptions { encoding: StringEncoding::Bytes, ..Default::default() };
        let Ok(graphs) = Unpickler::new(opts.clone()).loads_all(&data) else { continue };
        let want: Vec<String> = graphs.iter().map(canon).collect();
        let mut buffered = BufReader::with_capacity(7, Cursor::new(&data));
        let mut unbuffered = Cursor::new(&data);
        let mut u = Unpickler::new(opts);
        for (i, w) in want.iter().enumerate() {
            let a = u.load(&mut buffered).unwrap_or_else(|e| panic!("{} #{i}: {e}", path.display()));
            let b = u.load_unbuffered(&mut unbuffered).unwrap_or_else(|e| panic!("{} #{i}: {e}", path.display()));
            assert_eq!(&canon(&a), w, "{}", path.display());
            assert_eq!(&canon(&b), w, "{}", path.display());
        }
        assert!(u.load(&mut buffered).unwrap_err().is_eof());
        assert!(u.load_unbuffered(&mut unbuffered).unwrap_err().is_eof());
        n += 1;
    }
    assert!(n > 300, "{n} fixtures");
}

#[test]
fn expensive_keys_hit_the_key_work_limit_not_a_hang() {
    // t0 = (1,)*100; t_k = (t_{k-1},)*100: six levels is 10^12 leaves to
    // hash, written in a few hundred bytes with the memo.
    let mut data = b"\x80\x02K\x01q\x00".to_vec();
    for level in 0..7u8 {
        data.push(b'(');
        for _ in 0..100 {
            data.extend_from_slice(&[b'h', level]);
        }
        data.extend_from_slice(&[b't', b'q', level + 1]);
    }
    data.extend_from_slice(b"}q\x50h\x07K\x00s.");
    let mut opts = DecodeOptions::default();
    opts.limits.max_key_work = 50_000_000;
    let e = Unpickler::new(opts).loads(&data).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded(_)), "{e}");

    // One 100 KB str key set 20000 times: CPython caches str hashes, we
    // count the bytes; a small limit makes it a clear error.
    let mut data = b"\x80\x04}\x94\x8d\xa0\x86\x01\x00\x00\x00\x00\x00".to_vec();
    data.extend(std::iter::repeat(b'k').take(100_000));
    data.extend_from_slice(b"\x940(");
    // Nine small keys first, so the dict keeps a hash table (a small dict
    // scans, and finds the same key object by identity, cheaply).
    for i in 2..11u8 {
        data.extend_from_slice(&[b'K', i, b'K', 0]);
    }
    for _ in 0..20_000 {
        data.extend_from_slice(b"h\x01K\x01");
    }
    data.extend_from_slice(b"u.");
    let mut opts = DecodeOptions::default();
    opts.limits.max_key_work = 10_000_000;
    let e = Unpickler::new(opts).loads(&data).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LimitExceeded(_)), "{e}");
    // With the default limit it decodes: it is only 125 million units of work.
    let g = pyckle::loads(&data).unwrap();
    let Some(Object::Dict(d)) = g.object(g.root()) else { panic!() };
    assert_eq!(d.len(), 10);
}

#[test]
fn a_frame_past_stop_is_kept_for_the_next_pickle() {
    // First pickle: a FRAME of 9 bytes whose STOP comes after 3 of them,
    // so the frame swallows the second pickle, which starts right after.
    let data = b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00K\x07.\x80\x02K\x08.K\x09.";
    let mut reader = &data[..];
    let mut u = Unpickler::default();
    let docs: Vec<String> = (0..3).map(|_| canon(&u.load_unbuffered(&mut reader).unwrap())).collect();
    assert_eq!(docs, ["7", "8", "9"]);
    assert!(u.load_unbuffered(&mut reader).unwrap_err().is_eof());
    // The slice and buffered decoders see the same three pickles.
    let all: Vec<String> = Unpickler::default().loads_all(data).unwrap().iter().map(canon).collect();
    assert_eq!(all, docs);
}
