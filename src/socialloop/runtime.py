"""Process-level tuning for long batch jobs (imports, enrichment): fewer cyclic garbage
collections while they run."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Fewer cyclic garbage collections inside the block: batch jobs allocate millions of
    short-lived objects without cycles, and every gen-2 collection would walk the whole heap
    (loaded models, memos, the frozen part: what existed before the block). Restored on exit;
    nested blocks leave the outer one's settings in place."""
    threshold = gc.get_threshold()
    outer = gc.get_freeze_count() > 0  # inside another such block (or a caller's freeze)
    if not outer:
        gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), threshold[1], max(threshold[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not outer:
            gc.unfreeze()
