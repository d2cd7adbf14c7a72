"""VADER's lexicon as English features of the sentiment model (version 3): the features
follow VADER's valences and negation, reach only English posts, the artefact keeps their
weights under the features' name, and a post scores the same alone and in a batch."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from socialloop.learn import lexicon as lex
from socialloop.learn.artefact import save_arrays
from socialloop.learn.linear import linear_logits
from socialloop.learn.sentiment import MODEL_PATH, LinearHashedModel, ModelMissing


@pytest.fixture(scope="module")
def model() -> LinearHashedModel:
    return LinearHashedModel.load(MODEL_PATH)


def test_lexicon_is_vaders() -> None:
    table = lex.vader_lexicon()
    assert len(table) > 7000
    assert table["good"] > 0 > table["bad"]
    assert table[":)"] > 0 > table[":("]


def test_features_follow_valence_and_negation() -> None:
    good, not_good, isnt_good, bad, not_bad, plain, mixed = lex.lexicon_features(
        [
            "The service was good",
            "The service was not good",
            "The service isn't good",
            "The service was bad",
            "The service was not bad",
            "The parcel came on Tuesday",
            "great food, terrible staff",
        ]
    )
    assert good[0] > 0 and good[1] > 0 and good[2] == 0
    assert not_good[0] < 0 and not_good[1] == 0 and not_good[2] < 0
    assert np.allclose(not_good, isnt_good)
    assert bad[0] < 0 and not_bad[0] > 0
    assert np.array_equal(plain, np.zeros(lex.WIDTH))
    assert mixed[1] > 0 > mixed[2]
    # squashed as VADER's compound: inside (-1, 1), more words push further
    assert -1 < bad[0] < 0 and 0 < good[0] < 1
    more = lex.lexicon_features(["good good good good good"])[0]
    assert good[0] < more[0] < 1


def test_tokens_as_vader_reads_them() -> None:
    smile, frown, tag, quoted, curly, straight, shout = lex.lexicon_features(
        [":)", "so sad :(", "#love", "'great'", "Don\u2019t like it", "Don't like it", "GREAT!!!"]
    )
    assert smile[1] > 0 and frown[2] < 0  # emoticons stay whole
    assert tag[0] > 0 and quoted[0] > 0  # punctuation around a word is stripped
    assert np.array_equal(curly, straight) and curly[0] < 0  # a typographic apostrophe negates
    assert shout[0] > 0


def test_features_of_a_text_do_not_depend_on_its_batch() -> None:
    texts = ["I love it :)", "awful, just awful", "", "meh"]
    together = lex.lexicon_features(texts)
    for i, text in enumerate(texts):
        assert np.array_equal(lex.lexicon_features([text])[0], together[i])


def test_only_english_posts_get_them() -> None:
    assert lex.lexicon_rows(["en", "fr", None, "en"], 4).tolist() == [True, False, False, True]
    assert not lex.lexicon_rows(None, 3).any()


def test_shipped_model_weighs_the_lexicon_for_english_posts_only(
    model: LinearHashedModel,
) -> None:
    assert model.lexicon is not None and model.lexicon.shape == (lex.WIDTH, len(model.labels))
    bare = dataclasses.replace(model, lexicon=None)
    texts = ["this update is dreadful", "what a lovely surprise", "ce service est horrible"]
    langs = ["en", "en", "fr"]
    with_lex = linear_logits(model, texts, langs)
    without = linear_logits(bare, texts, langs)
    neg, pos = model.labels.index("negative"), model.labels.index("positive")
    shift = with_lex - without
    assert shift[0, neg] - shift[0, pos] > 0  # "dreadful" pushes towards negative
    assert shift[1, pos] - shift[1, neg] > 0  # "lovely" towards positive
    assert np.array_equal(with_lex[2], without[2])  # French: untouched
    # the same texts of unknown language get no lexicon features either
    assert np.array_equal(linear_logits(model, texts, None), linear_logits(bare, texts, None))
    # alone or in a batch: the same logits
    for i, text in enumerate(texts):
        assert np.array_equal(linear_logits(model, [text], [langs[i]])[0], with_lex[i])


def test_artefact_keeps_the_block_and_refuses_other_features(
    model: LinearHashedModel, tmp_path: Path
) -> None:
    path = tmp_path / "s.npz"
    model.save(path)
    again = LinearHashedModel.load(path)
    assert again.lexicon is not None and model.lexicon is not None
    assert np.array_equal(again.lexicon, model.lexicon)
    # the same weights under another features' name are refused, naming them
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(str(z["header"]))
        arrays = {name: np.asarray(z[name]) for name in z.files if name != "header"}
    assert header["lexicon"] == lex.NAME
    bad = tmp_path / "bad.npz"
    save_arrays(bad, header | {"lexicon": "another-lexicon/9"}, arrays)
    with pytest.raises(ModelMissing, match="another-lexicon"):
        LinearHashedModel.load(bad)
    # weights of the wrong shape are refused at load, not at the first post
    save_arrays(bad, header, arrays | {"lexicon": np.zeros((2, 3), dtype=np.float32)})
    with pytest.raises(ModelMissing, match="shape"):
        LinearHashedModel.load(bad)


def test_a_lexicon_alone_makes_a_model_language_dependent(model: LinearHashedModel) -> None:
    from socialloop.learn.linear import language_dependent

    assert language_dependent(model)
    no_dense = dataclasses.replace(model, dense=None, dense_langs=None)
    assert language_dependent(no_dense)
    assert not language_dependent(dataclasses.replace(no_dense, lexicon=None))
