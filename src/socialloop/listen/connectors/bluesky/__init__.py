"""Bluesky connector: ``app.bsky.feed.searchPosts`` on the public AppView.

``GET https://public.api.bsky.app/xrpc/app.bsky.feed.searchPosts?q=&sort=latest&limit=&cursor=``
answers ``{"posts": [postView, ...], "cursor": "...", "hitsTotal": N}``, newest first; the
cursor pages towards older posts. The checkpoint is :func:`..base.walk_back`'s (``floor``: the
newest ``indexedAt`` stored; later runs also pass it as ``since`` so the AppView filters
server-side). With ``identifier`` and ``password_env`` (an app password) the connector signs in
(``com.atproto.server.createSession`` on ``service``, default https://bsky.social) and searches
through that service, for when the public AppView refuses anonymous searches.

Mapping reuses ``listen.formats.bluesky``: quotes (``app.bsky.embed.record`` /
``recordWithMedia``) give ``quote_of`` and the quoted post; a media-only post (images, no text)
is stored with empty text; ``searchPosts`` returns posts, not reposts (a repost is not a post
in the search index), so reposts are not seen here. Deleted posts drop out of the index and
are not seen; posts cannot be edited on Bluesky. The Jetstream firehose is not built.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from socialloop.errors import BadCredentials, InvalidValue, PayloadChanged
from socialloop.listen.formats import bluesky as fmt
from socialloop.listen.formats._common import parse_date
from socialloop.models import Post

from ..base import Checkpoint, Mapped, Option, Page, Spec, first_post, http_settings, walk_back
from ..http import HttpClient, HttpSettings

__all__ = ["BlueskyConnector"]

APPVIEW = "https://public.api.bsky.app"

SPEC = Spec(
    "bluesky",
    (
        Option("query", str, "search query (Lucene-like syntax of searchPosts)", True),
        Option("lang", str, "only posts in this language (e.g. en)"),
        Option("appview", str, f"the AppView to search (default {APPVIEW})"),
        Option("identifier", str, "handle or email to sign in with (optional)"),
        Option("password_env", str, "environment variable holding an app password"),
        Option("service", str, "the PDS to sign in to (default https://bsky.social)"),
        Option("limit", int, "posts per page (at most 100)", minimum=1),
    ),
    defaults={"limit": 100, "max_pages": 5},
)


def _key(view: Any) -> str | None:
    uri = view.get("uri") if type(view) is dict else None
    return str(uri) if uri is not None else None


def _stamp(view: Any) -> float | None:
    if type(view) is not dict:
        return None
    value = view.get("indexedAt") or (view.get("record") or {}).get("createdAt")
    try:
        return parse_date(value, "indexedAt").timestamp()
    except Exception:
        return None


class BlueskyConnector:
    """See the module docs."""

    name: ClassVar[str] = "bluesky"
    network: ClassVar[str] = fmt.NETWORK
    spec: ClassVar[Spec] = SPEC

    def __init__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> None:
        self.config = dict(config)
        self.http = http
        self.limit = min(int(config.get("limit", 100)), 100)
        self.max_pages = int(config.get("max_pages", 5))
        self.base = str(config.get("appview") or APPVIEW).rstrip("/")
        self.headers: dict[str, str] = {}
        self.password: str | None = None
        if config.get("identifier"):
            env = config.get("password_env")
            self.password = environ.get(str(env)) if env else None
            if not self.password:
                raise InvalidValue(
                    "connector bluesky: signing in needs password_env naming a set "
                    "environment variable that holds an app password"
                )
        self._mapper = fmt.make_mapper(self.network)

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> HttpSettings:
        return http_settings(config, per_minute=60)  # AppView: 3000 requests / 5 min per IP

    def map_all(self, raw: Any) -> Mapped:
        return self._mapper(raw)

    def map_item(self, raw: Any) -> Post:
        return first_post(self._mapper(raw))

    def _sign_in(self) -> None:
        service = str(self.config.get("service") or "https://bsky.social").rstrip("/")
        response = self.http.request(
            "POST",
            f"{service}/xrpc/com.atproto.server.createSession",
            json={"identifier": self.config["identifier"], "password": self.password},
        )
        body = self.http.json(response)
        token = body.get("accessJwt") if type(body) is dict else None
        if not token:
            raise BadCredentials("createSession returned no accessJwt", source=self.http.source)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.base = service

    def _page(self, cursor: Any, floor: float | None) -> tuple[list[Any], Any]:
        since = (
            datetime.fromtimestamp(floor, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
            if floor is not None
            else None
        )
        params = {
            "q": self.config["query"],
            "sort": "latest",
            "limit": self.limit,
            "cursor": cursor,
            "since": since,
            "lang": self.config.get("lang"),
        }
        url = f"{self.base}/xrpc/app.bsky.feed.searchPosts"
        body = self.http.get_json(url, params=params, headers=self.headers)
        if type(body) is not dict or type(body.get("posts")) is not list:
            raise PayloadChanged(
                f"searchPosts answered without a 'posts' list: {str(body)[:200]!r}",
                source=self.http.source,
                url=url,
            )
        next_cursor = body.get("cursor") or None
        return body["posts"], next_cursor

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]:
        if self.password is not None and not self.headers:
            self._sign_in()
        return walk_back(checkpoint, self._page, _stamp, self.max_pages, _key)
