"""Import posts into a workspace: files (any format ``listen.files`` reads) or any iterable of
Posts (the simulator, connectors).

Posts are written in batches: upsert, facets, interactions, full-text rows, brand matches and
the run's counts commit together, so a crash or Ctrl-C leaves the store consistent and running
the same import again completes it without duplicates. Bad records are reported (file, line,
reason) and appended to a rejects file; they never stop the good ones.

The run writes through one connection of its own. On SQLite its foreign-key checks are off
(every row the writer adds refers to a post written in the same transaction, and an import
never deletes posts; the checks cost a quarter of the import). A *bulk* run (``bulk=True``, or
by default for files of ``BULK_AUTO_BYTES`` or more) also commits once per ``BULK_COMMIT_POSTS``
posts instead of once per batch (fewer, larger full-text segments and WAL checkpoints), with
a larger page cache: a crash, Ctrl-C or power cut still leaves whole batches (the durability
settings stay as they are: WAL, ``synchronous=NORMAL``). A bulk run into an empty
store also drops the secondary indexes whose keys arrive in random order (``DEFERRED_INDEXES``)
and builds them once at the end (~10 % of a 1M-post import). They only speed up reads: if the
process is killed before the end, searches stay correct, and the next import (the rerun that
completes the killed one) builds whatever is missing first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import orjson
from sqlalchemy import Connection, Engine, Index, RootTransaction
from sqlalchemy.exc import SQLAlchemyError

from socialloop.learn.base import PER_BRAND_STEPS
from socialloop.models import Post
from socialloop.runtime import quiet_gc
from socialloop.store import RunCounts
from socialloop.workspace import Workspace

BULK_AUTO_BYTES = 64 << 20
"""Files of this many bytes or more (together) are imported in bulk unless told otherwise."""
BULK_COMMIT_POSTS = 50_000
"""A bulk import commits after at least this many posts."""
_BULK_CACHE_KIB = 131_072
DEFERRED_INDEXES = (
    "ix_posts_created_at",
    "ix_posts_author_handle",
    "ix_posts_parent_id",
    "ix_posts_root_id",
    "ix_interactions_source",
    "ix_interactions_target_author",
)
"""Secondary indexes a bulk import into an empty store builds after loading."""


def _deferred_indexes() -> list[Index]:
    from socialloop.store.schema import interactions, posts

    found = {str(ix.name): ix for table in (posts, interactions) for ix in table.indexes}
    return [found[name] for name in DEFERRED_INDEXES]


def restore_indexes(engine: Engine) -> int:
    """Build the deferred indexes that are missing (a bulk import was killed before its end);
    returns how many were built."""
    if engine.dialect.name != "sqlite":
        return 0
    with engine.begin() as conn:
        present = {
            str(name)
            for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")
        }
        missing = [ix for ix in _deferred_indexes() if ix.name not in present]
        for ix in missing:
            ix.create(conn, checkfirst=True)
    return len(missing)


def _defer_indexes(engine: Engine) -> bool:
    """Drop the deferred indexes when the store holds no posts yet (see the module
    docstring); True when they were dropped."""
    from sqlalchemy import select

    from socialloop.store.schema import posts

    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        if conn.execute(select(posts.c.pk).limit(1)).first() is not None:
            return False
        for ix in _deferred_indexes():
            ix.drop(conn, checkfirst=True)
    return True


class ImportProgress(Protocol):
    """What an import tells a progress display (the CLI draws a Rich bar from it)."""

    def start_file(self, path: str, total_bytes: int | None) -> None: ...

    def advance(self, bytes_done: int, posts: int) -> None: ...

    def end_file(self) -> None: ...


@dataclass(slots=True)
class FileReport:
    path: str
    format: str | None = None
    read: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass(slots=True)
class ImportReport:
    """The summary of one import run."""

    run_id: int
    status: str = "running"
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_path: str | None = None
    files: list[FileReport] = field(default_factory=list)
    first_rejects: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.new + self.updated + self.unchanged

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "read": self.read,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_path": self.rejects_path,
            "files": [
                {
                    "path": f.path,
                    "format": f.format,
                    "read": f.read,
                    "rejected": f.rejected,
                    "error": f.error,
                }
                for f in self.files
            ],
        }


class _RejectSink:
    """Appends rejected records to ``rejects/import-<run>.jsonl``, opened on first use."""

    def __init__(self, directory: Path, run_id: int) -> None:
        self.path = directory / f"import-{run_id}.jsonl"
        self._fh: IO[bytes] | None = None

    def write(self, path: str, line: int, reason: str, raw: str) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("ab")
        record = {"file": path, "line": line, "reason": reason, "raw": raw}
        self._fh.write(orjson.dumps(record) + b"\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    @property
    def used(self) -> bool:
        return self._fh is not None


@dataclass(slots=True)
class _Pending:
    """What the open transaction wrote (counted in the report once it commits)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def posts(self) -> int:
        return self.new + self.updated + self.unchanged


