"""Weight-free piece descriptors and mutual-consistent piece matching.

AnimeInterp pools VGG features over each colour piece and matches pieces of the two frames by
the histogram intersection of those pooled features, minus penalties for implausible area
changes and long jumps, keeping a pair only when each piece ranks the other first
("mutual consistent" rank-sum matching). Here the pooled learned features are replaced by
statistics that need no weights: CIELAB colour mean and spread, log area and normalised
second moments of the shape, plus the position of the piece. :class:`PieceDescriptors`
keeps an ``extra`` slot so pooled learned features can be appended later without touching
the affinity code.

All pair work is matrix arithmetic on ``n1×n2`` arrays; nothing loops over piece pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from .pieces import membership

# Penalty constants of the reference matcher (fractions of the affinity scale 0..1).
AREA_RATIO_LIMIT = 3.0  # area ratios above this are penalised by ratio / 20
AREA_RATIO_DIVISOR = 20.0
DIST_LIMIT = 0.14  # centroid jumps beyond this fraction of the diagonal are penalised
DIST_DIVISOR = 5.0  # by (jump / diagonal) / 5


@dataclass
class PieceDescriptors:
    """Per-piece statistics of one segmented frame (n pieces).

    Attributes:
        area: n float64, pixels.
        centroid: n×2 float64, (x, y) pixels.
        bbox: n×4 int64, (x0, y0, x1, y1) inclusive pixel bounds.
        lab_mean: n×3 float64, CIELAB mean (L in 0..100, a/b in about -128..127).
        lab_std: n×3 float64, CIELAB standard deviation.
        shape: n×3 float64, scale-normalised central moments (eta20, eta02, eta11).
        diag: image diagonal in pixels (for distance normalisation).
        extra: optional n×D float features (e.g. pooled network features, L1-normalised),
            compared by histogram intersection as in the reference.
    """

    area: np.ndarray
    centroid: np.ndarray
    bbox: np.ndarray
    lab_mean: np.ndarray
    lab_std: np.ndarray
    shape: np.ndarray
    diag: float
    extra: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.area.shape[0])

    def take(self, index: np.ndarray) -> PieceDescriptors:
        """The descriptors of the pieces ``index`` (int array), in that order."""
        return PieceDescriptors(
            self.area[index], self.centroid[index], self.bbox[index], self.lab_mean[index],
            self.lab_std[index], self.shape[index], self.diag,
            None if self.extra is None else self.extra[index])


_COORDS: dict[tuple[int, int], np.ndarray] = {}


def _coords(h: int, w: int) -> np.ndarray:
    """HW×5 float64 ``(x, y, x², y², xy)`` of every pixel in raster order (cached per size,
    read-only): summed per piece, they give centroids and second moments in one pass."""
    c = _COORDS.get((h, w))
    if c is None:
        ys, xs = np.divmod(np.arange(h * w, dtype=np.float64), w)
        c = np.stack([xs, ys, xs * xs, ys * ys, xs * ys], 1)
        c.flags.writeable = False
        c = _COORDS.setdefault((h, w), c)
    return c


def _bboxes(labels: np.ndarray, n: int) -> np.ndarray:
    """n×4 int64 inclusive (x0, y0, x1, y1) of each label's pixels; (w, h, -1, -1) for a
    label with none."""
    h, w = labels.shape
    bbox = np.tile(np.array([w, h, -1, -1], np.int64), (n, 1))
    # One pass in C over the frame, where per-pixel ufunc.at minima took four.
    for i, sl in enumerate(ndimage.find_objects(labels + 1, max_label=n)):
        if sl is not None:
            bbox[i] = sl[1].start, sl[0].start, sl[1].stop - 1, sl[0].stop - 1
    return bbox


def describe(img: np.ndarray, labels: np.ndarray, n_pieces: int) -> PieceDescriptors:
    """Compute :class:`PieceDescriptors` of a frame.

    Args:
        img: H×W×3 RGB float32 in [0, 1].
        labels: H×W int32 piece index ``0..n_pieces-1``.
        n_pieces: number of pieces.
    """
    h, w = labels.shape
    n = n_pieces
    flat = labels.ravel()
    member = membership(labels, n)
    area = np.bincount(flat, minlength=n).astype(np.float64)
    safe_area = np.maximum(area, 1.0)
    m = (member @ _coords(h, w)) / safe_area[:, None]
    centroid = m[:, :2]
    # Central moments from raw ones: the raw sums are sums of integers below 2^53, exact in
    # float64, so only the final subtraction rounds. Dividing by area² makes them
    # scale-invariant (eta_pq with p+q=2).
    central = m[:, 2:] - np.stack([m[:, 0] ** 2, m[:, 1] ** 2, m[:, 0] * m[:, 1]], 1)
    shape = central / safe_area[:, None]
    lab = cv2.cvtColor(np.ascontiguousarray(img, np.float32), cv2.COLOR_RGB2Lab)
    lab = lab.reshape(-1, 3).astype(np.float64)
    mean = (member @ lab) / safe_area[:, None]
    sq = (member @ np.square(lab, out=lab)) / safe_area[:, None]
    std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    return PieceDescriptors(
        area=area,
        centroid=centroid,
        bbox=_bboxes(labels, n),
        lab_mean=mean,
        lab_std=std,
        shape=shape,
        diag=float(np.hypot(h, w)),
    )


def _pairwise(a: np.ndarray, b: np.ndarray, f: np.ufunc) -> np.ndarray:
    """``sum_k f(a[i, k] - b[j, k])`` for every i, j: n1×n2 from n1×k and n2×k."""
    out = f(a[:, None, 0] - b[None, :, 0])
    for k in range(1, a.shape[1]):
        out += f(a[:, None, k] - b[None, :, k])
    return out


@dataclass
class PairAffinity:
    """The position-free part of :func:`affinity` for every piece pair of two frames.

    Appearance (colour, spread, area, shape) and the reference's penalties do not depend on
    where a piece is predicted to land, and they are symmetric: piece i of frame 1 against
    piece j of frame 2 costs the same in both directions. Matching asks for affinities in
    both directions and with several position priors (near and far matching, the rivals of
    movers); computing these terms once per pair instead of once per request gives the same
    numbers, term for term and in the same order of summation.

    Attributes:
        d1, d2: descriptors of frames 1 and 2.
        appearance: n1×n2 cost without the position term.
        similarity: n1×n2 histogram intersection of the ``extra`` features, or None.
        area_penalty, dist_penalty: n1×n2 penalties subtracted from the affinity.
    """

    d1: PieceDescriptors
    d2: PieceDescriptors
    appearance: np.ndarray
    similarity: np.ndarray | None
    area_penalty: np.ndarray
    dist_penalty: np.ndarray

    def forward(self, offset: np.ndarray | None, position_scale: float = 0.04,
                rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> np.ndarray:
        """:func:`affinity` of frame 1's pieces ``rows`` (all by default) with frame 2's
        ``cols``: len(rows)×len(cols); ``offset`` is the expected displacement of each piece
        of ``rows`` (pixels)."""
        c1 = self.d1.centroid if rows is None else self.d1.centroid[rows]
        c2 = self.d2.centroid if cols is None else self.d2.centroid[cols]
        pred = c1 if offset is None else c1 + offset
        return self._finish(pred, c2, self.d1.diag, position_scale, rows, cols)

    def backward(self, offset: np.ndarray | None, position_scale: float = 0.04,
                 rows: np.ndarray | None = None, cols: np.ndarray | None = None) -> np.ndarray:
        """:func:`affinity` of frame 2's pieces ``cols`` with frame 1's ``rows``, transposed
        to len(rows)×len(cols); ``offset`` is the expected displacement of each piece of
        ``cols``."""
        c1 = self.d1.centroid if rows is None else self.d1.centroid[rows]
        c2 = self.d2.centroid if cols is None else self.d2.centroid[cols]
        pred = c2 if offset is None else c2 + offset
        # (p - c)² = (c - p)² exactly: the distances come out already transposed.
        return self._finish(c1, pred, self.d2.diag, position_scale, rows, cols)

    def _finish(self, p1: np.ndarray, p2: np.ndarray, diag: float, position_scale: float,
                rows: np.ndarray | None, cols: np.ndarray | None) -> np.ndarray:
        """The affinity from the distances between positions ``p1`` (rows) and ``p2``."""
        out = np.empty((p1.shape[0], p2.shape[0]))
        for sl in _row_blocks(*out.shape):
            r = sl if rows is None else rows[sl]

            def part(x: np.ndarray, r: slice | np.ndarray = r) -> np.ndarray:
                x = x[r]
                return x if cols is None else x[:, cols]

            dp = np.sqrt(_pairwise(p1[sl], p2, np.square)) / diag
            aff = np.exp(-(part(self.appearance) + dp / position_scale))
            if self.similarity is not None:
                aff = aff * part(self.similarity)
            out[sl] = aff - part(self.area_penalty) - part(self.dist_penalty)
        return out


#: Elements of one block of rows of the pairwise arrays: its temporaries stay in the CPU's
#: cache, where whole n1×n2 arrays (100 MB for 3 500 pieces each) would stream through memory
#: for every term. Each element is computed as without blocks.
_BLOCK_ELEMENTS = 1 << 16


def _row_blocks(n1: int, n2: int) -> list[slice]:
    step = max(1, _BLOCK_ELEMENTS // max(n2, 1))
    return [slice(r, min(r + step, n1)) for r in range(0, n1, step)]


def pair_affinity(
    d1: PieceDescriptors,
    d2: PieceDescriptors,
    colour_scale: float = 8.0,
    spread_scale: float = 8.0,
    area_scale: float = 0.35,
    shape_scale: float = 0.6,
) -> PairAffinity:
    """The position-free terms of :func:`affinity` of two frames' pieces, once for both
    directions and every position prior (see :class:`PairAffinity`)."""
    n1, n2 = d1.n, d2.n
    appearance, area_penalty, dist_penalty = (np.empty((n1, n2)) for _ in range(3))
    similarity = None if d1.extra is None or d2.extra is None else np.empty((n1, n2))
    la1 = np.log(np.maximum(d1.area, 1.0))
    la2 = np.log(np.maximum(d2.area, 1.0))
    s1 = d1.shape / np.maximum(d1.shape[:, :2].sum(1, keepdims=True), 1e-12)
    s2 = d2.shape / np.maximum(d2.shape[:, :2].sum(1, keepdims=True), 1e-12)
    for r in _row_blocks(n1, n2):
        # Pairwise terms are summed one component at a time: the same sums in the same order
        # as reducing n1×n2×k arrays, without materialising them.
        dc = np.sqrt(_pairwise(d1.lab_mean[r], d2.lab_mean, np.square))
        ds = _pairwise(d1.lab_std[r], d2.lab_std, np.abs)
        da = np.abs(la1[r, None] - la2[None, :])
        dsh = _pairwise(s1[r], s2, np.abs)
        appearance[r] = dc / colour_scale + ds / spread_scale + da / area_scale + dsh / shape_scale
        if similarity is not None:
            sim = np.minimum(d1.extra[r, None, 0], d2.extra[None, :, 0])
            for k in range(1, d1.extra.shape[1]):
                sim += np.minimum(d1.extra[r, None, k], d2.extra[None, :, k])
            similarity[r] = sim
        ratio = np.exp(da)
        raw = np.sqrt(_pairwise(d1.centroid[r], d2.centroid, np.square)) / d1.diag
        area_penalty[r] = np.where(ratio > AREA_RATIO_LIMIT, ratio / AREA_RATIO_DIVISOR, 0.0)
        dist_penalty[r] = np.where(raw > DIST_LIMIT, raw / DIST_DIVISOR, 0.0)
    return PairAffinity(d1, d2, appearance, similarity, area_penalty, dist_penalty)


def affinity(
    d1: PieceDescriptors,
    d2: PieceDescriptors,
    offset: np.ndarray | None = None,
    colour_scale: float = 8.0,
    spread_scale: float = 8.0,
    area_scale: float = 0.35,
    shape_scale: float = 0.6,
    position_scale: float = 0.04,
) -> np.ndarray:
    """Affinity of every piece of frame 1 with every piece of frame 2.

    The similarity part is ``exp(-cost)`` in (0, 1], the cost adding colour difference
    (CIELAB ΔE of the means / ``colour_scale``), spread difference, log-area difference,
    relative second-moment difference and the distance between the piece's predicted and the
    candidate's centroid (fraction of the diagonal / ``position_scale``). The reference's
    penalties are then subtracted: ``ratio/20`` when the area ratio exceeds 3 and
    ``dist/5`` when the raw centroid distance exceeds 0.14 of the diagonal. Where several
    affinities of the same two frames are needed, :func:`pair_affinity` shares their terms.

    Args:
        d1, d2: descriptors of frames 1 and 2.
        offset: optional n1×2 expected displacement (pixels) of each frame-1 piece, e.g. the
            mean of a dense optical flow over the piece; the position term is measured from
            ``centroid + offset``.

    Returns:
        n1×n2 float64 affinity, higher is better.
    """
    terms = pair_affinity(d1, d2, colour_scale, spread_scale, area_scale, shape_scale)
    return terms.forward(offset, position_scale)


def rank_sum(aff: np.ndarray) -> np.ndarray:
    """Mutual rank sum: rank of ``j`` among piece ``i``'s candidates plus rank of ``i`` among
    piece ``j``'s candidates (0 = best), n1×n2 int64."""
    r_row = np.argsort(np.argsort(-aff, axis=1, kind="stable"), axis=1, kind="stable")
    r_col = np.argsort(np.argsort(-aff, axis=0, kind="stable"), axis=0, kind="stable")
    return r_row + r_col


