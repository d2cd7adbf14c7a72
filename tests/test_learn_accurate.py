"""Accurate mode: the bundled fine-tuned MiniLM (int8 ONNX) blended with the fast models."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner, Result

pytest.importorskip("onnxruntime", reason="accurate mode needs the 'accurate' extra")

from socialloop.cli.main import cli
from socialloop.config import Settings
from socialloop.learn.accurate import MODEL_DIR, MODEL_FILES, AccurateUnavailable, TransformerHeads
from socialloop.learn.emotion import EmotionEnricher
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.learn.steps import build_steps
from socialloop.store.enrich_rows import step_results


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


def test_a_texts_probabilities_do_not_depend_on_its_batch(heads: TransformerHeads) -> None:
    # the graph is dynamically quantised: batched, a text's scores moved with its batch mates
    texts = [
        "ok",
        "The delivery was late again and nobody answered my emails, really disappointed",
        "I absolutely love this place, the best latte I ever had!",
        "meh",
        "Can anyone tell me whether the downtown store opens on Sundays? Thanks in advance",
    ] * 3
    sent, emo = heads.probs(texts)
    alone = TransformerHeads()  # remembers none of them: each is scored here on its own
    for i, text in enumerate(texts[:5]):
        alone_s, alone_e = alone.probs([text])
        np.testing.assert_array_equal(sent[i], alone_s[0])
        np.testing.assert_array_equal(emo[i], alone_e[0])


def test_sentiment_then_emotion_run_each_distinct_text_and_clause_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from socialloop.learn.base import Item
    from tests.conftest import make_post

    heads = TransformerHeads()
    heads.probs(["good morning everyone"])  # loads the ONNX session
    session = heads._session
    real_run = session.run
    passed: list[tuple[int, ...]] = []  # the tokens of each text that reaches the graph

    def spy(names: object, feeds: dict[str, np.ndarray]) -> object:
        for ids, mask in zip(feeds["input_ids"], feeds["attention_mask"], strict=True):
            passed.append(tuple(ids[mask == 1].tolist()))
        return real_run(names, feeds)

    monkeypatch.setattr(session, "run", spy)
    both = ("Starbucks", "Dunkin")
    posts = [  # (text, brands): a retweet, and posts that are the clauses of the first one
        ("I love Starbucks but Dunkin was awful today", both),
        ("I love Starbucks but Dunkin was awful today", both),
        ("I love Starbucks", ("Starbucks",)),
        ("Dunkin was awful today", ()),
        ("what a lovely morning", ()),
    ]
    batch = [
        Item(pk=i, post=make_post(str(i), text), prior={"lang": "en"}, brands=brands)
        for i, (text, brands) in enumerate(posts)
    ]
    sentiment, emotion = SentimentEnricher(heads=heads), EmotionEnricher(heads=heads)
    sent_results = sentiment.enrich(batch)
    after_sentiment = len(passed)
    emo_results = emotion.enrich(batch)
    # the first post's brands were judged on its two clauses, each a post of the batch too
    toward = sent_results[0].brand_values
    assert toward["Starbucks"]["sentiment"] == "positive"
    assert toward["Dunkin"]["sentiment"] == "negative"
    assert after_sentiment == len(passed) == len(set(passed)) == 4  # the distinct texts
    sentiment.enrich(batch), emotion.enrich(batch)  # the next batch repeats them: no new pass
    assert len(passed) == 4

    for item, sent_result, emo_result in zip(batch, sent_results, emo_results, strict=True):
        fresh = TransformerHeads()  # no memo: the item's texts scored now, alone
        (alone_sent,) = SentimentEnricher(heads=fresh).enrich([item])
        (alone_emo,) = EmotionEnricher(heads=fresh).enrich([item])
        assert sent_result.values == alone_sent.values
        assert sent_result.confidence == alone_sent.confidence
        assert sent_result.brand_values == alone_sent.brand_values
        assert emo_result.values == alone_emo.values
        assert emo_result.confidence == alone_emo.confidence


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
    assert sentiment.version.endswith("+accurate3") and emotion.version.endswith("+accurate3")
    fast = build_steps(Settings(root=tmp_path, name="t", database_url="sqlite://"), ["sentiment"])
    assert fast[0].version == "6"  # switching modes re-runs the step on every post


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped model folder, for tests that break one file of their own copy."""
    folder = tmp_path_factory.mktemp("model") / "accurate"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def _broken(shipped: Path, tmp_path: Path) -> Path:
    """A fresh copy of the model folder (hard links: the shipped copy is never written)."""
    folder = tmp_path / "accurate"
    shutil.copytree(shipped, folder, copy_function=os.link)
    return folder


