"""How searches run at scale: the first page and the count of a compiled query.

A compiled query (``Query.to_sql()``) is a condition on ``posts`` made of *match sets*
(``posts.pk IN (SELECT ... FROM posts_fts / post_terms / post_brands ...)``) and conditions on
``posts`` columns, under ``AND``/``OR``/``NOT``. Left to itself, SQLite drives such a search
from the match sets: it reads the ``posts`` row of every match to sort by ``created_at`` and
keep 50, which costs ~2 us a match (a second for a brand with 200k mentions).

The first page (:func:`newest_pks`) is found from ``ix_posts_created_at`` instead, newest
first: each index entry holds ``(created_at, pk)``, each match set is materialised once, and
the scan stops after ``limit`` hits. That is fast when matches are dense; when they are rare it
would read the whole index, so it first scans a window of the newest ``WINDOW`` entries and,
short of a full page there, goes on with whichever is cheaper for the rest: the sort of the
match set when that set is known to be small (``SORT_MAX``, counted with a cap), else the
index scan. Only the pks come out; the store then reads the rows of the page.

The count (:func:`count_stmt`) of a condition made of match sets only is computed on the pk
sets themselves (``UNION`` / ``INTERSECT`` / ``EXCEPT``), without touching ``posts`` rows. When
some conditions are not match sets but read nothing of ``posts`` except ``pk`` (the per-post
probes of ``lang:``, for example), the count is driven from the positive match sets (a brand's
``post_brands`` rows) and those conditions are checked on their pks, still without reading
``posts`` rows: a language inside a 100k-post brand costs ~0.7 us a brand post, not ~1.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Table,
    and_,
    except_,
    func,
    intersect,
    select,
    true,
    union,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    Grouping,
    UnaryExpression,
)
from sqlalchemy.sql.selectable import Exists, ScalarSelect
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from socialloop.store.schema import posts

WINDOW = 10_000
"""Newest index entries scanned first, whatever the query."""

SORT_MAX = 20_000
"""Largest match set sorted rather than found by the newest-first index scan."""

MATERIALISE_RATIO = 2.0
"""A count's probe is materialised when its set holds at most this many pks per driving pk."""

NEWEST_FIRST = (posts.c.created_at.desc(), posts.c.pk.desc())


