"""LISTEN -> LEARN -> ENGAGE for every connector: a complaint fetched through the connector's
documented payloads (httpx.MockTransport) is stored, enriched and lands in the inbox with its
reason; a post about something else does not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from socialloop.engage.inbox import Inbox
from socialloop.listen.live import listen_once
from socialloop.listen.sources import add_source
from socialloop.workspace import Workspace
from tests._listen_fakes import (
    T0,
    Fake,
    FakeAlgolia,
    FakeBluesky,
    FakeFeed,
    FakeMastodon,
    FakeReddit,
    hn_story,
    post_view,
    rss,
    status,
    thing,
    transport,
)

COMPLAINT = "My Brewhaven order never arrived and nobody answers. I want a refund now, terrible!"
OTHER = "Lovely sunny morning at the lake with friends"


def _mastodon() -> tuple[Fake, dict[str, Any]]:
    fake = FakeMastodon(statuses=[status(1, f"<p>{COMPLAINT}</p>"), status(2, f"<p>{OTHER}</p>")])
    return fake, {"instance": "https://social.example", "hashtag": "coffee"}


def _bluesky() -> tuple[Fake, dict[str, Any]]:
    fake = FakeBluesky(posts=[post_view("3k1", COMPLAINT), post_view("3k2", OTHER)])
    return fake, {"query": "brewhaven"}


def _reddit() -> tuple[Fake, dict[str, Any]]:
    fake = FakeReddit(things=[thing(1, "Order problem", selftext=COMPLAINT), thing(2, OTHER)])
    return fake, {"subreddit": "coffee"}


def _hackernews() -> tuple[Fake, dict[str, Any]]:
    fake = FakeAlgolia(hits=[hn_story(1, COMPLAINT), hn_story(2, OTHER)])
    return fake, {"query": "brewhaven"}


def _rss() -> tuple[Fake, dict[str, Any]]:
    body = rss([("a", "Order", f"<p>{COMPLAINT}</p>", T0), ("b", "Lake", f"<p>{OTHER}</p>",
                T0 + timedelta(minutes=1))])  # fmt: skip
    return FakeFeed(body=body), {"url": "https://blog.example/feed.xml"}


CASES: dict[str, Callable[[], tuple[Fake, dict[str, Any]]]] = {
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "reddit": _reddit,
    "hackernews": _hackernews,
    "rss": _rss,
}


@pytest.mark.parametrize("connector", sorted(CASES))
def test_a_complaint_reaches_the_inbox_through_every_connector(
    ws: Workspace, connector: str
) -> None:
    ws.add_brand("Brewhaven", "brewhaven")
    fake, config = CASES[connector]()
    add_source(ws.store, "src", connector, config)
    (report,) = listen_once(ws, ["src"], transport=transport(fake), sleep=lambda s: None)
    assert report.new == 2 and report.enrich_error is None
    items = Inbox(ws).list_items()
    assert len(items) == 1, [i.to_dict() for i in items]
    item = items[0].to_dict()
    assert item["brand"] == "Brewhaven" and item["status"] == "new"
    assert any("complaint" in reason for reason in item["reasons"])
