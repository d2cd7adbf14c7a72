"""Property tests: random ASTs -> query text; the in-memory matcher and the SQL/FTS5 search find
the same posts, and ``parse(str(q)) == q``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialloop.models import Author, Post
from socialloop.query import (
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryError,
    Term,
    Wildcard,
    parse,
)
from socialloop.query.nodes import render
from tests._querydb import add_posts, clear, make_engine, search

# Post text is built from these (case, accents, punctuation, emoji, near-misses).
TEXT_WORDS = [
    "nike", "Nike", "NIKE", "café", "cafe", "CAFÉ", "Cafés", "run", "running", "Runner", "color",
    "colour", "colar", "shoe", "shoes", "air", "max", "Ёлка", "елка", "tea", "steam", "don't",
    "e-mail", "email", "nice🙂", "😀", "🔥", "x_y", "12", "3.5", "日本", "straße", "ǡb", "a",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", ", ", "-", "! ", " #", " @", "\n", "'"]
# Query words: single folded tokens.
WORDS = ["nike", "cafe", "cafes", "run", "running", "color", "shoe", "air", "max", "ёлка",
         "елка", "tea", "don", "t", "e", "mail", "email", "x", "y", "12", "nice🙂",
         "a"]  # fmt: skip
STEMS = ["nik", "caf", "run", "col", "sho", "ё", "e", "t", "1"]
WILDCARDS = ["col?r", "col?r*", "nik?", "caf?", "r?n*", "sho?", "sho?s", "ёлк?", "a?"]
URLS = [
    "https://www.nike.com/shop/air?x=1",
    "http://shop.example.co.uk/a?b=1",
    "https://EXAMPLE.com/Path",
    "https://t.co/abc",
]
FIELD_VALUES = {
    "author": ["alice", "bob", "nike_official", "ali*", "b?b", "*official"],
    "lang": ["en", "fr", "de"],
    "network": ["twitter", "mastodon"],
    "site": ["nike.com", "example.co.uk", "co.uk", "example.com", "t.co"],
    "url": ["nike.com/shop", "/a?b=1", "example", "path", "https"],
    "hashtag": ["nike", "cafe", "justdoit"],
    "mention": ["nike", "alice"],
    "since": ["2024-01-01", "2024-01-31", "2024-01-31T23:59:59Z", "2024-02-01T00:00:00Z"],
    "until": ["2024-01-01", "2024-01-31", "2024-01-31T23:59:59Z", "2024-02-01T00:00:00.500000Z"],
}
TIMES = [
    datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 1, tzinfo=UTC),
    datetime(2024, 2, 1, 0, 0, 0, 500000, tzinfo=UTC),
]


def _and(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, And) else [c])
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(children: list[Node]) -> Node:
    flat: list[Node] = []
    for c in children:
        flat.extend(c.children if isinstance(c, Or) else [c])
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


terms = st.sampled_from(WORDS).map(Term)
phrases = st.lists(st.sampled_from(WORDS), min_size=2, max_size=3).map(lambda ws: Phrase(tuple(ws)))
prefixes = st.sampled_from(STEMS).map(Prefix)
wildcards = st.sampled_from(WILDCARDS).map(Wildcard)
near_leaves = st.one_of(terms, terms, phrases, prefixes, wildcards)
near_operands = st.one_of(
    near_leaves,
    near_leaves,
    st.lists(near_leaves, min_size=2, max_size=2).map(lambda ops: Or(tuple(ops))),
)
nears = st.builds(
    lambda ops, d: Near(tuple(ops), d),
    st.lists(near_operands, min_size=2, max_size=3),
    st.integers(min_value=0, max_value=3),
)
fields = st.sampled_from(sorted(FIELD_VALUES)).flatmap(
    lambda name: st.sampled_from(FIELD_VALUES[name]).map(lambda v: Field(name, v))
)
leaves = st.one_of(terms, terms, phrases, prefixes, wildcards, nears, fields, fields)
queries: st.SearchStrategy[Node] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(_and),
        st.lists(inner, min_size=2, max_size=3).map(_or),
        inner.filter(lambda n: not isinstance(n, Not)).map(Not),
    ),
    max_leaves=6,
)


@st.composite
def posts(draw: st.DrawFn, native_id: str) -> Post:
    words = draw(st.lists(st.sampled_from(TEXT_WORDS), min_size=0, max_size=10))
    text = ""
    for word in words:
        text += draw(st.sampled_from(SEPARATORS)) + word
    handle = draw(st.sampled_from([None, "alice", "Bob", "nike_official", "@Alice"]))
    return Post(
        network=draw(st.sampled_from(["twitter", "mastodon", "reddit"])),
        native_id=native_id,
        text=text,
        created_at=draw(st.sampled_from(TIMES)),
        author=Author("twitter", handle) if handle else None,
        url=draw(st.sampled_from([None, *URLS])),
        lang=draw(st.sampled_from([None, "", "en", "en-GB", "EN", "fr", "fr_CA", "de"])),
        hashtags=draw(st.lists(st.sampled_from(["nike", "Café", "#JustDoIt", "cafe"]))),
        mentions=draw(st.lists(st.sampled_from(["nike", "Alice", "bob"]), max_size=2)),
        links=draw(st.lists(st.sampled_from(URLS), max_size=2)),
    )


@st.composite
def corpora(draw: st.DrawFn) -> list[Post]:
    n = draw(st.integers(min_value=1, max_value=12))
    return [draw(posts(str(i))) for i in range(n)]


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    eng = make_engine()
    yield eng
    eng.dispose()


def _agree(engine: Engine, node: Node, batch: list[Post]) -> None:
    query = parse(render(node))
    expected = {p.id for p in batch if query.matches(p)}
    assert search(engine, query) == expected, f"query {query}"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(node=queries, batch=corpora())
def test_matcher_and_sql_agree(engine: Engine, node: Node, batch: list[Post]) -> None:
    clear(engine)
    add_posts(engine, batch)
    _agree(engine, node, batch)


def _fixed_corpus() -> list[Post]:
    rng = random.Random(20240501)
    out: list[Post] = []
    for i in range(300):
        text = "".join(
            rng.choice(SEPARATORS) + rng.choice(TEXT_WORDS) for _ in range(rng.randint(0, 14))
        )
        out.append(
            Post(
                network=rng.choice(["twitter", "mastodon"]),
                native_id=f"c{i}",
                text=text,
                created_at=rng.choice(TIMES),
                author=Author("twitter", rng.choice(["alice", "bob", "nike_official"])),
                url=rng.choice([None, *URLS]),
                lang=rng.choice([None, "en", "fr-FR", "de"]),
                hashtags=rng.sample(["nike", "cafe", "justdoit"], rng.randint(0, 2)),
                mentions=rng.sample(["nike", "alice"], rng.randint(0, 1)),
                links=rng.sample(URLS, rng.randint(0, 1)),
            )
        )
    return out


@pytest.fixture(scope="module")
def corpus_engine() -> Iterator[tuple[Engine, list[Post]]]:
    corpus = _fixed_corpus()
    eng = make_engine()
    add_posts(eng, corpus)
    yield eng, corpus
    eng.dispose()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=queries)
def test_matcher_and_sql_agree_on_a_larger_corpus(
    corpus_engine: tuple[Engine, list[Post]], node: Node
) -> None:
    engine, corpus = corpus_engine
    _agree(engine, node, corpus)


@settings(max_examples=300, deadline=None)
@given(node=queries)
def test_round_trip(node: Node) -> None:
    query = parse(render(node))
    assert query.ast == node
    assert parse(str(query)) == query
    assert str(parse(str(query))) == str(query)


PIECES = [" ", " ", "(", ")", '"', "\\", "-", "*", "?", ":", "#", "@", "~", "~2", "/", "_", "'",
          "AND", "OR", "NOT", "NEAR/1", "NEAR", "nike", "Café", "run", "a", "é", "🙂", "😀", "東京",
          "author:", "lang:", "site:", "url:", "since:", "until:", "2024-01-31", "en", "x.com",
          "bogus:", "\u0301", "\t"]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=12))
def test_any_text_parses_or_raises_query_error(
    corpus_engine: tuple[Engine, list[Post]], pieces: list[str]
) -> None:
    """Arbitrary input never crashes: a QueryError with a column inside the text (or just past
    it), or a query that round-trips and on which matcher and SQL agree."""
    source = "".join(pieces)
    try:
        query = parse(source)
    except QueryError as err:
        assert 1 <= err.column <= len(source) + 1
        assert err.expected
        return
    assert parse(str(query)) == query
    engine, corpus = corpus_engine
    assert search(engine, query) == {p.id for p in corpus if query.matches(p)}, str(query)
