"""Train the emotion model (socialloop/learn/models/emotion.npz) from ../shared/data.

    python training/train_emotion.py --data ../shared/data [--seed 13] [--report out.json]
        [--pseudo build/distill/emotion_teacher.npz]

Training data (train splits only; validation splits tune the thresholds and make the report):

* GoEmotions train (Reddit): its 27 labels grouped by ``ekman_mapping.json`` into anger,
  disgust, fear, joy, sadness, surprise, plus ``optimism`` itself; ``neutral`` -> no emotion.
  It annotates all those heads (not trust). Validation: ``dev.tsv``.
* TweetEval emotion train: anger, joy, optimism, sadness (one per tweet); it annotates those
  four heads only. Validation: ``val_text.txt``.
* XED Finnish subtitles: Plutchik 1 anger, 3 disgust, 4 fear, 5 joy, 6 sadness, 7 surprise,
  8 trust (2 anticipation is not a head); ``neu_fi.txt`` -> no emotion. It annotates every head
  but optimism. 10% of lines (by md5 of the text, as in train_sentiment.py) are held out for dev.
* A few dozen short emotion phrases written for this script (en, es, fi, fr, de, it, pt; not
  from any data set) so that the obvious cases work in languages without emotion data.
* With ``--pseudo build/distill/emotion_teacher.npz`` (written by ``distill_emotion.py``):
  unlabelled English tweets (the train splits of the other TweetEval tasks) labelled by the
  accurate-mode transformer (distillation). Hard labels (default): the teacher's arg-max among
  anger, joy, optimism and sadness, kept when its probability is at least ``--pseudo-min``
  (0.5); ``--pseudo-soft`` instead adds one row per label the teacher gives at least 0.1 of
  the four-way normalised probability, weighted by it. The rows annotate ``--pseudo-heads``
  only (default: optimism; all four cost XED and GoEmotions points), with weight
  ``--pseudo-weight`` (0.1).

Each emotion is a binary logistic regression (SGD, log loss) trained on the rows whose source
annotates it, with class-balanced sample weights. Thresholds: per emotion, the one maximising
F1 on the pooled validation rows that annotate it. Needs numpy, scipy and scikit-learn.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

from train_sentiment import (  # noqa: E402
    add_dense_arguments,
    dense_block,
    dense_languages,
    featurize,
    lexicon_columns,
    tfidf,
)

from socialloop.learn.embeddings import default_embedder  # noqa: E402
from socialloop.learn.emotion import (  # noqa: E402
    LABELS,
    MODEL_PATH,
    NONE,
    TWEETEVAL_LABELS,
    EmotionEnricher,
)
from socialloop.learn.features import HashingConfig  # noqa: E402
from socialloop.learn.metrics import classification_metrics  # noqa: E402
from socialloop.learn.sentiment import LinearHashedModel  # noqa: E402

K = len(LABELS)
COL = {label: j for j, label in enumerate(LABELS)}
EKMAN = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
XED_IDS = {1: "anger", 3: "disgust", 4: "fear", 5: "joy", 6: "sadness", 7: "surprise", 8: "trust"}
XED_HEADS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "trust")

# Short phrases written for this script (not taken from any data set): label -> lang -> phrases.
SEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "anger": {
        "en": ("I am so angry", "this makes me furious", "I'm pissed off", "so annoying"),
        "es": ("estoy muy enojado", "qué rabia me da", "estoy furioso", "me cabrea mucho"),
        "fi": ("olen tosi vihainen", "tämä raivostuttaa", "ärsyttää niin paljon", "vitutus"),
        "fr": ("je suis en colère", "ça m'énerve", "je suis furieux"),
        "de": ("ich bin so wütend", "das macht mich sauer", "ich bin stinksauer"),
        "it": ("sono arrabbiato", "che rabbia", "sono furioso"),
        "pt": ("estou com raiva", "que ódio", "estou furioso"),
    },
    "disgust": {
        "en": ("that is disgusting", "gross, yuck", "it makes me sick"),
        "es": ("qué asco", "es asqueroso", "me da asco"),
        "fi": ("yäk, ällöttävää", "tämä on inhottavaa", "oksettaa"),
        "fr": ("c'est dégoûtant", "beurk", "ça me dégoûte"),
        "de": ("das ist ekelhaft", "igitt", "widerlich"),
        "it": ("che schifo", "è disgustoso", "mi fa schifo"),
        "pt": ("que nojo", "é nojento", "me dá nojo"),
    },
    "fear": {
        "en": ("I am so scared", "I'm afraid", "this is terrifying"),
        "es": ("tengo mucho miedo", "estoy asustado", "qué miedo", "me da pánico"),
        "fi": ("minua pelottaa", "olen peloissani", "pelkään tosi paljon"),
        "fr": ("j'ai peur", "c'est terrifiant", "je suis effrayé"),
        "de": ("ich habe Angst", "das ist beängstigend", "ich fürchte mich"),
        "it": ("ho paura", "che paura", "sono spaventato"),
        "pt": ("estou com medo", "que medo", "estou assustado"),
    },
    "joy": {
        "en": ("I am so happy", "what a joy", "this is wonderful, I love it"),
        "es": ("estoy muy feliz", "qué alegría", "me encanta, es maravilloso"),
        "fi": ("olen niin onnellinen", "ihanaa, mikä ilo", "tämä on mahtavaa"),
        "fr": ("je suis tellement heureux", "quelle joie", "j'adore, c'est merveilleux"),
        "de": ("ich bin so glücklich", "was für eine Freude", "wunderbar, ich liebe es"),
        "it": ("sono così felice", "che gioia", "lo adoro, è meraviglioso"),
        "pt": ("estou tão feliz", "que alegria", "eu amo, é maravilhoso"),
    },
    "sadness": {
        "en": ("I am so sad", "I miss her so much", "this is heartbreaking"),
        "es": ("estoy muy triste", "qué pena", "lo echo mucho de menos", "me duele el corazón"),
        "fi": ("olen tosi surullinen", "minulla on ikävä", "sydämeni on särkynyt"),
        "fr": ("je suis triste", "il me manque tellement", "j'ai le cœur brisé"),
        "de": ("ich bin so traurig", "ich vermisse dich", "mir bricht das Herz"),
        "it": ("sono triste", "mi manchi tanto", "ho il cuore spezzato"),
        "pt": ("estou muito triste", "sinto tanta saudade", "estou de coração partido"),
    },
    "surprise": {
        "en": ("wow, I did not expect that", "what a surprise", "I can't believe it"),
        "es": ("no me lo puedo creer", "qué sorpresa", "vaya, no me lo esperaba"),
        "fi": ("en voi uskoa", "mikä yllätys", "vau, en odottanut tuota"),
        "fr": ("je n'en reviens pas", "quelle surprise", "je ne m'y attendais pas"),
        "de": ("ich kann es nicht glauben", "was für eine Überraschung", "damit habe ich nicht"),
        "it": ("non ci posso credere", "che sorpresa", "non me lo aspettavo"),
        "pt": ("não acredito", "que surpresa", "não esperava isso"),
    },
    "optimism": {
        "en": ("things will get better", "I'm hopeful about tomorrow", "we can do this"),
        "es": ("todo va a salir bien", "tengo esperanza", "mañana será mejor"),
        "fi": ("kaikki järjestyy", "huominen on parempi", "olen toiveikas"),
        "fr": ("tout ira bien", "j'ai bon espoir", "demain sera meilleur"),
        "de": ("alles wird gut", "ich bin zuversichtlich", "morgen wird besser"),
        "it": ("andrà tutto bene", "sono fiducioso", "domani sarà meglio"),
        "pt": ("vai dar tudo certo", "tenho esperança", "amanhã será melhor"),
    },
    "trust": {
        "en": ("I trust you completely", "you can count on me", "I believe in you"),
        "es": ("confío en ti", "puedes contar conmigo", "creo en ti"),
        "fi": ("luotan sinuun", "voit luottaa minuun", "uskon sinuun"),
        "fr": ("j'ai confiance en toi", "tu peux compter sur moi"),
        "de": ("ich vertraue dir", "du kannst dich auf mich verlassen"),
        "it": ("mi fido di te", "puoi contare su di me"),
        "pt": ("confio em você", "pode contar comigo"),
    },
}


@dataclass
class Split:
    """Texts with a multi-label target ``y`` and a mask ``m`` of the heads their source labels."""

    texts: list[str] = field(default_factory=list)
    y: list[list[int]] = field(default_factory=list)
    m: list[list[int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    langs: list[str | None] = field(default_factory=list)
    pseudo: list[int] = field(default_factory=list)  # 1: a teacher-labelled row

    def add(
        self,
        text: str,
        labels: set[str],
        heads: Sequence[str],
        weight: float = 1.0,
        lang: str | None = None,
        pseudo: int = 0,
    ) -> None:
        self.texts.append(text)
        self.y.append([int(label in labels) for label in LABELS])
        self.m.append([int(label in heads) for label in LABELS])
        self.weights.append(weight)
        self.langs.append(lang)
        self.pseudo.append(pseudo)

    def arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        return np.array(self.y, dtype=np.int64).reshape(-1, K), np.array(
            self.m, dtype=bool
        ).reshape(-1, K)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _held_out(key: str, percent: int = 10) -> bool:
    return int(hashlib.md5(key.encode("utf-8")).hexdigest(), 16) % 100 < percent


def load(data: Path, weights: dict[str, float]) -> tuple[Split, dict[str, Split]]:
    """The training split and the validation splits (goemotions, tweeteval, xed_fi)."""
    train = Split()
    val: dict[str, Split] = {}
    ge = data / "goemotions"
    names = _lines(ge / "emotions.txt")
    group = {
        fine: coarse
        for coarse, fines in json.loads((ge / "ekman_mapping.json").read_text()).items()
        for fine in fines
    }
    ge_heads = (*EKMAN, "optimism")
    for split_name, target in (("train", train), ("dev", None)):
        dest = Split() if target is None else target
        for line in _lines(ge / f"{split_name}.tsv"):
            text, ids, _ = line.split("\t")
            fine = {names[int(i)] for i in ids.split(",")}
            labels = {group[f] for f in fine if f in group} | (fine & {"optimism"})
            dest.add(text, labels, ge_heads, weights.get("goemotions", 1.0), "en")
        if target is None:
            val["goemotions"] = dest
    te = data / "tweeteval" / "emotion"
    te_names = [row.split("\t")[1] for row in _lines(te / "mapping.txt")]
    for split_name in ("train", "val"):
        dest = train if split_name == "train" else Split()
        pairs = zip(
            _lines(te / f"{split_name}_text.txt"),
            _lines(te / f"{split_name}_labels.txt"),
            strict=True,
        )
        for text, label in pairs:
            dest.add(
                text, {te_names[int(label)]}, TWEETEVAL_LABELS, weights.get("tweeteval", 1.0), "en"
            )
        if split_name == "val":
            val["tweeteval"] = dest
    xed = data / "xed_finnish"
    fi_val = Split()
    for line in _lines(xed / "fi-annotated.tsv"):
        text, _, ids = line.partition("\t")
        labels = {XED_IDS[int(x)] for x in ids.split(",") if x.strip() and int(x) in XED_IDS}
        dest = fi_val if _held_out(text) else train
        dest.add(text, labels, XED_HEADS, weights.get("xed", 1.0), "fi")
    for line in _lines(xed / "neu_fi.txt"):
        cols = line.split("\t")
        if len(cols) < 2:
            continue
        dest = fi_val if _held_out(cols[1]) else train
        dest.add(cols[1], set(), XED_HEADS, weights.get("xed", 1.0), "fi")
    val["xed_fi"] = fi_val
    for label, by_lang in SEEDS.items():
        for lang, phrases in by_lang.items():
            for phrase in phrases:
                train.add(phrase, {label}, (label,), weights.get("seeds", 1.0), lang)
    return train, val


def add_pseudo(
    split: Split,
    data: Path,
    cache: Path,
    weight: float,
    min_prob: float,
    soft: bool,
    heads: Sequence[str] = TWEETEVAL_LABELS,
) -> int:
    """Add the teacher-labelled pool tweets to ``split`` (see the module docstring); returns
    the number of rows added."""
    from distill_emotion import load_cache, load_pool, text_key

    rows, teacher_heads = load_cache(cache)
    if not rows:
        raise SystemExit(f"{cache} is missing or empty: run training/distill_emotion.py first")
    cols = [teacher_heads.index(label) for label in TWEETEVAL_LABELS]
    added = 0
    # the pool before its language filter; the cache holds the English texts only
    for text in load_pool(data, english=False):
        row = rows.get(text_key(text))
        if row is None:
            continue
        p = row[cols]
        if soft:
            q = p / max(float(p.sum()), 1e-9)
            for j in np.flatnonzero(q >= 0.1):
                split.add(text, {TWEETEVAL_LABELS[j]}, heads, weight * float(q[j]), "en", 1)
                added += 1
        elif p.max() >= min_prob:
            label = TWEETEVAL_LABELS[int(p.argmax())]
            split.add(text, {label}, heads, weight, "en", 1)
            added += 1
    return added


def train(
    split: Split,
    cfg: HashingConfig,
    alpha: float,
    seed: int,
    dense_scale: float = 0.0,
    dense_langs: Sequence[str] | None = None,
    lexicon_scale: float = 0.0,
) -> tuple[LinearHashedModel, dict[str, Any]]:
    """Fit one head per emotion. ``dense_scale`` > 0: the bundled static post embeddings,
    times this scale, are extra features for the texts in ``dense_langs`` (a quarter of the
    rows go without, as posts of unknown language do at run time)."""
    t0 = time.perf_counter()
    counts = featurize(split.texts, cfg)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    x = tfidf(counts, idf)
    buckets = x.shape[1]
    if dense_scale > 0:
        drop = np.random.default_rng(seed).random(n) < 0.25
        langs = [None if d else lang for lang, d in zip(split.langs, drop, strict=True)]
        x = sp.hstack([x, dense_block(split.texts, langs, dense_scale, dense_langs)]).tocsr()
    if lexicon_scale > 0:
        drop = np.random.default_rng([seed, 1]).random(n) < 0.25
        lang_rows = [None if d else lang for lang, d in zip(split.langs, drop, strict=True)]
        x = sp.hstack([x, lexicon_columns(split.texts, lang_rows, lexicon_scale)]).tocsr()
    y, m = split.arrays()
    w_all = np.array(split.weights, dtype=np.float64)
    t1 = time.perf_counter()
    coef = np.zeros((K, x.shape[1]), dtype=np.float64)
    bias = np.zeros(K, dtype=np.float64)
    for j in range(K):
        rows = np.flatnonzero(m[:, j])
        yj = y[rows, j]
        w = w_all[rows]
        pos = w[yj == 1].sum()
        neg = w[yj == 0].sum()
        w = np.where(yj == 1, w * (pos + neg) / (2 * pos), w * (pos + neg) / (2 * neg))
        clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=50, tol=1e-4, random_state=seed)
        clf.fit(x[rows], yj, sample_weight=w)
        coef[j] = clf.coef_[0]
        bias[j] = clf.intercept_[0]
    t2 = time.perf_counter()
    meta: dict[str, Any] = {
        "trained_on": n,
        "alpha": alpha,
        "seed": seed,
        "dense_scale": dense_scale,
        "dense_langs": None if dense_langs is None else list(dense_langs),
        "lexicon_scale": lexicon_scale,
        "featurize_s": round(t1 - t0, 1),
        "fit_s": round(t2 - t1, 1),
    }
    width = default_embedder().dim if dense_scale > 0 else 0
    model = LinearHashedModel.from_float(
        cfg,
        LABELS,
        coef[:, :buckets],
        idf,
        bias,
        meta,
        dense=coef[:, buckets : buckets + width] * dense_scale if dense_scale > 0 else None,
        lexicon=coef[:, buckets + width :] * lexicon_scale if lexicon_scale > 0 else None,
        dense_model=default_embedder().name,
        dense_langs=dense_langs,
    )
    return model, meta


def tune_thresholds(step: EmotionEnricher, val: dict[str, Split]) -> dict[str, float]:
    """Per emotion, the threshold maximising F1 on the pooled validation rows annotating it."""
    probs, ys, ms = [], [], []
    for split in val.values():
        probs.append(step.predict_proba(split.texts, split.langs))
        y, m = split.arrays()
        ys.append(y)
        ms.append(m)
    p, y, m = np.vstack(probs), np.vstack(ys), np.vstack(ms)
    grid = np.arange(0.05, 0.96, 0.01)
    out: dict[str, float] = {}
    for j, label in enumerate(LABELS):
        rows = m[:, j]
        pj, yj = p[rows, j], y[rows, j] == 1
        best, best_t = -1.0, 0.5
        for t in grid:
            pred = pj >= t
            tp = float((pred & yj).sum())
            f1 = 2 * tp / max(float(pred.sum() + yj.sum()), 1.0)
            if f1 > best:
                best, best_t = f1, float(t)
        out[label] = round(best_t, 2)
    return out


def multilabel_f1(step: EmotionEnricher, split: Split, heads: Sequence[str]) -> dict[str, Any]:
    """Per-emotion binary F1 of the thresholded ``emotions`` list, their macro mean, and the F1
    of "none" (no emotion) against gold neutral."""
    probs = step.predict_proba(split.texts, split.langs)
    thr = step.thresholds
    y, _ = split.arrays()
    per: dict[str, float] = {}
    for label in heads:
        j = COL[label]
        pred = probs[:, j] >= thr[label]
        gold = y[:, j] == 1
        tp = float((pred & gold).sum())
        per[label] = 2 * tp / max(float(pred.sum() + gold.sum()), 1.0)
    head_cols = [COL[h] for h in heads]
    gold_none = y[:, head_cols].sum(axis=1) == 0
    pred_none = np.array([e == NONE for e in step.predict(split.texts, split.langs)])
    tp = float((gold_none & pred_none).sum())
    none_f1 = 2 * tp / max(float(gold_none.sum() + pred_none.sum()), 1.0)
    return {
        "macro_f1": float(np.mean(list(per.values()))),
        "per_label_f1": per,
        "none_f1": none_f1,
        "n": len(split.texts),
    }


def evaluate(step: EmotionEnricher, val: dict[str, Split]) -> dict[str, Any]:
    te = val["tweeteval"]
    start = time.perf_counter()
    pred = step.predict_among(te.texts, TWEETEVAL_LABELS, te.langs)
    elapsed = time.perf_counter() - start
    y, _ = te.arrays()
    gold = [LABELS[int(row.argmax())] for row in y]
    out: dict[str, Any] = {"tweeteval": classification_metrics(gold, pred, TWEETEVAL_LABELS)}
    out["tweeteval"]["us_per_post"] = elapsed / len(te.texts) * 1e6
    out["tweeteval"].pop("confusion")
    out["goemotions_ekman"] = multilabel_f1(step, val["goemotions"], EKMAN)
    out["goemotions_optimism"] = multilabel_f1(step, val["goemotions"], ("optimism",))
    out["xed_fi"] = multilabel_f1(step, val["xed_fi"], XED_HEADS)
    return out


def summary(results: dict[str, Any]) -> str:
    te = results["tweeteval"]
    rows = [
        f"tweeteval    macro-F1 {te['macro_f1']:.3f} acc {te['accuracy']:.3f} "
        + " ".join(f"{k} {v['f1']:.3f}" for k, v in te["per_class"].items())
    ]
    for name in ("goemotions_ekman", "goemotions_optimism", "xed_fi"):
        r = results[name]
        rows.append(
            f"{name:20s} macro-F1 {r['macro_f1']:.3f} none-F1 {r['none_f1']:.3f} "
            + " ".join(f"{k} {v:.3f}" for k, v in r["per_label_f1"].items())
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--bits", type=int, default=20)
    ap.add_argument("--char", default="2-4", help="character n-gram range, e.g. 2-5")
    ap.add_argument("--words", type=int, default=2, help="word n-grams up to this length")
    ap.add_argument("--alpha", type=float, default=3e-5, help="L2 penalty of the SGD logistic loss")
    ap.add_argument(
        "--weights", default="tweeteval=10,seeds=3", help="source=weight,... (default 1)"
    )
    add_dense_arguments(ap, scale=0.3, langs="all")
    ap.add_argument(
        "--lexicon-scale",
        type=float,
        default=0.0,
        help="weight of the English lexicon features (VADER's lexicon; 0: none)",
    )
    ap.add_argument("--pseudo", type=Path, help="teacher cache from distill_emotion.py")
    ap.add_argument("--pseudo-weight", type=float, default=0.1, help="weight of a pseudo row")
    ap.add_argument(
        "--pseudo-min", type=float, default=0.5, help="least teacher probability (hard labels)"
    )
    ap.add_argument("--pseudo-soft", action="store_true", help="soft (weighted) pseudo labels")
    ap.add_argument(
        "--pseudo-heads",
        default="optimism",
        help="the heads the pseudo rows train, comma-separated (among the TweetEval four)",
    )
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--report", type=Path, help="write the metrics as JSON here")
    args = ap.parse_args(argv)
    np.random.seed(args.seed)
    lo, hi = (int(x) for x in args.char.split("-"))
    cfg = HashingConfig(bits=args.bits, char_min=lo, char_max=hi, word_ngrams=args.words)
    weights = {k: float(v) for k, v in (kv.split("=") for kv in args.weights.split(",") if kv)}
    train_split, val = load(args.data, weights)
    if args.pseudo:
        added = add_pseudo(
            train_split,
            args.data,
            args.pseudo,
            args.pseudo_weight,
            args.pseudo_min,
            args.pseudo_soft,
            tuple(args.pseudo_heads.split(",")),
        )
        print(f"{added} pseudo-labelled rows", flush=True)
    print(f"training on {len(train_split.texts)} texts", flush=True)
    dense_langs = dense_languages(args.dense_langs)
    model, meta = train(
        train_split,
        cfg,
        args.alpha,
        args.seed,
        args.dense_scale,
        dense_langs,
        args.lexicon_scale,
    )
    if args.pseudo:
        meta["pseudo"] = {
            "rows": added,
            "weight": args.pseudo_weight,
            "min_prob": None if args.pseudo_soft else args.pseudo_min,
            "soft": args.pseudo_soft,
            "heads": args.pseudo_heads,
        }
    out = args.out if not args.no_save else Path(f"/tmp/emotion_candidate_{os.getpid()}.npz")
    model.save(out)
    step = EmotionEnricher(out)
    meta["thresholds"] = tune_thresholds(step, val)
    loaded = step.model
    final = dataclasses.replace(loaded, meta=meta)
    final.save(out)
    step = EmotionEnricher(out)
    print(json.dumps(meta), flush=True)
    results = evaluate(step, val)
    print(summary(results))
    if not args.no_save:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    if args.report:
        report = {"meta": meta, "results": results, "args": vars(args) | {"data": "-"}}
        args.report.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
