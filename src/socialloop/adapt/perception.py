"""Perception gap: the team's stated assumptions (``Brand.assumptions``) held against what
customers actually discuss about the brand.

Each assumption is matched to the stored topics by ``cosine(embedding(assumption), topic
centroid) + 0.5 * lexical`` (the bundled static embeddings; lexical = the share of the
assumption's content words found, stemmed, among the topic's keywords). The best topic at or
above ``min_score`` that shares a content word with the assumption, or is very close in
meaning (cosine >= ``strong``, 0.55), is the assumption's topic; its rank by the brand's
posts, its share of the conversation, its sentiment and intents are the evidence, with the
posts that engage most. The share of the brand's posts containing any content word (a
wildcard query) is reported too.

Verdict: an assumption that claims first place ("most", "main", "biggest", "top", "#1", ...)
is *confirmed* when its topic ranks 1st, others when in the top 3; otherwise it is *wrong*;
*no_topic* when no topic matches but posts use its words (their share is the evidence), and
*no_evidence* when no topic matches and no post uses its words. The headline is the wrong
assumption whose topic ranks lowest (else one nobody discusses). Topics customers discuss
most that no assumption covers are *blind spots*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, func, select

from socialloop.adapt.metrics import TopicStat, topic_stats
from socialloop.adapt.scope import PostRef, Scope, conditions, share, top_posts
from socialloop.errors import InvalidValue, QueryError
from socialloop.learn.embeddings import StaticEmbedder, default_embedder
from socialloop.learn.topics import STOPWORDS, load_topics
from socialloop.store.schema import post_labels, posts
from socialloop.textutil import tokens
from socialloop.workspace import Workspace

LEXICAL_WEIGHT = 0.5
_FILLER_TEXT = """customer customers client clients people user users buyer buyers shopper shoppers
    care cares caring want wants wanted need needs matter matters mattering think thinks
    about most more main mainly really always our their everyone anyone drive drives driven
    value values important thing things biggest top first primary number above all"""
_FILLER = frozenset(_FILLER_TEXT.split())
_TOP_CLAIM = frozenset({"most", "main", "mainly", "biggest", "top", "first", "primary", "1"})


def stem(word: str) -> str:
    """A crude English stem: one of -ing, -ed, -es, -s removed when 3+ letters remain."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str, brand_words: frozenset[str] = frozenset()) -> list[str]:
    """The words of an assumption that name a subject (stopwords and filler left out)."""
    seen: dict[str, None] = {}
    for w in tokens(text):
        if len(w) >= 3 and w not in STOPWORDS and w not in _FILLER and w not in brand_words:
            seen.setdefault(w)
    return list(seen)


def lexical_overlap(words: list[str], keywords: list[str]) -> float:
    """Share of ``words`` whose stem is the stem of a keyword (or a prefix of one, 4+ chars)."""
    if not words:
        return 0.0
    stems = [stem(k) for k in keywords]
    hit = sum(
        1
        for w in words
        if any(s == stem(w) or (len(stem(w)) >= 4 and s.startswith(stem(w))) for s in stems)
    )
    return round(hit / len(words), 4)


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic_id: str
    label: str
    similarity: float  # cosine of the embeddings
    lexical: float
    score: float


