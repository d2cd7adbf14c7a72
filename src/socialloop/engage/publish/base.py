"""The publishing contract: what a reply is sent to (:class:`ReplyTarget`), what comes back
(:class:`Published`), the :class:`Publisher` protocol, and :func:`publisher_for`, which picks
the publisher of a network from the workspace settings.

Networks with a supported reply API: ``mastodon`` (``publish.mastodon`` settings) and
``bluesky`` (``publish.bluesky``). Every other network (twitter / x, reddit, youtube, ...) gets
``None``: the reply is recorded and the agent answers on the network itself, from the post's
link.

Dry run: ``publish(..., dry_run=True)`` checks the settings and credentials are present, the
target carries what a reply needs and the text is acceptable, builds the request, and sends
nothing at all (no session, no lookup). It returns ``Published(network, native_id="",
url=None)``: an empty ``native_id`` always means "nothing was published".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from socialloop.config import Settings
    from socialloop.models import Post

#: The network names each publisher answers to (Post.network values).
MASTODON_NETWORKS = frozenset({"mastodon"})
BLUESKY_NETWORKS = frozenset({"bluesky", "bsky"})


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The post being answered, as stored: ``native_id`` and ``raw`` come from the import
    (``listen.formats.<network>``); ``post_id`` is ``network:native_id``."""

    network: str
    native_id: str
    post_id: str
    author_handle: str | None
    url: str | None
    raw: dict[str, Any] | None

    @classmethod
    def from_post(cls, post: Post) -> ReplyTarget:
        """The target of a :class:`~socialloop.models.Post` (as imported or read back)."""
        handle = post.author.handle if post.author is not None else None
        return cls(post.network, post.native_id, post.id, handle, post.url, post.raw)


@dataclass(frozen=True, slots=True)
class Published:
    """The reply as the network stored it: ``native_id`` in the same form the importer gives
    posts of that network (so ``network:native_id`` is the reply's post id), and its web link.
    ``native_id == ""`` (and ``url is None``) after a dry run."""

    network: str
    native_id: str
    url: str | None

    @property
    def dry_run(self) -> bool:
        """True when nothing was published (a dry run)."""
        return not self.native_id


class Publisher(Protocol):
    """Sends one reply. ``key`` identifies the reply for good: publishing the same reply again
    with the same key (after a timeout or :class:`~socialloop.errors.PublishOutcomeUnknown`)
    never creates a second post."""

    network: str

    def publish(
        self, target: ReplyTarget, text: str, *, key: str, dry_run: bool = False
    ) -> Published: ...


def publisher_for(
    network: str,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Publisher | None:
    """The publisher of ``network`` configured from ``settings`` (None: replies to that network
    cannot be published through an API; answer on the network itself).

    Settings are read (and badly typed values raise ``ConfigError``) now; missing credentials
    raise ``PublishAuthError`` when publishing, dry runs included. ``transport`` replaces the
    network (tests: ``httpx.MockTransport``); ``sleep`` replaces ``time.sleep`` between retries.
    """
    name = network.strip().lower()
    wait = sleep if sleep is not None else time.sleep
    if name in MASTODON_NETWORKS:
        from socialloop.engage.publish.mastodon import MastodonPublisher

        return MastodonPublisher.from_settings(settings, transport=transport, sleep=wait)
    if name in BLUESKY_NETWORKS:
        from socialloop.engage.publish.bluesky import BlueskyPublisher

        return BlueskyPublisher.from_settings(settings, transport=transport, sleep=wait)
    return None


def check_text(text: str, network: str) -> str:
    """The reply text without surrounding blanks; empty text is :class:`PublishNotAllowed`."""
    from socialloop.errors import PublishNotAllowed

    cleaned = text.strip()
    if not cleaned:
        raise PublishNotAllowed(f"{network}: the reply text is empty", network=network)
    return cleaned


def check_key(key: str, network: str) -> str:
    """The idempotency key, which must not be blank (a blank key is a programming error)."""
    cleaned = key.strip()
    if not cleaned:
        raise ValueError(f"{network}: publish() needs a non-empty key")
    return cleaned
