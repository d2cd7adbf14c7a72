"""Benchmark: generate N simulated posts in memory (default 1,000,000) and report throughput.

Prints one JSON line: {"benchmark": "simulate", "posts": N, "seconds": s, "posts_per_s": r,
"peak_rss_mb": m, "cpu_seconds": c}. With ``--out FILE`` it also writes them (JSONL, gzip for
``.gz``) and adds ``write_seconds`` and ``write_overhead_s``.

Run: ``python benchmarks/bench_simulate.py [N | --posts N] [--days D] [--seed S] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from socialloop.simulate import simulate, write_jsonl


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=None, help="posts (default 1,000,000)")
    parser.add_argument("--posts", type=int, default=None, help="same as N (benchmarks/run.py)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="also write the posts to this file")
    args = parser.parse_args(argv)
    posts = next((v for v in (args.posts, args.n) if v is not None), 1_000_000)

    started = time.perf_counter()
    cpu_started = time.process_time()
    count = 0
    for _ in simulate(posts, days=args.days, seed=args.seed):
        count += 1
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    result: dict[str, object] = {
        "benchmark": "simulate",
        "posts": count,
        "seconds": round(seconds, 3),
        "posts_per_s": round(count / seconds) if seconds > 0 else None,
        "peak_rss_mb": _peak_rss_mb(),
        "cpu_seconds": round(cpu_seconds, 3),
    }
    if args.out:
        started = time.perf_counter()
        write_jsonl(simulate(posts, days=args.days, seed=args.seed), args.out)
        total = time.perf_counter() - started
        result["write_seconds"] = round(total, 3)
        result["write_overhead_s"] = round(total - seconds, 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
