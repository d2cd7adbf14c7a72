"""The reddit format: listings, comments pages with nested replies, flat dumps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from socialloop.listen.files import Reject, read_file
from socialloop.listen.formats import reddit
from socialloop.models import Post

FIX = Path(__file__).parent / "fixtures" / "formats"


def test_listing_of_submissions() -> None:
    posts = [p for p in read_file(FIX / "reddit_listing.json") if isinstance(p, Post)]
    selfpost, linkpost = posts
    assert selfpost.id == "reddit:t3_1cabcde"
    assert selfpost.text == (
        "Acme kettle broke after 3 weeks\n\nMine lasted 3 weeks. Anyone else? cc u/kettle_guru"
    )
    assert selfpost.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert selfpost.url == (
        "https://www.reddit.com/r/BuyItForLife/comments/1cabcde/acme_kettle_broke_after_3_weeks/"
    )
    assert selfpost.links == []  # a self post's url is itself
    assert selfpost.mentions == ["kettle_guru"]
    assert (selfpost.likes, selfpost.replies) == (152, 3)
    assert selfpost.author is not None and selfpost.author.handle == "teapot_tom"
    assert selfpost.raw is not None and selfpost.raw["subreddit"] == "BuyItForLife"
    assert linkpost.author is None  # [deleted]
    assert linkpost.links == ["https://news.example/acme-recall"]


def test_comments_page_tree() -> None:
    items = list(read_file(FIX / "reddit_comments.json"))
    posts = [i for i in items if isinstance(i, Post)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [p.native_id for p in posts] == ["t3_1cabcde", "t1_l0a0001", "t1_l0b0002"]
    top, nested = posts[1], posts[2]
    assert top.parent_id == top.root_id == "reddit:t3_1cabcde"
    assert top.reply_to_handle == "teapot_tom"  # known from the submission listing
    assert top.hashtags == ["askreddit"] and top.links == ["https://acme.example/support"]
    assert nested.parent_id == "reddit:t1_l0a0001" and nested.root_id == "reddit:t3_1cabcde"
    assert nested.reply_to_handle == "kettle_guru"
    assert nested.likes == 4
    assert len(rejects) == 1
    assert "data.children[1] (t1_l0d0003)" in rejects[0].reason
    assert "'created_utc' = 'not-a-time'" in rejects[0].reason


def test_whole_comments_page_as_one_jsonl_record(tmp_path: Path) -> None:
    page = orjson.loads((FIX / "reddit_comments.json").read_bytes())
    path = tmp_path / "pages.jsonl"
    path.write_bytes(orjson.dumps(page) + b"\n")
    items = list(read_file(path))
    assert [i.native_id for i in items if isinstance(i, Post)] == [
        "t3_1cabcde",
        "t1_l0a0001",
        "t1_l0b0002",
    ]
    assert [i.line for i in items if isinstance(i, Reject)] == [1]


def test_flat_dump_lines(tmp_path: Path) -> None:
    submission: dict[str, object] = {
        "id": "abc",
        "title": "Flat",
        "selftext": "",
        "subreddit": "x",
        "author": "u1",
    }
    submission |= {"created_utc": 1714564800, "score": 3, "num_comments": 1}
    comment: dict[str, object] = {"id": "def", "body": "reply", "subreddit": "x", "author": "u2"}
    comment |= {"created_utc": "1714564900", "parent_id": "t3_abc", "link_id": "t3_abc"}
    lines = [submission, comment]
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines))
    posts = [p for p in read_file(path) if isinstance(p, Post)]
    assert [p.id for p in posts] == ["reddit:t3_abc", "reddit:t1_def"]
    assert posts[1].reply_to_handle == "u1" and posts[1].root_id == "reddit:t3_abc"


def test_detect() -> None:
    assert reddit.detect({"kind": "Listing", "data": {"children": []}})
    assert reddit.detect([{"kind": "Listing", "data": {}}])
    assert not reddit.detect({"kind": "t5", "data": {}})
