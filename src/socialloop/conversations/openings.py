"""The one definition of "a customer addressed an account, and the account answered", shared
by the thread view (``threads``) and the response analytics (``responses``).

It runs over a *forest* of posts given as parallel lists (index ``i`` is one post): the
parent's index (``-1`` when the post has no parent or its parent is not stored), the author
id, the time (POSIX seconds) and the author ids the post mentions. ``owner(author_id)`` says
which *groups* (a brand, or one account) own an author; a group answers through its authors.

Definitions (docs/conversations.md):

- A post *addresses* group ``g`` when its author is not one of ``g``'s accounts and it
  mentions one of them, or replies to a post by one of them (or, when the caller tags it so,
  it addresses ``g`` otherwise: e.g. it names the brand, matching its query).
- An *opening* of ``g`` is a post that addresses ``g`` while no stored ancestor of it does:
  the first customer post of a conversation with ``g`` (follow-ups in the same conversation
  are not counted again; a reply to the brand's own top-level post opens one).
- The *first response* to an opening is the earliest post by ``g`` anywhere below it in the
  reply tree (the direct reply or a reply further down), made at or after the opening; the
  *delay* is the time between the two.
- A reply by ``g`` that sits below no opening of ``g`` (an answer to a post that neither
  mentions ``g`` nor replies to it) is counted as ``other_replies``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Owner = Callable[[str | None], tuple[str, ...]]

_NONE: frozenset[str] = frozenset()


@dataclass(slots=True)
class Opening:
    """A conversation opened toward ``group`` by post ``index``, and its first response."""

    index: int
    group: str
    response: int | None = None  # index of the first post by the group below it
    delay: float | None = None  # seconds from the opening to that response


@dataclass(slots=True)
class Forest:
    """Posts as parallel lists (see the module docstring)."""

    parents: list[int] = field(default_factory=list)
    authors: list[str | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    mentions: list[tuple[str, ...]] = field(default_factory=list)
    # groups a post addresses by other means than its mentions and parent (e.g. it matches
    # the brand's query), kept sparse: index -> groups
    tags: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def add(
        self,
        parent: int,
        author: str | None,
        time: float,
        mentions: Sequence[str] = (),
        tags: Sequence[str] = (),
    ) -> int:
        self.parents.append(parent)
        self.authors.append(author)
        self.times.append(time)
        self.mentions.append(tuple(mentions))
        i = len(self.parents) - 1
        if tags:
            self.tags[i] = tuple(tags)
        return i

    def __len__(self) -> int:
        return len(self.parents)


@dataclass(slots=True)
class Conversations:
    """What :func:`find_openings` found: the openings (in forest order), and per group the
    replies it made outside any conversation it was addressed in."""

    openings: list[Opening]
    other_replies: dict[str, int]


def _order(parents: Sequence[int]) -> list[int]:
    """Indices parents-first (breadth first from the tops); posts on a parent cycle (bad
    data) never reach a top and are left out."""
    children: dict[int, list[int]] = {}
    order: list[int] = []
    for i, p in enumerate(parents):
        if p < 0:
            order.append(i)
        else:
            children.setdefault(p, []).append(i)
    k = 0
    while k < len(order):
        kids = children.get(order[k])
        if kids:
            order.extend(kids)
        k += 1
    return order


def find_openings(forest: Forest, owner: Owner) -> Conversations:
    """Every opening of every group in ``forest`` with its first response (see the module
    docstring for the definitions)."""
    parents, authors, times, mentions, tags = (
        forest.parents,
        forest.authors,
        forest.times,
        forest.mentions,
        forest.tags,
    )
    cache: dict[str | None, tuple[str, ...]] = {}

    def groups_of(author: str | None) -> tuple[str, ...]:
        got = cache.get(author)
        if got is None:
            got = cache[author] = owner(author)
        return got

    n = len(parents)
    own = [groups_of(a) for a in authors]  # groups owning each post's author
    above: list[frozenset[str]] = [_NONE] * n  # groups addressed at or above each post
    opened: dict[int, dict[str, Opening]] = {}
    order = _order(parents)
    reached = [False] * n
    for i in order:
        reached[i] = True
        p = parents[i]
        inherited = above[p] if p >= 0 else _NONE
        named = mentions[i]
        by_parent = own[p] if p >= 0 else ()
        extra = tags.get(i)
        if not named and not by_parent and not extra:
            if inherited:
                above[i] = inherited
            continue
        addressed = set(by_parent)
        for m in named:
            addressed.update(groups_of(m))
        if extra:
            addressed.update(extra)
        if addressed and own[i]:
            addressed.difference_update(own[i])
        new = addressed - inherited if addressed else addressed
        if new:
            opened[i] = {g: Opening(i, g) for g in sorted(new)}
            above[i] = inherited | new
        elif inherited:
            above[i] = inherited
    other: dict[str, int] = {}
    for r in order:
        mine = own[r]
        if not mine or parents[r] < 0:
            continue
        t = times[r]
        for g in mine:
            a = parents[r]
            steps = 0
            found = False
            while a >= 0 and steps < n:
                slot = opened.get(a)
                if slot is not None and g in slot:
                    o = slot[g]
                    found = True
                    if t >= times[a] and (o.delay is None or t - times[a] < o.delay):
                        o.delay = t - times[a]
                        o.response = r
                    break
                a = parents[a]
                steps += 1
            if not found and g not in own[parents[r]]:
                other[g] = other.get(g, 0) + 1
    openings = [o for i in sorted(opened) if reached[i] for o in opened[i].values()]
    return Conversations(openings, other)
