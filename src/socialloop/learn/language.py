"""Language detection step: ISO 639-1 code (or ``"und"``) for every post, fast on short posts.

How a post is decided (see docs/models.md, "Language", for the measured accuracy and speed):

1. **Pre-clean** (:mod:`socialloop.learn.langid_clean`): NFKC (folds Arabic presentation forms
   and full-width letters), HTML entities, then drop URLs, ``@mentions``, a leading ``RT``, the
   ``#`` of hashtags, emoji, digits and punctuation; letters repeated 3+ times are squeezed to
   two (``soooo``).
   Fewer than ``MIN_LETTERS`` (3) letters left (empty, emoji-only, URL-only) -> ``"und"``.
2. **Fast first guess** (``mode="fast"``): py3langid (naive Bayes over byte n-grams, model
   embedded in its wheel), restricted to the candidate set, gives a probability per language.
   If the best one reaches :data:`CONFIRM_THRESHOLD` it is the answer.
3. **Confirmation where unsure**: otherwise lingua (lazily loaded, one cached detector per
   candidate subset) decides among py3langid's :data:`TOP_K` best candidates that lingua knows,
   with its full models, or its trigram models only (``lingua_models="trigram"``: far less
   memory, a little less accurate).
4. ``mode="accurate"``: lingua over the whole candidate set on every post (batched, in parallel).
5. **Declared language** (``post.lang``, from Twitter/Bluesky/Mastodon payloads) is evidence,
   not truth: a valid declared code in the candidate set has its probability multiplied by
   :data:`DECLARED_BOOST` before renormalising. It therefore wins when the text is ambiguous
   (short, shared words) and loses when the detector is sure of another language.

The candidate set defaults to py3langid's 96 ISO 639-1 languages; lingua-only ones (``mi``,
``tn``, ``ts``) take part when configured explicitly. A workspace can restrict it
(``languages=["en", "es", "fr"]``), which is faster and more accurate on short posts.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.langid_clean import (
    HINGLISH_SHARE,
    clean_texts,
    has_letters,
    hinglish_share,
)
from socialloop.learn.langid_fast import (
    FastLangid,
    apply_prior,
    fast_languages,
)
from socialloop.learn.langid_stream import STREAM_FLOOR, STREAM_SHARE, StreamPrior

if TYPE_CHECKING:
    from lingua import LanguageDetector

Mode = Literal["fast", "accurate"]
UND = "und"

#: py3langid probability at or above which the fast guess is accepted without lingua.
CONFIRM_THRESHOLD = 0.6
#: How many py3langid candidates lingua weighs when confirming (fast / accurate mode).
TOP_K = 3
TOP_K_ACCURATE = 5
# Groups of at least this many posts go to lingua's multi-threaded API.
_PARALLEL_MIN = 16
# Decisions a step remembers per (text, declared language) before the memo is reset.
_MEMO_SIZE = 100_000
#: Factor applied to the declared language's probability (see module docstring).
DECLARED_BOOST = 8.0

# Platform codes that say "no language" or are legacy aliases of ISO 639-1 codes.
_DECLARED_NONE = frozenset({"und", "zxx", "qme", "qht", "qam", "qst", "art", "mul", "xx"})
_ALIASES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "nb": "no", "fil": "tl", "zh": "zh"}


@lru_cache(maxsize=1)
def _lingua_codes() -> dict[str, Any]:
    """ISO 639-1 code (``nb`` reported as ``no``) -> lingua ``Language``."""
    from lingua import Language

    out: dict[str, Any] = {}
    for lang in Language.all():
        code = lang.iso_code_639_1.name.lower()
        out[_ALIASES.get(code, code)] = lang
    return out


def accurate_languages() -> frozenset[str]:
    """ISO 639-1 codes lingua can name."""
    return frozenset(_lingua_codes())


@lru_cache(maxsize=1)
def supported_languages() -> frozenset[str]:
    """Every code the step can return (besides ``"und"``)."""
    return fast_languages() | accurate_languages()


_LINGUA_LOCK = threading.Lock()


@lru_cache(maxsize=256)
def _lingua_detector(codes: frozenset[str], low_accuracy: bool = False) -> LanguageDetector:
    """A lingua detector for a set of codes (>= 2); models load lazily and are shared.

    ``low_accuracy``: lingua's trigram models only (about a tenth of the loading time and
    memory of its full 1-5-gram models, a little less accurate on short texts)."""
    from lingua import LanguageDetectorBuilder

    table = _lingua_codes()
    langs = [table[c] for c in sorted(codes)]
    builder = LanguageDetectorBuilder.from_languages(*langs)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    with _LINGUA_LOCK:
        return builder.build()


def _code_of(language: Any) -> str:
    code = str(language.iso_code_639_1.name).lower()
    return _ALIASES.get(code, code)


# --------------------------------------------------------------------------- decision


def normalise_declared(code: str | None) -> str | None:
    """A platform's declared language as an ISO 639-1 code, or None when absent/undetermined."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if base in _DECLARED_NONE:
        return None
    base = _ALIASES.get(base, base)
    return base if base in supported_languages() else None


