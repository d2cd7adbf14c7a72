"""Scoring a linear model over hashed TF-IDF features plus an optional embedding block.

Every bundled text model (sentiment, the emotion heads, the intent heads) is one: int8 weights
per hash bucket with the IDF folded in and one scale per output, float16 squared IDF for the
L2 norm, a bias, optionally ``dense`` weights of the post's static embedding (the bundled
embedder, :func:`socialloop.learn.embeddings.default_embedder`) for the posts whose language
is in ``dense_langs`` (None: every post), and optionally ``lexicon`` weights of the English
lexicon features (:mod:`socialloop.learn.lexicon`) for English posts. :func:`linear_logits`
computes the outputs' logits for a batch in a few numpy passes; :func:`dense_header` /
:func:`dense_fields` keep the blocks in an artefact (:mod:`socialloop.learn.artefact`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from socialloop.learn import lexicon as lex
from socialloop.learn.features import FeatureCache, HashingConfig, hash_batch

FloatArray = npt.NDArray[np.float32]
DENSE_ARRAYS: tuple[str, ...] = ("dense", "lexicon")


class HashedLinear(Protocol):
    """What :func:`linear_logits` reads of a model."""

    @property
    def config(self) -> HashingConfig: ...
    @property
    def weights(self) -> npt.NDArray[np.int8]: ...  # (buckets, outputs)
    @property
    def scale(self) -> FloatArray: ...  # (outputs,)
    @property
    def idf2(self) -> npt.NDArray[np.float16]: ...  # (buckets,)
    @property
    def bias(self) -> FloatArray: ...  # (outputs,)
    @property
    def dense(self) -> FloatArray | None: ...  # (dim, outputs)
    @property
    def dense_langs(self) -> tuple[str, ...] | None: ...
    @property
    def lexicon(self) -> FloatArray | None: ...  # (lexicon.WIDTH, outputs)


def linear_logits(
    model: HashedLinear,
    texts: Sequence[str],
    langs: Sequence[str | None] | None = None,
    features: FeatureCache | None = None,
) -> npt.NDArray[np.float64]:
    """The logits of every output, shape (len(texts), outputs): one bincount pass per output
    over the hashed n-grams, the embedding's share where it applies, the bias. ``langs``:
    the texts' languages (for the language copies of the hashing and the embedding's
    languages); ``features``: where the texts' hashes and embeddings may already be (the same
    logits)."""
    n = len(texts)
    k = len(model.bias)
    if n == 0:
        return np.zeros((0, k), dtype=np.float64)
    hasher = hash_batch if features is None else features.hash_batch
    doc, bucket = hasher(texts, model.config, langs)
    norm2 = np.bincount(doc, weights=model.idf2[bucket].astype(np.float64), minlength=n)
    # one gather per column: a column of the (buckets, k) table is contiguous as stored
    weights = model.weights
    out = np.empty((n, k), dtype=np.float64)
    for j in range(k):
        out[:, j] = np.bincount(doc, weights=weights[:, j][bucket], minlength=n) * model.scale[j]
    out /= np.sqrt(np.maximum(norm2, 1e-12))[:, None]
    if model.dense is not None:
        _add_dense(model, out, texts, langs, features)
    if model.lexicon is not None:
        rows = lex.lexicon_rows(langs, n)
        if rows.any():
            picked = [t for t, r in zip(texts, rows, strict=True) if r]
            out[rows] += _row_products(lex.lexicon_features(picked), model.lexicon)
    out += model.bias
    return out


def language_dependent(model: HashedLinear) -> bool:
    """Whether ``model`` scores a post differently by its language: an embedding block for
    some languages only, or a lexicon block (English posts)."""
    return (model.dense is not None and model.dense_langs is not None) or (
        model.lexicon is not None
    )


def dense_rows(
    model: HashedLinear, langs: Sequence[str | None] | None, n: int
) -> npt.NDArray[np.bool_]:
    """Which of ``n`` posts (languages ``langs``) the embedding weights apply to: those in
    ``dense_langs`` (a post of unknown language is in none), every one when the model names
    no languages, none without embedding weights."""
    if model.dense is None:
        return np.zeros(n, dtype=bool)
    if model.dense_langs is None:
        return np.ones(n, dtype=bool)
    if langs is None:
        return np.zeros(n, dtype=bool)
    wanted = set(model.dense_langs)
    return np.fromiter((lang in wanted for lang in langs), dtype=bool, count=n)


def _add_dense(
    model: HashedLinear,
    logits: npt.NDArray[np.float64],
    texts: Sequence[str],
    langs: Sequence[str | None] | None,
    features: FeatureCache | None,
) -> None:
    """Add the embedding weights' share to the logits of the posts they apply to."""
    dense = model.dense
    assert dense is not None
    rows = dense_rows(model, langs, len(texts))
    if rows.all():
        logits += _row_products(embed(texts, features), dense)
    elif rows.any():
        if features is not None:  # the batch is embedded anyway (the embedding step)
            vectors = embed(texts, features)[rows]
        else:
            vectors = embed([t for t, r in zip(texts, rows, strict=True) if r])
        logits[rows] += _row_products(vectors, dense)


