"""Benchmark: exporting enriched posts, with and without what LEARN computed (labels).

1. simulate N posts (default 100,000, seed 1), import them into a fresh workspace with the
   market's brands and run the default enrichment (not timed),
2. export every post to CSV, JSONL and Parquet (if pyarrow is installed), each without and
   with the labels (detected language, sentiment, emotions, intents, moment, stage, topic and
   the sentiment toward each brand; docs/exports.md), timing the process's CPU seconds.

Prints one JSON object per format: {"benchmark": "export", "format", "posts", "cpu_seconds",
"cpu_seconds_with_labels", "us_per_post_for_labels", "peak_rss_mb"}.
Run: ``python benchmarks/bench_export.py [--posts N]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    n = min(args.posts, 200_000)  # enrichment first: keep the setup within minutes

    from socialloop.adapt.export import export_posts
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import default_market, simulate
    from socialloop.store.labels import label_reader
    from socialloop.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-export-"))
    try:
        market = default_market()
        ws = Workspace.init(tmp / "ws")
        for b in market.brands:
            ws.add_brand(
                b.name, b.query, competitor=b.competitor, values=b.values, assumptions=b.assumptions
            )
        t0 = time.perf_counter()
        import_posts(ws, simulate(n, seed=1, market=market))
        with ws.enrichment() as pipeline:
            pipeline.run(ws.store)
        setup = time.perf_counter() - t0
        formats = ["csv", "jsonl"]
        if importlib.util.find_spec("pyarrow") is not None:
            formats.append("parquet")
        for fmt in formats:
            cpu: list[float] = []
            for labels in (None, label_reader(ws.store)):
                c0 = time.process_time()
                written = export_posts(ws.iter_posts(None), tmp / f"out.{fmt}", fmt, labels=labels)
                cpu.append(time.process_time() - c0)
                assert written == n
            print(
                json.dumps(
                    {
                        "benchmark": "export",
                        "format": fmt,
                        "posts": n,
                        "cpu_seconds": round(cpu[0], 2),
                        "cpu_seconds_with_labels": round(cpu[1], 2),
                        "us_per_post_for_labels": round((cpu[1] - cpu[0]) / n * 1e6, 1),
                        "peak_rss_mb": round(
                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                        ),
                        "setup_seconds": round(setup, 1),
                    }
                ),
                flush=True,
            )
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
