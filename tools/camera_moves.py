"""Make triplets of camera moves (zoom, rotation, pan) over stills, for training the fusion.

The development set's camera-like motion is five synfig scenes, one motion each (a zooming
head, a spinning logo, ...). Cross-validated by scene, a fusion network that never saw a zoom
loses on the zooming head and the spinning logo (README, "Area cues in the fusion"). This
tool moves a virtual camera over other art so that training
sees many zooms and turns, without touching the scenes it is scored on.

Each still (``frame1`` of triplets of the given sets, one or more per scene) is viewed
through a camera whose log-scale, angle and offset go linearly in time; frames 1, 2 and 3 are
the views at t = 0, 0.5 and 1, resampled (Lanczos) from the still. The view is magnified at
least 1.25× and moves little, so it never leaves the still. Written in ATD-12K layout,
``OUT/camera/<scene>_<k>/frame{1,2,3}.png``.

Usage: ``python tools/camera_moves.py OUT --set dev=devset [--per-scene 1] [--each]
[--seed 0]``, then ``train_fusion.py ... --extra cam=OUT --extra-weight 0.3``. The kinds of
moving art (``moving_art``) are skipped, so that the cross-validation of the scenes scored stays
honest; ``--each`` counts every triplet as a scene of its own (for generated sets, whose
triplets are unrelated). Tried on 32 triplets (``--per-scene 4`` over the development set):
the cross-validated loss on moving art halves, the validation set does not move, so the
shipped weights are trained without them (README, "Tried and dropped: camera moves in the
fusion's training").
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from score_sets import kinds_of, set_spec

#: Per triplet (frame 1 to frame 3): the largest change of log-scale, of angle (degrees) and
#: of offset (pixels), about what the development set's synfig camera moves do per two frames.
MAX_LOG_ZOOM = 0.07
MAX_TURN = 6.0
MAX_PAN = 16.0
#: The view's least magnification of the still: with the moves above it never shows the
#: still's border at 16:9.
MIN_MAGNIFY = 1.25
SKIP_KINDS = ("moving_art",)


def camera(size: tuple[int, int], centre: tuple[float, float], log_zoom: float,
           angle: float, offset: tuple[float, float]) -> np.ndarray:
    """2×3 affine map from view pixels to still pixels: the view of ``size`` (w, h) looks at
    ``centre`` of the still, magnified ``exp(log_zoom)``, turned by ``angle`` degrees and
    shifted by ``offset`` still pixels."""
    w, h = size
    s = math.exp(-log_zoom)
    a = math.radians(angle)
    rot = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    shift = np.array(centre) + np.array(offset) - rot @ np.array([w / 2, h / 2])
    return np.hstack([rot, shift[:, None]])


def path(size: tuple[int, int], rng: np.random.Generator) -> list[np.ndarray]:
    """The camera maps (:func:`camera`) at t = 0, 0.5, 1 of one random move over a still of
    ``size`` (w, h): a zoom, a turn or both, with a small pan."""
    w, h = size
    kind = rng.choice(["zoom", "turn", "both"])
    dz = rng.uniform(0.02, MAX_LOG_ZOOM) * rng.choice([-1, 1]) if kind != "turn" else 0.0
    dt = rng.uniform(1.5, MAX_TURN) * rng.choice([-1, 1]) if kind != "zoom" else 0.0
    dp = rng.uniform(-MAX_PAN, MAX_PAN, 2)
    z0 = math.log(MIN_MAGNIFY) + rng.uniform(0.0, 0.25) + abs(dz)
    centre = (w / 2 + rng.uniform(-0.04, 0.04) * w, h / 2 + rng.uniform(-0.04, 0.04) * h)
    return [camera(size, centre, z0 + dz * (t - 0.5), dt * (t - 0.5), tuple(dp * (t - 0.5)))
            for t in (0.0, 0.5, 1.0)]


def views(still: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Frames at t = 0, 0.5, 1 of one random camera move over ``still`` (H×W×3 uint8)."""
    h, w = still.shape[:2]
    return [cv2.warpAffine(still, m, (w, h), flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REFLECT101) for m in path((w, h), rng)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--set", action="append", required=True, metavar="NAME=DIR",
                    type=set_spec)
    ap.add_argument("--per-scene", type=int, default=1, help="camera moves per scene")
    ap.add_argument("--each", action="store_true",
                    help="every triplet is a scene of its own (generated sets)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    root = args.out / "camera"
    count = 0
    for spec in args.set:
        set_name, folder = spec.split("=", 1)
        for kind, trips in kinds_of(Path(folder)).items():
            if kind in SKIP_KINDS:
                continue
            scenes: dict[str, list] = {}
            for tr in trips:
                scenes.setdefault(tr.name.rsplit("_", 1)[0], []).append(tr)
            if args.each:
                scenes = {tr.name: [tr] for tr in trips}
            for scene, members in sorted(scenes.items()):
                for k in range(args.per_scene):
                    tr = members[int(rng.integers(len(members)))]
                    still = cv2.imread(str(tr.frames[0]), cv2.IMREAD_COLOR)
                    name = f"{set_name}-{scene}_{k:04d}"
                    (root / name).mkdir(parents=True, exist_ok=True)
                    for i, img in enumerate(views(still, rng), 1):
                        cv2.imwrite(str(root / name / f"frame{i}.png"), img)
                    count += 1
    print(f"wrote {count} triplets to {root}", file=sys.stderr)


if __name__ == "__main__":
    main()
