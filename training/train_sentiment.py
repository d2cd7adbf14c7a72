"""Train the sentiment model (socialloop/learn/models/sentiment.npz) from ../shared/data.

    python training/train_sentiment.py --data ../shared/data [--seed 13] [--vader]

Training data (train splits only; validation splits are used for the report and for tuning):

* TweetEval sentiment: the SemEval-2017 4A reconstruction
  ``train_reconstructed_from_semeval2017.tsv``
  (its ``\\uXXXX`` escapes decoded); validation ``val_text.txt``.
* UMSAB (XLM-T): train of arabic, english, french, german, hindi, italian, portuguese, spanish.
* XED Finnish subtitles, mapped to polarity: only joy/trust -> positive, only anger/disgust/
  fear/sadness -> negative, ``neu_fi.txt`` -> neutral (lines mixing both polarities, or only
  anticipation/surprise, are dropped). 10% of lines (by md5 of the text) are kept out for dev.
* Twitter US airline sentiment (Kaggle), 10% (by tweet id md5) kept out for dev.

The script needs numpy, scipy and scikit-learn (the runtime needs numpy only) and, with
``--vader``, vaderSentiment for the English baseline rows of docs/models.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from socialloop.learn import lexicon  # noqa: E402
from socialloop.learn.embeddings import default_embedder  # noqa: E402
from socialloop.learn.features import HashingConfig, hash_batch  # noqa: E402
from socialloop.learn.linear import linear_logits  # noqa: E402
from socialloop.learn.metrics import classification_metrics  # noqa: E402
from socialloop.learn.sentiment import (  # noqa: E402
    LABELS,
    MODEL_PATH,
    LinearHashedModel,
)

UMSAB_LANGS = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
csv.field_size_limit(1 << 24)


@dataclass
class Split:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    langs: list[str | None] = field(default_factory=list)

    def add(self, text: str, label: int, weight: float = 1.0, lang: str | None = None) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.weights.append(weight)
        self.langs.append(lang)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _held_out(key: str, percent: int = 10) -> bool:
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % 100 < percent


def load(
    data: Path, sources: set[str], weights: dict[str, float], hold_out_file: str | None = None
) -> tuple[Split, dict[str, Split]]:
    """The training split and the named validation splits. ``hold_out_file``: the rows of
    this SemEval file (e.g. ``twitter-2016test-A``) are kept out of training and scored as
    the split ``semeval_<file>``, a later, topic-disjoint stand-in for the official test."""
    train = Split()
    val: dict[str, Split] = {}
    te = data / "tweeteval" / "sentiment"
    held = Split()
    if "tweeteval" in sources:
        with (te / "train_reconstructed_from_semeval2017.tsv").open(encoding="utf-8") as fh:
            reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            for row in reader:
                text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), row[4])
                if row[3] == hold_out_file:
                    held.add(text, int(row[1]), lang="en")
                else:
                    train.add(text, int(row[1]), weights.get("tweeteval", 1.0), "en")
    if hold_out_file:
        val[f"semeval_{hold_out_file}"] = held
    tev = Split()
    for text, label in zip(_lines(te / "val_text.txt"), _lines(te / "val_labels.txt"), strict=True):
        tev.add(text, int(label), lang="en")
    val["tweeteval"] = tev
    for folder, lang in UMSAB_LANGS.items():
        base = data / "xlm_t_umsab" / folder
        if "umsab" in sources:
            pairs = zip(
                _lines(base / "train_text.txt"), _lines(base / "train_labels.txt"), strict=True
            )
            for text, label in pairs:
                train.add(text, int(label), weights.get("umsab", 1.0), lang)
        split = Split()
        for text, label in zip(
            _lines(base / "val_text.txt"), _lines(base / "val_labels.txt"), strict=True
        ):
            split.add(text, int(label), lang=lang)
        val[f"umsab_{lang}"] = split
    xed = data / "xed_finnish"
    fi_val = Split()
    positive, negative = {5, 8}, {1, 3, 4, 6}
    for line in _lines(xed / "fi-annotated.tsv"):
        text, _, ids = line.partition("\t")
        emotions = {int(x) for x in ids.split(",") if x.strip()}
        pos, neg = bool(emotions & positive), bool(emotions & negative)
        if pos == neg:
            continue
        polarity = 2 if pos else 0
        if _held_out(text):
            fi_val.add(text, polarity, lang="fi")
        elif "xed" in sources:
            train.add(text, polarity, weights.get("xed", 1.0), "fi")
    for line in _lines(xed / "neu_fi.txt"):
        cols = line.split("\t")
        if len(cols) < 2:
            continue
        if _held_out(cols[1]):
            fi_val.add(cols[1], 1, lang="fi")
        elif "xed" in sources:
            train.add(cols[1], 1, weights.get("xed", 1.0), "fi")
    val["xed_fi"] = fi_val
    air_val = Split()
    names = {name: i for i, name in enumerate(LABELS)}
    with (data / "twitter_us_airline_sentiment" / "Tweets.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            target = names[rec["airline_sentiment"]]
            if _held_out(rec["tweet_id"]):
                air_val.add(rec["text"], target, lang="en")
            elif "airline" in sources:
                train.add(rec["text"], target, weights.get("airline", 1.0), "en")
    val["airline"] = air_val
    return train, val


def featurize(
    texts: Sequence[str],
    cfg: HashingConfig,
    langs: Sequence[str | None] | None = None,
    chunk: int = 20000,
) -> sp.csr_matrix:
    """Term counts (documents x buckets)."""
    blocks = []
    for i in range(0, len(texts), chunk):
        part = texts[i : i + chunk]
        doc, bucket = hash_batch(part, cfg, None if langs is None else langs[i : i + chunk])
        m = sp.csr_matrix(
            (np.ones(len(doc), dtype=np.float32), (doc, bucket)), shape=(len(part), 1 << cfg.bits)
        )
        m.sum_duplicates()
        blocks.append(m)
    return sp.vstack(blocks).tocsr()


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """x = tf * idf / sqrt(sum tf * idf^2): the feature map the runtime computes with bincount."""
    x = counts @ sp.diags(idf.astype(np.float32))
    norm = np.sqrt(np.asarray(counts @ (idf**2).astype(np.float32)).ravel())
    scaled: sp.csr_matrix = (sp.diags(1.0 / np.maximum(norm, 1e-12)) @ x).tocsr()
    return scaled


def dense_block(
    texts: Sequence[str],
    langs: Sequence[str | None],
    scale: float,
    dense_langs: Sequence[str] | None,
) -> sp.csr_matrix:
    """The bundled static embeddings of ``texts`` times ``scale``, as extra feature columns,
    zero on the rows the runtime would not give them to: a language not in ``dense_langs``
    (None: every row gets them) or an unknown one (``None``; train with a share of rows
    without their language so the n-grams alone still score such a post)."""
    vectors = default_embedder().encode(list(texts)) * scale
    if dense_langs is not None:
        vectors[np.array([lang not in dense_langs for lang in langs], dtype=bool)] = 0.0
    return sp.csr_matrix(vectors)


def lexicon_columns(
    texts: Sequence[str], langs: Sequence[str | None], scale: float
) -> sp.csr_matrix:
    """The English lexicon features of ``texts`` times ``scale``, zero on the rows the runtime
    gives none (not English, or of unknown language)."""
    out = np.zeros((len(texts), lexicon.WIDTH), dtype=np.float64)
    rows = lexicon.lexicon_rows(langs, len(texts))
    if rows.any():
        out[rows] = lexicon.lexicon_features([t for t, r in zip(texts, rows, strict=True) if r])
    return sp.csr_matrix(out * scale)


def add_dense_arguments(ap: argparse.ArgumentParser, scale: float, langs: str) -> None:
    """The command-line options of :func:`dense_block` (their defaults: the shipped model's)."""
    ap.add_argument(
        "--dense-scale",
        type=float,
        default=scale,
        help="weight of the bundled static post embeddings as extra features (0: n-grams only)",
    )
    ap.add_argument(
        "--dense-langs",
        default=langs,
        help="languages (comma-separated; 'all' for every text) whose posts get the embedding "
        "features: the embedder is distilled from an English model",
    )


def dense_languages(value: str) -> tuple[str, ...] | None:
    """``--dense-langs`` as :func:`dense_block` takes it (None: every language)."""
    return None if value == "all" else tuple(value.split(","))


def train(
    split: Split,
    cfg: HashingConfig,
    alpha: float,
    seed: int,
    balanced: bool,
    dense_scale: float = 0.0,
    dense_langs: Sequence[str] | None = ("en",),
    lexicon_scale: float = 0.0,
) -> tuple[LinearHashedModel, dict[str, Any]]:
    """Fit the model. ``dense_scale`` > 0: the bundled static post embeddings, times this
    scale, are extra features beside the hashed n-grams for the texts in ``dense_langs``
    (None: all; their weights, scale folded in, go into the model's ``dense`` block).
    ``lexicon_scale`` > 0: the English lexicon features (``socialloop.learn.lexicon``) of the
    English texts, times this scale, too (the model's ``lexicon`` block)."""
    t0 = time.perf_counter()
    # The language is optional at run time: a quarter of the training texts go without it.
    rng = np.random.default_rng(seed)
    drop = rng.random(len(split.langs)) < 0.25
    langs = [None if d else lang for lang, d in zip(split.langs, drop, strict=True)]
    counts = featurize(split.texts, cfg, langs)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    x = tfidf(counts, idf)
    if dense_scale > 0:
        x = sp.hstack([x, dense_block(split.texts, langs, dense_scale, dense_langs)]).tocsr()
    if lexicon_scale > 0:
        x = sp.hstack([x, lexicon_columns(split.texts, langs, lexicon_scale)]).tocsr()
    y = np.array(split.labels)
    w = np.array(split.weights, dtype=np.float64)
    if balanced:
        freq = np.bincount(y, weights=w, minlength=len(LABELS))
        w = w * (w.sum() / (len(LABELS) * freq))[y]
    t1 = time.perf_counter()
    clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=30, tol=1e-4, random_state=seed)
    clf.fit(x, y, sample_weight=w)
    t2 = time.perf_counter()
    meta = {
        "trained_on": n,
        "alpha": alpha,
        "seed": seed,
        "balanced": balanced,
        "dense_scale": dense_scale,
        "dense_langs": None if dense_langs is None else list(dense_langs),
        "lexicon_scale": lexicon_scale,
        "featurize_s": round(t1 - t0, 1),
        "fit_s": round(t2 - t1, 1),
    }
    buckets = counts.shape[1]
    coef = clf.coef_[:, :buckets]
    width = default_embedder().dim if dense_scale > 0 else 0
    dense = clf.coef_[:, buckets : buckets + width] * dense_scale if dense_scale > 0 else None
    lexicon = clf.coef_[:, buckets + width :] * lexicon_scale if lexicon_scale > 0 else None
    model = LinearHashedModel.from_float(
        cfg,
        LABELS,
        coef,
        idf,
        clf.intercept_,
        meta,
        dense=dense,
        dense_model=default_embedder().name,
        dense_langs=dense_langs,
        lexicon=lexicon,
    )
    return model, meta


