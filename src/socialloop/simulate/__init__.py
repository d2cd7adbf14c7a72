"""A seeded generator of a realistic multi-brand, multilingual social stream.

``simulate(n)`` yields ``n`` :class:`~socialloop.models.Post` objects, in ``created_at``
order, for the market of :func:`default_market` (or any :class:`Market`): reply threads with
brand accounts answering (or not), influencers, communities with their own languages and
hashtags, reshares and quotes, a hashtag campaign and a crisis burst, over twitter, mastodon,
bluesky and reddit, in English, Spanish, French, German and Finnish.

Replies carry ``parent_id``, ``root_id`` (the thread's root post) and ``reply_to_handle``;
a root post has ``root_id`` None. Store ids follow ``models.post_id(network, native_id)``.

The same arguments always give the same posts (byte-identical once written with
:func:`write_jsonl`). By default the period is the ``days`` days that end at
2026-11-01T00:00:00Z (``DEFAULT_END``), so runs are reproducible without a ``start``.

When ``labels`` is true (the default) every post carries ground truth in
``post.raw["simulated"]``: ``kind`` (post, brand_post, reply, brand_reply, reshare, quote),
``intent`` (question, complaint, praise, purchase_intent, recommendation_request,
support_request, chitchat, answer, news), ``sentiment`` (positive, negative, neutral),
``brands`` (names of the brands whose queries match the text), ``community``, ``campaign``
(hashtag or None) and ``crisis`` (bool).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from socialloop.models import Post
from socialloop.simulate.generator import Simulation
from socialloop.simulate.market import (
    LANGUAGES,
    NETWORKS,
    BrandSpec,
    Campaign,
    CommunitySpec,
    Crisis,
    Market,
    default_market,
)
from socialloop.simulate.output import write_jsonl
from socialloop.simulate.timeline import DEFAULT_END

__all__ = [
    "DEFAULT_END",
    "LANGUAGES",
    "NETWORKS",
    "BrandSpec",
    "Campaign",
    "CommunitySpec",
    "Crisis",
    "Market",
    "default_market",
    "default_start",
    "simulate",
    "write_jsonl",
]


def default_start(days: int) -> datetime:
    """The start used when none is given: ``days`` days before :data:`DEFAULT_END`."""
    return DEFAULT_END - timedelta(days=days)


def simulate(
    n: int,
    *,
    days: int = 30,
    seed: int = 0,
    start: datetime | None = None,
    market: Market | None = None,
    labels: bool = True,
) -> Iterator[Post]:
    """Yield ``n`` simulated posts spread over ``days`` days from ``start``.

    ``start`` defaults to :func:`default_start` (the period ends at 2026-11-01 UTC); a naive
    datetime is taken as UTC. ``seed`` fixes everything: the same arguments give the same
    posts. Raises ValueError for a negative ``n`` or ``days`` < 1. The posts are produced
    lazily; memory stays flat however large ``n`` is.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, not {n!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a positive integer, not {days!r}")
    if start is None:
        start = default_start(days)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    else:
        start = start.astimezone(UTC)
    sim = Simulation(
        n, days=days, seed=seed, start=start, market=market or default_market(), labels=labels
    )
    return sim.run()
