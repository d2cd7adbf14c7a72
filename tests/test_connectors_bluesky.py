"""Bluesky connector: app.bsky.feed.searchPosts through httpx.MockTransport (postViews,
cursor paging, ``since`` on later runs), quotes, media-only posts, 5xx and changed payloads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source, get_source
from socialloop.store.schema import posts
from socialloop.workspace import Workspace
from tests._listen_fakes import T0, FakeBluesky, enriched, iso, post_view, transport


def run(ws: Workspace, fake: FakeBluesky, **kw: Any) -> Any:
    kw.setdefault("enrich", False)
    (report,) = listen_once(ws, ["sky"], transport=transport(fake), sleep=lambda s: None, **kw)
    return report


def rows(ws: Workspace) -> dict[str, Any]:
    with ws.store.begin() as conn:
        return {r.id: r for r in conn.execute(select(posts))}


def views(start: int, stop: int) -> list[dict[str, Any]]:
    return [
        post_view(f"3k{i:04d}", f"brewhaven post {i}", when=T0 + timedelta(minutes=i))
        for i in range(start, stop)
    ]


def test_cursor_paging_then_since_on_the_next_run(ws: Workspace) -> None:
    add_source(ws.store, "sky", "bluesky", {"query": "brewhaven", "limit": 4, "max_pages": 10})
    fake = FakeBluesky(posts=views(0, 10))
    report = run(ws, fake)
    assert report.status == "ok" and report.new == 10 and report.pages == 3
    assert [fake.params(i).get("cursor") for i in range(3)] == [None, "4", "8"]
    assert fake.params(0)["sort"] == "latest" and fake.params(0)["q"] == "brewhaven"
    newest = (T0 + timedelta(minutes=9)).timestamp()
    uri = "at://did:plc:ann/app.bsky.feed.post/3k0009"
    assert get_source(ws.store, "sky").checkpoint == {"floor": newest, "seen": [uri]}

    fake.posts += views(10, 13)
    fake.requests.clear()
    report = run(ws, fake)
    assert fake.params(0)["since"] == iso(T0 + timedelta(minutes=9))
    assert report.new == 3 and report.unchanged + report.updated == 0  # the floor post skipped
    assert len(rows(ws)) == 13


def test_crash_mid_walk_resumes_from_the_stored_cursor(ws: Workspace) -> None:
    add_source(ws.store, "sky", "bluesky", {"query": "brewhaven", "limit": 2, "max_pages": 10})
    fake = FakeBluesky(posts=views(0, 2))
    run(ws, fake)
    fake.posts += views(2, 10)
    fake.requests.clear()
    fake.fail = lambda n, r: (_ for _ in ()).throw(RuntimeError("crash")) if n == 3 else None
    with pytest.raises(RuntimeError, match="crash"):
        run(ws, fake)
    cp = get_source(ws.store, "sky").checkpoint
    assert cp is not None and cp["walk"]["cursor"] == "4" and len(rows(ws)) == 2 + 4
    fake.fail = None
    fake.requests.clear()
    report = run(ws, fake)
    assert fake.params(0)["cursor"] == "4"
    assert len(rows(ws)) == 10 and report.status == "ok"
    assert set(get_source(ws.store, "sky").checkpoint or {}) == {"floor", "seen"}


def test_quote_and_media_only_posts(ws: Workspace) -> None:
    quoted = post_view("3kq", "the original", handle="bob.bsky.social")
    quote = post_view(
        "3kx",
        "brewhaven said this",
        record_embed={"$type": "app.bsky.embed.record",
                      "record": {"uri": quoted["uri"], "cid": quoted["cid"]}},
        embed={"$type": "app.bsky.embed.record#view",
               "record": {"$type": "app.bsky.embed.record#viewRecord", "uri": quoted["uri"],
                          "cid": quoted["cid"], "author": quoted["author"],
                          "value": quoted["record"], "indexedAt": quoted["indexedAt"]}},
    )  # fmt: skip
    media = post_view(
        "3km",
        "",
        record_embed={"$type": "app.bsky.embed.images",
                      "images": [{"alt": "", "image": {"$type": "blob", "mimeType": "image/jpeg",
                                                        "size": 1000}}]},
    )  # fmt: skip
    add_source(ws.store, "sky", "bluesky", {"query": "brewhaven"})
    report = run(ws, FakeBluesky(posts=[quote, media]), enrich=True)
    assert report.rejected == 0 and len(report.post_pks) == 3
    steps = enriched(ws)
    assert all({"language", "sentiment"} <= steps[pk] for pk in report.post_pks)
    stored = rows(ws)
    q = stored[f"bluesky:{quote['uri']}"]
    assert q.quote_of == f"bluesky:{quoted['uri']}"
    assert stored[f"bluesky:{quoted['uri']}"].text == "the original"
    assert stored[f"bluesky:{media['uri']}"].text == ""
    assert q.url == "https://bsky.app/profile/ann.bsky.social/post/3kx"


def test_5xx_then_success_and_changed_payload(ws: Workspace) -> None:
    add_source(ws.store, "sky", "bluesky", {"query": "brewhaven"})
    fake = FakeBluesky(posts=views(0, 2))
    fake.fail = lambda n, r: (502, {}, b"bad gateway") if n == 1 else None
    sleeps: list[float] = []
    (report,) = listen_once(ws, ["sky"], transport=transport(fake), sleep=sleeps.append,
                            enrich=False)  # fmt: skip
    assert report.status == "ok" and report.new == 2 and len(sleeps) >= 1

    class Changed(FakeBluesky):
        def respond(self, request: httpx.Request) -> tuple[int, dict[str, str], bytes]:
            return 200, {"content-type": "application/json"}, b'{"results": []}'

    report = run(ws, Changed())
    assert report.error_kind == "PayloadChanged" and "posts" in (report.error or "")
