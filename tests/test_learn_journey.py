"""Journey-stage step: contract, clear examples per stage (purchase and advocacy in en / es /
fr / de / fi), the intent prior (complaint -> experience, question -> consideration, purchase
intent -> consideration or purchase by wording), chit-chat -> none, rules-only fallback when
the prior lacks keys, and a speed bound. The examples are hand-written (no dataset text); they
are also the development list the hand-set weights were checked against."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from socialloop.learn.base import Enricher, Item, Result
from socialloop.learn.journey import (
    FEATURES,
    STAGE_VALUES,
    STAGES,
    WEIGHTS,
    JourneyEnricher,
    compile_cues,
)
from socialloop.models import Post


def _item(pk: int, text: str, prior: dict[str, Any] | None = None) -> Item:
    post = Post(
        network="x", native_id=str(pk), text=text, created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    return Item(pk=pk, post=post, prior=prior or {})


@pytest.fixture(scope="module")
def step() -> JourneyEnricher:
    return JourneyEnricher()


def _stage(step: JourneyEnricher, text: str, prior: dict[str, Any] | None = None) -> str:
    stage: str = step.enrich([_item(1, text, prior)])[0].values["stage"]
    return stage


def test_contract(step: JourneyEnricher) -> None:
    assert isinstance(step, Enricher)
    assert step.name == "stage" and step.version == "1"
    assert step.requires == ("intent", "sentiment")
    assert step.produces == ("stage",)
    texts = ["Just bought it", "", "🔥🔥", "x" * 5000, "Pixel or iPhone?", "hola"]
    priors: list[dict[str, Any] | None] = [
        {"intent": ["praise"], "moment": "none", "sentiment": "positive"},
        None,
        {"intent_scores": {"complaint": "bad"}, "sentiment_scores": {"negative": None}},
        {"sentiment": {"negative": 0.2, "neutral": 0.5, "positive": 0.3}},
        {"intent": ["question"], "intent_scores": {"question": 0.9}, "moment": "buy"},
        {"intent": None, "moment": 3, "sentiment": 0.5},
    ]
    batch = [_item(i, t, p) for i, (t, p) in enumerate(zip(texts, priors, strict=True))]
    results = step.enrich(batch)
    assert len(results) == len(batch)
    for res in results:
        assert isinstance(res, Result)
        assert res.values["stage"] in STAGE_VALUES
        assert set(res.values["stage_scores"]) == set(STAGES)
        assert all(0.0 <= v <= 1.0 for v in res.values["stage_scores"].values())
        assert res.confidence is not None and 0.0 <= res.confidence <= 1.0
    assert step.enrich([]) == []
    alone = [step.enrich([item])[0].values for item in batch]
    assert alone == [r.values for r in results]


def test_weights_cover_every_feature() -> None:
    assert set(WEIGHTS) == set(FEATURES)
    assert all(len(w) == len(STAGES) for w in WEIGHTS.values())
    assert compile_cues().search.groups == 0


EXAMPLES: list[tuple[str, str]] = [
    # awareness
    ("awareness", "Just heard about the new Brewhaven oat latte"),
    ("awareness", "Quillbean launches a pumpkin spice cold brew next week"),
    ("awareness", "Apple announces the new iPhone https://news.example/x"),
    ("awareness", "Cupworth acaba de lanzar su café de avena"),
    ("awareness", "Quillbean vient de lancer une nouvelle gamme de thés"),
    ("awareness", "Die neue Kaffeemaschine ist ab sofort erhältlich"),
    ("awareness", "Brewhaven julkaisi uuden kauramaidon"),
    # consideration
    ("consideration", "Pixel 8 or iPhone 15?"),
    ("consideration", "Is the Brewhaven grinder better than the Quillbean one?"),
    ("consideration", "Thinking about switching to oat milk, worth it?"),
    ("consideration", "How much is the new Kindle?"),
    ("consideration", "¿Vale la pena el nuevo iPhone o mejor espero?"),
    ("consideration", "J'hésite entre la Switch et la PS5"),
    ("consideration", "Lohnt sich das neue iPad?"),
    ("consideration", "Kannattaako ostaa uusi iPhone vai odottaa?"),
    # purchase
    ("purchase", "Just bought the new Kindle!"),
    ("purchase", "Pre-ordered the Pixel 9, can't wait"),
    ("purchase", "Checked out with two bags of Brewhaven beans"),
    ("purchase", "Going to buy the new AirPods tomorrow"),
    ("purchase", "Acabo de comprar el nuevo iPhone"),
    ("purchase", "Je viens d'acheter une Switch"),
    ("purchase", "Gerade gekauft: die neue Kaffeemaschine"),
    ("purchase", "Ostin juuri uuden puhelimen"),
    # experience
    ("experience", "My latte was cold and the barista ignored me"),
    ("experience", "After a week with the Pixel 8, the battery life is great"),
    ("experience", "Still waiting for my refund, three weeks now"),
    ("experience", "Llevo un mes con el Pixel y la batería dura mucho"),
    ("experience", "Après une semaine, mon téléphone ne marche plus"),
    ("experience", "Mein Paket ist nach zwei Wochen immer noch nicht angekommen"),
    ("experience", "Tilaukseni ei ole vieläkään saapunut, asiakaspalvelu ei vastaa"),
    # advocacy
    ("advocacy", "You should try the oat latte at Brewhaven, so good"),
    ("advocacy", "Highly recommend Quillbean for remote work"),
    ("advocacy", "Leave Brewhaven alone, they have never let me down"),
    ("advocacy", "Te lo recomiendo, el mejor café de Madrid"),
    ("advocacy", "Je recommande vivement ce café"),
    ("advocacy", "Kann ich nur empfehlen!"),
    ("advocacy", "Suosittelen lämpimästi tätä kahvilaa"),
    # none
    ("none", "Good morning everyone, happy friday!"),
    ("none", "lol that cat video"),
    ("none", "It is raining again in Helsinki"),
    ("none", ""),
]


@pytest.mark.parametrize(("gold", "text"), EXAMPLES)
def test_clear_examples_rules_only(step: JourneyEnricher, gold: str, text: str) -> None:
    assert _stage(step, text) == gold
    assert step.predict([text]) == [gold]


def _prior(
    intents: dict[str, float], sentiment: str = "neutral", moment: str = "none"
) -> dict[str, Any]:
    return {
        "intent": [k for k, v in intents.items() if v >= 0.5],
        "intent_scores": intents,
        "moment": moment,
        "sentiment": sentiment,
    }


def test_complaint_prior_means_experience(step: JourneyEnricher) -> None:
    text = "Quillbean, this is the third time this month"
    assert _stage(step, text) == "none"
    assert _stage(step, text, _prior({"complaint": 0.92}, "negative")) == "experience"
    assert _stage(step, text, {"intent": ["complaint"]}) == "experience"


def test_support_request_means_experience(step: JourneyEnricher) -> None:
    prior = _prior({"question": 0.8, "support_request": 0.85, "complaint": 0.7}, "negative")
    assert _stage(step, "Where is my order? Tracking says nothing", prior) == "experience"


def test_question_prior_means_consideration(step: JourneyEnricher) -> None:
    prior = _prior({"question": 0.9}, moment="know")
    assert _stage(step, "does the Brewhaven app work offline", prior) == "consideration"
    assert _stage(step, "does the Brewhaven app work offline", {"intent": ["question"]}) == (
        "consideration"
    )


def test_recommendation_request_means_consideration(step: JourneyEnricher) -> None:
    prior = _prior({"question": 0.8, "recommendation_request": 0.9})
    assert _stage(step, "Any recommendations for a good grinder?", prior) == "consideration"


def test_purchase_intent_split_by_wording(step: JourneyEnricher) -> None:
    asked = _prior({"purchase_intent": 0.9, "question": 0.85}, moment="buy")
    assert _stage(step, "Should I buy the Pixel 8 now or wait for the 9?", asked) == (
        "consideration"
    )
    stated = _prior({"purchase_intent": 0.9}, moment="buy")
    assert _stage(step, "Ordering the new Kindle tonight", stated) == "purchase"
    assert _stage(step, "I want the new Kindle so bad", stated) == "purchase"
    assert _stage(step, "I want the new Kindle so bad, worth it?", stated) == "consideration"


def test_praise_alone_is_experience_praise_and_recommend_is_advocacy(
    step: JourneyEnricher,
) -> None:
    prior = _prior({"praise": 0.9}, "positive")
    assert _stage(step, "Loving my Brewhaven cold brew this morning", prior) == "experience"
    assert _stage(step, "Loving it, you should try the cold brew", prior) == "advocacy"


def test_chit_chat_with_prior_is_none(step: JourneyEnricher) -> None:
    prior = _prior({"praise": 0.6}, "positive")
    assert _stage(step, "Good morning everyone, happy friday!", prior) == "none"
    res = step.enrich([_item(1, "nice weather today", prior)])[0]
    assert res.values["stage"] == "none"
    assert res.confidence is not None and res.confidence >= 0.5


def test_missing_prior_keys_fall_back_to_rules(step: JourneyEnricher) -> None:
    text = "Just bought the new Kindle!"
    for prior in ({}, {"lang": "en"}, {"moment": "buy"}, {"sentiment": "positive"}):
        assert _stage(step, text, prior) == "purchase"
    full = step.enrich([_item(1, text, {"intent": ["purchase_intent"]})])[0]
    bare = step.enrich([_item(1, text, {})])[0]
    assert full.values["stage_scores"]["purchase"] > bare.values["stage_scores"]["purchase"]


def test_speed(step: JourneyEnricher) -> None:
    texts = [t for _, t in EXAMPLES] * 50
    batch = [_item(i, t, _prior({"question": 0.3, "complaint": 0.2})) for i, t in enumerate(texts)]
    step.enrich(batch[:10])
    start = time.perf_counter()
    step.enrich(batch)
    per_post = (time.perf_counter() - start) / len(batch)
    assert per_post < 300e-6  # ~15-25 us on one core; generous for slow CI machines
