"""core/heap.py: what exists once a process has started is left out of full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.heap import freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test session collects as before


@pytest.mark.usefixtures("unfrozen")
def test_the_objects_there_at_start_up_are_frozen_and_later_ones_are_not() -> None:
    before = [object()]  # tracked (a list): the collector would walk it
    frozen = freeze_startup_objects()
    assert frozen > 0  # (the count moves on as frozen objects are freed: not compared)
    assert not any(obj is before for obj in gc.get_objects())  # out of every generation
    after = [object()]
    assert any(obj is after for obj in gc.get_objects())
