"""Intent (multi-label) and micro-moment of a post: a hybrid of hashed text models and rules.

Labels: ``question`` (a socialized question that expects an answer), ``complaint``, ``praise``,
``purchase_intent``, ``recommendation_request``, ``support_request``; micro-moment one of
``know`` / ``go`` / ``do`` / ``buy`` or ``none``.

The three labels with a binary evaluation (complaint, question, purchase intent) each have

* a text head: a binary logistic regression over the hashed character + word n-grams of
  :mod:`socialloop.learn.features` (TF-IDF, L2 normalised), trained by
  ``training/train_intent.py`` on weakly labelled data (see docs/models.md);
* a small stacker: a logistic regression over the head's logit, the counts of the multilingual
  cue families of :mod:`socialloop.learn.intent_rules` and the post's sentiment
  probabilities (from the ``sentiment`` step when present, else computed). Its intercept is
  shifted so that probability >= 0.5 is the decision threshold tuned for F1 on a carved
  validation split.

Praise, recommendation request, support request and the micro-moment are rules over those
probabilities, the sentiment and the cue families. The artefact ``models/intent.npz`` holds
plain arrays (int8 weights pre-multiplied by the IDF, one scale per head, float16 squared IDF,
the bias) and a JSON header with the hashing settings and the stackers; it is loaded with
``allow_pickle=False`` on first use.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from socialloop.errors import SocialloopError
from socialloop.learn.artefact import LINEAR_ARRAYS as _ARRAYS
from socialloop.learn.artefact import linear_arrays as _arrays
from socialloop.learn.artefact import load_arrays, save_arrays
from socialloop.learn.artefact import typed_linear as _typed
from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.features import FeatureCache, HashingConfig
from socialloop.learn.intent_rules import FAMILIES, compile_rules, cue_features
from socialloop.learn.linear import (
    DENSE_ARRAYS,
    dense_block,
    dense_fields,
    dense_header,
    linear_logits,
)

INTENTS: tuple[str, ...] = (
    "question",
    "complaint",
    "praise",
    "purchase_intent",
    "recommendation_request",
    "support_request",
)
MOMENTS: tuple[str, ...] = ("know", "go", "do", "buy", "none")
HEADS: tuple[str, ...] = ("complaint", "question", "purchase_intent")
BINARY_TASKS: Mapping[str, str] = MappingProxyType(
    {"complaint": "complaint", "question": "question", "purchase-intent": "purchase_intent"}
)
MODEL_PATH = Path(__file__).resolve().parent / "models" / "intent.npz"
FORMAT = "socialloop-intent-heads/1"

# Stacker inputs per head: the head's logit, then these cue families, then sentiment.
STACK_FAMILIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "complaint": ("complaint", "exclaim", "qmark", "praise", "support", "rhetorical"),
        "question": ("qmark", "opener", "request", "rhetorical", "recommend", "exclaim"),
        "purchase_intent": ("purchase", "buy", "qmark", "recommend"),
    }
)
STACK_SENTIMENT: Mapping[str, bool] = MappingProxyType(
    {"complaint": True, "question": False, "purchase_intent": True}
)

FloatArray = npt.NDArray[np.float32]
# Distinct texts whose text features an intent step remembers before the memo is reset.
_MEMO_SIZE = 100_000


class IntentModelMissing(SocialloopError):
    """The intent model artefact is absent or unreadable."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"intent model {path} {why}; regenerate it with "
            "`python training/train_intent.py --data ../shared/data`"
        )
        self.path = path


def stack_matrix(
    head: str, logit: npt.NDArray[np.floating[Any]], rules: FloatArray, sentiment: FloatArray
) -> npt.NDArray[np.float64]:
    """The stacker's inputs for ``head``: logit, cue counts, and P(negative), P(positive)."""
    cols = [np.asarray(logit, dtype=np.float64)]
    cols += [rules[:, FAMILIES.index(f)].astype(np.float64) for f in STACK_FAMILIES[head]]
    if STACK_SENTIMENT[head]:
        cols += [sentiment[:, 0].astype(np.float64), sentiment[:, 2].astype(np.float64)]
    return np.stack(cols, axis=1)


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))
    return out


