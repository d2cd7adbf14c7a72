"""Public Twitter datasets distributed as CSV: ``twcs`` and ``airline``.

``twcs``: "Customer Support on Twitter" (Thought Vector, Kaggle ``twcs.csv``): ``tweet_id,
author_id, inbound, created_at, text, response_tweet_id, in_response_to_tweet_id`` (copies
re-saved by pandas add a leading unnamed index column and write ids as floats, ``3.0``: both
are handled). ``author_id`` is the brand's screen name for company tweets and an anonymised
number for customers; it is the handle either way. The parent is ``in_response_to_tweet_id``;
mentions come from the text (``@115712`` anonymised handles included). The ids are the
dataset's anonymised ones, stored under the network ``twitter``.

``airline``: "Twitter US Airline Sentiment" (CrowdFlower, Kaggle ``Tweets.csv``): ``tweet_id,
airline_sentiment, ..., name, retweet_count, text, tweet_coord, tweet_created, tweet_location,
user_timezone``; ``name`` is the author's handle, ``tweet_created`` looks like
``2015-02-24 11:35:52 -0800``. The sentiment labels stay in ``raw``.

Records are CSV rows as dicts (column -> value); ``detect`` looks at the header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from socialloop.models import Author, Post, post_id

from ._common import (
    ISO_HINT,
    TWITTER_HINT,
    Mapped,
    Mapper,
    RecordError,
    hashtags_of,
    links_of,
    mentions_of,
    parse_date,
    to_int,
)
from .twitter import status_url

TWCS = "twcs"
AIRLINE = "airline"
NETWORK = "twitter"
_TWCS_REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text")
_TWCS_OPTIONAL = ("response_tweet_id", "in_response_to_tweet_id")
_AIRLINE_REQUIRED = ("tweet_id", "airline_sentiment", "name", "text", "tweet_created")
_AIRLINE_OPTIONAL = ("retweet_count",)


def _lower(header: Sequence[str]) -> dict[str, str]:
    return {h.strip().lower(): h for h in header}


def detect_twcs(header: Sequence[str]) -> bool:
    """The header has the TWCS columns."""
    cols = _lower(header)
    return all(c in cols for c in _TWCS_REQUIRED) and "in_response_to_tweet_id" in cols


def detect_airline(header: Sequence[str]) -> bool:
    """The header has the Twitter US Airline Sentiment columns."""
    cols = _lower(header)
    return all(c in cols for c in _AIRLINE_REQUIRED)


def clean_id(value: Any) -> str | None:
    """An id as text: ``"3.0"`` (pandas float artefact) -> ``"3"``; blank -> None."""
    if type(value) is int:
        return str(value)
    if type(value) is not str:
        return None
    text = value.strip()
    if text.endswith(".0") and text[:-2].isdigit():
        return text[:-2]
    return text or None


def _text(row: Mapping[str, str], column: str) -> str:
    text = row.get(column)
    if text is None or not text.strip():
        raise RecordError(f"field '{column}' is empty")
    return text


def _keys(header: Sequence[str] | None, names: Sequence[str]) -> dict[str, str]:
    """The actual column name for each expected name (headers may differ in case)."""
    cols = _lower(header or names)
    return {name: cols.get(name, name) for name in names}


def make_twcs_mapper(network: str | None = None, header: Sequence[str] | None = None) -> Mapper:
    """The per-file TWCS mapper."""
    net = network or NETWORK
    k = _keys(header, _TWCS_REQUIRED + _TWCS_OPTIONAL)
    k_id, k_author, k_created, k_text, k_parent = (
        k["tweet_id"],
        k["author_id"],
        k["created_at"],
        k["text"],
        k["in_response_to_tweet_id"],
    )

    def map_row(row: Any) -> Mapped:
        if type(row) is not dict:
            raise RecordError(f"expected a CSV row, got {type(row).__name__}")
        native = clean_id(row.get(k_id))
        if native is None:
            raise RecordError(f"field '{k_id}' is empty")
        handle = (row.get(k_author) or "").strip()
        if not handle:
            raise RecordError(f"field '{k_author}' is empty")
        text = _text(row, k_text)
        created_at = parse_date(row.get(k_created), k_created, TWITTER_HINT)
        parent = clean_id(row.get(k_parent))
        return [
            Post(
                net,
                native,
                text,
                created_at,
                Author(net, handle),
                None,
                None,
                post_id(net, parent) if parent else None,
                mentions=mentions_of(text),
                hashtags=hashtags_of(text),
                links=links_of(text),
                raw=row,
            )
        ]

    return map_row


def make_airline_mapper(network: str | None = None, header: Sequence[str] | None = None) -> Mapper:
    """The per-file Twitter US Airline Sentiment mapper."""
    net = network or NETWORK
    k = _keys(header, _AIRLINE_REQUIRED + _AIRLINE_OPTIONAL)
    k_id, k_name, k_text, k_created, k_rt = (
        k["tweet_id"],
        k["name"],
        k["text"],
        k["tweet_created"],
        k["retweet_count"],
    )

    def map_row(row: Any) -> Mapped:
        if type(row) is not dict:
            raise RecordError(f"expected a CSV row, got {type(row).__name__}")
        native = clean_id(row.get(k_id))
        if native is None:
            raise RecordError(f"field '{k_id}' is empty")
        handle = (row.get(k_name) or "").strip() or None
        text = _text(row, k_text)
        created_at = parse_date(
            row.get(k_created), k_created, f"{ISO_HINT} or '2015-02-24 11:35:52 -0800'"
        )
        return [
            Post(
                net,
                native,
                text,
                created_at,
                Author(net, handle) if handle else None,
                status_url(handle, native),
                mentions=mentions_of(text),
                hashtags=hashtags_of(text),
                links=links_of(text),
                reshares=to_int(row.get(k_rt)),
                raw=row,
            )
        ]

    return map_row


def map_twcs(record: Mapping[str, str]) -> list[Post]:
    """The post of one TWCS row (raises ``RecordError`` when it is invalid)."""
    return [p for p in make_twcs_mapper()(dict(record)) if isinstance(p, Post)]


def map_airline(record: Mapping[str, str]) -> list[Post]:
    """The post of one airline-sentiment row (raises ``RecordError`` when it is invalid)."""
    return [p for p in make_airline_mapper()(dict(record)) if isinstance(p, Post)]
