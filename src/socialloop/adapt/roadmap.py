"""Content roadmap: the questions and needs customers express that nobody answered, grouped by
topic and journey stage and ranked by demand: what content to create next.

A *need* is a post in scope with intent question, support_request or recommendation_request,
or the micro-moment "know", not written by any brand's own account (``Brand.owns``). It is
*unanswered* when no stored post replies to it (``parent_id``). Groups are (topic, stage);
demand = the sum over the group's unanswered posts of ``(1 + ln(1 + engagement)) *
0.5 ** (age_days / half_life_days)`` (age against the scope's end, or the newest need), so
many, engaging and recent questions rank first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, exists, false, or_, select

from socialloop.adapt.metrics import topic_names
from socialloop.adapt.scope import PostRef, Scope, aware, conditions, engagement, fetch_posts
from socialloop.models import Brand
from socialloop.store.schema import post_labels, posts
from socialloop.workspace import Workspace

NEED_INTENTS = ("question", "support_request", "recommendation_request")
NO_TOPIC = "none"


def brand_account_condition(
    brands: Sequence[Brand], table: FromClause = posts
) -> ColumnElement[bool]:
    """Rows of ``table`` (``posts`` or an alias of it) written by one of the brands' own
    accounts (see ``Brand.owns``)."""
    full = [a for b in brands for a in b.accounts if ":" in a]
    bare = [a for b in brands for a in b.accounts if ":" not in a]
    parts: list[ColumnElement[bool]] = []
    if full:
        parts.append(table.c.author_id.in_(full))
    if bare:
        parts.append(table.c.author_handle.in_(bare))
    return or_(*parts) if parts else false()


def need_condition() -> ColumnElement[bool]:
    """The post expresses a question or need (intent or the "know" moment)."""
    return posts.c.pk.in_(
        select(post_labels.c.post_pk).where(
            or_(
                and_(post_labels.c.field == "intent", post_labels.c.label.in_(NEED_INTENTS)),
                and_(post_labels.c.field == "moment", post_labels.c.label == "know"),
            )
        )
    )


def answered_condition() -> ColumnElement[bool]:
    """Some stored post replies to this one."""
    child = posts.alias("child")
    return exists().where(child.c.parent_id == posts.c.id)


@dataclass(frozen=True, slots=True)
class RoadmapItem:
    topic_id: str
    topic: str
    stage: str
    unanswered: int
    needs: int
    unanswered_share: float
    engagement: int
    newest: datetime
    demand: float
    examples: list[PostRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Roadmap:
    needs: int
    unanswered: int
    items: list[RoadmapItem]


def content_roadmap(
    ws: Workspace,
    scope: Scope,
    *,
    limit: int = 15,
    examples: int = 3,
    half_life_days: float = 14.0,
) -> Roadmap:
    """The unanswered needs of the scope, grouped and ranked (see the module doc)."""
    tl, sl = post_labels.alias("tl"), post_labels.alias("sl")
    answered = answered_condition()
    stmt = (
        select(
            posts.c.pk,
            posts.c.created_at,
            engagement().label("eng"),
            tl.c.label.label("topic"),
            sl.c.label.label("stage"),
            answered.label("answered"),
        )
        .select_from(
            posts.outerjoin(tl, and_(tl.c.post_pk == posts.c.pk, tl.c.field == "topic")).outerjoin(
                sl, and_(sl.c.post_pk == posts.c.pk, sl.c.field == "stage")
            )
        )
        .where(
            *conditions(scope),
            need_condition(),
            ~brand_account_condition(ws.store.list_brands()),
        )
    )
    with ws.store.begin() as conn:
        rows = list(conn.execute(stmt))
        names = topic_names(conn)
    groups: dict[tuple[str, str], list[Any]] = {}
    totals: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (str(r.topic or NO_TOPIC), str(r.stage or "none"))
        totals[key] = totals.get(key, 0) + 1
        if not r.answered:
            groups.setdefault(key, []).append(r)
    unanswered = [r for g in groups.values() for r in g]
    ref = aware(scope.until) or (
        aware(max(r.created_at for r in unanswered)) if unanswered else None
    )
    items: list[RoadmapItem] = []
    for (tid, stage), members in groups.items():
        demand = 0.0
        for r in members:
            created = aware(r.created_at)
            assert created is not None and ref is not None
            age = max(0.0, (ref - created).total_seconds() / 86400)
            demand += (1 + math.log1p(int(r.eng or 0))) * 0.5 ** (age / half_life_days)
        newest = aware(max(r.created_at for r in members))
        assert newest is not None
        items.append(
            RoadmapItem(
                topic_id=tid,
                topic=names[tid][0] if tid in names else "(no topic)",
                stage=stage,
                unanswered=len(members),
                needs=totals[(tid, stage)],
                unanswered_share=round(len(members) / totals[(tid, stage)], 4),
                engagement=sum(int(r.eng or 0) for r in members),
                newest=newest,
                demand=round(demand, 3),
            )
        )
    items.sort(key=lambda i: (-i.demand, -i.unanswered, i.topic_id, i.stage))
    items = items[:limit]
    if examples > 0 and items:
        with ws.store.begin() as conn:
            items = [
                replace(
                    i,
                    examples=fetch_posts(conn, _examples(groups[(i.topic_id, i.stage)], examples)),
                )
                for i in items
            ]
    return Roadmap(needs=len(rows), unanswered=len(unanswered), items=items)


def _examples(members: list[Any], n: int) -> list[int]:
    """The pks of the ``n`` most engaging (then newest) posts of a group."""
    ranked = sorted(members, key=lambda r: r.created_at, reverse=True)
    ranked.sort(key=lambda r: int(r.eng or 0), reverse=True)  # stable: newest first on ties
    return [int(r.pk) for r in ranked[:n]]
