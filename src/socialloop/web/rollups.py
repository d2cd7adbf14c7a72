"""The overview's daily rollups: per brand and UTC day, the posts, their engagement and the
sentiment counts toward the brand (tables ``overview_days`` and ``overview_brands``, migration
0011), so the dashboard's overview reads a few hundred rows instead of scanning every post
(2.6 s at a million posts).

Kept up to date where posts change, never on a page request:

- ``refresh_overview(ws)`` recounts everything, at the end of every CLI import, simulation and
  enrichment (``cli.data_cmds.triage_after_enrich``; cheap next to the enrichment itself);
- ``refresh_overview(ws, post_pks)`` recounts only the days those posts fall on, after every
  live page and pushed import (``listen.live.after_ingest``);
- ``refresh_brand(ws, brand)`` rebuilds one brand, when the web app adds or changes it.

A brand changed elsewhere (``socialloop brand edit``), or a workspace that has never been
refreshed, is noticed by ``read_overview``: the brand's rollups were built for another query,
or for none, so that brand is rebuilt once, before it is shown (the fallback).

Each recount deletes the old rows and inserts the new ones (one ``INSERT ... SELECT``) in one
transaction: readers see the old rows or the new ones, never a mix, and two refreshes never
interleave (on PostgreSQL, where writers do run at once, an advisory lock queues them). The
counts are those of ``adapt.metrics.timeseries`` / ``summary`` per day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select

from socialloop.adapt.scope import SENTIMENT_LABELS, bucket, count_if, engagement, with_sentiment
from socialloop.models import Brand
from socialloop.store.rows import one_writer
from socialloop.store.schema import brands, overview_brands, overview_days, post_brands, posts
from socialloop.workspace import Workspace

LOCK_KEY = 0x534C_0001
"""The advisory lock that keeps two refreshes from interleaving on PostgreSQL (see
:func:`socialloop.store.rows.one_writer`): a delete-and-recount racing another one would
insert the same (brand, day) twice."""

CHUNK = 5000
"""Post pks per ``IN (...)`` when finding the days a batch of posts falls on."""

COLUMNS = ["brand_id", "day", "posts", "engagement", *SENTIMENT_LABELS]


@dataclass(frozen=True, slots=True)
class Day:
    """One brand's day: posts, engagement and sentiment counts toward the brand."""

    day: date
    posts: int
    engagement: int
    positive: int
    neutral: int
    negative: int


@dataclass(frozen=True, slots=True)
class BrandOverview:
    """A brand with its days (oldest first, days without posts left out) and when its
    rollups were last refreshed."""

    brand: Brand
    days: list[Day]
    refreshed_at: datetime | None

    @property
    def posts(self) -> int:
        return sum(d.posts for d in self.days)

    @property
    def sentiment(self) -> dict[str, int]:
        return {s: sum(getattr(d, s) for d in self.days) for s in SENTIMENT_LABELS}

    @property
    def net_sentiment(self) -> float:
        """(positive - negative) / labelled posts, as ``adapt.metrics.summary`` has it."""
        counts = self.sentiment
        labelled = sum(counts.values())
        if not labelled:
            return 0.0
        return round((counts["positive"] - counts["negative"]) / labelled, 4)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _counts(conn: Connection, *conds: ColumnElement[bool]) -> Select[Any]:
    """Per (brand, day): posts, engagement, sentiment counts toward the brand."""
    base = post_brands.join(posts, posts.c.pk == post_brands.c.post_pk)
    joined, sent = with_sentiment(base, None, brand_column=post_brands.c.brand_id)
    day = bucket(conn, "day")
    return (
        select(
            post_brands.c.brand_id,
            day,
            func.count(),
            func.coalesce(func.sum(engagement()), 0),
            *(count_if(sent == s) for s in SENTIMENT_LABELS),
        )
        .select_from(joined)
        .where(*conds)
        .group_by(post_brands.c.brand_id, day)
    )


