"""The boolean query language: which posts mention a brand, and search.

``parse(text) -> Query``; ``query.matches(post)`` tests a post in memory (streams),
``query.to_sql()`` gives the same answer as a SQLAlchemy condition over the store (search).
One AST (:mod:`~socialloop.query.nodes`), a hand-written lexer and recursive-descent parser, and
two evaluators built from it. See docs/query-language.md for the language itself.
"""

from __future__ import annotations

from socialloop.errors import QueryError
from socialloop.query.api import Query, parse
from socialloop.query.fields import BUILTIN_FIELDS, FieldDef, FieldRegistry
from socialloop.query.fts5 import Fts5Backend
from socialloop.query.nodes import (
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
    Wildcard,
)
from socialloop.query.sql import SqlContext, TextSearchBackend, register_sqlite_functions
from socialloop.query.view import PostView

__all__ = [
    "BUILTIN_FIELDS",
    "And",
    "Field",
    "FieldDef",
    "FieldRegistry",
    "Fts5Backend",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "PostView",
    "Prefix",
    "Query",
    "QueryError",
    "SqlContext",
    "Term",
    "TextSearchBackend",
    "Wildcard",
    "parse",
    "register_sqlite_functions",
]
