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