@dataclass(frozen=True, slots=True)
class AssumptionCheck:
    """One assumption against the conversation (see the module doc for the verdict)."""

    assumption: str
    words: list[str]
    claims_top: bool
    topic: TopicStat | None
    match: TopicMatch | None
    alternatives: list[TopicMatch]
    rank: int | None  # 1-based, by the brand's posts
    topics_total: int
    share: float  # of the brand's topic-labelled posts
    negative_share: float
    intents: dict[str, int]
    keyword_posts: int
    keyword_share: float  # of all the brand's posts in scope
    verdict: str  # confirmed | wrong | no_topic | no_evidence
    finding: str
    evidence: list[PostRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PerceptionGap:
    brand: str
    posts: int
    topics_built: bool
    headline: str
    assumptions: list[AssumptionCheck]
    top_topics: list[TopicStat]
    blind_spots: list[TopicStat]
    top_evidence: list[PostRef] = field(default_factory=list)


def _intents_by_topic(ws: Workspace, scope: Scope) -> dict[str, Counter[str]]:
    tl, il = post_labels.alias("tl"), post_labels.alias("il")
    stmt = (
        select(tl.c.label.label("topic"), il.c.label.label("intent"), func.count().label("n"))
        .select_from(
            posts.join(tl, and_(tl.c.post_pk == posts.c.pk, tl.c.field == "topic")).join(
                il, and_(il.c.post_pk == posts.c.pk, il.c.field == "intent")
            )
        )
        .where(*conditions(scope))
        .group_by(tl.c.label, il.c.label)
    )
    out: dict[str, Counter[str]] = {}
    with ws.store.begin() as conn:
        for r in conn.execute(stmt):
            out.setdefault(str(r.topic), Counter())[str(r.intent)] = int(r.n)
    return out


def _top_intents(counts: Counter[str] | None, k: int = 5) -> dict[str, int]:
    """The ``k`` most frequent intents, ties by name (not by the order the database grouped
    them in: SQLite returns groups sorted, PostgreSQL's hash aggregation does not)."""
    ranked = sorted((counts or Counter()).items(), key=lambda kv: (-kv[1], kv[0]))
    return dict(ranked[:k])


def _topic_evidence(ws: Workspace, scope: Scope, topic_id: str, limit: int) -> list[PostRef]:
    conds = [
        *conditions(scope),
        posts.c.pk.in_(
            select(post_labels.c.post_pk).where(
                post_labels.c.field == "topic", post_labels.c.label == topic_id
            )
        ),
    ]
    with ws.store.begin() as conn:
        return top_posts(conn, conds, limit)


def _keyword_posts(ws: Workspace, scope: Scope, words: list[str]) -> int:
    if not words or scope.brand is None:
        return 0
    # a stem of 5+ letters as a prefix (prices, pricing), shorter words exactly (app, not apple)
    query = " OR ".join(f"{stem(w)}*" if len(stem(w)) >= 5 else w for w in words)
    try:
        return ws.count(query, brand=scope.brand.name, since=scope.since, until=scope.until)
    except QueryError:
        return 0


def perception_gap(
    ws: Workspace,
    scope: Scope,
    *,
    min_score: float = 0.35,
    strong: float = 0.55,
    evidence: int = 3,
    embedder: StaticEmbedder | None = None,
    topics: Sequence[TopicStat] | None = None,
) -> PerceptionGap:
    """The perception gap of the scope's brand (required) over the scope's time range."""
    brand = scope.brand
    if brand is None:
        raise InvalidValue("the perception gap needs a brand (its assumptions are checked)")
    stats = topic_stats(ws, scope) if topics is None else list(topics)
    by_id = {t.id: t for t in stats}
    rank = {t.id: i + 1 for i, t in enumerate(stats)}
    stored = load_topics(ws.store)
    keywords = {t.id: t.keywords for t in stats}
    intents = _intents_by_topic(ws, scope) if stats else {}
    total_posts = ws.count(None, brand=brand.name, since=scope.since, until=scope.until)
    brand_words = frozenset(w for b in ws.store.list_brands() for w in tokens(b.name))
    emb = embedder or default_embedder()
    checks: list[AssumptionCheck] = []
    matched_ids: set[str] = set()
    vecs = emb.encode(brand.assumptions) if brand.assumptions else np.zeros((0, 0))
    for i, text in enumerate(brand.assumptions):
        words = content_words(text, brand_words)
        claims_top = bool(_TOP_CLAIM & set(tokens(text))) or "#1" in text
        matches: list[TopicMatch] = []
        if stored.ids:
            sims = stored.centroids @ vecs[i]
            for tid, label, sim in zip(stored.ids, stored.labels, sims.tolist(), strict=True):
                key = str(tid)
                if key not in by_id:
                    continue  # no post of this brand in scope
                lex = lexical_overlap(words, keywords.get(key, []) + tokens(label))
                matches.append(
                    TopicMatch(key, label, round(sim, 4), lex, round(sim + LEXICAL_WEIGHT * lex, 4))
                )
        matches.sort(key=lambda m: (-m.score, rank.get(m.topic_id, 0)))
        eligible = [
            m for m in matches if m.score >= min_score and (m.lexical > 0 or m.similarity >= strong)
        ]
        best = eligible[0] if eligible else None
        kw_posts = _keyword_posts(ws, scope, words)
        topic = by_id[best.topic_id] if best else None
        r = rank[best.topic_id] if best else None
        if best:
            matched_ids.add(best.topic_id)
        if topic is None:
            verdict = "no_evidence" if kw_posts == 0 else "no_topic"
        else:
            assert r is not None
            verdict = "confirmed" if r <= (1 if claims_top else 3) else "wrong"
        finding = _finding(text, verdict, topic, r, len(stats), stats, kw_posts, total_posts)
        checks.append(
            AssumptionCheck(
                assumption=text,
                words=words,
                claims_top=claims_top,
                topic=topic,
                match=best,
                alternatives=[m for m in matches if m is not best][:3],
                rank=r,
                topics_total=len(stats),
                share=topic.share if topic else 0.0,
                negative_share=topic.negative_share if topic else 0.0,
                intents=_top_intents(intents.get(best.topic_id)) if best else {},
                keyword_posts=kw_posts,
                keyword_share=share(kw_posts, total_posts),
                verdict=verdict,
                finding=finding,
                evidence=_topic_evidence(ws, scope, best.topic_id, evidence) if best else [],
            )
        )
    # wrong ones first, the lowest-ranked topic first; then assumptions nobody discusses
    wrong = sorted(
        (c for c in checks if c.verdict == "wrong"), key=lambda c: (-(c.rank or 0), c.share)
    )
    wrong += [c for c in checks if c.verdict == "no_evidence"]
    if wrong:
        headline = wrong[0].finding
    elif not brand.assumptions:
        headline = f"{brand.name} has no stated assumptions (brand edit --assume TEXT)."
    elif not stats:
        headline = "No topics in scope: run `socialloop topics --build` to compare."
    else:
        headline = "The team's assumptions match what customers discuss most."
    blind = [t for t in stats[:5] if t.id not in matched_ids][:3]
    return PerceptionGap(
        brand=brand.name,
        posts=total_posts,
        topics_built=bool(stored.ids),
        headline=headline,
        assumptions=checks,
        top_topics=stats[:10],
        blind_spots=blind,
        top_evidence=_topic_evidence(ws, scope, stats[0].id, evidence) if stats else [],
    )


def _finding(
    text: str,
    verdict: str,
    topic: TopicStat | None,
    rank: int | None,
    n: int,
    stats: list[TopicStat],
    kw_posts: int,
    total: int,
) -> str:
    top = stats[0] if stats else None
    lead = f"The team assumes “{text}”"
    if topic is None:
        if kw_posts == 0:
            return f"{lead}, but customers do not discuss it (no matching topic or post)."
        return (
            f"{lead}, but no topic is about it; {kw_posts} of {total} posts use its words "
            f"({share(kw_posts, total):.1%})."
        )
    where = f"“{topic.label}” is #{rank} of {n} topics ({topic.share:.1%} of the conversation)"
    if verdict == "confirmed":
        return f"{lead}: confirmed, {where}."
    assert top is not None
    return f"{lead}, but {where}; customers talk most about “{top.label}” ({top.share:.1%})."
