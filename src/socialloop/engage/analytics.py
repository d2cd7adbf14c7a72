"""The team's response analytics from its own inbox.

Per item (dismissed items are counted apart and left out of everything else):

* first-response time: the first sent (or manually posted) reply's time minus the post's
  time, in wall-clock seconds;
* resolution time: resolved time minus the post's time, for resolved items;
* responded: the item has a first response.

Grouped by ``brand``, ``agent`` (the assignee; else who answered, e.g. the brand account that
replied on the network, ``twitter:acmehelp``; else ``(unassigned)``), ``channel`` (the network) and
``intent`` (an item with several intents counts in each; ``(none)`` without one), plus
``overall``. Each group: items, responded, response rate (responded / items), median and mean
first-response seconds, resolved, median resolution seconds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from socialloop.engage.audit import from_db, to_db
from socialloop.store import Store
from socialloop.store.schema import agents, brands, inbox_items, posts

DIMENSIONS: tuple[str, ...] = ("brand", "agent", "channel", "intent")


@dataclass(frozen=True, slots=True)
class GroupStats:
    key: str
    items: int
    responded: int
    response_rate: float | None
    median_first_response_s: float | None
    mean_first_response_s: float | None
    resolved: int
    median_resolution_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "items": self.items,
            "responded": self.responded,
            "response_rate": self.response_rate,
            "median_first_response_s": self.median_first_response_s,
            "mean_first_response_s": self.mean_first_response_s,
            "resolved": self.resolved,
            "median_resolution_s": self.median_resolution_s,
        }


@dataclass(frozen=True, slots=True)
class _Row:
    brand: str
    agent: str
    channel: str
    intents: tuple[str, ...]
    first_response_s: float | None
    resolution_s: float | None


def _stats(key: str, rows: Iterable[_Row]) -> GroupStats:
    rows = list(rows)
    frt = [r.first_response_s for r in rows if r.first_response_s is not None]
    res = [r.resolution_s for r in rows if r.resolution_s is not None]
    return GroupStats(
        key=key,
        items=len(rows),
        responded=len(frt),
        response_rate=round(len(frt) / len(rows), 4) if rows else None,
        median_first_response_s=float(statistics.median(frt)) if frt else None,
        mean_first_response_s=round(statistics.fmean(frt), 1) if frt else None,
        resolved=len(res),
        median_resolution_s=float(statistics.median(res)) if res else None,
    )


def response_stats(
    store: Store,
    *,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """``{"overall": {...}, "dismissed": n, "by_brand": [...], "by_agent": [...],
    "by_channel": [...], "by_intent": [...]}`` (groups sorted by key)."""
    stmt = select(
        inbox_items.c.status,
        inbox_items.c.intents,
        inbox_items.c.posted_at,
        inbox_items.c.first_response_at,
        inbox_items.c.resolved_at,
        inbox_items.c.first_responder,
        brands.c.name.label("brand"),
        agents.c.name.label("agent"),
        posts.c.network,
    ).select_from(
        inbox_items.join(brands, brands.c.id == inbox_items.c.brand_id)
        .join(posts, posts.c.pk == inbox_items.c.post_pk)
        .outerjoin(agents, agents.c.id == inbox_items.c.assignee_id)
    )
    if brand is not None:  # an unknown brand is NotFound, matched case-insensitively
        stmt = stmt.where(brands.c.name == store.get_brand(brand).name)
    if since is not None:
        stmt = stmt.where(inbox_items.c.posted_at >= to_db(since))
    if until is not None:
        stmt = stmt.where(inbox_items.c.posted_at < to_db(until))
    with store.begin() as conn:
        raw = conn.execute(stmt).all()
    rows: list[_Row] = []
    dismissed = 0
    for r in raw:
        if r.status == "dismissed":
            dismissed += 1
            continue
        posted = from_db(r.posted_at)
        first = from_db(r.first_response_at)
        resolved = from_db(r.resolved_at) if r.status == "resolved" else None
        assert posted is not None
        rows.append(
            _Row(
                brand=r.brand,
                agent=r.agent or r.first_responder or "(unassigned)",
                channel=r.network,
                intents=tuple(r.intents) or ("(none)",),
                first_response_s=(first - posted).total_seconds() if first else None,
                resolution_s=(resolved - posted).total_seconds() if resolved else None,
            )
        )
    out: dict[str, Any] = {"overall": _stats("overall", rows).to_dict(), "dismissed": dismissed}
    for dim in DIMENSIONS:
        groups: dict[str, list[_Row]] = {}
        for row in rows:
            keys = row.intents if dim == "intent" else (getattr(row, dim),)
            for k in keys:
                groups.setdefault(k, []).append(row)
        out[f"by_{dim}"] = [_stats(k, g).to_dict() for k, g in sorted(groups.items())]
    return out
