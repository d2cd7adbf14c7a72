"""The registry of enrichment steps a workspace can run, built from its settings.

Steps are constructed here (not at import time) so a workspace's language set and mode reach
them, and so a step whose optional model is missing can be reported instead of crashing. The
linear text steps (sentiment, emotion, intent) and the embedding step of one build share a
:class:`~socialloop.learn.features.FeatureCache`, so each batch's texts are hashed once and
embedded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from socialloop.config import CONFIG_FILE, LANGUAGE_HINT, Settings
from socialloop.errors import InvalidSetting, SocialloopError
from socialloop.learn.base import Enricher
from socialloop.learn.batch_run import PipelineError
from socialloop.learn.features import FeatureCache
from socialloop.store import Store


class StepFactory(Protocol):
    """Makes one step for a workspace (``features``: the hashes the text steps share)."""

    def __call__(
        self, settings: Settings, store: Store | None, features: FeatureCache | None = None
    ) -> Enricher: ...


class UnknownStep(SocialloopError):
    """A step name that is not in the registry."""


def _language(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.language import LanguageEnricher, supported_languages

    try:
        if settings.enrich_mode == "accurate":
            return LanguageEnricher(languages=settings.languages or None, mode="accurate")
        step = LanguageEnricher(
            languages=settings.languages or None,
            mode="fast",
            lingua_models="trigram" if settings.language_models == "trigram" else "full",
            stream_prior=settings.language_prior != "none",
        )
    except ValueError as exc:  # the settings are checked on load, so: codes it cannot detect
        path = settings.root / CONFIG_FILE
        raise InvalidSetting(
            f"{path}: learn.languages: {exc}; {LANGUAGE_HINT} (the language step detects "
            f"{len(supported_languages())} languages, listed in docs/settings.md)",
            key="learn.languages",
            file=str(path),
        ) from exc
    if store is not None and step.stream_prior:
        from socialloop.store.labels import label_counts

        # the workspace's languages so far: the stream prior of small batches (live polls)
        step.seed({c: n for c, n in label_counts(store, "lang").items() if c != "und"})
    return step


def _sentiment(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.sentiment import SentimentEnricher

    return SentimentEnricher(features=features)


def _emotion(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.emotion import EmotionEnricher

    return EmotionEnricher(features=features)


def _intent(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.intent import IntentEnricher

    return IntentEnricher(features=features)


def _stage(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.journey import JourneyEnricher

    return JourneyEnricher()


def _embedding(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.embeddings import EmbeddingEnricher

    return EmbeddingEnricher(features=features)


def _topic(
    settings: Settings, store: Store | None, features: FeatureCache | None = None
) -> Enricher:
    from socialloop.learn.topics import TopicEnricher

    # the centroids of the last `socialloop topics --build`; none yet: every post is "none"
    return TopicEnricher.from_store(store) if store is not None else TopicEnricher()


STEP_FACTORIES: dict[str, StepFactory] = {
    "language": _language,
    "sentiment": _sentiment,
    "emotion": _emotion,
    "intent": _intent,
    "stage": _stage,
    "embedding": _embedding,
    "topic": _topic,
}
DEFAULT_STEPS: tuple[str, ...] = tuple(STEP_FACTORIES)


def build_steps(
    settings: Settings, names: Sequence[str] | None = None, store: Store | None = None
) -> list[Enricher]:
    """The named steps (default: all), configured for the workspace (``store``: where steps
    that need stored state, such as topic centroids, read it)."""
    chosen = list(dict.fromkeys(names)) if names is not None else list(DEFAULT_STEPS)
    if not chosen:
        raise UnknownStep(f"no enrichment step named; available: {', '.join(STEP_FACTORIES)}")
    unknown = [n for n in chosen if n not in STEP_FACTORIES]
    if unknown:
        raise UnknownStep(
            f"unknown enrichment step(s) {', '.join(unknown)}; "
            f"available: {', '.join(STEP_FACTORIES)}"
        )
    features = FeatureCache()  # one batch's hashes, shared by sentiment, emotion and intent
    steps = [STEP_FACTORIES[n](settings, store, features) for n in chosen]
    if settings.enrich_mode == "accurate" and {"sentiment", "emotion"} & set(chosen):
        from socialloop.learn.accurate import TransformerHeads
        from socialloop.learn.emotion import EmotionEnricher
        from socialloop.learn.sentiment import SentimentEnricher

        heads = TransformerHeads()  # one model and one per-text memo shared by both steps
        steps = [
            type(step)(heads=heads, features=features)
            if isinstance(step, SentimentEnricher | EmotionEnricher)
            else step
            for step in steps
        ]
    return steps


def check_requires(steps: Sequence[Enricher], settings: Settings, store: Store | None) -> None:
    """Every field a selection of steps requires is produced by one of them; else a
    :class:`PipelineError` naming the registered step that produces it (a pipeline can run
    only such a selection; a step built alone may still be used on its own)."""
    produced = {f for step in steps for f in step.produces}
    for step in steps:
        for need in step.requires:
            if need in produced:
                continue
            chosen = {s.name for s in steps}
            producer = next(
                (
                    name
                    for name in STEP_FACTORIES
                    if name not in chosen and need in STEP_FACTORIES[name](settings, store).produces
                ),
                None,
            )
            if producer is None:
                raise PipelineError(f"step {step.name!r} needs {need!r}, which no step produces")
            raise PipelineError(
                f"step {step.name!r} needs {need!r}, which the step {producer!r} produces: "
                f"select {producer!r} too (a step whose stored results are up to date costs "
                "nothing)"
            )
