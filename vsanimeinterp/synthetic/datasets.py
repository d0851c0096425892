"""Data sets drawn from :class:`~vsanimeinterp.synthetic.scene.CartoonScene`: triplets with a
known middle frame (like ATD-12K's), and clips with limited-animation timing, holds and cuts.

All frames are H×W×3 float32 RGB in 0..1 (multiples of 1/255); flows are H×W×2 float32
displacements in pixels (channel 0 = x); times are in source frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .scene import CartoonScene


@dataclass
class CartoonTriplet:
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
) -> list[CartoonTriplet]:
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
            CartoonTriplet(
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
class CartoonClip:
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
) -> CartoonClip:
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
    return CartoonClip(frames, times, scene_ids, held, scenes)


def demo_sequence(
    width: int = 640, height: int = 360, length: int = 48, seed: int = 0
) -> CartoonClip:
    """The README demo clip: large curved motion at 24 fps, a cut at the middle and one held
    frame (frames ``length//4`` and ``length//4 + 1`` are identical)."""
    return make_sequence(
        width, height, length, seed, cut_at=length // 2, holds={length // 4: 2}, n_objects=4
    )
