"""Threads: a conversation rebuilt from reply chains, as a tree, with who answered and when.

``load_thread(store, post_id)`` reads every stored post of the post's thread (the posts
sharing its ``root_id``, which the store derives on import, see ``store.derive_threads``) and
builds the reply tree: root, depth, participants, per node author / time / text. A post whose
parent is not stored hangs under a placeholder node for that parent (a partial thread).

Accounts that answer: every brand's own accounts (``Brand.accounts``), the accounts named by
the caller, and, for datasets that say which tweets come from a company (TWCS ``inbound`` =
``False`` kept in ``raw``), those companies. Which posts count as opening a conversation with
an account, and which reply is its first response, is defined once in ``openings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from socialloop.conversations.openings import Forest, Owner, find_openings
from socialloop.errors import NotFound
from socialloop.models import Brand, author_id, normalise_account
from socialloop.store import Store
from socialloop.store.schema import authors, posts


@dataclass(slots=True)
class Answer:
    """How ``group`` answered a post that opened a conversation with it."""

    group: str
    response_id: str | None  # the first post by the group below it (None: no answer)
    delay_s: float | None


@dataclass(slots=True)
class ThreadNode:
    """One post of a thread (or a placeholder for a parent that is not stored)."""

    id: str
    stored: bool
    depth: int
    author_id: str | None = None
    author_name: str | None = None
    created_at: datetime | None = None
    text: str | None = None
    owners: tuple[str, ...] = ()  # the groups (brands, accounts) whose account wrote it
    reply_delay_s: float | None = None  # for an owned reply: seconds since its parent
    answers: list[Answer] = field(default_factory=list)  # when it opened a conversation
    children: list[ThreadNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stored": self.stored,
            "depth": self.depth,
            "author_id": self.author_id,
            "author_name": self.author_name,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "text": self.text,
            "owners": list(self.owners),
            "reply_delay_s": self.reply_delay_s,
            "answers": [
                {"group": a.group, "response_id": a.response_id, "delay_s": a.delay_s}
                for a in self.answers
            ],
            "children": [c.to_dict() for c in self.children],
        }


@dataclass(slots=True)
class Participant:
    author_id: str
    posts: int
    owners: tuple[str, ...]


@dataclass(slots=True)
class GroupResponse:
    """Per group (brand or account) in a thread: conversations opened with it, how many it
    answered, and its first response to the earliest of them."""

    group: str
    conversations: int
    answered: int
    first_response_s: float | None
    first_response_id: str | None


@dataclass(slots=True)
class Thread:
    root: ThreadNode
    focus: str
    size: int  # stored posts
    depth: int
    participants: list[Participant]
    responses: list[GroupResponse]

    def nodes(self) -> list[ThreadNode]:
        out: list[ThreadNode] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "root_id": self.root.id,
            "focus": self.focus,
            "size": self.size,
            "depth": self.depth,
            "participants": [
                {"author_id": p.author_id, "posts": p.posts, "owners": list(p.owners)}
                for p in self.participants
            ],
            "responses": [
                {
                    "group": r.group,
                    "conversations": r.conversations,
                    "answered": r.answered,
                    "first_response_s": r.first_response_s,
                    "first_response_id": r.first_response_id,
                }
                for r in self.responses
            ],
            "tree": self.root.to_dict(),
        }


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def account_owner(brands: Sequence[Brand], accounts: Sequence[str] = ()) -> Owner:
    """Groups owning an author: each brand (by name) with accounts, and each account spec
    (``HANDLE`` on any network or ``NETWORK:HANDLE``) named in ``accounts`` (its own group).
    Same rule as ``Brand.owns``, looked up in two dictionaries (exact id, bare handle)."""
    exact: dict[str, list[str]] = {}
    anywhere: dict[str, list[str]] = {}
    pairs = [(b.name, a) for b in brands for a in b.accounts]
    pairs += [(s, s) for s in (normalise_account(a) for a in accounts)]
    for name, spec in pairs:
        spec = spec.lower()
        table = exact if ":" in spec else anywhere
        names = table.setdefault(spec, [])
        if name not in names:
            names.append(name)

    def owner(aid: str | None) -> tuple[str, ...]:
        if not aid:
            return ()
        aid = aid.lower()
        got = exact.get(aid, []) + anywhere.get(aid.split(":", 1)[-1], [])
        return tuple(dict.fromkeys(got))

    return owner


MAX_DEPTH = 256
"""Bound on the walks up and down a thread (reply chains in the store are acyclic, but the
store does not enforce it)."""

_COLUMNS = (
    posts.c.id,
    posts.c.network,
    posts.c.parent_id,
    posts.c.root_id,
    posts.c.author_id,
    posts.c.text,
    posts.c.created_at,
    posts.c.mentions,
    posts.c.raw["inbound"].as_string().label("inbound"),
    authors.c.name.label("author_name"),
)


def load_thread(
    store: Store,
    post_id: str,
    *,
    accounts: Sequence[str] = (),
    dataset_accounts: bool = True,
) -> Thread:
    """The whole thread of ``post_id`` as a tree (raises ``NotFound`` for an unknown post).

    ``accounts`` adds accounts whose answers count (each its own group); with
    ``dataset_accounts`` the authors of posts a dataset marks as a company's (TWCS
    ``inbound`` = ``False``) count as their own group too."""
    base = select(*_COLUMNS).select_from(
        posts.outerjoin(authors, authors.c.id == posts.c.author_id)
    )
    with store.begin() as conn:
        focus = conn.execute(base.where(posts.c.id == post_id)).first()
        if focus is None:
            raise NotFound(f"no stored post with id {post_id!r}")
        root_id = _root_of(conn, focus)
        rows: dict[str, Any] = {}
        frontier = [root_id]
        # the posts rooted at the root, then (normally none) posts rooted at one of those:
        # a thread whose parts were rooted before their link arrived is still read whole
        for _ in range(MAX_DEPTH):
            found: list[Any] = []
            for k in range(0, len(frontier), 500):
                chunk = frontier[k : k + 500]
                stmt = base.where(or_(posts.c.root_id.in_(chunk), posts.c.id == root_id))
                found.extend(r for r in conn.execute(stmt) if r.id not in rows)
            found = list({r.id: r for r in found}.values())
            if not found:
                break
            rows.update((r.id, r) for r in found)
            frontier = [r.id for r in found if r.id != root_id]
            if not frontier:
                break
    rows.setdefault(focus.id, focus)
    ordered = list(rows.values())
    ordered.sort(key=lambda r: (r.created_at, r.id))
    brand_owner = account_owner(store.list_brands(), accounts)
    companies = {r.author_id for r in ordered if dataset_accounts and r.inbound == "False"}

    def owner(aid: str | None) -> tuple[str, ...]:
        own = brand_owner(aid)
        if aid in companies and aid is not None:
            own = (*own, aid)
        return own

    return _build(ordered, root_id, focus.id, owner)


def _root_of(conn: Connection, focus: Any) -> str:
    """The thread's root id: the post's ``root_id``, followed while that root is itself a
    stored reply rooted elsewhere (its parent arrived after it was rooted)."""
    root = str(focus.root_id or focus.parent_id or focus.id)
    seen = {root}
    for _ in range(MAX_DEPTH):
        up = conn.execute(
            select(posts.c.root_id, posts.c.parent_id).where(posts.c.id == root)
        ).first()
        nxt = (up.root_id or up.parent_id) if up is not None else None
        if nxt is None or nxt in seen:
            break
        seen.add(nxt)
        root = str(nxt)
    return root


def _build(rows: list[Any], root_id: str, focus: str, owner: Owner) -> Thread:
    index = {r.id: i for i, r in enumerate(rows)}
    nodes = [
        ThreadNode(
            id=r.id,
            stored=True,
            depth=0,
            author_id=r.author_id,
            author_name=r.author_name,
            created_at=_utc(r.created_at),
            text=r.text,
            owners=owner(r.author_id),
        )
        for r in rows
    ]
    root = nodes[index[root_id]] if root_id in index else ThreadNode(root_id, False, 0)
    placeholders: dict[str, ThreadNode] = {root_id: root} if root_id not in index else {}
    forest = Forest()
    for r, node in zip(rows, nodes, strict=True):
        parent = index.get(r.parent_id) if r.parent_id else None
        mentions = [author_id(r.network, m) for m in (r.mentions or [])]
        assert node.created_at is not None
        forest.add(parent if parent is not None else -1, r.author_id, _ts(node), mentions)
        if node is root:
            continue
        if parent is not None:
            pnode = nodes[parent]
            pnode.children.append(node)
            if node.owners and pnode.created_at is not None:
                node.reply_delay_s = _seconds(node, pnode)
        else:
            # parent not stored (or a stray post with another root): a placeholder parent
            key = r.parent_id or root_id
            holder = placeholders.get(key)
            if holder is None:
                holder = placeholders[key] = ThreadNode(key, False, 1)
                root.children.append(holder)
            holder.children.append(node)
    found = find_openings(forest, owner)
    per_group: dict[str, list[tuple[int, int | None, float | None]]] = {}
    for o in found.openings:
        response = rows[o.response].id if o.response is not None else None
        nodes[o.index].answers.append(Answer(o.group, response, o.delay))
        per_group.setdefault(o.group, []).append((o.index, o.response, o.delay))
    responses = []
    for group, items in sorted(per_group.items()):
        first = min(items, key=lambda it: (forest.times[it[0]], it[0]))
        responses.append(
            GroupResponse(
                group,
                len(items),
                sum(1 for it in items if it[1] is not None),
                first[2],
                rows[first[1]].id if first[1] is not None else None,
            )
        )
    depth = _set_depths(root)
    counts: dict[str, int] = {}
    for r in rows:
        if r.author_id:
            counts[r.author_id] = counts.get(r.author_id, 0) + 1
    participants = [Participant(a, n, owner(a)) for a, n in counts.items()]
    return Thread(root, focus, len(rows), depth, participants, responses)


def _ts(node: ThreadNode) -> float:
    assert node.created_at is not None
    return node.created_at.timestamp()


def _seconds(node: ThreadNode, parent: ThreadNode) -> float:
    assert node.created_at is not None and parent.created_at is not None
    return (node.created_at - parent.created_at).total_seconds()


def _set_depths(root: ThreadNode) -> int:
    deepest = 0
    stack = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.depth = depth
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in node.children)
    return deepest
