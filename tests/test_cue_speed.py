"""The cheaper cue-rule scan (learn.cue_scan) gives exactly the counts of one ``findall`` per
family and text: on generated texts (samples of every cue alternative in random casing and
company, many languages, emoji, apostrophes, characters whose lower case is special), on
simulated posts and on the real public posts in ../shared/data (skipped when absent). The
word prefilter never drops a text that a family matches, and it does drop texts without cues.
"""

from __future__ import annotations

import csv
import importlib
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from socialloop.learn.cue_scan import CASED_LIMIT, CueScanner, unsafe_chars, wordish
from socialloop.learn.intent_rules import (
    FAMILIES,
    CueRules,
    compile_agent_reply,
    compile_rules,
    cue_features,
    rule_features,
)
from tests.conftest import SHARED

PRAISE = FAMILIES.index("praise")


def _reference_rule_features(texts: list[str], rules: dict[str, re.Pattern[str]]) -> np.ndarray:
    """``rule_features`` the plain way (one ``findall`` per family and text): the reference
    the scanner must equal."""
    out = np.zeros((len(texts), len(FAMILIES)), dtype=np.float32)
    patterns = [rules[family].findall for family in FAMILIES]
    complaint = rules["complaint"].finditer
    negated = rules["negated"].finditer if "negated" in rules else None
    for i, text in enumerate(texts):
        if not text:
            continue
        low = text.replace("’", "'")
        # non-overlapping matches, capped at 3 (findall scans in C; the count is the same as
        # iterating the matches and stopping at the third)
        counts = [min(len(findall(low)), 3) for findall in patterns]
        if counts[0] and negated is not None:
            # complaint words inside a negated span count as praise ("no complaints")
            spans = [m.span() for m in negated(low)]
            if spans:
                gone = sum(1 for m in complaint(low) if any(a <= m.start() < b for a, b in spans))
                counts[0] = max(counts[0] - gone, 0)
                counts[PRAISE] = min(counts[PRAISE] + gone, 3)
        out[i] = counts
    return out


_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

HANDWRITTEN = [
    "",
    " ",
    "\n",
    "WORST service ever!!! Still waiting for my refund @Brewhaven",
    "@ana @bob is this open today?",
    "@ana\nwhere is the nearest store?",
    "what?! no way.\nHow do I reset my password",
    "¿Dónde puedo comprar el molinillo? Alguien sabe",
    "Quelqu’un sait où acheter ça ? J’attends toujours mon remboursement",
    "Weiß jemand, wo ich das kaufen kann? Immer noch nicht geliefert. Frechheit!",
    "Tietääkö kukaan mistä saa ostaa? Ei toimi edelleenkään.",
    "Qualcuno sa dove comprare? Non funziona, che schifo",
    "Alguém sabe onde comprar? Não funciona",
    "no complaints at all, never disappointed, wasn't bad",
    "nicht schlecht! enttäuscht nie",
    "I have never been so disappointed",
    "thanks thanks thanks thanks thank you ty",
    "???!!! seriously?? wtf?!",
    "İS THIS OPEN? İstanbul store hours",
    "ıs thıs open? ſupport ſcam",
    "ΣΟΣ help me please Σ",
    "KANN MIR JEMAND HELFEN? ÖFFNUNGSZEITEN",  # Kelvin sign
    "GROẞARTIG! Danke",
    "don’t work, can’t log in, won’t load",
    "rip-off, rip off, ripoff, over charged, overcharged",
    "😡😡 worst app 🙄 #fail\n\n👍 love it",
    "a\x00worst\x00b",
    "is",
    "Is",
    ".is",
    "?who",
    "any recommendations for a good espresso machine under 300 dollars or so?",
    "@ana We’re sorry to hear that! Please DM us your order number.",
    "Lamentamos lo ocurrido, escríbenos por DM. Désolés pour l'attente",
    "Es tut uns leid. Pahoittelemme!",
]


def _sample(items: Any, rng: random.Random, out: list[str], depth: int = 0) -> None:
    """A string that the parsed pattern ``items`` (roughly) matches: assertions are
    ignored, so some samples do not match, which is fine for a comparison."""
    for op, av in items:
        if depth > 40:
            return
        if op is _c.LITERAL:
            out.append(chr(av))
        elif op is _c.IN:
            members = [chr(v) for kind, v in av if kind is _c.LITERAL]
            members += [chr(v[0]) for kind, v in av if kind is _c.RANGE]
            if any(kind is _c.CATEGORY for kind, _v in av):
                members += list("ab ’'\n_1é")
            out.append(rng.choice(members or ["x"]))
        elif op is _c.SUBPATTERN:
            _sample(av[-1], rng, out, depth + 1)
        elif op is _c.BRANCH:
            _sample(rng.choice(av[1]), rng, out, depth + 1)
        elif op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
            low, high = av[0], min(av[1], av[0] + 2)
            for _ in range(rng.randint(low, high)):
                _sample(av[2], rng, out, depth + 1)
        elif op is _c.ANY:
            out.append(rng.choice("x ?"))


