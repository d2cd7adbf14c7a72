"""Triage: which enriched posts enter the inbox, and why.

A post matched to a brand (its own brands, or all with ``brands = "all"``) enters that brand's
inbox when any rule holds (each one that holds is kept as a reason):

* ``question``, ``support_request``, ``complaint``, ``purchase_intent``,
  ``recommendation_request`` (and ``praise`` if listed): the post carries that intent label
  (``post_labels`` field ``intent``) and is listed in ``[inbox] intents``, with the intent
  step's confidence at least ``min_intent_score``;
* ``own_account_mention``: it is addressed to one of the brand's own accounts: a reply to it,
  or a post that starts with its @mention (a mention inside a sentence, "meeting at @acme at
  3", names a place and does not let a post in);
* ``influential_author``: its author's influence is at least ``influence`` (the graph's
  ``author_scores`` when present, else ``log10(1 + followers) / 6`` capped at 1) and the post
  has something to act on: any intent label (praise included) or negative sentiment toward
  the brand (an influencer's chit-chat stays out);
* ``negative_spike``: it is negative toward the brand (``brand_labels`` sentiment, else the
  post's sentiment) and written inside a spike of the brand's negative volume: the negatives
  in the ``spike_hours`` up to it are at least ``spike_min`` and at least the mean plus
  ``spike_k`` standard deviations of the ``spike_days`` of ``spike_hours`` windows before.

Posts written by one of the brand's own accounts never enter (an item let in before the
account was known is dismissed when triaged again, while still ``new``). Triage is
idempotent: one item per (post, brand); triaging again only adds reasons (and refreshes the
priority). Posts looked at are recorded in ``inbox_triaged`` so ``triage_posts(ws, None)``
takes only new ones.

Answers given on the network itself are picked up too: an item still waiting whose post has a
stored reply from one of the brand's own accounts gets that reply as its first response and
moves to ``replied`` (audit action ``reply.external``).
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, exists, select, update
from sqlalchemy.exc import SQLAlchemyError

from socialloop.engage import priority as prio
from socialloop.engage.audit import Clock, from_db, to_db, utcnow
from socialloop.engage.rules import InboxRules, load_rules
from socialloop.engage.sla import SlaPolicy, due_at, policy_for
from socialloop.errors import SocialloopError
from socialloop.models import Brand, Post
from socialloop.store.enrich_rows import has_any
from socialloop.store.rows import dialect_insert, one_writer
from socialloop.store.schema import (
    audit_log,
    authors,
    brand_labels,
    inbox_items,
    inbox_triaged,
    post_brands,
    post_labels,
    posts,
)
from socialloop.store.store import POST_COLUMNS, row_to_post

if TYPE_CHECKING:
    from socialloop.store import Store
    from socialloop.workspace import Workspace

SYSTEM_ACTOR = "socialloop"
TRIAGE_LOCK_KEY = 0x534C_0002
"""The advisory lock a triage chunk takes on PostgreSQL (``store.rows.one_writer``)."""
CHUNK = 500


@dataclass(slots=True)
class TriageResult:
    """What a triage run did."""

    examined: int = 0
    added: int = 0
    updated: int = 0
    own_posts: int = 0
    answered_outside: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examined": self.examined,
            "added": self.added,
            "updated": self.updated,
            "own_posts": self.own_posts,
            "answered_outside": self.answered_outside,
            "reasons": dict(self.reasons),
        }


def follower_influence(followers: int | None) -> float:
    """The fallback influence: ``log10(1 + followers) / 6``, capped at 1 (1M followers)."""
    return min(1.0, math.log10(1 + max(0, followers or 0)) / 6.0)


def influence_scores(store: Store, followers: dict[str, int | None]) -> dict[str, float]:
    """Influence per author id: the graph's scores where available, else by followers."""
    scores: dict[str, float] = {}
    try:
        from socialloop.graph.influence import load_scores

        scores = dict(load_scores(store, list(followers), scope="all"))
    except (ImportError, SocialloopError, SQLAlchemyError):
        scores = {}
    return {
        a: scores.get(a, follower_influence(f)) if scores else follower_influence(f)
        for a, f in followers.items()
    }


