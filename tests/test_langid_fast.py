"""The batched py3langid (langid_fast.FastLangid) against py3langid itself, post by post:
the same DFA features, the same probabilities, whatever the batch around a post."""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

import numpy as np
import pytest

from socialloop.learn.langid_fast import FastLangid, apply_prior, fast_languages

# Scripts, emoji, digits, all-caps (py3langid lower-cases those), a decomposed accent (NFC),
# lone surrogates, empty and blank texts, and long texts that outlast the rest of a batch.
TEXTS = [
    "Good morning everyone, the coffee here is great",
    "Hola, ¿qué tal estás hoy? Me encanta este lugar",
    "THIS IS ALL CAPS AND SHOUTING",
    "Cafe\u0301 au lait, s'il vous plai\u0302t",
    "صباح الخير يا أصدقاء، كيف حالكم اليوم",
    "आज मौसम बहुत अच्छा है, चलो घूमने चलते हैं",
    "今日はとても良い天気ですね",
    "今天天气很好，我们去公园吧",
    "Привет, как дела? Всё хорошо",
    "สวัสดีครับ วันนี้อากาศดีมาก",
    "Γειά σου κόσμε, τι κάνεις;",
    "🎉🎉🔥 😍",
    "1234 5678 !!!",
    "",
    "   ",
    "a",
    "ok",
    "surrogate \ud83d here",
    "Hyvää huomenta kaikille, mitä kuuluu? " * 40,
    "Das ist ein ziemlich langer deutscher Satz über das Wetter. " * 90,
    "x" * 3000,
]


def _langid() -> Any:
    return importlib.import_module("py3langid.langid")


def _reference(languages: frozenset[str]) -> Any:
    langid = _langid()
    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(sorted(languages))
    return ident


@pytest.fixture(scope="module")
def fast() -> FastLangid:
    return FastLangid(fast_languages())


@pytest.fixture(scope="module")
def reference() -> Any:
    return _reference(fast_languages())


def _counts(fast: FastLangid, texts: list[str]) -> list[Counter[int]]:
    data = [
        _langid().LanguageIdentifier._encode(t) for t in texts
    ]  # py3langid's bytes of each text
    docs, feats = fast.features(data)
    out: list[Counter[int]] = [Counter() for _ in texts]
    for d, f in zip(docs.tolist(), feats.tolist(), strict=True):
        out[d][f] += 1
    return out


@pytest.mark.parametrize("size", [1, 3, 7, 8, 9, len(TEXTS)])
def test_features_are_py3langids_visit_counts(fast: FastLangid, reference: Any, size: int) -> None:
    """Every batch size: the lockstep walk, the Python tail, and both mixed."""
    langid = _langid()
    texts = (TEXTS * 3)[:size] if size < len(TEXTS) else TEXTS
    for text, got in zip(texts, _counts(fast, texts), strict=True):
        want = langid.visit_counts(
            reference.tk_nextmove, reference._rowbase, reference.tk_output, reference._encode(text)
        )
        assert got == (want or Counter()), text[:40]


def _as_dict(fast: FastLangid, row: np.ndarray) -> dict[str, float]:
    return dict(fast.ranked(row))


@pytest.mark.parametrize(
    "languages",
    [
        None,
        frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "fi", "hi"}),
        frozenset({"sr", "hr"}),
    ],
)
def test_matrix_matches_py3langid_rank(languages: frozenset[str] | None) -> None:
    """Probabilities (prior applied) as py3langid's rank + apply_prior gives them per post;
    only float32 summation order differs, so the best language is the same wherever the
    top two are not within rounding of each other."""
    langs = languages or fast_languages()
    fast = FastLangid(langs)
    ident = _reference(langs)
    mat = fast.matrix(TEXTS)
    assert mat.shape == (len(TEXTS), len(fast.labels))
    assert np.allclose(mat.sum(axis=1), 1.0)
    for text, row in zip(TEXTS, mat, strict=True):
        want = dict(apply_prior(ident.rank(text)))
        got = _as_dict(fast, row)
        assert set(got) == set(want)
        assert max(abs(got[c] - want[c]) for c in want) < 1e-5, text[:40]
        ranked = sorted(want.values(), reverse=True)
        if ranked[0] - ranked[1] > 1e-4:
            assert max(got, key=got.__getitem__) == max(want, key=want.__getitem__)


def test_featureless_posts_share_one_row(fast: FastLangid) -> None:
    """No feature: py3langid's all-zero scores (uniform softmax), then aliases and prior."""
    mat = fast.matrix(["", " ", "12 34", "x", "🎉"])  # the emoji's bytes make one feature
    for row in mat[1:4]:
        assert np.array_equal(row, mat[0])
    assert not np.array_equal(mat[4], mat[0])


def test_a_post_scores_the_same_in_any_batch(fast: FastLangid) -> None:
    """Decisions are remembered per text, so the batch must not matter: the float32 scores
    are the same bit for bit; the float64 renormalisation may round the last bit
    differently for a one-row matrix (as it did before the batched walk)."""
    alone = np.vstack([fast.matrix([t]) for t in TEXTS])
    together = fast.matrix(TEXTS)
    reordered = fast.matrix(TEXTS[::-1])[::-1]
    assert np.array_equal(together, reordered)
    assert np.allclose(alone, together, rtol=1e-12, atol=1e-15)


def test_empty_batch(fast: FastLangid) -> None:
    assert fast.matrix([]).shape == (0, len(fast.labels))
    docs, feats = fast.features([])
    assert len(docs) == len(feats) == 0


def test_fast_languages_are_iso_639_1() -> None:
    codes = fast_languages()
    assert {"en", "es", "fi", "ar", "hi", "zh"} <= codes
    assert all(len(c) == 2 for c in codes) and "zz" not in codes
