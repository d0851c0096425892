"""Stage timing: an explicit, optional recorder that engines and SGM report their stages to.

Library code brackets its stages with ``with recorder.stage("flow"): ...``; the default
:data:`NO_RECORDER` does nothing, so the filter pays nothing for it. The ``profile`` command
passes a :class:`StageClock` instead and reads its totals. No monkeypatching is involved, so
what is profiled is exactly what the filter runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager


class Recorder:
    """Receives stage boundaries; this base class ignores them."""

    def enter(self, stage: str) -> None:
        """A stage starts (stages nest)."""

    def leave(self) -> None:
        """The innermost stage ends."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """``with recorder.stage(name):`` brackets one stage."""
        self.enter(name)
        try:
            yield
        finally:
            self.leave()


#: The recorder that records nothing (the default everywhere).
NO_RECORDER = Recorder()


class StageClock(Recorder):
    """Seconds per stage, each moment charged to the innermost stage running.

    Stages nest (the flow net's encoder runs inside frame preparation, the feature pyramid
    inside tiled synthesis); time is attributed exclusively, so the totals add up to the wall
    time spent inside stages. One clock serves one thread at a time (the profile's).

    Args:
        sync: called at every boundary before the clock is read (``torch.cuda.synchronize``
            on CUDA, so that asynchronous kernels are charged to the stage that launched
            them).
        fold: stage names to charge under another name (e.g. SGM's ``"flow"`` as ``"sgm"``
            when profiling the network engine, whose SGM part is one stage).
    """

    def __init__(self, sync: Callable[[], None] = lambda: None,
                 fold: Mapping[str, str] | None = None) -> None:
        self.totals: dict[str, float] = {}
        self.sync = sync
        self.fold = dict(fold or {})
        self.enabled = True
        self._stack: list[str] = []
        self._mark = 0.0
        self._owner: int | None = None

    def _charge(self) -> None:
        self.sync()
        now = time.perf_counter()
        if self._stack and self.enabled:
            top = self._stack[-1]
            self.totals[top] = self.totals.get(top, 0.0) + now - self._mark
        self._mark = now

    def enter(self, stage: str) -> None:
        ident = threading.get_ident()
        if self._owner is None:
            self._owner = ident
        elif self._owner != ident:
            raise RuntimeError("StageClock: stages entered from two threads")
        self._charge()
        self._stack.append(self.fold.get(stage, stage))

    def leave(self) -> None:
        self._charge()
        self._stack.pop()
        if not self._stack:
            self._owner = None
