"""Classification metrics for evaluations: accuracy, macro recall / F1, per-class precision,
recall and F1, the confusion matrix, and the positive class's F1 for binary tasks.

The macro scores average over the classes that have gold rows (``averaged_over``): a class of
the label set that the data never holds has no recall to average (a positive / negative file
scored by a three-class model), yet its predictions still count as errors in ``accuracy``
and in the precision of the other classes' rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any


def classification_metrics(
    gold: Sequence[str],
    predicted: Sequence[str],
    labels: Sequence[str] | None = None,
    *,
    positive: str | None = None,
) -> dict[str, Any]:
    """Scores as fractions in [0, 1]. ``labels``: the classes listed in ``per_class`` and the
    confusion rows (default: the gold classes); predictions outside them count as errors.
    ``macro_recall`` / ``macro_f1`` average over the listed classes with gold rows, named in
    ``averaged_over``. ``positive`` adds ``f1``, that class's F1."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    classes = list(labels) if labels is not None else sorted(set(gold))
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_n = Counter(gold)
    pred_n = Counter(predicted)
    per_class: dict[str, dict[str, Any]] = {}
    for label in classes:
        tp = pairs[(label, label)]
        precision = tp / pred_n[label] if pred_n[label] else 0.0
        recall = tp / gold_n[label] if gold_n[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": gold_n[label],
        }
    averaged = [c for c in classes if gold_n[c]]
    n = len(gold)
    predicted_classes = sorted(set(predicted) - set(classes))
    columns = [*classes, *predicted_classes]
    out: dict[str, Any] = {
        "n": n,
        "accuracy": sum(pairs[(c, c)] for c in set(gold)) / n if n else 0.0,
        "macro_recall": _mean([per_class[c]["recall"] for c in averaged]),
        "macro_f1": _mean([per_class[c]["f1"] for c in averaged]),
        "averaged_over": averaged,
        "per_class": per_class,
        "confusion": {
            "labels": columns,
            "matrix": [[pairs[(g, p)] for p in columns] for g in classes],
        },
    }
    if positive is not None:
        out["f1"] = per_class.get(positive, {}).get("f1", 0.0)
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
