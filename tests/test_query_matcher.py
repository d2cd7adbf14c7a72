"""The in-memory matcher on hand-made posts: words, accents, boundaries, fields, NEAR, dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialloop.models import Post
from socialloop.query import PostView, parse
from socialloop.query.matcher import near_match
from socialloop.textutil import tokens
from tests._querydb import CASES, SAMPLE, post


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_sample_cases(query: str, expected: set[str]) -> None:
    q = parse(query)
    assert {p.native_id for p in SAMPLE if q.matches(p)} == expected


def hits(query: str, text: str, **kw: object) -> bool:
    return parse(query).matches(post("x", text, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        # case and accents fold both ways; Latin accents only (as FTS5 remove_diacritics 2)
        ("cafe", "Un CAFÉ!", True),
        ("Café", "cafe", True),
        ("naïve", "NAIVE approach", True),
        ("strasse", "Straße", False),
        ("straße", "STRASSE", False),
        ("ёлка", "ЁЛКА", True),
        ("елка", "ёлка", False),
        ("ά", "α", False),
        # whole words: no substring hits, punctuation separates
        ("tea", "steam", False),
        ("tea", "tea.", True),
        ("tea", "(tea)", True),
        ("tea", "tea's", True),
        ("tea", "teas", False),
        ("tea", "#tea", True),
        ("tea", "@tea", True),
        ("tea", "tea_time", True),
        ("tea", "https://tea.com/x", True),
        ("3", "3.5 stars", True),
        ("35", "3.5 stars", False),
        # emoji: old ones separate, post-2012 ones are letters to FTS5 (and so to us)
        ("nike", "nike🔥", True),
        ("nike", "nike❤️", True),
        ("nike", "nike🙂", False),
        ("nike🙂", "NIKE🙂!", True),
        ("nike", "🙂 nike 🥰", True),
        # CJK runs are one token
        ("東京", "東京", True),
        ("東京", "東京で", False),
        # phrases are consecutive tokens, punctuation between them is fine
        ('"air max"', "Air-Max", True),
        ('"air max"', "air, max", True),
        ('"air max"', "air the max", False),
        ('"air max"', "max air", False),
        # wildcards within one token
        ("run*", "Running", True),
        ("run*", "rerun", False),
        ("col?r", "COLOR", True),
        ("col?r", "colour", False),
        ("col?r", "colr", False),
        ("col?r*", "colors", True),
        ("caf?", "Café", True),
        ("c?f?", "cafe", True),
    ],
)
def test_text(query: str, text: str, expected: bool) -> None:
    assert hits(query, text) is expected


def test_hashtags_in_text_versus_hashtag_filter() -> None:
    untagged = post("1", "love #Nike", hashtags=[])
    tagged = post("2", "love it", hashtags=["Nike"])
    accented = post("3", "x", hashtags=["#Café"])
    assert parse("nike").matches(untagged)
    assert not parse("#nike").matches(untagged)
    assert parse("#nike").matches(tagged)
    assert not parse("nike").matches(tagged)
    assert parse("#cafe").matches(accented) and parse("#CAFÉ").matches(accented)


def test_mentions_and_authors() -> None:
    p = post("1", "hi", handle="@Nike_Official", mentions=["Adidas"])
    assert parse("@adidas").matches(p)
    assert not parse("@nike_official").matches(p)
    assert parse("author:nike_official").matches(p)
    assert parse("author:NIKE*").matches(p)
    assert parse("author:*official").matches(p)
    assert parse("author:nike?official").matches(p)
    assert not parse("author:nike").matches(p)
    assert not parse("author:*").matches(post("2", "hi", handle=None))
    assert parse("NOT author:nike").matches(post("3", "hi", handle=None))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", True), ("EN", True), ("en-GB", True), ("en_us", True), ("eng", False),
     ("fr", False), ("", False), (None, False)],
)  # fmt: skip
def test_lang_compares_the_primary_subtag(lang: str | None, expected: bool) -> None:
    assert parse("lang:en").matches(post("1", "x", lang=lang)) is expected


def test_site_and_url() -> None:
    p = post("1", "x", url="https://shop.Nike.com/a", links=["http://www.example.org/Path?q=1"])
    for q in ["site:nike.com", "site:shop.nike.com", "site:example.org", "site:www.example.org"]:
        assert parse(q).matches(p), q
    for q in ["site:ike.com", "site:a.shop.nike.com", "site:org", "site:example.com"]:
        assert not parse(q).matches(p), q
    assert parse("url:/path?Q=1").matches(p)
    assert parse("url:SHOP.nike").matches(p)
    assert not parse("url:nike.com/b").matches(p)
    assert not parse("site:nike.com").matches(post("2", "nike.com"))


def test_network_is_exact() -> None:
    assert parse("network:twitter").matches(post("1", "x", network="twitter"))
    assert not parse("network:twitter").matches(post("1", "x", network="twitter2"))


@pytest.mark.parametrize(
    ("query", "when", "expected"),
    [
        ("since:2024-05-01", datetime(2024, 5, 1, 0, 0, tzinfo=UTC), True),
        ("since:2024-05-01", datetime(2024, 4, 30, 23, 59, 59, 999999, tzinfo=UTC), False),
        ("until:2024-05-01", datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=UTC), True),
        ("until:2024-05-01", datetime(2024, 5, 2, 0, 0, tzinfo=UTC), False),
        ("until:2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, tzinfo=UTC), False),
        ("until:2024-05-01T12:00:00Z", datetime(2024, 5, 1, 11, 59, 59, tzinfo=UTC), True),
        ("since:2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC), True),
        ("since:2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 9, 59, tzinfo=UTC), False),
        ("since:2024-05-01", datetime(2024, 5, 1, 0, 0), True),  # naive means UTC
    ],
)
def test_dates(query: str, when: datetime, expected: bool) -> None:
    assert parse(query).matches(post("1", "x", when=when)) is expected


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("a NEAR/0 b", "a b", True),
        ("a NEAR/0 b", "b a", True),
        ("a NEAR/0 b", "a x b", False),
        ("a NEAR/1 b", "a x b", True),
        ("a NEAR/1 b", "b, x: a", True),
        ("a NEAR/1 b", "a x y b", False),
        ('"a b"~2', "b x y a", True),
        # three words: at most n tokens between the first and the last, others included
        ("a NEAR/0 b NEAR/0 c", "a b c", False),
        ("a NEAR/1 b NEAR/1 c", "a b c", True),
        ("a NEAR/1 b NEAR/1 c", "c a b", True),
        ("a NEAR/1 b NEAR/1 c", "a b x c", False),
        # a phrase counts from its end
        ('"a b" NEAR/0 c', "a b c", True),
        ('"a b" NEAR/0 c', "c a b", True),
        ('"a b" NEAR/0 c', "a b x c", False),
        # one occurrence may serve two operands, as in FTS5
        ("a NEAR/0 a", "a", True),
        ("(a OR b) NEAR/0 c", "b c", True),
        ("(a OR b) NEAR/0 c", "b x c", False),
        ("col?r NEAR/1 shoe*", "colar the shoes", True),
    ],
)
def test_near(query: str, text: str, expected: bool) -> None:
    assert hits(query, text) is expected


def test_near_rule() -> None:
    assert near_match([[(0, 1)], [(2, 1)]], 1)
    assert not near_match([[(0, 1)], [(3, 1)]], 1)
    assert near_match([[(0, 2)], [(3, 1)]], 1)  # a 2-token phrase at 0 ends at 1
    assert not near_match([[(0, 1)], []], 5)


def test_boolean_logic() -> None:
    p = post("1", "nike air max")
    assert parse("nike AND air").matches(p)
    assert not parse("nike AND puma").matches(p)
    assert parse("puma OR max").matches(p)
    assert not parse("NOT nike").matches(p)
    assert parse("NOT puma").matches(p)
    assert parse("nike -puma").matches(p)
    assert not parse("nike -max").matches(p)
    assert parse("(puma OR nike) (air OR adidas) -(fake OR replica)").matches(p)
    assert parse("nike air max lang:en OR puma").matches(p) is False
    assert parse("puma OR nike air max").matches(p)


def test_a_view_is_shared_between_queries() -> None:
    p = post("1", "Nike Air Max", lang="en", hashtags=["JustDoIt"])
    view = PostView(p)
    assert view.tokens == ["nike", "air", "max"]
    assert view.padded == " nike air max "
    queries = [parse(q) for q in ["nike", '"air max" lang:en', "#justdoit", "puma"]]
    assert [q.matches(view) for q in queries] == [True, True, True, False]
    assert [q.predicate(view) for q in queries] == [True, True, True, False]
    assert view.positions == {"nike": [0], "air": [1], "max": [2]}


def test_text_only_view_and_extra() -> None:
    view = PostView(text="Café crème", extra={"sentiment": "positive"})
    assert view.tokens == tokens("Café crème") == ["cafe", "creme"]
    assert parse("cafe NEAR/0 creme").matches(view)
    assert not parse("lang:en").matches(view)
    assert not parse("author:x OR #x OR @x OR site:x.com OR url:x").matches(view)
    assert view.extra["sentiment"] == "positive"


def test_empty_text() -> None:
    p = Post("twitter", "1", "", datetime(2024, 1, 1, tzinfo=UTC))
    assert not parse("nike").matches(p)
    assert not parse('"a b"').matches(p)
    assert not parse("a*").matches(p)
    assert not parse("a?").matches(p)
    assert parse("NOT nike").matches(p)
