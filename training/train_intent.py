"""Train the intent heads (socialloop/learn/models/intent.npz) from ../shared/data.

    python training/train_intent.py --data ../shared/data [--seed 13]

Weak supervision (every split is carved here with ``--seed``; nothing is tuned on simulated
posts):

* complaint head: airline tweets (negative, which all carry a ``negativereason`` -> 1;
  neutral / positive -> 0), split 65 / 20 / 15 into head-train / stacker-calibration / test;
  TWCS inbound customer tweets weakly labelled (a complaint cue or P(negative) > 0.6 -> 1;
  else a company reply that apologises -> 1; else P(positive) > 0.6 -> 0; the rest dropped;
  weight 0.5; the hand-labelled tweets of training/labels are never among them); TweetEval
  sentiment positive / neutral tweets as non-complaint background (weight 0.3).
* question head: TWCS inbound, TweetEval (sentiment, emotion, irony, offensive) and Bitext
  utterances, labelled by the rules (a question mark and no rhetorical cue -> 1; neither a
  question mark, an interrogative opener nor a request phrase -> 0; the rest dropped), with
  every question mark removed from the text so the head learns the wording of questions.
  Its stacker is hand-set (there is no gold question data here).
* purchase-intent head: purchase_intent_iphonex (yes / Yes / PI -> 1; no / No and
  undefined / Undefined -> 0), split 65 / 20 / 15 like the airline data; TweetEval background
  as 0 (weight 0.2).

The stackers (complaint, purchase intent) are logistic regressions fitted on the calibration
split; the decision threshold maximising F1 there is folded into the intercept.
Needs numpy, scipy and scikit-learn (the runtime needs numpy only).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from socialloop.learn.features import HashingConfig  # noqa: E402
from socialloop.learn.intent import (  # noqa: E402
    HEADS,
    MODEL_PATH,
    HeadsModel,
    IntentEnricher,
    logit,
    stack_matrix,
)
from socialloop.learn.intent_rules import FAMILIES, compile_rules, rule_features  # noqa: E402
from socialloop.learn.sentiment import SentimentEnricher  # noqa: E402

sys.path.insert(0, str(ROOT / "training"))
from gold_csv import gold_table, read_labels  # noqa: E402
from train_sentiment import featurize, tfidf  # noqa: E402

csv.field_size_limit(1 << 24)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_QMARKS = re.compile(r"[?¿？]")
QUESTION_COEF = (1.0, 2.5, 1.0, 2.0, -4.0, 1.0, -0.3)  # logit ? opener request rhetorical rec !
QUESTION_INTERCEPT = -2.5


@dataclass
class Rows:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # e.g. the airline negativereason

    def add(self, text: str, label: int, weight: float = 1.0, extra: str = "") -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.weights.append(weight)
        self.extra.append(extra)

    def extend(self, other: Rows) -> None:
        self.texts += other.texts
        self.labels += other.labels
        self.weights += other.weights
        self.extra += other.extra


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _three_way(rows: Rows, rng: np.random.Generator) -> tuple[Rows, Rows, Rows]:
    """Seeded 65 / 20 / 15 split into head-train, calibration and test."""
    u = rng.random(len(rows.texts))
    parts = (Rows(), Rows(), Rows())
    for i, x in enumerate(u):
        k = 0 if x < 0.65 else 1 if x < 0.85 else 2
        parts[k].add(rows.texts[i], rows.labels[i], rows.weights[i], rows.extra[i])
    return parts


def load_airline(data: Path) -> Rows:
    rows = Rows()
    with (data / "twitter_us_airline_sentiment" / "Tweets.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            neg = rec["airline_sentiment"] == "negative" and bool(rec["negativereason"])
            rows.add(rec["text"], int(neg), 1.0, rec["negativereason"] or rec["airline_sentiment"])
    return rows


def load_twcs_inbound(data: Path) -> dict[str, str]:
    """TWCS inbound (customer) tweets by tweet id."""
    path = data / "twcs_customer_support" / "twcs_head5000.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["tweet_id"]: r["text"] for r in csv.DictReader(fh) if r["inbound"] == "True"}


_APOLOGY = re.compile(
    r"\b(?:sorry|apologi[sz]e|apologies|unfortunately|inconvenience|frustrat\w*|"
    r"not the experience|hate to hear)",
    re.IGNORECASE,
)


def apologised_to(data: Path) -> set[str]:
    """Texts of TWCS inbound tweets a company answered with an apology ("sorry to hear",
    "we apologise", "unfortunately ..."): distant supervision for complaints, independent of
    the tweet's own wording (on the hand-labelled tweets, 87 % of them are complaints)."""
    path = data / "twcs_customer_support" / "twcs_head5000.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    text = {r["tweet_id"]: r["text"] for r in rows if r["inbound"] == "True"}
    out: set[str] = set()
    for r in rows:
        parent = r["in_response_to_tweet_id"]
        if r["inbound"] == "False" and parent and _APOLOGY.search(r["text"]):
            key = str(int(float(parent)))
            if key in text:
                out.add(text[key])
    return out


