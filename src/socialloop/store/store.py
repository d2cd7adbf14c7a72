"""The Store: one object over the database that every stage reads and writes.

It opens (and migrates) the database, and offers the repositories the rest of socialloop
uses: posts (upsert, search, export), brands and their post matches, sources and import runs.
SQL goes through SQLAlchemy Core only (no string-built SQL), so a PostgreSQL URL can follow.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    and_,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from socialloop.errors import StoreError
from socialloop.models import Author, Post
from socialloop.store.brand_store import BrandStore
from socialloop.store.engine import ConnectHook, make_engine, migrate
from socialloop.store.plan import count_stmt, newest_pks
from socialloop.store.rows import as_utc, utc_now
from socialloop.store.schema import (
    authors,
    import_runs,
    interactions,
    post_brands,
    posts,
    sources,
)
from socialloop.store.writer import UpsertResult, derive_threads, upsert_posts

READ_MMAP_BYTES = 1 << 31
"""How much of a SQLite database searches map into memory (SQLite caps it at its build's
``SQLITE_MAX_MMAP_SIZE``, 2 GiB by default)."""


@dataclass(slots=True)
class RunCounts:
    read: int = 0
    new: int = 0
    updated: int = 0
    rejected: int = 0


POST_COLUMNS = [
    posts.c.pk,
    posts.c.id,
    posts.c.network,
    posts.c.native_id,
    posts.c.url,
    posts.c.text,
    posts.c.lang,
    posts.c.created_at,
    posts.c.collected_at,
    posts.c.parent_id,
    posts.c.root_id,
    posts.c.reshare_of,
    posts.c.quote_of,
    posts.c.reply_to_handle,
    posts.c.mentions,
    posts.c.hashtags,
    posts.c.links,
    posts.c.likes,
    posts.c.reshares,
    posts.c.replies,
    posts.c.views,
    authors.c.network.label("a_network"),
    authors.c.handle.label("a_handle"),
    authors.c.name.label("a_name"),
    authors.c.followers.label("a_followers"),
    authors.c.following.label("a_following"),
    authors.c.verified.label("a_verified"),
    posts.c.author_handle,
]


# Columns whose SQLAlchemy result processing (stdlib json, the SQLite datetime parser) costs
# more than the rest of a row; :func:`post_columns` can select them as stored text instead.
_RAW_JSON = ("mentions", "hashtags", "links")
_RAW_TIME = ("created_at", "collected_at")


def post_columns(raw: bool) -> list[Any]:
    """``POST_COLUMNS``; with ``raw`` (SQLite only) the JSON and timestamp columns come back as
    their stored text, which :func:`row_to_post` decodes several times faster (orjson,
    ``datetime.fromisoformat``) than SQLAlchemy's per-type processors."""
    if not raw:
        return POST_COLUMNS
    out: list[Any] = []
    for col in POST_COLUMNS:
        if col.table is posts and col.name in _RAW_JSON + _RAW_TIME:
            out.append(type_coerce(col, String).label(col.name))
        else:
            out.append(col)
    return out


def _json_list(value: Any) -> list[Any]:
    if value is None or value == "[]":  # most posts have no mentions, hashtags or links
        return []
    if isinstance(value, str):
        decoded = orjson.loads(value)
        return decoded if isinstance(decoded, list) else []
    return list(value)


def _time(value: Any) -> datetime | None:
    if value.__class__ is str:
        if len(value) == 26 and value[19] == ".":
            # SQLAlchemy's SQLite DateTime text (naive UTC with microseconds): one C call
            # for the aware value (several times faster than parsing, then replacing tzinfo)
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    return as_utc(value)


