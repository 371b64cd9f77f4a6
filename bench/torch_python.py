"""The Python side of the torch benchmark (crates/pyckle-torch/benches/torch.rs).

    python bench/torch_python.py make OUT.pt
        writes the checkpoint the benchmark uses (deterministic: fixed seed):
        a GPT-like state_dict of ~1.12 GiB, 483 names, float32 and bfloat16,
        with a tied embedding (two names, one tensor: 482 tensors), fused q/k/v projections
        (three views with offsets into one storage) and transposed MLP
        weights (non-contiguous views), in {"model": ..., "epoch", "step", "lr", "arch"}.

    python bench/torch_python.py list FILE
        torch.load(FILE, mmap=True) and every tensor's name, dtype and shape.

    python bench/torch_python.py convert [--mmap] FILE OUT
        torch.load(FILE) (mmap=False, the default, or mmap=True), then
        safetensors.torch.save_file of every tensor (contiguous; a tensor whose
        storage another already uses is cloned, since save_file refuses shared
        memory), with the checkpoint's scalars as metadata.

list and convert print one JSON line: the seconds the operation took
(after the imports), the resident memory after the imports (`base_kib`)
and the peak resident memory of the process (`peak_kib`, VmHWM).
"""
import json
import os
import sys
import time


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def make(out):
    import torch

    torch.manual_seed(0)
    hidden, layers, vocab, mlp = 1024, 32, 32000, 4096
    sd = {}
    embed = torch.randn(vocab, hidden)
    sd["model.embed_tokens.weight"] = embed
    for i in range(layers):
        p = f"model.layers.{i}."
        qkv = torch.randn(3 * hidden, hidden)
        sd[p + "self_attn.q_proj.weight"] = qkv[:hidden]
        sd[p + "self_attn.k_proj.weight"] = qkv[hidden : 2 * hidden]
        sd[p + "self_attn.v_proj.weight"] = qkv[2 * hidden :]
        sd[p + "self_attn.o_proj.weight"] = torch.randn(hidden, hidden)
        for n in ("q", "k", "v", "o"):
            sd[p + f"self_attn.{n}_proj.bias"] = torch.randn(hidden)
        for n in ("input_layernorm", "post_attention_layernorm"):
            sd[p + n + ".weight"] = torch.ones(hidden)
            sd[p + n + ".bias"] = torch.zeros(hidden)
        sd[p + "mlp.up_proj.weight"] = torch.randn(mlp, hidden).to(torch.bfloat16)
        sd[p + "mlp.up_proj.bias"] = torch.randn(mlp).to(torch.bfloat16)
        sd[p + "mlp.down_proj.weight"] = torch.randn(mlp, hidden).to(torch.bfloat16).t()
    sd["model.norm.weight"] = torch.ones(hidden)
    sd["lm_head.weight"] = embed
    ckpt = {"model": sd, "epoch": 3, "step": 120000, "lr": 3e-4, "arch": "gpt-1024x32"}
    tmp = out + ".tmp"
    torch.save(ckpt, tmp)
    os.replace(tmp, out)
    print(json.dumps({"file": out, "bytes": os.path.getsize(out), "tensors": len(sd)}))


def walk(obj, path=(), seen=None):
    """(name, tensor) in order; a tensor reached twice (the tied lm_head) once, as pyckle lists it."""
    import torch

    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        if id(obj) not in seen:
            seen.add(id(obj))
            yield ".".join(path), obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, path + (str(k),), seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, path + (str(i),), seen)


def list_tensors(path):
    import torch

    base = status_kib("VmRSS")
    t0 = time.perf_counter()
    obj = torch.load(path, mmap=True, map_location="cpu", weights_only=True)
    rows = [(n, str(t.dtype), tuple(t.shape)) for n, t in walk(obj)]
    t1 = time.perf_counter()
    print(json.dumps({"seconds": t1 - t0, "tensors": len(rows), "base_kib": base, "peak_kib": status_kib("VmHWM")}))


def convert(path, out, mmap):
    import torch
    from safetensors.torch import save_file

    base = status_kib("VmRSS")
    t0 = time.perf_counter()
    obj = torch.load(path, mmap=mmap, map_location="cpu", weights_only=True)
    t1 = time.perf_counter()
    flat, storages = {}, set()
    for name, t in walk(obj):
        ptr = t.untyped_storage().data_ptr()
        t = t.contiguous()
        flat[name] = t.clone() if ptr in storages else t
        storages.add(ptr)
    metadata = {"format": "pt"}
    if isinstance(obj, dict):
        metadata.update({k: str(v) for k, v in obj.items() if isinstance(v, (int, float, str))})
    save_file(flat, out, metadata=metadata)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": t2 - t0,
                "load_seconds": t1 - t0,
                "save_seconds": t2 - t1,
                "tensors": len(flat),
                "base_kib": base,
                "peak_kib": status_kib("VmHWM"),
            }
        )
    )


def main(argv):
    if argv[:1] == ["make"] and len(argv) == 2:
        make(argv[1])
    elif argv[:1] == ["list"] and len(argv) == 2:
        list_tensors(argv[1])
    elif argv[:1] == ["convert"]:
        rest = [a for a in argv[1:] if a != "--mmap"]
        if len(rest) != 2:
            sys.exit(__doc__)
        convert(rest[0], rest[1], "--mmap" in argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
