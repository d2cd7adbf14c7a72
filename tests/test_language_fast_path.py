"""The language step's fast path against straightforward references: clean_text against
the plain chain of substitutions it short-cuts, and the step's fast decisions against
py3langid's own LanguageIdentifier, post by post."""

from __future__ import annotations

import html
import importlib
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from socialloop.learn.langid_clean import HINGLISH_SHARE, clean_text, clean_texts, hinglish_share
from socialloop.learn.langid_fast import apply_prior
from socialloop.learn.language import CONFIRM_THRESHOLD, LanguageEnricher

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b|\S+\.(?:com|org|net|ly|co)(?:/\S*)?", re.I)
_MENTION = re.compile(r"(?<!\w)[@＠][\w.]+")
_RT = re.compile(r"^\s*(?:RT|MT)\b:?", re.I)
_REPEAT = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
_KEEP = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc"}


def reference_clean(text: str) -> str:
    """Every substitution on every text, in the documented order."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _RT.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _REPEAT.sub(r"\1\1", text)
    kept = "".join(c if c in "'’" or unicodedata.category(c) in _KEEP else " " for c in text)
    return _SPACES.sub(" ", kept).strip(" '’")


EDGE = [
    "RT @someone: Qué partidazo!!! 😍😍 #VamosReal https://t.co/xyz",
    "x.com@user",  # the URL goes first, and then the mention is no longer glued to a word
    "http.x.com",
    "a.comb.com and me@x.org",
    "HTTP://X.Y hTtPs www.EXAMPLE",
    "bit.ly/abc x.co ..com .com ok.ly.",
    "  mt: hello",
    "aaa 111x x___y ÀÀÀ ééé İİİ ßßß ﬀﬀﬀ ＡＡＡ 𝐀𝐀𝐀 ²²² ⅫⅫⅫ",
    "a\u0301\u0301\u0301 '''a''' ’’’x’’’",
    "&amp;&amp;&amp; &#64;user &lt;3",
    "e.g. i.e. etc.",
    "\u00a0x\u2003y\t\nz\x1c\x1d\x1e\x1fa b",
    "@ ＠＠x a@@b _@x é@x .@x \u0301@x",
    "٠١٢abc",
    "sooooo goooood!!!",
    "Hyvää huomenta kaikille",
    "",
    "x" * 3000,
]


def _fuzz(n: int, seed: int = 1) -> list[str]:
    """Random strings from the pieces the substitutions look for."""
    rng = random.Random(seed)
    pieces = [*"aA.@＠:/hHtTpPsSwWcomnetlyRTM  _'’1é\u0301#&;😍\n"]
    pieces += ["http", "www.", ".com", ".co", "RT", "@x", "aaa"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 24))) for _ in range(n)]


@pytest.mark.parametrize("text", EDGE)
def test_clean_text_matches_the_plain_chain(text: str) -> None:
    assert clean_text(text) == reference_clean(text)


def test_clean_text_matches_the_plain_chain_on_random_texts() -> None:
    texts = _fuzz(20_000)
    want = [reference_clean(t) for t in texts]
    for text, cleaned in zip(texts, want, strict=True):
        assert clean_text(text) == cleaned, repr(text)
    assert clean_texts(texts) == want  # the batch path (letter runs found with numpy)
    assert clean_texts(EDGE * 3) == [reference_clean(t) for t in EDGE * 3]
    assert clean_texts([]) == []


def _real_texts() -> list[str]:
    files = sorted((DATA / "xlm_t_umsab").glob("*/val_text.txt"))
    files += sorted((DATA / "tweeteval").glob("*/val_text.txt"))
    return [line for f in files for line in f.read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(not DATA.is_dir(), reason=f"real data not found at {DATA}")
def test_clean_text_matches_the_plain_chain_on_real_posts() -> None:
    texts = _real_texts()
    assert len(texts) > 1000
    want = [reference_clean(t) for t in texts]
    assert clean_texts(texts) == want
    for text, cleaned in zip(texts[:3000], want[:3000], strict=True):
        assert clean_text(text) == cleaned, text


def _py3langid(languages: frozenset[str]) -> Any:
    langid = importlib.import_module("py3langid.langid")
    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(sorted(languages))
    return ident


SURE = [
    "Good morning everyone, the coffee here is great",
    "Hola, ¿qué tal estás hoy? Me encanta este lugar",
    "Bonjour à tous, quelle belle journée aujourd'hui",
    "Guten Morgen, wie geht es dir heute?",
    "Hyvää huomenta kaikille, mitä kuuluu?",
    "صباح الخير يا أصدقاء، كيف حالكم اليوم",
    "आज मौसम बहुत अच्छा है, चलो घूमने चलते हैं",
    "今天天气很好，我们去公园吧",
    "Привет, как дела? Всё хорошо, спасибо",
    "RT @someone: Qué partidazo!!! 😍😍 #VamosReal https://t.co/xyz",
    "THIS IS ALL CAPS AND STILL ENGLISH ENOUGH",
]


@pytest.mark.parametrize("languages", [None, ["en", "es", "fr", "de", "fi", "ar", "ru"]])
def test_fast_decisions_match_py3langid_per_post(languages: list[str] | None) -> None:
    """Where py3langid alone is sure (no lingua, no declared language), the step's answer is
    py3langid's best language after the prior, with its probability as the confidence."""
    step = LanguageEnricher(languages)
    ident = _py3langid(frozenset(step.languages) & step._fast_set)
    texts = SURE + [t for t in _fuzz(300, seed=2) if len(t) > 12]
    got = step.detect_many(texts)
    checked = 0
    for text, (code, conf) in zip(texts, got, strict=True):
        cleaned = clean_text(text)
        if sum(c.isalpha() for c in cleaned) < 3:
            assert (code, conf) == ("und", 0.0)
            continue
        ranked = apply_prior(ident.rank(cleaned))
        best, p = ranked[0]
        if hinglish_share(cleaned) >= HINGLISH_SHARE:
            continue  # the romanised-Hindi rule, not py3langid
        if p < CONFIRM_THRESHOLD + 1e-4 or p - ranked[1][1] < 1e-4:
            continue  # lingua's part, or within float32 rounding of a tie or the threshold
        assert code == best, text
        assert conf == pytest.approx(p, abs=1e-5)
        checked += 1
    assert checked >= len(SURE)
