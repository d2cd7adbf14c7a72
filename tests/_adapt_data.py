"""Helpers for the ADAPT tests: import constructed posts into a real workspace and give them
labels directly (the rows the enrichment pipeline would write), plus stored topics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select

from socialloop.learn.embeddings import default_embedder
from socialloop.listen.importer import import_posts
from socialloop.models import Post
from socialloop.store.schema import brand_labels, post_labels, posts, topics
from socialloop.workspace import Workspace


def load(ws: Workspace, items: Iterable[Post]) -> dict[str, int]:
    """Import posts (brand matching and threads as in a real import); native id -> pk."""
    import_posts(ws, list(items))
    with ws.store.begin() as conn:
        rows = conn.execute(select(posts.c.native_id, posts.c.pk))
        return {r.native_id: int(r.pk) for r in rows}


def label(
    ws: Workspace,
    pks: dict[str, int],
    rows: Sequence[tuple[str, str, str]],
    *,
    brand: str | None = None,
) -> None:
    """(post id, field, label) rows into post_labels, or brand_labels toward ``brand``."""
    bid = ws.store.get_brand(brand).id if brand else None
    with ws.store.begin() as conn:
        for pid, field, value in rows:
            if bid is None:
                conn.execute(
                    post_labels.insert().values(field=field, label=value, post_pk=pks[pid])
                )
            else:
                conn.execute(
                    brand_labels.insert().values(
                        brand_id=bid, field=field, label=value, post_pk=pks[pid]
                    )
                )


def add_topics(ws: Workspace, named: dict[int, str]) -> None:
    """Topics with these ids whose label and keywords are the given text and whose centroid
    is that text's embedding (what a build over posts about it would give)."""
    emb = default_embedder()
    now = datetime(2026, 1, 1)
    with ws.store.begin() as conn:
        for tid, text in named.items():
            vec = emb.encode([text])[0].astype(np.float32)
            conn.execute(
                topics.insert().values(
                    id=tid,
                    label=" / ".join(text.split()[:5]),
                    keywords=text.split(),
                    centroid=vec.astype("<f2").tobytes(),
                    size=0,
                    created_at=now,
                    emerging=False,
                )
            )


def at(day: int, hour: int = 12, month: int = 5) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)
