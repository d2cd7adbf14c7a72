"""`socialloop eval influence`: the product's influence formula on PeerIndex pairs.

The data (Kaggle "Influencers in Social Networks", PeerIndex 2013) has one row per pair of
Twitter accounts A and B with aggregate features each, and ``Choice`` = 1 when people judged
A more influential. Both sides become authors of one population, their features are mapped to
the influence components (:data:`MAPPING`), and :func:`socialloop.graph.influence.combine`
(the function that scores the product's authors, with the product's weights) scores them.
AUC is computed on score(A) - score(B) against ``Choice``; accuracy counts A chosen when
score(A) > score(B). There is no topical scope in the data, so ``relevance`` is absent, as in
the product's ``all`` scope.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from socialloop.errors import InvalidValue
from socialloop.graph.build import FloatArray, IntArray
from socialloop.graph.influence import WEIGHTS, combine
from socialloop.learn.metrics import classification_metrics

MAPPING: dict[str, str] = {
    "authority": "listed_count",
    "reach": "follower_count",
    "engagement": "mentions_received",
    "amplification": "retweets_received",
}
"""Influence component -> PeerIndex feature. ``listed_count`` (how many curated lists other
accounts put the author in) stands for authority: endorsement by others, which PageRank
measures on the interaction graph; ``mentions_received`` (others addressing the author) for
engagement; ``retweets_received`` for amplification; followers are reach."""


@dataclass(slots=True)
class Pairs:
    """Feature columns of both sides (``a[feature]``, ``b[feature]``) and the choices."""

    path: Path
    a: dict[str, FloatArray]
    b: dict[str, FloatArray]
    choice: IntArray


def read_pairs(path: Path) -> Pairs:
    """Read a PeerIndex pairwise CSV (``Choice``, ``A_<feature>``, ``B_<feature>``)."""
    features = sorted(set(MAPPING.values()))
    needed = ["Choice"] + [f"{s}_{f}" for s in "AB" for f in features]
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in needed if c not in (reader.fieldnames or [])]
            if missing:
                raise InvalidValue(
                    f"{path}: missing column(s) {', '.join(missing)}; expected the PeerIndex "
                    "pairwise format (Choice, A_follower_count, ..., B_follower_count, ...)"
                )
            cols: dict[str, list[float]] = {c: [] for c in needed}
            for line, row in enumerate(reader, start=2):
                try:
                    values = {c: float(row[c]) for c in needed}
                except (TypeError, ValueError):
                    raise InvalidValue(
                        f"{path}, line {line}: a value of {', '.join(needed)} is not a number"
                    ) from None
                if values["Choice"] not in (0.0, 1.0):
                    raise InvalidValue(f"{path}, line {line}: Choice must be 0 or 1")
                for c in needed:
                    cols[c].append(values[c])
    except OSError as exc:
        raise InvalidValue(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not cols["Choice"]:
        raise InvalidValue(f"{path}: no pairs")
    arr = {c: np.asarray(v, dtype=np.float64) for c, v in cols.items()}
    return Pairs(
        path=path,
        a={f: arr[f"A_{f}"] for f in features},
        b={f: arr[f"B_{f}"] for f in features},
        choice=arr["Choice"].astype(np.int64),
    )


def score_pairs(
    pairs: Pairs, weights: Mapping[str, float] | None = None
) -> tuple[FloatArray, FloatArray]:
    """The influence score of side A and side B of every pair: both sides form one
    population (as the authors of one scope) scored by :func:`combine`."""
    n = len(pairs.choice)
    raw = {comp: np.concatenate([pairs.a[feat], pairs.b[feat]]) for comp, feat in MAPPING.items()}
    score, _norm = combine(raw, weights)
    return score[:n], score[n:]


def metrics(choice: IntArray, score_a: FloatArray, score_b: FloatArray) -> dict[str, float]:
    diff = score_a - score_b
    both = len(set(choice.tolist())) == 2
    return {
        "auc": float(roc_auc_score(choice, diff)) if both else float("nan"),
        "accuracy": float(np.mean((diff > 0).astype(np.int64) == choice)),
    }


def evaluate_influence(path: Path, weights: Mapping[str, float] | None = None) -> dict[str, Any]:
    """AUC of the influence score on the pairs in ``path``, with the keys every ``eval``
    prints (``classification_metrics`` of the choice "A is more influential than B", class
    ``1``, against ``0``; ``posts_per_s``: pairs scored per second) and the formula used."""
    pairs = read_pairs(path)
    started = time.perf_counter()
    sa, sb = score_pairs(pairs, weights)
    elapsed = time.perf_counter() - started
    used = dict(weights or WEIGHTS)
    gold = [str(int(c)) for c in pairs.choice]
    predicted = ["1" if d > 0 else "0" for d in (sa - sb).tolist()]
    scores = classification_metrics(gold, predicted, ("0", "1"), positive="1")
    return {
        "task": "influence",
        "data": str(path),
        **scores,
        **metrics(pairs.choice, sa, sb),
        "posts_per_s": len(gold) / elapsed if elapsed > 0 else float("inf"),
        "mapping": dict(MAPPING),
        "weights": {c: used[c] for c in MAPPING},
    }


def tune_weights(
    path: Path, grid: Sequence[float] = (0.1, 0.2, 0.35, 0.5), validation_every: int = 4
) -> dict[str, Any]:
    """Grid-search the four mapped weights on the validation part of a labelled file (rows
    ``i % validation_every == validation_every - 1``); report the best weights' AUC on the
    validation rows and on the others. Used to check :data:`WEIGHTS` (docs/influence.md)."""
    pairs = read_pairs(path)
    idx = np.arange(len(pairs.choice))
    val = idx % validation_every == validation_every - 1
    best: tuple[float, dict[str, float]] | None = None
    for combo in itertools.product(grid, repeat=len(MAPPING)):
        w = dict(zip(MAPPING, combo, strict=True))
        sa, sb = score_pairs(pairs, w)
        auc = float(roc_auc_score(pairs.choice[val], (sa - sb)[val]))
        if best is None or auc > best[0] + 1e-12:
            best = (auc, w)
    assert best is not None
    sa, sb = score_pairs(pairs, best[1])
    rest = metrics(pairs.choice[~val], sa[~val], sb[~val])
    return {"weights": best[1], "validation_auc": best[0], "rest_auc": rest["auc"]}
