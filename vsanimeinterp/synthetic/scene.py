"""A procedural cartoon shot: background layout, characters, rendering and the true flow.

See :mod:`vsanimeinterp.synthetic` for what a scene looks like and how its motion is defined.
Time is measured in source frames (``time = 1.0`` is one frame later); pixel coordinates
follow OpenCV (the centre of pixel ``(x, y)``, column and row, is at ``(x, y)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .actors import make_actor
from .geometry import SHIFT, apply_affine, blob, ellipse, hsv, to_fixed

#: Ink colour (uint8 RGB): near-black with a slight cool tint, as in anime line art.
INK = (22, 18, 28)


@dataclass
class Prop:
    """A static background item in world coordinates (pixels at pan 0)."""

    polygons: list[tuple[np.ndarray, tuple[int, int, int], bool]]  # (N×2, colour, outlined)
    x_min: float
    x_max: float
    far: bool = False  # drawn behind the nearest band (clouds behind the ground)


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
            make_actor(rng, w, h, self.hue + 0.25 + rng.uniform(0, 0.5), speed, float(slot))
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
        self.sky_colour = hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.15, 0.35), 0.9)
        floor_y = h * rng.uniform(0.7, 0.78)
        self.bands = [
            ((h * rng.uniform(0.5, 0.6), []), hsv(hue + 0.08, rng.uniform(0.3, 0.45), 0.75)),
            ((floor_y, []), hsv(hue + 0.55, rng.uniform(0.3, 0.5), 0.55)),
        ]
        self.inked_bands = (1,)

        def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
            return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])

        props: list[Prop] = []
        n_props = int(rng.integers(4, 8))
        slots = (np.arange(n_props) + rng.uniform(0.25, 0.75, n_props)) * period / n_props
        pane = hsv(0.57 + rng.uniform(-0.03, 0.03), 0.35, 0.97)
        for x in slots:
            kind = rng.integers(0, 3)
            if kind == 0:  # window with four panes
                bw, bh = w * rng.uniform(0.09, 0.14), h * rng.uniform(0.18, 0.26)
                y0 = h * rng.uniform(0.1, 0.18)
                frame = hsv(hue + 0.1, 0.2, 0.97)
                polys = [(rect(x - bw / 2, y0, x + bw / 2, y0 + bh), frame, True)]
                m = min(bw, bh) * 0.08
                for px0, px1 in ((x - bw / 2 + m, x - m / 2), (x + m / 2, x + bw / 2 - m)):
                    for py0, py1 in ((y0 + m, y0 + bh / 2 - m / 2), (y0 + bh / 2 + m / 2,
                                                                     y0 + bh - m)):
                        polys.append((rect(px0, py0, px1, py1), pane, True))
                props.append(Prop(polys, x - bw, x + bw))
            elif kind == 1:  # framed picture with a blob motif
                bw, bh = w * rng.uniform(0.05, 0.09), h * rng.uniform(0.1, 0.16)
                y0 = h * rng.uniform(0.12, 0.25)
                m = min(bw, bh) * 0.12
                motif = blob(rng, 48) * (bw * 0.22, bh * 0.22) + (x, y0 + bh / 2)
                props.append(Prop([
                    (rect(x - bw / 2, y0, x + bw / 2, y0 + bh), hsv(hue + 0.12, 0.6, 0.55), True),
                    (rect(x - bw / 2 + m, y0 + m, x + bw / 2 - m, y0 + bh - m),
                     hsv(hue + 0.45, 0.25, 0.95), True),
                    (motif, hsv(hue + rng.uniform(0.6, 0.9), 0.6, 0.8), False),
                ], x - bw, x + bw))
            else:  # door standing on the floor line
                bw, bh = w * rng.uniform(0.07, 0.1), h * rng.uniform(0.42, 0.5)
                r = bw * 0.07
                props.append(Prop([
                    (rect(x - bw / 2, floor_y - bh, x + bw / 2, floor_y),
                     hsv(hue + 0.05, 0.45, 0.6), True),
                    (ellipse(x + bw * 0.3, floor_y - bh * 0.45, r, r, 16), (235, 200, 90), True),
                ], x - bw, x + bw))
        self.props = props

    def _build_outdoor(self, rng: np.random.Generator) -> None:
        """A landscape: sky with clouds, a hill band and a ground band with houses and trees."""
        w, h, period = self.width, self.height, self.period
        hue = self.hue
        self.sky_colour = hsv(hue + rng.uniform(-0.05, 0.05), rng.uniform(0.25, 0.5), 0.95)

        def horizon(base: float, amp: float) -> tuple[float, list[tuple[float, int, float]]]:
            waves = [
                (amp * rng.uniform(0.3, 1.0), int(k), rng.uniform(0, 2 * math.pi))
                for k in rng.choice(np.arange(1, 7), 3, replace=False)
            ]
            return base, waves

        self.bands = [
            (horizon(h * rng.uniform(0.38, 0.5), h * 0.07),
             hsv(hue + 0.3 + rng.uniform(-0.05, 0.05), rng.uniform(0.3, 0.5), 0.7)),
            (horizon(h * rng.uniform(0.62, 0.72), h * 0.03),
             hsv(hue + 0.22 + rng.uniform(-0.05, 0.05), rng.uniform(0.4, 0.6), 0.6)),
        ]
        lw = self.line_width
        props: list[Prop] = []
        for _ in range(int(rng.integers(2, 5))):  # clouds
            cx, cy = rng.uniform(0, period), h * rng.uniform(0.05, 0.3)
            rx = w * rng.uniform(0.05, 0.1)
            cloud = blob(rng, 60) * (rx, rx * rng.uniform(0.35, 0.55)) + (cx, cy)
            props.append(
                Prop([(cloud, (250, 250, 252), False)], cx - rx * 1.3, cx + rx * 1.3, far=True)
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
                wall_c = hsv(hue + rng.uniform(0.05, 0.15), 0.25, 0.9)
                props.append(Prop([(wall, wall_c, True),
                                    (roof, hsv(hue + 0.55, 0.55, 0.6), True),
                                    (win, hsv(hue + 0.05, 0.5, 0.5), True)],
                                   x - bw, x + bw))
            else:
                tw, th = w * 0.012, h * rng.uniform(0.06, 0.1)
                trunk = np.array([[x - tw, y], [x + tw, y], [x + tw, y - th * 1.3],
                                  [x - tw, y - th * 1.3]])
                cr = h * rng.uniform(0.06, 0.1)
                crown = blob(rng, 60) * (cr, cr * 1.2) + (x, y - th - cr)
                props.append(Prop([(trunk, (120, 84, 60), True),
                                    (crown, hsv(hue + 0.3, 0.6, 0.55), True)],
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
            cv2.fillPoly(img, [to_fixed(pts, origin)], colour, cv2.LINE_AA, SHIFT)
            if i in self.inked_bands:
                edge = to_fixed(pts[: len(xw)], origin)
                cv2.polylines(img, [edge], False, INK, self.line_width, cv2.LINE_AA, SHIFT)
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
                    c = to_fixed(poly, origin)
                    cv2.fillPoly(img, [c], colour, cv2.LINE_AA, SHIFT)
                    if outlined:
                        cv2.polylines(img, [c], True, INK, self.line_width, cv2.LINE_AA, SHIFT)

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
            body = apply_affine(m, actor.body)
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
            c = to_fixed(body, origin)
            cv2.fillPoly(canvas, [c], actor.colour, cv2.LINE_AA, SHIFT)
            cv2.fillPoly(alpha, [c], 255, cv2.LINE_AA, SHIFT)
            cv2.polylines(alpha, [c], True, 255, lw, cv2.LINE_AA, SHIFT)
            for part in actor.parts:
                pc = to_fixed(apply_affine(m, part.polygon), origin)
                cv2.fillPoly(canvas, [pc], part.colour, cv2.LINE_AA, SHIFT)
                if part.outline:
                    cv2.polylines(canvas, [pc], True, INK, lw_in, cv2.LINE_AA, SHIFT)
            cv2.polylines(canvas, [c], True, INK, lw, cv2.LINE_AA, SHIFT)
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
