"""Reddit connector: Listings through httpx.MockTransport (``after`` paging, later runs stop
at the newest stored post), OAuth client credentials, bad credentials and 429."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from socialloop.errors import InvalidValue
from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source, get_source
from socialloop.store.schema import posts
from socialloop.workspace import Workspace
from tests._listen_fakes import FakeReddit, enriched, thing, transport


def run(ws: Workspace, fake: FakeReddit, name: str = "r", **kw: Any) -> Any:
    kw.setdefault("enrich", False)
    kw.setdefault("sleep", lambda s: None)
    (report,) = listen_once(ws, [name], transport=transport(fake), **kw)
    return report


def ids(ws: Workspace) -> list[str]:
    with ws.store.begin() as conn:
        return [r.id for r in conn.execute(select(posts.c.id))]


def test_subreddit_listing_pages_with_after_and_stops_at_stored_posts(ws: Workspace) -> None:
    add_source(ws.store, "r", "reddit", {"subreddit": "r/coffee", "limit": 3, "max_pages": 10})
    fake = FakeReddit(things=[thing(i, f"Brewhaven beans {i}") for i in range(7)])
    report = run(ws, fake)
    assert report.status == "ok" and report.new == 7
    assert fake.requests[0].url.path == "/r/coffee/new.json"
    assert [fake.params(i).get("after") for i in range(3)] == [None, "t3_x00004", "t3_x00001"]
    assert fake.params(0)["raw_json"] == "1"

    fake.things += [thing(i, f"Brewhaven beans {i}") for i in range(7, 9)]
    fake.requests.clear()
    report = run(ws, fake)
    # the second page reached the stored posts; the one at the floor is not stored again
    assert report.new == 2 and report.updated == 0 and len(fake.requests) == 2
    assert len(ids(ws)) == 9 == len(set(ids(ws)))


def test_search_link_post_and_mapping(ws: Workspace) -> None:
    add_source(ws.store, "r", "reddit", {"query": "brewhaven"})
    fake = FakeReddit(things=[
        thing(1, "Brewhaven review", url="https://blog.example/review", is_self=False),
        thing(2, "Other stuff"),
        thing(3, "brewhaven [deleted] one", author="[deleted]", selftext="[removed]"),
        thing(4, "Brewhaven crosspost", crosspost_parent="t3_x00001"),
    ])  # fmt: skip
    report = run(ws, fake, enrich=True)
    assert fake.requests[0].url.path == "/search.json" and fake.params(0)["sort"] == "new"
    assert report.new == 3
    assert all("sentiment" in enriched(ws)[pk] for pk in report.post_pks)
    with ws.store.begin() as conn:
        row = conn.execute(select(posts).where(posts.c.id == "reddit:t3_x00001")).one()
        gone = conn.execute(select(posts).where(posts.c.id == "reddit:t3_x00003")).one()
        repost = conn.execute(select(posts).where(posts.c.id == "reddit:t3_x00004")).one()
    assert repost.reshare_of == "reddit:t3_x00001"  # a crosspost is a reshare
    assert row.url == "https://www.reddit.com/r/coffee/comments/x00001/slug/"
    assert row.links == ["https://blog.example/review"] and row.likes == 11
    assert gone.author_id is None and gone.text == "brewhaven [deleted] one"


def test_oauth_client_credentials(ws: Workspace) -> None:
    add_source(ws.store, "r", "reddit", {"subreddit": "coffee", "client_id": "cid",
                                        "client_secret_env": "REDDIT_SECRET"})  # fmt: skip
    fake = FakeReddit(things=[thing(1, "x")], client=("cid", "sec"))
    report = run(ws, fake, environ={"REDDIT_SECRET": "sec"})
    assert report.status == "ok" and report.new == 1
    token, listing = fake.requests[0], fake.requests[1]
    assert token.url == "https://www.reddit.com/api/v1/access_token"
    assert token.content == b"grant_type=client_credentials"
    assert listing.url.host == "oauth.reddit.com" and listing.url.path == "/r/coffee/new"
    assert listing.headers["authorization"] == "bearer tok-123"

    report = run(ws, fake, environ={"REDDIT_SECRET": "wrong"})
    assert report.status == "error" and report.error_kind == "BadCredentials"


def test_secret_variable_must_be_set_and_names_are_checked(ws: Workspace) -> None:
    add_source(ws.store, "r", "reddit", {"subreddit": "coffee", "client_id": "cid",
                                        "client_secret_env": "UNSET_VAR"})  # fmt: skip
    report = run(ws, FakeReddit(), environ={})
    assert report.status == "error" and "client_secret_env" in (report.error or "")
    add_source(ws.store, "bad", "reddit", {"subreddit": "no spaces allowed"})
    report = run(ws, FakeReddit(), "bad")
    assert "not a subreddit name" in (report.error or "")
    with pytest.raises(InvalidValue, match="exactly one of subreddit, query"):
        add_source(ws.store, "x", "reddit", {})


def test_429_with_retry_after_is_honoured(ws: Workspace) -> None:
    add_source(ws.store, "r", "reddit", {"subreddit": "coffee"})
    fake = FakeReddit(things=[thing(1, "x")])
    fake.fail = lambda n, r: (429, {"retry-after": "4"}, b"Too Many Requests") if n == 1 else None
    sleeps: list[float] = []
    report = run(ws, fake, sleep=sleeps.append)
    assert report.status == "ok" and report.new == 1
    assert 4.0 in sleeps and report.waited >= 4.0
    assert get_source(ws.store, "r").last_status == "ok"