class _Spikes:
    """The spike test over each brand's negative volume (timestamps sorted once per run)."""

    def __init__(self, rules: InboxRules) -> None:
        self.rules = rules
        self.times: dict[int, list[datetime]] = {}

    @staticmethod
    def _load(conn: Connection, brand_id: int) -> list[datetime]:
        bl = brand_labels.alias("bl")
        pl = post_labels.alias("pl")
        stmt = (
            select(posts.c.created_at)
            .select_from(
                post_brands.join(posts, posts.c.pk == post_brands.c.post_pk)
                .outerjoin(
                    bl,
                    and_(
                        bl.c.post_pk == post_brands.c.post_pk,
                        bl.c.brand_id == post_brands.c.brand_id,
                        bl.c.field == "sentiment",
                    ),
                )
                .outerjoin(
                    pl, and_(pl.c.post_pk == post_brands.c.post_pk, pl.c.field == "sentiment")
                )
            )
            .where(
                post_brands.c.brand_id == brand_id,
                (bl.c.label == "negative") | (bl.c.label.is_(None) & (pl.c.label == "negative")),
            )
        )
        return sorted(r[0] for r in conn.execute(stmt))

    def in_spike(self, conn: Connection, brand_id: int, at: datetime) -> bool:
        if brand_id not in self.times:
            self.times[brand_id] = self._load(conn, brand_id)
        times, r = self.times[brand_id], self.rules
        width = timedelta(hours=r.spike_hours)

        def count(lo: datetime, hi: datetime) -> int:  # (lo, hi]
            return bisect.bisect_right(times, hi) - bisect.bisect_right(times, lo)

        now = count(at - width, at)
        windows = max(1, (r.spike_days * 24) // r.spike_hours)
        base = [count(at - (i + 1) * width, at - i * width) for i in range(1, windows + 1)]
        mean = statistics.fmean(base)
        sd = statistics.pstdev(base)
        return now >= r.spike_min and now > mean and now >= mean + r.spike_k * sd


def addressed_handles(text: str) -> list[str]:
    """The handles a post is addressed to: the run of @mentions it starts with (``@acme``,
    ``@acme@mastodon.social`` -> ``acme``), lower-case."""
    out: list[str] = []
    for token in text.split():
        if not token.startswith("@"):
            break
        handle = token.lstrip("@").rstrip(":,;.!?)").lower()
        if handle:
            out.append(handle)
            out.append(handle.split("@", 1)[0])
    return out


def _addresses_own(post: Post, brand: Brand) -> bool:
    """Whether the post replies to one of the brand's accounts or starts by addressing one
    (a mention inside a sentence, "meeting at @acme at 3", names a place, not a question)."""
    handles = [*addressed_handles(post.text)]
    if post.reply_to_handle:
        handles.append(post.reply_to_handle.lstrip("@").lower())
    return any(brand.owns(f"{post.network}:{h}") for h in handles)


def _candidates(conn: Connection, brand_ids: Sequence[int], *, again: bool) -> list[int]:
    enriched = has_any(post_brands.c.post_pk, ["intent", "sentiment"])
    conds = [post_brands.c.brand_id.in_(list(brand_ids)), enriched]
    if not again:
        conds.append(~exists().where(inbox_triaged.c.post_pk == post_brands.c.post_pk))
    stmt = select(post_brands.c.post_pk).where(*conds).distinct().order_by(post_brands.c.post_pk)
    return [r[0] for r in conn.execute(stmt)]


@dataclass(slots=True)
class _Facts:
    post: Post
    posted: datetime
    intents: dict[str, float]
    sentiment: tuple[str, float | None] | None
    lang: str | None
    brand_sentiment: dict[int, tuple[str, float | None]]


def _facts(conn: Connection, pks: Sequence[int]) -> dict[int, _Facts]:
    rows = conn.execute(
        select(*POST_COLUMNS)
        .select_from(posts.outerjoin(authors, authors.c.id == posts.c.author_id))
        .where(posts.c.pk.in_(list(pks)))
    ).all()
    out = {r.pk: _Facts(row_to_post(r), r.created_at, {}, None, r.lang, {}) for r in rows}
    labels = conn.execute(
        select(
            post_labels.c.post_pk, post_labels.c.field, post_labels.c.label, post_labels.c.score
        ).where(
            post_labels.c.post_pk.in_(list(pks)),
            post_labels.c.field.in_(["intent", "sentiment", "lang"]),
        )
    )
    for pk, fld, label, score in labels:
        f = out.get(pk)
        if f is None:
            continue
        if fld == "intent":
            f.intents[label] = score if score is not None else 1.0
        elif fld == "sentiment":
            f.sentiment = (label, score)
        else:
            f.lang = label
    blabels = conn.execute(
        select(
            brand_labels.c.post_pk,
            brand_labels.c.brand_id,
            brand_labels.c.label,
            brand_labels.c.score,
        ).where(brand_labels.c.post_pk.in_(list(pks)), brand_labels.c.field == "sentiment")
    )
    for pk, bid, label, score in blabels:
        if pk in out:
            out[pk].brand_sentiment[bid] = (label, score)
    return out


def _reasons(
    conn: Connection,
    f: _Facts,
    brand: Brand,
    rules: InboxRules,
    influence: float,
    spikes: _Spikes,
) -> list[str]:
    reasons = [
        i for i in rules.intents if i in f.intents and f.intents[i] >= rules.min_intent_score
    ]
    if rules.own_mentions and brand.accounts and _addresses_own(f.post, brand):
        reasons.append("own_account_mention")
    sentiment = f.brand_sentiment.get(brand.id or -1, f.sentiment)
    negative = sentiment is not None and sentiment[0] == "negative"
    if influence >= rules.influence and (f.intents or negative):
        reasons.append("influential_author")
    if rules.spike and negative:
        assert brand.id is not None
        if spikes.in_spike(conn, brand.id, f.posted):
            reasons.append("negative_spike")
    return reasons


def triage_posts(
    workspace: Workspace,
    post_pks: Sequence[int] | None = None,
    *,
    again: bool = False,
    clock: Clock | None = None,
) -> TriageResult:
    """Triage ``post_pks`` (None: every enriched post not triaged yet; with ``again``, every
    enriched post, e.g. after the rules changed) into the inbox."""
    now = (clock or utcnow)()
    rules = load_rules(workspace.settings)
    store = workspace.store
    brands = [b for b in store.list_brands() if rules.brands == "all" or not b.competitor]
    by_id = {b.id: b for b in brands if b.id is not None}
    result = TriageResult()
    if not by_id:
        return result
    policies: dict[int, SlaPolicy] = {bid: policy_for(store, b.name) for bid, b in by_id.items()}
    with store.begin() as conn:
        pks = (
            _candidates(conn, list(by_id), again=again)
            if post_pks is None
            else sorted(set(post_pks))
        )
    spikes = _Spikes(rules)  # each brand's negative timeline is read once per run
    for i in range(0, len(pks), CHUNK):
        chunk = pks[i : i + CHUNK]
        with store.begin() as conn:
            # a chunk reads the items its posts have, then adds the missing ones: two runs at
            # once (a live page and a pushed import) queue here on PostgreSQL, or both would
            # add the same item (SQLite's write lock queues them anyway)
            one_writer(conn, TRIAGE_LOCK_KEY)
            _triage_chunk(conn, store, chunk, by_id, rules, policies, spikes, now, result)
    with store.begin() as conn:
        result.answered_outside = _answered_outside(conn, by_id, now)
    return result


def _answered_outside(conn: Connection, by_id: dict[int, Brand], now: datetime) -> int:
    """Items still waiting whose post got a reply from one of the brand's own accounts in
    the stored data (answered on the network, outside socialloop): the first such reply is
    their first response, and they move to ``replied``."""
    child = posts.alias("child")
    parent = posts.alias("parent")
    stmt = (
        select(
            inbox_items.c.id,
            inbox_items.c.brand_id,
            inbox_items.c.version,
            child.c.author_id,
            child.c.created_at,
            child.c.id.label("reply_id"),
        )
        .select_from(
            inbox_items.join(parent, parent.c.pk == inbox_items.c.post_pk).join(
                child, child.c.parent_id == parent.c.id
            )
        )
        .where(
            inbox_items.c.first_response_at.is_(None),
            inbox_items.c.status.in_(["new", "assigned"]),
        )
        .order_by(child.c.created_at, child.c.pk)
    )
    first: dict[int, Any] = {}
    for r in conn.execute(stmt):
        brand = by_id.get(r.brand_id)
        if brand is not None and brand.owns(r.author_id) and r.id not in first:
            first[r.id] = r
    if first:
        stamp = to_db(now)
        conn.execute(
            update(inbox_items)
            .where(inbox_items.c.id == bindparam("b_id"), inbox_items.c.version == bindparam("b_v"))
            .values(
                status="replied",
                first_response_at=bindparam("b_at"),
                first_responder=bindparam("b_who"),
                updated_at=stamp,
                version=bindparam("b_v") + 1,
            ),
            [
                {"b_id": r.id, "b_v": r.version, "b_at": r.created_at, "b_who": r.author_id}
                for r in first.values()
            ],
        )
        conn.execute(
            audit_log.insert(),
            [
                {
                    "at": stamp,
                    "actor": SYSTEM_ACTOR,
                    "action": "reply.external",
                    "item_id": r.id,
                    "details": {"post_id": r.reply_id, "account": r.author_id},
                }
                for r in first.values()
            ],
        )
    return len(first)


def _triage_chunk(
    conn: Connection,
    store: Store,
    chunk: Sequence[int],
    by_id: dict[int, Brand],
    rules: InboxRules,
    policies: dict[int, SlaPolicy],
    spikes: _Spikes,
    now: datetime,
    result: TriageResult,
) -> None:
    """Triage one chunk of posts; new items, updates and audit entries are written in bulk."""
    pairs = conn.execute(
        select(post_brands.c.post_pk, post_brands.c.brand_id).where(
            post_brands.c.post_pk.in_(list(chunk)), post_brands.c.brand_id.in_(list(by_id))
        )
    ).all()
    facts = _facts(conn, chunk)
    followers = {
        f.post.author_id: (f.post.author.followers if f.post.author else None)
        for f in facts.values()
        if f.post.author_id
    }
    influence = influence_scores(store, followers)
    existing = {
        (r.post_pk, r.brand_id): r
        for r in conn.execute(select(inbox_items).where(inbox_items.c.post_pk.in_(list(chunk))))
    }
    result.examined += len(facts)
    stamp = to_db(now)
    new_rows: list[dict[str, Any]] = []
    new_audit: dict[tuple[int, int], dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []

    def entry(item_id: int, action: str, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "at": stamp,
            "actor": SYSTEM_ACTOR,
            "action": action,
            "item_id": item_id,
            "details": details,
        }

    for pk, bid in pairs:
        f, brand = facts.get(pk), by_id[bid]
        if f is None:
            continue
        old = existing.get((pk, bid))
        if brand.owns(f.post.author_id):
            result.own_posts += 1
            if old is not None and old.status == "new":  # let in before the account was known
                conn.execute(
                    update(inbox_items)
                    .where(inbox_items.c.id == old.id, inbox_items.c.version == old.version)
                    .values(
                        status="dismissed",
                        resolved_at=stamp,
                        updated_at=stamp,
                        version=old.version + 1,
                    )
                )
                audit.append(
                    entry(old.id, "dismiss", {"reason": "posted by the brand's own account"})
                )
            continue
        infl = influence.get(f.post.author_id or "", 0.0)
        reasons = _reasons(conn, f, brand, rules, infl, spikes)
        if not reasons:
            continue
        sentiment = f.brand_sentiment.get(bid, f.sentiment)
        components = prio.base_components(
            prio.Signals(
                intents=list(f.intents),
                text=f.post.text,
                influence=infl,
                sentiment=sentiment[0] if sentiment else None,
                sentiment_score=sentiment[1] if sentiment else None,
                in_spike="negative_spike" in reasons,
            )
        )
        score = prio.total(components)
        posted = from_db(f.posted)
        assert posted is not None
        due = to_db(due_at(policies[bid], posted, prio.band(score), list(f.intents)))
        values = {
            "priority": score,
            "components": components,
            "intents": sorted(f.intents),
            "lang": f.lang,
        }
        if old is None:
            new_rows.append(
                {
                    "post_pk": pk,
                    "brand_id": bid,
                    "status": "new",
                    "reasons": reasons,
                    "posted_at": f.posted,
                    "due_at": due,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "version": 1,
                    **values,
                }
            )
            new_audit[(pk, bid)] = {"reasons": reasons, "priority": score, "brand": brand.name}
            result.added += 1
            result.reasons.update(reasons)
            continue
        merged = list(dict.fromkeys([*old.reasons, *reasons]))
        changes.append(
            {
                "b_id": old.id,
                "b_reasons": merged,
                "b_due": due if old.first_response_at is None else old.due_at,
                **{f"b_{k}": v for k, v in values.items()},
            }
        )
        added = [r for r in merged if r not in old.reasons]
        if added:
            audit.append(
                entry(old.id, "triage.update", {"added_reasons": added, "priority": score})
            )
            result.updated += 1
            result.reasons.update(added)
    if new_rows:
        conn.execute(inbox_items.insert(), new_rows)
        ids = conn.execute(
            select(inbox_items.c.post_pk, inbox_items.c.brand_id, inbox_items.c.id).where(
                inbox_items.c.post_pk.in_(sorted({r["post_pk"] for r in new_rows}))
            )
        )
        for pk, bid, item_id in ids:
            if (pk, bid) in new_audit:
                audit.append(entry(item_id, "triage.add", new_audit[(pk, bid)]))
    if changes:
        conn.execute(
            update(inbox_items)
            .where(inbox_items.c.id == bindparam("b_id"))
            .values(
                reasons=bindparam("b_reasons"),
                due_at=bindparam("b_due"),
                priority=bindparam("b_priority"),
                components=bindparam("b_components"),
                intents=bindparam("b_intents"),
                lang=bindparam("b_lang"),
                updated_at=stamp,
                version=inbox_items.c.version + 1,
            ),
            changes,
        )
    if audit:
        conn.execute(audit_log.insert(), sorted(audit, key=lambda e: e["item_id"]))
    ins = dialect_insert(conn, inbox_triaged)
    rows = [{"post_pk": pk, "triaged_at": stamp} for pk in facts]
    if rows:
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=[inbox_triaged.c.post_pk],
                set_={"triaged_at": ins.excluded.triaged_at},
            ),
            rows,
        )
