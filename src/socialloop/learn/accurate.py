"""Accurate mode: a fine-tuned MiniLM transformer blended with the fast linear models.

``models/accurate/`` holds ``accurate.onnx`` (all-MiniLM-L6-v2 fine-tuned by
``training/train_accurate.py`` with a sentiment head and eight emotion heads, weights quantised
to int8), ``tokenizer.json`` and ``accurate.json`` (labels, emotion thresholds, the per-language
blend weights and the validation scores). It runs on the CPU through onnxruntime, the optional
extra ``pip install 'socialloop[accurate]'``; nothing is downloaded.

MiniLM's vocabulary is English, so the transformer alone is worse than the fast model on
Arabic, Spanish or Portuguese posts. The blend weight per language (``mix`` in
``accurate.json``, tuned on the validation splits by ``train_accurate.py mix``) says how much of
the transformer's probability goes into the final one: high for English, low or zero where it
does not help. Languages without a tuned weight use ``mix["*"]``.

When the extra is not installed, or a model file is missing or cannot be loaded (a partial
install), :class:`~socialloop.errors.AccurateUnavailable` names the packages or the files and
what is wrong with each; the fast mode keeps working.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from socialloop.errors import AccurateUnavailable
from socialloop.learn.base import BatchMemo

FloatArray = npt.NDArray[np.float64]
Probs = npt.NDArray[np.floating[Any]]  # float32 (sentiment) or float64 (emotion) rows
MODEL_DIR = Path(__file__).resolve().parent / "models" / "accurate"
# Texts per forward pass. One: the graph's weights are dynamically quantised, so the int8
# scales of its activations come from the whole input tensor, and a text's probabilities
# moved by up to 0.26 (16 of 600 TweetEval labels) with the texts sharing its batch; alone,
# a text always gets the same answer, for ~20 % more CPU than batches of 64.
BATCH = 1
# Distinct texts whose probabilities are remembered (11 floats each) before the memo is reset.
MEMO_SIZE = 50_000
# what the model needs: the labels and blend weights, the ONNX graph, the tokenizer
MODEL_FILES = ("accurate.json", "accurate.onnx", "tokenizer.json")
RUNTIME = ("onnxruntime", "tokenizers")

__all__ = [
    "MODEL_DIR",
    "MODEL_FILES",
    "AccurateUnavailable",
    "BlendedModel",
    "ProbaModel",
    "Probs",
    "TransformerHeads",
    "blend",
]


class ProbaModel(Protocol):
    """What the sentiment and emotion steps need from a model."""

    @property
    def labels(self) -> tuple[str, ...]: ...

    def predict_proba(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> Probs: ...


class TransformerHeads:
    """The int8 ONNX MiniLM with its sentiment (softmax) and emotion (sigmoid) heads."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or MODEL_DIR
        problems = _file_problems(self.folder)
        meta: dict[str, Any] = {}
        if "accurate.json" not in problems and "." not in problems:
            meta, problem = _read_meta(self.folder / "accurate.json")
            if problem:
                problems["accurate.json"] = problem
        packages = tuple(m for m in RUNTIME if importlib.util.find_spec(m) is None)
        if problems or packages:
            raise _unavailable(self.folder, problems, packages)
        self.meta = meta
        self.sentiment_labels = tuple(self.meta["sentiment_labels"])
        self.emotion_labels = tuple(self.meta["emotion_labels"])
        # the ONNX session and the tokenizer load on the first batch (a plan, such as
        # `enrich --dry-run`, needs only the versions)
        self._session: Any = None
        self._tokenizer: Any = None
        # text -> its sentiment probabilities followed by its emotion ones. A text is scored
        # alone, so its row depends on it alone: the sentiment step (posts and brand clauses)
        # and the emotion step (the same posts) run each distinct text once, as do retweets.
        self._memo: BatchMemo[str, FloatArray] = BatchMemo(MEMO_SIZE)

    def _load(self) -> None:
        """Load the ONNX session and the tokenizer; a file that fails to load (truncated,
        corrupt, removed since) is :class:`AccurateUnavailable` naming it."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one core per worker, like every other step
        options.inter_op_num_threads = 1
        onnx = self.folder / "accurate.onnx"
        try:
            session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own classes, all Exception
            raise _unavailable(self.folder, {"accurate.onnx": _load_problem(onnx, exc)}) from exc
        path = self.folder / "tokenizer.json"
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception
            raise _unavailable(self.folder, {"tokenizer.json": _load_problem(path, exc)}) from exc
        tokenizer.enable_truncation(int(self.meta.get("max_len", 96)))
        tokenizer.no_padding()
        self._session = session
        self._tokenizer = tokenizer

    def __getstate__(self) -> dict[str, Any]:
        # `enrich --workers N` sends steps to spawned processes: they reload the model files
        # and start with an empty memo
        return {"folder": self.folder, "meta": self.meta}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["folder"])  # type: ignore[misc]
        self.meta = state["meta"]

    def probs(self, texts: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """Sentiment (n, 3) and emotion (n, 8) probabilities. Each distinct text goes through
        the graph once and is remembered (see ``_memo``)."""
        k = len(self.sentiment_labels)
        if not texts:
            return np.zeros((0, k)), np.zeros((0, len(self.emotion_labels)))
        rows = np.stack(self._memo.get_many(list(texts), self._score))
        return rows[:, :k], rows[:, k:]

    def _score(self, texts: list[str]) -> FloatArray:
        """Run the graph on ``texts``, one text a pass: each text's sentiment probabilities
        followed by its emotion ones, a row per text."""
        n = len(texts)
        sent = np.zeros((n, len(self.sentiment_labels)))
        emo = np.zeros((n, len(self.emotion_labels)))
        if self._session is None:
            self._load()
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(n), key=lambda i: len(encodings[i].ids))  # little padding
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            width = max(1, max(len(encodings[i].ids) for i in idx))
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            s_logits, e_logits = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            s = np.exp(s_logits - s_logits.max(axis=1, keepdims=True))
            sent[idx] = s / s.sum(axis=1, keepdims=True)
            emo[idx] = 1.0 / (1.0 + np.exp(-np.asarray(e_logits, dtype=np.float64)))
        return np.hstack([sent, emo])

    def weight(self, task: str, lang: str | None) -> float:
        """The transformer's share of the blended probability for ``task`` in ``lang``."""
        mix: dict[str, float] = self.meta.get("mix", {}).get(task, {})
        return float(mix.get(lang or "*", mix.get("*", 0.5)))


