"""Mastodon connector: hashtag timelines, status search and account statuses on any instance.

Endpoints (Mastodon API v1/v2, also served by most ActivityPub servers' Mastodon-compatible
APIs): ``GET /api/v1/timelines/tag/:hashtag``, ``GET /api/v2/search?type=statuses`` (most
instances answer it only with a token), ``GET /api/v1/accounts/:id/statuses`` (the ``acct`` is
resolved once through ``GET /api/v1/accounts/lookup`` and the id kept in the checkpoint).

Checkpoint ``{"min_id": ID}``: the newest status stored. A run pages *forward* from it with
``min_id`` (each page holds the statuses immediately newer than it; the next one starts at the
``prev`` Link header's ``min_id``, or the page's newest id), until a page comes back empty, so
nothing between two runs is skipped however many statuses arrived. The first run (no
checkpoint) looks back instead: the newest page, then older pages through the ``next`` Link
header (``max_id``) up to ``max_pages``; ``{"backfill": {...}}`` in the checkpoint lets a crash
in the middle of it resume.

Mapping reuses ``listen.formats.mastodon``: a boost gives the boost (``reshare_of``) and the
boosted status; a quote (Mastodon 4.4 ``quote``) gives the quoted status; a media-only status
has empty text and its attachments in the raw payload; an edit (``edited_at``) replaces the
stored text when the status is fetched again. What a timeline cannot show: a status deleted
after it was fetched stays stored (deletions reach clients only through the streaming API,
which is not built), and an edit made after the fetch is seen only if the status is fetched
again (``socialloop source reset`` and a new run).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from socialloop.errors import InvalidValue, PayloadChanged
from socialloop.listen.formats import mastodon as fmt
from socialloop.models import Post

from ..base import Checkpoint, Mapped, Option, Page, Spec, first_post, http_settings
from ..http import HttpClient, HttpSettings

__all__ = ["MastodonConnector"]

SPEC = Spec(
    "mastodon",
    (
        Option("instance", str, "the instance's base URL, e.g. https://mastodon.social", True),
        Option("hashtag", str, "follow this hashtag's timeline (without #)"),
        Option("query", str, "full-text status search (needs a token on most instances)"),
        Option("account", str, "follow this account's statuses: user or user@instance"),
        Option("token", str, "an access token (read scope)"),
        Option("token_env", str, "name of the environment variable holding the token"),
        Option("limit", int, "statuses per page (at most 40)", minimum=1),
    ),
    one_of=(("hashtag", "query", "account"),),
    defaults={"limit": 40, "max_pages": 5},
)


def _id_key(status_id: str) -> tuple[int, str]:
    """Order of status ids (snowflake digit strings; any string sorts sensibly)."""
    return (len(status_id), status_id) if status_id.isdigit() else (0, status_id)


def _link_param(response: httpx.Response, rel: str, key: str) -> str | None:
    link = response.links.get(rel)
    if not link or not link.get("url"):
        return None
    values = parse_qs(urlsplit(link["url"]).query).get(key)
    return values[0] if values else None


class MastodonConnector:
    """See the module docs."""

    name: ClassVar[str] = "mastodon"
    network: ClassVar[str] = fmt.NETWORK
    spec: ClassVar[Spec] = SPEC

    def __init__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> None:
        self.config = dict(config)
        self.http = http
        base = str(config["instance"]).rstrip("/")
        if "://" not in base:
            base = "https://" + base
        if not urlsplit(base).hostname:
            raise InvalidValue(f"connector mastodon: instance {config['instance']!r} is not a URL")
        self.base = base
        self.limit = min(int(config.get("limit", 40)), 40)
        self.max_pages = int(config.get("max_pages", 5))
        token = config.get("token")
        if not token and config.get("token_env"):
            token = environ.get(str(config["token_env"]))
            if not token:
                raise InvalidValue(
                    f"connector mastodon: the environment variable {config['token_env']} "
                    "(token_env) is not set"
                )
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._mapper = fmt.make_mapper(self.network)

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> HttpSettings:
        return http_settings(config, per_minute=60)  # 300 requests / 5 min per account or IP

    # -- mapping -----------------------------------------------------------------------------

    def map_all(self, raw: Any) -> Mapped:
        return self._mapper(raw)

    def map_item(self, raw: Any) -> Post:
        return first_post(self._mapper(raw))

    # -- fetching ----------------------------------------------------------------------------

    def _endpoint(self, cp: Checkpoint) -> tuple[str, dict[str, Any], Checkpoint]:
        """The URL, fixed parameters and (possibly updated) checkpoint of the timeline."""
        c = self.config
        if c.get("hashtag"):
            tag = str(c["hashtag"]).lstrip("#")
            return f"{self.base}/api/v1/timelines/tag/{quote(tag, safe='')}", {}, cp
        if c.get("query"):
            params = {"q": c["query"], "type": "statuses", "resolve": "false"}
            return f"{self.base}/api/v2/search", params, cp
        account_id = cp.get("account_id")
        if not account_id:
            acct = str(c["account"]).lstrip("@")
            found = self.http.get_json(
                f"{self.base}/api/v1/accounts/lookup", params={"acct": acct}, headers=self.headers
            )
            if type(found) is not dict or not found.get("id"):
                raise PayloadChanged(
                    f"account lookup of {acct!r} returned no account id", source=self.http.source
                )
            account_id = str(found["id"])
            cp = {**cp, "account_id": account_id}
        return f"{self.base}/api/v1/accounts/{quote(account_id, safe='')}/statuses", {}, cp

    def _page(
        self, url: str, params: dict[str, Any], **cursor: str | None
    ) -> tuple[list[Any], httpx.Response]:
        response = self.http.get(
            url, params={**params, "limit": self.limit, **cursor}, headers=self.headers
        )
        body = self.http.json(response)
        if type(body) is dict and "statuses" in body:  # /api/v2/search
            body = body["statuses"]
        if type(body) is not list:
            raise PayloadChanged(
                f"expected a list of statuses from {response.request.url}, "
                f"got {type(body).__name__}",
                source=self.http.source,
                url=str(response.request.url),
            )
        return body, response

    @staticmethod
    def _ids(items: list[Any]) -> list[str]:
        return [str(s["id"]) for s in items if type(s) is dict and s.get("id") is not None]

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]:
        cp: Checkpoint = dict(checkpoint or {})
        url, params, cp = self._endpoint(cp)
        pages = 0
        if "min_id" not in cp or "backfill" in cp:
            # first run: the newest page, then back in time (resumable)
            backfill = dict(cp.get("backfill") or {"max_id": None, "pages": 0})
            while True:
                items, response = self._page(url, params, max_id=backfill["max_id"])
                pages += 1
                ids = self._ids(items)
                if ids and not cp.get("min_id"):
                    cp["min_id"] = max(ids, key=_id_key)
                backfill["pages"] = int(backfill["pages"]) + 1
                older = _link_param(response, "next", "max_id") or (
                    min(ids, key=_id_key) if ids else None
                )
                done = not items or older is None or backfill["pages"] >= self.max_pages
                if done:
                    cp.pop("backfill", None)
                    yield Page(items, dict(cp), more=False)
                    return
                backfill["max_id"] = older
                cp["backfill"] = dict(backfill)
                more = pages < self.max_pages
                yield Page(items, dict(cp), more=more)
                if not more:
                    return
        while True:
            items, response = self._page(url, params, min_id=cp["min_id"])
            pages += 1
            ids = self._ids(items)
            if ids:
                newer = _link_param(response, "prev", "min_id") or max(ids, key=_id_key)
                if _id_key(newer) > _id_key(str(cp["min_id"])):
                    cp["min_id"] = newer
            more = bool(items) and pages < self.max_pages
            yield Page(items, dict(cp), more=more)
            if not more:
                return
