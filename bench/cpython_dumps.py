#!/usr/bin/env python3
"""Times CPython's `pickle.dumps` on the object of each file given.

    python3 bench/cpython_dumps.py [--budget SECONDS] [--gc] [--protocol P] FILE...

Each file is read and loaded once (`pickle.loads`, not timed). After one
warm-up call, `pickle.dumps(obj, protocol)` runs until the time budget
(default 1 s) is spent and at least 5 times; the time of each call
includes freeing the output `bytes` (as dropping the output `Vec` is in
Rust). The protocol is the one the file was written with (its PROTO
opcode; the `.p4`/`.p2` inputs of make_inputs.py), or P for every file
with `--protocol P`. Prints one JSON object per file:

    {"file": ..., "size": ..., "runs": ..., "median_ns": ..., "min_ns": ...,
     "protocol": ..., "dumped_size": ...}

("size" is the input file's size, as in cpython_loads.py; "dumped_size"
the length of what dumps returns, equal to "size" for make_inputs.py's
files at their own protocol) and, first, a line {"python": "<version>", ...}.

By default the cyclic garbage collector is off during each timed call (as
`timeit` does): this gives CPython its best number. `--gc` keeps it on, as
a real `pickle.dumps` runs. `dumps` leaves no cycles behind, so unlike
cpython_loads.py nothing is collected between calls (a full collection
would walk the whole loaded object every time); the loaded object is
collected once before timing, so it sits in the oldest generation.
"""

import gc
import json
import pickle
import pickletools
import statistics
import sys
import time


def own_protocol(data):
    """The protocol the pickle was written with: its PROTO opcode, or (no
    PROTO: protocol 0 or 1) the highest protocol among its opcodes."""
    if len(data) > 1 and data[0] == 0x80:
        return data[1]
    return max(op.proto for op, _, _ in pickletools.genops(data))


def bench(obj, protocol, budget, keep_gc):
    dumps = pickle.dumps
    dumps(obj, protocol)  # warm-up
    times = []
    start = time.perf_counter_ns()
    while len(times) < 5 or time.perf_counter_ns() - start < budget * 1e9:
        if not keep_gc:
            gc.disable()
        t0 = time.perf_counter_ns()
        out = dumps(obj, protocol)
        del out  # freeing the output is part of the cost, as in Rust
        times.append(time.perf_counter_ns() - t0)
        if not keep_gc:
            gc.enable()
    return times


def main(argv):
    budget = 1.0
    keep_gc = False
    protocol = None
    while argv[:1] and argv[0].startswith("--"):
        if argv[0] == "--budget":
            budget = float(argv[1])
            argv = argv[2:]
        elif argv[0] == "--gc":
            keep_gc = True
            argv = argv[1:]
        elif argv[0] == "--protocol":
            protocol = int(argv[1])
            if not 0 <= protocol <= pickle.HIGHEST_PROTOCOL:
                sys.exit(f"protocol {protocol} is not in 0..{pickle.HIGHEST_PROTOCOL}")
            argv = argv[2:]
        else:
            sys.exit(f"unknown option {argv[0]}")
    print(json.dumps({"python": sys.version.split()[0], "implementation": sys.implementation.name,
                      "gc_during_dumps": keep_gc}), flush=True)
    for path in argv:
        with open(path, "rb") as f:
            data = f.read()
        proto = own_protocol(data) if protocol is None else protocol
        size = len(data)
        obj = pickle.loads(data)
        del data
        dumped_size = len(pickle.dumps(obj, proto))
        gc.collect()
        times = bench(obj, proto, budget, keep_gc)
        del obj
        gc.collect()  # the `shared` shape has a cycle
        print(json.dumps({
            "file": path,
            "size": size,
            "runs": len(times),
            "median_ns": int(statistics.median(times)),
            "min_ns": min(times),
            "protocol": proto,
            "dumped_size": dumped_size,
        }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
