"""The `embedding` step: the contract, sane geometry, determinism, artefact size, storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select

from socialloop.learn.base import Enricher, Item
from socialloop.learn.embeddings import (
    MODEL_DIR,
    EmbeddingEnricher,
    StaticEmbedder,
    Tokenizer,
    default_embedder,
    vector_from_bytes,
    write_embeddings,
)
from socialloop.store import Store
from socialloop.store.schema import embeddings, posts
from tests.conftest import make_post

WHEN = datetime(2026, 5, 1, tzinfo=UTC)
TEXTS = [
    "I love the new Brewhaven oat latte! ☕ https://brewhaven.example/menu #coffee",
    "Quillbean lost my order again, worst service ever @quillbeancafe",
    "",
    "🔥🔥🔥",
    "¿Alguien sabe si Cupworth abre los domingos?",
    "x" * 5000,
]


def _items(texts: list[str]) -> list[Item]:
    return [Item(pk=i + 1, post=make_post(str(i), t, when=WHEN)) for i, t in enumerate(texts)]


def _vectors(texts: list[str]) -> np.ndarray:
    results = EmbeddingEnricher().enrich(_items(texts))
    return np.stack([vector_from_bytes(r.values["embedding"]) for r in results])


def test_contract() -> None:
    step = EmbeddingEnricher()
    assert isinstance(step, Enricher)
    assert (step.name, step.version, step.requires, step.produces) == (
        "embedding",
        "2",
        (),
        ("embedding",),
    )
    results = step.enrich(_items(TEXTS))
    assert len(results) == len(TEXTS)
    dim = default_embedder().dim
    for text, r in zip(TEXTS, results, strict=True):
        assert r.values["embedding_dim"] == dim
        assert isinstance(r.values["embedding"], bytes)
        v = vector_from_bytes(r.values["embedding"])
        assert v.shape == (dim,)
        norm = float(np.linalg.norm(v))
        if text:  # every non-empty text here has a known token
            assert norm == pytest.approx(1.0, abs=2e-3)
        else:
            assert norm == 0.0
    assert step.enrich([]) == []


def test_similar_posts_are_closer_than_unrelated() -> None:
    v = _vectors(
        [
            "my flight was delayed for three hours, terrible airline",
            "the airline delayed our flight again, awful service",
            "this chocolate cake recipe is delicious",
            "I baked a delicious chocolate cake today",
        ]
    )
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.1
    assert sims[0, 1] > sims[0, 3] + 0.1
    assert sims[2, 3] > sims[1, 2] + 0.1
    assert sims[2, 3] > sims[1, 3] + 0.1


def test_deterministic() -> None:
    a = _vectors(TEXTS)
    b = StaticEmbedder.load().encode(TEXTS).astype("<f2").astype(np.float32)
    assert np.array_equal(a, _vectors(TEXTS))
    assert np.array_equal(a, b)
    # batch composition does not change a post's vector
    assert np.array_equal(_vectors(TEXTS[:2])[1], a[1])


def test_artefact_is_small_and_pickle_free() -> None:
    files = [MODEL_DIR / "embeddings.npz", MODEL_DIR / "embeddings.json"]
    assert sum(f.stat().st_size for f in files) <= 25 * 1024 * 1024
    with np.load(files[0], allow_pickle=False) as z:
        assert z["vectors"].dtype == np.int8
        assert z["scales"].shape == (z["vectors"].shape[0],)


def test_tokenizer_whole_words_then_wordpieces() -> None:
    tok = Tokenizer(["play", "##ing", "playing", "fun", "##ny", "@", "user", "http"])
    assert tok.encode("Playing") == [2]  # a whole-word entry wins
    assert tok.encode("funny") == [3, 4]  # else WordPiece, longest match first
    assert tok.encode("@someone https://x.example/a") == [5, 6, 7]
    assert tok.encode("zzz") == []  # unknown characters are dropped


def test_migration_creates_table_and_write_embeddings(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        assert "embeddings" in inspect(store.engine).get_table_names()
        store.upsert_posts([make_post(str(i), t, when=WHEN) for i, t in enumerate(TEXTS[:2])])
        with store.begin() as conn:
            pks = [r[0] for r in conn.execute(select(posts.c.pk).order_by(posts.c.pk))]
        results = EmbeddingEnricher().enrich(_items(TEXTS[:2]))
        blobs = [r.values["embedding"] for r in results]
        with store.begin() as conn:
            write_embeddings(conn, pks, blobs)
            write_embeddings(conn, pks, np.stack([vector_from_bytes(b) for b in blobs]))
        with store.begin() as conn:
            rows = conn.execute(select(embeddings).order_by(embeddings.c.post_pk)).all()
        assert [r.post_pk for r in rows] == pks
        assert {r.dim for r in rows} == {default_embedder().dim}
        assert [bytes(r.vector) for r in rows] == blobs
    finally:
        store.close()


def test_handles_and_links_are_placeholders() -> None:
    from socialloop.learn.embeddings import preprocess

    # a fediverse handle goes whole: its server's name is no content
    assert preprocess("@sofia@kahvi.social hei @bob, see https://x.org/a") == (
        "@user hei @user, see http"
    )


def _reference_preprocess(text: str) -> str:
    """The accent stripping as first written: NFD, then each character's category tested."""
    import unicodedata

    from socialloop.learn.embeddings import _URL, _USER

    text = _USER.sub("@user", _URL.sub("http", text)).lower()
    text = unicodedata.normalize("NFD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _reference_encode(emb: StaticEmbedder, texts: list[str]) -> np.ndarray:
    """Token vectors gathered and summed per text (np.add.reduceat), then unit-normed."""
    rows = [emb.tokenizer.encode(t) for t in texts]
    out = np.zeros((len(rows), emb.dim), dtype=np.float32)
    for i, ids in enumerate(rows):
        if ids:
            vecs = emb.vectors[ids].astype(np.float32)
            if emb.scales is not None:
                vecs *= emb.scales[ids, None]
            out[i] = vecs.sum(axis=0)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


_VARIED = [
    "Café crème à Paris, très déçue 😡 @airfrance https://t.co/x",
    "Ärger über die Verspätung! #DB",
    "ما هذا التأخير يا",
    "यह बहुत अच्छा है",
    "Ñandú señor, ¿cómo estás?",
    "Tämä on hyvä, kiitos!",
    "🙂🙂🙂",
    "",
    "ok",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗͕",
    "@user@kahvi.social hello there",
]


def test_fast_preprocess_and_encode_equal_the_reference() -> None:
    from socialloop.learn.embeddings import default_embedder, preprocess

    emb = default_embedder()
    assert [preprocess(t) for t in _VARIED] == [_reference_preprocess(t) for t in _VARIED]
    got = emb.encode(_VARIED)
    np.testing.assert_allclose(got, _reference_encode(emb, _VARIED), atol=1e-5)
    assert not got[_VARIED.index("")].any()


def test_fast_encode_equals_the_reference_on_real_posts() -> None:
    from socialloop.learn.embeddings import default_embedder, preprocess
    from tests.conftest import shared_file

    path = shared_file("xlm_t_umsab", "all", "val_text.txt")
    texts = path.read_text(encoding="utf-8").splitlines()[:3000]
    emb = default_embedder()
    assert [preprocess(t) for t in texts] == [_reference_preprocess(t) for t in texts]
    np.testing.assert_allclose(emb.encode(texts), _reference_encode(emb, texts), atol=1e-5)
