"""Topics: clusters of post embeddings, labelled with c-TF-IDF keywords.

``build_topics`` reads every stored post vector (the ``embedding`` step's ``embeddings``
table), clusters the unit vectors with a seeded spherical mini-batch k-means (numpy only),
labels each cluster with its top class-based TF-IDF terms, flags emerging topics and stores
the result, replacing the previous build: the ``topics`` table, each post's ``topic`` label
(``post_labels``: field ``topic``, label ``str(id)``, score = cosine to the centroid) and the
``topic`` step's enrichment rows, so the pipeline sees those posts as done.

New posts are assigned incrementally by the ``topic`` step (:class:`TopicEnricher`): it is built
with the stored centroids (``TopicEnricher.from_store``) and, since steps are pure and vectors
do not travel in ``Item.prior``, embeds the post text itself with the same static model the
``embedding`` step uses (deterministic, ~50 µs a post), then takes the nearest centroid.

Emerging rule: with ``now`` = the newest post in the store, a topic is emerging when its share
of the posts of the last ``window_days`` (7) is at least ``ratio`` (3) times its share of all
posts, and it has at least ``min_recent`` (20) posts in that window.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, delete, func, select

from socialloop.learn.base import Item, Result
from socialloop.learn.embeddings import StaticEmbedder, default_embedder, vector_from_bytes
from socialloop.store import Store
from socialloop.store.enrich_rows import StoredRow, drop_step, lock, merge_results
from socialloop.store.rows import do_nothing, upsert_rows
from socialloop.store.schema import embeddings, post_labels, posts, topics
from socialloop.textutil import tokens

STEP_NAME = "topic"
STEP_VERSION = "1"
NO_TOPIC = "none"
#: Fewer embedded posts than this and `build_topics` builds nothing.
MIN_POSTS = 200

_READ_BATCH = 5000
_WRITE_BATCH = 5000
# URLs and handles are no topic words; a fediverse handle (@user@kahvi.social) goes whole, or
# its server's name ("social") would label every Mastodon-heavy topic.
_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|@\w+(?:@[\w-]+(?:\.[\w-]+)+)?")


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that can label a topic: folded tokens of 3+ characters, no
    digits-only tokens, URLs or handles (stopwords are dropped by the caller)."""
    return [t for t in tokens(_URL_OR_HANDLE.sub(" ", text)) if len(t) >= 3 and not t.isdigit()]


# Short stopword lists (en, es, fr, de, fi), folded like textutil.tokens (accents stripped);
# the English contractions' first halves too ("didn't" is the tokens didn + t).
_STOPWORDS_TEXT = """
a about after again all also am an and any are as at be because been before being but by can
could did do does doing done don dont for from get got had has have having he her here hers him
his how i if im in into is isn it its ive just like me more most my no not now of off on once
only or other our out over own really same she should so some still such than that the their
them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours yes yet one will amp via http
https www com
didn doesn wasn weren won wouldn couldn shouldn aren haven hasn hadn ain youre theyre thats
el la los las un una unos unas y o pero que de del al en con por para sin sobre es son esta
estan este esto ese eso como mas muy ya no si se lo le les me mi mis te tu tus su sus nos hay
fue ser hace todo todos porque cuando donde tambien
le les un une des et ou mais que qui de du au aux en dans avec pour par sur est sont ce cet
cette ces comme plus tres pas ne se sa son ses je tu il elle nous vous ils elles mon ma mes
ton ta tes leur leurs y a ete etre fait tout tous etait cest
der die das den dem des ein eine einen einem einer und oder aber dass wie mit von zu zum zur
im in auf aus bei fur ist sind war nicht kein keine ich du er sie es wir ihr mein dein sein
auch noch schon sehr nur so wenn dann hat haben wird
ja tai mutta etta on ei se ne ole oli olla kun niin kuin myos jo vain mina sina han me te he
tama tuo joka mita mika kanssa
"""
STOPWORDS: frozenset[str] = frozenset(tokens(_STOPWORDS_TEXT))


@dataclass(frozen=True, slots=True)
class Topic:
    """One cluster of posts: ``id`` (1 = the largest), its label (top keywords joined with
    `` / ``), the keywords, its unit centroid, its size and date range, posts in the recent
    window and whether it is emerging."""

    id: int
    label: str
    keywords: tuple[str, ...]
    centroid: NDArray[np.float32]
    size: int
    first_seen: datetime | None
    last_seen: datetime | None
    recent: int
    emerging: bool


