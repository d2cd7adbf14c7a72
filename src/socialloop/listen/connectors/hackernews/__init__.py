"""Hacker News connector: the Algolia search API (no key).

``GET https://hn.algolia.com/api/v1/search_by_date?query=&tags=(story,comment)
&numericFilters=created_at_i>=T&page=N&hitsPerPage=100`` answers ``{"hits": [...], "page",
"nbPages", "hitsPerPage", "nbHits", ...}``, newest first. The checkpoint is
:func:`..base.walk_back`'s (``floor``: the newest ``created_at_i`` stored, also sent as the
numeric filter); the cursor is the page number (a new hit arriving mid-walk shifts the pages by
one: a hit is seen twice, never skipped). Algolia serves at most 1,000 hits per query.

Mapping (:func:`map_hit`): ``objectID`` is the native id; a story's text is its title, a blank
line and its ``story_text`` (HTML made plain), its ``url`` a link, ``points`` the likes and
``num_comments`` the replies; a comment's text is its ``comment_text`` made plain, its parent
``parent_id`` and its thread root ``story_id``. Deleted and dead items are not in the index; an
edit (possible for two hours) is seen only when the item is fetched again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from socialloop.errors import PayloadChanged, RecordError
from socialloop.listen.formats._common import (
    as_list,
    hashtags_of,
    links_of,
    mentions_of,
    opt_str,
    parse_date,
    to_int,
    unique,
)
from socialloop.listen.formats._html import html_to_text
from socialloop.models import Author, Post, post_id

from ..base import Checkpoint, Mapped, Option, Page, Spec, http_settings, walk_back
from ..http import HttpClient, HttpSettings

__all__ = ["HackerNewsConnector", "map_hit"]

NETWORK = "hackernews"
API = "https://hn.algolia.com/api/v1/search_by_date"
ITEM_URL = "https://news.ycombinator.com/item?id="
_TAGS = {"both": "(story,comment)", "story": "story", "comment": "comment"}

SPEC = Spec(
    "hackernews",
    (
        Option("query", str, "full-text query (Algolia syntax)", True),
        Option("tags", str, "what to follow", choices=tuple(_TAGS)),
        Option("api", str, f"the search endpoint (default {API})"),
        Option("limit", int, "hits per page (at most 1000)", minimum=1),
    ),
    defaults={"limit": 100, "max_pages": 5, "tags": "both"},
)


def _html(value: Any) -> tuple[str, list[str]]:
    return html_to_text(value) if type(value) is str and value else ("", [])


def map_hit(hit: Any) -> Post:
    """One Algolia hit (story or comment) as a post; ``RecordError`` when it holds none."""
    if type(hit) is not dict:
        raise RecordError(f"expected a hit object, got {type(hit).__name__}")
    native = opt_str(hit.get("objectID"))
    if not native:
        raise RecordError("field 'objectID' is missing")
    stamp = hit.get("created_at_i")
    created_at = parse_date(stamp if stamp is not None else hit.get("created_at"), "created_at_i")
    tags = as_list(hit.get("_tags"))
    handle = opt_str(hit.get("author"))
    author = (
        Author(NETWORK, handle, url=f"https://news.ycombinator.com/user?id={handle}")
        if handle
        else None
    )
    parent = root = None
    is_comment = "comment" in tags or (hit.get("comment_text") is not None and not hit.get("title"))
    if is_comment:
        text, links = _html(hit.get("comment_text"))
        if not text:
            raise RecordError("comment has no 'comment_text' (deleted or dead)")
        parent = opt_str(hit.get("parent_id"))
        root = opt_str(hit.get("story_id"))
        likes, replies = to_int(hit.get("points")), None
    else:
        title = opt_str(hit.get("title"))
        if not title:
            raise RecordError("story has no 'title'")
        body, links = _html(hit.get("story_text"))
        text = f"{title}\n\n{body}" if body else title
        url = opt_str(hit.get("url"))
        if url and url not in links:
            links.insert(0, url)
        likes, replies = to_int(hit.get("points")), to_int(hit.get("num_comments"))
    return Post(
        NETWORK,
        native,
        text,
        created_at,
        author,
        ITEM_URL + native,
        None,
        post_id(NETWORK, parent) if parent else None,
        post_id(NETWORK, root) if root and root != native else None,
        mentions=mentions_of(text),
        hashtags=hashtags_of(text),
        links=unique([*links, *links_of(text)]),
        likes=likes,
        replies=replies,
        raw=hit,
    )


def _key(hit: Any) -> str | None:
    oid = hit.get("objectID") if type(hit) is dict else None
    return str(oid) if oid is not None else None


def _stamp(hit: Any) -> float | None:
    value = hit.get("created_at_i") if type(hit) is dict else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class HackerNewsConnector:
    """See the module docs."""

    name: ClassVar[str] = "hackernews"
    network: ClassVar[str] = NETWORK
    spec: ClassVar[Spec] = SPEC

    def __init__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> None:
        self.config = dict(config)
        self.http = http
        self.limit = min(int(config.get("limit", 100)), 1000)
        self.max_pages = int(config.get("max_pages", 5))
        self.api = str(config.get("api") or API)

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> HttpSettings:
        return http_settings(config, per_minute=60)  # Algolia: 10,000 requests an hour per IP

    def map_item(self, raw: Any) -> Post:
        return map_hit(raw)

    def map_all(self, raw: Any) -> Mapped:
        return [map_hit(raw)]

    def _page(self, cursor: Any, floor: float | None) -> tuple[list[Any], Any]:
        page = int(cursor or 0)
        params: dict[str, Any] = {
            "query": self.config["query"],
            "tags": _TAGS[str(self.config.get("tags", "both"))],
            "page": page,
            "hitsPerPage": self.limit,
        }
        if floor is not None:
            params["numericFilters"] = f"created_at_i>={int(floor)}"
        body = self.http.get_json(self.api, params=params)
        if type(body) is not dict or type(body.get("hits")) is not list:
            raise PayloadChanged(
                f"Algolia answered without a 'hits' list: {str(body)[:200]!r}",
                source=self.http.source,
                url=self.api,
            )
        pages = to_int(body.get("nbPages"))
        current = to_int(body.get("page"))
        current = page if current is None else current
        more = pages is not None and current + 1 < pages
        return body["hits"], (current + 1 if more else None)

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]:
        return walk_back(checkpoint, self._page, _stamp, self.max_pages, _key)
