"""The SQL compiler on a real SQLite database with FTS5, and the tokenizer agreement with FTS5."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import OperationalError

from socialloop.query import (
    BUILTIN_FIELDS,
    And,
    FieldDef,
    Fts5Backend,
    Node,
    Not,
    Or,
    SqlContext,
    Term,
    parse,
    register_sqlite_functions,
)
from socialloop.query.fts5 import fts_expression
from socialloop.store.schema import posts
from socialloop.textutil import fold, tokens
from tests._querydb import CASES, FTS_DDL, SAMPLE, add_posts, make_db, make_engine, post, search


@pytest.fixture(scope="module")
def db() -> Iterator[Engine]:
    engine = make_db(SAMPLE)
    yield engine
    engine.dispose()


def ids(found: set[str]) -> set[str]:
    return {i.split(":", 1)[1] for i in found}


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_sample_cases(db: Engine, query: str, expected: set[str]) -> None:
    assert ids(search(db, query)) == expected


def sql_text(query: str) -> str:
    return str(parse(query).to_sql().compile(dialect=sqlite_dialect.dialect()))


def test_text_subtrees_become_one_match() -> None:
    sql = sql_text('(nike OR "air max" OR run*) AND NOT (fake OR replica) lang:en')
    assert sql.count("MATCH") == 1
    assert sql.count("posts_fts MATCH ?") == 1
    assert fts_expression(parse('(nike OR "air max" OR run*) -fake').ast) == (
        True,
        '(("nike") OR ("air max") OR ("run"*)) NOT ("fake")',
    )


@pytest.mark.parametrize(
    ("query", "positive", "expr"),
    [
        ("NOT a", False, '"a"'),
        ("NOT a NOT b", False, '("a") OR ("b")'),
        ("a OR NOT b", False, '("b") NOT ("a")'),
        ("NOT a OR NOT b", False, '("a") AND ("b")'),
        ("NOT (a OR NOT b)", True, '("b") NOT ("a")'),
        ("a NEAR/2 b", True, 'NEAR("a" "b", 2)'),
        ('(a OR "b c") NEAR/1 d*', True, '(NEAR("a" "d"*, 1)) OR (NEAR("b c" "d"*, 1))'),
    ],
)
def test_fts_polarity(query: str, positive: bool, expr: str) -> None:
    assert fts_expression(parse(query).ast) == (positive, expr)


def test_values_are_bound_never_inlined() -> None:
    nasty = '"x\'); DROP TABLE posts;--" author:o\'brien url:"%_"'
    sql = sql_text(nasty)
    assert "DROP" not in sql and "o'brien" not in sql and "%_" not in sql
    compiled = parse(nasty).to_sql().compile(dialect=sqlite_dialect.dialect())
    assert '"x drop table posts"' in compiled.params.values()


def test_quotes_and_fts_keywords_are_plain_words(db: Engine) -> None:
    engine = make_db(
        [
            post("kw", "rock AND roll or NOT near NEAR"),
            post("q", 'he said "hi" then "bye"'),
            post("col", "text: hello"),
        ]
    )
    for query in ['"and roll"', '"or not near"', "near", '"near near"', "and", "or"]:
        assert ids(search(engine, query)) == {"kw"}, query
    assert ids(search(engine, '"said hi then"')) == {"q"}
    assert ids(search(engine, '"text hello"')) == {"col"}
    assert ids(search(engine, 'url:"\'" OR author:"x\'y"')) == set()


def test_wildcards_need_the_sql_function() -> None:
    engine = make_engine()
    add_posts(engine, [post("c", "color")])
    assert ids(search(engine, "col?r")) == {"c"}
    raw = sqlite3.connect(":memory:")
    try:
        raw.execute("CREATE TABLE posts (pk INTEGER PRIMARY KEY, id TEXT, text TEXT NOT NULL)")
        raw.execute(FTS_DDL)
        raw.execute("INSERT INTO posts VALUES (1, 'x', 'color')")
        raw.execute("INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')")
        compiled = (
            select(posts.c.id)
            .where(parse("col?r").to_sql())
            .compile(dialect=sqlite_dialect.dialect())
        )
        params = [compiled.params[k] for k in compiled.positiontup or []]
        with pytest.raises(sqlite3.OperationalError, match="no such function"):
            raw.execute(str(compiled), params).fetchall()
        register_sqlite_functions(raw)
        assert raw.execute(str(compiled), params).fetchall() == [("x",)]
        assert raw.execute("SELECT socialloop_text_match('Café au lait', 'cafe NEAR/0 au')")
        assert raw.execute("SELECT socialloop_text_match(NULL, 'x')").fetchone() == (0,)
    finally:
        raw.close()


def test_plain_sqlite_engine_without_function_fails_clearly() -> None:
    from sqlalchemy import create_engine

    from socialloop.store.schema import metadata

    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(FTS_DDL)
    with engine.connect() as conn, pytest.raises(OperationalError, match="no such function"):
        conn.execute(select(posts.c.id).where(parse("col?r").to_sql())).all()


def test_plan_uses_the_fts_index_and_primary_key(db: Engine) -> None:
    stmt = select(posts.c.id).where(parse("(nike OR adidas) lang:en").to_sql())
    compiled = stmt.compile(dialect=sqlite_dialect.dialect())
    params = [compiled.params[k] for k in compiled.positiontup or []]
    with db.connect() as conn:
        plan = " | ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params))
        )
    assert "VIRTUAL TABLE INDEX" in plan  # the FTS5 index answers the text part
    assert "SEARCH posts USING INTEGER PRIMARY KEY" in plan  # posts fetched by pk


class RecordingBackend:
    """A stand-in backend: records the text subtrees it is given, answers with FTS5."""

    def __init__(self) -> None:
        self.seen: list[Node] = []
        self.inner = Fts5Backend()

    def text_condition(self, node: Node, ctx: SqlContext) -> ColumnElement[bool]:
        self.seen.append(node)
        return self.inner.text_condition(node, ctx)

    def glob(self, column: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
        return self.inner.glob(column, pattern)


def test_backend_gets_maximal_text_subtrees(db: Engine) -> None:
    backend = RecordingBackend()
    q = parse("(a OR b) lang:en c -d (e OR author:x)")
    q.to_sql(SqlContext(backend=backend))
    a, b, c, d, e = (Term(w) for w in "abcde")
    assert backend.seen == [And((Or((a, b)), c, Not(d))), e]


def test_a_custom_field_compiles_to_sql(db: Engine) -> None:
    fields = BUILTIN_FIELDS.extend(
        FieldDef(
            "handle_len",
            "author handle length",
            "handle_len:5",
            normalize=lambda raw: str(int(raw)),
            matcher=lambda v: lambda view: len(view.author_handle or "") == int(v),
            sql=lambda v, ctx: (
                ctx.posts.c.author_handle.is_not(None)
                & (func.length(ctx.posts.c.author_handle) == int(v))
            ),
        )
    )
    q = parse("nike handle_len:5", fields=fields)
    expected = {p.native_id for p in SAMPLE if q.matches(p)}
    assert expected == {"tagtext", "near1", "near2"}
    assert ids(search(db, q)) == expected


# --- the shared tokenizer agrees with FTS5 -------------------------------------------------


def fts_tokens(conn: sqlite3.Connection, docs: list[str]) -> list[list[str]]:
    conn.execute("DELETE FROM t")
    conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", list(enumerate(docs, 1)))
    found: dict[int, dict[int, str]] = {}
    for doc, term, offset in conn.execute("SELECT doc, term, offset FROM v"):
        found.setdefault(doc, {})[offset] = term
    return [
        [found.get(i, {})[k] for k in sorted(found.get(i, {}))] for i in range(1, len(docs) + 1)
    ]


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    yield conn
    conn.close()


EDGE_CASES = [
    "snake_case kebab-case dot.case",
    "don't l'été O’Neil",
    "3.5 1,000 1e9 ½ x² ١٢٣",
    "e\u0301te\u0301 \u0301x a\u0301\u0301b ǡ Ǡ",
    "nike🔥 nike🙂 nike❤️ 👍🏽ok 🥰x 🇫🇷fr a\u200db",
    "東京でナイキ 한국어 문장 ไทยภาษา عربي",
    "Straße ẞ İstanbul ıi ΣΊΣΥΦΟΣ όσος ß",
    "ÀÉÎÕÜ àéîõü Łódź Ørsted Æble œuvre ﬁne",
    "ᏣᎳᎩ Ქართ ǅungla Ⓐⓑ Ω K Å",
    "𐐀𐐨 𝐀𝐁 𞤀 \U0010fffd \ue000",
    "tab\tnew\nline\r\x00nul\x7f",
    "",
]


@pytest.mark.parametrize("doc", EDGE_CASES)
def test_tokens_match_fts5_on_edge_cases(fts: sqlite3.Connection, doc: str) -> None:
    assert tokens(doc) == fts_tokens(fts, [doc])[0]


def test_tokens_match_fts5_for_every_code_point(fts: sqlite3.Connection) -> None:
    """Each code point alone, inside a word, at a word start and before a combining accent."""
    cps = [cp for cp in range(0x20000) if not 0xD800 <= cp <= 0xDFFF and cp != 0]
    cps += list(range(0x20000, 0x110000, 97))
    docs = [
        " ".join(f"a{chr(cp)}b {chr(cp)}Z A{chr(cp)}\u0301" for cp in cps[i : i + 512])
        for i in range(0, len(cps), 512)
    ]
    for doc, expected in zip(docs, fts_tokens(fts, docs), strict=True):
        assert tokens(doc) == expected


def test_fold_is_the_tokenizer_fold() -> None:
    assert fold("CAFÉ Ёлка ǅ ΣΑΣ İ") == "cafe ёлка ǆ σασ i"
    assert fold("Ⓐ") == "Ⓐ"  # a separator: left as it is
    assert fold("ᏣᎳᎩ") == "ᏣᎳᎩ"  # Cherokee: no case mapping in SQLite's tables
