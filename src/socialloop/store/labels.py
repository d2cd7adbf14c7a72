"""Read what LEARN computed for given posts: their labels and the sentiment toward each brand.

The enrichment pipeline writes one ``post_labels`` row per (field, label) of a post and one
``brand_labels`` row per (brand, field, label). :func:`labels_for` reads both tables back for a
batch of posts (by their string ids): per chunk of at most :data:`CHUNK` ids one query per table
(``posts`` for the pks, then each label table), so exports and searches carry the labels at a
modest, constant cost per post (docs/exports.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import String, cast, func, select

from socialloop.store.schema import brand_labels, brands, post_labels, posts
from socialloop.store.store import Store

#: The labelled fields read, in output order.
LABEL_FIELDS = ("lang", "sentiment", "emotion", "emotions", "intent", "moment", "stage", "topic")
#: Fields that hold several labels (one ``post_labels`` row each).
MULTI_FIELDS = frozenset({"emotions", "intent"})
#: Between the ``field=label`` pairs of a post packed into one string (labels never hold it).
SEP = "\x1f"
#: Ids per ``IN`` list (well under every driver's bound-parameter limit).
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Labels:
    """What LEARN computed for one post; ``None`` is a field never computed for it.

    Multi-valued fields are sorted tuples; ``brand_sentiment`` maps a brand's name to the
    sentiment toward it (brands the post was scored for only), in name order."""

    lang: str | None = None
    sentiment: str | None = None
    emotion: str | None = None
    emotions: tuple[str, ...] | None = None
    intent: tuple[str, ...] | None = None
    moment: str | None = None
    stage: str | None = None
    topic: str | None = None
    brand_sentiment: dict[str, str] = field(default_factory=dict)


#: The labels of a post that was never enriched.
NO_LABELS = Labels()


def has_labels(store: Store) -> bool:
    """Whether any post of the store carries a label (a cheap check, one row read)."""
    with store.begin() as conn:
        for table in (post_labels, brand_labels):
            if conn.execute(select(table.c.post_pk).limit(1)).first() is not None:
                return True
    return False


def labels_for(store: Store, post_ids: Iterable[str]) -> dict[str, Labels]:
    """The labels of each of ``post_ids`` that has any (others are absent: use
    :data:`NO_LABELS`). Unknown ids are ignored.

    Per chunk of ids: their pks, then one row per post from each label table, its labels
    packed into one string (``group_concat`` / ``string_agg``): seven rows a post would cost
    the driver more than the query does."""
    ids = list(dict.fromkeys(post_ids))
    out: dict[str, Labels] = {}
    pair = post_labels.c.field + "=" + post_labels.c.label
    toward = cast(brand_labels.c.brand_id, String) + "=" + brand_labels.c.label
    with store.begin() as conn:
        names = {str(k): v for k, v in conn.execute(select(brands.c.id, brands.c.name)).all()}
        for i in range(0, len(ids), CHUNK):
            id_of: dict[int, str] = dict(
                conn.execute(
                    select(posts.c.pk, posts.c.id).where(posts.c.id.in_(ids[i : i + CHUNK]))
                ).all()
            )
            if not id_of:
                continue
            pks = list(id_of)
            # no condition on field: SQLite would then read post_labels by its primary key
            # (field first), every post's label of that field, instead of by post
            stmt = (
                select(post_labels.c.post_pk, func.aggregate_strings(pair, SEP))
                .where(post_labels.c.post_pk.in_(pks))
                .group_by(post_labels.c.post_pk)
            )
            values = {pk: _unpack(packed) for pk, packed in conn.execute(stmt).all()}
            stmt = (
                select(brand_labels.c.post_pk, func.aggregate_strings(toward, SEP))
                .where(brand_labels.c.post_pk.in_(pks), brand_labels.c.field == "sentiment")
                .group_by(brand_labels.c.post_pk)
            )
            brand = {pk: _brands(packed, names) for pk, packed in conn.execute(stmt).all()}
            for pk in values.keys() | brand.keys():
                out[id_of[pk]] = _labels(values.get(pk, {}), brand.get(pk, {}))
    return out


def _unpack(packed: str) -> dict[str, Any]:
    """``field=label`` pairs: a string per single-valued field (the least, were there more
    than one), a list per multi-valued one; fields not in :data:`LABEL_FIELDS` are ignored
    by :func:`_labels`."""
    got: dict[str, Any] = {}
    for part in packed.split(SEP):
        name, _, label = part.partition("=")
        if name in MULTI_FIELDS:
            got.setdefault(name, []).append(label)
        elif name not in got or label < got[name]:
            got[name] = label
    return got


def _brands(packed: str, names: dict[str, str]) -> dict[str, str]:
    """``brand_id=label`` pairs as brand name to label, in name order."""
    pairs = (part.partition("=") for part in packed.split(SEP))
    return dict(sorted((names[b], label) for b, _, label in pairs if b in names))


def _labels(values: dict[str, Any], toward: dict[str, str]) -> Labels:
    get = values.get
    return Labels(
        lang=get("lang"),
        sentiment=get("sentiment"),
        emotion=get("emotion"),
        emotions=_many(get("emotions"), "emotion" in values),
        intent=_many(get("intent"), "moment" in values),
        moment=get("moment"),
        stage=get("stage"),
        topic=get("topic"),
        brand_sentiment=toward,
    )


def _many(got: list[str] | None, computed: bool) -> tuple[str, ...] | None:
    """A multi-valued field, sorted; an empty list has no rows, so it counts as computed
    (empty) when the field its step always writes beside it is there (emotion step: emotion
    and emotions; intent step: intent and moment)."""
    if got:
        return tuple(sorted(got))
    return () if computed else None


def label_reader(store: Store) -> Callable[[list[str]], dict[str, Labels]]:
    """:func:`labels_for` bound to ``store``; a workspace with no label at all (never
    enriched) answers every batch with no labels without querying."""
    if not has_labels(store):
        return lambda ids: {}
    return partial(labels_for, store)


def label_counts(store: Store, field_name: str) -> dict[str, int]:
    """How many stored posts carry each label of ``field_name`` (e.g. each detected language)."""
    stmt = (
        select(post_labels.c.label, func.count())
        .where(post_labels.c.field == field_name)
        .group_by(post_labels.c.label)
    )
    with store.begin() as conn:
        return {str(label): int(n) for label, n in conn.execute(stmt)}