def row_to_post(row: Any) -> Post:
    """A Post from a row selected with ``POST_COLUMNS`` or ``post_columns(raw=True)``."""
    author: Author | None = None
    if row.a_handle is not None:
        author = Author(
            network=row.a_network,
            handle=row.a_handle,
            name=row.a_name,
            followers=row.a_followers,
            following=row.a_following,
            # a bool also where the row comes straight from the driver (SQLite stores 0 / 1)
            verified=None if row.a_verified is None else bool(row.a_verified),
        )
    elif row.author_handle is not None:
        author = Author(network=row.network, handle=row.author_handle)
    created = _time(row.created_at)
    assert created is not None
    return Post(
        network=row.network,
        native_id=row.native_id,
        text=row.text,
        created_at=created,
        author=author,
        url=row.url,
        lang=row.lang,
        parent_id=row.parent_id,
        root_id=row.root_id,
        reshare_of=row.reshare_of,
        quote_of=row.quote_of,
        reply_to_handle=row.reply_to_handle,
        mentions=_json_list(row.mentions),
        hashtags=_json_list(row.hashtags),
        links=_json_list(row.links),
        likes=row.likes,
        reshares=row.reshares,
        replies=row.replies,
        views=row.views,
        collected_at=_time(row.collected_at),
    )


