"""One hashing pass per batch shared by the linear text steps (sentiment, emotion, intent):
the shared :class:`FeatureCache` returns exactly what :func:`hash_batch` does, for the whole
batch or any part of it, and the steps give the same results with and without it."""

from __future__ import annotations

import csv
import hashlib
import pickle
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from socialloop.config import Settings
from socialloop.learn import features, sentiment
from socialloop.learn.base import Enricher, Item, Result
from socialloop.learn.emotion import EmotionEnricher
from socialloop.learn.features import FeatureCache, HashingConfig, hash_batch, raw_hashes
from socialloop.learn.intent import IntentEnricher
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.learn.steps import build_steps
from socialloop.models import Post
from socialloop.query.api import parse
from socialloop.query.view import PostView
from socialloop.simulate import default_market, simulate
from tests.conftest import make_post, shared_file

# The configurations of the shipped sentiment, emotion and intent models.
SENTIMENT = HashingConfig(bits=20, char_min=2, char_max=5, word_ngrams=2)
EMOTION = HashingConfig(bits=20, char_min=2, char_max=4, word_ngrams=2)
INTENT = HashingConfig(bits=18, char_min=2, char_max=5, word_ngrams=2)

TEXTS = [
    "I love the new Brewhaven oat latte! ☕ https://brewhaven.example/menu #coffee",
    "Quillbean lost my order again, worst service ever @quillbeancafe &amp; nobody cares!!!!",
    "",
    "🔥🔥🔥🔥🔥",
    "¿Alguien sabe si Cupworth abre los domingos?   Sooooo cerrado\tquizás",
    "Kahvi oli tänään tosi hyvää, kiitos! 2024",
    "القهوة رائعة جدا لكن الخدمة بطيئة",
    "कॉफ़ी बहुत अच्छी है लेकिन महंगी",
    "ΣΟΦΙΑΣ καφές\u00a0\u00a0\u3000ok",
    "line one\nline two\n\n",
]


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    return all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _digest(doc: np.ndarray, bucket: np.ndarray) -> str:
    return hashlib.sha256(doc.astype("<i8").tobytes() + bucket.astype("<i8").tobytes()).hexdigest()


@pytest.mark.parametrize(
    ("cfg", "count", "digest"),
    [  # from the hashing the shipped models were trained with (before the shared pass)
        (SENTIMENT, 1420, "63ba966b768ee72d40439c57d24e791bac9d6d7c4a6675be716a30192c628d9c"),
        (EMOTION, 1111, "99c6fdf24ed5e208c904229340c4a7f2ab9ba461792659ee4ac3312a8b9ad84a"),
        (INTENT, 1420, "46caf6d95cef9cf2f85c042543d42db480b30ab03fb254f16c140bb3e7319831"),
    ],
)
def test_hashes_are_those_the_models_were_trained_with(
    cfg: HashingConfig, count: int, digest: str
) -> None:
    doc, bucket = hash_batch(TEXTS, cfg)
    assert len(doc) == count
    assert _digest(doc, bucket) == digest
    cache = FeatureCache()
    assert _digest(*cache.hash_batch(TEXTS, cfg)) == digest


def _sim_texts(n: int, seed: int) -> list[str]:
    return [p.text or "" for p in simulate(n, seed=seed, market=default_market())]


def test_one_pass_serves_every_model_of_the_batch() -> None:
    texts = _sim_texts(1500, seed=3)
    cache = FeatureCache()
    for cfg in (SENTIMENT, EMOTION, INTENT):
        assert _same(cache.hash_batch(texts, cfg), hash_batch(texts, cfg))
    assert (cache.misses, cache.hits, cache.subsets) == (1, 2, 0)


def test_a_part_of_the_batch_in_any_order_is_served_from_it() -> None:
    texts = _sim_texts(1500, seed=4)
    cache = FeatureCache()
    cache.hash_batch(texts, SENTIMENT)
    rng = random.Random(5)
    part = [texts[i] for i in rng.sample(range(len(texts)), 400)] + texts[:3] + texts[:3]
    for cfg in (INTENT, EMOTION):
        assert _same(cache.hash_batch(part, cfg), hash_batch(part, cfg))
    assert (cache.misses, cache.subsets) == (1, 2)
    assert _same(cache.hash_batch([], EMOTION), hash_batch([], EMOTION))


def test_other_texts_are_hashed_and_replace_the_batch() -> None:
    cache = FeatureCache()
    first, second = _sim_texts(300, seed=6), _sim_texts(300, seed=7)
    cache.hash_batch(first, SENTIMENT)
    mixed = [*first[:10], "a text never seen before"]
    assert _same(cache.hash_batch(mixed, SENTIMENT), hash_batch(mixed, SENTIMENT))
    assert _same(cache.hash_batch(second, EMOTION), hash_batch(second, EMOTION))
    assert cache.misses == 3
    assert _same(cache.hash_batch(second, INTENT), hash_batch(second, INTENT))
    assert cache.hits == 1
    cache.clear()
    assert cache.remembered == 0
    assert _same(cache.hash_batch(second, INTENT), hash_batch(second, INTENT))
    assert cache.misses == 4


