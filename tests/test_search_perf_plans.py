"""The search plans of ``store.plan``: same results as the in-memory matcher on every path
(window, sort of a small match set, full index scan; counts on pk sets or on rows), and the
query plans that make them fast at scale."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from socialloop.store import plan
from socialloop.store.schema import posts
from socialloop.workspace import Workspace
from tests.conftest import make_post

WORDS = ["coffee", "latte", "decaf", "espresso", "queue", "waiting", "rude", "oat", "milk"]
TAGS = ["#brew", "#coffee", "@brewhaven", "https://youtube.com/x"]
QUERIES = [
    "coffee",
    "coffee OR #brew OR @brewhaven",
    "espresso NOT decaf",
    "NOT coffee",
    "NOT (coffee OR #brew)",
    "#coffee AND NOT @brewhaven",
    "(latte OR #brew) AND (milk OR @brewhaven)",
    "network:mastodon AND coffee",
    "lang:en AND (queue OR wait*)",
    "since:2026-05-03 AND (queue OR wait*)",
    "until:2026-05-02 AND coffee",
    "author:b* AND latte",
    "site:youtube.com",
    "url:youtube AND coffee",
    "nothingmatches",
]


@pytest.fixture
def filled(ws: Workspace) -> Workspace:
    rnd = random.Random(7)
    batch = []
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for i in range(400):
        words = rnd.sample(WORDS, 3) + rnd.sample(TAGS, rnd.randint(0, 2))
        batch.append(
            make_post(
                str(i),
                " ".join(words),
                network=rnd.choice(["twitter", "mastodon"]),
                handle=rnd.choice(["alice", "bob", "bea"]),
                lang=rnd.choice(["en", "de", None]),
                # ties on created_at on purpose: the order is created_at DESC, pk DESC
                when=start + timedelta(minutes=rnd.randint(0, 5 * 24 * 60) // 30 * 30),
            )
        )
    ws.store.upsert_posts(batch)
    ws.add_brand("Brewhaven", "@brewhaven OR brewhaven")
    return ws


def _expected(ws: Workspace, query: str | None, brand: str | None = None) -> list[str]:
    everything = ws.store.search(None, limit=None)
    q = ws.parse_query(query) if query else None
    brand_q = ws.parse_query(ws.store.get_brand(brand).query) if brand else None
    keep = [
        p
        for p in everything
        if (q is None or q.matches(p)) and (brand_q is None or brand_q.matches(p))
    ]
    return [p.id for p in keep]


@pytest.mark.parametrize(("window", "sort_max"), [(10_000, 20_000), (3, 1_000), (3, 0)])
@pytest.mark.parametrize("query", [*QUERIES, None])
def test_page_and_count_agree_with_the_matcher(
    filled: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    sort_max: int,
    query: str | None,
) -> None:
    monkeypatch.setattr(plan, "WINDOW", window)
    monkeypatch.setattr(plan, "SORT_MAX", sort_max)
    expected = _expected(filled, query)
    for limit in (1, 7, 50):
        assert [p.id for p in filled.search(query, limit=limit)] == expected[:limit]
    assert filled.count(query) == len(expected)


@pytest.mark.parametrize("query", [None, "coffee", "NOT latte"])
def test_brand_and_time_bounds(
    filled: Workspace, monkeypatch: pytest.MonkeyPatch, query: str | None
) -> None:
    monkeypatch.setattr(plan, "WINDOW", 5)
    since, until = datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 4, tzinfo=UTC)
    expected = [
        p.id
        for p in filled.store.search(None, limit=None)
        if since <= p.created_at < until
        and filled.parse_query("@brewhaven OR brewhaven").matches(p)
        and (query is None or filled.parse_query(query).matches(p))
    ]
    got = filled.search(query, brand="Brewhaven", since=since, until=until, limit=20)
    assert [p.id for p in got] == expected[:20]
    assert filled.count(query, brand="Brewhaven", since=since, until=until) == len(expected)
    assert filled.count(None, brand="Brewhaven") == len(_expected(filled, None, "Brewhaven"))


def _plan(ws: Workspace, stmt: object) -> str:
    sql = stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    with ws.store.engine.connect() as conn:
        rows = conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all()
    return "\n".join(str(r[3]) for r in rows)


def test_the_page_scans_the_time_index_without_sorting(filled: Workspace) -> None:
    cond = filled.parse_query("coffee OR #brew OR @brewhaven").to_sql()
    stmt = (
        select(posts.c.pk)
        .where(*plan.index_ordered([cond, posts.c.created_at >= datetime(2026, 5, 2)]))
        .order_by(*plan.NEWEST_FIRST)
        .limit(50)
    )
    text_plan = _plan(filled, stmt)
    assert "USING COVERING INDEX ix_posts_created_at (created_at>?)" in text_plan
    assert "TEMP B-TREE" not in text_plan


def test_a_count_of_match_sets_reads_no_posts_rows(filled: Workspace) -> None:
    cond = filled.parse_query('"Brewhaven" OR #brewhaven OR @brewhaven').to_sql()
    text_plan = _plan(filled, plan.count_stmt([cond]))
    assert "posts_fts" in text_plan and "post_terms" in text_plan
    assert "SEARCH posts" not in text_plan and "SCAN posts " not in text_plan


def test_a_count_with_post_columns_reads_rows(filled: Workspace) -> None:
    cond = filled.parse_query("network:mastodon AND coffee").to_sql()
    assert "posts.network" in str(plan.count_stmt([cond]))