def _flatten_and(conds: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for cond in conds:
        cond = _ungroup(cond)
        if isinstance(cond, BooleanClauseList) and cond.operator is operators.and_:
            out.extend(_flatten_and(list(cond.clauses)))
        else:
            out.append(cond)
    return out


def _ungroup(cond: Any) -> Any:
    while isinstance(cond, Grouping):
        cond = cond.element
    return cond


def _is_time_range(cond: ColumnElement[bool]) -> bool:
    return (
        isinstance(cond, BinaryExpression)
        and cond.left is posts.c.created_at
        and cond.operator in (operators.ge, operators.gt, operators.lt, operators.le)
    )


def _match_set(cond: Any) -> tuple[bool, Select[Any]] | None:
    """``(positive, subquery)`` when ``cond`` is ``posts.pk [NOT] IN (subquery)``."""
    cond = _ungroup(cond)
    if (
        isinstance(cond, BinaryExpression)
        and cond.left is posts.c.pk
        and cond.operator in (operators.in_op, operators.not_in_op)
        and isinstance(cond.right, ScalarSelect)
        and isinstance(cond.right.element, Select)
    ):
        return cond.operator is operators.in_op, cond.right.element
    return None


def index_ordered(conds: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """``conds`` rewritten so that SQLite can only use ``created_at`` ranges to find rows:
    every other condition becomes ``(cond) IS 1`` (the same, as conditions are NULL-free),
    which no index serves, so the plan is a newest-first scan of ``ix_posts_created_at``."""
    return [c if _is_time_range(c) else c.is_(true()) for c in _flatten_and(conds)]


def _pks(conn: Connection, conds: Sequence[ColumnElement[bool]], limit: int) -> list[int]:
    stmt = select(posts.c.pk).where(and_(true(), *conds)).order_by(*NEWEST_FIRST).limit(limit)
    return [int(pk) for pk in conn.execute(stmt).scalars()]


def match_bound(conn: Connection, cond: Any, cap: int) -> int | None:
    """An upper bound of the posts matching ``cond`` (``None``: unknown or over ``cap``),
    from the sizes of its match sets, each counted up to ``cap + 1`` rows."""
    cond = _ungroup(cond)
    found = _match_set(cond)
    if found is not None:
        positive, sub = found
        if not positive:
            return None
        n = conn.execute(select(func.count()).select_from(sub.limit(cap + 1).subquery()))
        size = int(n.scalar_one())
        return size if size <= cap else None
    if isinstance(cond, BooleanClauseList) and cond.operator is operators.and_:
        bounds = [b for c in cond.clauses if (b := match_bound(conn, c, cap)) is not None]
        return min(bounds) if bounds else None
    if isinstance(cond, BooleanClauseList) and cond.operator is operators.or_:
        total = 0
        for c in cond.clauses:
            b = match_bound(conn, c, cap - total)
            if b is None:
                return None
            total += b
        return total
    return None


def newest_pks(conn: Connection, conds: Sequence[ColumnElement[bool]], limit: int) -> list[int]:
    """The pks of the ``limit`` newest posts matching every condition of ``conds``, in
    ``created_at DESC, pk DESC`` order."""
    if limit <= 0:
        return []
    ordered = index_ordered(conds)
    boundary = conn.execute(
        select(posts.c.created_at)
        .order_by(posts.c.created_at.desc())
        .limit(1)
        .offset(max(WINDOW, limit) - 1)
    ).scalar_one_or_none()
    if boundary is None:  # a small store: one scan
        return _pks(conn, ordered, limit)
    found = _pks(conn, [*ordered, posts.c.created_at >= boundary], limit)
    if len(found) >= limit:
        return found
    older = posts.c.created_at < boundary
    bound = match_bound(conn, and_(true(), *conds), SORT_MAX) if conds else None
    if bound is not None:  # a small match set: sort it
        rest = _pks(conn, [*conds, older.is_(true())], limit - len(found))
    else:
        rest = _pks(conn, [*ordered, older], limit - len(found))
    return found + rest


def _as_select(stmt: Select[Any] | CompoundSelect[Any]) -> Select[Any]:
    """A compound select wrapped as a plain one: SQLite cannot nest compound selects."""
    if isinstance(stmt, CompoundSelect):
        sub = stmt.subquery()
        return select(sub.c[0])
    return stmt


def pk_set(cond: Any) -> Select[Any] | CompoundSelect[Any] | None:
    """A select of the distinct pks matching ``cond``, computed from the match sets only, or
    ``None`` when ``cond`` looks at ``posts`` columns."""
    cond = _ungroup(cond)
    found = _match_set(cond)
    if found is not None:
        positive, sub = found
        return sub if positive else except_(select(posts.c.pk), sub)
    if isinstance(cond, UnaryExpression) and cond.operator is operators.inv:
        inner = pk_set(cond.element)
        return None if inner is None else except_(select(posts.c.pk), _as_select(inner))
    if isinstance(cond, BooleanClauseList) and cond.operator in (operators.and_, operators.or_):
        parts = [pk_set(c) for c in cond.clauses]
        if any(p is None for p in parts):
            return None
        sels = [_as_select(p) for p in parts if p is not None]
        if len(sels) == 1:
            return sels[0]
        return intersect(*sels) if cond.operator is operators.and_ else union(*sels)
    return None


def _unique_pks(sub: Select[Any]) -> bool:
    """Whether ``sub`` (a match set) returns each pk once: FTS5 rowids do, and so does one
    column of a table whose other primary-key columns the ``WHERE`` fixes with ``=`` (the pks
    of one brand in ``post_brands``, of one term in ``post_terms``)."""
    froms = sub.get_final_froms()
    if len(froms) != 1:
        return False
    table = froms[0]
    if getattr(table, "name", None) in ("posts_fts", "post_search"):
        return True
    selected = list(sub.selected_columns)
    if not isinstance(table, Table):  # a join: no single table's key to reason with
        return False
    key = table.primary_key
    if len(selected) != 1 or sub.whereclause is None:
        return False
    fixed = {
        c.left.key
        for c in _flatten_and([sub.whereclause])
        if isinstance(c, BinaryExpression)
        and c.operator is operators.eq
        and isinstance(c.left, Column)
        and c.left.table is table
        and isinstance(c.right, BindParameter)
    }
    return {c.key for c in key.columns} == fixed | {getattr(selected[0], "key", None)}


def _reads_only_pk(cond: ColumnElement[bool]) -> bool:
    """Whether ``cond`` reads no column of ``posts`` but ``pk``, and only as a correlated
    reference (no subquery selects from ``posts`` itself)."""
    for el in iterate(cond):
        if isinstance(el, Column) and el.table is posts and el is not posts.c.pk:
            return False
        if isinstance(el, Select) and (
            el._correlate  # correlated explicitly: would not follow the swapped pk
            or any(getattr(c, "table", None) is posts for c in el.selected_columns)
        ):
            return False
    return True


def _probe_set(el: Any) -> Select[Any] | None:
    """For ``EXISTS (SELECT * FROM t WHERE t.a = :x AND ... AND t.c = posts.pk)`` (a probe of
    one table by fixed values and the post's pk, like the declared ``lang:``), the same set of
    pks uncorrelated: ``SELECT t.c FROM t WHERE t.a = :x AND ...``; else None."""
    if not isinstance(el, Exists):
        return None
    sel = getattr(el.element, "element", None)
    if not isinstance(sel, Select) or sel.whereclause is None:
        return None
    froms = [f for f in sel.get_final_froms() if f is not posts]
    if len(froms) != 1 or not isinstance(froms[0], Table):
        return None
    table = froms[0]
    link: Column[Any] | None = None
    fixed: list[ColumnElement[bool]] = []
    for c in _flatten_and([sel.whereclause]):
        if not (isinstance(c, BinaryExpression) and c.operator is operators.eq):
            return None
        left, right = c.left, c.right
        if right is posts.c.pk and isinstance(left, Column) and left.table is table:
            if link is not None:
                return None
            link = left
        elif isinstance(left, Column) and left.table is table and isinstance(right, BindParameter):
            fixed.append(c)
        else:
            return None
    if link is None:
        return None
    return select(link).where(*fixed)


def _size(conn: Connection, sel: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(sel.subquery())).scalar_one())


def _larger_than(conn: Connection, sel: Select[Any], cap: int) -> bool:
    """Whether ``sel`` has more than ``cap`` rows (steps over at most ``cap + 1``)."""
    return conn.execute(sel.limit(1).offset(cap)).first() is not None


def _materialise_small_probes(
    conn: Connection, conds: list[ColumnElement[bool]], drive: Select[Any]
) -> list[ColumnElement[bool]]:
    """``conds`` with each probe (see :func:`_probe_set`) whose set is small next to the
    driving set turned into ``pk IN (set)``: SQLite then builds that set once (~0.25 us a
    pk) instead of looking it up for every driving pk (~0.6 us each)."""
    candidates = [el for c in conds for el in iterate(c) if _probe_set(el) is not None]
    if not candidates or any(
        getattr(el, "name", None) in ("posts_fts", "post_search") for el in iterate(drive)
    ):
        # nothing to materialise, or a full-text driving set: sizing it would run the
        # full-text query twice, and its sets are small enough for probes anyway
        return conds
    cap = int(_size(conn, drive) * MATERIALISE_RATIO)
    swaps: dict[int, ColumnElement[bool]] = {}
    for cond in conds:
        for el in iterate(cond):
            found = _probe_set(el)
            if found is not None and id(el) not in swaps and not _larger_than(conn, found, cap):
                swaps[id(el)] = posts.c.pk.in_(found)
    if not swaps:
        return conds

    def swap(element: Any, **_kw: Any) -> Any:
        return swaps.get(id(element))

    opts: dict[str, Any] = {}
    return [replacement_traverse(c, opts, swap) for c in conds]


def _driven_count(
    flat: Sequence[ColumnElement[bool]], conn: Connection | None
) -> Select[Any] | None:
    """The count driven from the positive match sets of ``flat`` (intersected), with every
    other condition checked on their pks; None unless those conditions read only ``pk``.
    With ``conn``, probes of sets small next to the driving set are materialised instead."""
    sets: list[ColumnElement[bool]] = []
    rest: list[ColumnElement[bool]] = []
    for cond in flat:
        found = _match_set(cond)
        (sets if found is not None and found[0] else rest).append(cond)
    if not sets or not rest or not all(_reads_only_pk(c) for c in rest):
        return None
    driver = pk_set(and_(*sets)) if len(sets) > 1 else pk_set(sets[0])
    if driver is None:  # pragma: no cover - positive match sets always give a pk set
        return None
    drive = _as_select(driver)
    if not _unique_pks(drive):
        drive = drive.distinct()
    if conn is not None:
        rest = _materialise_small_probes(conn, rest, drive)
    sub = drive.subquery("m")
    pk = sub.c[0]

    def swap(element: Any, **_kw: Any) -> Any:
        return pk if element is posts.c.pk else None

    opts: dict[str, Any] = {}
    checks = [replacement_traverse(c, opts, swap) for c in rest]
    return select(func.count()).select_from(sub).where(and_(*checks))


def count_stmt(conds: Sequence[ColumnElement[bool]], conn: Connection | None = None) -> Select[Any]:
    """``SELECT count(*)`` of the posts matching every condition of ``conds``.

    The match sets (FTS5 rowids, ``post_terms`` and ``post_brands`` pks) hold each pk once
    and only pks of stored posts, so a condition made of them alone is counted on the sets.
    """
    if not conds:
        return select(func.count()).select_from(posts)
    flat = _flatten_and(conds)
    sets = pk_set(and_(*flat)) if len(flat) > 1 else pk_set(flat[0])
    if isinstance(sets, Select) and not _unique_pks(sets):
        sets = sets.distinct()
    if sets is not None:
        return select(func.count()).select_from(sets.subquery())
    driven = _driven_count(flat, conn)
    if driven is not None:
        return driven
    return select(func.count()).select_from(posts).where(and_(*flat))