def _file_problems(folder: Path) -> dict[str, str]:
    """What is wrong with each model file that cannot be used as it is (empty: none)."""
    if not folder.is_dir():
        return {".": "missing"}
    problems: dict[str, str] = {}
    for name in MODEL_FILES:
        path = folder / name
        if not path.is_file():
            problems[name] = "missing"
        elif path.stat().st_size == 0:
            problems[name] = "unreadable: the file is empty"
    return problems


def _read_meta(path: Path) -> tuple[dict[str, Any], str]:
    """``accurate.json`` and, when it cannot be used, what is wrong with it."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"unreadable: {exc}"
    if not isinstance(meta, dict):
        return {}, "unreadable: not a JSON object"
    for key in ("sentiment_labels", "emotion_labels"):
        labels = meta.get(key)
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(x, str) for x in labels)
        ):
            return {}, f"unreadable: no {key} list"
    return meta, ""


def _load_problem(path: Path, exc: Exception) -> str:
    """A loader's exception as a short problem (its first line, at most 200 characters)."""
    if not path.is_file():
        return "missing"
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : ", "", text.replace(str(path), path.name))
    return f"unreadable: {text[:200]}"


def _unavailable(
    folder: Path, problems: dict[str, str], packages: tuple[str, ...] = ()
) -> AccurateUnavailable:
    parts = []
    if problems.get(".") == "missing":
        parts.append(f"the accurate-mode model folder {folder} does not exist")
    elif problems:
        listed = "; ".join(f"{name} is {what}" for name, what in problems.items())
        parts.append(f"the accurate-mode model in {folder} is incomplete: {listed}")
    if packages:
        parts.append(
            f"accurate mode needs the {' and '.join(RUNTIME)} packages "
            f"({', '.join(packages)} not installed)"
        )
    return AccurateUnavailable(
        "; ".join(parts), folder=str(folder), problems=problems, packages=packages
    )


def blend(
    fast: Probs,
    heads: TransformerHeads,
    task: str,
    labels: Sequence[str],
    texts: Sequence[str],
    langs: Sequence[str | None] | None,
    *,
    closed: bool = False,
) -> Probs:
    """``fast`` probabilities (columns ``labels``) blended with the transformer's for ``task``
    ("sentiment" or "emotion") by the per-language weight. ``closed``: both sides are first
    normalised to sum to 1 over ``labels`` (a closed-set choice among some emotions, as the
    blend weights were tuned)."""
    own = heads.sentiment_labels if task == "sentiment" else heads.emotion_labels
    sent, emo = heads.probs(texts)
    deep = (sent if task == "sentiment" else emo)[:, [own.index(label) for label in labels]]
    if closed:
        fast = fast / fast.sum(axis=1, keepdims=True)
        deep = deep / deep.sum(axis=1, keepdims=True)
    codes = list(langs) if langs is not None else [None] * len(texts)
    w = np.array([[heads.weight(task, lang)] for lang in codes])
    out: Probs = (w * deep + (1.0 - w) * fast).astype(fast.dtype, copy=False)
    return out


class BlendedModel:
    """A fast linear model blended with the transformer, behind the fast model's interface."""

    def __init__(self, fast: ProbaModel, heads: TransformerHeads, task: str) -> None:
        self.fast = fast
        self.heads = heads
        self.task = task

    @property
    def labels(self) -> tuple[str, ...]:
        return self.fast.labels

    def predict_proba(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> Probs:
        fast = self.fast.predict_proba(texts, langs)
        return blend(fast, self.heads, self.task, self.labels, texts, langs)