def gold_rows(data: Path, labels: Path, task: str, split: str) -> Rows:
    """The hand-labelled tweets of one split (``cal`` or ``test``) for ``task``
    (``gold_csv.gold_table``), as rows."""
    rows = Rows()
    for text, label in gold_table(data, task, split, labels):
        rows.add(text, int(label))
    return rows


def load_tweeteval(data: Path, rng: np.random.Generator, n: int) -> tuple[list[str], list[int]]:
    """A sample of SemEval-2017 sentiment train texts with labels (0 neg, 1 neu, 2 pos)."""
    path = data / "tweeteval" / "sentiment" / "train_reconstructed_from_semeval2017.tsv"
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            texts.append(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), row[4]))
            labels.append(int(row[1]))
    pick = rng.permutation(len(texts))[:n]
    return [texts[i] for i in pick], [labels[i] for i in pick]


def load_tweeteval_other(data: Path) -> list[str]:
    out: list[str] = []
    for task in ("emotion", "irony", "offensive"):
        out += _lines(data / "tweeteval" / task / "train_text.txt")
    return out


def load_bitext(data: Path) -> list[tuple[str, bool]]:
    path = data / "bitext_customer_support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    with path.open(encoding="utf-8") as fh:
        return [(r["instruction"], "I" in r["tags"]) for r in csv.DictReader(fh)]


def load_iphonex(data: Path) -> Rows:
    rows = Rows()
    with (data / "purchase_intent_iphonex" / "training.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            raw = (rec.get("class") or "").strip()
            label = 1 if raw in ("yes", "Yes", "PI") else 0
            rows.add(rec.get("text") or "", label, 1.0, raw.lower())
    return rows


def question_rows(texts: Sequence[str], rules: dict[str, re.Pattern[str]]) -> Rows:
    """Rule-labelled question rows with the question marks removed from the text."""
    feats = rule_features(texts, rules)
    q, op, rq, rh = (FAMILIES.index(f) for f in ("qmark", "opener", "request", "rhetorical"))
    rows = Rows()
    for text, f in zip(texts, feats, strict=True):
        if f[q] > 0 and f[rh] == 0:
            rows.add(_QMARKS.sub(" ", text), 1, extra=text)
        elif f[q] == 0 and f[op] == 0 and f[rq] == 0:
            rows.add(text, 0, extra=text)
    return rows


def fit_head(
    rows: Rows, cfg: HashingConfig, idf: np.ndarray, alpha: float, seed: int
) -> tuple[np.ndarray, float]:
    x = tfidf(featurize(rows.texts, cfg), idf)
    y = np.array(rows.labels)
    w = np.array(rows.weights, dtype=np.float64)
    freq = np.bincount(y, weights=w, minlength=2)
    w = w * (w.sum() / (2 * freq))[y]
    clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=30, tol=1e-4, random_state=seed)
    clf.fit(x, y, sample_weight=w)
    return clf.coef_[0], float(clf.intercept_[0])


def prf(gold: Sequence[int], pred: Sequence[int]) -> dict[str, float]:
    g, p = np.asarray(gold), np.asarray(pred)
    tp = float(((g == 1) & (p == 1)).sum())
    prec = tp / max(float(p.sum()), 1.0)
    rec = tp / max(float(g.sum()), 1.0)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3), "n": len(g)}


