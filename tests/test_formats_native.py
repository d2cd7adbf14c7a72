"""The socialloop native format: Post.to_dict() lines back into equal posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from socialloop.errors import RecordError
from socialloop.listen.files import Reject, read_file
from socialloop.listen.formats import native
from socialloop.models import Author, Post

FIX = Path(__file__).parent / "fixtures" / "formats"


def full_post() -> Post:
    return Post(
        "twitter",
        "9001",
        "Is @acme down again? #outage https://status.acme.example",
        datetime(2024, 5, 1, 12, tzinfo=UTC),
        Author("twitter", "kim_w", "Kim W", 1200, 80, "tea person", False, "https://x.example/k"),
        "https://twitter.com/kim_w/status/9001",
        "en",
        "twitter:9000",
        "twitter:8000",
        None,
        "twitter:7000",
        "acme",
        ["acme"],
        ["outage"],
        ["https://status.acme.example"],
        3,
        1,
        2,
        150,
    )


def test_round_trip_of_to_dict() -> None:
    post = full_post()
    back = native.post_from_dict(orjson.loads(orjson.dumps(post.to_dict())))
    assert back.to_dict() == post.to_dict()
    assert back.created_at.tzinfo is UTC
    assert back.author is not None and back.author.followers == 1200
    assert back.raw is None  # the record is the post itself
    with_raw = native.post_from_dict(post.to_dict() | {"raw": {"id_str": "9001"}})
    assert with_raw.raw == {"id_str": "9001"}


def test_offsets_become_utc_and_missing_keys_default() -> None:
    d = {
        "network": "mastodon",
        "native_id": "social.example/1",
        "text": "hi",
        "created_at": "2024-05-01T14:00:00+02:00",
    }
    post = native.post_from_dict(d)
    assert post.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert post.created_at.utcoffset() == timedelta(0)
    assert (post.author, post.mentions, post.likes) == (None, [], None)
    naive = native.post_from_dict({**d, "created_at": "2024-05-01T14:00:00"})
    assert naive.created_at == datetime(2024, 5, 1, 14, tzinfo=UTC)
    epoch = native.post_from_dict({**d, "created_at": 1714564800})
    assert epoch.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    tz = timezone(timedelta(hours=-5))
    assert native.post_from_dict({**d, "created_at": "2024-05-01T07:00:00-05:00"}).created_at == (
        datetime(2024, 5, 1, 7, tzinfo=tz)
    )


def test_counts_given_as_text_are_coerced() -> None:
    d = full_post().to_dict() | {"likes": "12", "views": 3.0}
    d["author"]["followers"] = "1,200"
    post = native.post_from_dict(d)
    assert (post.likes, post.views) == (12, 3)
    assert post.author is not None and post.author.followers == 1200


def test_counts_beyond_64_bits_are_dropped() -> None:
    d = full_post().to_dict() | {"likes": 2**70, "reshares": -(2**70)}
    d["author"]["following"] = 10**30
    post = native.post_from_dict(d)
    assert (post.likes, post.reshares, post.replies) == (None, None, 2)
    assert post.author is not None and post.author.following is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"text": None}, "field 'text' is missing"),
        ({"text": 12}, "field 'text' = 12 is not a string"),
        ({"network": ""}, "field 'network' = '' is not a string"),
        ({"created_at": "yesterday"}, "field 'created_at' = 'yesterday' is not a date"),
        ({"created_at": None}, "field 'created_at' is missing"),
        ({"author": "kim"}, "field 'author' = 'kim' is not an object"),
        ({"author": {"name": "x"}}, "field 'author.handle' is missing"),
        ({"mentions": "acme"}, "field 'mentions' = 'acme' is not a list"),
        ({"parent_id": 12}, "field 'parent_id' = 12 is not a string"),
    ],
)
def test_bad_records_say_which_field(change: dict[str, object], reason: str) -> None:
    d = full_post().to_dict() | change
    with pytest.raises(RecordError) as err:
        native.post_from_dict(d)
    assert str(err.value).startswith(reason)


def test_detect_and_map_record() -> None:
    d = full_post().to_dict()
    assert native.detect(d)
    assert not native.detect({"text": "x"})
    assert not native.detect([d])
    assert [p.id for p in native.map_record(d)] == ["twitter:9001"]
    with pytest.raises(RecordError, match="expected a JSON object"):
        native.map_record([d])


def test_native_file_keeps_each_records_network() -> None:
    items = list(read_file(FIX / "native.jsonl", network="forum"))
    posts = [i for i in items if isinstance(i, Post)]
    assert [p.id for p in posts] == [
        "twitter:9001",
        "twitter:9002",
        "mastodon:social.example/77",
    ]
    reply = posts[1]
    assert (reply.parent_id, reply.root_id, reply.reply_to_handle) == (
        "twitter:9001",
        "twitter:9001",
        "kim_w",
    )
    assert reply.created_at == datetime(2024, 5, 1, 10, 5, tzinfo=UTC)
    assert posts[2].reshare_of == "twitter:9001"
    assert [i.line for i in items if isinstance(i, Reject)] == [3, 5, 7]