def fit_temperature(model: LinearHashedModel, val: dict[str, Split]) -> float:
    """The temperature (logits divided by it) with the lowest log loss on the validation
    splits that measure it fairly: UMSAB without Hindi (chance-level labels) and the airline
    tweets; not TweetEval, drawn from the training pool, nor a held-out file kept to estimate
    the test. A grid of 0.05 steps from 0.5 to 4."""
    logits, gold = [], []
    for name, split in val.items():
        if (name.startswith("umsab_") and name != "umsab_hi") or name == "airline":
            logits.append(linear_logits(model, split.texts, split.langs))
            gold += split.labels
    z_all = np.vstack(logits)
    y = np.array(gold)

    def log_loss(t: float) -> float:
        z = z_all / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    grid = np.round(np.arange(0.5, 4.0001, 0.05), 2)
    return float(min(grid, key=log_loss))


def evaluate(model: LinearHashedModel, val: dict[str, Split]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, split in val.items():
        start = time.perf_counter()
        probs = model.predict_proba(split.texts, split.langs)
        elapsed = time.perf_counter() - start
        pred = [LABELS[i] for i in probs.argmax(axis=1)]
        gold = [LABELS[i] for i in split.labels]
        m = classification_metrics(gold, pred, LABELS)
        m["us_per_post"] = elapsed / max(len(split.texts), 1) * 1e6
        m["n"] = len(split.texts)
        out[name] = m
    umsab = [v["macro_f1"] for k, v in out.items() if k.startswith("umsab_")]
    out["umsab_avg"] = {"macro_f1": float(np.mean(umsab))}
    return out


def vader_baseline(val: dict[str, Split]) -> dict[str, dict[str, Any]]:
    """VADER compound score with its standard +-0.05 thresholds, on the English sets."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = {}
    for name in ("tweeteval", "umsab_en", "airline"):
        split = val[name]
        pred = []
        for text in split.texts:
            score = sia.polarity_scores(text)["compound"]
            pred.append(
                "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
            )
        out[name] = classification_metrics([LABELS[i] for i in split.labels], pred, LABELS)
    return out


def summary(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for name, m in results.items():
        if "macro_recall" in m:
            rows.append(
                f"{name:12s} acc {m['accuracy']:.3f}  macro-R {m['macro_recall']:.3f}  "
                f"macro-F1 {m['macro_f1']:.3f}"
            )
        else:
            rows.append(f"{name:12s} macro-F1 {m['macro_f1']:.3f}")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--bits", type=int, default=20)
    ap.add_argument("--char", default="2-5", help="character n-gram range, e.g. 2-5")
    ap.add_argument("--words", type=int, default=2, help="word n-grams up to this length")
    ap.add_argument("--alpha", type=float, default=5e-6, help="L2 penalty of the SGD logistic loss")
    ap.add_argument("--no-balance", action="store_true")
    add_dense_arguments(ap, scale=0.5, langs="en")
    ap.add_argument(
        "--lexicon-scale",
        type=float,
        default=1.0,
        help="weight of the English lexicon features (VADER's lexicon; 0: none)",
    )
    ap.add_argument("--sources", default="tweeteval,umsab,xed,airline")
    ap.add_argument("--weights", default="umsab=4,airline=0.5,xed=0.5", help="source=weight,...")
    ap.add_argument(
        "--hold-out-file",
        help="keep this SemEval file's rows (e.g. twitter-2016test-A) out of training and "
        "score them: a later, topic-disjoint stand-in for the official test",
    )
    ap.add_argument("--vader", action="store_true", help="also report the VADER baseline")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--report", type=Path, help="write the metrics as JSON here")
    args = ap.parse_args(argv)
    np.random.seed(args.seed)
    lo, hi = (int(x) for x in args.char.split("-"))
    cfg = HashingConfig(bits=args.bits, char_min=lo, char_max=hi, word_ngrams=args.words)
    weights = {k: float(v) for k, v in (kv.split("=") for kv in args.weights.split(",") if kv)}
    sources = set(args.sources.split(","))
    train_split, val = load(args.data, sources, weights, args.hold_out_file)
    print(f"training on {len(train_split.texts)} texts from {sorted(sources)}", flush=True)
    model, meta = train(
        train_split,
        cfg,
        args.alpha,
        args.seed,
        not args.no_balance,
        args.dense_scale,
        dense_languages(args.dense_langs),
        args.lexicon_scale,
    )
    meta["temperature"] = fit_temperature(model, val)
    model = dataclasses.replace(model, meta=meta)
    print(json.dumps(meta), flush=True)
    results = evaluate(model, val)
    print(summary(results))
    report: dict[str, Any] = {"meta": meta, "model": results, "args": vars(args) | {"data": "-"}}
    if args.vader:
        report["vader"] = vader_baseline(val)
        print("VADER:\n" + summary(report["vader"]))
    if not args.no_save:
        model.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    if args.report:
        args.report.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
