"""Explainable spike detection per brand: volume, negative and positive posts, and each topic.

The rule (docs/reports.md, "Spikes"): time is cut into windows of ``window_hours`` (24)
ending at ``now`` (rounded up to the hour; default: the end of the hour of the newest post).
The observed count is the last window's; the baseline is the ``baseline_days * 24 /
window_hours`` (7) windows before it: their mean and standard deviation. The noise used is
``sigma_used = max(sigma, sqrt(max(mean, 1)))`` (at least Poisson noise, so a flat history
does not turn every small rise into a spike), the threshold ``mean + k * sigma_used`` and
``z = (observed - mean) / sigma_used``. A window is a spike when ``observed > threshold``
and ``observed >= min_count``. Each spike carries its numbers, a sentence saying why, and
the posts of the window with the most engagement.

Counts come from one GROUP BY (brand, series, hour) query per series kind over the
``baseline + 1`` windows; windows are summed from hours in Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, func, select

from socialloop.adapt.scope import (
    PostRef,
    aware,
    bucket,
    naive,
    parse_bucket,
    top_posts,
    with_sentiment,
)
from socialloop.errors import InvalidValue
from socialloop.models import Brand
from socialloop.store.schema import post_brands, post_labels, posts
from socialloop.workspace import Workspace

METRICS = ("volume", "negative", "positive", "topic")
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """The stated rule: window, baseline, k, minimum count, evidence size."""

    window_hours: int = 24
    baseline_days: int = 7
    k: float = 3.0
    min_count: int = 10
    evidence: int = 5
    metrics: tuple[str, ...] = METRICS

    def __post_init__(self) -> None:
        if self.window_hours < 1 or 24 * self.baseline_days < self.window_hours:
            raise InvalidValue(
                "spike rule: window_hours must be >= 1 and the baseline at least one window "
                f"(window_hours={self.window_hours}, baseline_days={self.baseline_days})"
            )
        if self.k <= 0 or self.min_count < 1:
            raise InvalidValue(f"spike rule: k must be > 0 and min_count >= 1 ({self!r})")
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise InvalidValue(
                f"spike rule: unknown metric(s) {', '.join(unknown)}; use {', '.join(METRICS)}"
            )

    @property
    def baseline_windows(self) -> int:
        return (24 * self.baseline_days) // self.window_hours

    def describe(self) -> str:
        return (
            f"last {self.window_hours} h against the mean of the previous "
            f"{self.baseline_windows} windows of {self.window_hours} h + {self.k:g} sigma "
            f"(sigma at least sqrt(mean)), at least {self.min_count} posts"
        )


@dataclass(frozen=True, slots=True)
class Spike:
    """One series' last window judged against its baseline (``is_spike`` says the verdict)."""

    brand: str
    brand_id: int | None
    metric: str  # volume | negative | positive | topic:ID
    label: str  # human name of the series
    window_start: datetime
    window_end: datetime
    observed: int
    baseline: list[int]
    mean: float
    sigma: float
    sigma_used: float
    threshold: float
    z: float
    k: float
    min_count: int
    is_spike: bool
    explanation: str
    posts: list[PostRef] = field(default_factory=list)

    @property
    def key(self) -> str:
        """brand|metric|window end: the alert dedup key."""
        return f"{self.brand}|{self.metric}|{self.window_end.strftime('%Y-%m-%dT%H:00Z')}"


def judge(observed: int, baseline: Sequence[int], rule: SpikeRule) -> dict[str, Any]:
    """The rule's numbers for one series (see the module doc)."""
    n = len(baseline)
    mean = sum(baseline) / n if n else 0.0
    sigma = math.sqrt(sum((x - mean) ** 2 for x in baseline) / n) if n else 0.0
    used = max(sigma, math.sqrt(max(mean, 1.0)))
    threshold = mean + rule.k * used
    z = (observed - mean) / used
    return {
        "mean": round(mean, 3),
        "sigma": round(sigma, 3),
        "sigma_used": round(used, 3),
        "threshold": round(threshold, 3),
        "z": round(z, 3),
        "is_spike": observed > threshold and observed >= rule.min_count,
    }


def _series_counts(
    ws: Workspace,
    base: FromClause,
    key: ColumnElement[Any] | None,
    conds: Sequence[ColumnElement[bool]],
    start: datetime,
    end: datetime,
) -> dict[tuple[int, str], dict[str, int]]:
    """(brand_id, series key) -> hour bucket -> posts."""
    out: dict[tuple[int, str], dict[str, int]] = {}
    with ws.store.begin() as conn:
        b = bucket(conn, "hour").label("b")
        keys = [key.label("k")] if key is not None else []
        stmt = (
            select(post_brands.c.brand_id, *keys, b, func.count().label("n"))
            .select_from(base)
            .where(*conds, posts.c.created_at >= naive(start), posts.c.created_at < naive(end))
            .group_by(post_brands.c.brand_id, *([key] if key is not None else []), b)
        )
        for r in conn.execute(stmt):
            name = str(r.k) if key is not None else "volume"
            out.setdefault((int(r.brand_id), name), {})[str(r.b)] = int(r.n)
    return out


def _windows(hours: dict[str, int], now: datetime, rule: SpikeRule) -> tuple[int, list[int]]:
    """(observed, baseline counts oldest first) from hour counts."""
    counts = [0] * (rule.baseline_windows + 1)
    w = timedelta(hours=rule.window_hours)
    for key, n in hours.items():
        # the hour [start, start + 1 h) lies in window idx (0 = the observed window)
        idx = (now - parse_bucket(key) - HOUR) // w
        if 0 <= idx <= rule.baseline_windows:
            counts[rule.baseline_windows - idx] += n
    return counts[-1], counts[:-1]


