"""Emotion: multi-label anger / disgust / fear / joy / sadness / surprise / optimism / trust.

The model is one binary logistic regression per emotion (one-vs-rest) over the same hashed
character 2-5-gram and word 1-2-gram TF-IDF features as the sentiment step
(:mod:`socialloop.learn.features`), trained by ``training/train_emotion.py`` on GoEmotions (its
27 labels grouped by ``ekman_mapping.json``, plus its ``optimism``), TweetEval emotion and XED
Finnish (Plutchik). Each head is trained only on the sources that annotate its emotion (trust
comes from XED alone), so the heads are calibrated per label and a per-label threshold, tuned on
the validation splits, turns the probabilities into the multi-label ``emotions`` list.

The artefact ``models/emotion.npz`` has the sentiment model's pickle-free format
(:class:`socialloop.learn.sentiment.LinearHashedModel`: int8 weights with the IDF folded in,
float16 squared IDF, bias, JSON header); the thresholds live in its header's ``meta``.

Values: ``emotion`` is the most probable emotion among those over their threshold, or ``"none"``
(neutral) when no emotion passes; ``emotions`` lists every emotion over its threshold, most
probable first. The confidence is the top emotion's probability, or for ``"none"`` one minus the
highest emotion probability. :meth:`EmotionEnricher.predict_among` picks the best label within a
given label set (e.g. TweetEval's anger / joy / optimism / sadness) for closed-set evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialloop.errors import SocialloopError
from socialloop.learn.accurate import TransformerHeads, blend
from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.features import FeatureCache
from socialloop.learn.linear import language_dependent, linear_logits
from socialloop.learn.sentiment import LinearHashedModel
from socialloop.learn.sentiment import ModelMissing as _LoadError

if TYPE_CHECKING:
    from socialloop.learn.language import LanguageEnricher

LABELS: tuple[str, ...] = (
    "anger",
    "disgust",
    "fear",
    "joy",
    "sadness",
    "surprise",
    "optimism",
    "trust",
)
NONE = "none"
TWEETEVAL_LABELS: tuple[str, ...] = ("anger", "joy", "optimism", "sadness")
MODEL_PATH = Path(__file__).resolve().parent / "models" / "emotion.npz"
DEFAULT_THRESHOLD = 0.5

FloatArray = npt.NDArray[np.float64]


class ModelMissing(SocialloopError):
    """The emotion model artefact is absent or unreadable."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"emotion model {path} {why}; regenerate it with "
            "`python training/train_emotion.py --data ../shared/data`"
        )
        self.path = path


def load_model(path: Path) -> LinearHashedModel:
    """The emotion model at ``path`` (a :class:`LinearHashedModel` with one class per emotion)."""
    if not path.is_file():
        raise ModelMissing(path, "is missing")
    try:
        model = LinearHashedModel.load(path)
    except _LoadError as exc:
        raise ModelMissing(path, f"could not be read ({exc})") from exc
    unknown = set(model.labels) - set(LABELS)
    if unknown:
        raise ModelMissing(path, f"has unknown labels {sorted(unknown)}")
    return model


def _sigmoid(x: FloatArray) -> FloatArray:
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


# Distinct (text, language) pairs whose emotions the step remembers before the memo is reset.
_MEMO_SIZE = 100_000