class Importer:
    """One import run into a workspace."""

    def __init__(
        self,
        ws: Workspace,
        *,
        source: str | None = None,
        connector: str = "file",
        files: Sequence[str] = (),
        fmt: str | None = None,
        batch_size: int | None = None,
        bulk: bool = False,
    ) -> None:
        self.ws = ws
        self.store = ws.store
        self.batch_size = batch_size or ws.settings.batch_size
        self.source_id = (
            self.store.ensure_source(source, connector, {}) if source is not None else None
        )
        restore_indexes(self.store.engine)  # left out by a killed bulk import
        self.deferred = bulk and _defer_indexes(self.store.engine)
        self.run_id = self.store.start_run(list(files), fmt, self.source_id)
        self.report = ImportReport(run_id=self.run_id)
        self.rejects = _RejectSink(ws.settings.rejects_path, self.run_id)
        self._batch: list[Post] = []
        self._seen_authors: dict[str, tuple[object, ...]] = {}
        self._roots: dict[str, str] = {}
        self.bulk = bulk
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        # written by the open transaction, counted in the report once it commits
        self._pending = _Pending()

    # -- writing -----------------------------------------------------------------------------

    def add(self, post: Post) -> None:
        self.report.read += 1
        self._batch.append(post)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def reject(self, path: str, line: int, reason: str, raw: str) -> None:
        self.report.rejected += 1
        if len(self.report.first_rejects) < 20:
            self.report.first_rejects.append(f"{path}: {reason}")
        self.rejects.write(path, line, reason, raw)

    def _connection(self) -> Connection:
        """The run's own connection (see the module docstring for its settings)."""
        if self._conn is None:
            conn = self.store.engine.connect()
            if conn.dialect.name == "sqlite":
                raw = conn.connection.driver_connection
                assert raw is not None
                raw.execute("PRAGMA foreign_keys=OFF")
                if self.bulk:
                    raw.execute(f"PRAGMA cache_size=-{_BULK_CACHE_KIB}")
                    raw.execute("PRAGMA temp_store=MEMORY")
            self._conn = conn
        return self._conn

    def _release(self) -> None:
        """Roll back what is not committed and drop the run's connection (its settings are
        the run's own: the connection is discarded, not returned to the pool)."""
        conn, tx, self._conn, self._tx = self._conn, self._tx, None, None
        self._pending = _Pending()
        if conn is None:
            return
        try:
            if tx is not None and tx.is_active:
                tx.rollback()
        finally:
            conn.invalidate()
            conn.close()

    def commit(self) -> None:
        """Commit the open transaction; only then do its posts count in the report."""
        tx = self._tx
        if tx is None:
            return
        from socialloop.errors import StoreError

        try:
            tx.commit()
        except SQLAlchemyError as exc:
            self._release()
            raise StoreError(f"store operation failed: {exc}") from exc
        except BaseException:
            self._release()
            raise
        self._tx = None
        p, r = self._pending, self.report
        r.new += p.new
        r.updated += p.updated
        r.unchanged += p.unchanged
        self._pending = _Pending()

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        from socialloop.errors import StoreError
        from socialloop.store.writer import upsert_posts

        try:
            conn = self._connection()
            if self._tx is None:
                self._tx = conn.begin()
            res = upsert_posts(
                conn,
                batch,
                source_id=self.source_id,
                run_id=self.run_id,
                seen_authors=self._seen_authors,
                roots=self._roots,
            )
            if res.posts:
                self.store.rematch_posts(
                    conn, res.updated_pks, self.ws.match_brands(res.posts), PER_BRAND_STEPS
                )
            p = self._pending
            p.new, p.updated, p.unchanged = (
                p.new + res.new,
                p.updated + res.updated,
                p.unchanged + res.unchanged,
            )
            self.store.update_run(self.run_id, self._counts(), conn=conn)
        except SQLAlchemyError as exc:
            self._release()
            raise StoreError(f"store operation failed: {exc}") from exc
        except BaseException:
            self._release()
            raise
        if not self.bulk or p.posts >= BULK_COMMIT_POSTS:
            self.commit()

    def _counts(self) -> RunCounts:
        """The run's counts, the open transaction's included."""
        r, p = self.report, self._pending
        return RunCounts(
            read=r.read, new=r.new + p.new, updated=r.updated + p.updated, rejected=r.rejected
        )

    def finish(self, status: str = "completed", error: str | None = None) -> ImportReport:
        """Flush, rebuild threads, close the rejects file and record the run's outcome."""
        if status == "completed":
            self.flush()
            self.commit()
        self._release()
        self.store.derive_threads()
        if self.deferred:
            restore_indexes(self.store.engine)
            self.deferred = False
        self.rejects.close()
        self.report.status = status
        if self.rejects.used:
            self.report.rejects_path = str(self.rejects.path)
        self.store.update_run(
            self.run_id,
            self._counts(),
            status=status,
            rejects_path=self.report.rejects_path,
            error=error,
        )
        return self.report

    def abort(self, status: str, error: str | None = None) -> ImportReport:
        """End a run that was interrupted: what was committed stays, the rest is dropped."""
        self._batch = []
        self._release()
        return self.finish(status, error)


