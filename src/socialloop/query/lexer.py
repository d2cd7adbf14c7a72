"""The query lexer: source text -> tokens with 1-based columns.

Words end at whitespace, ``(``, ``)`` and ``"``. A word is an operator only when written in
capitals exactly: ``AND``, ``OR``, ``NOT``, ``NEAR/n``. ``name:value`` is a field filter
(``name:"quoted value"`` and ``name:(v1 OR v2)`` too), ``#tag`` and ``@handle`` are shorthands
for ``hashtag:tag`` and ``mention:handle``, and ``-`` directly before a word, phrase, field or
``(`` means NOT. Inside double quotes ``\\"`` is a quote and ``\\\\`` a backslash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from socialloop.errors import QueryError

_FIELD_RE = re.compile(r"([A-Za-z][A-Za-z0-9_]*):")
_NEAR_RE = re.compile(r"NEAR/(\d{1,6})")
_NUMBER_RE = re.compile(r"\d{1,6}")
_PROXIMITY_WORD_RE = re.compile(r".~\d*$")
_BREAK = frozenset('()"')


class Kind(Enum):
    WORD = "a word"
    PHRASE = "a phrase"
    FIELD = "a field filter"
    FIELD_GROUP = "a field group"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    MINUS = "'-'"
    NEAR = "NEAR"
    LPAREN = "'('"
    RPAREN = "')'"
    EOF = "the end of the query"


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme. ``col`` is 1-based; ``text`` is the source slice.

    WORD: ``value`` is the word. PHRASE: ``value`` is the unescaped content and ``number`` the
    ``~n`` proximity or None. FIELD: ``name`` and ``value`` (unescaped), ``value_col`` where the
    value starts. FIELD_GROUP: ``name`` (the ``(`` is part of the token). NEAR: ``number``.
    """

    kind: Kind
    col: int
    text: str
    value: str = ""
    name: str = ""
    number: int | None = None
    value_col: int = 0
    quoted: bool = False


class _Lexer:
    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out: list[Token] = []

    def error(self, message: str, index: int, expected: str) -> QueryError:
        return QueryError(message, query=self.src, column=index + 1, expected=expected)

    def run(self) -> list[Token]:
        src = self.src
        while True:
            while self.i < len(src) and src[self.i].isspace():
                self.i += 1
            if self.i >= len(src):
                self.out.append(Token(Kind.EOF, len(src) + 1, ""))
                return self.out
            start = self.i
            ch = src[start]
            if ch == "(":
                self.i += 1
                self.out.append(Token(Kind.LPAREN, start + 1, ch))
            elif ch == ")":
                self.i += 1
                self.out.append(Token(Kind.RPAREN, start + 1, ch))
            elif ch == '"':
                self.phrase()
            elif ch == "-" and self.starts_operand(start + 1):
                self.i += 1
                self.out.append(Token(Kind.MINUS, start + 1, ch))
            else:
                self.word()

    def starts_operand(self, index: int) -> bool:
        return index < len(self.src) and not self.src[index].isspace() and self.src[index] != ")"

    def string(self) -> str:
        """Read a double-quoted string starting at ``self.i``; return its unescaped content."""
        src, start = self.src, self.i
        self.i += 1
        parts: list[str] = []
        while self.i < len(src):
            ch = src[self.i]
            if ch == "\\" and self.i + 1 < len(src):
                parts.append(src[self.i + 1])
                self.i += 2
            elif ch == '"':
                self.i += 1
                return "".join(parts)
            else:
                parts.append(ch)
                self.i += 1
        raise self.error(
            f"expected '\"' to close the quote opened at col {start + 1}", len(src), "'\"'"
        )

    def phrase(self) -> None:
        start = self.i
        content = self.string()
        number: int | None = None
        if self.i < len(self.src) and self.src[self.i] == "~":
            m = _NUMBER_RE.match(self.src, self.i + 1)
            if m is None:
                raise self.error(
                    "expected a number of words after '~', e.g. \"nike shoes\"~5",
                    self.i + 1,
                    "a number",
                )
            number = int(m.group())
            self.i = m.end()
        self.out.append(
            Token(Kind.PHRASE, start + 1, self.src[start : self.i], value=content, number=number)
        )

    def word(self) -> None:
        src, start = self.src, self.i
        while self.i < len(src) and not src[self.i].isspace() and src[self.i] not in _BREAK:
            self.i += 1
        text = src[start : self.i]
        col = start + 1
        if text in ("AND", "OR", "NOT"):
            self.out.append(Token(Kind[text], col, text))
            return
        if text == "NEAR" or text.startswith("NEAR/"):
            m = _NEAR_RE.fullmatch(text)
            if m is None:
                raise self.error(
                    "expected a distance after NEAR, e.g. NEAR/3 (at most 3 words apart)",
                    start + 4 if text == "NEAR" else start + 5,
                    "'/' and a number" if text == "NEAR" else "a number",
                )
            self.out.append(Token(Kind.NEAR, col, text, number=int(m.group(1))))
            return
        if text[:1] in ("#", "@") and len(text) > 1:
            name = "hashtag" if text[0] == "#" else "mention"
            self.out.append(
                Token(Kind.FIELD, col, text, value=text[1:], name=name, value_col=col + 1)
            )
            return
        m = _FIELD_RE.match(text)
        if m is None:
            if _PROXIMITY_WORD_RE.search(text):
                raise self.error(
                    "'~n' proximity applies to a quoted phrase, e.g. \"nike shoes\"~5",
                    start + text.rindex("~"),
                    "a quoted phrase",
                )
            self.out.append(Token(Kind.WORD, col, text, value=text))
            return
        name, value = m.group(1), text[m.end() :]
        if value:
            self.out.append(
                Token(Kind.FIELD, col, text, value=value, name=name, value_col=col + m.end())
            )
        elif self.i < len(src) and src[self.i] == '"':
            value_start = self.i
            value = self.string()
            self.out.append(
                Token(
                    Kind.FIELD,
                    col,
                    src[start : self.i],
                    value=value,
                    name=name,
                    value_col=value_start + 1,
                    quoted=True,
                )
            )
        elif self.i < len(src) and src[self.i] == "(":
            self.i += 1
            self.out.append(Token(Kind.FIELD_GROUP, col, src[start : self.i], name=name))
        else:
            raise self.error(
                f"expected a value right after '{name}:' (no space), e.g. {name}:something",
                self.i,
                "a value",
            )


def lex(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an EOF token; raises QueryError."""
    return _Lexer(source).run()