def combine_declared(
    probs: Sequence[tuple[str, float]], declared: str | None, boost: float = DECLARED_BOOST
) -> tuple[str, float]:
    """Best language after boosting the declared one (if it is a candidate) and renormalising."""
    if not probs:
        return UND, 0.0
    if declared is None or boost == 1.0:
        return probs[0][0], _clip(probs[0][1])
    scores = {c: p * (boost if c == declared else 1.0) for c, p in probs}
    if declared not in scores:
        return probs[0][0], _clip(probs[0][1])
    total = sum(scores.values()) or 1.0
    best = max(scores, key=scores.__getitem__)
    return best, _clip(scores[best] / total)


def _clip(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, x))


class LanguageEnricher:
    """The ``language`` step: ``{"lang": ISO 639-1 code or "und"}`` with a confidence.

    ``languages`` restricts the candidate set (a workspace's markets); ``mode`` is ``"fast"``
    (py3langid, lingua only where unsure) or ``"accurate"`` (lingua on every post).
    ``use_declared`` turns the platform-declared language evidence on or off;
    ``lingua_models`` (fast mode) picks lingua's ``"full"`` or ``"trigram"`` models.
    """

    name = "language"
    version = "3"
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ("lang",)

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        mode: Mode = "fast",
        *,
        threshold: float = CONFIRM_THRESHOLD,
        top_k: int | None = None,
        declared_boost: float = DECLARED_BOOST,
        use_declared: bool = True,
        lingua_models: Literal["full", "trigram"] = "full",
        stream_prior: bool = True,
        stream_floor: float = STREAM_FLOOR,
        stream_share: float = STREAM_SHARE,
    ) -> None:
        if mode not in ("fast", "accurate"):
            raise ValueError(f"mode must be 'fast' or 'accurate', not {mode!r}")
        if lingua_models not in ("full", "trigram"):
            raise ValueError(f"lingua_models must be 'full' or 'trigram', not {lingua_models!r}")
        everything = supported_languages()
        if languages is None:
            wanted = fast_languages()
        else:
            normalised = {_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in languages}
            unknown = sorted(normalised - everything)
            if unknown:
                raise ValueError(f"unsupported language code(s): {', '.join(unknown)}")
            if not normalised:
                raise ValueError("languages must name at least one language")
            wanted = frozenset(normalised)
        self.languages: frozenset[str] = frozenset(wanted)
        self.mode: Mode = mode
        self.threshold = threshold
        self.top_k = top_k if top_k is not None else (TOP_K if mode == "fast" else TOP_K_ACCURATE)
        self.declared_boost = declared_boost if use_declared else 1.0
        self._fast_set = self.languages & fast_languages()
        self._lingua_set = self.languages & accurate_languages()
        self._lingua_only = self._lingua_set - self._fast_set
        # lingua's full 1-5-gram models, or its trigram models only ("trigram", fast mode):
        # over ~96 candidates the unsure posts name dozens of languages, whose full models
        # cost ~5 s to load and ~700 MB more, for +0.6 points of accuracy (docs/models.md)
        self.low_accuracy_lingua = mode == "fast" and lingua_models == "trigram"
        # the stream prior (fast mode): languages py3langid decided alone so far, and how often
        self.stream_prior = stream_prior and mode == "fast"
        # stored decisions made under other settings are re-decided: the version names them
        self.version = type(self).version + "".join(
            part
            for part, on in (
                ("+accurate", mode == "accurate"),
                ("+trigram", self.low_accuracy_lingua),
                ("+noprior", mode == "fast" and not stream_prior),
                (f"+langs={','.join(sorted(self.languages))}", languages is not None),
            )
            if on
        )
        self._prior = StreamPrior(self._lingua_set, share=stream_share, floor=stream_floor)
        self._hit_codes: list[str] = []  # the batch's remembered (sure) decisions
        self._weighed: list[int] = []  # rows of the last _detect_distinct that lingua weighed
        self._fast: FastLangid | None = None
        self._declared_memo: dict[str | None, str | None] = {None: None}
        # (text, declared code) -> decision (the settings above are fixed once built)
        self._memo: BatchMemo[tuple[str, str | None], tuple[str, float]] = BatchMemo(_MEMO_SIZE)

    # -- back ends, loaded on first use

    def _fast_model(self) -> FastLangid:
        if self._fast is None:
            self._fast = FastLangid(self._fast_set)
        return self._fast

    def load(self) -> None:
        """Load py3langid now instead of on the first post (lingua models load as needed)."""
        if self._fast_set:
            self._fast_model()

    # -- single post

    def detect(self, text: str, declared: str | None = None) -> tuple[str, float]:
        """``(code, confidence)`` for one text; ``declared`` is the platform's language if any."""
        return self.detect_many([text], [declared])[0]

    def _declared(self, declared: str | None) -> str | None:
        if declared is None or self.declared_boost == 1.0:
            return None
        try:
            return self._declared_memo[declared]
        except KeyError:
            code = normalise_declared(declared)
            code = code if code in self.languages else None
            if len(self._declared_memo) < 4096:
                self._declared_memo[declared] = code
            return code

    def _special(
        self, cleaned: str
    ) -> tuple[list[tuple[str, float]], frozenset[str] | None] | None:
        """The first pass of posts py3langid does not score (None: py3langid scores it)."""
        if len(self.languages) == 1:
            return [(next(iter(self.languages)), 1.0)], None
        if "hi" in self.languages:
            share = hinglish_share(cleaned)
            if share >= HINGLISH_SHARE:
                return [("hi", min(1.0, 0.5 + share))], None
        if not self._fast_set:
            return [], frozenset(self._lingua_set)
        return None

    def _candidates(self, top: Iterable[str], declared: str | None) -> frozenset[str] | None:
        """What lingua must weigh: py3langid's best (that lingua knows), the declared language
        and the configured lingua-only languages (None: fewer than two, nothing to weigh)."""
        picked = [c for c in top if c in self._lingua_set]
        if declared in self._lingua_set:
            picked.append(declared)
        candidates = frozenset(picked) | self._lingua_only
        return candidates if len(candidates) > 1 else None

    def seed(self, counts: dict[str, int]) -> None:
        """Start every batch's stream tally from these counts of languages (a workspace's
        stored posts per detected language; :class:`StreamPrior`)."""
        self._prior.seed(counts)

    @property
    def stream_languages(self) -> frozenset[str]:
        """The stream prior's languages in the last batch (empty before the first batch or
        with the prior off)."""
        return self._prior.languages

    # -- batches (the Enricher contract)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        texts = [item.post.text for item in batch]
        declared = [item.post.lang for item in batch]
        return [
            Result(values={"lang": code}, confidence=conf)
            for code, conf in self.detect_many(texts, declared)
        ]

    def known_languages(self, texts: Sequence[str]) -> list[str | None]:
        """Each text's detected language code, None where it is undetermined (``und``): the
        languages a model that weighs some languages differently needs when none are given."""
        return [None if code == UND else code for code, _ in self.detect_many(texts)]

    def detect_many(
        self, texts: Sequence[str], declared: Sequence[str | None] | None = None
    ) -> list[tuple[str, float]]:
        """:meth:`detect` over many texts; lingua runs in parallel on groups of posts.

        py3langid scores the whole batch at once (:meth:`FastLangid.matrix`). A post is
        decided there when the best probability reaches the threshold and agrees with the
        declared language (fast mode); otherwise its top candidates (plus the declared
        language) go to lingua, and :func:`combine_declared` weighs the declared language.
        The rules run on the probability matrix with numpy, no per-post loop over languages.

        A decision depends on the text, the declared language and (for an unsure post under
        the stream prior) the stream's languages so far; each distinct pair is decided once
        and remembered (retweets and copied texts are common), so a repeated text keeps its
        first decision while the memo holds it. lingua's
        confidences themselves vary in the last bits from call to call (its multi-threaded
        and single-text paths, and repeated calls, differ by up to ~1e-15)."""
        decl = list(declared) if declared is not None else [None] * len(texts)
        if len(decl) != len(texts):
            raise ValueError("texts and declared must have the same length")
        if self.declared_boost == 1.0:
            keys: list[tuple[str, str | None]] = [(text, None) for text in texts]
        else:
            known, norm = self._declared_memo, self._declared
            keys = [
                (text, known[d] if d in known else norm(d))
                for text, d in zip(texts, decl, strict=True)
            ]
        if not self.stream_prior:
            return self._memo.get_many(
                keys,
                lambda missing: self._detect_distinct(
                    [t for t, _ in missing], [c for _, c in missing]
                ),
            )
        # under the stream prior the memo keeps the sure decisions only (they depend on the
        # text alone); they count in the batch's tally like the batch's new sure decisions
        self._hit_codes = [code for code, _ in self._memo.known(dict.fromkeys(keys)) if code != UND]
        weighed: list[tuple[str, str | None]] = []

        def compute(missing: list[tuple[str, str | None]]) -> list[tuple[str, float]]:
            out = self._detect_distinct([t for t, _ in missing], [c for _, c in missing])
            weighed.extend(missing[i] for i in self._weighed)
            return out

        decided = self._memo.get_many(keys, compute)
        self._memo.forget(weighed)
        return decided

    def _detect_distinct(
        self, texts: Sequence[str], codes: Sequence[str | None]
    ) -> list[tuple[str, float]]:
        """:meth:`detect_many` on texts not seen before (``codes``: the normalised declared
        languages). Posts whose cleaned text and declared language are the same as an earlier
        one's (a retweet, a copied text) are decided once."""
        out: list[tuple[str, float]] = [(UND, 0.0)] * len(texts)
        first: dict[tuple[str, str | None], int] = {}
        copies: list[tuple[int, int]] = []
        probs: dict[int, list[tuple[str, float]]] = {}  # posts decided outside the fast matrix
        pending: dict[frozenset[str], list[tuple[int, str]]] = {}
        fast_rows: list[int] = []
        fast_texts: list[str] = []
        for i, cleaned in enumerate(clean_texts(texts)):
            if not has_letters(cleaned):
                continue
            seen = first.setdefault((cleaned, codes[i]), i)
            if seen != i:
                copies.append((i, seen))
                continue
            special = self._special(cleaned)
            if special is None:
                fast_rows.append(i)
                fast_texts.append(cleaned)
                continue
            probs[i], candidates = special
            if candidates is not None:
                pending.setdefault(candidates, []).append((i, cleaned))
        if fast_rows:
            self._decide_fast(fast_rows, fast_texts, codes, out, probs, pending)
        for candidates, group in pending.items():
            detector = _lingua_detector(candidates, self.low_accuracy_lingua)
            group_texts = [c for _, c in group]
            if len(group) >= _PARALLEL_MIN:
                values = detector.compute_language_confidence_values_in_parallel(group_texts)
            else:
                values = [detector.compute_language_confidence_values(t) for t in group_texts]
            for (i, _), vals in zip(group, values, strict=True):
                confirmed = apply_prior((_code_of(v.language), float(v.value)) for v in vals)
                probs[i] = merge(probs[i], confirmed)
        for i, p in probs.items():
            out[i] = combine_declared(p, codes[i], self.declared_boost) if p else (UND, 0.0)
        for i, seen in copies:
            out[i] = out[seen]
        weighed = {i for group in pending.values() for i, _ in group}
        self._weighed = sorted(weighed | {i for i, seen in copies if seen in weighed})
        return out

    def _decide_fast(
        self,
        rows: list[int],
        cleaned: list[str],
        codes: Sequence[str | None],
        out: list[tuple[str, float]],
        probs: dict[int, list[tuple[str, float]]],
        pending: dict[frozenset[str], list[tuple[int, str]]],
    ) -> None:
        """Decide the posts py3langid scores: fills ``out`` (decided here) or ``probs`` and
        ``pending`` (lingua must weigh candidates)."""
        model = self._fast_model()
        labels = model.labels
        mat = model.matrix(cleaned)
        n = len(rows)
        ar = np.arange(n)
        best = mat.argmax(axis=1)
        best_p = mat[ar, best]
        dec = np.array([model.index.get(codes[i] or "", -1) for i in rows], dtype=np.intp)
        no_decl = np.array([codes[i] is None for i in rows], dtype=bool)
        if self.mode == "fast":
            decided = (best_p >= self.threshold) & (no_decl | (dec == best))
        else:
            decided = np.zeros(n, dtype=bool)
        unsure = np.flatnonzero(~decided)
        stream = (
            self._prior.batch(labels, best[decided], self._hit_codes) if self.stream_prior else None
        )
        if len(unsure):
            # the unsure rows ranked best first, as FastLangid.ranked does one row
            sub = mat[unsure]
            order = np.argsort(-sub, axis=1, kind="stable")
            ranked_p = np.take_along_axis(sub, order, axis=1)
            tops = order[:, : self.top_k].tolist()
            for k, (r, top) in enumerate(zip(unsure.tolist(), tops, strict=True)):
                i = rows[r]
                candidates = None
                if stream is not None:
                    picked = self._prior.candidates(
                        order[k], labels, stream, float(ranked_p[k, 0]), self.top_k
                    )
                    candidates = self._candidates(picked, codes[i])
                if candidates is None:
                    candidates = self._candidates((labels[j] for j in top), codes[i])
                if candidates is None:
                    decided[r] = True
                else:
                    names = [labels[j] for j in order[k].tolist()]
                    probs[i] = list(zip(names, ranked_p[k].tolist(), strict=True))
                    pending.setdefault(candidates, []).append((i, cleaned[r]))
        # combine_declared on the matrix: boost the declared column, renormalise, take the best
        code_idx = best
        conf = best_p
        boosted = np.flatnonzero(decided & (dec >= 0)) if self.declared_boost != 1.0 else ar[:0]
        if len(boosted):
            sub = mat[boosted]
            sub[np.arange(len(boosted)), dec[boosted]] *= self.declared_boost
            sub_best = sub.argmax(axis=1)
            total = sub.sum(axis=1)
            total[total == 0.0] = 1.0
            code_idx = best.copy()
            conf = best_p.copy()
            code_idx[boosted] = sub_best
            conf[boosted] = sub[np.arange(len(boosted)), sub_best] / total
        for r, j, c in zip(
            np.flatnonzero(decided).tolist(),
            code_idx[decided].tolist(),
            conf[decided].tolist(),
            strict=True,
        ):
            out[rows[r]] = (labels[j], _clip(c))


def merge(
    first: Sequence[tuple[str, float]], second: Sequence[tuple[str, float]]
) -> list[tuple[str, float]]:
    """Product of two distributions over the second one's languages (naive-Bayes ensemble).

    Falls back to whichever side is informative when the other is empty or all zero.
    """
    if not first:
        return list(second)
    p1 = dict(first)
    scores = [(c, p1.get(c, 0.0) * p) for c, p in second]
    total = sum(p for _, p in scores)
    if total <= 0.0:
        return list(first)
    return sorted(((c, p / total) for c, p in scores), key=lambda cp: -cp[1])


def detect(text: str, mode: Mode = "fast") -> tuple[str, float]:
    """``(ISO 639-1 code or "und", confidence)`` for one text, over all supported languages.

    A convenience that builds a step per call; keep a :class:`LanguageEnricher` for many texts.
    """
    return LanguageEnricher(mode=mode).detect(text)
