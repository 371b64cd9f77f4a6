#!/usr/bin/env python3
"""Times CPython's `pickle.loads` on each file given.

    python3 bench/cpython_loads.py [--budget SECONDS] [--gc] FILE...

Each file is read once. After one warm-up call, `pickle.loads(data)` runs
until the time budget (default 1 s) is spent and at least 5 times; the
time of each call includes building the objects and (as in the Rust
bench) freeing them. Prints one JSON object per file:

    {"file": ..., "size": ..., "runs": ..., "median_ns": ..., "min_ns": ...}

and, first, a line {"python": "<version>", ...}.

By default the cyclic garbage collector is off during each timed call (as
`timeit` does): this gives CPython its best number. A real
`pickle.loads` runs with it on, and it then walks the young containers
every few hundred allocations; `--gc` times that instead. Cycles left
by a call are collected between calls, outside the timed region.
"""

import gc
import json
import pickle
import statistics
import sys
import time


def bench(data, budget, keep_gc):
    loads = pickle.loads
    loads(data)  # warm-up
    times = []
    start = time.perf_counter_ns()
    while len(times) < 5 or time.perf_counter_ns() - start < budget * 1e9:
        if not keep_gc:
            gc.disable()
        t0 = time.perf_counter_ns()
        obj = loads(data)
        del obj  # freeing is part of the cost, as dropping the graph is in Rust
        times.append(time.perf_counter_ns() - t0)
        if not keep_gc:
            gc.enable()
            # Frees what reference counting could not (the `shared` shape
            # has a cycle), outside the timed region.
            gc.collect()
    return times


def main(argv):
    budget = 1.0
    keep_gc = False
    while argv[:1] and argv[0].startswith("--"):
        if argv[0] == "--budget":
            budget = float(argv[1])
            argv = argv[2:]
        elif argv[0] == "--gc":
            keep_gc = True
            argv = argv[1:]
        else:
            sys.exit(f"unknown option {argv[0]}")
    print(json.dumps({"python": sys.version.split()[0], "implementation": sys.implementation.name,
                      "gc_during_loads": keep_gc}), flush=True)
    for path in argv:
        with open(path, "rb") as f:
            data = f.read()
        times = bench(data, budget, keep_gc)
        print(json.dumps({
            "file": path,
            "size": len(data),
            "runs": len(times),
            "median_ns": int(statistics.median(times)),
            "min_ns": min(times),
        }), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
