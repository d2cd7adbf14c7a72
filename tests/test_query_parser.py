"""The query grammar: precedence, words, wildcards, phrases, NEAR, fields, canonical form,
errors."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from socialloop.errors import QueryError
from socialloop.query import (
    BUILTIN_FIELDS,
    And,
    Field,
    FieldDef,
    FieldRegistry,
    Near,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Wildcard,
    parse,
)

a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        ("a b", And((a, b))),
        ("a AND b", And((a, b))),
        ("a OR b c", Or((a, And((b, c))))),
        ("a b OR c", Or((And((a, b)), c))),
        ("a AND b OR c AND d", Or((And((a, b)), And((c, d))))),
        ("NOT a b", And((Not(a), b))),
        ("NOT a OR b", Or((Not(a), b))),
        ("-a b", And((Not(a), b))),
        ("a -b", And((a, Not(b)))),
        ("a NOT b", And((a, Not(b)))),
        ("NOT NOT a", Not(Not(a))),
        ("NOT (a OR b)", Not(Or((a, b)))),
        ("-(a b)", Not(And((a, b)))),
        ("(a OR b) (c OR d)", And((Or((a, b)), Or((c, d))))),
        ("a AND (b AND c)", And((a, b, c))),
        ("(a OR b) OR (c OR d)", Or((a, b, c, d))),
        ("a NEAR/2 b c", And((Near((a, b), 2), c))),
        ("NOT a NEAR/2 b", Not(Near((a, b), 2))),
        ("a NEAR/2 b OR c", Or((Near((a, b), 2), c))),
        ("((a))", a),
    ],
)
def test_precedence_not_over_and_over_or(text: str, ast: object) -> None:
    assert parse(text).ast == ast


def test_implicit_and_is_and() -> None:
    assert parse("nike shoes") == parse("nike AND shoes")


def test_operators_are_upper_case_only() -> None:
    assert parse("rock and roll").ast == And((Term("rock"), Term("and"), Term("roll")))
    assert parse("this or that not near").ast == And(
        tuple(Term(w) for w in ["this", "or", "that", "not", "near"])
    )


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        ("Café", Term("cafe")),
        ("CAFÉ", Term("cafe")),
        ("Ёлка", Term("ёлка")),
        ("e-mail", Phrase(("e", "mail"))),
        ("don't", Phrase(("don", "t"))),
        ("H&M", Phrase(("h", "m"))),
        ("snake_case", Phrase(("snake", "case"))),
        ("3.5", Phrase(("3", "5"))),
        ('"Nike"', Term("nike")),
        ('"Air  Max!"', Phrase(("air", "max"))),
        ('"run* fast?"', Phrase(("run", "fast"))),
        ('"a b"~5', Near((a, b), 5)),
        ('"a b c"~0', Near((a, b, c), 0)),
        ("run*", Prefix("run")),
        ("Ça*", Prefix("ca")),
        ("col?r", Wildcard("col?r")),
        ("Col?R*", Wildcard("col?r*")),
        ("ca??é", Wildcard("ca??e")),
        ("a NEAR/3 b NEAR/3 c", Near((a, b, c), 3)),
        ('(a OR "b c") NEAR/0 run*', Near((Or((a, Phrase(("b", "c")))), Prefix("run")), 0)),
    ],
)
def test_text_leaves(text: str, ast: object) -> None:
    assert parse(text).ast == ast


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("author:Nike", Field("author", "nike")),
        ("author:@Nike", Field("author", "nike")),
        ("author:nike_*", Field("author", "nike_*")),
        ("Author:x", Field("author", "x")),
        ("lang:EN", Field("lang", "en")),
        ("network:Twitter", Field("network", "twitter")),
        ("site:https://www.Nike.com/shop?x=1", Field("site", "nike.com")),
        ("site:shop.nike.com", Field("site", "shop.nike.com")),
        ("url:Nike.com/Shop", Field("url", "nike.com/shop")),
        ('url:"a b"', Field("url", "a b")),
        ('url:"say \\"hi\\" \\\\o/"', Field("url", 'say "hi" \\o/')),
        ("#Café", Field("hashtag", "cafe")),
        ("hashtag:#Nike", Field("hashtag", "nike")),
        ("#just_do_it", Field("hashtag", "just_do_it")),
        ("@Alice", Field("mention", "alice")),
        ("since:2024-05-01", Field("since", "2024-05-01")),
        ("since:2024-05-01T12:00:00+02:00", Field("since", "2024-05-01T10:00:00Z")),
        ("until:2024-05-01T12:00", Field("until", "2024-05-01T12:00:00Z")),
        ("until:2024-05-01T12:00:00.25Z", Field("until", "2024-05-01T12:00:00.250000Z")),
    ],
)
def test_fields_normalise_their_values(text: str, field: Field) -> None:
    assert parse(text).ast == field


def test_field_group_is_an_or_of_filters() -> None:
    assert parse('author:(nike OR "Adidas" OR @puma)').ast == Or(
        (Field("author", "nike"), Field("author", "adidas"), Field("author", "puma"))
    )
    assert parse("lang:(en)").ast == Field("lang", "en")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("Nike  shoes", "nike AND shoes"),
        ("a OR b c", "a OR b AND c"),
        ("(a OR b) c", "(a OR b) AND c"),
        ("-a", "NOT a"),
        ("NOT (a b)", "NOT (a AND b)"),
        ('"Air Max"~3', "air NEAR/3 max"),
        ('(a OR "b c") NEAR/1 d', '(a OR "b c") NEAR/1 d'),
        ("NOT a NEAR/1 b", "NOT a NEAR/1 b"),
        ("#Nike @Bob", "#nike AND @bob"),
        ('url:"a b" author:x*', 'url:"a b" AND author:x*'),
        ("e-mail", '"e mail"'),
        ("col?r*", "col?r*"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    q = parse(text)
    assert str(q) == canonical
    assert parse(str(q)) == q


@pytest.mark.parametrize(
    ("text", "column", "expected", "message"),
    [
        ("", 1, "a word, phrase, field or '('", "empty query"),
        ("   ", 1, "a word, phrase, field or '('", "empty query"),
        ("nike AND", 9, "a word, phrase, field or '('", "after AND"),
        ("nike OR", 8, "a word, phrase, field or '('", "after OR"),
        ("nike NOT", 9, "a word, phrase, field or '('", "after NOT"),
        ("AND nike", 1, "a word, phrase, field or '('", "found AND"),
        ("nike OR OR adidas", 9, "a word, phrase, field or '('", "found OR"),
        ("nike AND )", 10, "a word, phrase, field or '('", "found ')'"),
        ("(nike OR adidas", 16, "')'", "expected ')' to close '(' opened at col 1"),
        ("a (b (c) d", 11, "')'", "to close '(' opened at col 3"),
        ("nike)", 5, "the end of the query", "no '(' to close"),
        ("()", 2, "a word, phrase, field or '('", "empty parentheses"),
        ('"air max', 9, "'\"'", "close the quote opened at col 1"),
        ('url:"abc', 9, "'\"'", "close the quote opened at col 5"),
        ('""', 1, "a word", "nothing to search for"),
        ('"!!"', 1, "a word", "nothing to search for"),
        ('"a b"~', 7, "a number", "after '~'"),
        ('"nike"~3', 1, "two words", "at least two words"),
        ("nike~3", 5, "a quoted phrase", "quoted phrase"),
        ("a NEAR b", 7, "'/' and a number", "NEAR/3"),
        ("a NEAR/x b", 8, "a number", "distance after NEAR"),
        ("a NEAR/2", 9, "a word, phrase, field or '('", "after NEAR/2"),
        ("a NEAR/2 b NEAR/3 c", 12, "NEAR/2", "one distance"),
        ("a NEAR/2 lang:en", 10, "a word or phrase", "NEAR joins"),
        ("(a b) NEAR/2 c", 1, "a word or phrase", "NEAR joins"),
        ('"a b"~2 NEAR/2 c', 1, "a word or phrase", "NEAR joins"),
        ("*run", 1, "a letter or digit", "at least one letter"),
        ("?un", 1, "a letter or digit", "at least one letter"),
        ("r*n", 2, "the end of the word", "only allowed at the end"),
        ("run**", 4, "the end of the word", "only allowed at the end"),
        ("e-ma?l", 1, "letters and digits", "within one word"),
        ("-", 1, "a word", "no letters or digits"),
        ("nike & adidas", 6, "a word", "'&' has no letters"),
        ("auther:nike", 1, "a known field", "unknown field 'auther:'; known fields: author, "),
        ("https://nike.com", 1, "a known field", "unknown field 'https:'"),
        ("x author:", 10, "a value", "right after 'author:'"),
        ("author: nike", 8, "a value", "right after 'author:'"),
        ("author:@", 8, "e.g. author:nike", "expected a handle"),
        ("#", 1, "a word", "no letters or digits"),
        ("lang:english!", 6, "e.g. lang:en", "language code"),
        ("lang:en-GB", 6, "e.g. lang:en", "language code"),
        ("site:", 6, "a value", "right after 'site:'"),
        ('site:"/"', 6, "e.g. site:example.com", "expected a domain"),
        ("since:2024-13-01", 7, "e.g. since:2024-05-01", "invalid date '2024-13-01'"),
        ("until:yesterday", 7, "e.g. until:2024-05-31", "invalid date"),
        ("nike since:2024-02-30", 12, "e.g. since:2024-05-01", "invalid date"),
        ("author:(a AND b)", 11, "OR or ')'", "expected OR or ')'"),
        ("author:(a OR", 13, "a value", "value inside 'author:('"),
        ("author:()", 9, "a value", "value inside"),
        ("bogus:(a)", 1, "a known field", "unknown field 'bogus:'"),
    ],
)
def test_errors_say_where_and_what(text: str, column: int, expected: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    err = info.value
    assert (err.column, err.expected) == (column, expected), str(err)
    assert message in str(err)
    assert str(err).startswith(f"col {column}: ")
    assert err.query == text


def test_unknown_field_suggests_the_closest() -> None:
    with pytest.raises(QueryError, match=r"did you mean 'author:'\?") as info:
        parse("auther:nike")
    assert str(info.value).startswith(
        "col 1: unknown field 'auther:'; known fields: author, lang, network, site, url, "
        "hashtag, mention, since, until"
    )


def test_too_many_near_combinations() -> None:
    group = "(" + " OR ".join(f"w{i}" for i in range(9)) + ")"
    with pytest.raises(QueryError, match="too many combinations"):
        parse(f"{group} NEAR/2 {group}")


def test_query_object() -> None:
    q = parse("(Nike OR #JustDoIt) lang:en -author:spam*")
    assert q.source == "(Nike OR #JustDoIt) lang:en -author:spam*"
    assert q.fields_used == frozenset({"hashtag", "lang", "author"})
    assert q.uses_text
    assert not parse("lang:en").uses_text
    assert parse("lang:en").fields_used == {"lang"}
    assert q == parse("(nike OR #justdoit) AND lang:en AND NOT author:spam*")
    assert hash(q) == hash(parse(str(q)))
    assert q != parse("nike")
    assert repr(parse("nike")) == "Query('nike')"
    assert isinstance(q, Query)


def _color_def() -> FieldDef:
    return FieldDef(
        "color",
        "the post's color (test field)",
        "color:red",
        normalize=lambda raw: raw.lower(),
        matcher=lambda value: lambda view: view.extra.get("color") == value,
        sql=lambda value, ctx: ctx.posts.c.network == value,
    )


def test_registry_is_immutable_and_extensible() -> None:
    assert isinstance(BUILTIN_FIELDS, FieldRegistry)
    assert list(BUILTIN_FIELDS)[:3] == ["author", "lang", "network"]
    assert isinstance(BUILTIN_FIELDS._fields, MappingProxyType)
    with pytest.raises(TypeError):
        BUILTIN_FIELDS["x"] = BUILTIN_FIELDS["author"]  # type: ignore[index]
    with pytest.raises(QueryError, match="unknown field 'color:'"):
        parse("color:red")
    fields = BUILTIN_FIELDS.extend(_color_def())
    assert "color" in fields and "color" not in BUILTIN_FIELDS
    q = parse("nike color:RED", fields=fields)
    assert q.ast == And((Term("nike"), Field("color", "red")))
    assert q.fields_used == {"color"}
    with pytest.raises(ValueError, match="already defined"):
        fields.extend(_color_def())
    assert fields.extend(_color_def(), replace=True)["color"].name == "color"
    with pytest.raises(ValueError, match="defined twice"):
        FieldRegistry([_color_def(), _color_def()])
    with pytest.raises(ValueError, match="field name"):
        FieldDef("Bad-Name", "", "", str, lambda v: lambda view: True, lambda v, c: None)  # type: ignore[arg-type, return-value]


def test_field_normalisers_report_bad_values_with_their_column() -> None:
    def strict(raw: str) -> str:
        if raw not in ("red", "blue"):
            raise ValueError("expected red or blue")
        return raw

    fields = BUILTIN_FIELDS.extend(
        FieldDef(
            "color",
            "",
            "color:red",
            strict,
            lambda v: lambda view: True,
            lambda v, ctx: ctx.posts.c.network == v,
        )
    )
    with pytest.raises(QueryError) as info:
        parse("nike color:green", fields=fields)
    assert info.value.column == 12
    assert "color: expected red or blue" in str(info.value)


def test_hashtag_keys_are_idempotent_after_folding() -> None:
    # found by the property test: a combining mark between two '#' folded away into "##"
    from socialloop.errors import QueryError
    from socialloop.query import parse
    from socialloop.textutil import hashtag_key

    assert hashtag_key("#\u0301#Nike") == hashtag_key(hashtag_key("#\u0301#Nike")) == "nike"
    for text in ("#\u0301#", "##"):
        try:
            query = parse(text)
        except QueryError:
            continue
        assert parse(str(query)) == query
