"""Query -> in-memory predicate over a :class:`~socialloop.query.view.PostView`.

The AST is compiled once into nested closures. A word is a set lookup, a phrase or prefix a
substring test on the view's space-padded token string (tokens never contain spaces), a ``?``
wildcard one regex search there; only ``NEAR`` looks at token positions, and only after the
cheap presence test passed. ``AND``/``OR`` of plain words become one set operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from socialloop.query.nodes import (
    And,
    Field,
    Near,
    NearOperand,
    Node,
    Not,
    Phrase,
    Prefix,
    Term,
    Wildcard,
)
from socialloop.query.view import PostView

Predicate = Callable[[PostView], bool]
FieldMatcher = Callable[[str, str], Predicate]
# (start, length in tokens) of each occurrence of a NEAR operand.
Occurrences = list[tuple[int, int]]
_NEAR_LEAVES = (Term, Phrase, Prefix, Wildcard)  # what an OR group inside NEAR holds


def _wildcard_body(pattern: str) -> str:
    body = "[^ ]".join(re.escape(part) for part in pattern.removesuffix("*").split("?"))
    return body + "[^ ]*" if pattern.endswith("*") else body


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """A regex finding a token that matches ``pattern`` in a space-padded token string:
    ``?`` is exactly one character, a trailing ``*`` any number."""
    return re.compile(f"(?<= ){_wildcard_body(pattern)}(?= )")


def _presence(node: NearOperand) -> Predicate:
    if isinstance(node, Term):
        word = node.word
        return lambda v: word in v.token_set
    if isinstance(node, Phrase):
        needle = f" {' '.join(node.words)} "
        return lambda v: needle in v.padded
    if isinstance(node, Prefix):
        stem = f" {node.stem}"
        return lambda v: stem in v.padded
    if isinstance(node, Wildcard):
        search = wildcard_regex(node.pattern).search
        return lambda v: search(v.padded) is not None
    alternatives = [_presence(c) for c in node.children if isinstance(c, _NEAR_LEAVES)]
    return lambda v: any(p(v) for p in alternatives)


def _occurrences(node: NearOperand) -> Callable[[PostView], Occurrences]:
    if isinstance(node, Term):
        word = node.word
        return lambda v: [(p, 1) for p in v.positions.get(word, ())]
    if isinstance(node, Phrase):
        words, n = list(node.words), len(node.words)

        def phrase(v: PostView) -> Occurrences:
            toks = v.tokens
            return [(p, n) for p in v.positions.get(words[0], ()) if toks[p : p + n] == words]

        return phrase
    if isinstance(node, Prefix):
        stem = node.stem
        return lambda v: [(i, 1) for i, t in enumerate(v.tokens) if t.startswith(stem)]
    if isinstance(node, Wildcard):
        full = re.compile(_wildcard_body(node.pattern)).fullmatch
        return lambda v: [(i, 1) for i, t in enumerate(v.tokens) if full(t)]
    parts = [_occurrences(c) for c in node.children if isinstance(c, _NEAR_LEAVES)]
    return lambda v: [occ for part in parts for occ in part(v)]


def near_match(operands: list[Occurrences], distance: int) -> bool:
    """FTS5's NEAR rule: some occurrence start M (the latest chosen) such that every operand
    has an occurrence (p, n) with ``M - n - distance <= p <= M``."""
    for m in sorted({p for occ in operands for p, _ in occ}):
        if all(any(m - n - distance <= p <= m for p, n in occ) for occ in operands):
            return True
    return False


def _near(node: Near) -> Predicate:
    present = [_presence(op) for op in node.operands]
    finders = [_occurrences(op) for op in node.operands]
    distance = node.distance

    def match(v: PostView) -> bool:
        for p in present:
            if not p(v):
                return False
        return near_match([f(v) for f in finders], distance)

    return match


def _cost(node: Node) -> int:
    """Rough evaluation cost, to try cheap children of AND/OR first."""
    if isinstance(node, Field | Term):
        return 0
    if isinstance(node, Phrase | Prefix):
        return 1
    if isinstance(node, Wildcard):
        return 2
    if isinstance(node, Not):
        return _cost(node.child)
    if isinstance(node, Near):
        return 4
    return 3


def compile_matcher(node: Node, field_matcher: FieldMatcher) -> Predicate:
    """The predicate for ``node``; ``field_matcher(name, value)`` compiles field filters."""
    if isinstance(node, Term | Phrase | Prefix | Wildcard):
        return _presence(node)
    if isinstance(node, Near):
        return _near(node)
    if isinstance(node, Field):
        return field_matcher(node.name, node.value)
    if isinstance(node, Not):
        inner = compile_matcher(node.child, field_matcher)
        return lambda v: not inner(v)
    children = sorted(node.children, key=_cost)
    words = frozenset(c.word for c in children if isinstance(c, Term))
    preds = [compile_matcher(c, field_matcher) for c in children if not isinstance(c, Term)]
    if isinstance(node, And):
        if len(words) > 1 or (words and not preds):
            preds.insert(0, lambda v: words <= v.token_set)
        elif words:
            preds.insert(0, _presence(Term(next(iter(words)))))
        if len(preds) == 1:
            return preds[0]

        def all_of(v: PostView) -> bool:
            for p in preds:  # noqa: SIM110 - a plain loop is faster than all() here
                if not p(v):
                    return False
            return True

        return all_of
    if words:
        preds.insert(0, lambda v: not words.isdisjoint(v.token_set))
    if len(preds) == 1:
        return preds[0]

    def any_of(v: PostView) -> bool:
        for p in preds:  # noqa: SIM110 - a plain loop is faster than any() here
            if p(v):
                return True
        return False

    return any_of
