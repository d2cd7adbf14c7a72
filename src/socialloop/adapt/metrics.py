"""Conversation metrics: volume, sentiment and emotion over time, share of voice against
competitors, top topics and what drives negative sentiment.

Every function takes a :class:`~socialloop.adapt.scope.Scope` (brand, since, until), runs
GROUP BY queries in the store and returns plain dataclasses (``scope.jsonable`` turns them into
JSON). Definitions are in docs/reports.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from socialloop.adapt.scope import (
    SENTIMENT_LABELS,
    Scope,
    bucket,
    conditions,
    count_if,
    engagement,
    parse_bucket,
    share,
    with_sentiment,
)
from socialloop.learn.topics import STOPWORDS
from socialloop.models import Brand
from socialloop.store.schema import post_brands, post_labels, posts, topics
from socialloop.textutil import tokens
from socialloop.workspace import Workspace


@dataclass(frozen=True, slots=True)
class Bucket:
    """One time bucket: posts, their engagement, sentiment counts (toward the brand when the
    scope has one) and top-emotion counts (``none`` and unlabelled posts left out)."""

    start: datetime
    posts: int
    engagement: int
    sentiment: dict[str, int]
    emotions: dict[str, int]

    @property
    def net_sentiment(self) -> float:
        """(positive - negative) / labelled posts, in [-1, 1]."""
        pos, neg = self.sentiment.get("positive", 0), self.sentiment.get("negative", 0)
        labelled = sum(self.sentiment.values())
        return round((pos - neg) / labelled, 4) if labelled else 0.0


@dataclass(frozen=True, slots=True)
class TimeSeries:
    brand: str | None
    unit: str
    buckets: list[Bucket]


def timeseries(ws: Workspace, scope: Scope, unit: str = "day") -> TimeSeries:
    """Volume, engagement, sentiment and emotion per ``unit`` (day or hour), oldest first;
    buckets without posts are not listed."""
    conds = conditions(scope)
    with ws.store.begin() as conn:
        b = bucket(conn, unit).label("b")
        volume = {
            r.b: (int(r.n), int(r.eng or 0))
            for r in conn.execute(
                select(b, func.count().label("n"), func.sum(engagement()).label("eng"))
                .where(*conds)
                .group_by(b)
            )
        }
        joined, sent = with_sentiment(posts, scope.brand_id)
        sentiment: dict[str, dict[str, int]] = {}
        for r in conn.execute(
            select(b, sent.label("s"), func.count().label("n"))
            .select_from(joined)
            .where(*conds, sent.is_not(None))
            .group_by(b, sent)
        ):
            sentiment.setdefault(r.b, {})[str(r.s)] = int(r.n)
        emotions: dict[str, dict[str, int]] = {}
        emo = post_labels.alias("emo")
        for r in conn.execute(
            select(b, emo.c.label, func.count().label("n"))
            .select_from(posts.join(emo, emo.c.post_pk == posts.c.pk))
            .where(*conds, emo.c.field == "emotion", emo.c.label != "none")
            .group_by(b, emo.c.label)
        ):
            emotions.setdefault(r.b, {})[str(r.label)] = int(r.n)
    out = [
        Bucket(
            start=parse_bucket(key),
            posts=n,
            engagement=eng,
            sentiment={s: sentiment.get(key, {}).get(s, 0) for s in SENTIMENT_LABELS},
            emotions=dict(sorted(emotions.get(key, {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        )
        for key, (n, eng) in sorted(volume.items())
    ]
    return TimeSeries(scope.brand.name if scope.brand else None, unit, out)


@dataclass(frozen=True, slots=True)
class VoiceShare:
    """One brand's voice: its mentions, their engagement and positive mentions, each with its
    share of the total over the brands compared; ``positive_rate`` is positive / mentions."""

    brand: str
    competitor: bool
    mentions: int
    mentions_share: float
    engagement: int
    engagement_share: float
    positive: int
    positive_share: float
    negative: int
    positive_rate: float


@dataclass(frozen=True, slots=True)
class ShareOfVoice:
    total_mentions: int
    total_engagement: int
    total_positive: int
    brands: list[VoiceShare]


def share_of_voice(
    ws: Workspace, scope: Scope, brands: Sequence[Brand] | None = None
) -> ShareOfVoice:
    """Share of voice of ``brands`` (default: every brand) in the scope's time range. A post
    mentioning two brands counts for both; positive = sentiment toward that brand."""
    chosen = list(brands) if brands is not None else ws.store.list_brands()
    ids = [b.id for b in chosen if b.id is not None]
    time_conds = conditions(Scope(None, scope.since, scope.until))
    base = post_brands.join(posts, posts.c.pk == post_brands.c.post_pk)
    joined, sent = with_sentiment(base, None, brand_column=post_brands.c.brand_id)
    stmt = (
        select(
            post_brands.c.brand_id,
            func.count().label("n"),
            func.sum(engagement()).label("eng"),
            count_if(sent == "positive").label("pos"),
            count_if(sent == "negative").label("neg"),
        )
        .select_from(joined)
        .where(post_brands.c.brand_id.in_(ids), *time_conds)
        .group_by(post_brands.c.brand_id)
    )
    with ws.store.begin() as conn:
        got = {int(r.brand_id): r for r in conn.execute(stmt)} if ids else {}
    rows = [
        (b, int(got[b.id].n), int(got[b.id].eng or 0), int(got[b.id].pos), int(got[b.id].neg))
        if b.id in got
        else (b, 0, 0, 0, 0)
        for b in chosen
    ]
    tm = sum(r[1] for r in rows)
    te = sum(r[2] for r in rows)
    tp = sum(r[3] for r in rows)
    voices = [
        VoiceShare(
            brand=b.name,
            competitor=b.competitor,
            mentions=n,
            mentions_share=share(n, tm),
            engagement=eng,
            engagement_share=share(eng, te),
            positive=pos,
            positive_share=share(pos, tp),
            negative=neg,
            positive_rate=share(pos, n),
        )
        for b, n, eng, pos, neg in rows
    ]
    voices.sort(key=lambda v: (-v.mentions, v.brand))
    return ShareOfVoice(tm, te, tp, voices)


@dataclass(frozen=True, slots=True)
class TopicStat:
    """A topic in the scope: posts, share of the scope's topic-labelled posts, engagement and
    sentiment counts."""

    id: str
    label: str
    keywords: list[str]
    posts: int
    share: float
    engagement: int
    sentiment: dict[str, int]

    @property
    def negative_share(self) -> float:
        return share(self.sentiment.get("negative", 0), sum(self.sentiment.values()))


def topic_names(conn: Connection) -> dict[str, tuple[str, list[str]]]:
    """Topic id (as stored in post_labels) -> (label, keywords)."""
    return {
        str(r.id): (str(r.label), list(r.keywords or []))
        for r in conn.execute(select(topics.c.id, topics.c.label, topics.c.keywords))
    }


def topic_stats(ws: Workspace, scope: Scope) -> list[TopicStat]:
    """Every topic with posts in the scope, most posts first (posts without a topic, label
    ``none``, are left out)."""
    conds = conditions(scope)
    tl = post_labels.alias("tl")
    base = posts.join(tl, and_(tl.c.post_pk == posts.c.pk, tl.c.field == "topic"))
    joined, sent = with_sentiment(base, scope.brand_id)
    stmt = (
        select(
            tl.c.label.label("topic"),
            func.count().label("n"),
            func.sum(engagement()).label("eng"),
            *(count_if(sent == s).label(s) for s in SENTIMENT_LABELS),
        )
        .select_from(joined)
        .where(*conds, tl.c.label != "none")
        .group_by(tl.c.label)
    )
    with ws.store.begin() as conn:
        names = topic_names(conn)
        rows = list(conn.execute(stmt))
    total = sum(int(r.n) for r in rows)
    out = [
        TopicStat(
            id=str(r.topic),
            label=names.get(str(r.topic), (f"topic {r.topic}", []))[0],
            keywords=names.get(str(r.topic), ("", []))[1],
            posts=int(r.n),
            share=share(int(r.n), total),
            engagement=int(r.eng or 0),
            sentiment={s: int(getattr(r, s) or 0) for s in SENTIMENT_LABELS},
        )
        for r in rows
    ]
    out.sort(key=lambda t: (-t.posts, t.id))
    return out


def top_topics(ws: Workspace, scope: Scope, limit: int = 10) -> list[TopicStat]:
    return topic_stats(ws, scope)[:limit]


@dataclass(frozen=True, slots=True)
class Driver:
    """A topic or term over-represented in negative posts: ``negative`` of the ``negative_total``
    negative posts carry it against ``count`` of all ``total`` posts; ``lift`` =
    (negative / negative_total) / (count / total)."""

    kind: str  # topic | term
    value: str
    label: str
    negative: int
    count: int
    negative_rate: float
    lift: float


@dataclass(frozen=True, slots=True)
class NegativeDrivers:
    total: int
    negative_total: int
    posts_read: int  # posts whose text was read for terms (capped, newest first)
    topics: list[Driver] = field(default_factory=list)
    terms: list[Driver] = field(default_factory=list)


def _lift(neg: int, neg_total: int, count: int, total: int) -> float:
    if not neg_total or not count or not total:
        return 0.0
    return round((neg / neg_total) / (count / total), 3)


def negative_drivers(
    ws: Workspace,
    scope: Scope,
    *,
    min_count: int = 5,
    limit: int = 10,
    max_posts: int = 20_000,
    exclude: Sequence[str] = (),
) -> NegativeDrivers:
    """Topics and terms whose share among negative posts exceeds their share among all posts
    (lift > 1), with at least ``min_count`` negative posts, highest lift first. Terms are
    counted once per post (document frequency) over the newest ``max_posts`` posts of the
    scope; stopwords, brand-name words and ``exclude`` are left out."""
    conds = conditions(scope)
    joined, sent = with_sentiment(posts, scope.brand_id)
    with ws.store.begin() as conn:
        t = conn.execute(
            select(func.count(), count_if(sent == "negative"))
            .select_from(joined)
            .where(*conds, sent.is_not(None))
        ).one()
        total, neg_total = int(t[0]), int(t[1] or 0)
        tl = post_labels.alias("tl")
        tjoined, tsent = with_sentiment(
            posts.join(tl, and_(tl.c.post_pk == posts.c.pk, tl.c.field == "topic")),
            scope.brand_id,
        )
        trows = list(
            conn.execute(
                select(tl.c.label, func.count().label("n"), count_if(tsent == "negative"))
                .select_from(tjoined)
                .where(*conds, tsent.is_not(None), tl.c.label != "none")
                .group_by(tl.c.label)
            )
        )
        names = topic_names(conn)
        text_rows = list(
            conn.execute(
                select(posts.c.text, sent.label("s"))
                .select_from(joined)
                .where(*conds, sent.is_not(None))
                .order_by(posts.c.created_at.desc(), posts.c.pk.desc())
                .limit(max_posts)
            )
        )
    topic_drivers = [
        Driver(
            "topic",
            str(r[0]),
            names.get(str(r[0]), (f"topic {r[0]}", []))[0],
            int(r[2] or 0),
            int(r[1]),
            share(int(r[2] or 0), int(r[1])),
            _lift(int(r[2] or 0), neg_total, int(r[1]), total),
        )
        for r in trows
    ]
    drop = set(STOPWORDS) | {w for b in ws.store.list_brands() for w in tokens(b.name)}
    drop |= {w for x in exclude for w in tokens(x)}
    df_all: Counter[str] = Counter()
    df_neg: Counter[str] = Counter()
    read_neg = 0
    for text, s in text_rows:
        words = {w for w in tokens(text) if len(w) >= 3 and not w.isdigit() and w not in drop}
        df_all.update(words)
        if s == "negative":
            df_neg.update(words)
            read_neg += 1
    read = len(text_rows)
    term_drivers = [
        Driver("term", w, w, n, df_all[w], share(n, df_all[w]), _lift(n, read_neg, df_all[w], read))
        for w, n in df_neg.items()
        if n >= min_count
    ]

    def rank(ds: list[Driver]) -> list[Driver]:
        keep = [d for d in ds if d.negative >= min_count and d.lift > 1.0]
        return sorted(keep, key=lambda d: (-d.lift, -d.negative, d.value))[:limit]

    return NegativeDrivers(total, neg_total, read, rank(topic_drivers), rank(term_drivers))


def summary(ws: Workspace, scope: Scope) -> dict[str, Any]:
    """Headline numbers of the scope: posts, engagement, sentiment counts and net sentiment."""
    joined, sent = with_sentiment(posts, scope.brand_id)
    with ws.store.begin() as conn:
        r = conn.execute(
            select(
                func.count().label("n"),
                func.sum(engagement()).label("eng"),
                *(count_if(sent == s).label(s) for s in SENTIMENT_LABELS),
                func.min(posts.c.created_at).label("first"),
                func.max(posts.c.created_at).label("last"),
            )
            .select_from(joined)
            .where(*conditions(scope))
        ).one()
    counts = {s: int(getattr(r, s) or 0) for s in SENTIMENT_LABELS}
    labelled = sum(counts.values())
    return {
        "posts": int(r.n),
        "engagement": int(r.eng or 0),
        "sentiment": counts,
        "net_sentiment": round((counts["positive"] - counts["negative"]) / labelled, 4)
        if labelled
        else 0.0,
        "first": r.first,
        "last": r.last,
    }
