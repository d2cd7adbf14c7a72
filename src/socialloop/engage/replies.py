"""Replies: saved replies with variables per language, drafts, approval and sending.

Reply states::

    draft ----------------------------> sending -> sent      (published through the API)
    pending -> approved --------------^         -> manual    (network without a reply API:
                                                              the agent posts it at the link)
                                                -> failed -> sending (retry, same key)

A reply is ``pending`` when its agent needs approval (``agents.needs_approval``, or its role is
listed in ``[inbox] require_approval``); only an approver can approve it. Drafting claims the
item for the agent; sending checks that no other agent holds the claim or answered the item
after the draft was written (the double-answer guard), moves the reply to ``sending`` with a
conditional update (so two senders cannot both pass), and publishes with the idempotency key
``socialloop-reply-<id>-<digest of item and creation time>``: a retry after a failure can
never post twice, and two workspaces never share a key.

Saved reply variables: ``{author}`` (the author's handle with @), ``{handle}``, ``{brand}``,
``{agent}``, ``{network}``, ``{url}``, ``{post_id}``, plus any given with ``variables``. A
variable without a value is :class:`MissingVariable`, naming the ones available.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from socialloop.engage.agents import get_agent
from socialloop.engage.audit import from_db, record, to_db
from socialloop.engage.inbox import Inbox, Item
from socialloop.engage.publish.base import Publisher, ReplyTarget
from socialloop.errors import (
    ApprovalRequired,
    InboxError,
    InvalidValue,
    ItemClaimed,
    ItemNotFound,
    MissingVariable,
    SocialloopError,
)
from socialloop.store.schema import replies, saved_replies

PublisherFactory = Callable[[str], "Publisher | None"]
"""network -> the publisher replies to it go through (None: post manually)."""

SENDABLE: tuple[str, ...] = ("draft", "approved", "failed")
FINAL: tuple[str, ...] = ("sent", "manual")


@dataclass(frozen=True, slots=True)
class SavedReply:
    name: str
    lang: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "lang": self.lang, "text": self.text}


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    item_id: int
    agent: str
    text: str
    saved_reply: str | None
    status: str
    approved_by: str | None
    published_id: str | None
    published_url: str | None
    error: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None

    @property
    def key(self) -> str:
        """The idempotency key the networks see for this reply: stable for the reply (retries
        reuse it) and unique across workspaces (ids restart in a new workspace, so the key
        also carries a digest of the reply's item and creation time)."""
        stamp = f"{self.item_id}|{self.created_at.isoformat()}".encode()
        return f"socialloop-reply-{self.id}-{hashlib.sha256(stamp).hexdigest()[:12]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_id": self.item_id,
            "agent": self.agent,
            "text": self.text,
            "saved_reply": self.saved_reply,
            "status": self.status,
            "approved_by": self.approved_by,
            "published_id": self.published_id,
            "published_url": self.published_url,
            "error": self.error,
            "attempts": self.attempts,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


@dataclass(frozen=True, slots=True)
class SendResult:
    reply: Reply
    dry_run: bool
    manual: bool
    link: str | None


def render(template: str, values: Mapping[str, str], *, name: str = "reply") -> str:
    """``template`` with ``{variables}`` filled from ``values`` (``{{`` is a literal brace)."""
    out: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidValue(
            f"saved reply {name!r}: {exc} (write {{{{ for a literal brace)"
        ) from None
    for literal, field_name, spec, conv in parsed:
        out.append(literal)
        if field_name is None:
            continue
        if not field_name.isidentifier() or spec or conv:
            raise InvalidValue(
                f"saved reply {name!r}: {{{field_name}}} is not a plain variable like {{author}}"
            )
        if field_name not in values or values[field_name] is None:
            raise MissingVariable(
                f"saved reply {name!r} uses {{{field_name}}}, which has no value here; "
                f"available: {', '.join('{' + k + '}' for k in sorted(values))}"
            )
        out.append(str(values[field_name]))
    return "".join(out)


def variables(item: Item, agent: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    values = {
        "brand": item.brand,
        "agent": agent,
        "network": item.network,
        "post_id": item.post_id,
    }
    if item.author_handle:
        values["author"] = "@" + item.author_handle
        values["handle"] = item.author_handle
    if item.url:
        values["url"] = item.url
    return {**values, **dict(extra or {})}


def _reply(r: Any) -> Reply:
    created = from_db(r.created_at)
    assert created is not None
    return Reply(
        r.id,
        r.item_id,
        r.agent,
        r.text,
        r.saved_reply,
        r.status,
        r.approved_by,
        r.published_id,
        r.published_url,
        r.error,
        r.attempts,
        created,
        from_db(r.sent_at),
    )


class Replies:
    """Saved replies and the replies of an :class:`Inbox`."""

    def __init__(self, inbox: Inbox, *, publishers: PublisherFactory | None = None) -> None:
        self.inbox = inbox
        self.store = inbox.store
        self._publishers = publishers

    def publisher(
        self, network: str, transport: httpx.BaseTransport | None = None
    ) -> Publisher | None:
        """The publisher for ``network`` (None: post manually): the injected factory's, else
        ``socialloop.engage.publish.publisher_for`` from the workspace settings."""
        if self._publishers is not None:
            return self._publishers(network)
        from socialloop.engage.publish import publisher_for

        return publisher_for(network, self.inbox.ws.settings, transport=transport)

    # -- saved replies -----------------------------------------------------------------------

    def save(
        self, name: str, text: str, *, lang: str = "en", actor: str, replace: bool = False
    ) -> SavedReply:
        name, lang = name.strip(), lang.strip().lower()
        if not name or not text.strip():
            raise InvalidValue("a saved reply needs a name and a text")
        render(text, {k: "x" for k in _names(text)}, name=name)  # syntax check only
        now = to_db(self.inbox.clock())
        try:
            with self.store.engine.begin() as conn:
                if replace:
                    conn.execute(
                        saved_replies.delete().where(
                            saved_replies.c.name == name, saved_replies.c.lang == lang
                        )
                    )
                conn.execute(
                    saved_replies.insert().values(
                        name=name, lang=lang, text=text, created_at=now, updated_at=now
                    )
                )
                record(
                    conn,
                    at=self.inbox.clock(),
                    actor=actor,
                    action="saved_reply.add",
                    details={"name": name, "lang": lang},
                )
        except IntegrityError:
            raise InvalidValue(
                f"saved reply {name!r} in {lang!r} already exists (replace it with --replace)"
            ) from None
        return SavedReply(name, lang, text)

    def saved(self, name: str | None = None) -> list[SavedReply]:
        stmt = select(saved_replies).order_by(saved_replies.c.name, saved_replies.c.lang)
        if name is not None:
            stmt = stmt.where(saved_replies.c.name == name)
        with self.store.begin() as conn:
            return [SavedReply(r.name, r.lang, r.text) for r in conn.execute(stmt)]

    def pick_saved(self, name: str, lang: str | None) -> SavedReply:
        """The saved reply ``name`` in ``lang``, else in English, else the only one."""
        found = {s.lang: s for s in self.saved(name)}
        if not found:
            raise ItemNotFound(f"no saved reply named {name!r} (see `saved-reply list`)")
        for want in (lang, "en"):
            if want and want in found:
                return found[want]
        if len(found) == 1:
            return next(iter(found.values()))
        raise MissingVariable(
            f"saved reply {name!r} has no {lang or 'unknown-language'} version; "
            f"it has {', '.join(sorted(found))}"
        )

    def draft_with_llm(
        self, item_id: int, *, transport: httpx.BaseTransport | None = None
    ) -> str | None:
        """A reply drafted by the OpenAI-compatible endpoint of ``[engage.llm]`` for the item's
        post (its thread's earlier posts as context), or None when no endpoint is enabled.
        The text is a suggestion: the agent edits it and drafts it with :meth:`draft`."""
        from socialloop.engage.suggest import LLMSuggester

        suggester = LLMSuggester.from_settings(self.inbox.ws.settings, transport=transport)
        if suggester is None:
            return None
        item = self.inbox.get(item_id)
        return suggester.suggest(item.text, brand=item.brand, author=item.author_handle)

    def suggest(self, item_id: int, *, limit: int = 3) -> list[tuple[SavedReply, float]]:
        """Saved replies ranked by similarity to the item's post, best first; versions in
        the post's language first (``engage.suggest.rank_saved_replies``)."""
        from socialloop.engage.suggest import rank_saved_replies

        item = self.inbox.get(item_id)
        pool = {f"{s.name}\x1f{s.lang}": s for s in self.saved()}
        ranked = rank_saved_replies(
            item.text,
            item.lang,
            [(key, s.text) for key, s in pool.items()],
            languages={key: s.lang for key, s in pool.items()},
        )
        out: list[tuple[SavedReply, float]] = []
        seen: set[str] = set()
        for key, score in ranked:
            saved = pool[key]
            if saved.name not in seen:
                seen.add(saved.name)
                out.append((saved, score))
        return out[:limit]

    # -- replies -----------------------------------------------------------------------------

    def get(self, reply_id: int) -> Reply:
        with self.store.begin() as conn:
            row = conn.execute(select(replies).where(replies.c.id == reply_id)).first()
        if row is None:
            raise ItemNotFound(
                f"no reply {reply_id} (an item's replies and their ids: `inbox show ITEM`)"
            )
        return _reply(row)

    def of_item(self, item_id: int) -> list[Reply]:
        with self.store.begin() as conn:
            rows = conn.execute(
                select(replies).where(replies.c.item_id == item_id).order_by(replies.c.id)
            ).all()
        return [_reply(r) for r in rows]

    def draft(
        self,
        item_id: int,
        *,
        agent: str,
        text: str | None = None,
        saved: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Reply:
        """Write a reply as ``agent`` (claiming the item): ``text`` or saved reply ``saved``."""
        if (text is None) == (saved is None):
            raise InvalidValue("give either a text or a saved reply, not both or neither")
        now = self.inbox.clock()
        with self.store.begin() as conn:
            who = get_agent(self.store, agent, conn)
            item = self.inbox.get(item_id, conn)
            if item.status in ("resolved", "dismissed"):
                raise InboxError(f"item {item_id} is {item.status}; it takes no more replies")
            if saved is not None:
                template = self.pick_saved(saved, item.lang)
                body = render(template.text, variables(item, agent, extra), name=saved)
            else:
                assert text is not None
                body = text
            if not body.strip():
                raise InvalidValue("the reply text is empty")
            self.inbox.claim(item_id, agent, conn=conn)
            needs = who.needs_approval or who.role in self.inbox.rules.require_approval
            status = "pending" if needs else "draft"
            conn.execute(
                replies.insert().values(
                    item_id=item_id,
                    agent=agent,
                    text=body,
                    saved_reply=saved,
                    status=status,
                    attempts=0,
                    created_at=to_db(now),
                    updated_at=to_db(now),
                )
            )
            rid = (
                conn.execute(
                    select(replies.c.id)
                    .where(replies.c.item_id == item_id)
                    .order_by(replies.c.id.desc())
                )
                .scalars()
                .first()
            )
            record(
                conn,
                at=now,
                actor=agent,
                action="reply.draft",
                item_id=item_id,
                details={"reply": rid, "status": status, "saved_reply": saved, "text": body},
            )
        assert rid is not None
        return self.get(rid)

    def approve(self, reply_id: int, *, approver: str) -> Reply:
        now = self.inbox.clock()
        with self.store.begin() as conn:
            who = get_agent(self.store, approver, conn)
            if who.role != "approver":
                raise ApprovalRequired(f"{approver} is not an approver (role {who.role})")
            reply = self.get(reply_id)
            if reply.status != "pending":
                raise InboxError(f"reply {reply_id} is {reply.status}, not pending approval")
            conn.execute(
                update(replies)
                .where(replies.c.id == reply_id, replies.c.status == "pending")
                .values(
                    status="approved",
                    approved_by=approver,
                    approved_at=to_db(now),
                    updated_at=to_db(now),
                )
            )
            record(
                conn,
                at=now,
                actor=approver,
                action="reply.approve",
                item_id=reply.item_id,
                details={"reply": reply_id},
            )
        return self.get(reply_id)

    def _check_send(self, reply: Reply, item: Item) -> None:
        now = self.inbox.clock()
        if reply.status in FINAL:
            raise InboxError(f"reply {reply.id} was already {reply.status}; it is never sent twice")
        if reply.status == "pending":
            raise ApprovalRequired(
                f"reply {reply.id} waits for an approver (`inbox approve {reply.id}`)"
            )
        if reply.status == "sending" and not self._stale(reply):
            raise InboxError(f"reply {reply.id} is being sent right now; try again later")
        if reply.status not in (*SENDABLE, "sending"):
            raise InboxError(f"reply {reply.id} is {reply.status}; it cannot be sent now")
        if item.status in ("resolved", "dismissed"):
            raise InboxError(f"item {item.id} is {item.status}; its replies are not sent")
        live = item.claim_expires_at is not None and item.claim_expires_at > now
        if item.claimed_by and item.claimed_by != reply.agent and live:
            raise ItemClaimed(
                f"item {item.id} is being answered by {item.claimed_by}; "
                f"{reply.agent}'s reply {reply.id} was not sent",
                owner=item.claimed_by,
            )
        if (
            item.first_responder
            and item.first_responder != reply.agent
            and item.first_response_at
            and item.first_response_at >= reply.created_at
        ):
            raise ItemClaimed(
                f"item {item.id} was answered by {item.first_responder} after this draft was "
                f"written; {reply.agent}'s reply {reply.id} was not sent",
                owner=item.first_responder,
            )

    def send(
        self,
        reply_id: int,
        *,
        dry_run: bool = False,
        transport: httpx.BaseTransport | None = None,
    ) -> SendResult:
        """Publish the reply (or record it for manual posting); see the module docstring."""
        reply = self.get(reply_id)
        item = self.inbox.get(reply.item_id)
        self._check_send(reply, item)
        publisher = self.publisher(item.network, transport)
        target = ReplyTarget(
            item.network, item.native_id, item.post_id, item.author_handle, item.url, item.raw
        )
        if dry_run:
            if publisher is not None:
                publisher.publish(target, reply.text, key=reply.key, dry_run=True)
            return SendResult(reply, True, publisher is None, item.url)
        now = self.inbox.clock()
        stale = now - timedelta(minutes=self.inbox.rules.claim_minutes)
        with self.store.begin() as conn:
            res = conn.execute(
                update(replies)
                .where(
                    replies.c.id == reply_id,
                    replies.c.status.in_(SENDABLE)
                    | ((replies.c.status == "sending") & (replies.c.updated_at < to_db(stale))),
                )
                .values(status="sending", attempts=replies.c.attempts + 1, updated_at=to_db(now))
            )
            if res.rowcount != 1:
                raise InboxError(f"reply {reply_id} is being sent by someone else")
        published = None
        if publisher is not None:
            try:
                published = publisher.publish(target, reply.text, key=reply.key)
            except SocialloopError as exc:
                self._fail(reply, str(exc))
                raise
            except BaseException as exc:  # interrupted: a retry with the same key is safe
                self._fail(reply, f"interrupted: {exc!r}")
                raise
        now = self.inbox.clock()
        with self.store.begin() as conn:
            who = get_agent(self.store, reply.agent, conn)
            item = self.inbox.get(reply.item_id, conn)
            conn.execute(
                update(replies)
                .where(replies.c.id == reply_id)
                .values(
                    status="sent" if published else "manual",
                    published_id=published.native_id if published else None,
                    published_url=published.url if published else None,
                    error=None,
                    sent_at=to_db(now),
                    updated_at=to_db(now),
                )
            )
            self.inbox.mark_replied(conn, item, who, now)
            record(
                conn,
                at=now,
                actor=reply.agent,
                action="reply.send" if published else "reply.manual",
                item_id=item.id,
                details={
                    "reply": reply_id,
                    "network": item.network,
                    "published_id": published.native_id if published else None,
                    "url": published.url if published else item.url,
                },
            )
        return SendResult(self.get(reply_id), False, published is None, item.url)

    def _stale(self, reply: Reply) -> bool:
        """A reply left ``sending`` longer than a claim lasts (a crash mid-send): it may be
        sent again; the idempotency key keeps the network from posting it twice."""
        with self.store.begin() as conn:
            at = conn.execute(select(replies.c.updated_at).where(replies.c.id == reply.id)).scalar()
        last = from_db(at)
        cutoff = self.inbox.clock() - timedelta(minutes=self.inbox.rules.claim_minutes)
        return last is not None and last < cutoff

    def _fail(self, reply: Reply, error: str) -> None:
        now = self.inbox.clock()
        with self.store.begin() as conn:
            conn.execute(
                update(replies)
                .where(replies.c.id == reply.id)
                .values(status="failed", error=error, updated_at=to_db(now))
            )
            record(
                conn,
                at=now,
                actor=reply.agent,
                action="reply.failed",
                item_id=reply.item_id,
                details={"reply": reply.id, "error": error},
            )


def _names(template: str) -> Sequence[str]:
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError:
        return []
