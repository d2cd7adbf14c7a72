"""A store's brands: their rows, their matches against the stored posts (``post_brands``) and
the labels toward them (``brand_labels``), which follow the matches.

:class:`BrandStore` is a part of :class:`socialloop.store.store.Store` (its base class), kept in
its own module; it uses the store's ``engine`` and ``begin()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from socialloop.errors import AlreadyExists, NotFound
from socialloop.models import Brand
from socialloop.store.enrich_rows import mark_stale
from socialloop.store.rows import as_utc, dialect_insert, utc_now
from socialloop.store.schema import brand_labels, brands, enrichments, post_brands, posts

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _unscored(brand_id: int) -> Select[Any]:
    """The posts ``brand_id`` matches that carry no label toward it."""
    return select(post_brands.c.post_pk).where(
        post_brands.c.brand_id == brand_id,
        ~exists().where(
            brand_labels.c.brand_id == brand_id, brand_labels.c.post_pk == post_brands.c.post_pk
        ),
    )


class BrandStore:
    """Brands, their matches and the labels toward them (see the module docstring)."""

    if TYPE_CHECKING:
        engine: Engine

        def begin(self) -> AbstractContextManager[Connection]: ...

    # -- brands ------------------------------------------------------------------------------

    @staticmethod
    def _brand(row: Any) -> Brand:
        return Brand(
            id=row.id,
            name=row.name,
            query=row.query,
            competitor=bool(row.competitor),
            values=row.brand_values,
            assumptions=list(row.assumptions or []),
            accounts=list(row.accounts or []),
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
        )

    def list_brands(self) -> list[Brand]:
        with self.begin() as conn:
            return [self._brand(r) for r in conn.execute(select(brands).order_by(brands.c.id))]

    def get_brand(self, name: str) -> Brand:
        with self.begin() as conn:
            row = conn.execute(
                select(brands).where(func.lower(brands.c.name) == name.lower())
            ).first()
        if row is None:
            raise NotFound(f"no brand named {name!r}")
        return self._brand(row)

    def add_brand(self, brand: Brand) -> Brand:
        now = utc_now()
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(
                    select(brands.c.id).where(func.lower(brands.c.name) == brand.name.lower())
                ).first()
                if exists is not None:
                    raise AlreadyExists(f"a brand named {brand.name!r} already exists")
                res = conn.execute(
                    insert(brands).values(
                        name=brand.name,
                        query=brand.query,
                        competitor=brand.competitor,
                        brand_values=brand.values,
                        assumptions=list(brand.assumptions),
                        accounts=list(brand.accounts),
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError as exc:
            raise AlreadyExists(f"a brand named {brand.name!r} already exists") from exc
        pk = res.inserted_primary_key
        assert pk is not None
        return self.get_brand(brand.name) if pk[0] else brand

    def update_brand(self, brand_name: str, /, **changes: Any) -> Brand:
        current = self.get_brand(brand_name)
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if value is None:
                continue
            column = {"values": "brand_values"}.get(key, key)
            values[column] = value
        if "name" in values and values["name"].lower() != current.name.lower():
            try:
                self.get_brand(values["name"])
            except NotFound:
                pass
            else:
                raise AlreadyExists(f"a brand named {values['name']!r} already exists")
        if values:
            values["updated_at"] = utc_now()
            with self.begin() as conn:
                conn.execute(update(brands).where(brands.c.id == current.id).values(**values))
        return self.get_brand(values.get("name", current.name))

    def remove_brand(self, name: str) -> None:
        brand = self.get_brand(name)
        with self.begin() as conn:
            conn.execute(delete(post_brands).where(post_brands.c.brand_id == brand.id))
            conn.execute(delete(brands).where(brands.c.id == brand.id))

    def add_matches(self, conn: Connection, pairs: Sequence[tuple[int, int]]) -> None:
        """Record (brand_id, post_pk) matches; existing pairs are kept."""
        if not pairs:
            return
        conn.execute(
            dialect_insert(conn, post_brands).on_conflict_do_nothing(),
            [{"brand_id": b, "post_pk": p} for b, p in pairs],
        )

    def clear_matches(self, conn: Connection, post_pks: Sequence[int]) -> None:
        for i in range(0, len(post_pks), 500):
            conn.execute(
                delete(post_brands).where(post_brands.c.post_pk.in_(post_pks[i : i + 500]))
            )

    def rematch_posts(
        self,
        conn: Connection,
        updated_pks: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        per_brand_steps: Sequence[str] = (),
    ) -> None:
        """Record the (brand_id, post_pk) matches of just-written posts; the posts that were
        already stored (``updated_pks``, re-imported with the same or another text) drop their
        old matches first, and the labels toward brands follow: dropped for a brand a post no
        longer matches, and ``per_brand_steps``' stored results marked stale where it matches a
        brand it carries no label toward (an edited text has no stored results left)."""
        self.clear_matches(conn, updated_pks)
        self.add_matches(conn, pairs)
        for i in range(0, len(updated_pks), 500):
            chunk = list(updated_pks[i : i + 500])
            still = exists().where(
                post_brands.c.post_pk == brand_labels.c.post_pk,
                post_brands.c.brand_id == brand_labels.c.brand_id,
            )
            conn.execute(delete(brand_labels).where(brand_labels.c.post_pk.in_(chunk), ~still))
            if not per_brand_steps:
                continue
            unlabelled = exists().where(
                post_brands.c.post_pk == enrichments.c.post_pk,
                ~exists().where(
                    brand_labels.c.post_pk == post_brands.c.post_pk,
                    brand_labels.c.brand_id == post_brands.c.brand_id,
                ),
            )
            mark_stale(conn, per_brand_steps, enrichments.c.post_pk.in_(chunk), unlabelled)

    def rematch_brand(
        self,
        brand_id: int,
        where: ColumnElement[bool],
        per_brand_steps: Sequence[str] = (),
        *,
        rescore: bool = False,
    ) -> int:
        """Recompute one brand's matches over every stored post (set-based, in SQL).

        The labels toward the brand follow its matches: those of posts it no longer matches
        are dropped, and on posts it newly matches the stored results of ``per_brand_steps``
        (the enrichment steps that label posts toward each brand) are marked stale, so the
        next enrichment scores them toward it (:meth:`brand_unscored` counts them).
        ``rescore``: drop every label toward the brand first (its name, which finds it in a
        post's text, changed), so all its posts are scored again."""
        with self.begin() as conn:
            if rescore:
                conn.execute(delete(brand_labels).where(brand_labels.c.brand_id == brand_id))
            conn.execute(delete(post_brands).where(post_brands.c.brand_id == brand_id))
            sel = select(literal(brand_id, posts.c.pk.type), posts.c.pk).where(where)
            conn.execute(insert(post_brands).from_select(["brand_id", "post_pk"], sel))
            matched = post_brands.c.post_pk == brand_labels.c.post_pk
            conn.execute(
                delete(brand_labels).where(
                    brand_labels.c.brand_id == brand_id,
                    ~exists().where(post_brands.c.brand_id == brand_id, matched),
                )
            )
            self._mark_unscored(conn, brand_id, per_brand_steps)
            return int(
                conn.execute(
                    select(func.count()).where(post_brands.c.brand_id == brand_id)
                ).scalar_one()
            )

    @staticmethod
    def _mark_unscored(conn: Connection, brand_id: int, per_brand_steps: Sequence[str]) -> None:
        if per_brand_steps:
            mark_stale(conn, per_brand_steps, enrichments.c.post_pk.in_(_unscored(brand_id)))

    def mark_unscored(self, brand_ids: Sequence[int], per_brand_steps: Sequence[str]) -> None:
        """Mark ``per_brand_steps``' stored results stale on the posts each of ``brand_ids``
        matches without a label toward it (an enrichment that ran while the brand was added
        or changed wrote results that do not consider it)."""
        with self.begin() as conn:
            for brand_id in brand_ids:
                self._mark_unscored(conn, brand_id, per_brand_steps)

    def brand_unscored(self, brand_id: int) -> int:
        """Posts the brand matches that carry no label toward it yet (not enriched since the
        brand matched them)."""
        with self.begin() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(_unscored(brand_id).subquery())
                ).scalar_one()
            )

    def brand_label_counts(self, field: str) -> dict[int, dict[str, int]]:
        """Per brand, how many posts carry each label of ``field`` toward that brand (e.g.
        the sentiment toward each brand)."""
        stmt = (
            select(brand_labels.c.brand_id, brand_labels.c.label, func.count())
            .where(brand_labels.c.field == field)
            .group_by(brand_labels.c.brand_id, brand_labels.c.label)
        )
        out: dict[int, dict[str, int]] = {}
        with self.begin() as conn:
            for bid, label, n in conn.execute(stmt):
                out.setdefault(int(bid), {})[str(label)] = int(n)
        return out

    def brand_counts(self) -> dict[int, int]:
        with self.begin() as conn:
            rows = conn.execute(
                select(post_brands.c.brand_id, func.count()).group_by(post_brands.c.brand_id)
            )
            return {int(b): int(n) for b, n in rows}
