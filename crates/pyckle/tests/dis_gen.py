"""Generates pickles and pickletools' disassembly of them, for dis_python.rs.

Usage: python3 dis_gen.py OUT.json [COUNT] [SEED]

Writes a JSON list of cases {"name", "pkl" (hex), "out0", "err0", "out30",
"err30"}: the stdout of pickletools.dis with annotate=0 and annotate=30, and
whether it raised. Valid pickles of all protocols, hand-made Python 2 style
pickles, and corrupted/truncated variants (which exercise the error paths).
"""
import collections
import datetime
import decimal
import fractions
import io
import json
import pickle
import pickletools
import random
import sys
import uuid

out_path = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 12345
rng = random.Random(seed)


def rand_str():
    kind = rng.randrange(6)
    n = rng.randrange(0, 12)
    if kind == 0:
        return "".join(chr(rng.randrange(32, 127)) for _ in range(n))
    if kind == 1:
        return "".join(chr(rng.randrange(0, 0x100)) for _ in range(n))
    if kind == 2:
        return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(n))
    if kind == 3:
        return "".join(chr(rng.randrange(0, 0x110000)) for _ in range(n))
    if kind == 4:
        return rng.choice(["'", '"', "'\"", "\\", "\\u0041", "\n\r\t", "\x00", "\ud800", "\udfff\ud800",
                           "\u2028", "\U0001f600", "a" * 300, "é" * 200, "\\\\", " "])
    return "".join(rng.choice("ab'\"\\\n \x7f\x80\xff\u0100\ud800\U00010000") for _ in range(n))


def rand_bytes():
    n = rng.choice([0, 1, 3, 10, 255, 256, 300])
    return bytes(rng.randrange(256) for _ in range(n))


def rand_float():
    k = rng.randrange(5)
    if k == 0:
        return rng.choice([0.0, -0.0, 1.0, -1.5, float("inf"), float("-inf"), float("nan"), 1e16, 1e-5,
                           1e-4, 5e-324, 1.7976931348623157e308, 0.1, 1e15, 123456789.125])
    if k == 1:
        import struct
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if k == 2:
        return rng.uniform(-1e6, 1e6)
    if k == 3:
        return rng.random() * 10 ** rng.randrange(-30, 30)
    return float(rng.randrange(-10**6, 10**6))


def rand_int():
    k = rng.randrange(6)
    if k == 0:
        return rng.randrange(-5, 300)
    if k == 1:
        return rng.randrange(-2**31, 2**31)
    if k == 2:
        return rng.randrange(-2**64, 2**64)
    if k == 3:
        return rng.randrange(-10**60, 10**60)
    if k == 4:
        return rng.choice([0, 255, 256, 65535, 65536, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**63, 10**4299])
    return rng.getrandbits(rng.randrange(1, 3000)) * rng.choice([1, -1])


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class OldStyleArgs:
    def __init__(self, v):
        self.v = v

    def __getinitargs__(self):
        return (self.v,)


class WithNewArgsEx:
    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        self.args = args

    def __getnewargs_ex__(self):
        return (self.args, {"k": 1})


Point.__module__ = "__main__"
Slotted.__module__ = "__main__"
WithNewArgsEx.__module__ = "__main__"
OldStyleArgs.__module__ = "__main__"
sys.modules["__main__"].Point = Point
sys.modules["__main__"].Slotted = Slotted
sys.modules["__main__"].WithNewArgsEx = WithNewArgsEx
sys.modules["__main__"].OldStyleArgs = OldStyleArgs


def rand_value(depth=0):
    leaf = depth > 3 or rng.random() < 0.35
    if leaf:
        k = rng.randrange(12)
        return [None, True, False, rand_int(), rand_int(), rand_float(), rand_str(), rand_str(),
                rand_bytes(), bytearray(rand_bytes()), complex(rand_float(), rand_float()),
                rng.choice([datetime.date(2020, 1, 2), datetime.datetime(2021, 3, 4, 5, 6, 7, 8),
                            decimal.Decimal("1.25"), fractions.Fraction(3, 7), uuid.UUID(int=12345),
                            range(3, 10, 2), slice(1, 2), Ellipsis, NotImplemented, int, len,
                            frozenset(), set(), (), [], {}])][k]
    k = rng.randrange(10)
    n = rng.randrange(0, 6)
    if k == 0:
        return [rand_value(depth + 1) for _ in range(n)]
    if k == 1:
        return tuple(rand_value(depth + 1) for _ in range(rng.randrange(0, 5)))
    if k == 2:
        return {rng.choice([rand_str(), rand_int(), rand_float()]) if rng.random() < 0.8 else None:
                rand_value(depth + 1) for _ in range(n)}
    if k == 3:
        return set(rng.choice([rand_int(), rand_str()]) for _ in range(n))
    if k == 4:
        return frozenset(rand_int() for _ in range(n))
    if k == 5:
        shared = rand_value(depth + 1)
        return [shared, shared, (shared,)]
    if k == 6:
        lst = [rand_value(depth + 1)]
        lst.append(lst)
        return lst
    if k == 7:
        return rng.choice([Point(rand_value(depth + 1), rand_int()), Slotted(1, rand_str()),
                           OldStyleArgs(rand_int()), WithNewArgsEx(1, 2),
                           collections.OrderedDict([(1, 2), (3, rand_str())]),
                           collections.defaultdict(list, {1: [2]}), collections.Counter("hello")])
    if k == 8:
        if depth == 0 and rng.random() < 0.2:
            # Long lists: APPENDS batches of 1000, FRAME boundaries.
            return [rng.randrange(70000) for _ in range(rng.choice([999, 1000, 1001, 2500]))]
        return [rand_value(depth + 1) for _ in range(n)]
    return {"k%d" % i: rand_value(depth + 1) for i in range(n)}


