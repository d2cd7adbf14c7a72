"""Field filters (``author:``, ``lang:``, ``site:`` ...): a declared, extensible registry.

A :class:`FieldDef` says how to normalise a value (raising ``ValueError`` with a message for a
bad one), how to test a :class:`~socialloop.query.view.PostView` in memory and how to say the
same in SQL. Both must agree: the property tests check the built-in fields on random posts.
:data:`BUILTIN_FIELDS` is immutable; ``BUILTIN_FIELDS.extend(FieldDef(...))`` returns a new
registry to pass to ``parse(text, fields=...)`` (how enrichment filters will be added).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, select

from socialloop.query.view import PostView
from socialloop.textutil import hashtag_key, host_of, lang_key, mention_key

if TYPE_CHECKING:
    from socialloop.query.sql import SqlContext

Predicate = Callable[[PostView], bool]
SqlBuilder = Callable[[str, "SqlContext"], ColumnElement[bool]]

_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_LANG_RE = re.compile(r"[a-z]{2,3}")  # ISO 639 codes (en, fil); und: undetermined
_LANG_SPLIT_RE = re.compile(r"[-_]")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field filter.

    ``normalize(raw)`` returns the canonical value (stored in the AST and printed by
    ``str(query)``; normalising it again must give the same) or raises ``ValueError``.
    ``matcher(value)`` returns the in-memory predicate, ``sql(value, ctx)`` the SQL condition;
    the condition must never be NULL (guard nullable columns), or ``NOT`` would go wrong.
    """

    name: str
    summary: str
    example: str
    normalize: Callable[[str], str]
    matcher: Callable[[str], Predicate]
    sql: SqlBuilder

    def __post_init__(self) -> None:
        if not _NAME_RE.fullmatch(self.name):
            raise ValueError(f"field name must match [a-z][a-z0-9_]*: {self.name!r}")


