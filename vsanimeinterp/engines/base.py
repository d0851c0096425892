"""What the filter asks of an engine (the factory that picks one is :mod:`.factory`).

An engine splits its work by what it depends on, so that the filter can cache each part:

* ``prepare_frame(img)``: work on one source frame (segmentation, features), shared by the two
  pairs the frame belongs to;
* ``prepare_pair(a, b)``: work on a pair (matching, flows), shared by all its in-betweens;
* ``render(pair, t)``: the part that depends on ``t`` (warping and synthesis).

Images cross this boundary as 3×H×W float32 numpy arrays, RGB in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass
class EngineStats:
    """How much work an engine did (the filter's tests count flows with it)."""

    frames: int = 0
    pairs: int = 0
    renders: int = 0


class Engine(Protocol):
    """The interface the filter drives. ``Frame`` and ``Pair`` values are the engine's own;
    the filter only caches and passes them back."""

    name: str
    stats: EngineStats

    def prepare_frame(self, img: np.ndarray) -> Any:
        """Per-frame work on a 3×H×W float32 RGB image in [0, 1]."""
        ...

    def prepare_pair(self, a: Any, b: Any) -> Any:
        """Per-pair work on two :meth:`prepare_frame` results."""
        ...

    def render(self, pair: Any, t: float) -> np.ndarray:
        """The in-between at ``t`` in (0, 1): 3×H×W float32 RGB in [0, 1]."""
        ...
