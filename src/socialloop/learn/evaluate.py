"""``socialloop eval``: score a task's model on a labelled file anyone can get.

Reads the data with :mod:`socialloop.learn.eval_data` (a TweetEval folder or a CSV / TSV
file), maps the gold labels to the task's label set (an unknown label is an
:class:`EvalError` naming it, and a label map value that is no label of the task names the
map's entry; the error carries them as facts for the CLI to word a remedy), runs the task's
model and returns the metrics of :func:`socialloop.learn.metrics.classification_metrics`
plus throughput, telling a progress callback how far it is.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from socialloop.errors import SocialloopError
from socialloop.learn.eval_data import (
    Dataset,
    EvalError,
    Format,
    read_dataset,
    read_table,
    read_tweeteval,
    shorten,
)
from socialloop.learn.metrics import classification_metrics

__all__ = [
    "BINARY_TASKS",
    "CHUNK",
    "TASKS",
    "Dataset",
    "EvalError",
    "Format",
    "TaskNotAvailable",
    "evaluate",
    "map_labels",
    "predict",
    "predictor",
    "read_dataset",
    "read_table",
    "read_tweeteval",
]

TASKS = ("sentiment", "emotion", "complaint", "question", "purchase-intent", "language")
BINARY_TASKS = frozenset({"complaint", "question", "purchase-intent"})
SENTIMENT_LABELS = ("negative", "neutral", "positive")
EMOTION_NAMES = frozenset(
    {"anger", "disgust", "fear", "joy", "sadness", "surprise", "optimism", "trust", "none"}
)
_BINARY = {"1": "1", "0": "0", "true": "1", "false": "0", "yes": "1", "no": "0"}
_SENTIMENT_ALIASES = {"neg": "negative", "pos": "positive", "neu": "neutral"}
CHUNK = 512
"""Texts per prediction call: the progress callback is told after each."""
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``. ``predict`` (the prediction in :data:`CHUNK`-text calls)
is told after each call; the stages done in one call (``languages``, ``load`` the model,
``predict-all``) are told when they start (done 0) and end (done == total)."""
Predictor = Callable[[Sequence[str], Sequence[str | None] | None], list[str]]
_PARTS = re.compile(r"\s*[,;|]\s*")


class TaskNotAvailable(SocialloopError):
    """The task (or its mode) has no model in this version."""

    def __init__(self, message: str, *, task: str, mode: str) -> None:
        super().__init__(message)
        self.task = task
        self.mode = mode


# --- labels -----------------------------------------------------------------------------------


def _task_label(task: str, label: str) -> str | None:
    """``label`` (lower case) in the task's vocabulary, None when it is not one."""
    if task in BINARY_TASKS:
        return _BINARY.get(label)
    if task == "sentiment":
        label = _SENTIMENT_ALIASES.get(label, label)
        return label if label in SENTIMENT_LABELS else None
    if task == "language":
        return label if len(label) == 2 and label.isalpha() else None
    if task == "emotion":
        return label if label in EMOTION_NAMES else None
    return label or None


def _several(task: str, value: str, lookup: Mapping[str, str]) -> bool:
    """Whether ``value`` lists labels ("0,13", "anger;joy", "[1, 3]")."""
    parts = _PARTS.split(value.strip().strip("[]").strip())
    return len(parts) > 1 and all(
        p.isdigit() or _task_label(task, lookup.get(p.lower(), p).strip().lower()) is not None
        for p in parts
    )


def _expected(task: str) -> str:
    return {
        "sentiment": "negative, neutral, positive",
        "language": "ISO 639-1 codes such as en, fi",
        "emotion": ", ".join(sorted(EMOTION_NAMES)),
    }.get(task, "1 / 0 (or true / false, yes / no)" if task in BINARY_TASKS else "labels")


