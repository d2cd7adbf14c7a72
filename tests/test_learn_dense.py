"""The static post embedding as extra features of the linear text models (sentiment version 2
for English posts, emotion version 2 for every post): the artefact keeps the weights with the
embedder's name and languages, they reach only the posts they are for, a batch is embedded
once for every step, and a post scores the same alone, in a batch or through the pipeline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from socialloop.learn.base import Item
from socialloop.learn.embeddings import EmbeddingEnricher, default_embedder
from socialloop.learn.emotion import EmotionEnricher
from socialloop.learn.features import FeatureCache
from socialloop.learn.language import LanguageEnricher
from socialloop.learn.linear import dense_rows
from socialloop.learn.sentiment import (
    MODEL_PATH,
    LinearHashedModel,
    ModelMissing,
    SentimentEnricher,
)
from socialloop.models import Post

EN = ["the new flavour is honestly amazing", "worst delivery ever, still waiting", "ok"]
FR = ["le service était vraiment horrible", "j'adore ce café"]


def _item(pk: int, text: str, lang: str | None) -> Item:
    post = Post(
        network="x", native_id=str(pk), text=text, created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return Item(pk=pk, post=post, prior={"lang": lang})


@pytest.fixture(scope="module")
def model() -> LinearHashedModel:
    return LinearHashedModel.load(MODEL_PATH)


def test_the_shipped_models_carry_embedding_weights_for_the_bundled_embedder(
    model: LinearHashedModel,
) -> None:
    emb = default_embedder()
    assert model.dense is not None and model.dense.shape == (emb.dim, 3)
    assert model.dense_model == emb.name and model.dense_langs == ("en",)
    emotion = EmotionEnricher().model
    assert emotion.dense is not None and emotion.dense.shape == (emb.dim, len(emotion.labels))
    assert emotion.dense_langs is None  # every language


def test_weights_reach_only_the_posts_in_their_languages(model: LinearHashedModel) -> None:
    plain = dataclasses.replace(model, dense=None, dense_model=None, dense_langs=None)
    texts = [*EN, *FR]
    langs: list[str | None] = ["en"] * len(EN) + ["fr"] * len(FR)
    with_dense = model.predict_proba(texts, langs)
    without = plain.predict_proba(texts, langs)
    # French posts: the n-grams alone; English posts: moved by their embedding
    np.testing.assert_array_equal(with_dense[len(EN) :], without[len(EN) :])
    assert np.abs(with_dense[: len(EN)] - without[: len(EN)]).max() > 1e-3
    # a post of unknown language gets no embedding share either
    np.testing.assert_array_equal(model.predict_proba(EN, [None] * 3), plain.predict_proba(EN))
    assert dense_rows(model, ["en", "fr", None], 3).tolist() == [True, False, False]
    assert dense_rows(model, None, 2).tolist() == [False, False]
    everyone = dataclasses.replace(model, dense_langs=None)
    assert dense_rows(everyone, None, 2).tolist() == [True, True]
    assert dense_rows(plain, ["en"], 1).tolist() == [False]


def test_save_and_load_keep_the_block(model: LinearHashedModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model.save(path)
    again = LinearHashedModel.load(path)
    assert again.dense is not None and model.dense is not None
    np.testing.assert_array_equal(again.dense, model.dense)
    assert (again.dense_model, again.dense_langs) == (model.dense_model, model.dense_langs)
    plain = dataclasses.replace(model, dense=None, dense_model=None, dense_langs=None)
    plain.save(path)
    assert LinearHashedModel.load(path).dense is None


def test_weights_for_another_embedder_are_a_clear_error(
    model: LinearHashedModel, tmp_path: Path
) -> None:
    path = tmp_path / "m.npz"
    dataclasses.replace(model, dense_model="some-other-embedder").save(path)
    with pytest.raises(ModelMissing, match=r"some-other-embedder.*train_sentiment\.py"):
        LinearHashedModel.load(path)
    dataclasses.replace(model, dense_model=None).save(path)
    with pytest.raises(ModelMissing, match="embedding model's name"):
        LinearHashedModel.load(path)


def test_scores_do_not_depend_on_the_batch(model: LinearHashedModel) -> None:
    texts = [*EN, *FR] * 7
    langs: list[str | None] = (["en"] * len(EN) + ["fr"] * len(FR)) * 7
    batch = model.predict_proba(texts, langs)
    for i in range(len(EN) + len(FR)):
        alone = model.predict_proba([texts[i]], [langs[i]])
        np.testing.assert_array_equal(alone[0], batch[i])


def test_callers_without_languages_score_as_the_pipeline_does() -> None:
    step = SentimentEnricher()
    texts = [*EN, *FR]
    detected = [code for code, _ in LanguageEnricher().detect_many(texts)]
    assert detected[:2] == ["en", "en"] and detected[2] == "und"  # "ok": too short to tell
    results = step.enrich([_item(i, t, detected[i]) for i, t in enumerate(texts)])
    probs = step.predict_proba(texts)  # no languages given: detected
    for res, row in zip(results, probs, strict=True):
        scores = res.values["sentiment_scores"]
        assert [scores[k] for k in ("negative", "neutral", "positive")] == [
            round(float(p), 4) for p in row
        ]


def test_a_batch_is_embedded_once_for_the_steps_that_share_the_cache() -> None:
    cache = FeatureCache()
    texts = [*EN, *FR]
    items = [_item(i, t, "en" if i < len(EN) else "fr") for i, t in enumerate(texts)]
    shared = SentimentEnricher(features=cache).enrich(items)
    assert cache.embedded == 1
    EmotionEnricher(features=cache).enrich(items)
    embedded = EmbeddingEnricher(features=cache).enrich(items)
    assert cache.embedded == 1  # nobody embedded the batch again
    # the same values as steps that embed for themselves
    assert [r.values for r in SentimentEnricher().enrich(items)] == [r.values for r in shared]
    alone = EmbeddingEnricher().enrich(items)
    assert [r.values for r in alone] == [r.values for r in embedded]


def test_the_cache_serves_part_of_its_batch_and_replaces_it_for_new_texts() -> None:
    cache = FeatureCache()
    emb = default_embedder()
    first = cache.vectors([*EN, *FR])
    np.testing.assert_array_equal(first, emb.encode([*EN, *FR]))
    part = cache.vectors([FR[1], EN[0]])
    np.testing.assert_array_equal(part, emb.encode([FR[1], EN[0]]))
    assert cache.embedded == 1
    new = cache.vectors(["something else entirely", EN[0]])
    np.testing.assert_array_equal(new, emb.encode(["something else entirely", EN[0]]))
    assert cache.embedded == 2
    cache.vectors([EN[0]])
    assert cache.embedded == 2  # served from the new batch
    cache.clear()
    cache.vectors([EN[0]])
    assert cache.embedded == 3
