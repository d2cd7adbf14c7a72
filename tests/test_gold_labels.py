"""The project's hand labels of TWCS tweets (training/labels) are well formed, hold no tweet
text, and the shipped intent model scores its held-out half through `socialloop eval`'s code
(the scores are skipped when ../shared is absent)."""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

import pytest

from socialloop.learn.evaluate import Dataset, evaluate
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "training" / "labels" / "twcs_intent_gold.tsv"


def _rows() -> list[dict[str, str]]:
    with LABELS.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_labels_file_is_complete_and_holds_ids_only() -> None:
    rows = _rows()
    assert len(rows) == 662
    assert list(rows[0]) == [
        "tweet_id",
        "split",
        "complaint",
        "complaint_unsure",
        "question",
        "question_unsure",
    ]
    ids = [r["tweet_id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)
    for r in rows:
        expected = (
            "cal" if int(hashlib.md5(r["tweet_id"].encode()).hexdigest(), 16) % 2 == 0 else "test"
        )
        assert r["split"] == expected
        assert {r["complaint"], r["question"], r["complaint_unsure"], r["question_unsure"]} <= {
            "0",
            "1",
        }
    assert sum(r["split"] == "test" for r in rows) == 346
    assert sum(r["complaint"] == "1" for r in rows) == 383
    assert sum(r["question"] == "1" for r in rows) == 165


def _gold(task: str, split: str) -> Dataset:
    path = shared_file("twcs_customer_support", "twcs_head5000.csv")
    sys.path.insert(0, str(ROOT / "training"))
    try:
        from gold_csv import gold_table
    finally:
        sys.path.remove(str(ROOT / "training"))
    rows = gold_table(path.parents[1], task, split, LABELS)
    return Dataset([t for t, _ in rows], [label for _, label in rows], "gold")


def test_gold_table_joins_text_by_id_and_keeps_the_split() -> None:
    test = _gold("complaint", "test")
    cal = _gold("complaint", "cal")
    assert len(test.texts) == 346 and len(cal.texts) == 316
    assert not set(test.texts) & set(cal.texts)
    assert all(t.strip() for t in test.texts)
    assert test.labels.count("1") + cal.labels.count("1") == 383


@pytest.mark.parametrize(("task", "floor"), [("complaint", 0.77), ("question", 0.76)])
def test_shipped_model_on_the_held_out_half(task: str, floor: float) -> None:
    # intent version 8 scores 0.800 (complaint) and 0.805 (question) here; a change that
    # falls below the floor has lost what the labels measure
    r = evaluate(task, _gold(task, "test"))
    assert r["n"] == 346
    assert r["f1"] >= floor, r
