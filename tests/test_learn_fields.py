"""Enrichment filters in the query language: sentiment: and lang: on the detected language,
the same answer in memory and in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from socialloop.errors import QueryError
from socialloop.learn.base import Item, Result
from socialloop.learn.fields import workspace_fields
from socialloop.learn.pipeline import Pipeline
from socialloop.listen.importer import import_posts
from socialloop.query import parse
from socialloop.query.view import PostView
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


class FakeLang:
    """Detects 'fi' when the text has 'kahvi', else 'en'."""

    name, version, requires, produces = "language", "1", (), ("lang",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        return [Result({"lang": "fi" if "kahvi" in i.post.text else "en"}, 0.9) for i in batch]


class FakeSentiment:
    name, version, requires, produces = "sentiment", "1", ("lang",), ("sentiment",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        return [
            Result({"sentiment": "negative" if "bad" in i.post.text else "positive"}, 0.8)
            for i in batch
        ]


def test_unknown_label_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="use one of negative, neutral, positive"):
        parse("sentiment:angry", workspace_fields())


def test_label_errors_read_well_and_topics_are_numbers_or_none() -> None:
    fields = workspace_fields()
    with pytest.raises(QueryError, match="not an intent label"):
        parse("intent:foo", fields)
    with pytest.raises(QueryError, match="not an emotion label"):
        parse("emotion:bar", fields)
    with pytest.raises(QueryError, match="not a stage label"):
        parse("stage:bar", fields)
    with pytest.raises(QueryError, match="a number from `socialloop topics`, or none"):
        parse("topic:abc", fields)
    parse("topic:12 OR topic:none", fields)


def test_in_memory_uses_enrichment_values_and_falls_back_for_lang() -> None:
    fields = workspace_fields()
    post = make_post("1", "hyvää kahvia", lang="en")  # declared wrong by the platform
    q = parse("lang:fi", fields)
    assert not q.matches(post)  # not enriched: the declared language
    assert q.matches(PostView(post, extra={"lang": "fi"}))
    assert parse("sentiment:negative", fields).matches(
        PostView(post, extra={"sentiment": "negative"})
    )


def test_sql_filters_read_the_pipeline_labels(ws: Workspace) -> None:
    import_posts(
        ws,
        [
            make_post("1", "bad kahvi today", lang="en", when=T0),
            make_post("2", "good coffee", lang="en", when=T0),
            make_post("3", "bad coffee", lang="fi", when=T0),
        ],
    )
    assert ws.count("lang:fi") == 1  # declared, before enrichment
    Pipeline([FakeSentiment(), FakeLang()]).run(ws.store)
    assert {p.id for p in ws.search("lang:fi")} == {"twitter:1"}
    assert {p.id for p in ws.search("sentiment:negative")} == {"twitter:1", "twitter:3"}
    assert {p.id for p in ws.search("coffee AND NOT sentiment:negative")} == {"twitter:2"}


class FakeEmotion:
    """Top emotion "anger" (with "disgust" too) for texts with "awful", else "none"."""

    name, version, requires, produces = "emotion", "1", (), ("emotion", "emotions")

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        out = []
        for i in batch:
            angry = "awful" in i.post.text
            out.append(
                Result(
                    {
                        "emotion": "anger" if angry else "none",
                        "emotions": ["anger", "disgust"] if angry else [],
                    },
                    0.7,
                )
            )
        return out


def test_emotion_none_reads_the_top_emotion(ws: Workspace) -> None:
    # "emotions" (every emotion over its threshold) never holds "none": emotion:none is the
    # posts whose top emotion is none, in SQL and in memory alike
    import_posts(
        ws,
        [
            make_post("1", "awful coffee", when=T0),
            make_post("2", "a coffee", when=T0),
            make_post("3", "another coffee", when=T0),
        ],
    )
    Pipeline([FakeEmotion()]).run(ws.store)
    assert {p.id for p in ws.search("emotion:none")} == {"twitter:2", "twitter:3"}
    assert {p.id for p in ws.search("emotion:disgust")} == {"twitter:1"}
    assert ws.count("emotion:none OR emotion:anger") == 3
    post = make_post("4", "plain")
    fields = workspace_fields()
    assert parse("emotion:none", fields).matches(
        PostView(post, extra={"emotion": "none", "emotions": []})
    )
    assert not parse("emotion:none", fields).matches(
        PostView(post, extra={"emotion": "joy", "emotions": ["joy"]})
    )


def test_topic_numbers_are_read_as_numbers() -> None:
    fields = workspace_fields()
    post = make_post("1", "x")
    assert parse("topic:007", fields).matches(PostView(post, extra={"topic": "7"}))
    assert not parse("topic:70", fields).matches(PostView(post, extra={"topic": "7"}))


class FakeBrandSentiment:
    """Positive toward the brand named first in the text, negative toward the other."""

    name, version, requires, produces = "sentiment", "1", ("lang",), ("sentiment",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        out = []
        for i in batch:
            text = i.post.text.lower()
            order = sorted(i.brands, key=lambda b: text.find(b.lower()))
            per = {b: {"sentiment": "positive" if n == 0 else "negative"} for n, b in
                   enumerate(order)}  # fmt: skip
            out.append(Result({"sentiment": "neutral"}, 0.5, brand_values=per))
        return out


def test_toward_filters_the_sentiment_toward_one_brand(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    ws.add_brand("Blue Bottle", '"blue bottle"')
    texts = [
        "acme beats blue bottle",  # + acme, - blue bottle
        "blue bottle over acme any day",  # + blue bottle, - acme
        "acme again",  # + acme
        "nothing about either",
    ]
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    Pipeline([FakeLang(), FakeBrandSentiment()]).run(ws.store)

    def ids(q: str) -> list[str]:
        return sorted(p.id.split(":")[1] for p in ws.search(q))

    assert ids("toward:acme:positive") == ["0", "2"]
    assert ids("toward:Acme:negative") == ["1"]
    assert ids('toward:"blue bottle:negative"') == ["0"]
    assert ids('toward:"Blue Bottle:positive" AND toward:acme:negative') == ["1"]
    assert ws.count("toward:acme:neutral") == 0
    assert ws.count("sentiment:neutral") == 4  # the overall label: another field
    assert ws.count("NOT toward:acme:positive") == 2
    # the same in memory, from the values a step stored toward each brand
    q = parse("toward:acme:negative", ws.fields)
    post = make_post("9", "x")
    assert q.matches(PostView(post, extra={"brands": {"Acme": {"sentiment": "negative"}}}))
    assert not q.matches(PostView(post, extra={"brands": {"Acme": {"sentiment": "positive"}}}))
    assert not q.matches(PostView(post, extra={"sentiment": "negative"}))


def test_toward_errors_name_the_brands_and_labels(ws: Workspace) -> None:
    with pytest.raises(QueryError, match=r"no brand named 'acme'; brands: none yet"):
        ws.count("toward:acme:negative")
    ws.add_brand("Acme", "acme")
    with pytest.raises(QueryError, match=r"no brand named 'rival'; brands: Acme"):
        ws.count("toward:rival:negative")
    with pytest.raises(QueryError, match="'angry' is not a sentiment label"):
        ws.count("toward:acme:angry")
    with pytest.raises(QueryError, match="expected a brand and a sentiment"):
        ws.count("toward:acme")
    # without the workspace's brands (a bare registry) any name parses
    parse("toward:anyone:positive", workspace_fields())