def import_posts(
    ws: Workspace,
    posts: Iterable[Post],
    *,
    source: str | None = None,
    connector: str = "simulate",
    on_post: Callable[[int], None] | None = None,
    bulk: bool = False,
) -> ImportReport:
    """Import an iterable of posts (the simulator, a connector page); ``bulk``: see the
    module docstring."""
    imp = Importer(ws, source=source, connector=connector, bulk=bulk)
    with quiet_gc():
        return _import_posts(imp, posts, on_post)


def _import_posts(
    imp: Importer, posts: Iterable[Post], on_post: Callable[[int], None] | None
) -> ImportReport:
    try:
        for i, post in enumerate(posts, 1):
            imp.add(post)
            if on_post is not None and i % 1000 == 0:
                on_post(i)
    except BaseException as exc:
        imp.abort("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed", repr(exc))
        raise
    return imp.finish()


def import_files(
    ws: Workspace,
    paths: Sequence[str | Path],
    *,
    fmt: str = "auto",
    column_map: Mapping[str, str] | None = None,
    source: str | None = None,
    network: str | None = None,
    progress: ImportProgress | None = None,
    bulk: bool | None = None,
) -> ImportReport:
    """Import files; every good record is kept and every bad one reported and written aside.

    ``bulk``: fewer, larger transactions (see the module docstring); by default when the files
    hold ``BULK_AUTO_BYTES`` or more."""
    names = [str(p) for p in paths]
    if bulk is None:
        bulk = _total_bytes(names) >= BULK_AUTO_BYTES
    imp = Importer(ws, source=source, files=names, fmt=fmt, bulk=bulk)
    with quiet_gc():
        return _import_files(imp, names, fmt, column_map, network, progress)


def _total_bytes(names: Sequence[str]) -> int:
    total = 0
    for name in names:
        with suppress(OSError):  # reported when the file is read
            total += Path(name).stat().st_size
    return total


def _import_files(
    imp: Importer,
    names: list[str],
    fmt: str,
    column_map: Mapping[str, str] | None,
    network: str | None,
    progress: ImportProgress | None,
) -> ImportReport:
    from socialloop.errors import SocialloopError
    from socialloop.listen.files import FileReader, Reject

    try:
        for name in names:
            frep = FileReport(path=name)
            imp.report.files.append(frep)
            try:
                reader = FileReader(name, format=fmt, column_map=column_map, network=network)
            except (OSError, SocialloopError) as exc:
                frep.error = str(exc)
                continue
            frep.format = reader.format
            if progress is not None:
                progress.start_file(name, reader.size)
            try:
                for n, item in enumerate(reader):
                    if isinstance(item, Reject):
                        frep.rejected += 1
                        imp.reject(item.path, item.line, item.reason, item.raw)
                    else:
                        frep.read += 1
                        imp.add(item)
                    if progress is not None and n % 2048 == 0:
                        progress.advance(reader.bytes_read, imp.report.read)
            except (OSError, SocialloopError) as exc:
                frep.error = str(exc)
            finally:
                if progress is not None:
                    progress.advance(reader.bytes_read, imp.report.read)
                    progress.end_file()
    except KeyboardInterrupt:
        imp.abort("interrupted", "interrupted by the user")
        raise
    except BaseException as exc:
        imp.abort("failed", repr(exc))
        raise
    report = imp.finish()
    if report.read == 0:
        imp.store.update_run(report.run_id, imp._counts(), status="failed")
        report.status = "failed"
    return report