def _replace(path: Path, data: bytes) -> None:
    path.unlink()  # a new file: the hard-linked original keeps its bytes
    path.write_bytes(data)


def test_missing_model_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(AccurateUnavailable, match=r"folder .* does not exist") as info:
        TransformerHeads(tmp_path / "nowhere")
    assert info.value.problems == {".": "missing"}
    assert info.value.folder == str(tmp_path / "nowhere") and info.value.packages == ()


@pytest.mark.parametrize("name", MODEL_FILES)
def test_each_missing_model_file_is_named(shipped_copy: Path, tmp_path: Path, name: str) -> None:
    folder = _broken(shipped_copy, tmp_path)
    (folder / name).unlink()
    with pytest.raises(AccurateUnavailable, match=rf"{re.escape(name)} is missing") as info:
        TransformerHeads(folder)
    assert info.value.problems == {name: "missing"}
    assert str(folder) in str(info.value)


def test_every_missing_file_is_named_at_once(tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(MODEL_DIR / "accurate.json", partial / "accurate.json")
    with pytest.raises(AccurateUnavailable) as info:
        TransformerHeads(partial)
    assert info.value.problems == {"accurate.onnx": "missing", "tokenizer.json": "missing"}
    assert "accurate.onnx is missing; tokenizer.json is missing" in str(info.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"{not json", "Expecting property name"),
        (b'{"sentiment_labels": ["negative", "neutral", "positive"]}', "no emotion_labels list"),
        (b"[1, 2]", "not a JSON object"),
    ],
)
def test_an_unreadable_metadata_file_is_named(
    shipped_copy: Path, tmp_path: Path, data: bytes, problem: str
) -> None:
    folder = _broken(shipped_copy, tmp_path)
    _replace(folder / "accurate.json", data)
    with pytest.raises(AccurateUnavailable, match=r"accurate[.]json is unreadable") as info:
        TransformerHeads(folder)
    assert problem in info.value.problems["accurate.json"]


def test_a_truncated_onnx_graph_is_named_when_it_loads(shipped_copy: Path, tmp_path: Path) -> None:
    folder = _broken(shipped_copy, tmp_path)
    _replace(folder / "accurate.onnx", (shipped_copy / "accurate.onnx").read_bytes()[:1_000_000])
    heads = TransformerHeads(folder)  # the graph loads on the first batch (plans need no load)
    with pytest.raises(AccurateUnavailable, match=r"accurate[.]onnx is unreadable") as info:
        heads.probs(["what a lovely morning"])
    assert list(info.value.problems) == ["accurate.onnx"]
    assert "INVALID_PROTOBUF" in info.value.problems["accurate.onnx"]
    assert str(folder / "accurate.onnx") not in info.value.problems["accurate.onnx"]
    assert info.value.__cause__ is not None  # the runtime's own error stays attached


def test_a_corrupt_tokenizer_is_named_when_it_loads(shipped_copy: Path, tmp_path: Path) -> None:
    folder = _broken(shipped_copy, tmp_path)
    _replace(folder / "tokenizer.json", b'{"version": "1.0", "model": 42}')
    heads = TransformerHeads(folder)
    with pytest.raises(AccurateUnavailable, match=r"tokenizer[.]json is unreadable") as info:
        heads.probs(["what a lovely morning"])
    assert list(info.value.problems) == ["tokenizer.json"]


