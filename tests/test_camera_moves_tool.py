"""``tools/camera_moves.py``: camera moves over stills, the fusion's training augmentation,
and ``train_fusion.py --extra``, which trains on them in both folds and never scores them."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from conftest import REPO


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


cam = _load("camera_moves")


def test_the_view_never_leaves_the_still() -> None:
    # Outside the still there is only made-up picture (the border rule's reflection): no
    # frame of any move may show it.
    rng = np.random.default_rng(0)
    corners = np.array([[0, 0, 1], [960, 0, 1], [0, 540, 1], [960, 540, 1]], float).T
    for _ in range(3000):
        for m in cam.path((960, 540), rng):
            x, y = m @ corners
            assert x.min() >= 0 and x.max() <= 960 and y.min() >= 0 and y.max() <= 540


def test_the_middle_frame_is_the_camera_halfway() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        m0, m1, m2 = cam.path((320, 180), rng)
        s = [math.sqrt(abs(np.linalg.det(m[:, :2]))) for m in (m0, m1, m2)]
        a = [math.atan2(m[1, 0], m[0, 0]) for m in (m0, m1, m2)]
        centre = [m @ np.array([160, 90, 1.0]) for m in (m0, m1, m2)]
        assert math.isclose(math.log(s[1]), (math.log(s[0]) + math.log(s[2])) / 2,
                            abs_tol=1e-9)
        assert math.isclose(a[1], (a[0] + a[2]) / 2, abs_tol=1e-9)
        np.testing.assert_allclose(centre[1], (centre[0] + centre[2]) / 2, atol=1e-9)
        # Every move zooms or turns by a visible amount.
        assert abs(math.log(s[2] / s[0])) >= 0.02 or abs(math.degrees(a[2] - a[0])) >= 1.5


def _set(root: Path, kind: str, scene: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    img = (rng.random((9, 16, 3)) * 255).astype(np.uint8)
    img = cv2.resize(img, (160, 90), interpolation=cv2.INTER_NEAREST)
    for k in range(2):
        d = root / kind / f"{scene}_{k:04d}"
        d.mkdir(parents=True)
        for i in (1, 2, 3):
            cv2.imwrite(str(d / f"frame{i}.png"), img)


def test_tool_moves_the_stills_and_skips_moving_art(tmp_path: Path) -> None:
    src = tmp_path / "dev"
    _set(src, "sprites", "walk", 1)
    _set(src, "sprites", "fly", 2)
    _set(src, "moving_art", "zoom", 3)
    out = tmp_path / "cam"
    subprocess.run([sys.executable, str(REPO / "tools/camera_moves.py"), str(out),
                    "--set", f"dev={src}", "--per-scene", "2"], check=True,
                   capture_output=True)
    names = sorted(p.name for p in (out / "camera").iterdir())
    assert names == ["dev-fly_0000", "dev-fly_0001", "dev-walk_0000", "dev-walk_0001"]
    f1, f2, f3 = (cv2.imread(str(out / "camera/dev-walk_0000" / f"frame{i}.png")).astype(float)
                  for i in (1, 2, 3))
    assert f1.shape == (90, 160, 3)
    # The camera moves: the middle frame is neither end nor their average.
    for other in (f1, f3, (f1 + f3) / 2):
        assert np.abs(f2 - other).mean() > 2


def test_extra_sets_are_trained_in_both_folds_and_scored_in_neither(tmp_path: Path) -> None:
    tool = _load("train_fusion")
    sets = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "vsanimeinterp", "make-testset", str(sets),
                    "--count", "2", "--size", "96x64", "--seed", "4", "-q"], check=True)
    extra = tool.load_sets([f"cam={sets}"], None, fold=-1)
    own = tool.load_sets([f"gen={sets}"], None)
    assert [t.fold for t in extra] == [-1, -1]
    assert sorted(t.fold for t in own) == [0, 1]


def test_extra_weight_scales_the_loss_of_a_triplets_samples(tmp_path: Path) -> None:
    tool = _load("train_fusion")
    sets = tmp_path / "set"
    subprocess.run([sys.executable, "-m", "vsanimeinterp", "make-testset", str(sets),
                    "--count", "1", "--size", "96x64", "--seed", "5", "-q"], check=True)
    (tr,) = tool.load_sets([f"cam={sets}"], None, fold=-1)
    full = tool.samples(tr, 200, np.random.default_rng(0))
    tr.weight = 0.3
    light = tool.samples(tr, 200, np.random.default_rng(0))
    assert full[4] and all(len(w) > 0 for w in full[4])
    for a, b in zip(full[4], light[4], strict=True):
        np.testing.assert_allclose(b.numpy(), 0.3 * a.numpy(), rtol=1e-6)
    # Only the loss weight changes, not the samples.
    for a, b in zip(full[0], light[0], strict=True):
        assert np.array_equal(a.numpy(), b.numpy())


def test_a_set_that_is_not_name_and_folder_is_refused_by_name(tmp_path: Path) -> None:
    # A careless --set (no name, a folder that is not there) must stop at the argument, not
    # as a traceback after minutes of work; every tool that takes sets says the same.
    for tool, args in (("camera_moves.py", [str(tmp_path / "out")]),
                       ("train_fusion.py", []), ("score_sets.py", [])):
        for bad in (str(tmp_path), f"dev={tmp_path / 'missing'}"):
            res = subprocess.run([sys.executable, str(REPO / "tools" / tool), *args,
                                  "--set", bad], capture_output=True, text=True)
            assert res.returncode == 2, (tool, bad, res.stderr)
            assert "--set" in res.stderr and "NAME=DIR" in res.stderr
    assert not (tmp_path / "out").exists()
