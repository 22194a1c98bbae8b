"""A small LRU of compiled work, keyed by everything that determines it, with hit and miss counts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """Least-recently-used mapping holding at most ``size`` entries (none when size is 0)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    def peek(self, key: Hashable) -> V | None:
        """The entry, if held, without counting a hit or a miss or refreshing it."""
        return self._entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        if self.size <= 0:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` (nothing when it is not held)."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
