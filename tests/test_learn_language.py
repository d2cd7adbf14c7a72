"""The language step: contract, obvious short posts, restricted sets, "und", declared language,
and an accuracy floor per language on the real validation data in ../shared/data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialloop.learn.base import Enricher, Item, Result
from socialloop.learn.langid_clean import clean_text
from socialloop.learn.language import LanguageEnricher, detect, normalise_declared
from socialloop.learn.language_eval import evaluate_language, language_eval_sets
from socialloop.models import Post

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

OBVIOUS = {
    "en": "Good morning everyone, the coffee here is great",
    "es": "Hola, ¿qué tal estás hoy? Me encanta este lugar",
    "fr": "Bonjour à tous, quelle belle journée aujourd'hui",
    "de": "Guten Morgen, wie geht es dir heute?",
    "fi": "Hyvää huomenta kaikille, mitä kuuluu?",
    "it": "Ciao a tutti, come state oggi?",
    "pt": "Bom dia, tudo bem com vocês? Adorei o jogo",
    "ar": "صباح الخير يا أصدقاء، كيف حالكم اليوم",
    "hi": "आज मौसम बहुत अच्छा है, चलो घूमने चलते हैं",
}


def _item(text: str, lang: str | None = None, pk: int = 1) -> Item:
    post = Post("twitter", str(pk), text, datetime(2024, 1, 1, tzinfo=UTC), lang=lang)
    return Item(pk=pk, post=post)


@pytest.fixture(scope="module")
def step() -> LanguageEnricher:
    return LanguageEnricher()


def test_contract(step: LanguageEnricher) -> None:
    assert isinstance(step, Enricher)
    assert (step.name, step.version, step.requires, step.produces) == (
        "language",
        "3",
        (),
        ("lang",),
    )
    batch = [_item(t, pk=i) for i, t in enumerate([*OBVIOUS.values(), "", "🎉🎉"])]
    results = step.enrich(batch)
    assert len(results) == len(batch)
    for r in results:
        assert isinstance(r, Result)
        assert set(r.values) == {"lang"}
        assert isinstance(r.values["lang"], str)
        assert r.confidence is not None and 0.0 <= r.confidence <= 1.0
    assert step.enrich([]) == []


@pytest.mark.parametrize("mode", ["fast", "accurate"])
@pytest.mark.parametrize("code", sorted(OBVIOUS))
def test_obvious_short_posts(code: str, mode: str) -> None:
    s = LanguageEnricher(mode="accurate") if mode == "accurate" else LanguageEnricher()
    lang, conf = s.detect(OBVIOUS[code])
    assert lang == code
    assert conf > 0.5


def test_noisy_tweet_is_cleaned(step: LanguageEnricher) -> None:
    text = "RT @someone: Qué partidazo!!! 😍😍 #VamosReal https://t.co/xyz"
    assert "@" not in clean_text(text) and "http" not in clean_text(text)
    assert "#" not in clean_text(text) and "😍" not in clean_text(text)
    assert step.detect(text)[0] == "es"


def test_romanised_hindi(step: LanguageEnricher) -> None:
    assert step.detect("yaar ye kya ho raha hai, mujhe nahi pata")[0] == "hi"
    # not triggered when Hindi is not a candidate
    assert LanguageEnricher(["en", "es"]).detect("yaar kya hai")[0] in {"en", "es"}


@pytest.mark.parametrize(
    "text", ["", "   ", "😀😀🔥", "https://t.co/abc123", "@bob @alice", "123 !!"]
)
def test_und_for_empty_and_noise(step: LanguageEnricher, text: str) -> None:
    assert step.detect(text) == ("und", 0.0)
    assert step.enrich([_item(text, lang="en")])[0].values == {"lang": "und"}


def test_restricted_language_set() -> None:
    s = LanguageEnricher(["en", "es"])
    assert s.languages == frozenset({"en", "es"})
    # French text must still land inside the configured set
    assert s.detect(OBVIOUS["fr"])[0] in {"en", "es"}
    assert s.detect(OBVIOUS["es"])[0] == "es"
    assert LanguageEnricher(["en", "fi"], mode="accurate").detect(OBVIOUS["fi"])[0] == "fi"
    assert LanguageEnricher(["de"]).detect(OBVIOUS["en"]) == ("de", 1.0)
    with pytest.raises(ValueError, match="unsupported"):
        LanguageEnricher(["en", "klingon"])
    with pytest.raises(ValueError, match="mode"):
        LanguageEnricher(mode="slow")  # type: ignore[arg-type]


def test_declared_language_rule(step: LanguageEnricher) -> None:
    # ambiguous short text: the declared language decides
    guess = step.detect("a casa")[0]
    other = "pt" if guess == "es" else "es"
    assert step.detect("a casa", other)[0] == other
    assert step.enrich([_item("una casa", lang="it")])[0].values["lang"] == "it"
    # the detector is sure: a wrong declaration loses
    text = "The weather in London is lovely today, I am going for a long walk"
    assert step.detect(text, "es")[0] == "en"
    # agreement raises confidence
    assert step.detect("que bonito", "pt")[1] > step.detect("que bonito")[1]
    # undetermined / unknown declarations are no evidence; use_declared=False ignores them
    assert step.detect("a casa", "und") == step.detect("a casa")
    assert LanguageEnricher(use_declared=False).detect("a casa", other)[0] == guess
    assert normalise_declared("en-US") == "en"
    assert normalise_declared("in") == "id"
    assert normalise_declared("qme") is None and normalise_declared(None) is None


def test_detect_convenience() -> None:
    assert detect(OBVIOUS["de"])[0] == "de"
    assert detect("")[0] == "und"


def test_evaluate_language_shape() -> None:
    texts = [OBVIOUS["en"], OBVIOUS["es"], OBVIOUS["fr"], ""]
    rep = evaluate_language(texts, ["en", "es", "fr", "en"])
    assert rep["accuracy"] == pytest.approx(0.75)
    assert set(rep["per_class"]) == {"en", "es", "fr"}
    assert rep["per_class"]["en"]["recall"] == pytest.approx(0.5)
    assert 0.0 < rep["macro_f1"] <= 1.0 and rep["posts_per_s"] > 0
    with pytest.raises(ValueError):
        evaluate_language(["a"], [])


# Floors sit a few points under the measured fast-mode accuracy (docs/models.md "Language").
# UMSAB "hindi" is romanised Hinglish and about half English: only a low floor is meaningful.
FLOORS = {
    "umsab-ar": 0.97,
    "umsab-en": 0.97,
    "umsab-fr": 0.96,
    "umsab-de": 0.90,
    "umsab-hi": 0.25,
    "umsab-it": 0.95,
    "umsab-pt": 0.94,
    "umsab-es": 0.96,
    "tweeteval-en": 0.98,
    "xed-fi": 0.95,
}


@pytest.fixture(scope="module")
def eval_sets() -> dict[str, tuple[list[str], list[str]]]:
    if not DATA.is_dir():
        pytest.skip(f"real-data accuracy floors need ../shared/data (not found at {DATA})")
    sets = language_eval_sets(DATA, limit=1000)
    if not sets:
        pytest.skip(f"no language evaluation files under {DATA}")
    return sets


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_real_data_accuracy_floor(
    step: LanguageEnricher, eval_sets: dict[str, tuple[list[str], list[str]]], name: str
) -> None:
    if name not in eval_sets:
        pytest.skip(f"{name} is not present under {DATA}")
    texts, gold = eval_sets[name]
    rep = evaluate_language(texts, gold, step)
    assert rep["accuracy"] >= FLOORS[name], (name, rep["accuracy"], rep["top_confusions"])


def test_lingua_models_full_or_trigram() -> None:
    # full models by default (the most accurate); trigram models on request (fast mode only)
    assert not LanguageEnricher().low_accuracy_lingua
    assert LanguageEnricher(lingua_models="trigram").low_accuracy_lingua
    assert not LanguageEnricher(mode="accurate", lingua_models="trigram").low_accuracy_lingua
    with pytest.raises(ValueError, match="lingua_models"):
        LanguageEnricher(lingua_models="tiny")  # type: ignore[arg-type]
    # both kinds still tell close languages apart on a clear sentence
    text = "Tänään on todella kaunis ilma ja menemme kaikki yhdessä uimarannalle"
    assert LanguageEnricher().detect(text)[0] == "fi"
    assert LanguageEnricher(lingua_models="trigram").detect(text)[0] == "fi"


CLEAR_EN = [
    "The new espresso machine at the downtown store is really good this week",
    "I waited twenty minutes for my order and nobody said anything about the delay",
    "Their customer service answered my question within an hour, very helpful people",
    "Does anyone know whether the store on Main Street is open on Sunday mornings",
]
CLEAR_PT = [
    "O atendimento da loja foi ótimo e o café estava uma delícia hoje de manhã",
    "Não acredito que cobraram duas vezes pelo mesmo pedido, que vergonha",
]
CLEAR_DE = ["Der Kaffee in der neuen Filiale am Bahnhof schmeckt wirklich hervorragend"]


def _spy_lingua(monkeypatch: pytest.MonkeyPatch) -> list[frozenset[str]]:
    """The candidate sets lingua is asked to weigh (each one loads those languages' models)."""
    import socialloop.learn.language as language

    asked: list[frozenset[str]] = []
    real = language._lingua_detector

    def spy(codes: frozenset[str], low_accuracy: bool = False) -> object:
        asked.append(codes)
        return real(codes, low_accuracy)

    monkeypatch.setattr(language, "_lingua_detector", spy)
    return asked


def test_stream_prior_weighs_the_streams_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _spy_lingua(monkeypatch)
    # alone, py3langid's best guesses for these short English posts are Tagalog and Malay
    off = LanguageEnricher(stream_prior=False)
    assert off.stream_languages == frozenset()
    assert [c for c, _ in off.detect_many(["lol same", "haha faair"])] == ["tl", "ms"]
    assert any(len(c - {"en", "pt"}) for c in asked)  # lingua weighed rare languages
    asked.clear()
    on = LanguageEnricher()
    assert on.stream_prior and on.stream_languages == frozenset()
    # the batch's clear posts make its stream: 4 English, 2 Portuguese, 1 German (below the
    # minimum of 2); its unsure post is weighed among those languages only
    got = on.detect_many([*CLEAR_EN, *CLEAR_PT, *CLEAR_DE, "lol same"])
    assert [c for c, _ in got] == ["en"] * 4 + ["pt"] * 2 + ["de", "en"]
    assert on.stream_languages == frozenset({"en", "pt"})
    assert asked and all(c <= {"en", "pt"} for c in asked)
    # the tally is the batch's own: alone, the same post gets the plain top candidates again
    # (its earlier decision is not remembered, it depended on that batch)
    assert on.detect_many(["lol same"])[0][0] == "tl"
    # ... unless the step was seeded with the workspace's languages
    on.seed({"en": 500, "pt": 20})
    assert on.detect_many(["lol same"])[0][0] == "en"
    assert on.stream_languages == frozenset({"en", "pt"})


def test_stream_prior_keeps_a_confident_outsider(monkeypatch: pytest.MonkeyPatch) -> None:
    # py3langid's best guess outside the stream is still weighed when it reaches the floor
    asked = _spy_lingua(monkeypatch)
    LanguageEnricher(stream_floor=0.0).detect_many([*CLEAR_EN, *CLEAR_PT, "lol same"])
    assert asked[-1] == frozenset({"en", "pt", "tl"})
    # a floor above 1 weighs the stream's languages only
    LanguageEnricher(stream_floor=1.1).detect_many([*CLEAR_EN, *CLEAR_PT, "lol same"])
    assert asked[-1] == frozenset({"en", "pt"})


def test_stream_prior_needs_two_languages_and_a_share() -> None:
    import socialloop.learn.langid_stream as language

    step = LanguageEnricher()
    # one language: no prior, the plain top candidates
    assert step.detect_many([*CLEAR_EN, "lol same"])[-1][0] == "tl"
    assert step.stream_languages == frozenset({"en"})
    # a language's share of the tally must reach STREAM_SHARE once the tally is large
    step.seed({"en": 5_000, "pt": 4})
    step.detect_many(["lol same"])
    assert step.stream_languages == frozenset({"en"})
    needed = max(language.STREAM_MIN, int(language.STREAM_SHARE * 5_010) + 1)
    step.seed({"en": 5_000, "pt": needed})
    step.detect_many(["lol same"])
    assert step.stream_languages == frozenset({"en", "pt"})
    # accurate mode weighs every candidate with lingua: no prior
    assert not LanguageEnricher(mode="accurate").stream_prior


def test_decisions_do_not_depend_on_earlier_batches() -> None:
    # a worker sees other batches before a given one than a single process does: the same
    # batch gets the same decisions whatever came before it
    batch = [*CLEAR_EN, *CLEAR_PT, "lol same", "haha faair", "sama lol"]
    fresh = LanguageEnricher().detect_many(batch)
    seasoned = LanguageEnricher()
    seasoned.detect_many([*CLEAR_DE, "Hyvää huomenta kaikille, mitä kuuluu tänään?", "lol"] * 3)
    seasoned.detect_many(["lol same", "sama lol", *CLEAR_EN])
    assert [c for c, _ in seasoned.detect_many(batch)] == [c for c, _ in fresh]


def test_the_workspace_seeds_the_stream(tmp_path: Path) -> None:
    from socialloop.config import load_settings
    from socialloop.learn.pipeline import Pipeline
    from socialloop.learn.steps import build_steps
    from socialloop.listen.importer import import_posts
    from socialloop.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    posts = [
        Post("twitter", str(i), text, datetime(2024, 1, 1, tzinfo=UTC))
        for i, text in enumerate(CLEAR_EN + CLEAR_PT)
    ]
    import_posts(ws, posts)
    Pipeline(build_steps(ws.settings, ["language"], ws.store)).run(ws.store)
    (step,) = build_steps(load_settings(ws.settings.root), ["language"], ws.store)
    assert isinstance(step, LanguageEnricher)
    assert step.detect_many(["lol same"])[0][0] == "en"  # a batch of one, seeded
    ws.close()


def test_version_names_the_settings_that_change_decisions() -> None:
    # stored posts decided under other settings are re-decided by the next enrich
    assert LanguageEnricher().version == "3"
    assert LanguageEnricher(mode="accurate").version == "3+accurate"
    assert LanguageEnricher(lingua_models="trigram").version == "3+trigram"
    assert LanguageEnricher(stream_prior=False).version == "3+noprior"
    assert LanguageEnricher(["fi", "en"]).version == "3+langs=en,fi"
    assert LanguageEnricher.version == "3"


def test_changed_language_settings_make_stored_posts_pending(tmp_path: Path) -> None:
    from socialloop.learn.pipeline import Pipeline
    from socialloop.listen.importer import import_posts
    from socialloop.workspace import Workspace

    ws = Workspace.init(tmp_path / "ws")
    posts = [
        Post("twitter", str(i), text, datetime(2024, 1, 1, tzinfo=UTC))
        for i, text in enumerate(CLEAR_EN + CLEAR_PT)
    ]
    import_posts(ws, posts)
    default = Pipeline([LanguageEnricher()])
    assert default.run(ws.store).steps[0].processed == len(posts)
    assert default.pending(ws.store, default.steps[0], None) == 0
    for changed in (LanguageEnricher(stream_prior=False), LanguageEnricher(["en", "pt"])):
        assert Pipeline([changed]).pending(ws.store, changed, None) == len(posts)
    ws.close()
