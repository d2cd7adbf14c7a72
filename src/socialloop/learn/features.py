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

The multipliers do not depend on the configuration: :func:`raw_hashes` hashes a batch once
(:class:`RawHashes`, every occurrence's mixed 64-bit hash by kind of n-gram) and any model whose
n-gram ranges lie within picks its kinds and top bits from it (:meth:`RawHashes.select`).
:class:`FeatureCache` keeps the last batch's raw hashes so that the sentiment, emotion and intent
steps of one process hash each batch once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
U64Array = npt.NDArray[np.uint64]

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_DIGIT = re.compile(r"[0-9]")
# A run of spaces becomes one space: only runs of two or more, and single other spaces, need
# replacing (a lone " " stays as it is), which saves a replacement per word.
_SPACES = re.compile(
    r"[ \t\r\f\v\u00a0\u2000-\u200b\u3000]{2,}|[\t\r\f\v\u00a0\u2000-\u200b\u3000]"
)
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
    joined = _squeeze_runs(joined)
    joined = _SPACES.sub(" ", joined)
    return " " + joined.replace("\n", " \n ") + " "


def _squeeze_runs(text: str) -> str:
    r"""Elongations ``soooo`` -> ``sooo``: a run of four or more of the same character (but
    ``"\n"``) keeps its first three; as ``re.sub(r"(.)\1{3,}", r"\1\1\1", text)``, in numpy."""
    c = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if len(c) < 4:
        return text
    third = c[3:]
    repeat = (third == c[2:-1]) & (third == c[1:-2]) & (third == c[:-3]) & (third != _SEP)
    if not repeat.any():
        return text
    keep = np.ones(len(c), dtype=bool)
    keep[3:] = ~repeat
    return c[keep].tobytes().decode("utf-32-le")


def _codepoints(text: str) -> U64Array:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _mix(h: U64Array) -> U64Array:
    """The configuration-free part of a bucket: a model keeps the top bits of this."""
    mixed: U64Array = h >> np.uint64(29)
    np.bitwise_xor(mixed, h, out=mixed)
    np.multiply(mixed, _FINAL, out=mixed)
    return mixed


def _bucket(mixed: U64Array, bits: int) -> IntArray:
    return (mixed >> np.uint64(64 - bits)).astype(np.int64)


def _finish(h: U64Array, bits: int) -> IntArray:
    """Mix a 64-bit hash and keep its top ``bits`` bits as the bucket."""
    return _bucket(_mix(h), bits)


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


def _lang_salt(lang: str | None) -> int:
    """A fixed non-zero 64-bit salt for a language code (0 for none)."""
    if not lang:
        return 0
    code = lang.strip().lower().split("-")[0].split("_")[0]
    value = int.from_bytes(code.encode("utf-8")[:8].ljust(8, b"\0"), "little")
    return int(_constants(value, 1)[0])


Kind = tuple[str, int]  # ("char", n) or ("word", n)
Part = tuple[IntArray, U64Array]  # (doc index, mixed hash) per occurrence, ordered by doc


def _empty_part() -> Part:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)


def _char_hashes(c: U64Array, doc: IntArray, char_min: int, char_max: int) -> dict[Kind, Part]:
    """Every character n-gram (``char_min <= n <= char_max``) that stays inside one document."""
    is_sep = (c == _SEP).astype(np.int64)
    sep_cum = np.concatenate(([0], np.cumsum(is_sep)))
    parts: dict[Kind, Part] = {}
    length = len(c)
    for n in range(char_min, char_max + 1):
        count = length - n + 1
        if count <= 0:
            parts["char", n] = _empty_part()
            continue
        h = np.full(count, _CHAR_OFFSET[n], dtype=np.uint64)
        term = np.empty(count, dtype=np.uint64)
        for k in range(n):
            np.multiply(c[k : k + count], _CHAR_MULT[n, k], out=term)
            h += term
        keep = sep_cum[n : n + count] == sep_cum[:count]
        if n <= 2:  # the bigram of two spaces (at a document edge) carries nothing
            keep &= ~((c[:count] == _SPACE) & (c[n - 1 : n - 1 + count] == _SPACE))
        parts["char", n] = (doc[:count][keep], _mix(h[keep]))
    return parts


