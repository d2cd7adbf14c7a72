"""Accurate mode: the bundled fine-tuned MiniLM (int8 ONNX) blended with the fast models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

pytest.importorskip("onnxruntime", reason="accurate mode needs the 'accurate' extra")

from socialloop.cli.main import cli
from socialloop.config import Settings
from socialloop.learn.accurate import MODEL_DIR, AccurateUnavailable, TransformerHeads
from socialloop.learn.emotion import EmotionEnricher
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.learn.steps import build_steps


@pytest.fixture(scope="module")
def heads() -> TransformerHeads:
    return TransformerHeads()


def test_transformer_heads_give_probabilities_that_follow_the_text(heads: TransformerHeads) -> None:
    texts = [
        "I absolutely love this place, the best latte I ever had!",
        "Worst service ever, cold coffee and a rude cashier. Never again.",
    ]
    sent, emo = heads.probs(texts)
    assert sent.shape == (2, 3) and emo.shape == (2, len(heads.emotion_labels))
    np.testing.assert_allclose(sent.sum(axis=1), 1.0, atol=1e-6)
    labels = heads.sentiment_labels
    assert labels[int(sent[0].argmax())] == "positive"
    assert labels[int(sent[1].argmax())] == "negative"
    joy, anger = heads.emotion_labels.index("joy"), heads.emotion_labels.index("anger")
    assert emo[0, joy] > emo[1, joy] and emo[1, anger] > emo[0, anger]


def test_blend_weight_zero_is_the_fast_model_and_one_is_the_transformer(
    heads: TransformerHeads,
) -> None:
    texts = ["meh, it was ok I guess", "great coffee, awful queue"]
    fast = SentimentEnricher()
    accurate = SentimentEnricher(heads=heads)
    mix = heads.meta["mix"]["sentiment"]
    zero = [lang for lang, w in mix.items() if w == 0.0 and lang != "*"]
    if not zero and mix.get("*") == 0.0:  # a language without its own weight takes "*"
        zero = [next(code for code in ("sv", "nl", "pl") if code not in mix)]
    assert zero, "some language keeps the fast model alone"
    langs: list[str | None] = [zero[0]] * 2
    np.testing.assert_allclose(
        accurate.model.predict_proba(texts, langs),
        fast.model.predict_proba(texts, langs),
        atol=1e-6,
    )
    heads.meta["mix"]["sentiment"]["xx"] = 1.0
    try:
        blended = accurate.model.predict_proba(texts, ["xx", "xx"])
    finally:
        del heads.meta["mix"]["sentiment"]["xx"]
    sent, _ = heads.probs(texts)
    order = [heads.sentiment_labels.index(x) for x in accurate.model.labels]
    np.testing.assert_allclose(blended, sent[:, order], atol=1e-5)


def test_accurate_settings_build_steps_sharing_one_transformer(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, name="t", database_url="sqlite://", enrich_mode="accurate")
    steps = build_steps(settings, ["language", "sentiment", "emotion"])
    sentiment = next(s for s in steps if isinstance(s, SentimentEnricher))
    emotion = next(s for s in steps if isinstance(s, EmotionEnricher))
    assert sentiment.heads is not None and sentiment.heads is emotion.heads
    assert sentiment.version.endswith("+accurate") and emotion.version.endswith("+accurate")
    fast = build_steps(Settings(root=tmp_path, name="t", database_url="sqlite://"), ["sentiment"])
    assert fast[0].version == "5"  # switching modes re-runs the step on every post


def test_missing_model_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(AccurateUnavailable, match=r"train_accurate\.py"):
        TransformerHeads(tmp_path)
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(MODEL_DIR / "accurate.json", partial / "accurate.json")
    with pytest.raises(AccurateUnavailable, match="fast mode"):
        TransformerHeads(partial)


def test_eval_accurate_mode_from_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    (folder / "test_text.txt").write_text(
        "I love it, wonderful service!\nTerrible, the worst order I ever had.\n"
        "The shop opens at nine tomorrow.\n"
    )
    (folder / "test_labels.txt").write_text("2\n0\n1\n")
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    res = CliRunner().invoke(
        cli,
        [
            "eval",
            "sentiment",
            "--data",
            str(folder),
            "--format",
            "tweeteval",
            "--mode",
            "accurate",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    assert doc["mode"] == "accurate" and doc["n"] == 3
    assert doc["per_class"]["positive"]["recall"] == 1.0
    assert doc["per_class"]["negative"]["recall"] == 1.0


def test_accurate_enrichment_writes_versioned_results(tmp_path: Path) -> None:
    from socialloop.config import CONFIG_FILE
    from socialloop.workspace import Workspace
    from tests.conftest import make_post

    ws = Workspace.init(tmp_path / "ws")
    cfg = ws.settings.root / CONFIG_FILE
    cfg.write_text(cfg.read_text().replace('mode = "fast"', 'mode = "accurate"'))
    ws.close()
    ws = Workspace.open(tmp_path / "ws")
    ws.store.upsert_posts([make_post("1", "Absolutely love the new latte, amazing!")])
    from socialloop.learn.pipeline import Pipeline

    Pipeline(build_steps(ws.settings, ["language", "sentiment"], ws.store)).run(ws.store)
    with ws.store.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT step, version FROM enrichments ORDER BY step"
        ).fetchall()
        label = conn.exec_driver_sql(
            "SELECT label FROM post_labels WHERE field = 'sentiment'"
        ).scalar_one()
    assert ("sentiment", "5+accurate") in [tuple(r) for r in rows]
    assert label == "positive"
    ws.close()


def test_heads_travel_to_worker_processes(heads: TransformerHeads) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(heads))
    texts = ["the coffee was lovely", "never again, awful"]
    np.testing.assert_allclose(copy.probs(texts)[0], heads.probs(texts)[0], atol=1e-6)


def test_the_onnx_session_loads_on_the_first_batch() -> None:
    # a plan (`enrich --dry-run`) builds the steps for their versions: no model load
    heads = TransformerHeads()
    assert heads._session is None
    sentiment, emotion = heads.probs(["what a lovely morning"])
    assert heads._session is not None
    assert sentiment.shape == (1, len(heads.sentiment_labels))
    assert abs(float(sentiment.sum()) - 1.0) < 1e-5 and emotion.shape[0] == 1
