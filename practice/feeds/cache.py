"""A small thread-safe LRU cache bounded by the bytes it holds.

Feeds keep two of these per app (in ``app.extensions``): one for the
serialised bytes of single events, one for whole feed bodies. Neither can go
stale, because every key is built from everything that shapes the value (the
event's own fields, or a fingerprint read from the shared database on every
request); the caches only decide how much work a rebuild can skip. That also
makes them safe with several gunicorn workers: each worker keeps its own
copy, and a worker that has not seen a change simply misses.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


class ByteBudgetLRU(Generic[V]):
    """Least-recently-used mapping that evicts once ``max_bytes`` is exceeded.

    The caller passes each value's size, so values may be bytes or small
    records holding bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        if size > self.max_bytes:
            return  # larger than the whole budget: not worth keeping
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._data[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _, (_, evicted) = self._data.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def size_bytes(self) -> int:
        return self._bytes
