"""twitter-v2 (API v2 pages and tweets) and twitter-v1 (v1.1 statuses) formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from socialloop.errors import RecordError
from socialloop.listen.files import Reject, read_file
from socialloop.listen.formats import twitter
from socialloop.models import Post, interactions_of

FIX = Path(__file__).parent / "fixtures" / "formats"


def load(name: str, **kw: str) -> tuple[dict[str, Post], list[Reject]]:
    posts: dict[str, Post] = {}
    rejects: list[Reject] = []
    for item in read_file(FIX / name, **kw):  # type: ignore[arg-type]
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            posts.setdefault(item.id, item)
    return posts, rejects


# --- v2 -------------------------------------------------------------------------------------


def test_v2_page_maps_tweets_authors_and_includes() -> None:
    posts, rejects = load("twitter_v2_page.json")
    assert rejects == []
    assert list(posts) == [
        "twitter:1522634519224070144",
        "twitter:1522700000000000001",
        "twitter:1522700000000000002",
        "twitter:1522634100000000000",
    ]
    reply = posts["twitter:1522634519224070144"]
    assert reply.text.startswith("@AcmeHelp my order")
    assert reply.created_at == datetime(2022, 5, 5, 16, 39, 45, tzinfo=UTC)
    assert reply.parent_id == "twitter:1522634100000000000"
    assert reply.root_id == "twitter:1522634100000000000"
    assert reply.reply_to_handle == "acmehelp"
    assert reply.mentions == ["acmehelp"]
    assert reply.hashtags == ["acmefail"]
    assert reply.links == ["https://acme.example/orders/42"]  # the photo link is media
    assert (reply.likes, reply.reshares, reply.replies, reply.views) == (5, 2, 1, 310)
    assert reply.lang == "en"
    assert reply.url == "https://twitter.com/danareyes/status/1522634519224070144"
    assert reply.author is not None
    assert (reply.author.handle, reply.author.name, reply.author.followers) == (
        "danareyes",
        "Dana Reyes",
        1520,
    )
    assert (reply.author.following, reply.author.verified) == (310, False)
    assert reply.author.bio == "coffee, bikes, complaints"
    assert reply.raw is not None and reply.raw["id"] == "1522634519224070144"

    quote = posts["twitter:1522700000000000001"]
    assert quote.quote_of == "twitter:1522634100000000000" and quote.parent_id is None
    retweet = posts["twitter:1522700000000000002"]
    assert retweet.reshare_of == "twitter:1522634100000000000"
    original = posts["twitter:1522634100000000000"]
    assert original.raw is None
    assert original.author is not None and original.author.verified is True
    assert original.author.followers == 250000
    assert original.views == 52000
    kinds = sorted(i.kind for p in posts.values() for i in interactions_of(p))
    assert kinds == ["mention", "mention", "quote", "reply", "reshare"]


def test_v2_jsonl_pages_report_bad_lines_and_bad_tweets() -> None:
    posts, rejects = load("twitter_v2_pages.jsonl")
    assert list(posts) == ["twitter:1522800000000000003", "twitter:1522900000000000004"]
    lookup = posts["twitter:1522800000000000003"]
    assert lookup.author is not None and lookup.author.handle == "leechen"
    assert [r.line for r in rejects] == [2, 3]
    assert rejects[0].reason.startswith("line 2: invalid JSON")
    assert rejects[1].reason == (
        "line 3: data[1] (tweet 1522900000000000005): field 'created_at' = 'yesterday' "
        "is not a date (expected ISO 8601 like 2024-05-01T12:00:00Z)"
    )
    assert orjson.loads(rejects[1].raw)["id"] == "1522900000000000005"  # the tweet, not the page


def test_v2_single_tweets_and_flattened_twarc_tweets() -> None:
    tweet = {
        "id": "1",
        "text": "hello @Bob #Yo https://t.co/x",
        "author_id": "42",
        "created_at": "2023-01-01T00:00:00.000Z",
        "edit_history_tweet_ids": ["1"],
        "lang": "und",
    }
    assert twitter.detect_v2(tweet) and not twitter.detect_v1(tweet)
    (post,) = twitter.map_record_v2(tweet)
    assert post.author is not None and post.author.handle == "42"  # no user object
    assert post.mentions == ["bob"] and post.hashtags == ["yo"] and post.lang is None
    assert post.url == "https://twitter.com/i/web/status/1"
    flat = dict(
        tweet,
        author={"id": "42", "username": "Ann", "public_metrics": {"followers_count": 9}},
        referenced_tweets=[
            {"type": "quoted", "id": "2", "tweet": dict(tweet, id="2", text="quoted one")}
        ],
    )
    posts = twitter.map_record_v2(flat)
    assert [p.native_id for p in posts] == ["1", "2"]
    assert posts[0].author is not None and posts[0].author.followers == 9
    assert posts[0].quote_of == "twitter:2"


def test_v2_long_note_tweet_text() -> None:
    tweet = {
        "id": "5",
        "text": "short…",
        "note_tweet": {
            "text": "the full long text #Long",
            "entities": {"hashtags": [{"tag": "Long"}]},
        },
        "created_at": "2023-01-01T00:00:00Z",
        "author_id": "1",
    }
    (post,) = twitter.map_record_v2(tweet)
    assert post.text == "the full long text #Long" and post.hashtags == ["long"]


def test_v2_error_page_and_bad_tweet() -> None:
    with pytest.raises(RecordError, match="API error page"):
        twitter.map_record_v2({"errors": [{"title": "Not Found Error"}]})
    with pytest.raises(RecordError, match="field 'text' is missing"):
        twitter.map_record_v2({"id": "1", "author_id": "2", "created_at": "2023-01-01T00:00:00Z"})


# --- v1.1 -----------------------------------------------------------------------------------


def test_v1_statuses_retweets_quotes_and_extended() -> None:
    posts, rejects = load("twitter_v1.jsonl")
    assert list(posts) == [
        "twitter:1050118621198921728",
        "twitter:1050280000000000001",
        "twitter:1050290000000000002",
        "twitter:1050300000000000003",
        "twitter:1050400000000000004",
    ]
    original = posts["twitter:1050118621198921728"]
    assert original.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert original.hashtags == ["acme"]
    assert original.links == ["https://acme.example/blog/delivery"]
    assert (original.likes, original.reshares) == (296, 161)
    assert original.author is not None
    assert (original.author.handle, original.author.followers, original.author.following) == (
        "AcmeHelp",
        250000,
        12,
    )
    assert original.author.verified is True

    reply = posts["twitter:1050280000000000001"]
    assert reply.text == "@AcmeHelp still waiting on order 42 😤 #fail"
    assert reply.parent_id == "twitter:1050118621198921728"
    assert reply.reply_to_handle == "acmehelp"
    assert reply.mentions == ["acmehelp"] and reply.hashtags == ["fail"]
    assert reply.author is not None and reply.author.bio == "Runner. Tea."

    retweet = posts["twitter:1050290000000000002"]
    assert retweet.reshare_of == "twitter:1050118621198921728"
    assert retweet.text.startswith("RT @AcmeHelp: New blog post")
    assert retweet.author is not None and retweet.author.handle == "samortiz"

    quote = posts["twitter:1050300000000000003"]
    assert quote.quote_of == "twitter:1050118621198921728"

    extended = posts["twitter:1050400000000000004"]
    assert extended.text.endswith("Thanks @AcmeHelp #blender #Service")
    assert extended.hashtags == ["blender", "service"] and extended.mentions == ["acmehelp"]
    assert (extended.replies, extended.likes) == (3, 0)

    assert [r.line for r in rejects] == [7]  # the delete notice (line 5) is skipped
    assert "expected Twitter style like 'Wed Oct 10 20:19:24 +0000 2018'" in rejects[0].reason


def test_v1_retweet_record_gives_the_original_too() -> None:
    lines = (FIX / "twitter_v1.jsonl").read_bytes().splitlines()
    posts = twitter.map_record_v1(orjson.loads(lines[2]))
    assert [p.native_id for p in posts] == ["1050290000000000002", "1050118621198921728"]
    assert posts[0].raw is not None and posts[1].raw is None


def test_v1_search_wrapper() -> None:
    posts, rejects = load("twitter_v1_search.json")
    assert rejects == []
    assert set(posts) == {
        "twitter:1050280000000000001",
        "twitter:1050300000000000003",
        "twitter:1050118621198921728",
    }


def test_network_override() -> None:
    posts, _ = load("twitter_v1_search.json", network="x")
    assert {p.network for p in posts.values()} == {"x"}
    assert posts["x:1050280000000000001"].parent_id == "x:1050118621198921728"