def run_dis(data, annotate):
    out = io.StringIO()
    err = False
    try:
        pickletools.dis(data, out, None, 4, annotate)
    except Exception:
        err = True
    return out.getvalue(), err


cases = []


def add(name, data):
    o0, e0 = run_dis(data, 0)
    o30, e30 = run_dis(data, 30)
    cases.append({"name": name, "pkl": data.hex(), "out0": o0, "err0": e0, "out30": o30, "err30": e30})


# Hand-made pickles: Python 2 style and pickletools' own corner cases.
HAND = [
    b"I01\nI00\nI1\nI-5\nI 7 \nI1_000\nI12345678901234567890123\n(I1\nI2\nt0.",
    b"L123L\nL-5\nL0L\nL123456789012345678901234567890L\n(L1\nL2L\nl.",
    b"S'abc'\nS\"it's\"\nS'a\\nb\\x41\\101\\q'\nS''\nS'\nS'\\\\'\n(S'x'\nS'y'\nt.",
    b"S'caf\\xc3\\xa9'\n.",
    b"S'bad\n.",
    b"S\"bad'\n.",
    b"Vabc\nV\\u00e9\\U0001f600\\ud800\nV\\\\u0041\nV\nVcaf\xe9\n(t.",
    b"V\\u004\n.",
    b"F1.5\nF-0.0\nFnan\nF-inf\nF1e16\nF1_0.5\nF 2 \nF1e-5\n(t.",
    b"F1.5x\n.",
    b"ccopy_reg\n_reconstructor\np0\n(c__main__\nPoint\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'x'\np6\nI1\nsb.",
    b"(i__main__\nPoint\np0\n(dp1\nb.",
    b"\x80\x02U\x03abcq\x00T\x04\x00\x00\x00defgq\x01\x86q\x02.",
    b"\x80\x02U\x02\xe9\xffq\x00.",
    b"\x80\x02\x8a\x00\x8a\x01\xff\x8a\x02\x00\x80\x8b\x03\x00\x00\x00\x01\x02\x03\x85\x87.",
    b"(lp0\nI1\nag0\na.",
    b"(lp0\ng1\n.",
    b"(lp0\np0\n.",
    b"(p0\n.",
    b"p0\n.",
    b"]q\x00h\x01.",
    b"I1\nI2\n.",
    b".",
    b"(I1\n0.",
    b"(0I1\n.",
    b"1.",
    b"(I1\nI2\n1N.",
    b"e.",
    b"]((e.",
    b"](I1\nI2\neI3\na.",
    b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x8c\x01a\x94.",
    b"\x80\x04\x8c\x01a\x94\x94.",
    b"\x80\x04(\x94.",
    b"\x80\x05\x97\x98\x96\x03\x00\x00\x00\x00\x00\x00\x00abc\x86.",
    b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\x7fabc.",
    b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\xffabc.",
    b"\x80\x04\x8d\x02\x00\x00\x00\x00\x00\x00\x00\xed\xa0.",
    b"\x80\x04\x8d\x03\x00\x00\x00\x00\x00\x00\x00\xed\xa0\x80.",
    b"X\x02\x00\x00\x00\xc0\x80.",
    b"\x80\x03C\x02'\"B\x01\x00\x00\x00'\x8e\x00\x00\x00\x00\x00\x00\x00\x00\x87.",
    b"\x80\x06N.",
    b"\x80\x02\x82\x01\x83\x01\x02\x84\x01\x02\x03\x04\x87.",
    b"P123\nQ.",
    b"Pa b\n.",
    b"K\x01K\x02\x85]\x8f\x91\x90.",
    b"\x80\x04\x8c\x01a\x8c\x01b\x93)}\x92.",
    b"G?\xf8\x00\x00\x00\x00\x00\x00G\x7f\xf8\x00\x00\x00\x00\x00\x01\x86.",
    b"J\xff\xff\xff\xffM\xff\xffK\xff\x87.",
    b"\x8b\x10\x27\x00\x00" + b"\x01" * 10000 + b".",
    b"\x8b\xd0\x07\x00\x00" + b"\x01" * 2000 + b".",
    b"I" + b"1" * 4300 + b"\n.",
    b"I" + b"1" * 4301 + b"\n.",
    b"g" + b"9" * 40 + b"\n.",
    b"N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(N(tttttttttt.",
    b"(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((ll.",
    b"(\x8c\x05" + "é€😀".encode()[:5] + b"\x8c\x04" + "😀".encode() + b"\x8c\x03\xe2\x80\xa8t.",
    b"I1\np01\ng1\n0g01\n0g00\n.",
    b"I1\np00\ng0\n0I2\n\x94.",
    b"I1\np1\n\x94\x94.",
    b"I1\np 1_0 \ng10\n0g-0\n.",
    b"(I1\nI2\no.",
    b"(I1\no.",
    b"(o.",
    b"(2.",
    b"((1.",
    b"(\x85.",
    b"\x8b\xff\xff\xff\xff.",
    b"T\xff\xff\xff\xff.",
    b"T\x03\x00\x00\x00\xe9\xff\x80.",
    b"S'a\\'\n.",
    b"S'\\x4g'\n.",
    b"S'\\400\\7\\08'\n.",
    b"c\\x41\\n\nb'c\n.",
    b"cmod\nna\xe9me\n.",
    b"cmod\n.",
    b"V\\\n.",
    b"V\\u00\n.",
    b"V\\U0001F600x\\u12345\n.",
    b"F\n.",
    b"F.\n.",
    b"Fe5\n.",
    b"F1e+\n.",
    b"F-.5E-3\n.",
    b"F+NaN\n.",
    b"FINF\n.",
    b"F_1\n.",
    b"F1__0\n.",
    b"F1.5_\n.",
    b"F\xc2\xa01\n.",
    b"I\n.",
    b"I+\n.",
    b"I0x10\n.",
    b"I\xd9\xa1\n.",
    b"L\n.",
    b"LL\n.",
    b"L5LL\n.",
    b"\x80\x02\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x8a\x01\x80.",
    b"\x80\x04\x95\xff\xff\xff\xff\xff\xff\xff\xff.",
    b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.",
    b"\x80\x04\x8d\x00\x00\x00\x00\x00\x00\x00\x80.",
    b"\x80\x04\x8c\x03\xf0\x9f\x98.",
    b"\x80\x04\x8c\x02\xc3\xa9)\x8c\x01'\x8c\x02'\"\x8c\x01\"\x87.",
    b"C\x01'C\x02'\"C\x01\"\x96\x01\x00\x00\x00\x00\x00\x00\x00\"\x96\x02\x00\x00\x00\x00\x00\x00\x00'\"(t.",
    b"h\x00.",
    b"j\x00\x00\x00\x01.",
    b"r\x00\x00\x00\x01.",
    b"N\x94N\x94h\x01h\x00\x86\x86.",
    b"",
    b"\x00",
    b"\x80",
    b"K",
    b"I1",
    b"I1\n",
]
for i, data in enumerate(HAND):
    add("hand%d" % i, data)

