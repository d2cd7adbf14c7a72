"""Running the enrichment steps on one batch of posts: which step is due on which post, the
items and priors each step gets, the results it returns. Pure with respect to the store (the
pipeline reads the batch and writes the results), so it also runs in worker processes: each
worker receives the steps once and keeps them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from socialloop.errors import SocialloopError
from socialloop.learn.base import Enricher, Item, Result
from socialloop.models import Post


class PipelineError(SocialloopError):
    """The steps cannot be ordered (a required field nobody produces, or a cycle)."""


@dataclass(slots=True)
class Batch:
    """One batch of posts and, per post, what is already stored for each step."""

    posts: list[tuple[int, Post]]
    stored: dict[int, dict[str, tuple[str, dict[str, Any]]]]  # pk -> step -> (version, data)
    brands: dict[int, list[str]]


@dataclass(slots=True)
class Done:
    """What the steps produced for one batch: per step, the items run and their results,
    and the CPU seconds each step took."""

    results: list[tuple[str, list[int], list[Result]]]
    seconds: dict[str, float]
    # per step, the posts that had older results stored (their labels must be replaced)
    redo: dict[str, list[int]] = field(default_factory=dict)


def _items(
    todo: Sequence[tuple[int, Post]],
    sources: Sequence[tuple[str, dict[int, dict[str, Any]]]],
    batch: Batch,
) -> list[Item]:
    """One item per post: its prior merges what each needed step produced in this pass
    (``sources``: step name -> pk -> values), else what is stored for it."""
    stored = batch.stored
    nothing: dict[str, tuple[str, dict[str, Any]]] = {}
    items = []
    brands_of = batch.brands
    for pk, post in todo:
        prior: dict[str, Any] = {}
        for need, made in sources:
            values = made.get(pk)
            if values is not None:
                prior.update(values)
            elif need in stored.get(pk, nothing):
                prior.update(stored[pk][need][1])
        brands = brands_of.get(pk)
        items.append(Item(pk=pk, post=post, prior=prior, brands=tuple(brands) if brands else ()))
    return items


def run_steps(steps: Sequence[Enricher], batch: Batch) -> Done:
    """Run every step that is due on the batch, in order, feeding each step the values the
    steps it requires produced (fresh from this pass, else as stored). Runs in a worker
    process when the pipeline has workers, so it only takes and returns picklable data.

    A step is due on a post when its stored version differs, and also when a step it requires
    produced different values for that post in this pass (an upgraded language step changes a
    post's language: its sentiment, and what depends on that, are computed again)."""
    if not batch.stored:
        return _run_fresh(steps, batch)
    producer = {f: s.name for s in steps for f in s.produces}
    required = {producer[f] for s in steps for f in s.requires}  # steps others depend on
    stored = batch.stored
    nothing: dict[str, tuple[str, dict[str, Any]]] = {}
    fresh: dict[str, dict[int, dict[str, Any]]] = {}  # step -> pk -> values from this pass
    changed: dict[str, set[int]] = {}  # step -> posts whose values differ from the stored ones
    shared: dict[tuple[str, ...], list[Item]] = {}
    done = Done([], {}, {})
    for step in steps:
        name, version = step.name, step.version
        needs = tuple(sorted({producer[f] for f in step.requires}))
        upstream: set[int] = set().union(*(changed.get(need, set()) for need in needs))
        todo = [
            (pk, post)
            for pk, post in batch.posts
            if stored.get(pk, nothing).get(name, ("", {}))[0] != version or pk in upstream
        ]
        if not todo:
            continue
        redo = [pk for pk, _ in todo if name in stored.get(pk, nothing)]
        done.redo[name] = redo
        # steps due on the same posts with the same needs (language and embedding; sentiment
        # and emotion) get the same items: the priors are complete before either runs
        whole = len(todo) == len(batch.posts)
        items = shared.get(needs) if whole else None
        if items is None:
            items = _items(todo, [(need, fresh.get(need, {})) for need in needs], batch)
            if whole:
                shared[needs] = items
        results = _enrich(step, items, done)
        pks = [pk for pk, _ in todo]
        fresh[name] = {pk: res.values for pk, res in zip(pks, results, strict=True)}
        if name in required:  # nobody reads what changed in the others
            changed[name] = {
                pk
                for pk, res in zip(pks, results, strict=True)
                if _differs(stored.get(pk, nothing).get(name), res.values, version)
            }
        done.results.append((name, pks, results))
    return done


def _enrich(step: Enricher, items: list[Item], done: Done) -> list[Result]:
    """``step.enrich(items)``, its CPU time added to ``done``; one result per item or an error."""
    started = time.process_time()
    results = step.enrich(items)
    done.seconds[step.name] = time.process_time() - started
    if len(results) != len(items):
        raise PipelineError(
            f"step {step.name!r} returned {len(results)} results for {len(items)} posts"
        )
    return results


def _differs(
    before: tuple[str, dict[str, Any]] | None, values: dict[str, Any], version: str
) -> bool:
    """Whether a step's fresh ``values`` differ from what was stored for the post (``before``:
    version and JSON data). Per-brand values (under ``brands``) take no part; a vector lives in
    its own table, so a step that makes one counts as changed whenever its version changed."""
    if before is None:
        return True
    if "embedding" in values and before[0] != version:
        return True
    old = {k: v for k, v in before[1].items() if k != "brands"}
    new = {k: v for k, v in values.items() if k != "embedding"}
    return orjson.dumps(old, option=orjson.OPT_SORT_KEYS) != orjson.dumps(
        new, option=orjson.OPT_SORT_KEYS
    )


def _run_fresh(steps: Sequence[Enricher], batch: Batch) -> Done:
    """:func:`run_steps` when nothing is stored for the batch (a first enrichment, the common
    case): every step is due on every post, so one item per post serves every step, its prior
    filled in place with each step's values as the steps finish (in dependency order, so a
    step's prior holds at least what it requires)."""
    done = Done([], {}, {})
    priors: list[dict[str, Any]] = [{} for _ in batch.posts]
    brands_of = batch.brands
    items = [
        Item(pk=pk, post=post, prior=prior, brands=tuple(brands_of.get(pk, ())))
        for (pk, post), prior in zip(batch.posts, priors, strict=True)
    ]
    pks = [pk for pk, _ in batch.posts]
    for step in steps:
        name = step.name
        done.redo[name] = []
        results = _enrich(step, items, done)
        for prior, res in zip(priors, results, strict=True):
            prior.update(res.values)
        done.results.append((name, pks, results))
    return done


# The steps of THIS worker process, set once by the pool's initializer (the usual
# multiprocessing idiom): a worker keeps its step instances, so models load once per worker
# and the per-step memos live across batches instead of being rebuilt from a pickle per batch.
_WORKER_STEPS: list[Enricher] = []


def init_worker(steps: list[Enricher]) -> None:
    _WORKER_STEPS[:] = steps
    # the worker lives for one run: fewer cyclic collections, as in the parent (quiet_gc)
    gc.freeze()
    low, mid, high = gc.get_threshold()
    gc.set_threshold(max(low, 50_000), mid, max(high, 100))


def worker_ready() -> bool:
    return bool(_WORKER_STEPS)


def run_in_worker(batch: Batch) -> Done:
    return run_steps(_WORKER_STEPS, batch)