def _word_hashes(text: str, bigrams: bool) -> dict[Kind, Part]:
    """Word unigrams (and bigrams with ``bigrams``) of the normalised batch ``text``."""
    parts: dict[Kind, Part] = {("word", 1): _empty_part()}
    if bigrams:
        parts["word", 2] = _empty_part()
    # every non-word character between spaces: as _NONWORD.sub(r" \1 ", text), without a
    # Python call per match (split keeps the captured characters between the pieces)
    spaced = " ".join(_NONWORD.split(text))
    c = _codepoints(spaced)
    is_sep = c == _SEP
    doc_of_char = np.cumsum(is_sep)
    in_word = (c != _SPACE) & ~is_sep
    if not in_word.any():
        return parts
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
    parts["word", 1] = (wdoc, _mix(wh))
    if bigrams and len(wh) > 1:
        same = wdoc[1:] == wdoc[:-1]
        bh = wh[:-1] * _PAIR[0] + wh[1:] * _PAIR[1]
        parts["word", 2] = (wdoc[:-1][same], _mix(bh[same]))
    return parts


class RawHashes:
    """Every feature occurrence of a batch of texts before a model picks its buckets.

    Parallel arrays ``doc`` (document index) and ``mixed`` (the mixed 64-bit hash), one entry
    per occurrence, kind after kind (character n-grams by n, then word unigrams, then word
    bigrams; by document within a kind); ``bounds`` says where each kind lies. Any
    :class:`HashingConfig` whose n-gram ranges lie within these is served by :meth:`select`,
    with exactly the arrays :func:`hash_batch` returns for it: the multipliers do not depend
    on the configuration, only the kinds kept and the number of top bits kept do."""

    __slots__ = ("bounds", "char_max", "char_min", "doc", "docs", "mixed", "word_ngrams")

    def __init__(
        self, docs: int, char_min: int, char_max: int, word_ngrams: int, parts: dict[Kind, Part]
    ) -> None:
        self.docs = docs
        self.char_min = char_min
        self.char_max = char_max
        self.word_ngrams = word_ngrams  # 1 or 2
        self.bounds: dict[Kind, tuple[int, int]] = {}
        at = 0
        for kind in self._kinds(char_min, char_max, word_ngrams):
            size = len(parts[kind][0])
            self.bounds[kind] = (at, at + size)
            at += size
        self.doc: IntArray = np.concatenate([parts[k][0] for k in self.bounds])
        self.mixed: U64Array = np.concatenate([parts[k][1] for k in self.bounds])

    @staticmethod
    def _kinds(char_min: int, char_max: int, word_ngrams: int) -> list[Kind]:
        """The kinds of a configuration, in the order :func:`hash_batch` emits them."""
        kinds: list[Kind] = [("char", n) for n in range(char_min, char_max + 1)]
        kinds.append(("word", 1))
        if word_ngrams >= 2:
            kinds.append(("word", 2))
        return kinds

    def freeze(self) -> None:
        """Make the arrays read-only (they are shared: :meth:`select` may return views)."""
        self.doc.flags.writeable = False
        self.mixed.flags.writeable = False

    def covers(self, cfg: HashingConfig) -> bool:
        """Whether every kind ``cfg`` uses is here."""
        words = 2 if cfg.word_ngrams >= 2 else 1
        return (
            self.char_min <= cfg.char_min
            and cfg.char_max <= self.char_max
            and words <= self.word_ngrams
        )

    def select(
        self, cfg: HashingConfig, langs: Sequence[str | None] | None = None
    ) -> tuple[IntArray, IntArray]:
        """``hash_batch(texts, cfg, langs)`` of the texts these hashes were made from."""
        if not self.covers(cfg):
            raise ValueError(
                f"hashes of char {self.char_min}..{self.char_max}-grams and word "
                f"1..{self.word_ngrams}-grams cannot serve {cfg}"
            )
        spans: list[list[int]] = []  # the kinds wanted, adjacent ones merged
        for kind in self._kinds(cfg.char_min, cfg.char_max, cfg.word_ngrams):
            lo, hi = self.bounds[kind]
            if spans and spans[-1][1] == lo:
                spans[-1][1] = hi
            else:
                spans.append([lo, hi])
        if len(spans) == 1:
            lo, hi = spans[0]
            doc = self.doc[lo:hi]
            bucket = np.right_shift(self.mixed[lo:hi], np.uint64(64 - cfg.bits))
        else:
            doc = np.concatenate([self.doc[lo:hi] for lo, hi in spans])
            bucket = np.concatenate([self.mixed[lo:hi] for lo, hi in spans])
            np.right_shift(bucket, np.uint64(64 - cfg.bits), out=bucket)
        # the top ``bits`` bits (bits < 64) fit an int64 as they are
        buckets: IntArray = bucket.view(np.int64)
        if langs is None or not cfg.lang_copies:
            return doc, buckets
        last: Kind = ("word", 2) if cfg.word_ngrams >= 2 else ("word", 1)
        n_word = self.bounds[last][1] - self.bounds["word", 1][0]
        wd, wb = doc[len(doc) - n_word :], buckets[len(doc) - n_word :]
        salts = np.array([_lang_salt(lang) for lang in langs], dtype=np.uint64)
        keep = salts[wd] != 0
        if not keep.any():
            return doc, buckets
        salted = (wb[keep].astype(np.uint64) + np.uint64(1)) * salts[wd[keep]]
        return (
            np.concatenate([doc, wd[keep]]),
            np.concatenate([buckets, _finish(salted, cfg.bits)]),
        )

    def subset(self, rows: IntArray) -> RawHashes:
        """The hashes of documents ``rows`` (in that order, repeats allowed), renumbered
        0..len(rows)-1: what :func:`raw_hashes` gives for those texts."""
        count = len(rows)
        renumbered = np.arange(count, dtype=np.int64)
        every = np.arange(self.docs + 1, dtype=np.int64)
        parts: dict[Kind, Part] = {}
        for kind, (lo, hi) in self.bounds.items():
            doc = self.doc[lo:hi]
            offsets = np.searchsorted(doc, every)
            starts = offsets[rows]
            lens = offsets[rows + 1] - starts
            ends = np.cumsum(lens)
            total = int(ends[-1]) if count else 0
            idx = np.repeat(starts - (ends - lens), lens) + np.arange(total, dtype=np.int64)
            parts[kind] = (np.repeat(renumbered, lens), self.mixed[lo:hi][idx])
        return RawHashes(count, self.char_min, self.char_max, self.word_ngrams, parts)


