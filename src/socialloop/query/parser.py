"""Recursive-descent parser: tokens -> AST.

Grammar (tightest binding last)::

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          adjacent operands are AND-ed
    unary   := ("NOT" | "-") unary | near
    near    := primary ("NEAR/n" primary)*     one distance per chain
    primary := WORD | PHRASE | PHRASE~n | FIELD | NAME:( value (OR value)* ) | "(" or ")"

Words become :class:`Term` (one token), :class:`Phrase` (a word with inner punctuation such as
``e-mail`` is the phrase "e mail", as in FTS5), :class:`Prefix` (``run*``) or
:class:`Wildcard` (``col?r``). Errors are :class:`~socialloop.errors.QueryError` with the
1-based column.
"""

from __future__ import annotations

import difflib
import math

from socialloop.errors import QueryError
from socialloop.query.fields import FieldDef, FieldRegistry
from socialloop.query.lexer import Kind, Token, lex
from socialloop.query.nodes import (
    And,
    Field,
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
from socialloop.textutil import fold, is_word, tokens

MAX_NEAR_EXPANSION = 64
"""Most NEAR groups one NEAR chain may expand to (product of its OR-group sizes)."""

_OPERAND = "a word, phrase, field or '('"
_STARTS_OPERAND = frozenset(
    {Kind.WORD, Kind.PHRASE, Kind.FIELD, Kind.FIELD_GROUP, Kind.LPAREN, Kind.NOT, Kind.MINUS}
)
_NEAR_LEAVES = (Term, Phrase, Prefix, Wildcard)


def _describe(tok: Token) -> str:
    if tok.kind in (Kind.AND, Kind.OR, Kind.NOT, Kind.NEAR):
        return tok.text
    if tok.kind in (Kind.WORD, Kind.FIELD):
        return f"'{tok.text}'"
    return str(tok.kind.value)


def _flatten(cls: type[And] | type[Or], children: list[Node]) -> Node:
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, cls) else [child])
    return cls(tuple(flat))


