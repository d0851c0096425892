"""The moving characters of a cartoon scene: their pieces, their analytic motion and how a
random one is drawn.

A character is a body polygon with inner pieces (belly patch, eyes with pupils) in local
units (body radius ≈ 1), placed on screen at time ``t`` (frames) by :meth:`Actor.matrix`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .geometry import affine, apart, blob, circle, ellipse, hsv, inside, star_polygon, superellipse


@dataclass
class Part:
    """A flat colour piece of an object, in the object's local units (body radius ≈ 1)."""

    polygon: np.ndarray  # N×2 float64, local coordinates
    colour: tuple[int, int, int]  # uint8 RGB
    outline: bool  # inked border or a plain colour step


@dataclass
class Actor:
    """A character-like object: body outline, inner pieces and its analytic motion."""

    body: np.ndarray  # N×2 local polygon
    colour: tuple[int, int, int]
    parts: list[Part]
    size: float  # pixels per local unit
    centre: np.ndarray  # (cx, cy) pixels
    amp: np.ndarray  # 2×2: path amplitudes (first, second harmonic) × (x, y), pixels
    omega: np.ndarray  # 2×2: angular rates, radians per frame
    phase: np.ndarray  # 2×2
    spin: float  # steady rotation, radians per frame
    wobble: tuple[float, float, float]  # (amplitude rad, rate rad/frame, phase)
    squash: tuple[float, float, float]  # (relative amplitude, rate rad/frame, phase)
    theta0: float

    def matrix(self, t: float) -> np.ndarray:
        """Local → screen affine map (3×3) at time ``t`` (frames)."""
        path = self.centre + (self.amp * np.sin(self.omega * t + self.phase)).sum(axis=0)
        wa, wr, wp = self.wobble
        theta = self.theta0 + self.spin * t + wa * math.sin(wr * t + wp)
        qa, qr, qp = self.squash
        q = qa * math.sin(qr * t + qp)
        # Area-preserving squash and stretch, the classic animation deformation.
        return affine((path[0], path[1]), theta, self.size * (1 + q), self.size / (1 + q))


def make_actor(
    rng: np.random.Generator, width: int, height: int, hue: float, speed: float, slot: float
) -> Actor:
    """A random character for a ``width``×``height`` frame whose path is centred at ``slot``
    (0..1) across the width; ``hue`` (0..1) is its base hue, ``speed`` multiplies its rates."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        body = circle() * (1.0, rng.uniform(0.6, 0.95))
    elif kind == 1:
        body = blob(rng)
    elif kind == 2:
        body = star_polygon(rng)
    else:
        body = superellipse(rng)
    colour = hsv(hue + rng.uniform(-0.08, 0.08), rng.uniform(0.45, 0.8), rng.uniform(0.7, 0.95))
    parts: list[Part] = []
    # Inner pieces are placed by rejection so that they sit inside the body (and apart from
    # each other) with a margin wide enough that inner outlines never merge.
    if rng.random() < 0.75:  # belly / shirt patch in the lower half
        patch_colour = hsv(hue + 0.5 + rng.uniform(-0.1, 0.1), rng.uniform(0.3, 0.7), 0.9)
        for _ in range(20):
            offset = (rng.uniform(-0.15, 0.15), rng.uniform(0.2, 0.4))
            patch = body * rng.uniform(0.35, 0.5) + offset
            if inside(body, patch, 0.12):
                parts.append(Part(patch, patch_colour, True))
                break
    if rng.random() < 0.85:  # one or two eyes in the upper half, each with a pupil
        pupil_colour = hsv(hue + 0.6, 0.7, 0.35)
        r = rng.uniform(0.15, 0.22)
        ry = r * rng.uniform(1.0, 1.4)
        for _ in range(20):
            ex, ey = rng.uniform(-0.3, 0.3), rng.uniform(-0.55, -0.2)
            gap = r * rng.uniform(1.2, 1.6) if rng.random() < 0.6 else 0.0
            centres = [(ex - gap, ey), (ex + gap, ey)] if gap else [(ex, ey)]
            eyes = [ellipse(x, y, r, ry, 32) for x, y in centres]
            within = all(inside(body, e, 0.1) for e in eyes)
            if within and all(apart(e, p.polygon, 0.08) for e in eyes for p in parts):
                look = rng.uniform(-0.3, 0.3, 2) * r
                for (x, y), e in zip(centres, eyes, strict=True):
                    parts.append(Part(e, (246, 246, 240), True))
                    pupil = ellipse(x + look[0], y + look[1], r * 0.45, ry * 0.5, 24)
                    parts.append(Part(pupil, pupil_colour, False))
                break

    size = min(width, height) * rng.uniform(0.09, 0.17)
    peak = width * rng.uniform(0.03, 0.10) * speed  # pixels per frame along x
    ax = width * rng.uniform(0.18, 0.3)
    ay = height * rng.uniform(0.1, 0.25)
    wx = peak / ax
    wy = peak * rng.uniform(0.3, 0.6) / ay
    amp = np.array([[ax, ay], [ax * rng.uniform(0, 0.2), ay * rng.uniform(0, 0.3)]])
    omega = np.array([[wx, wy], [wx * rng.uniform(1.7, 2.6), wy * rng.uniform(1.7, 2.6)]])
    phase = rng.uniform(0, 2 * math.pi, (2, 2))
    centre = np.array(
        [width * (0.3 + 0.4 * slot + rng.uniform(-0.05, 0.05)), height * rng.uniform(0.45, 0.62)],
        dtype=np.float64,
    )
    return Actor(
        body=body,
        colour=colour,
        parts=parts,
        size=size,
        centre=centre,
        amp=amp,
        omega=omega,
        phase=phase,
        spin=rng.uniform(-0.06, 0.06) * speed,
        wobble=(rng.uniform(0, 0.3), rng.uniform(0.1, 0.3) * speed, rng.uniform(0, 6.3)),
        squash=(rng.uniform(0.05, 0.2), rng.uniform(0.15, 0.45) * speed, rng.uniform(0, 6.3)),
        theta0=rng.uniform(0, 2 * math.pi),
    )
