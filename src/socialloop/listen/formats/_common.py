"""Helpers shared by the format modules: dates, numbers, field access, HTML to text.

A format maps one *record* (a parsed JSON value, or a CSV row as a dict) to posts. A record that
cannot be mapped raises :class:`socialloop.errors.RecordError` with a precise reason; a record
that holds several items (an API page) reports each bad item as a :class:`Bad` in its result and
keeps the good ones. ``files.py`` turns both into ``Reject`` objects with the line number.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeAlias

from socialloop.errors import RecordError
from socialloop.models import Post
from socialloop.textutil import extract_hashtags, extract_links, extract_mentions

__all__ = [
    "ANY_DATE_HINT",
    "ISO_HINT",
    "TWITTER_HINT",
    "Bad",
    "Mapped",
    "Mapper",
    "RecordError",
    "as_dict",
    "as_list",
    "bad_item",
    "dig",
    "hashtags_of",
    "links_of",
    "mentions_of",
    "only_posts",
    "opt_str",
    "parse_date",
    "req_str",
    "short",
    "to_bool",
    "to_int",
    "unique",
]


@dataclass(slots=True)
class Bad:
    """One bad item inside a record that also holds good ones (e.g. one tweet of an API page).

    ``item`` is the offending sub-record, kept for the reject file.
    """

    reason: str
    item: Any = None


Mapped: TypeAlias = list[Post | Bad]
"""What a mapper returns for one record: its posts, and a ``Bad`` for each bad item in it."""

Mapper: TypeAlias = Callable[[Any], Mapped]
"""A per-file mapping function (it may keep a little state, e.g. the last thread's authors)."""

ISO_HINT = "ISO 8601 like 2024-05-01T12:00:00Z"
TWITTER_HINT = "Twitter style like 'Wed Oct 10 20:19:24 +0000 2018'"
ANY_DATE_HINT = f"{ISO_HINT}, RFC 2822, {TWITTER_HINT} or epoch seconds/milliseconds"

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
INT64 = 1 << 63
_TZ_CACHE: dict[str, timezone] = {"+0000": UTC, "-0000": UTC}


def short(value: Any, limit: int = 80) -> str:
    """``repr`` of a value, cut to ``limit`` characters for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is UTC:
        return dt
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _offset(text: str) -> timezone | None:
    tz = _TZ_CACHE.get(text)
    if tz is not None:
        return tz
    if len(text) != 5 or text[0] not in "+-" or not text[1:].isdigit():
        return None
    minutes = int(text[1:3]) * 60 + int(text[3:5])
    tz = timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
    _TZ_CACHE[text] = tz
    return tz


def _twitter_date(text: str) -> datetime | None:
    """``Wed Oct 10 20:19:24 +0000 2018`` (Twitter API v1.1, TWCS) without strptime (slow)."""
    parts = text.split()
    if len(parts) != 6:
        return None
    month = _MONTHS.get(parts[1])
    tz = _offset(parts[4])
    clock = parts[3]
    if month is None or tz is None or len(clock) != 8 or not parts[5].isdigit():
        return None
    try:
        dt = datetime(
            int(parts[5]),
            month,
            int(parts[2]),
            int(clock[0:2]),
            int(clock[3:5]),
            int(clock[6:8]),
            tzinfo=tz,
        )
    except ValueError:
        return None
    return _utc(dt)


def _epoch(number: float) -> datetime:
    magnitude = abs(number)
    if magnitude >= 1e14:  # microseconds
        number /= 1_000_000
    elif magnitude >= 1e11:  # milliseconds
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def parse_date(value: Any, field: str = "created_at", hint: str = ISO_HINT) -> datetime:
    """A timezone-aware UTC datetime from ISO 8601, RFC 2822, Twitter style or epoch s/ms/µs.

    Naive times are taken as UTC. Raises ``RecordError`` naming the field, the value and the
    expected form (``hint``).
    """
    if type(value) is str:
        text = value.strip()
        if len(text) >= 10 and text[4] == "-":
            try:
                return _utc(datetime.fromisoformat(text))
            except ValueError:
                pass
            if text.endswith((" UTC", " GMT")):
                try:
                    return _utc(datetime.fromisoformat(text[:-4]).replace(tzinfo=UTC))
                except ValueError:
                    pass
        elif text[:1].isalpha():
            dt = _twitter_date(text)
            if dt is not None:
                return dt
            try:
                return _utc(email.utils.parsedate_to_datetime(text))
            except (TypeError, ValueError, IndexError):
                pass
        elif text[:1].isdigit() or text[:1] == "-":
            try:
                return _epoch(float(text))
            except (ValueError, OverflowError, OSError):
                pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _epoch(float(value))
        except (ValueError, OverflowError, OSError):
            pass
    elif isinstance(value, datetime):
        return _utc(value)
    if value is None or value == "":
        raise RecordError(f"field '{field}' is missing (expected {hint})")
    raise RecordError(f"field '{field}' = {short(value)} is not a date (expected {hint})")


def to_int(value: Any) -> int | None:
    """A count from an int, a float, or a numeric string (``"3"``, ``"3.0"``, ``"1,234"``).

    Empty, non-numeric or out-of-range (beyond 64 bits) values give None: a bad metric never
    rejects a post.
    """
    if type(value) is int:
        return value if -INT64 < value < INT64 else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if value == value and abs(value) < 1e18 else None
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "")
        if not text:
            return None
        try:
            number = int(text)
        except ValueError:
            try:
                real = float(text)
            except ValueError:
                return None
            return int(real) if real == real and abs(real) < 1e18 else None
        return number if -INT64 < number < INT64 else None
    return None


def to_bool(value: Any) -> bool | None:
    """True/False from a bool or the usual spellings (``"TRUE"``, ``"1"``, ``"no"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "t", "yes", "y", "1"):
            return True
        if low in ("false", "f", "no", "n", "0"):
            return False
    if type(value) is int:
        return bool(value)
    return None


def req_str(record: Mapping[str, Any], key: str, label: str | None = None) -> str:
    """``record[key]`` as a non-empty string (ids given as numbers are accepted)."""
    value = record.get(key)
    if type(value) is str and value:
        return value
    if type(value) is int:
        return str(value)
    name = label or key
    if value is None or value == "":
        raise RecordError(f"field '{name}' is missing")
    raise RecordError(f"field '{name}' = {short(value)} is not a string")


def opt_str(value: Any) -> str | None:
    """A non-empty string or None (numbers become strings)."""
    if type(value) is str:
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty dict (tolerates ``null`` sub-objects)."""
    return value if type(value) is dict else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty list."""
    return value if type(value) is list else []


def dig(record: Any, path: str) -> Any:
    """``record["a"]["b"]`` for ``path`` ``"a.b"``; None when any step is missing."""
    if type(record) is dict and path in record:
        return record[path]
    current = record
    for step in path.split("."):
        if type(current) is dict:
            current = current.get(step)
        elif type(current) is list and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def unique(items: Iterable[str | None]) -> list[str]:
    """Non-empty items in order, without duplicates."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def hashtags_of(text: str) -> list[str]:
    """``textutil.extract_hashtags``, skipped when the text has no ``#``."""
    return extract_hashtags(text) if "#" in text else []


def mentions_of(text: str) -> list[str]:
    """``textutil.extract_mentions``, skipped when the text has no ``@``."""
    return extract_mentions(text) if "@" in text else []


def links_of(text: str) -> list[str]:
    """``textutil.extract_links``, skipped when the text has no ``://``."""
    return extract_links(text) if "://" in text else []


def only_posts(items: Mapped) -> list[Post]:
    """The posts of a mapped record; raises ``RecordError`` for the first bad item."""
    posts: list[Post] = []
    for item in items:
        if isinstance(item, Bad):
            raise RecordError(item.reason)
        posts.append(item)
    return posts


def bad_item(where: str, exc: Exception, item: Any) -> Bad:
    """A ``Bad`` for one item of a multi-item record, its reason prefixed with where it is."""
    return Bad(f"{where}: {exc}", item)
