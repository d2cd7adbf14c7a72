"""The bluesky format: postViews, searchPosts, feeds with reposts, threads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from socialloop.listen.files import Reject, read_file
from socialloop.listen.formats import bluesky
from socialloop.models import Post

FIX = Path(__file__).parent / "fixtures" / "formats"
A = "at://did:plc:aaaa1111bbbb2222cccc3333/app.bsky.feed.post/3kq2lw7nf3k2a"
B = "at://did:plc:acmebrand000000000000000/app.bsky.feed.post/3kq2m0000000b"
C = "at://did:plc:cccc3333dddd4444eeee5555/app.bsky.feed.post/3kq2m1111111c"
D = "at://did:plc:cccc3333dddd4444eeee5555/app.bsky.feed.post/3kq2m2222222d"


def load(name: str) -> tuple[list[Post], list[Reject]]:
    items = list(read_file(FIX / name))
    return (
        [i for i in items if isinstance(i, Post)],
        [i for i in items if isinstance(i, Reject)],
    )


def test_search_posts_facets_quotes_and_embeds() -> None:
    posts, rejects = load("bluesky_search.json")
    by_id = {p.id: p for p in posts if p.raw is not None}
    first = by_id[f"bluesky:{A}"]
    assert first.native_id == A
    assert first.url == "https://bsky.app/profile/ann.bsky.social/post/3kq2lw7nf3k2a"
    assert first.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert first.mentions == ["acme.example.com"]  # handle read from the facet's byte range
    assert first.hashtags == ["acmespring"]
    assert first.links == ["https://acme.example/spring"]
    assert (first.likes, first.reshares, first.replies) == (10, 2, 1)
    assert first.lang == "en"
    assert first.author is not None
    assert (first.author.handle, first.author.name) == ("ann.bsky.social", "Ann ☕")

    reply = by_id[f"bluesky:{B}"]
    assert reply.parent_id == reply.root_id == f"bluesky:{A}"
    assert reply.author is not None and reply.author.followers == 12000

    quote = by_id[f"bluesky:{D}"]
    assert quote.quote_of == f"bluesky:{A}"
    assert quote.lang == "en"
    quoted_copies = [p for p in posts if p.id == f"bluesky:{A}" and p.raw is None]
    assert len(quoted_copies) == 1  # the embedded view record became a post too

    link = next(p for p in posts if p.text == "Link post")
    assert link.links == ["https://news.example/acme-recall"]

    assert len(rejects) == 1
    assert rejects[0].line == 1
    assert "posts[4]" in rejects[0].reason and "'record.text' is missing" in rejects[0].reason


def test_feed_with_reply_context_and_repost() -> None:
    posts, rejects = load("bluesky_feed.json")
    assert rejects == []
    first = posts[0]
    assert first.id == f"bluesky:{B}" and first.reply_to_handle == "ann.bsky.social"
    reposts = [p for p in posts if p.reshare_of is not None]
    assert len(reposts) == 1
    repost = reposts[0]
    assert repost.reshare_of == f"bluesky:{A}"
    assert repost.author is not None and repost.author.handle == "chris.bsky.social"
    assert repost.created_at == datetime(2024, 5, 1, 17, tzinfo=UTC)
    assert repost.native_id == f"repost:did:plc:cccc3333dddd4444eeee5555:{A}"


def test_thread_is_walked_whole() -> None:
    posts, rejects = load("bluesky_thread.json")
    assert rejects == []
    assert [p.native_id for p in posts] == [A, B, C]
    assert posts[1].reply_to_handle == "ann.bsky.social"
    assert posts[2].reply_to_handle == "acme.example.com"
    assert posts[2].parent_id == f"bluesky:{B}" and posts[2].root_id == f"bluesky:{A}"


def test_deep_thread_does_not_recurse() -> None:
    view = {
        "uri": A,
        "author": {"did": "did:plc:x", "handle": "x.bsky.social"},
        "record": {"text": "t", "createdAt": "2024-05-01T00:00:00Z"},
    }
    node: dict[str, object] = {"post": view, "replies": []}
    root = node
    for i in range(5000):
        child: dict[str, object] = {"post": dict(view, uri=f"{A}{i}"), "replies": []}
        node["replies"] = [child]
        node = child
    posts = bluesky.map_record({"thread": root})
    assert len(posts) == 5001


def test_detect_and_web_url() -> None:
    assert bluesky.detect({"posts": [], "cursor": "x"}) is False
    assert bluesky.detect({"thread": {"$type": "app.bsky.feed.defs#threadViewPost"}})
    assert bluesky.web_url(None, A) == (
        "https://bsky.app/profile/did:plc:aaaa1111bbbb2222cccc3333/post/3kq2lw7nf3k2a"
    )
