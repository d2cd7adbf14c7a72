"""Spike detection: a planted spike is found with its baseline, threshold, z and the posts
that caused it; flat data and small counts give none."""

from __future__ import annotations

import math

import pytest

from socialloop.adapt.spikes import SpikeRule, detect_spikes, judge
from socialloop.errors import InvalidValue
from socialloop.models import Post
from socialloop.workspace import Workspace
from tests._adapt_data import at, label, load
from tests.conftest import make_post


def _days(
    per_day: list[tuple[int, int]], *, topic_on_last: bool = False
) -> tuple[list[Post], list[tuple[str, str, str]]]:
    """Posts mentioning acme: per day (1 = May 1st) ``(total, negative)``."""
    items: list[Post] = []
    rows: list[tuple[str, str, str]] = []
    for d, (total, neg) in enumerate(per_day, start=1):
        for i in range(total):
            pid = f"p{d}-{i}"
            likes = 100 if (d == len(per_day) and i == 0) else i % 3
            items.append(make_post(pid, f"acme post {d} {i}", when=at(d, i % 24), likes=likes))
            rows.append((pid, "sentiment", "negative" if i < neg else "neutral"))
            if topic_on_last and d == len(per_day):
                rows.append((pid, "topic", "3"))
    return items, rows


def _load(ws: Workspace, per_day: list[tuple[int, int]], **kw: bool) -> None:
    ws.add_brand("Acme", "acme")
    items, rows = _days(per_day, **kw)
    label(ws, load(ws, items), rows)


def test_planted_spike_found_and_explained(ws: Workspace) -> None:
    _load(ws, [(10, 2)] * 7 + [(40, 30)])
    spikes = detect_spikes(ws, rule=SpikeRule(k=3.0, min_count=10, evidence=3), now=at(9, 0))
    by = {s.metric: s for s in spikes}
    assert set(by) == {"volume", "negative"}
    vol = by["volume"]
    assert vol.observed == 40 and vol.baseline == [10] * 7
    assert (vol.mean, vol.sigma) == (10.0, 0.0)
    assert vol.sigma_used == round(math.sqrt(10), 3)
    assert vol.threshold == round(10 + 3 * math.sqrt(10), 3)
    assert vol.z == round(30 / math.sqrt(10), 3)
    assert (vol.window_start, vol.window_end) == (at(8, 0), at(9, 0))
    assert vol.key == "Acme|volume|2026-05-09T00:00Z"
    assert "baseline mean of 10" in vol.explanation and "40" in vol.explanation
    assert (
        len(vol.posts) == 3 and vol.posts[0].id == "twitter:p8-0" and vol.posts[0].engagement == 100
    )
    neg = by["negative"]
    assert neg.observed == 30 and neg.baseline == [2] * 7 and neg.z == round(28 / math.sqrt(2), 3)
    assert neg.posts[0].id == "twitter:p8-0"  # negative and the most engaged
    assert spikes[0].metric == "negative"  # highest z first


def test_flat_data_has_no_spike(ws: Workspace) -> None:
    _load(ws, [(10, 2)] * 8)
    assert detect_spikes(ws, now=at(9, 0)) == []
    judged = detect_spikes(ws, now=at(9, 0), only_spikes=False)
    assert {s.metric for s in judged} == {"volume", "negative"}
    assert all(not s.is_spike and s.z == 0.0 for s in judged)


def test_min_count_and_default_now(ws: Workspace) -> None:
    # 0 per day, then 8: far above the baseline but below min_count
    _load(ws, [(1, 0)] + [(0, 0)] * 6 + [(8, 0)])
    assert detect_spikes(ws, rule=SpikeRule(min_count=10)) == []
    got = detect_spikes(ws, rule=SpikeRule(min_count=5, metrics=("volume",)))
    # now defaults to the newest post (May 8th 07:00) rounded up to the hour
    assert [(s.metric, s.observed, s.window_end) for s in got] == [("volume", 8, at(8, 8))]


def test_topic_spike(ws: Workspace) -> None:
    _load(ws, [(10, 0)] * 7 + [(30, 0)], topic_on_last=True)
    got = detect_spikes(
        ws, rule=SpikeRule(metrics=("topic",)), now=at(9, 0), topic_names={"3": "late delivery"}
    )
    assert [(s.metric, s.label, s.observed, s.baseline) for s in got] == [
        ("topic:3", "topic 3 (late delivery)", 30, [0] * 7)
    ]


def test_rule_is_checked() -> None:
    with pytest.raises(InvalidValue, match="unknown metric"):
        SpikeRule(metrics=("likes",))
    with pytest.raises(InvalidValue, match="window_hours"):
        SpikeRule(window_hours=0)
    assert judge(5, [5, 5], SpikeRule())["is_spike"] is False
    assert SpikeRule().describe().startswith("last 24 h against the mean of the previous 7")
