"""The import formats and their registry.

Each format module maps one *record* to posts: ``detect(record) -> bool`` tells whether a record
looks like the format, ``map_record(record) -> list[Post]`` maps one (raising
``socialloop.errors.RecordError`` when it is bad), and ``make_mapper(...)`` returns the per-file
function ``files.py`` uses, which reports each bad item of a multi-item record (an API page) as
a ``Bad`` and keeps the good ones. JSON formats see parsed JSON values; CSV formats see rows as
``{column: value}`` dicts and detect on the header.

``FORMATS`` lists the names; ``REGISTRY`` maps each to its :class:`Format`. Auto-detection tries
the JSON formats in ``JSON_ORDER`` (the generic ``jsonl`` last) and the CSV formats in
``CSV_ORDER`` (the generic ``csv`` last).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from socialloop.errors import ImportFormatError

from . import bluesky, datasets, generic, mastodon, native, reddit, twitter
from ._common import Bad, Mapped, Mapper

__all__ = [
    "CSV_ORDER",
    "FORMATS",
    "JSON_ORDER",
    "REGISTRY",
    "Bad",
    "Format",
    "Mapped",
    "Mapper",
    "detect_csv",
    "detect_json",
    "get_format",
]

Container = Literal["json", "csv"]
MapperFactory = Callable[[str | None, Mapping[str, str] | None, Sequence[str] | None], Mapper]


@dataclass(frozen=True, slots=True)
class Format:
    """One import format.

    ``container``: what the file holds (JSON values, or CSV/TSV rows). ``network``: the network
    of its posts (None: taken from the records or the ``network`` argument). ``detect`` sees a
    JSON record, or a CSV header. ``make_mapper(network, column_map, header)`` builds the
    per-file mapper; ``header`` is the CSV header or the first JSON record's keys.
    ``accepts_lists``: a JSON array record is given whole (Reddit's comments page) rather than
    element by element. ``uses_map``: the format takes a column map.
    """

    name: str
    container: Container
    network: str | None
    description: str
    detect: Callable[[Any], bool]
    make_mapper: MapperFactory
    accepts_lists: bool = False
    uses_map: bool = False


REGISTRY: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            native.NAME,
            "json",
            None,
            "socialloop native JSONL (Post.to_dict(), written by simulate and export)",
            native.detect,
            lambda net, cmap, header: native.make_mapper(net),
        ),
        Format(
            twitter.NAME_V2,
            "json",
            twitter.NETWORK,
            "X/Twitter API v2 responses ({data, includes, meta}) and v2 tweet objects",
            twitter.detect_v2,
            lambda net, cmap, header: twitter.make_mapper_v2(net),
        ),
        Format(
            twitter.NAME_V1,
            "json",
            twitter.NETWORK,
            "Twitter API v1.1 statuses and {statuses: [...]} search pages",
            twitter.detect_v1,
            lambda net, cmap, header: twitter.make_mapper_v1(net),
        ),
        Format(
            mastodon.NAME,
            "json",
            mastodon.NETWORK,
            "Mastodon API Status entities, contexts and search results",
            mastodon.detect,
            lambda net, cmap, header: mastodon.make_mapper(net),
        ),
        Format(
            bluesky.NAME,
            "json",
            bluesky.NETWORK,
            "Bluesky postViews, searchPosts, feeds and getPostThread output",
            bluesky.detect,
            lambda net, cmap, header: bluesky.make_mapper(net),
        ),
        Format(
            reddit.NAME,
            "json",
            reddit.NETWORK,
            "Reddit API listings (t3 submissions, t1 comment trees) and flat thing dumps",
            reddit.detect,
            lambda net, cmap, header: reddit.make_mapper(net),
            accepts_lists=True,
        ),
        Format(
            datasets.TWCS,
            "csv",
            datasets.NETWORK,
            "Customer Support on Twitter (Kaggle twcs.csv)",
            datasets.detect_twcs,
            lambda net, cmap, header: datasets.make_twcs_mapper(net, header),
        ),
        Format(
            datasets.AIRLINE,
            "csv",
            datasets.NETWORK,
            "Twitter US Airline Sentiment (Kaggle Tweets.csv)",
            datasets.detect_airline,
            lambda net, cmap, header: datasets.make_airline_mapper(net, header),
        ),
        Format(
            generic.JSONL,
            "json",
            None,
            "any JSON objects, with a column map (text=KEY,created_at=KEY,...)",
            generic.detect_json,
            lambda net, cmap, header: generic.make_mapper(net, cmap, header, json=True),
            uses_map=True,
        ),
        Format(
            generic.CSV,
            "csv",
            None,
            "any CSV/TSV table, with a column map (text=COLUMN,created_at=COLUMN,...)",
            generic.can_guess,
            lambda net, cmap, header: generic.make_mapper(net, cmap, header),
            uses_map=True,
        ),
    )
}

FORMATS: tuple[str, ...] = tuple(REGISTRY)
"""The format names, for ``--format``."""

JSON_ORDER: tuple[str, ...] = tuple(n for n, f in REGISTRY.items() if f.container == "json")
CSV_ORDER: tuple[str, ...] = tuple(n for n, f in REGISTRY.items() if f.container == "csv")


def get_format(name: str) -> Format:
    """The format called ``name``; raises ``ImportFormatError`` listing the formats."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ImportFormatError(
            f"unknown format {name!r}; the formats are: {', '.join(FORMATS)}"
        ) from None


def detect_json(record: Any) -> str | None:
    """The first JSON format (in ``JSON_ORDER``) that recognises ``record``, or None. A JSON
    array is offered whole to formats that take arrays, then by its first element."""
    for name in JSON_ORDER:
        fmt = REGISTRY[name]
        if type(record) is list and not fmt.accepts_lists:
            if record and fmt.detect(record[0]):
                return name
        elif fmt.detect(record):
            return name
    return None


def detect_csv(header: Sequence[str]) -> str | None:
    """The first CSV format (in ``CSV_ORDER``) that recognises the header, or None."""
    for name in CSV_ORDER:
        if REGISTRY[name].detect(header):
            return name
    return None
