"""The enrichment pipeline: order steps by what they need, read stored posts in batches, have
the steps run on each (``learn.batch_run``, in this process or in worker processes), store each
result with its step's version, and on a re-run process only posts that are new, whose step
version changed, or whose required inputs changed in the same pass.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, select

from socialloop.errors import SocialloopError
from socialloop.learn.base import PER_BRAND_STEPS, Enricher
from socialloop.learn.batch_run import (
    Batch,
    Done,
    PipelineError,
    init_worker,
    run_in_worker,
    run_steps,
    worker_ready,
)
from socialloop.runtime import quiet_gc
from socialloop.store import Store, enrich_rows
from socialloop.store.enrich_rows import StoredRow
from socialloop.store.rows import as_utc, do_nothing, upsert_rows
from socialloop.store.schema import (
    authors,
    brand_labels,
    brands,
    embeddings,
    post_brands,
    post_labels,
    posts,
)
from socialloop.store.store import post_columns, row_to_post

ProgressHook = Callable[[str, int, int], None]  # (step, done, total)

_SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def order_steps(steps: Sequence[Enricher]) -> list[Enricher]:
    """Steps in an order where each runs after the steps producing what it requires."""
    producer: dict[str, Enricher] = {}
    for step in steps:
        for f in step.produces:
            if f in producer:
                raise PipelineError(
                    f"field {f!r} is produced by both {producer[f].name!r} and {step.name!r}"
                )
            producer[f] = step
    ordered: list[Enricher] = []
    state: dict[str, str] = {}

    def visit(step: Enricher, chain: tuple[str, ...]) -> None:
        if state.get(step.name) == "done":
            return
        if state.get(step.name) == "visiting":
            raise PipelineError(f"steps require each other in a cycle: {' -> '.join(chain)}")
        state[step.name] = "visiting"
        for need in step.requires:
            if need not in producer:
                raise PipelineError(
                    f"step {step.name!r} requires {need!r}, which no selected step produces; "
                    "add the step that produces it"
                )
            visit(producer[need], (*chain, producer[need].name))
        state[step.name] = "done"
        ordered.append(step)

    for step in steps:
        visit(step, (step.name,))
    return ordered


@dataclass(slots=True)
class StepReport:
    name: str
    version: str
    processed: int = 0
    seconds: float = 0.0

    @property
    def posts_per_s(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class EnrichReport:
    steps: list[StepReport] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return sum(s.processed for s in self.steps)


def _labels(values: dict[str, Any], produces: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Label rows of produced fields: a string value is one label, a list of strings many."""
    for f in produces:
        v = values.get(f)
        if isinstance(v, str):
            yield f, v
        elif isinstance(v, list | tuple):
            for x in v:
                if isinstance(x, str):
                    yield f, x


