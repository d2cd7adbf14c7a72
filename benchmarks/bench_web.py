"""Benchmark: web API latency, p50 / p95, on N simulated posts (default 1,000,000).

1. build the workspace the report benchmark builds (``bench_report.setup``: simulated posts
   with the market's brands, sentiment, intent, stage and topic labels; not timed),
2. through the whole FastAPI stack in process (``TestClient``: routing, authentication by a
   bearer token or the session cookie, the SQL, JSON or HTML rendering), time
   - the overview page (``GET /``: every brand's volume, sentiment and daily chart, read from
     the daily rollups of ``web.rollups``),
   - ``GET /api/search`` for typical queries (first page, limit 50),
   - ``GET /api/brands`` (brands with post counts),
3. off the request path, time what keeps the overview's rollups current:
   ``refresh_overview(ws)`` (the CLI's tail after an import / enrichment: every day recounted)
   and ``refresh_overview(ws, pks)`` for 1,000 posts of the latest day (the live tail after a
   page of new posts: only their days recounted), and ``refresh_brand`` for each brand (after
   a brand is added or changed; also the overview's one-off fallback for a brand changed
   outside the app).

Prints one JSON object per route group: {"benchmark": "web", "route", "posts", "requests",
"p50_ms", "p95_ms", "target_p95_ms"} (no target for the refreshes: they run after ingest).

Run: ``python benchmarks/bench_web.py [--posts N] [--workspace DIR] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialloop.workspace import Workspace

HERE = Path(__file__).resolve().parent

QUERIES = [
    '"Brewhaven" OR #brewhaven OR @brewhaven',
    "latte AND (cold OR slow)",
    '"oat milk"',
    "espresso NOT decaf",
    "refund* AND lang:en",
    "#coffee",
    "barista NEAR/3 rude",
    "since:2026-10-20 AND (queue OR wait*)",
]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _refreshes(ws: Workspace) -> dict[str, list[Callable[[], object]]]:
    """The two ways the overview's rollups are kept current (not on the request path); the
    first full refresh also builds them, so the overview timed after it reads rollups."""
    from sqlalchemy import func, select

    from socialloop.store.schema import posts
    from socialloop.web.rollups import refresh_brand, refresh_overview

    refresh_overview(ws)
    with ws.store.begin() as conn:
        last = conn.execute(select(func.max(posts.c.created_at))).scalar_one()
        pks = list(
            conn.execute(
                select(posts.c.pk)
                .where(posts.c.created_at >= last - timedelta(days=1))
                .order_by(posts.c.created_at.desc())
                .limit(1000)
            ).scalars()
        )
    return {
        "refresh_full": [lambda: refresh_overview(ws)],
        f"refresh_ingest_{len(pks)}_posts": [lambda: refresh_overview(ws, pks)],
        "refresh_brand": [partial(refresh_brand, ws, brand) for brand in ws.store.list_brands()],
    }


def measure(root: Path, repeat: int) -> list[dict[str, object]]:
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from socialloop.web.app import create_app
    from socialloop.web.users import Users

    app = create_app(root)
    state = app.state.socialloop
    users = Users(state.workspace.store, hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    if "bench" not in {u.name for u in users.all()}:
        users.add("bench", "viewer", "bench-password")
    token, _ = users.create_token("bench", "bench")
    bearer = {"Authorization": f"Bearer {token}"}
    posts = state.workspace.store.stats()["posts"]
    out: list[dict[str, object]] = []
    with TestClient(app) as client:
        form = client.get("/login").text
        login_token = form.split('name="login_token" value="')[1].split('"')[0]
        login = client.post(
            "/login",
            data={"name": "bench", "password": "bench-password", "login_token": login_token},
            follow_redirects=False,
        )
        assert login.status_code == 303, login.text

        def timed(calls: list[Callable[[], object]]) -> list[float]:
            for call in calls:  # warm the page cache and the pool once
                call()
            samples = []
            for _ in range(repeat):
                for call in calls:
                    started = time.perf_counter()
                    call()
                    samples.append((time.perf_counter() - started) * 1000)
            return samples

        def get(path: str, **kw: object) -> Callable[[], object]:
            def call() -> object:
                r = client.get(path, **kw)  # type: ignore[arg-type]
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
                return r

            return call

        groups = {
            "overview": [get("/")] * 4,  # 4 x repeat samples
            "api_search": [
                get("/api/search", params={"q": q, "limit": 50}, headers=bearer) for q in QUERIES
            ],
            "api_brands": [get("/api/brands", headers=bearer)],
        }
        refreshes = _refreshes(state.workspace)
        for route, calls in [*groups.items(), *refreshes.items()]:
            samples = timed(calls)
            p50, p95 = _percentiles(samples)
            out.append(
                {
                    "benchmark": "web",
                    "route": route,
                    "posts": posts,
                    "requests": len(samples),
                    "p50_ms": round(p50, 1),
                    "p95_ms": round(p95, 1),
                    "target_p95_ms": None if route.startswith("refresh") else 100,
                }
            )
    state.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--workspace", type=Path, default=None, help="Reuse this workspace.")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from bench_report import setup

    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-web-"))
    try:
        root = args.workspace
        setup_seconds = 0.0
        if root is None or not root.exists():
            root = root or tmp / "ws"
            started = time.perf_counter()
            setup(root, args.posts)
            setup_seconds = time.perf_counter() - started
        for result in measure(root, args.repeat):
            result["setup_seconds"] = round(setup_seconds, 1)
            print(json.dumps(result), flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
