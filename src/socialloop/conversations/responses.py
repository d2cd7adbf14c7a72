"""Response analytics from public threads, for any account: how often and how fast does it
answer the people who address it?

For each *group* (a brand with its own accounts, one account, or a company account found in a
dataset) every conversation a customer opened with it is found in the stored reply trees, with
the group's first response (definitions in ``openings`` and docs/conversations.md). Per group:
conversations (``threads``), how many were answered, the response rate, the median and 90th
percentile first-response time, and the replies it made outside those conversations.

Built for a million posts: the threads that involve the groups are selected in SQL (posts by
their accounts or mentioning them, then every post of those threads, one query), read as plain
columns, and walked once in memory; there is no query per post.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, Select, String, select, true, type_coerce, union

from socialloop.conversations.openings import Forest, find_openings
from socialloop.conversations.threads import account_owner
from socialloop.errors import InvalidValue
from socialloop.models import Brand, author_id, normalise_account
from socialloop.store import Store
from socialloop.store.schema import post_brands, post_terms, posts

BRAND = "brand"
ACCOUNT = "account"
COMPANY = "company"  # an account a dataset marks as a company's (TWCS inbound = False)


@dataclass(slots=True)
class ResponseStats:
    """One group's response figures (times in seconds)."""

    account: str
    kind: str
    accounts: list[str]
    threads: int = 0
    responded: int = 0
    other_replies: int = 0
    delays: list[float] = field(default_factory=list, repr=False)

    @property
    def response_rate(self) -> float | None:
        return self.responded / self.threads if self.threads else None

    def percentile(self, q: float) -> float | None:
        if not self.delays:
            return None
        return float(np.percentile(np.asarray(self.delays, dtype=np.float64), q))

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "kind": self.kind,
            "accounts": list(self.accounts),
            "threads": self.threads,
            "responded": self.responded,
            "response_rate": self.response_rate,
            "median_first_response_s": self.percentile(50),
            "p90_first_response_s": self.percentile(90),
            "other_replies": self.other_replies,
        }


def dataset_companies(store: Store) -> list[str]:
    """Author ids of the accounts a dataset marks as companies: authors of posts whose raw
    record says ``inbound`` = ``False`` (TWCS: the company side of the conversation)."""
    stmt = (
        select(posts.c.author_id)
        .where(posts.c.raw["inbound"].as_string() == "False", posts.c.author_id.is_not(None))
        .distinct()
    )
    with store.begin() as conn:
        return sorted(str(a) for (a,) in conn.execute(stmt))


def _groups(
    store: Store,
    accounts: Sequence[str],
    brand: str | None,
    dataset_accounts: bool,
) -> tuple[list[ResponseStats], list[Brand]]:
    """The groups to measure, and pseudo-brands describing which authors each owns."""
    stats: list[ResponseStats] = []
    owners: list[Brand] = []
    if accounts:
        try:
            specs = list(dict.fromkeys(normalise_account(a) for a in accounts))
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
        for s in specs:
            stats.append(ResponseStats(s, ACCOUNT, [s]))
            owners.append(Brand(name=s, query="", accounts=[s]))
        return stats, owners
    brands = [store.get_brand(brand)] if brand else store.list_brands()
    for b in brands:
        if not b.accounts:
            if brand:
                raise InvalidValue(
                    f"brand {b.name!r} has no accounts of its own; add them with --account"
                )
            continue
        stats.append(ResponseStats(b.name, BRAND, list(b.accounts)))
        owners.append(b)
    if brand is None and dataset_accounts:
        for aid in dataset_companies(store):
            stats.append(ResponseStats(aid, COMPANY, [aid]))
            owners.append(Brand(name=aid, query="", accounts=[aid]))
    return stats, owners


_EPOCH = datetime(1970, 1, 1)


