"""Post embeddings: a static (token-table) model distilled from all-MiniLM-L6-v2.

Each post becomes one L2-normalised vector (the sum of its tokens' vectors, normalised), for
topics, similarity search and, later, brand alignment. The artefact is a table of token
vectors (int8 with one float32 scale per row) in ``models/embeddings.npz`` and its vocabulary
in ``models/embeddings.json``; both load with numpy and the standard library alone, with no
pickle, no torch and no download. ``training/distill_embeddings.py`` builds it and
``docs/models.md`` ("Embeddings") says how well it agrees with MiniLM on real tweets.

Tokenisation mirrors MiniLM's (BERT uncased WordPiece: lower-case, accents stripped,
punctuation split off) with one addition: whole words frequent in social media (including
emoji) that MiniLM would cut into pieces are vocabulary entries of their own. Links become
``http`` and handles ``@user`` first, as in TweetEval.

The vectors go to the ``embeddings`` table (one row per post: model, dim, float16 bytes), not
to the enrichments JSON: the pipeline upserts them with the batch's other results, and
``write_embeddings`` writes vectors computed elsewhere.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sqlalchemy import Connection, delete

from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.features import FeatureCache

MODEL_DIR = Path(__file__).parent / "models"
MODEL_NAME = "static-minilm-tweets-v1"

_URL = re.compile(r"https?://\S+|www\.\S+")
# a handle, fediverse ones whole (@user@kahvi.social: the server's name is no content)
_USER = re.compile(r"@\w+(?:@[\w-]+(?:\.[\w-]+)+)?")
# words (letters/digits, unicode), or one other non-space character (punctuation, emoji)
_PRETOKEN = re.compile(r"[^\W_]+|[^\w\s]|_", re.UNICODE)
_MAX_WORD = 100
# Distinct texts whose vectors the embedding step remembers before the memo is reset: as
# many as the sentiment step remembers, whose memo decides which texts it asks the shared
# cache to embed (~60 MB when full).
_MEMO_SIZE = 100_000


class _MarkTable(dict[int, int | None]):
    """A ``str.translate`` table deleting every non-spacing mark (Unicode category Mn) and
    keeping every other character, filled in as characters are met (deciding all 1.1M code
    points up front cost ~0.1 s in every process that embeds a text)."""

    def __missing__(self, code: int) -> int | None:
        kept: int | None = None if unicodedata.category(chr(code)) == "Mn" else code
        self[code] = kept
        return kept


@lru_cache(maxsize=1)
def _nonspacing_marks() -> _MarkTable:
    """The one table every embedder shares (only ever grows with the same answers)."""
    return _MarkTable()


def preprocess(text: str) -> str:
    """Links -> ``http``, handles -> ``@user``, lower-cased, accents stripped (NFD, then every
    non-spacing mark dropped)."""
    text = _USER.sub("@user", _URL.sub("http", text)).lower()
    if text.isascii():  # nothing to decompose, no combining marks
        return text
    return unicodedata.normalize("NFD", text).translate(_nonspacing_marks())


class Tokenizer:
    """WordPiece over ``vocab`` (entries starting ``##`` continue a word), where a whole-word
    entry wins over the pieces; unknown pieces are dropped. Results are memoised per word."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self.vocab = list(vocab)
        self.index = {tok: i for i, tok in enumerate(self.vocab)}
        self._memo: dict[str, list[int]] = {}

    def _word(self, word: str) -> list[int]:
        hit = self._memo.get(word)
        if hit is not None:
            return hit
        index = self.index
        ids: list[int]
        if word in index:
            ids = [index[word]]
        else:
            ids = []
            start, n = 0, min(len(word), _MAX_WORD)  # very long "words": their start only
            while start < n:
                end = n
                found = -1
                while end > start:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = index.get(piece, -1)
                    if found >= 0:
                        break
                    end -= 1
                if found < 0:  # BERT would make the whole word [UNK]; drop just this char
                    start += 1
                    continue
                ids.append(found)
                start = end
        if len(self._memo) < 500_000:
            self._memo[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in _PRETOKEN.findall(preprocess(text)):
            ids.extend(self._word(word))
        return ids


class StaticEmbedder:
    """Token table + tokenizer: ``encode(texts)`` -> (n, dim) float32, rows of unit norm
    (a text with no known token gets the zero vector)."""

    def __init__(
        self,
        vocab: Sequence[str],
        vectors: NDArray[np.int8] | NDArray[np.float32],
        scales: NDArray[np.float32] | None = None,
        name: str = MODEL_NAME,
    ) -> None:
        if len(vocab) != vectors.shape[0]:
            raise ValueError("vocabulary and vector table differ in length")
        self.tokenizer = Tokenizer(vocab)
        self.vectors = vectors
        self.scales = None if scales is None else scales.astype(np.float32)
        self.dim = int(vectors.shape[1])
        self.name = name
        self._table: NDArray[np.float32] | None = None

    @classmethod
    def load(cls, directory: Path = MODEL_DIR, stem: str = "embeddings") -> StaticEmbedder:
        meta = json.loads((directory / f"{stem}.json").read_text(encoding="utf-8"))
        with np.load(directory / f"{stem}.npz", allow_pickle=False) as z:
            vectors = z["vectors"]
            scales = z["scales"] if "scales" in z.files else None
        return cls(meta["vocab"], vectors, scales, name=str(meta.get("model", MODEL_NAME)))

    @property
    def table(self) -> NDArray[np.float32]:
        """The token vectors as float32 with their scales applied (built on first use)."""
        if self._table is None:
            table = self.vectors.astype(np.float32)
            if self.scales is not None:
                table *= self.scales[:, None]
            self._table = table
        return self._table

    def encode(self, texts: Iterable[str]) -> NDArray[np.float32]:
        encode = self.tokenizer.encode
        rows = [encode(t) for t in texts]
        n = len(rows)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=n)
        if not lengths.any():
            return np.zeros((n, self.dim), dtype=np.float32)
        total = int(lengths.sum())
        ids = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=total)
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        # (texts x vocabulary) token counts times the table: the sum of each text's vectors
        counts = sparse.csr_matrix(
            (np.ones(total, dtype=np.float32), ids, indptr), shape=(n, self.table.shape[0])
        )
        out = np.ascontiguousarray(counts @ self.table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


@lru_cache(maxsize=1)
def default_embedder() -> StaticEmbedder:
    return StaticEmbedder.load()


class EmbeddingEnricher:
    """Step ``embedding``: one unit vector per post.

    ``values["embedding"]`` is the vector as float16 bytes (``np.frombuffer(b, "<f2")``) and
    ``values["embedding_dim"]`` its length; the pipeline writes the bytes to the
    ``embeddings`` table and keeps only ``embedding_dim`` (and the model name) in the
    enrichments JSON. A text's vector depends on the text alone, so each distinct text is
    embedded once and remembered (retweets and copied texts are common)."""

    name = "embedding"
    version = "2"  # 2: fediverse handles become @user whole
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ("embedding",)

    def __init__(
        self, embedder: StaticEmbedder | None = None, features: FeatureCache | None = None
    ) -> None:
        self._embedder = embedder
        # the batch's vectors shared with the sentiment model (the bundled embedder only)
        self.features = features if embedder is None else None
        self._memo: BatchMemo[str, bytes] = BatchMemo(_MEMO_SIZE)  # text -> its vector

    @property
    def embedder(self) -> StaticEmbedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def __getstate__(self) -> dict[str, Any]:  # worker processes load the table themselves
        return {"_embedder": None, "features": self.features}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._embedder = state.get("_embedder")
        self.features = state.get("features")
        self._memo = BatchMemo(_MEMO_SIZE)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        emb = self.embedder
        encode = emb.encode if self.features is None else self.features.vectors
        vectors = self._memo.get_many(
            [item.post.text for item in batch],
            lambda missing: (row.tobytes() for row in encode(missing).astype("<f2")),
        )
        dim, name = emb.dim, emb.name
        return [
            Result(
                values={"embedding": vector, "embedding_dim": dim, "embedding_model": name},
                confidence=None,
            )
            for vector in vectors
        ]


def vector_from_bytes(data: bytes) -> NDArray[np.float32]:
    """A stored ``embeddings.vector`` back as float32."""
    return np.frombuffer(data, dtype="<f2").astype(np.float32)


def write_embeddings(
    conn: Connection,
    pks: Sequence[int],
    matrix: NDArray[np.floating[Any]] | Sequence[bytes],
    model: str = MODEL_NAME,
) -> None:
    """Replace the stored vectors of ``pks`` (one row of ``matrix``, or float16 bytes, each)."""
    from socialloop.store.schema import embeddings

    if len(pks) == 0:
        return
    if isinstance(matrix, np.ndarray):
        rows = np.ascontiguousarray(matrix, dtype="<f2")
        blobs = [r.tobytes() for r in rows]
        dim = int(rows.shape[1])
    else:
        blobs = [bytes(b) for b in matrix]
        dim = len(blobs[0]) // 2
    if len(blobs) != len(pks):
        raise ValueError("one vector per post is needed")
    conn.execute(delete(embeddings).where(embeddings.c.post_pk.in_(list(pks))))
    conn.execute(
        embeddings.insert(),
        [
            {"post_pk": int(pk), "model": model, "dim": dim, "vector": blob}
            for pk, blob in zip(pks, blobs, strict=True)
        ],
    )
