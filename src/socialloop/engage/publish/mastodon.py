"""Publishing replies to Mastodon: ``POST {instance}/api/v1/statuses``.

Settings (``[publish.mastodon]`` in socialloop.toml)::

    instance = "https://mastodon.social"     # the instance the brand's account lives on
    token_env = "SOCIALLOOP_MASTODON_TOKEN"  # the variable holding its access token
    visibility = "public"                    # public | unlisted | private | direct
    attempts = 3                              # tries per request (same Idempotency-Key)
    timeout = 15                              # seconds per request
    max_wait = 30                             # longest Retry-After waited out, seconds

The token is an application token with the ``write:statuses`` scope (and ``read:search`` /
``read:accounts`` for remote look-ups and ``publish check``), sent as ``Authorization: Bearer``.

Which status is answered (``in_reply_to_id`` must be the status id ON THE PUBLISHING
INSTANCE; see ``listen.formats.mastodon`` for how imported statuses are identified):

* the target's ``native_id`` is ``"{origin host}/{origin id}"``. When the origin host is the
  publishing instance and the id is numeric (a Mastodon id), that id is used as it is;
* otherwise the status is looked up on the publishing instance with
  ``GET /api/v2/search?q={status uri}&resolve=true&type=statuses`` (the ActivityPub ``uri``
  from the stored raw status, else its ``url``, else the post's link), which makes the instance
  fetch a remote status it has not seen yet. The hit must be the same status (same origin id,
  uri or url). A status that cannot be found is :class:`PublishNotAllowed`.

The reply starts with ``@user@host`` of the author (``@user`` when the author is on the
publishing instance) unless the text already mentions them: Mastodon notifies and threads by
mention. Each POST carries ``Idempotency-Key: {key}``; Mastodon returns the status created
first for a key it has seen (for one hour), so retries after a 5xx or a timeout use the same
key and never double-post.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from socialloop.engage.publish._http import (
    Http,
    RetryPolicy,
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
    RecordError,
)
from socialloop.listen.formats.mastodon import full_acct, origin_id

if TYPE_CHECKING:
    from socialloop.config import Settings

SECTION = "publish.mastodon"
DEFAULT_TOKEN_ENV = "SOCIALLOOP_MASTODON_TOKEN"
VISIBILITIES = ("public", "unlisted", "private", "direct")
NETWORK = "mastodon"


@dataclass(frozen=True, slots=True)
class MastodonConfig:
    """``[publish.mastodon]`` read and checked; ``token`` is the value of ``token_env``."""

    instance: str | None
    token_env: str
    token: str | None
    visibility: str = "public"
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> MastodonConfig:
        section = settings.section(SECTION)
        instance = require_str(section, "instance", SECTION)
        if instance is not None:
            instance = normalise_instance(instance)
        token_env = require_str(section, "token_env", SECTION) or DEFAULT_TOKEN_ENV
        visibility = require_str(section, "visibility", SECTION) or "public"
        if visibility not in VISIBILITIES:
            raise ConfigError(
                f"[{SECTION}] visibility must be one of {', '.join(VISIBILITIES)}, "
                f"not {visibility!r}"
            )
        token = (settings.environ.get(token_env) or "").strip() or None
        return cls(
            instance=instance,
            token_env=token_env,
            token=token,
            visibility=visibility,
            policy=RetryPolicy.from_section(section, SECTION),
        )

    @property
    def host(self) -> str:
        return (urlsplit(self.instance or "").hostname or "").lower()


def normalise_instance(value: str) -> str:
    """``mastodon.social`` or ``https://mastodon.social/`` -> ``https://mastodon.social``."""
    url = value if "://" in value else f"https://{value}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"[{SECTION}] instance {value!r} is not a URL like https://host")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class MastodonReply:
    """A reply ready to send: the final text, and either the local id of the status it answers
    or the uri / url to look that id up with."""

    status: str
    in_reply_to_id: str | None
    lookup: str | None
    visibility: str
    key: str


def with_mention(text: str, handle: str | None, instance_host: str) -> str:
    """``text`` starting with the author's mention unless it mentions them already."""
    if not handle:
        return text
    user, _, host = handle.strip().lstrip("@").partition("@")
    if not user:
        return text
    host = host.lower()
    local = not host or host == instance_host
    full = f"@{user}@{host}" if host else f"@{user}"
    after = r"(?![\w@-])"
    if re.search(rf"(?<![\w@]){re.escape(full)}{after}", text, re.IGNORECASE):
        return text
    if local and re.search(rf"(?<![\w@])@{re.escape(user)}{after}", text, re.IGNORECASE):
        return text
    return f"{'@' + user if local else full} {text}"


