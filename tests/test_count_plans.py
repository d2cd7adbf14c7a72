"""Counts driven from a brand's match set (``store.plan``): a language or a link inside a brand
is counted on the brand's pks without reading ``posts`` rows, and agrees with the matcher,
before and after LEARN has detected languages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite

from socialloop.query.view import PostView
from socialloop.store import plan
from socialloop.store.schema import post_labels
from socialloop.workspace import Workspace
from tests.conftest import make_post

LANGS = ["en", "es", "fi", None]


@pytest.fixture
def filled(ws: Workspace) -> Workspace:
    rnd = random.Random(11)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    batch = [
        make_post(
            str(i),
            " ".join(
                rnd.sample(["coffee", "brewhaven", "latte", "#brew", "https://example.com/a"], 3)
            ),
            lang=rnd.choice(LANGS),
            when=start + timedelta(minutes=i),
        )
        for i in range(300)
    ]
    ws.store.upsert_posts(batch)
    ws.add_brand("Brewhaven", "brewhaven OR #brew")
    return ws


def _detect_some(ws: Workspace) -> dict[str, list[str]]:
    """Detected languages for a third of the posts (some with two), as LEARN stores them."""
    rnd = random.Random(3)
    detected: dict[str, list[str]] = {}
    rows = []
    with ws.store.begin() as conn:
        for pk, pid in conn.execute(text("SELECT pk, id FROM posts")):
            if rnd.random() < 0.33:
                langs = rnd.sample(["en", "es", "fi", "de"], rnd.choice([1, 1, 2]))
                detected[pid] = langs
                rows += [{"field": "lang", "label": lang, "post_pk": pk} for lang in langs]
                rows.append({"field": "sentiment", "label": "neutral", "post_pk": pk})
        conn.execute(insert(post_labels), rows)
    return detected


def _expected(ws: Workspace, query: str, detected: dict[str, list[str]]) -> int:
    q = ws.parse_query(query)
    brand = ws.parse_query(ws.store.get_brand("Brewhaven").query)
    n = 0
    for post in ws.store.search(None, limit=None):
        extra = {"lang": detected[post.id]} if post.id in detected else {}
        if brand.matches(post) and q.predicate(PostView(post, extra=extra)):
            n += 1
    return n


@pytest.mark.parametrize("ratio", [0.0, 100.0])  # probe every set / materialise every set
@pytest.mark.parametrize("enriched", [False, True])
@pytest.mark.parametrize(
    "query",
    ["lang:es", "lang:en OR lang:fi", "NOT lang:en", "lang:es AND coffee", "url:example"],
)
def test_brand_counts_agree_with_the_matcher(
    filled: Workspace, monkeypatch: pytest.MonkeyPatch, ratio: float, enriched: bool, query: str
) -> None:
    monkeypatch.setattr(plan, "MATERIALISE_RATIO", ratio)
    detected = _detect_some(filled) if enriched else {}
    assert filled.count(query, brand="Brewhaven") == _expected(filled, query, detected)


@pytest.mark.parametrize(("ratio", "materialised"), [(0.0, False), (100.0, True)])
def test_a_language_in_a_brand_is_counted_on_the_brand_pks(
    filled: Workspace, monkeypatch: pytest.MonkeyPatch, ratio: float, materialised: bool
) -> None:
    monkeypatch.setattr(plan, "MATERIALISE_RATIO", ratio)
    where, brand_id = filled._filters("lang:es", "Brewhaven")
    with filled.store.engine.connect() as conn:
        stmt = plan.count_stmt(filled.store._conditions(where, brand_id, None, None), conn)
        sql = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
        steps = [str(r[3]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    joined = "\n".join(steps)
    assert "post_brands USING PRIMARY KEY (brand_id=?)" in joined
    assert "SEARCH posts" not in joined and "SCAN posts " not in joined
    assert "DISTINCT" not in str(sql)  # one brand's pks are unique already
    # the declared language: one list of its pks, or a look-up per brand post
    probed = "post_terms USING PRIMARY KEY (kind=? AND value=? AND post_pk=?)" in joined
    listed = "post_terms USING PRIMARY KEY (kind=? AND value=?)" in joined
    assert (listed, probed) == (materialised, not materialised)


def test_time_bounds_still_read_rows(filled: Workspace) -> None:
    since = datetime(2026, 5, 1, 2, tzinfo=UTC)
    where, brand_id = filled._filters("lang:es", "Brewhaven")
    stmt = plan.count_stmt(filled.store._conditions(where, brand_id, since, None))
    assert "posts.created_at" in str(stmt)
    expected = sum(
        1 for p in filled.search("lang:es", brand="Brewhaven", limit=None) if p.created_at >= since
    )
    assert filled.count("lang:es", brand="Brewhaven", since=since) == expected
