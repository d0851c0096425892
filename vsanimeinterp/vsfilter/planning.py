"""What each output frame is made of: a pure decision from per-pair facts, no VapourSynth.

The filter computes, for each source pair ``(i, i+1)``, three facts as frame props (natively,
lazily) and hands them to :func:`plan_frame`:

* ``cut(i)``: a scene cut lies between ``i`` and ``i+1``;
* ``identical(i)``: the two frames are bit-identical;
* ``similar(i)``: the two frames show the same drawing (below ``dedup_threshold``); only
  consulted with ``dedup=True``.

With ``dedup``, a drawing held for ``L ≤ max_hold`` frames (frames ``s..e``) is treated as one
drawing at time ``s``, and output times ``τ ∈ [s, e+1)`` are synthesised between the drawings
at ``s`` and ``e+1`` with ``t = (τ − s)/(e + 1 − s)``, so motion advances evenly instead of in
bursts. Longer holds are deliberate pauses and stay still; a scene cut ends every hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

PairFact = Callable[[int], bool]

SOURCE = "source"
INTERPOLATED = "interpolated"
SCENE_CUT = "scene_cut"
HELD = "held"


@dataclass(frozen=True)
class Plan:
    """How to make one output frame.

    Attributes:
        method: ``"source"``, ``"held"`` or ``"scene_cut"`` (source frame ``a`` passes through
            untouched) or ``"interpolated"`` (synthesised between ``a`` and ``b`` at ``t``).
        a, b: source frame indices (``a == b`` for pass-through).
        t: position between ``a`` (0) and ``b`` (1).
    """

    method: str
    a: int
    b: int
    t: Fraction

    @staticmethod
    def passthrough(method: str, frame: int) -> Plan:
        return Plan(method, frame, frame, Fraction(0))


def plan_frame(
    k: int,
    t0: Fraction,
    last: int,
    cut: PairFact,
    identical: PairFact,
    similar: PairFact | None = None,
    max_hold: int = 3,
) -> Plan:
    """Plan the output frame at source time ``k + t0`` (``0 ≤ t0 < 1``) of a clip whose last
    frame is ``last``. ``similar`` turns on held-drawing retiming (see the module doc).

    The facts are asked only for pairs within ``max_hold`` of ``k`` (``k − max_hold`` to
    ``k + max_hold − 1``), which bounds the source frames an output frame depends on.
    """
    if k >= last:
        return Plan.passthrough(SOURCE, last)
    if similar is not None:
        plan = _plan_held(k, t0, last, cut, similar, max_hold)
        if plan is not None:
            return plan
    return _plan_pair(k, t0, cut, identical)


def _plan_pair(k: int, t0: Fraction, cut: PairFact, identical: PairFact) -> Plan:
    if t0 == 0:
        return Plan.passthrough(SOURCE, k)
    if cut(k):
        return Plan.passthrough(SCENE_CUT, k if t0 < Fraction(1, 2) else k + 1)
    if identical(k):
        return Plan.passthrough(HELD, k)
    return Plan(INTERPOLATED, k, k + 1, t0)


def _plan_held(
    k: int, t0: Fraction, last: int, cut: PairFact, similar: PairFact, max_hold: int
) -> Plan | None:
    """The plan inside a held drawing, or None where the frame is not inside one."""

    def same(i: int) -> bool:
        return similar(i) and not cut(i)

    s = k
    while s > 0 and k - s < max_hold and same(s - 1):
        s -= 1
    e = k
    while e < last and e - s < max_hold and same(e):
        e += 1
    length = e - s + 1
    if length == 1:
        return None
    if length > max_hold:
        # A deliberate pause: it stays still, and leaves it as any pair would.
        if same(k):
            return Plan.passthrough(SOURCE if t0 == 0 else HELD, k)
        return None
    if e == last or cut(e):
        # Nothing to move towards in this scene: the drawing stays until the cut or the end.
        if k < e or t0 == 0:
            return Plan.passthrough(SOURCE if t0 == 0 else HELD, k)
        return None  # between the hold's last frame and a cut: the cut rule applies
    t = (k + t0 - s) / (e + 1 - s)
    if t == 0:
        return Plan.passthrough(SOURCE, k)
    return Plan(INTERPOLATED, s, e + 1, t)
