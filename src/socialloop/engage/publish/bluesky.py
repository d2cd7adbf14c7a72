"""Publishing replies to Bluesky (AT Protocol): a session, then one ``app.bsky.feed.post`` record.

Settings (``[publish.bluesky]`` in socialloop.toml)::

    service = "https://bsky.social"              # the account's PDS (or the bsky.social entryway)
    handle = "brand.bsky.social"                 # the account that answers
    password_env = "SOCIALLOOP_BLUESKY_PASSWORD" # the variable holding an APP PASSWORD
    attempts = 3, timeout = 15, max_wait = 30    # as for Mastodon

Steps: ``com.atproto.server.createSession`` (identifier + app password; the session is kept by
the publisher object, refreshed once with ``com.atproto.server.refreshSession`` when a call
answers ``ExpiredToken``, which the reference PDS sends as HTTP 400 and others as 401), then
``com.atproto.repo.createRecord`` on ``app.bsky.feed.post`` with a record
``{$type, text, createdAt, reply: {root, parent}, facets?}``.

Reply refs: ``parent`` is the target post (its ``at://`` uri is the stored ``native_id``, its
``cid`` is in the stored raw postView, see ``listen.formats.bluesky``); ``root`` is the
``record.reply.root`` of that raw post (or the feed item's ``reply.root``), else the parent
itself (the target starts the thread). A target stored without its cid is looked up with
``app.bsky.feed.getPosts`` first (not in a dry run).

Never double-posting: the record key is not left to the server. :func:`tid_from_key` turns the
reply's ``key`` into a valid TID (post records must have TID keys), the same for every attempt
and every later call. Before retrying after an unclear failure (5xx, timeout), and when the
server answers that the record already exists, ``com.atproto.repo.getRecord`` fetches the
record under that key: if it is there (and answers the same post) it is the result. The
TIDs made this way carry timestamps in early 2023 (a hash in a 2^40 microsecond window):
Bluesky orders posts by ``createdAt``, not by key, so this is invisible in the apps.

Links and ``#tags`` in the text get rich-text facets (byte ranges) so they are clickable;
``@mentions`` do not (that needs a DID look-up): the reply notifies the author through the
thread anyway. Text is limited to 300 graphemes (counted approximately, see
:func:`grapheme_count`) and 3000 bytes, as the post lexicon says.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from socialloop.engage.publish._http import (
    Http,
    RetryPolicy,
    error_name,
    error_text,
    json_object,
    require_str,
    send,
)
from socialloop.engage.publish.base import Published, ReplyTarget, check_key, check_text
from socialloop.errors import (
    ConfigError,
    PublishAuthError,
    PublishError,
    PublishNotAllowed,
    PublishOutcomeUnknown,
)
from socialloop.listen.formats.bluesky import web_url

if TYPE_CHECKING:
    from socialloop.config import Settings

SECTION = "publish.bluesky"
DEFAULT_SERVICE = "https://bsky.social"
DEFAULT_PASSWORD_ENV = "SOCIALLOOP_BLUESKY_PASSWORD"
NETWORK = "bluesky"
COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000

_B32 = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
#: Deterministic TIDs fall in [2023-01-01, + 2^40 microseconds (about 12.7 days)).
TID_EPOCH_US = 1_672_531_200 * 1_000_000
TID_WINDOW_US = 1 << 40

_LINK = re.compile(r"https?://[^\s<>\"'`]+")
_TAG = re.compile(r"(?<![\w#&])#([^\s#.,;:!?()\[\]{}<>\"'`]+)")

R = TypeVar("R")


def tid_from_key(key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit 0) derived from ``key`` alone."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    micros = TID_EPOCH_US + (digest >> 10) % TID_WINDOW_US
    value = (micros << 10) | (digest & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_B32[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def grapheme_count(text: str) -> int:
    """User-perceived characters, approximately: combining marks, variation selectors, skin
    tone modifiers and whatever a zero-width joiner glues on do not count, and a pair of
    regional indicators (a flag) counts once."""
    count = 0
    join_next = False
    regional_open = False
    for ch in text:
        code = ord(ch)
        if join_next:
            join_next = False
            continue
        if code == 0x200D:
            join_next = True
            continue
        if (
            unicodedata.category(ch) in ("Mn", "Me")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
        ):
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            if regional_open:
                regional_open = False
                continue
            regional_open = True
        else:
            regional_open = False
        count += 1
    return count


def facets_of(text: str) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` objects for the links and #tags of ``text`` (byte ranges)."""
    facets: list[dict[str, Any]] = []

    def span(start: int, end: int) -> dict[str, int]:
        begin = len(text[:start].encode("utf-8"))
        return {"byteStart": begin, "byteEnd": begin + len(text[start:end].encode("utf-8"))}

    for m in _LINK.finditer(text):
        url = m.group(0).rstrip(".,;:!?)]}")
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": url}
        facets.append({"index": span(m.start(), m.start() + len(url)), "features": [feature]})
    for m in _TAG.finditer(text):
        name = m.group(1)
        if name.isdigit() or len(name) > 64:
            continue
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": name}
        facets.append({"index": span(m.start(), m.end()), "features": [feature]})
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return facets