# Valid pickles of random values, every protocol, some optimized.
valid = []
for i in range(count):
    v = rand_value()
    proto = i % 6
    try:
        if proto == 5 and rng.random() < 0.3:
            bufs = []
            data = pickle.dumps([pickle.PickleBuffer(b"abc"), pickle.PickleBuffer(bytearray(b"xy")),
                                 v], protocol=5, buffer_callback=bufs.append)
        else:
            data = pickle.dumps(v, protocol=proto)
    except Exception:
        continue
    if rng.random() < 0.15:
        data = pickletools.optimize(data)
    valid.append(data)
    add("valid%d_p%d" % (i, proto), data)

# Corrupted variants: truncations, flipped bytes, inserted bytes.
for i in range(count):
    data = bytearray(rng.choice(valid))
    k = rng.randrange(4)
    if k == 0 and data:
        data = data[: rng.randrange(len(data))]
    elif k == 1 and data:
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif k == 2:
        pos = rng.randrange(len(data) + 1)
        data[pos:pos] = bytes([rng.choice(b"(.01a\n" + bytes(range(0x80, 0x99)) + b"eutsgqph")])
    else:
        if data:
            del data[rng.randrange(len(data))]
    add("corrupt%d" % i, bytes(data))

with open(out_path, "w") as f:
    json.dump(cases, f)
