"""Evaluate the language step on labelled texts, and find the validation sets in
``shared/data`` (used by ``training/language_eval.py``, ``socialloop eval language`` and tests)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from socialloop.learn.language import UND, LanguageEnricher
from socialloop.learn.metrics import classification_metrics


def evaluate_language(
    texts: Sequence[str],
    gold: Sequence[str],
    step: LanguageEnricher | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 (over gold classes), per-class P/R/F1 and throughput of a step.

    ``gold`` holds ISO 639-1 codes; ``step`` defaults to a fast step over all languages.
    """
    if len(texts) != len(gold):
        raise ValueError("texts and gold must have the same length")
    step = step or LanguageEnricher()
    step.load()
    start = time.perf_counter()
    pred = [code for code, _ in step.detect_many(list(texts))]
    elapsed = time.perf_counter() - start
    n = len(gold)
    scores = classification_metrics(gold, pred)
    confusions: dict[str, int] = {}
    for p, g in zip(pred, gold, strict=True):
        if p != g:
            confusions[f"{g}->{p}"] = confusions.get(f"{g}->{p}", 0) + 1
    top_conf = dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:10])
    return {
        **scores,
        "posts_per_s": n / elapsed if elapsed > 0 else float("inf"),
        "us_per_post": 1e6 * elapsed / n if n else 0.0,
        "und_rate": sum(1 for p in pred if p == UND) / n if n else 0.0,
        "top_confusions": top_conf,
    }


UMSAB_LANGUAGES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}


def language_eval_sets(data_dir: Path, limit: int = 2000) -> dict[str, tuple[list[str], list[str]]]:
    """Labelled validation sets found under ``shared/data`` (name -> (texts, gold codes)).

    UMSAB ``<language>/val_text.txt`` (the folder is the language), TweetEval sentiment
    validation (English) and the first ``limit`` lines of XED ``fi-annotated.tsv`` (Finnish).
    Missing files are skipped, so the result may be empty.
    """
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for folder, code in UMSAB_LANGUAGES.items():
        path = data_dir / "xlm_t_umsab" / folder / "val_text.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()[:limit]
            sets[f"umsab-{code}"] = (lines, [code] * len(lines))
    path = data_dir / "tweeteval" / "sentiment" / "val_text.txt"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()[:limit]
        sets["tweeteval-en"] = (lines, ["en"] * len(lines))
    path = data_dir / "xed_finnish" / "fi-annotated.tsv"
    if path.is_file():
        rows = path.read_text(encoding="utf-8").splitlines()[:limit]
        lines = [r.split("\t", 1)[0] for r in rows]
        sets["xed-fi"] = (lines, ["fi"] * len(lines))
    return sets
