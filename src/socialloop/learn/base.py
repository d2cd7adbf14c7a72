"""The enricher contract every LEARN step follows.

A step has a ``name``, a ``version`` (bump it and the pipeline re-runs the step on every post),
the fields it ``requires`` (produced by earlier steps) and the fields it ``produces``. It
enriches whole batches (vectorised), returning one ``Result`` per ``Item`` in the same order.
Steps are pure with respect to the store: the pipeline reads posts, hands batches over and
stores the results with the step's name and version.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from socialloop.models import Post

if TYPE_CHECKING:
    from socialloop.store import Store

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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


#: The registered steps that label a post toward each brand it matches
#: (``Result.brand_values``): when a brand's matches change, their stored results on the
#: posts it newly matches are redone by the next enrichment (``Store.rematch_brand``).
PER_BRAND_STEPS: tuple[str, ...] = ("sentiment",)


@runtime_checkable
class StoreBound(Protocol):
    """A step whose output depends on stored state besides the post (the topic step: the
    centroids of the last topic build); ``refresh`` re-reads that state before a run."""

    def refresh(self, store: Store) -> None: ...


class BatchMemo(Generic[K, V]):
    """Results remembered per distinct key, for steps whose result depends on the key alone
    (a post's text, or text and language): :meth:`get_many` computes the keys not seen before
    in ONE batch call and gathers every key's result in order. Retweets and copied texts are
    common, so a batch often needs only part of its work. Forgets everything past ``size``
    keys (a bounded memory, not an LRU)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._values)

    def get_many(self, keys: Sequence[K], compute: Callable[[list[K]], Iterable[V]]) -> list[V]:
        """Each key's value; ``compute(missing)`` returns the values of the new distinct keys."""
        values = self._values
        if len(values) > self.size:
            values.clear()
        missing = [k for k in dict.fromkeys(keys) if k not in values]
        if missing:
            values.update(zip(missing, compute(missing), strict=True))
        return [values[k] for k in keys]

    def known(self, keys: Iterable[K]) -> list[V]:
        """The remembered values of those ``keys`` that are remembered."""
        values = self._values
        return [values[k] for k in keys if k in values]

    def forget(self, keys: Iterable[K]) -> None:
        """Stop remembering ``keys`` (values that depended on more than the key)."""
        for k in keys:
            self._values.pop(k, None)

    def clear(self) -> None:
        self._values.clear()