def test_a_narrow_model_first_widens_the_next_batches() -> None:
    cache = FeatureCache()
    texts = _sim_texts(200, seed=8)
    cache.hash_batch(texts, EMOTION)  # char 2..4: the intent model needs 5-grams too
    assert _same(cache.hash_batch(texts, INTENT), hash_batch(texts, INTENT))
    assert cache.misses == 2
    more = _sim_texts(200, seed=9)
    cache.hash_batch(more, EMOTION)  # now hashed wide enough for both
    assert _same(cache.hash_batch(more, INTENT), hash_batch(more, INTENT))
    assert (cache.misses, cache.hits) == (3, 1)


def test_language_copies_are_kept_for_models_that_use_them() -> None:
    cfg = HashingConfig(bits=16, char_min=2, char_max=3, word_ngrams=2, lang_copies=1)
    langs = ["en", None, "es", "fi-FI", "ar", "hi", None, "en", "fr", ""]
    cache = FeatureCache()
    cache.hash_batch(TEXTS, SENTIMENT)
    assert _same(cache.hash_batch(TEXTS, cfg, langs), hash_batch(TEXTS, cfg, langs))
    plain = hash_batch(TEXTS, cfg)
    assert len(hash_batch(TEXTS, cfg, langs)[0]) > len(plain[0])


def test_raw_hashes_refuse_a_config_they_cannot_serve() -> None:
    raw = raw_hashes(TEXTS, 2, 4, 1)
    with pytest.raises(ValueError, match="cannot serve"):
        raw.select(SENTIMENT)


def test_shared_arrays_cannot_be_changed_by_a_model() -> None:
    cache = FeatureCache()
    doc, _bucket = cache.hash_batch(TEXTS, SENTIMENT)
    with pytest.raises(ValueError):
        doc[0] = 5


# --- the normalisation and clause shortcuts match the regular expressions they replace ---


def test_elongations_and_spaces_as_the_plain_expressions() -> None:
    elongation = re.compile(r"(.)\1{3,}")
    spaces = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u3000]+")
    rng = random.Random(11)
    alphabet = ["a", "A", " ", "\t", "\n", "😀", "0", "\u00a0", "\u3000", "ß", "!", "é"]
    samples = ["", "aaaa", "aaa", "\n\n\n\n\n", "    x", "!!!!!!!", "😀😀😀😀"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)
    ]
    for text in samples:
        assert features._squeeze_runs(text) == elongation.sub(r"\1\1\1", text)
        assert features._SPACES.sub(" ", text) == spaces.sub(" ", text)


def test_clause_split_as_the_plain_expression() -> None:
    plain = re.compile(
        rf"[.!?;。！？\n]+|,?\s*\b(?P<conn>{sentiment._MIRROR}|{sentiment._CONTRAST})\b"
        rf"|\b(?P<cmp>{sentiment._COMPARATIVE_WORDS})\s+(?P<particle>{sentiment._PARTICLE})"
        r"(?:\b|(?<=['’]))",
        re.IGNORECASE,
    )
    texts = _sim_texts(3000, seed=12) + TEXTS
    for alt in f"{sentiment._MIRROR}|{sentiment._CONTRAST}".split("|"):
        word = alt.replace("(?:to", "to").rstrip(")")
        texts += [
            f"X is fine, {word.upper()} Y",
            f"a {word.title()}b {word}",
            word.replace("s", "ſ"),
        ]
    texts += ["Rival es mejor que Acme", "meilleur qu'Acme, mais", "besser  als X aber Y"]
    for text in texts:
        ours = [
            (m.span(), m.group("conn", "particle")) for m in sentiment._CLAUSE_SPLIT.finditer(text)
        ]
        assert ours == [(m.span(), m.group("conn", "particle")) for m in plain.finditer(text)], text


# --- the steps: shared within a build and a worker, the same results ----------------------------


def _settings() -> Settings:
    return Settings(root=Path("."), name="t", database_url="sqlite://")


