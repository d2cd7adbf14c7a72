"""Benchmark: the full ADAPT report (every section) on N simulated posts (default 200,000).

1. simulate N posts (seed 1) and import them into a fresh workspace with the market's brands
   and their accounts (not timed); instead of running the enrichment (bench_enrich measures
   that), give every post the labels the report reads from the simulator's ground truth
   (sentiment, intent, a journey stage and micro-moment derived from the intent) and one of
   20 topics (keyword centroids from the bundled embeddings), so the label tables hold as many
   rows as after a real enrichment,
2. time ``build_report`` (every section, JSON-ready) and ``render_html``, and each section on
   its own.

Prints one JSON object: {"benchmark": "report", "posts", "seconds", "html_seconds",
"sections": {name: seconds}, "setup_seconds", "target_seconds": 30}.

Run: ``python benchmarks/bench_report.py [--posts N] [--workspace DIR]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

TOPICS = [
    "coffee taste flavour roast",
    "price expensive cost cheap",
    "wifi seats laptop work",
    "staff service friendly fast",
    "queue wait slow line",
    "app order mobile points",
    "loyalty rewards card stamps",
    "milk oat vegan options",
    "pastry cake croissant food",
    "music atmosphere cozy interior",
    "cold brew iced summer",
    "espresso machine grinder home",
    "beans bag origin farm",
    "delivery courier late order",
    "opening hours closed early",
    "cup paper plastic waste",
    "barista latte art skill",
    "seasonal pumpkin spice drinks",
    "parking location city centre",
    "students study exams quiet",
]
STAGE = {
    "question": "consideration",
    "recommendation_request": "consideration",
    "purchase_intent": "purchase",
    "complaint": "experience",
    "support_request": "experience",
    "praise": "advocacy",
}


def setup(root: Path, n: int) -> None:
    import numpy as np
    from sqlalchemy import select

    from socialloop.learn.embeddings import default_embedder
    from socialloop.listen.importer import import_posts
    from socialloop.simulate import default_market, simulate
    from socialloop.store.rows import execute_many
    from socialloop.store.schema import post_labels, posts, topics
    from socialloop.workspace import Workspace

    market = default_market()
    if root.exists():
        shutil.rmtree(root)
    with Workspace.init(root) as ws:
        for spec in market.brands:
            b = spec.to_brand()
            ws.add_brand(
                b.name,
                b.query,
                competitor=b.competitor,
                values=b.values,
                assumptions=b.assumptions,
                accounts=b.accounts,
            )
        import_posts(ws, simulate(n, seed=1, market=market))
        vecs = default_embedder().encode(TOPICS).astype("<f2")
        with ws.store.begin() as conn:
            conn.execute(
                topics.insert(),
                [
                    {
                        "id": i + 1,
                        "label": " / ".join(t.split()),
                        "keywords": t.split(),
                        "centroid": vecs[i].tobytes(),
                        "size": 0,
                        "created_at": datetime(2026, 1, 1),
                        "emerging": False,
                    }
                    for i, t in enumerate(TOPICS)
                ],
            )
        rng = np.random.default_rng(1)
        weights = 1.0 / np.arange(1, len(TOPICS) + 1)
        weights /= weights.sum()
        last = 0
        while True:
            with ws.store.begin() as conn:
                rows = conn.execute(
                    select(posts.c.pk, posts.c.raw)
                    .where(posts.c.pk > last)
                    .order_by(posts.c.pk)
                    .limit(20_000)
                ).all()
                if not rows:
                    break
                last = int(rows[-1].pk)
                picks = rng.choice(len(TOPICS), size=len(rows), p=weights)
                labels: list[dict[str, object]] = []
                for r, t in zip(rows, picks.tolist(), strict=True):
                    truth = (r.raw or {}).get("simulated", {})
                    intent = truth.get("intent") or "chitchat"
                    labels.append(
                        {
                            "field": "sentiment",
                            "label": truth.get("sentiment", "neutral"),
                            "post_pk": r.pk,
                            "score": None,
                        }
                    )
                    labels.append(
                        {"field": "topic", "label": str(t + 1), "post_pk": r.pk, "score": None}
                    )
                    labels.append(
                        {
                            "field": "stage",
                            "label": STAGE.get(intent, "none"),
                            "post_pk": r.pk,
                            "score": None,
                        }
                    )
                    if intent in STAGE:
                        labels.append(
                            {"field": "intent", "label": intent, "post_pk": r.pk, "score": None}
                        )
                    if intent in ("question", "recommendation_request"):
                        labels.append(
                            {"field": "moment", "label": "know", "post_pk": r.pk, "score": None}
                        )
                execute_many(conn, post_labels.insert(), labels)


def measure(root: Path) -> dict[str, object]:
    from socialloop.adapt import alignment, metrics, perception, roadmap, rox, spikes, touchpoints
    from socialloop.adapt.report import build_report, focus_brand
    from socialloop.adapt.report_html import render_html
    from socialloop.adapt.scope import Scope
    from socialloop.workspace import Workspace

    with Workspace.open(root) as ws:
        started = time.perf_counter()
        rep = build_report(ws)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        html = render_html(rep)
        html_seconds = time.perf_counter() - started
        scope = Scope(focus_brand(ws, None))
        every = Scope()
        parts = {
            "summary": lambda: metrics.summary(ws, scope),
            "share_of_voice": lambda: metrics.share_of_voice(ws, every),
            "timeseries_all_brands": lambda: [
                metrics.timeseries(ws, every.for_brand(b)) for b in ws.store.list_brands()
            ],
            "topics": lambda: metrics.topic_stats(ws, scope),
            "negative_drivers": lambda: metrics.negative_drivers(ws, scope),
            "spikes": lambda: spikes.detect_spikes(ws),
            "perception": lambda: perception.perception_gap(ws, scope),
            "alignment": lambda: alignment.brand_alignment(ws, scope),
            "roadmap": lambda: roadmap.content_roadmap(ws, scope),
            "touchpoints": lambda: touchpoints.touchpoints(ws, scope),
            "rox": lambda: rox.return_on_experience(ws, scope),
        }
        sections: dict[str, float] = {}
        for name, fn in parts.items():
            t0 = time.perf_counter()
            fn()
            sections[name] = round(time.perf_counter() - t0, 3)
        posts = ws.store.stats()["posts"]
    return {
        "benchmark": "report",
        "posts": posts,
        "seconds": round(seconds, 2),
        "html_seconds": round(html_seconds, 3),
        "html_bytes": len(html.encode()),
        "sections": sections,
        "target_seconds": 30,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--workspace", type=Path, default=None, help="Reuse this workspace.")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="socialloop-bench-report-"))
    try:
        setup_seconds = 0.0
        root = args.workspace
        if root is None:
            root = tmp / "ws"
            started = time.perf_counter()
            setup(root, args.posts)
            setup_seconds = time.perf_counter() - started
        result = measure(root)
        result["setup_seconds"] = round(setup_seconds, 1)
        print(json.dumps(result), flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
