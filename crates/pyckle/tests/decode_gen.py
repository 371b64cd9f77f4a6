"""Random pickles for the differential test (tests/decode_python.rs).

python3 decode_gen.py CANONICAL_PY OUT_DIR SEED COUNT [recode] writes OUT_DIR/N.pkl and
OUT_DIR/N.json: random graphs (shared items, cycles, every core type)
pickled at every protocol, with the canonical JSON CPython's loader gives.
With `recode` (for tests/encode_python.rs) it also writes OUT_DIR/N.rP.pkl,
pickle.dumps(pickle.loads(N.pkl), P) for every protocol P."""
import importlib.util
import json
import pickle
import random
import sys

spec = importlib.util.spec_from_file_location("canonical", sys.argv[1])
canonical = importlib.util.module_from_spec(spec)
spec.loader.exec_module(canonical)
out, seed, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
recode = sys.argv[5:] == ["recode"]
rng = random.Random(seed)


def scalar():
    k = rng.randrange(12)
    if k == 0:
        return rng.choice([None, True, False])
    if k == 1:
        return rng.randrange(-300, 300)
    if k == 2:
        return rng.randrange(-2**70, 2**70) * rng.choice([1, 2**rng.randrange(200)])
    if k == 3:
        return rng.choice([0.0, -0.0, 1.5, 1e300, -1e-300, float("inf"), float("nan"), rng.random() * 10**rng.randrange(-20, 20)])
    if k == 4:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x800), rng.randrange(0x800, 0xd800), rng.randrange(0x10000, 0x110000), 0xd800 + rng.randrange(2048), 10, 0, 92])) for _ in range(rng.randrange(12)))
    if k == 5:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(12)))
    if k == 6:
        return rng.randrange(2**31)
    if k == 7:
        return "x" * rng.randrange(300)
    return rng.randrange(100)


def hashable(depth):
    if depth > 2 or rng.random() < 0.6:
        v = scalar()
        if recode and v is None:
            # hash(None) is its address in CPython 3.11: the order of a set
            # holding None changes from run to run, so no bytes to compare.
            v = 0
        return v if not (isinstance(v, float) and v != v) else 1.25
    if rng.random() < 0.5:
        return tuple(hashable(depth + 1) for _ in range(rng.randrange(4)))
    return frozenset(hashable(depth + 1) for _ in range(rng.randrange(4)))


def value(depth, pool):
    r = rng.random()
    if pool and r < 0.15:
        return rng.choice(pool)
    if depth > 4 or r < 0.4:
        return scalar()
    k = rng.randrange(7)
    if k == 0:
        v = [value(depth + 1, pool) for _ in range(rng.randrange(6))]
        if rng.random() < 0.2:
            v.append(v)
    elif k == 1:
        v = tuple(value(depth + 1, pool) for _ in range(rng.randrange(6)))
        if rng.random() < 0.1:
            # A tuple in a cycle: the list inside it holds the tuple.
            inner = []
            v = v + (inner,)
            inner.append(v)
    elif k == 2:
        v = {hashable(0): value(depth + 1, pool) for _ in range(rng.randrange(6))}
        if rng.random() < 0.2:
            v["self"] = v
    elif k == 3:
        v = {hashable(0) for _ in range(rng.randrange(6))}
    elif k == 4:
        v = frozenset(hashable(0) for _ in range(rng.randrange(6)))
    elif k == 5:
        v = bytearray(scalar() if False else bytes(rng.randrange(256) for _ in range(rng.randrange(6))))
    else:
        # Long enough for APPENDS/SETITEMS batching (1000 per batch), flat.
        v = [scalar() for _ in range(rng.randrange(1200, 2600))] if rng.random() < 0.05 else []
    if not isinstance(v, (tuple, frozenset)) or rng.random() < 0.5:
        pool.append(v)
    return v


for i in range(count):
    obj = value(0, [])
    proto = i % 6
    data = pickle.dumps(obj, protocol=proto)
    with open(f"{out}/{i}.pkl", "wb") as f:
        f.write(data)
    loaded = pickle.loads(data)
    if recode:
        for p in range(6):
            with open(f"{out}/{i}.r{p}.pkl", "wb") as f:
                f.write(pickle.dumps(loaded, protocol=p))
    doc = canonical.canonical(pickle.loads(data), proto)
    with open(f"{out}/{i}.json", "w") as f:
        f.write(json.dumps(doc, ensure_ascii=True))