class Pipeline:
    """A set of enrichment steps run in dependency order over a store, in one pass: each
    batch of posts is read once, every step that is due runs on it, and all results are
    written in one transaction."""

    def __init__(self, steps: Sequence[Enricher]) -> None:
        self.steps = order_steps(steps)

    def _todo(self, since: datetime | None, steps: Sequence[Enricher] | None = None) -> Any:
        """Posts some step has not processed at its current version."""
        chosen = steps if steps is not None else self.steps
        cond = ~enrich_rows.done(posts.c.pk, {s.name: s.version for s in chosen})
        if since is not None:
            cond = and_(cond, posts.c.created_at >= since.astimezone(UTC).replace(tzinfo=None))
        return cond

    def pending(self, store: Store, step: Enricher, since: datetime | None = None) -> int:
        """How many posts the step has not processed at its current version."""
        with store.begin() as conn:
            stmt = select(func.count()).select_from(posts).where(self._todo(since, [step]))
            return int(conn.execute(stmt).scalar_one())

    def run(
        self,
        store: Store,
        *,
        since: datetime | None = None,
        batch_size: int = 2000,
        workers: int = 1,
        progress: ProgressHook | None = None,
    ) -> EnrichReport:
        report = EnrichReport([StepReport(s.name, s.version) for s in self.steps])
        by_name = {r.name: r for r in report.steps}
        if not self.steps:
            return report
        listed = [b for b in store.list_brands() if b.id is not None]
        brands_before = {b.id: (b.name, b.updated_at) for b in listed if b.id is not None}
        brand_ids = {b.name: b.id for b in listed if b.id is not None}
        brand_names = {v: k for k, v in brand_ids.items()}
        totals = {s.name: self.pending(store, s, since) for s in self.steps}
        produces = {s.name: s.produces for s in self.steps}
        versions = {s.name: s.version for s in self.steps}

        def finish(done: Done) -> None:
            self._write(store, done, produces, versions, brands_before)
            for name, pks, _res in done.results:
                by_name[name].processed += len(pks)
                by_name[name].seconds += done.seconds.get(name, 0.0)
            if progress is not None:
                for s in self.steps:
                    progress(s.name, by_name[s.name].processed, totals[s.name])

        pool: ProcessPoolExecutor | None = None
        if workers > 1:
            saved = {k: os.environ.get(k) for k in _SINGLE_THREAD_ENV}
            os.environ.update(_SINGLE_THREAD_ENV)  # inherited by the workers
            try:
                # each worker gets the steps once and keeps them (loaded models, memos);
                # the workers start now, while the single-thread environment is set
                pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=get_context("spawn"),
                    initializer=init_worker,
                    initargs=(list(self.steps),),
                )
                for started in [pool.submit(worker_ready) for _ in range(workers)]:
                    started.result()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        try:
            with quiet_gc():
                self._loop(store, since, batch_size, brand_names, pool, workers, finish)
        except BaseException:
            # an interrupted or failed run wrote its earlier batches, which may have
            # overwritten a brand's stale marks too (the original error is the one raised)
            with suppress(SocialloopError):
                self._rescore_changed_brands(store, brands_before)
            raise
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._rescore_changed_brands(store, brands_before)
        return report

    def _rescore_changed_brands(
        self, store: Store, before: dict[int, tuple[str, datetime | None]]
    ) -> None:
        """Brands added or changed while this run went on (``brand add`` / ``edit`` in another
        process) marked their posts' per-brand results stale, and this run's writes, made
        without those brands, overwrote the marks: mark them again, so the next enrichment
        scores the posts toward the brands (``Store.mark_unscored``)."""
        steps = [s.name for s in self.steps if s.name in PER_BRAND_STEPS]
        if not steps:
            return
        changed = [
            b.id
            for b in store.list_brands()
            if b.id is not None and before.get(b.id) != (b.name, b.updated_at)
        ]
        if changed:
            store.mark_unscored(changed, steps)

    def _loop(
        self,
        store: Store,
        since: datetime | None,
        batch_size: int,
        brand_names: dict[int, str],
        pool: ProcessPoolExecutor | None,
        workers: int,
        finish: Callable[[Done], None],
    ) -> None:
        """Every batch through the steps (here or in the pool), each result written in turn."""
        in_flight: list[Future[Done]] = []
        for batch in self._batches(store, since, batch_size, brand_names):
            if pool is None:
                finish(run_steps(self.steps, batch))
                continue
            in_flight.append(pool.submit(run_in_worker, batch))
            if len(in_flight) >= workers * 2:
                finish(in_flight.pop(0).result())
        for fut in in_flight:
            finish(fut.result())

    def _batches(
        self, store: Store, since: datetime | None, size: int, brand_names: dict[int, str]
    ) -> Iterator[Batch]:
        """Posts some step still has to process, in pk order (keyset paging), with what is
        stored for them and their brands."""
        last = 0
        names = [s.name for s in self.steps]
        post_row: Any = None  # the namedtuple class of a selected row
        while True:
            with store.begin() as conn:
                stmt = (
                    select(*post_columns(conn.dialect.name == "sqlite"))
                    .select_from(posts.outerjoin(authors, authors.c.id == posts.c.author_id))
                    .where(posts.c.pk > last, self._todo(since))
                    .order_by(posts.c.pk)
                    .limit(size)
                )
                result = conn.execute(stmt)
                # plain named tuples: row_to_post reads ~28 fields by name, several times
                # faster on a namedtuple than on SQLAlchemy's Row
                if post_row is None:
                    post_row = _named_rows(list(result.keys()))
                if conn.dialect.name == "sqlite":
                    # the raw columns need no result processing: the driver's tuples as they
                    # are, without a Row made for each first
                    fetched = result.cursor.fetchall()
                    result.close()
                else:
                    fetched = result.fetchall()
                rows = [post_row._make(r) for r in fetched]
                if not rows:
                    return
                pks = [r.pk for r in rows]
                stored = _stored(conn, pks, names)
                matched = _brands_of(conn, pks, brand_names)
            last = pks[-1]
            yield Batch([(r.pk, row_to_post(r)) for r in rows], stored, matched)

    @staticmethod
    def _write(
        store: Store,
        done: Done,
        produces: dict[str, tuple[str, ...]],
        versions: dict[str, str],
        brands_before: dict[int, tuple[str, datetime | None]],
    ) -> None:
        """All results of one batch in one transaction: one write per table (every step's
        rows together), rows built as tuples holding what the driver binds
        (:func:`socialloop.store.rows.row_codec`). Labels go only toward the brands the run
        began with that are unchanged (:func:`_unchanged_brands`)."""
        with store.begin() as conn:
            enrich_rows.lock(conn)  # first: no other writer merges into these rows meanwhile
            brand_ids = _unchanged_brands(conn, brands_before)
            stamp = datetime.now(UTC)
            # per post: each step's version, values and confidence (enrich_rows.StoredRow)
            vers: dict[int, dict[str, str]] = {}
            datas: dict[int, dict[str, Any]] = {}
            confs: dict[int, dict[str, float]] = {}
            label_rows: list[tuple[Any, ...]] = []
            brand_rows: list[tuple[Any, ...]] = []
            vectors: list[tuple[Any, ...]] = []
            for name, pks, results in done.results:
                fields = produces[name]
                version = versions[name]
                _delete_old(conn, done.redo.get(name, []), fields)
                for pk, res in zip(pks, results, strict=True):
                    values = data = res.values
                    if "embedding" in values:
                        vector = values["embedding"]
                        if isinstance(vector, (bytes, bytearray)):
                            # vectors go to the embeddings table, not into JSON
                            blob = bytes(vector)
                            model = str(values.get("embedding_model"))
                            vectors.append((pk, model, len(blob) // 2, blob))
                            data = {k: v for k, v in values.items() if k != "embedding"}
                    brand_values = res.brand_values
                    if brand_values:
                        data = {**data, "brands": brand_values}
                    try:
                        vers[pk][name] = version
                        datas[pk][name] = data
                    except KeyError:
                        vers[pk] = {name: version}
                        datas[pk] = {name: data}
                        confs[pk] = {}
                    score = res.confidence
                    if score is not None:
                        confs[pk][name] = float(score)  # a step may give numpy floats
                    for f in fields:
                        v = values.get(f)
                        if v.__class__ is str:
                            label_rows.append((f, v, pk, score))
                        elif isinstance(v, (str, list, tuple)):
                            label_rows.extend(_label_rows(f, v, pk, score))
                    for brand, bvalues in brand_values.items():
                        bid = brand_ids.get(brand)
                        if bid is None:
                            continue
                        for f, label in _labels(bvalues, fields):
                            bscore = bvalues.get(f"{f}_score")
                            brand_rows.append(
                                (
                                    bid,
                                    f,
                                    label,
                                    pk,
                                    bscore if isinstance(bscore, int | float) else None,
                                )
                            )
            fresh = {pk: StoredRow(v, datas[pk], confs[pk]) for pk, v in vers.items()}
            enrich_rows.merge_results(conn, fresh, stamp)
            _write_rows(conn, "post_labels", label_rows)
            _write_rows(conn, "brand_labels", brand_rows)
            _write_rows(conn, "embeddings", vectors)


def _unchanged_brands(
    conn: Connection, before: dict[int, tuple[str, datetime | None]]
) -> dict[str, int]:
    """Name -> id of the brands in ``before`` (the run's start: id -> (name, updated_at)) that
    are unchanged now. A brand edited or removed since gets no labels from results computed
    without the change (a renamed brand's would be toward its old name; a removed one's would
    break the write); its matched posts stay unscored, and the run marks them to be scored
    again when it ends (:meth:`Pipeline._rescore_changed_brands`)."""
    if not before:
        return {}
    rows = conn.execute(select(brands.c.id, brands.c.name, brands.c.updated_at))
    now = {bid: (name, as_utc(at)) for bid, name, at in rows}
    return {name: bid for bid, (name, at) in before.items() if now.get(bid) == (name, at)}


def _label_rows(
    f: str, v: str | list[Any] | tuple[Any, ...], pk: int, score: float | None
) -> list[tuple[str, str, int, float | None]]:
    """post_labels rows of one value: a string is one label, a list of strings many."""
    if isinstance(v, str):
        return [(f, v, pk, score)]
    return [(f, x, pk, score) for x in v if isinstance(x, str)]


# Per written table: its columns in the order the pipeline builds each row's tuple.
_COLUMNS: dict[str, tuple[Table, tuple[str, ...]]] = {
    "post_labels": (post_labels, ("field", "label", "post_pk", "score")),
    "brand_labels": (brand_labels, ("brand_id", "field", "label", "post_pk", "score")),
    "embeddings": (embeddings, ("post_pk", "model", "dim", "vector")),
}


def _conflict(name: str, ins: Any) -> Any:
    """The conflict rule of table ``name``'s upsert, applied to ``ins``: a re-run replaces a
    step's enrichment and a post's vector; labels already stored stay."""
    if name == "embeddings":  # one vector per post
        return ins.on_conflict_do_update(
            index_elements=[embeddings.c.post_pk],
            set_={
                "model": ins.excluded.model,
                "dim": ins.excluded.dim,
                "vector": ins.excluded.vector,
            },
        )
    return do_nothing(ins)


def _write_rows(conn: Connection, name: str, rows: list[tuple[Any, ...]]) -> None:
    """Write ``rows`` (tuples in :data:`_COLUMNS` order) to table ``name``
    (:func:`socialloop.store.rows.upsert_rows`: the driver's executemany on SQLite, COPY for a
    big batch on PostgreSQL)."""
    if rows:
        table, keys = _COLUMNS[name]
        upsert_rows(conn, table, keys, rows, partial(_conflict, name))


def _named_rows(keys: Sequence[str]) -> Any:
    """A namedtuple class with these fields (built at run time, hence typed Any)."""
    make: Any = namedtuple
    return make("_PostRow", keys)


def _delete_old(conn: Connection, pks: Sequence[int], fields: Sequence[str]) -> None:
    for i in range(0, len(pks), 500):
        chunk = list(pks[i : i + 500])
        conn.execute(
            delete(post_labels).where(
                post_labels.c.post_pk.in_(chunk), post_labels.c.field.in_(list(fields))
            )
        )
        conn.execute(
            delete(brand_labels).where(
                brand_labels.c.post_pk.in_(chunk), brand_labels.c.field.in_(list(fields))
            )
        )


def _stored(
    conn: Connection, pks: Sequence[int], steps: Sequence[str]
) -> dict[int, dict[str, tuple[str, dict[str, Any]]]]:
    """Per post, per step of ``steps`` with a stored result: (its version, its values)."""
    out: dict[int, dict[str, tuple[str, dict[str, Any]]]] = {}
    for pk, row in enrich_rows.stored_rows(conn, pks).items():
        mine = {
            step: (version, row.data.get(step) or {})
            for step, version in row.versions.items()
            if step in steps
        }
        if mine:
            out[pk] = mine
    return out


def _brands_of(conn: Connection, pks: Sequence[int], names: dict[int, str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    stmt = select(post_brands.c.post_pk, post_brands.c.brand_id).where(
        post_brands.c.post_pk.in_(list(pks))
    )
    for pk, bid in conn.execute(stmt):
        if bid in names:
            out.setdefault(pk, []).append(names[bid])
    return out


__all__ = ["EnrichReport", "Pipeline", "PipelineError", "StepReport", "order_steps"]
