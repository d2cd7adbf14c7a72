"""Brand alignment: how close the conversation about a brand is to its stated values and
promises (``Brand.values``), topic by topic.

The values text is cut into statements (sentences and ``;``-separated parts). For each topic
with posts about the brand, closeness to a statement is ``cosine(topic centroid,
embedding(statement)) + 0.5 * lexical`` (as in the perception gap); the topic's closeness is
its best statement's. A topic at or above ``min_score`` is *aligned* when its posts are at
least as often positive as negative, and *contradicts* the value when negative posts
outnumber positive ones (close to a promise, but customers say otherwise); below it is
*unrelated*. ``aligned_share`` and ``contradicting_share`` are the shares of the brand's
topic-labelled posts in such topics. Per statement: its closest topic, or "not discussed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from socialloop.adapt.metrics import TopicStat, topic_stats
from socialloop.adapt.perception import LEXICAL_WEIGHT, content_words, lexical_overlap
from socialloop.adapt.scope import PostRef, Scope, conditions, share, top_posts, with_sentiment
from socialloop.errors import InvalidValue
from socialloop.learn.embeddings import StaticEmbedder, default_embedder
from socialloop.learn.topics import load_topics
from socialloop.store.schema import post_labels, posts
from socialloop.textutil import tokens
from socialloop.workspace import Workspace

_SPLIT = re.compile(r"[.;!?\n]+")


def statements(values: str) -> list[str]:
    """The value statements of a brand's values text."""
    return [s.strip() for s in _SPLIT.split(values) if len(s.strip()) >= 3]


@dataclass(frozen=True, slots=True)
class TopicAlignment:
    topic: TopicStat
    value: str  # the closest statement
    similarity: float
    lexical: float
    score: float
    positive_share: float
    negative_share: float
    status: str  # aligned | contradicts | unrelated
    evidence: list[PostRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ValueCoverage:
    value: str
    topic: str | None  # label of the closest topic at or above min_score
    topic_id: str | None
    score: float
    status: str  # aligned | contradicts | not discussed


@dataclass(frozen=True, slots=True)
class Alignment:
    brand: str
    values: list[str]
    topics_built: bool
    aligned_share: float
    contradicting_share: float
    topics: list[TopicAlignment]
    coverage: list[ValueCoverage]
    headline: str


def brand_alignment(
    ws: Workspace,
    scope: Scope,
    *,
    min_score: float = 0.35,
    evidence: int = 3,
    embedder: StaticEmbedder | None = None,
    topics: Sequence[TopicStat] | None = None,
) -> Alignment:
    """Alignment of the scope's brand (required) with its stated values."""
    brand = scope.brand
    if brand is None:
        raise InvalidValue("brand alignment needs a brand (its stated values are compared)")
    vals = statements(brand.values or "")
    stats = topic_stats(ws, scope) if topics is None else list(topics)
    stored = load_topics(ws.store)
    if not vals or not stats or not stored.ids:
        why = (
            f"{brand.name} has no stated values (brand edit --values TEXT)."
            if not vals
            else "No topics in scope: run `socialloop topics --build` to compare."
        )
        return Alignment(brand.name, vals, bool(stored.ids), 0.0, 0.0, [], [], why)
    emb = embedder or default_embedder()
    vvecs = emb.encode(vals)
    brand_words = frozenset(w for b in ws.store.list_brands() for w in tokens(b.name))
    words = [content_words(v, brand_words) for v in vals]
    index = {str(t): i for i, t in enumerate(stored.ids)}
    out: list[TopicAlignment] = []
    for t in stats:
        if t.id not in index:
            continue
        sims = vvecs @ stored.centroids[index[t.id]]
        scored = []
        for j, v in enumerate(vals):
            lex = lexical_overlap(words[j], t.keywords + tokens(t.label))
            scored.append((float(sims[j]) + LEXICAL_WEIGHT * lex, float(sims[j]), lex, v))
        score, sim, lex, value = max(scored, key=lambda s: s[0])
        labelled = sum(t.sentiment.values())
        pos = share(t.sentiment.get("positive", 0), labelled)
        neg = share(t.sentiment.get("negative", 0), labelled)
        status = "contradicts" if neg > pos else "aligned"
        if score < min_score:
            status = "unrelated"
        out.append(
            TopicAlignment(
                t,
                value,
                round(sim, 4),
                lex,
                round(score, 4),
                pos,
                neg,
                status,
                _negative_evidence(ws, scope, t.id, evidence) if status == "contradicts" else [],
            )
        )
    total = sum(a.topic.posts for a in out)
    aligned = share(sum(a.topic.posts for a in out if a.status == "aligned"), total)
    contra = share(sum(a.topic.posts for a in out if a.status == "contradicts"), total)
    coverage: list[ValueCoverage] = []
    for v in vals:
        close = [a for a in out if a.value == v and a.status != "unrelated"]
        if not close:
            coverage.append(ValueCoverage(v, None, None, 0.0, "not discussed"))
            continue
        best = max(close, key=lambda a: (a.score, a.topic.posts))
        coverage.append(ValueCoverage(v, best.topic.label, best.topic.id, best.score, best.status))
    worst = sorted((a for a in out if a.status == "contradicts"), key=lambda a: -a.topic.posts)
    if worst:
        w = worst[0]
        headline = (
            f"“{w.topic.label}” ({w.topic.posts} posts) is close to the promise “{w.value}” "
            f"but {w.negative_share:.0%} of its posts are negative."
        )
    else:
        headline = (
            f"{aligned:.0%} of the conversation is about topics close to the stated values; "
            "none contradicts them."
        )
    out.sort(key=lambda a: ({"contradicts": 0, "aligned": 1}.get(a.status, 2), -a.score))
    return Alignment(brand.name, vals, True, aligned, contra, out, coverage, headline)


def _negative_evidence(ws: Workspace, scope: Scope, topic_id: str, limit: int) -> list[PostRef]:
    base, sent = with_sentiment(posts, scope.brand_id)
    conds = [
        *conditions(scope),
        sent == "negative",
        posts.c.pk.in_(
            select(post_labels.c.post_pk).where(
                post_labels.c.field == "topic", post_labels.c.label == topic_id
            )
        ),
    ]
    with ws.store.begin() as conn:
        return top_posts(conn, conds, limit, base)