def _generated(seed: int, count: int) -> list[str]:
    rules = compile_rules()
    rng = random.Random(seed)
    trees = [_parser.parse(p.pattern, p.flags) for p in rules.values()]
    noise = [
        "@ana",
        "@user_1 ",
        "#coffee",
        "😀",
        "🙄🙄",
        "’",
        "'",
        "?",
        "¿",
        "？",
        "!",
        "?!",
        "!!!",
        "...",
        "\n",
        "İ",
        "ı",
        "ſ",
        "Σ",
        "K",
        "ẞ",
        "é",
        "ä",
        "ß",
        "Привет",
        "مرحبا",
        "नमस्ते",
        "https://x.example/a?b=1",
        "123",
    ]
    cases: list[Callable[[str], str]] = [
        str.lower,
        str.upper,
        str.title,
        lambda s: "".join(ch.upper() if rng.random() < 0.5 else ch for ch in s),
    ]
    joins = ["", " ", " ", "  ", "\n", ", ", ". ", "? ", "! ", "’", "'", "-"]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 8)):
            if rng.random() < 0.6:
                out: list[str] = []
                _sample(rng.choice(trees), rng, out)
                parts.append(rng.choice(cases)("".join(out)))
            else:
                parts.append(rng.choice(noise))
        text = ""
        for part in parts:
            text += rng.choice(joins) + part if text else part
        texts.append(text)
    return texts


def _assert_same(texts: list[str], rules: dict[str, re.Pattern[str]] | None = None) -> None:
    rules = compile_rules() if rules is None else rules
    new = rule_features(texts, rules)
    ref = _reference_rule_features(texts, rules)
    assert new.dtype == ref.dtype and new.shape == ref.shape == (len(texts), len(FAMILIES))
    bad = np.nonzero((new != ref).any(axis=1))[0]
    assert not len(bad), [(texts[i], new[i].tolist(), ref[i].tolist()) for i in bad[:5]]
    both, agent = cue_features(texts, rules)
    assert np.array_equal(both, ref)
    search = rules["agent_reply"].search if "agent_reply" in rules else None
    expected = [1.0 if t and search and search(t.replace("’", "'")) else 0.0 for t in texts]
    assert agent.tolist() == expected


def test_handwritten_texts_count_as_the_reference() -> None:
    _assert_same(HANDWRITTEN)
    assert rule_features([], compile_rules()).shape == (0, len(FAMILIES))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_texts_count_as_the_reference(seed: int) -> None:
    texts = _generated(seed, 3000)
    _assert_same(texts)
    # the same with a plain dict of the patterns (the scanner is then built on the fly)
    _assert_same(texts[:500], dict(compile_rules()))


def test_prefilter_keeps_every_text_a_family_matches() -> None:
    rules = compile_rules()
    assert isinstance(rules, CueRules)
    scanner = rules.scanner()
    patterns = [rules[f] for f in FAMILIES]
    kept = 0
    for text in HANDWRITTEN + _generated(7, 2000):
        low = text.replace("’", "'")
        if not scanner.safe(low):
            continue
        mask = scanner.candidates(low.lower())
        for i, pattern in enumerate(patterns):
            if pattern.search(low):
                assert mask >> i & 1, (FAMILIES[i], text)
                kept += 1
    assert kept > 1000


def _scanner() -> CueScanner:
    rules = compile_rules()
    assert isinstance(rules, CueRules)  # compile_rules() keeps its scanner
    return rules.scanner()


def test_prefilter_drops_texts_without_cues() -> None:
    scanner = _scanner()
    # "a" and "my" start cues ("a joke", "my order") but are not enough on their own
    assert scanner.candidates("tallennan myöhemmäksi, a cat on my mat") == 0
    both = scanner.candidates("where is my order?")
    assert both >> FAMILIES.index("support") & 1 and both >> FAMILIES.index("qmark") & 1
    assert not both >> FAMILIES.index("praise") & 1


def test_texts_whose_lower_case_differs_are_counted_as_they_are() -> None:
    scanner = _scanner()
    for special in ("İ", "ı", "ſ", "Σ"):  # lower() changes the length / IGNORECASE pairs
        assert special in scanner.unsafe
        assert not scanner.safe(f"is th{special}s open?")
    assert scanner.safe("KANN MIR JEMAND HELFEN? GROẞARTIG")  # Kelvin sign, capital sharp s
    # IGNORECASE matches "is" in "İS" and "ıs", lower() would make "i̇s" and "ıs"
    row = rule_features(["İS THIS OPEN?", "ıs thıs open?"], compile_rules())
    assert row[:, FAMILIES.index("opener")].tolist() == [1.0, 1.0]


def test_a_changed_pattern_is_used() -> None:
    rules = compile_rules()
    before = rule_features(["foo bar"], rules)
    assert not before.any()
    rules["praise"] = re.compile(r"(?<![\w'])foo", re.IGNORECASE)
    after = rule_features(["foo bar", "FOO"], rules)
    assert after[:, FAMILIES.index("praise")].tolist() == [1.0, 1.0]
    _assert_same(["foo bar", "FOO", "Thanks, great!"], rules)


