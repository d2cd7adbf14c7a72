"""Live listening into a PostgreSQL workspace, for the connectors other than Mastodon (which
tests/test_postgres_more.py covers): Bluesky, Reddit, Hacker News and RSS, each behind its
fake API (tests/_listen_fakes.py, payloads shaped like the real responses, through
httpx.MockTransport). Two runs per network (the second after new items appear, resuming from
the stored checkpoint) store the same posts, authors, threads and checkpoints as on SQLite;
the server's time zone is not UTC, so a shifted timestamp would show.

Skipped, saying why, without the server binaries or psycopg (tests/_postgres.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source, get_source
from socialloop.store.schema import authors, posts
from socialloop.workspace import Workspace
from tests import _postgres
from tests._listen_fakes import (
    T0,
    Fake,
    FakeAlgolia,
    FakeBluesky,
    FakeFeed,
    FakeReddit,
    hn_comment,
    hn_story,
    post_view,
    rss,
    thing,
    transport,
)

pg_cluster = _postgres.pg_cluster


def _bluesky() -> tuple[dict[str, Any], Fake, Callable[[Fake], None]]:
    views = [
        post_view(f"k{i}", f"Brewhaven latte {i}", when=T0 + timedelta(minutes=i)) for i in range(5)
    ]
    fake = FakeBluesky(posts=views)

    def more(f: Fake) -> None:
        assert isinstance(f, FakeBluesky)
        f.posts.append(post_view("k9", "Brewhaven again", when=T0 + timedelta(hours=2)))

    return {"query": "brewhaven", "limit": 2, "max_pages": 10}, fake, more


def _reddit() -> tuple[dict[str, Any], Fake, Callable[[Fake], None]]:
    fake = FakeReddit(things=[thing(i, f"Brewhaven beans {i}") for i in range(5)])

    def more(f: Fake) -> None:
        assert isinstance(f, FakeReddit)
        f.things += [thing(i, f"Brewhaven beans {i}") for i in range(5, 7)]

    return {"subreddit": "r/coffee", "limit": 2, "max_pages": 10}, fake, more


def _hackernews() -> tuple[dict[str, Any], Fake, Callable[[Fake], None]]:
    hits = [hn_story(i, f"Brewhaven {i}") for i in range(1, 4)]
    hits += [hn_comment(i, f"comment <i>{i}</i>", story=1, parent=1) for i in range(4, 6)]
    fake = FakeAlgolia(hits=hits)

    def more(f: Fake) -> None:
        assert isinstance(f, FakeAlgolia)
        f.hits.append(hn_comment(9, "late reply", story=1, parent=4))

    return {"query": "brewhaven", "limit": 2, "max_pages": 9}, fake, more


def _rss() -> tuple[dict[str, Any], Fake, Callable[[Fake], None]]:
    items = [("a", "A", "first <b>post</b>", T0), ("b", "B", "second", T0 + timedelta(hours=1))]
    fake = FakeFeed(body=rss(items))

    def more(f: Fake) -> None:
        assert isinstance(f, FakeFeed)
        f.body = rss([*items, ("c", "C", "third", T0 + timedelta(hours=3))])
        f.etag = '"v2"'

    return {"url": "https://blog.example/feed.xml"}, fake, more


NETWORKS = {"bluesky": _bluesky, "reddit": _reddit, "hackernews": _hackernews, "rss": _rss}


def _listen(ws: Workspace, network: str) -> tuple[list[int], dict[str, Any]]:
    config, fake, more = NETWORKS[network]()
    add_source(ws.store, "src", network, config)
    news = []
    for _ in range(2):
        (report,) = listen_once(
            ws, ["src"], transport=transport(fake), sleep=lambda s: None, enrich=False
        )
        assert report.status == "ok", report
        news.append(report.new)
        more(fake)
        fake.requests.clear()
    with ws.store.begin() as conn:
        stored = {
            "posts": [
                (r.id, r.text, r.created_at, r.author_id, r.parent_id, r.root_id, r.url, r.links)
                for r in conn.execute(select(posts).order_by(posts.c.pk))
            ],
            "authors": [
                tuple(r)
                for r in conn.execute(select(authors.c.id, authors.c.handle).order_by(authors.c.id))
            ],
            "checkpoint": get_source(ws.store, "src").checkpoint,
        }
    return news, stored


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_listening_stores_the_same_on_postgres(
    network: str, pg_cluster: _postgres.PgCluster, tmp_path: Path
) -> None:
    url = _postgres.create_database(pg_cluster, "l_", "timezone = 'Pacific/Chatham'")
    results = []
    for name, database_url in (("lite", None), ("pg", url)):
        ws = Workspace.init(tmp_path / name, database_url=database_url)
        try:
            assert ws.store.dialect == ("postgresql" if database_url else "sqlite")
            results.append(_listen(ws, network))
        finally:
            ws.close()
    (lite_new, lite), (pg_new, pg) = results
    assert pg_new == lite_new and pg_new[0] > 1 and pg_new[1] >= 1  # the second run found more
    assert pg == lite
    first = pg["posts"][0]
    assert first[2].utcoffset() in (None, timedelta(0))  # stored as UTC
