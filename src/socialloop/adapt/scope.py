"""What every ADAPT metric shares: the scope (brand, time range), the SQL pieces it filters and
aggregates with (engagement, the sentiment toward a brand, time buckets), evidence posts, and
the conversion of results to JSON-ready values.

Sentiment toward a brand is the brand's own label (``brand_labels``, field ``sentiment``) where
the enrichment produced one, else the post's overall sentiment (``post_labels``); without a
brand it is the overall sentiment. Engagement is likes + reshares + replies (unknown = 0).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, and_, case, func, select

from socialloop.models import Brand
from socialloop.store.schema import authors, brand_labels, post_brands, post_labels, posts
from socialloop.workspace import Workspace

SENTIMENT_LABELS = ("positive", "neutral", "negative")
BUCKET_UNITS = ("day", "hour")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which posts a metric covers: those mentioning ``brand`` (None: every post) created in
    [``since``, ``until``) (None: unbounded). Times are aware UTC."""

    brand: Brand | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def brand_id(self) -> int | None:
        return self.brand.id if self.brand is not None else None

    def for_brand(self, brand: Brand | None) -> Scope:
        return Scope(brand, self.since, self.until)

    def describe(self) -> dict[str, Any]:
        return {
            "brand": self.brand.name if self.brand is not None else None,
            "since": self.since,
            "until": self.until,
        }


def resolve_scope(
    ws: Workspace,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Scope:
    """A scope from a brand name (``NotFound`` when there is none of that name)."""
    return Scope(ws.store.get_brand(brand) if brand else None, aware(since), aware(until))


def aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def naive(dt: datetime) -> datetime:
    """A datetime as the store keeps it: naive UTC."""
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def conditions(scope: Scope, *, brand_id: int | None = None) -> list[ColumnElement[bool]]:
    """Conditions on ``posts`` for the scope (``brand_id`` overrides the scope's brand)."""
    bid = brand_id if brand_id is not None else scope.brand_id
    conds: list[ColumnElement[bool]] = []
    if bid is not None:
        conds.append(
            posts.c.pk.in_(select(post_brands.c.post_pk).where(post_brands.c.brand_id == bid))
        )
    if scope.since is not None:
        conds.append(posts.c.created_at >= naive(scope.since))
    if scope.until is not None:
        conds.append(posts.c.created_at < naive(scope.until))
    return conds


def where(scope: Scope, *, brand_id: int | None = None) -> ColumnElement[bool]:
    conds = conditions(scope, brand_id=brand_id)
    return and_(*conds) if conds else and_(True)


def engagement() -> ColumnElement[Any]:
    """likes + reshares + replies, unknown counts as 0."""
    return (
        func.coalesce(posts.c.likes, 0)
        + func.coalesce(posts.c.reshares, 0)
        + func.coalesce(posts.c.replies, 0)
    )


def with_sentiment(
    base: FromClause, brand_id: int | None, *, brand_column: ColumnElement[Any] | None = None
) -> tuple[FromClause, ColumnElement[Any]]:
    """``base`` (which includes ``posts``) outer-joined to the sentiment labels, and the
    expression of the sentiment: toward the brand (``brand_id``, or per row ``brand_column``)
    when labelled, else the post's overall sentiment (NULL when not enriched)."""
    pl = post_labels.alias("sent_post")
    joined = base.outerjoin(pl, and_(pl.c.post_pk == posts.c.pk, pl.c.field == "sentiment"))
    if brand_column is None and brand_id is None:
        return joined, pl.c.label
    bl = brand_labels.alias("sent_brand")
    on_brand = bl.c.brand_id == (brand_column if brand_column is not None else brand_id)
    joined = joined.outerjoin(
        bl, and_(bl.c.post_pk == posts.c.pk, bl.c.field == "sentiment", on_brand)
    )
    return joined, func.coalesce(bl.c.label, pl.c.label)


def count_if(cond: ColumnElement[bool]) -> ColumnElement[Any]:
    """SUM(CASE WHEN cond THEN 1 ELSE 0 END): a portable conditional count."""
    return func.sum(case((cond, 1), else_=0))


def bucket(conn: Connection, unit: str) -> ColumnElement[str]:
    """The created_at bucket as text: ``YYYY-MM-DD`` (day) or ``YYYY-MM-DDTHH`` (hour)."""
    if unit not in BUCKET_UNITS:
        raise ValueError(f"unit must be one of {', '.join(BUCKET_UNITS)}, not {unit!r}")
    if conn.dialect.name == "postgresql":
        fmt = "YYYY-MM-DD" if unit == "day" else 'YYYY-MM-DD"T"HH24'
        return func.to_char(posts.c.created_at, fmt)
    return func.strftime("%Y-%m-%d" if unit == "day" else "%Y-%m-%dT%H", posts.c.created_at)


def parse_bucket(text: str) -> datetime:
    """The start of a bucket named by :func:`bucket`, as aware UTC."""
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post cited as evidence: enough to show it and link to it (text is hostile input;
    whoever renders it escapes it)."""

    id: str
    network: str
    author: str | None
    author_name: str | None
    text: str
    created_at: datetime
    engagement: int
    url: str | None


def fetch_posts(conn: Connection, pks: Sequence[int]) -> list[PostRef]:
    """Evidence posts for ``pks``, in the order given."""
    if not pks:
        return []
    stmt = (
        select(
            posts.c.pk,
            posts.c.id,
            posts.c.network,
            posts.c.author_handle,
            authors.c.name,
            posts.c.text,
            posts.c.created_at,
            engagement().label("eng"),
            posts.c.url,
        )
        .select_from(posts.outerjoin(authors, authors.c.id == posts.c.author_id))
        .where(posts.c.pk.in_(list(pks)))
    )
    rows = {r.pk: r for r in conn.execute(stmt)}
    out: list[PostRef] = []
    for pk in pks:
        r = rows.get(pk)
        if r is None:
            continue
        created = aware(r.created_at)
        assert created is not None
        out.append(
            PostRef(
                id=r.id,
                network=r.network,
                author=r.author_handle,
                author_name=r.name,
                text=r.text,
                created_at=created,
                engagement=int(r.eng or 0),
                url=r.url,
            )
        )
    return out


def top_posts(
    conn: Connection, conds: Iterable[ColumnElement[bool]], limit: int, base: FromClause = posts
) -> list[PostRef]:
    """The ``limit`` posts with the most engagement (newest first on ties) among those
    matching ``conds`` (``base`` may add joins the conditions need)."""
    if limit <= 0:
        return []
    stmt = (
        select(posts.c.pk)
        .select_from(base)
        .where(*conds)
        .order_by(engagement().desc(), posts.c.created_at.desc(), posts.c.pk.desc())
        .limit(limit)
    )
    return fetch_posts(conn, [int(r[0]) for r in conn.execute(stmt)])


def share(part: float, whole: float) -> float:
    """part / whole rounded to 4 places (0 when whole is 0)."""
    return round(part / whole, 4) if whole else 0.0


def jsonable(value: Any) -> Any:
    """Dataclasses (their fields and properties), datetimes, tuples and floats as plain JSON
    values (NaN/inf -> None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        doc = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name, attr in vars(type(value)).items():  # derived values (Spike.key, shares)
            if isinstance(attr, property):
                doc[name] = jsonable(getattr(value, name))
        return doc
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
