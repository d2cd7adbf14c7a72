"""The interaction graph: who replies to, mentions, reshares and quotes whom.

The store is read in bulk with plain SQL (SQLAlchemy Core): one pass over the posts of the
restriction (brand, query, time window) and one over their ``interactions`` rows, into numpy
arrays (a :class:`Snapshot`). Graphs are then made from those arrays with igraph: one vertex
per author (vertex ``i`` is ``snapshot.authors[i]``), one weighted directed edge per (source,
target) pair, its weight the sum of :data:`EDGE_WEIGHTS` over the interactions between them.

Reply / reshare / quote rows whose ``target_author_id`` is NULL (the target post came after
``derive_threads`` ran, or it is unknown) get the target post's ``author_id`` through a join on
``posts.id``; rows whose target author stays unknown, and self-interactions, are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import igraph  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import and_, func, select

from socialloop.store.schema import authors, interactions, posts
from socialloop.store.store import Store

if TYPE_CHECKING:
    from socialloop.workspace import Workspace

KINDS: tuple[str, ...] = ("reply", "mention", "reshare", "quote")
"""Interaction kinds, in the order of ``Snapshot.edge_kind`` codes."""

EDGE_WEIGHTS: dict[str, float] = {"reply": 1.0, "mention": 1.0, "quote": 1.5, "reshare": 2.0}
"""Weight of one interaction of each kind. A reshare passes the author's post on unchanged to
the resharer's audience (the strongest endorsement), a quote passes it on with a comment, a
reply or a mention addresses the author without spreading their words."""

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Restriction:
    """Which posts a graph is built from: a brand, a query, a time window (all optional).
    An interaction belongs to the graph when the post that made it matches."""

    brand: str | None = None
    query: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "query": self.query,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Restriction:
        since, until = data.get("since"), data.get("until")
        return cls(
            brand=data.get("brand"),
            query=data.get("query"),
            since=datetime.fromisoformat(since) if since else None,
            until=datetime.fromisoformat(until) if until else None,
        )


@dataclass(slots=True)
class Snapshot:
    """The posts of a restriction and their interactions, as arrays (one row per post / edge).

    ``post_author`` and the edge ends are indexes into ``authors`` (-1: unknown author);
    ``edge_post`` indexes the post arrays; ``post_lang`` is the declared language.
    Engagement of a post is likes + replies + reshares as the platform reported them;
    amplification is the larger of the reported reshares and the reshares + quotes of it
    observed in the store."""

    restriction: Restriction
    authors: list[str]
    followers: FloatArray
    post_pks: IntArray
    post_author: IntArray
    post_engagement: FloatArray
    post_amplification: FloatArray
    edge_post: IntArray
    edge_source: IntArray
    edge_target: IntArray
    edge_kind: IntArray
    post_lang: list[str | None] = field(default_factory=list)
    author_index: dict[str, int] = field(default_factory=dict)

    @property
    def n_authors(self) -> int:
        return len(self.authors)

    def post_index(self, pks: IntArray) -> IntArray:
        """Positions of ``pks`` in the post arrays; -1 for pks outside the snapshot."""
        if len(self.post_pks) == 0:
            return np.full(len(pks), -1, dtype=np.int64)
        pos = np.searchsorted(self.post_pks, pks)
        pos = np.minimum(pos, len(self.post_pks) - 1)
        return np.where(self.post_pks[pos] == pks, pos, -1).astype(np.int64)

    def post_mask(self, pks: IntArray) -> BoolArray:
        """A boolean mask over the posts: True for those whose pk is in ``pks``."""
        mask = np.zeros(len(self.post_pks), dtype=bool)
        idx = self.post_index(np.asarray(pks, dtype=np.int64))
        mask[idx[idx >= 0]] = True
        return mask


def _conditions(ws: Workspace, restriction: Restriction) -> list[Any]:
    where = ws.to_sql(ws.parse_query(restriction.query)) if restriction.query else None
    brand_id = ws.store.get_brand(restriction.brand).id if restriction.brand else None
    return Store._conditions(where, brand_id, restriction.since, restriction.until)


def _num(values: list[Any]) -> FloatArray:
    return np.array([v or 0 for v in values], dtype=np.float64)


def load_snapshot(ws: Workspace, restriction: Restriction | None = None) -> Snapshot:
    """Read the posts of ``restriction`` (default: every post) and their interactions."""
    restriction = restriction or Restriction()
    conds = _conditions(ws, restriction)
    index: dict[str, int] = {}

    def code(aid: str | None) -> int:
        if aid is None:
            return -1
        found = index.get(aid)
        if found is None:
            found = index[aid] = len(index)
        return found

    post_stmt = select(
        posts.c.pk,
        posts.c.author_id,
        posts.c.likes,
        posts.c.replies,
        posts.c.reshares,
        posts.c.lang,
    )
    if conds:
        post_stmt = post_stmt.where(and_(*conds))
    post_stmt = post_stmt.order_by(posts.c.pk)
    target = posts.alias("target_post")
    edge_stmt = select(
        interactions.c.post_pk,
        interactions.c.kind,
        interactions.c.source_author_id,
        func.coalesce(interactions.c.target_author_id, target.c.author_id),
        target.c.pk,
    ).select_from(
        interactions.outerjoin(
            target, and_(target.c.id == interactions.c.target, interactions.c.kind != "mention")
        )
    )
    if conds:
        edge_stmt = edge_stmt.where(
            interactions.c.post_pk.in_(select(posts.c.pk).where(and_(*conds)))
        )
    with ws.store.begin() as conn:
        prow = conn.execute(post_stmt).fetchall()
        pks = np.array([r[0] for r in prow], dtype=np.int64)
        post_author = np.array([code(r[1]) for r in prow], dtype=np.int64)
        likes, replies, reshares = (_num([r[i] for r in prow]) for i in (2, 3, 4))
        post_lang: list[str | None] = [r[5] for r in prow]
        del prow
        erow = conn.execute(edge_stmt).fetchall()
        kind_code = {k: i for i, k in enumerate(KINDS)}
        e_post = np.array([r[0] for r in erow], dtype=np.int64)
        e_kind = np.array([kind_code.get(r[1], -1) for r in erow], dtype=np.int64)
        e_src = np.array([code(r[2]) for r in erow], dtype=np.int64)
        e_tgt = np.array([code(r[3]) for r in erow], dtype=np.int64)
        e_tpost = np.array([-1 if r[4] is None else r[4] for r in erow], dtype=np.int64)
        del erow
        followers = np.zeros(len(index), dtype=np.float64)
        ids = list(index)
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for aid, n in conn.execute(
                select(authors.c.id, authors.c.followers).where(authors.c.id.in_(chunk))
            ):
                followers[index[aid]] = n or 0
    snap = Snapshot(
        restriction=restriction,
        authors=ids,
        followers=followers,
        post_pks=pks,
        post_author=post_author,
        post_engagement=likes + replies + reshares,
        post_amplification=reshares.copy(),
        edge_post=np.zeros(0, dtype=np.int64),
        edge_source=e_src,
        edge_target=e_tgt,
        edge_kind=e_kind,
        post_lang=post_lang,
        author_index=index,
    )
    snap.edge_post = snap.post_index(e_post)
    # observed reshares / quotes of each post (when the store holds the resharing posts)
    passed_on = (e_kind >= kind_code["reshare"]) & (e_tpost >= 0)
    tpos = snap.post_index(e_tpost[passed_on])
    observed = np.bincount(tpos[tpos >= 0], minlength=len(pks)).astype(np.float64)
    snap.post_amplification = np.maximum(snap.post_amplification, observed)
    keep = (snap.edge_post >= 0) & (e_kind >= 0)
    if not keep.all():
        snap.edge_post, snap.edge_source = snap.edge_post[keep], e_src[keep]
        snap.edge_target, snap.edge_kind = e_tgt[keep], e_kind[keep]
    return snap


def interaction_graph(
    snap: Snapshot,
    *,
    post_mask: BoolArray | None = None,
    weights: dict[str, float] | None = None,
) -> igraph.Graph:
    """The weighted directed author graph of the snapshot's interactions (only those made by
    posts in ``post_mask`` when given). Vertex ``i`` is author ``snap.authors[i]`` (attribute
    ``name``); edge attributes: ``weight`` (sum of kind weights) and ``count`` (interactions).
    Self-interactions and edges with an unknown end are left out."""
    weights = EDGE_WEIGHTS if weights is None else weights
    kind_weight = np.array([weights.get(k, 0.0) for k in KINDS], dtype=np.float64)
    src, tgt, kind = snap.edge_source, snap.edge_target, snap.edge_kind
    keep = (src >= 0) & (tgt >= 0) & (src != tgt)
    if post_mask is not None:
        keep &= post_mask[snap.edge_post]
    src, tgt, kind = src[keep], tgt[keep], kind[keep]
    n = snap.n_authors
    g = igraph.Graph(n=n, directed=True)
    g.vs["name"] = snap.authors
    if len(src) == 0:
        g.es["weight"] = []
        g.es["count"] = []
        return g
    key = src * n + tgt
    uniq, inverse = np.unique(key, return_inverse=True)
    w = np.bincount(inverse, weights=kind_weight[kind])
    c = np.bincount(inverse)
    pairs = np.column_stack((uniq // n, uniq % n))
    g.add_edges(pairs.tolist())
    g.es["weight"] = w.tolist()
    g.es["count"] = c.tolist()
    return g


def active_vertices(g: igraph.Graph) -> IntArray:
    """The vertices with at least one edge (the graph's nodes as reported and exported)."""
    deg = np.asarray(g.degree(), dtype=np.int64)
    return np.flatnonzero(deg > 0).astype(np.int64)
