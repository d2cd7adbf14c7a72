"""The generic ``csv`` and ``jsonl`` formats: any table or JSON lines, with a column map.

A column map names, for each post field, the column (CSV) or key (JSON; dotted paths like
``user.screen_name`` reach into objects) that holds it: ``{"text": "body", "created_at":
"date"}``; on the command line ``--map text=body,created_at=date``. Fields not in the map are
guessed from the usual column names (see ``GUESSES``, matched case-insensitively, spaces and
punctuation read as ``_``). ``text`` and ``created_at`` are required; the rest is optional.

* ``id``: rows without one get ``models.content_id(network, author, text, created_at)``.
* ``network``: a column, else the ``network`` argument of ``read_file``, else ``unknown``.
* ``parent_id``, ``root_id``, ``reshare_of``, ``quote_of``: native ids (or store ids already
  prefixed with the row's network).
* ``hashtags``, ``mentions``, ``links``: a JSON list or a string split on spaces, commas or
  ``;``; when absent they are extracted from the text.
* dates: ISO 8601, RFC 2822, Twitter style or epoch seconds/milliseconds; naive times are UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from socialloop.errors import ImportFormatError
from socialloop.models import Author, Post, content_id, post_id

from ._common import (
    ANY_DATE_HINT,
    Mapped,
    Mapper,
    RecordError,
    dig,
    hashtags_of,
    links_of,
    mentions_of,
    opt_str,
    parse_date,
    to_int,
)
from .datasets import clean_id

CSV = "csv"
JSONL = "jsonl"
DEFAULT_NETWORK = "unknown"

GUESSES: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "full_text",
        "body",
        "content",
        "message",
        "post",
        "tweet",
        "comment",
        "caption",
        "selftext",
        "post_text",
        "tweet_text",
        "message_text",
    ),
    "created_at": (
        "created_at",
        "date",
        "timestamp",
        "time",
        "datetime",
        "created",
        "created_utc",
        "published_at",
        "published",
        "posted_at",
        "tweet_created",
        "date_created",
        "createdat",
        "pubdate",
        "date_time",
    ),
    "id": (
        "id",
        "native_id",
        "post_id",
        "tweet_id",
        "id_str",
        "status_id",
        "message_id",
        "comment_id",
    ),
    "author": (
        "author",
        "handle",
        "username",
        "screen_name",
        "user",
        "user_name",
        "author_handle",
        "author_username",
        "user_screen_name",
        "author_id",
        "name",
    ),
    "author_name": ("author_name", "display_name", "user_display_name", "author_display_name"),
    "followers": ("followers", "followers_count", "author_followers", "user_followers_count"),
    "following": ("following", "following_count", "friends_count", "user_friends_count"),
    "network": ("network", "platform"),
    "url": ("url", "link", "permalink", "post_url", "tweet_url"),
    "lang": ("lang", "language"),
    "parent_id": (
        "parent_id",
        "in_reply_to",
        "in_reply_to_id",
        "in_reply_to_status_id",
        "reply_to_id",
        "in_response_to_tweet_id",
    ),
    "root_id": ("root_id", "conversation_id", "thread_id"),
    "reshare_of": ("reshare_of", "retweet_of", "retweeted_status_id", "repost_of"),
    "quote_of": ("quote_of", "quoted_status_id"),
    "reply_to": ("reply_to", "reply_to_handle", "in_reply_to_screen_name"),
    "likes": ("likes", "like_count", "favorite_count", "favourites_count", "score"),
    "reshares": (
        "reshares",
        "retweets",
        "retweet_count",
        "shares",
        "share_count",
        "reblogs_count",
        "repost_count",
    ),
    "replies": ("replies", "reply_count", "num_comments", "comment_count"),
    "views": ("views", "view_count", "impressions", "impression_count"),
    "hashtags": ("hashtags",),
    "mentions": ("mentions",),
    "links": ("links", "urls"),
}
"""Each field and the column names guessed for it, in order of preference."""

FIELDS = tuple(GUESSES)
_NORM_RE = re.compile(r"[^a-z0-9]+")
_SPLIT_RE = re.compile(r"[\s,;|]+")
_HANDLE_KEYS = ("handle", "username", "screen_name", "acct", "name")


def normalise(column: str) -> str:
    """A column name as guesses see it: lower case, runs of other characters as ``_``."""
    return _NORM_RE.sub("_", column.strip().lower()).strip("_")


def resolve_columns(
    header: Sequence[str],
    column_map: Mapping[str, str] | None,
    *,
    what: str = "column",
    check_explicit: bool = True,
) -> dict[str, str]:
    """Field -> column for a header: the column map first, then guesses. Raises
    ``ImportFormatError`` for unknown fields, mapped columns that do not exist, and when no
    ``text`` or ``created_at`` column can be found."""
    column_map = dict(column_map or {})
    unknown = [f for f in column_map if f not in GUESSES]
    if unknown:
        raise ImportFormatError(
            f"unknown field {', '.join(repr(f) for f in unknown)} in the column map; "
            f"the fields are: {', '.join(FIELDS)}"
        )
    exact = {h: h for h in header}
    folded: dict[str, str] = {}
    for h in header:
        folded.setdefault(h.strip().lower(), h)
        folded.setdefault(normalise(h), h)
    columns: dict[str, str] = {}
    for field, column in column_map.items():
        found = exact.get(column) or folded.get(column.strip().lower())
        if found is None and (not check_explicit or "." in column):
            found = column  # a dotted JSON path, checked per record
        if found is None:
            raise ImportFormatError(
                f"{what} {column!r} (mapped to {field}) is not in the file; "
                f"the {what}s are: {_listing(header)}"
            )
        columns[field] = found
    used = set(columns.values())
    for field, guesses in GUESSES.items():
        if field in columns:
            continue
        for guess in guesses:
            found = folded.get(guess)
            if found is not None and found not in used:
                columns[field] = found
                used.add(found)
                break
    for field in ("text", "created_at"):
        if field not in columns:
            raise ImportFormatError(
                f"no {field} {what} found: the {what}s are {_listing(header)} "
                f"(looked for {', '.join(GUESSES[field][:8])}...); "
                f"name it with --map {field}=COLUMN"
                + ("" if field == "created_at" else " (and created_at=COLUMN, id=, author=...)")
            )
    return columns


def can_guess(header: Sequence[str]) -> bool:
    """True when a text and a date column can be guessed from this header."""
    try:
        resolve_columns(header, None)
    except ImportFormatError:
        return False
    return True


def detect_json(record: Any) -> bool:
    """A JSON object whose keys include a guessable text and date."""
    return type(record) is dict and can_guess(list(record))


def _listing(header: Sequence[str], limit: int = 30) -> str:
    names = [repr(h) for h in header[:limit]]
    more = f" and {len(header) - limit} more" if len(header) > limit else ""
    return ", ".join(names) + more if names else "(none)"


def _items(value: Any, strip: str) -> list[str]:
    if type(value) is list:
        parts = [str(v) for v in value if v is not None]
    elif type(value) is str:
        parts = _SPLIT_RE.split(value)
    else:
        return []
    return [p.strip().lstrip(strip).lower() if strip else p.strip() for p in parts if p.strip()]


def _handle(value: Any) -> str | None:
    if type(value) is dict:
        for key in _HANDLE_KEYS:
            found = opt_str(value.get(key))
            if found:
                return found.lstrip("@")
        return None
    found = opt_str(value)
    return found.strip().lstrip("@") or None if found else None


def make_mapper(
    network: str | None = None,
    column_map: Mapping[str, str] | None = None,
    header: Sequence[str] | None = None,
    *,
    json: bool = False,
) -> Mapper:
    """The per-file generic mapper. ``header`` is the CSV header, or the keys of the first JSON
    record (``json=True``: dotted paths are then allowed in the column map)."""
    columns = resolve_columns(
        header or [], column_map, what="key" if json else "column", check_explicit=not json
    )
    default_network = network or DEFAULT_NETWORK

    def getter(column: str | None) -> Callable[[dict[str, Any]], Any]:
        if column is None:
            return lambda row: None
        if json and "." in column:
            return lambda row: dig(row, column)
        return lambda row: row.get(column)

    c_text, c_date = columns["text"], columns["created_at"]
    g = {field: getter(columns.get(field)) for field in FIELDS}

    def ref(row: dict[str, Any], field: str, net: str) -> str | None:
        value = clean_id(g[field](row)) if field in columns else None
        if not value:
            return None
        return value if value.startswith(f"{net}:") else post_id(net, value)

    def map_row(row: Any) -> Mapped:
        if type(row) is not dict:
            raise RecordError(f"expected a JSON object, got {type(row).__name__}")
        text = g["text"](row)
        if type(text) is not str:
            if text is None:
                raise RecordError(f"field '{c_text}' is missing")
            raise RecordError(f"field '{c_text}' = {text!r:.80} is not a string")
        if not text.strip():
            raise RecordError(f"field '{c_text}' is empty")
        created_at = parse_date(g["created_at"](row), c_date, ANY_DATE_HINT)
        net = (opt_str(g["network"](row)) or default_network).strip().lower()
        handle = _handle(g["author"](row))
        native = clean_id(g["id"](row))
        if native is None:
            native = content_id(net, handle or "", text, created_at.isoformat())
        author = None
        if handle:
            author = Author(
                net,
                handle,
                opt_str(g["author_name"](row)),
                to_int(g["followers"](row)),
                to_int(g["following"](row)),
            )
        hashtags = _items(g["hashtags"](row), "#") if "hashtags" in columns else None
        mentions = _items(g["mentions"](row), "@") if "mentions" in columns else None
        links = _items(g["links"](row), "") if "links" in columns else None
        reply_to = _handle(g["reply_to"](row))
        lang = opt_str(g["lang"](row))
        return [
            Post(
                net,
                native,
                text,
                created_at,
                author,
                opt_str(g["url"](row)),
                lang.strip() or None if lang else None,
                ref(row, "parent_id", net),
                ref(row, "root_id", net),
                ref(row, "reshare_of", net),
                ref(row, "quote_of", net),
                reply_to.lower() if reply_to else None,
                mentions if mentions is not None else mentions_of(text),
                hashtags if hashtags is not None else hashtags_of(text),
                links if links is not None else links_of(text),
                to_int(g["likes"](row)),
                to_int(g["reshares"](row)),
                to_int(g["replies"](row)),
                to_int(g["views"](row)),
                raw=row,
            )
        ]

    return map_row
