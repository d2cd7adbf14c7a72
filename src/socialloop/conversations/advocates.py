"""Advocates and detractors of a brand: authors who post about it positively (or negatively)
again and again, ranked, with their posts as evidence.

Reads the sentiment *toward the brand* that the enrichment pipeline stores per (post, brand)
in ``brand_labels`` (``field`` = ``"sentiment"``, label ``positive`` / ``neutral`` /
``negative``; see ``learn.sentiment`` and ``store.brand_label_counts``). An author is an
advocate when at least ``min_posts`` of their posts about the brand are positive and those
make at least ``min_share`` of all their posts about it that carry a sentiment (a detractor:
the same with negative). The brand's own accounts are never counted.
Ranking: more polar posts first, then a higher share, then the more recent last post.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, and_, case, func, select

from socialloop.conversations.threads import account_owner
from socialloop.errors import InvalidValue
from socialloop.store import Store
from socialloop.store.schema import authors, brand_labels, posts

POSITIVE = "positive"
NEGATIVE = "negative"


@dataclass(slots=True)
class Evidence:
    """One post of an advocate or detractor about the brand."""

    post_id: str
    text: str
    created_at: datetime
    sentiment: str
    score: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
            "sentiment": self.sentiment,
            "score": self.score,
        }


@dataclass(slots=True)
class Advocate:
    """An author with repeated posts of one polarity about a brand."""

    author_id: str
    name: str | None
    followers: int | None
    polarity: str  # "positive" (advocate) or "negative" (detractor)
    polar_posts: int  # posts of that polarity about the brand
    opposite_posts: int
    labelled_posts: int  # posts about the brand that carry a sentiment toward it
    last_at: datetime
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.polar_posts / self.labelled_posts if self.labelled_posts else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "author_id": self.author_id,
            "name": self.name,
            "followers": self.followers,
            "polarity": self.polarity,
            "polar_posts": self.polar_posts,
            "opposite_posts": self.opposite_posts,
            "labelled_posts": self.labelled_posts,
            "share": self.share,
            "last_at": self.last_at.isoformat(),
            "evidence": [e.to_dict() for e in self.evidence],
        }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def find_advocates(
    store: Store,
    brand: str,
    *,
    detractors: bool = False,
    min_posts: int = 2,
    min_share: float = 0.6,
    limit: int = 20,
    evidence: int = 3,
    since: datetime | None = None,
) -> list[Advocate]:
    """The brand's advocates (or ``detractors``), ranked, each with up to ``evidence`` of
    their latest posts of that polarity about the brand."""
    if min_posts < 1:
        raise InvalidValue(f"min_posts must be at least 1, got {min_posts}")
    if not 0.0 <= min_share <= 1.0:
        raise InvalidValue(f"min_share must be between 0 and 1, got {min_share}")
    b = store.get_brand(brand)
    polarity, opposite = (NEGATIVE, POSITIVE) if detractors else (POSITIVE, NEGATIVE)
    owner = account_owner([b])
    conds = [
        brand_labels.c.brand_id == b.id,
        brand_labels.c.field == "sentiment",
        posts.c.author_id.is_not(None),
    ]
    if since is not None:
        conds.append(posts.c.created_at >= since.astimezone(UTC).replace(tzinfo=None))
    joined = brand_labels.join(posts, posts.c.pk == brand_labels.c.post_pk)
    polar = func.sum(case((brand_labels.c.label == polarity, 1), else_=0)).cast(Integer)
    against = func.sum(case((brand_labels.c.label == opposite, 1), else_=0)).cast(Integer)
    stmt = (
        select(
            posts.c.author_id,
            polar.label("polar"),
            against.label("against"),
            func.count().label("labelled"),
            func.max(posts.c.created_at).label("last_at"),
        )
        .select_from(joined)
        .where(and_(*conds))
        .group_by(posts.c.author_id)
        .having(polar >= min_posts)
    )
    with store.begin() as conn:
        found = [
            r
            for r in conn.execute(stmt)
            if not owner(r.author_id) and r.polar / r.labelled >= min_share
        ]
        # ties by author id: the order groups come back in differs between stores
        found.sort(
            key=lambda r: (-r.polar, -r.polar / r.labelled, _neg_time(r.last_at), r.author_id)
        )
        found = found[: max(limit, 0)]
        ids = [r.author_id for r in found]
        profiles = {
            r.id: r
            for r in conn.execute(
                select(authors.c.id, authors.c.name, authors.c.followers).where(
                    authors.c.id.in_(ids)
                )
            )
        }
        proofs = _evidence(conn, ids, conds, polarity, evidence)
    out = []
    for r in found:
        prof = profiles.get(r.author_id)
        out.append(
            Advocate(
                author_id=r.author_id,
                name=prof.name if prof is not None else None,
                followers=prof.followers if prof is not None else None,
                polarity=polarity,
                polar_posts=int(r.polar),
                opposite_posts=int(r.against),
                labelled_posts=int(r.labelled),
                last_at=_utc(_as_datetime(r.last_at)),
                evidence=proofs.get(r.author_id, []),
            )
        )
    return out


def _as_datetime(value: object) -> datetime:
    # SQLite hands max() of a DateTime column back as text
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value


def _neg_time(value: object) -> float:
    return -_utc(_as_datetime(value)).timestamp()


def _evidence(
    conn: Any, ids: list[str], conds: list[Any], polarity: str, per_author: int
) -> dict[str, list[Evidence]]:
    """Up to ``per_author`` latest posts of ``polarity`` per author (one query)."""
    if not ids or per_author <= 0:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=posts.c.author_id,
            order_by=(posts.c.created_at.desc(), posts.c.pk.desc()),
        )
        .label("rank")
    )
    inner = (
        select(
            posts.c.author_id,
            posts.c.id,
            posts.c.text,
            posts.c.created_at,
            brand_labels.c.score,
            rank,
        )
        .select_from(brand_labels.join(posts, posts.c.pk == brand_labels.c.post_pk))
        .where(and_(*conds), brand_labels.c.label == polarity, posts.c.author_id.in_(ids))
        .subquery()
    )
    stmt = select(inner).where(inner.c.rank <= per_author).order_by(inner.c.author_id, inner.c.rank)
    out: dict[str, list[Evidence]] = {}
    for r in conn.execute(stmt):
        out.setdefault(r.author_id, []).append(
            Evidence(r.id, r.text, _utc(_as_datetime(r.created_at)), polarity, r.score)
        )
    return out
