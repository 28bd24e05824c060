"""Reading ahead: frames decoded on a background thread arrive in order, errors reach the reader, and stopping
early stops the thread."""
import threading

import pytest

from mocap.io.video import read_ahead


def test_read_ahead_keeps_order_and_stops():
    assert list(read_ahead(iter(range(100)), depth=3)) == list(range(100))
    before = threading.active_count()
    it = read_ahead(iter(range(10_000)), depth=2)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()
    assert threading.active_count() == before


def test_read_ahead_passes_errors_on():
    def broken():
        yield 1
        raise ValueError("frame 2 unreadable")

    it = read_ahead(broken())
    assert next(it) == 1
    with pytest.raises(ValueError, match="frame 2"):
        next(it)
