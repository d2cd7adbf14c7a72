"""``parse(text) -> Query``: the public entry point of the query language."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from socialloop.models import Post
from socialloop.query.fields import BUILTIN_FIELDS, FieldRegistry, Predicate
from socialloop.query.matcher import compile_matcher
from socialloop.query.nodes import TEXT_LEAVES, Field, Node, render, walk
from socialloop.query.parser import parse_node
from socialloop.query.sql import SqlContext, compile_sql
from socialloop.query.view import PostView


class Query:
    """A parsed boolean query: its source, AST and the fields it was parsed with.

    Two queries are equal when their ASTs are (``parse("Nike") == parse("nike")``);
    ``str(query)`` is the canonical form, and ``parse(str(q)) == q``.
    """

    __slots__ = ("_predicate", "ast", "fields", "source")

    def __init__(self, source: str, ast: Node, fields: FieldRegistry = BUILTIN_FIELDS) -> None:
        self.source = source
        self.ast = ast
        self.fields = fields
        self._predicate = compile_matcher(ast, self._field_matcher)

    def _field_matcher(self, name: str, value: str) -> Predicate:
        return self.fields[name].matcher(value)

    @property
    def predicate(self) -> Predicate:
        """The compiled in-memory test, taking a :class:`PostView`."""
        return self._predicate

    def matches(self, post: Post | PostView) -> bool:
        """Whether ``post`` matches. Pass a :class:`PostView` to share the tokenisation of one
        post between many queries."""
        view = post if isinstance(post, PostView) else PostView(post)
        return self._predicate(view)

    def to_sql(self, context: SqlContext | None = None) -> ColumnElement[bool]:
        """A condition on ``posts`` (``select(posts).where(q.to_sql())``). The default context
        uses ``socialloop.store.schema`` and SQLite FTS5 (``posts_fts``)."""
        ctx = context if context is not None else SqlContext()
        return compile_sql(self.ast, self._field_sql, ctx)

    def _field_sql(self, name: str, value: str, ctx: SqlContext) -> ColumnElement[bool]:
        return self.fields[name].sql(value, ctx)

    @property
    def fields_used(self) -> frozenset[str]:
        """Names of the field filters in the query (``#tag`` counts as ``hashtag``)."""
        return frozenset(n.name for n in walk(self.ast) if isinstance(n, Field))

    @property
    def uses_text(self) -> bool:
        """Whether any part of the query looks at the post text."""
        return any(isinstance(n, TEXT_LEAVES) for n in walk(self.ast))

    def __str__(self) -> str:
        return render(self.ast)

    def __repr__(self) -> str:
        return f"Query({render(self.ast)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and self.ast == other.ast

    def __hash__(self) -> int:
        return hash(self.ast)


def parse(text: str, fields: FieldRegistry | None = None) -> Query:
    """Parse a boolean query; raises :class:`~socialloop.errors.QueryError` with the column.

    ``fields`` defaults to :data:`BUILTIN_FIELDS`; pass ``BUILTIN_FIELDS.extend(...)`` to add
    field filters.
    """
    registry = fields if fields is not None else BUILTIN_FIELDS
    return Query(text, parse_node(text, registry), registry)
