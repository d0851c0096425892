"""Triplet sets in ATD-12K layout on disk: discovery, annotations and image loading.

A set is one folder per triplet, ``DIR/<name>/frame1.*``, ``frame2.*``, ``frame3.*`` (PNG,
JPEG, ...: :data:`IMAGE_EXTENSIONS`); frame2 is the truth to predict from frames 1 and 3.

Annotations (optional) are looked for, per triplet, at ``ANN/<name>/<name>.json`` and
``ANN/<name>.json`` when an annotation folder ``ANN`` is given, else at ``DIR/<name>.json``,
``DIR/<name>/<name>.json`` and, for the real data set, ``DIR/../test_2k_annotations/<name>/
<name>.json``. The fields used are those the authors' test script reads: ``motion_RoI``
(``{"x", "y", "width", "height"}``, pixels of ``image_size = [width, height]``, scaled to the
frames as the script scales them) and ``level`` (0/1/2 or ``"easy"``/``"medium"``/``"hard"``).

Problems the user can fix (no triplets, unreadable files) raise
:class:`vsanimeinterp.cli.common.CommandError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..cli.common import CommandError
from .annotation import level_name

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class TripletFiles:
    """One triplet of a set: its frame files and what its annotation says.

    Attributes:
        name: folder name.
        frames: paths of frame1, frame2 (the truth), frame3.
        annotation: the JSON file found for it, or None.
        roi: motion RoI ``(x, y, width, height)`` in the annotation's pixels, or None.
        image_size: ``(width, height)`` the RoI refers to (``image_size``), or None: the
            frames' own size.
        level: ``"easy"``, ``"medium"``, ``"hard"`` or None.
    """

    name: str
    frames: tuple[Path, Path, Path]
    annotation: Path | None = None
    roi: tuple[float, float, float, float] | None = None
    image_size: tuple[int, int] | None = None
    level: str | None = None

    def roi_pixels(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """The RoI on frames of ``width``×``height`` pixels, clipped to them; scaled from
        ``image_size`` as the authors' script does (``int(v // scale)``). None if there is no
        RoI or nothing of it is inside the frame."""
        if self.roi is None:
            return None
        iw, ih = self.image_size or (width, height)
        sx, sy = iw / width, ih / height
        x, y = int(self.roi[0] // sx), int(self.roi[1] // sy)
        w, h = int(self.roi[2] // sx), int(self.roi[3] // sy)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1 - x0, y1 - y0)


def _frame_file(folder: Path, stem: str) -> Path | None:
    for ext in IMAGE_EXTENSIONS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def _parse_annotation(path: Path, triplet: TripletFiles) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read annotation {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"annotation {path} is not a JSON object")
    triplet.annotation = path
    roi = data.get("motion_RoI")
    if roi is not None:
        try:
            triplet.roi = tuple(float(roi[k]) for k in ("x", "y", "width", "height"))  # type: ignore[assignment]
        except (KeyError, TypeError, ValueError):
            raise CommandError(
                f"annotation {path}: motion_RoI must have numbers x, y, width, height"
            ) from None
    size = data.get("image_size")
    if size is not None:
        try:
            triplet.image_size = (int(size[0]), int(size[1]))
        except (IndexError, TypeError, ValueError):
            raise CommandError(f"annotation {path}: image_size must be [width, height]") from None
    level = data.get("level")
    if level is not None:
        name = level_name(level)
        if name is None:
            raise CommandError(
                f"annotation {path}: level must be 0/1/2 or easy/medium/hard, got {level!r}"
            )
        triplet.level = name


def find_triplets(root: Path, annotations: Path | None = None) -> list[TripletFiles]:
    """The triplets under ``root`` (sorted by name) with their annotations (see the module
    docstring). Folders without all three frames are skipped. Raises :class:`CommandError`
    when ``root`` is not a directory or holds no triplet."""
    root = Path(root)
    if not root.is_dir():
        raise CommandError(f"{root} is not a directory")
    if annotations is not None and not Path(annotations).is_dir():
        raise CommandError(f"annotations folder {annotations} is not a directory")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = [_frame_file(folder, f"frame{k}") for k in (1, 2, 3)]
        if any(f is None for f in files):
            continue
        t = TripletFiles(folder.name, tuple(files))  # type: ignore[arg-type]
        name = folder.name
        if annotations is not None:
            places = [annotations / name / f"{name}.json", annotations / f"{name}.json"]
        else:
            places = [root / f"{name}.json", folder / f"{name}.json",
                      root.parent / "test_2k_annotations" / name / f"{name}.json"]
        for place in places:
            if place.is_file():
                _parse_annotation(place, t)
                break
        found.append(t)
    if not found:
        raise CommandError(
            f"no triplets in {root}: expected folders holding frame1, frame2 and frame3 images"
        )
    return found


def load_image(path: Path) -> np.ndarray:
    """An image file as H×W×3 float32 RGB in [0, 1] (8- or 16-bit; grey is repeated, alpha
    dropped)."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise CommandError(f"cannot read image {path}")
    scale = 65535.0 if img.dtype == np.uint16 else 255.0 if img.dtype == np.uint8 else 1.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return (img.astype(np.float32) / np.float32(scale)).clip(0, 1)
