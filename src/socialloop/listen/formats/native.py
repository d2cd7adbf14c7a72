"""The ``socialloop`` native format: one ``Post.to_dict()`` object per JSONL line.

``simulate --out`` and ``export`` write it. This is the fast path of import, so the mapping is
written inline: one ``orjson.loads`` per line (in ``files.py``), type checks on the required
fields, ``datetime.fromisoformat`` for the date and the dataclass constructors, nothing else.
The network of each record is kept: the ``network`` override of ``read_file`` does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from socialloop.models import Author, Post

from ._common import INT64, Mapped, Mapper, RecordError, parse_date, short, to_int

NAME = "socialloop"
_OPTIONAL_STR = ("url", "lang", "parent_id", "root_id", "reshare_of", "quote_of", "reply_to_handle")
_POST_KEYS = (
    "network",
    "native_id",
    "text",
    "created_at",
    "author",
    "url",
    "lang",
    "parent_id",
    "root_id",
    "reshare_of",
    "quote_of",
    "reply_to_handle",
    "mentions",
    "hashtags",
    "links",
    "likes",
    "reshares",
    "replies",
    "views",
)
_POST_FIELDS = itemgetter(*_POST_KEYS)
_AUTHOR_KEYS = ("network", "handle", "name", "followers", "following", "bio", "verified", "url")
_AUTHOR_FIELDS = itemgetter(*_AUTHOR_KEYS)
_STR_OR_NONE = frozenset({str, type(None)})
_INT_OR_NONE = frozenset({int, type(None)})


def detect(record: Any) -> bool:
    """A dict with ``network``, ``native_id``, ``text`` and ``created_at``."""
    return (
        type(record) is dict
        and "native_id" in record
        and "network" in record
        and "text" in record
        and "created_at" in record
    )


def _fail(field: str, value: Any, expected: str) -> RecordError:
    if value is None:
        return RecordError(f"field '{field}' is missing")
    return RecordError(f"field '{field}' = {short(value)} is not {expected}")


def author_from_dict(d: Any, network: str) -> Author:
    """An ``Author`` from its ``to_dict()`` form (``network`` defaults to the post's)."""
    if type(d) is not dict:
        raise _fail("author", d, "an object")
    try:
        network_, handle, name, followers, following, bio, verified, url = _AUTHOR_FIELDS(d)
    except KeyError:
        network_, handle, name, followers, following, bio, verified, url = map(d.get, _AUTHOR_KEYS)
    if type(handle) is not str or not handle:
        raise _fail("author.handle", handle, "a string")
    if not (
        type(followers) in _INT_OR_NONE
        and type(following) in _INT_OR_NONE
        and 0 <= (followers or 0) | (following or 0) < INT64
    ):
        followers, following = to_int(followers), to_int(following)
    return Author(network_ or network, handle, name, followers, following, bio, verified, url)


def post_from_dict(d: Mapping[str, Any]) -> Post:
    """A ``Post`` from its ``to_dict()`` form; raises ``RecordError`` on a missing or
    wrongly typed field. ``raw`` is the record's own ``raw`` object when it has one (the
    platform payload an export kept), else None: the record is the post itself."""
    try:
        fields = _POST_FIELDS(d)  # every key present: one C-level lookup
    except KeyError:
        fields = tuple(map(d.get, _POST_KEYS))  # optional keys missing
    (
        network,
        native,
        text,
        created,
        author,
        url,
        lang,
        parent_id,
        root_id,
        reshare_of,
        quote_of,
        reply_to,
        mentions,
        hashtags,
        links,
        likes,
        reshares,
        replies,
        views,
    ) = fields
    if type(network) is not str or not network:
        raise _fail("network", network, "a string")
    if type(native) is not str or not native:
        if type(native) is int:
            native = str(native)
        else:
            raise _fail("native_id", native, "a string")
    if type(text) is not str:
        raise _fail("text", text, "a string")
    if type(created) is str:
        try:
            created_at = datetime.fromisoformat(created)
        except ValueError:
            created_at = parse_date(created)
        else:
            if created_at.tzinfo is not UTC:
                created_at = parse_date(created_at)
    else:
        created_at = parse_date(created)
    if author is not None:
        author = author_from_dict(author, network)
    if not (
        type(url) in _STR_OR_NONE
        and type(lang) in _STR_OR_NONE
        and type(parent_id) in _STR_OR_NONE
        and type(root_id) in _STR_OR_NONE
        and type(reshare_of) in _STR_OR_NONE
        and type(quote_of) in _STR_OR_NONE
        and type(reply_to) in _STR_OR_NONE
    ):
        for key in _OPTIONAL_STR:
            value = d.get(key)
            if value is not None and type(value) is not str:
                raise _fail(key, value, "a string")
    if type(mentions) is not list:
        mentions = _as_list("mentions", mentions)
    if type(hashtags) is not list:
        hashtags = _as_list("hashtags", hashtags)
    if type(links) is not list:
        links = _as_list("links", links)
    if not (
        type(likes) in _INT_OR_NONE
        and type(reshares) in _INT_OR_NONE
        and type(replies) in _INT_OR_NONE
        and type(views) in _INT_OR_NONE
        # all four non-negative and below 2**63 (else to_int sorts them out)
        and 0 <= (likes or 0) | (reshares or 0) | (replies or 0) | (views or 0) < INT64
    ):
        likes, reshares, replies, views = (
            to_int(likes),
            to_int(reshares),
            to_int(replies),
            to_int(views),
        )
    raw = d.get("raw") if "raw" in d else None
    return Post(
        network,
        native,
        text,
        created_at,
        author,
        url,
        lang,
        parent_id,
        root_id,
        reshare_of,
        quote_of,
        reply_to,
        mentions,
        hashtags,
        links,
        likes,
        reshares,
        replies,
        views,
        None,
        raw if type(raw) is dict else None,
    )


def _as_list(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    raise _fail(field, value, "a list")


def map_record(record: Any) -> list[Post]:
    """The post of one native record (raises ``RecordError`` when it is invalid)."""
    if type(record) is not dict:
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    return [post_from_dict(record)]


def _map(record: Any) -> Mapped:
    if type(record) is not dict:
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    return [post_from_dict(record)]


def make_mapper(network: str | None = None) -> Mapper:
    """The per-file mapper (``network`` is ignored: native records name their network)."""
    return _map