@dataclass(frozen=True, slots=True)
class BlueskyConfig:
    """``[publish.bluesky]`` read and checked; ``password`` is the value of ``password_env``."""

    service: str
    handle: str | None
    password_env: str
    password: str | None
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> BlueskyConfig:
        section = settings.section(SECTION)
        service = require_str(section, "service", SECTION) or DEFAULT_SERVICE
        if not service.startswith(("https://", "http://")):
            raise ConfigError(f"[{SECTION}] service {service!r} is not a URL like https://host")
        handle = require_str(section, "handle", SECTION)
        password_env = require_str(section, "password_env", SECTION) or DEFAULT_PASSWORD_ENV
        password = (settings.environ.get(password_env) or "").strip() or None
        return cls(
            service=service.rstrip("/"),
            handle=handle.lstrip("@") if handle else None,
            password_env=password_env,
            password=password,
            policy=RetryPolicy.from_section(section, SECTION),
        )


@dataclass(frozen=True, slots=True)
class Session:
    did: str
    handle: str
    access: str
    refresh: str


@dataclass(frozen=True, slots=True)
class StrongRef:
    uri: str
    cid: str

    def to_dict(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


@dataclass(frozen=True, slots=True)
class BlueskyReply:
    """A reply ready to send (``parent`` None: its cid must be looked up first)."""

    text: str
    target_uri: str
    parent: StrongRef | None
    root: StrongRef | None
    rkey: str
    facets: list[dict[str, Any]]

    def record(self, parent: StrongRef, root: StrongRef, created_at: datetime) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": self.text,
            "createdAt": created_at.astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "reply": {"root": root.to_dict(), "parent": parent.to_dict()},
        }
        if self.facets:
            record["facets"] = self.facets
        return record


def _ref(node: Any) -> StrongRef | None:
    if isinstance(node, dict):
        uri, cid = node.get("uri"), node.get("cid")
        if isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid:
            return StrongRef(uri, cid)
    return None


def refs_from_view(
    view: dict[str, Any], feed_item: dict[str, Any] | None = None
) -> tuple[StrongRef | None, StrongRef | None]:
    """(parent, root) refs from a postView (root None when the post starts its thread)."""
    parent = _ref(view)
    record = view.get("record") if isinstance(view.get("record"), dict) else view.get("value")
    reply = record.get("reply") if isinstance(record, dict) else None
    root = _ref(reply.get("root")) if isinstance(reply, dict) else None
    if root is None and feed_item is not None:
        context = feed_item.get("reply")
        root = _ref(context.get("root")) if isinstance(context, dict) else None
    return parent, root


