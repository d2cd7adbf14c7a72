"""Emotion step: contract, obvious cases in en / es / fi, closed-set prediction, the TweetEval
emotion validation floor on ../shared/data (skipped when absent) and the artefact size bound."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialloop.learn.base import Enricher, Item
from socialloop.learn.emotion import (
    LABELS,
    MODEL_PATH,
    NONE,
    TWEETEVAL_LABELS,
    EmotionEnricher,
    ModelMissing,
)
from socialloop.learn.evaluate import evaluate, read_tweeteval
from socialloop.models import Post

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TWEETEVAL_EMOTION = SHARED / "tweeteval" / "emotion"
# Measured 0.713 (version 3, docs/models.md); the floor leaves room for retraining noise.
TWEETEVAL_FLOOR = 0.62


def _item(pk: int, text: str, lang: str | None = None) -> Item:
    post = Post(
        network="x", native_id=str(pk), text=text, created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    return Item(pk=pk, post=post, prior={"lang": lang})


@pytest.fixture(scope="module")
def step() -> EmotionEnricher:
    return EmotionEnricher()


def test_contract(step: EmotionEnricher) -> None:
    assert isinstance(step, Enricher)
    assert step.name == "emotion" and step.version == "3"
    assert step.requires == ("lang",)
    assert step.produces == ("emotion", "emotions")
    assert set(step.labels) == set(LABELS)
    texts = ["I love it", "", "meh", "🙂🙂", "x" * 5000, "The meeting is at 10."]
    batch = [_item(i, t, "en" if i % 2 else None) for i, t in enumerate(texts)]
    results = step.enrich(batch)
    assert len(results) == len(batch)
    for r in results:
        assert r.values["emotion"] in (*LABELS, NONE)
        emotions = r.values["emotions"]
        assert isinstance(emotions, list) and set(emotions) <= set(LABELS)
        assert len(set(emotions)) == len(emotions)
        if r.values["emotion"] == NONE:
            assert emotions == []
        else:
            assert emotions[0] == r.values["emotion"]
        assert r.confidence is not None and 0.0 <= r.confidence <= 1.0
    assert step.enrich([]) == []


def test_probabilities_and_thresholds(step: EmotionEnricher) -> None:
    probs = step.predict_proba(["I am so happy!", "I hate this"])
    assert probs.shape == (2, len(step.labels))
    assert ((probs >= 0) & (probs <= 1)).all()
    assert set(step.thresholds) == set(step.labels)
    assert all(0 < t < 1 for t in step.thresholds.values())
    assert step.predict_proba([]).shape == (0, len(step.labels))


def test_missing_artefact_is_a_clear_error(tmp_path: Path) -> None:
    step = EmotionEnricher(model_path=tmp_path / "absent.npz")
    with pytest.raises(ModelMissing, match=r"train_emotion\.py"):
        step.enrich([_item(1, "hello")])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ModelMissing, match="could not be read"):
        EmotionEnricher(model_path=bad).predict(["hello"])


OBVIOUS = {
    "en": {
        "anger": "I am absolutely furious with this company, so angry right now!",
        "fear": "I'm terrified, this is so scary and I am afraid",
        "joy": "I am so happy today, best day ever! 😂",
        "sadness": "I miss my dog so much, I'm heartbroken and sad 😢",
        "disgust": "Ew, that is disgusting and gross",
        "surprise": "Wow, I can't believe it, what a surprise!",
    },
    "es": {
        "anger": "Estoy muy enojado con este servicio, qué rabia",
        "fear": "Tengo miedo, estoy muy asustado",
        "joy": "¡Estoy muy feliz hoy, qué alegría!",
        "sadness": "Estoy muy triste, echo de menos a mi abuela",
        "disgust": "Qué asco, esta comida es asquerosa",
        "surprise": "No me lo puedo creer, ¡qué sorpresa!",
    },
    "fi": {
        "fear": "Minua pelottaa, olen tosi peloissani",
        "joy": "Olen niin onnellinen, ihanaa!",
        "sadness": "Olen tosi surullinen ja minulla on ikävä",
        "disgust": "Yäk, tämä ruoka on inhottavaa",
        "surprise": "En voi uskoa, mikä yllätys!",
    },
}


@pytest.mark.parametrize(
    ("lang", "label", "text"),
    [(lang, label, text) for lang, cases in OBVIOUS.items() for label, text in cases.items()],
)
def test_obvious_examples(step: EmotionEnricher, lang: str, label: str, text: str) -> None:
    (result,) = step.enrich([_item(1, text, lang)])
    assert result.values["emotion"] == label, (text, result.values)
    assert label in result.values["emotions"]


def test_neutral_text_is_none(step: EmotionEnricher) -> None:
    assert step.predict(["The quarterly report is attached."]) == [NONE]


def test_predict_among_is_closed_set(step: EmotionEnricher) -> None:
    texts = [
        "I am so angry, this is outrageous",
        "I feel so sad and lonely tonight",
        "Had the best time laughing with friends! 😂",
        "The meeting is at 10.",
    ]
    predicted = step.predict_among(texts, TWEETEVAL_LABELS)
    assert len(predicted) == len(texts)
    assert set(predicted) <= set(TWEETEVAL_LABELS)
    assert predicted[:3] == ["anger", "sadness", "joy"]
    assert step.predict_among(texts, ("fear",)) == ["fear"] * 4
    with pytest.raises(ValueError, match="no"):
        step.predict_among(texts, ("anger", "boredom"))


@pytest.mark.skipif(
    not TWEETEVAL_EMOTION.is_dir(), reason=f"shared data not found at {TWEETEVAL_EMOTION}"
)
def test_tweeteval_emotion_validation_floor() -> None:
    # the same code path as `socialloop eval emotion`: restricted to TweetEval's four labels
    metrics = evaluate("emotion", read_tweeteval(TWEETEVAL_EMOTION))
    assert metrics["n"] == 374
    assert set(metrics["per_class"]) == set(TWEETEVAL_LABELS)
    assert metrics["macro_f1"] >= TWEETEVAL_FLOOR, metrics


def test_artefact_size() -> None:
    assert MODEL_PATH.is_file()
    assert MODEL_PATH.stat().st_size < 6_000_000