def test_a_file_removed_after_the_check_is_named_missing(
    shipped_copy: Path, tmp_path: Path
) -> None:
    folder = _broken(shipped_copy, tmp_path)
    heads = TransformerHeads(folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(AccurateUnavailable) as info:
        heads.probs(["hello"])
    assert info.value.problems == {"tokenizer.json": "missing"}


def _eval_sentiment(tmp_path: Path) -> list[str]:
    folder = tmp_path / "sentiment"
    folder.mkdir(parents=True)
    (folder / "test_text.txt").write_text("I love it!\nTerrible, the worst.\nOpens at nine.\n")
    (folder / "test_labels.txt").write_text("2\n0\n1\n")
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    return ["eval", "sentiment", "--data", str(folder), "--format", "tweeteval"]


def _remedy_output(res: Result) -> str:
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert isinstance(res.exception, SystemExit), res.exception
    out = " ".join(res.output.split())  # the console wraps long lines
    assert "pip install --force-reinstall socialloop" in out and "pip install -e ." in out
    assert "python training/train_accurate.py" in out
    assert 'mode = "fast"' in out and "SOCIALLOOP_ENRICH_MODE=fast" in out
    assert "--mode fast" in out
    return out


@pytest.mark.parametrize("broken", ["folder", "tokenizer", "truncated"])
def test_eval_with_a_partly_installed_model_prints_a_remedy(
    shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    folder = _broken(shipped_copy, tmp_path)
    if broken == "folder":
        shutil.rmtree(folder)
    elif broken == "tokenizer":
        (folder / "tokenizer.json").unlink()
    else:
        _replace(folder / "accurate.onnx", (shipped_copy / "accurate.onnx").read_bytes()[:10_000])
    monkeypatch.setattr("socialloop.learn.accurate.MODEL_DIR", folder)
    res = CliRunner().invoke(cli, [*_eval_sentiment(tmp_path), "--mode", "accurate"])
    out = _remedy_output(res)
    assert "Accurate mode cannot run" in out
    expected = {
        "folder": "does not exist",
        "tokenizer": "tokenizer.json is missing",
        "truncated": "accurate.onnx is unreadable",
    }[broken]
    assert expected in out
    res = CliRunner().invoke(cli, [*_eval_sentiment(tmp_path / "fast"), "--mode", "fast"])
    assert res.exit_code == 0, res.output  # the fast mode, as the remedy says, still works


def test_enrich_with_a_truncated_model_keeps_the_posts_and_prints_a_remedy(
    shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialloop.config import CONFIG_FILE
    from socialloop.workspace import Workspace
    from tests.conftest import make_post

    folder = _broken(shipped_copy, tmp_path)
    _replace(folder / "accurate.onnx", b"\x08\x07truncated")
    monkeypatch.setattr("socialloop.learn.accurate.MODEL_DIR", folder)
    root = tmp_path / "ws"
    Workspace.init(root).close()
    cfg = root / CONFIG_FILE
    cfg.write_text(cfg.read_text().replace('mode = "fast"', 'mode = "accurate"'))
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(orjson.dumps(make_post("1", "Love the new latte!").to_dict()) + b"\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["import", str(posts), "--workspace", str(root)])
    assert res.exit_code == 0 and res.exception is None, res.output
    assert "Enrichment skipped (the imported posts are kept)" in res.output
    said = " ".join(res.output.split())  # the import says how to fix it, as enrich does
    assert "accurate.onnx is unreadable" in said and "pip install --force-reinstall" in said
    assert "SOCIALLOOP_ENRICH_MODE=fast" in said
    with Workspace.open(root, environ={}) as ws:
        assert ws.store.stats()["posts"] == 1
    _remedy_output(runner.invoke(cli, ["enrich", "--workspace", str(root)]))
    res = runner.invoke(
        cli, ["enrich", "--workspace", str(root)], env={"SOCIALLOOP_ENRICH_MODE": "fast"}
    )
    assert res.exit_code == 0, res.output


def test_missing_runtime_remedy_names_the_extra() -> None:
    from socialloop.cli.app import remedy

    exc = AccurateUnavailable(
        "accurate mode needs the onnxruntime and tokenizers packages (tokenizers not installed)",
        folder=str(MODEL_DIR),
        packages=("tokenizers",),
    )
    text = remedy(exc)
    assert "pip install 'socialloop[accurate]'" in text and "--mode fast" in text
    assert "--force-reinstall" not in text  # the model files are fine


def test_library_messages_carry_no_cli_wording(tmp_path: Path) -> None:
    with pytest.raises(AccurateUnavailable) as info:
        TransformerHeads(tmp_path / "nowhere")
    message = str(info.value)
    assert "pip" not in message and "--mode" not in message and "train_accurate" not in message


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
        rows = [(r.step, r.version) for r in step_results(conn)]
        label = conn.exec_driver_sql(
            "SELECT label FROM post_labels WHERE field = 'sentiment'"
        ).scalar_one()
    assert ("sentiment", "6+accurate3") in [tuple(r) for r in rows]
    assert label == "positive"
    ws.close()


def test_heads_travel_to_worker_processes(heads: TransformerHeads) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(heads))
    texts = ["the coffee was lovely", "never again, awful"]
    np.testing.assert_allclose(copy.probs(texts)[0], heads.probs(texts)[0], atol=1e-6)
    # what travels is the folder and the metadata, never the remembered scores
    heads.probs([f"post number {i}" for i in range(50)])
    assert len(pickle.dumps(heads)) == len(pickle.dumps(copy))


def test_the_onnx_session_loads_on_the_first_batch() -> None:
    # a plan (`enrich --dry-run`) builds the steps for their versions: no model load
    heads = TransformerHeads()
    assert heads._session is None
    sentiment, emotion = heads.probs(["what a lovely morning"])
    assert heads._session is not None
    assert sentiment.shape == (1, len(heads.sentiment_labels))
    assert abs(float(sentiment.sum()) - 1.0) < 1e-5 and emotion.shape[0] == 1
