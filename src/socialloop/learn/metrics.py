"""Classification metrics for evaluations: accuracy, macro recall / F1, per-class precision,
recall and F1, the confusion matrix, and the positive class's F1 for binary tasks."""

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
    """Scores as fractions in [0, 1]. ``labels`` are the classes averaged over (default: the
    gold classes); predictions outside them count as errors. ``positive`` adds ``f1``."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    classes = list(labels) if labels is not None else sorted(set(gold))
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_n = Counter(gold)
    pred_n = Counter(predicted)
    per_class: dict[str, dict[str, float]] = {}
    for label in classes:
        tp = pairs[(label, label)]
        precision = tp / pred_n[label] if pred_n[label] else 0.0
        recall = tp / gold_n[label] if gold_n[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": float(gold_n[label]),
        }
    n = len(gold)
    predicted_classes = sorted(set(predicted) - set(classes))
    columns = [*classes, *predicted_classes]
    out: dict[str, Any] = {
        "n": n,
        "accuracy": sum(pairs[(c, c)] for c in set(gold)) / n if n else 0.0,
        "macro_recall": sum(c["recall"] for c in per_class.values()) / len(classes)
        if classes
        else 0.0,
        "macro_f1": sum(c["f1"] for c in per_class.values()) / len(classes) if classes else 0.0,
        "per_class": per_class,
        "confusion": {
            "labels": columns,
            "matrix": [[pairs[(g, p)] for p in columns] for g in classes],
        },
    }
    if positive is not None:
        out["f1"] = per_class.get(positive, {}).get("f1", 0.0)
    return out
