"""LISTEN live: poll the sources' connectors, store what they return, enrich it.

For each source: ``connector.fetch(checkpoint)`` yields pages; every item is mapped
(``map_all``: the item's post and the posts embedded in it); the page's posts, their brand
matches, the run's counts and the page's checkpoint are written in ONE transaction (the
importer's write path, ``store.writer.upsert_posts`` + ``Workspace.match_brands``). A crash
therefore resumes after the last stored page, with no gap and no duplicate. Items that cannot
be mapped are rejected with their reason into ``rejects/import-<run>.jsonl``, as imports do; a
source whose network fails (``ConnectorError``: bad credentials, endpoint gone, changed payload,
rate limited, unavailable) is recorded as failed and the other sources still run.
After a source's run, :func:`after_ingest` gets the pks of the posts it wrote (new or
changed): it enriches them (and is where inbox triage plugs in).

Stopping: ``should_stop`` is checked between pages (the CLI sets it on the first Ctrl-C);
``KeyboardInterrupt`` keeps the committed pages and marks the run interrupted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import httpx
import orjson

from socialloop.errors import (
    ConnectorError,
    InvalidValue,
    NotFound,
    RecordError,
    SocialloopError,
)
from socialloop.learn.base import PER_BRAND_STEPS
from socialloop.listen.connectors import open_connector
from socialloop.listen.connectors.base import Bad
from socialloop.listen.importer import Importer
from socialloop.listen.sources import Source, get_source, list_sources, record_outcome
from socialloop.listen.sources import save_checkpoint as _save_checkpoint
from socialloop.models import Post
from socialloop.workspace import Workspace

__all__ = [
    "ListenProgress",
    "SourceReport",
    "after_ingest",
    "listen",
    "listen_once",
    "parse_interval",
]

RAW_LIMIT = 2000
"""Rejected items are written to the rejects file cut to this many characters."""


@dataclass(slots=True)
class SourceReport:
    """What one source's run did."""

    name: str
    connector: str
    status: str = "running"  # ok | error | interrupted | failed
    run_id: int | None = None
    pages: int = 0
    items: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    requests: int = 0
    waited: float = 0.0
    seconds: float = 0.0
    error: str | None = None
    error_kind: str | None = None  # the error's class: BadCredentials, EndpointGone, ...
    enrich_error: str | None = None  # after_ingest failed (the posts are stored all the same)
    rejects_path: str | None = None
    first_rejects: list[str] = field(default_factory=list)
    post_pks: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "post_pks"}


class ListenProgress(Protocol):
    """What a run tells a display (the CLI draws Rich lines from it)."""

    def start_source(self, source: Source) -> None: ...

    def page(self, report: SourceReport) -> None: ...

    def end_source(self, report: SourceReport) -> None: ...


def parse_interval(text: str) -> float:
    """Seconds of ``30s``, ``5m``, ``1h``, ``1d`` or a bare number of seconds."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(value[-1:])
    number = value[:-1] if scale is not None else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise InvalidValue(f"interval {text!r} is not a duration like 30s, 5m, 1h or 1d") from None
    if seconds <= 0:
        raise InvalidValue(f"interval {text!r} must be positive")
    return seconds


def after_ingest(workspace: Workspace, post_pks: Sequence[int]) -> None:
    """What happens to posts a live run just wrote (new or changed): they are enriched, then
    triaged into the inbox.

    The pipeline processes every post not yet enriched at each step's current version, which
    includes ``post_pks``; triage then looks at exactly these posts."""
    if not post_pks:
        return
    with workspace.enrichment() as pipeline:  # kept by the workspace: models stay loaded
        pipeline.run(workspace.store, workers=workspace.settings.workers)
    from socialloop.engage.triage import triage_posts
    from socialloop.web.rollups import refresh_overview

    refresh_overview(workspace, post_pks)  # the dashboard overview's days these posts fall on

    triage_posts(workspace, post_pks)


class _PageWriter(Importer):
    """The importer's write path, one transaction per page including the checkpoint."""

    def write_page(self, posts: Sequence[Post], checkpoint: Mapping[str, Any]) -> list[int]:
        from socialloop.store.writer import UpsertResult, upsert_posts

        assert self.source_id is not None
        self.report.read += len(posts)
        with self.store.begin() as conn:
            res = (
                upsert_posts(
                    conn,
                    posts,
                    source_id=self.source_id,
                    run_id=self.run_id,
                    seen_authors=self._seen_authors,
                )
                if posts
                else UpsertResult()
            )
            if res.posts:
                self.store.rematch_posts(
                    conn, res.updated_pks, self.ws.match_brands(res.posts), PER_BRAND_STEPS
                )
            counts = self._counts()
            counts.new += res.new
            counts.updated += res.updated
            self.store.update_run(self.run_id, counts, conn=conn)
            _save_checkpoint(conn, self.source_id, checkpoint)
        self.report.new += res.new
        self.report.updated += res.updated
        self.report.unchanged += res.unchanged
        return [pk for pk, _post in res.posts]


def _raw_text(raw: Any) -> str:
    try:
        text = orjson.dumps(raw, default=str).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        text = repr(raw)
    return text[:RAW_LIMIT]


@dataclass(slots=True)
class _Env:
    transport: httpx.BaseTransport | None
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    rng: random.Random | None
    environ: Mapping[str, str] | None
    progress: ListenProgress | None
    should_stop: Callable[[], bool]