class MastodonPublisher:
    """Replies as the account of ``[publish.mastodon]`` (see the module docs)."""

    network = NETWORK

    def __init__(self, config: MastodonConfig, http: Http) -> None:
        self.config = config
        self.http = http

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> MastodonPublisher:
        config = MastodonConfig.from_settings(settings)
        return cls(config, Http(config.policy, transport=transport, sleep=sleep))

    # -- credentials

    def _credentials(self) -> tuple[str, str]:
        cfg = self.config
        if cfg.instance is None:
            raise PublishAuthError(
                f"mastodon: no instance is set ([{SECTION}] instance)",
                network=NETWORK,
                setting=f"{SECTION}.instance",
            )
        if cfg.token is None:
            raise PublishAuthError(
                f"mastodon: no access token (environment variable {cfg.token_env} is not set)",
                network=NETWORK,
                setting=cfg.token_env,
            )
        return cfg.instance, cfg.token

    # -- building

    def prepare(self, target: ReplyTarget, text: str, key: str) -> MastodonReply:
        """Check everything that can be checked offline and build the reply."""
        self._credentials()
        body = check_text(text, NETWORK)
        key = check_key(key, NETWORK)
        raw = target.raw or {}
        host, _, local = target.native_id.partition("/")
        known = local if host.lower() == self.config.host and local.isdigit() else None
        lookup = None
        if known is None:
            for candidate in (raw.get("uri"), raw.get("url"), target.url):
                if isinstance(candidate, str) and candidate.startswith(("https://", "http://")):
                    lookup = candidate
                    break
            if lookup is None:
                raise PublishNotAllowed(
                    f"mastodon: post {target.post_id} is not from {self.config.host} and has no "
                    "status uri or url to look it up there",
                    network=NETWORK,
                )
        handle = target.author_handle
        account = raw.get("account")
        if not handle and isinstance(account, dict):
            try:
                handle = full_acct(account, host or None)
            except RecordError:
                handle = None
        status = with_mention(body, handle, self.config.host)
        return MastodonReply(status, known, lookup, self.config.visibility, key)

    def request(self, reply: MastodonReply, in_reply_to_id: str) -> httpx.Request:
        """The ``POST /api/v1/statuses`` request of a prepared reply."""
        instance, token = self._credentials()
        return self.http.request(
            "POST",
            f"{instance}/api/v1/statuses",
            json={
                "status": reply.status,
                "in_reply_to_id": in_reply_to_id,
                "visibility": reply.visibility,
            },
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": reply.key},
        )

    # -- sending

    def publish(
        self, target: ReplyTarget, text: str, *, key: str, dry_run: bool = False
    ) -> Published:
        reply = self.prepare(target, text, key)
        if dry_run:
            self.request(reply, reply.in_reply_to_id or "")  # built, never sent
            return Published(target.network, "", None)
        with self.http.client() as client:
            if reply.in_reply_to_id is not None:
                local_id = reply.in_reply_to_id
            else:
                assert reply.lookup is not None
                local_id = self._resolve(client, target, reply.lookup)
            response = send(
                self.http,
                client,
                lambda: self.request(reply, local_id),
                network=NETWORK,
                what=f"the reply to {target.post_id}",
            )
        if response.status_code != 200:
            raise self._refused(response, f"the reply to {target.post_id}")
        status = json_object(response, NETWORK, "POST /api/v1/statuses")
        return self._published(target.network, status)

    def _published(self, network: str, status: dict[str, Any]) -> Published:
        try:
            native = origin_id(status)
        except RecordError as exc:
            raise PublishOutcomeUnknown(
                f"mastodon: the instance accepted the reply but its answer is not a status ({exc})",
                network=NETWORK,
            ) from exc
        url = status.get("url") or status.get("uri")
        return Published(network, native, url if isinstance(url, str) else None)

    def _headers(self) -> dict[str, str]:
        _, token = self._credentials()
        return {"Authorization": f"Bearer {token}"}

    def _resolve(self, client: httpx.Client, target: ReplyTarget, lookup: str) -> str:
        """The local id of a status from another instance (``/api/v2/search`` with resolve)."""
        instance, _ = self._credentials()
        response = send(
            self.http,
            client,
            lambda: self.http.request(
                "GET",
                f"{instance}/api/v2/search",
                params={"q": lookup, "resolve": "true", "type": "statuses", "limit": "5"},
                headers=self._headers(),
            ),
            network=NETWORK,
            what=f"looking up {lookup}",
        )
        if response.status_code != 200:
            raise self._refused(response, f"looking up {lookup}")
        body = json_object(response, NETWORK, "GET /api/v2/search")
        statuses = body.get("statuses")
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, dict) or status.get("id") in (None, ""):
                continue
            try:
                same = origin_id(status) == target.native_id
            except RecordError:
                same = False
            if same or lookup in (status.get("uri"), status.get("url")):
                return str(status["id"])
        raise PublishNotAllowed(
            f"mastodon: {self.config.host} could not find the status {lookup} (deleted, "
            "private, or its instance unreachable)",
            network=NETWORK,
        )

    def _refused(self, response: httpx.Response, what: str) -> PublishError:
        said = error_text(response)
        status = response.status_code
        if status == 401:
            return PublishAuthError(
                f"mastodon: {self.config.host} rejected the access token in "
                f"{self.config.token_env} ({said})",
                network=NETWORK,
                setting=self.config.token_env,
            )
        if status == 403 and "scope" in said.lower():
            return PublishAuthError(
                f"mastodon: the access token in {self.config.token_env} lacks a needed scope "
                f"(write:statuses to post, read:search to look statuses up): {said}",
                network=NETWORK,
                setting=self.config.token_env,
            )
        if status == 404:
            return PublishNotAllowed(
                f"mastodon: {what}: the status was not found on {self.config.host} ({said})",
                network=NETWORK,
            )
        return PublishNotAllowed(
            f"mastodon: {self.config.host} refused {what}: HTTP {status} ({said})",
            network=NETWORK,
        )

    # -- credentials check

    def check(self) -> str:
        """Verify the token (``GET /api/v1/accounts/verify_credentials``); the account as
        ``user@instance``."""
        instance, _ = self._credentials()
        with self.http.client() as client:
            response = send(
                self.http,
                client,
                lambda: self.http.request(
                    "GET",
                    f"{instance}/api/v1/accounts/verify_credentials",
                    headers=self._headers(),
                ),
                network=NETWORK,
                what="verifying the credentials",
            )
        if response.status_code != 200:
            raise self._refused(response, "verifying the credentials")
        account = json_object(response, NETWORK, "verify_credentials")
        try:
            return full_acct(account, self.config.host)
        except RecordError as exc:
            raise PublishError(f"mastodon: unexpected account answer ({exc})") from exc
