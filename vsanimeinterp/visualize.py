"""Pictures for people: flow fields, segmentations, piece matches and captioned contact sheets.

All functions return uint8 RGB images (H×W×3). Inputs may be float images in 0..1 or uint8
images, RGB or single-channel; float flows are H×W×2 displacements in pixels (channel 0 = x,
channel 1 = y).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .metrics import to_uint8

# Segment lengths of the Middlebury colour wheel (Baker et al., "A Database and Evaluation
# Methodology for Optical Flow"): red→yellow→green→cyan→blue→magenta→red, with more steps
# where the eye distinguishes hues better.
_WHEEL_SEGMENTS = (15, 6, 4, 11, 13, 6)


def _colour_wheel() -> np.ndarray:
    """The 55 wheel colours as a 55×3 float64 array in 0..1."""
    ry, yg, gc, cb, bm, mr = _WHEEL_SEGMENTS
    rows = []
    for n, start, end in (
        (ry, (1, 0, 0), (1, 1, 0)),
        (yg, (1, 1, 0), (0, 1, 0)),
        (gc, (0, 1, 0), (0, 1, 1)),
        (cb, (0, 1, 1), (0, 0, 1)),
        (bm, (0, 0, 1), (1, 0, 1)),
        (mr, (1, 0, 1), (1, 0, 0)),
    ):
        f = np.arange(n)[:, None] / n
        rows.append(np.asarray(start) * (1 - f) + np.asarray(end) * f)
    return np.concatenate(rows)


_WHEEL = _colour_wheel()


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """Any displayable array → uint8 RGB H×W×3.

    Float input is taken as 0..1 (clipped); H×W and H×W×1 are grey; H×W×2 is treated as a flow
    and coloured by :func:`flow_to_rgb`; uint8 RGB is returned unchanged (as a copy).
    """
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 2:
        return flow_to_rgb(a)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.dtype != np.uint8:
        if a.dtype == np.bool_:
            a = a.astype(np.float32)
        # float32 whatever the input precision, as these pictures have always been made.
        a = to_uint8(a.astype(np.float32))
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"cannot display an array of shape {image.shape}")
    return a.copy()


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-code a flow field with the Middlebury colour wheel.

    Hue gives the direction (right: red, down: yellow, left: sky blue, up: violet),
    saturation the length: zero motion is white, a vector of length ``max_magnitude`` pixels
    is the full wheel colour, longer vectors are drawn darker (×0.75). Non-finite vectors are
    black.

    Args:
        flow: H×W×2 displacements in pixels (channel 0 = x, channel 1 = y).
        max_magnitude: length in pixels shown fully saturated; by default the largest finite
            length in ``flow`` (so the picture is self-normalised).

    Returns:
        H×W×3 uint8 RGB.
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be H×W×2, got {flow.shape}")
    u, v = flow[..., 0], flow[..., 1]
    bad = ~(np.isfinite(u) & np.isfinite(v))
    u = np.where(bad, 0.0, u)
    v = np.where(bad, 0.0, v)
    mag = np.hypot(u, v)
    if max_magnitude is None:
        max_magnitude = float(mag.max()) if mag.size else 0.0
    rad = mag / max(float(max_magnitude), 1e-9)
    n = len(_WHEEL)
    # Angle measured so that a vector pointing right lands on the red end of the wheel.
    fk = (np.arctan2(-v, -u) / np.pi + 1.0) / 2.0 * (n - 1)
    k0 = np.floor(fk).astype(np.int64)
    k1 = (k0 + 1) % n
    f = (fk - k0)[..., None]
    col = (1 - f) * _WHEEL[k0] + f * _WHEEL[k1]
    r = rad[..., None]
    col = np.where(r <= 1.0, 1.0 - r * (1.0 - col), col * 0.75)
    col[bad] = 0.0
    return to_uint8(col)


def flow_wheel(size: int = 128) -> np.ndarray:
    """Legend for :func:`flow_to_rgb`: a size×size uint8 RGB disc whose rim shows the colour of
    a full-length vector pointing from the centre to that rim point; black outside."""
    c = (size - 1) / 2.0
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    flow = np.stack([xs - c, ys - c], axis=2)
    out = flow_to_rgb(flow, max_magnitude=c)
    out[np.hypot(xs - c, ys - c) > c] = 0
    return out


def _label_colours(ids: np.ndarray) -> np.ndarray:
    """Deterministic, well spread uint8 RGB colours (K×3) for integer labels ``ids`` (K,)."""
    # splitmix64 finaliser: neighbouring labels get unrelated colours.
    x = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    hue = (x & np.uint64(0xFFFF)).astype(np.float64) / 65536.0
    sat = 0.45 + 0.5 * ((x >> np.uint64(16)) & np.uint64(0xFF)).astype(np.float64) / 255.0
    val = 0.6 + 0.4 * ((x >> np.uint64(24)) & np.uint64(0xFF)).astype(np.float64) / 255.0
    h6 = hue * 6.0
    i = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = val * (1 - sat), val * (1 - sat * f), val * (1 - sat * (1 - f))
    table = np.stack(
        [
            np.stack([val, t, p], 1), np.stack([q, val, p], 1), np.stack([p, val, t], 1),
            np.stack([p, q, val], 1), np.stack([t, p, val], 1), np.stack([val, p, q], 1),
        ]
    )
    rgb = table[i, np.arange(len(ids))]
    return to_uint8(rgb)


def labels_to_rgb(labels: np.ndarray) -> np.ndarray:
    """Colour a label map: every label ``>= 0`` gets its own colour, negative labels
    (unassigned pixels or line art, e.g. ``-1``) are black.

    A label's colour depends only on its value, so the same label has the same colour in
    every picture. Label 0 is an ordinary piece (it is not black).

    Args:
        labels: H×W integer labels.

    Returns:
        H×W×3 uint8 RGB.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be H×W, got {labels.shape}")
    ids, inverse = np.unique(labels, return_inverse=True)
    palette = _label_colours(np.maximum(ids, 0).astype(np.int64))
    palette[ids < 0] = 0
    return palette[inverse.reshape(labels.shape)]


