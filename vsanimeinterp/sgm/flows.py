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
   Pieces left unmatched get a second chance with a weak position prior, since the dense
   flow mispredicts where a fast piece lands; such a far match must be unrivalled in
   appearance and is taken only where the dense flow's motions fail the piece.
4. Per piece, the guided flow and the dense flow compete on photometric error (mean
   absolute 8-bit luma difference after backward warping), so a bad match cannot ruin a
   piece the dense flow already gets right, and vice versa. Then each pixel may take a
   neighbour's flow when it lowers the local error, or the dense flow where that is
   forward-backward consistent and lowers it by more than two 8-bit levels. Before that,
   pieces borrow from the pieces they touch (:mod:`vsanimeinterp.sgm.objects`): touching
   pieces that move against the camera are an object whose joint affine motion each may
   take, and pieces touching a mover may take its motion.
5. Flows are brought back to the input size and scaled to its pixel units.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..ops.flow import backwarp_hw2, hwc_to_tensor, resize_flow_hw2, sample_points, tensor_to_hwc
from ..stages import NO_RECORDER, Recorder
from .frame import SGMFrame, prepare_frame
from .guided import dis_flow, guided_flow, make_dis
from .matching import PairAffinity, mutual_match, pair_affinity
from .motion import (
    affine_field,
    box_piece_error,
    fit_piece_affine,
    global_motion,
    local_error,
    refine_by_candidates,
)
from .objects import adopt_neighbour_motions, object_motions
from .params import (
    ADOPT_GAIN,
    ADOPT_ROUNDS,
    ADOPT_SEARCH,
    ADOPT_TRIES,
    BACKGROUND_FRACTION,
    DENSE_HANDICAP,
    DENSE_PRESET,
    FAR_GAIN,
    FAR_MIN_ERROR,
    FAR_MIN_MARGIN,
    FAR_POSITION_SCALE,
    MAX_AREA_RATIO,
    MAX_JUMP_960,
    MAX_PIECE_FRACTION,
    MIN_PIECE_AREA,
    MOVER_LOOP,
    MOVER_LOOP_REL,
    MOVER_MOTION,
    MOVER_SOLID,
    OBJECT_GAIN,
    OBJECT_MOTION,
    PAN_MARGIN,
    PATCH_PRESET,
    REFINE_STEPS,
    WORK_PIXELS,
)
from .pieces import box_around, membership, piece_mean


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


def _consistent(flow: np.ndarray, back: np.ndarray) -> np.ndarray:
    """h×w bool: where ``flow`` and the reverse flow ``back`` agree within a pixel."""
    loop = flow + backwarp_hw2(back, flow)
    return cv2.magnitude(loop[..., 0], loop[..., 1]) < 1.0


def _far_matches(
    a: SGMFrame, b: SGMFrame, terms: PairAffinity, pairs: np.ndarray, off12: np.ndarray,
    off21: np.ndarray,
) -> np.ndarray:
    """Mutual matches among the pieces the first matching left alone, with a weak position
    prior: a piece that jumps further than the dense flow can follow is predicted at the wrong
    place, and the strong prior rules its partner out however well colour and shape agree."""
    h, w = a.work_size

    def free(f: SGMFrame, taken: np.ndarray) -> np.ndarray:
        ok = (f.desc.area > MIN_PIECE_AREA) & (f.desc.area < MAX_PIECE_FRACTION * h * w)
        ok[taken] = False
        return np.nonzero(ok)[0]

    ia, ib = free(a, pairs[:, 0]), free(b, pairs[:, 1])
    if ia.size == 0 or ib.size == 0:
        return np.zeros((0, 2), np.int64)
    s = FAR_POSITION_SCALE
    aff = 0.5 * (terms.forward(off12[ia], s, ia, ib) + terms.backward(off21[ib], s, ia, ib))
    m = mutual_match(aff)
    # Repeated pieces (tiles, checkerboards, the teeth of a comb) look alike wherever they
    # are; only a piece with no rival is worth following far.
    unique = m.margin >= FAR_MIN_MARGIN
    return np.stack([ia[m.pairs[unique, 0]], ib[m.pairs[unique, 1]]], 1)


