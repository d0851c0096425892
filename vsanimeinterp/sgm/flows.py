"""Segment-guided matching (SGM): weight-free bidirectional flow for cartoon frames.

Pipeline (AnimeInterp §3.1, made standalone):

1. Each frame is brought to a working resolution (about 960×540 like the paper), segmented
   into colour pieces and described (:func:`prepare_frame`; done once per frame, shared by
   the two frame pairs it belongs to).
2. A dense DIS optical flow in both directions provides a fallback for every pixel and a
   position prior for matching (where each piece is expected to land).
3. Pieces are matched mutually (:mod:`vsanimeinterp.sgm.matching`). For a matched pair that
   passes the reference's sanity checks (area between 50 px and 12 % of the frame, area
   ratio below 3, jump below 250 px at 960×540), the flow of the piece is the displacement of
   the bounding-box centres plus a DIS flow computed between the two masked piece patches;
   it is accepted when the piece, pushed along it, lands at least 80 % inside its partner.
4. Per piece, the guided flow and the dense flow compete on photometric error (mean
   absolute difference after backward warping), so a bad match cannot ruin a piece the
   dense flow already gets right, and vice versa.
5. Flows are brought back to the input size and scaled to its pixel units.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from .matching import PieceDescriptors, affinity, describe, mutual_match
from .segmentation import Segmentation, segment

WORK_PIXELS = 960 * 540  # default working area, as in the paper
MIN_PIECE_AREA = 50  # reference: smaller pieces are not trusted for guided flow
MAX_PIECE_FRACTION = 0.12  # reference: larger pieces (backgrounds) keep the dense flow
MAX_AREA_RATIO = 3.0
MAX_JUMP_960 = 250.0  # reference's jump limit in pixels at 960×540
MIN_UNION_RATE = 0.8
DENSE_PRESET = cv2.DISOPTICAL_FLOW_PRESET_FAST
PATCH_PRESET = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST
#: OpenCV's DIS (5.0, as installed) refuses small images (11×11, 4×3000: "incorrect size of
#: input array"), and on images under 32 pixels tall that are wide enough it fails or
#: crashes the process, depending on the aspect ratio (64×12: segmentation fault; 1000×16,
#: 3000×31: a resize assertion). Every size tried with 32 or more per side works (32×32 up
#: to 40000×32 and 32×40000), so smaller images are padded to this.
DIS_MIN_SIDE = 32
REFINE_STEPS = (4,)


@dataclass
class SGMFrame:
    """Per-frame work of the SGM engine at working resolution.

    Attributes:
        image: h×w×3 float32 RGB in [0, 1] at working resolution.
        image8: the same in uint8 (photometric errors run on it: half the memory traffic).
        gray: h×w uint8 luma (input of DIS).
        texture: h×w float32 in [0, 1], luma gradient magnitude (saturating at 0.25 per
            pixel); weights flow samples and photometric errors towards detail.
        seg: colour-piece segmentation.
        desc: piece descriptors.
        orig_size: (H, W) of the input frame, pixels.
    """

    image: np.ndarray
    image8: np.ndarray
    gray: np.ndarray
    texture: np.ndarray
    seg: Segmentation
    desc: PieceDescriptors
    orig_size: tuple[int, int]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def work_size(self) -> tuple[int, int]:
        return self.image.shape[0], self.image.shape[1]


def working_size(height: int, width: int, max_pixels: int = WORK_PIXELS) -> tuple[int, int]:
    """Working (h, w) for an input of (height, width): scaled down keeping the aspect so the
    area is at most ``max_pixels``; smaller inputs keep their size."""
    area = height * width
    if area <= max_pixels:
        return height, width
    s = math.sqrt(max_pixels / area)
    return max(8, round(height * s)), max(8, round(width * s))


def prepare_frame(img: np.ndarray, max_pixels: int = WORK_PIXELS) -> SGMFrame:
    """Resize, segment and describe one frame.

    Args:
        img: H×W×3 float32 RGB in [0, 1].
        max_pixels: working-resolution area limit (pixels); 960×540 by default.
    """
    t0 = time.perf_counter()
    H, W = img.shape[:2]
    h, w = working_size(H, W, max_pixels)
    work = np.ascontiguousarray(img, np.float32)
    if (h, w) != (H, W):
        work = cv2.resize(work, (w, h), interpolation=cv2.INTER_AREA)
    work = np.clip(work, 0.0, 1.0)
    work8 = (work * 255.0 + 0.5).astype(np.uint8)
    gray = cv2.cvtColor(work8, cv2.COLOR_RGB2GRAY)
    g = gray.astype(np.float32) / 255.0
    grad = np.sqrt(cv2.Sobel(g, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(g, cv2.CV_32F, 0, 1) ** 2)
    # Sobel sums 8 neighbour differences, so 1.0 here is a step of about 0.25 of full scale.
    texture = np.minimum(grad, 1.0)
    seg = segment(work)
    t1 = time.perf_counter()
    desc = describe(work, seg.labels, seg.n_pieces)
    t2 = time.perf_counter()
    times = {"segmentation": t1 - t0, "describe": t2 - t1}
    return SGMFrame(work, work8, gray, texture, seg, desc, (H, W), times)


def _dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> cv2.DISOpticalFlow:
    return cv2.DISOpticalFlow_create(preset)


def _dis_flow(dis: cv2.DISOpticalFlow, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``dis.calc(a, b)`` for h×w uint8 images of any size: sides under
    :data:`DIS_MIN_SIDE` are replicate-padded at the bottom/right and the flow is cropped
    back, so that DIS never sees a size it crashes on."""
    h, w = a.shape[:2]
    pad_h, pad_w = max(0, DIS_MIN_SIDE - h), max(0, DIS_MIN_SIDE - w)
    if not (pad_h or pad_w):
        return dis.calc(a, b, None)
    a, b = (cv2.copyMakeBorder(x, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE) for x in (a, b))
    return np.ascontiguousarray(dis.calc(a, b, None)[:h, :w])


