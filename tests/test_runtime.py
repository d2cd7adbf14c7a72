"""socialloop.runtime.quiet_gc: fewer cyclic collections inside the block, everything restored
after it, and a nested block leaves the outer one's frozen objects frozen."""

from __future__ import annotations

import gc

import pytest

from socialloop.runtime import quiet_gc


def test_thresholds_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with quiet_gc():
        low, _mid, high = gc.get_threshold()
        assert low >= 50_000 and high >= 100
        assert gc.get_freeze_count() >= frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_nested_block_keeps_the_outer_freeze() -> None:
    if gc.get_freeze_count():
        pytest.skip("something froze objects before this test")
    with quiet_gc():
        outer = gc.get_freeze_count()
        assert outer > 0
        with quiet_gc():
            pass
        assert gc.get_freeze_count() == outer  # the inner block did not unfreeze
        raised = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    assert raised[0] >= 50_000


def test_restored_when_the_block_raises() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), quiet_gc():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