def default_k(n: int) -> int:
    """About ``sqrt(n / 50)`` clusters, clamped to [5, 60] (and to ``n``)."""
    return max(1, min(n, max(5, min(60, round(math.sqrt(n / 50))))))


def _normalise(x: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


def _read_vectors(store: Store) -> tuple[NDArray[np.int64], NDArray[np.float16], list[datetime]]:
    """Every stored vector (pk order, read in pk batches), unit-normalised, kept as float16
    to halve memory, with its post's pk and creation time."""
    pks: list[int] = []
    chunks: list[NDArray[np.float16]] = []
    times: list[datetime] = []
    last = dims = 0
    while True:
        with store.begin() as conn:
            stmt = (
                select(embeddings.c.post_pk, embeddings.c.vector, posts.c.created_at)
                .select_from(embeddings.join(posts, posts.c.pk == embeddings.c.post_pk))
                .where(embeddings.c.post_pk > last)
                .order_by(embeddings.c.post_pk)
                .limit(_READ_BATCH)
            )
            rows = conn.execute(stmt).all()
        if not rows:
            break
        last = int(rows[-1][0])
        blobs = [bytes(r[1]) for r in rows]
        if len({len(b) for b in blobs}) != 1 or (chunks and len(blobs[0]) != 2 * dims):
            raise ValueError("stored embeddings differ in length; re-run the embedding step")
        dims = len(blobs[0]) // 2
        mat = vector_from_bytes(b"".join(blobs)).reshape(len(blobs), dims)
        chunks.append(_normalise(mat).astype(np.float16))
        pks.extend(int(r[0]) for r in rows)
        times.extend(r[2] for r in rows)
    if not chunks:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float16), []
    return np.asarray(pks, dtype=np.int64), np.concatenate(chunks), times


