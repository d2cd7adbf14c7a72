"""Sentiment: negative / neutral / positive with probabilities, overall and toward each brand.

The model is a multinomial logistic regression over hashed character 2-5-grams and word 1-2-grams
(:mod:`socialloop.learn.features`), TF-IDF weighted and L2 normalised, trained by
``training/train_sentiment.py`` on TweetEval sentiment (SemEval-2017), the 8 UMSAB languages
(ar, en, fr, de, hi, it, pt, es), XED Finnish mapped to polarity and the airline tweets. Scoring
a batch is a few numpy passes (no Python loop per n-gram): about 20-40 us per post on one core.

The artefact ``models/sentiment.npz`` holds plain arrays only (loaded with
``allow_pickle=False``): int8 class weights pre-multiplied by the IDF with one scale per class,
float16 squared IDF (for the norm), the bias, and a JSON header with the feature settings.

Per-brand sentiment: the text is split into clauses on sentence punctuation and contrastive
connectives (but, unlike, whereas, however, pero, mais, aber, mutta, ma, mas, ...). A brand is
scored on the clause that mentions it; when that clause says little beyond the brand (as in
"X is great, unlike Y") the previous clause decides: mirrored after an "unlike"/"than"-type
connective, as is after others; with no usable clause the post's overall sentiment is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from socialloop.errors import SocialloopError
from socialloop.learn.accurate import BlendedModel, ProbaModel, Probs, TransformerHeads
from socialloop.learn.artefact import LINEAR_ARRAYS as _ARRAYS
from socialloop.learn.artefact import linear_arrays as _arrays
from socialloop.learn.artefact import load_arrays, save_arrays
from socialloop.learn.artefact import typed_linear as _typed
from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.features import FeatureCache, HashingConfig
from socialloop.learn.linear import (
    DENSE_ARRAYS,
    dense_block,
    dense_fields,
    dense_header,
    language_dependent,
    linear_logits,
)

if TYPE_CHECKING:
    from socialloop.learn.language import LanguageEnricher

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
MODEL_PATH = Path(__file__).resolve().parent / "models" / "sentiment.npz"
FORMAT = "socialloop-linear-hashed/1"

FloatArray = npt.NDArray[np.float32]


class ModelMissing(SocialloopError):
    """A trained model artefact is absent or unreadable."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"sentiment model {path} {why}; regenerate it with "
            "`python training/train_sentiment.py --data ../shared/data`"
        )
        self.path = path


