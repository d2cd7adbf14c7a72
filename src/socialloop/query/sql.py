"""Query -> SQLAlchemy condition over ``posts`` (search in the store).

Field filters compile to conditions on indexed columns of ``posts`` and on ``post_terms``; text
conditions go to a :class:`TextSearchBackend`. The compiler hands the backend *maximal* text
subtrees (every text child of an ``AND``/``OR`` together), so a backend can answer
``(nike OR adidas) AND NOT fake`` with one full-text lookup. :class:`~socialloop.query.fts5.
Fts5Backend` (SQLite FTS5) and :class:`~socialloop.query.pg.PgBackend` (PostgreSQL) implement it;
:func:`backend_for` picks one by dialect name. Every condition is NULL-free, so ``NOT`` means
"does not match".

Queries with ``?`` wildcards need :func:`register_sqlite_functions` on every SQLite connection
(the FTS5 backend checks them exactly with a Python function).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, and_, not_, or_

from socialloop.query.nodes import And, Field, Node, Not, Or, is_text

TEXT_MATCH_FUNCTION = "socialloop_text_match"
"""SQL function ``socialloop_text_match(text, query) -> 0/1``: the in-memory matcher on a text."""


class TextSearchBackend(Protocol):
    """How one SQL dialect searches post text."""

    def text_condition(self, node: Node, ctx: SqlContext) -> ColumnElement[bool]:
        """A NULL-free condition on ``ctx.posts`` true when the post text matches ``node`` (a
        tree of text leaves under ``And``/``Or``/``Not``, see ``nodes.is_text``)."""
        ...

    def glob(self, column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        """``column`` matches ``pattern``: ``*`` any run, ``?`` one character, case-sensitive."""
        ...


def _default_backend() -> TextSearchBackend:
    from socialloop.query.fts5 import Fts5Backend

    return Fts5Backend()


def backend_for(dialect: str) -> TextSearchBackend:
    """The text-search backend for a SQLAlchemy dialect name (``engine.dialect.name``)."""
    if dialect == "postgresql":
        from socialloop.query.pg import PgBackend

        return PgBackend()
    return _default_backend()


# The store's tables are imported on first use: importing the query language stays light.
def _posts() -> Table:
    from socialloop.store.schema import posts

    return posts


def _post_terms() -> Table:
    from socialloop.store.schema import post_terms

    return post_terms


@dataclass(frozen=True)
class SqlContext:
    """What a compiled query refers to: the tables (``socialloop.store.schema`` by default)
    and the text-search backend (SQLite FTS5 by default)."""

    posts: Table = field(default_factory=_posts)
    post_terms: Table = field(default_factory=_post_terms)
    backend: TextSearchBackend = field(default_factory=_default_backend)


FieldSql = Callable[[str, str, SqlContext], ColumnElement[bool]]


def compile_sql(node: Node, field_sql: FieldSql, ctx: SqlContext) -> ColumnElement[bool]:
    """The condition for ``node``; ``field_sql(name, value, ctx)`` compiles field filters."""
    if is_text(node):
        return ctx.backend.text_condition(node, ctx)
    if isinstance(node, Field):
        return field_sql(node.name, node.value, ctx)
    if isinstance(node, Not):
        return not_(compile_sql(node.child, field_sql, ctx))
    if isinstance(node, And | Or):
        text = [c for c in node.children if is_text(c)]
        rest = [c for c in node.children if not is_text(c)]
        parts: list[ColumnElement[bool]] = []
        if len(text) == 1:
            parts.append(ctx.backend.text_condition(text[0], ctx))
        elif text:
            group: Node = And(tuple(text)) if isinstance(node, And) else Or(tuple(text))
            parts.append(ctx.backend.text_condition(group, ctx))
        parts.extend(compile_sql(c, field_sql, ctx) for c in rest)
        return and_(*parts) if isinstance(node, And) else or_(*parts)
    raise TypeError(f"not a query node: {node!r}")  # pragma: no cover


def register_sqlite_functions(dbapi_connection: sqlite3.Connection, cache_size: int = 256) -> None:
    """Register ``socialloop_text_match(text, query)`` on a sqlite3 connection.

    Call it on every connection (e.g. from a SQLAlchemy ``connect`` event). The function parses
    ``query`` (text conditions only), keeps up to ``cache_size`` compiled queries for this
    connection and returns 1 when ``text`` matches, else 0 (0 for NULL).
    """
    from socialloop.query.api import parse
    from socialloop.query.view import PostView

    compiled: dict[str, Callable[[PostView], bool]] = {}

    def text_match(text: str | None, query: str | None) -> int:
        if text is None or query is None:
            return 0
        matcher = compiled.get(query)
        if matcher is None:
            if len(compiled) >= cache_size:
                compiled.clear()
            matcher = compiled[query] = parse(query).predicate
        return 1 if matcher(PostView(text=text)) else 0

    dbapi_connection.create_function(TEXT_MATCH_FUNCTION, 2, text_match, deterministic=True)