def _unrivalled(
    terms: PairAffinity, pairs: np.ndarray, off12: np.ndarray, off21: np.ndarray
) -> np.ndarray:
    """K bool: the matched ``pairs`` whose affinity under the weak position prior of far
    matching beats every rival of either piece by the margin a far match needs
    (:data:`~.params.FAR_MIN_MARGIN`, relative). The first matching's strong position prior
    picks the nearest of several look-alikes, right or wrong; a pair that would win anywhere
    in the frame is the same piece."""
    if pairs.size == 0:
        return np.zeros(0, bool)
    i, j = pairs[:, 0], pairs[:, 1]
    s = FAR_POSITION_SCALE
    row = 0.5 * (terms.forward(off12[i], s, rows=i) + terms.backward(off21, s, rows=i))
    col = 0.5 * (terms.forward(off12, s, cols=j) + terms.backward(off21[j], s, cols=j)).T
    k = np.arange(i.size)
    own = row[k, j]
    row[k, j] = -np.inf
    col[k, i] = -np.inf
    rival = np.maximum(row.max(axis=1), col.max(axis=1))
    return (own - rival) >= FAR_MIN_MARGIN * np.maximum(own, 1e-12)


#: Every how many pixels (each axis) the per-piece mover statistics are sampled: means and
#: shares over a piece need not see every pixel.
_MOVER_STEP = 2


def _loops_back(flow: np.ndarray, back: np.ndarray, f: SGMFrame, pieces: np.ndarray
                ) -> np.ndarray:
    """n bool: which of the ``pieces`` (n bool) of ``f`` have at least :data:`MOVER_SOLID`
    of their pixels (sampled) come back along ``flow`` then ``back`` (h×w×2): within
    :data:`MOVER_LOOP` pixels or, where that is more, with a squared loop error below
    :data:`MOVER_LOOP_REL` × (``|flow|² + |back|²``, ``back`` read where ``flow`` lands). A
    ball that jumps 70 px between drawings comes back within 4 px, not 2, though its flows
    are right to a pixel or two."""
    if not pieces.any():
        return pieces
    s = _MOVER_STEP
    labels = f.seg.labels[::s, ::s]
    # Labels are valid piece indices: "clip" skips numpy's bounds check (twice as fast).
    ys, xs = np.nonzero(np.take(pieces, labels, mode="clip"))
    lab = labels[ys, xs]
    ys, xs = ys * s, xs * s
    go = flow[ys, xs]
    there = sample_points(back, xs + go[:, 0], ys + go[:, 1])
    miss = (go[:, 0] + there[:, 0]) ** 2 + (go[:, 1] + there[:, 1]) ** 2
    tol = np.maximum(MOVER_LOOP**2, MOVER_LOOP_REL * ((go**2).sum(1) + (there**2).sum(1)))
    ok = miss < tol
    n = f.seg.n_pieces
    share = np.bincount(lab, ok, n) / np.maximum(np.bincount(lab, minlength=n), 1)
    return pieces & (share >= MOVER_SOLID)