@dataclass(frozen=True, slots=True)
class HeadsModel:
    """Binary linear heads over shared hashed TF-IDF features, plus one stacker per head."""

    config: HashingConfig
    heads: tuple[str, ...]
    weights: npt.NDArray[np.int8]  # (buckets, heads): round(idf * w / scale)
    scale: FloatArray  # (heads,)
    idf2: npt.NDArray[np.float16]  # (buckets,)
    bias: FloatArray  # (heads,)
    stackers: dict[str, dict[str, Any]]  # head -> {"coef": [...], "intercept": float}
    meta: dict[str, Any]
    # (dim, heads): weights of the post's static embedding (socialloop.learn.linear)
    dense: FloatArray | None = None
    dense_model: str | None = None
    dense_langs: tuple[str, ...] | None = None
    # (lexicon.WIDTH, outputs): weights of the English lexicon features (learn/lexicon.py)
    lexicon: FloatArray | None = None

    @classmethod
    def from_float(
        cls,
        config: HashingConfig,
        heads: Sequence[str],
        coef: npt.NDArray[np.floating[Any]],
        idf: npt.NDArray[np.floating[Any]],
        bias: npt.NDArray[np.floating[Any]],
        stackers: dict[str, dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        dense: npt.NDArray[np.floating[Any]] | None = None,
        dense_model: str | None = None,
        dense_langs: Sequence[str] | None = None,
        lexicon: npt.NDArray[np.floating[Any]] | None = None,
    ) -> HeadsModel:
        """Quantise float head weights ``coef`` (heads, buckets) and the IDF into a model;
        ``dense`` (heads, dim): float weights of the embedding named ``dense_model``."""
        folded = (coef * idf[None, :]).T.astype(np.float64)
        scale = np.maximum(np.abs(folded).max(axis=0), 1e-12) / 127.0
        weights = np.clip(np.rint(folded / scale), -127, 127).astype(np.int8)
        return cls(
            config=config,
            heads=tuple(heads),
            weights=weights,
            scale=scale.astype(np.float32),
            idf2=(idf**2).astype(np.float16),
            bias=np.asarray(bias, dtype=np.float32),
            stackers=dict(stackers or {}),
            meta=dict(meta or {}),
            **dense_block(dense, dense_model, dense_langs, lexicon),
        )

    def with_stackers(self, stackers: dict[str, dict[str, Any]]) -> HeadsModel:
        return dataclasses.replace(self, stackers=dict(stackers))

    def save(self, path: Path) -> None:
        header = {
            "format": FORMAT,
            "heads": list(self.heads),
            "hashing": self.config.to_dict(),
            "stackers": self.stackers,
            "meta": self.meta,
        }
        extra_header, extra_arrays = dense_header(self)
        save_arrays(path, header | extra_header, _arrays(self) | extra_arrays)

    @classmethod
    def load(cls, path: Path) -> HeadsModel:
        header, z = load_arrays(path, FORMAT, _ARRAYS, IntentModelMissing, optional=DENSE_ARRAYS)
        try:
            arrays = _typed(z)
            return cls(
                config=HashingConfig.from_dict(header["hashing"]),
                heads=tuple(header["heads"]),
                weights=arrays["weights"],
                scale=arrays["scale"],
                idf2=arrays["idf2"],
                bias=arrays["bias"],
                stackers=dict(header.get("stackers", {})),
                meta=dict(header.get("meta", {})),
                **dense_fields(header, z),
            )
        except (ValueError, KeyError) as exc:
            raise IntentModelMissing(path, f"could not be read ({exc})") from exc

    def logits(
        self,
        texts: Sequence[str],
        features: FeatureCache | None = None,
        langs: Sequence[str | None] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Head logits, shape (len(texts), heads); ``features``: where the texts' hashes and
        embeddings may already be (the same logits); ``langs``: the texts' languages (only a
        model whose embedding weights are for some languages reads them)."""
        return linear_logits(self, texts, langs, features)

    def stacked(
        self, texts: Sequence[str], rules: FloatArray, sentiment: FloatArray
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Final probability per head (>= 0.5 means the label applies)."""
        return self.stacked_logits(self.logits(texts), rules, sentiment)

    def stacked_logits(
        self, logits: npt.NDArray[np.float64], rules: FloatArray, sentiment: FloatArray
    ) -> dict[str, npt.NDArray[np.float64]]:
        """:meth:`stacked` from the head logits (:meth:`logits`) of the texts."""
        out: dict[str, npt.NDArray[np.float64]] = {}
        for j, head in enumerate(self.heads):
            st = self.stackers.get(head)
            if st is None:
                out[head] = _sigmoid(logits[:, j])
                continue
            x = stack_matrix(head, logits[:, j], rules, sentiment)
            coef = np.asarray(st["coef"], dtype=np.float64)
            out[head] = _sigmoid(x @ coef + float(st["intercept"]))
        return out


def _prior_sentiment(prior: Mapping[str, Any]) -> tuple[float, float, float] | None:
    scores = prior.get("sentiment_scores")
    if type(scores) is dict and len(scores) == 3:  # as the sentiment step makes them
        try:
            return (
                float(scores["negative"]),
                float(scores["neutral"]),
                float(scores["positive"]),
            )
        except (KeyError, TypeError, ValueError):
            pass
    if isinstance(scores, Mapping) and scores:
        try:
            return (
                float(scores.get("negative", 0.0)),
                float(scores.get("neutral", 0.0)),
                float(scores.get("positive", 0.0)),
            )
        except (TypeError, ValueError):
            return None
    label = prior.get("sentiment")
    if isinstance(label, Mapping):
        return _prior_sentiment({"sentiment_scores": label})
    if label in ("negative", "neutral", "positive"):
        row = [0.1, 0.1, 0.1]
        row[("negative", "neutral", "positive").index(label)] = 0.8
        return (row[0], row[1], row[2])
    return None


def _clip_count(x: FloatArray, cap: float) -> npt.NDArray[np.float64]:
    return np.minimum(x.astype(np.float64), cap)


class IntentEnricher:
    """LEARN step "intent": multi-label intent with probabilities, and the micro-moment."""

    name = "intent"
    # 2: customer-care replies are no complaint / support request; 3: negated complaint words;
    # 4: stackers refitted on sentiment 2; 5: heads trained without the hand-labelled tweets;
    # 6: stackers refitted on sentiment 3, apology replies as complaint labels, request cues;
    # 7: stackers refitted on sentiment 4; 8: on sentiment 5's tempered probabilities
    version = "8"
    requires: tuple[str, ...] = ("lang", "sentiment")
    produces: tuple[str, ...] = ("intent", "moment")

    def __init__(
        self, model_path: Path | None = None, features: FeatureCache | None = None
    ) -> None:
        self.model_path = model_path or MODEL_PATH
        # the hashes of a batch shared with the other linear text steps (build_steps)
        self.features = features
        self._model: HeadsModel | None = None
        self._rules: dict[str, re.Pattern[str]] | None = None
        self._sentiment: Any = None
        # text -> (rule counts, agent-reply flag, head logits): see _text_features
        self._memo: BatchMemo[str, tuple[FloatArray, float, npt.NDArray[np.float64]]] = BatchMemo(
            _MEMO_SIZE
        )

    @property
    def model(self) -> HeadsModel:
        """The trained heads, loaded on first use and kept on this instance."""
        if self._model is None:
            self._model = HeadsModel.load(self.model_path)
        return self._model

    @property
    def rules(self) -> dict[str, re.Pattern[str]]:
        if self._rules is None:
            self._rules = compile_rules()
        return self._rules

    def _sentiment_probs(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> FloatArray:
        """The sentiment step's probabilities (``langs``: detected when not given)."""
        if self._sentiment is None:
            from socialloop.learn.sentiment import SentimentEnricher

            self._sentiment = SentimentEnricher()
        probs: FloatArray = self._sentiment.predict_proba(list(texts), langs)
        return probs

    def _text_features(
        self, texts: Sequence[str]
    ) -> tuple[FloatArray, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per text: the cue-rule counts, the customer-care reply flag and the head logits.

        They depend on the text alone, so each distinct text is computed once (a retweet or a
        copied text comes from the memo) and the rows are gathered back in ``texts`` order."""

        def compute(
            missing: list[str],
        ) -> Iterable[tuple[FloatArray, float, npt.NDArray[np.float64]]]:
            # one cue scan gives the family counts and the customer-care reply flag
            rules, agent = cue_features(missing, self.rules)
            logits = self.model.logits(missing, self.features)
            return zip(rules, agent.tolist(), logits, strict=True)

        rows = self._memo.get_many(texts, compute)
        k = len(self.model.heads)
        if not rows:
            return (
                np.zeros((0, len(FAMILIES)), dtype=np.float32),
                np.zeros(0, dtype=np.float64),
                np.zeros((0, k), dtype=np.float64),
            )
        return (
            np.stack([r[0] for r in rows]),
            np.array([r[1] for r in rows], dtype=np.float64),
            np.stack([r[2] for r in rows]),
        )

    def scores(
        self, texts: Sequence[str], sentiment: FloatArray | None = None
    ) -> tuple[dict[str, npt.NDArray[np.float64]], FloatArray]:
        """Probability of every intent (vectors over ``texts``) and the rule counts."""
        model = self.model
        rules, agent, logits = self._text_features(texts)
        if sentiment is None:
            sentiment = self._sentiment_probs(texts)
        heads = model.stacked_logits(logits, rules, sentiment)
        col = {f: i for i, f in enumerate(FAMILIES)}
        # Rule floor for complaints the English-heavy head misses (other languages): several
        # complaint cues, unless the sentiment is clearly positive.
        p_neg = sentiment[:, 0].astype(np.float64)
        p_pos = sentiment[:, 2].astype(np.float64)
        floor = _sigmoid(
            1.3 * _clip_count(rules[:, col["complaint"]], 3) + 2.0 * (p_neg - p_pos) - 2.0
        )
        complaint = np.maximum(heads["complaint"], floor)
        # a customer-care reply ("sorry to hear, DM us") is about a problem, not one
        complaint = complaint * (1.0 - 0.85 * agent)
        question = heads["question"]
        praise = _sigmoid(
            4.0 * (p_pos - 0.5)
            + 1.5 * _clip_count(rules[:, col["praise"]], 2)
            - 1.0
            - 2.0 * complaint
        )
        recommend = _sigmoid(
            3.0 * _clip_count(rules[:, col["recommend"]], 1) + 0.5 * (question >= 0.5) - 1.5
        )
        support = _sigmoid(
            1.5 * _clip_count(rules[:, col["support"]], 2)
            + 2.5 * np.maximum(question, complaint)
            - 3.4
            - 4.0 * agent
        )
        probs = {
            "question": question,
            "complaint": complaint,
            "praise": praise,
            "purchase_intent": heads["purchase_intent"],
            "recommendation_request": recommend,
            "support_request": support,
        }
        return probs, rules

    def predict_binary(
        self, task: str, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> list[str]:
        """ "1" / "0" per text for ``task`` in complaint, question, purchase-intent
        (``langs``: the texts' languages, for the sentiment prior; detected when not given)."""
        head = BINARY_TASKS.get(task)
        if head is None:
            raise ValueError(f"unknown binary task {task!r}; choose one of {sorted(BINARY_TASKS)}")
        if not texts:
            return []
        probs, _ = self.scores(list(texts), self._sentiment_probs(texts, langs))
        return ["1" if p >= 0.5 else "0" for p in probs[head]]

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        if not batch:
            return []
        texts = [item.post.text or "" for item in batch]
        priors = [_prior_sentiment(item.prior) for item in batch]
        missing = [i for i, p in enumerate(priors) if p is None]
        if missing:
            sentiment = np.zeros((len(batch), 3), dtype=np.float32)
            sentiment[missing] = self._sentiment_probs([texts[i] for i in missing])
            for i, p in enumerate(priors):
                if p is not None:
                    sentiment[i] = p
        else:
            sentiment = np.array(priors, dtype=np.float32)
        probs, rules = self.scores(texts, sentiment)
        cue_columns = [rules[:, FAMILIES.index(f)].tolist() for f in ("request", "buy", "go", "do")]
        results: list[Result] = []
        table = np.stack([probs[label] for label in INTENTS], axis=1).astype(np.float64)
        for row, rounded, request, buy, go, do in zip(
            table.tolist(),
            np.round(table, 4).tolist(),  # the scores to 4 places, one call per batch
            *cue_columns,
            strict=True,
        ):
            scores = dict(zip(INTENTS, rounded, strict=True))
            labels = [label for label, p in zip(INTENTS, row, strict=True) if p >= 0.5]
            if len(labels) > 1 and "complaint" in labels and "praise" in labels:
                labels.remove("praise" if scores["complaint"] >= scores["praise"] else "complaint")
            results.append(
                Result(
                    values={
                        "intent": labels,
                        "moment": _moment(labels, request, buy, go, do),
                        "intent_scores": scores,
                    },
                    confidence=max(rounded),
                )
            )
        return results


def _moment(labels: Sequence[str], request: float, buy: float, go: float, do: float) -> str:
    """The micro-moment from the decided intents and the counts of the request, buy, go and
    do cue families."""
    asking = "question" in labels or "recommendation_request" in labels or request > 0
    if "purchase_intent" in labels or (asking and buy > 0 and go == 0):
        return "buy"
    if asking and go > 0:
        return "go"
    if asking and do > 0:
        return "do"
    if asking:
        return "know"
    return "none"


def predict_binary(
    task: str, texts: Sequence[str], langs: Sequence[str | None] | None = None
) -> list[str]:
    """ "1" / "0" per text for ``task`` in complaint, question, purchase-intent (for eval)."""
    return IntentEnricher().predict_binary(task, texts, langs)


def logit(p: float) -> float:
    """log(p / (1 - p)), clipped away from 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