@dataclass(frozen=True, slots=True)
class LinearHashedModel:
    """A linear classifier over hashed TF-IDF features, as stored in ``sentiment.npz``."""

    config: HashingConfig
    labels: tuple[str, ...]
    weights: npt.NDArray[np.int8]  # (buckets, classes): round(idf * w / scale)
    scale: FloatArray  # (classes,)
    idf2: npt.NDArray[np.float16]  # (buckets,)
    bias: FloatArray  # (classes,)
    meta: dict[str, Any]
    # (dim, classes): weights of the post's static embedding (the bundled embedder named
    # ``dense_model``, scale folded in), added to the logits of posts in ``dense_langs``
    # (None: every post); ``dense`` None: n-gram features only
    dense: FloatArray | None = None
    dense_model: str | None = None
    dense_langs: tuple[str, ...] | None = None
    # (lexicon.WIDTH, outputs): weights of the English lexicon features (learn/lexicon.py)
    lexicon: FloatArray | None = None

    @classmethod
    def from_float(
        cls,
        config: HashingConfig,
        labels: Sequence[str],
        coef: npt.NDArray[np.floating[Any]],
        idf: npt.NDArray[np.floating[Any]],
        bias: npt.NDArray[np.floating[Any]],
        meta: dict[str, Any] | None = None,
        dense: npt.NDArray[np.floating[Any]] | None = None,
        dense_model: str | None = None,
        dense_langs: Sequence[str] | None = None,
        lexicon: npt.NDArray[np.floating[Any]] | None = None,
    ) -> LinearHashedModel:
        """Quantise float weights ``coef`` (classes, buckets) and the IDF into a model;
        ``dense`` (classes, dim): float weights of the embedding named ``dense_model``, used
        for posts in ``dense_langs`` (None: all); ``lexicon`` (classes, lexicon.WIDTH): float
        weights of the English lexicon features."""
        folded = (coef * idf[None, :]).T.astype(np.float64)
        scale = np.maximum(np.abs(folded).max(axis=0), 1e-12) / 127.0
        weights = np.clip(np.rint(folded / scale), -127, 127).astype(np.int8)
        return cls(
            config=config,
            labels=tuple(labels),
            weights=weights,
            scale=scale.astype(np.float32),
            idf2=(idf**2).astype(np.float16),
            bias=np.asarray(bias, dtype=np.float32),
            meta=dict(meta or {}),
            **dense_block(dense, dense_model, dense_langs, lexicon),
        )

    def save(self, path: Path) -> None:
        header: dict[str, Any] = {
            "format": FORMAT,
            "labels": list(self.labels),
            "hashing": self.config.to_dict(),
            "meta": self.meta,
        }
        extra_header, extra_arrays = dense_header(self)
        save_arrays(path, header | extra_header, _arrays(self) | extra_arrays)

    @classmethod
    def load(cls, path: Path) -> LinearHashedModel:
        header, z = load_arrays(path, FORMAT, _ARRAYS, ModelMissing, optional=DENSE_ARRAYS)
        try:
            arrays = _typed(z)
            return cls(
                config=HashingConfig.from_dict(header["hashing"]),
                labels=tuple(header["labels"]),
                weights=arrays["weights"],
                scale=arrays["scale"],
                idf2=arrays["idf2"],
                bias=arrays["bias"],
                meta=dict(header.get("meta", {})),
                **dense_fields(header, z),
            )
        except (ValueError, KeyError) as exc:
            raise ModelMissing(path, f"could not be read ({exc})") from exc

    def predict_proba(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        features: FeatureCache | None = None,
    ) -> FloatArray:
        """Class probabilities, shape (len(texts), classes), rows summing to 1.

        ``langs`` (ISO 639-1 codes or None, one per text) is an optional feature;
        ``features``: where the texts' hashes and embeddings may already be (the same
        probabilities)."""
        logits = linear_logits(self, texts, langs, features)
        # a temperature fitted on validation tweets after training (1: none) makes the
        # probabilities honest confidences; it never changes the most probable label
        logits /= float(self.meta.get("temperature", 1.0))
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return probs.astype(np.float32)


# --- per-brand clauses -------------------------------------------------------------------------

