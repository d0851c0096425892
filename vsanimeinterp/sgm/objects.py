"""Pieces that move together.

A cel character or a logo is many colour pieces: skin, the halves of a face cut apart by its
eyes, a mouth, the wedges between a logo's lines. Each piece's own motion candidates
(:mod:`.motion`) are fitted to that piece's samples alone, so they are noisy where a piece
has few reliable samples, and wrong where matching swapped two look-alike pieces. Two steps
use the pieces around:

* **Objects** (:func:`object_motions`): touching pieces that all move against the camera are
  one object, and one affine fit to all its reliable samples is a candidate for each of its
  pieces. On a spinning logo of about 150 pieces the fit is within 0.8 px of the logo's
  rigid motion where the per-piece choice was 3.7 px off on average.
* **Adoption** (:func:`adopt_neighbour_motions`): pieces touching a mover (a piece matched
  without a rival) try its motion, and pass it on to their own neighbours.

Both compare photometric errors on every second pixel of the pieces concerned
(:class:`PieceSamples`), which costs far less than a full-frame error per candidate.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ..ops.flow import sample_points
from .motion import affine_at, fit_piece_affine, recentre
from .params import OBJECT_DAMP
from .pieces import box_around


class PieceSamples:
    """Every ``step``-th pixel (along each axis) of some pieces of a frame, with their luma
    and weight, for per-piece photometric errors of candidate motions.

    Args:
        labels: h×w int32 pieces; pieces: n bool, those to sample.
        luma: h×w uint8 frame; weight: h×w float ≥ 0, each pixel's weight in the errors.
        step: sampling step in pixels.

    Attributes:
        piece: P int64 piece of each sample; xs, ys: P float32 pixel coordinates.
    """

    def __init__(self, labels: np.ndarray, pieces: np.ndarray, luma: np.ndarray,
                 weight: np.ndarray, step: int) -> None:
        sampled = labels[::step, ::step]
        yi, xi = np.nonzero(np.take(pieces, sampled, mode="clip"))
        self.n = pieces.shape[0]
        piece = sampled[yi, xi].astype(np.int64)
        # Grouped by piece (raster order within each), so that every subset of the samples
        # in order is too: per-piece sums are then sums over runs (``np.add.reduceat``,
        # 5× faster than ``np.bincount`` and in the same order, so the same bits).
        order = np.argsort(piece, kind="stable")
        self.piece, yi, xi = piece[order], yi[order] * step, xi[order] * step
        self.xs, self.ys = xi.astype(np.float32), yi.astype(np.float32)
        self._rows, self._cols = yi, xi
        self._luma = luma[yi, xi].astype(np.float32)
        self._weight = weight[yi, xi].astype(np.float32)
        self._total = self._per_piece(self._weight[None], self.piece)[0]
        self.step = step

    def __len__(self) -> int:
        return self.piece.size

    def read(self, field: np.ndarray) -> np.ndarray:
        """The h×w×C ``field`` at the samples: P×C."""
        return field[self._rows, self._cols]

    def motion(self, rows: np.ndarray, centre: np.ndarray, at: np.ndarray | None = None
               ) -> np.ndarray:
        """Each sample's (or the samples ``at``'s) motion under its piece's affine ``rows``
        (n×2×3 about ``centre`` n×2): P×2 pixels."""
        at = slice(None) if at is None else at
        p = self.piece[at]
        return affine_at(rows[p], centre[p], self.xs[at], self.ys[at])

    def error(self, other: np.ndarray, flow: np.ndarray, at: np.ndarray | None = None,
              shifts: np.ndarray | None = None) -> np.ndarray:
        """Per-piece weighted mean absolute difference (8-bit levels) between the frame and
        ``other`` (h×w uint8) read at ``x + flow`` (P×2, one row per sample or per sample of
        ``at``, indices in ascending order): n float64, inf for pieces with no sample among
        them. With ``shifts`` (K×2 pixels, each added to every flow row) the errors of all K
        shifted flows, K×n, from one read of ``other``."""
        at = slice(None) if at is None else at
        lone = shifts is None
        shifts = np.zeros((1, 2), np.float32) if lone else np.asarray(shifts, np.float32)
        k = shifts.shape[0]
        xs = self.xs[at] + (flow[:, 0] + shifts[:, :1])
        ys = self.ys[at] + (flow[:, 1] + shifts[:, 1:])
        there = sample_points(other, xs.ravel(), ys.ravel()).astype(np.float32)
        diff = np.abs(self._luma[at] - there.reshape(k, -1)) * self._weight[at]
        out = self._per_piece(diff, self.piece[at], np.inf) / np.maximum(self._total, 1e-9)
        return out[0] if lone else out

    def _per_piece(self, values: np.ndarray, piece: np.ndarray, empty: float = 0.0
                   ) -> np.ndarray:
        """Sums (float64) of K×P ``values`` over the samples of each piece (``piece`` P,
        grouped): K×n, ``empty`` for pieces without samples."""
        out = np.full((values.shape[0], self.n), empty)
        if piece.size:
            starts = np.flatnonzero(np.r_[True, piece[1:] != piece[:-1]])
            out[:, piece[starts]] = np.add.reduceat(values, starts, axis=1, dtype=np.float64)
        return out

    def write(self, flow: np.ndarray, labels: np.ndarray, pieces: np.ndarray,
              rows: np.ndarray, centre: np.ndarray) -> np.ndarray:
        """A copy of the h×w×2 ``flow`` with every pixel of the sampled ``pieces`` (n bool)
        set to its piece's affine motion (``rows`` n×2×3 about ``centre`` n×2)."""
        out = np.array(flow, np.float32, copy=True)
        mine = np.take(pieces, self.piece, mode="clip")
        if not mine.any():
            return out
        # A piece lies within a step of its samples' bounding box.
        s = self.step
        y0, y1 = max(int(self._rows[mine].min()) - s, 0), int(self._rows[mine].max()) + s + 1
        x0, x1 = max(int(self._cols[mine].min()) - s, 0), int(self._cols[mine].max()) + s + 1
        yy, xx = np.nonzero(np.take(pieces, labels[y0:y1, x0:x1], mode="clip"))
        yy, xx = yy + y0, xx + x0
        p = labels[yy, xx]
        out[yy, xx] = affine_at(rows[p], centre[p], xx.astype(np.float32),
                                yy.astype(np.float32))
        return out


