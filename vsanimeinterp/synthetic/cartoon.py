"""Procedural cartoon clips with exactly known motion, for the demo, the tests and measurements.

A :class:`CartoonScene` looks like an anime cel: flat colour pieces bounded by near-black,
anti-aliased ink lines (about 2-3 pixels at 540p, scaled with the resolution), in front of a
background made of a few flat regions (sky, hills, ground) and static props (clouds, houses,
trees). Character-like objects (ellipses, blobs, polygons, rounded boxes, with inner pieces
such as eyes with pupils or a belly patch) follow curved, accelerating paths with
displacements of up to about 10 % of the width per frame, and rotate and squash as they go.
The background may pan.

Every object is a set of polygons in its own local coordinates, placed on screen by an affine
map ``A_k(t)`` (translation · rotation · anisotropic scale). Rendering draws the polygons
mapped by ``A_k(t)`` in painter's order and records which object covers each pixel; the true
flow of a pixel that shows object ``k`` at ``t0`` is then ``A_k(t1) · A_k(t0)⁻¹ · p − p``.
The background moves as one rigid translation (the camera pan).

Time is measured in source frames: ``time = 1.0`` is one frame later (1/24 s at 24 fps).
Pixel coordinates follow OpenCV: the centre of pixel ``(x, y)`` (column, row) is at ``(x, y)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

#: Ink colour (uint8 RGB): near-black with a slight cool tint, as in anime line art.
INK = (22, 18, 28)

# cv2 drawing with 4 fractional bits gives 1/16-pixel placement of polygon vertices.
_SHIFT = 4
_ONE = 1 << _SHIFT


# ----------------------------------------------------------------------------------------------
# small helpers


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """Convert a float frame in 0..1 (any shape) to uint8 0..255, rounding and clipping."""
    return np.clip(np.rint(np.asarray(frame, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)


def _fix(points: np.ndarray, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """N×2 float pixel coordinates → cv2 fixed-point contour (N×1×2 int32, ``_SHIFT`` bits)."""
    shifted = (np.asarray(points, dtype=np.float64) - np.asarray(origin)) * _ONE
    return np.rint(shifted).astype(np.int32).reshape(-1, 1, 2)


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    """HSV (each 0..1, hue wraps) → uint8 RGB tuple."""
    h = (h % 1.0) * 6.0
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (round(r * 255), round(g * 255), round(b * 255))


def _circle(n: int = 72) -> np.ndarray:
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 48) -> np.ndarray:
    return _circle(n) * (rx, ry) + (cx, cy)


def _rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def _affine(centre: tuple[float, float], theta: float, sx: float, sy: float) -> np.ndarray:
    """3×3 matrix mapping local (u, v) to screen: ``centre + R(theta) · diag(sx, sy) · (u, v)``."""
    m = np.eye(3)
    m[:2, :2] = _rotation(theta) @ np.diag([sx, sy])
    m[:2, 2] = centre
    return m


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:2, :2].T + m[:2, 2]


def _inside(poly: np.ndarray, pts: np.ndarray, margin: float) -> bool:
    """True if every point lies inside ``poly`` at least ``margin`` away from its border."""
    contour = poly.astype(np.float32).reshape(-1, 1, 2)
    return all(
        cv2.pointPolygonTest(contour, (float(x), float(y)), True) >= margin for x, y in pts
    )


def _apart(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    """True if polygons ``a`` and ``b`` (N×2) do not overlap and keep ``margin`` between their
    vertices and the other's border."""

    def outside(poly: np.ndarray, pts: np.ndarray) -> bool:
        contour = poly.astype(np.float32).reshape(-1, 1, 2)
        return all(
            cv2.pointPolygonTest(contour, (float(x), float(y)), True) <= -margin for x, y in pts
        )

    return outside(a, b) and outside(b, a)


# ----------------------------------------------------------------------------------------------
# scene content


@dataclass
class _Part:
    """A flat colour piece of an object, in the object's local units (body radius ≈ 1)."""

    polygon: np.ndarray  # N×2 float64, local coordinates
    colour: tuple[int, int, int]  # uint8 RGB
    outline: bool  # inked border or a plain colour step


