"""`socialloop eval` after the QA pass: macro scores over the classes the data holds, files in
other encodings and compressed, sniffed delimiters, label-map errors that name the mapped
value, a confusion matrix that fits 80 columns, progress on a terminal only, and the JSON
keys (integer support, the path as given)."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

from socialloop.cli.learn_cmds import eval_remedy, print_eval, run_eval
from socialloop.cli.main import cli
from socialloop.learn.evaluate import CHUNK, EvalError, evaluate, map_labels, read_dataset
from socialloop.learn.metrics import classification_metrics
from tests.conftest import SHARED

POSITIVE = [
    "I love this, absolutely wonderful!",
    "Best coffee ever, thank you so much :)",
    "What a great day, so happy with the service",
]
NEGATIVE = [
    "This is terrible, I hate it.",
    "Worst service ever, never again. Awful.",
    "Horrible experience, the staff was rude",
]


def write_csv(path: Path, rows: list[tuple[str, str]], *, delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def pos_neg_rows() -> list[tuple[str, str]]:
    return [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["eval", *args])
    return res.exit_code, res.stdout, res.stderr


# --- 1. macro scores over the classes with gold rows -------------------------------------------


def test_macro_scores_average_over_the_classes_with_gold_rows() -> None:
    gold = ["a", "a", "b", "b"]
    pred = ["a", "c", "b", "b"]  # "c" is in the label set, but no gold row is "c"
    m = classification_metrics(gold, pred, ["a", "b", "c"])
    assert m["averaged_over"] == ["a", "b"]
    assert m["macro_recall"] == pytest.approx((1 / 2 + 1) / 2)
    f1_a = 2 * 1 * 0.5 / 1.5
    assert m["macro_f1"] == pytest.approx((f1_a + 1.0) / 2)
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["accuracy"] == pytest.approx(3 / 4)  # the "c" prediction is still an error
    assert m["confusion"]["matrix"][2] == [0, 0, 0]
    # every class present: the same figures as averaging over the whole label set
    full = classification_metrics(["a", "b", "c"], ["a", "c", "c"], ["a", "b", "c"])
    assert full["averaged_over"] == ["a", "b", "c"]
    assert full["macro_recall"] == pytest.approx((1 + 0 + 1) / 3)
    assert all(type(c["support"]) is int for c in full["per_class"].values())


def test_cli_positive_negative_file_leaves_neutral_out(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "pn.csv", pos_neg_rows())
    code, out, _ = run("sentiment", "--data", str(f), "--json")
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc["averaged_over"] == ["negative", "positive"]
    assert list(doc["per_class"]) == ["negative", "neutral", "positive"]
    assert doc["per_class"]["neutral"]["support"] == 0
    recalls = [doc["per_class"][c]["recall"] for c in ("negative", "positive")]
    f1s = [doc["per_class"][c]["f1"] for c in ("negative", "positive")]
    assert doc["macro_recall"] == pytest.approx(sum(recalls) / 2)
    assert doc["macro_f1"] == pytest.approx(sum(f1s) / 2)
    code, out, _ = run("sentiment", "--data", str(f))
    assert code == 0
    assert "average over negative, positive: neutral is left out" in out
    assert "no gold row of it" in out


def test_binary_file_with_only_positives(tmp_path: Path) -> None:
    f = write_csv(
        tmp_path / "q.csv",
        [("Does anyone know when the store opens?", "yes"), ("How do I reset it?", "1")],
    )
    code, out, _ = run("question", "--data", str(f), "--json")
    assert code == 0, out
    doc = orjson.loads(out)
    assert doc["averaged_over"] == ["1"]
    assert doc["macro_recall"] == doc["per_class"]["1"]["recall"]
    assert doc["macro_f1"] == doc["per_class"]["1"]["f1"] == doc["f1"]
    assert doc["per_class"]["0"]["support"] == 0 and doc["per_class"]["1"]["support"] == 2


def test_full_label_set_figures_do_not_change() -> None:
    """On TweetEval (every class present) the macro scores are the mean over all three."""
    folder = SHARED / "tweeteval" / "sentiment"
    if not folder.exists():
        pytest.skip(f"{folder} is absent (../shared/data is not beside the repository)")
    r = evaluate("sentiment", read_dataset(folder))
    assert r["averaged_over"] == ["negative", "neutral", "positive"]
    per = r["per_class"]
    assert r["macro_recall"] == pytest.approx(sum(c["recall"] for c in per.values()) / 3)
    assert r["macro_f1"] == pytest.approx(sum(c["f1"] for c in per.values()) / 3)


# --- 2. encodings and compression -------------------------------------------------------------


def test_latin1_file_is_read_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    f = tmp_path / "excel.csv"
    f.write_bytes(
        'text,label\nI love it,positive\n"Jésus, ce café est horrible",negative\n'.encode("cp1252")
    )
    res = CliRunner().invoke(cli, ["eval", "sentiment", "--data", str(f), "--json"])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    doc = orjson.loads(res.stdout)  # the warning is on stderr, not in the JSON text
    assert doc["n"] == 2
    assert "excel.csv" in res.stderr and "line 3" in res.stderr and "iconv" in res.stderr
    assert doc["warnings"] and "line 3" in doc["warnings"][0]
    data = read_dataset(f)
    assert data.texts[1] == "J\ufffdsus, ce caf\ufffd est horrible"  # as the import reads it


def test_utf16_with_and_without_bom_and_gzip_read_the_same(tmp_path: Path) -> None:
    text = "text,label\r\n" + "".join(f'"{t}",{lab}\r\n' for t, lab in pos_neg_rows())
    text += '"Ça déçoit, 😞",negative\r\n'
    plain = tmp_path / "plain.csv"
    plain.write_text(text, encoding="utf-8", newline="")
    expected = read_dataset(plain)
    assert expected.texts[-1] == "Ça déçoit, 😞"
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(text.encode("utf-16"))  # with BOM
    le = tmp_path / "le.csv"
    le.write_bytes(text.encode("utf-16-le"))  # no BOM
    gz = tmp_path / "plain.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    for f in (u16, le, gz):
        data = read_dataset(f)
        assert (data.texts, data.labels, data.notes) == (
            expected.texts,
            expected.labels,
            (),
        ), f
    code, out, err = run("sentiment", "--data", str(gz), "--json")
    assert code == 0, err
    assert orjson.loads(out)["n"] == len(expected.texts)
    tsv_gz = tmp_path / "d.tsv.gz"  # the name under the compression tells the delimiter
    tsv_gz.write_bytes(gzip.compress(b"1\tfirst text, with a comma\n0\tsecond\n"))
    data = read_dataset(tsv_gz, header=False, text_col="1", label_col="0")
    assert data.texts == ["first text, with a comma", "second"]


def test_tweeteval_folder_in_utf16_and_latin1(tmp_path: Path) -> None:
    folder = tmp_path / "te"
    folder.mkdir()
    (folder / "test_text.txt").write_bytes("Très bien\nhorrible\n".encode("utf-16"))
    (folder / "test_labels.txt").write_text("2\n0\n")
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    data = read_dataset(folder)
    assert data.texts == ["Très bien", "horrible"]
    assert data.labels == ["positive", "negative"] and data.split == "test"
    (folder / "test_text.txt").write_bytes("Très bien\nhorrible\n".encode("latin-1"))
    data = read_dataset(folder)
    assert data.texts[0] == "Tr\ufffds bien"
    assert "line 1" in data.notes[0] and "test_text.txt" in data.notes[0]


def test_archives_and_binary_files_are_refused_clearly(tmp_path: Path) -> None:
    z = tmp_path / "data.csv"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("inner.csv", "text,label\nhi,positive\n")
    with pytest.raises(EvalError, match="is a ZIP archive") as info:
        read_dataset(z)
    assert (info.value.kind, info.value.archive, info.value.path) == (
        "archive",
        "a ZIP archive",
        str(z),
    )
    code, _, err = run("sentiment", "--data", str(z))
    assert code == 1 and "ZIP archive; extract the file inside and pass that with --data" in err
    b = tmp_path / "bin.csv"
    b.write_bytes(b"\x00\x01\x02\x00\x00\x00\xff\n")
    code, _, err = run("sentiment", "--data", str(b))
    assert code == 1 and "not text" in err and "Traceback" not in err
    bad_gz = tmp_path / "cut.csv.gz"
    bad_gz.write_bytes(gzip.compress(b"text,label\n" + b"hello,positive\n" * 500)[:60])
    code, _, err = run("sentiment", "--data", str(bad_gz))
    assert code == 1 and "cannot read" in err and "cut.csv.gz" in err


# --- 3. delimiters and TweetEval files ---------------------------------------------------------


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    rows = [("Hello, world; a | b", "positive"), ("bye", "negative")]
    f = write_csv(tmp_path / "d.csv", rows, delimiter=delimiter)
    data = read_dataset(f)
    assert data.texts == ["Hello, world; a | b", "bye"]
    assert data.labels == ["positive", "negative"]


def test_a_named_delimiter_that_does_not_fit_says_which_would(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "t.csv", pos_neg_rows(), delimiter="\t")
    code, _, err = run("sentiment", "--data", str(f), "--format", "csv")
    assert code == 1
    assert "header looks tab-separated: pass --format tsv" in err
    g = write_csv(tmp_path / "s.tsv", pos_neg_rows(), delimiter=";")
    code, _, err = run("sentiment", "--data", str(g))
    assert code == 1 and "semicolon-separated" in err and "--format auto" in err
    h = tmp_path / "nohead.txt"  # no header, tab-separated: read as such
    h.write_text("I love it, really\tpositive\nawful\tnegative\n")
    data = read_dataset(h, header=False)
    assert data.texts == ["I love it, really", "awful"]


def test_a_tweeteval_file_instead_of_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    (folder / "val_text.txt").write_text("good\nbad\n")
    (folder / "val_labels.txt").write_text("2\n0\n")
    code, _, err = run("sentiment", "--data", str(folder / "val_text.txt"))
    assert code == 1
    assert "TweetEval task folder" in err and f"--data {folder}" in err
    code, _, err = run(
        "sentiment", "--data", str(folder / "val_labels.txt"), "--format", "tweeteval"
    )
    assert code == 1 and f"pass its folder: --data {folder}" in err


# --- 4. label maps ---------------------------------------------------------------------------


def test_label_map_typo_names_the_mapped_value() -> None:
    with pytest.raises(EvalError) as info:
        map_labels("sentiment", ["0", "1", "0"], {"0": "negatve", "1": "neutral"})
    msg = str(info.value)
    assert "'0' (2x) maps to 'negatve', which is not a sentiment label" in msg
    assert "(labels: negative, neutral, positive)" in msg
    assert "cannot map gold label" not in msg  # the raw label is not to blame


def test_label_map_keys_match_in_any_case(tmp_path: Path) -> None:
    assert map_labels(
        "sentiment", ["Good", "BAD", " good "], {"good": "positive", "Bad": "neg"}
    ) == [
        "positive",
        "negative",
        "positive",
    ]
    f = write_csv(tmp_path / "c.csv", [(t, "GOOD") for t in POSITIVE] + [(NEGATIVE[0], "Bad")])
    code, out, err = run(
        "sentiment", "--data", str(f), "--label-map", "good=positive,bad=negative", "--json"
    )
    assert code == 0, err
    assert orjson.loads(out)["per_class"]["positive"]["support"] == 3


def test_multi_label_rows_say_one_label_per_row() -> None:
    with pytest.raises(EvalError) as info:
        map_labels("emotion", ["anger,joy", "joy", "[1, 3]"], {})
    msg = str(info.value)
    assert "one label per row" in msg and "'[1, 3]'" in msg
    assert info.value.several == ("[1, 3]", "anger,joy")
    assert "--label-map" not in eval_remedy(info.value)  # every bad label is a list: no map
    assert "keep the rows with a single label" in eval_remedy(info.value).lower()
    with pytest.raises(EvalError, match=r"one label per row") as info:
        map_labels("emotion", ["anger,joy", "27"], {})
    assert info.value.kind == "label_not_mapped" and info.value.task == "emotion"
    assert info.value.unmapped == {"27": 1, "anger,joy": 1}
    assert info.value.several == ("anger,joy",)
    assert re.search(r"one label per row.*--label-map RAW=LABEL", eval_remedy(info.value))
    with pytest.raises(EvalError) as info:  # a phrase with commas is no list of labels
        map_labels("language", ["Alter, Hagelkörner, ernsthaft"], {})
    assert "one label per row" not in str(info.value)


def test_labels_that_are_texts_point_at_the_column_options(tmp_path: Path) -> None:
    f = tmp_path / "swapped.txt"  # label first, no header: the default columns are swapped
    f.write_text("en\tThis is a sentence in English, it seems\nfi\tTämä on suomenkielinen lause\n")
    code, _, err = run("language", "--data", str(f), "--no-header")
    assert code == 1
    assert "label column holds texts" in err and "--text-col / --label-col" in err
    code, out, err = run(
        "language", "--data", str(f), "--no-header", "--text-col", "1", "--label-col", "0", "--json"
    )
    assert code == 0, err
    assert orjson.loads(out)["averaged_over"] == ["en", "fi"]


def test_a_json_file_is_refused_with_what_eval_reads(tmp_path: Path) -> None:
    f = tmp_path / "posts.jsonl"
    f.write_text('{"text": "hello", "label": "positive"}\n')
    code, _, err = run("sentiment", "--data", str(f))
    assert code == 1 and "looks like JSON" in err and "CSV" in err


# --- 5. the confusion matrix at 80 columns ------------------------------------------------------


def _language_result() -> dict[str, object]:
    gold_codes = ["ar", "de", "en", "es", "fr", "hi", "it", "pt"]
    extra = ["ca", "da", "et", "ha", "id", "nl", "om", "sl", "so", "tl", "und", "vi"]
    gold: list[str] = []
    pred: list[str] = []
    for i, g in enumerate(gold_codes):
        gold += [g] * 300
        pred += [g] * 290 + [gold_codes[(i + 1) % 8]] * 5 + [extra[i]] * 3 + [extra[i + 4]] * 2
    result = classification_metrics(gold, pred)
    return {"task": "language", "mode": "fast", "data": "x.csv", "posts_per_s": 1.0, **result}


def _printed(result: dict[str, object], width: int = 80) -> str:
    buf = io.StringIO()
    print_eval(result, Console(file=buf, width=width, highlight=False))
    return buf.getvalue()


def test_language_confusion_fits_80_columns_with_an_other_column() -> None:
    result = _language_result()
    assert len(result["confusion"]["labels"]) == 20  # type: ignore[index]
    out = _printed(result)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out
    header = next(line for line in out.splitlines() if " other " in line)
    assert all(f" {c} " in header for c in ("ar", "de", "en", "hi", "pt"))
    matrix = out[out.index("confusion (rows: gold") :]
    de_row = next(line for line in matrix.splitlines() if line.startswith("│ de "))
    assert re.findall(r"\d+", de_row) == ["0", "290", "5", "0", "0", "0", "0", "0", "5"]
    assert "other: predicted labels outside the gold classes" in out and "--json" in out
    wide = _printed(result, width=140)  # room for every column: nothing folded
    assert " other " not in wide and " und " in wide


def test_too_many_gold_classes_list_the_top_confusions() -> None:
    codes = [f"l{i:02d}" for i in range(30)]
    gold = [c for c in codes for _ in range(10)]
    pred = [c if j < 8 else codes[(i + 1) % 30] for i, c in enumerate(codes) for j in range(10)]
    result = {
        "task": "language",
        "mode": "fast",
        "data": "x.csv",
        "posts_per_s": 1.0,
        **classification_metrics(gold, pred),
    }
    out = _printed(result)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "most frequent confusions" in out and "l00 → l01: 2" in out


# --- 6. progress --------------------------------------------------------------------------------


def test_progress_reports_chunks_and_the_timing_is_the_prediction(tmp_path: Path) -> None:
    rows = pos_neg_rows() * ((CHUNK // 6) + 20)
    data = read_dataset(write_csv(tmp_path / "big.csv", rows))
    calls: list[tuple[str, int, int]] = []
    r = evaluate("sentiment", data, progress=lambda s, d, t: calls.append((s, d, t)))
    n = len(rows)
    assert ("languages", 0, n) in calls and ("languages", n, n) in calls
    assert ("load", 1, 1) in calls
    predict = [d for s, d, t in calls if s == "predict"]
    assert predict == [0, CHUNK, n]
    assert r["n"] == n and r["posts_per_s"] > 0
    plain = evaluate("sentiment", data)  # chunks give the same predictions
    assert plain["confusion"] == r["confusion"]


def test_progress_bar_on_a_terminal_only_and_never_on_stdout(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "pn.csv", pos_neg_rows())
    buf = io.StringIO()
    terminal = Console(file=buf, force_terminal=True, width=100)
    result = run_eval("sentiment", read_dataset(f), label_map={}, mode="fast", console=terminal)
    assert result["n"] == 6
    assert "predicting" in buf.getvalue() and "detecting languages" in buf.getvalue()
    quiet = io.StringIO()
    run_eval(
        "sentiment",
        read_dataset(f),
        label_map={},
        mode="fast",
        console=Console(file=quiet, force_terminal=False),
    )
    assert quiet.getvalue() == ""
    code, out, err = run("sentiment", "--data", str(f), "--json")
    assert code == 0 and orjson.loads(out)["n"] == 6 and "predicting" not in err


# --- 7. JSON keys and help ---------------------------------------------------------------------


def test_data_is_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    (folder / "val_text.txt").write_text("\n".join(POSITIVE) + "\n")
    (folder / "val_labels.txt").write_text("2\n2\n2\n")
    (folder / "mapping.txt").write_text("0\tnegative\n1\tneutral\n2\tpositive\n")
    write_csv(tmp_path / "pn.csv", pos_neg_rows())
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("sentiment", "--data", "sentiment", "--json")
    assert code == 0
    doc = orjson.loads(out)
    assert (doc["data"], doc["split"]) == ("sentiment", "val")
    code, out, _ = run("sentiment", "--data", "sentiment")
    assert "on sentiment (val split)" in out
    code, out, _ = run("sentiment", "--data", "pn.csv", "--json")
    doc = orjson.loads(out)
    assert doc["data"] == "pn.csv" and "split" not in doc
    assert all(type(c["support"]) is int for c in doc["per_class"].values())


def test_mode_has_help() -> None:
    res = CliRunner().invoke(cli, ["eval", "--help"])
    assert re.search(r"--mode \[fast\|accurate\]\s+Which models to score", res.output)


# --- 8. errors carry facts; the CLI words the remedies ------------------------------------------


def test_eval_errors_carry_facts_and_no_cli_wording(tmp_path: Path) -> None:
    """Every EvalError states what happened and where (kind, path, line, the values found),
    naming no command-line option: `socialloop eval` words the remedy from the facts."""
    folder = tmp_path / "te"
    folder.mkdir()
    (folder / "val_text.txt").write_text("good\nbad\n")
    (folder / "val_labels.txt").write_text("2\n")
    tabbed = write_csv(tmp_path / "t.csv", pos_neg_rows(), delimiter="\t")
    short = tmp_path / "short.csv"
    short.write_text("text,label\nfine,positive\nno label here\n")
    json_file = tmp_path / "p.json"
    json_file.write_text('[{"text": "hi"}]')
    bin_file = tmp_path / "b.csv"
    bin_file.write_bytes(b"\x00\x01\x02\x00\x00\x00\xff\n")
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: read_dataset(tmp_path / "nowhere.csv"), "not_found"),
        (lambda: read_dataset(bin_file), "binary"),
        (lambda: read_dataset(json_file), "json"),
        (lambda: read_dataset(tabbed, fmt="csv"), "missing_column"),
        (lambda: read_dataset(tabbed, label_col="gold"), "missing_column"),
        (lambda: read_dataset(short), "short_row"),
        (lambda: read_dataset(short, header=False, text_col="body"), "bad_column_index"),
        (lambda: read_dataset(folder), "unpaired_lines"),
        (lambda: read_dataset(folder / "val_text.txt"), "tweeteval_file"),
        (lambda: read_dataset(folder / "val_text.txt", fmt="tweeteval"), "file_not_folder"),
        (lambda: read_dataset(folder, fmt="csv"), "folder_not_file"),
        (lambda: map_labels("sentiment", ["0", "meh"], {"0": "negatve"}), "label_not_mapped"),
        (lambda: map_labels("language", ["a long sentence of words"] * 2, {}), "label_not_mapped"),
    ]
    found: dict[str, EvalError] = {}
    for call, kind in cases:
        with pytest.raises(EvalError) as info:
            call()
        assert info.value.kind == kind, (kind, str(info.value))
        assert "--" not in str(info.value), str(info.value)
        assert "iconv" not in str(info.value)
        found.setdefault(kind, info.value)
    tab = found["missing_column"]
    assert (tab.path, tab.line, tab.role, tab.column, tab.delimiter, tab.looks) == (
        str(tabbed),
        1,
        "text",
        "text",
        ",",
        "\t",
    )
    assert "looks tab-separated" in str(tab)
    assert eval_remedy(tab).endswith("looks tab-separated: pass --format tsv")
    row = found["short_row"]
    assert (row.line, row.fields, row.delimiter) == (3, 1, ",")
    assert found["tweeteval_file"].folder == str(folder)
    assert f"--data {folder}" in eval_remedy(found["file_not_folder"])
    assert eval_remedy(found["bad_column_index"]).startswith("--text-col must be a 0-based")
    mapped = found["label_not_mapped"]
    assert mapped.bad_targets == {"0": "negatve"} and mapped.unmapped == {"meh": 1}
    assert "Fix --label-map" in eval_remedy(mapped) and "RAW=LABEL" in eval_remedy(mapped)
    with pytest.raises(EvalError) as info:
        evaluate("sarcasm", read_dataset(write_csv(tmp_path / "ok.csv", pos_neg_rows())))
    assert info.value.kind == "unknown_task" and "--" not in str(info.value)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\ncafé,positive\n".encode("cp1252"))
    data = read_dataset(latin)
    assert [(u.path, u.lines, u.first) for u in data.undecodable] == [(str(latin), 1, 2)]
    assert "iconv" not in data.notes[0] and "--" not in data.notes[0]
