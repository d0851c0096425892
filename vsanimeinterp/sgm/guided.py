"""Guided flow: for each matched piece, the displacement of its bounding box plus DIS optical
flow between the two masked piece patches, all patches packed into one atlas so that DIS runs
once per direction; accepted when the piece, pushed along it, lands mostly inside its partner.
"""

from __future__ import annotations

import cv2
import numpy as np

from .frame import SGMFrame
from .params import ATLAS_GAP, DIS_MIN_SIDE, MIN_UNION_RATE


def make_dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow_create(preset)


def dis_flow(dis: cv2.DISOpticalFlow, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``dis.calc(a, b)`` for h×w uint8 images of any size: sides under
    :data:`DIS_MIN_SIDE` are replicate-padded at the bottom/right and the flow is cropped
    back, so that DIS never sees a size it crashes on."""
    h, w = a.shape[:2]
    pad_h, pad_w = max(0, DIS_MIN_SIDE - h), max(0, DIS_MIN_SIDE - w)
    if not (pad_h or pad_w):
        return dis.calc(a, b, None)
    a, b = (cv2.copyMakeBorder(x, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE) for x in (a, b))
    return np.ascontiguousarray(dis.calc(a, b, None)[:h, :w])


def _patch(gray: np.ndarray, sub: np.ndarray, box: np.ndarray, th: int, tw: int
           ) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Masked luma patch of a piece centred on a th×tw black canvas.

    ``sub`` is the piece mask inside its bounding ``box`` (x0, y0, x1, y1). Returns the
    canvas, the canvas mask and the canvas offset (oy, ox) of the box's top-left corner.
    """
    x0, y0, x1, y1 = (int(v) for v in box)
    g = np.where(sub, gray[y0:y1 + 1, x0:x1 + 1], 0)
    # A near-black piece on the black canvas would have no contrast at its outline.
    if g[sub].mean() < 20:
        g = np.where(sub, 0.8 * g + 40, 0)
    ph, pw = sub.shape
    oy, ox = (th - ph) // 2, (tw - pw) // 2
    canvas = np.zeros((th, tw), np.uint8)
    canvas[oy:oy + ph, ox:ox + pw] = g.astype(np.uint8)
    cmask = np.zeros((th, tw), bool)
    cmask[oy:oy + ph, ox:ox + pw] = sub
    return canvas, cmask, oy, ox


def guided_flow(
    fa: SGMFrame, fb: SGMFrame, pairs: np.ndarray, dis: cv2.DISOpticalFlow
) -> tuple[np.ndarray, np.ndarray]:
    """Guided flow of frame a's matched pieces towards frame b.

    Each matched pair becomes two masked patches, both pieces centred on a black canvas of
    the same size, so that only the residual motion inside the piece is left to estimate.
    All canvases are packed into one atlas per frame and DIS runs once on the atlases: its
    per-call cost dominates on small patches.

    Args:
        pairs: K×2 (piece of a, piece of b) to refine.

    Returns:
        ``(flow h×w×2 float32 pixels, ok n_a bool)``; the flow is meaningful on pieces
        with ``ok`` (refinement landed at least 80 % inside the partner piece).
    """
    h, w = fa.work_size
    flow = np.zeros((h, w, 2), np.float32)
    ok = np.zeros(fa.seg.n_pieces, bool)
    if pairs.size == 0:
        return flow, ok
    la, lb = fa.seg.labels, fb.seg.labels
    items = []
    for i, j in pairs:
        ba, bb = fa.desc.bbox[i], fb.desc.bbox[j]
        ha, wa = ba[3] - ba[1] + 1, ba[2] - ba[0] + 1
        hb, wb = bb[3] - bb[1] + 1, bb[2] - bb[0] + 1
        # DIS needs a margin wider than its 8-px patches around the content.
        th = int(max(ha, hb, 16) + 10)
        tw = int(max(wa, wb, 16) + 10)
        sub_a = la[ba[1]:ba[3] + 1, ba[0]:ba[2] + 1] == i
        sub_b = lb[bb[1]:bb[3] + 1, bb[0]:bb[2] + 1] == j
        items.append((i, ba, bb, th, tw, _patch(fa.gray, sub_a, ba, th, tw),
                      _patch(fb.gray, sub_b, bb, th, tw)))
    # Shelf packing, tallest first, rows as wide as the frame (or the widest patch).
    order = sorted(range(len(items)), key=lambda k: -items[k][3])
    atlas_w = max(w, max(it[4] for it in items)) + ATLAS_GAP
    places: dict[int, tuple[int, int]] = {}
    x = y = row_h = 0
    for k in order:
        th, tw = items[k][3], items[k][4]
        if x + tw + ATLAS_GAP > atlas_w:
            x, y, row_h = 0, y + row_h, 0
        places[k] = (y + ATLAS_GAP, x + ATLAS_GAP)
        x += tw + ATLAS_GAP
        row_h = max(row_h, th + ATLAS_GAP)
    atlas_h = y + row_h + ATLAS_GAP
    atlas_a = np.zeros((atlas_h, atlas_w), np.uint8)
    atlas_b = np.zeros((atlas_h, atlas_w), np.uint8)
    for k, (_, _, _, th, tw, (pa, _, _, _), (pb, _, _, _)) in enumerate(items):
        y0, x0 = places[k]
        atlas_a[y0:y0 + th, x0:x0 + tw] = pa
        atlas_b[y0:y0 + th, x0:x0 + tw] = pb
    atlas_flow = dis_flow(dis, atlas_a, atlas_b)
    for k, (i, ba, bb, th, tw, (_, ma, oya, oxa), (_, mb, oyb, oxb)) in enumerate(items):
        y0, x0 = places[k]
        pf = atlas_flow[y0:y0 + th, x0:x0 + tw]
        yy, xx = np.nonzero(ma)
        fx = pf[yy, xx, 0]
        fy = pf[yy, xx, 1]
        tx = np.rint(xx + fx).astype(np.int64)
        ty = np.rint(yy + fy).astype(np.int64)
        inside = (tx >= 0) & (tx < tw) & (ty >= 0) & (ty < th)
        hit = np.zeros(yy.size, bool)
        hit[inside] = mb[ty[inside], tx[inside]]
        if hit.mean() < MIN_UNION_RATE:
            continue
        # Canvas x of frame-a pixel x is x - x0a + oxa; frame-b x of canvas X is X - oxb + x0b.
        flow[yy - oya + ba[1], xx - oxa + ba[0], 0] = fx + (bb[0] - oxb) - (ba[0] - oxa)
        flow[yy - oya + ba[1], xx - oxa + ba[0], 1] = fy + (bb[1] - oyb) - (ba[1] - oya)
        ok[i] = True
    return flow, ok
