"""Batch-vectorised hashed text features for the linear text models (sentiment, ...).

A batch of texts is normalised for social media in a handful of regex passes over the joined
batch (URLs -> ``http``, ``@handle`` -> ``@user``, lower case, digits -> ``0``, elongations
``soooo`` -> ``sooo``), then turned into hashed features entirely in numpy, with no Python loop
per post or per n-gram:

* character n-grams (default 2..5) of the normalised text, padded with a space at both ends, so
  emoji, emoticons, hashtags, Arabic and Devanagari are all covered without a tokenizer;
* word unigrams and bigrams, where a word is a run of letters/digits/marks (plus ``#@'_``) and
  every other character (punctuation, each emoji) is a word on its own.

Every feature occurrence is hashed with fixed 64-bit multipliers (no dependence on Python's
randomised ``hash``) into ``2**bits`` buckets. :func:`hash_batch` returns parallel arrays
``(doc, bucket)`` with one entry per occurrence: a sparse term-count matrix in coordinate form
that training turns into a scipy CSR matrix and inference reduces with ``np.bincount``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_DIGIT = re.compile(r"[0-9]")
_ELONGATION = re.compile(r"(.)\1{3,}")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u3000]+")
# A word character: \w, combining marks of Latin/Arabic, the Indic blocks (their vowel signs are
# not \w), ZWNJ/ZWJ, and the social-media sigils # @ ' _. Anything else is a word of its own.
_WORDCHAR = (
    r"\w#@'\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    r"\u0900-\u0963\u0966-\u0dff\u200c\u200d"
)
_NONWORD = re.compile(rf"([^{_WORDCHAR}\s])")

_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&amp;", "&"))
_SEP = 10  # "\n": the document separator in the joined batch
_SPACE = 32
_M64 = np.uint64((1 << 64) - 1)


def _constants(seed: int, count: int) -> npt.NDArray[np.uint64]:
    """Fixed odd 64-bit multipliers (a splitmix64 stream, so they never change)."""
    out = []
    x = seed & 0xFFFFFFFFFFFFFFFF
    for _ in range(count):
        x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


_MAX_N = 8
_MAX_WORD = 32
_CHAR_MULT = _constants(1, _MAX_N * _MAX_N).reshape(_MAX_N, _MAX_N)
_CHAR_OFFSET = _constants(2, _MAX_N)
_WORD_MULT = _constants(3, _MAX_WORD)
_PAIR = _constants(4, 4)
_FINAL = _constants(5, 1)[0]


def normalize(texts: Sequence[str]) -> str:
    """The normalised batch joined by ``"\\n"``, each text padded with a space at both ends."""
    joined = "\n".join(t.replace("\n", " ") for t in texts)
    if "&" in joined:
        for entity, char in _ENTITIES:
            joined = joined.replace(entity, char)
    joined = _URL.sub(" http ", joined)
    joined = _MENTION.sub("@user", joined)
    joined = joined.lower()
    joined = _DIGIT.sub("0", joined)
    joined = _ELONGATION.sub(r"\1\1\1", joined)
    joined = _SPACES.sub(" ", joined)
    return " " + joined.replace("\n", " \n ") + " "


def _codepoints(text: str) -> npt.NDArray[np.uint64]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _finish(h: npt.NDArray[np.uint64], bits: int) -> IntArray:
    """Mix a 64-bit hash and keep its top ``bits`` bits as the bucket."""
    h = h ^ (h >> np.uint64(29))
    h = h * _FINAL
    return (h >> np.uint64(64 - bits)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class HashingConfig:
    """What :func:`hash_batch` extracts; stored with every model that uses it."""

    bits: int = 20
    char_min: int = 2
    char_max: int = 5
    word_ngrams: int = 2
    lang_copies: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "lang_copies": self.lang_copies,
            "bits": self.bits,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "word_ngrams": self.word_ngrams,
        }

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> HashingConfig:
        return cls(
            bits=int(d["bits"]),
            char_min=int(d["char_min"]),
            char_max=int(d["char_max"]),
            word_ngrams=int(d["word_ngrams"]),
            lang_copies=int(d.get("lang_copies", 0)),
        )


def _char_ngrams(c: npt.NDArray[np.uint64], doc: IntArray, cfg: HashingConfig) -> list[IntArray]:
    """(doc, bucket) pairs of every character n-gram that stays inside one document."""
    is_sep = (c == _SEP).astype(np.int64)
    sep_cum = np.concatenate(([0], np.cumsum(is_sep)))
    docs: list[IntArray] = []
    buckets: list[IntArray] = []
    length = len(c)
    for n in range(cfg.char_min, cfg.char_max + 1):
        count = length - n + 1
        if count <= 0:
            continue
        h = np.full(count, _CHAR_OFFSET[n], dtype=np.uint64)
        for k in range(n):
            h += c[k : k + count] * _CHAR_MULT[n, k]
        keep = sep_cum[n : n + count] == sep_cum[:count]
        if n <= 2:  # the bigram of two spaces (at a document edge) carries nothing
            keep &= ~((c[:count] == _SPACE) & (c[n - 1 : n - 1 + count] == _SPACE))
        docs.append(doc[:count][keep])
        buckets.append(_finish(h[keep], cfg.bits))
    return [np.concatenate(docs), np.concatenate(buckets)]


def _word_ngrams(text: str, cfg: HashingConfig) -> list[IntArray]:
    """(doc, bucket) pairs of word unigrams (and bigrams when ``word_ngrams >= 2``)."""
    spaced = _NONWORD.sub(r" \1 ", text)
    c = _codepoints(spaced)
    is_sep = c == _SEP
    doc_of_char = np.cumsum(is_sep)
    in_word = (c != _SPACE) & ~is_sep
    if not in_word.any():
        empty = np.zeros(0, dtype=np.int64)
        return [empty, empty]
    prev = np.concatenate(([False], in_word[:-1]))
    starts = in_word & ~prev
    pos_all = np.arange(len(c))
    start_pos = np.maximum.accumulate(np.where(starts, pos_all, 0))
    idx = np.flatnonzero(in_word)
    within = np.minimum(idx - start_pos[idx], _MAX_WORD - 1)
    contrib = c[idx] * _WORD_MULT[within]
    first = np.flatnonzero(starts[idx])
    wh = np.add.reduceat(contrib, first)
    wdoc = doc_of_char[idx[first]].astype(np.int64)
    docs = [wdoc]
    buckets = [_finish(wh, cfg.bits)]
    if cfg.word_ngrams >= 2 and len(wh) > 1:
        same = wdoc[1:] == wdoc[:-1]
        bh = wh[:-1] * _PAIR[0] + wh[1:] * _PAIR[1]
        docs.append(wdoc[:-1][same])
        buckets.append(_finish(bh[same], cfg.bits))
    return [np.concatenate(docs), np.concatenate(buckets)]


def _lang_salt(lang: str | None) -> int:
    """A fixed non-zero 64-bit salt for a language code (0 for none)."""
    if not lang:
        return 0
    code = lang.strip().lower().split("-")[0].split("_")[0]
    value = int.from_bytes(code.encode("utf-8")[:8].ljust(8, b"\0"), "little")
    return int(_constants(value, 1)[0])


def hash_batch(
    texts: Sequence[str], cfg: HashingConfig, langs: Sequence[str | None] | None = None
) -> tuple[IntArray, IntArray]:
    """Hashed feature occurrences of a batch: parallel ``(doc index, bucket)`` arrays.

    With ``langs`` (and ``cfg.lang_copies``), the word features of a document with a language
    are added a second time, hashed together with that language, so a model can learn
    language-specific weights beside the shared ones (feature augmentation).
    """
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    text = normalize(texts)
    c = _codepoints(text)
    doc = np.cumsum(c == _SEP).astype(np.int64)
    cd, cb = _char_ngrams(c, doc, cfg)
    wd, wb = _word_ngrams(text, cfg)
    parts_d, parts_b = [cd, wd], [cb, wb]
    if langs is not None and cfg.lang_copies:
        salts = np.array([_lang_salt(lang) for lang in langs], dtype=np.uint64)
        keep = salts[wd] != 0
        if keep.any():
            salted = (wb[keep].astype(np.uint64) + np.uint64(1)) * salts[wd[keep]]
            parts_d.append(wd[keep])
            parts_b.append(_finish(salted, cfg.bits))
    return np.concatenate(parts_d), np.concatenate(parts_b)