def _mark(conn: Connection, rows: Iterable[tuple[int, str]], at: datetime) -> None:
    rows = list(rows)
    conn.execute(
        delete(overview_brands).where(overview_brands.c.brand_id.in_([b for b, _ in rows]))
    )
    if rows:
        conn.execute(
            insert(overview_brands),
            [{"brand_id": b, "query": q, "refreshed_at": at} for b, q in rows],
        )


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged: [(first, last), ...]."""
    out: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if out and d - out[-1][1] == timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _touched_days(conn: Connection, post_pks: Sequence[int]) -> set[date]:
    day = bucket(conn, "day")
    found: set[date] = set()
    for i in range(0, len(post_pks), CHUNK):
        chunk = list(post_pks[i : i + CHUNK])
        found.update(
            date.fromisoformat(str(r[0]))
            for r in conn.execute(select(day).where(posts.c.pk.in_(chunk)).distinct())
        )
    return found


def refresh_overview(
    ws: Workspace, post_pks: Sequence[int] | None = None, *, now: datetime | None = None
) -> None:
    """Recount every brand's days (``post_pks`` None), or only the days those posts fall on
    (for every brand: a new post may match several)."""
    at = now or _now()
    with ws.store.begin() as conn:
        one_writer(conn, LOCK_KEY)
        if post_pks is None:
            conn.execute(delete(overview_days))
            conn.execute(overview_days.insert().from_select(COLUMNS, _counts(conn)))
            conn.execute(delete(overview_brands))
            _mark(conn, [(r.id, r.query) for r in conn.execute(select(brands))], at)
            return
        if not post_pks:
            return
        for first, last in _day_ranges(_touched_days(conn, post_pks)):
            lo = datetime.combine(first, datetime.min.time())
            hi = datetime.combine(last + timedelta(days=1), datetime.min.time())
            conn.execute(
                delete(overview_days).where(
                    overview_days.c.day >= first.isoformat(),
                    overview_days.c.day <= last.isoformat(),
                )
            )
            conn.execute(
                overview_days.insert().from_select(
                    COLUMNS, _counts(conn, posts.c.created_at >= lo, posts.c.created_at < hi)
                )
            )
        conn.execute(overview_brands.update().values(refreshed_at=at))


def refresh_brand(ws: Workspace, brand: Brand, *, now: datetime | None = None) -> None:
    """Rebuild one brand's days (after it was added, or its query changed)."""
    assert brand.id is not None
    with ws.store.begin() as conn:
        one_writer(conn, LOCK_KEY)
        conn.execute(delete(overview_days).where(overview_days.c.brand_id == brand.id))
        conn.execute(
            overview_days.insert().from_select(
                COLUMNS, _counts(conn, post_brands.c.brand_id == brand.id)
            )
        )
        _mark(conn, [(brand.id, brand.query)], now or _now())


def read_overview(ws: Workspace) -> list[BrandOverview]:
    """Every brand with its days, in the store's brand order; a brand whose rollups are
    missing or were built for another query is rebuilt first."""
    listed = ws.store.list_brands()
    with ws.store.begin() as conn:
        built = {
            r.brand_id: (r.query, r.refreshed_at) for r in conn.execute(select(overview_brands))
        }
    stale = [b for b in listed if b.id not in built or built[b.id][0] != b.query]
    for brand in stale:
        refresh_brand(ws, brand)
    with ws.store.begin() as conn:
        if stale:
            built = {
                r.brand_id: (r.query, r.refreshed_at) for r in conn.execute(select(overview_brands))
            }
        by_brand: dict[int, list[Day]] = {}
        for r in conn.execute(
            select(overview_days).order_by(overview_days.c.brand_id, overview_days.c.day)
        ):
            by_brand.setdefault(int(r.brand_id), []).append(
                Day(
                    date.fromisoformat(r.day),
                    int(r.posts),
                    int(r.engagement),
                    int(r.positive),
                    int(r.neutral),
                    int(r.negative),
                )
            )
    return [
        BrandOverview(
            b,
            by_brand.get(b.id, []) if b.id is not None else [],
            built.get(b.id, (None, None))[1] if b.id is not None else None,
        )
        for b in listed
    ]
