"""Producing ahead on a thread must not change what the consumer sees, or hide failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pavedroad.core.prefetch import prefetched


def test_items_arrive_complete_and_in_order() -> None:
    assert list(prefetched(range(1000), depth=3)) == list(range(1000))


def test_a_failure_in_the_producer_is_raised_in_the_consumer_after_what_came_before() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("file 3 is unreadable")

    received = []
    with pytest.raises(ValueError, match="file 3 is unreadable"):
        for item in prefetched(items()):
            received.append(item)
    assert received == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced = []
    finished = threading.Event()

    def items() -> Iterator[int]:
        try:
            for number in range(10_000):
                produced.append(number)
                yield number
        finally:
            finished.set()

    iterator = prefetched(items(), depth=2)
    assert next(iterator) == 0
    iterator.close()
    assert len(produced) < 10
