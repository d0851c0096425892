"""Per-piece sums over a label image.

Piece statistics (areas, centroids, colour moments, photometric errors, mean motions) are
sums of per-pixel values over each piece. They are computed as the product of a sparse
piece-membership matrix, one entry per pixel, with an HW×K array of values: one pass over
the frame for all K sums, summed in pixel order as ``np.bincount`` sums (the same bits),
and several times faster than K bincounts.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def membership(labels: np.ndarray, n: int, weight: np.ndarray | None = None
               ) -> sparse.csc_matrix:
    """The n×HW matrix with ``weight`` (1 where absent) at (piece of pixel, pixel).

    Args:
        labels: h×w int piece index ``0..n-1``.
        n: number of pieces.
        weight: optional h×w per-pixel weight.

    ``membership(labels, n, w) @ values`` (values HW or HW×K) are the weighted per-piece
    sums: n or n×K float64.
    """
    flat = labels.ravel()
    data = np.ones(flat.size) if weight is None else weight.ravel().astype(np.float64)
    return sparse.csc_matrix((data, flat, np.arange(flat.size + 1)), shape=(n, flat.size))


def piece_mean(values: np.ndarray, labels: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Mean of h×w×C ``values`` over each piece: n×C (``area``: n pixel counts of the
    pieces, as :class:`~.matching.PieceDescriptors` has them)."""
    n = area.shape[0]
    sums = membership(labels, n) @ values.reshape(labels.size, -1)
    return sums / np.maximum(area, 1)[:, None]


def adjacency(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pieces that touch (4-neighbourhood) and how long their shared border is.

    Args:
        labels: h×w int piece index ``0..n-1``; n: number of pieces.

    Returns:
        ``(pairs E×2 int64, length E int64)``: each touching pair once as (lower, higher)
        index, with the number of pixel edges between them.
    """
    keys = []
    for p, q in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        cut = p != q
        pc, qc = p[cut].astype(np.int64), q[cut].astype(np.int64)
        keys.append(np.minimum(pc, qc) * n + np.maximum(pc, qc))
    key, length = np.unique(np.concatenate(keys), return_counts=True)
    return np.stack(np.divmod(key, n), 1), length


def box_around(bbox: np.ndarray, shape: tuple[int, int], margin: int = 0
               ) -> tuple[int, int, int, int]:
    """``(y0, y1, x0, x1)``: the box around piece boxes (K×4 inclusive x0, y0, x1, y1, as
    :class:`~.matching.PieceDescriptors` has them) grown by ``margin`` pixels, within a
    frame of ``shape`` (h, w)."""
    h, w = shape
    return (max(int(bbox[:, 1].min()) - margin, 0), min(int(bbox[:, 3].max()) + margin + 1, h),
            max(int(bbox[:, 0].min()) - margin, 0), min(int(bbox[:, 2].max()) + margin + 1, w))
