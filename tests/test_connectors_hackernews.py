"""Hacker News connector: Algolia search_by_date through httpx.MockTransport (page /
nbPages, the created_at_i filter on later runs), stories and comments, timeouts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from socialloop.listen.connectors.hackernews import map_hit
from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source
from socialloop.store.schema import posts
from socialloop.workspace import Workspace
from tests._listen_fakes import T0, FakeAlgolia, enriched, hn_comment, hn_story, transport


def run(ws: Workspace, fake: FakeAlgolia, **kw: Any) -> Any:
    kw.setdefault("enrich", False)
    kw.setdefault("sleep", lambda s: None)
    (report,) = listen_once(ws, ["hn"], transport=transport(fake), **kw)
    return report


def test_story_and_comment_mapping() -> None:
    story = map_hit(hn_story(100, "Brewhaven launches #coffee", story_text="<p>Big day</p>"))
    assert story.id == "hackernews:100" and story.text == "Brewhaven launches #coffee\n\nBig day"
    assert story.links == ["https://brewhaven.example/launch"]
    assert (story.likes, story.replies) == (42, 3) and story.parent_id is None
    assert story.url == "https://news.ycombinator.com/item?id=100"
    assert story.hashtags == ["coffee"]
    comment = map_hit(hn_comment(
        101, "I tried it &amp; <i>liked</i> it<p>see <a href=\"https://x.example/r\">this</a>",
        story=100, parent=100,
    ))  # fmt: skip
    assert comment.text == "I tried it & liked it\n\nsee this"
    assert comment.parent_id == comment.root_id == "hackernews:100"
    assert comment.links == ["https://x.example/r"]
    assert comment.author is not None and comment.author.handle == "dang"
    assert comment.created_at == T0 + timedelta(minutes=101)


def test_pages_then_numeric_filter_on_the_next_run(ws: Workspace) -> None:
    add_source(ws.store, "hn", "hackernews", {"query": "brewhaven", "limit": 2, "max_pages": 9})
    hits = [hn_story(i, f"Brewhaven {i}") for i in range(1, 4)]
    hits += [hn_comment(i, f"comment {i}", story=1, parent=1) for i in range(4, 6)]
    fake = FakeAlgolia(hits=hits)
    report = run(ws, fake, enrich=True)
    assert report.new == 5 and report.pages == 3
    assert all("sentiment" in enriched(ws)[pk] for pk in report.post_pks)
    assert [fake.params(i)["page"] for i in range(3)] == ["0", "1", "2"]
    assert fake.params(0)["tags"] == "(story,comment)" and "numericFilters" not in fake.params(0)

    fake.hits.append(hn_story(9, "Brewhaven 9"))
    fake.requests.clear()
    report = run(ws, fake)
    floor = int((T0 + timedelta(minutes=5)).timestamp())
    assert fake.params(0)["numericFilters"] == f"created_at_i>={floor}"
    assert report.new == 1
    with ws.store.begin() as conn:
        assert len(list(conn.execute(select(posts.c.id)))) == 6


def test_deleted_comment_is_rejected_and_timeouts_retried(ws: Workspace) -> None:
    add_source(ws.store, "hn", "hackernews", {"query": "brewhaven"})
    dead = hn_comment(7, "", story=1, parent=1)
    dead["comment_text"] = None
    fake = FakeAlgolia(hits=[hn_story(1, "Brewhaven"), dead])

    def slow(n: int, request: httpx.Request) -> None:
        if n == 1:
            raise httpx.ReadTimeout("read timed out", request=request)
        return None

    fake.fail = slow
    report = run(ws, fake)
    assert report.status == "ok" and report.new == 1 and report.rejected == 1
    assert "deleted" in report.first_rejects[0]
    assert len(fake.requests) == 2