class BlueskyPublisher:
    """Replies as the account of ``[publish.bluesky]`` (see the module docs). Keeps its session
    between calls: use one publisher for a batch of replies (createSession is rate limited)."""

    network = NETWORK

    def __init__(
        self, config: BlueskyConfig, http: Http, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.config = config
        self.http = http
        self.clock = clock or (lambda: datetime.now(UTC))
        self._session: Session | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> BlueskyPublisher:
        config = BlueskyConfig.from_settings(settings)
        return cls(config, Http(config.policy, transport=transport, sleep=sleep))

    # -- credentials and session

    def _credentials(self) -> tuple[str, str]:
        cfg = self.config
        if cfg.handle is None:
            raise PublishAuthError(
                f"bluesky: no account is set ([{SECTION}] handle)",
                network=NETWORK,
                setting=f"{SECTION}.handle",
            )
        if cfg.password is None:
            raise PublishAuthError(
                f"bluesky: no app password (environment variable {cfg.password_env} is not set)",
                network=NETWORK,
                setting=cfg.password_env,
            )
        return cfg.handle, cfg.password

    def _xrpc(self, method: str) -> str:
        return f"{self.config.service}/xrpc/{method}"

    def _auth_failed(self, response: httpx.Response, what: str) -> PublishAuthError:
        said = error_text(response)
        hint = ""
        if error_name(response) == "AuthFactorTokenRequired":
            hint = " (the account asks for an email code: use an app password instead)"
        return PublishAuthError(
            f"bluesky: {self.config.service} refused {what} for {self.config.handle}: {said}{hint}",
            network=NETWORK,
            setting=self.config.password_env,
        )

    def _session_from(self, body: dict[str, Any], what: str) -> Session:
        values = [body.get(k) for k in ("did", "handle", "accessJwt", "refreshJwt")]
        if not all(isinstance(v, str) and v for v in values):
            raise PublishError(
                f"bluesky: {what} answered without did / handle / tokens", network=NETWORK
            )
        did, handle, access, refresh = (str(v) for v in values)
        return Session(did, handle, access, refresh)

    def _login(self, client: httpx.Client) -> Session:
        identifier, password = self._credentials()
        response = send(
            self.http,
            client,
            lambda: self.http.request(
                "POST",
                self._xrpc("com.atproto.server.createSession"),
                json={"identifier": identifier, "password": password},
            ),
            network=NETWORK,
            what="signing in",
        )
        if response.status_code != 200:
            raise self._auth_failed(response, "signing in")
        self._session = self._session_from(json_object(response, NETWORK, "signing in"), "sign in")
        return self._session

    def _refresh(self, client: httpx.Client) -> Session:
        """A fresh access token from the refresh token; a new sign-in if that fails too."""
        old = self._session
        self._session = None
        if old is not None:
            response = send(
                self.http,
                client,
                lambda: self.http.request(
                    "POST",
                    self._xrpc("com.atproto.server.refreshSession"),
                    headers={"Authorization": f"Bearer {old.refresh}"},
                ),
                network=NETWORK,
                what="refreshing the session",
            )
            if response.status_code == 200:
                body = json_object(response, NETWORK, "refreshing the session")
                self._session = self._session_from(body, "refreshSession")
                return self._session
        return self._login(client)

    def _call(
        self,
        client: httpx.Client,
        build: Callable[[Session], httpx.Request],
        *,
        what: str,
        recover: Callable[[], R | None] | None = None,
    ) -> httpx.Response | R:
        """Send an authenticated request; on ``ExpiredToken`` refresh the session once."""
        for refreshed in (False, True):
            session = self._session or self._login(client)
            result = send(
                self.http,
                client,
                partial(build, session),
                network=NETWORK,
                what=what,
                recover=recover,
            )
            if (
                isinstance(result, httpx.Response)
                and result.status_code in (400, 401)
                and error_name(result) == "ExpiredToken"
                and not refreshed
            ):
                self._refresh(client)
                continue
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _authed(self, session: Session, method: str, path: str, **kw: Any) -> httpx.Request:
        headers = {"Authorization": f"Bearer {session.access}"}
        return self.http.request(method, self._xrpc(path), headers=headers, **kw)

    # -- building

    def prepare(self, target: ReplyTarget, text: str, key: str) -> BlueskyReply:
        """Check everything that can be checked offline and build the reply."""
        self._credentials()
        body = check_text(text, NETWORK)
        key = check_key(key, NETWORK)
        if grapheme_count(body) > MAX_GRAPHEMES or len(body.encode("utf-8")) > MAX_BYTES:
            raise PublishNotAllowed(
                f"bluesky: the reply is {grapheme_count(body)} characters long; posts take at "
                f"most {MAX_GRAPHEMES}",
                network=NETWORK,
            )
        uri = target.native_id
        if not uri.startswith("at://") or f"/{COLLECTION}/" not in uri:
            raise PublishNotAllowed(
                f"bluesky: post {target.post_id} is not an {COLLECTION} record ({uri!r}); "
                "only posts can be answered",
                network=NETWORK,
            )
        raw = target.raw or {}
        view: dict[str, Any] | None = None
        feed_item = None
        if raw.get("uri") == uri:
            view = raw
        elif isinstance(raw.get("post"), dict) and raw["post"].get("uri") == uri:
            view, feed_item = raw["post"], raw
        parent, root = refs_from_view(view, feed_item) if view is not None else (None, None)
        return BlueskyReply(body, uri, parent, root, tid_from_key(key), facets_of(body))

    def request(
        self, session: Session, reply: BlueskyReply, record: dict[str, Any]
    ) -> httpx.Request:
        """The ``com.atproto.repo.createRecord`` request of a prepared reply."""
        return self._authed(
            session,
            "POST",
            "com.atproto.repo.createRecord",
            json={
                "repo": session.did,
                "collection": COLLECTION,
                "rkey": reply.rkey,
                "record": record,
            },
        )

    # -- sending

    def publish(
        self, target: ReplyTarget, text: str, *, key: str, dry_run: bool = False
    ) -> Published:
        reply = self.prepare(target, text, key)
        if dry_run:
            offline = StrongRef(reply.target_uri, "")
            parent = reply.parent or offline
            record = reply.record(parent, reply.root or parent, self.clock())
            handle, _ = self._credentials()
            self.request(Session(f"did:unknown:{handle}", handle, "", ""), reply, record)
            return Published(target.network, "", None)
        with self.http.client() as client:
            if reply.parent is not None:
                parent, root = reply.parent, reply.root
            else:
                parent, root = self._look_up(client, reply.target_uri)
            record = reply.record(parent, root or parent, self.clock())
            parent_uri = parent.uri
            result = self._call(
                client,
                lambda s: self.request(s, reply, record),
                what=f"the reply to {target.post_id}",
                recover=lambda: self._existing(client, reply.rkey, parent_uri),
            )
            if isinstance(result, httpx.Response):
                result = self._created(client, result, reply, parent_uri, target.post_id)
        session = self._session
        uri = str(result["uri"])
        return Published(target.network, uri, web_url(session.handle if session else None, uri))

    def _created(
        self,
        client: httpx.Client,
        response: httpx.Response,
        reply: BlueskyReply,
        parent_uri: str,
        post_id: str,
    ) -> dict[str, Any]:
        if response.status_code == 200:
            body = json_object(response, NETWORK, "createRecord")
            if not isinstance(body.get("uri"), str):
                raise PublishOutcomeUnknown(
                    "bluesky: createRecord answered without the record uri", network=NETWORK
                )
            return body
        said = error_text(response)
        if response.status_code in (400, 409) and (
            "already exists" in said.lower() or error_name(response) == "RecordAlreadyExists"
        ):
            existing = self._existing(client, reply.rkey, parent_uri)
            if existing is not None:
                return existing
        if response.status_code == 401:
            raise self._auth_failed(response, f"the reply to {post_id}")
        raise PublishNotAllowed(
            f"bluesky: {self.config.service} refused the reply to {post_id}: "
            f"HTTP {response.status_code} ({said})",
            network=NETWORK,
        )

    def _existing(self, client: httpx.Client, rkey: str, parent_uri: str) -> dict[str, Any] | None:
        """The record already stored under ``rkey`` (None: there is none, or no answer)."""
        session = self._session
        if session is None:
            return None
        request = self._authed(
            session,
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": session.did, "collection": COLLECTION, "rkey": rkey},
        )
        try:
            response = client.send(request)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str):
            return None
        value = body.get("value")
        reply = value.get("reply") if isinstance(value, dict) else None
        parent = reply.get("parent") if isinstance(reply, dict) else None
        if not isinstance(parent, dict) or parent.get("uri") != parent_uri:
            raise PublishNotAllowed(
                f"bluesky: record key {rkey} already holds another post ({body['uri']}): the "
                "same key was used for a different reply",
                network=NETWORK,
            )
        return body

    def _look_up(self, client: httpx.Client, uri: str) -> tuple[StrongRef, StrongRef | None]:
        """The target's refs from ``app.bsky.feed.getPosts`` (target stored without its cid)."""
        response = self._call(
            client,
            lambda s: self._authed(s, "GET", "app.bsky.feed.getPosts", params={"uris": uri}),
            what=f"looking up {uri}",
        )
        if response.status_code == 401:
            raise self._auth_failed(response, f"looking up {uri}")
        if response.status_code != 200:
            raise PublishNotAllowed(
                f"bluesky: looking up {uri} failed: {error_text(response)}", network=NETWORK
            )
        posts = json_object(response, NETWORK, "getPosts").get("posts")
        for view in posts if isinstance(posts, list) else []:
            if isinstance(view, dict) and view.get("uri") == uri:
                parent, root = refs_from_view(view)
                if parent is not None:
                    return parent, root
        raise PublishNotAllowed(
            f"bluesky: the post {uri} was not found (deleted, or not visible to the account)",
            network=NETWORK,
        )

    # -- credentials check

    def check(self) -> str:
        """Sign in (``createSession``); the account's handle and DID."""
        with self.http.client() as client:
            session = self._login(client)
        return f"{session.handle} ({session.did})"
