"""Helpers for the inbox tests: store posts with enrichment labels written the way the LEARN
pipeline writes them (``enrichments``, ``post_labels``, ``brand_labels`` rows), and a clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from socialloop.models import Post
from socialloop.store.schema import brand_labels, brands, enrichments, post_labels, posts
from socialloop.workspace import Workspace

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # a Monday


@dataclass
class Clock:
    """A settable clock (aware UTC)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def store_posts(ws: Workspace, items: Sequence[tuple[Post, dict[str, Any]]]) -> dict[str, int]:
    """Upsert the posts, match them to the workspace's brands, and write their labels.

    Label spec: ``intent`` (list), ``sentiment`` (str), ``brand_sentiment`` ({brand: label}),
    ``lang`` (str), ``score`` (the step confidence, default 0.9), ``enriched`` (default True).
    Returns {post id: pk}."""
    ws.store.upsert_posts([p for p, _ in items])
    with ws.store.begin() as conn:
        pks = {
            r.id: r.pk
            for r in conn.execute(
                select(posts.c.id, posts.c.pk).where(posts.c.id.in_([p.id for p, _ in items]))
            )
        }
        brand_ids = {r.name: r.id for r in conn.execute(select(brands.c.name, brands.c.id))}
        ws.store.add_matches(conn, ws.match_brands([(pks[p.id], p) for p, _ in items]))
        now = datetime(2026, 5, 1)
        for post, spec in items:
            pk = pks[post.id]
            if not spec.get("enriched", True):
                continue
            score = spec.get("score", 0.9)
            conn.execute(
                enrichments.insert().values(
                    post_pk=pk,
                    versions={"intent": "t"},
                    data={"intent": {}},
                    confidence={"intent": score},
                    updated_at=now,
                )
            )
            rows = [
                {"field": "intent", "label": i, "post_pk": pk, "score": score}
                for i in spec.get("intent", [])
            ]
            if "sentiment" in spec:
                rows.append(
                    {
                        "field": "sentiment",
                        "label": spec["sentiment"],
                        "post_pk": pk,
                        "score": score,
                    }
                )
            if "lang" in spec:
                rows.append({"field": "lang", "label": spec["lang"], "post_pk": pk, "score": 1.0})
            if rows:
                conn.execute(post_labels.insert(), rows)
            for brand, label in spec.get("brand_sentiment", {}).items():
                conn.execute(
                    brand_labels.insert().values(
                        brand_id=brand_ids[brand],
                        field="sentiment",
                        label=label,
                        post_pk=pk,
                        score=score,
                    )
                )
    return pks