def embed(texts: Sequence[str], features: FeatureCache | None = None) -> FloatArray:
    """The bundled static embeddings of ``texts`` (``features``: where they may already be)."""
    if features is not None:
        return features.vectors(texts)
    from socialloop.learn.embeddings import default_embedder

    return default_embedder().encode(texts)


def _row_products(
    vectors: npt.NDArray[np.floating[Any]], weights: FloatArray
) -> npt.NDArray[np.float64]:
    """``vectors @ weights`` in float64, each row summed in the same order whatever the
    batch (a BLAS product's rounding depends on the batch's shape, and a post's scores must
    not depend on the posts beside it)."""
    out: npt.NDArray[np.float64] = np.einsum(
        "nd,dk->nk", vectors.astype(np.float64), weights.astype(np.float64), optimize=False
    )
    return out


def dense_header(model: Any) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    """The header entries and arrays that keep ``model``'s embedding and lexicon blocks in
    an artefact (nothing for a block it has not)."""
    header: dict[str, Any] = {}
    arrays: dict[str, npt.NDArray[Any]] = {}
    if model.dense is not None:
        langs = None if model.dense_langs is None else list(model.dense_langs)
        header |= {"dense_model": model.dense_model, "dense_langs": langs}
        arrays["dense"] = model.dense
    if model.lexicon is not None:
        header["lexicon"] = lex.NAME
        arrays["lexicon"] = model.lexicon
    return header, arrays


def dense_fields(header: Mapping[str, Any], arrays: Mapping[str, Any]) -> dict[str, Any]:
    """The embedding and lexicon blocks' fields of a model read back from an artefact (None
    each for a block it has not). Weights trained for another embedder than the bundled one,
    or for other lexicon features, are refused (``ValueError``)."""
    fields: dict[str, Any] = {"lexicon": _lexicon_field(header, arrays.get("lexicon"))}
    dense = arrays.get("dense")
    if dense is None:
        return fields | {"dense": None, "dense_model": None, "dense_langs": None}
    name = header.get("dense_model")
    _check_embedder(name)
    langs = header.get("dense_langs")
    return fields | {
        "dense": np.asarray(dense, dtype=np.float32),
        "dense_model": name,
        "dense_langs": None if langs is None else tuple(langs),
    }


def _lexicon_field(header: Mapping[str, Any], weights: Any) -> FloatArray | None:
    if weights is None:
        return None
    if header.get("lexicon") != lex.NAME:
        raise ValueError(
            f"trained on the lexicon features {header.get('lexicon')!r}, not {lex.NAME!r}"
        )
    out: FloatArray = np.asarray(weights, dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != lex.WIDTH:
        raise ValueError(f"lexicon weights of shape {out.shape}, not ({lex.WIDTH}, outputs)")
    lex.vader_lexicon()  # the features' data is installed (LexiconMissing otherwise)
    return out


def dense_block(
    dense: npt.NDArray[np.floating[Any]] | None,
    dense_model: str | None,
    dense_langs: Sequence[str] | None,
    lexicon: npt.NDArray[np.floating[Any]] | None = None,
) -> dict[str, Any]:
    """The embedding and lexicon blocks' fields from float weights ``dense`` (outputs, dim)
    and ``lexicon`` (outputs, lexicon.WIDTH) as a trainer holds them (None: no block)."""
    lexicon_field = None if lexicon is None else np.ascontiguousarray(lexicon.T, dtype=np.float32)
    if dense is None:
        return {"dense": None, "dense_model": None, "dense_langs": None, "lexicon": lexicon_field}
    return {
        "lexicon": lexicon_field,
        "dense": np.ascontiguousarray(dense.T, dtype=np.float32),
        "dense_model": dense_model,
        "dense_langs": None if dense_langs is None else tuple(dense_langs),
    }


def _check_embedder(name: Any) -> None:
    """Embedding weights are only meaningful for the embedder they were trained with: the
    bundled one."""
    from socialloop.learn.embeddings import default_embedder

    if not name:
        raise ValueError("embedding weights without the embedding model's name")
    bundled = default_embedder().name
    if name != bundled:
        raise ValueError(f"trained on the embeddings {name!r}, not the bundled {bundled!r}")


__all__ = [
    "DENSE_ARRAYS",
    "HashedLinear",
    "dense_block",
    "dense_fields",
    "dense_header",
    "dense_rows",
    "embed",
    "language_dependent",
    "linear_logits",
]