def _centroids(labels: np.ndarray) -> dict[int, tuple[float, float]]:
    """(x, y) pixel centroid of every label ``>= 0``."""
    flat = labels.ravel().astype(np.int64)
    keep = flat >= 0
    flat = flat[keep]
    if flat.size == 0:
        return {}
    ys, xs = np.divmod(np.flatnonzero(keep), labels.shape[1])
    count = np.bincount(flat)
    sx = np.bincount(flat, weights=xs)
    sy = np.bincount(flat, weights=ys)
    return {int(k): (sx[k] / count[k], sy[k] / count[k]) for k in np.flatnonzero(count)}


def draw_matches(
    img1: np.ndarray,
    img2: np.ndarray,
    labels1: np.ndarray,
    labels2: np.ndarray,
    matches: np.ndarray,
    gap: int = 8,
    tint: float = 0.35,
) -> np.ndarray:
    """Show two frames side by side with a line joining the centroids of matched pieces.

    Each frame is blended with its label colours (weight ``tint``, 0..1) so the pieces are
    visible; a matched pair is marked by dots at both centroids and a line in the colour of the
    piece of frame 1. Rows of ``matches`` with a negative entry or a label absent from its map
    are skipped.

    Args:
        img1, img2: H×W×3 frames (float 0..1 or uint8); heights may differ.
        labels1, labels2: their H×W integer piece labels (negative: unassigned).
        matches: K×2 integer pairs ``(label in frame 1, label in frame 2)``.
        gap: white space between the frames, pixels.

    Returns:
        uint8 RGB of height max(H1, H2) and width W1 + gap + W2.
    """
    a, b = to_rgb8(img1), to_rgb8(img2)
    if a.shape[:2] != np.shape(labels1) or b.shape[:2] != np.shape(labels2):
        raise ValueError("each label map must have the size of its frame")

    def tinted(img: np.ndarray, labels: np.ndarray) -> np.ndarray:
        mix = img.astype(np.float32) * (1 - tint) + labels_to_rgb(labels) * tint
        return np.rint(mix).astype(np.uint8)

    h = max(a.shape[0], b.shape[0])
    offset = a.shape[1] + gap
    canvas = np.full((h, offset + b.shape[1], 3), 255, dtype=np.uint8)
    canvas[: a.shape[0], : a.shape[1]] = tinted(a, labels1)
    canvas[: b.shape[0], offset:] = tinted(b, labels2)
    c1, c2 = _centroids(np.asarray(labels1)), _centroids(np.asarray(labels2))
    pairs = np.asarray(matches, dtype=np.int64).reshape(-1, 2)
    colours = _label_colours(np.maximum(pairs[:, 0], 0)) if len(pairs) else []
    radius = max(2, round(h / 180))
    for (l1, l2), colour in zip(pairs, colours, strict=True):
        if l1 < 0 or l2 < 0 or int(l1) not in c1 or int(l2) not in c2:
            continue
        x1, y1 = c1[int(l1)]
        x2, y2 = c2[int(l2)]
        p1 = (round(x1), round(y1))
        p2 = (round(x2) + offset, round(y2))
        col = tuple(int(c) for c in colour)
        # A dark underlay keeps light-coloured lines readable over light pieces.
        cv2.line(canvas, p1, p2, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.line(canvas, p1, p2, col, 1, cv2.LINE_AA)
        for p in (p1, p2):
            cv2.circle(canvas, p, radius + 1, (0, 0, 0), -1, cv2.LINE_AA)
            cv2.circle(canvas, p, radius, col, -1, cv2.LINE_AA)
    return canvas


def side_by_side(
    images: Sequence[np.ndarray],
    labels: Sequence[str] | None = None,
    gap: int = 4,
    columns: int | None = None,
) -> np.ndarray:
    """Lay images out in a row (or a grid of ``columns``) with a caption above each.

    Args:
        images: arrays accepted by :func:`to_rgb8` (float 0..1 or uint8 frames, grey maps,
            H×W×2 flows); sizes may differ, smaller ones are padded with white.
        labels: one caption per image, or None for no caption bar.
        gap: white space between tiles, pixels.
        columns: tiles per row; all in one row when None.

    Returns:
        uint8 RGB contact sheet.
    """
    if not images:
        raise ValueError("no images")
    if labels is not None and len(labels) != len(images):
        raise ValueError("need one label per image")
    tiles = [to_rgb8(im) for im in images]
    tile_h = max(t.shape[0] for t in tiles)
    tile_w = max(t.shape[1] for t in tiles)
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, tile_h / 720), 1
    bar = 0
    if labels is not None:
        (_, text_h), base = cv2.getTextSize("Ag", font, scale, thick)
        bar = text_h + base + 8
    cols = len(tiles) if columns is None else max(1, columns)
    rows = -(-len(tiles) // cols)
    cell_h, cell_w = tile_h + bar, tile_w
    sheet = np.full(
        (rows * cell_h + (rows - 1) * gap, cols * cell_w + (cols - 1) * gap, 3), 255, np.uint8
    )
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        y, x = r * (cell_h + gap), c * (cell_w + gap)
        sheet[y + bar : y + bar + tile.shape[0], x : x + tile.shape[1]] = tile
        if labels is not None:
            (_, text_h), _ = cv2.getTextSize(labels[i], font, scale, thick)
            cv2.putText(
                sheet, labels[i], (x + 4, y + 4 + text_h), font, scale, (0, 0, 0), thick,
                cv2.LINE_AA,
            )
    return sheet


def save_png(path: str | Path, image: np.ndarray) -> Path:
    """Write an image (anything :func:`to_rgb8` accepts) as an RGB PNG, creating parent
    folders. Returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = to_rgb8(image)
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path