def _run_source(ws: Workspace, src: Source, env: _Env) -> SourceReport:
    report = SourceReport(src.name, src.connector)
    started = time.monotonic()
    if env.progress is not None:
        env.progress.start_source(src)
    try:
        connector, http = open_connector(
            src.connector,
            src.config,
            source=src.name,
            transport=env.transport,
            sleep=env.sleep,
            clock=env.clock,
            rng=env.rng,
            environ=env.environ,
        )
    except InvalidValue as exc:  # a config that no longer validates, an unset variable
        report.status, report.error, report.error_kind = "error", str(exc), "InvalidValue"
        record_outcome(ws.store, src.id, "error", str(exc))
        if env.progress is not None:
            env.progress.end_source(report)
        return report
    writer = _PageWriter(
        ws, source=src.name, connector=src.connector, files=[f"{src.connector}:{src.name}"]
    )
    report.run_id = writer.run_id
    where = f"{src.connector}:{src.name}"
    stopped = False
    try:
        for page in connector.fetch(src.checkpoint):
            posts: list[Post] = []
            for raw in page.items:
                report.items += 1
                try:
                    mapped = connector.map_all(raw)
                except Exception as exc:  # a bad item never stops the run
                    reason = (
                        str(exc)
                        if isinstance(exc, RecordError)
                        else f"unexpected item shape ({type(exc).__name__}: {exc})"
                    )
                    writer.reject(
                        where, report.items, f"item {report.items}: {reason}", _raw_text(raw)
                    )
                    continue
                for entry in mapped:
                    if isinstance(entry, Bad):
                        writer.reject(
                            where,
                            report.items,
                            f"item {report.items}: {entry.reason}",
                            _raw_text(entry.item),
                        )
                    else:
                        posts.append(entry)
            report.post_pks.extend(writer.write_page(posts, page.checkpoint))
            report.pages += 1
            _sync(report, writer, http.requests, http.waited)
            if env.progress is not None:
                env.progress.page(report)
            if not page.more:
                break
            if env.should_stop():
                stopped = True
                break
        report.status = "interrupted" if stopped else "ok"
        writer.finish("completed" if report.status == "ok" else "interrupted")
    except ConnectorError as exc:
        report.status, report.error = "error", str(exc)
        report.error_kind = type(exc).__name__
        writer.abort("failed", str(exc))
    except KeyboardInterrupt:
        report.status, report.error = "interrupted", "interrupted by the user"
        writer.abort("interrupted", report.error)
        record_outcome(ws.store, src.id, report.status, report.error)
        raise
    except BaseException as exc:
        report.status, report.error = "failed", repr(exc)
        writer.abort("failed", repr(exc))
        record_outcome(ws.store, src.id, "error", repr(exc))
        raise
    finally:
        http.close()
        _sync(report, writer, http.requests, http.waited)
        report.seconds = time.monotonic() - started
    record_outcome(ws.store, src.id, "ok" if report.status == "ok" else report.status, report.error)
    if env.progress is not None:
        env.progress.end_source(report)
    return report


def _sync(report: SourceReport, writer: _PageWriter, requests: int, waited: float) -> None:
    r = writer.report
    report.new, report.updated, report.unchanged = r.new, r.updated, r.unchanged
    report.rejected = r.rejected
    report.first_rejects = list(r.first_rejects)
    report.rejects_path = r.rejects_path
    report.requests, report.waited = requests, waited


def _chosen(ws: Workspace, names: Iterable[str]) -> list[Source]:
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return [s for s in list_sources(ws.store) if s.live and s.enabled]
    chosen = []
    for name in wanted:
        src = get_source(ws.store, name)
        if not src.live:
            raise NotFound(
                f"source {name!r} has connector {src.connector!r}, which is not a live "
                "connector (it was filled by an import or the simulator)"
            )
        chosen.append(src)
    return chosen


def listen_once(
    ws: Workspace,
    names: Iterable[str] = (),
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    environ: Mapping[str, str] | None = None,
    progress: ListenProgress | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    enrich: bool = True,
) -> list[SourceReport]:
    """Poll each source once (all enabled live sources when ``names`` is empty)."""
    env = _Env(transport, sleep, clock, rng, environ, progress, should_stop)
    reports: list[SourceReport] = []
    for src in _chosen(ws, names):
        if should_stop():
            break
        report = _run_source(ws, src, env)
        reports.append(report)
        if enrich and report.post_pks:
            try:
                after_ingest(ws, report.post_pks)
            except (SocialloopError, ImportError) as exc:  # the posts are stored regardless
                report.enrich_error = str(exc)
    return reports


def listen(
    ws: Workspace,
    names: Iterable[str] = (),
    *,
    every: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    should_stop: Callable[[], bool] = lambda: False,
    on_cycle: Callable[[list[SourceReport]], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    max_cycles: int | None = None,
    **kwargs: Any,
) -> int:
    """Poll every ``every`` seconds until ``should_stop`` (or ``max_cycles``); returns the
    number of cycles run. Waiting is done in steps of at most a second, so a stop request
    is seen quickly. With ``on_error``, an unexpected error in a cycle (a bug, the store
    unreachable) is handed to it and the next cycle runs; without, it propagates."""
    names = list(names)
    cycles = 0
    while not should_stop():
        started = clock()
        try:
            reports = listen_once(
                ws, names, sleep=sleep, clock=clock, should_stop=should_stop, **kwargs
            )
        except Exception as exc:  # a long-running poller reports and tries again next time
            if on_error is None:
                raise
            on_error(exc)
            reports = []
        cycles += 1
        if on_cycle is not None:
            on_cycle(reports)
        if max_cycles is not None and cycles >= max_cycles:
            break
        deadline = started + every
        while not should_stop():
            left = deadline - clock()
            if left <= 0:
                break
            sleep(min(left, 1.0))
    return cycles
