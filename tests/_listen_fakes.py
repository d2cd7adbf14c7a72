"""Fake networks for the connector tests: payloads shaped like each API's documented responses
(Mastodon Status entities and Link headers, Bluesky searchPosts, Reddit Listings, Algolia
search_by_date, RSS / Atom) and servers that page through them with the API's own rules.

Each fake answers ``respond(method, url, headers) -> (status, headers, body)`` and records the
requests; ``transport(fake)`` serves it through ``httpx.MockTransport`` and ``serve(fake)``
through a real local HTTP server (``http.server.ThreadingHTTPServer`` on 127.0.0.1:0).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import orjson

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

Response = tuple[int, dict[str, str], bytes]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Fake:
    """Base of the fakes: records requests; ``fail`` hooks inject errors per request."""

    requests: list[httpx.Request] = field(default_factory=list)
    # called with the request number (1-based) and the request; may return a response or raise
    fail: Callable[[int, httpx.Request], Response | None] | None = None

    def handle(self, request: httpx.Request) -> Response:
        self.requests.append(request)
        if self.fail is not None:
            injected = self.fail(len(self.requests), request)
            if injected is not None:
                return injected
        return self.respond(request)

    def respond(self, request: httpx.Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self, index: int) -> dict[str, str]:
        """The query parameters of request ``index``."""
        return {k: v[0] for k, v in parse_qs(self.requests[index].url.query.decode()).items()}


def json_response(body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        200,
        {"content-type": "application/json; charset=utf-8", **(headers or {})},
        (orjson.dumps(body)),
    )


def enriched(ws: Any) -> dict[int, set[str]]:
    """post pk -> the enrichment steps stored for it."""

    from socialloop.store.enrich_rows import step_results

    out: dict[int, set[str]] = {}
    with ws.store.begin() as conn:
        for r in step_results(conn):
            out.setdefault(r.post_pk, set()).add(r.step)
    return out


def transport(fake: Fake) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = fake.handle(request)
        return httpx.Response(status, headers=headers, content=body)

    return httpx.MockTransport(handler)


@contextmanager
def serve(fake: Fake) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering with ``fake``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host, port = self.server.server_address[:2]
            request = httpx.Request(
                "GET", f"http://{host}:{port}{self.path}", headers=dict(self.headers.items())
            )
            status, headers, body = fake.handle(request)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


# -- Mastodon ---------------------------------------------------------------------------------


def account(user: str = "ann", host: str = "social.example", **kw: Any) -> dict[str, Any]:
    return {
        "id": kw.pop("id", str(abs(hash(user)) % 10**8)),
        "username": user,
        "acct": user if host == "social.example" else f"{user}@{host}",
        "display_name": user.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-01-01T00:00:00.000Z",
        "note": "<p>Coffee person.</p>",
        "url": f"https://{host}/@{user}",
        "avatar": f"https://{host}/avatars/{user}.png",
        "followers_count": 120,
        "following_count": 80,
        "statuses_count": 999,
        "last_status_at": "2026-05-01",
        "emojis": [],
        "fields": [],
        **kw,
    }


def status(
    sid: int | str,
    content: str,
    *,
    user: str = "ann",
    host: str = "social.example",
    when: datetime | None = None,
    tags: tuple[str, ...] = (),
    **kw: Any,
) -> dict[str, Any]:
    """A Mastodon ``Status`` entity as the API documents it."""
    sid = str(sid)
    when = when or T0 + timedelta(minutes=int(sid) % 100000 if sid.isdigit() else 0)
    return {
        "id": sid,
        "created_at": iso(when),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://{host}/users/{user}/statuses/{sid}",
        "url": f"https://{host}/@{user}/{sid}",
        "replies_count": 0,
        "reblogs_count": 1,
        "favourites_count": 3,
        "edited_at": None,
        "content": content,
        "reblog": None,
        "application": None,
        "account": account(user, host),
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://{host}/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
        **kw,
    }


def _id_key(s: dict[str, Any]) -> tuple[int, str]:
    return (len(s["id"]), s["id"])


@dataclass
class FakeMastodon(Fake):
    """Timelines with Mastodon's paging: ``max_id`` / ``since_id`` / ``min_id``, ``limit``
    (default 20, at most 40), newest first, and the Link header (``next``: older, ``prev``:
    newer)."""

    statuses: list[dict[str, Any]] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    account_statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    token: str | None = None

    def page(self, items: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
        limit = min(int(q.get("limit", 20)), 40)
        newest = sorted(items, key=_id_key, reverse=True)
        if "max_id" in q:
            newest = [s for s in newest if _id_key(s) < _id_key({"id": q["max_id"]})]
        if "since_id" in q:
            newest = [s for s in newest if _id_key(s) > _id_key({"id": q["since_id"]})]
        if "min_id" in q:
            after = [s for s in newest if _id_key(s) > _id_key({"id": q["min_id"]})]
            return list(reversed(list(reversed(after))[:limit]))
        return newest[:limit]

    def respond(self, request: httpx.Request) -> Response:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return (
                401,
                {"content-type": "application/json"},
                b'{"error":"The access token is invalid"}',
            )
        path = request.url.path
        q = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        if path == "/api/v1/accounts/lookup":
            acct = self.accounts.get(q.get("acct", ""))
            if acct is None:
                return 404, {"content-type": "application/json"}, b'{"error":"Record not found"}'
            return json_response(acct)
        if path.startswith("/api/v1/timelines/tag/"):
            items = self.statuses
        elif path.startswith("/api/v1/accounts/") and path.endswith("/statuses"):
            items = self.account_statuses.get(path.split("/")[4], [])
        elif path == "/api/v2/search":
            found = [s for s in self.statuses if q.get("q", "").lower() in s["content"].lower()]
            return json_response({"accounts": [], "statuses": self.page(found, q), "hashtags": []})
        else:
            return 404, {"content-type": "application/json"}, b'{"error":"Record not found"}'
        result = self.page(items, q)
        headers: dict[str, str] = {}
        if result:
            base = f"{request.url.scheme}://{request.url.netloc.decode()}{path}"
            limit = q.get("limit", "20")
            older = urlencode({"limit": limit, "max_id": result[-1]["id"]})
            newer = urlencode({"limit": limit, "min_id": result[0]["id"]})
            headers["link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
        return json_response(result, headers)


# -- Bluesky ----------------------------------------------------------------------------------


def post_view(
    rkey: str,
    text: str,
    *,
    handle: str = "ann.bsky.social",
    when: datetime | None = None,
    embed: dict[str, Any] | None = None,
    record_embed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``app.bsky.feed.defs#postView``."""
    when = when or T0
    did = f"did:plc:{handle.split('.')[0]}"
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": iso(when),
        "langs": ["en"],
    }
    if record_embed is not None:
        record["embed"] = record_embed
    view: dict[str, Any] = {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafyrei{rkey}",
        "author": {
            "did": did,
            "handle": handle,
            "displayName": handle.split(".")[0].title(),
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x.jpg",
            "labels": [],
            "createdAt": "2023-04-01T00:00:00.000Z",
        },
        "record": record,
        "replyCount": 0,
        "repostCount": 2,
        "likeCount": 5,
        "quoteCount": 0,
        "indexedAt": iso(when),
        "labels": [],
    }
    if embed is not None:
        view["embed"] = embed
    return view


