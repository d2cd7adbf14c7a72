"""Return on experience: did engaging with customers change how they talk about the brand?

*Engaged* authors: the brand's own account (``Brand.owns``) replied to one of their posts or
in a thread they started; their *touch* is the first such post. *Comparable* authors were
never replied to by the brand; their touch is their first post about the brand that asked for
something (intent question, complaint, support_request or recommendation_request) — a moment
the brand could have engaged.
For both, *before* = their posts about the brand up to and including the touch, *after* = their
later posts about the brand; only authors with posts on both sides count.

Per author: sentiment score = mean of +1 positive / 0 neutral / -1 negative (toward the brand),
advocacy = share of posts with intent praise or stage advocacy. Authors are stratified by prior
sentiment (negative < -1/3 <= neutral <= 1/3 < positive) and prior activity (1, 2-3, 4+ posts
before); per stratum with both groups, the difference-in-differences is the engaged authors'
mean change minus the comparable authors' mean change; the overall figure weights strata by
their engaged authors. Small samples are flagged: fewer than ``min_reliable`` (30) matched
authors in either group makes the estimate ``reliable = False``. This is an observational
comparison, not an experiment: the brand chooses whom it answers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select

from socialloop.adapt.roadmap import brand_account_condition
from socialloop.adapt.scope import Scope, conditions, with_sentiment
from socialloop.errors import InvalidValue
from socialloop.store.schema import post_labels, posts
from socialloop.workspace import Workspace

_SCORE = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
_ASKING = ("question", "complaint", "support_request", "recommendation_request")


@dataclass(frozen=True, slots=True)
class GroupChange:
    authors: int
    sentiment_before: float
    sentiment_after: float
    advocacy_before: float
    advocacy_after: float


@dataclass(frozen=True, slots=True)
class Stratum:
    prior: str  # negative | neutral | positive
    activity: str  # 1 | 2-3 | 4+
    engaged: int
    comparable: int
    did_sentiment: float | None
    did_advocacy: float | None


@dataclass(frozen=True, slots=True)
class ReturnOnExperience:
    brand: str
    engaged_authors: int  # replied to by the brand (any history)
    engaged: GroupChange  # with posts before and after
    comparable: GroupChange
    matched_engaged: int  # in strata that have comparable authors
    matched_comparable: int
    did_sentiment: float | None
    did_advocacy: float | None
    reliable: bool
    strata: list[Stratum]
    note: str


@dataclass(slots=True)
class _Author:
    touch: datetime | None = None
    engaged: bool = False
    posts: list[tuple[datetime, float | None, float, bool]] | None = None  # t, score, adv, asks


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _change(author: _Author) -> tuple[float, float, float, float, int] | None:
    """(sentiment before, after, advocacy before, after, posts before) or None."""
    assert author.touch is not None and author.posts is not None
    before = [p for p in author.posts if p[0] <= author.touch]
    after = [p for p in author.posts if p[0] > author.touch]
    sb = [p[1] for p in before if p[1] is not None]
    sa = [p[1] for p in after if p[1] is not None]
    if not sb or not sa:
        return None
    return (
        _mean(sb),
        _mean(sa),
        _mean([p[2] for p in before]),
        _mean([p[2] for p in after]),
        len(before),
    )


def _stratum(prior: float, n_before: int) -> tuple[str, str]:
    p = "negative" if prior < -1 / 3 else "positive" if prior > 1 / 3 else "neutral"
    a = "1" if n_before <= 1 else "2-3" if n_before <= 3 else "4+"
    return p, a


def _group(rows: list[tuple[float, float, float, float, int]]) -> GroupChange:
    return GroupChange(
        authors=len(rows),
        sentiment_before=round(_mean([r[0] for r in rows]), 4),
        sentiment_after=round(_mean([r[1] for r in rows]), 4),
        advocacy_before=round(_mean([r[2] for r in rows]), 4),
        advocacy_after=round(_mean([r[3] for r in rows]), 4),
    )


def return_on_experience(
    ws: Workspace, scope: Scope, *, min_reliable: int = 30
) -> ReturnOnExperience:
    """Engaged against comparable authors for the scope's brand (required)."""
    brand = scope.brand
    if brand is None or brand.id is None:
        raise InvalidValue("return on experience needs a brand (whose replies are measured)")
    own = brand_account_condition([brand])
    all_brands = ws.store.list_brands()
    any_own = brand_account_condition(all_brands)
    upto = conditions(Scope(None, None, scope.until))
    touches = []
    for link in ("parent_id", "root_id"):  # the post answered, and the thread's first post
        target = posts.alias(f"t_{link}")
        touches.append(
            select(target.c.author_id, func.min(target.c.created_at).label("touch"))
            .select_from(posts.join(target, target.c.id == posts.c[link]))
            .where(
                own,
                posts.c.parent_id.is_not(None),
                target.c.author_id.is_not(None),
                ~brand_account_condition(all_brands, target),
                *upto,
            )
            .group_by(target.c.author_id)
        )
    joined, sent = with_sentiment(posts, brand.id)
    adv = posts.c.pk.in_(
        select(post_labels.c.post_pk).where(
            ((post_labels.c.field == "intent") & (post_labels.c.label == "praise"))
            | ((post_labels.c.field == "stage") & (post_labels.c.label == "advocacy"))
        )
    )
    asks = posts.c.pk.in_(
        select(post_labels.c.post_pk).where(
            and_(post_labels.c.field == "intent", post_labels.c.label.in_(_ASKING))
        )
    )
    scoped = conditions(scope)
    repeat = (
        select(posts.c.author_id)
        .where(*scoped, ~any_own, posts.c.author_id.is_not(None))
        .group_by(posts.c.author_id)
        .having(func.count() >= 2)
    )
    history = (
        select(
            posts.c.author_id,
            posts.c.created_at,
            sent.label("s"),
            adv.label("adv"),
            asks.label("asks"),
        )
        .select_from(joined)
        .where(*scoped, ~any_own, posts.c.author_id.in_(repeat))
        .order_by(posts.c.author_id, posts.c.created_at)
    )
    authors: dict[str, _Author] = defaultdict(_Author)
    with ws.store.begin() as conn:
        engaged_touch: dict[str, datetime] = {}
        for stmt in touches:
            for r in conn.execute(stmt):
                aid = str(r.author_id)
                seen = engaged_touch.get(aid)
                engaged_touch[aid] = r.touch if seen is None else min(seen, r.touch)
        for r in conn.execute(history):
            a = authors[str(r.author_id)]
            if a.posts is None:
                a.posts = []
            a.posts.append(
                (
                    r.created_at,
                    _SCORE.get(str(r.s)) if r.s else None,
                    1.0 if r.adv else 0.0,
                    bool(r.asks),
                )
            )
    rows: dict[bool, list[tuple[float, float, float, float, int]]] = {True: [], False: []}
    strata: dict[tuple[str, str], dict[bool, list[Any]]] = defaultdict(
        lambda: {True: [], False: []}
    )
    for aid, a in authors.items():
        assert a.posts is not None
        if aid in engaged_touch:
            a.engaged, a.touch = True, engaged_touch[aid]
        else:
            a.touch = next((p[0] for p in a.posts if p[3]), None)
        if a.touch is None:
            continue
        ch = _change(a)
        if ch is None:
            continue
        rows[a.engaged].append(ch)
        strata[_stratum(ch[0], ch[4])][a.engaged].append(ch)
    out_strata: list[Stratum] = []
    w_sent = w_adv = 0.0
    matched_e = matched_c = 0
    for (prior, act), g in sorted(strata.items()):
        e, c = g[True], g[False]
        ds = da = None
        if e and c:
            ds = _mean([x[1] - x[0] for x in e]) - _mean([x[1] - x[0] for x in c])
            da = _mean([x[3] - x[2] for x in e]) - _mean([x[3] - x[2] for x in c])
            w_sent += ds * len(e)
            w_adv += da * len(e)
            matched_e += len(e)
            matched_c += len(c)
        out_strata.append(
            Stratum(
                prior,
                act,
                len(e),
                len(c),
                None if ds is None else round(ds, 4),
                None if da is None else round(da, 4),
            )
        )
    did_s = round(w_sent / matched_e, 4) if matched_e else None
    did_a = round(w_adv / matched_e, 4) if matched_e else None
    reliable = matched_e >= min_reliable and matched_c >= min_reliable
    if not matched_e:
        note = "No engaged author has a comparable author with posts before and after: no estimate."
    elif not reliable:
        note = (
            f"Small sample ({matched_e} engaged, {matched_c} comparable authors matched; "
            f"{min_reliable} each are needed for a usable estimate): read as anecdote."
        )
    else:
        note = (
            "Observational: the brand chooses whom it answers, so part of the difference may "
            "come from that choice, not from the answer."
        )
    return ReturnOnExperience(
        brand=brand.name,
        engaged_authors=len(engaged_touch),
        engaged=_group(rows[True]),
        comparable=_group(rows[False]),
        matched_engaged=matched_e,
        matched_comparable=matched_c,
        did_sentiment=did_s,
        did_advocacy=did_a,
        reliable=reliable,
        strata=out_strata,
        note=note,
    )
