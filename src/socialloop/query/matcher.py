"""Query -> in-memory predicate over a :class:`~socialloop.query.view.PostView`.

The AST is compiled once into nested closures. A word is a set lookup, a phrase or prefix a
substring test on the view's space-padded token string (tokens never contain spaces), a ``?``
wildcard one regex search there; only ``NEAR`` looks at token positions, and only after the
cheap presence test passed. ``AND``/``OR`` of plain words become one set operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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


# -- prefilter --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Needles:
    """A necessary condition for a query to match a post: if the query matches, then some
    ``text`` needle is a substring of ``fold(post.text)``, or the post has one of the
    ``hashtags`` / ``mentions`` (stored forms). Lets a stream skip most posts without
    tokenising them; a post that passes is still matched by the full predicate."""

    text: frozenset[str] = frozenset()
    hashtags: frozenset[str] = frozenset()
    mentions: frozenset[str] = frozenset()

    def __or__(self, other: Needles) -> Needles:
        return Needles(
            self.text | other.text,
            self.hashtags | other.hashtags,
            self.mentions | other.mentions,
        )


# field name -> "hashtag" / "mention" when the field is that builtin fact, else None
FieldKind = Callable[[str], str | None]


def needles(node: Node, field_kind: FieldKind) -> Needles | None:
    """The :class:`Needles` of ``node``, or None when no such condition is known (``NOT``,
    other fields, a wildcard without literal text): such a query must see every post.

    Sound because every token is a substring of the folded text (tokens are cut from it), so a
    word, phrase, prefix or wildcard literal that the matcher finds among the tokens is in the
    folded text too."""
    if isinstance(node, Term):
        return Needles(text=frozenset([node.word])) if node.word else None
    if isinstance(node, Phrase):
        word = max(node.words, key=len, default="")
        return Needles(text=frozenset([word])) if word else None
    if isinstance(node, Prefix):
        return Needles(text=frozenset([node.stem])) if node.stem else None
    if isinstance(node, Wildcard):
        part = max(re.split(r"[?*]", node.pattern), key=len)
        return Needles(text=frozenset([part])) if part else None
    if isinstance(node, Field):
        kind = field_kind(node.name)
        if kind == "hashtag":
            return Needles(hashtags=frozenset([node.value]))
        if kind == "mention":
            return Needles(mentions=frozenset([node.value]))
        return None
    if isinstance(node, Not):
        return None
    if isinstance(node, Near | And):
        # every operand / child must match: any one child's needles will do (the fewest)
        kids = node.operands if isinstance(node, Near) else node.children
        found = [n for c in kids if (n := needles(c, field_kind)) is not None]
        if not found:
            return None
        return min(found, key=lambda n: len(n.text) + len(n.hashtags) + len(n.mentions))
    # Or: some child matches, so the union of every child's needles
    out = Needles()
    for child in node.children:
        n = needles(child, field_kind)
        if n is None:
            return None
        out = out | n
    return out
