"""``socialloop eval``: score a task's model on a labelled file anyone can get.

Reads a TweetEval task folder (``test_text.txt`` / ``test_labels.txt`` / ``mapping.txt``,
falling back to ``val_*``) or a CSV / TSV file with a text and a label column, maps the gold
labels to the task's label set (an unknown label is an error naming it), runs the task's
model and returns the metrics of :func:`socialloop.learn.metrics.classification_metrics`
plus throughput.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from socialloop.errors import SocialloopError
from socialloop.learn.metrics import classification_metrics

TASKS = ("sentiment", "emotion", "complaint", "question", "purchase-intent", "language")
BINARY_TASKS = frozenset({"complaint", "question", "purchase-intent"})
SENTIMENT_LABELS = ("negative", "neutral", "positive")
EMOTION_NAMES = frozenset(
    {"anger", "disgust", "fear", "joy", "sadness", "surprise", "optimism", "trust", "none"}
)
_BINARY = {"1": "1", "0": "0", "true": "1", "false": "0", "yes": "1", "no": "0"}
_SENTIMENT_ALIASES = {"neg": "negative", "pos": "positive", "neu": "neutral"}
Format = Literal["auto", "tweeteval", "csv", "tsv"]


class EvalError(SocialloopError):
    """The evaluation data cannot be read or its labels cannot be mapped."""


class TaskNotAvailable(SocialloopError):
    """The task (or its mode) has no model in this version."""


@dataclass(frozen=True, slots=True)
class Dataset:
    texts: list[str]
    labels: list[str]  # raw gold labels, as read
    source: str


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def read_tweeteval(folder: Path) -> Dataset:
    """A TweetEval task folder: the test split, or the validation split when test is absent.
    Numeric labels are named through ``mapping.txt`` when it is there."""
    for split in ("test", "val"):
        text_file, label_file = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
        if text_file.is_file() and label_file.is_file():
            break
    else:
        raise EvalError(
            f"{folder}: no test_text.txt + test_labels.txt (nor val_*) in this TweetEval folder"
        )
    texts = _read_lines(text_file)
    labels = [x.strip() for x in _read_lines(label_file)]
    if len(texts) != len(labels):
        raise EvalError(
            f"{text_file} has {len(texts)} lines but {label_file} has {len(labels)}; "
            "they must pair line by line"
        )
    mapping_file = folder / "mapping.txt"
    if mapping_file.is_file():
        names: dict[str, str] = {}
        for line in _read_lines(mapping_file):
            parts = line.split("\t") if "\t" in line else line.split(None, 1)
            if len(parts) == 2:
                names[parts[0].strip()] = parts[1].strip()
        labels = [names.get(x, x) for x in labels]
    return Dataset(texts, labels, str(text_file))


def read_table(
    path: Path,
    *,
    delimiter: str,
    text_col: str | None,
    label_col: str | None,
    header: bool,
) -> Dataset:
    """A CSV / TSV file; columns by name (with a header) or 0-based index (``--no-header``)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    texts: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        if header:
            head = next(reader, None)
            if head is None:
                raise EvalError(f"{path} is empty")
            t_idx = _column(head, text_col or "text", path, "--text-col")
            l_idx = _column(head, label_col or "label", path, "--label-col")
        else:
            t_idx = _index(text_col, 0, "--text-col")
            l_idx = _index(label_col, 1, "--label-col")
        for row in reader:
            if not row:
                continue
            if max(t_idx, l_idx) >= len(row):
                raise EvalError(
                    f"{path}:{reader.line_num}: the row has {len(row)} fields, fewer than the "
                    "text and label columns need"
                )
            texts.append(row[t_idx])
            labels.append(row[l_idx].strip())
    return Dataset(texts, labels, str(path))


def _column(head: Sequence[str], name: str, path: Path, option: str) -> int:
    cleaned = [h.strip() for h in head]
    if name in cleaned:
        return cleaned.index(name)
    if name.isdigit() and int(name) < len(head):
        return int(name)
    raise EvalError(f"{path}: no column {name!r} (columns: {', '.join(cleaned)}); pass {option}")


def _index(value: str | None, default: int, option: str) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise EvalError(f"{option} must be a 0-based column number with --no-header, not {value!r}")
    return int(value)


def read_dataset(
    path: Path,
    *,
    fmt: Format = "auto",
    text_col: str | None = None,
    label_col: str | None = None,
    header: bool = True,
) -> Dataset:
    if not path.exists():
        raise EvalError(f"{path} does not exist")
    if fmt == "auto":
        fmt = "tweeteval" if path.is_dir() else ("tsv" if path.suffix == ".tsv" else "csv")
    if fmt == "tweeteval":
        if not path.is_dir():
            raise EvalError(f"--format tweeteval expects a folder, and {path} is a file")
        return read_tweeteval(path)
    if path.is_dir():
        raise EvalError(f"{path} is a folder; pass --format tweeteval or a {fmt} file")
    delimiter = "\t" if fmt == "tsv" else ","
    return read_table(
        path, delimiter=delimiter, text_col=text_col, label_col=label_col, header=header
    )