def fit_stacker(
    head: str, model: HeadsModel, rows: Rows, sent: SentimentEnricher, seed: int
) -> dict[str, Any]:
    """Logistic stacker on the calibration rows; the best-F1 threshold goes into the bias."""
    j = model.heads.index(head)
    logits = model.logits(rows.texts)[:, j]
    x = stack_matrix(
        head, logits, rule_features(rows.texts, compile_rules()), sent.predict_proba(rows.texts)
    )
    y = np.array(rows.labels)
    lr = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    lr.fit(x, y)
    p = lr.predict_proba(x)[:, 1]
    best = max(
        (prf(list(y), list((p >= t).astype(int)))["f1"], float(t))
        for t in np.arange(0.2, 0.81, 0.02)
    )
    return {
        "coef": [round(float(c), 5) for c in lr.coef_[0]],
        "intercept": round(float(lr.intercept_[0]) - logit(best[1]), 5),
        "threshold": round(best[1], 3),
        "calibration_f1": best[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--bits", type=int, default=18)
    ap.add_argument("--alpha", type=float, default=2e-5)
    ap.add_argument(
        "--gold",
        type=Path,
        default=ROOT / "training" / "labels" / "twcs_intent_gold.tsv",
        help="hand labels of TWCS inbound tweets (training/labels/README.md)",
    )
    ap.add_argument(
        "--calibrate",
        choices=("airline", "gold", "both"),
        default="airline",
        help="the complaint stacker's calibration rows",
    )
    ap.add_argument(
        "--question-stacker",
        choices=("hand", "gold"),
        default="hand",
        help="the question stacker: hand-set, or fitted on the gold calibration half",
    )
    ap.add_argument(
        "--apology-weight",
        type=float,
        default=0.5,
        help="TWCS tweets a company apologised to as complaints, at this weight (0: not used)",
    )
    ap.add_argument(
        "--gold-in-head", type=float, default=0.0, help="weight of gold rows in the head"
    )
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--report", type=Path, help="write the metrics as JSON here")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    cfg = HashingConfig(bits=args.bits, char_min=2, char_max=5, word_ngrams=2)
    rules = compile_rules()
    sent = SentimentEnricher()
    t0 = time.perf_counter()

    # --- complaint
    air_train, air_cal, air_test = _three_way(load_airline(args.data), rng)
    inbound = load_twcs_inbound(args.data)
    labelled = args.gold.is_file()
    gold_ids = {rec["tweet_id"] for rec in read_labels(args.gold)} if labelled else set()
    # the hand-labelled tweets are kept out of every head's training
    twcs = [text for tweet_id, text in inbound.items() if tweet_id not in gold_ids]
    gold_cal, gold_test, q_gold_cal, q_gold_test = (
        gold_rows(args.data, args.gold, task, split) if labelled else Rows()
        for task, split in (
            ("complaint", "cal"),
            ("complaint", "test"),
            ("question", "cal"),
            ("question", "test"),
        )
    )
    te_texts, te_labels = load_tweeteval(args.data, np.random.default_rng([args.seed, 1]), 12000)
    complaint = Rows()
    complaint.extend(air_train)
    c_col = FAMILIES.index("complaint")
    twcs_sent = sent.predict_proba(twcs)
    twcs_rules = rule_features(twcs, rules)
    apologised = apologised_to(args.data) if args.apology_weight > 0 else set()
    for text, s, f in zip(twcs, twcs_sent, twcs_rules, strict=True):
        if f[c_col] > 0 or s[0] > 0.6:
            complaint.add(text, 1, 0.5)
        elif text in apologised:
            complaint.add(text, 1, args.apology_weight)
        elif s[2] > 0.6:
            complaint.add(text, 0, 0.5)
    for text, label in zip(te_texts[:8000], te_labels[:8000], strict=True):
        if label > 0:
            complaint.add(text, 0, 0.3)
    for text, label in zip(gold_cal.texts, gold_cal.labels, strict=True):
        if args.gold_in_head > 0:
            complaint.add(text, label, args.gold_in_head)
    # --- question
    bitext = load_bitext(args.data)
    question = question_rows(twcs + te_texts + load_tweeteval_other(args.data), rules)
    for text, is_q in bitext:
        question.add(_QMARKS.sub(" ", text), int(is_q), 0.3, text)
    q_perm = np.random.default_rng([args.seed, 2]).permutation(len(question.texts))
    q_test_idx = set(q_perm[: len(q_perm) // 10].tolist())
    q_train, q_test = Rows(), Rows()
    for i in range(len(question.texts)):
        if i in q_test_idx:  # evaluated on the original text, question marks kept
            q_test.add(question.extra[i], question.labels[i])
        else:
            q_train.add(question.texts[i], question.labels[i], question.weights[i])
    # --- purchase intent
    pi_train, pi_cal, pi_test = _three_way(
        load_iphonex(args.data), np.random.default_rng([args.seed, 3])
    )
    purchase = Rows()
    purchase.extend(pi_train)
    for text in te_texts[8000:11000]:
        purchase.add(text, 0, 0.2)

    heads_rows = {"complaint": complaint, "question": q_train, "purchase_intent": purchase}
    all_texts = complaint.texts + q_train.texts + purchase.texts
    counts = featurize(all_texts, cfg)
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    coefs, biases = [], []
    for head in HEADS:
        c, b = fit_head(heads_rows[head], cfg, idf, args.alpha, args.seed)
        coefs.append(c)
        biases.append(b)
    meta = {
        "seed": args.seed,
        "alpha": args.alpha,
        "rows": {h: len(r.texts) for h, r in heads_rows.items()},
    }
    model = HeadsModel.from_float(cfg, HEADS, np.stack(coefs), idf, np.array(biases), None, meta)
    c_cal = Rows()
    if args.calibrate in ("airline", "both"):
        c_cal.extend(air_cal)
    if args.calibrate in ("gold", "both"):
        c_cal.extend(gold_cal)
    stackers = {
        "complaint": fit_stacker("complaint", model, c_cal, sent, args.seed),
        "purchase_intent": fit_stacker("purchase_intent", model, pi_cal, sent, args.seed),
        "question": {"coef": list(QUESTION_COEF), "intercept": QUESTION_INTERCEPT},
    }
    if args.question_stacker == "gold":
        stackers["question"] = fit_stacker("question", model, q_gold_cal, sent, args.seed)
    model = model.with_stackers(stackers)
    meta["train_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps({"meta": meta, "stackers": stackers}, indent=1), flush=True)

    # --- held-out evaluation through the runtime path
    step = IntentEnricher()
    step._model = model  # evaluate the model just trained
    report: dict[str, Any] = {"meta": meta, "stackers": stackers}

    def score(task: str, rows: Rows) -> dict[str, float]:
        start = time.perf_counter()
        pred = [int(x) for x in step.predict_binary(task, rows.texts)]
        m = prf(rows.labels, pred)
        m["us_per_post"] = round((time.perf_counter() - start) / max(len(pred), 1) * 1e6, 1)
        return m

    report["complaint_airline_test"] = score("complaint", air_test)
    if gold_test.texts:
        report["complaint_twcs_gold_test"] = score("complaint", gold_test)
        report["complaint_twcs_gold_cal"] = score("complaint", gold_cal)
    by_reason: dict[str, dict[str, float]] = {}
    pred = step.predict_binary("complaint", air_test.texts)
    for reason in sorted(set(air_test.extra)):
        idx = [i for i, r in enumerate(air_test.extra) if r == reason]
        by_reason[reason] = {
            "n": len(idx),
            "predicted_complaint": round(sum(pred[i] == "1" for i in idx) / len(idx), 3),
        }
    report["complaint_airline_by_reason"] = by_reason
    te_val = Rows()
    te_dir = args.data / "tweeteval" / "sentiment"
    for text, gold in zip(
        _lines(te_dir / "val_text.txt"), _lines(te_dir / "val_labels.txt"), strict=True
    ):
        te_val.add(text, int(gold == "0"))
    report["complaint_vs_tweeteval_negative_val"] = score("complaint", te_val)
    report["question_weak_test"] = score("question", q_test)
    if q_gold_test.texts:
        report["question_twcs_gold_test"] = score("question", q_gold_test)
        report["question_twcs_gold_cal"] = score("question", q_gold_cal)
    bx = Rows()
    for text, is_q in bitext:
        bx.add(text, int(is_q))
    report["question_bitext_I_tag"] = score("question", bx)
    report["purchase_iphonex_test"] = score("purchase-intent", pi_test)
    defined = Rows()
    for i, raw in enumerate(pi_test.extra):
        if raw != "undefined":
            defined.add(pi_test.texts[i], pi_test.labels[i])
    report["purchase_iphonex_test_defined_only"] = score("purchase-intent", defined)
    for k, v in report.items():
        if k not in ("meta", "stackers"):
            print(f"{k}: {json.dumps(v)}")
    if not args.no_save:
        model.save(args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    if args.report:
        args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
