"""Quality of the weight-free engine on generated cartoon triplets, through the public filter.

Each triplet is a pair of cel frames and the true middle frame drawn by the generator at
t = 0.5. The pair goes through ``interpolate(factor 2)`` as an RGB24 clip (8-bit, like
delivered video) and output frame 1 is compared with the truth on 8-bit RGB, the paper's
PSNR protocol. Baselines: frame blending, and MVTools FlowFPS set up as encoders do.

Measured when these bounds were set (480×270, seed 3, 4 triplets): SGM 28.5 dB mean, MVTools
27.1 dB, blend 22.4 dB, every triplet at least 3.4 dB above blending; mean end-point error of
F12 against the true motion 1.0 px while the true motion averages 8 px (up to 53 px).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import vapoursynth as vs

import vsanimeinterp
from vsanimeinterp.cli.baselines import has_mvtools, mvtools_clip
from vsanimeinterp.metrics import psnr8
from vsanimeinterp.sgm import sgm_flows
from vsanimeinterp.synthetic import CartoonTriplet, make_triplets
from vsanimeinterp.vsfilter.frames import clip_from_arrays, clip_to_arrays

WIDTH, HEIGHT = 480, 270


@pytest.fixture(scope="module")
def triplets() -> list[CartoonTriplet]:
    return make_triplets(4, width=WIDTH, height=HEIGHT, seed=3)


def _middle(clip: vs.VideoNode) -> np.ndarray:
    return clip_to_arrays(clip[1])[0]


def _pair_clip(tr: CartoonTriplet) -> vs.VideoNode:
    return clip_from_arrays([tr.frame0, tr.frame1], format=vs.RGB24)


def _mvtools_middle(clip: vs.VideoNode) -> np.ndarray:
    return _middle(mvtools_clip(clip, 2))


@pytest.fixture(scope="module")
def sgm_results(triplets: list[CartoonTriplet]) -> list[tuple[float, float]]:
    """(SGM PSNR, blend PSNR) per triplet, through interpolate()."""
    rows = []
    for tr in triplets:
        out = _middle(vsanimeinterp.interpolate(_pair_clip(tr), engine="sgm", device="cpu"))
        blend = 0.5 * (tr.frame0 + tr.frame1)
        rows.append((psnr8(out, tr.frame_mid), psnr8(blend, tr.frame_mid)))
    return rows


def test_sgm_beats_blending_by_a_clear_margin(sgm_results: list[tuple[float, float]]) -> None:
    sgm, blend = np.array(sgm_results).T
    assert sgm.mean() >= blend.mean() + 4.0, (sgm, blend)
    assert np.all(sgm >= blend + 2.0), (sgm, blend)


def test_sgm_at_least_as_good_as_mvtools(
    triplets: list[CartoonTriplet], sgm_results: list[tuple[float, float]]
) -> None:
    if not has_mvtools():
        pytest.skip("vapoursynth-mvtools is not installed")
    mv = [psnr8(_mvtools_middle(_pair_clip(tr)), tr.frame_mid) for tr in triplets]
    sgm = [s for s, _ in sgm_results]
    assert np.mean(sgm) >= np.mean(mv), (sgm, mv)


def test_sgm_flow_end_point_error_is_bounded(triplets: list[CartoonTriplet]) -> None:
    for tr in triplets:
        a = torch.from_numpy(np.ascontiguousarray(tr.frame0)).permute(2, 0, 1)[None].float()
        b = torch.from_numpy(np.ascontiguousarray(tr.frame1)).permute(2, 0, 1)[None].float()
        f12, _ = sgm_flows(a, b)
        est = f12[0].permute(1, 2, 0).numpy()
        epe = np.linalg.norm(est - tr.flow01, axis=2).mean()
        motion = np.linalg.norm(tr.flow01, axis=2).mean()
        # A zero flow would score ``motion``; the engine must recover most of it.
        assert epe <= 2.0 and epe <= 0.3 * motion, (epe, motion)