def _direction(
    fa: SGMFrame, fb: SGMFrame, pairs: np.ndarray, dense: np.ndarray, consistent: np.ndarray,
    dis: cv2.DISOpticalFlow, far: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flow a→b at working resolution, chosen per piece among candidate motions.

    Candidates: the dense flow, an affine fit to its reliable (textured, forward-backward
    consistent) samples, the camera pan, and for matched pieces the guided flow and its
    affine fit. Each piece takes the candidate with the lowest texture-weighted photometric
    error. ``far`` marks the pieces of a matched by :func:`_far_matches`.

    Then the pieces that move against the camera and touch form objects
    (:func:`~.objects.object_motions`), and a piece takes its object's affine motion unless
    its own candidate explains it :data:`~.params.OBJECT_GAIN` times better.

    Returns:
        ``(flow h×w×2 float32 pixels, front n bool, movers n bool, rows n×2×3)``: ``front``
        marks the far-matched pieces that took their match's motion, ``movers`` the pieces of
        ``pairs`` that move more than :data:`~.params.MOVER_MOTION` against the camera pan
        (candidates: the caller keeps the unrivalled ones whose final flows loop back),
        ``rows`` each piece's motion as affine rows about its centroid (its fit where it took
        one, else its mean motion).
    """
    labels, n = fa.seg.labels, fa.seg.n_pieces
    # Line pixels were merged into whichever piece is nearest, but an outline moves with the
    # object it encloses; they are left out of the piece statistics and get their flow from
    # the neighbour propagation afterwards.
    body = fa.texture * ~fa.seg.line_mask
    w_dense = body * consistent
    # Texture weighting: a flat interior matches under any motion, so only detail decides.
    weigh_map = body + 0.02 * ~fa.seg.line_mask
    wt = weigh_map.ravel()
    weigh = membership(labels, n, wt)
    cnt = weigh @ np.ones(labels.size) + 1e-9

    def piece_error(flow: np.ndarray) -> np.ndarray:
        # On 8-bit luma: a third of the sampling of RGB (flows 0.85× the time) for 0.02 dB
        # less on the development set of real animation.
        err = local_error(fa.gray, fb.gray, flow, 1)
        return (weigh @ err.ravel().astype(np.float64)) / cnt

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
    pan = global_motion(dense, w_dense * np.take(large, labels, mode="clip"))
    if pan is None:
        pan = global_motion(dense, w_dense)
    forced = fa.desc.area > MAX_PIECE_FRACTION * labels.size
    if pan is not None:
        cands.append(np.broadcast_to(pan, dense.shape))
        errs.append(piece_error(cands[-1]))
    n_smooth = len(cands)
    guided, ok = guided_flow(fa, fb, pairs, dis)
    if ok.any():
        ok_px = np.take(ok, labels, mode="clip")
        g = np.where(ok_px[..., None], guided, dense)
        p_g, _ = fit_piece_affine(labels, n, fa.desc.centroid, g, ok_px * body)
        for c in (g, affine_field(labels, fa.desc.centroid, p_g)):
            cands.append(c)
            errs.append(np.where(ok, piece_error(c), np.inf))
    err = np.stack(errs, 1)
    # A far match is a guess among look-alikes: it is taken only where it explains the piece
    # far better than any motion the dense flow suggests.
    best_smooth = err[:, :n_smooth].min(axis=1, keepdims=True)
    refuse = far[:, None] & ((err[:, n_smooth:] > FAR_GAIN * best_smooth)
                             | (best_smooth < FAR_MIN_ERROR))
    err[:, n_smooth:] = np.where(refuse, np.inf, err[:, n_smooth:])
    choice = err.argmin(axis=1)
    if pan is not None:
        # A large piece keeps the pan unless the affine fit of its own dense flow explains
        # it clearly better: a character filling the frame scales and turns. The largest
        # piece is the background the pan was measured on; on a smooth sky or a flat wall
        # its reliable samples are the occlusion edges of whatever moves in front, and a fit
        # to them is photometrically harmless but geometrically wrong (11.8 px end-point
        # error instead of 2.3 on a generated pan), which the network's init_flow inherits.
        own = forced & (err[:, 1] < PAN_MARGIN * err[:, 2])
        own[int(np.argmax(fa.desc.area))] = False
        choice[forced] = 2
        choice[own] = 1
    pick = np.take(choice.astype(np.uint8), labels, mode="clip")
    out = np.array(cands[0], np.float32)
    for c in range(1, len(cands)):
        # numpy, not cv2.compare: OpenCV takes a 1×1 array for a scalar and refuses it.
        mask = (pick == c).view(np.uint8)
        if mask.any():
            cv2.copyTo(np.ascontiguousarray(cands[c], np.float32), mask, out)
    s = _MOVER_STEP
    sampled = labels[::s, ::s]
    mean = piece_mean(out[::s, ::s], sampled, np.bincount(sampled.ravel(), minlength=n))
    # Each piece's motion as affine rows about its centroid: the fits where it took one, its
    # mean motion otherwise.
    rows = np.zeros((n, 2, 3))
    rows[:, :, 2] = mean
    rows[choice == 1] = p_dense[choice == 1]
    if ok.any():
        rows[choice == n_smooth + 1] = p_g[choice == n_smooth + 1]
    ref = np.zeros(2) if pan is None else pan
    against = np.hypot(mean[:, 0] - ref[0], mean[:, 1] - ref[1])
    member, obj = object_motions(labels, fa.desc.centroid, fa.desc.area, fa.desc.bbox,
                                 fa.touching, (against > OBJECT_MOTION) & ~forced, dense,
                                 w_dense)
    if member.any():
        # The object's motion is the smoother guess: a piece keeps its own only where that
        # explains it clearly better. Its error is piece_error's, on the box around the
        # object pieces (with a margin for the error's window).
        box = box_around(fa.desc.bbox[member], labels.shape, 2)
        y0, y1, x0, x1 = box
        field = affine_field(labels[y0:y1, x0:x1], fa.desc.centroid - (x0, y0), obj)
        mine = box_piece_error(fa.gray, fb.gray, field, box, labels, n, weigh_map, 1) / cnt
        take = member & (mine < OBJECT_GAIN * err[np.arange(n), choice])
        if take.any():
            inside = np.take(take, labels[y0:y1, x0:x1], mode="clip")
            out[y0:y1, x0:x1][inside] = field[inside]
            rows[take] = obj[take]
            mean[take] = piece_mean(out[::s, ::s], sampled,
                                    np.bincount(sampled.ravel(), minlength=n))[take]
            against = np.hypot(mean[:, 0] - ref[0], mean[:, 1] - ref[1])
    moving = np.zeros(n, bool)
    if pan is not None and pairs.size:
        moving[pairs[:, 0]] = True
        moving &= ~forced
        moving &= against > MOVER_MOTION
    return out, far & (choice >= n_smooth), moving, rows


def _adopt(f: SGMFrame, g: SGMFrame, flow: np.ndarray, rows: np.ndarray, movers: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Pieces touching a mover, directly or through pieces that already took its motion,
    take that motion where it explains them better
    (:func:`~.objects.adopt_neighbour_motions`). Returns its ``(flow, source)``."""
    labels = f.seg.labels
    forced = f.desc.area > MAX_PIECE_FRACTION * labels.size
    # Flat interiors count here: a mouth is told from the skin around it by its colour, and
    # only a mover's motion is on offer.
    weight = (f.texture + 1.0) * ~f.seg.line_mask
    return adopt_neighbour_motions(
        f.gray, g.gray, flow, labels, f.desc.centroid, rows, weight, forced, movers,
        f.touching, ADOPT_ROUNDS, ADOPT_TRIES, ADOPT_GAIN, _MOVER_STEP, ADOPT_SEARCH)


