"""The SQLite FTS5 text-search backend.

A text subtree becomes ``posts.pk IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH :q)``
with ``:q`` a bound FTS5 expression (every token a quoted FTS5 string, ``"`` doubled). ``NOT``
has a *polarity*: FTS5 only knows binary ``a NOT b``, so ``NOT a`` alone compiles to
``posts.pk NOT IN (...)`` and ``a OR NOT b`` to ``NOT IN (b NOT a)``; any tree of words,
phrases, prefixes and NEAR groups is one MATCH.

``?`` wildcards are beyond FTS5: a leaf that has one is found by its prefix (``col?r`` ->
``"col"*``, a superset at the same positions) and checked exactly by the SQL function
``socialloop_text_match`` (see ``register_sqlite_functions``). ``NEAR`` operands that are
``OR`` groups are expanded (``(a OR b) NEAR/2 c`` -> ``NEAR(a c, 2) OR NEAR(b c, 2)``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy import column as sa_column

from socialloop.query.nodes import (
    And,
    Near,
    NearOperand,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    Wildcard,
    render,
)
from socialloop.query.sql import TEXT_MATCH_FUNCTION, SqlContext


def fts_string(text: str) -> str:
    """An FTS5 string literal."""
    return '"' + text.replace('"', '""') + '"'


def _has_wildcard(node: Node) -> bool:
    if isinstance(node, Wildcard):
        return True
    if isinstance(node, Near):
        return any(_has_wildcard(op) for op in node.operands)
    if isinstance(node, Or):  # an OR group inside NEAR
        return any(_has_wildcard(c) for c in node.children)
    return False


def _exact(node: Node) -> bool:
    """True when FTS5 alone answers ``node`` exactly."""
    if isinstance(node, Not):
        return _exact(node.child)
    if isinstance(node, And | Or):
        return all(_exact(c) for c in node.children)
    return not _has_wildcard(node)


def _join(op: str, exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f" {op} ".join(f"({e})" for e in exprs)


def _operand_alternatives(op: NearOperand, loose: bool) -> list[str]:
    if isinstance(op, Or):
        return [
            alt
            for child in op.children
            if isinstance(child, Term | Phrase | Prefix | Wildcard)
            for alt in _operand_alternatives(child, loose)
        ]
    if isinstance(op, Term):
        return [fts_string(op.word)]
    if isinstance(op, Phrase):
        return [fts_string(" ".join(op.words))]
    if isinstance(op, Prefix):
        return [fts_string(op.stem) + "*"]
    if isinstance(op, Wildcard) and loose:
        return [fts_string(op.stem) + "*"]
    raise ValueError(f"FTS5 cannot express {render(op)!r} exactly")  # pragma: no cover


def near_expression(node: Near, *, loose: bool = False) -> str:
    """``NEAR(...)`` groups for ``node``, OR-ed when an operand is an OR group. ``loose``
    replaces ``?`` wildcards by their prefix (a superset)."""
    choices = [_operand_alternatives(op, loose) for op in node.operands]
    groups = [f"NEAR({' '.join(combo)}, {node.distance})" for combo in itertools.product(*choices)]
    return _join("OR", groups)


def leaf_expression(node: Term | Phrase | Prefix | Wildcard | Near, *, loose: bool = False) -> str:
    if isinstance(node, Term):
        return fts_string(node.word)
    if isinstance(node, Phrase):
        return fts_string(" ".join(node.words))
    if isinstance(node, Prefix | Wildcard):
        if isinstance(node, Wildcard) and not loose:
            raise ValueError("a ? wildcard needs an exact check")  # pragma: no cover
        return fts_string(node.stem) + "*"
    return near_expression(node, loose=loose)


def fts_expression(node: Node) -> tuple[bool, str]:
    """``(positive, expr)``: the posts matching ``node`` are those matching the FTS5 expression
    ``expr`` when ``positive``, else those *not* matching it. ``node`` must be exact."""
    if isinstance(node, Not):
        positive, expr = fts_expression(node.child)
        return not positive, expr
    if isinstance(node, And | Or):
        parts = [fts_expression(c) for c in node.children]
        pos = [e for p, e in parts if p]
        neg = [e for p, e in parts if not p]
        if isinstance(node, And):
            if not pos:  # NOT a AND NOT b == NOT (a OR b)
                return False, _join("OR", neg)
            expr = _join("AND", pos)
            return True, f"({expr}) NOT ({_join('OR', neg)})" if neg else expr
        if not neg:
            return True, _join("OR", pos)
        expr = _join("AND", neg)  # NOT a OR NOT b OR c == NOT ((a AND b) NOT c)
        return False, f"({expr}) NOT ({_join('OR', pos)})" if pos else expr
    if isinstance(node, Term | Phrase | Prefix | Wildcard | Near):
        return True, leaf_expression(node)
    raise TypeError(f"not a text node: {node!r}")  # pragma: no cover


@dataclass(frozen=True)
class Fts5Backend:
    """SQLite FTS5 over an external-content table keyed by ``posts.pk``."""

    fts_table: str = "posts_fts"

    def match(self, expr: str, ctx: SqlContext, *, positive: bool = True) -> ColumnElement[bool]:
        """``posts.pk [NOT] IN (SELECT rowid FROM <fts> WHERE <fts> MATCH :expr)``."""
        fts = table(self.fts_table, sa_column("rowid"))
        cond = literal_column(self.fts_table).op("MATCH")(bindparam(None, expr, type_=String))
        sub = select(fts.c.rowid).where(cond)
        pk = ctx.posts.c.pk
        return pk.in_(sub) if positive else pk.not_in(sub)

    def text_condition(self, node: Node, ctx: SqlContext) -> ColumnElement[bool]:
        if _exact(node):
            positive, expr = fts_expression(node)
            return self.match(expr, ctx, positive=positive)
        if isinstance(node, Not):
            return not_(self.text_condition(node.child, ctx))
        if isinstance(node, And | Or):
            exact = [c for c in node.children if _exact(c)]
            parts: list[ColumnElement[bool]] = []
            if exact:
                group: Node = exact[0] if len(exact) == 1 else type(node)(tuple(exact))
                parts.append(self.text_condition(group, ctx))
            parts.extend(self.text_condition(c, ctx) for c in node.children if not _exact(c))
            return and_(*parts) if isinstance(node, And) else or_(*parts)
        if isinstance(node, Wildcard | Near):
            # Candidates from the index, then the exact check in Python.
            loose = self.match(leaf_expression(node, loose=True), ctx)
            check = func.coalesce(
                getattr(func, TEXT_MATCH_FUNCTION)(ctx.posts.c.text, render(node)), 0
            )
            return and_(loose, check == 1)
        raise TypeError(f"not a text node: {node!r}")  # pragma: no cover

    def glob(self, column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        # In GLOB, '[' opens a character class: write a literal one as '[[]'.
        return column.op("GLOB")(pattern.replace("[", "[[]"))
