"""Communities (micro-crowds) of the interaction graph, found with Leiden, and what they are.

:func:`detect` runs the Leiden algorithm on the undirected, weighted graph of the authors who
have an interaction (edges in both directions summed), optimising modularity (default) or
the Constant Potts Model with a resolution; the seed makes the result reproducible. The
engine is igraph's C implementation (default: ~5-10x faster than ``leidenalg`` on the
simulated graphs, modularity within ~0.02) or ``leidenalg``. Communities
are numbered by size, largest first; authors alone in theirs are left out (-1).

:func:`describe` says who and what each community is from the posts of its members: the top
authors by influence, hashtags, topics (``topic`` labels named from the ``topics`` table),
languages (the ``lang`` label, else the declared language) and the sentiment toward each
brand (``brand_labels`` field ``sentiment``), as counts.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import igraph  # type: ignore[import-untyped]
import leidenalg  # type: ignore[import-untyped]
import numpy as np
from sqlalchemy import delete, select

from socialloop.graph.build import FloatArray, IntArray, Snapshot, active_vertices
from socialloop.learn.topics import NO_TOPIC
from socialloop.store.rows import insert_rows
from socialloop.store.schema import (
    brand_labels,
    brands,
    communities,
    community_members,
    post_labels,
    post_terms,
    topics,
)
from socialloop.store.store import Store

Method = Literal["modularity", "cpm"]
Engine = Literal["igraph", "leidenalg"]
MIN_SIZE = 2
"""The smallest community kept (a single author is not a crowd)."""
TOP = 5
"""How many top authors / hashtags / topics / languages a description lists."""


def _leiden_igraph(und: igraph.Graph, method: Method, resolution: float, seed: int) -> list[int]:
    """Leiden in igraph's C core, run to convergence, with igraph's random numbers drawn
    from a generator seeded with ``seed`` (igraph's default generator is put back after)."""
    igraph.set_random_number_generator(random.Random(seed))
    try:
        part = und.community_leiden(
            objective_function="modularity" if method == "modularity" else "CPM",
            weights="weight",
            resolution=1.0 if method == "modularity" else resolution,
            n_iterations=-1,
        )
    finally:
        igraph.set_random_number_generator(random)
    return list(part.membership)


def _leiden_leidenalg(und: igraph.Graph, method: Method, resolution: float, seed: int) -> list[int]:
    """Leiden with ``leidenalg`` (its own seeded generator): a little higher modularity on
    large graphs, several times slower than igraph's."""
    if method == "cpm":
        part = leidenalg.find_partition(
            und,
            leidenalg.CPMVertexPartition,
            weights="weight",
            resolution_parameter=resolution,
            seed=seed,
        )
    else:
        part = leidenalg.find_partition(
            und, leidenalg.ModularityVertexPartition, weights="weight", seed=seed
        )
    return list(part.membership)


def detect(
    g: igraph.Graph,
    *,
    method: Method = "modularity",
    resolution: float = 0.05,
    seed: int = 0,
    engine: Engine = "igraph",
) -> IntArray:
    """The community of every vertex of ``g`` (-1 for vertices without edges or in a
    community smaller than :data:`MIN_SIZE`), numbered by size, largest first.

    ``method``: ``modularity`` or ``cpm`` (Constant Potts Model with ``resolution``: the
    density a group needs to stay together). ``engine``: ``igraph`` (default, fast) or
    ``leidenalg``; both are the Leiden algorithm, reproducible for a given ``seed``."""
    membership = np.full(g.vcount(), -1, dtype=np.int64)
    active = active_vertices(g)
    if len(active) == 0:
        return membership
    sub = g.subgraph(active.tolist()) if len(active) < g.vcount() else g
    und = sub.as_undirected(mode="collapse", combine_edges={"weight": "sum", "count": "sum"})
    run = _leiden_leidenalg if engine == "leidenalg" else _leiden_igraph
    raw = np.asarray(run(und, method, resolution, seed), dtype=np.int64)
    sizes = np.bincount(raw)
    order = sorted(range(len(sizes)), key=lambda c: (-int(sizes[c]), c))
    renum = np.full(len(sizes), -1, dtype=np.int64)
    next_id = 0
    for c in order:
        if sizes[c] >= MIN_SIZE:
            renum[c] = next_id
            next_id += 1
    membership[active] = renum[raw]
    return membership


def _top_per_group(
    groups: IntArray, values: Sequence[str], n_groups: int, k: int = TOP
) -> list[list[tuple[str, int]]]:
    """For each group, the ``k`` most frequent values (value, count), ties by value."""
    out: list[list[tuple[str, int]]] = [[] for _ in range(n_groups)]
    if len(groups) == 0:
        return out
    codes: dict[str, int] = {}
    vcodes = np.fromiter((codes.setdefault(v, len(codes)) for v in values), dtype=np.int64)
    names = list(codes)
    nv = max(len(names), 1)
    uniq, counts = np.unique(groups * nv + vcodes, return_counts=True)
    gid, vid = uniq // nv, uniq % nv
    order = np.lexsort((np.array([names[v] for v in vid]), -counts, gid))
    for j in order.tolist():
        bucket = out[int(gid[j])]
        if len(bucket) < k:
            bucket.append((names[int(vid[j])], int(counts[j])))
    return out


def _post_groups(snap: Snapshot, membership: IntArray, pks: IntArray) -> IntArray:
    """The community of the author of each post pk (-1 when none / outside the snapshot)."""
    pos = snap.post_index(pks)
    out = np.full(len(pks), -1, dtype=np.int64)
    ok = pos >= 0
    authors_ = snap.post_author[pos[ok]]
    out[ok] = np.where(authors_ >= 0, membership[np.maximum(authors_, 0)], -1)
    return out


def describe(
    store: Store, snap: Snapshot, membership: IntArray, influence: FloatArray
) -> list[dict[str, Any]]:
    """One description per community (see the module docstring); ``influence`` is the score
    of every snapshot author (0 when unscored)."""
    n = int(membership.max()) + 1 if len(membership) else 0
    if n <= 0:
        return []
    members = np.flatnonzero(membership >= 0)
    desc: list[dict[str, Any]] = [
        {"id": c, "size": 0, "top_authors": [], "hashtags": [], "topics": [], "languages": []}
        for c in range(n)
    ]
    order = members[np.lexsort((members, -influence[members], membership[members]))]
    for a in order.tolist():
        d = desc[int(membership[a])]
        d["size"] += 1
        if len(d["top_authors"]) < TOP:
            d["top_authors"].append(
                {"author_id": snap.authors[a], "score": round(float(influence[a]), 4)}
            )
    with store.begin() as conn:
        tags = conn.execute(
            select(post_terms.c.post_pk, post_terms.c.value).where(post_terms.c.kind == "hashtag")
        ).fetchall()
        labels = conn.execute(
            select(post_labels.c.post_pk, post_labels.c.field, post_labels.c.label).where(
                post_labels.c.field.in_(("topic", "lang"))
            )
        ).fetchall()
        topic_names = {
            str(i): str(lab) for i, lab in conn.execute(select(topics.c.id, topics.c.label))
        }
        brand_names = {
            int(i): str(nm) for i, nm in conn.execute(select(brands.c.id, brands.c.name))
        }
        sentiments = conn.execute(
            select(brand_labels.c.post_pk, brand_labels.c.brand_id, brand_labels.c.label).where(
                brand_labels.c.field == "sentiment"
            )
        ).fetchall()

    def grouped(rows: Sequence[Any], value: Any) -> tuple[IntArray, list[str]]:
        pks = np.array([r[0] for r in rows], dtype=np.int64)
        g = _post_groups(snap, membership, pks)
        keep = np.flatnonzero(g >= 0)
        return g[keep], [value(rows[i]) for i in keep.tolist()]

    g, vals = grouped(tags, lambda r: "#" + str(r[1]))
    for c, top in enumerate(_top_per_group(g, vals, n)):
        desc[c]["hashtags"] = [{"hashtag": v, "posts": k} for v, k in top]
    topic_rows = [r for r in labels if r[1] == "topic" and r[2] != NO_TOPIC]
    g, vals = grouped(topic_rows, lambda r: str(r[2]))
    for c, top in enumerate(_top_per_group(g, vals, n)):
        desc[c]["topics"] = [
            {"topic": v, "label": topic_names.get(v, ""), "posts": k} for v, k in top
        ]
    lang = list(snap.post_lang)  # declared, replaced by the detected label where there is one
    detected = [r for r in labels if r[1] == "lang"]
    pos = snap.post_index(np.array([r[0] for r in detected], dtype=np.int64))
    for p, r in zip(pos.tolist(), detected, strict=True):
        if p >= 0:
            lang[p] = str(r[2])
    lang_rows = [(int(pk), lg) for pk, lg in zip(snap.post_pks.tolist(), lang, strict=True) if lg]
    g, vals = grouped(lang_rows, lambda r: str(r[1]))
    for c, top in enumerate(_top_per_group(g, vals, n)):
        desc[c]["languages"] = [{"lang": v, "posts": k} for v, k in top]
    g, vals = grouped(sentiments, lambda r: f"{r[1]}\t{r[2]}")
    for c, top in enumerate(_top_per_group(g, vals, n, k=10**6)):
        per_brand: dict[str, dict[str, int]] = {}
        for v, k in top:
            bid, label = v.split("\t", 1)
            name = brand_names.get(int(bid), bid)
            per_brand.setdefault(name, {})[label] = k
        desc[c]["sentiment"] = dict(sorted(per_brand.items()))
    return desc


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def save_communities(
    store: Store, snap: Snapshot, membership: IntArray, descriptions: list[dict[str, Any]]
) -> None:
    """Replace the stored communities and their members."""
    now = _now()
    with store.begin() as conn:
        conn.execute(delete(community_members))
        conn.execute(delete(communities))
        if descriptions:
            insert_rows(
                conn,
                communities,
                [
                    {"id": d["id"], "size": d["size"], "description": d, "computed_at": now}
                    for d in descriptions
                ],
            )
        rows = [
            {"author_id": snap.authors[a], "community_id": int(membership[a])}
            for a in np.flatnonzero(membership >= 0).tolist()
        ]
        for start in range(0, len(rows), 20_000):
            insert_rows(conn, community_members, rows[start : start + 20_000])


def load_communities(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """The stored community descriptions, largest first."""
    stmt = select(communities.c.description).order_by(communities.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.begin() as conn:
        return [dict(d) for (d,) in conn.execute(stmt)]


def load_membership(store: Store) -> dict[str, int]:
    """author id -> community id, from the last build."""
    with store.begin() as conn:
        return {
            str(a): int(c)
            for a, c in conn.execute(
                select(community_members.c.author_id, community_members.c.community_id)
            )
        }