def raw_hashes(
    texts: Sequence[str], char_min: int = 2, char_max: int = 5, word_ngrams: int = 2
) -> RawHashes:
    """Normalise and hash a batch once, for every model whose n-gram ranges lie within."""
    words = 2 if word_ngrams >= 2 else 1
    if not texts:
        parts = {("char", n): _empty_part() for n in range(char_min, char_max + 1)}
        parts.update({("word", n): _empty_part() for n in range(1, words + 1)})
        return RawHashes(0, char_min, char_max, words, parts)
    text = normalize(texts)
    c = _codepoints(text)
    doc = np.cumsum(c == _SEP).astype(np.int64)
    parts = _char_hashes(c, doc, char_min, char_max)
    parts.update(_word_hashes(text, words >= 2))
    return RawHashes(len(texts), char_min, char_max, words, parts)


def hash_batch(
    texts: Sequence[str], cfg: HashingConfig, langs: Sequence[str | None] | None = None
) -> tuple[IntArray, IntArray]:
    """Hashed feature occurrences of a batch: parallel ``(doc index, bucket)`` arrays.

    With ``langs`` (and ``cfg.lang_copies``), the word features of a document with a language
    are added a second time, hashed together with that language, so a model can learn
    language-specific weights beside the shared ones (feature augmentation).
    """
    return raw_hashes(texts, cfg.char_min, cfg.char_max, cfg.word_ngrams).select(cfg, langs)