def map_labels(task: str, raw: Sequence[str], label_map: Mapping[str, str]) -> list[str]:
    """Gold labels in the task's vocabulary; every label that cannot be mapped is named."""
    out: list[str] = []
    bad: dict[str, int] = {}
    for value in raw:
        label = label_map.get(value, value).strip().lower()
        mapped: str | None
        if task in BINARY_TASKS:
            mapped = _BINARY.get(label)
        elif task == "sentiment":
            label = _SENTIMENT_ALIASES.get(label, label)
            mapped = label if label in SENTIMENT_LABELS else None
        elif task == "language":
            mapped = label if len(label) == 2 and label.isalpha() else None
        elif task == "emotion":
            mapped = label if label in EMOTION_NAMES else None
        else:
            mapped = label or None
        if mapped is None:
            bad[value] = bad.get(value, 0) + 1
        else:
            out.append(mapped)
    if bad:
        listed = ", ".join(f"{k!r} ({n}x)" for k, n in sorted(bad.items())[:10])
        expected = {
            "sentiment": "negative, neutral, positive",
            "language": "ISO 639-1 codes such as en, fi",
            "emotion": ", ".join(sorted(EMOTION_NAMES)),
        }.get(task, "1 / 0 (or true / false, yes / no)" if task in BINARY_TASKS else "labels")
        raise EvalError(
            f"cannot map gold label(s) {listed} for task {task}; expected {expected}. "
            "Map them with --label-map RAW=LABEL,..."
        )
    return out


def _heads() -> Any:
    from socialloop.learn.accurate import TransformerHeads

    return TransformerHeads()


def _languages(texts: Sequence[str]) -> list[str | None]:
    """Each text's detected language (the accurate blend weights are per language, the fast
    sentiment model's embedding features for English posts)."""
    from socialloop.learn.language import LanguageEnricher

    return [code or None for code, _ in LanguageEnricher().detect_many(list(texts))]


def predict(
    task: str,
    texts: Sequence[str],
    mode: str,
    labels: Sequence[str] | None = None,
    langs: Sequence[str | None] | None = None,
) -> list[str]:
    """The task model's predictions for ``texts`` (``labels``: the gold label set, for models
    that can restrict their choice to it; ``langs``: the texts' languages, detected where a
    model needs them and none are given)."""
    if task == "language":
        from socialloop.learn.language import LanguageEnricher

        step = LanguageEnricher(mode="accurate") if mode == "accurate" else LanguageEnricher()
        return [code for code, _ in step.detect_many(list(texts))]
    # the accurate blend weights are per language; the fast models detect what they need
    if langs is None and mode == "accurate":
        langs = _languages(texts)
    if task == "sentiment":
        from socialloop.learn.sentiment import SentimentEnricher

        if mode == "accurate":
            blended = SentimentEnricher(heads=_heads()).model
            probs = blended.predict_proba(list(texts), langs)
            return [blended.labels[int(i)] for i in probs.argmax(axis=1)]
        return SentimentEnricher().predict(list(texts), langs)
    if task == "emotion":
        from socialloop.learn.emotion import LABELS as EMOTION_LABELS
        from socialloop.learn.emotion import EmotionEnricher

        model = EmotionEnricher(heads=_heads()) if mode == "accurate" else EmotionEnricher()
        wanted = [x for x in (labels or ()) if x in EMOTION_LABELS]
        if labels and len(wanted) == len(set(labels)):
            return model.predict_among(list(texts), tuple(sorted(set(wanted))), langs)
        return model.predict(list(texts), langs)
    if task in BINARY_TASKS:
        if mode == "accurate":
            raise TaskNotAvailable(
                f"there is no accurate-mode {task} model in this version; use --mode fast"
            )
        from socialloop.learn.intent import predict_binary

        return predict_binary(task, list(texts), langs)
    raise TaskNotAvailable(f"the {task} model is not built yet in this version")


def evaluate(
    task: str,
    data: Dataset,
    *,
    label_map: Mapping[str, str] | None = None,
    mode: str = "fast",
) -> dict[str, Any]:
    """Score ``task`` on ``data``: the metrics, ``task``, ``mode``, ``posts_per_s``."""
    if task not in TASKS:
        raise EvalError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if not data.texts:
        raise EvalError(f"{data.source}: no labelled rows")
    gold = map_labels(task, data.labels, label_map or {})
    gold_set = sorted(set(gold))
    # the languages first, as the pipeline's language step gives them to the other steps;
    # the timing is the task model's (loaded before it starts)
    langs = None if task == "language" else _languages(data.texts)
    predict(task, data.texts[:1], mode, gold_set, None if langs is None else langs[:1])
    started = time.perf_counter()
    predicted = predict(task, data.texts, mode, gold_set, langs)
    elapsed = time.perf_counter() - started
    if task == "sentiment":
        labels: Sequence[str] | None = SENTIMENT_LABELS
    elif task in BINARY_TASKS:
        labels = ("0", "1")
    else:
        labels = None
    result = classification_metrics(
        gold, predicted, labels, positive="1" if task in BINARY_TASKS else None
    )
    return {
        "task": task,
        "mode": mode,
        "data": data.source,
        **result,
        "posts_per_s": len(gold) / elapsed if elapsed > 0 else float("inf"),
    }