@dataclass
class Matches:
    """Mutually consistent piece pairs.

    Attributes:
        pairs: K×2 int64, (piece in frame 1, piece in frame 2).
        confidence: K float64 in (0, 1]: affinity of the pair times its margin.
        rank_sum: K int64 mutual rank sum of each pair.
        margin: K float64 in [0, 1]: ``(affinity - runner-up) / affinity`` over both
            directions, clipped (0 = a tie, 1 = no rival with a positive affinity).
    """

    pairs: np.ndarray
    confidence: np.ndarray
    rank_sum: np.ndarray
    margin: np.ndarray


def mutual_match(aff: np.ndarray, max_rank_sum: int = 0, min_affinity: float = 0.0) -> Matches:
    """Mutual-consistent matching on an affinity matrix.

    Each frame-1 piece takes the candidate with the smallest rank sum; the pair is kept when
    that sum is at most ``max_rank_sum`` (0, the reference default, keeps only pairs that are
    each other's first choice) and the affinity exceeds ``min_affinity``.
    """
    n1, n2 = aff.shape
    empty = Matches(np.zeros((0, 2), np.int64), np.zeros(0), np.zeros(0, np.int64), np.zeros(0))
    if n1 == 0 or n2 == 0:
        return empty
    if max_rank_sum == 0:
        # Rank sum 0 means both argmaxes agree; no sort needed.
        best12 = aff.argmax(axis=1)
        best21 = aff.argmax(axis=0)
        i = np.nonzero(best21[best12] == np.arange(n1))[0]
        j = best12[i]
        rs = np.zeros(i.size, np.int64)
    else:
        rsum = rank_sum(aff)
        j_all = rsum.argmin(axis=1)
        rs_all = rsum[np.arange(n1), j_all]
        i = np.nonzero(rs_all <= max_rank_sum)[0]
        j = j_all[i]
        rs = rs_all[i]
    a = aff[i, j]
    keep = a > min_affinity
    i, j, rs, a = i[keep], j[keep], rs[keep], a[keep]
    if i.size == 0:
        return empty
    # Margin over the runner-up in row and column, so near ties get low confidence.
    row = aff[i].copy()
    row[np.arange(i.size), j] = -np.inf
    col = aff[:, j].T.copy()
    col[np.arange(i.size), i] = -np.inf
    second = np.maximum(row.max(axis=1) if n2 > 1 else -np.inf,
                        col.max(axis=1) if n1 > 1 else -np.inf)
    margin = np.clip((a - second) / np.maximum(a, 1e-12), 0.0, 1.0)
    conf = np.clip(a, 0.0, 1.0) * margin
    return Matches(np.stack([i, j], 1).astype(np.int64), conf, rs, margin)