def test_empty_texts_have_no_cues_even_for_a_pattern_matching_nothing() -> None:
    rules = compile_rules()
    rules["opener"] = re.compile(r"^", re.IGNORECASE)  # matches the empty string
    rows = rule_features(["", " ", "x"], rules)
    assert rows[:, FAMILIES.index("opener")].tolist() == [0.0, 1.0, 1.0]
    _assert_same(["", " ", "x", "\n"], rules)


def test_agent_reply_flags_without_the_pattern_are_zero() -> None:
    rules = dict(compile_rules())
    del rules["agent_reply"]
    rows, agent = cue_features(["Please DM us", "worst"], rules)
    assert agent.tolist() == [0.0, 0.0]
    assert np.array_equal(rows, _reference_rule_features(["Please DM us", "worst"], rules))
    assert cue_features(["Please DM us"], compile_rules())[1].tolist() == [1.0]
    assert compile_agent_reply().pattern == compile_rules()["agent_reply"].pattern


def test_many_patterns_count_as_findall() -> None:
    # more patterns than the scanner keeps a table of set bits for
    words = ["refund", "help", "love", "where", "how", "buy", "price", "open"]
    patterns = [re.compile(rf"(?<![\w']){w}\w*", re.IGNORECASE) for w in words]
    patterns += [re.compile(r"[?!]"), re.compile(r"\d+")] * 6
    scanner = CueScanner(patterns)
    texts = HANDWRITTEN + _generated(5, 300)
    low = [t.replace("’", "'") for t in texts]
    assert scanner.count(low, 3) == [[min(len(p.findall(t)), 3) for p in patterns] for t in low]


def test_scanner_counts_upper_case_patterns_on_the_text() -> None:
    # a pattern with an upper-case literal is not lower-cased: it runs as it is
    pattern = re.compile(r"(?<![\w'])(?:Foo|bar)(?![\w'])")
    scanner = CueScanner([pattern])
    texts = ["Foo foo bar BAR", "nothing", "Foo"]
    assert scanner.count(texts, 3) == [[min(len(pattern.findall(t)), 3)] for t in texts]


def test_simulated_posts_count_as_the_reference() -> None:
    from socialloop.simulate import default_market, simulate

    posts = list(simulate(20000, seed=1, market=default_market()))
    _assert_same([post.text for post in posts])


def test_unicode_assumptions_hold_for_every_code_point() -> None:
    universe = "".join(map(chr, range(0x110000)))
    # wordish() is re's [\w']
    assert [c for c in universe if wordish(c)] == re.findall(r"[\w']", universe)
    # above CASED_LIMIT no character has a lower case of its own nor matches a pattern
    # character under IGNORECASE, so unsafe_chars() need not look there
    high = universe[CASED_LIMIT:]
    assert high.lower() == high
    rules = compile_rules()
    chars = {c for p in rules.values() for c in p.pattern if c.isalpha()}
    listed = "".join(re.escape(c) for c in sorted(chars))
    assert re.findall(f"[{listed}]", high, re.IGNORECASE) == []
    assert unsafe_chars(chars, 0x110000) == unsafe_chars(chars)


# --- the real posts ---------------------------------------------------------------------------


def _csv_texts(path: Path, delimiter: str = ",") -> list[str]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    columns = [c for c in (rows[0] if rows else {}) if c in ("text", "instruction", "response")]
    return [row[c] or "" for row in rows for c in columns]


def _column(path: Path, index: int) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[index] for line in lines if len(line.split("\t")) > index]


_REAL: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("tweeteval/**/*_text.txt", lambda p: p.read_text(encoding="utf-8").splitlines()),
    ("tweeteval/sentiment/*.tsv", lambda p: _csv_texts(p, "\t")),
    ("xlm_t_umsab/*/*_text.txt", lambda p: p.read_text(encoding="utf-8").splitlines()),
    ("goemotions/*.tsv", lambda p: _column(p, 0)),
    ("xed_finnish/fi-annotated.tsv", lambda p: _column(p, 0)),
    ("xed_finnish/neu_fi.txt", lambda p: _column(p, 1)),
    ("twitter_us_airline_sentiment/*.csv", _csv_texts),
    ("twcs_customer_support/**/*.csv", _csv_texts),
    ("purchase_intent_iphonex/*.csv", _csv_texts),
    ("bitext_customer_support/*.csv", _csv_texts),
]
_PER_FILE = 400  # spread over each file (the full files were compared once: docs/models.md)


def test_real_posts_count_as_the_reference() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent (../shared/data is not beside the repository)")
    rules = compile_rules()
    files = 0
    for pattern, read in _REAL:
        for path in sorted(SHARED.glob(pattern)):
            texts = read(path)
            step = max(1, len(texts) // _PER_FILE)
            _assert_same(texts[::step], rules)
            files += 1
    if not files:
        pytest.skip(f"no text files of real posts under {SHARED}")