class FieldRegistry(Mapping[str, FieldDef]):
    """An immutable name -> :class:`FieldDef` mapping."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[FieldDef] = ()) -> None:
        table: dict[str, FieldDef] = {}
        for field in fields:
            if field.name in table:
                raise ValueError(f"field {field.name!r} defined twice")
            table[field.name] = field
        self._fields: Mapping[str, FieldDef] = MappingProxyType(table)

    def __getitem__(self, name: str) -> FieldDef:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"FieldRegistry({', '.join(self._fields)})"

    def extend(self, *fields: FieldDef, replace: bool = False) -> FieldRegistry:
        """A new registry with ``fields`` added (``replace=True`` lets them override)."""
        if not replace:
            for field in fields:
                if field.name in self._fields:
                    raise ValueError(f"field {field.name!r} already defined")
        merged = {**self._fields, **{f.name: f for f in fields}}
        return FieldRegistry(merged.values())


def _not_null(column: ColumnElement[object], cond: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(column.is_not(None), cond)


def _has_term(kind: str, value: str, ctx: SqlContext) -> ColumnElement[bool]:
    terms = ctx.post_terms
    sub = select(terms.c.post_pk).where(terms.c.kind == kind, terms.c.value == value)
    return ctx.posts.c.pk.in_(sub)


def _nonempty(what: str, example: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value:
            raise ValueError(f"expected {what}, e.g. {example}")
        return value

    return check


# author: -------------------------------------------------------------------------------------


def _author_normalize(raw: str) -> str:
    return _nonempty("a handle", "author:nike")(mention_key(raw))


def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _author_matcher(value: str) -> Predicate:
    if "*" not in value and "?" not in value:
        return lambda v: v.author_handle == value
    rx = _glob_regex(value)
    return lambda v: (h := v.author_handle) is not None and rx.fullmatch(h) is not None


def _author_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    col = ctx.posts.c.author_handle
    if "*" not in value and "?" not in value:
        return _not_null(col, col == value)
    return _not_null(col, ctx.backend.glob(col, value))


# lang: ---------------------------------------------------------------------------------------


def _lang_normalize(raw: str) -> str:
    value = raw.translate(_ASCII_LOWER)
    if not _LANG_RE.fullmatch(value):
        raise ValueError(
            f"expected a language code such as en or pt, not {raw!r} "
            "(lang: compares the primary subtag: lang:en matches en and en-GB)"
        )
    return value


def _lang_matcher(value: str) -> Predicate:
    return lambda v: lang_key(v.lang) == value


def _lang_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    # the declared language is a post_terms facet (kind "lang", textutil.lang_key). A language
    # is a large set (half the posts may be English), so it is probed per candidate post
    # through the (kind, value, post_pk) key rather than materialised as a match set.
    terms = ctx.post_terms
    return exists().where(
        terms.c.kind == "lang", terms.c.value == value, terms.c.post_pk == ctx.posts.c.pk
    )


# network: ------------------------------------------------------------------------------------


def _network_matcher(value: str) -> Predicate:
    return lambda v: v.network == value


def _network_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    return ctx.posts.c.network == value


# site: url: #hashtag @mention ----------------------------------------------------------------


def _site_normalize(raw: str) -> str:
    host = host_of(raw.strip())
    if not host:
        raise ValueError(f"expected a domain such as example.com, not {raw!r}")
    return host


def _url_matcher(value: str) -> Predicate:
    return lambda v: any(value in link for link in v.links)


def _url_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    terms = ctx.post_terms
    # correlated to the enclosing query's posts (or what stands for its pks, see store.plan)
    return exists().where(
        terms.c.post_pk == ctx.posts.c.pk,
        terms.c.kind == "link",
        terms.c.value.contains(value, autoescape=True),
    )


def _hashtag_matcher(value: str) -> Predicate:
    return lambda v: value in v.hashtags


def _mention_matcher(value: str) -> Predicate:
    return lambda v: value in v.mentions


def _site_matcher(value: str) -> Predicate:
    return lambda v: value in v.domains


def _hashtag_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    return _has_term("hashtag", value, ctx)


def _mention_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    return _has_term("mention", value, ctx)


def _site_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    return _has_term("domain", value, ctx)


# since: until: -------------------------------------------------------------------------------


def _time_normalize(raw: str) -> str:
    """``YYYY-MM-DD`` stays a date; an ISO datetime becomes UTC ``YYYY-MM-DDTHH:MM:SS[.f]Z``
    (no offset means UTC)."""
    try:
        if _DATE_RE.fullmatch(raw):
            value = date.fromisoformat(raw).isoformat()
        else:
            ts = datetime.fromisoformat(raw)
            if ts.tzinfo is not None:
                ts = ts.astimezone(UTC).replace(tzinfo=None)
            value = ts.isoformat() + "Z"
        time_bound(value, end=True)  # the day after must exist too
    except (ValueError, OverflowError):
        raise ValueError(
            f"invalid date {raw!r}; expected YYYY-MM-DD or an ISO datetime "
            "such as 2024-05-01T12:00:00Z"
        ) from None
    return value


def time_bound(value: str, *, end: bool) -> datetime:
    """The UTC instant a normalised ``since:``/``until:`` value stands for. For ``until:`` a
    date means the start of the next day (the whole day is included)."""
    if _DATE_RE.fullmatch(value):
        day = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        return day + timedelta(days=1) if end else day
    return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=UTC)


def _since_matcher(value: str) -> Predicate:
    bound = time_bound(value, end=False)
    return lambda v: (ts := v.created_at) is not None and ts >= bound


def _until_matcher(value: str) -> Predicate:
    bound = time_bound(value, end=True)
    return lambda v: (ts := v.created_at) is not None and ts < bound


def _since_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    bound = time_bound(value, end=False).replace(tzinfo=None)
    return ctx.posts.c.created_at >= bound


def _until_sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
    bound = time_bound(value, end=True).replace(tzinfo=None)
    return ctx.posts.c.created_at < bound


BUILTIN_FIELDS = FieldRegistry(
    [
        FieldDef(
            "author",
            "the author's handle, exact and case-insensitive; * and ? wildcards",
            "author:nike",
            _author_normalize,
            _author_matcher,
            _author_sql,
        ),
        FieldDef(
            "lang",
            "the post language's primary subtag (lang:en matches en and en-GB)",
            "lang:en",
            _lang_normalize,
            _lang_matcher,
            _lang_sql,
        ),
        FieldDef(
            "network",
            "the network id, exact (lower-case)",
            "network:twitter",
            lambda raw: _nonempty("a network", "network:twitter")(raw.lower()),
            _network_matcher,
            _network_sql,
        ),
        FieldDef(
            "site",
            "the post url or a link is on this domain or a subdomain of it",
            "site:example.com",
            _site_normalize,
            _site_matcher,
            _site_sql,
        ),
        FieldDef(
            "url",
            "the post url or a link contains this text (case-insensitive)",
            "url:example.com/shop",
            lambda raw: _nonempty("some url text", "url:example.com/shop")(raw.lower()),
            _url_matcher,
            _url_sql,
        ),
        FieldDef(
            "hashtag",
            "the post has this hashtag (also written #tag)",
            "#nike",
            lambda raw: _nonempty("a hashtag", "#nike")(hashtag_key(raw)),
            _hashtag_matcher,
            _hashtag_sql,
        ),
        FieldDef(
            "mention",
            "the post mentions this handle (also written @handle)",
            "@nike",
            lambda raw: _nonempty("a handle", "@nike")(mention_key(raw)),
            _mention_matcher,
            _mention_sql,
        ),
        FieldDef(
            "since",
            "created at or after this day (00:00 UTC) or instant",
            "since:2024-05-01",
            _time_normalize,
            _since_matcher,
            _since_sql,
        ),
        FieldDef(
            "until",
            "created on or before this day (UTC), or before this instant",
            "until:2024-05-31",
            _time_normalize,
            _until_matcher,
            _until_sql,
        ),
    ]
)
"""The fields every query knows."""