def _when(value: object) -> float:
    """POSIX seconds of a stored UTC time (text on SQLite, a datetime elsewhere)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return (value - _EPOCH).total_seconds()


def _fetch(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``stmt`` as plain tuples. On SQLite the statement is compiled once (its
    values still bound, never spliced) and run on the driver's cursor, skipping SQLAlchemy's
    per-row result processing (most of the read time at a million rows)."""
    if conn.dialect.name != "sqlite":
        return [tuple(r) for r in conn.execute(stmt)]
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup or ()]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _load(
    store: Store, handles: list[str], brand_ids: list[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """(pk, id, network, parent_id, author_id, created_at, mentions) of every post in a
    thread where one of ``handles`` wrote or was mentioned (every post when ``brand_ids``
    are given), as raw column values; and the (post pk, brand id) matches of those brands."""
    if brand_ids:
        # posts naming a brand are most of a listening store: reading every post in one scan
        # is cheaper than selecting their threads first
        in_threads: Any = true()
    else:
        roots = union(
            select(posts.c.root_id).where(posts.c.author_handle.in_(handles)),
            select(posts.c.root_id)
            .join(post_terms, post_terms.c.post_pk == posts.c.pk)
            .where(post_terms.c.kind == "mention", post_terms.c.value.in_(handles)),
        ).subquery()
        in_threads = posts.c.root_id.in_(select(roots.c.root_id))
    stmt = select(
        posts.c.pk,
        posts.c.id,
        posts.c.network,
        posts.c.parent_id,
        posts.c.author_id,
        type_coerce(posts.c.created_at, String),
        type_coerce(posts.c.mentions, String),
    ).where(in_threads)
    with store.begin() as conn:
        rows = _fetch(conn, stmt)
        matches: list[tuple[int, int]] = []
        if brand_ids:
            matches = [
                (int(pk), int(bid))
                for pk, bid in _fetch(
                    conn,
                    select(post_brands.c.post_pk, post_brands.c.brand_id).where(
                        post_brands.c.brand_id.in_(brand_ids)
                    ),
                )
            ]
    return rows, matches


def _forest(rows: list[tuple[Any, ...]], tags: dict[int, list[str]]) -> Forest:
    """The loaded rows as a :class:`Forest` (built column-wise: this runs per post)."""
    index = {row[1]: i for i, row in enumerate(rows)}
    get = index.get
    parents = [-1 if row[3] is None else get(row[3], -1) for row in rows]
    mentions: list[tuple[str, ...]] = [
        ()
        if not row[6] or row[6] == "[]"
        else tuple(
            author_id(row[2], m)
            for m in (orjson.loads(row[6]) if isinstance(row[6], str) else row[6])
        )
        for row in rows
    ]
    by_index = {i: tuple(tags[row[0]]) for i, row in enumerate(rows) if row[0] in tags}
    return Forest(
        parents,
        [row[4] for row in rows],
        [_when(row[5]) for row in rows],
        mentions,
        by_index,
    )


def response_times(
    store: Store,
    *,
    accounts: Sequence[str] = (),
    brand: str | None = None,
    since: datetime | None = None,
    dataset_accounts: bool = True,
    matched: bool = False,
) -> list[ResponseStats]:
    """Response figures per group, most conversations first.

    ``accounts``: measure these accounts (``HANDLE`` or ``NETWORK:HANDLE``), each alone.
    ``brand``: that brand's own accounts together. Neither: every brand with accounts and,
    with ``dataset_accounts``, every company account of a dataset (TWCS). ``since``: count
    conversations opened at or after this time. ``matched``: a post that matches a brand's
    query addresses that brand too (it names the brand without mentioning its account)."""
    stats, owners = _groups(store, accounts, brand, dataset_accounts)
    if not stats:
        return []
    handles = sorted({a.split(":", 1)[-1] for b in owners for a in b.accounts})
    brand_names = {b.id: b.name for b in owners if b.id is not None} if matched else {}
    rows, matches = _load(store, handles, sorted(brand_names))
    tags: dict[int, list[str]] = {}
    for pk, bid in matches:
        tags.setdefault(pk, []).append(brand_names[bid])
    forest = _forest(rows, tags)
    owner = account_owner(owners)
    found = find_openings(forest, owner)
    by_name = {s.account: s for s in stats}
    cutoff = since.timestamp() if since is not None else None
    for o in found.openings:
        s = by_name.get(o.group)
        if s is None or (cutoff is not None and forest.times[o.index] < cutoff):
            continue
        s.threads += 1
        if o.delay is not None:
            s.responded += 1
            s.delays.append(o.delay)
    for group, n in found.other_replies.items():
        if group in by_name:
            by_name[group].other_replies += n
    stats.sort(key=lambda s: (-s.threads, s.account))
    return stats
