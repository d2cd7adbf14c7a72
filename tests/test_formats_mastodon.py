"""The mastodon format: Status entities, boosts, replies across instances, HTML content."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from socialloop.errors import RecordError
from socialloop.listen.files import Reject, read_file
from socialloop.listen.formats import mastodon
from socialloop.listen.formats._html import html_to_text, html_to_text_slow
from socialloop.models import Post

FIX = Path(__file__).parent / "fixtures" / "formats"


def statuses() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = orjson.loads((FIX / "mastodon_statuses.json").read_bytes())
    return data


def test_local_status_with_mention_tag_link_and_card() -> None:
    (post,) = mastodon.map_record(statuses()[0])
    assert post.id == "mastodon:social.example/112000000000000001"
    assert post.text == (
        "Loving the new @acme kettle & its timer!\n"
        "Review: https://blog.example/kettle-review\n\n#Kettles"
    )
    assert post.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert post.mentions == ["acme@brands.example"]
    assert post.hashtags == ["kettles"]
    assert post.links == ["https://blog.example/kettle-review"]
    assert (post.likes, post.reshares, post.replies, post.views) == (7, 2, 1, None)
    assert post.url == "https://social.example/@ann/112000000000000001"
    assert post.lang == "en"
    author = post.author
    assert author is not None
    assert (author.handle, author.name, author.followers, author.following) == (
        "ann@social.example",
        "Ann Example",
        340,
        120,
    )
    assert author.bio == "Gardener & tinkerer.\nViews my own."
    assert author.url == "https://social.example/@ann"
    assert post.raw is not None and post.raw["id"] == "112000000000000001"


def test_remote_reply_with_content_warning() -> None:
    (post,) = mastodon.map_record(statuses()[1])
    assert post.id == "mastodon:other.example/998877"  # origin host + origin id, from the uri
    assert post.author is not None and post.author.handle == "bob@other.example"
    assert post.parent_id == "mastodon:social.example/112000000000000001"
    assert post.reply_to_handle == "ann@social.example"
    assert post.text == "kettle opinions\n\n@ann mine leaks <sigh>"
    assert post.mentions == ["ann@social.example"]


def test_boost_is_a_reshare_and_the_boosted_status_a_post() -> None:
    boost, inner = mastodon.map_record(statuses()[2])
    assert boost.id == "mastodon:social.example/112000000000000200"  # "/activity" dropped
    assert boost.reshare_of == inner.id == "mastodon:brands.example/555000"
    assert boost.text == inner.text == "Spring sale! https://acme.example/spring #AcmeSpring"
    assert boost.raw is not None and inner.raw is None
    assert inner.author is not None and inner.author.handle == "acme@brands.example"
    assert (inner.likes, inner.reshares) == (51, 20)
    assert inner.hashtags == ["acmespring"] and inner.links == ["https://acme.example/spring"]
    assert boost.created_at == datetime(2024, 5, 1, 14, tzinfo=UTC)


def test_array_file_and_context_file() -> None:
    items = list(read_file(FIX / "mastodon_statuses.json"))
    posts = [i for i in items if isinstance(i, Post)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert len(posts) == 4
    assert len(rejects) == 1
    text = (FIX / "mastodon_statuses.json").read_text().split("\n")
    assert text[rejects[0].line - 1] == "  {"  # the line where the bad status starts
    assert '"112000000000000300"' in text[rejects[0].line]
    assert "field 'created_at' is missing" in rejects[0].reason
    context = [i for i in read_file(FIX / "mastodon_context.json") if isinstance(i, Post)]
    assert [p.native_id for p in context] == [
        "social.example/112000000000000001",
        "other.example/998877",
    ]


def test_self_reply_and_missing_uri() -> None:
    status = dict(statuses()[0], in_reply_to_id="111", in_reply_to_account_id="109000000000000001")
    (post,) = mastodon.map_record(status)
    assert post.parent_id == "mastodon:social.example/111"
    assert post.reply_to_handle == "ann@social.example"
    no_uri = {k: v for k, v in statuses()[0].items() if k != "uri"}
    assert mastodon.origin_id(no_uri) == "social.example/112000000000000001"
    with pytest.raises(RecordError, match="'uri' is missing"):
        mastodon.origin_id({"id": "1"})


def test_detect() -> None:
    assert mastodon.detect(statuses()[0])
    assert mastodon.detect({"ancestors": [], "descendants": []})
    assert not mastodon.detect({"id": "1", "content": "x"})


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>a &amp; b<br>c</p><p>d</p>",
        "<p>x <a href='https://a.example/?q=1&amp;r=2' class=\"link\">a</a></p>",
        '<p><a href="https://h.example/tags/x" class="mention hashtag" rel="tag">#x</a></p>',
        '<p><a href="https://h.example/" rel="tag">t</a><br/>z</p>',
        "<p>a < b and c > d</p>",
        "<p>comment <!-- hidden --> here</p>",
        "<p>script <script>var a = '<p>';</script> done</p>",
        "<P>Upper <BR>case</P>",
        "  &lt;b&gt; plain &#128512; ",
        "<p></p><p>after empty</p>",
    ],
)
def test_fast_html_matches_html_parser(fragment: str) -> None:
    assert html_to_text(fragment) == html_to_text_slow(fragment)


def test_fixture_contents_match_html_parser() -> None:
    for status in statuses():
        for fragment in (status["content"], status["account"]["note"]):
            assert html_to_text(fragment) == html_to_text_slow(fragment)


def test_html_to_text() -> None:
    text, links = html_to_text(
        '<p>a &amp; b<br>c</p><p><a href="https://x.example/">link</a> '
        '<a href="https://m.example/@u" class="u-url mention">@u</a></p>'
    )
    assert text == "a & b\nc\n\nlink @u"
    assert links == ["https://x.example/"]
    assert html_to_text("plain") == ("plain", [])
