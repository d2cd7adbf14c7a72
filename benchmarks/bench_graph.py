"""Benchmark: graph build + influence + communities on N simulated posts (default 1,000,000).

1. simulate N posts (seed 1) to a native JSONL file and import them into a fresh workspace
   with the market's brands (not timed; no enrichment, so the posts carry their declared
   language but no sentiment or topic labels),
2. in a fresh child process, run ``socialloop.graph.pipeline.build`` (read the store, build
   the interaction graph, PageRank and the influence score in every scope, Leiden
   communities and their descriptions, store it all), timed; its peak RSS is the child's.

Prints one JSON object: {"benchmark": "graph", "posts", "authors", "nodes", "edges",
"interactions", "communities", "scopes", "scores", "seconds", "stages", "peak_rss_mb",
"target_seconds": 60, "target_peak_rss_mb": 2048, "setup_seconds"}.

Run: ``python benchmarks/bench_graph.py [--posts N] [--keep DIR] [--workspace DIR]``
(``--workspace`` reuses an existing workspace and skips the setup).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def measure(root: Path) -> dict[str, object]:
    """Build the graph of the workspace at ``root`` (this process: its RSS is the figure)."""
    from socialloop.graph.pipeline import build
    from socialloop.workspace import Workspace

    with Workspace.open(root) as ws:
        started = time.perf_counter()
        report = build(ws)
        seconds = time.perf_counter() - started
    return {
        "benchmark": "graph",
        **report.to_dict(),
        "seconds": round(seconds, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "target_seconds": 60,
        "target_peak_rss_mb": 2048,
    }


def setup(root: Path, n: int, tmp: Path) -> None:
    from socialloop.listen.importer import import_files
    from socialloop.simulate import default_market, simulate, write_jsonl
    from socialloop.workspace import Workspace

    data = tmp / "stream.jsonl"
    market = default_market()
    write_jsonl(simulate(n, seed=1, market=market), data)
    if root.exists():
        shutil.rmtree(root)
    with Workspace.init(root) as ws:
        for b in market.brands:
            ws.add_brand(
                b.name, b.query, competitor=b.competitor, values=b.values, assumptions=b.assumptions
            )
        import_files(ws, [data])
    data.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the workspace here.")
    parser.add_argument("--workspace", type=Path, default=None, help="Reuse this workspace.")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-graph-"))
    try:
        setup_seconds = 0.0
        root = args.workspace
        if root is None:
            root = args.keep or (tmp / "ws")
            started = time.perf_counter()
            setup(root, args.posts, tmp)
            setup_seconds = time.perf_counter() - started
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            return proc.returncode
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["setup_seconds"] = round(setup_seconds, 1)
        print(json.dumps(result), flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
