"""Polygon, affine and colour helpers of the cartoon generator.

Points are N×2 float64 arrays of ``(x, y)``; on screen they are pixels with the OpenCV
convention (the centre of pixel ``(x, y)`` is at ``(x, y)``), in an object's own frame they
are local units (body radius ≈ 1). Affine maps are 3×3 float64 matrices acting on ``(x, y, 1)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Fractional bits of the fixed-point contours given to cv2's drawing functions: 4 bits
#: place polygon vertices to 1/16 pixel.
SHIFT = 4
_ONE = 1 << SHIFT


def to_fixed(points: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """N×2 float pixel coordinates, relative to ``origin`` → cv2 fixed-point contour
    (N×1×2 int32 with :data:`SHIFT` fractional bits)."""
    shifted = (np.asarray(points, dtype=np.float64) - np.asarray(origin)) * _ONE
    return np.rint(shifted).astype(np.int32).reshape(-1, 1, 2)


def hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    """HSV (each 0..1, hue wraps) → uint8 RGB tuple."""
    h = (h % 1.0) * 6.0
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (round(r * 255), round(g * 255), round(b * 255))


def circle(n: int = 72) -> np.ndarray:
    """Unit circle as an n-gon: n×2, first vertex at (1, 0)."""
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> np.ndarray:
    """Axis-aligned ellipse centred at ``(cx, cy)`` with radii ``rx``, ``ry``: n×2."""
    return circle(n) * (rx, ry) + (cx, cy)


def rotation(theta: float) -> np.ndarray:
    """2×2 rotation by ``theta`` radians."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def affine(centre: tuple[float, float], theta: float, sx: float, sy: float) -> np.ndarray:
    """3×3 matrix mapping local (u, v) to screen: ``centre + R(theta) · diag(sx, sy) · (u, v)``."""
    m = np.eye(3)
    m[:2, :2] = rotation(theta) @ np.diag([sx, sy])
    m[:2, 2] = centre
    return m


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Points ``pts`` (N×2) mapped by the 3×3 affine ``m``: N×2."""
    return pts @ m[:2, :2].T + m[:2, 2]


def inside(poly: np.ndarray, pts: np.ndarray, margin: float) -> bool:
    """True if every point lies inside ``poly`` at least ``margin`` away from its border."""
    contour = poly.astype(np.float32).reshape(-1, 1, 2)
    return all(
        cv2.pointPolygonTest(contour, (float(x), float(y)), True) >= margin for x, y in pts
    )


def apart(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    """True if polygons ``a`` and ``b`` (N×2) do not overlap and keep ``margin`` between their
    vertices and the other's border."""

    def outside(poly: np.ndarray, pts: np.ndarray) -> bool:
        contour = poly.astype(np.float32).reshape(-1, 1, 2)
        return all(
            cv2.pointPolygonTest(contour, (float(x), float(y)), True) <= -margin for x, y in pts
        )

    return outside(a, b) and outside(b, a)


# Random outlines, in local units (radius ≈ 1). Each draws from ``rng`` in a fixed order: the
# scenes' bit-exact reproducibility depends on it.


def blob(rng: np.random.Generator, n: int = 72) -> np.ndarray:
    """A wobbly circle (radius 1 plus three random harmonics): n×2."""
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 4):
        r += rng.uniform(0.03, 0.12) * np.sin(k * a + rng.uniform(0, 2 * math.pi))
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def star_polygon(rng: np.random.Generator) -> np.ndarray:
    """A convex-ish polygon of 3-6 vertices at radius 0.85-1.15: N×2."""
    n = int(rng.integers(3, 7))
    a = np.sort(rng.uniform(0, 2 * math.pi, n))
    # Spread the vertices so that no corner is a sliver.
    a = np.linspace(0, 2 * math.pi, n, endpoint=False) * 0.7 + a * 0.3 + rng.uniform(0, 6.3)
    r = rng.uniform(0.85, 1.15, n)
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def superellipse(rng: np.random.Generator, n: int = 72) -> np.ndarray:
    """A rounded box (superellipse of exponent 3-5, flattened in y by up to 30 %): n×2."""
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    p = rng.uniform(3.0, 5.0)
    c, s = np.cos(a), np.sin(a)
    x = np.sign(c) * np.abs(c) ** (2 / p)
    y = np.sign(s) * np.abs(s) ** (2 / p) * rng.uniform(0.7, 1.0)
    return np.stack([x, y], axis=1)
