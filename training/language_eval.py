"""Evaluate the language step on ../shared/data validation splits (accuracy per set, speed, RSS).

Usage: .venv/bin/python training/language_eval.py [--mode fast|accurate] [--threshold T]
       [--top-k K] [--languages en,es,...] [--lingua-models full|trigram] [--limit N]
Prints one line per data set and the process's peak RSS; reproduces docs/models.md "Language".
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from socialloop.learn.language import LanguageEnricher
from socialloop.learn.language_eval import evaluate_language, language_eval_sets

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="fast", choices=["fast", "accurate"])
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--languages", default=None)
    ap.add_argument("--lingua-models", default="full", choices=["full", "trigram"])
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    kwargs: dict[str, object] = {}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    if args.top_k is not None:
        kwargs["top_k"] = args.top_k
    kwargs["lingua_models"] = args.lingua_models
    langs = args.languages.split(",") if args.languages else None
    t0 = time.perf_counter()
    step = LanguageEnricher(langs, mode=args.mode, **kwargs)  # type: ignore[arg-type]
    step.load()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load {time.perf_counter() - t0:.2f}s, peak RSS after loading {rss:.0f} MiB")
    sets = language_eval_sets(args.data, args.limit)
    all_t: list[str] = []
    all_g: list[str] = []
    for name, (texts, gold) in sets.items():
        rep = evaluate_language(texts, gold, step)
        conf = ", ".join(f"{k}:{v}" for k, v in list(rep["top_confusions"].items())[:4])
        print(
            f"{name:14s} n={rep['n']:5d} acc={rep['accuracy']:.3f} und={rep['und_rate']:.3f} "
            f"{rep['us_per_post']:7.0f} us/post  [{conf}]"
        )
        all_t += texts
        all_g += gold
    rep = evaluate_language(all_t, all_g, step)  # second pass: lingua models are warm
    print(
        f"{'ALL':14s} n={rep['n']:5d} acc={rep['accuracy']:.3f} macro_f1={rep['macro_f1']:.3f} "
        f"{rep['us_per_post']:.0f} us/post"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS at the end {rss:.0f} MiB")


if __name__ == "__main__":
    main()
