"""Query-language filters over enrichment results: ``sentiment:``, ``emotion:``, ``intent:``,
``moment:``, ``stage:``, ``topic:``, ``toward:BRAND:LABEL`` (the sentiment toward one brand),
and ``lang:`` on the detected language.

Each is a :class:`~socialloop.query.fields.FieldDef` (the same contract as the built-in
fields): in memory it reads ``PostView.extra`` (the enrichment values of a post), in SQL the
``post_labels`` table the pipeline fills. ``lang:`` uses the detected language of enriched
posts and falls back to the platform-declared language for posts not yet enriched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, func, select

from socialloop.query.fields import BUILTIN_FIELDS, FieldDef, FieldRegistry, Predicate
from socialloop.query.view import PostView
from socialloop.store.schema import brand_labels, brands, post_labels

if TYPE_CHECKING:
    from socialloop.query.sql import SqlContext

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = (
    "question",
    "complaint",
    "praise",
    "purchase_intent",
    "recommendation_request",
    "support_request",
)
MOMENTS = ("know", "go", "do", "buy", "none")
STAGES = ("awareness", "consideration", "purchase", "experience", "advocacy", "none")
EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "optimism", "trust", "none")


def _has_label(field: str, value: str, ctx: SqlContext) -> ColumnElement[bool]:
    sub = select(post_labels.c.post_pk).where(
        post_labels.c.field == field, post_labels.c.label == value
    )
    return ctx.posts.c.pk.in_(sub)


def _extra_has(field: str, value: str, view: PostView) -> bool:
    got = view.extra.get(field)
    if isinstance(got, str):
        return got == value
    if isinstance(got, list | tuple | set | frozenset):
        return value in got
    return False


def label_field(
    name: str,
    labels: Collection[str] | None,
    summary: str,
    *,
    source: str | None = None,
    none_source: str | None = None,
    pattern: str | None = None,
    expected: str | None = None,
) -> FieldDef:
    """A filter ``name:LABEL`` on the labels an enrichment step produced for the field
    ``source`` (default ``name``; ``none_source``: the field ``name:none`` reads instead, for a
    multi-label field that never holds "none"); ``labels`` is the closed set of values (None:
    any value that fully matches the regular expression ``pattern``, described by
    ``expected``). Numbers are read as numbers (``topic:01`` is ``topic:1``)."""
    allowed = tuple(labels) if labels is not None else None
    shape = re.compile(pattern) if pattern is not None else None

    def field_of(value: str) -> str:
        if value == "none" and none_source is not None:
            return none_source
        return source or name

    def normalize(raw: str) -> str:
        value = raw.strip().lower()
        if not value:
            raise ValueError(f"expected a value, e.g. {name}:{(allowed or ('x',))[0]}")
        if allowed is not None and value not in allowed:
            article = "an" if name[:1] in "aeiou" else "a"
            raise ValueError(
                f"{value!r} is not {article} {name} label; use one of {', '.join(allowed)}"
            )
        if shape is not None and not shape.fullmatch(value):
            raise ValueError(f"{value!r} is not {expected or 'a valid ' + name}")
        return str(int(value)) if value.isascii() and value.isdigit() else value

    def matcher(value: str) -> Predicate:
        field = field_of(value)
        return lambda view: _extra_has(field, value, view)

    def sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
        return _has_label(field_of(value), value, ctx)

    example = f"{name}:{allowed[0]}" if allowed else f"{name}:value"
    return FieldDef(name, summary, example, normalize, matcher, sql)


def detected_lang_field() -> FieldDef:
    """``lang:`` on the detected language (enriched posts) or the declared one (others)."""
    declared = BUILTIN_FIELDS["lang"]

    def matcher(value: str) -> Predicate:
        fallback: Callable[[PostView], bool] = declared.matcher(value)

        def match(view: PostView) -> bool:
            if "lang" in view.extra:
                return _extra_has("lang", value, view)
            return fallback(view)

        return match

    def sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
        # per-post look-ups (languages are large sets; see the built-in lang:): the post's
        # detected languages, NULL when it has none (not enriched), and only then the
        # declared one. One look-up per enriched post, whatever the language; a count driven
        # from a smaller set (a brand's posts) lists the declared language's posts once
        # instead of looking each up (store.plan).
        pk = ctx.posts.c.pk
        labels = post_labels.c
        detected = (
            select(func.max(case((labels.label == value, 1), else_=0)))
            .where(labels.post_pk == pk, labels.field == "lang")
            .scalar_subquery()
        )
        fallback = case((declared.sql(value, ctx), 1), else_=0)
        return func.coalesce(detected, fallback) == 1

    return FieldDef(
        "lang",
        "the detected language (ISO 639-1; the platform's declared language until a post is "
        "enriched); lang:en",
        "lang:en",
        declared.normalize,
        matcher,
        sql,
    )


def toward_field(brand_names: Callable[[], Sequence[str]] | None = None) -> FieldDef:
    """``toward:BRAND:LABEL``: the sentiment toward one brand (``brand_labels``, which the
    sentiment step fills for each brand a post matches), e.g. ``toward:acme:negative`` or
    ``toward:"Blue Bottle:positive"``; the brand by name, any case. ``brand_names``: the
    workspace's brands, to refuse a name that is none of them (without it any name parses and
    an unknown one matches nothing)."""

    def split(value: str) -> tuple[str, str]:
        brand, _, label = value.rpartition(":")
        return brand, label

    def normalize(raw: str) -> str:
        brand, label = split(raw.strip())
        brand, label = brand.strip().lower(), label.strip().lower()
        if not brand or not label:
            raise ValueError(
                "expected a brand and a sentiment, e.g. toward:acme:negative "
                '(quote a name with spaces: toward:"Blue Bottle:negative")'
            )
        if label not in SENTIMENTS:
            raise ValueError(
                f"{label!r} is not a sentiment label; use one of {', '.join(SENTIMENTS)}"
            )
        if brand_names is not None:
            names = list(brand_names())
            if brand not in {n.lower() for n in names}:
                known = ", ".join(names) if names else "none yet (socialloop brand add)"
                raise ValueError(f"no brand named {brand!r}; brands: {known}")
        return f"{brand}:{label}"

    def matcher(value: str) -> Predicate:
        brand, label = split(value)

        def match(view: PostView) -> bool:
            per_brand = view.extra.get("brands")
            if not isinstance(per_brand, dict):
                return False
            return any(
                isinstance(v, dict) and name.lower() == brand and v.get("sentiment") == label
                for name, v in per_brand.items()
            )

        return match

    def sql(value: str, ctx: SqlContext) -> ColumnElement[bool]:
        brand, label = split(value)
        sub = (
            select(brand_labels.c.post_pk)
            .join(brands, brands.c.id == brand_labels.c.brand_id)
            .where(
                func.lower(brands.c.name) == brand,
                brand_labels.c.field == "sentiment",
                brand_labels.c.label == label,
            )
        )
        return ctx.posts.c.pk.in_(sub)

    return FieldDef(
        "toward",
        "the sentiment toward one brand (a comparison can be positive toward one and negative "
        'toward another); toward:acme:negative, toward:"Blue Bottle:positive"',
        "toward:acme:negative",
        normalize,
        matcher,
        sql,
    )


def enrichment_fields(
    brand_names: Callable[[], Sequence[str]] | None = None,
) -> tuple[FieldDef, ...]:
    """The enrichment filters (``brand_names``: the workspace's brands, for ``toward:``)."""
    return (
        detected_lang_field(),
        label_field("sentiment", SENTIMENTS, "overall sentiment: negative, neutral, positive"),
        toward_field(brand_names),
        label_field(
            "emotion",
            EMOTIONS,
            "an emotion the post expresses (any above its threshold); emotion:none, none",
            source="emotions",
            none_source="emotion",
        ),
        label_field("intent", INTENTS, "an intent of the post (several may apply)"),
        label_field("moment", MOMENTS, "the micro-moment: I want to know / go / do / buy"),
        label_field("stage", STAGES, "the customer-journey stage (Social Feedback Cycle)"),
        label_field(
            "topic",
            None,
            "a topic id from `socialloop topics` (or none)",
            pattern=r"\d+|none",
            expected="a topic: a number from `socialloop topics`, or none",
        ),
    )


def workspace_fields(brand_names: Callable[[], Sequence[str]] | None = None) -> FieldRegistry:
    """The fields a workspace's queries use: the built-in ones plus enrichment filters
    (``brand_names``: the workspace's brands, which ``toward:`` checks a name against)."""
    return BUILTIN_FIELDS.extend(*enrichment_fields(brand_names), replace=True)