@dataclass
class _Actor:
    """A character-like object: body outline, inner pieces and its analytic motion."""

    body: np.ndarray  # N×2 local polygon
    colour: tuple[int, int, int]
    parts: list[_Part]
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
        return _affine((path[0], path[1]), theta, self.size * (1 + q), self.size / (1 + q))


@dataclass
class _Prop:
    """A static background item in world coordinates (pixels at pan 0)."""

    polygons: list[tuple[np.ndarray, tuple[int, int, int], bool]]  # (N×2, colour, outlined)
    x_min: float
    x_max: float
    far: bool = False  # drawn behind the nearest band (clouds behind the ground)


def _blob(rng: np.random.Generator, n: int = 72) -> np.ndarray:
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 4):
        r += rng.uniform(0.03, 0.12) * np.sin(k * a + rng.uniform(0, 2 * math.pi))
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _star_polygon(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(3, 7))
    a = np.sort(rng.uniform(0, 2 * math.pi, n))
    # Spread the vertices so that no corner is a sliver.
    a = np.linspace(0, 2 * math.pi, n, endpoint=False) * 0.7 + a * 0.3 + rng.uniform(0, 6.3)
    r = rng.uniform(0.85, 1.15, n)
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


def _superellipse(rng: np.random.Generator, n: int = 72) -> np.ndarray:
    a = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    p = rng.uniform(3.0, 5.0)
    c, s = np.cos(a), np.sin(a)
    x = np.sign(c) * np.abs(c) ** (2 / p)
    y = np.sign(s) * np.abs(s) ** (2 / p) * rng.uniform(0.7, 1.0)
    return np.stack([x, y], axis=1)


