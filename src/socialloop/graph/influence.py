"""Influence per author, overall and per brand or topic: one explainable score in [0, 1].

Five components, each a raw figure per author within a scope (a set of posts):

- ``authority``: PageRank on the scope's weighted interaction graph, times the number of
  vertices (1.0 = an average author), so being replied to, mentioned, reshared or quoted by
  authors who are themselves addressed counts most;
- ``reach``: followers (the latest profile);
- ``engagement``: likes + replies + reshares the platform reported on the author's posts in
  the scope;
- ``amplification``: reshares and quotes of the author's posts in the scope (the larger of the
  reported reshares and those observed in the store, per post);
- ``relevance``: the share of the author's posts that are in the scope (brand / topic scopes
  only: in scope ``all`` every author has 1.0 and the component is left out).

Each raw figure is normalised by :func:`normalise`: ``log(1 + x) / log(1 + max)`` over the
scope's authors, 0 for nothing and 1 for the scope's top author (a log scale, because
followers and engagement span six orders of magnitude). The score is the weighted mean of the
normalised components present (:data:`WEIGHTS`, rescaled to sum to 1 over them). The same
:func:`combine` scores the PeerIndex pairs of ``socialloop eval influence``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import igraph  # type: ignore[import-untyped]
import numpy as np
from sqlalchemy import delete, select

from socialloop.graph.build import BoolArray, FloatArray, IntArray, Snapshot, interaction_graph
from socialloop.store.rows import insert_rows
from socialloop.store.schema import author_scores, authors
from socialloop.store.store import Store

COMPONENTS: tuple[str, ...] = ("authority", "reach", "engagement", "amplification", "relevance")

WEIGHTS: dict[str, float] = {
    "authority": 0.35,
    "reach": 0.25,
    "engagement": 0.15,
    "amplification": 0.1,
    "relevance": 0.15,
}
"""Component weights (sum 1). The ratios of authority / reach / engagement / amplification
were chosen on the validation part of the PeerIndex pairs (``eval_influence.tune_weights``,
docs/influence.md); relevance is set by judgement (the data has no topics)."""

DAMPING = 0.85
"""PageRank damping factor (the probability of following an edge rather than jumping)."""


def normalise(values: FloatArray) -> FloatArray:
    """``log(1 + x) / log(1 + max(x))``, in [0, 1]; negative values count as 0."""
    logs = np.log1p(np.maximum(np.asarray(values, dtype=np.float64), 0.0))
    top = float(logs.max()) if len(logs) else 0.0
    return logs / top if top > 0 else np.zeros_like(logs)


def combine(
    raw: Mapping[str, FloatArray], weights: Mapping[str, float] | None = None
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """The score of every author from raw components (same-length arrays, any subset of
    :data:`COMPONENTS`), and the normalised components. The score is the weighted mean of
    the normalised components given, with ``weights`` (default :data:`WEIGHTS`)."""
    weights = WEIGHTS if weights is None else weights
    names = [c for c in COMPONENTS if c in raw]
    norm = {c: normalise(raw[c]) for c in names}
    total = sum(weights.get(c, 0.0) for c in names)
    n = len(next(iter(raw.values()))) if raw else 0
    score = np.zeros(n, dtype=np.float64)
    if total <= 0:
        return score, norm
    for c in names:
        score += (weights.get(c, 0.0) / total) * norm[c]
    return np.clip(score, 0.0, 1.0), norm


def pagerank(g: igraph.Graph) -> FloatArray:
    """Weighted PageRank of every vertex, times the vertex count (1.0 = average)."""
    if g.vcount() == 0:
        return np.zeros(0, dtype=np.float64)
    weights = "weight" if g.ecount() else None
    pr = np.asarray(g.pagerank(weights=weights, damping=DAMPING, directed=True), dtype=np.float64)
    out: FloatArray = pr * float(g.vcount())
    return out


@dataclass(slots=True)
class ScopeScores:
    """The scores of one scope: authors (indexes into the snapshot), score, components."""

    scope: str
    authors: IntArray
    score: FloatArray
    normalised: dict[str, FloatArray]
    raw: dict[str, FloatArray]


def score_scope(
    snap: Snapshot,
    scope: str,
    post_mask: BoolArray | None = None,
    graph: igraph.Graph | None = None,
) -> ScopeScores:
    """Score the authors of one scope: those with a post in ``post_mask`` (every post of the
    snapshot when None) or an interaction received from one. ``graph`` is the scope's
    interaction graph when already built."""
    n = snap.n_authors
    if graph is None:
        graph = interaction_graph(snap, post_mask=post_mask)
    authority = pagerank(graph)
    mask = np.ones(len(snap.post_pks), dtype=bool) if post_mask is None else post_mask
    known = snap.post_author >= 0
    all_idx = snap.post_author[known]
    idx = snap.post_author[mask & known]
    posts_all = np.bincount(all_idx, minlength=n).astype(np.float64)
    posts_in = np.bincount(idx, minlength=n).astype(np.float64)
    engagement = np.bincount(idx, weights=snap.post_engagement[mask & known], minlength=n).astype(
        np.float64
    )
    amplification = np.bincount(
        idx, weights=snap.post_amplification[mask & known], minlength=n
    ).astype(np.float64)
    indeg = np.asarray(graph.degree(mode="in"), dtype=np.int64) if graph.vcount() else posts_in
    members = np.flatnonzero((posts_in > 0) | (indeg > 0)).astype(np.int64)
    raw: dict[str, FloatArray] = {
        "authority": authority[members],
        "reach": snap.followers[members],
        "engagement": engagement[members],
        "amplification": amplification[members],
    }
    if post_mask is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(posts_all > 0, posts_in / np.maximum(posts_all, 1), 0.0)
        raw["relevance"] = share[members]
    score, norm = combine(raw)
    raw["posts"] = posts_in[members]
    return ScopeScores(scope, members, score, norm, raw)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def save_scores(store: Store, snap: Snapshot, results: Iterable[ScopeScores]) -> int:
    """Replace every stored score with ``results``; returns the rows written."""
    now = _now()
    written = 0
    with store.begin() as conn:
        conn.execute(delete(author_scores))
        for res in results:
            norm = {c: np.round(v, 4).tolist() for c, v in res.normalised.items()}
            raw = {k: np.round(v, 6).tolist() for k, v in res.raw.items()}
            scores = np.round(res.score, 6).tolist()
            rows: list[dict[str, Any]] = []
            for j, a in enumerate(res.authors.tolist()):
                comps: dict[str, Any] = {c: v[j] for c, v in norm.items()}
                comps["raw"] = {k: v[j] for k, v in raw.items()}
                rows.append(
                    {
                        "scope": res.scope,
                        "author_id": snap.authors[a],
                        "score": scores[j],
                        "components": comps,
                        "computed_at": now,
                    }
                )
            for start in range(0, len(rows), 20_000):
                insert_rows(conn, author_scores, rows[start : start + 20_000])
            written += len(rows)
    return written


def load_scores(store: Store, author_ids: Iterable[str], scope: str = "all") -> dict[str, float]:
    """The stored influence score of each author in ``scope``; authors without one are absent
    from the result (never scored, or no graph built yet)."""
    ids = list(dict.fromkeys(author_ids))
    out: dict[str, float] = {}
    with store.begin() as conn:
        for start in range(0, len(ids), 500):
            stmt = select(author_scores.c.author_id, author_scores.c.score).where(
                author_scores.c.scope == scope,
                author_scores.c.author_id.in_(ids[start : start + 500]),
            )
            out.update({str(a): float(s) for a, s in conn.execute(stmt)})
    return out


def top_authors(
    store: Store,
    scope: str = "all",
    limit: int = 20,
    *,
    own: Callable[[str], bool] | None = None,
    exclude_own: bool = False,
) -> list[dict[str, Any]]:
    """The ``limit`` most influential authors of ``scope``: id, handle, network, followers,
    score and components (highest score first). ``own`` tells a brand's own accounts (each
    row says ``own``); with ``exclude_own`` they are left out of the ranking."""
    stmt = (
        select(
            author_scores.c.author_id,
            author_scores.c.score,
            author_scores.c.components,
            authors.c.handle,
            authors.c.network,
            authors.c.followers,
        )
        .select_from(author_scores.outerjoin(authors, authors.c.id == author_scores.c.author_id))
        .where(author_scores.c.scope == scope)
        .order_by(author_scores.c.score.desc(), author_scores.c.author_id)
    )
    out: list[dict[str, Any]] = []
    with store.begin() as conn:
        for r in conn.execute(stmt):
            is_own = bool(own and own(str(r.author_id)))
            if is_own and exclude_own:
                continue
            network, _, handle = str(r.author_id).partition(":")
            out.append(
                {
                    "author_id": r.author_id,
                    "network": r.network or network,
                    "handle": r.handle or handle,
                    "followers": r.followers,
                    "own": is_own,
                    "score": r.score,
                    "components": r.components,
                }
            )
            if len(out) >= limit:
                break
    return out


def scored_scopes(store: Store) -> list[str]:
    """The scopes that have stored scores."""
    with store.begin() as conn:
        return [str(s) for (s,) in conn.execute(select(author_scores.c.scope).distinct())]
