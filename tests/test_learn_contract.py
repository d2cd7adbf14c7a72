"""One contract test over every registered enrichment step (scikit-learn's check_estimator
idea): the same promises, checked the same way, for each step."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialloop.config import Settings
from socialloop.learn.base import PER_BRAND_STEPS, Enricher, Item, Result
from socialloop.learn.pipeline import order_steps
from socialloop.learn.steps import STEP_FACTORIES, build_steps
from tests.conftest import make_post

TEXTS = [
    "I love the new Brewhaven oat latte! ☕ https://brewhaven.example/menu #coffee",
    "Quillbean lost my order again, worst service ever @quillbeancafe",
    "",
    "🔥🔥🔥",
    "¿Alguien sabe si Cupworth abre los domingos?",
    "Kahvi oli tänään tosi hyvää, kiitos!",
    "x" * 5000,
]


def settings() -> Settings:
    return Settings(root=Path("."), name="t", database_url="sqlite://")


@pytest.fixture(params=sorted(STEP_FACTORIES))
def step(request: pytest.FixtureRequest) -> Enricher:
    return STEP_FACTORIES[request.param](settings(), None)


def items() -> list[Item]:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    return [
        Item(
            pk=i + 1,
            post=make_post(str(i), text, when=when),
            prior={"lang": "en"},
            brands=("Brewhaven",) if i == 0 else (),
        )
        for i, text in enumerate(TEXTS)
    ]


def test_declares_name_version_requires_produces(step: Enricher) -> None:
    assert isinstance(step, Enricher)
    assert step.name and isinstance(step.name, str)
    assert step.version and isinstance(step.version, str)
    assert isinstance(step.requires, tuple) and isinstance(step.produces, tuple)
    assert step.produces, "a step must produce at least one field"


def test_one_result_per_item_with_every_produced_field(step: Enricher) -> None:
    batch = items()
    results = step.enrich(batch)
    assert len(results) == len(batch)
    for res in results:
        assert isinstance(res, Result)
        assert set(step.produces) <= set(res.values)
        assert res.confidence is None or 0.0 <= res.confidence <= 1.0
        assert all(isinstance(v, dict) for v in res.brand_values.values())


def test_brand_values_only_from_the_per_brand_steps(step: Enricher) -> None:
    # a brand added or widened later gets its labels from exactly these steps
    results = step.enrich(items())
    labels_brands = any(res.brand_values for res in results)
    assert labels_brands == (step.name in PER_BRAND_STEPS), step.name
    if labels_brands:
        assert set(results[0].brand_values) == {"Brewhaven"}


def test_batches_are_independent(step: Enricher) -> None:
    """A post's result does not depend on which other posts share its batch (except, in the
    language step, an unsure post's: the stream prior weighs it among the languages of its
    batch's clear posts and of the workspace's stored ones; tests/test_learn_language.py)."""
    batch = items()
    together = step.enrich(batch)
    alone = [step.enrich([item])[0] for item in batch]
    assert [r.values for r in together] == [r.values for r in alone]


def test_empty_batch(step: Enricher) -> None:
    assert step.enrich([]) == []


def test_default_steps_can_be_ordered() -> None:
    ordered = order_steps(build_steps(settings()))
    names = [s.name for s in ordered]
    assert names.index("language") < names.index("sentiment")
