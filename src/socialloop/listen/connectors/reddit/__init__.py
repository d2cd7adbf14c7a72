"""Reddit connector: search and subreddit listings, anonymous or with OAuth.

Anonymous: ``GET https://www.reddit.com/search.json?q=&sort=new`` and
``GET https://www.reddit.com/r/SUB/new.json``. With ``client_id`` and ``client_secret_env`` (an
app of type "script" or "web" at https://www.reddit.com/prefs/apps) the connector gets an
application token (``POST https://www.reddit.com/api/v1/access_token`` with
``grant_type=client_credentials`` and HTTP basic auth), renews it before it expires, and reads
the same listings from ``https://oauth.reddit.com``.

A listing is ``{"kind": "Listing", "data": {"after": "t3_...", "children": [{"kind": "t3",
"data": {...}}]}}``, newest first; ``after`` pages towards older things. The checkpoint is
:func:`..base.walk_back`'s (``floor``: the newest ``created_utc`` stored). Mapping reuses
``listen.formats.reddit`` (a crosspost is a reshare of its ``crosspost_parent``; a link or
image post without selftext is stored with its title as text). Deleted or removed posts keep
their row (Reddit shows ``[deleted]`` / ``[removed]`` only if a post is fetched again); edits
(``edited``: a timestamp) replace the stored text when a post is fetched again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from socialloop.errors import BadCredentials, InvalidValue, PayloadChanged
from socialloop.listen.formats import reddit as fmt
from socialloop.models import Post

from ..base import Checkpoint, Mapped, Option, Page, Spec, first_post, http_settings, walk_back
from ..http import HttpClient, HttpSettings

__all__ = ["RedditConnector"]

WWW = "https://www.reddit.com"
OAUTH = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
_SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")

SPEC = Spec(
    "reddit",
    (
        Option("subreddit", str, "follow this subreddit's new posts (without r/)"),
        Option("query", str, "search all of Reddit, newest first"),
        Option("client_id", str, "OAuth app client id (optional)"),
        Option("client_secret_env", str, "environment variable holding the app's secret"),
        Option("limit", int, "things per page (at most 100)", minimum=1),
    ),
    one_of=(("subreddit", "query"),),
    defaults={"limit": 100, "max_pages": 5},
)


def _key(thing: Any) -> str | None:
    data = thing.get("data") if type(thing) is dict else None
    name = data.get("name") if type(data) is dict else None
    return str(name) if name is not None else None


def _stamp(thing: Any) -> float | None:
    data = thing.get("data") if type(thing) is dict else None
    value = data.get("created_utc") if type(data) is dict else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class RedditConnector:
    """See the module docs."""

    name: ClassVar[str] = "reddit"
    network: ClassVar[str] = fmt.NETWORK
    spec: ClassVar[Spec] = SPEC

    def __init__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> None:
        self.config = dict(config)
        self.http = http
        self.limit = min(int(config.get("limit", 100)), 100)
        self.max_pages = int(config.get("max_pages", 5))
        sub = config.get("subreddit")
        if sub is not None:
            sub = str(sub).removeprefix("/").removeprefix("r/")
            if not _SUBREDDIT_RE.match(sub):
                raise InvalidValue(
                    f"connector reddit: subreddit {config['subreddit']!r} is not a subreddit "
                    "name (letters, digits and _, 2 to 21 characters)"
                )
        self.subreddit = sub
        self.secret: str | None = None
        if config.get("client_id"):
            env = config.get("client_secret_env")
            self.secret = environ.get(str(env)) if env else None
            if not self.secret:
                raise InvalidValue(
                    "connector reddit: OAuth needs client_secret_env naming a set "
                    "environment variable that holds the app's secret"
                )
        self._token: str | None = None
        self._expires = 0.0

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> HttpSettings:
        # Reddit allows about 10 requests a minute without OAuth and 100 with it
        return http_settings(config, per_minute=60 if config.get("client_id") else 10)

    def map_all(self, raw: Any) -> Mapped:
        return fmt.make_mapper(self.network)(raw)  # a fresh mapper: no state between items

    def map_item(self, raw: Any) -> Post:
        return first_post(self.map_all(raw))

    def _headers(self) -> dict[str, str]:
        if self.secret is None:
            return {}
        if self._token is None or self.http.clock() >= self._expires - 60:
            response = self.http.request(
                "POST",
                TOKEN_URL,
                data={"grant_type": "client_credentials"},
                auth=(str(self.config["client_id"]), self.secret),
            )
            body = self.http.json(response)
            token = body.get("access_token") if type(body) is dict else None
            if not token:
                error = body.get("error") if type(body) is dict else None
                raise BadCredentials(
                    f"Reddit refused the client credentials ({error or 'no access_token'})",
                    source=self.http.source,
                    url=TOKEN_URL,
                )
            self._token = str(token)
            expires = body.get("expires_in")
            self._expires = self.http.clock() + (
                float(expires) if isinstance(expires, int | float) else 3600.0
            )
        return {"Authorization": f"bearer {self._token}"}

    def _url(self) -> str:
        base = OAUTH if self.secret is not None else WWW
        suffix = "" if self.secret is not None else ".json"
        if self.subreddit:
            return f"{base}/r/{quote(self.subreddit)}/new{suffix}"
        return f"{base}/search{suffix}"

    def _page(self, cursor: Any, floor: float | None) -> tuple[list[Any], Any]:
        params: dict[str, Any] = {"limit": self.limit, "after": cursor, "raw_json": 1}
        if not self.subreddit:
            params.update(q=self.config["query"], sort="new", type="link")
        url = self._url()
        body = self.http.get_json(url, params=params, headers=self._headers())
        data = body.get("data") if type(body) is dict else None
        if type(body) is not dict or body.get("kind") != "Listing" or type(data) is not dict:
            raise PayloadChanged(
                f"expected a Listing from {url}, got {str(body)[:200]!r}",
                source=self.http.source,
                url=url,
            )
        children = data.get("children")
        if type(children) is not list:
            raise PayloadChanged("the Listing has no 'children' list", source=self.http.source)
        things = [c for c in children if type(c) is dict and c.get("kind") in ("t1", "t3")]
        return things, data.get("after") or None

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]:
        return walk_back(checkpoint, self._page, _stamp, self.max_pages, _key)
