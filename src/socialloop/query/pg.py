"""The PostgreSQL text-search backend, and the index rows it searches.

The store keeps one ``post_search`` row per post (created by migration ``0001_initial`` on
PostgreSQL, fed by the writer through :func:`index_texts`): ``tokens``, the folded words the
in-memory matcher sees (``textutil.tokens``) joined by single spaces, and ``tsv``, the same
words with their positions as a ``tsvector`` literal under a GIN index. Building both from the
matcher's own tokens (never PostgreSQL's parser or dictionaries) makes the results the same as
the matcher's and SQLite FTS5's: case and accents folded, word boundaries identical, no stop
words, no stemming.

A text subtree becomes ``posts.pk IN (SELECT post_pk FROM post_search WHERE tsv @@ :q)`` with
``:q`` a ``tsquery`` literal: words ``'w'``, prefixes ``'w':*``, phrases ``'a' <-> 'b'``,
``AND``/``OR``/``NOT`` as ``&``/``|``/``!``. ``?`` wildcards are found by their prefix and
checked exactly with a regular expression on ``tokens``. ``NEAR/N`` of two operands that are
words, prefixes or OR groups of them is exact (``a <k> b`` or ``b <k> a`` for ``k <= N + 1``,
``N`` up to 100); other ``NEAR`` groups (phrases or ``?`` wildcards as operands, three or more
operands, larger ``N``) match when every operand occurs, proximity unchecked: a documented
superset (docs/postgres.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql

from socialloop.query.matcher import wildcard_regex as _python_wildcard_regex
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
)
from socialloop.query.sql import SqlContext
from socialloop.textutil import tokens

MAX_POSITION = 16383
"""The largest position a ``tsvector`` records (later words share it)."""
MAX_POSITIONS_PER_WORD = 256
MAX_EXACT_NEAR_DISTANCE = 100
"""``NEAR/N`` spells out ``2N + 3`` distances; beyond this N it is checked as presence only."""
MAX_LEXEME_BYTES = 2046
"""Longer words are left out of ``tsv`` (PostgreSQL's limit); ``tokens`` keeps them."""

post_search = Table(
    "post_search",
    MetaData(),
    Column("post_pk", postgresql.BIGINT, primary_key=True),
    Column("tokens", Text, nullable=False),
    Column("tsv", postgresql.TSVECTOR, nullable=False),
)
"""The index table (PostgreSQL only; not part of ``store.schema``, like SQLite's
``posts_fts``)."""


def _quote(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(words: Sequence[str]) -> str:
    """The ``tsvector`` input text for ``words`` in order (1-based positions)."""
    positions: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        if len(word.encode("utf-8")) > MAX_LEXEME_BYTES:
            continue
        found = positions.setdefault(word, [])
        pos = min(i + 1, MAX_POSITION)
        if len(found) < MAX_POSITIONS_PER_WORD and (not found or found[-1] != pos):
            found.append(pos)
    return " ".join(f"{_quote(w)}:{','.join(map(str, p))}" for w, p in positions.items())


def index_texts(conn: Connection, rows: Sequence[tuple[int, str]]) -> None:
    """Write (or rewrite) the ``post_search`` rows of ``(post pk, text)`` pairs (through COPY
    for a big batch, see :mod:`socialloop.store.pg_copy`)."""
    if not rows:
        return
    from socialloop.store.pg_copy import copy_upsert, worth_copying

    values: list[tuple[int, str, str]] = []
    for pk, text in rows:
        words = tokens(text)
        values.append((pk, " ".join(words), tsvector_literal(words)))

    def replace(ins: Any) -> Any:
        return ins.on_conflict_do_update(
            index_elements=[post_search.c.post_pk],
            set_={"tokens": ins.excluded.tokens, "tsv": ins.excluded.tsv},
        )

    if worth_copying(conn, len(values)):
        # COPY parses the tsvector literal with the column's own input function
        copy_upsert(conn, post_search, ("post_pk", "tokens", "tsv"), values, replace)
        return
    ins = postgresql.insert(post_search).values(
        post_pk=bindparam("pk"),
        tokens=bindparam("toks"),
        tsv=cast(bindparam("tsv", type_=String), postgresql.TSVECTOR),
    )
    stmt = replace(ins)
    params = [{"pk": pk, "toks": toks, "tsv": tsv} for pk, toks, tsv in values]
    for i in range(0, len(params), 1000):
        conn.execute(stmt, params[i : i + 1000])


# -- queries ------------------------------------------------------------------------------------


def _operand(node: NearOperand) -> str | None:
    """The tsquery of a NEAR operand that is one token wide (None: it is not)."""
    if isinstance(node, Term):
        return _quote(node.word)
    if isinstance(node, Prefix):
        return _quote(node.stem) + ":*"
    if isinstance(node, Or):
        parts = [_operand(c) if isinstance(c, Term | Prefix | Or) else None for c in node.children]
        if any(p is None for p in parts):
            return None
        return "(" + " | ".join(p for p in parts if p is not None) + ")"
    return None


def _presence(node: NearOperand) -> str:
    """A tsquery true when ``node`` occurs somewhere (exact except for ``?`` wildcards, which
    give their prefix: a superset)."""
    if isinstance(node, Term):
        return _quote(node.word)
    if isinstance(node, Phrase):
        return "(" + " <-> ".join(_quote(w) for w in node.words) + ")"
    if isinstance(node, Prefix):
        return _quote(node.stem) + ":*"
    if isinstance(node, Wildcard):
        return _quote(node.stem) + ":*"
    alts = [c for c in node.children if isinstance(c, Term | Phrase | Prefix | Wildcard | Or)]
    return "(" + " | ".join(_presence(c) for c in alts) + ")"


def near_tsquery(node: Near) -> tuple[bool, str]:
    """``(exact, q)``: a tsquery for ``node``; when not ``exact`` it is a superset (every
    operand present)."""
    ops = [_operand(op) for op in node.operands]
    exact = len(ops) == 2 and node.distance <= MAX_EXACT_NEAR_DISTANCE
    if exact and ops[0] is not None and ops[1] is not None:
        a, b = ops
        alts = [f"{a} <{k}> {b}" for k in range(node.distance + 2)]
        alts += [f"{b} <{k}> {a}" for k in range(1, node.distance + 2)]
        return True, "(" + " | ".join(f"({x})" for x in alts) + ")"
    return False, "(" + " & ".join(_presence(op) for op in node.operands) + ")"


def _exact(node: Node) -> bool:
    if isinstance(node, Not):
        return _exact(node.child)
    if isinstance(node, And | Or):
        return all(_exact(c) for c in node.children)
    if isinstance(node, Wildcard):
        return False
    if isinstance(node, Near):
        return near_tsquery(node)[0]
    return True


def tsquery(node: Node) -> str:
    """The ``tsquery`` literal for an exact text tree (see :func:`_exact`)."""
    if isinstance(node, Not):
        return f"!({tsquery(node.child)})"
    if isinstance(node, And | Or):
        op = " & " if isinstance(node, And) else " | "
        return "(" + op.join(tsquery(c) for c in node.children) + ")"
    if isinstance(node, Near):
        return near_tsquery(node)[1]
    if isinstance(node, Term | Phrase | Prefix | Wildcard):
        return _presence(node)
    raise TypeError(f"not a text node: {node!r}")  # pragma: no cover


def wildcard_regex(node: Wildcard) -> str:
    """A regex finding a token matching ``node`` in ``' ' || tokens || ' '`` (the matcher's
    own; PostgreSQL's regular expressions read its lookaround and escapes the same way)."""
    return _python_wildcard_regex(node.pattern).pattern


@dataclass(frozen=True)
class PgBackend:
    """PostgreSQL full-text search over ``post_search`` (see the module docstring)."""

    def _match(self, ctx: SqlContext, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
        sub = select(post_search.c.post_pk).where(and_(*conds))
        return ctx.posts.c.pk.in_(sub)

    @staticmethod
    def _ts(query: str) -> ColumnElement[bool]:
        q = cast(bindparam(None, query, type_=String), postgresql.TSQUERY)
        return post_search.c.tsv.op("@@")(q)

    def text_condition(self, node: Node, ctx: SqlContext) -> ColumnElement[bool]:
        if _exact(node):
            return self._match(ctx, self._ts(tsquery(node)))
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
        if isinstance(node, Wildcard):
            padded = literal(" ") + post_search.c.tokens + literal(" ")
            check = padded.op("~")(bindparam(None, wildcard_regex(node), type_=String))
            return self._match(ctx, self._ts(_presence(node)), check)
        if isinstance(node, Near):
            return self._match(ctx, self._ts(near_tsquery(node)[1]))
        raise TypeError(f"not a text node: {node!r}")  # pragma: no cover

    def glob(self, column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")