@dataclass
class FakeBluesky(Fake):
    """``app.bsky.feed.searchPosts``: sort=latest, ``since`` (inclusive), opaque cursor."""

    posts: list[dict[str, Any]] = field(default_factory=list)

    def respond(self, request: httpx.Request) -> Response:
        if not request.url.path.endswith("/xrpc/app.bsky.feed.searchPosts"):
            return 404, {"content-type": "application/json"}, b'{"error":"MethodNotImplemented"}'
        q = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        if "q" not in q:
            return (
                400,
                {},
                b'{"error":"InvalidRequest","message":"Params must have the property \\"q\\""}',
            )
        items = sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
        if "since" in q:
            items = [p for p in items if p["indexedAt"] >= q["since"]]
        start = int(q.get("cursor", "0"))
        limit = int(q.get("limit", "25"))
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"posts": chunk, "hitsTotal": len(items)}
        if start + limit < len(items):
            body["cursor"] = str(start + limit)
        return json_response(body)


# -- Reddit -----------------------------------------------------------------------------------


def thing(n: int, title: str, *, sub: str = "coffee", when: datetime | None = None,
          **kw: Any) -> dict[str, Any]:  # fmt: skip
    """A ``t3`` (link) thing as Reddit's listings return it."""
    when = when or T0 + timedelta(minutes=n)
    rid = f"x{n:05d}"
    data = {
        "subreddit": sub,
        "selftext": kw.pop("selftext", ""),
        "author_fullname": "t2_abc",
        "title": title,
        "name": f"t3_{rid}",
        "id": rid,
        "score": 10 + n,
        "created_utc": when.timestamp(),
        "num_comments": 2,
        "permalink": f"/r/{sub}/comments/{rid}/slug/",
        "url": kw.pop("url", f"https://www.reddit.com/r/{sub}/comments/{rid}/slug/"),
        "is_self": kw.pop("is_self", True),
        "author": kw.pop("author", "beanfan"),
        "over_18": False,
        "edited": False,
        **kw,
    }
    return {"kind": "t3", "data": data}