def newest_post_time(ws: Workspace) -> datetime | None:
    with ws.store.begin() as conn:
        got = conn.execute(select(func.max(posts.c.created_at))).scalar_one()
    return aware(got)


def detect_spikes(
    ws: Workspace,
    *,
    brands: Sequence[Brand] | None = None,
    rule: SpikeRule | None = None,
    now: datetime | None = None,
    only_spikes: bool = True,
    topic_names: dict[str, str] | None = None,
) -> list[Spike]:
    """Judge every series of ``brands`` (default: all) at ``now`` (default: the newest post
    time); returns the spikes, highest z first (``only_spikes=False``: every series judged)."""
    rule = rule or SpikeRule()
    chosen = list(brands) if brands is not None else ws.store.list_brands()
    by_id = {b.id: b for b in chosen if b.id is not None}
    at = aware(now)
    if at is None:  # the end of the hour holding the newest post
        newest = newest_post_time(ws)
        at = newest.replace(minute=0, second=0, microsecond=0) + HOUR if newest else None
    if not by_id or at is None:
        return []
    end = at.replace(minute=0, second=0, microsecond=0)
    if end < at:
        end += HOUR
    w = timedelta(hours=rule.window_hours)
    start = end - w * (rule.baseline_windows + 1)
    ids = list(by_id)
    base = post_brands.join(posts, posts.c.pk == post_brands.c.post_pk)
    in_brands = post_brands.c.brand_id.in_(ids)
    series: dict[tuple[int, str], dict[str, int]] = {}
    if "volume" in rule.metrics:
        series.update(_series_counts(ws, base, None, [in_brands], start, end))
    wanted = [m for m in ("negative", "positive") if m in rule.metrics]
    if wanted:
        joined, sent = with_sentiment(base, None, brand_column=post_brands.c.brand_id)
        series.update(_series_counts(ws, joined, sent, [in_brands, sent.in_(wanted)], start, end))
    if "topic" in rule.metrics:
        tl = post_labels.alias("tl")
        tjoin = base.join(tl, and_(tl.c.post_pk == posts.c.pk, tl.c.field == "topic"))
        got = _series_counts(ws, tjoin, tl.c.label, [in_brands, tl.c.label != "none"], start, end)
        series.update({(bid, f"topic:{k}"): v for (bid, k), v in got.items()})
    names = topic_names if topic_names is not None else _topic_labels(ws)
    out: list[Spike] = []
    for (bid, metric), hours in series.items():
        observed, baseline = _windows(hours, end, rule)
        verdict = judge(observed, baseline, rule)
        if only_spikes and not verdict["is_spike"]:
            continue
        brand = by_id[bid]
        label = _label(metric, names)
        why = (
            f"{brand.name}: {observed} {label} posts in the {rule.window_hours} h to "
            f"{end:%Y-%m-%d %H:00} UTC against a baseline mean of {verdict['mean']:g} "
            f"(sigma {verdict['sigma_used']:g}) over {len(baseline)} windows; threshold "
            f"{verdict['threshold']:g}, z = {verdict['z']:g}"
        )
        out.append(
            Spike(
                brand=brand.name,
                brand_id=bid,
                metric=metric,
                label=label,
                window_start=end - w,
                window_end=end,
                observed=observed,
                baseline=baseline,
                k=rule.k,
                min_count=rule.min_count,
                explanation=why,
                **verdict,
            )
        )
    out.sort(key=lambda s: (-s.z, s.brand, s.metric))
    if rule.evidence > 0:
        out = [_with_evidence(ws, s, rule.evidence) if s.is_spike else s for s in out]
    return out


def _topic_labels(ws: Workspace) -> dict[str, str]:
    from socialloop.adapt.metrics import topic_names

    with ws.store.begin() as conn:
        return {k: v[0] for k, v in topic_names(conn).items()}


def _label(metric: str, names: dict[str, str]) -> str:
    if metric.startswith("topic:"):
        tid = metric.split(":", 1)[1]
        return f"topic {tid} ({names[tid]})" if tid in names else f"topic {tid}"
    return {"volume": "", "negative": "negative", "positive": "positive"}[metric] or "brand"


def _with_evidence(ws: Workspace, spike: Spike, limit: int) -> Spike:
    """The spike with the window's posts of its series that have the most engagement."""
    conds: list[ColumnElement[bool]] = [
        posts.c.created_at >= naive(spike.window_start),
        posts.c.created_at < naive(spike.window_end),
        posts.c.pk.in_(
            select(post_brands.c.post_pk).where(post_brands.c.brand_id == spike.brand_id)
        ),
    ]
    base: FromClause = posts
    if spike.metric in ("negative", "positive"):
        base, sent = with_sentiment(posts, spike.brand_id)
        conds.append(sent == spike.metric)
    elif spike.metric.startswith("topic:"):
        tid = spike.metric.split(":", 1)[1]
        conds.append(
            posts.c.pk.in_(
                select(post_labels.c.post_pk).where(
                    post_labels.c.field == "topic", post_labels.c.label == tid
                )
            )
        )
    with ws.store.begin() as conn:
        evidence = top_posts(conn, conds, limit, base)
    return replace(spike, posts=evidence)
