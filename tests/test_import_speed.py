"""The import fast paths agree with the plain definitions: the brand prefilter never skips a
post a query matches, and the writer's inlined facets, edges and timestamps equal
``post_facets`` / ``interactions_of`` / SQLAlchemy's own storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialloop.models import Author, Post, interactions_of
from socialloop.query import BUILTIN_FIELDS, Node, parse
from socialloop.query.matcher import needles
from socialloop.query.nodes import render
from socialloop.store.rows import dt_text as _dt_text
from socialloop.store.writer import _edge_rows
from socialloop.textutil import fold, hashtag_key, mention_key
from tests.test_query_property import posts, queries


def _kind(name: str) -> str | None:
    return name if name in ("hashtag", "mention") else None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=queries, post=posts("p1"))
def test_prefilter_is_a_necessary_condition(node: Node, post: Post) -> None:
    query = parse(render(node), BUILTIN_FIELDS)
    found = needles(query.ast, _kind)
    if found is None or not query.matches(post):
        return
    folded = fold(post.text)
    assert (
        any(w in folded for w in found.text)
        or any(hashtag_key(h) in found.hashtags for h in post.hashtags)
        or any(mention_key(m) in found.mentions for m in post.mentions)
    ), (str(query), post.text)


def test_dt_text_matches_sqlalchemy_storage() -> None:
    naive = datetime(2024, 5, 1, 12, 30, 5)
    assert _dt_text(naive) == "2024-05-01 12:30:05.000000"
    assert _dt_text(naive.replace(tzinfo=UTC, microsecond=7)) == "2024-05-01 12:30:05.000007"
    plus2 = naive.replace(tzinfo=timezone(timedelta(hours=2)))
    assert _dt_text(plus2) == "2024-05-01 10:30:05.000000"


def test_edge_rows_equal_interactions_of() -> None:
    post = Post(
        network="twitter",
        native_id="1",
        text="hi @Bob",
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        author=Author("twitter", "@Alice"),
        parent_id="twitter:0",
        reply_to_handle="Carol",
        reshare_of="twitter:9",
        quote_of="twitter:8",
        mentions=["bob", "Dan"],
    )
    rows: list[tuple[object, ...]] = []
    _edge_rows(post, 7, post.author_id, "T", rows)
    expected = [
        (e.kind, 7, e.source_author_id, e.target, e.target_author_id, "T")
        for e in interactions_of(post)
    ]
    assert rows == expected


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=3))
def test_workspace_prefilter_agrees_with_predicates(seed: int) -> None:
    # every brand's verdict with the prefilter equals the plain predicate's
    import random
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from socialloop.query.view import PostView
    from socialloop.workspace import Workspace

    rng = random.Random(seed)
    words = ["Brew", "brewhaven", "#brewhaven", "@brewhaven", "café", "cafe", "tea", "x"]
    with TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        ws.add_brand("a", '"Brewhaven" OR #brewhaven OR @brewhaven')
        ws.add_brand("b", "cafe AND NOT tea")
        ws.add_brand("c", "#cafe OR @tea")
        batch = [
            (
                i,
                Post(
                    network="twitter",
                    native_id=str(i),
                    text=" ".join(rng.choice(words) for _ in range(rng.randint(0, 5))),
                    created_at=datetime(2024, 1, 1, tzinfo=UTC),
                    hashtags=rng.sample(["brewhaven", "Café", "x"], rng.randint(0, 2)),
                    mentions=rng.sample(["brewhaven", "Tea", "y"], rng.randint(0, 2)),
                ),
            )
            for i in range(60)
        ]
        got = sorted(ws.match_brands(batch))
        expected = sorted(
            (m.brand.id, pk)
            for pk, post in batch
            for m in ws.brand_matchers()
            if m.brand.id is not None and m.query.predicate(PostView(post))
        )
        ws.close()
    assert got == expected
