"""py3langid, batched: the language step's fast first guess over a whole batch at once.

Same model (embedded in the py3langid wheel) and the same arithmetic as
``LanguageIdentifier.rank`` followed by :func:`apply_prior`, with the per-post Python work
replaced by numpy over the batch (see :class:`FastLangid`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

#: Prior factor for languages outside :data:`MAJOR_LANGUAGES` (rare on social media).
MINOR_PRIOR = 0.1
#: Languages Twitter labels posts in: the "common on social media" prior.
_MAJOR = (
    "am ar bg bn ca cs cy da de el en es et eu fa fi fr gu he hi ht hu hy id is it ja ka km kn ko "
    "lo lt lv ml mr ms my ne nl no or pa pl ps pt ro ru sd si sk sl sr sv ta te th tl tr ug uk ur "
    "vi zh"
)
MAJOR_LANGUAGES = frozenset(_MAJOR.split())


def _py3langid() -> Any:
    """The py3langid module (imported dynamically: it ships no type information)."""
    return importlib.import_module("py3langid.langid")


#: Distinct (DFA state, word) walks remembered by a fast model before the memo is reset.
_WORD_MEMO = 200_000
# Posts scored per block of the batched naive-Bayes product (bounds the gathered matrix).
_SCORE_BLOCK = 256


class FastLangid:
    """py3langid restricted to a language set, returning normalised probabilities.

    Same model and arithmetic as ``LanguageIdentifier.rank`` followed by :func:`apply_prior`,
    vectorised over a batch: the byte n-gram DFA walk is memoised per (state, word), the
    feature counts of the whole batch become one sparse product with the model's matrix, and
    softmax, script-alias folding and the prior are numpy operations on an
    ``(posts, languages)`` array.
    """

    def __init__(self, languages: Iterable[str]) -> None:
        langid = _py3langid()
        ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
        ident.set_languages(sorted(languages))
        first: dict[str, int] = {}
        for i, c in enumerate(ident.nb_classes):
            first.setdefault(c, i)
        #: Distinct labels, in py3langid's column order (aliased columns folded into the first).
        self.labels: list[str] = list(first)
        self.index: dict[str, int] = {c: i for i, c in enumerate(self.labels)}
        self._keep = np.fromiter(first.values(), dtype=np.intp, count=len(first))
        self._alias: list[tuple[int, int]] = [(int(i), int(j)) for i, j in ident._alias_pairs]
        self._ptc = ident.nb_ptc  # (features, classes), float16
        self._pc = np.asarray(ident.nb_pc, dtype=np.float32)
        self._nm = ident.tk_nextmove
        self._rowbase = ident._rowbase
        self._out = ident.tk_output
        self._encode = ident._encode
        self._prior = np.array(
            [1.0 if c in MAJOR_LANGUAGES else MINOR_PRIOR for c in self.labels], dtype=np.float64
        )
        self._memo: dict[tuple[int, bytes], tuple[int, tuple[int, ...]]] = {}

    def _features(self, data: bytes) -> list[int]:
        """Feature ids the DFA emits over ``data`` (py3langid's ``visit_counts``, uncounted).

        The walk is deterministic, so a word's emissions and end state depend only on the state
        it starts in: those are memoised per (state, word) and spaces are stepped explicitly."""
        nm, rowbase, out, memo = self._nm, self._rowbase, self._out, self._memo
        feats: list[int] = []
        state = 0
        words = data.split(b" ")
        last = len(words) - 1
        for k, word in enumerate(words):
            key = (state, word)
            hit = memo.get(key)
            if hit is None:
                s = state
                emitted: list[int] = []
                for byte in word:
                    s = nm[rowbase[s] + byte]
                    f = out[s]
                    if f >= 0:
                        emitted.append(f)
                hit = (s, tuple(emitted))
                if len(memo) >= _WORD_MEMO:
                    memo.clear()
                memo[key] = hit
            state = hit[0]
            feats.extend(hit[1])
            if k != last:
                state = nm[rowbase[state] + 32]
                f = out[state]
                if f >= 0:
                    feats.append(f)
        return feats

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), len(labels))`` float64 probabilities, prior applied, rows sum to 1."""
        n = len(texts)
        n_feat, n_cls = self._ptc.shape
        sizes: list[int] = []
        counts_per_doc: list[int] = []
        feats: list[int] = []
        encode, features = self._encode, self._features
        for text in texts:
            data = encode(text)
            sizes.append(len(data) or 1)
            fs = features(data)
            counts_per_doc.append(len(fs))
            feats.extend(fs)
        lengths = np.array(sizes, dtype=np.float64)
        per_doc = np.array(counts_per_doc, dtype=np.intp)
        scores = np.zeros((n, n_cls), dtype=np.float32)
        if feats:
            keys = np.repeat(np.arange(n, dtype=np.int64), per_doc) * n_feat
            keys += np.array(feats, dtype=np.int64)
            uniq, counts = np.unique(keys, return_counts=True)
            doc = uniq // n_feat
            feat = uniq - doc * n_feat
            weight = np.log1p(counts.astype(np.float32))
            docs, starts = np.unique(doc, return_index=True)
            bounds = np.append(starts, len(uniq))
            for a in range(0, len(docs), _SCORE_BLOCK):
                b = min(a + _SCORE_BLOCK, len(docs))
                lo, hi = bounds[a], bounds[b]
                block = np.multiply(self._ptc[feat[lo:hi]], weight[lo:hi, None], dtype=np.float32)
                scores[docs[a:b]] = np.add.reduceat(block, starts[a:b] - lo, axis=0)
            scores[docs] += self._pc  # featureless posts stay all-zero (uniform), as in py3langid
        # T = sqrt(bytes) keeps the softmax calibrated across lengths (py3langid's _decide)
        scores *= (1.0 / np.sqrt(lengths)).astype(np.float32)[:, None]
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        for i, j in self._alias:
            scores[:, i] += scores[:, j]
        probs = scores[:, self._keep].astype(np.float64)
        probs *= self._prior
        total = probs.sum(axis=1, keepdims=True)
        total[total == 0.0] = 1.0
        probs /= total
        return probs

    def ranked(self, row: np.ndarray) -> list[tuple[str, float]]:
        """One row of :meth:`matrix` as (language, probability), best first (ties: column order)."""
        order = np.argsort(-row, kind="stable")
        labels = self.labels
        return [(labels[j], p) for j, p in zip(order.tolist(), row[order].tolist(), strict=True)]


def apply_prior(probs: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Probabilities times :data:`MINOR_PRIOR` outside the major languages, renormalised."""
    scored = [(c, p if c in MAJOR_LANGUAGES else p * MINOR_PRIOR) for c, p in probs]
    total = sum(p for _, p in scored) or 1.0
    return sorted(((c, p / total) for c, p in scored), key=lambda cp: -cp[1])


@lru_cache(maxsize=1)
def fast_languages() -> frozenset[str]:
    """ISO 639-1 codes py3langid can name (its 639-3 dialect labels are left out)."""
    langid = _py3langid()
    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    return frozenset(c for c in ident.labels if len(c) == 2 and c != "zz")