def _assign(
    x: NDArray[np.float16], centroids: NDArray[np.float32], chunk: int = 65536
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Nearest centroid (by cosine) of each row, and that cosine; chunked over rows."""
    labels = np.zeros(len(x), dtype=np.int64)
    sims = np.zeros(len(x), dtype=np.float32)
    for i in range(0, len(x), chunk):
        s = x[i : i + chunk].astype(np.float32) @ centroids.T
        labels[i : i + chunk] = s.argmax(axis=1)
        sims[i : i + chunk] = s[np.arange(len(s)), labels[i : i + chunk]]
    return labels, sims


def _kmeans_once(
    x: NDArray[np.float16],
    k: int,
    rng: np.random.Generator,
    batch_size: int,
    iterations: int,
    refine: int,
) -> tuple[NDArray[np.float32], float]:
    """One spherical k-means run; returns the unit centres and the total cosine of the rows
    to their nearest centre (the objective, higher is better)."""
    n = len(x)
    sample = x[rng.choice(n, size=min(n, 20 * k + 1000), replace=False)].astype(np.float32)
    centres = np.empty((k, x.shape[1]), dtype=np.float32)
    centres[0] = sample[rng.integers(len(sample))]
    dist = 1.0 - sample @ centres[0]
    for j in range(1, k):  # k-means++ seeding on the sample
        p = np.clip(dist, 0.0, None)
        total = float(p.sum())
        pick = int(rng.choice(len(sample), p=p / total)) if total > 0 else int(rng.integers(n))
        centres[j] = sample[pick] if total > 0 else x[pick].astype(np.float32)
        dist = np.minimum(dist, 1.0 - sample @ centres[j])
    counts = np.zeros(k, dtype=np.float64)
    for _ in range(iterations if n > batch_size else 0):
        batch = x[rng.choice(n, size=batch_size, replace=False)].astype(np.float32)
        nearest = (batch @ centres.T).argmax(axis=1)
        for j in np.unique(nearest):
            members = batch[nearest == j]
            counts[j] += len(members)
            rate = len(members) / counts[j]
            centres[j] = (1.0 - rate) * centres[j] + rate * members.mean(axis=0)
        _normalise(centres)
    for _ in range(refine):  # full Lloyd passes: centre = normalised mean of its rows
        labels, _sims = _assign(x, centres)
        sums = np.zeros_like(centres)
        onehot = np.eye(k, dtype=np.float32)
        for i in range(0, n, 65536):
            sums += onehot[labels[i : i + 65536]].T @ x[i : i + 65536].astype(np.float32)
        filled = np.bincount(labels, minlength=k) > 0
        centres[filled] = _normalise(sums[filled])
    _labels, sims = _assign(x, centres)
    return centres, float(sims.sum(dtype=np.float64))


def spherical_kmeans(
    x: NDArray[np.float16],
    k: int,
    *,
    seed: int = 0,
    n_init: int = 4,
    batch_size: int = 1024,
    iterations: int = 100,
    refine: int = 5,
) -> NDArray[np.float32]:
    """Unit centroids of ``k`` clusters of the unit rows of ``x``: the best (highest total
    cosine) of ``n_init`` runs of k-means++ seeding on a sample, mini-batch updates (per-centre
    learning rate 1 / count, re-normalised) and ``refine`` full Lloyd passes. Deterministic
    for a seed."""
    rng = np.random.default_rng(seed)
    best: NDArray[np.float32] | None = None
    best_score = -math.inf
    for _ in range(max(1, n_init)):
        centres, score = _kmeans_once(x, k, rng, batch_size, iterations, refine)
        if score > best_score:
            best, best_score = centres, score
    assert best is not None
    return best


def _term_counts(
    store: Store, pks: NDArray[np.int64], labels: NDArray[np.int64], k: int, drop: frozenset[str]
) -> list[Counter[str]]:
    """Per cluster, how often each kept token occurs in its posts' texts (read in batches)."""
    cluster_of = dict(zip(pks.tolist(), labels.tolist(), strict=True))
    counts: list[Counter[str]] = [Counter() for _ in range(k)]
    for i in range(0, len(pks), _READ_BATCH):
        chunk = pks[i : i + _READ_BATCH].tolist()
        with store.begin() as conn:
            rows = conn.execute(select(posts.c.pk, posts.c.text).where(posts.c.pk.in_(chunk)))
            for pk, text in rows:
                counts[cluster_of[pk]].update(t for t in topic_words(text) if t not in drop)
    return counts


def ctfidf_keywords(counts: Sequence[Counter[str]], top: int = 5) -> list[list[str]]:
    """Class-based TF-IDF (BERTopic's): ``tf(t, c) / |c| * log(1 + A / f(t))`` with ``A`` the
    mean number of tokens per class and ``f(t)`` the frequency of ``t`` over all classes; the
    ``top`` terms of each class, best first (ties alphabetical, for determinism)."""
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    sizes = [sum(c.values()) for c in counts]
    avg = sum(sizes) / max(1, sum(1 for s in sizes if s))
    out: list[list[str]] = []
    for c, size in zip(counts, sizes, strict=True):
        scored = sorted(
            ((tf / size * math.log(1.0 + avg / total[t]), t) for t, tf in c.items()),
            key=lambda st: (-st[0], st[1]),
        )
        out.append([t for _s, t in scored[:top]])
    return out


def _brand_tokens(store: Store) -> frozenset[str]:
    return frozenset(t for b in store.list_brands() for t in tokens(b.name))


def _naive(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def build_topics(
    store: Store,
    *,
    k: int | None = None,
    seed: int = 0,
    min_posts: int = MIN_POSTS,
    window_days: int = 7,
    ratio: float = 3.0,
    min_recent: int = 20,
    keywords: int = 5,
) -> list[Topic]:
    """Cluster every stored post vector into topics and store them, replacing the previous
    build (see the module doc). ``k`` defaults to :func:`default_k`; with fewer than
    ``min_posts`` embedded posts nothing is built or changed and ``[]`` is returned. Topics are
    numbered from 1 by decreasing size; empty clusters are dropped."""
    pks, x, times = _read_vectors(store)
    has_vec = np.linalg.norm(x.astype(np.float32), axis=1) > 0 if len(x) else np.zeros(0, bool)
    n = int(has_vec.sum())
    if n < max(1, min_posts):
        return []
    xs, pks_v = x[has_vec], pks[has_vec]
    times_v = [t for t, keep in zip(times, has_vec.tolist(), strict=True) if keep]
    kk = max(1, min(n, k if k is not None else default_k(n)))
    centres = spherical_kmeans(xs, kk, seed=seed)
    raw_labels, sims = _assign(xs, centres)
    sizes = np.bincount(raw_labels, minlength=kk)
    order = [int(j) for j in np.argsort(-sizes, kind="stable") if sizes[j] > 0]
    remap = np.full(kk, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    labels = remap[raw_labels]
    m = len(order)
    words = ctfidf_keywords(
        _term_counts(store, pks_v, labels, m, STOPWORDS | _brand_tokens(store)), keywords
    )

    newest = max(times_v)
    since = newest - timedelta(days=window_days)
    recent_mask = np.fromiter((t > since for t in times_v), dtype=bool, count=n)
    recent = np.bincount(labels[recent_mask], minlength=m)
    total_recent = int(recent_mask.sum())
    counts = np.bincount(labels, minlength=m)
    first: list[datetime | None] = [None] * m
    last: list[datetime | None] = [None] * m
    for j, t in zip(labels.tolist(), times_v, strict=True):
        f, lt = first[j], last[j]
        first[j] = t if f is None or t < f else f
        last[j] = t if lt is None or t > lt else lt

    result: list[Topic] = []
    for j in range(m):
        share_all = counts[j] / n
        share_recent = recent[j] / total_recent if total_recent else 0.0
        emerging = bool(recent[j] >= min_recent and share_recent >= ratio * share_all)
        result.append(
            Topic(
                id=j + 1,
                label=" / ".join(words[j]) or f"topic {j + 1}",
                keywords=tuple(words[j]),
                centroid=centres[order[j]].astype(np.float32),
                size=int(counts[j]),
                first_seen=first[j],
                last_seen=last[j],
                recent=int(recent[j]),
                emerging=emerging,
            )
        )
    _store_build(store, result, pks, has_vec, labels, sims)
    return result


def _store_build(
    store: Store,
    built: Sequence[Topic],
    pks: NDArray[np.int64],
    has_vec: NDArray[np.bool_],
    labels: NDArray[np.int64],
    sims: NDArray[np.float32],
) -> None:
    """Replace topics, ``topic`` labels and ``topic`` enrichments in one transaction."""
    now = datetime.now(UTC).replace(tzinfo=None)
    by_index = {t.id - 1: t for t in built}
    assigned = iter(zip(labels.tolist(), sims.tolist(), strict=True))
    rows: list[tuple[int, str, str, float | None]] = []  # pk, topic, label, score
    for pk, ok in zip(pks.tolist(), has_vec.tolist(), strict=True):
        if not ok:
            rows.append((pk, NO_TOPIC, "", None))
            continue
        j, s = next(assigned)
        rows.append((pk, str(j + 1), by_index[j].label, round(float(s), 6)))
    with store.begin() as conn:
        lock(conn)  # first: the pipeline's writers merge into the same rows
        conn.execute(delete(topics))
        conn.execute(delete(post_labels).where(post_labels.c.field == STEP_NAME))
        drop_step(conn, STEP_NAME)
        conn.execute(
            topics.insert(),
            [
                {
                    "id": t.id,
                    "label": t.label,
                    "keywords": list(t.keywords),
                    "centroid": t.centroid.astype("<f2").tobytes(),
                    "size": t.size,
                    "created_at": now,
                    "first_seen": None if t.first_seen is None else _naive(t.first_seen),
                    "last_seen": None if t.last_seen is None else _naive(t.last_seen),
                    "emerging": t.emerging,
                }
                for t in built
            ],
        )
        for i in range(0, len(rows), _WRITE_BATCH):
            _write_rows(conn, rows[i : i + _WRITE_BATCH], now)


def _write_rows(
    conn: Connection, rows: Sequence[tuple[int, str, str, float | None]], now: datetime
) -> None:
    """The topic step's enrichments and labels of ``rows`` (the old ones were deleted)."""
    fresh = {
        pk: StoredRow(
            {STEP_NAME: STEP_VERSION},
            {STEP_NAME: {"topic": tid, "topic_label": label} if label else {"topic": tid}},
            {} if score is None else {STEP_NAME: score},
        )
        for pk, tid, label, score in rows
    }
    labs = [(STEP_NAME, tid, pk, score) for pk, tid, _label, score in rows]
    merge_results(conn, fresh, now)
    upsert_rows(conn, post_labels, _LABEL_KEYS, labs, do_nothing)


_LABEL_KEYS = ("field", "label", "post_pk", "score")


@dataclass(frozen=True, slots=True)
class StoredTopics:
    """The stored topic model: ids, labels and unit centroids (one row per topic)."""

    ids: tuple[int, ...]
    labels: tuple[str, ...]
    centroids: NDArray[np.float32]


def load_topics(store: Store) -> StoredTopics:
    """The topics of the last build (empty when none was built)."""
    with store.begin() as conn:
        rows = conn.execute(
            select(topics.c.id, topics.c.label, topics.c.centroid).order_by(topics.c.id)
        ).all()
    if not rows:
        return StoredTopics((), (), np.zeros((0, 0), dtype=np.float32))
    mat = _normalise(np.stack([vector_from_bytes(bytes(r.centroid)) for r in rows]))
    return StoredTopics(tuple(int(r.id) for r in rows), tuple(r.label for r in rows), mat)


class TopicEnricher:
    """Step ``topic``: the nearest stored topic of each post.

    ``values`` are ``{"topic": str(id), "topic_label": label}`` with the cosine as confidence,
    or ``{"topic": "none"}`` when no topics are built (or the text has no known token). The
    post is embedded here with the ``embedding`` step's static model (vectors do not travel
    in ``Item.prior``); ``requires`` the ``embedding`` step so the order matches the build."""

    name = STEP_NAME
    version = STEP_VERSION
    requires: tuple[str, ...] = ("embedding",)
    produces: tuple[str, ...] = ("topic",)

    def __init__(
        self, stored: StoredTopics | None = None, embedder: StaticEmbedder | None = None
    ) -> None:
        self.stored = stored or StoredTopics((), (), np.zeros((0, 0), dtype=np.float32))
        self._embedder = embedder

    @classmethod
    def from_store(cls, store: Store, embedder: StaticEmbedder | None = None) -> TopicEnricher:
        """An enricher over the topics currently stored."""
        return cls(load_topics(store), embedder)

    def refresh(self, store: Store) -> None:
        """Take the topics stored now (a kept pipeline after a new topic build)."""
        self.stored = load_topics(store)

    @property
    def embedder(self) -> StaticEmbedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def __getstate__(self) -> dict[str, Any]:  # worker processes load the table themselves
        return {"stored": self.stored, "_embedder": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.stored = state["stored"]
        self._embedder = state.get("_embedder")

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        if not batch:
            return []
        if not self.stored.ids:
            return [Result(values={"topic": NO_TOPIC}) for _ in batch]
        vecs = self.embedder.encode(item.post.text for item in batch)
        sims = vecs @ self.stored.centroids.T
        best = sims.argmax(axis=1)
        empty = [not bool(v.any()) for v in vecs]
        out: list[Result] = []
        for row, j, blank in zip(sims, best.tolist(), empty, strict=True):
            if blank:
                out.append(Result(values={"topic": NO_TOPIC}))
                continue
            out.append(
                Result(
                    values={"topic": str(self.stored.ids[j]), "topic_label": self.stored.labels[j]},
                    confidence=round(float(row[j]), 6),
                )
            )
        return out


def topic_step(store: Store) -> TopicEnricher:
    """The ``topic`` step for a pipeline run over ``store`` (for the steps registry)."""
    return TopicEnricher.from_store(store)


def topics_summary(store: Store) -> list[dict[str, Any]]:
    """One dict per stored topic (id, label, keywords, size, emerging, last_seen), by id.

    ``size`` and ``last_seen`` are live: they count the posts labelled with the topic now
    (the build plus posts the ``topic`` step assigned since); ``emerging`` is as of the build.
    """
    live = (
        select(
            post_labels.c.label,
            func.count().label("n"),
            func.max(posts.c.created_at).label("last"),
        )
        .select_from(post_labels.join(posts, posts.c.pk == post_labels.c.post_pk))
        .where(post_labels.c.field == STEP_NAME)
        .group_by(post_labels.c.label)
    )
    with store.begin() as conn:
        counts = {r.label: (int(r.n), r.last) for r in conn.execute(live)}
        rows = conn.execute(select(topics).order_by(topics.c.id)).all()
    out: list[dict[str, Any]] = []
    for r in rows:
        n, last = counts.get(str(r.id), (int(r.size), r.last_seen))
        out.append(
            {
                "id": int(r.id),
                "label": r.label,
                "keywords": list(r.keywords),
                "size": n,
                "emerging": bool(r.emerging),
                "last_seen": last,
            }
        )
    return out


def topic_pks(store: Store, topic_id: int) -> list[int]:
    """The pks of the posts labelled with ``topic_id``, in pk order."""
    with store.begin() as conn:
        stmt = (
            select(post_labels.c.post_pk)
            .where(post_labels.c.field == STEP_NAME, post_labels.c.label == str(topic_id))
            .order_by(post_labels.c.post_pk)
        )
        return [int(r[0]) for r in conn.execute(stmt)]


__all__ = [
    "STOPWORDS",
    "StoredTopics",
    "Topic",
    "TopicEnricher",
    "build_topics",
    "ctfidf_keywords",
    "default_k",
    "load_topics",
    "spherical_kmeans",
    "topic_pks",
    "topic_step",
    "topics_summary",
]
