"""The ``enrichments`` table: one row per post, holding per enrichment step the version that
produced the post's stored result, the result's values and its confidence (three JSON objects
keyed by step name: ``versions``, ``data``, ``confidence``).

One row per post rather than one per (post, step): a first enrichment writes a seventh of the
rows (the step results of a post are merged before they are written), which took about 0.8 CPU
seconds off every 100,000 posts (docs/benchmarks.md, "Eighth session"). Everything that reads
or changes the table goes through here, on SQLite and PostgreSQL alike:

- :func:`done` / :func:`has_any`: conditions on a post's stored versions, for queries;
- :func:`stored_rows`: the stored maps of some posts (:func:`step_results`: every stored
  result, one per post and step, for inspection);
- :func:`merge_results`: fresh step results merged into the stored rows (other steps' results
  kept), in the caller's transaction, which :func:`lock` opened;
- :func:`mark_stale`: steps' stored results marked to be redone (their version emptied);
- :func:`drop_step`: one step's results removed from every row (a topic rebuild).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Select,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from socialloop.store.rows import chunks, one_writer, row_codec, upsert_rows
from socialloop.store.schema import enrichments

#: The version a stored result gets when it must be redone (no step has it).
STALE_VERSION = ""

#: The PostgreSQL advisory lock that makes the writers merging results run one at a time.
LOCK_KEY = 0x534C_0003

_KEYS = ("post_pk", "versions", "data", "confidence", "updated_at")


@dataclass(slots=True)
class StoredRow:
    """What is stored for one post: per step, its version, values and confidence."""

    versions: dict[str, str]
    data: dict[str, dict[str, Any]]
    confidence: dict[str, float]


def version_of(step: str) -> ColumnElement[Any]:
    """The stored version of ``step``'s result, as text (NULL when the step has none)."""
    version: ColumnElement[Any] = enrichments.c.versions[step].as_string()
    return version


def done(pk: ColumnElement[Any], versions: Mapping[str, str]) -> ColumnElement[bool]:
    """EXISTS: the post ``pk`` has stored results of every step in ``versions`` at exactly
    that version (negate it for the posts some step still has to process)."""
    conds = [version_of(step) == version for step, version in versions.items()]
    return exists().where(enrichments.c.post_pk == pk, *conds)


def has_any(pk: ColumnElement[Any], steps: Sequence[str]) -> ColumnElement[bool]:
    """EXISTS: the post ``pk`` has a stored result (any version) of one of ``steps``."""
    return exists().where(
        enrichments.c.post_pk == pk, or_(*[version_of(s).is_not(None) for s in steps])
    )


def stored_rows(
    conn: Connection, pks: Sequence[int], *, for_update: bool = False
) -> dict[int, StoredRow]:
    """The stored row of each of ``pks`` that has one (``for_update``: locked until the
    transaction ends, on PostgreSQL; SQLite's write lock covers the whole database)."""
    out: dict[int, StoredRow] = {}
    if conn.dialect.name == "sqlite":
        # the driver's own query and orjson: this runs twice per pipeline batch, and a built
        # IN (...) expression with JSON result processing cost ~7 ms per 500 posts
        loads = orjson.loads
        for chunk in chunks(pks, 999):
            marks = ",".join("?" * len(chunk))
            rows = conn.exec_driver_sql(
                "SELECT post_pk, versions, data, confidence FROM enrichments"
                f" WHERE post_pk IN ({marks})",
                tuple(chunk),
            )
            for pk, versions, data, conf in rows:
                out[pk] = StoredRow(loads(versions), loads(data), loads(conf))
        return out
    stmt = _select_rows().where(enrichments.c.post_pk.in_(bindparam("pks", expanding=True)))
    if for_update:
        stmt = stmt.with_for_update()
    for chunk in chunks(pks):
        for pk, versions, data, conf in conn.execute(stmt, {"pks": list(chunk)}):
            out[pk] = StoredRow(versions or {}, data or {}, conf or {})
    return out


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step's stored result on one post (a row of the table before migration 0012)."""

    post_pk: int
    step: str
    version: str
    data: dict[str, Any]
    confidence: float | None


def step_results(conn: Connection) -> list[StepResult]:
    """Every stored step result, by post then step (for inspection and tests)."""
    out: list[StepResult] = []
    for pk, versions, data, conf in conn.execute(_select_rows().order_by(enrichments.c.post_pk)):
        for step in sorted(versions or {}):
            out.append(
                StepResult(
                    pk, step, versions[step], (data or {}).get(step) or {}, (conf or {}).get(step)
                )
            )
    return out