def object_motions(
    labels: np.ndarray, centroid: np.ndarray, area: np.ndarray, bbox: np.ndarray,
    touching: tuple[np.ndarray, np.ndarray], moving: np.ndarray, flow: np.ndarray,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Objects made of touching ``moving`` pieces, and one affine motion each.

    Two characters that touch become one object too; its motion then explains neither, and
    the caller's photometric test keeps their pieces' own motions.

    Args:
        labels: h×w int32 pieces; centroid: n×2 (pixels); area: n (pixels); bbox: n×4
            inclusive (x0, y0, x1, y1).
        touching: ``(pairs E×2, border length E)`` (:func:`~.pieces.adjacency`).
        moving: n bool, pieces that move against the camera.
        flow: h×w×2 flow samples (pixels); weight: h×w ≥ 0, their reliability.

    Returns:
        ``(member n bool, rows n×2×3)``: the pieces that belong to an object of two or more
        pieces with samples to fit, and their object's affine motion about each piece's own
        centroid (:func:`~.motion.fit_piece_affine` coordinates).
    """
    n = area.shape[0]
    rows = np.zeros((n, 2, 3))
    i, j = touching[0][:, 0], touching[0][:, 1]
    link = moving[i] & moving[j]
    if not link.any():
        return np.zeros(n, bool), rows
    graph = sparse.coo_matrix((np.ones(int(link.sum())), (i[link], j[link])), shape=(n, n))
    k, comp = connected_components(graph, directed=False)
    member = np.bincount(comp, minlength=k)[comp] >= 2
    mass = np.maximum(np.bincount(comp, area, k), 1e-9)
    centre = np.stack([np.bincount(comp, area * centroid[:, d], k) for d in (0, 1)], 1)
    centre /= mass[:, None]
    # The objects' samples lie in the box around their pieces; the fit's centred
    # coordinates are the same in the box's frame.
    y0, y1, x0, x1 = box_around(bbox[member], labels.shape)
    box = labels[y0:y1, x0:x1]
    # An object has samples all over it: the ridge that lets a small piece fall back to a
    # translation would only shrink its turn and zoom (by 5 % on a 180 px wheel).
    fit, support = fit_piece_affine(
        np.take(comp.astype(np.int32), box, mode="clip"), k, centre - (x0, y0), flow[y0:y1, x0:x1],
        weight[y0:y1, x0:x1] * np.take(member, box, mode="clip"), damp=OBJECT_DAMP)
    member &= support[comp] > 0
    return member, recentre(fit[comp], centre[comp], centroid)


def _search_offsets(radius: float) -> np.ndarray:
    """K×2 pixels: the zero shift, then the four axial and the four diagonal shifts by
    ``radius`` (only the zero shift when it is 0). Ties go to the earlier, so to the smaller
    shift."""
    steps = [(0, 0)]
    if radius > 0:
        steps += [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)]
    return np.array(steps, np.float32) * np.float32(radius)


def adopt_neighbour_motions(
    a: np.ndarray, b: np.ndarray, flow: np.ndarray, labels: np.ndarray, centroid: np.ndarray,
    rows: np.ndarray, weight: np.ndarray, frozen: np.ndarray, givers: np.ndarray,
    touching: tuple[np.ndarray, np.ndarray], rounds: int, tries: int, gain: float, step: int,
    search: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Let pieces take the motion of a touching piece that is known to be right.

    Matching may follow one piece of a character right (a mouth) and swap its look-alike
    neighbours (the two halves of the face around it) or leave them unmatched; pixel
    propagation reaches only a few pixels into a piece. Each piece touching a ``givers``
    piece tries the motions of up to ``tries`` such neighbours (longest shared border first,
    only motions more than a pixel from its own) and takes the best when its photometric
    error drops below ``gain`` × the current one. A piece that took a motion gives it on in
    the next round, and so does a piece whose own motion is already within a pixel of a
    giver's, so in ``rounds`` a motion travels that many pieces.

    Each motion on offer, and the piece's current one, is also tried shifted by ``search``
    pixels in the eight directions, and the piece keeps the best shift: a neighbour's
    motion is often a pixel or two off for it (a face turning about its mouth), and a small
    high-contrast piece (an eye) errs more under a nearly-right motion than under a wrong
    one, so without the shift it would keep the wrong one.

    Args:
        a, b: h×w uint8 luma frames; flow: h×w×2 float32 pixels a→b (not modified).
        labels: h×w int32 pieces of ``a``; centroid: n×2 their centroids (pixels).
        rows: n×2×3 each piece's current motion, affine about its centroid
            (:func:`~.motion.fit_piece_affine` coordinates; a translation has only the
            constant column).
        weight: h×w ≥ 0, each pixel's weight in the photometric errors.
        frozen: n bool, pieces that keep their motion; givers: n bool.
        touching: ``(pairs E×2, border length E)`` (:func:`~.pieces.adjacency`).
        step: the errors are sampled every ``step`` pixels along each axis.
        search: pixels; 0 tries each motion only as it is.

    Returns:
        ``(flow h×w×2 float32, source n int)``: ``source`` is the piece whose motion each
        piece ended with (itself where it kept its own).
    """
    n = centroid.shape[0]
    source = np.arange(n)
    pairs, length = touching
    if not givers.any() or pairs.size == 0:
        return flow, source
    # Both directions of every touching pair, each receiver's longest borders first.
    recv = np.concatenate([pairs[:, 0], pairs[:, 1]])
    give = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.lexsort((-np.concatenate([length, length]), recv))
    recv, give = recv[order], give[order]
    # Only pieces within `rounds` steps of a giver can change: only they are sampled.
    reach = givers.copy()
    for _ in range(rounds):
        reach[recv[reach[give]]] = True
    reach &= ~frozen & ~givers
    if not reach.any():
        return flow, source
    samples = PieceSamples(labels, reach, a, weight, step)
    current = samples.read(flow)
    m = rows.astype(np.float32)
    centre = centroid.astype(np.float32)
    cx, cy = centre[:, 0].copy(), centre[:, 1].copy()
    givers = givers.copy()
    offsets = _search_offsets(search)
    adopted = np.zeros(n, bool)
    for _ in range(rounds):
        own = affine_at(m, centre, cx, cy)
        apart = np.hypot(*(own[recv] - own[give]).T) > 1.0
        link = reach[recv] & ~givers[recv] & givers[give]
        # A piece already moving with a giver (the rim between a mouth and the face, split
        # off by a double outline) gives that motion on: without it the chain stops there.
        # It keeps its own motion and source (it is not made a mover: on a checkerboard, the
        # squares a sliding torus covers move with it and would draw it in front).
        joined = np.zeros(n, bool)
        joined[recv[link & ~apart]] = True
        ok = link & apart & ~joined[recv]
        r, g = recv[ok], give[ok]
        givers |= joined
        if r.size == 0:
            if joined.any():
                continue
            break
        first = np.r_[True, r[1:] != r[:-1]]
        rank = np.arange(r.size) - np.maximum.accumulate(np.where(first, np.arange(r.size), 0))
        keep = rank < tries
        r, g, rank = r[keep], g[keep], rank[keep]
        active = np.zeros(n, bool)
        active[r] = True
        at = np.flatnonzero(active[samples.piece])
        # Unshifted first: the current motion's shifts matter only where an offer beats it.
        cur = samples.error(b, current[at], at)
        best = np.full(n, np.inf)
        best_giver = np.full(n, -1)
        best_off = np.zeros((n, 2), np.float32)
        for k in range(int(rank.max()) + 1):
            giver = np.full(n, -1)
            giver[r[rank == k]] = g[rank == k]
            gi = giver[samples.piece[at]]
            sub, q = at[gi >= 0], gi[gi >= 0]
            e = samples.error(b, affine_at(m[q], centre[q], samples.xs[sub], samples.ys[sub]),
                              sub, offsets)
            j = e.argmin(0)
            e = e[j, np.arange(n)]
            better = e < best
            best[better], best_giver[better] = e[better], giver[better]
            best_off[better] = offsets[j[better]]
        if len(offsets) > 1:
            sub = at[(best < gain * cur)[samples.piece[at]]]
            if sub.size:
                cur = np.minimum(cur, samples.error(b, current[sub], sub, offsets[1:]).min(0))
        take = active & (best < gain * cur)
        if not take.any():
            if joined.any():
                continue
            break
        q = best_giver[take]
        m[take], centre[take], source[take] = m[q], centre[q], source[q]
        m[take, :, 2] += best_off[take]
        adopted |= take
        givers |= take
        sub = np.flatnonzero(take[samples.piece])
        current[sub] = samples.motion(m, centre, sub)
    if not adopted.any():
        return flow, source
    return samples.write(flow, labels, adopted, m, centre), source
