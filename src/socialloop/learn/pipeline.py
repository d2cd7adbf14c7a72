"""The enrichment pipeline: order steps by what they need, run them over stored posts in
batches (optionally in worker processes), store each result with its step's version, and on
a re-run process only posts that are new or whose step version changed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, select

from socialloop.errors import SocialloopError
from socialloop.learn.base import Enricher, Item, Result
from socialloop.store import Store
from socialloop.store.schema import (
    authors,
    brand_labels,
    enrichments,
    post_brands,
    post_labels,
    posts,
)
from socialloop.store.store import POST_COLUMNS, row_to_post
from socialloop.store.writer import dialect_insert, execute_many

ProgressHook = Callable[[str, int, int], None]  # (step, done, total)

_SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


class PipelineError(SocialloopError):
    """The steps cannot be ordered (a required field nobody produces, or a cycle)."""


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


def _run_step(step: Enricher, batch: list[Item]) -> list[Result]:
    results = step.enrich(batch)
    if len(results) != len(batch):
        raise PipelineError(
            f"step {step.name!r} returned {len(results)} results for {len(batch)} posts"
        )
    return results


class Pipeline:
    """A set of enrichment steps run in dependency order over a store."""

    def __init__(self, steps: Sequence[Enricher]) -> None:
        self.steps = order_steps(steps)

    def pending(self, store: Store, step: Enricher, since: datetime | None = None) -> int:
        """How many posts the step has not processed at its current version."""
        with store.begin() as conn:
            return int(
                conn.execute(select(func.count()).where(self._todo(step, since))).scalar_one()
            )

    @staticmethod
    def _todo(step: Enricher, since: datetime | None) -> Any:
        done = exists().where(
            enrichments.c.post_pk == posts.c.pk,
            enrichments.c.step == step.name,
            enrichments.c.version == step.version,
        )
        cond = ~done
        if since is not None:
            cond = and_(cond, posts.c.created_at >= since.astimezone(UTC).replace(tzinfo=None))
        return cond

    def run(
        self,
        store: Store,
        *,
        since: datetime | None = None,
        batch_size: int = 2000,
        workers: int = 1,
        progress: ProgressHook | None = None,
    ) -> EnrichReport:
        report = EnrichReport()
        brand_ids = {b.name: b.id for b in store.list_brands() if b.id is not None}
        brand_names = {v: k for k, v in brand_ids.items()}
        producer = {f: s.name for s in self.steps for f in s.produces}
        pool: ProcessPoolExecutor | None = None
        if workers > 1:
            saved = {k: os.environ.get(k) for k in _SINGLE_THREAD_ENV}
            os.environ.update(_SINGLE_THREAD_ENV)  # inherited by the workers
            try:
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        try:
            for step in self.steps:
                needs = sorted({producer[f] for f in step.requires})
                srep = StepReport(step.name, step.version)
                report.steps.append(srep)
                total = self.pending(store, step, since)
                started = time.perf_counter()
                in_flight: list[tuple[list[Item], Future[list[Result]]]] = []
                for batch in self._batches(store, step, since, batch_size, needs, brand_names):
                    if pool is None:
                        self._write(store, step, batch, _run_step(step, batch), brand_ids)
                        srep.processed += len(batch)
                    else:
                        in_flight.append((batch, pool.submit(_run_step, step, batch)))
                        if len(in_flight) >= workers * 2:
                            done_batch, fut = in_flight.pop(0)
                            self._write(store, step, done_batch, fut.result(), brand_ids)
                            srep.processed += len(done_batch)
                    if progress is not None:
                        progress(step.name, srep.processed, total)
                for done_batch, fut in in_flight:
                    self._write(store, step, done_batch, fut.result(), brand_ids)
                    srep.processed += len(done_batch)
                srep.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(step.name, srep.processed, total)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        return report

    def _batches(
        self,
        store: Store,
        step: Enricher,
        since: datetime | None,
        size: int,
        needs: Sequence[str],
        brand_names: dict[int, str],
    ) -> Iterator[list[Item]]:
        """Pending posts of a step, in pk order, as Items with their prior values and brands.
        Keyset paging on pk keeps each read cheap, and a batch written meanwhile is not
        read again."""
        last = 0
        while True:
            with store.begin() as conn:
                stmt = (
                    select(*POST_COLUMNS)
                    .select_from(posts.outerjoin(authors, authors.c.id == posts.c.author_id))
                    .where(posts.c.pk > last, self._todo(step, since))
                    .order_by(posts.c.pk)
                    .limit(size)
                )
                rows = list(conn.execute(stmt))
                if not rows:
                    return
                pks = [r.pk for r in rows]
                prior = _prior(conn, pks, needs)
                matched = _brands_of(conn, pks, brand_names)
            last = pks[-1]
            yield [
                Item(
                    pk=r.pk,
                    post=row_to_post(r),
                    prior=prior.get(r.pk, {}),
                    brands=tuple(matched.get(r.pk, ())),
                )
                for r in rows
            ]

    @staticmethod
    def _write(
        store: Store,
        step: Enricher,
        batch: Sequence[Item],
        results: Sequence[Result],
        brand_ids: dict[str, int],
    ) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        pks = [item.pk for item in batch]
        enr_rows: list[dict[str, Any]] = []
        label_rows: list[dict[str, Any]] = []
        brand_rows: list[dict[str, Any]] = []
        for item, res in zip(batch, results, strict=True):
            enr_rows.append(
                {
                    "post_pk": item.pk,
                    "step": step.name,
                    "version": step.version,
                    "data": {
                        **res.values,
                        **({"brands": res.brand_values} if res.brand_values else {}),
                    },
                    "confidence": res.confidence,
                    "updated_at": now,
                }
            )
            for f, label in _labels(res.values, step.produces):
                label_rows.append(
                    {"field": f, "label": label, "post_pk": item.pk, "score": res.confidence}
                )
            for brand, values in res.brand_values.items():
                bid = brand_ids.get(brand)
                if bid is None:
                    continue
                for f, label in _labels(values, step.produces):
                    score = values.get(f"{f}_score")
                    brand_rows.append(
                        {
                            "brand_id": bid,
                            "field": f,
                            "label": label,
                            "post_pk": item.pk,
                            "score": score if isinstance(score, int | float) else None,
                        }
                    )
        with store.begin() as conn:
            _delete_old(conn, pks, step.produces)
            ins = dialect_insert(conn, enrichments)
            execute_many(
                conn,
                ins.on_conflict_do_update(
                    index_elements=[enrichments.c.post_pk, enrichments.c.step],
                    set_={
                        "version": ins.excluded.version,
                        "data": ins.excluded.data,
                        "confidence": ins.excluded.confidence,
                        "updated_at": ins.excluded.updated_at,
                    },
                ),
                enr_rows,
            )
            execute_many(
                conn, dialect_insert(conn, post_labels).on_conflict_do_nothing(), label_rows
            )
            execute_many(
                conn, dialect_insert(conn, brand_labels).on_conflict_do_nothing(), brand_rows
            )


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


def _prior(conn: Connection, pks: Sequence[int], needs: Sequence[str]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not needs:
        return out
    stmt = select(enrichments.c.post_pk, enrichments.c.data).where(
        enrichments.c.post_pk.in_(list(pks)), enrichments.c.step.in_(list(needs))
    )
    for pk, data in conn.execute(stmt):
        out.setdefault(pk, {}).update(data or {})
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
