"""The query AST: small frozen dataclasses, and their canonical text form.

Text leaves hold *folded* tokens (see :func:`socialloop.textutil.tokens`), so two queries that
differ only in case or accents have equal ASTs. ``And`` and ``Or`` are n-ary and never contain a
child of their own type (the parser flattens ``a AND (b AND c)``), so ``parse(str(q)) == q``.

Precedence, tightest first: ``NEAR/n``, ``NOT`` (and ``-``), ``AND`` (explicit or implicit),
``OR``. :func:`render` adds parentheses exactly where that precedence needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Term:
    """One word: matches a token equal to ``word`` (folded)."""

    word: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more words in a row: ``"air max"``."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prefix:
    """A word starting with ``stem``: ``run*`` matches run, runs, running."""

    stem: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A one-word pattern: ``?`` is exactly one character, a trailing ``*`` any (``col?r*``).

    The pattern always starts with at least one literal character.
    """

    pattern: str

    @property
    def stem(self) -> str:
        """The literal characters before the first wildcard (what a prefix index can use)."""
        return self.pattern.split("?", 1)[0].rstrip("*")


NearOperand: TypeAlias = "Term | Phrase | Prefix | Wildcard | Or"


@dataclass(frozen=True, slots=True)
class Near:
    """Operands within ``distance`` tokens of each other, in any order (FTS5 ``NEAR``).

    With M the start of the operand occurrence that starts last, an occurrence of operand ``i``
    starting at ``p`` and ``len`` tokens long is near enough when ``M - p - len <= distance``:
    at most ``distance`` tokens lie between its end and M. For two words that is "at most
    ``distance`` other words between them". An operand may be an ``Or`` of words, phrases and
    wildcards (``(nike OR adidas) NEAR/3 shoe``).
    """

    operands: tuple[NearOperand, ...]
    distance: int


@dataclass(frozen=True, slots=True)
class Field:
    """A field filter, ``name:value``; ``value`` is already normalised by the field."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node: TypeAlias = Term | Phrase | Prefix | Wildcard | Near | Field | And | Or | Not
TextLeaf: TypeAlias = Term | Phrase | Prefix | Wildcard | Near
TEXT_LEAVES = (Term, Phrase, Prefix, Wildcard, Near)

# Characters that end a bare word (or need quoting in a field value).
SPECIAL_CHARS = frozenset(' \t\r\n\f\v()"\\')

_PREC_OR, _PREC_AND, _PREC_NOT, _PREC_NEAR, _PREC_ATOM = range(5)


def is_text(node: Node) -> bool:
    """True when ``node`` looks only at the post text (no field filter anywhere below it)."""
    if isinstance(node, TEXT_LEAVES):
        return True
    if isinstance(node, Not):
        return is_text(node.child)
    if isinstance(node, And | Or):
        return all(is_text(c) for c in node.children)
    return False


def walk(node: Node) -> list[Node]:
    """``node`` and every node below it, depth first."""
    out: list[Node] = [node]
    if isinstance(node, And | Or):
        for child in node.children:
            out.extend(walk(child))
    elif isinstance(node, Not):
        out.extend(walk(node.child))
    elif isinstance(node, Near):
        for op in node.operands:
            out.extend(walk(op))
    return out


def quote(value: str) -> str:
    """``value`` as a query string literal: in double quotes, ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_value(value: str) -> str:
    """A field value as written in a query: bare when that lexes back to the same value."""
    if value and not any(ch in SPECIAL_CHARS or ch.isspace() for ch in value):
        return value
    return quote(value)


def _prec(node: Node) -> int:
    if isinstance(node, Or):
        return _PREC_OR
    if isinstance(node, And):
        return _PREC_AND
    if isinstance(node, Not):
        return _PREC_NOT
    if isinstance(node, Near):
        return _PREC_NEAR
    return _PREC_ATOM


def _wrap(node: Node, min_prec: int) -> str:
    text = render(node)
    return f"({text})" if _prec(node) < min_prec else text


def render(node: Node) -> str:
    """The canonical query text of ``node``."""
    if isinstance(node, Term):
        return node.word
    if isinstance(node, Phrase):
        return quote(" ".join(node.words))
    if isinstance(node, Prefix):
        return node.stem + "*"
    if isinstance(node, Wildcard):
        return node.pattern
    if isinstance(node, Near):
        return f" NEAR/{node.distance} ".join(_wrap(op, _PREC_ATOM) for op in node.operands)
    if isinstance(node, Field):
        value = render_value(node.value)
        if node.name in ("hashtag", "mention") and value == node.value:
            return ("#" if node.name == "hashtag" else "@") + value
        return f"{node.name}:{value}"
    if isinstance(node, And):
        return " AND ".join(_wrap(c, _PREC_AND + 1) for c in node.children)
    if isinstance(node, Or):
        return " OR ".join(_wrap(c, _PREC_OR + 1) for c in node.children)
    return "NOT " + _wrap(node.child, _PREC_NOT)