def _piece_mean(values: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Mean of h×w×C ``values`` over each piece: n×C."""
    flat = labels.ravel()
    cnt = np.maximum(np.bincount(flat, minlength=n), 1)
    v = values.reshape(flat.size, -1)
    return np.stack([np.bincount(flat, v[:, c], n) for c in range(v.shape[1])], 1) / cnt[:, None]


_GRIDS: dict[tuple[int, int], np.ndarray] = {}


def _grid(h: int, w: int) -> np.ndarray:
    """h×w×2 float32 pixel coordinates (x, y), cached per size (it is read, never written)."""
    g = _GRIDS.get((h, w))
    if g is None:
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        g = _GRIDS.setdefault((h, w), np.dstack([gx, gy]))
    return g


def _backwarp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    coords = cv2.add(np.ascontiguousarray(flow, np.float32), _grid(h, w))
    return cv2.remap(img, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


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


ATLAS_GAP = 16  # black pixels between patches in the atlas, beyond each patch's own margin


def _guided_flow(
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
    atlas_flow = _dis_flow(dis, atlas_a, atlas_b)
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


def _select_pairs(fa: SGMFrame, fb: SGMFrame, pairs: np.ndarray) -> np.ndarray:
    """Keep the pairs passing the reference's plausibility checks (see module docstring)."""
    if pairs.size == 0:
        return pairs
    i, j = pairs[:, 0], pairs[:, 1]
    ar_a, ar_b = fa.desc.area[i], fb.desc.area[j]
    h, w = fa.work_size
    jump = np.linalg.norm(fb.desc.centroid[j] - fa.desc.centroid[i], axis=1)
    max_jump = MAX_JUMP_960 * math.hypot(h, w) / math.hypot(960, 540)
    ok = (
        (ar_a > MIN_PIECE_AREA)
        & (ar_a < MAX_PIECE_FRACTION * h * w)
        & (np.maximum(ar_a / ar_b, ar_b / ar_a) < MAX_AREA_RATIO)
        & (jump <= max_jump)
    )
    return pairs[ok]


_ONES3 = np.ones((1, 3), np.float32)


def _abs_error(a: np.ndarray, b: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per-pixel absolute RGB difference between a and b warped back (h×w): the sum over
    channels (0..3) for float32 images, the rounded mean (0..255) for uint8 ones."""
    # cv2 keeps this at a few ms; numpy's channel reduction is several times slower.
    d = cv2.absdiff(a, _backwarp(b, flow))
    if d.dtype == np.uint8:
        # The 8-bit path (mean of the channels, 0..255) is the fast one the engine uses.
        return cv2.transform(d, _ONES3 / 3)
    return cv2.transform(d, _ONES3)


def _local_error(a: np.ndarray, b: np.ndarray, flow: np.ndarray, radius: int) -> np.ndarray:
    """Box-averaged :func:`_abs_error` over a ``2·radius+1`` window (h×w)."""
    k = 2 * radius + 1
    return cv2.blur(_abs_error(a, b, flow), (k, k), borderType=cv2.BORDER_REFLECT)


AFFINE_NORM = 100.0  # pixels per unit of the centred coordinates in the affine fits
AFFINE_DAMP = 0.01  # ridge on the linear terms: small or thin pieces fall back to translation
DENSE_HANDICAP = 1.15  # factor on the dense candidate's error in the per-piece choice


def fit_piece_affine(
    labels: np.ndarray, n: int, centroid: np.ndarray, flow: np.ndarray, weight: np.ndarray,
    iterations: int = 3, sigma: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust weighted affine motion of every piece, all pieces solved at once.

    The flat interior of a cel piece says nothing about its motion; its outline does. Fitting
    ``flow ≈ A·[x', y', 1]`` per piece to the reliable samples (``weight``) and evaluating it
    everywhere gives interiors the motion of their outline. Cauchy reweighting (scale
    ``sigma`` pixels) suppresses samples that belong to a neighbour's motion.

    Args:
        labels: h×w int32 pieces; centroid: n×2 piece centroids (pixels).
        flow: h×w×2 samples (pixels); weight: h×w float ≥ 0.

    Returns:
        ``(params n×2×3, support n)``: affine rows for u and v in centred coordinates
        ``x' = (x - cx) / AFFINE_NORM``; support is the total weight behind each fit.
    """
    w = labels.shape[1]
    sel = np.flatnonzero(weight.ravel() > 0)
    params = np.zeros((n, 2, 3))
    if sel.size == 0:
        return params, np.zeros(n)
    lab = labels.ravel()[sel]
    ys, xs = np.divmod(sel, w)
    x = (xs - centroid[lab, 0]) / AFFINE_NORM
    y = (ys - centroid[lab, 1]) / AFFINE_NORM
    u = flow[..., 0].ravel()[sel].astype(np.float64)
    v = flow[..., 1].ravel()[sel].astype(np.float64)
    w0 = weight.ravel()[sel].astype(np.float64)
    wk = w0
    support = np.zeros(n)
    for _ in range(iterations):
        sums = [np.bincount(lab, wk * t, n) for t in (x * x, x * y, y * y, x, y, np.ones_like(x))]
        sxx, sxy, syy, sx, sy, s1 = sums
        m = np.empty((n, 3, 3))
        m[:, 0, 0] = sxx + AFFINE_DAMP * s1
        m[:, 0, 1] = m[:, 1, 0] = sxy
        m[:, 1, 1] = syy + AFFINE_DAMP * s1
        m[:, 0, 2] = m[:, 2, 0] = sx
        m[:, 1, 2] = m[:, 2, 1] = sy
        m[:, 2, 2] = s1
        m += np.eye(3) * 1e-9
        rhs = np.stack(
            [np.stack([np.bincount(lab, wk * x * f, n), np.bincount(lab, wk * y * f, n),
                       np.bincount(lab, wk * f, n)], 1) for f in (u, v)], 1
        )
        params = np.linalg.solve(m[:, None], rhs[..., None])[..., 0]
        support = s1
        pu = params[lab, 0, 0] * x + params[lab, 0, 1] * y + params[lab, 0, 2]
        pv = params[lab, 1, 0] * x + params[lab, 1, 1] * y + params[lab, 1, 2]
        r2 = ((pu - u) ** 2 + (pv - v) ** 2) / sigma**2
        wk = w0 / (1.0 + r2)
    return params, support


def affine_field(labels: np.ndarray, centroid: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Evaluate per-piece affine motions (from :func:`fit_piece_affine`) on the grid: h×w×2."""
    h, w = labels.shape
    # Folding the centring into per-piece coefficients of absolute x, y leaves three table
    # lookups per component instead of gathering the whole 2×3 matrix at every pixel.
    sx = params[:, :, 0] / AFFINE_NORM
    sy = params[:, :, 1] / AFFINE_NORM
    c0 = params[:, :, 2] - sx * centroid[:, 0:1] - sy * centroid[:, 1:2]
    grid = _grid(h, w)
    out = np.empty((h, w, 2), np.float32)
    for k in range(2):
        out[..., k] = (np.take(sx[:, k].astype(np.float32), labels) * grid[..., 0]
                       + np.take(sy[:, k].astype(np.float32), labels) * grid[..., 1]
                       + np.take(c0[:, k].astype(np.float32), labels))
    return out


GLOBAL_RANGE = 200  # largest camera pan searched, pixels
BACKGROUND_FRACTION = 0.05  # pieces above this share of the frame vote for the camera motion


def global_motion(flow: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Dominant translation of the weighted flow samples (the camera pan), or None.

    A weighted 2-D histogram of the vectors at half-pixel bins, lightly smoothed, gives the
    mode; the weighted mean of the samples within a pixel of it refines it.

    Args:
        flow: h×w×2 pixels; weight: h×w ≥ 0.

    Returns:
        (2,) float32 (dx, dy) in pixels.
    """
    sel = np.flatnonzero(weight.ravel() > 0)
    if sel.size < 50:
        return None
    u = flow[..., 0].ravel()[sel]
    v = flow[..., 1].ravel()[sel]
    wt = weight.ravel()[sel].astype(np.float64)
    r = 2 * GLOBAL_RANGE
    bu = np.rint(u * 2).astype(np.int64)
    bv = np.rint(v * 2).astype(np.int64)
    ok = (np.abs(bu) < r) & (np.abs(bv) < r)
    side = 2 * r + 1
    hist = np.bincount((bu[ok] + r) * side + (bv[ok] + r), wt[ok], side * side)
    hist = cv2.GaussianBlur(hist.reshape(side, side), (0, 0), 1.0)
    iu, iv = np.unravel_index(int(hist.argmax()), hist.shape)
    mu, mv = (iu - r) / 2.0, (iv - r) / 2.0
    near = (np.abs(u - mu) <= 1.0) & (np.abs(v - mv) <= 1.0)
    if wt[near].sum() <= 0:
        return None
    return np.array([np.average(u[near], weights=wt[near]),
                     np.average(v[near], weights=wt[near])], np.float32)


def _direction(
    fa: SGMFrame, fb: SGMFrame, pairs: np.ndarray, dense: np.ndarray, dense_back: np.ndarray,
    dis: cv2.DISOpticalFlow,
) -> np.ndarray:
    """Flow a→b at working resolution, chosen per piece among candidate motions.

    Candidates: the dense flow, an affine fit to its reliable (textured, forward-backward
    consistent) samples, the camera pan, and for matched pieces the guided flow and its
    affine fit. Each piece takes the candidate with the lowest texture-weighted photometric
    error. Returns h×w×2 float32 pixels.
    """
    labels, n = fa.seg.labels, fa.seg.n_pieces
    lab = labels.ravel()
    fb_err = np.linalg.norm(dense + _backwarp(dense_back, dense), axis=2)
    # Line pixels were merged into whichever piece is nearest, but an outline moves with the
    # object it encloses; they are left out of the piece statistics and get their flow from
    # the neighbour propagation afterwards.
    body = fa.texture * ~fa.seg.line_mask
    w_dense = body * (fb_err < 1.0)
    # Texture weighting: a flat interior matches under any motion, so only detail decides.
    wt = body.ravel() + 0.02 * ~fa.seg.line_mask.ravel()
    cnt = np.bincount(lab, wt, n) + 1e-9

    def piece_error(flow: np.ndarray) -> np.ndarray:
        err = _local_error(fa.image8, fb.image8, flow, 1)
        return np.bincount(lab, err.ravel() * wt, n) / cnt

    # Per-pixel dense flow must clearly beat the smooth models to be kept: in flat areas it
    # is unconstrained and its noise would otherwise win ties.
    cands: list[np.ndarray] = [dense]
    errs = [piece_error(dense) * DENSE_HANDICAP]
    p_dense, sup = fit_piece_affine(labels, n, fa.desc.centroid, dense, w_dense)
    cands.append(affine_field(labels, fa.desc.centroid, p_dense))
    errs.append(np.where(sup > 0, piece_error(cands[-1]), np.inf))
    # Backgrounds are large pieces whose borders are mostly occlusion edges with moving
    # characters, so neither photometric error nor their own samples pin their motion; the
    # camera pan voted by all large pieces does.
    large = fa.desc.area > BACKGROUND_FRACTION * labels.size
    pan = global_motion(dense, w_dense * large[labels])
    if pan is None:
        pan = global_motion(dense, w_dense)
    forced = fa.desc.area > MAX_PIECE_FRACTION * labels.size
    if pan is not None:
        cands.append(np.broadcast_to(pan, dense.shape))
        errs.append(piece_error(cands[-1]))
    guided, ok = _guided_flow(fa, fb, pairs, dis)
    if ok.any():
        g = np.where(ok[labels][..., None], guided, dense)
        p_g, _ = fit_piece_affine(labels, n, fa.desc.centroid, g, ok[labels] * body)
        for c in (g, affine_field(labels, fa.desc.centroid, p_g)):
            cands.append(c)
            errs.append(np.where(ok, piece_error(c), np.inf))
    choice = np.stack(errs, 1).argmin(axis=1)
    if pan is not None:
        choice[forced] = 2
    pick = np.take(choice.astype(np.uint8), labels)
    out = np.array(cands[0], np.float32)
    for c in range(1, len(cands)):
        # numpy, not cv2.compare: OpenCV takes a 1×1 array for a scalar and refuses it.
        mask = (pick == c).view(np.uint8)
        if mask.any():
            cv2.copyTo(np.ascontiguousarray(cands[c], np.float32), mask, out)
    return out


def _shifted(flow: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Flow field moved by (dx, dy) pixels with edge replication: each pixel sees the flow
    of its neighbour at (x - dx, y - dy)."""
    h, w = flow.shape[:2]
    p = max(abs(dx), abs(dy))
    padded = cv2.copyMakeBorder(flow, p, p, p, p, cv2.BORDER_REPLICATE)
    return padded[p - dy:p - dy + h, p - dx:p - dx + w]


def refine_by_candidates(
    a: np.ndarray, b: np.ndarray, flow: np.ndarray, steps: tuple[int, ...] = (2, 4, 8),
    radius: int = 2, iterations: int = 1,
) -> np.ndarray:
    """Let each pixel adopt a neighbour's flow when it explains its surroundings better.

    Piece borders and merged line pixels often carry the flow of the wrong side (an outline
    belongs to the moving object, not to the still background it was half merged into). For
    every offset in ``steps`` (pixels, along the four axis directions) the flow of that
    neighbour is tried, and a pixel switches when the box-averaged photometric error
    (window ``2·radius+1``) drops. This is PatchMatch-style propagation without the random
    search; it only ever lowers the local matching error.

    Args:
        a, b: h×w×3 frames, uint8 (fast) or float32 in [0, 1].
        flow: h×w×2 float32 flow a→b in pixels.
    """
    best = np.ascontiguousarray(flow, np.float32).copy()
    # 8-bit errors are integers: any drop counts; float errors need a margin against noise.
    eps = 0 if a.dtype == np.uint8 else 1e-3
    best_err = _local_error(a, b, best, radius)
    for _ in range(iterations):
        base = best.copy()
        for d in steps:
            for dx, dy in ((d, 0), (-d, 0), (0, d), (0, -d)):
                cand = _shifted(base, dx, dy)
                err = _local_error(a, b, cand, radius)
                # OpenCV's masked copy and minimum avoid numpy temporaries of the whole field.
                better = cv2.compare(err, best_err - eps, cv2.CMP_LT)
                cv2.copyTo(cand, better, best)
                cv2.min(err, best_err, best_err)
    return best


def _to_original(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    H, W = size
    h, w = flow.shape[:2]
    if (h, w) == (H, W):
        return np.ascontiguousarray(flow, np.float32)
    up = cv2.resize(flow, (W, H), interpolation=cv2.INTER_LINEAR)
    up[..., 0] *= W / w
    up[..., 1] *= H / h
    return up.astype(np.float32)


def pair_flows(
    a: SGMFrame, b: SGMFrame, timings: dict[str, float] | None = None,
    details: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bidirectional SGM flow between two prepared frames.

    Args:
        a, b: frames from :func:`prepare_frame` (same input size).
        timings: optional dict receiving seconds spent in ``"matching"`` and ``"flow"``.
        details: optional dict receiving what a person inspecting the result wants to see, at
            working resolution: ``"matches"`` (K×2 mutual matches, piece of a, piece of b),
            ``"guided12"`` / ``"guided21"`` (the matches trusted for guided flow in each
            direction, indexed from that direction's source frame), ``"dense12"`` /
            ``"dense21"`` (the DIS fallback flows) and ``"flow12"`` / ``"flow21"`` (the
            final flows before scaling to the input size).

    Returns:
        ``(F12, F21)``, each H×W×2 float32 at the original frame size, in pixels of that size
        (channel 0 = x to the right, channel 1 = y down).
    """
    if a.orig_size != b.orig_size:
        raise ValueError(f"pair_flows: frame sizes differ {a.orig_size} vs {b.orig_size}")
    t0 = time.perf_counter()
    dis = _dis(DENSE_PRESET)
    dense12 = _dis_flow(dis, a.gray, b.gray)
    dense21 = _dis_flow(dis, b.gray, a.gray)
    t1 = time.perf_counter()
    # The dense flow tells where each piece probably goes; matching scores candidates around
    # that prediction, and averaging both directions keeps the matrix consistent.
    off12 = _piece_mean(dense12, a.seg.labels, a.seg.n_pieces)
    off21 = _piece_mean(dense21, b.seg.labels, b.seg.n_pieces)
    aff = 0.5 * (affinity(a.desc, b.desc, off12) + affinity(b.desc, a.desc, off21).T)
    matches = mutual_match(aff)
    pairs = _select_pairs(a, b, matches.pairs)
    pairs_back = _select_pairs(b, a, matches.pairs[:, ::-1].copy())
    t2 = time.perf_counter()
    patch_dis = _dis(PATCH_PRESET)
    f12 = _direction(a, b, pairs, dense12, dense21, patch_dis)
    f21 = _direction(b, a, pairs_back, dense21, dense12, patch_dis)
    f12 = refine_by_candidates(a.image8, b.image8, f12, REFINE_STEPS)
    f21 = refine_by_candidates(b.image8, a.image8, f21, REFINE_STEPS)
    out = _to_original(f12, a.orig_size), _to_original(f21, b.orig_size)
    t3 = time.perf_counter()
    if details is not None:
        details.update(matches=matches.pairs, guided12=pairs, guided21=pairs_back,
                       dense12=dense12, dense21=dense21, flow12=f12, flow21=f21)
    if timings is not None:
        timings["matching"] = timings.get("matching", 0.0) + (t2 - t1)
        timings["flow"] = timings.get("flow", 0.0) + (t1 - t0) + (t3 - t2)
    return out


def _to_numpy_image(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu", torch.float32).permute(1, 2, 0).contiguous().numpy()


def sgm_flows(
    img1: torch.Tensor, img2: torch.Tensor, max_pixels: int = WORK_PIXELS
) -> tuple[torch.Tensor, torch.Tensor]:
    """SGM flows for a batch of frame pairs.

    Args:
        img1, img2: N×3×H×W float RGB in [0, 1] (any device).
        max_pixels: working-resolution area limit, see :func:`working_size`.

    Returns:
        ``(F12, F21)``: N×2×H×W float32 on the input's device, pixels at input size,
        channel 0 = x.
    """
    if img1.shape != img2.shape or img1.dim() != 4 or img1.shape[1] != 3:
        raise ValueError(f"sgm_flows: need two N×3×H×W tensors, got {img1.shape}, {img2.shape}")
    f12s, f21s = [], []
    for k in range(img1.shape[0]):
        fa = prepare_frame(_to_numpy_image(img1[k]), max_pixels)
        fb = prepare_frame(_to_numpy_image(img2[k]), max_pixels)
        f12, f21 = pair_flows(fa, fb)
        f12s.append(torch.from_numpy(f12).permute(2, 0, 1))
        f21s.append(torch.from_numpy(f21).permute(2, 0, 1))
    return (torch.stack(f12s).to(img1.device), torch.stack(f21s).to(img1.device))
