"""py3langid, batched: the language step's fast first guess over a whole batch at once.

Same model (embedded in the py3langid wheel) and the same arithmetic as
``LanguageIdentifier.rank`` followed by :func:`apply_prior`, with the per-post Python work
replaced by numpy over the batch (see :class:`FastLangid`).
"""

from __future__ import annotations

import importlib
import unicodedata
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

# Posts scored per block of the batched naive-Bayes product (bounds the gathered matrix).
_SCORE_BLOCK = 64
# Below this many documents still being walked, each goes on alone in Python (a numpy step
# costs a few microseconds whatever its width; a Python byte step a tenth of one).
_LOCKSTEP_MIN = 8


def _py3langid() -> Any:
    """The py3langid module (imported dynamically: it ships no type information)."""
    return importlib.import_module("py3langid.langid")


@lru_cache(maxsize=1)
def _model() -> tuple[Any, ...]:
    """py3langid's model arrays, loaded once per process (LZMA-decompressing it costs ~0.4 s
    of CPU, and both :func:`fast_languages` and :class:`FastLangid` need it). Read-only."""
    langid = _py3langid()
    model = tuple(langid._load_model_file(langid.MODEL_DIR / langid.MODEL_FILE))
    for part in model:
        if isinstance(part, np.ndarray):
            part.setflags(write=False)
    return model


def _identifier(**kwargs: Any) -> Any:
    """A fresh ``LanguageIdentifier`` over the shared model (as ``from_model_file`` builds it)."""
    ptc, pc, classes, nextmove, row, output = _model()
    langid = _py3langid()
    return langid.LanguageIdentifier(
        np.asarray(ptc), np.asarray(pc), classes, nextmove, output, tk_row=row, **kwargs
    )