class EmotionEnricher:
    """LEARN step "emotion": the top emotion (or "none") and every emotion over its threshold."""

    name = "emotion"
    version = "3"  # 2: every post also weighs its static embedding; 3: distilled optimism
    requires: tuple[str, ...] = ("lang",)
    produces: tuple[str, ...] = ("emotion", "emotions")

    def __init__(
        self,
        model_path: Path | None = None,
        heads: TransformerHeads | None = None,
        features: FeatureCache | None = None,
    ) -> None:
        self.model_path = model_path or MODEL_PATH
        self.heads = heads  # accurate mode: the transformer blended in
        if heads is not None:
            self.version = f"{type(self).version}+accurate3"
        # the hashes of a batch shared with the other linear text steps (build_steps)
        self.features = features
        self._model: LinearHashedModel | None = None
        self._thresholds: FloatArray | None = None
        # detects the languages of predict_proba's texts when none are given (a model whose
        # embedding weights are for some languages only needs them)
        self._language: LanguageEnricher | None = None
        # (text, lang) -> (emotion, emotions, confidence) in fast mode
        self._memo: BatchMemo[tuple[str, str | None], tuple[str, tuple[str, ...], float]] = (
            BatchMemo(_MEMO_SIZE)
        )

    @property
    def model(self) -> LinearHashedModel:
        """The trained model, loaded on first use and kept on this instance."""
        if self._model is None:
            model = load_model(self.model_path)
            tuned = model.meta.get("thresholds", {})
            self._thresholds = np.array(
                [float(tuned.get(label, DEFAULT_THRESHOLD)) for label in model.labels]
            )
            self._model = model
        return self._model

    @property
    def labels(self) -> tuple[str, ...]:
        """The emotions this model scores, in column order."""
        return self.model.labels

    @property
    def thresholds(self) -> dict[str, float]:
        """The per-emotion probability thresholds of the ``emotions`` list."""
        model = self.model
        assert self._thresholds is not None
        return {label: float(t) for label, t in zip(model.labels, self._thresholds, strict=True)}

    def predict_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        features: FeatureCache | None = None,
    ) -> FloatArray:
        """Independent per-emotion probabilities, shape (len(texts), len(self.labels));
        ``features``: where the texts' hashes and embeddings may already be (the same
        probabilities). Without ``langs``, a model that weighs English posts' embeddings
        detects the languages, so a text scores as it does in the pipeline."""
        model = self.model
        langs = self._languages(texts, langs)
        fast = _sigmoid(linear_logits(model, texts, langs, features))
        if self.heads is None:
            return fast
        blended = blend(fast, self.heads, "emotion", self.model.labels, texts, langs)
        return np.asarray(blended, dtype=np.float64)

    def _languages(
        self, texts: Sequence[str], langs: Sequence[str | None] | None
    ) -> Sequence[str | None] | None:
        """``langs``, or the detected languages when none are given and the model weighs
        some languages' embeddings."""
        if langs is not None or not language_dependent(self.model):
            return langs
        if self._language is None:
            from socialloop.learn.language import LanguageEnricher

            self._language = LanguageEnricher()
        return self._language.known_languages(texts)

    def _decide(self, probs: FloatArray) -> tuple[list[str], list[list[str]], list[float]]:
        model = self.model
        assert self._thresholds is not None
        labels = model.labels
        above = probs >= self._thresholds
        masked = np.where(above, probs, -1.0)
        top = masked.argmax(axis=1) if len(labels) else np.zeros(len(probs), dtype=np.int64)
        order = np.argsort(-probs, axis=1, kind="stable")
        emotion: list[str] = []
        emotions: list[list[str]] = []
        confidence: list[float] = []
        rows = probs.tolist()
        highest = probs.max(axis=1).tolist() if len(labels) else [0.0] * len(rows)
        for row, row_above, t, row_order, high in zip(
            rows, above.tolist(), top.tolist(), order.tolist(), highest, strict=True
        ):
            if True in row_above:
                emotion.append(labels[t])
                confidence.append(row[t])
                emotions.append([labels[j] for j in row_order if row_above[j]])
            else:
                emotion.append(NONE)
                confidence.append(1.0 - high)
                emotions.append([])
        return emotion, emotions, confidence

    def predict(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[str]:
        """The top emotion of each text, or ``"none"`` when no emotion passes its threshold."""
        return self._decide(self.predict_proba(texts, langs))[0]

    def predict_among(
        self,
        texts: Sequence[str],
        labels: Sequence[str] = TWEETEVAL_LABELS,
        langs: Sequence[str | None] | None = None,
    ) -> list[str]:
        """The most likely label of each text within ``labels`` (a closed set, no "none")."""
        model = self.model
        if not labels:
            raise ValueError("labels is empty")
        missing = [label for label in labels if label not in model.labels]
        if missing:
            raise ValueError(f"the emotion model has no {missing}; it knows {model.labels}")
        columns = [model.labels.index(label) for label in labels]
        langs = self._languages(texts, langs)
        if self.heads is not None:
            fast = _sigmoid(linear_logits(model, texts, langs))[:, columns]
            probs = blend(fast, self.heads, "emotion", labels, texts, langs, closed=True)
            return [labels[int(i)] for i in probs.argmax(axis=1)]
        scores = linear_logits(model, texts, langs)[:, columns]
        offsets = model.meta.get("among_offsets", {})
        scores = scores + np.array([float(offsets.get(label, 0.0)) for label in labels])
        return [labels[int(i)] for i in scores.argmax(axis=1)]

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        if not batch:
            return []
        texts = [item.post.text or "" for item in batch]
        langs = [_lang(item) for item in batch]
        if self.heads is not None:  # the transformer remembers its own rows, per text
            emotion, emotions, confidence = self._decide(self.predict_proba(texts, langs))
            return [
                Result(values={"emotion": e, "emotions": es}, confidence=c)
                for e, es, c in zip(emotion, emotions, confidence, strict=True)
            ]

        # fast mode: a post's emotions depend on its text and language alone (row-wise
        # arithmetic), so each distinct pair is scored once and remembered
        def decide(
            missing: list[tuple[str, str | None]],
        ) -> Iterable[tuple[str, tuple[str, ...], float]]:
            probs = self.predict_proba(
                [t for t, _ in missing], [lang for _, lang in missing], self.features
            )
            emotion, emotions, confidence = self._decide(probs)
            # tuples: the memo adds no containers for the garbage collector to scan
            return zip(emotion, map(tuple, emotions), confidence, strict=True)

        decided = self._memo.get_many(list(zip(texts, langs, strict=True)), decide)
        return [
            Result(values={"emotion": e, "emotions": list(es)}, confidence=c)
            for e, es, c in decided
        ]


def _lang(item: Item) -> str | None:
    lang = item.prior.get("lang") or item.post.lang
    return lang if isinstance(lang, str) else None
