"""Import posts into a workspace: files (any format ``listen.files`` reads) or any iterable of
Posts (the simulator, connectors).

Posts are written in batches, one transaction each: upsert, facets, interactions, full-text
rows and brand matches commit together, so a crash or Ctrl-C leaves the store consistent and
running the same import again completes it without duplicates. Bad records are reported
(file, line, reason) and appended to a rejects file; they never stop the good ones.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import orjson

from socialloop.models import Post
from socialloop.store import RunCounts
from socialloop.workspace import Workspace


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


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Fewer cyclic garbage collections while importing: an import allocates millions of
    short-lived objects without cycles, and every gen-2 collection would walk the whole heap
    (the frozen part: what existed before the import). Restored on exit."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


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
    ) -> None:
        self.ws = ws
        self.store = ws.store
        self.batch_size = batch_size or ws.settings.batch_size
        self.source_id = (
            self.store.ensure_source(source, connector, {}) if source is not None else None
        )
        self.run_id = self.store.start_run(list(files), fmt, self.source_id)
        self.report = ImportReport(run_id=self.run_id)
        self.rejects = _RejectSink(ws.settings.rejects_path, self.run_id)
        self._batch: list[Post] = []
        self._seen_authors: dict[str, tuple[object, ...]] = {}

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

    def flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        from socialloop.store.writer import upsert_posts

        with self.store.begin() as conn:
            res = upsert_posts(
                conn,
                batch,
                source_id=self.source_id,
                run_id=self.run_id,
                seen_authors=self._seen_authors,
            )
            if res.posts:
                self.store.clear_matches(conn, res.updated_pks)
                self.store.add_matches(conn, self.ws.match_brands(res.posts))
            counts = self._counts()
            counts.new += res.new
            counts.updated += res.updated
            self.store.update_run(self.run_id, counts, conn=conn)
        # only once the batch is committed
        self.report.new += res.new
        self.report.updated += res.updated
        self.report.unchanged += res.unchanged

    def _counts(self) -> RunCounts:
        r = self.report
        return RunCounts(read=r.read, new=r.new, updated=r.updated, rejected=r.rejected)

    def finish(self, status: str = "completed", error: str | None = None) -> ImportReport:
        """Flush, rebuild threads, close the rejects file and record the run's outcome."""
        if status == "completed":
            self.flush()
        self.store.derive_threads()
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
        return self.finish(status, error)


def import_posts(
    ws: Workspace,
    posts: Iterable[Post],
    *,
    source: str | None = None,
    connector: str = "simulate",
    on_post: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an iterable of posts (the simulator, a connector page)."""
    imp = Importer(ws, source=source, connector=connector)
    with _quiet_gc():
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
) -> ImportReport:
    """Import files; every good record is kept and every bad one reported and written aside."""
    names = [str(p) for p in paths]
    imp = Importer(ws, source=source, files=names, fmt=fmt)
    with _quiet_gc():
        return _import_files(imp, names, fmt, column_map, network, progress)


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
