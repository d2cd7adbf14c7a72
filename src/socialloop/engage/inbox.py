"""The inbox's store operations: items, the workflow, assignment, claims, notes and tags.

Workflow (``ALLOWED``)::

    new -> assigned -> replied -> resolved
      \\________\\__________\\----> dismissed

``assigned -> assigned`` reassigns, ``replied -> replied`` is a follow-up reply; resolved and
dismissed are final. A step the status does not allow is :class:`InvalidTransition`, naming
the allowed ones.

Every change bumps the item's ``version`` and is written with ``WHERE version = <read>``
(optimistic concurrency): a concurrent change makes the second writer fail instead of
overwriting. The claim (``claimed_by`` until ``claim_expires_at``) is the guard against two
agents answering one item: drafting a reply claims the item, and sending checks the claim.
Every action is written to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from socialloop.engage import priority as prio
from socialloop.engage import sla
from socialloop.engage.agents import Agent, get_agent, list_agents, pick_agent
from socialloop.engage.audit import Clock, from_db, record, to_db, utcnow
from socialloop.engage.rules import InboxRules, load_rules
from socialloop.errors import (
    InboxError,
    InvalidTransition,
    InvalidValue,
    ItemClaimed,
    ItemNotFound,
)
from socialloop.store.schema import (
    agents,
    authors,
    brands,
    inbox_items,
    inbox_notes,
    inbox_tags,
    post_labels,
    posts,
)
from socialloop.workspace import Workspace

STATUSES: tuple[str, ...] = ("new", "assigned", "replied", "resolved", "dismissed")
ALLOWED: dict[str, tuple[str, ...]] = {
    "new": ("assigned", "dismissed"),
    "assigned": ("assigned", "replied", "dismissed"),
    "replied": ("replied", "resolved", "dismissed"),
    "resolved": (),
    "dismissed": (),
}
OPEN: tuple[str, ...] = ("new", "assigned", "replied")


@dataclass(frozen=True, slots=True)
class Note:
    author: str
    text: str
    at: datetime


@dataclass(slots=True)
class Item:
    """An inbox item with what the inbox shows of its post."""

    id: int
    post_pk: int
    post_id: str
    brand: str
    status: str
    priority: float
    components: dict[str, float]
    reasons: list[str]
    intents: list[str]
    lang: str | None
    assignee: str | None
    claimed_by: str | None
    claim_expires_at: datetime | None
    posted_at: datetime
    due_at: datetime | None
    target_minutes: int
    sla: str
    first_response_at: datetime | None
    first_responder: str | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    network: str
    native_id: str
    author: str | None
    author_handle: str | None
    url: str | None
    text: str
    raw: dict[str, Any] | None
    topic: str | None
    tags: list[str]

    def to_dict(self) -> dict[str, Any]:
        def iso(dt: datetime | None) -> str | None:
            return dt.isoformat() if dt is not None else None

        return {
            "id": self.id,
            "post_id": self.post_id,
            "brand": self.brand,
            "status": self.status,
            "priority": self.priority,
            "components": self.components,
            "reasons": self.reasons,
            "intents": self.intents,
            "lang": self.lang,
            "assignee": self.assignee,
            "claimed_by": self.claimed_by,
            "due_at": iso(self.due_at),
            "sla": self.sla,
            "posted_at": iso(self.posted_at),
            "first_response_at": iso(self.first_response_at),
            "resolved_at": iso(self.resolved_at),
            "created_at": iso(self.created_at),
            "network": self.network,
            "author": self.author,
            "url": self.url,
            "text": self.text,
            "tags": self.tags,
        }


def _aware(dt: datetime | None) -> datetime:
    out = from_db(dt)
    assert out is not None
    return out


class Inbox:
    """The workspace's inbox. ``clock`` returns aware UTC (injectable for tests)."""

    def __init__(self, ws: Workspace, *, clock: Clock | None = None) -> None:
        self.ws = ws
        self.store = ws.store
        self.clock = clock or utcnow
        self.rules: InboxRules = load_rules(ws.settings)

    # -- reading -----------------------------------------------------------------------------

    def _select(self, *, raw: bool = False) -> Any:
        """Items joined with their post, brand and assignee; ``raw``: with the post's raw
        payload (what a publisher needs; heavy, so only for single items)."""
        extra = [posts.c.raw] if raw else []
        return select(
            inbox_items,
            posts.c.id.label("post_id"),
            posts.c.network,
            posts.c.native_id,
            posts.c.author_id,
            posts.c.author_handle,
            posts.c.url,
            posts.c.text,
            *extra,
            brands.c.name.label("brand"),
            agents.c.name.label("assignee"),
            authors.c.handle.label("a_handle"),
        ).select_from(
            inbox_items.join(posts, posts.c.pk == inbox_items.c.post_pk)
            .join(brands, brands.c.id == inbox_items.c.brand_id)
            .outerjoin(agents, agents.c.id == inbox_items.c.assignee_id)
            .outerjoin(authors, authors.c.id == posts.c.author_id)
        )

    def _items(self, conn: Connection, stmt: Any) -> list[Item]:
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        tags: dict[int, list[str]] = {}
        for iid, tag in conn.execute(
            select(inbox_tags.c.item_id, inbox_tags.c.tag)
            .where(inbox_tags.c.item_id.in_(ids))
            .order_by(inbox_tags.c.tag)
        ):
            tags.setdefault(iid, []).append(tag)
        topics = dict(
            conn.execute(
                select(post_labels.c.post_pk, post_labels.c.label).where(
                    post_labels.c.field == "topic",
                    post_labels.c.post_pk.in_([r.post_pk for r in rows]),
                )
            ).all()
        )
        now = self.clock()
        policies: dict[str, sla.SlaPolicy] = {}
        out = []
        for r in rows:
            if r.brand not in policies:
                policies[r.brand] = sla.policy_for(self.store, r.brand)
            policy = policies[r.brand]
            posted = _aware(r.posted_at)
            components = prio.with_waiting(dict(r.components), posted, now)
            score = prio.total(components)
            target = policy.target(prio.band(r.priority), list(r.intents))
            due = from_db(r.due_at)
            responded = r.first_response_at is not None or r.status in ("resolved", "dismissed")
            out.append(
                Item(
                    id=r.id,
                    post_pk=r.post_pk,
                    post_id=r.post_id,
                    brand=r.brand,
                    status=r.status,
                    priority=score,
                    components=components,
                    reasons=list(r.reasons),
                    intents=list(r.intents),
                    lang=r.lang,
                    assignee=r.assignee,
                    claimed_by=r.claimed_by,
                    claim_expires_at=from_db(r.claim_expires_at),
                    posted_at=posted,
                    due_at=due,
                    target_minutes=target,
                    sla=sla.state(
                        policy, due=due, target_minutes=target, now=now, responded=responded
                    ),
                    first_response_at=from_db(r.first_response_at),
                    first_responder=r.first_responder,
                    resolved_at=from_db(r.resolved_at),
                    created_at=_aware(r.created_at),
                    updated_at=_aware(r.updated_at),
                    version=r.version,
                    network=r.network,
                    native_id=r.native_id,
                    author=r.author_id,
                    author_handle=r.a_handle or r.author_handle,
                    url=r.url,
                    text=r.text,
                    raw=getattr(r, "raw", None),
                    topic=topics.get(r.post_pk),
                    tags=tags.get(r.id, []),
                )
            )
        return out

    def get(self, item_id: int, conn: Connection | None = None) -> Item:
        if conn is None:
            with self.store.begin() as c:
                return self.get(item_id, c)
        found = self._items(conn, self._select(raw=True).where(inbox_items.c.id == item_id))
        if not found:
            raise ItemNotFound(f"no inbox item {item_id} (see `inbox list`)")
        return found[0]

    def list_items(
        self,
        *,
        brand: str | None = None,
        status: str | Sequence[str] | None = None,
        assignee: str | None = None,
        sla_state: str | None = None,
        limit: int | None = None,
    ) -> list[Item]:
        """Items, highest priority first (ties: oldest post first). ``status`` None or
        ``open``: open items (new, assigned, replied); ``sla_state``: ``at_risk`` or
        ``breached``. An unknown status is ``InvalidValue``; an unknown brand (matched as
        everywhere, case-insensitively) or agent is an error too, not an empty list."""
        stmt = self._select()
        if status is None or status == "open":
            statuses: Sequence[str] = OPEN
        else:
            statuses = (status,) if isinstance(status, str) else status
        bad = [s for s in statuses if s not in STATUSES and s != "all"]
        if bad:
            raise InvalidValue(f"unknown status {bad[0]!r}; use open, {', '.join(STATUSES)} or all")
        if "all" not in statuses:
            stmt = stmt.where(inbox_items.c.status.in_(list(statuses)))
        if brand is not None:
            stmt = stmt.where(brands.c.name == self.store.get_brand(brand).name)
        if assignee is not None:
            stmt = stmt.where(agents.c.name == get_agent(self.store, assignee).name)
        with self.store.begin() as conn:
            items = self._items(conn, stmt)
        if sla_state is not None:
            items = [i for i in items if i.sla == sla_state]
        items.sort(key=lambda i: (-i.priority, i.posted_at, i.id))
        return items[:limit] if limit is not None else items

    def is_empty(self) -> bool:
        """True when no item was ever triaged into the inbox (whatever their status)."""
        with self.store.begin() as conn:
            return conn.execute(select(inbox_items.c.id).limit(1)).first() is None

    def notes(self, item_id: int) -> list[Note]:
        with self.store.begin() as conn:
            rows = conn.execute(
                select(inbox_notes)
                .where(inbox_notes.c.item_id == item_id)
                .order_by(inbox_notes.c.id)
            ).all()
        return [Note(r.author, r.text, _aware(r.created_at)) for r in rows]

    # -- writing -----------------------------------------------------------------------------

    def _write(self, conn: Connection, item: Item, *, to: str | None = None, **values: Any) -> None:
        """Update the item at the version read; ``to``: a workflow step (checked)."""
        if to is not None:
            allowed = ALLOWED[item.status]
            if to not in allowed:
                names = ", ".join(allowed) if allowed else "nothing (it is final)"
                raise InvalidTransition(
                    f"item {item.id} is {item.status}: it cannot become {to}; "
                    f"from {item.status} it can become {names}",
                    status=item.status,
                    allowed=allowed,
                )
            values["status"] = to
        res = conn.execute(
            update(inbox_items)
            .where(inbox_items.c.id == item.id, inbox_items.c.version == item.version)
            .values(version=item.version + 1, updated_at=to_db(self.clock()), **values)
        )
        if res.rowcount != 1:
            raise InboxError(f"item {item.id} was changed by someone else meanwhile; try again")
        item.version += 1
        if to is not None:
            item.status = to

    def assign(self, item_id: int, agent: str | None = None, *, actor: str) -> tuple[Item, str]:
        """Assign to ``agent``, or automatically (None); returns (item, how)."""
        now = self.clock()
        with self.store.begin() as conn:
            item = self.get(item_id, conn)
            if agent is not None:
                chosen, how = get_agent(self.store, agent, conn), "manual"
            else:
                needs = [*item.intents, *item.tags, *([item.topic] if item.topic else [])]
                chosen, how = pick_agent(list_agents(self.store, conn), lang=item.lang, needs=needs)
            self._write(conn, item, to="assigned", assignee_id=chosen.id)
            conn.execute(
                update(agents).where(agents.c.id == chosen.id).values(last_assigned_at=to_db(now))
            )
            record(
                conn,
                at=now,
                actor=actor,
                action="assign",
                item_id=item_id,
                details={"to": chosen.name, "how": how},
            )
        return self.get(item_id), how

    def auto_assign(self, *, actor: str, brand: str | None = None) -> list[tuple[int, str]]:
        """Assign every new item (highest priority first) while agents have room."""
        done: list[tuple[int, str]] = []
        for item in self.list_items(brand=brand, status="new"):
            try:
                assigned, _ = self.assign(item.id, None, actor=actor)
            except InboxError:
                continue
            done.append((item.id, assigned.assignee or ""))
        return done

    def claim(
        self, item_id: int, agent: str, *, actor: str | None = None, conn: Connection | None = None
    ) -> Item:
        """Hold the item for ``agent`` for ``claim_minutes``; another agent's live claim is
        :class:`ItemClaimed`."""
        if conn is None:
            with self.store.begin() as c:
                return self.claim(item_id, agent, actor=actor, conn=c)
        now = self.clock()
        item = self.get(item_id, conn)
        if (
            item.claimed_by
            and item.claimed_by != agent
            and item.claim_expires_at
            and item.claim_expires_at > now
        ):
            raise ItemClaimed(
                f"item {item_id} is being answered by {item.claimed_by} until "
                f"{item.claim_expires_at.isoformat(timespec='minutes')}",
                owner=item.claimed_by,
                until=item.claim_expires_at.isoformat(),
            )
        until = now + timedelta(minutes=self.rules.claim_minutes)
        self._write(conn, item, claimed_by=agent, claim_expires_at=to_db(until))
        item.claimed_by, item.claim_expires_at = agent, until
        record(
            conn,
            at=now,
            actor=actor or agent,
            action="claim",
            item_id=item_id,
            details={"agent": agent, "until": until.isoformat()},
        )
        return item

    def release(self, item_id: int, *, actor: str) -> None:
        with self.store.begin() as conn:
            item = self.get(item_id, conn)
            if item.claimed_by is None:
                return
            if (
                item.claimed_by != actor
                and item.claim_expires_at
                and item.claim_expires_at > self.clock()
            ):
                raise ItemClaimed(
                    f"item {item_id} is claimed by {item.claimed_by}, not {actor}",
                    owner=item.claimed_by,
                )
            self._write(conn, item, claimed_by=None, claim_expires_at=None)
            record(conn, at=self.clock(), actor=actor, action="release", item_id=item_id)

    def note(self, item_id: int, text: str, *, actor: str) -> None:
        if not text.strip():
            raise InboxError("a note needs some text")
        now = self.clock()
        with self.store.begin() as conn:
            self.get(item_id, conn)
            conn.execute(
                inbox_notes.insert().values(
                    item_id=item_id, author=actor, text=text, created_at=to_db(now)
                )
            )
            record(
                conn, at=now, actor=actor, action="note", item_id=item_id, details={"text": text}
            )

    def tag(
        self, item_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = (), actor: str
    ) -> list[str]:
        now = self.clock()
        add_ = [t.strip().lower() for t in add if t.strip()]
        remove_ = [t.strip().lower() for t in remove if t.strip()]
        with self.store.begin() as conn:
            item = self.get(item_id, conn)
            for t in add_:
                if t not in item.tags:
                    conn.execute(inbox_tags.insert().values(item_id=item_id, tag=t))
            if remove_:
                conn.execute(
                    delete(inbox_tags).where(
                        inbox_tags.c.item_id == item_id, inbox_tags.c.tag.in_(remove_)
                    )
                )
            record(
                conn,
                at=now,
                actor=actor,
                action="tag",
                item_id=item_id,
                details={"add": add_, "remove": remove_},
            )
        return self.get(item_id).tags

    def resolve(self, item_id: int, *, actor: str) -> Item:
        now = self.clock()
        with self.store.begin() as conn:
            item = self.get(item_id, conn)
            self._write(
                conn,
                item,
                to="resolved",
                resolved_at=to_db(now),
                claimed_by=None,
                claim_expires_at=None,
            )
            record(conn, at=now, actor=actor, action="resolve", item_id=item_id)
        return self.get(item_id)

    def dismiss(self, item_id: int, *, actor: str, reason: str | None = None) -> Item:
        now = self.clock()
        with self.store.begin() as conn:
            item = self.get(item_id, conn)
            self._write(
                conn,
                item,
                to="dismissed",
                resolved_at=to_db(now),
                claimed_by=None,
                claim_expires_at=None,
            )
            record(
                conn,
                at=now,
                actor=actor,
                action="dismiss",
                item_id=item_id,
                details={"reason": reason} if reason else {},
            )
        return self.get(item_id)

    def refresh_due(self, *, actor: str) -> int:
        """Recompute the due time of every item still waiting for a first response (after an
        SLA policy changed); returns how many changed."""
        changed = 0
        now = self.clock()
        with self.store.begin() as conn:
            for item in self._items(
                conn,
                self._select().where(
                    inbox_items.c.first_response_at.is_(None), inbox_items.c.status.in_(OPEN)
                ),
            ):
                policy = sla.policy_for(self.store, item.brand)
                base = prio.total({k: v for k, v in item.components.items() if k != "waiting"})
                due = sla.due_at(policy, item.posted_at, prio.band(base), item.intents)
                if due != item.due_at:
                    self._write(conn, item, due_at=to_db(due))
                    changed += 1
            record(conn, at=now, actor=actor, action="sla.refresh", details={"changed": changed})
        return changed

    def mark_replied(self, conn: Connection, item: Item, agent: Agent, now: datetime) -> None:
        """The workflow side of a sent (or to-be-posted-manually) reply: a new item is
        assigned to the replying agent first; the first response time is kept."""
        if item.status == "new":
            self._write(conn, item, to="assigned", assignee_id=agent.id)
            record(
                conn,
                at=now,
                actor=agent.name,
                action="assign",
                item_id=item.id,
                details={"to": agent.name, "how": "reply"},
            )
        values: dict[str, Any] = {"claimed_by": None, "claim_expires_at": None}
        if item.first_response_at is None:
            values.update(first_response_at=to_db(now), first_responder=agent.name)
        self._write(conn, item, to="replied", **values)
