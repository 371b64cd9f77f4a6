#!/usr/bin/env python3
"""Writes the benchmark pickles: one file per shape and protocol.

    python3 bench/make_inputs.py [OUT_DIR]     (default: target/bench-data/)

Stdlib only and deterministic (a fixed-seed random.Random), so every run
writes byte-identical files. A `VERSION` file in OUT_DIR records the
generator's version; the Rust bench regenerates the data when it differs.
"""

import os
import pickle
import random
import sys

# Bump when a shape changes, so stale data directories are rebuilt.
VERSION = "1"

# Protocols written for every shape: 4 (framed, what Python 3.8+ writes by
# default is 4 or 5, which decode the same way here) and 2 (unframed,
# Python 2 compatible opcodes). Protocol 2 has no bytes opcodes: it writes
# bytes as _codecs.encode(str, 'latin1') calls, which is slow and big for
# 64 MiB, so the `bytes` shape is written in protocol 4 only.
PROTOCOLS = (4, 2)
ONLY_P4 = {"bytes"}


def make_ints(rng):
    # 1,000,000 ints mixed over the ranges pickle encodes differently:
    # BININT1 (< 256), BININT2 (< 65536) and BININT (< 2**31).
    out = []
    for _ in range(1_000_000):
        k = rng.randrange(3)
        if k == 0:
            out.append(rng.randrange(256))
        elif k == 1:
            out.append(rng.randrange(65536))
        else:
            out.append(rng.randrange(2**31))
    return out


def make_strings(rng):
    # 500,000 short strs, three quarters ASCII, one quarter non-ASCII
    # (Latin-1, Greek, CJK, an emoji). Built fresh, so none is shared and
    # the pickler memoizes each one.
    pool = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-"
    wide = "éüßñçøΩλπΣжЯ中文字日本語한국😀"
    out = []
    for i in range(500_000):
        n = rng.randrange(1, 24)
        if i % 4 == 3:
            s = "".join(rng.choice(wide if rng.random() < 0.5 else pool) for _ in range(n))
        else:
            s = "".join(rng.choice(pool) for _ in range(n))
        out.append(s)
    return out


def make_dicts(rng):
    # 100,000 small dicts, each with its own tags list.
    return [{"id": i, "name": "x" + str(i), "score": i * 0.5, "tags": ["a", "b"]} for i in range(100_000)]


def make_bytes(rng):
    # 64 distinct payloads of 1 MiB each.
    return [rng.randbytes(1 << 20) for _ in range(64)]


def make_shared(rng):
    # A deeply shared graph: 100 objects referenced from 1000 lists, a
    # chain of tuples where each shares the previous one and some items,
    # and a cycle.
    base = [("item", i, [i, str(i)], {"k": i}) for i in range(100)]
    lists = [list(base) for _ in range(1000)]
    # The pickler recurses once per level, so the chain stays well under
    # Python's recursion limit.
    chain = ()
    for i in range(300):
        chain = (chain, base[i % 100], i)
    cyc = [1, 2, 3]
    d = {"self": cyc, "lists": lists}
    cyc.append(cyc)
    cyc.append(d)
    return {"base": base, "lists": lists, "chain": chain, "cycle": cyc}


def make_floats(rng):
    return [rng.uniform(-1e6, 1e6) for _ in range(1_000_000)]


def make_nested(rng):
    # Each tuple has its own str; pickled via TUPLE with a MARK (4 items).
    return [(i, "s" + str(i), None, True) for i in range(100_000)]


SHAPES = {
    "ints": make_ints,
    "strings": make_strings,
    "dicts": make_dicts,
    "bytes": make_bytes,
    "shared": make_shared,
    "floats": make_floats,
    "nested": make_nested,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("target", "bench-data")
    os.makedirs(out, exist_ok=True)
    for name, make in SHAPES.items():
        obj = make(random.Random(f"pyckle-bench-{name}"))
        for proto in PROTOCOLS:
            if proto != 4 and name in ONLY_P4:
                continue
            path = os.path.join(out, f"{name}.p{proto}.pickle")
            data = pickle.dumps(obj, protocol=proto)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
            print(f"{path}: {len(data)} bytes")
    with open(os.path.join(out, "VERSION"), "w") as f:
        f.write(VERSION + "\n")


if __name__ == "__main__":
    main()
