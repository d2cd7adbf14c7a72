"""`socialloop eval`: reading TweetEval folders and CSV/TSV files, label mapping with clear
errors, metrics that add up, and the JSON keys other tools read."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.learn.evaluate import EvalError, TaskNotAvailable, map_labels, read_dataset
from socialloop.learn.metrics import classification_metrics

POSITIVE = ["I love this, absolutely wonderful!", "Best coffee ever, thank you so much :)"]
NEGATIVE = ["This is terrible, I hate it.", "Worst service ever, never again. Awful."]


def tweeteval_folder(tmp_path: Path, split: str = "test") -> Path:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    texts = POSITIVE + NEGATIVE
    (folder / f"{split}_text.txt").write_text("\n".join(texts) + "\n")
    (folder / f"{split}_labels.txt").write_text("2\n2\n0\n0\n")
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    return folder


def test_metrics_by_hand() -> None:
    gold = ["a", "a", "b", "b", "b"]
    pred = ["a", "b", "b", "b", "a"]
    m = classification_metrics(gold, pred, ["a", "b"], positive="b")
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["per_class"]["a"]["precision"] == pytest.approx(1 / 2)
    assert m["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert m["macro_recall"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["confusion"]["matrix"] == [[1, 1], [1, 2]]


def test_tweeteval_folder_reads_test_then_val(tmp_path: Path) -> None:
    data = read_dataset(tweeteval_folder(tmp_path, "val"))
    assert data.source.endswith("val_text.txt")
    assert data.labels == ["positive", "positive", "negative", "negative"]


def test_csv_columns_and_no_header(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text('body,gold\n"hello, world",yes\nbye,no\n')
    data = read_dataset(f, text_col="body", label_col="gold")
    assert data.texts == ["hello, world", "bye"]
    assert map_labels("complaint", data.labels, {}) == ["1", "0"]
    g = tmp_path / "d.tsv"
    g.write_text("1\tfirst text\n0\tsecond\n")
    data = read_dataset(g, text_col="1", label_col="0", header=False)
    assert data.texts == ["first text", "second"] and data.labels == ["1", "0"]
    with pytest.raises(EvalError, match="no column 'text'"):
        read_dataset(f)


def test_unmappable_labels_are_named() -> None:
    with pytest.raises(EvalError, match="'3' \\(2x\\)"):
        map_labels("sentiment", ["0", "3", "3"], {"0": "negative"})
    assert map_labels("sentiment", ["neg", "Positive"], {}) == ["negative", "positive"]
    assert map_labels("language", ["EN", "fi"], {}) == ["en", "fi"]


def test_cli_json_on_a_tweeteval_folder(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["eval", "sentiment", "--data", str(tweeteval_folder(tmp_path)), "--json"]
    )
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    for key in ("task", "n", "accuracy", "macro_recall", "macro_f1", "per_class", "posts_per_s"):
        assert key in doc
    assert doc["n"] == 4
    assert doc["accuracy"] >= 0.75  # unambiguous sentences
    assert sum(map(sum, doc["confusion"]["matrix"])) == 4


def test_cli_table_and_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["eval", "sentiment", "--data", str(tweeteval_folder(tmp_path))])
    assert res.exit_code == 0
    assert "macro-recall" in res.output and "confusion" in res.output
    f = tmp_path / "c.csv"
    f.write_text("text,label\nwhere is my order?,maybe\n")
    res = runner.invoke(cli, ["eval", "question", "--data", str(f)])
    assert res.exit_code == 1
    assert "'maybe'" in res.output and "--label-map" in res.output


def test_binary_task_reports_the_positive_f1(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text(
        "text,label\n"
        "Does anyone know when the store opens on Sunday?,yes\n"
        "How do I reset my password?,true\n"
        "Lovely weather at the beach today.,no\n"
        "Just finished my morning run.,0\n"
    )
    res = CliRunner().invoke(cli, ["eval", "question", "--data", str(f), "--json"])
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    assert doc["task"] == "question" and doc["n"] == 4
    assert 0.0 <= doc["f1"] <= 1.0
    assert doc["per_class"]["1"]["support"] == 2
    assert doc["f1"] == doc["per_class"]["1"]["f1"]


def test_accurate_intent_says_what_is_available(tmp_path: Path) -> None:
    from socialloop.learn.evaluate import predict

    with pytest.raises(TaskNotAvailable, match="no accurate-mode complaint model") as err:
        predict("complaint", ["x"], "accurate")
    assert (err.value.task, err.value.mode) == ("complaint", "accurate")
    assert "--" not in str(err.value)  # the CLI words the remedy
    from socialloop.cli.app import remedy

    assert "--mode fast" in remedy(err.value)


def test_emotion_eval_restricts_to_the_gold_label_set(tmp_path: Path) -> None:
    folder = tmp_path / "emotion"
    folder.mkdir()
    (folder / "test_text.txt").write_text(
        "I am so angry, this is outrageous!\nI am so happy today, wonderful news!\n"
    )
    (folder / "test_labels.txt").write_text("0\n1\n")
    (folder / "mapping.txt").write_text("0\tanger\n1\tjoy\n2\toptimism\n3\tsadness\n")
    res = CliRunner().invoke(cli, ["eval", "emotion", "--data", str(folder), "--json"])
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    assert doc["n"] == 2
    assert set(doc["confusion"]["labels"]) <= {"anger", "joy"}