# Connectives after which a brand-only clause takes the opposite of the clause before it.
_MIRROR = (
    r"unlike|rather than|instead of|than|compared (?:to|with)|as opposed to|contrary to|"
    r"a diferencia de|al contrario de|en vez de|más que|contrairement à|à la différence de|"
    r"plutôt que|im gegensatz zu|anders als|toisin kuin|"
    r"a differenza di|invece di|rispetto a|ao contrário de|diferente de|em vez de|do que|"
    r"بعكس|على عكس|के विपरीत"
)
# "better than" in languages whose "than" is also a common word (que, als, kuin, di): the
# particle is a mirroring connective only after a comparative, which stays in the clause before
# it ("Rival es mejor | que Acme": Rival positive, Acme its mirror). Particle forms -> the
# connective they count as.
_COMPARATIVE_WORDS = (
    "mejor|mejores|peor|peores|meilleur|meilleure|meilleurs|meilleures|mieux|pire|pires|"
    "melhor|melhores|pior|piores|besser|schlechter|parempi|parempia|huonompi|huonompia|"
    "paremmin|huonommin|meglio|migliore|migliori|peggio|peggiore|peggiori"
)
_PARTICLES = {"que": "que", "qu'": "que", "qu’": "que", "als": "als", "kuin": "kuin"}
_PARTICLES |= {p: "di" for p in ("di", "del", "della", "dello", "dei", "degli", "delle")}
_PARTICLES |= {p: "di" for p in ("dell'", "dell’")}
_PARTICLE = "|".join(sorted((re.escape(p) for p in _PARTICLES), key=len, reverse=True))
# Connectives that start a new clause without mirroring it.
_CONTRAST = (
    r"but|whereas|while|however|although|though|yet|meanwhile|pero|sino|aunque|mientras|"
    r"mais|alors que|tandis que|cependant|pourtant|aber|sondern|jedoch|während|obwohl|"
    r"mutta|vaan|kun taas|vaikka|ma|però|mentre|invece|mas|porém|enquanto|embora|"
    r"لكن|بينما|ولكن|लेकिन|पर|मगर"
)
# Every connective starts with one of these: the lookahead skips the ~90 alternatives at the
# positions where none can start (the same matches, found sooner).
_CONN_FIRST = "".join(sorted({alt[0] for alt in f"{_MIRROR}|{_CONTRAST}".split("|")}))
_CLAUSE_SPLIT = re.compile(
    rf"[.!?;。！？\n]+|,?\s*\b(?=[{re.escape(_CONN_FIRST)}])(?P<conn>{_MIRROR}|{_CONTRAST})\b"
    rf"|\b(?P<cmp>{_COMPARATIVE_WORDS})\s+(?P<particle>{_PARTICLE})(?:\b|(?<=['’]))",
    re.IGNORECASE,
)
_MIRROR_SET = frozenset(
    [*(x.replace("(?:to|with)", "").strip() for x in _MIRROR.split("|")), *_PARTICLES.values()]
)
_WORD = re.compile(r"\w+")
_MIN_CLAUSE_WORDS = 2


class _Clause(NamedTuple):
    text: str
    connective: str  # lower-case connective that opened it ("" after punctuation)


def split_clauses(text: str) -> list[_Clause]:
    """Clauses of ``text``: split on sentence punctuation and contrastive connectives."""
    clauses: list[_Clause] = []
    start = 0
    conn = ""
    for m in _CLAUSE_SPLIT.finditer(text):
        comparative = m.group("cmp")
        # after a comparative, the clause keeps it and the particle opens the next one
        piece = text[start : m.end("cmp") if comparative else m.start()].strip(" ,")
        if piece:
            clauses.append(_Clause(piece, conn))
        if comparative:
            conn = _PARTICLES[m.group("particle").lower()]
        else:
            conn = (m.group("conn") or "").lower()
        start = m.end()
    tail = text[start:].strip(" ,")
    if tail:
        clauses.append(_Clause(tail, conn))
    return clauses


def brand_pattern(brand: str) -> re.Pattern[str]:
    """Matches a brand's name in text, as words or as an ``@handle`` / ``#tag`` (any case)."""
    parts = [re.escape(p) for p in re.split(r"[\s_\-]+", brand.strip()) if p]
    body = r"[\s_\-]*".join(parts) if parts else re.escape(brand)
    return re.compile(rf"(?<!\w)[@#]?{body}(?!\w)", re.IGNORECASE)


def _is_mirror(connective: str) -> bool:
    return connective in _MIRROR_SET or connective.startswith("compared")


def _plan_brand(clauses: list[_Clause], pattern: re.Pattern[str]) -> tuple[str | None, bool]:
    """What to score for one brand: (clause text or None for overall, mirror the result?)."""
    if len(clauses) <= 1:
        return None, False
    for i, clause in enumerate(clauses):
        if not pattern.search(clause.text):
            continue
        rest = pattern.sub(" ", clause.text)
        if len(_WORD.findall(rest)) >= _MIN_CLAUSE_WORDS:
            return clause.text, False
        if i > 0:
            return clauses[i - 1].text, _is_mirror(clause.connective)
        return None, False
    return None, False