class Store(BrandStore):
    """The database of a workspace (its brand methods: :class:`BrandStore`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(
        cls, url: str, *, on_connect: list[ConnectHook] | None = None, apply_migrations: bool = True
    ) -> Store:
        engine = make_engine(url, on_connect=on_connect)
        if apply_migrations:
            migrate(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed when the block ends, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"store operation failed: {exc}") from exc

    # -- posts -------------------------------------------------------------------------------

    def upsert_posts(
        self, batch: Sequence[Post], *, source_id: int | None = None, run_id: int | None = None
    ) -> UpsertResult:
        with self.begin() as conn:
            return upsert_posts(conn, batch, source_id=source_id, run_id=run_id)

    def derive_threads(self) -> int:
        with self.begin() as conn:
            return derive_threads(conn)

    @staticmethod
    def _conditions(
        where: ColumnElement[bool] | None,
        brand_id: int | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[ColumnElement[bool]]:
        """The search conditions, ``AND``-ed: the query, the brand, the time bounds."""
        conds: list[ColumnElement[bool]] = []
        if where is not None:
            conds.append(where)
        if brand_id is not None:
            conds.append(
                posts.c.pk.in_(
                    select(post_brands.c.post_pk).where(post_brands.c.brand_id == brand_id)
                )
            )
        if since is not None:
            conds.append(posts.c.created_at >= since.astimezone(UTC).replace(tzinfo=None))
        if until is not None:
            conds.append(posts.c.created_at < until.astimezone(UTC).replace(tzinfo=None))
        return conds

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A transaction for a search. On SQLite the connection reads the file through mmap
        (``READ_MMAP_BYTES``): random reads of ``posts`` rows cost about half as much."""
        with self.begin() as conn:
            if self.dialect == "sqlite":
                info = conn.connection.info
                if not info.get("socialloop_mmap"):
                    conn.exec_driver_sql(f"PRAGMA mmap_size={READ_MMAP_BYTES}")
                    info["socialloop_mmap"] = True
            yield conn

    def _post_select(
        self,
        where: ColumnElement[bool] | None = None,
        *,
        brand_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Select[Any]:
        stmt = select(*POST_COLUMNS).select_from(
            posts.outerjoin(authors, authors.c.id == posts.c.author_id)
        )
        conds = self._conditions(where, brand_id, since, until)
        if conds:
            stmt = stmt.where(and_(*conds))
        return stmt

    def search(
        self,
        where: ColumnElement[bool] | None = None,
        *,
        brand_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Post]:
        """Matching posts, newest first (``created_at DESC, pk DESC``).

        With a ``limit`` the page is found in two phases (see ``plan.newest_pks``): the pks of
        the page first, touching only ``ix_posts_created_at`` and the match sets, then the
        full rows (and authors) of those pks only."""
        conds = self._conditions(where, brand_id, since, until)
        with self._reading() as conn:
            if limit is None:
                stmt = self._post_select(where, brand_id=brand_id, since=since, until=until)
                stmt = stmt.order_by(posts.c.created_at.desc(), posts.c.pk.desc())
                return [row_to_post(r) for r in conn.execute(stmt)]
            pks = newest_pks(conn, conds, limit)
            if not pks:
                return []
            stmt = select(*POST_COLUMNS).select_from(
                posts.outerjoin(authors, authors.c.id == posts.c.author_id)
            )
            rows = {r.pk: r for r in conn.execute(stmt.where(posts.c.pk.in_(pks)))}
        return [row_to_post(rows[pk]) for pk in pks if pk in rows]

    def count(
        self,
        where: ColumnElement[bool] | None = None,
        *,
        brand_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many posts match (see ``plan.count_stmt``: set operations on the match sets
        when the conditions allow it, without reading ``posts`` rows)."""
        conds = self._conditions(where, brand_id, since, until)
        with self._reading() as conn:
            return int(conn.execute(count_stmt(conds, conn)).scalar_one())

    def iter_posts(
        self,
        where: ColumnElement[bool] | None = None,
        *,
        brand_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = 5000,
    ) -> Iterator[Post]:
        """Every matching post in store order, streamed in keyset pages (constant memory)."""
        last = 0
        while True:
            stmt = self._post_select(where, brand_id=brand_id, since=since, until=until)
            stmt = stmt.where(posts.c.pk > last).order_by(posts.c.pk).limit(batch_size)
            with self.begin() as conn:
                rows = list(conn.execute(stmt))
            if not rows:
                return
            for r in rows:
                yield row_to_post(r)
            last = rows[-1].pk

    def get_post(self, post_id: str) -> Post | None:
        rows = self.search(posts.c.id == post_id, limit=1)
        return rows[0] if rows else None

    def stats(self) -> dict[str, int]:
        with self.begin() as conn:
            return {
                "posts": int(conn.execute(select(func.count()).select_from(posts)).scalar_one()),
                "authors": int(
                    conn.execute(select(func.count()).select_from(authors)).scalar_one()
                ),
                "interactions": int(
                    conn.execute(select(func.count()).select_from(interactions)).scalar_one()
                ),
                "threads": int(
                    conn.execute(
                        select(func.count(func.distinct(posts.c.root_id))).where(
                            posts.c.parent_id.is_not(None)
                        )
                    ).scalar_one()
                ),
            }

    # -- sources and import runs -------------------------------------------------------------

    def ensure_source(self, name: str, connector: str, config: dict[str, Any] | None = None) -> int:
        now = utc_now()
        with self.begin() as conn:
            row = conn.execute(select(sources.c.id).where(sources.c.name == name)).first()
            if row is not None:
                return int(row.id)
            res = conn.execute(
                insert(sources).values(
                    name=name,
                    connector=connector,
                    config=config or {},
                    created_at=now,
                    updated_at=now,
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def start_run(self, files: list[str], fmt: str | None, source_id: int | None) -> int:
        with self.begin() as conn:
            res = conn.execute(
                insert(import_runs).values(
                    source_id=source_id,
                    files=files,
                    format=fmt,
                    status="running",
                    started_at=utc_now(),
                    read=0,
                    new=0,
                    updated=0,
                    rejected=0,
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def update_run(
        self,
        run_id: int,
        counts: RunCounts,
        *,
        status: str | None = None,
        rejects_path: str | None = None,
        error: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Record a run's counts (inside ``conn``'s transaction when given, so the counts
        commit together with the batch they describe)."""
        values: dict[str, Any] = {
            "read": counts.read,
            "new": counts.new,
            "updated": counts.updated,
            "rejected": counts.rejected,
        }
        if status is not None:
            values["status"] = status
            if status != "running":
                values["finished_at"] = utc_now()
        if rejects_path is not None:
            values["rejects_path"] = rejects_path
        if error is not None:
            values["error"] = error
        stmt = update(import_runs).where(import_runs.c.id == run_id).values(**values)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.begin() as own:
            own.execute(stmt)

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.begin() as conn:
            rows = conn.execute(select(import_runs).order_by(import_runs.c.id.desc()).limit(limit))
            return [{str(k): v for k, v in r._mapping.items()} for r in rows]
