"""Evaluate the language step on ../shared/data validation splits (accuracy per set, speed, RSS).

Usage: .venv/bin/python training/language_eval.py [--mode fast|accurate] [--threshold T]
       [--top-k K] [--languages en,es,...] [--lingua-models full|trigram] [--limit N]
       [--language-prior stream|none] [--stream-floor F] [--stream-share S]
       [--mixed | --minority SET [--minority-posts 15] [--repeats 3]] [--seed 0]

Reproduces docs/models.md "Language". Three ways to feed the sets to the step:

- default: one line per data set and the process's peak RSS. One step is shared by all the
  sets, fed set after set, so with the stream prior (``--language-prior stream``, the default)
  the prior accumulates over the sets: the first set is decided with an empty tally, the later
  ones among the languages of the sets before them. The ALL line is a second pass over the same
  step (its decisions are remembered, so it times the memo).
- ``--mixed``: every set pooled, shuffled (``--seed``) and fed in batches of 2,000 through one
  fresh step, as a stream in several languages would come; accuracy per set and over all.
- ``--minority SET``: the mixed stream without SET except ``--minority-posts`` random posts of
  it (a language at ~0.3 % of the stream), for seeds ``--seed`` .. ``--seed + repeats - 1``, a
  fresh step each; accuracy on those posts (and over all), then their mean.

``--stream-share`` sets the step's ``stream_share`` (default ``STREAM_SHARE``) to measure what
the share trades.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from collections.abc import Sequence
from pathlib import Path

from socialloop.learn.langid_stream import STREAM_FLOOR, STREAM_SHARE
from socialloop.learn.language import LanguageEnricher
from socialloop.learn.language_eval import evaluate_language, language_eval_sets

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BATCH = 2000

# (text, gold code, set name)
Labelled = tuple[str, str, str]


def build_step(args: argparse.Namespace) -> LanguageEnricher:
    """A fresh step with the command line's settings."""
    kwargs: dict[str, object] = {}
    if args.threshold is not None:
        kwargs["threshold"] = args.threshold
    if args.top_k is not None:
        kwargs["top_k"] = args.top_k
    langs = args.languages.split(",") if args.languages else None
    return LanguageEnricher(
        langs,
        mode=args.mode,
        lingua_models=args.lingua_models,
        stream_prior=args.language_prior == "stream",
        stream_floor=args.stream_floor,
        stream_share=args.stream_share if args.stream_share is not None else STREAM_SHARE,
        **kwargs,  # type: ignore[arg-type]
    )


def run_stream(step: LanguageEnricher, data: Sequence[Labelled]) -> list[bool]:
    """Feed ``data`` through ``step`` in batches of :data:`BATCH`; whether each post is right."""
    right: list[bool] = []
    for start in range(0, len(data), BATCH):
        chunk = data[start : start + BATCH]
        decided = step.detect_many([text for text, _, _ in chunk])
        right += [code == gold for (_, gold, _), (code, _) in zip(chunk, decided, strict=True)]
    return right


def per_set(sets: dict[str, tuple[list[str], list[str]]], args: argparse.Namespace) -> None:
    """The default mode: the sets one after the other through one step."""
    t0 = time.perf_counter()
    step = build_step(args)
    step.load()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load {time.perf_counter() - t0:.2f}s, peak RSS after loading {rss:.0f} MiB")
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


def pooled(sets: dict[str, tuple[list[str], list[str]]], leave_out: str = "") -> list[Labelled]:
    """Every set's posts (but ``leave_out``'s) as (text, gold, set name), in set order."""
    return [
        (text, gold, name)
        for name, (texts, golds) in sets.items()
        if name != leave_out
        for text, gold in zip(texts, golds, strict=True)
    ]


def mixed(sets: dict[str, tuple[list[str], list[str]]], args: argparse.Namespace) -> None:
    """``--mixed``: all sets pooled and shuffled through one fresh step."""
    data = pooled(sets)
    random.Random(args.seed).shuffle(data)
    step = build_step(args)
    c0 = time.process_time()
    right = run_stream(step, data)
    cpu = time.process_time() - c0
    for name in sets:
        hits = [r for r, (_, _, n) in zip(right, data, strict=True) if n == name]
        print(f"{name:14s} n={len(hits):5d} acc={sum(hits) / len(hits):.3f}")
    print(f"{'ALL':14s} n={len(right):5d} acc={sum(right) / len(right):.4f}  cpu {cpu:.1f}s")
    print(f"stream languages at the end: {','.join(sorted(step.stream_languages)) or '-'}")


def minority(sets: dict[str, tuple[list[str], list[str]]], args: argparse.Namespace) -> None:
    """``--minority SET``: SET cut to a few posts in the mixed stream, over several seeds."""
    name = args.minority
    if name not in sets:
        raise SystemExit(f"--minority: no set {name!r} (found: {', '.join(sets)})")
    texts, golds = sets[name]
    accs: list[float] = []
    for seed in range(args.seed, args.seed + args.repeats):
        rng = random.Random(seed)
        data = pooled(sets, leave_out=name)
        picked = rng.sample(range(len(texts)), args.minority_posts)
        data += [(texts[i], golds[i], name) for i in picked]
        rng.shuffle(data)
        right = run_stream(build_step(args), data)
        hits = [r for r, (_, _, n) in zip(right, data, strict=True) if n == name]
        accs.append(sum(hits) / len(hits))
        print(
            f"seed {seed}: {name} {sum(hits)}/{len(hits)} acc={accs[-1]:.3f}  "
            f"ALL acc={sum(right) / len(right):.4f} (n={len(right)})"
        )
    print(f"{name} minority accuracy, mean of {len(accs)} seeds: {sum(accs) / len(accs):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="fast", choices=["fast", "accurate"])
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--top-k", type=int, default=None)
    ap.add_argument("--languages", default=None)
    ap.add_argument("--lingua-models", default="full", choices=["full", "trigram"])
    ap.add_argument("--language-prior", default="stream", choices=["stream", "none"])
    ap.add_argument("--stream-floor", type=float, default=STREAM_FLOOR)
    ap.add_argument("--stream-share", type=float, default=None)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=DATA)
    feed = ap.add_mutually_exclusive_group()
    feed.add_argument("--mixed", action="store_true")
    feed.add_argument("--minority", default=None, metavar="SET")
    ap.add_argument("--minority-posts", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sets = language_eval_sets(args.data, args.limit)
    if not sets:
        raise SystemExit(f"no validation sets under {args.data}")
    if args.mixed:
        mixed(sets, args)
    elif args.minority:
        minority(sets, args)
    else:
        per_set(sets, args)


if __name__ == "__main__":
    main()
