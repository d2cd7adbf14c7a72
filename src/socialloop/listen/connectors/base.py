"""The Connector protocol, source configs and the checkpoint walk shared by connectors.

A connector is built from a source's config dict (validated by its :class:`Spec`, with errors
that name the option and say what is expected) and an :class:`HttpClient`. It offers

* ``fetch(checkpoint) -> Iterator[Page]``: raw items page by page; each ``Page`` carries the
  checkpoint to store *with* that page's posts (so a crash resumes after the last stored page)
  and whether more pages follow in this run;
* ``map_item(raw) -> Post``: pure, the item's own post; :class:`socialloop.errors.RecordError`
  for an item that cannot be mapped (it is rejected with its reason, the run goes on);
* ``map_all(raw)``: the item's post first, then the posts embedded in it (a boosted status, a
  quoted post), and a ``Bad`` for each embedded item that cannot be mapped.

:func:`walk_back` is the checkpoint logic of APIs that list newest first with an opaque "older"
cursor (Bluesky, Reddit, Hacker News): see its docs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from socialloop.errors import InvalidValue, RecordError
from socialloop.listen.formats._common import Bad, Mapped
from socialloop.models import Post

from .http import HttpSettings

__all__ = [
    "COMMON_OPTIONS",
    "Bad",
    "Checkpoint",
    "Connector",
    "Mapped",
    "Option",
    "Page",
    "Spec",
    "first_post",
    "http_settings",
    "walk_back",
]

Checkpoint = dict[str, Any]


@dataclass(slots=True)
class Page:
    """One page of raw items, the checkpoint that follows it, and whether more pages follow."""

    items: list[Any]
    checkpoint: Checkpoint
    more: bool


class Connector(Protocol):
    """What every connector offers (see the module docs)."""

    name: ClassVar[str]
    network: ClassVar[str]

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]: ...

    def map_item(self, raw: Any) -> Post: ...

    def map_all(self, raw: Any) -> Mapped: ...


def first_post(mapped: Mapped) -> Post:
    """The item's own post of a mapped item (the first entry), or its ``RecordError``."""
    if not mapped:
        raise RecordError("the item holds no post")
    head = mapped[0]
    if isinstance(head, Bad):
        raise RecordError(head.reason)
    return head


# -- configs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """One config key of a connector: its type (``str``, ``int``, ``float``, ``bool``) and
    what it is for (shown in errors and ``source add --help``)."""

    key: str
    kind: type = str
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    url: bool = False  # an http(s) URL with a host


COMMON_OPTIONS: tuple[Option, ...] = (
    Option("per_minute", float, "rate budget: at most this many requests a minute", minimum=0.1),
    Option("timeout", float, "seconds before a request times out", minimum=0.1),
    Option("retries", int, "retries on network errors, 5xx and 429", minimum=0),
    Option("max_pages", int, "pages fetched per run (and by the first run)", minimum=1),
    Option("user_agent", str, "User-Agent sent with every request"),
)


@dataclass(frozen=True, slots=True)
class Spec:
    """The options of one connector, and groups of which exactly one must be given."""

    connector: str
    options: tuple[Option, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def all_options(self) -> tuple[Option, ...]:
        return self.options + COMMON_OPTIONS

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config, type-checked and with defaults; ``InvalidValue`` says what is wrong."""
        known = {o.key: o for o in self.all_options()}
        unknown = sorted(k for k in config if k not in known)
        if unknown:
            raise InvalidValue(
                f"connector {self.connector}: unknown option(s) {', '.join(unknown)}; "
                f"its options are: {', '.join(known)}"
            )
        out: dict[str, Any] = dict(self.defaults)
        for key, value in config.items():
            if value is None:
                continue
            out[key] = self._check(known[key], value)
        for opt in self.options:
            if opt.required and out.get(opt.key) in (None, ""):
                raise InvalidValue(
                    f"connector {self.connector}: option {opt.key!r} is required ({opt.help})"
                )
        for group in self.one_of:
            given = [k for k in group if out.get(k) not in (None, "")]
            if len(given) != 1:
                said = f"got {', '.join(given)}" if given else "got none"
                raise InvalidValue(
                    f"connector {self.connector}: give exactly one of {', '.join(group)} ({said})"
                )
        return out

    def _check(self, opt: Option, value: Any) -> Any:
        where = f"connector {self.connector}: option {opt.key!r}"
        if opt.kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
                return value.lower() in ("true", "yes", "1")
            raise InvalidValue(f"{where} = {value!r} is not true/false")
        if opt.kind in (int, float):
            try:
                number = opt.kind(value)
            except (TypeError, ValueError):
                raise InvalidValue(f"{where} = {value!r} is not a number") from None
            if isinstance(value, bool):
                raise InvalidValue(f"{where} = {value!r} is not a number")
            if opt.minimum is not None and number < opt.minimum:
                raise InvalidValue(f"{where} = {value!r} is below {opt.minimum:g}")
            return number
        if not isinstance(value, str) or not value.strip():
            raise InvalidValue(f"{where} = {value!r} is not a non-empty string ({opt.help})")
        value = value.strip()
        if opt.choices and value not in opt.choices:
            raise InvalidValue(f"{where} = {value!r}; choose one of {', '.join(opt.choices)}")
        if opt.url and not _is_http_url(value):
            raise InvalidValue(
                f"{where} = {value!r} is not an http(s) URL, e.g. https://example.com/feed.xml"
            )
        return value


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def http_settings(config: Mapping[str, Any], **defaults: Any) -> HttpSettings:
    """The HTTP client settings of a validated config (``defaults``: the connector's own)."""
    s = HttpSettings(**defaults)
    if config.get("per_minute") is not None:
        s.per_minute = float(config["per_minute"])
    if config.get("timeout") is not None:
        s.timeout = float(config["timeout"])
    if config.get("retries") is not None:
        s.retries = int(config["retries"])
    if config.get("user_agent"):
        s.user_agent = str(config["user_agent"])
    return s


