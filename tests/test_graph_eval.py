"""`socialloop eval influence`: the product's influence formula on PeerIndex-style pairs."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.errors import InvalidValue
from socialloop.graph.eval_influence import (
    MAPPING,
    evaluate_influence,
    read_pairs,
    score_pairs,
    tune_weights,
)
from tests.conftest import shared_file

FEATURES = [
    "follower_count",
    "following_count",
    "listed_count",
    "mentions_received",
    "retweets_received",
    "mentions_sent",
    "retweets_sent",
    "posts",
    "network_feature_1",
    "network_feature_2",
    "network_feature_3",
]


def write_pairs(path: Path, n: int = 60, seed: int = 1) -> Path:
    """Pairs where the more influential side is larger on every mapped feature."""
    rng = random.Random(seed)
    header = ["Choice"] + [f"{s}_{f}" for s in "AB" for f in FEATURES]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for _ in range(n):
            strong = {f: rng.uniform(100, 10_000) for f in FEATURES}
            weak = {f: v / rng.uniform(2, 50) for f, v in strong.items()}
            choice = rng.randint(0, 1)
            a, b = (strong, weak) if choice else (weak, strong)
            w.writerow([choice] + [a[f] for f in FEATURES] + [b[f] for f in FEATURES])
    return path


def test_known_ordering_gives_auc_one(tmp_path: Path) -> None:
    result = evaluate_influence(write_pairs(tmp_path / "pairs.csv"))
    assert result["n"] == 60
    assert result["auc"] == 1.0
    assert result["accuracy"] == 1.0
    assert result["mapping"] == MAPPING


def test_both_sides_are_scored_by_the_product_formula(tmp_path: Path) -> None:
    from socialloop.graph.influence import combine

    pairs = read_pairs(write_pairs(tmp_path / "pairs.csv", n=5))
    sa, sb = score_pairs(pairs)
    raw = {c: [*pairs.a[f], *pairs.b[f]] for c, f in MAPPING.items()}
    expected, _ = combine({c: np.array(v) for c, v in raw.items()})
    assert [*sa, *sb] == pytest.approx(list(expected))


def test_bad_files_say_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "m.csv"
    missing.write_text("Choice,A_follower_count\n1,3\n")
    with pytest.raises(InvalidValue, match="missing column"):
        evaluate_influence(missing)
    bad = write_pairs(tmp_path / "bad.csv", n=3)
    lines = bad.read_text().splitlines()
    lines[2] = "1," + "x," * (2 * len(FEATURES) - 1) + "x"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidValue, match="line 3"):
        evaluate_influence(bad)


def test_cli_eval_influence_prints_auc_accuracy_n(tmp_path: Path) -> None:
    path = write_pairs(tmp_path / "pairs.csv")
    res = CliRunner().invoke(cli, ["eval", "influence", "--data", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    assert (doc["auc"], doc["accuracy"], doc["n"]) == (1.0, 1.0, 60)
    res = CliRunner().invoke(cli, ["eval", "influence", "--data", str(path)])
    assert res.exit_code == 0, res.output
    assert "AUC 1.000" in res.output and "n 60" in res.output


def test_real_peerindex_pairs_reach_the_target() -> None:
    path = shared_file("influencers_peerindex", "train_dev_split.csv")
    result = evaluate_influence(path)
    assert result["n"] == 4400
    assert result["auc"] >= 0.85
    assert result["accuracy"] >= 0.75
    tuned = tune_weights(path, grid=(0.2, 0.4))
    assert tuned["rest_auc"] >= 0.84


def test_influence_json_has_the_keys_every_eval_prints(tmp_path: Path) -> None:
    # a formula that ranks some pairs the wrong way round: the pair choice scored as a
    # binary task, "1" = side A more influential
    path = write_pairs(tmp_path / "pairs.csv", n=40, seed=3)
    lines = path.read_text().splitlines()
    flipped = [lines[0]] + [
        ("0" if row[0] == "1" else "1") + row[1:] if i % 4 == 0 else row
        for i, row in enumerate(lines[1:])
    ]
    path.write_text("\n".join(flipped) + "\n")
    res = CliRunner().invoke(cli, ["eval", "influence", "--data", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    for key in ("task", "n", "accuracy", "macro_recall", "macro_f1", "f1", "per_class",
                "posts_per_s", "auc"):  # fmt: skip
        assert key in doc, key
    assert doc["task"] == "influence" and doc["n"] == 40
    assert doc["accuracy"] == pytest.approx(30 / 40)  # every fourth pair's choice flipped
    assert set(doc["per_class"]) == {"0", "1"}
    support = doc["per_class"]["0"]["support"] + doc["per_class"]["1"]["support"]
    assert support == 40
    assert doc["f1"] == doc["per_class"]["1"]["f1"]
    assert 0.0 < doc["macro_f1"] < 1.0 and doc["posts_per_s"] > 0
