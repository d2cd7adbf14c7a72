"""Response analytics at scale: ``socialloop responsetimes`` over N simulated posts.

1. simulate N posts of the default market (brands answer some of their customers, with
   delays) and import them into a fresh workspace with the brands and their accounts
   defined (not timed; see bench_import_search.py),
2. time ``response_times`` for every brand (SQL selection of the threads involving brand
   accounts, one read of their posts, one walk in memory), warm, 3 runs: median seconds;
   then the same with ``matched`` (posts naming a brand open conversations too),
3. time ``load_thread`` on the 20 largest threads (one thread view each).

Prints one JSON object per measurement (peak RSS of the whole process, import included).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="Keep the workspace here.")
    parser.add_argument(
        "--reuse", type=Path, default=None, help="Measure an existing (kept) workspace."
    )
    args = parser.parse_args()
    n = args.posts

    from sqlalchemy import func, select

    from socialloop.conversations import load_thread, response_times
    from socialloop.errors import NotFound
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import default_market, simulate
    from socialloop.store.schema import posts
    from socialloop.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-threads-"))
    try:
        if args.reuse is not None:
            ws = Workspace.open(args.reuse)
        else:
            root = args.keep or (tmp / "ws")
            if root.exists():
                shutil.rmtree(root)
            ws = Workspace.init(root)
            market = default_market()
            for b in market.brands:
                brand = b.to_brand()
                ws.add_brand(
                    brand.name, brand.query, competitor=brand.competitor, accounts=brand.accounts
                )
            t0 = time.perf_counter()
            import_posts(ws, simulate(n, seed=1, market=market))
            print(
                json.dumps(
                    {
                        "bench": "threads.setup_import",
                        "posts": n,
                        "seconds": time.perf_counter() - t0,
                    }
                ),
                flush=True,
            )
        stored = ws.store.stats()["posts"]
        for matched in (False, True):
            runs = []
            cpu = []
            stats = []
            for _ in range(3):
                t0, c0 = time.perf_counter(), time.process_time()
                stats = response_times(ws.store, matched=matched)
                runs.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            print(
                json.dumps(
                    {
                        "bench": "threads.responsetimes" + (".matched" if matched else ""),
                        "posts": stored,
                        "seconds_median": round(statistics.median(runs), 3),
                        "seconds_runs": [round(r, 3) for r in runs],
                        # CPU seconds of this process: robust when other work shares the cores
                        "cpu_seconds_median": round(statistics.median(cpu), 3),
                        "accounts": len(stats),
                        "conversations": sum(s.threads for s in stats),
                        "per_account": [
                            {
                                "account": s.account,
                                "threads": s.threads,
                                "response_rate": s.response_rate,
                                "median_first_response_s": s.percentile(50),
                            }
                            for s in stats
                        ],
                        "peak_rss_mb": round(_peak_rss_mb(), 1),
                        "target": "<= 10 s of one core at 1M posts",
                    }
                ),
                flush=True,
            )
        with ws.store.begin() as conn:
            biggest = [
                r[0]
                for r in conn.execute(
                    select(posts.c.root_id)
                    .where(posts.c.root_id.is_not(None))
                    .group_by(posts.c.root_id)
                    .order_by(func.count().desc())
                    .limit(20)
                )
            ]
        times = []
        sizes = []
        for root_id in biggest:
            t0 = time.perf_counter()
            try:
                thread = load_thread(ws.store, root_id)
            except NotFound:  # the root of a partial thread is not stored
                continue
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(thread.size)
        if times:
            print(
                json.dumps(
                    {
                        "bench": "threads.thread_view",
                        "posts": stored,
                        "threads": len(times),
                        "largest_thread_posts": max(sizes),
                        "ms_p50": round(statistics.median(times), 2),
                        "ms_max": round(max(times), 2),
                    }
                ),
                flush=True,
            )
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