def pair_flows(
    a: SGMFrame, b: SGMFrame, recorder: Recorder = NO_RECORDER,
    details: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bidirectional SGM flow between two prepared frames.

    Args:
        a, b: frames from :func:`prepare_frame` (same input size).
        recorder: receives the stages ``"flow"`` (dense DIS, per-piece flows, propagation,
            resizing) and ``"matching"`` (piece affinities and mutual matching).
        details: optional dict receiving what a person inspecting the result wants to see, at
            working resolution: ``"matches"`` (K×2 mutual matches, piece of a, piece of b),
            ``"guided12"`` / ``"guided21"`` (the matches trusted for guided flow in each
            direction, indexed from that direction's source frame), ``"dense12"`` /
            ``"dense21"`` (the DIS fallback flows), ``"flow12"`` / ``"flow21"`` (the
            final flows before scaling to the input size) and ``"front12"`` /
            ``"front21"`` (h×w bool: pixels of pieces that jumped far, on a matched piece's
            motion; synthesis puts them in front where they cross others), ``"movers12"`` /
            ``"movers21"`` (h×w bool: pixels of unrivalled matched pieces moving against the
            camera, and of pieces that took such a piece's motion, whose flows loop back;
            synthesis puts them in front where both frames' movers agree and keeps the frame
            blend out of the spots they left).

    Returns:
        ``(F12, F21)``, each H×W×2 float32 at the original frame size, in pixels of that size
        (channel 0 = x to the right, channel 1 = y down).
    """
    if a.orig_size != b.orig_size:
        raise ValueError(f"pair_flows: frame sizes differ {a.orig_size} vs {b.orig_size}")
    with recorder.stage("flow"):
        dis = make_dis(DENSE_PRESET)
        dense12 = dis_flow(dis, a.gray, b.gray)
        dense21 = dis_flow(dis, b.gray, a.gray)
    with recorder.stage("matching"):
        # The dense flow tells where each piece probably goes; matching scores candidates
        # around that prediction, and averaging both directions keeps the matrix consistent.
        off12 = piece_mean(dense12, a.seg.labels, a.desc.area)
        off21 = piece_mean(dense21, b.seg.labels, b.desc.area)
        # Appearance and penalties are shared by both directions and every prior below.
        terms = pair_affinity(a.desc, b.desc)
        aff = 0.5 * (terms.forward(off12) + terms.backward(off21))
        near = mutual_match(aff).pairs
        far = _far_matches(a, b, terms, near, off12, off21)
        matched = np.concatenate([near, far])
        pairs = _select_pairs(a, b, matched)
        pairs_back = _select_pairs(b, a, matched[:, ::-1].copy())
        far_a = np.zeros(a.seg.n_pieces, bool)
        far_b = np.zeros(b.seg.n_pieces, bool)
        far_a[far[:, 0]] = True
        far_b[far[:, 1]] = True
    with recorder.stage("flow"):
        patch_dis = make_dis(PATCH_PRESET)
        ok12, ok21 = _consistent(dense12, dense21), _consistent(dense21, dense12)
        f12, front_a, mover_a, rows_a = _direction(a, b, pairs, dense12, ok12, patch_dis, far_a)
        f21, front_b, mover_b, rows_b = _direction(b, a, pairs_back, dense21, ok21, patch_dis,
                                                   far_b)
    with recorder.stage("matching"):
        # Movers may go in front where they cross the background (see synthesis.softsplat).
        # A wrongly matched piece in front is a solid error instead of a faint one, so only
        # unrivalled matches qualify: on a checkerboard behind a sliding torus, shadow
        # squares matched to their neighbours cost 0.7 dB without that condition.
        ask = mover_a[matched[:, 0]] | mover_b[matched[:, 1]]
        unique = matched[ask][_unrivalled(terms, matched[ask], off12, off21)]
        mover_a &= np.isin(np.arange(a.seg.n_pieces), unique[:, 0])
        mover_b &= np.isin(np.arange(b.seg.n_pieces), unique[:, 1])
    with recorder.stage("flow"):
        f12, source_a = _adopt(a, b, f12, rows_a, mover_a)
        f21, source_b = _adopt(b, a, f21, rows_b, mover_b)
        # Where DIS is consistent both ways its per-pixel flow is a candidate too: a piece
        # that turns or scales is only roughly affine, and no per-piece motion fits it.
        f12 = refine_by_candidates(a.gray, b.gray, f12, REFINE_STEPS, fields=((dense12, ok12),))
        f21 = refine_by_candidates(b.gray, a.gray, f21, REFINE_STEPS, fields=((dense21, ok21),))
        out = resize_flow_hw2(f12, a.orig_size), resize_flow_hw2(f21, b.orig_size)
        # A mover drawn in front must be where its flow says at both ends: a piece whose
        # flows do not loop back (it deforms, or half of it is hidden) keeps the hedge. The
        # pieces that took a mover's motion are candidates with it.
        mover_a = _loops_back(f12, f21, a, mover_a[source_a])
        mover_b = _loops_back(f21, f12, b, mover_b[source_b])
    if details is not None:
        details.update(matches=matched, guided12=pairs, guided21=pairs_back,
                       dense12=dense12, dense21=dense21, flow12=f12, flow21=f21,
                       front12=front_a[a.seg.labels], front21=front_b[b.seg.labels],
                       movers12=mover_a[a.seg.labels], movers21=mover_b[b.seg.labels])
    return out


def sgm_flows(
    img1: torch.Tensor, img2: torch.Tensor, max_pixels: int = WORK_PIXELS
) -> tuple[torch.Tensor, torch.Tensor]:
    """SGM flows for a batch of frame pairs.

    Args:
        img1, img2: N×3×H×W float RGB in [0, 1] (any device).
        max_pixels: working-resolution area limit, see :func:`~.frame.work_size_for`.

    Returns:
        ``(F12, F21)``: N×2×H×W float32 on the input's device, pixels at input size,
        channel 0 = x.
    """
    if img1.shape != img2.shape or img1.dim() != 4 or img1.shape[1] != 3:
        raise ValueError(f"sgm_flows: need two N×3×H×W tensors, got {img1.shape}, {img2.shape}")
    f12s, f21s = [], []
    for k in range(img1.shape[0]):
        fa = prepare_frame(tensor_to_hwc(img1[k]), max_pixels)
        fb = prepare_frame(tensor_to_hwc(img2[k]), max_pixels)
        f12, f21 = pair_flows(fa, fb)
        f12s.append(hwc_to_tensor(f12))
        f21s.append(hwc_to_tensor(f21))
    return torch.cat(f12s).to(img1.device), torch.cat(f21s).to(img1.device)
