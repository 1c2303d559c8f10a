#!/usr/bin/env python3
"""A Llama-2-7B-shaped checkpoint of random bfloat16 weights in the Hugging Face folder layout:
two safetensors shards with their index, config.json, and a byte-level tokenizer.json whose
32000-token vocabulary is GPT-2's 256 byte symbols plus filler tokens (no merges). For the
benchmark of loading blocks 0-8 of a 13 GB checkpoint and taking keys at layers 4-8
(docs/benchmarks.md); nothing of it is committed.

    python3 scripts/make-llama7b-shaped.py OUT_DIR      (numpy only; ~13 GB, about a minute)
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
d, dk, L, V = 4096, 11008, 32, 32000
rng = np.random.default_rng(0)


def bf16(shape, scale):
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.uint16)
    step = 1 << 24
    for a in range(0, n, step):
        x = (rng.standard_normal(min(step, n - a), dtype=np.float32) * scale).view(np.uint32)
        out[a:a + len(x)] = (x >> 16).astype(np.uint16)
    return out


def tensors(layers):
    for l in layers:
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", [d], 0
        yield p + "post_attention_layernorm.weight", [d], 0
        for n in ["q_proj", "k_proj", "v_proj", "o_proj"]:
            yield p + f"self_attn.{n}.weight", [d, d], 1
        yield p + "mlp.gate_proj.weight", [dk, d], 1
        yield p + "mlp.up_proj.weight", [dk, d], 1
        yield p + "mlp.down_proj.weight", [d, dk], 2


def write_shard(name, entries):
    header, offset = {}, 0
    for n, shape, kind in entries:
        size = int(np.prod(shape)) * 2
        header[n] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(out, name), "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for n, shape, kind in entries:
            if kind == 0:  # norm gains: 1.0 in bfloat16
                f.write(np.full(int(np.prod(shape)), 0x3F80, dtype=np.uint16).tobytes())
            else:
                f.write(bf16(shape, 0.02 if kind == 1 else 0.01).tobytes())
    return [n for n, _, _ in entries]


first = [("model.embed_tokens.weight", [V, d], 1)] + list(tensors(range(0, 16)))
second = list(tensors(range(16, 32))) + [("model.norm.weight", [d], 0), ("lm_head.weight", [V, d], 1)]
wm = {}
for name, entries in [("model-00001-of-00002.safetensors", first), ("model-00002-of-00002.safetensors", second)]:
    for n in write_shard(name, entries):
        wm[n] = name
json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(out, "model.safetensors.index.json"), "w"))
json.dump({"model_type": "llama", "hidden_size": d, "intermediate_size": dk, "num_hidden_layers": L,
           "num_attention_heads": 32, "num_key_value_heads": 32, "max_position_embeddings": 4096,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": V, "tie_word_embeddings": False,
           "hidden_act": "silu", "_name_or_path": "llama2-7b-shaped-random"}, open(os.path.join(out, "config.json"), "w"))
# A byte-level BPE vocabulary of 32000: GPT-2's 256 byte symbols, then filler tokens.
byte = [chr(b) if (33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255) else None for b in range(256)]
extra = 0
for b in range(256):
    if byte[b] is None:
        byte[b] = chr(256 + extra)
        extra += 1
vocab = {c: i for i, c in enumerate(byte)}
for i in range(256, V):
    vocab[f"<filler_{i}>"] = i
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": [], "byte_fallback": False},
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
           "added_tokens": []}, open(os.path.join(out, "tokenizer.json"), "w"))
print("wrote", out)
