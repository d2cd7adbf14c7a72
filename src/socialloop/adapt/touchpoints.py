"""Touch-point audit: the customer journey stage x channel (network) grid: volume, sentiment
and the share of posts needing an answer that got none.

*Needs an answer*: a post not from a brand account with intent question, support_request,
recommendation_request or complaint, or the "know" moment. *Unanswered*: no stored reply
(see ``roadmap``). Posts without a stage label count under ``none``. One GROUP BY query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from socialloop.adapt.roadmap import answered_condition, brand_account_condition
from socialloop.adapt.scope import (
    SENTIMENT_LABELS,
    Scope,
    conditions,
    count_if,
    share,
    with_sentiment,
)
from socialloop.learn.fields import STAGES
from socialloop.store.schema import post_labels, posts
from socialloop.workspace import Workspace

ANSWERABLE_INTENTS = ("question", "support_request", "recommendation_request", "complaint")


@dataclass(frozen=True, slots=True)
class TouchPoint:
    stage: str
    network: str
    posts: int
    sentiment: dict[str, int]
    net_sentiment: float
    needs_answer: int
    unanswered: int
    unanswered_share: float


def touchpoints(ws: Workspace, scope: Scope) -> list[TouchPoint]:
    """Every (stage, network) cell with posts in scope, in journey order then by volume."""
    sl = post_labels.alias("sl")
    base = posts.outerjoin(sl, and_(sl.c.post_pk == posts.c.pk, sl.c.field == "stage"))
    joined, sent = with_sentiment(base, scope.brand_id)
    answerable = and_(
        posts.c.pk.in_(
            select(post_labels.c.post_pk).where(
                or_(
                    and_(
                        post_labels.c.field == "intent",
                        post_labels.c.label.in_(ANSWERABLE_INTENTS),
                    ),
                    and_(post_labels.c.field == "moment", post_labels.c.label == "know"),
                )
            )
        ),
        ~brand_account_condition(ws.store.list_brands()),
    )
    stage = func.coalesce(sl.c.label, "none").label("stage")
    stmt = (
        select(
            stage,
            posts.c.network,
            func.count().label("n"),
            *(count_if(sent == s).label(s) for s in SENTIMENT_LABELS),
            count_if(answerable).label("needs"),
            count_if(and_(answerable, ~answered_condition())).label("open"),
        )
        .select_from(joined)
        .where(*conditions(scope))
        .group_by(stage, posts.c.network)
    )
    with ws.store.begin() as conn:
        rows = list(conn.execute(stmt))
    order = {s: i for i, s in enumerate(STAGES)}
    out = []
    for r in rows:
        counts = {s: int(getattr(r, s) or 0) for s in SENTIMENT_LABELS}
        labelled = sum(counts.values())
        net = (counts["positive"] - counts["negative"]) / labelled if labelled else 0.0
        out.append(
            TouchPoint(
                stage=str(r.stage),
                network=str(r.network),
                posts=int(r.n),
                sentiment=counts,
                net_sentiment=round(net, 4),
                needs_answer=int(r.needs or 0),
                unanswered=int(r.open or 0),
                unanswered_share=share(int(r.open or 0), int(r.needs or 0)),
            )
        )
    out.sort(key=lambda t: (order.get(t.stage, len(order)), -t.posts, t.network))
    return out