def _make_actor(
    rng: np.random.Generator, width: int, height: int, hue: float, speed: float, slot: float
) -> _Actor:
    """A random character whose path is centred at ``slot`` (0..1) across the width."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        body = _circle() * (1.0, rng.uniform(0.6, 0.95))
    elif kind == 1:
        body = _blob(rng)
    elif kind == 2:
        body = _star_polygon(rng)
    else:
        body = _superellipse(rng)
    colour = _hsv(hue + rng.uniform(-0.08, 0.08), rng.uniform(0.45, 0.8), rng.uniform(0.7, 0.95))
    parts: list[_Part] = []
    # Inner pieces are placed by rejection so that they sit inside the body (and apart from
    # each other) with a margin wide enough that inner outlines never merge.
    if rng.random() < 0.75:  # belly / shirt patch in the lower half
        patch_colour = _hsv(hue + 0.5 + rng.uniform(-0.1, 0.1), rng.uniform(0.3, 0.7), 0.9)
        for _ in range(20):
            offset = (rng.uniform(-0.15, 0.15), rng.uniform(0.2, 0.4))
            patch = body * rng.uniform(0.35, 0.5) + offset
            if _inside(body, patch, 0.12):
                parts.append(_Part(patch, patch_colour, True))
                break
    if rng.random() < 0.85:  # one or two eyes in the upper half, each with a pupil
        pupil_colour = _hsv(hue + 0.6, 0.7, 0.35)
        r = rng.uniform(0.15, 0.22)
        ry = r * rng.uniform(1.0, 1.4)
        for _ in range(20):
            ex, ey = rng.uniform(-0.3, 0.3), rng.uniform(-0.55, -0.2)
            gap = r * rng.uniform(1.2, 1.6) if rng.random() < 0.6 else 0.0
            centres = [(ex - gap, ey), (ex + gap, ey)] if gap else [(ex, ey)]
            eyes = [_ellipse(x, y, r, ry, 32) for x, y in centres]
            inside = all(_inside(body, e, 0.1) for e in eyes)
            if inside and all(_apart(e, p.polygon, 0.08) for e in eyes for p in parts):
                look = rng.uniform(-0.3, 0.3, 2) * r
                for (x, y), e in zip(centres, eyes, strict=True):
                    parts.append(_Part(e, (246, 246, 240), True))
                    pupil = _ellipse(x + look[0], y + look[1], r * 0.45, ry * 0.5, 24)
                    parts.append(_Part(pupil, pupil_colour, False))
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
    return _Actor(
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


class CartoonScene:
    """A procedural cartoon shot with analytic motion.

    Args:
        width, height: frame size in pixels.
        seed: seed of the ``numpy`` generator that draws layout, colours and motion; equal
            arguments give bit-identical frames.
        n_objects: number of moving characters (painted in order, later ones on top).
        pan: whether the camera pans (background translates, mostly horizontally, with a
            varying speed of up to about 3 % of the width per frame).
        speed: multiplier of all motion rates (1.0: fastest object up to ~10 % of the width per
            frame).
        hue: base hue (0..1) of the palette; drawn from ``seed`` when None.
        setting: ``"outdoor"`` (sky, hills, ground, clouds, houses, trees) or ``"indoor"``
            (wall, wainscot, inked floor line, windows, pictures, doors).
    """

    def __init__(
        self,
        width: int,
        height: int,
        seed: int,
        n_objects: int = 4,
        pan: bool = True,
        speed: float = 1.0,
        hue: float | None = None,
        setting: str = "outdoor",
    ) -> None:
        self.width = int(width)
        self.setting = setting
        self.height = int(height)
        self.seed = int(seed)
        rng = np.random.default_rng(seed)
        self.hue = float(rng.uniform(0, 1) if hue is None else hue)
        # Ink width scales with the frame diagonal: ~2.6 px at 960×540.
        k = math.sqrt(self.width * self.height / (960 * 540))
        self.line_width = max(1, round(2.6 * k))
        self.inner_line_width = max(1, round(2.0 * k))

        w, h = self.width, self.height
        # The background world repeats horizontally with this period so that any pan is covered.
        self.period = 3.0 * w
        if pan:
            self._pan = (
                w * rng.uniform(0.008, 0.02) * rng.choice([-1.0, 1.0]) * speed,
                w * rng.uniform(0.004, 0.01),
                rng.uniform(0.05, 0.15) * speed,
                rng.uniform(0, 2 * math.pi),
                h * rng.uniform(0.005, 0.02),
                rng.uniform(0.05, 0.2) * speed,
            )
        else:
            self._pan = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        self._build_background(rng)
        # Path centres are spread across the width so that characters cross and occlude each
        # other now and then rather than all the time.
        slots = (rng.permutation(n_objects) + 0.5) / max(n_objects, 1)
        self.actors = [
            _make_actor(rng, w, h, self.hue + 0.25 + rng.uniform(0, 0.5), speed, float(slot))
            for slot in slots
        ]
        self._cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        self._grid = (xs, ys)

    # ---- background ------------------------------------------------------------------------

    def _build_background(self, rng: np.random.Generator) -> None:
        self.inked_bands: tuple[int, ...] = ()
        if self.setting == "indoor":
            self._build_indoor(rng)
        elif self.setting == "outdoor":
            self._build_outdoor(rng)
        else:
            raise ValueError(f"setting must be 'outdoor' or 'indoor', not {self.setting!r}")

    def _build_indoor(self, rng: np.random.Generator) -> None:
        """A room: wall, wainscot and floor bands, windows, pictures and doors on the wall."""
        w, h, period = self.width, self.height, self.period
        hue = self.hue
        self.sky_colour = _hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.15, 0.35), 0.9)
        floor_y = h * rng.uniform(0.7, 0.78)
        self.bands = [
            ((h * rng.uniform(0.5, 0.6), []), _hsv(hue + 0.08, rng.uniform(0.3, 0.45), 0.75)),
            ((floor_y, []), _hsv(hue + 0.55, rng.uniform(0.3, 0.5), 0.55)),
        ]
        self.inked_bands = (1,)

        def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])

        props: list[_Prop] = []
        n_props = int(rng.integers(4, 8))
        slots = (np.arange(n_props) + rng.uniform(0.25, 0.75, n_props)) * period / n_props
        pane = _hsv(0.57 + rng.uniform(-0.03, 0.03), 0.35, 0.97)
        for x in slots:
            kind = rng.integers(0, 3)
            if kind == 0:  # window with four panes
                bw, bh = w * rng.uniform(0.09, 0.14), h * rng.uniform(0.18, 0.26)
                y0 = h * rng.uniform(0.1, 0.18)
                frame = _hsv(hue + 0.1, 0.2, 0.97)
                polys = [(rect(x - bw / 2, y0, x + bw / 2, y0 + bh), frame, True)]
                m = min(bw, bh) * 0.08
                for px0, px1 in ((x - bw / 2 + m, x - m / 2), (x + m / 2, x + bw / 2 - m)):
                    for py0, py1 in ((y0 + m, y0 + bh / 2 - m / 2), (y0 + bh / 2 + m / 2,
                                                                     y0 + bh - m)):
                        polys.append((rect(px0, py0, px1, py1), pane, True))
                props.append(_Prop(polys, x - bw, x + bw))
            elif kind == 1:  # framed picture with a blob motif
                bw, bh = w * rng.uniform(0.05, 0.09), h * rng.uniform(0.1, 0.16)
                y0 = h * rng.uniform(0.12, 0.25)
                m = min(bw, bh) * 0.12
                motif = _blob(rng, 48) * (bw * 0.22, bh * 0.22) + (x, y0 + bh / 2)
                props.append(_Prop([
                    (rect(x - bw / 2, y0, x + bw / 2, y0 + bh), _hsv(hue + 0.12, 0.6, 0.55), True),
                    (rect(x - bw / 2 + m, y0 + m, x + bw / 2 - m, y0 + bh - m),
                     _hsv(hue + 0.45, 0.25, 0.95), True),
                    (motif, _hsv(hue + rng.uniform(0.6, 0.9), 0.6, 0.8), False),
                ], x - bw, x + bw))
            else:  # door standing on the floor line
                bw, bh = w * rng.uniform(0.07, 0.1), h * rng.uniform(0.42, 0.5)
                r = bw * 0.07
                props.append(_Prop([
                    (rect(x - bw / 2, floor_y - bh, x + bw / 2, floor_y),
                     _hsv(hue + 0.05, 0.45, 0.6), True),
                    (_ellipse(x + bw * 0.3, floor_y - bh * 0.45, r, r, 16), (235, 200, 90), True),
                ], x - bw, x + bw))
        self.props = props

    def _build_outdoor(self, rng: np.random.Generator) -> None:
        """A landscape: sky with clouds, a hill band and a ground band with houses and trees."""
        w, h, period = self.width, self.height, self.period
        hue = self.hue
        self.sky_colour = _hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.25, 0.5), 0.95)

        def horizon(base: float, amp: float) -> tuple[float, list[tuple[float, int, float]]]:
            waves = [
                (amp * rng.uniform(0.3, 1.0), int(k), rng.uniform(0, 2 * math.pi))
                for k in rng.choice(np.arange(1, 7), 3, replace=False)
            ]
            return base, waves

        self.bands = [
            (horizon(h * rng.uniform(0.38, 0.5), h * 0.07),
             _hsv(hue + 0.3 + rng.uniform(-0.05, 0.05), rng.uniform(0.3, 0.5), 0.7)),
            (horizon(h * rng.uniform(0.62, 0.72), h * 0.03),
             _hsv(hue + 0.22 + rng.uniform(-0.05, 0.05), rng.uniform(0.4, 0.6), 0.6)),
        ]
        lw = self.line_width
        props: list[_Prop] = []
        for _ in range(int(rng.integers(2, 5))):  # clouds
            cx, cy = rng.uniform(0, period), h * rng.uniform(0.05, 0.3)
            rx = w * rng.uniform(0.05, 0.1)
            blob = _blob(rng, 60) * (rx, rx * rng.uniform(0.35, 0.55)) + (cx, cy)
            props.append(
                _Prop([(blob, (250, 250, 252), False)], cx - rx * 1.3, cx + rx * 1.3, far=True)
            )
        ground_base, ground_waves = self.bands[1][0]
        n_props = int(rng.integers(5, 9))
        # Evenly spaced (with jitter) over the repeating world so that every view shows some.
        slots = (np.arange(n_props) + rng.uniform(0.2, 0.8, n_props)) * period / n_props
        for x in slots:
            y = self._horizon_y(np.array([x]), ground_base, ground_waves, period)[0] + h * 0.04
            if rng.random() < 0.5:
                bw, bh = w * rng.uniform(0.06, 0.1), h * rng.uniform(0.12, 0.2)
                wall = np.array([[x - bw / 2, y], [x + bw / 2, y], [x + bw / 2, y - bh],
                                 [x - bw / 2, y - bh]])
                roof = np.array([[x - bw * 0.62, y - bh + lw], [x + bw * 0.62, y - bh + lw],
                                 [x, y - bh - bh * 0.55]])
                win = np.array([[x - bw * 0.2, y - bh * 0.45], [x + bw * 0.2, y - bh * 0.45],
                                [x + bw * 0.2, y - bh * 0.75], [x - bw * 0.2, y - bh * 0.75]])
                wall_c = _hsv(hue + rng.uniform(0.05, 0.15), 0.25, 0.9)
                props.append(_Prop([(wall, wall_c, True),
                                    (roof, _hsv(hue + 0.55, 0.55, 0.6), True),
                                    (win, _hsv(hue + 0.05, 0.5, 0.5), True)],
                                   x - bw, x + bw))
            else:
                tw, th = w * 0.012, h * rng.uniform(0.06, 0.1)
                trunk = np.array([[x - tw, y], [x + tw, y], [x + tw, y - th * 1.3],
                                  [x - tw, y - th * 1.3]])
                cr = h * rng.uniform(0.06, 0.1)
                crown = _blob(rng, 60) * (cr, cr * 1.2) + (x, y - th - cr)
                props.append(_Prop([(trunk, (120, 84, 60), True),
                                    (crown, _hsv(hue + 0.3, 0.6, 0.55), True)],
                                   x - cr * 1.5, x + cr * 1.5))
        self.props = props

    @staticmethod
    def _horizon_y(
        x_world: np.ndarray, base: float, waves: list[tuple[float, int, float]], period: float
    ) -> np.ndarray:
        # Whole numbers of waves per period keep the horizon seamless where the world repeats.
        y = np.full(x_world.shape, base, dtype=np.float64)
        for amp, k, ph in waves:
            y += amp * np.sin(2 * math.pi * k * x_world / period + ph)
        return y

    def pan_offset(self, time: float) -> tuple[float, float]:
        """Camera position (pixels, x and y) at ``time`` (frames); the background moves by minus
        this."""
        v, ax, wx, px, ay, wy = self._pan
        return (
            v * time + ax * math.sin(wx * time + px),
            ay * math.sin(wy * time + px * 0.7),
        )

    def _draw_background(self, img: np.ndarray, time: float) -> None:
        w, h, period = self.width, self.height, self.period
        pan_x, pan_y = self.pan_offset(time)
        img[:] = self.sky_colour
        step = 8.0
        # Polygon vertices sit on a fixed world grid, so the drawn horizon translates rigidly.
        k0 = math.floor((pan_x - 2 * step) / step)
        k1 = math.ceil((pan_x + w + 2 * step) / step)
        xw = np.arange(k0, k1 + 1) * step
        origin = (pan_x, pan_y)
        for i, ((base, waves), colour) in enumerate(self.bands):
            if i == 1:
                self._draw_props(img, pan_x, pan_y, far=True)
            y = self._horizon_y(xw, base, waves, period)
            pts = np.concatenate(
                [np.stack([xw, y], 1),
                 [[xw[-1], pan_y + h * 3], [xw[0], pan_y + h * 3]]]
            )
            cv2.fillPoly(img, [_fix(pts, origin)], colour, cv2.LINE_AA, _SHIFT)
            if i in self.inked_bands:
                edge = _fix(pts[: len(xw)], origin)
                cv2.polylines(img, [edge], False, INK, self.line_width, cv2.LINE_AA, _SHIFT)
        self._draw_props(img, pan_x, pan_y, far=False)

    def _draw_props(self, img: np.ndarray, pan_x: float, pan_y: float, far: bool) -> None:
        w = self.width
        for prop in self.props:
            if prop.far != far:
                continue
            for shift in (-self.period, 0.0, self.period):
                base = math.floor(pan_x / self.period) * self.period + shift
                if prop.x_max + base < pan_x or prop.x_min + base > pan_x + w:
                    continue
                origin = (pan_x - base, pan_y)
                for poly, colour, outlined in prop.polygons:
                    c = _fix(poly, origin)
                    cv2.fillPoly(img, [c], colour, cv2.LINE_AA, _SHIFT)
                    if outlined:
                        cv2.polylines(img, [c], True, INK, self.line_width, cv2.LINE_AA, _SHIFT)

    # ---- rendering -------------------------------------------------------------------------

    def matrices(self, time: float) -> list[np.ndarray]:
        """Screen placement of every layer at ``time``: index 0 is the background (a
        translation), index ``k ≥ 1`` is actor ``k-1``; each a 3×3 local → pixel matrix."""
        pan_x, pan_y = self.pan_offset(time)
        bg = np.eye(3)
        bg[:2, 2] = (-pan_x, -pan_y)
        return [bg] + [a.matrix(time) for a in self.actors]

    def _render(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        key = float(time)
        if key in self._cache:
            return self._cache[key]
        w, h = self.width, self.height
        img = np.empty((h, w, 3), dtype=np.uint8)
        self._draw_background(img, key)
        ids = np.zeros((h, w), dtype=np.int16)
        lw, lw_in = self.line_width, self.inner_line_width
        for k, actor in enumerate(self.actors, start=1):
            m = actor.matrix(key)
            body = _apply(m, actor.body)
            pad = lw + 2
            x0 = max(0, math.floor(body[:, 0].min() - pad))
            y0 = max(0, math.floor(body[:, 1].min() - pad))
            x1 = min(w, math.ceil(body[:, 0].max() + pad) + 1)
            y1 = min(h, math.ceil(body[:, 1].max() + pad) + 1)
            if x1 <= x0 or y1 <= y0:
                continue
            origin = (float(x0), float(y0))
            canvas = np.empty((y1 - y0, x1 - x0, 3), dtype=np.uint8)
            canvas[:] = INK
            alpha = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
            c = _fix(body, origin)
            cv2.fillPoly(canvas, [c], actor.colour, cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(alpha, [c], 255, cv2.LINE_AA, _SHIFT)
            cv2.polylines(alpha, [c], True, 255, lw, cv2.LINE_AA, _SHIFT)
            for part in actor.parts:
                pc = _fix(_apply(m, part.polygon), origin)
                cv2.fillPoly(canvas, [pc], part.colour, cv2.LINE_AA, _SHIFT)
                if part.outline:
                    cv2.polylines(canvas, [pc], True, INK, lw_in, cv2.LINE_AA, _SHIFT)
            cv2.polylines(canvas, [c], True, INK, lw, cv2.LINE_AA, _SHIFT)
            # Integer "over" compositing keeps renders bit-exact across platforms.
            a = alpha.astype(np.uint16)[..., None]
            dst = img[y0:y1, x0:x1]
            dst[:] = ((dst * (255 - a) + canvas * a + 127) // 255).astype(np.uint8)
            ids[y0:y1, x0:x1][alpha >= 128] = k
        frame = img.astype(np.float32) * np.float32(1 / 255)
        frame.setflags(write=False)
        ids.setflags(write=False)
        if len(self._cache) >= 4:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (frame, ids)
        return frame, ids

    def render(self, time: float) -> np.ndarray:
        """The frame at ``time`` (frames): H×W×3 float32 RGB in 0..1 (multiples of 1/255)."""
        return self._render(time)[0].copy()

    def layer_ids(self, time: float) -> np.ndarray:
        """H×W int16: which layer each pixel of the frame at ``time`` shows (0: background,
        ``k ≥ 1``: actor ``k-1``); a pixel belongs to an actor if its coverage (outline
        included) is at least one half."""
        return self._render(time)[1].copy()

    def flow(self, time0: float, time1: float) -> np.ndarray:
        """True motion from ``time0`` to ``time1``: H×W×2 float32, pixels, channel 0 = x,
        channel 1 = y. ``flow[y, x]`` is where the surface point seen at pixel ``(x, y)`` of the
        frame at ``time0`` is at ``time1``, minus ``(x, y)``; defined for every pixel, including
        points that are hidden or off-screen at ``time1`` (see :meth:`visible`)."""
        ids = self._render(time0)[1]
        m0, m1 = self.matrices(time0), self.matrices(time1)
        coef = np.array([(b @ np.linalg.inv(a))[:2].ravel() for a, b in zip(m0, m1, strict=True)])
        coef[:, 0] -= 1.0  # subtract the identity so the result is a displacement
        coef[:, 4] -= 1.0
        c = coef.astype(np.float32)[ids]
        xs, ys = self._grid
        out = np.empty((self.height, self.width, 2), dtype=np.float32)
        out[..., 0] = c[..., 0] * xs + c[..., 1] * ys + c[..., 2]
        out[..., 1] = c[..., 3] * xs + c[..., 4] * ys + c[..., 5]
        return out

    def visible(self, time0: float, time1: float) -> np.ndarray:
        """H×W bool: pixels of the frame at ``time0`` whose surface point is still on-screen and
        shown by the same layer at ``time1`` (False: occluded, disoccluded or left the frame)."""
        f = self.flow(time0, time1)
        xs, ys = self._grid
        tx = np.rint(xs + f[..., 0]).astype(np.int64)
        ty = np.rint(ys + f[..., 1]).astype(np.int64)
        inside = (tx >= 0) & (tx < self.width) & (ty >= 0) & (ty < self.height)
        ids0 = self._render(time0)[1]
        ids1 = self._render(time1)[1]
        same = np.zeros_like(inside)
        same[inside] = ids1[ty[inside], tx[inside]] == ids0[inside]
        return same


# ----------------------------------------------------------------------------------------------
# data sets


@dataclass
class Triplet:
    """Three frames with a known middle, like an ATD-12K triplet.

    Attributes:
        frame0, frame_mid, frame1: H×W×3 float32 RGB 0..1 at ``time0``, ``time0 + gap/2`` and
            ``time0 + gap``.
        flow01: H×W×2 float32 true flow (pixels) from frame0 to frame1.
        flow10: H×W×2 float32 true flow (pixels) from frame1 to frame0.
        scene: the scene that drew them (more flows, visibility masks).
        time0, gap: times in frames.
    """

    frame0: np.ndarray
    frame_mid: np.ndarray
    frame1: np.ndarray
    flow01: np.ndarray
    flow10: np.ndarray
    scene: CartoonScene
    time0: float
    gap: float


def make_triplets(
    count: int, width: int, height: int, seed: int, gap: float = 1.0
) -> list[Triplet]:
    """``count`` triplets from different scenes (2-6 actors, most with a pan, about a third
    indoors) and start times.

    ``gap`` is the time between frame0 and frame1 in frames; 1.0 is consecutive 24 fps frames,
    2.0 a pair of drawings on twos (twice the motion).
    """
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        scene = CartoonScene(
            width,
            height,
            int(rng.integers(0, 2**31)),
            n_objects=int(rng.integers(2, 7)),
            pan=bool(rng.random() < 0.7),
            setting="indoor" if rng.random() < 0.35 else "outdoor",
        )
        t0 = float(np.round(rng.uniform(0.0, 60.0), 3))
        t1 = t0 + gap
        out.append(
            Triplet(
                frame0=scene.render(t0),
                frame_mid=scene.render(t0 + gap / 2),
                frame1=scene.render(t1),
                flow01=scene.flow(t0, t1),
                flow10=scene.flow(t1, t0),
                scene=scene,
                time0=t0,
                gap=gap,
            )
        )
    return out


@dataclass
class Sequence:
    """A rendered clip.

    Attributes:
        frames: L×H×W×3 float32 RGB 0..1.
        times: L float64, the scene time (frames) each output frame was drawn at.
        scene_ids: L int, index into ``scenes`` of the shot each frame belongs to.
        held: L bool, True where frame i is a bit-identical repeat of frame i-1.
        scenes: the shots.
    """

    frames: np.ndarray
    times: np.ndarray
    scene_ids: np.ndarray
    held: np.ndarray
    scenes: list[CartoonScene] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def cuts(self) -> list[int]:
        """Indices i where frame i starts a new shot (frame i-1 belongs to another scene)."""
        return [i for i in range(1, len(self)) if self.scene_ids[i] != self.scene_ids[i - 1]]

    def true_flow(self, i: int, j: int) -> np.ndarray:
        """True flow (H×W×2 float32, pixels) from output frame i to output frame j; both must
        belong to the same shot."""
        if self.scene_ids[i] != self.scene_ids[j]:
            raise ValueError(f"frames {i} and {j} are in different shots")
        return self.scenes[self.scene_ids[i]].flow(self.times[i], self.times[j])


def make_sequence(
    width: int,
    height: int,
    length: int,
    seed: int,
    cut_at: int | None = None,
    holds: dict[int, int] | None = None,
    on: int = 1,
    n_objects: int = 4,
    pan: bool = True,
    speed: float = 1.0,
    setting: str = "outdoor",
) -> Sequence:
    """Render a clip of ``length`` frames.

    Timing semantics (time unit: one output frame):

    * ``on=n`` draws "on n's": a new drawing every n frames, each shown n times, and the scene
      clock keeps running at one per frame, so drawing d is rendered at scene time ``n·d``
      (motion between drawings is n times the per-frame motion, as in real limited animation).
    * ``holds={i: k}`` is a deliberate pause: the drawing shown at output frame i stays on
      screen for k frames in total (frames i .. i+k-1 are identical) and the scene clock stops
      meanwhile, so the action resumes where it paused. ``k=1`` changes nothing.
    * ``cut_at=c`` switches at frame c to a second, different shot (other seed, the other
      ``setting``, palette shifted by half the hue circle), whose clock starts again at 0 and
      which is drawn with the same ``on`` value. Holds are keyed by output frame index.

    ``n_objects``, ``pan``, ``speed`` and ``setting`` (of the first shot) are passed to
    :class:`CartoonScene`.

    Repeated frames are the same array values (bit-identical).
    """
    if on < 1:
        raise ValueError("on must be >= 1")
    rng = np.random.default_rng(seed)
    first = CartoonScene(
        width, height, int(rng.integers(0, 2**31)), n_objects, pan, speed, setting=setting
    )
    scenes = [first]
    if cut_at is not None and 0 < cut_at < length:
        scenes.append(
            CartoonScene(
                width, height, int(rng.integers(0, 2**31)), n_objects, pan, speed,
                hue=first.hue + 0.5,
                setting="indoor" if setting == "outdoor" else "outdoor",
            )
        )
    holds = holds or {}
    times = np.zeros(length)
    scene_ids = np.zeros(length, dtype=np.int64)
    held = np.zeros(length, dtype=bool)
    shot, clock, hold_left = 0, 0, 0
    for i in range(length):
        if len(scenes) == 2 and i == cut_at:
            shot, clock, hold_left = 1, 0, 0
        if hold_left > 0:
            hold_left -= 1
            times[i] = times[i - 1]
        else:
            times[i] = on * (clock // on)
            clock += 1
            hold_left = max(0, holds.get(i, 1) - 1)
        scene_ids[i] = shot
        held[i] = i > 0 and scene_ids[i - 1] == shot and times[i - 1] == times[i]
    frames = np.empty((length, height, width, 3), dtype=np.float32)
    for i in range(length):
        if held[i]:
            frames[i] = frames[i - 1]
        else:
            frames[i] = scenes[scene_ids[i]].render(times[i])
    return Sequence(frames, times, scene_ids, held, scenes)


def demo_sequence(width: int = 640, height: int = 360, length: int = 48, seed: int = 0) -> Sequence:
    """The README demo clip: large curved motion at 24 fps, a cut at the middle and one held
    frame (frames ``length//4`` and ``length//4 + 1`` are identical)."""
    return make_sequence(
        width, height, length, seed, cut_at=length // 2, holds={length // 4: 2}, n_objects=4
    )