def _select_rows() -> Select[Any]:
    """The table's rows: pk and the three step maps."""
    c = enrichments.c
    return select(c.post_pk, c.versions, c.data, c.confidence)


def lock(conn: Connection) -> None:
    """Begin a transaction that merges results (:func:`merge_results`) by taking the lock that
    keeps two such writers from reading the same rows before either writes them back (the
    second would overwrite the first's results): on SQLite the database's write lock (taken
    now, so the rows are read after any other writer committed), on PostgreSQL the advisory
    lock :data:`LOCK_KEY`. Call it first in the transaction."""
    if conn.dialect.name == "sqlite":
        # a write statement that changes nothing: it opens the write transaction
        conn.exec_driver_sql("UPDATE enrichments SET post_pk = post_pk WHERE 0")
    else:
        one_writer(conn, LOCK_KEY)


def merge_results(
    conn: Connection,
    fresh: Mapping[int, StoredRow],
    stamp: datetime,
) -> None:
    """Write each post's fresh step results (``fresh``: pk -> the steps just run) over what
    is stored for it: the other steps' stored results stay. Read and written in the caller's
    transaction, begun with :func:`lock`; on PostgreSQL the rows read are locked too, so a
    concurrent :func:`mark_stale` applies after this write instead of being overwritten."""
    if not fresh:
        return
    dt_out, js_out = row_codec(conn)
    when = dt_out(stamp)
    old = stored_rows(conn, list(fresh), for_update=True)
    rows: list[tuple[Any, ...]] = []
    encoded: dict[tuple[tuple[str, str], ...], Any] = {}  # the posts of a batch share versions
    for pk, new in fresh.items():
        was = old.get(pk)
        if was is None:
            key = tuple(new.versions.items())
            versions = encoded.get(key)
            if versions is None:
                versions = encoded[key] = js_out(new.versions)
            rows.append((pk, versions, js_out(new.data), js_out(new.confidence), when))
            continue
        rows.append(
            (
                pk,
                js_out({**was.versions, **new.versions}),
                js_out({**was.data, **new.data}),
                js_out({**was.confidence, **new.confidence}),
                when,
            )
        )
    upsert_rows(conn, enrichments, _KEYS, rows, _replace)


def _replace(ins: Any) -> Any:
    """The conflict rule of :func:`merge_results`: the merged row replaces the stored one."""
    return ins.on_conflict_do_update(
        index_elements=[enrichments.c.post_pk],
        set_={k: ins.excluded[k] for k in _KEYS[1:]},
    )


def _patched(conn: Connection, column: Any, patch: Mapping[str, Any]) -> Any:
    """``column`` (a JSON object) with the keys of ``patch`` set."""
    text = orjson.dumps(dict(patch)).decode("utf-8")
    if conn.dialect.name == "postgresql":
        return cast(cast(column, JSONB).op("||")(cast(literal(text), JSONB)), JSON)
    return func.json_patch(column, text)


def _without(conn: Connection, column: Any, key: str) -> Any:
    """``column`` (a JSON object) without ``key``."""
    if conn.dialect.name == "postgresql":
        return cast(cast(column, JSONB).op("-")(literal(key)), JSON)
    return func.json_remove(column, '$."' + key.replace('"', '\\"') + '"')


def mark_stale(conn: Connection, steps: Sequence[str], *where: ColumnElement[bool]) -> None:
    """Mark the stored results of ``steps`` on the rows matching ``where`` as to be redone:
    their version becomes :data:`STALE_VERSION` (their values stay until the step runs). A
    row gets no version for a step it holds no result of."""
    for step in dict.fromkeys(steps):  # one statement per step: only the rows that have it
        conn.execute(
            update(enrichments)
            .where(version_of(step).is_not(None), *where)
            .values(versions=_patched(conn, enrichments.c.versions, {step: STALE_VERSION}))
        )


def drop_step(conn: Connection, step: str) -> None:
    """Remove ``step``'s stored result from every row that has one."""
    conn.execute(
        update(enrichments)
        .where(version_of(step).is_not(None))
        .values(
            versions=_without(conn, enrichments.c.versions, step),
            data=_without(conn, enrichments.c.data, step),
            confidence=_without(conn, enrichments.c.confidence, step),
        )
    )


__all__ = [
    "LOCK_KEY",
    "STALE_VERSION",
    "StepResult",
    "StoredRow",
    "done",
    "drop_step",
    "has_any",
    "lock",
    "mark_stale",
    "merge_results",
    "step_results",
    "stored_rows",
    "version_of",
]
