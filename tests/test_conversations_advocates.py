"""Advocates and detractors of a brand from the sentiment toward it stored by the enrichment
pipeline (real store, real pipeline): thresholds, ranking, evidence, own accounts left out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from socialloop.conversations import find_advocates
from socialloop.errors import InvalidValue, NotFound
from socialloop.learn.base import Item, Result
from socialloop.learn.language import LanguageEnricher
from socialloop.learn.pipeline import Pipeline
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.listen.importer import import_posts
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


class Verdict:
    """Test step writing the sentiment toward each matched brand from plain keywords:
    'love' positive, 'hate' negative, otherwise neutral (as the sentiment step stores it)."""

    name = "sentiment"
    version = "test"
    requires: tuple[str, ...] = ()
    produces = ("sentiment",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        out = []
        for item in batch:
            text = item.post.text.lower()
            label = "positive" if "love" in text else "negative" if "hate" in text else "neutral"
            per_brand = {b: {"sentiment": label, "sentiment_score": 0.9} for b in item.brands}
            out.append(Result({"sentiment": label}, 0.9, brand_values=per_brand))
        return out


POSTS = [  # (id, author, text, day)
    ("a1", "ann", "love brewhaven", 1),
    ("a2", "ann", "hate the brewhaven queue", 2),
    ("a3", "ann", "love brewhaven flat white", 3),
    ("a4", "ann", "love brewhaven again", 4),
    ("b1", "bob", "love brewhaven", 5),
    ("b2", "bob", "love brewhaven cakes", 6),
    ("c1", "cy", "love brewhaven", 1),
    ("c2", "cy", "hate brewhaven", 2),
    ("c3", "cy", "love brewhaven", 3),
    ("c4", "cy", "hate brewhaven", 4),
    ("d1", "dee", "love brewhaven", 1),
    ("o1", "brewhaven", "we love brewhaven regulars", 1),
    ("o2", "brewhaven", "love our brewhaven team", 2),
    ("o3", "brewhaven", "love brewhaven week", 3),
    ("e1", "eve", "hate brewhaven", 1),
    ("e2", "eve", "hate brewhaven prices", 2),
    ("e3", "eve", "hate brewhaven wifi <b>[red]x[/red]</b>", 3),
    ("e4", "eve", "brewhaven opens at 8", 4),
    ("f1", "fay", "brewhaven opens at 7", 1),
    ("f2", "fay", "brewhaven has oat milk", 2),
    ("g1", "gus", "love quillbean", 1),
    ("g2", "gus", "love quillbean more", 2),
]


@pytest.fixture
def cafe(ws: Workspace) -> Workspace:
    ws.add_brand("Brewhaven", "brewhaven", accounts=["brewhaven"])
    ws.add_brand("Quillbean", "quillbean", competitor=True)
    import_posts(
        ws,
        [make_post(i, t, handle=h, when=T0 + timedelta(days=d)) for i, h, t, d in POSTS],
    )
    Pipeline([Verdict()]).run(ws.store)
    return ws


def test_advocates_ranked_with_evidence(cafe: Workspace) -> None:
    found = find_advocates(cafe.store, "Brewhaven")
    # ann: 3 positive of 4 (75 %); bob: 2 of 2; cy 2 of 4 is below the 60 % share;
    # dee has one post; the brand's own account is left out; gus is about Quillbean
    assert [(a.author_id, a.polar_posts, a.labelled_posts) for a in found] == [
        ("twitter:ann", 3, 4),
        ("twitter:bob", 2, 2),
    ]
    ann = found[0]
    assert ann.polarity == "positive" and ann.opposite_posts == 1
    assert ann.share == pytest.approx(0.75)
    assert [e.post_id for e in ann.evidence] == ["twitter:a4", "twitter:a3", "twitter:a1"]
    first = ann.evidence[0]
    assert (first.text, first.sentiment, first.score) == ("love brewhaven again", "positive", 0.9)
    assert first.created_at == T0 + timedelta(days=4)
    assert ann.last_at == T0 + timedelta(days=4)  # her latest post about the brand
    doc = ann.to_dict()
    assert doc["evidence"][0]["post_id"] == "twitter:a4" and doc["share"] == 0.75


def test_thresholds_limit_since_and_evidence_count(cafe: Workspace) -> None:
    loose = find_advocates(cafe.store, "Brewhaven", min_share=0.5, min_posts=1, evidence=1)
    ids = [a.author_id for a in loose]
    assert ids == ["twitter:ann", "twitter:bob", "twitter:cy", "twitter:dee"]
    assert "twitter:brewhaven" not in ids
    assert all(len(a.evidence) == 1 for a in loose)
    # bob (2 of 2) outranks cy (2 of 4) on share at equal counts
    assert [a.author_id for a in loose[1:3]] == ["twitter:bob", "twitter:cy"]
    assert [a.author_id for a in find_advocates(cafe.store, "Brewhaven", limit=1)] == [
        "twitter:ann"
    ]
    recent = find_advocates(cafe.store, "Brewhaven", since=T0 + timedelta(days=3))
    # from day 3 both have 2 of 2: bob's more recent last post (day 6) ranks him first
    assert [(a.author_id, a.polar_posts) for a in recent] == [
        ("twitter:bob", 2),
        ("twitter:ann", 2),
    ]
    assert find_advocates(cafe.store, "Quillbean")[0].author_id == "twitter:gus"
    with pytest.raises(InvalidValue):
        find_advocates(cafe.store, "Brewhaven", min_share=1.5)
    with pytest.raises(NotFound):
        find_advocates(cafe.store, "Nobody")


def test_detractors(cafe: Workspace) -> None:
    found = find_advocates(cafe.store, "Brewhaven", detractors=True)
    assert [(a.author_id, a.polar_posts, a.labelled_posts) for a in found] == [
        ("twitter:eve", 3, 4)
    ]
    assert found[0].polarity == "negative"
    assert [e.post_id for e in found[0].evidence] == ["twitter:e3", "twitter:e2", "twitter:e1"]


def test_with_the_real_sentiment_step(ws: Workspace) -> None:
    ws.add_brand("Brewhaven", "brewhaven")
    texts = [
        ("p1", "ann", "I love Brewhaven, the best coffee in town!"),
        ("p2", "ann", "Brewhaven baristas are wonderful, amazing service"),
        ("n1", "bob", "Brewhaven is awful, the worst service ever"),
        ("n2", "bob", "Terrible coffee at Brewhaven again, I hate it"),
    ]
    import_posts(
        ws,
        [
            make_post(i, t, handle=h, when=T0 + timedelta(hours=k))
            for k, (i, h, t) in enumerate(texts)
        ],
    )
    Pipeline([LanguageEnricher(mode="fast"), SentimentEnricher()]).run(ws.store)
    assert [a.author_id for a in find_advocates(ws.store, "Brewhaven")] == ["twitter:ann"]
    assert [a.author_id for a in find_advocates(ws.store, "Brewhaven", detractors=True)] == [
        "twitter:bob"
    ]