class FeatureCache:
    """The raw hashes of the last batch of texts one process hashed, shared by the linear text
    models (sentiment, emotion, intent) so a batch is normalised and hashed once.

    :meth:`hash_batch` returns exactly what :func:`hash_batch` would. It serves the same texts
    again, or any of them in any order (a step that already knows some texts asks for fewer),
    from the remembered hashes; other texts are hashed and replace them (one batch is kept).
    The n-gram ranges hashed are the widest any model asked for so far. A pickled cache
    (a worker's copy of the steps) arrives empty, still shared by the steps pickled with it.
    """

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._raw: RawHashes | None = None
        self._index: dict[str, int] | None = None
        self._char_min = _MAX_N
        self._char_max = 0
        self._words = 1
        self._vectors: _Vectors | None = None  # the last batch's post embeddings
        self.hits = 0  # served the remembered batch as it was
        self.subsets = 0  # served some of its texts
        self.misses = 0  # hashed the texts
        self.embedded = 0  # batches embedded (vectors)

    def __reduce__(self) -> tuple[type[FeatureCache], tuple[()]]:
        return FeatureCache, ()

    @property
    def remembered(self) -> int:
        """How many texts the remembered batch holds (0: none)."""
        return 0 if self._raw is None else self._raw.docs

    def clear(self) -> None:
        """Forget the remembered batch (its memory is released)."""
        self._texts, self._raw, self._index = [], None, None
        self._vectors = None

    def vectors(self, texts: Sequence[str]) -> FloatArray:
        """The bundled static embeddings of ``texts`` (float32 unit rows,
        :func:`socialloop.learn.embeddings.default_embedder`), from the remembered batch where
        it holds them: the sentiment model and the embedding step embed a batch once. A row
        depends on its text alone, so served rows equal freshly computed ones."""
        from socialloop.learn.embeddings import default_embedder

        listed = texts if isinstance(texts, list) else list(texts)
        held = self._vectors
        if held is not None:
            if listed == held.texts:
                return held.matrix
            rows = held.rows(listed)
            if rows is not None:
                return held.matrix[rows]
        matrix = default_embedder().encode(listed)
        self._vectors = _Vectors(listed, matrix)
        self.embedded += 1
        return matrix

    def hash_batch(
        self, texts: Sequence[str], cfg: HashingConfig, langs: Sequence[str | None] | None = None
    ) -> tuple[IntArray, IntArray]:
        """:func:`hash_batch`, from the remembered hashes where they hold the texts."""
        return self.raw(texts, cfg).select(cfg, langs)

    def raw(self, texts: Sequence[str], cfg: HashingConfig) -> RawHashes:
        """Raw hashes of ``texts`` covering ``cfg``."""
        self._char_min = min(self._char_min, cfg.char_min)
        self._char_max = max(self._char_max, cfg.char_max)
        self._words = max(self._words, 2 if cfg.word_ngrams >= 2 else 1)
        raw = self._raw
        if raw is not None and raw.covers(cfg):
            listed = texts if isinstance(texts, list) else list(texts)
            if listed == self._texts:
                self.hits += 1
                return raw
            rows = self._rows(listed)
            if rows is not None:
                self.subsets += 1
                return raw.subset(rows)
        self.misses += 1
        raw = raw_hashes(texts, self._char_min, self._char_max, self._words)
        raw.freeze()
        self._texts, self._raw, self._index = list(texts), raw, None
        return raw

    def _rows(self, texts: list[str]) -> IntArray | None:
        """Where each text is in the remembered batch of hashes, or None when one is not
        there."""
        index = self._index
        if index is None:
            index = self._index = {t: i for i, t in enumerate(self._texts)}
        return _positions(index, texts)


class _Vectors:
    """One batch of texts and their embeddings (:meth:`FeatureCache.vectors`)."""

    __slots__ = ("_index", "matrix", "texts")

    def __init__(self, texts: list[str], matrix: FloatArray) -> None:
        self.texts = texts
        self.matrix = matrix
        self._index: dict[str, int] | None = None

    def rows(self, texts: list[str]) -> IntArray | None:
        """Where each text is in this batch, or None when one is not there."""
        index = self._index
        if index is None:
            index = self._index = {t: i for i, t in enumerate(self.texts)}
        return _positions(index, texts)


def _positions(index: dict[str, int], texts: list[str]) -> IntArray | None:
    """``index[t]`` of each text, or None when one is not in ``index``."""
    try:
        return np.array([index[t] for t in texts], dtype=np.int64)
    except KeyError:
        return None
