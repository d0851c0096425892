"""Candidate motions of a piece and their photometric scoring: affine fits, the camera pan,
and neighbour-flow propagation (PatchMatch-style, without the random search).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..ops.flow import backwarp_hw2, pixel_grid_hw2
from .params import AFFINE_DAMP, AFFINE_NORM, GLOBAL_RANGE


def abs_error(a: np.ndarray, b: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per-pixel absolute difference (h×w uint8) between two h×w uint8 luma frames, ``b``
    warped back along ``flow``."""
    return cv2.absdiff(a, backwarp_hw2(b, flow))


def local_error(a: np.ndarray, b: np.ndarray, flow: np.ndarray, radius: int) -> np.ndarray:
    """Box-averaged :func:`abs_error` over a ``2·radius+1`` window (h×w)."""
    k = 2 * radius + 1
    return cv2.blur(abs_error(a, b, flow), (k, k), borderType=cv2.BORDER_REFLECT)


def box_piece_error(
    a: np.ndarray, b: np.ndarray, flow: np.ndarray, box: tuple[int, int, int, int],
    labels: np.ndarray, n: int, weight: np.ndarray, radius: int,
) -> np.ndarray:
    """Per-piece sums of the weighted :func:`local_error` over a box of the frame, for a flow
    given on that box only: a candidate for a few pieces need not be warped frame-wide.

    Args:
        a, b: h×w uint8 luma frames; flow: (y1-y0)×(x1-x0)×2 pixels, the box of ``a``.
        box: ``(y0, y1, x0, x1)``; labels: h×w int32 pieces, n of them; weight: h×w ≥ 0.
        radius: the error window's radius. Pieces closer than ``radius + 1`` to the box's
            edge (inside the frame) get other sums than frame-wide.

    Returns:
        n float64 sums (0 for the pieces outside the box).
    """
    y0, y1, x0, x1 = box
    coords = cv2.add(np.ascontiguousarray(flow, np.float32), pixel_grid_hw2(y1 - y0, x1 - x0))
    coords[..., 0] += x0
    coords[..., 1] += y0
    warped = cv2.remap(b, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    k = 2 * radius + 1
    err = cv2.blur(cv2.absdiff(a[y0:y1, x0:x1], warped), (k, k), borderType=cv2.BORDER_REFLECT)
    lab = labels[y0:y1, x0:x1].ravel()
    return np.bincount(lab, (weight[y0:y1, x0:x1] * err).ravel(), n)


def fit_piece_affine(
    labels: np.ndarray, n: int, centroid: np.ndarray, flow: np.ndarray, weight: np.ndarray,
    iterations: int = 3, sigma: float = 1.0, damp: float = AFFINE_DAMP,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust weighted affine motion of every piece, all pieces solved at once.

    The flat interior of a cel piece says nothing about its motion; its outline does. Fitting
    ``flow ≈ A·[x', y', 1]`` per piece to the reliable samples (``weight``) and evaluating it
    everywhere gives interiors the motion of their outline. Cauchy reweighting (scale
    ``sigma`` pixels) suppresses samples that belong to a neighbour's motion.

    Args:
        labels: h×w int32 pieces; centroid: n×2 piece centroids (pixels).
        flow: h×w×2 samples (pixels); weight: h×w float ≥ 0.
        damp: ridge on the linear terms, relative to the total weight.

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
        m[:, 0, 0] = sxx + damp * s1
        m[:, 0, 1] = m[:, 1, 0] = sxy
        m[:, 1, 1] = syy + damp * s1
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
    grid = pixel_grid_hw2(h, w)
    out = np.empty((h, w, 2), np.float32)
    # Labels are valid indices: "clip" skips numpy's bounds check, and converting them to
    # the index type once saves each lookup doing it (about half the time, the same bits).
    idx = labels.astype(np.intp)
    for k in range(2):
        out[..., k] = (np.take(sx[:, k].astype(np.float32), idx, mode="clip") * grid[..., 0]
                       + np.take(sy[:, k].astype(np.float32), idx, mode="clip") * grid[..., 1]
                       + np.take(c0[:, k].astype(np.float32), idx, mode="clip"))
    return out


def affine_at(rows: np.ndarray, centre: np.ndarray, xs: np.ndarray, ys: np.ndarray
              ) -> np.ndarray:
    """Motions (P×2 pixels) of P affine motions at P points: ``rows`` P×2×3 in the centred
    coordinates of :func:`fit_piece_affine` about ``centre`` (P×2), evaluated at (xs, ys)."""
    x = ((xs - centre[:, 0]) / AFFINE_NORM)[:, None]
    y = ((ys - centre[:, 1]) / AFFINE_NORM)[:, None]
    return rows[:, :, 0] * x + rows[:, :, 1] * y + rows[:, :, 2]


def recentre(rows: np.ndarray, centre: np.ndarray, to: np.ndarray) -> np.ndarray:
    """The same affine motions (P×2×3 about ``centre`` P×2) written about the points ``to``
    (P×2): only the constant column changes."""
    out = rows.copy()
    out[:, :, 2] = affine_at(rows, centre, to[:, 0], to[:, 1])
    return out


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
    fields: tuple[tuple[np.ndarray, np.ndarray], ...] = (), field_margin: int = 2,
) -> np.ndarray:
    """Let each pixel adopt a neighbour's flow when it explains its surroundings better.

    Piece borders and merged line pixels often carry the flow of the wrong side (an outline
    belongs to the moving object, not to the still background it was half merged into). For
    every offset in ``steps`` (pixels, along the four axis directions) the flow of that
    neighbour is tried, and a pixel switches when the box-averaged photometric error
    (window ``2·radius+1``) drops. This is PatchMatch-style propagation without the random
    search; it only ever lowers the local matching error.

    Args:
        a, b: h×w uint8 luma frames.
        flow: h×w×2 float32 flow a→b in pixels.
        fields: ``(flow h×w×2, allowed h×w bool)`` pairs: each flow is tried first, at the
            pixels it is allowed at, and taken where it lowers the box-averaged error by
            more than ``field_margin`` (8-bit levels). A dense flow fitted to a still
            picture's noise lowers it by less.
    """
    best = np.ascontiguousarray(flow, np.float32).copy()
    # 8-bit errors are integers, so any drop counts.
    best_err = local_error(a, b, best, radius)

    def offer(cand: np.ndarray, allowed: np.ndarray | None = None, margin: int = 0) -> None:
        err = local_error(a, b, cand, radius)
        # OpenCV's masked copies avoid numpy temporaries of the whole field.
        # The margin as an array: OpenCV 5.1 reads a 1×1 frame plus a number as two scalars.
        raised = cv2.add(err, np.full_like(err, margin)) if margin else err
        better = cv2.compare(raised, best_err, cv2.CMP_LT)
        if allowed is not None:
            cv2.bitwise_and(better, allowed.view(np.uint8), better)
        cv2.copyTo(cand, better, best)
        cv2.copyTo(err, better, best_err)

    for field, allowed in fields:
        offer(np.ascontiguousarray(field, np.float32), np.ascontiguousarray(allowed),
              field_margin)
    for _ in range(iterations):
        base = best.copy()
        for d in steps:
            for dx, dy in ((d, 0), (-d, 0), (0, d), (0, -d)):
                offer(_shifted(base, dx, dy))
    return best