@dataclass
class FakeReddit(Fake):
    """Listings newest first with ``after`` paging (``limit`` at most 100), and the OAuth
    token endpoint (client credentials)."""

    things: list[dict[str, Any]] = field(default_factory=list)
    client: tuple[str, str] | None = None

    def respond(self, request: httpx.Request) -> Response:
        url = request.url
        if url.path == "/api/v1/access_token":
            import base64

            expected = (
                "Basic " + base64.b64encode(":".join(self.client or ("", "")).encode()).decode()
            )
            if request.headers.get("authorization") != expected:
                return (
                    401,
                    {"content-type": "application/json"},
                    b'{"message": "Unauthorized", "error": 401}',
                )
            return json_response(
                {
                    "access_token": "tok-123",
                    "token_type": "bearer",
                    "expires_in": 86400,
                    "scope": "*",
                }
            )
        if (
            url.host == "oauth.reddit.com"
            and request.headers.get("authorization") != "bearer tok-123"
        ):
            return (
                401,
                {"content-type": "application/json"},
                b'{"message": "Unauthorized", "error": 401}',
            )
        q = {k: v[0] for k, v in parse_qs(url.query.decode()).items()}
        items = sorted(self.things, key=lambda t: t["data"]["created_utc"], reverse=True)
        if "q" in q:
            items = [t for t in items if q["q"].lower() in t["data"]["title"].lower()]
        start = 0
        if "after" in q:
            names = [t["data"]["name"] for t in items]
            start = names.index(q["after"]) + 1 if q["after"] in names else len(items)
        limit = min(int(q.get("limit", "25")), 100)
        chunk = items[start : start + limit]
        after = chunk[-1]["data"]["name"] if chunk and start + limit < len(items) else None
        return json_response(
            {
                "kind": "Listing",
                "data": {
                    "after": after,
                    "dist": len(chunk),
                    "modhash": "",
                    "geo_filter": None,
                    "children": chunk,
                    "before": None,
                },
            }
        )


# -- Hacker News (Algolia) -------------------------------------------------------------------


def hn_story(oid: int, title: str, *, when: datetime | None = None, **kw: Any) -> dict[str, Any]:
    when = when or T0 + timedelta(minutes=oid % 1000)
    return {
        "_tags": ["story", "author_pg", f"story_{oid}"],
        "author": kw.pop("author", "pg"),
        "children": [],
        "created_at": iso(when),
        "created_at_i": int(when.timestamp()),
        "num_comments": kw.pop("num_comments", 3),
        "objectID": str(oid),
        "points": kw.pop("points", 42),
        "story_id": oid,
        "title": title,
        "updated_at": iso(when),
        "url": kw.pop("url", "https://brewhaven.example/launch"),
        **kw,
    }


def hn_comment(oid: int, html: str, *, story: int, parent: int, when: datetime | None = None
               ) -> dict[str, Any]:  # fmt: skip
    when = when or T0 + timedelta(minutes=oid % 1000)
    return {
        "_tags": ["comment", "author_dang", f"story_{story}"],
        "author": "dang",
        "comment_text": html,
        "created_at": iso(when),
        "created_at_i": int(when.timestamp()),
        "objectID": str(oid),
        "parent_id": parent,
        "story_id": story,
        "story_title": "Brewhaven launches",
        "story_url": "https://brewhaven.example/launch",
        "updated_at": iso(when),
    }


@dataclass
class FakeAlgolia(Fake):
    """``search_by_date``: newest first, ``page`` / ``hitsPerPage`` / ``nbPages``, and the
    ``created_at_i>=T`` numeric filter."""

    hits: list[dict[str, Any]] = field(default_factory=list)

    def respond(self, request: httpx.Request) -> Response:
        q = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        items = sorted(self.hits, key=lambda h: h["created_at_i"], reverse=True)
        flt = q.get("numericFilters", "")
        if flt.startswith("created_at_i>="):
            floor = int(flt.split(">=")[1])
            items = [h for h in items if h["created_at_i"] >= floor]
        per = int(q.get("hitsPerPage", "20"))
        page = int(q.get("page", "0"))
        pages = (len(items) + per - 1) // per
        return json_response(
            {
                "hits": items[page * per : (page + 1) * per],
                "nbHits": len(items),
                "page": page,
                "nbPages": pages,
                "hitsPerPage": per,
                "exhaustiveNbHits": True,
                "query": q.get("query", ""),
                "params": request.url.query.decode(),
                "processingTimeMS": 1,
            }
        )


# -- RSS / Atom ------------------------------------------------------------------------------


def rss(items: list[tuple[str, str, str, datetime]], *, encoding: str = "utf-8",
        title: str = "Brew blog") -> bytes:  # fmt: skip
    """An RSS 2.0 document: items are (guid, title, description HTML, date)."""
    from email.utils import format_datetime

    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{title}</title><link>https://blog.example/</link>",
        "<description>News</description>",
    ]
    for guid, item_title, html, when in items:
        escaped = html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(
            f"<item><title>{item_title}</title><link>https://blog.example/{guid}</link>"
            f'<guid isPermaLink="false">{guid}</guid><dc:creator>Jane Roaster</dc:creator>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escaped}</description></item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode(encoding)


@dataclass
class FakeFeed(Fake):
    """A feed URL with ETag / Last-Modified and conditional GET (304)."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    etag: str = '"v1"'
    last_modified: str = "Fri, 01 May 2026 12:00:00 GMT"

    def respond(self, request: httpx.Request) -> Response:
        if request.headers.get("if-none-match") == self.etag:
            return 304, {"etag": self.etag}, b""
        headers = {
            "content-type": self.content_type,
            "etag": self.etag,
            "last-modified": self.last_modified,
        }
        return 200, headers, self.body


def parse(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
