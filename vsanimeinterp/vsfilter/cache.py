"""A bounded, thread-safe cache that computes each value once.

VapourSynth asks for frames from several threads at once. Two in-betweens of the same source
pair arriving together must not both segment the frames or both run the flow network: the
first request computes, the others wait for its result. Memory stays bounded by evicting the
least recently used finished entries.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class _Slot[V]:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None


class OnceCache[V]:
    """Maps keys to values computed at most once while they stay cached.

    Args:
        capacity: how many finished values to keep (≥ 1). Values still being computed do not
            count and are never evicted.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._slots: OrderedDict[Hashable, _Slot[V]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times a value was computed, for tests and statistics

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for ``key``, computing it with ``compute()`` if nobody has yet.

        If the computation raises, every waiter gets the exception and the key is forgotten
        so that a later request may try again.
        """
        with self._lock:
            slot = self._slots.get(key)
            owner = slot is None
            if owner:
                slot = _Slot()
                self._slots[key] = slot
            else:
                self._slots.move_to_end(key)
        if not owner:
            slot.done.wait()
            if slot.error is not None:
                raise slot.error
            return slot.value  # type: ignore[return-value]
        try:
            slot.value = compute()
        except BaseException as exc:
            slot.error = exc
            with self._lock:
                if self._slots.get(key) is slot:
                    del self._slots[key]
            slot.done.set()
            raise
        with self._lock:
            self.computed += 1
            self._evict()
        slot.done.set()
        return slot.value

    def _evict(self) -> None:
        finished = [k for k, s in self._slots.items() if s.done.is_set() or s.value is not None]
        excess = len(finished) - self.capacity
        for k in finished[:max(excess, 0)]:
            del self._slots[k]

    def has(self, key: Hashable) -> bool:
        """Whether ``key`` is cached or being computed."""
        with self._lock:
            return key in self._slots

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

    def clear(self) -> None:
        """Forget every finished value."""
        with self._lock:
            for k in [k for k, s in self._slots.items() if s.done.is_set()]:
                del self._slots[k]
