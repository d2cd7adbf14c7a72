"""ADAPT metrics on constructed data with known answers: share of voice (mentions,
engagement, positive), sentiment toward a brand over time, emotions, topics and the drivers of
negative sentiment."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from socialloop.adapt.metrics import (
    negative_drivers,
    share_of_voice,
    summary,
    timeseries,
    top_topics,
)
from socialloop.adapt.scope import Scope, jsonable, resolve_scope
from socialloop.workspace import Workspace
from tests._adapt_data import add_topics, at, label, load
from tests.conftest import make_post


def _market(ws: Workspace) -> dict[str, int]:
    ws.add_brand("Acme", "acme")
    ws.add_brand("Rival", "rival", competitor=True)
    pks = load(
        ws,
        [
            make_post("a1", "acme is great", likes=10, when=at(1)),
            make_post("a2", "acme broke again", reshares=2, when=at(1, 15)),
            make_post("a3", "acme is ok", replies=1, when=at(2)),
            make_post("r1", "rival wins", likes=5, when=at(2)),
            make_post("b1", "acme vs rival", likes=3, when=at(2, 18)),
            make_post("x1", "nothing about brands", likes=99, when=at(2)),
        ],
    )
    label(
        ws,
        pks,
        [
            ("a1", "sentiment", "positive"),
            ("a2", "sentiment", "negative"),
            ("a3", "sentiment", "neutral"),
            ("r1", "sentiment", "positive"),
            ("b1", "sentiment", "neutral"),
            ("a1", "emotion", "joy"),
            ("a2", "emotion", "anger"),
            ("a3", "emotion", "none"),
        ],
    )
    label(ws, pks, [("b1", "sentiment", "negative")], brand="Acme")
    label(ws, pks, [("b1", "sentiment", "positive")], brand="Rival")
    return pks


def test_share_of_voice_exact_fractions(ws: Workspace) -> None:
    _market(ws)
    sov = share_of_voice(ws, Scope())
    by = {v.brand: v for v in sov.brands}
    assert (sov.total_mentions, sov.total_engagement, sov.total_positive) == (6, 24, 3)
    acme, rival = by["Acme"], by["Rival"]
    assert (acme.mentions, acme.engagement, acme.positive, acme.negative) == (4, 16, 1, 2)
    assert (rival.mentions, rival.engagement, rival.positive, rival.negative) == (2, 8, 2, 0)
    assert acme.mentions_share == round(4 / 6, 4) and rival.mentions_share == round(2 / 6, 4)
    assert acme.engagement_share == round(16 / 24, 4)
    # b1 is positive toward Rival, negative toward Acme (brand labels beat the post label)
    assert acme.positive_share == round(1 / 3, 4) and rival.positive_share == round(2 / 3, 4)
    assert acme.positive_rate == 0.25 and rival.positive_rate == 1.0
    assert [v.brand for v in sov.brands] == ["Acme", "Rival"] and rival.competitor


def test_share_of_voice_time_range(ws: Workspace) -> None:
    _market(ws)
    sov = share_of_voice(ws, Scope(since=at(2, 0), until=at(3, 0)))
    by = {v.brand: v.mentions for v in sov.brands}
    assert by == {"Acme": 2, "Rival": 2}


def test_timeseries_sentiment_toward_brand_and_emotions(ws: Workspace) -> None:
    _market(ws)
    ts = timeseries(ws, resolve_scope(ws, "acme"), "day")
    assert [b.start for b in ts.buckets] == [at(1, 0), at(2, 0)]
    d1, d2 = ts.buckets
    assert (d1.posts, d1.engagement) == (2, 12)
    assert d1.sentiment == {"positive": 1, "neutral": 0, "negative": 1}
    assert d1.emotions == {"anger": 1, "joy": 1}
    assert (d2.posts, d2.engagement) == (2, 4)
    assert d2.sentiment == {"positive": 0, "neutral": 1, "negative": 1}  # b1 toward Acme
    assert d2.emotions == {} and d2.net_sentiment == -0.5
    hours = timeseries(ws, resolve_scope(ws, "Rival"), "hour")
    assert [(b.start, b.posts) for b in hours.buckets] == [(at(2, 12), 1), (at(2, 18), 1)]
    assert hours.buckets[1].sentiment["positive"] == 1  # b1 toward Rival
    doc = orjson.loads(orjson.dumps(jsonable(ts)))
    assert doc["buckets"][0]["start"] == "2026-05-01T00:00:00+00:00"
    assert doc["buckets"][1]["net_sentiment"] == -0.5  # properties are serialised too


def test_summary_counts(ws: Workspace) -> None:
    _market(ws)
    s = summary(ws, resolve_scope(ws, "Acme"))
    assert s["posts"] == 4 and s["engagement"] == 16
    assert s["sentiment"] == {"positive": 1, "neutral": 1, "negative": 2}
    assert s["net_sentiment"] == -0.25
    assert summary(ws, Scope(until=datetime(2026, 5, 2, tzinfo=UTC)))["posts"] == 2


def test_topics_and_negative_drivers_lift(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    items = []
    rows: list[tuple[str, str, str]] = []
    # 20 posts about delivery (15 negative), 20 about taste (2 negative), 10 without topic
    for i in range(20):
        pid = f"d{i}"
        neg = i < 15
        items.append(
            make_post(pid, f"acme delivery late courier {i}" if neg else f"acme delivery {i}")
        )
        rows += [(pid, "topic", "1"), (pid, "sentiment", "negative" if neg else "neutral")]
    for i in range(20):
        pid = f"t{i}"
        items.append(make_post(pid, f"acme taste lovely {i}"))
        rows += [(pid, "topic", "2"), (pid, "sentiment", "negative" if i < 2 else "positive")]
    for i in range(10):
        items.append(make_post(f"n{i}", f"acme misc {i}"))
        rows += [(f"n{i}", "topic", "none"), (f"n{i}", "sentiment", "neutral")]
    pks = load(ws, items)
    label(ws, pks, rows)
    add_topics(ws, {1: "delivery late courier", 2: "taste lovely flavour"})
    scope = resolve_scope(ws, "Acme")
    tops = top_topics(ws, scope)
    assert [(t.id, t.posts, t.share) for t in tops] == [("1", 20, 0.5), ("2", 20, 0.5)]
    assert tops[0].label == "delivery / late / courier"
    assert tops[0].sentiment == {"positive": 0, "neutral": 5, "negative": 15}
    assert tops[0].negative_share == 0.75
    drivers = negative_drivers(ws, scope, min_count=3)
    assert (drivers.total, drivers.negative_total) == (50, 17)
    # topic 1: 15/17 of negatives vs 20/50 of all -> lift 2.206; topic 2 below 1 is left out
    assert [(d.value, d.negative, d.count, d.lift) for d in drivers.topics] == [
        ("1", 15, 20, round((15 / 17) / (20 / 50), 3))
    ]
    terms = {d.value: d for d in drivers.terms}
    assert "late" in terms and "courier" in terms and "acme" not in terms
    assert terms["late"].lift == round((15 / 17) / (15 / 50), 3)
    assert "lovely" not in terms  # 2 negatives < min_count
