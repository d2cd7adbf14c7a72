"""The overview's per-brand cards (posts, sentiment, a daily chart), cached.

Each card scans every post of its brand (``adapt.metrics.timeseries`` and ``summary``): about
2.6 s at a million posts, while the dashboard is opened far more often than that. When building
the cards took longer than ``MIN_SECONDS``, they are kept and served until they are
``[web] overview_cache_seconds`` old (default 60 s; 0 turns the cache off) or a brand is
added, changed or removed. A live stream changes the data every second, so new posts are not
a reason to rebuild: the overview is at most that old. A small workspace, whose cards take
less than ``MIN_SECONDS``, is never served from the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialloop.web.render import line_chart
from socialloop.workspace import Workspace

MIN_SECONDS = 0.1
"""Cards cheaper to build than this are rebuilt on every request."""


def fingerprint(ws: Workspace) -> tuple[Any, ...]:
    """The brands' definitions: a change empties the cache (one small read)."""
    return tuple((b.id, b.name, b.query, b.competitor) for b in ws.store.list_brands())


def brand_cards(ws: Workspace) -> list[dict[str, Any]]:
    """Per brand: its definition, post count, summary (sentiment) and daily chart."""
    rows = ws.brands_with_counts()
    try:
        from socialloop.adapt.metrics import summary, timeseries
        from socialloop.adapt.scope import Scope
    except ImportError:
        return [{**b.to_dict(), "posts": n, "summary": None, "chart": None} for b, n in rows]
    cards: list[dict[str, Any]] = []
    for brand, n in rows:
        scope = Scope(brand, None, None)
        series = timeseries(ws, scope, "day")
        chart = line_chart(
            {
                "posts": [float(b.posts) for b in series.buckets],
                "negative": [float(b.sentiment.get("negative", 0)) for b in series.buckets],
                "positive": [float(b.sentiment.get("positive", 0)) for b in series.buckets],
            },
            [b.start.strftime("%m-%d") for b in series.buckets],
            f"{brand.name}: posts per day",
        )
        cards.append({**brand.to_dict(), "posts": n, "summary": summary(ws, scope), "chart": chart})
    return cards


@dataclass(slots=True)
class _Entry:
    key: tuple[Any, ...]
    at: float
    cards: list[dict[str, Any]]


class OverviewCache:
    """The last cards worth keeping, reused while the brands are unchanged and ``ttl`` seconds
    have not passed (``clock``: seconds, injectable; ``min_seconds``: see ``MIN_SECONDS``)."""

    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        min_seconds: float = MIN_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.min_seconds = min_seconds
        self._lock = threading.Lock()
        self._entry: _Entry | None = None

    def cards(self, ws: Workspace) -> list[dict[str, Any]]:
        if self.ttl <= 0:
            return brand_cards(ws)
        key = fingerprint(ws)
        with self._lock:
            entry = self._entry
            if entry is not None and entry.key == key and self.clock() - entry.at < self.ttl:
                return entry.cards
        started = time.perf_counter()
        cards = brand_cards(ws)
        worth_keeping = time.perf_counter() - started >= self.min_seconds
        with self._lock:
            self._entry = _Entry(key, self.clock(), cards) if worth_keeping else None
        return cards
