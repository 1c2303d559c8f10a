#!/usr/bin/env python3
"""Per-block forward speed at the true widths of GPT2-XL, GPT-J-6B and Llama-2-7B: our forward
pass (`verify bench-model --blocks-only`) next to PyTorch + transformers on the same generated
checkpoint (2 blocks with random weights, bfloat16 on disk, fp32 compute in both stacks), the
same token ids, interleaved: ours, PyTorch, ours, PyTorch (medians).

Each family's checkpoint is made once by transformers from a config (random init,
save_pretrained) under --dir; the tokenizer is the tiny fixture's (only the ids matter). GPT2-XL
has 1024 positions; its checkpoint here has 2048 so that both lengths run at its widths.

Reported per block and length: seconds, tokens/s, the speed-up (PyTorch time / ours), and the
effective GFLOP/s of each stack (the block's matrix products plus causal attention, counted
analytically) as a fraction of this machine's fp32 sgemm rate at the MLP's shape, measured in the
same run by `verify bench-model` (OpenBLAS).

Usage (make bench-blocks does this):
    python scripts/bench_blocks.py --verify .build/release/verify [--families gpt2-xl,gptj-6b,llama2-7b]
Run with the benchmark venv's python (scripts/setup-bench-model.sh prints its path).
"""
import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import time

import torch
import transformers

ap = argparse.ArgumentParser()
ap.add_argument("--verify", required=True)
ap.add_argument("--tokens", default="512,2048")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--rounds", type=int, default=2)
ap.add_argument("--families", default="gpt2-xl,gptj-6b,llama2-7b")
ap.add_argument("--dir", default="/tmp/kev-bench-blocks")
args = ap.parse_args()
lengths = [int(x) for x in args.tokens.split(",")]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
torch.set_grad_enabled(False)

FAMILIES = {
    "gpt2-xl": dict(
        make=lambda: transformers.GPT2Config(
            n_embd=1600, n_layer=2, n_head=25, n_positions=2048, vocab_size=50257, activation_function="gelu_new"),
        tokenizer="tiny-gpt2", d=1600, dk=6400),
    "gptj-6b": dict(
        make=lambda: transformers.GPTJConfig(
            n_embd=4096, n_layer=2, n_head=16, rotary_dim=64, n_inner=16384, n_positions=2048, vocab_size=50400),
        tokenizer="tiny-gptj", d=4096, dk=16384),
    "llama2-7b": dict(
        make=lambda: transformers.LlamaConfig(
            hidden_size=4096, intermediate_size=11008, num_hidden_layers=2, num_attention_heads=32,
            num_key_value_heads=32, max_position_embeddings=4096, vocab_size=32000, rms_norm_eps=1e-5),
        tokenizer="tiny-llama", d=4096, dk=11008),
}


def product_flops(name, d, dk):
    """FLOPs per token of one block's matrix products."""
    if name == "gpt2-xl":
        return 2 * (3 * d * d + d * d + 2 * d * dk)
    if name == "gptj-6b":
        return 2 * (4 * d * d + 2 * d * dk)
    return 2 * (4 * d * d + 3 * d * dk)


def checkpoint(name):
    path = os.path.join(args.dir, name)
    if os.path.exists(os.path.join(path, "config.json")):
        return path
    f = FAMILIES[name]
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(f["make"]()).to(torch.bfloat16)
    model.save_pretrained(path)
    src = os.path.join(root, "fixtures", f["tokenizer"], "model")
    for t in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(os.path.join(src, t), os.path.join(path, t))
    del model
    gc.collect()
    return path


def ours(path, ids_out):
    out = subprocess.run(
        [args.verify, "bench-model", "--model", path, "--tokens", args.tokens, "--repeat", str(args.repeat),
         "--blocks-only", "--json", "--ids-out", ids_out],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def torch_time(base, ids, repeat):
    x = torch.tensor([ids])
    base(x, use_cache=False)  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        base(x, use_cache=False)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def med(xs):
    return sorted(xs)[len(xs) // 2]


print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
      f"{platform.machine()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
for name in args.families.split(","):
    f = FAMILIES[name]
    path = checkpoint(name)
    ids_out = os.path.join(args.dir, name + "-ids.json")
    first = ours(path, ids_out)
    ids = json.load(open(ids_out))
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    base = model.base_model
    blocks = first["blocks"]
    ours_runs, torch_runs = [], []
    for _ in range(args.rounds):
        ours_runs.append(ours(path, ids_out))
        torch_runs.append({t: torch_time(base, ids[:t], args.repeat) for t in lengths})
    print(f"\n{name} (d = {f['d']}, d_k = {f['dk']}, {blocks} blocks): ours OpenBLAS "
          f"{first['blas_core']}, elementwise kernels {first['elementwise_kernels']}")
    print("| tokens | ours s/block | PyTorch s/block | ours tokens/s | PyTorch tokens/s | speed-up "
          "| sgemm GFLOP/s | ours % of sgemm | PyTorch % of sgemm |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in lengths:
        o = med([r["median_seconds"] for run in ours_runs for r in run["rows"] if r["tokens"] == t]) / blocks
        p = med([run[t] for run in torch_runs]) / blocks
        peak = med([r["sgemm_gflops"] for run in ours_runs for r in run["rows"] if r["tokens"] == t])
        flops = t * product_flops(name, f["d"], f["dk"]) + 2 * f["d"] * t * (t + 1)
        og, pg = flops / o / 1e9, flops / p / 1e9
        print(f"| {t} | {o:.3f} | {p:.3f} | {t / o:.0f} | {t / p:.0f} | {p / o:.2f}x | {peak:.0f} "
              f"| {100 * og / peak:.0f} % | {100 * pg / peak:.0f} % |")
    del model, base
    gc.collect()