# -- walking back from the newest item -------------------------------------------------------


def walk_back(
    checkpoint: Checkpoint | None,
    fetch_page: Callable[[Any, float | None], tuple[Sequence[Any], Any]],
    stamp: Callable[[Any], float | None],
    max_pages: int,
    key: Callable[[Any], str | None] = lambda item: None,
) -> Iterator[Page]:
    """Pages of an API that lists newest first and pages towards older items.

    The checkpoint is ``{"floor": T, "seen": [ids at T], "walk": {"cursor": C, "top": T2,
    "top_ids": [...], "pages": N}}``:

    * ``floor``: the newest item time (epoch seconds) stored by the last *finished* walk, and
      ``seen`` the ids (``key``) of the items at exactly that time. Items older than the floor
      were stored before and end the walk; items at the floor are kept unless already seen (two
      posts can share a second);
    * ``walk``: a walk in progress: the cursor of its next page and the newest time (and ids)
      it saw. A crash or the per-run page cap (``max_pages``) leaves it in the checkpoint, and
      the next run continues it, so nothing between the floor and the newest item is skipped.

    When a walk finishes its ``top`` becomes the new floor. The first walk (no floor) ends
    after ``max_pages`` pages: that is how far back a new source looks.
    ``fetch_page(cursor, floor)`` returns the raw items of one page and the next cursor (None
    at the end); ``stamp(item)`` the item's time, ``key(item)`` its id.
    """
    cp = checkpoint or {}
    floor = cp.get("floor")
    floor_seen = set(cp.get("seen") or ())
    walk = dict(cp.get("walk") or {"cursor": None, "top": floor, "top_ids": [], "pages": 0})
    this_run = 0
    while True:
        items, next_cursor = fetch_page(walk["cursor"], floor)
        kept: list[Any] = []
        reached = False
        top = walk["top"]
        top_ids = list(walk.get("top_ids") or [])
        for item in items:
            t = stamp(item)
            k = key(item)
            if floor is not None and t is not None:
                if t < floor:
                    reached = True
                    continue
                if t == floor and k is not None and k in floor_seen:
                    continue
            kept.append(item)
            if t is not None and (top is None or t > top):
                top, top_ids = t, []
            if t is not None and t == top and k is not None and k not in top_ids:
                top_ids.append(k)
        walk["pages"] = int(walk["pages"]) + 1
        walk["top"], walk["top_ids"] = top, top_ids
        this_run += 1
        done = (
            not items
            or next_cursor is None
            or reached
            or (floor is None and walk["pages"] >= max_pages)
        )
        if done:
            if top is None or top == floor:
                end: Checkpoint = {"floor": floor, "seen": sorted(floor_seen | set(top_ids))}
            else:
                end = {"floor": top, "seen": sorted(top_ids)}
            yield Page(kept, end, more=False)
            return
        walk["cursor"] = next_cursor
        more = this_run < max_pages
        pending: Checkpoint = {"floor": floor, "seen": sorted(floor_seen), "walk": dict(walk)}
        yield Page(kept, pending, more=more)
        if not more:
            return
