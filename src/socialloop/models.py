"""Plain data objects that flow through socialloop: Post, Author, Brand, Interaction.

A ``Post`` is the normalised form every connector and file format maps to
(``map_item(raw) -> Post``). Identifiers follow ../DESIGN: a post is ``"{network}:{native_id}"``
and an author ``"{network}:{handle}"``. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

InteractionKind = Literal["reply", "mention", "reshare", "quote"]
INTERACTION_KINDS: tuple[InteractionKind, ...] = ("reply", "mention", "reshare", "quote")


def post_id(network: str, native_id: str) -> str:
    """The store id of a post: ``network:native_id``."""
    return f"{network}:{native_id}"


def author_id(network: str, handle: str) -> str:
    """The store id of an author: ``network:handle`` with the handle lower-cased."""
    return f"{network}:{handle.lstrip('@').lower()}"


def content_id(*parts: str) -> str:
    """A stable id for records that carry none (generic CSV rows): a hash of their content."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).hexdigest()
    return f"h{digest}"


@dataclass(slots=True)
class Author:
    """A person or account on a network."""

    network: str
    handle: str
    name: str | None = None
    followers: int | None = None
    following: int | None = None
    bio: str | None = None
    verified: bool | None = None
    url: str | None = None

    @property
    def id(self) -> str:
        return author_id(self.network, self.handle)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "handle": self.handle,
            "name": self.name,
            "followers": self.followers,
            "following": self.following,
            "bio": self.bio,
            "verified": self.verified,
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Author:
        return cls(
            network=str(d["network"]),
            handle=str(d["handle"]),
            name=d.get("name"),
            followers=d.get("followers"),
            following=d.get("following"),
            bio=d.get("bio"),
            verified=d.get("verified"),
            url=d.get("url"),
        )


@dataclass(slots=True)
class Post:
    """One public post, normalised.

    ``parent_id``, ``reshare_of`` and ``quote_of`` are store ids of other posts (which may not be
    imported). ``reply_to_handle`` is the handle of the parent's author when the payload says it.
    ``mentions`` and ``hashtags`` are lower-case without ``@`` / ``#``.
    """

    network: str
    native_id: str
    text: str
    created_at: datetime
    author: Author | None = None
    url: str | None = None
    lang: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    reshare_of: str | None = None
    quote_of: str | None = None
    reply_to_handle: str | None = None
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    likes: int | None = None
    reshares: int | None = None
    replies: int | None = None
    views: int | None = None
    collected_at: datetime | None = None
    raw: dict[str, Any] | None = None
    source: str | None = None

    @property
    def id(self) -> str:
        return post_id(self.network, self.native_id)

    @property
    def author_id(self) -> str | None:
        return self.author.id if self.author is not None else None

    @property
    def author_handle(self) -> str | None:
        return self.author.handle.lstrip("@").lower() if self.author is not None else None

    def to_dict(self) -> dict[str, Any]:
        """The socialloop native JSON form (what ``simulate --out`` and ``export`` write)."""
        return {
            "id": self.id,
            "network": self.network,
            "native_id": self.native_id,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "author": self.author.to_dict() if self.author is not None else None,
            "url": self.url,
            "lang": self.lang,
            "parent_id": self.parent_id,
            "root_id": self.root_id,
            "reshare_of": self.reshare_of,
            "quote_of": self.quote_of,
            "reply_to_handle": self.reply_to_handle,
            "mentions": self.mentions,
            "hashtags": self.hashtags,
            "links": self.links,
            "likes": self.likes,
            "reshares": self.reshares,
            "replies": self.replies,
            "views": self.views,
        }


@dataclass(slots=True)
class Brand:
    """A brand the team follows: its own, or a competitor."""

    name: str
    query: str
    competitor: bool = False
    values: str | None = None
    assumptions: list[str] = field(default_factory=list)
    # the brand's own accounts: "network:handle" (one network) or "handle" (any network)
    accounts: list[str] = field(default_factory=list)
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "query": self.query,
            "competitor": self.competitor,
            "values": self.values,
            "assumptions": list(self.assumptions),
            "accounts": list(self.accounts),
        }

    def owns(self, author: str | None) -> bool:
        """Whether author id ``network:handle`` is one of the brand's own accounts."""
        if not author:
            return False
        author = author.lower()
        handle = author.split(":", 1)[-1]
        return any(a == author or (":" not in a and a == handle) for a in self.accounts)


def normalise_account(spec: str) -> str:
    """An account as stored on a brand: ``network:handle`` or ``handle``, lower-case, no ``@``."""
    spec = spec.strip()
    network, sep, handle = spec.rpartition(":")
    handle = handle.strip().lstrip("@").lower()
    if not handle or (sep and not network.strip()):
        raise ValueError(f"not an account: {spec!r} (expected HANDLE or NETWORK:HANDLE)")
    return f"{network.strip().lower()}:{handle}" if sep else handle


@dataclass(slots=True, frozen=True)
class Interaction:
    """An author -> author edge created by a post (reply, mention, reshare, quote).

    ``target`` is the post id (reply, reshare, quote) or the author id (mention) the edge points
    at; ``target_author_id`` is filled when known (for replies it may be resolved later from the
    parent post).
    """

    kind: InteractionKind
    post_id: str
    source_author_id: str | None
    target: str
    target_author_id: str | None
    created_at: datetime


def interactions_of(post: Post) -> list[Interaction]:
    """The interaction edges a post creates."""
    src = post.author_id
    out: list[Interaction] = []
    if post.parent_id:
        tgt_author = author_id(post.network, post.reply_to_handle) if post.reply_to_handle else None
        out.append(Interaction("reply", post.id, src, post.parent_id, tgt_author, post.created_at))
    if post.reshare_of:
        out.append(Interaction("reshare", post.id, src, post.reshare_of, None, post.created_at))
    if post.quote_of:
        out.append(Interaction("quote", post.id, src, post.quote_of, None, post.created_at))
    for handle in post.mentions:
        aid = author_id(post.network, handle)
        out.append(Interaction("mention", post.id, src, aid, aid, post.created_at))
    return out