def map_labels(task: str, raw: Sequence[str], label_map: Mapping[str, str]) -> list[str]:
    """Gold labels in the task's vocabulary; every label that cannot be mapped is named.
    ``label_map`` keys match whatever their case and surrounding spaces."""
    lookup = {k.strip().lower(): v for k, v in label_map.items()}
    out: list[str] = []
    bad: Counter[str] = Counter()
    bad_target: Counter[tuple[str, str]] = Counter()
    for value in raw:
        target = lookup.get(value.strip().lower())
        mapped = _task_label(task, (value if target is None else target).strip().lower())
        if mapped is not None:
            out.append(mapped)
        elif target is None:
            bad[value] += 1
        else:
            bad_target[(value, target)] += 1
    if not bad and not bad_target:
        return out
    problems: list[str] = []
    if bad_target:
        listed = "; ".join(
            f"{k!r} ({n}x) maps to {t!r}" for (k, t), n in sorted(bad_target.items())[:10]
        )
        problems.append(f"{listed}, which is not a {task} label (labels: {_expected(task)})")
    several = sorted(k for k in bad if _several(task, k, lookup))
    wordy = sorted(k for k in bad if len(k.split()) > 3)
    if bad:
        listed = ", ".join(f"{shorten(k, 40)!r} ({n}x)" for k, n in sorted(bad.items())[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        problem = (
            f"cannot map gold label(s) {listed}{more} for task {task}; expected {_expected(task)}"
        )
        if len(wordy) > len(bad) / 2:
            problem += ". The label column holds texts"
        elif several:
            problem += (
                f". Labels such as {several[0]!r} name several labels, and {task} takes one "
                "label per row"
            )
        problems.append(problem)
    raise EvalError(
        ". ".join(problems),
        kind="label_not_mapped",
        task=task,
        expected=_expected(task),
        unmapped=bad,
        bad_targets={k: t for (k, t) in bad_target},
        several=several,
        texts=wordy,
    )


# --- prediction -------------------------------------------------------------------------------


def _heads() -> Any:
    from socialloop.learn.accurate import TransformerHeads

    return TransformerHeads()


def _languages(texts: Sequence[str]) -> list[str | None]:
    """Each text's detected language (the accurate blend weights are per language, the fast
    sentiment model's embedding features for English posts)."""
    from socialloop.learn.language import LanguageEnricher

    return [code or None for code, _ in LanguageEnricher().detect_many(list(texts))]


def predictor(task: str, mode: str, labels: Sequence[str] | None = None) -> Predictor:
    """The task model as ``run(texts, langs) -> labels``, loaded once for many calls
    (``labels``: the gold label set, for models that can restrict their choice to it)."""
    if task == "language":
        from socialloop.learn.language import LanguageEnricher

        step = LanguageEnricher(mode="accurate") if mode == "accurate" else LanguageEnricher()
        step.load()
        return lambda texts, langs: [code for code, _ in step.detect_many(list(texts))]
    if task == "sentiment":
        from socialloop.learn.sentiment import SentimentEnricher

        if mode == "accurate":
            blended = SentimentEnricher(heads=_heads()).model

            def run(texts: Sequence[str], langs: Sequence[str | None] | None) -> list[str]:
                probs = blended.predict_proba(list(texts), langs)
                return [blended.labels[int(i)] for i in probs.argmax(axis=1)]

            return run
        fast = SentimentEnricher()
        return lambda texts, langs: fast.predict(list(texts), langs)
    if task == "emotion":
        from socialloop.learn.emotion import LABELS as EMOTION_LABELS
        from socialloop.learn.emotion import EmotionEnricher

        model = EmotionEnricher(heads=_heads()) if mode == "accurate" else EmotionEnricher()
        wanted = [x for x in (labels or ()) if x in EMOTION_LABELS]
        if labels and len(wanted) == len(set(labels)):
            among = tuple(sorted(set(wanted)))
            return lambda texts, langs: model.predict_among(list(texts), among, langs)
        return lambda texts, langs: model.predict(list(texts), langs)
    if task in BINARY_TASKS:
        if mode == "accurate":
            raise TaskNotAvailable(
                f"there is no accurate-mode {task} model in this version (the fast one exists)",
                task=task,
                mode=mode,
            )
        from socialloop.learn.intent import IntentEnricher

        intent = IntentEnricher()
        return lambda texts, langs: intent.predict_binary(task, list(texts), langs)
    raise TaskNotAvailable(
        f"the {task} model is not built yet in this version", task=task, mode=mode
    )


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
    # the accurate blend weights are per language; the fast models detect what they need
    if langs is None and mode == "accurate" and task != "language":
        langs = _languages(texts)
    return predictor(task, mode, labels)(texts, langs)


def _timed_predict(
    whole: bool,
    run: Predictor,
    texts: Sequence[str],
    langs: Sequence[str | None] | None,
    progress: Progress | None,
) -> tuple[list[str], float]:
    """Predictions and the seconds the model took: :data:`CHUNK` texts a call with
    ``progress`` told after each (its own time not counted), or all at once when ``whole``."""
    n = len(texts)
    size = n if whole else CHUNK
    stage = "predict-all" if whole else "predict"
    out: list[str] = []
    elapsed = 0.0
    if progress is not None:
        progress(stage, 0, n)
    for start in range(0, n, size):
        part = texts[start : start + size]
        part_langs = None if langs is None else langs[start : start + size]
        started = time.perf_counter()
        out.extend(run(part, part_langs))
        elapsed += time.perf_counter() - started
        if progress is not None:
            progress(stage, len(out), n)
    return out, elapsed


def evaluate(
    task: str,
    data: Dataset,
    *,
    label_map: Mapping[str, str] | None = None,
    mode: str = "fast",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score ``task`` on ``data``: the metrics, ``task``, ``mode``, ``data`` (the path as
    given), ``split`` (TweetEval), ``warnings`` (``data.notes``) and ``posts_per_s`` (the
    model's prediction only: languages detected and model loaded before the timer).
    ``progress(stage, done, total)`` follows the language detection, the model loading and
    the prediction."""
    if task not in TASKS:
        raise EvalError(
            f"unknown task {task!r}; the tasks are {', '.join(TASKS)}",
            kind="unknown_task",
            task=task,
            tasks=TASKS,
        )
    if not data.texts:
        raise EvalError(f"{data.source}: no labelled rows", kind="no_rows", path=data.source)
    gold = map_labels(task, data.labels, label_map or {})
    gold_set = sorted(set(gold))
    n = len(data.texts)
    # the languages first, as the pipeline's language step gives them to the other steps;
    # the timing is the task model's (loaded before it starts)
    langs = None
    if task != "language":
        if progress is not None:
            progress("languages", 0, n)
        langs = _languages(data.texts)
        if progress is not None:
            progress("languages", n, n)
    if progress is not None:
        progress("load", 0, 1)
    if task == "language":
        # a throwaway detector loads the shared models; the one timed has seen no text (its
        # stream prior leans on the texts seen) and loads py3langid when made
        predictor(task, mode)(data.texts[:1], None)
        run = predictor(task, mode, gold_set)
    else:
        run = predictor(task, mode, gold_set)
        run(data.texts[:1], None if langs is None else langs[:1])  # loads the model
    if progress is not None:
        progress("load", 1, 1)
    # models that score each text alone (the accurate-mode transformer too: one text a
    # forward pass) get the texts in chunks (progress); the language detector decides a text
    # with the languages of the batch (its stream prior), so it gets every text in one call,
    # as the published figures were measured
    whole = task == "language"
    predicted, elapsed = _timed_predict(whole, run, data.texts, langs, progress)
    if task == "sentiment":
        labels: Sequence[str] | None = SENTIMENT_LABELS
    elif task in BINARY_TASKS:
        labels = ("0", "1")
    else:
        labels = None
    result = classification_metrics(
        gold, predicted, labels, positive="1" if task in BINARY_TASKS else None
    )
    out: dict[str, Any] = {"task": task, "mode": mode, "data": data.given}
    if data.split:
        out["split"] = data.split
    out.update(result)
    out["posts_per_s"] = len(gold) / elapsed if elapsed > 0 else float("inf")
    if data.notes:
        out["warnings"] = list(data.notes)
    return out
