"""One frame made ready for segment-guided matching: working resolution, 8-bit copies,
texture, colour pieces and their descriptors (done once per frame, shared by its two pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from ..metrics import to_uint8
from ..stages import NO_RECORDER, Recorder
from .matching import PieceDescriptors, describe
from .params import WORK_PIXELS
from .pieces import adjacency
from .segmentation import Segmentation, segment


@dataclass
class SGMFrame:
    """Per-frame work of the SGM engine at working resolution.

    Attributes:
        image: h×w×3 float32 RGB in [0, 1] at working resolution.
        gray: h×w uint8 luma (input of DIS; photometric errors run on it).
        texture: h×w float32 in [0, 1], luma gradient magnitude (saturating at 0.25 per
            pixel); weights flow samples and photometric errors towards detail.
        seg: colour-piece segmentation.
        desc: piece descriptors.
        orig_size: (H, W) of the input frame, pixels.
    """

    image: np.ndarray
    gray: np.ndarray
    texture: np.ndarray
    seg: Segmentation
    desc: PieceDescriptors
    orig_size: tuple[int, int]

    @property
    def work_size(self) -> tuple[int, int]:
        return self.image.shape[0], self.image.shape[1]

    @cached_property
    def touching(self) -> tuple[np.ndarray, np.ndarray]:
        """Pieces that touch and the length of their shared border:
        :func:`~.pieces.adjacency` of the segmentation, computed once for both pairs."""
        return adjacency(self.seg.labels, self.seg.n_pieces)


def work_size_for(height: int, width: int, max_pixels: int = WORK_PIXELS) -> tuple[int, int]:
    """Working (h, w) for an input of (height, width): scaled down keeping the aspect so the
    area is at most ``max_pixels``; smaller inputs keep their size."""
    area = height * width
    if area <= max_pixels:
        return height, width
    s = math.sqrt(max_pixels / area)
    return max(8, round(height * s)), max(8, round(width * s))


def prepare_frame(img: np.ndarray, max_pixels: int = WORK_PIXELS,
                  recorder: Recorder = NO_RECORDER) -> SGMFrame:
    """Resize, segment and describe one frame.

    Args:
        img: H×W×3 float32 RGB in [0, 1].
        max_pixels: working-resolution area limit (pixels); 960×540 by default.
        recorder: receives the stage ``"segmentation"`` (with the description).
    """
    with recorder.stage("segmentation"):
        return _prepare(img, max_pixels)


def _prepare(img: np.ndarray, max_pixels: int) -> SGMFrame:
    H, W = img.shape[:2]
    h, w = work_size_for(H, W, max_pixels)
    work = np.ascontiguousarray(img, np.float32)
    if (h, w) != (H, W):
        work = cv2.resize(work, (w, h), interpolation=cv2.INTER_AREA)
    work = np.clip(work, 0.0, 1.0)
    rgb8 = to_uint8(work)
    gray = cv2.cvtColor(rgb8, cv2.COLOR_RGB2GRAY)
    g = gray.astype(np.float32) / 255.0
    grad = np.sqrt(cv2.Sobel(g, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(g, cv2.CV_32F, 0, 1) ** 2)
    # Sobel sums 8 neighbour differences, so 1.0 here is a step of about 0.25 of full scale.
    texture = np.minimum(grad, 1.0)
    # The line finder works on the same 8-bit frame.
    seg = segment(rgb8)
    desc = describe(work, seg.labels, seg.n_pieces)
    return SGMFrame(work, gray, texture, seg, desc, (H, W))
