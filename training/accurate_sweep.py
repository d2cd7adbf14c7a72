"""Train several accurate-mode variants at once on one GPU machine and keep the best.

Runs where the device tool lends a GPU (torch + transformers + onnx + onnxruntime; no
socialloop). Each variant is one ``train_accurate.py train --save-weights RUNS/NAME --no-export
--int8-scores`` process; a small model like MiniLM-L6 leaves the GPU mostly idle, so several
share it::

    python3 training/accurate_sweep.py probe --config /tmp/base/config.json --out /tmp/probe.json
    python3 training/accurate_sweep.py run --plan round1 --examples EX --model /tmp/base \\
        --runs /tmp/runs --probe /tmp/probe.json --budget 450
    python3 training/accurate_sweep.py soup --runs /tmp/runs --examples EX --model /tmp/base
    python3 training/accurate_sweep.py collect --runs /tmp/runs --out $OUT \\
        --used /tmp/base/used_ids.json

``probe`` times training steps of a randomly initialised MiniLM (alone and ``--procs`` at
once); ``run`` scales the plan's epochs down (x0.8, x0.6, ...) when the probe says the slowest
variant would not finish within ``--budget`` seconds, and stops what is still running then;
``soup`` averages the weights of the best settings' seeds (a "model soup") and scores it;
``collect`` ranks every finished run by the rule below, writes ``scores.json`` and the best
run's fp16 weight shards (``accurate_transfer.py shards``) to ``--out``.

Rule (validation splits only, the int8 graph scored one text a pass): the highest mean of the
TweetEval emotion macro-F1 and the UMSAB average macro-F1, among the runs whose TweetEval
sentiment macro-F1 is at least ``SENTIMENT_FLOOR`` (the shipped model's 0.811 less a point).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SENTIMENT_FLOOR = 0.801
BATCH = 128

# name -> train_accurate.py train options (batch 128 for all)
BASE = {"epochs": 5, "lr": 5e-5, "max_len": 128, "seed": 13, "te": 1, "umsab": 1, "loss": "bce"}
PLANS: dict[str, dict[str, dict[str, Any]]] = {
    "round1": {  # by priority: when time is short, the first four run alone
        "e5_lr5_te4sm": {**BASE, "te": 4, "loss": "softmax"},
        "e5_lr5_te4": {**BASE, "te": 4},
        "r3_lr8_l96": {**BASE, "epochs": 3, "lr": 8e-5, "max_len": 96},
        "e5_lr8_te4sm": {**BASE, "lr": 8e-5, "te": 4, "loss": "softmax"},
        "e8_lr3_te4sm": {**BASE, "epochs": 8, "lr": 3e-5, "te": 4, "loss": "softmax"},
        "e5_lr5_te8sm_u3": {**BASE, "te": 8, "loss": "softmax", "umsab": 3},
        "e5_lr5": dict(BASE),
        "e5_lr5_te4sm_s2": {**BASE, "te": 4, "loss": "softmax", "seed": 2},
    },
    # a quick check of the whole path (tiny examples, CPU)
    "smoke": {
        "smoke_bce": {**BASE, "epochs": 1},
        "smoke_sm": {**BASE, "epochs": 1, "te": 4, "loss": "softmax", "umsab": 2},
    },
}


def _rank(info: dict[str, Any]) -> tuple[bool, float]:
    q = info.get("validation_int8") or {}
    if "emotion/tweeteval" not in q or "umsab_avg" not in q:
        return (False, 0.0)
    ok = q["sentiment/tweeteval"]["macro_f1"] >= SENTIMENT_FLOOR
    return (ok, (q["emotion/tweeteval"]["macro_f1"] + q["umsab_avg"]) / 2)


def _finished(runs: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for d in sorted(runs.iterdir()) if runs.is_dir() else []:
        if (d / "train.json").is_file() and (d / "weights.safetensors").is_file():
            out[d.name] = json.loads((d / "train.json").read_text(encoding="utf-8"))
    return out


def probe(config: Path, procs: int, out: Path) -> int:
    """Steps per second of one process alone and of ``procs`` processes at once."""
    result: dict[str, Any] = {}
    for k in (1, procs):
        t0 = time.time()
        ps = [
            subprocess.Popen(
                [sys.executable, __file__, "_probe_worker", "--config", str(config)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(k)
        ]
        rates = [float(p.communicate()[0].strip().splitlines()[-1]) for p in ps]
        result[str(k)] = {"rates": rates, "wall": round(time.time() - t0, 1)}
        print(f"{k} at once: {min(rates):.1f} steps/s each (slowest)", flush=True)
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


def _probe_worker(config: Path) -> int:
    import torch
    import torch.nn.functional as F
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    enc = BertModel(BertConfig.from_json_file(str(config))).cuda()
    head = torch.nn.Linear(enc.config.hidden_size, 11).cuda()
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-5, fused=True)
    x = torch.randint(1000, 20000, (BATCH, 40), device="cuda")
    m = torch.ones_like(x)
    t0 = 0.0
    for step in range(130):
        if step == 30:
            torch.cuda.synchronize()
            t0 = time.time()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            h = enc(input_ids=x, attention_mask=m)[0].mean(1)
            y = head(h).float()
        loss = F.cross_entropy(y[:, :3], torch.zeros(BATCH, dtype=torch.long, device="cuda"))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    torch.cuda.synchronize()
    print(100 / (time.time() - t0))
    return 0


def _epoch_size(examples: Path) -> tuple[int, int, int]:
    """Training examples, TweetEval emotion tweets, non-English UMSAB tweets."""
    sys.path.insert(0, str(HERE))
    from train_accurate import _is_te

    n = te = um = 0
    with gzip.open(examples, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["split"] != "train":
                continue
            n += 1
            te += _is_te(r)
            um += r["task"] == "sentiment" and r["lang"] not in ("en", "fi")
    return n, te, um


def run(args: argparse.Namespace) -> int:
    plan = PLANS[args.plan] if args.plan in PLANS else _round2(args.runs)
    n, te, um = _epoch_size(args.examples)
    rate1 = rate8 = 1e9
    if args.probe and args.probe.is_file():
        p = json.loads(args.probe.read_text(encoding="utf-8"))
        rate1 = min(p["1"]["rates"])
        rate8 = min(min(v["rates"]) for v in p.values())
    steps = {
        name: v["epochs"] * math.ceil((n + (v["te"] - 1) * te + (v["umsab"] - 1) * um) / BATCH)
        for name, v in plan.items()
    }
    # all variants at the 8-at-once rate, else the first four at twice it
    names = list(plan)
    options = [(names, rate8, s) for s in (1.0, 0.8, 0.6)]
    options += [(names[:4], min(rate1, 2 * rate8), s) for s in (1.0, 0.8, 0.6, 0.4)]
    for chosen, rate, scale in options:
        if max(steps[k] for k in chosen) * scale / rate + args.eval_s <= args.budget:
            break
    plan = {k: plan[k] for k in chosen}
    print(f"plan {args.plan}: {len(plan)} variants, slowest {max(steps.values())} steps at ")
    print(f"{rate:.1f} steps/s each; epochs x{scale}", flush=True)
    args.runs.mkdir(parents=True, exist_ok=True)
    procs = {}
    env = {**os.environ, "OMP_NUM_THREADS": "2", "PYTHONUNBUFFERED": "1"}
    for name, v in plan.items():
        d = args.runs / name
        d.mkdir(exist_ok=True)
        cmd = [sys.executable, str(HERE / "train_accurate.py"), "train"]
        cmd += ["--examples", str(args.examples), "--model", str(args.model)]
        cmd += ["--save-weights", str(d), "--no-export", "--int8-scores", "--batch", str(BATCH)]
        cmd += ["--epochs", str(max(1, round(v["epochs"] * scale))), "--lr", str(v["lr"])]
        cmd += ["--max-len", str(v["max_len"]), "--seed", str(v["seed"])]
        cmd += ["--te-oversample", str(v["te"]), "--umsab-oversample", str(v["umsab"])]
        cmd += ["--te-loss", v["loss"]]
        log = (d / "log").open("w")
        procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    t0 = time.time()
    while any(p.poll() is None for p in procs.values()):
        if time.time() - t0 > args.budget:
            for name, p in procs.items():
                if p.poll() is None:
                    print(f"{name}: stopped at the budget", flush=True)
                    p.kill()
            break
        time.sleep(5)
    for name, p in procs.items():
        tail = (args.runs / name / "log").read_text(errors="replace").splitlines()
        epochs = [x for x in tail if x.startswith("epoch")]
        print(f"{name}: rc {p.returncode}; {epochs[-1] if epochs else tail[-1:]}", flush=True)
    print(f"plan {args.plan} took {time.time() - t0:.0f}s", flush=True)
    return 0


def _round2(runs: Path) -> dict[str, dict[str, Any]]:
    """The best round-1 settings with three more seeds, the second best with one more."""
    ranked = sorted(_finished(runs).items(), key=lambda kv: _rank(kv[1]), reverse=True)
    plan: dict[str, dict[str, Any]] = {}
    for (name, info), seeds in zip(ranked[:2], ((2, 3, 4), (2,)), strict=False):
        s = info["settings"]
        v = {
            "epochs": s["epochs"],
            "lr": s["lr"],
            "max_len": s["max_len"],
            "te": s["te_oversample"],
            "umsab": s["umsab_oversample"],
            "loss": s["te_loss"],
        }
        for seed in seeds:
            if seed != s["seed"]:
                plan[f"{name.split('_s')[0]}_s{seed}"] = {**v, "seed": seed}
    return plan


def soup(args: argparse.Namespace) -> int:
    """Average the weights of the runs that share the best run's settings but its seed."""
    import torch
    from safetensors.torch import load_file, save_file

    sys.path.insert(0, str(HERE))
    import train_accurate as ta

    done = _finished(args.runs)
    best = max(done, key=lambda k: _rank(done[k]))

    def key(info: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in info["settings"].items() if k != "seed"})

    members = [k for k, v in done.items() if key(v) == key(done[best]) and k != "soup"]
    print(f"soup of {members}", flush=True)
    if len(members) < 2:
        return 0
    state: dict[str, Any] = {}
    for name in members:
        for k, v in load_file(str(args.runs / name / "weights.safetensors")).items():
            state[k] = state.get(k, 0) + v / len(members)
    settings = dict(done[best]["settings"], soup=members)
    tok, model = ta.build_model(args.model)
    model.load_state_dict(state, strict=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    _, val_sets = ta._split(ta._read(args.examples))
    max_len = settings["max_len"]
    tune = [
        r for k, rs in val_sets.items() if k[0] == "emotion" and k[1] != "tweeteval" for r in rs
    ]
    _, pe = ta._predict(model, tok, [r["text"] for r in tune], max_len, device)
    thr = ta.tune_thresholds(pe, tune)
    scores = ta.score(val_sets, lambda t: ta._predict(model, tok, t, max_len, device), thr)
    d = args.runs / "soup"
    d.mkdir(exist_ok=True)
    final = ta.export_onnx(model, tok, d / "onnx", max_len)
    q = ta._int8_scores(final, tok, val_sets, max_len, thr)
    final.unlink()
    save_file({k: v.contiguous() for k, v in state.items()}, str(d / "weights.safetensors"))
    info = {"settings": settings, "thresholds": thr, "validation": scores, "validation_int8": q}
    (d / "train.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print("soup int8:", json.dumps(q), flush=True)
    return 0


def collect(args: argparse.Namespace) -> int:
    done = _finished(args.runs)
    table = {}
    for name, info in done.items():
        q, f = info.get("validation_int8", {}), info["validation"]
        table[name] = {
            "rank": _rank(info),
            "settings": info["settings"],
            "int8": {
                "te_emotion": q.get("emotion/tweeteval", {}).get("macro_f1"),
                "umsab_avg": q.get("umsab_avg"),
                "te_sentiment_f1": q.get("sentiment/tweeteval", {}).get("macro_f1"),
                "te_sentiment_recall": q.get("sentiment/tweeteval", {}).get("macro_recall"),
                "airline": q.get("sentiment/airline", {}).get("macro_f1"),
            },
            "fp32": {
                "te_emotion": f["emotion/tweeteval"]["macro_f1"],
                "umsab_avg": f.get("umsab_avg"),
                "te_sentiment_f1": f["sentiment/tweeteval"]["macro_f1"],
            },
        }
    ranked = sorted(table, key=lambda k: table[k]["rank"], reverse=True)
    for name in ranked:
        t = table[name]
        print(f"{name:22s} {t['rank']} int8 {t['int8']} fp32 {t['fp32']}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"ranked": ranked, "runs": table, "full": done}
    (args.out / f"scores-{args.tag}.json").write_text(json.dumps(summary, indent=1))
    if ranked and ranked[0] != args.skip:
        best = args.runs / ranked[0]
        sys.path.insert(0, str(HERE))
        from accurate_transfer import shards

        shards(best / "weights.safetensors", args.used, args.out, 15.0, f"{ranked[0]}-")
        (args.out / f"{ranked[0]}-train.json").write_text((best / "train.json").read_text())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--procs", type=int, default=8)
    p.add_argument("--out", type=Path, required=True)
    w = sub.add_parser("_probe_worker")
    w.add_argument("--config", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("--plan", default="round1", help="round1, or round2 (seeds of the best)")
    r.add_argument("--examples", type=Path, required=True)
    r.add_argument("--model", type=Path, required=True)
    r.add_argument("--runs", type=Path, required=True)
    r.add_argument("--probe", type=Path, default=None)
    r.add_argument("--budget", type=float, default=450.0)
    r.add_argument("--eval-s", type=float, default=90.0, help="allowance for the scoring")
    s = sub.add_parser("soup")
    s.add_argument("--runs", type=Path, required=True)
    s.add_argument("--examples", type=Path, required=True)
    s.add_argument("--model", type=Path, required=True)
    c = sub.add_parser("collect")
    c.add_argument("--runs", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--used", type=Path, required=True)
    c.add_argument("--tag", default="scores")
    c.add_argument("--skip", default="", help="no shards when this run is still the best")
    args = ap.parse_args(argv)
    if args.cmd == "probe":
        return probe(args.config, args.procs, args.out)
    if args.cmd == "_probe_worker":
        return _probe_worker(args.config)
    if args.cmd == "run":
        return run(args)
    if args.cmd == "soup":
        return soup(args)
    return collect(args)


if __name__ == "__main__":
    raise SystemExit(main())