def test_build_steps_shares_one_cache_also_in_a_worker_and_pickles_it_empty() -> None:
    steps = build_steps(_settings(), names=["language", "sentiment", "emotion", "intent"])
    text_steps = [s for s in steps if s.name in ("sentiment", "emotion", "intent")]
    caches = {id(getattr(s, "features", None)) for s in text_steps}
    assert len(caches) == 1
    assert isinstance(getattr(text_steps[0], "features", None), FeatureCache)
    # the steps as a worker receives them (learn.batch_run's pool initializer): one pickle
    pickled = pickle.dumps(steps)
    assert len(pickled) < 20_000
    copies = [s for s in pickle.loads(pickled) if s.name in ("sentiment", "emotion", "intent")]
    assert len({id(s.features) for s in copies}) == 1
    cache: FeatureCache = copies[0].features
    items = _items([make_post(str(i), t) for i, t in enumerate(TEXTS)], ["en"] * len(TEXTS))
    ours = _run(copies, items)
    assert (cache.misses, cache.hits + cache.subsets) == (1, 2)
    assert ours == _run(_unshared(), items)
    # a used cache pickles without the hashes it holds
    assert cache.remembered == len(TEXTS)
    assert len(pickle.dumps(cache)) < 100
    assert pickle.loads(pickle.dumps(cache)).remembered == 0


def _unshared() -> list[Enricher]:
    return [SentimentEnricher(), EmotionEnricher(), IntentEnricher()]


def _items(posts: Sequence[Post], langs: Sequence[str | None]) -> list[Item]:
    return [
        Item(pk=i, post=post, prior={"lang": lang} if lang else {}, brands=_brands(post))
        for i, (post, lang) in enumerate(zip(posts, langs, strict=True))
    ]


_QUERIES = [(b.name, parse(b.query)) for b in default_market().brands]


def _brands(post: Post) -> tuple[str, ...]:
    view = PostView(post)
    return tuple(name for name, query in _QUERIES if query.predicate(view))


Outcome = list[tuple[str, list[tuple[Any, ...]]]]


def _run(steps: Sequence[Enricher], items: list[Item], batch: int = 2000) -> Outcome:
    """The steps in order on batches, each step's values merged into the next ones' priors
    (as the pipeline does); every result as (values, confidence, brand values)."""
    out: Outcome = []
    for start in range(0, len(items), batch):
        priors = [dict(i.prior) for i in items[start : start + batch]]
        chunk = [
            Item(pk=i.pk, post=i.post, prior=prior, brands=i.brands)
            for i, prior in zip(items[start : start + batch], priors, strict=True)
        ]
        for step in steps:
            results = step.enrich(chunk)
            for prior, res in zip(priors, results, strict=True):
                prior.update(res.values)
            out.append((step.name, [_flat(r) for r in results]))
    return out


def _flat(r: Result) -> tuple[Any, ...]:
    # repr keeps float bits and key order: "identical", not "close"
    return (repr(r.values), repr(r.confidence), repr(r.brand_values))


def _compare(items: list[Item]) -> None:
    shared = build_steps(_settings(), names=["sentiment", "emotion", "intent"])
    ours = _run(shared, items)
    theirs = _run(_unshared(), items)
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    for (name, a), (_, b) in zip(ours, theirs, strict=True):
        assert a == b, name
    cache: FeatureCache = shared[0].features  # type: ignore[attr-defined]
    # each batch hashed once (by sentiment); emotion and intent served from it
    assert cache.misses == -(-len(items) // 2000)
    assert cache.hits + cache.subsets == 2 * cache.misses


def test_steps_give_the_same_results_with_the_shared_cache_on_simulated_posts() -> None:
    posts = list(simulate(20_000, seed=21, market=default_market()))
    langs = [p.lang for p in posts]
    items = _items(posts, langs)
    assert sum(1 for i in items if i.brands) > 1000  # the per-brand clauses are exercised
    _compare(items)


def _real_texts() -> list[str]:
    texts: list[str] = []
    with shared_file("twitter_us_airline_sentiment", "Tweets.csv").open(encoding="utf-8") as f:
        texts += [row["text"] for row in csv.DictReader(f)][:6000]
    path = shared_file("tweeteval", "sentiment", "val_text.txt")
    texts += path.read_text(encoding="utf-8").splitlines()[:2000]
    with shared_file("goemotions", "dev.tsv").open(encoding="utf-8") as f:
        texts += [line.split("\t")[0] for line in f][:2000]
    return texts


def test_steps_give_the_same_results_with_the_shared_cache_on_real_posts() -> None:
    texts = _real_texts()
    when = datetime(2026, 5, 1, tzinfo=UTC)
    posts = [make_post(str(i), t, when=when) for i, t in enumerate(texts)]
    rng = random.Random(3)
    langs: list[str | None] = [rng.choice(["en", "en", "es", None]) for _ in posts]
    airlines = ("United", "Delta", "Southwest", "JetBlue", "American", "Virgin America")
    items = [
        Item(
            pk=i,
            post=post,
            prior={"lang": lang} if lang else {},
            brands=tuple(a for a in airlines if a.lower() in (post.text or "").lower()),
        )
        for i, (post, lang) in enumerate(zip(posts, langs, strict=True))
    ]
    assert sum(1 for i in items if len(i.brands) > 1) > 50
    _compare(items)
