"""The memory-bounded correlation look-up against the all-pairs volume."""

from __future__ import annotations

import pytest
import torch
import vapoursynth as vs

import vsanimeinterp
from vsanimeinterp.network import corr as corr_mod
from vsanimeinterp.network.corr import BoundedCorrPyramid, CorrPyramid, all_pairs_bytes, make_corr


@pytest.mark.parametrize(("h", "w", "chunk"), [(17, 23, None), (16, 16, 4096), (20, 31, 1)])
@pytest.mark.parametrize("dense", [0, None, 10**9])
def test_bounded_equals_all_pairs(h: int, w: int, chunk: int | None, dense: int | None) -> None:
    torch.manual_seed(0)
    f1, f2 = torch.randn(2, 2, 64, h, w)
    grid = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(h), indexing="xy")).float()
    # Large, fractional displacements push many windows partly or wholly out of the frame.
    coords = grid[None] + 6 * torch.randn(2, 2, h, w)
    want = CorrPyramid(f1, f2)(coords)
    look_up = BoundedCorrPyramid(f1, f2, chunk_bytes=chunk, dense_bytes=dense)
    # 0: every level gathered; default: levels 1-3 dense (small maps); never the finest.
    assert [level[3] for level in look_up.levels] == [False] + [dense != 0] * 3
    got = look_up(coords)
    assert got.shape == want.shape == (2, 4 * 81, h, w)
    assert torch.allclose(got, want, atol=1e-5, rtol=1e-5)


def test_bounded_dense_levels_follow_the_budget() -> None:
    f = torch.zeros(1, 8, 32, 32)
    q = 32 * 32 * 4  # bytes of one query row per target pixel
    sizes = [q * 16 * 16, q * 8 * 8, q * 4 * 4]  # levels 1, 2, 3
    for budget, want in [(sizes[2] - 1, [False] * 4),
                         (sizes[2], [False, False, False, True]),
                         (sizes[2] + sizes[1], [False, False, True, True]),
                         (sum(sizes), [False, True, True, True]),
                         (10**12, [False, True, True, True])]:
        look_up = BoundedCorrPyramid(f, f, dense_bytes=budget)
        assert [level[3] for level in look_up.levels] == want, budget


def test_auto_switches_by_volume(monkeypatch: pytest.MonkeyPatch) -> None:
    f = torch.zeros(1, 8, 16, 16)
    assert isinstance(make_corr(f, f, "auto"), CorrPyramid)
    monkeypatch.setattr(corr_mod, "ALL_PAIRS_BUDGET", all_pairs_bytes(1, 16, 16) - 1)
    assert isinstance(make_corr(f, f, "auto"), BoundedCorrPyramid)
    assert isinstance(make_corr(f, f, "all-pairs"), CorrPyramid)
    with pytest.raises(ValueError, match="corr mode"):
        make_corr(f, f, "fast")


def test_all_pairs_bytes() -> None:
    # 1080p: 1/8-scale 135×240 features; the finest level alone is 4.2 GB.
    assert all_pairs_bytes(1, 135, 240, levels=1) == (135 * 240) ** 2 * 4
    assert all_pairs_bytes(1, 135, 240) > 5e9


def test_interpolate_rejects_unknown_corr() -> None:
    with pytest.raises(vs.Error, match=r"interpolate: corr must be one of"):
        vsanimeinterp.interpolate(vs.core.std.BlankClip(length=3), corr="fast")
