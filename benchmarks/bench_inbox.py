"""The inbox at scale: triage, listing and response analytics over N simulated posts.

1. simulate N posts of the default market and import them with the brands and their accounts
   (not timed), then write enrichment labels the way the LEARN pipeline stores them, drawn
   with a fixed seed (not timed; the real steps are measured in bench_enrich.py): an intent on
   ~12 % of posts (question, complaint, support_request, purchase_intent, praise), a sentiment
   on every post (25 % negative),
2. time ``triage_posts(ws, None)`` (every post new), then again (nothing new: the cost of the
   "after each import" hook when there is nothing to do),
3. time ``Inbox.list_items()`` (every open item, with priority and SLA state) and
   ``response_stats``, warm, 3 runs each: median seconds.

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

INTENTS = ("question", "complaint", "support_request", "purchase_intent", "praise")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _emit(doc: dict[str, Any]) -> None:
    print(json.dumps(doc), flush=True)


def _median3(fn: Callable[[], object]) -> tuple[float, list[float], object]:
    runs, out = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    n = args.posts

    from sqlalchemy import select

    from socialloop.engage.analytics import response_stats
    from socialloop.engage.inbox import Inbox
    from socialloop.engage.triage import triage_posts
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import default_market, simulate
    from socialloop.store.rows import execute_many
    from socialloop.store.schema import enrichments, post_labels, posts
    from socialloop.workspace import Workspace

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-inbox-"))
    try:
        ws = Workspace.init(tmp / "ws")
        market = default_market()
        for b in market.brands:
            brand = b.to_brand()
            ws.add_brand(
                brand.name, brand.query, competitor=brand.competitor, accounts=brand.accounts
            )
        import_posts(ws, simulate(n, seed=1, market=market))
        rnd = random.Random(7)
        with ws.store.begin() as conn:
            pks = [r[0] for r in conn.execute(select(posts.c.pk))]
            now = datetime(2026, 1, 1)
            enr, labels = [], []
            for pk in pks:
                enr.append(
                    {
                        "post_pk": pk,
                        "versions": {"intent": "bench"},
                        "data": {"intent": {}},
                        "confidence": {"intent": 0.9},
                        "updated_at": now,
                    }
                )
                sentiment = rnd.choices(["negative", "neutral", "positive"], [25, 45, 30])[0]
                labels.append(
                    {"field": "sentiment", "label": sentiment, "post_pk": pk, "score": 0.8}
                )
                if rnd.random() < 0.12:
                    labels.append(
                        {
                            "field": "intent",
                            "label": rnd.choice(INTENTS),
                            "post_pk": pk,
                            "score": 0.9,
                        }
                    )
            execute_many(conn, enrichments.insert(), enr)
            execute_many(conn, post_labels.insert(), labels)
        stored = ws.store.stats()["posts"]

        t0 = time.perf_counter()
        result = triage_posts(ws, None)
        took = time.perf_counter() - t0
        _emit(
            {
                "bench": "inbox.triage",
                "posts": stored,
                "examined": result.examined,
                "items": result.added,
                "reasons": dict(result.reasons),
                "answered_outside": result.answered_outside,
                "seconds": round(took, 3),
                "posts_per_s": round(result.examined / took) if took else None,
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        )
        t0 = time.perf_counter()
        again = triage_posts(ws, None)
        _emit(
            {
                "bench": "inbox.triage.nothing_new",
                "posts": stored,
                "examined": again.examined,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
        inbox = Inbox(ws)
        med, runs, items = _median3(inbox.list_items)
        assert isinstance(items, list)
        _emit(
            {
                "bench": "inbox.list_open",
                "posts": stored,
                "items": len(items),
                "seconds_median": round(med, 3),
                "seconds_runs": [round(r, 3) for r in runs],
            }
        )
        med, runs, _ = _median3(lambda: response_stats(ws.store))
        _emit(
            {
                "bench": "inbox.response_stats",
                "posts": stored,
                "seconds_median": round(med, 3),
                "seconds_runs": [round(r, 3) for r in runs],
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            }
        )
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
