"""`graph build` end to end: snapshot -> interaction graph -> influence per scope ->
communities -> stored (``author_scores``, ``communities``, ``community_members``,
``graph_runs``), replacing what the previous build stored.

Scopes: ``all`` (every post of the build's restriction), ``brand:<id>`` for every brand and
``topic:<id>`` for every topic with posts in the restriction. A scope's authority is PageRank
on the graph of the interactions made by the scope's posts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import insert, select
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from socialloop.errors import GraphNotBuilt
from socialloop.graph.build import (
    BoolArray,
    Restriction,
    Snapshot,
    active_vertices,
    interaction_graph,
    load_snapshot,
)
from socialloop.graph.communities import Method, describe, detect, save_communities
from socialloop.graph.influence import ScopeScores, save_scores, score_scope
from socialloop.learn.topics import NO_TOPIC
from socialloop.store.schema import graph_runs, post_brands, post_labels
from socialloop.store.store import Store

if TYPE_CHECKING:
    from socialloop.workspace import Workspace

Progress = Callable[[str], None]


@dataclass(slots=True)
class BuildReport:
    """What a build found: graph size, communities, scopes scored, seconds per stage."""

    posts: int
    authors: int
    nodes: int
    edges: int
    interactions: int
    communities: int
    scopes: int
    scores: int
    seconds: float
    stages: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "posts": self.posts,
            "authors": self.authors,
            "nodes": self.nodes,
            "edges": self.edges,
            "interactions": self.interactions,
            "communities": self.communities,
            "scopes": self.scopes,
            "scores": self.scores,
            "seconds": round(self.seconds, 3),
            "stages": {k: round(v, 3) for k, v in self.stages.items()},
        }


def scope_masks(store: Store, snap: Snapshot) -> dict[str, BoolArray]:
    """A post mask per brand and topic scope that has posts in the snapshot."""
    masks: dict[str, BoolArray] = {}
    with store.begin() as conn:
        brand_rows = conn.execute(
            select(post_brands.c.brand_id, post_brands.c.post_pk).order_by(post_brands.c.brand_id)
        ).fetchall()
        topic_rows = conn.execute(
            select(post_labels.c.label, post_labels.c.post_pk).where(
                post_labels.c.field == "topic", post_labels.c.label != NO_TOPIC
            )
        ).fetchall()
    for prefix, rows in (("brand", brand_rows), ("topic", topic_rows)):
        if not rows:
            continue
        keys = [str(r[0]) for r in rows]
        pks = np.array([r[1] for r in rows], dtype=np.int64)
        by_key: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            by_key.setdefault(k, []).append(i)
        for k in sorted(by_key, key=lambda s: (len(s), s)):
            mask = snap.post_mask(pks[by_key[k]])
            if mask.any():
                masks[f"{prefix}:{k}"] = mask
    return masks


def build(
    ws: Workspace,
    restriction: Restriction | None = None,
    *,
    method: Method = "modularity",
    seed: int = 0,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the interaction graph of ``restriction``, score influence in every scope, find
    the communities and store it all. ``progress`` is told each stage's name as it starts."""
    restriction = restriction or Restriction()
    say = progress or (lambda _stage: None)
    stages: dict[str, float] = {}
    started = t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[name] = now - t
        t = now

    say("reading posts and interactions")
    snap = load_snapshot(ws, restriction)
    lap("read")
    say("building the interaction graph")
    graph = interaction_graph(snap)
    lap("graph")
    say("scoring influence")
    # one thread for igraph's OpenMP and BLAS: PageRank took 0.04 s single-threaded and
    # 0.5-2.5 s with threads fighting over two busy cores
    with threadpool_limits(limits=1):
        results: list[ScopeScores] = [score_scope(snap, "all", None, graph)]
        for scope, mask in scope_masks(ws.store, snap).items():
            results.append(score_scope(snap, scope, mask))
        lap("influence")
        say("finding communities")
        membership = detect(graph, method=method, seed=seed)
    influence = np.zeros(snap.n_authors, dtype=np.float64)
    influence[results[0].authors] = results[0].score
    descriptions = describe(ws.store, snap, membership, influence)
    lap("communities")
    say("storing")
    written = save_scores(ws.store, snap, results)
    save_communities(ws.store, snap, membership, descriptions)
    nodes = len(active_vertices(graph))
    seconds = time.perf_counter() - started
    with ws.store.begin() as conn:
        conn.execute(
            insert(graph_runs).values(
                built_at=datetime.now(UTC).replace(tzinfo=None),
                params=restriction.to_dict(),
                nodes=nodes,
                edges=graph.ecount(),
                communities=len(descriptions),
                seconds=round(seconds, 3),
            )
        )
    lap("store")
    return BuildReport(
        posts=len(snap.post_pks),
        authors=snap.n_authors,
        nodes=nodes,
        edges=graph.ecount(),
        interactions=len(snap.edge_kind),
        communities=len(descriptions),
        scopes=len(results),
        scores=written,
        seconds=time.perf_counter() - started,
        stages=stages,
    )


def last_run(store: Store) -> dict[str, Any]:
    """The newest ``graph_runs`` row; raises :class:`GraphNotBuilt` when there is none."""
    with store.begin() as conn:
        row = conn.execute(select(graph_runs).order_by(graph_runs.c.id.desc()).limit(1)).first()
    if row is None:
        raise GraphNotBuilt("the interaction graph has not been built in this workspace")
    return {str(k): v for k, v in row._mapping.items()}
