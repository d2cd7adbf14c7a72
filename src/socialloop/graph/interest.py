"""The interest graph: authors linked by what they talk about, whether or not they ever
interacted ("people like this author").

Each author is a TF-IDF vector over the terms of their posts: hashtags (``#tag``) and topics
(``topic:<id>``, the ``topic`` labels of the enrichment). Term counts are log-damped
(``sublinear_tf``), weighted by inverse document frequency over authors (a hashtag everyone
uses says little) and L2-normalised, so the cosine similarity of two authors is the dot
product of their rows. The matrix is sparse (scipy CSR) and computed from two bulk queries;
:func:`similar_authors` ranks everyone against one author, :func:`interest_edges` links every
author to its nearest neighbours (scikit-learn, brute-force cosine on the sparse rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.neighbors import NearestNeighbors
from sqlalchemy import func, select

from socialloop.errors import NotFound
from socialloop.learn.topics import NO_TOPIC
from socialloop.store.schema import authors, interactions, post_labels, post_terms, posts
from socialloop.store.store import Store


@dataclass(slots=True)
class InterestMatrix:
    """Author rows (``authors``) by term columns (``terms``), TF-IDF weighted, L2-normalised."""

    authors: list[str]
    terms: list[str]
    matrix: sparse.csr_matrix

    def row(self, author_id: str) -> int:
        try:
            return self.authors.index(author_id)
        except ValueError:
            raise NotFound(f"author {author_id!r} has no hashtags or topics") from None


def interest_matrix(store: Store) -> InterestMatrix:
    """The TF-IDF author x term matrix of every stored post's hashtags and topics.

    Rows and columns come in the order of the ordered queries (SQLite returns groups sorted
    anyway; PostgreSQL's hash aggregation would not), so ties rank alike on both stores."""
    tags = (
        select(posts.c.author_id, ("#" + post_terms.c.value).label("term"), func.count())
        .select_from(post_terms.join(posts, posts.c.pk == post_terms.c.post_pk))
        .where(post_terms.c.kind == "hashtag", posts.c.author_id.is_not(None))
        .group_by(posts.c.author_id, post_terms.c.value)
        .order_by(posts.c.author_id, post_terms.c.value)
    )
    topic_terms = (
        select(posts.c.author_id, ("topic:" + post_labels.c.label).label("term"), func.count())
        .select_from(post_labels.join(posts, posts.c.pk == post_labels.c.post_pk))
        .where(
            post_labels.c.field == "topic",
            post_labels.c.label != NO_TOPIC,
            posts.c.author_id.is_not(None),
        )
        .group_by(posts.c.author_id, post_labels.c.label)
        .order_by(posts.c.author_id, post_labels.c.label)
    )
    author_ix: dict[str, int] = {}
    term_ix: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    with store.begin() as conn:
        for stmt in (tags, topic_terms):
            for aid, term, n in conn.execute(stmt):
                rows.append(author_ix.setdefault(str(aid), len(author_ix)))
                cols.append(term_ix.setdefault(str(term), len(term_ix)))
                vals.append(float(n))
    counts = sparse.csr_matrix(
        (np.array(vals), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
        shape=(len(author_ix), len(term_ix)),
    )
    if counts.shape[0] == 0:
        return InterestMatrix([], [], counts)
    tfidf = TfidfTransformer(sublinear_tf=True, norm="l2").fit_transform(counts)
    return InterestMatrix(list(author_ix), list(term_ix), sparse.csr_matrix(tfidf))


def resolve_author(store: Store, spec: str) -> str:
    """An author id from ``network:handle``, ``handle`` or ``@handle`` (the author with the
    most posts when the handle exists on several networks)."""
    text = spec.strip().lstrip("@")
    if ":" in text:
        network, _, handle = text.partition(":")
        cond = authors.c.id == f"{network.lower()}:{handle.lower()}"
    else:
        cond = func.lower(authors.c.handle) == text.lower()
    with store.begin() as conn:
        ids = [str(a) for (a,) in conn.execute(select(authors.c.id).where(cond))]
        if len(ids) > 1:
            counts: dict[str, int] = dict(
                conn.execute(
                    select(posts.c.author_id, func.count())
                    .where(posts.c.author_id.in_(ids))
                    .group_by(posts.c.author_id)
                ).all()
            )
            ids.sort(key=lambda a: (-int(counts.get(a, 0)), a))
    if not ids:
        raise NotFound(f"no author {spec!r} in the store")
    return ids[0]


def _shared(m: InterestMatrix, a: int, b: int, k: int = 5) -> list[str]:
    """The terms two authors share, heaviest first (by the product of their weights)."""
    ra, rb = m.matrix.getrow(a), m.matrix.getrow(b)
    both = ra.multiply(rb).tocoo()
    order = np.argsort(-both.data, kind="stable")[:k]
    return [m.terms[int(both.col[i])] for i in order]


def similar_authors(
    store: Store, author_id: str, *, limit: int = 10, matrix: InterestMatrix | None = None
) -> list[dict[str, Any]]:
    """The authors whose hashtags and topics are most like ``author_id``'s: author id,
    cosine similarity, the terms they share and whether the two ever interacted (a reply,
    mention, reshare or quote either way), most similar first."""
    m = matrix or interest_matrix(store)
    i = m.row(author_id)
    sims = np.asarray((m.matrix @ m.matrix.getrow(i).T).todense()).ravel()
    sims[i] = -1.0
    order = np.lexsort((np.arange(len(sims)), -sims))
    out: list[dict[str, Any]] = []
    for j in order.tolist():
        if sims[j] <= 0 or len(out) >= limit:
            break
        out.append(
            {
                "author_id": m.authors[j],
                "similarity": round(float(sims[j]), 4),
                "shared": _shared(m, i, j),
            }
        )
    met = _interacted(store, author_id, [r["author_id"] for r in out])
    for r in out:
        r["interacted"] = r["author_id"] in met
    return out


def _interacted(store: Store, author_id: str, others: list[str]) -> set[str]:
    """Which of ``others`` have an interaction with ``author_id``, either way (mentions carry
    their target author; reply / reshare / quote targets are resolved by ``derive_threads``)."""
    if not others:
        return set()
    src, tgt = interactions.c.source_author_id, interactions.c.target_author_id
    with store.begin() as conn:
        out = {
            str(a)
            for (a,) in conn.execute(
                select(tgt).where(src == author_id, tgt.in_(others)).distinct()
            )
        }
        out |= {
            str(a)
            for (a,) in conn.execute(
                select(src).where(tgt == author_id, src.in_(others)).distinct()
            )
        }
    return out


def interest_edges(
    store: Store,
    *,
    k: int = 10,
    min_similarity: float = 0.2,
    matrix: InterestMatrix | None = None,
) -> list[tuple[str, str, float]]:
    """The interest graph as edges (author, neighbour, cosine): each author's ``k`` nearest
    neighbours with a similarity of at least ``min_similarity``."""
    m = matrix or interest_matrix(store)
    n = m.matrix.shape[0]
    if n < 2:
        return []
    nn = NearestNeighbors(n_neighbors=min(k + 1, n), metric="cosine", algorithm="brute")
    nn.fit(m.matrix)
    dist, idx = nn.kneighbors(m.matrix)
    edges: list[tuple[str, str, float]] = []
    for a in range(n):
        for d, b in zip(dist[a].tolist(), idx[a].tolist(), strict=True):
            sim = 1.0 - d
            if b != a and sim >= min_similarity:
                edges.append((m.authors[a], m.authors[int(b)], round(sim, 4)))
    return edges