class _Parser:
    def __init__(self, source: str, fields: FieldRegistry) -> None:
        self.src = source
        self.fields = fields
        self.toks = lex(source)
        self.pos = 0

    def error(self, message: str, col: int, expected: str) -> QueryError:
        return QueryError(message, query=self.src, column=col, expected=expected)

    def peek(self) -> Token:
        return self.toks[self.pos]

    def advance(self) -> Token:
        tok = self.toks[self.pos]
        if tok.kind is not Kind.EOF:
            self.pos += 1
        return tok

    def expect_operand(self, after: Token) -> None:
        tok = self.peek()
        if tok.kind in _STARTS_OPERAND:
            return
        found = "" if tok.kind is Kind.EOF else f", found {_describe(tok)}"
        raise self.error(f"expected {_OPERAND} after {after.text}{found}", tok.col, _OPERAND)

    def parse(self) -> Node:
        if self.peek().kind is Kind.EOF:
            raise self.error("empty query", 1, _OPERAND)
        node = self.parse_or()
        tok = self.peek()
        if tok.kind is Kind.RPAREN:
            raise self.error("unexpected ')' with no '(' to close", tok.col, "the end of the query")
        if tok.kind is not Kind.EOF:  # pragma: no cover - the loops consume everything else
            raise self.error(f"unexpected {_describe(tok)}", tok.col, "the end of the query")
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek().kind is Kind.OR:
            self.expect_operand(self.advance())
            children.append(self.parse_and())
        return _flatten(Or, children)

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while True:
            tok = self.peek()
            if tok.kind is Kind.AND:
                self.expect_operand(self.advance())
            elif tok.kind not in _STARTS_OPERAND:
                break
            children.append(self.parse_unary())
        return _flatten(And, children)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok.kind in (Kind.NOT, Kind.MINUS):
            self.expect_operand(self.advance())
            return Not(self.parse_unary())
        return self.parse_near()

    def parse_near(self) -> Node:
        first = self.peek()
        node = self.parse_primary()
        if self.peek().kind is not Kind.NEAR:
            return node
        operands = [self.near_operand(node, first)]
        distance: int | None = None
        while self.peek().kind is Kind.NEAR:
            near = self.advance()
            if distance is None:
                distance = near.number
            elif near.number != distance:
                raise self.error(
                    f"a NEAR chain uses one distance: NEAR/{distance} then {near.text}",
                    near.col,
                    f"NEAR/{distance}",
                )
            self.expect_operand(near)
            tok = self.peek()
            operands.append(self.near_operand(self.parse_primary(), tok))
        assert distance is not None
        sizes = [len(op.children) if isinstance(op, Or) else 1 for op in operands]
        if math.prod(sizes) > MAX_NEAR_EXPANSION:
            raise self.error(
                f"this NEAR chain has too many combinations (over {MAX_NEAR_EXPANSION}); "
                "split it into several",
                first.col,
                "fewer alternatives",
            )
        return Near(tuple(operands), distance)

    def near_operand(self, node: Node, tok: Token) -> NearOperand:
        if isinstance(node, _NEAR_LEAVES):
            return node
        if isinstance(node, Or) and all(isinstance(c, _NEAR_LEAVES) for c in node.children):
            return node
        raise self.error(
            "NEAR joins words, phrases and (a OR b) groups of them, "
            "not field filters, NOT, AND or other NEARs",
            tok.col,
            "a word or phrase",
        )

    def parse_primary(self) -> Node:
        tok = self.advance()
        if tok.kind is Kind.WORD:
            return self.word(tok.value, tok.col)
        if tok.kind is Kind.PHRASE:
            return self.phrase(tok)
        if tok.kind is Kind.FIELD:
            fdef = self.lookup(tok.name, tok.col)
            return Field(fdef.name, self.normalize(fdef, tok.value, tok.value_col))
        if tok.kind is Kind.FIELD_GROUP:
            return self.field_group(tok)
        if tok.kind is Kind.LPAREN:
            if self.peek().kind is Kind.RPAREN:
                raise self.error("empty parentheses", self.peek().col, _OPERAND)
            node = self.parse_or()
            close = self.peek()
            if close.kind is not Kind.RPAREN:
                found = "" if close.kind is Kind.EOF else f", found {_describe(close)}"
                raise self.error(
                    f"expected ')' to close '(' opened at col {tok.col}{found}", close.col, "')'"
                )
            self.advance()
            return node
        where = "the end of the query" if tok.kind is Kind.EOF else _describe(tok)
        raise self.error(f"expected {_OPERAND}, found {where}", tok.col, _OPERAND)

    def word(self, text: str, col: int) -> Node:
        if "*" in text or "?" in text:
            return self.wildcard(text, col)
        toks = tokens(text)
        if not toks:
            raise self.error(f"'{text}' has no letters or digits to search for", col, "a word")
        return Term(toks[0]) if len(toks) == 1 else Phrase(tuple(toks))

    def wildcard(self, text: str, col: int) -> Node:
        star = text.endswith("*")
        body = text[:-1] if star else text
        if text[0] in "*?":
            raise self.error(
                "a wildcard needs at least one letter or digit before it", col, "a letter or digit"
            )
        if "*" in body:
            raise self.error(
                "'*' is only allowed at the end of a word (run* finds run, runs, running)",
                col + body.index("*"),
                "the end of the word",
            )
        segments = body.split("?")
        for seg in segments:
            if seg and not is_word(seg):
                raise self.error(
                    f"wildcards match within one word, and '{text}' has characters "
                    "that separate words",
                    col,
                    "letters and digits",
                )
        folded = [fold(seg) for seg in segments]
        if len(folded) == 1:
            return Prefix(folded[0])
        return Wildcard("?".join(folded) + ("*" if star else ""))

    def phrase(self, tok: Token) -> Node:
        toks = tokens(tok.value)
        if not toks:
            raise self.error("nothing to search for between the quotes", tok.col, "a word")
        if tok.number is not None:
            if len(toks) < 2:
                raise self.error(
                    f"'~{tok.number}' needs at least two words in the quotes", tok.col, "two words"
                )
            return Near(tuple(Term(t) for t in toks), tok.number)
        return Term(toks[0]) if len(toks) == 1 else Phrase(tuple(toks))

    def lookup(self, name: str, col: int) -> FieldDef:
        fdef = self.fields.get(name.lower())
        if fdef is not None:
            return fdef
        known = list(self.fields)
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f" (did you mean '{close[0]}:'?)" if close else ""
        raise self.error(
            f"unknown field '{name}:'; known fields: {', '.join(known)}{hint}. "
            f'To search for the text, put it in quotes: "{name}:..."',
            col,
            "a known field",
        )

    def normalize(self, fdef: FieldDef, raw: str, col: int) -> str:
        try:
            return fdef.normalize(raw)
        except ValueError as exc:
            raise self.error(f"{fdef.name}: {exc}", col, f"e.g. {fdef.example}") from None

    def field_group(self, open_tok: Token) -> Node:
        fdef = self.lookup(open_tok.name, open_tok.col)
        values: list[Node] = []
        while True:
            tok = self.advance()
            if tok.kind in (Kind.WORD, Kind.FIELD):
                raw, col = tok.text, tok.col
            elif tok.kind is Kind.PHRASE and tok.number is None:
                raw, col = tok.value, tok.col + 1
            else:
                raise self.error(
                    f"expected a {fdef.name}: value inside '{open_tok.text}'",
                    tok.col,
                    "a value",
                )
            values.append(Field(fdef.name, self.normalize(fdef, raw, col)))
            nxt = self.advance()
            if nxt.kind is Kind.RPAREN:
                break
            if nxt.kind is not Kind.OR:
                raise self.error(
                    f"expected OR or ')' to close '{open_tok.text}' opened at col {open_tok.col}",
                    nxt.col,
                    "OR or ')'",
                )
        return _flatten(Or, values)


def parse_node(source: str, fields: FieldRegistry) -> Node:
    """The AST of ``source``; raises QueryError."""
    return _Parser(source, fields).parse()
