"""RSS / Atom connector: blogs, news sites, review sites, any feed URL (no key).

One request per run: a conditional GET (``If-None-Match`` / ``If-Modified-Since`` from the
ETag and Last-Modified the checkpoint kept), so an unchanged feed costs a 304 and nothing else.
The checkpoint is ``{"etag", "last_modified", "seen": {item id: its date}}``: items already
stored with the same date are skipped (a feed repeats its last N items on every fetch); an
item whose date changed (an updated article) is stored again and replaces the old text. The
``seen`` map keeps the newest ``SEEN_LIMIT`` ids.

Items become posts on network ``rss`` (:func:`map_entry`): the id is the item's ``guid`` /
Atom ``id`` (else its link, else a hash of title and date); the text is the title, a blank line
and the description or content with HTML made plain; the author is ``name@site`` (the site
alone when the item names nobody). A malformed feed raises ``PayloadChanged`` naming the feed
(the run goes on with the other sources); parsing details are in ``parse.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from socialloop.errors import InvalidValue, PayloadChanged, RecordError
from socialloop.listen.formats._common import (
    ANY_DATE_HINT,
    hashtags_of,
    links_of,
    opt_str,
    parse_date,
    unique,
)
from socialloop.listen.formats._html import html_to_text
from socialloop.models import Author, Post, content_id

from ..base import Checkpoint, Mapped, Option, Page, Spec, http_settings
from ..http import HttpClient, HttpSettings
from .parse import FeedError, parse_feed

__all__ = ["SEEN_LIMIT", "RssConnector", "map_entry"]

NETWORK = "rss"
SEEN_LIMIT = 2000
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE_RE = re.compile(r"\s+")
_BLOCK_RE = re.compile(r"<(?:/?(?:div|li|h[1-6]|blockquote|tr|ul|ol)\b[^>]*)>", re.IGNORECASE)

SPEC = Spec(
    "rss",
    (Option("url", str, "the feed's URL (RSS 2.0, RSS 1.0 or Atom)", True, url=True),),
    defaults={"max_pages": 1},
)


def _plain(body: str | None, kind: str) -> tuple[str, list[str]]:
    if not body:
        return "", []
    if kind == "text":
        return body.strip(), []
    body = _SCRIPT_RE.sub("", body)
    body = _SPACE_RE.sub(" ", body)  # HTML source layout is not text (as a browser shows it)
    body = _BLOCK_RE.sub("<br>", body)
    text, links = html_to_text(body)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text, links


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def map_entry(raw: Any) -> Post:
    """One feed item (a dict from ``parse_feed``, plus ``fetched_at``) as a post."""
    if type(raw) is not dict:
        raise RecordError(f"expected a feed item, got {type(raw).__name__}")
    title = opt_str(raw.get("title"))
    body, links = _plain(opt_str(raw.get("body")), str(raw.get("body_type") or "html"))
    if title:
        title = html_to_text(title)[0] if "<" in title or "&" in title else title
    text = "\n\n".join(part for part in (title, body) if part)
    link = opt_str(raw.get("link"))
    when = raw.get("published") or raw.get("updated") or raw.get("fetched_at")
    created_at = parse_date(when, "pubDate", ANY_DATE_HINT)
    native = opt_str(raw.get("id")) or link
    if not native:
        if not text:
            raise RecordError("item has no guid, no link, no title and no text")
        native = content_id(str(raw.get("feed_url")), title or "", str(when))
    site = _host(link) or _host(opt_str(raw.get("feed_url"))) or "unknown"
    name = opt_str(raw.get("author"))
    author = Author(NETWORK, f"{name}@{site}" if name else site, name or raw.get("feed_title"))
    author.url = f"https://{site}/" if site != "unknown" else None
    if link and link not in links:
        links.insert(0, link)
    return Post(
        NETWORK,
        native,
        text,
        created_at,
        author,
        link,
        hashtags=hashtags_of(text),
        links=unique([*links, *links_of(text)]),
        raw=raw,
    )


class RssConnector:
    """See the module docs."""

    name: ClassVar[str] = "rss"
    network: ClassVar[str] = NETWORK
    spec: ClassVar[Spec] = SPEC

    def __init__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> None:
        self.config = dict(config)
        self.http = http
        self.url = str(config["url"])
        if urlsplit(self.url).scheme not in ("http", "https") or not _host(self.url):
            raise InvalidValue(f"connector rss: url {self.url!r} is not an http(s) URL")

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> HttpSettings:
        return http_settings(config, per_minute=30)

    def map_item(self, raw: Any) -> Post:
        return map_entry(raw)

    def map_all(self, raw: Any) -> Mapped:
        return [map_entry(raw)]

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[Page]:
        cp: Checkpoint = dict(checkpoint or {})
        headers = {}
        if cp.get("etag"):
            headers["If-None-Match"] = str(cp["etag"])
        if cp.get("last_modified"):
            headers["If-Modified-Since"] = str(cp["last_modified"])
        response = self.http.get(self.url, headers=headers)
        if response.status_code == 304:
            yield Page([], cp, more=False)
            return
        try:
            entries = parse_feed(response.content, self.url, response.charset_encoding)
        except FeedError as exc:
            raise PayloadChanged(
                f"feed {self.url} could not be read: {exc}", source=self.http.source, url=self.url
            ) from None
        fetched = datetime.fromtimestamp(self.http.clock(), UTC).isoformat()
        seen: dict[str, str] = dict(cp.get("seen") or {})
        fresh: list[dict[str, Any]] = []
        for entry in entries:
            key = entry.get("id") or entry.get("link") or f"{entry.get('title')}"
            stamp = str(entry.get("updated") or entry.get("published") or "")
            if seen.get(key) == stamp:
                continue
            seen.pop(key, None)
            seen[key] = stamp
            fresh.append({**entry, "fetched_at": fetched})
        if len(seen) > SEEN_LIMIT:
            seen = dict(list(seen.items())[-SEEN_LIMIT:])
        new_cp: Checkpoint = {"seen": seen}
        if response.headers.get("etag"):
            new_cp["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            new_cp["last_modified"] = response.headers["last-modified"]
        yield Page(fresh, new_cp, more=False)
