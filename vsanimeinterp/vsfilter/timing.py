"""Exact mapping from output frame numbers to source frames and in-between times.

All arithmetic is rational (``fractions.Fraction``) so that output frame one million of a
24000/1001 → 60000/1001 conversion lands on the same time as frame one: floats would drift.

Convention (the same as vs-rife): with a rate factor ``f = num/den``, a clip of ``N`` source
frames becomes ``ceil(N·f)`` output frames. Output frame ``n`` sits at source time ``n/f``; it
lies between source frames ``k = floor(n/f)`` and ``k + 1`` at fraction ``t = n/f − k``. Where
``t == 0`` the source frame ``k`` passes through unchanged. In-betweens after the last source
frame (``k == N − 1``) repeat it, since there is no next frame to move towards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Retiming:
    """How output frames relate to source frames for one rate change.

    Attributes:
        src_frames: number of source frames ``N`` (≥ 1).
        factor: output rate / source rate, a positive rational.
    """

    src_frames: int
    factor: Fraction

    def __post_init__(self) -> None:
        if self.src_frames < 1:
            raise ValueError("src_frames must be at least 1")
        if self.factor <= 0:
            raise ValueError("factor must be positive")

    @property
    def num_frames(self) -> int:
        """Number of output frames: ``ceil(N · factor)``."""
        return math.ceil(self.src_frames * self.factor)

    def source_time(self, n: int) -> Fraction:
        """Exact source time of output frame ``n``, in source frames."""
        return Fraction(n) / self.factor

    def position(self, n: int) -> tuple[int, Fraction]:
        """``(k, t)``: output frame ``n`` lies at fraction ``t`` ∈ [0, 1) after source frame ``k``.

        ``k`` is clamped to the last source frame; callers repeat it for in-betweens past the
        end (``k + 1`` does not exist there).
        """
        if not 0 <= n < self.num_frames:
            raise IndexError(f"output frame {n} out of range 0..{self.num_frames - 1}")
        pos = self.source_time(n)
        k = math.floor(pos)
        return k, pos - k


def rate_factor(
    src_fps: Fraction,
    factor_num: int,
    factor_den: int,
    fps_num: int | None,
    fps_den: int | None,
) -> Fraction:
    """The rate factor: ``fps_num/fps_den ÷ src_fps`` when a target rate is given, else
    ``factor_num/factor_den``. Validation of signs and of ``src_fps == 0`` is the caller's."""
    if fps_num is not None:
        return Fraction(fps_num, fps_den if fps_den is not None else 1) / src_fps
    return Fraction(factor_num, factor_den)