class FastLangid:
    """py3langid restricted to a language set, returning normalised probabilities.

    Same model and arithmetic as ``LanguageIdentifier.rank`` followed by :func:`apply_prior`,
    vectorised over a batch: the byte n-gram DFA walks every document of the batch in
    lockstep (one numpy gather per byte position, see :meth:`features`), the feature counts
    become weighted rows of the model's matrix summed per post, and softmax, script-alias
    folding and the prior are numpy operations on an ``(posts, languages)`` array.
    """

    def __init__(self, languages: Iterable[str]) -> None:
        ident = _identifier(norm_probs=True)
        ident.set_languages(sorted(languages))
        first: dict[str, int] = {}
        for i, c in enumerate(ident.nb_classes):
            first.setdefault(c, i)
        #: Distinct labels, in py3langid's column order (aliased columns folded into the first).
        self.labels: list[str] = list(first)
        self.index: dict[str, int] = {c: i for i, c in enumerate(self.labels)}
        self._keep = np.fromiter(first.values(), dtype=np.intp, count=len(first))
        self._alias: list[tuple[int, int]] = [(int(i), int(j)) for i, j in ident._alias_pairs]
        # (features, classes), row-major float32: a post's rows are gathered contiguously
        # (float16 -> float32 is exact, so the products are py3langid's)
        self._ptc = np.ascontiguousarray(ident.nb_ptc, dtype=np.float32)
        self._pc = np.asarray(ident.nb_pc, dtype=np.float32)
        # the DFA: state -> first slot of its 256-entry row in nextmove (py3langid's layout)
        self._nm_py = ident.tk_nextmove
        self._rowbase_py: list[int] = ident._rowbase
        self._nm = np.asarray(ident.tk_nextmove)
        self._rowbase = np.asarray(ident._rowbase, dtype=np.intp)
        self._out = np.asarray(ident.tk_output, dtype=np.intp)
        self._prior = np.array(
            [1.0 if c in MAJOR_LANGUAGES else MINOR_PRIOR for c in self.labels], dtype=np.float64
        )

    def features(self, data: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """``(document, feature id)`` of every feature the DFA emits over each document: the
        multiset py3langid's ``visit_counts`` counts, in no particular order.

        All documents are walked in lockstep, longest first: at byte position ``p`` the
        documents longer than ``p`` are a prefix of that order, so one step is an add and
        two gathers over that prefix. The bytes are laid out position-major beforehand, so
        each step reads and writes contiguous slices; the last few long documents finish in
        Python."""
        n = len(data)
        lengths = np.fromiter(map(len, data), dtype=np.intp, count=n)
        buf = np.frombuffer(b"".join(data), dtype=np.uint8)
        total = len(buf)
        if total == 0:
            none = np.zeros(0, dtype=np.intp)
            return none, none
        offsets = np.zeros(n, dtype=np.intp)
        np.cumsum(lengths[:-1], out=offsets[1:])
        order = np.argsort(-lengths, kind="stable")
        by_len = lengths[order]
        longest = int(by_len[0])
        # active[p]: documents longer than p; step p covers slots starts[p] .. starts[p + 1]
        active = n - np.searchsorted(by_len[::-1], np.arange(longest), side="right")
        starts = np.zeros(longest + 1, dtype=np.intp)
        np.cumsum(active, out=starts[1:])
        pos = np.repeat(np.arange(longest), active)
        rank = np.arange(total) - np.repeat(starts[:-1], active)
        step_bytes = buf[offsets[order][rank] + pos].astype(np.intp)
        states = np.empty(total, dtype=self._nm.dtype)
        nm, rowbase = self._nm, self._rowbase
        row = np.full(n, rowbase[0], dtype=np.intp)  # every walk starts in state 0
        idx = np.empty(n, dtype=np.intp)
        act: list[int] = active.tolist()
        at: list[int] = starts.tolist()
        p = 0
        while p < longest and act[p] >= _LOCKSTEP_MIN:
            k, a = act[p], at[p]
            np.add(row[:k], step_bytes[a : a + k], out=idx[:k])
            reached = states[a : a + k]
            # every index is in range ("clip" only spares numpy the checked, buffered path)
            np.take(nm, idx[:k], out=reached, mode="clip")
            np.take(rowbase, reached, out=row[:k], mode="clip")
            p += 1
        if p < longest:
            nm_py, rowbase_py = self._nm_py, self._rowbase_py
            for r, end in enumerate(by_len[: act[p]].tolist()):
                slots = starts[p:end] + r
                s = int(states[at[p - 1] + r]) if p else 0
                walked: list[int] = []
                for byte in step_bytes[slots].tolist():
                    s = nm_py[rowbase_py[s] + byte]
                    walked.append(s)
                states[slots] = walked
        feats = self._out[states]
        emitted = feats >= 0
        return order[rank][emitted], feats[emitted]

    def matrix(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), len(labels))`` float64 probabilities, prior applied, rows sum to 1."""
        n = len(texts)
        n_feat, n_cls = self._ptc.shape
        # py3langid's _encode for str (an all-caps text is lower-cased), inlined
        nfc = unicodedata.normalize
        data = [
            nfc("NFC", t.lower() if t.isupper() else t).encode("utf8", "surrogatepass")
            for t in texts
        ]
        lengths = np.fromiter((len(d) or 1 for d in data), dtype=np.float64, count=n)
        scores = np.zeros((n, n_cls), dtype=np.float32)
        doc_of, feat_of = self.features(data)
        if len(feat_of):
            # one key per (post, feature); 32-bit keys sort about twice as fast
            key_type = np.int32 if n * n_feat < 2**31 else np.int64
            keys = doc_of.astype(key_type) * n_feat
            keys += feat_of.astype(key_type)
            uniq, counts = np.unique(keys, return_counts=True)  # by post, then feature
            doc = uniq // n_feat
            feat = uniq - doc * n_feat
            weight = np.log1p(counts.astype(np.float32))
            docs, starts = np.unique(doc, return_index=True)
            bounds = np.append(starts, len(uniq))
            rows = np.empty((0, n_cls), dtype=np.float32)
            for a in range(0, len(docs), _SCORE_BLOCK):
                b = min(a + _SCORE_BLOCK, len(docs))
                lo, hi = bounds[a], bounds[b]
                if hi - lo > len(rows):
                    rows = np.empty((hi - lo, n_cls), dtype=np.float32)
                block = rows[: hi - lo]
                np.take(self._ptc, feat[lo:hi], axis=0, out=block, mode="clip")
                block *= weight[lo:hi, None]
                # reduceat sums each post's rows pairwise, column by column
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
    classes = _model()[2]
    return frozenset(c for c in classes if len(c) == 2 and c != "zz")
