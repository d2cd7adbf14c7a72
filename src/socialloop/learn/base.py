"""The enricher contract every LEARN step follows.

A step has a ``name``, a ``version`` (bump it and the pipeline re-runs the step on every post),
the fields it ``requires`` (produced by earlier steps) and the fields it ``produces``. It
enriches whole batches (vectorised), returning one ``Result`` per ``Item`` in the same order.
Steps are pure with respect to the store: the pipeline reads posts, hands batches over and
stores the results with the step's name and version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from socialloop.models import Post


@dataclass(frozen=True, slots=True)
class Item:
    """One post handed to a step: the post, what earlier steps produced for it (by field
    name), and the names of the brands whose queries match it (for per-brand steps)."""

    pk: int
    post: Post
    prior: Mapping[str, Any] = field(default_factory=dict)
    brands: tuple[str, ...] = ()


@dataclass(slots=True)
class Result:
    """What a step found for one post.

    ``values`` maps each produced field to its value (a label, a list of labels, a number,
    a mapping of label -> probability); ``confidence`` is the step's confidence in its main
    value, in [0, 1]; ``brand_values`` maps a brand name to per-brand values (e.g. the
    sentiment toward that brand)."""

    values: dict[str, Any]
    confidence: float | None = None
    brand_values: dict[str, dict[str, Any]] = field(default_factory=dict)


@runtime_checkable
class Enricher(Protocol):
    name: str
    version: str
    requires: tuple[str, ...]
    produces: tuple[str, ...]

    def enrich(self, batch: Sequence[Item]) -> list[Result]: ...
