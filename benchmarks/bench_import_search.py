"""Import throughput and search latency at scale.

1. simulate N posts to a native JSONL file (not timed here; see bench_simulate.py),
2. import it into a fresh workspace with the market's brands defined (parse + store + brand
   matching + thread derivation), timed on one core: posts/s/core,
3. run typical searches (brand-style boolean queries, phrases, wildcards, fields) against the
   N-post store: p50 / p95 latency of the first page (limit 50) and of --count.

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

QUERIES = [
    '"Brewhaven" OR #brewhaven OR @brewhaven',
    "latte AND (cold OR slow)",
    '"oat milk"',
    "espresso NOT decaf",
    "refund* AND lang:en",
    "network:mastodon AND coffee",
    "#coffee",
    '"cold brew"~3',
    "barista NEAR/3 rude",
    "author:a* AND price",
    "site:youtube.com",
    "since:2026-10-20 AND (queue OR wait*)",
]
# (query, brand): what the brand pages of the product run (post_brands + a query)
BRAND_QUERIES = [
    (None, "Brewhaven"),
    (None, "Cupworth"),
    ('refund* OR "charged twice"', "Brewhaven"),
    ("lang:es", "Quillbean"),
]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the workspace here.")
    parser.add_argument(
        "--bulk",
        choices=("auto", "on", "off"),
        default="auto",
        help="Import mode (auto: bulk for files of 64 MiB or more, as `socialloop import`).",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="An EMPTY PostgreSQL database to run on (postgresql+psycopg://...) instead of "
        "SQLite; the server's own CPU is not in cpu_seconds, so compare posts_per_s (wall).",
    )
    args = parser.parse_args()
    bulk = {"auto": None, "on": True, "off": False}[args.bulk]
    n = args.posts

    from socialloop.listen.importer import BULK_AUTO_BYTES, import_files
    from socialloop.simulate import default_market, simulate, write_jsonl
    from socialloop.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-"))
    try:
        data = tmp / "stream.jsonl"
        market = default_market()
        write_jsonl(simulate(n, seed=1, market=market), data)
        root = args.keep or (tmp / "ws")
        if root.exists():
            shutil.rmtree(root)
        ws = Workspace.init(root, database_url=args.database_url)
        for b in market.brands:
            ws.add_brand(
                b.name,
                b.query,
                competitor=b.competitor,
                values=b.values,
                assumptions=b.assumptions,
            )
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        report = import_files(ws, [data], bulk=bulk)
        mode = args.bulk if bulk is not None else f"auto: {data.stat().st_size >= BULK_AUTO_BYTES}"
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        print(
            json.dumps(
                {
                    "benchmark": "import",
                    "posts": report.read,
                    "new": report.new,
                    "bulk": mode,
                    "seconds": round(wall, 2),
                    "cpu_seconds": round(cpu, 2),
                    "posts_per_s": round(report.read / wall),
                    "posts_per_s_per_core": round(report.read / max(cpu, 1e-9)),
                    "target_posts_per_s_per_core": 100_000,
                    "store": ws.store.engine.dialect.name,
                    "file_mb": round(data.stat().st_size / 2**20, 1),
                    "db_mb": round(
                        sum(p.stat().st_size for p in root.glob("socialloop.db*")) / 2**20, 1
                    ),
                    "peak_rss_mb": round(_peak_rss_mb()),
                }
            ),
            flush=True,
        )
        for kind in ("page", "count"):
            lat: list[float] = []
            for _round in range(5):
                for q, brand in [(q, None) for q in QUERIES] + BRAND_QUERIES:
                    t = time.perf_counter()
                    if kind == "page":
                        ws.search(q, brand=brand, limit=50)
                    else:
                        ws.count(q, brand=brand)
                    lat.append((time.perf_counter() - t) * 1000)
            lat.sort()
            print(
                json.dumps(
                    {
                        "benchmark": f"search_{kind}",
                        "posts": report.read,
                        "queries": len(QUERIES) + len(BRAND_QUERIES),
                        "runs": len(lat),
                        "p50_ms": round(statistics.median(lat), 1),
                        "p95_ms": round(lat[int(len(lat) * 0.95) - 1], 1),
                        "max_ms": round(lat[-1], 1),
                        "target_p95_ms": 100,
                    }
                ),
                flush=True,
            )
        ws.close()
    finally:
        if os.environ.get("SOCIALLOOP_BENCH_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
