"""Write one half of this project's hand-labelled TWCS tweets as a ``text,label`` CSV.

    python training/gold_csv.py --data ../shared/data --task complaint --split test > /tmp/c.csv
    socialloop eval complaint --data /tmp/c.csv

The labels (training/labels/twcs_intent_gold.tsv, see its README) hold tweet ids only; the
text comes from ``DATA/twcs_customer_support/twcs_head5000.csv``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path

LABELS = Path(__file__).resolve().parent / "labels" / "twcs_intent_gold.tsv"


def read_labels(labels: Path = LABELS) -> list[dict[str, str]]:
    """The label rows (``tweet_id``, ``split``, ``complaint``, ``question``, ...)."""
    with labels.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def gold_table(data: Path, task: str, split: str, labels: Path = LABELS) -> list[tuple[str, str]]:
    """(text, label) of the hand-labelled tweets of ``split`` (cal, test or all) for ``task``."""
    path = data / "twcs_customer_support" / "twcs_head5000.csv"
    with path.open(encoding="utf-8") as fh:
        texts = {rec["tweet_id"]: rec["text"] for rec in csv.DictReader(fh)}
    rows = []
    for rec in read_labels(labels):
        if split in ("all", rec["split"]) and rec.get(task):
            if rec["tweet_id"] not in texts:
                raise SystemExit(
                    f"{labels}: tweet_id {rec['tweet_id']} is not in {path} "
                    "(a different copy of the TWCS sample?)"
                )
            rows.append((texts[rec["tweet_id"]], rec[task]))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--task", choices=("complaint", "question"), required=True)
    ap.add_argument("--split", choices=("cal", "test", "all"), default="test")
    args = ap.parse_args(argv)
    writer = csv.writer(sys.stdout)
    writer.writerow(("text", "label"))
    writer.writerows(gold_table(args.data, args.task, args.split))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