# --- the enricher ------------------------------------------------------------------------------


# Distinct (text, language) pairs whose probabilities the step remembers before a reset.
_MEMO_SIZE = 100_000

# What the step keeps of one post's probabilities: the label, the scores rounded to 4 places (in
# label order) and the top probability (the confidence, and the score of a brand judged on the
# whole post). Plain tuples: the memo adds no containers for the garbage collector to scan.
_Summary = tuple[str, tuple[float, ...], float]
_Plan = tuple[tuple[str, str | None, bool], ...]  # per brand: (brand, clause or None, mirror?)


class SentimentEnricher:
    """LEARN step "sentiment": overall and per-brand polarity with probabilities."""

    name = "sentiment"
    version = "6"  # 2: English posts also weigh their static embedding; 3: and VADER's lexicon;
    # 4: the lexicon read with VADER's tokens (emoticons, hashtags, curly apostrophes);
    # 5: probabilities tempered (calibrated on validation tweets), labels unchanged;
    # 6: "better than" in es/fr/de/fi/it/pt splits after the comparative (sentiment toward
    # each brand in comparisons; the overall sentiment is unchanged)
    requires: tuple[str, ...] = ("lang",)
    produces: tuple[str, ...] = ("sentiment", "sentiment_scores")

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
        self._model: ProbaModel | None = None
        self._fast: LinearHashedModel | None = None
        self._patterns: dict[str, re.Pattern[str]] = {}
        # clause probabilities per (clause, language); post summaries per (text, language)
        self._rows: BatchMemo[tuple[str, str | None], FloatArray] = BatchMemo(_MEMO_SIZE)
        self._summaries: BatchMemo[tuple[str, str | None], _Summary] = BatchMemo(_MEMO_SIZE)
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}
        # detects the languages of predict_proba's texts when none are given
        self._language: LanguageEnricher | None = None

    @property
    def model(self) -> ProbaModel:
        """The trained model, loaded on first use and kept on this instance."""
        if self._model is None:
            fast = LinearHashedModel.load(self.model_path)
            blended = None if self.heads is None else BlendedModel(fast, self.heads, "sentiment")
            self._fast = fast
            self._model = fast if blended is None else blended
        return self._model

    def predict_proba(
        self, texts: Sequence[str], langs: Sequence[str | None] | None = None
    ) -> Probs:
        """Class probabilities of ``texts``. ``langs``: their languages; when not given and
        the model weighs some languages differently (its embedding and lexicon blocks are for
        English posts), they are detected, so a text scores as it does in the pipeline."""
        model = self.model
        fast = self._fast
        if langs is None and fast is not None and language_dependent(fast):
            langs = self._detect(texts)
        return model.predict_proba(texts, langs)

    def _detect(self, texts: Sequence[str]) -> list[str | None]:
        from socialloop.learn.language import LanguageEnricher

        if self._language is None:
            self._language = LanguageEnricher()
        return self._language.known_languages(texts)

    def _plan(self, text: str, brands: tuple[str, ...]) -> _Plan:
        """Per brand: (brand, the clause to score or None for the whole post, mirror it?).
        A pure function of the text and the brands, remembered per pair."""
        key = (text, brands)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        clauses = split_clauses(text) if brands else []
        if len(clauses) > 1:
            planned = []
            for brand in brands:
                pattern = self._patterns.get(brand)
                if pattern is None:
                    pattern = self._patterns[brand] = brand_pattern(brand)
                clause, mirror = _plan_brand(clauses, pattern)
                planned.append((brand, clause, mirror))
            plan = tuple(planned)
        else:  # one clause: every brand is judged on the whole post
            plan = tuple((brand, None, False) for brand in brands)
        if len(self._plans) > _MEMO_SIZE:
            self._plans.clear()
        self._plans[key] = plan
        return plan

    def _proba(self, texts: Sequence[str], langs: Sequence[str | None]) -> Probs:
        """``model.predict_proba(texts, langs)``. In fast mode a row depends on its text and
        language alone (hashed features, row-wise softmax), so each distinct pair is scored
        once and remembered; in accurate mode the transformer keeps its own per-text memo."""
        model = self.model
        if self.heads is not None or not texts:
            return model.predict_proba(texts, langs)
        rows = self._rows.get_many(
            list(zip(texts, langs, strict=True)),
            lambda missing: model.predict_proba(
                [t for t, _ in missing], [lang for _, lang in missing]
            ),
        )
        return np.stack(rows)

    def _summarise(self, missing: list[tuple[str, str | None]]) -> list[_Summary]:
        """Fast mode: the summaries of (text, language) pairs not seen before, scored in one
        batch (its hashes from the shared feature cache when there is one)."""
        model = self.model
        assert self._fast is not None
        probs = self._fast.predict_proba(
            [t for t, _ in missing], [lang for _, lang in missing], self.features
        )
        return _summaries(model.labels, probs)

    def predict(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[str]:
        """The label of each text (``langs`` as :meth:`predict_proba` takes them)."""
        labels = self.model.labels
        return [labels[i] for i in self.predict_proba(texts, langs).argmax(axis=1)]

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        model = self.model
        labels = model.labels
        texts = [item.post.text or "" for item in batch]
        langs = [_lang(item) for item in batch]
        if self.heads is None:  # a post's values depend on its text and language alone
            summaries = self._summaries.get_many(
                list(zip(texts, langs, strict=True)), self._summarise
            )
        else:
            summaries = _summaries(labels, model.predict_proba(texts, langs))
        # Per-brand plans (posts that match a brand); every distinct clause is scored once,
        # in one extra batch.
        plans: dict[int, _Plan] = {}
        extra: dict[str, int] = {}
        clause_langs: list[str | None] = []
        for i, item in enumerate(batch):
            if not item.brands:
                continue
            plan = plans[i] = self._plan(texts[i], item.brands)
            for _brand, clause, _mirror in plan:
                if clause is not None and clause not in extra:
                    extra[clause] = len(extra)
                    clause_langs.append(langs[i])
        clause_probs = self._proba(list(extra), clause_langs) if extra else None
        results: list[Result] = []
        for i, (label, scores, confidence) in enumerate(summaries):
            brand_values: dict[str, dict[str, Any]] = {}
            for brand, clause, mirror in plans.get(i, ()):
                if clause is None or clause_probs is None:  # the whole post's sentiment
                    brand_values[brand] = {"sentiment": label, "sentiment_score": confidence}
                    continue
                p = clause_probs[extra[clause]]
                if mirror:
                    p = p[::-1]  # negative <-> positive, neutral stays
                top = int(p.argmax())
                brand_values[brand] = {"sentiment": labels[top], "sentiment_score": float(p[top])}
            results.append(
                Result(
                    values={
                        "sentiment": label,
                        "sentiment_scores": dict(zip(labels, scores, strict=True)),
                    },
                    confidence=confidence,
                    brand_values=brand_values,
                )
            )
        return results


def _lang(item: Item) -> str | None:
    lang = item.prior.get("lang") or item.post.lang
    return lang if isinstance(lang, str) else None


def _summaries(labels: Sequence[str], probs: Probs) -> list[_Summary]:
    """Per row of ``probs``: its label, its scores rounded to 4 places, its top probability."""
    tops: list[int] = probs.argmax(axis=1).tolist()
    exact = probs.astype(np.float64)
    return [
        (labels[top], tuple(rounded), row[top])
        for top, row, rounded in zip(tops, exact.tolist(), np.round(exact, 4).tolist(), strict=True)
    ]
