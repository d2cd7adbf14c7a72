"""The enrichment speed-ups change no output: the first-character buckets of the intent cue
rules match exactly what the plain alternations match, and every step that remembers its
per-text work (language, sentiment, emotion, intent, stage, embedding) gives a post the same
result whether it is new, a repeat inside the batch or remembered from an earlier batch."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from socialloop.learn.base import Enricher, Item, Result
from socialloop.learn.embeddings import EmbeddingEnricher
from socialloop.learn.emotion import EmotionEnricher
from socialloop.learn.intent import IntentEnricher
from socialloop.learn.intent_rules import (
    _AGENT_REPLY,
    _COMPLAINT,
    _GO,
    _OPENER,
    _PRAISE,
    _PURCHASE,
    _REQUEST,
    _RHETORICAL,
    _SUPPORT,
    bucketed,
)
from socialloop.learn.journey import JourneyEnricher
from socialloop.learn.language import LanguageEnricher
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.models import Post

TEXTS = [
    "WORST service ever!!! Still waiting for my refund @Brewhaven",
    "RT @ana: WORST service ever!!! Still waiting for my refund @Brewhaven",
    "Does anyone know where I can buy the new Quillbean grinder?",
    "¿Alguien sabe dónde comprar café de filtro? Nadie contesta",
    "Où est le magasin le plus proche ? Toujours pas de remboursement",
    "Warum funktioniert die App nicht? Immer noch nicht erstattet",
    "Kiitos! Paras kahvi ikinä, suosittelen",
    "Brewhaven is great, unlike Quillbean which is a joke",
    "we're so sorry to hear that, please DM us your order number",
    "why would anyone even care??? seriously?!",
    "İstanbul'da KAHVE çok güzel, ẞ and K (Kelvin) too",
    "haha fair",
    "lol",
    "",
    "😂😂😂",
    "http://example.com/only-a-link",
]


def _items(texts: Sequence[str], prior: dict[str, Any] | None = None) -> list[Item]:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    return [
        Item(
            pk=i + 1,
            post=Post(network="x", native_id=str(i), text=t, created_at=when, lang=None),
            prior=dict(prior or {"lang": "en"}),
            brands=("Brewhaven", "Quillbean") if "Brewhaven" in t else (),
        )
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize(
    "body",
    [_COMPLAINT, _REQUEST, _PURCHASE, _SUPPORT, _PRAISE, _GO, _RHETORICAL, _AGENT_REPLY],
)
def test_bucketed_alternation_matches_exactly_what_the_plain_one_matches(body: str) -> None:
    plain = re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.IGNORECASE)
    fast = re.compile(rf"(?<![\w'])(?:{bucketed(body, re.IGNORECASE)})(?![\w'])", re.IGNORECASE)
    assert fast.pattern != plain.pattern  # it was rewritten
    words = " ".join(TEXTS).replace("’", "'")
    for text in [*TEXTS, words, words.upper(), words.lower()]:
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_a_single_alternative_is_left_as_it_is() -> None:
    assert bucketed(_OPENER, re.IGNORECASE) == _OPENER
    assert bucketed("!", 0) == "!"


def _same(a: Result, b: Result, tol: float = 0.0) -> None:
    assert a.values.keys() == b.values.keys()
    for key, value in a.values.items():
        if isinstance(value, float):
            assert b.values[key] == pytest.approx(value, abs=tol)
        else:
            assert b.values[key] == value
    if a.confidence is None:
        assert b.confidence is None
    else:
        assert b.confidence == pytest.approx(a.confidence, abs=tol)
    assert a.brand_values == b.brand_values


STEPS: list[tuple[type[Any], dict[str, Any]]] = [
    (LanguageEnricher, {}),
    (SentimentEnricher, {"lang": "en"}),
    (EmotionEnricher, {"lang": "en"}),
    (EmbeddingEnricher, {}),
    (
        IntentEnricher,
        {"lang": "en", "sentiment_scores": {"negative": 0.7, "neutral": 0.2, "positive": 0.1}},
    ),
    (
        JourneyEnricher,
        {"intent_scores": {"question": 0.8}, "intent": ["question"], "moment": "know"},
    ),
]


@pytest.mark.parametrize(("cls", "prior"), STEPS, ids=[c.__name__ for c, _ in STEPS])
def test_remembered_results_equal_fresh_ones(cls: type[Any], prior: dict[str, Any]) -> None:
    # one post at a time on fresh steps: nothing shared, nothing remembered
    alone = [cls().enrich(_items([t], prior))[0] for t in TEXTS]
    step: Enricher = cls()
    # a batch with every text twice, in two orders, then the same batch again (all remembered)
    batch = _items([*TEXTS, *reversed(TEXTS)], prior)
    first = step.enrich(batch)
    again = step.enrich(batch)
    # lingua's confidences differ in the last bits between calls (~1e-15), nothing else does
    tol = 1e-12 if cls is LanguageEnricher else 0.0
    for results in (first, again):
        assert len(results) == len(batch)
        for i, res in enumerate(results):
            k = i if i < len(TEXTS) else 2 * len(TEXTS) - 1 - i
            _same(alone[k], res, tol)


def test_remembered_results_are_not_shared_objects() -> None:
    step = EmotionEnricher()
    a, b = step.enrich(_items(["I love it!", "I love it!"]))
    assert a.values["emotions"] == b.values["emotions"]
    assert a.values["emotions"] is not b.values["emotions"]


def test_embedding_vectors_of_repeats_are_the_vectors_of_the_text() -> None:
    step = EmbeddingEnricher()
    texts = ["Café olé at Brewhaven", "plain ascii text", "Café olé at Brewhaven"]
    res = step.enrich(_items(texts))
    direct = step.embedder.encode(texts).astype("<f2")
    for r, row in zip(res, direct, strict=True):
        assert r.values["embedding"] == row.tobytes()
    assert np.frombuffer(res[0].values["embedding"], "<f2").any()


def test_batch_memo_computes_each_distinct_key_once_in_order_and_stays_bounded() -> None:
    from socialloop.learn.base import BatchMemo

    calls: list[list[str]] = []

    def upper(keys: list[str]) -> list[str]:
        calls.append(keys)
        return [k.upper() for k in keys]

    memo: BatchMemo[str, str] = BatchMemo(size=3)
    assert memo.get_many(["a", "b", "a"], upper) == ["A", "B", "A"]
    assert memo.get_many(["b", "c"], upper) == ["B", "C"]
    assert calls == [["a", "b"], ["c"]]  # one batch call per get_many, new keys only
    memo.get_many(["d"], upper)  # 4 keys now: over the bound
    memo.get_many(["a"], upper)  # forgotten, so computed again
    assert calls[-1] == ["a"] and len(memo) == 1
