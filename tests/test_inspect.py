"""``python -m vsanimeinterp inspect``: pictures of what SGM did with one frame pair."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vsanimeinterp.__main__ import main
from vsanimeinterp.metrics import to_uint8
from vsanimeinterp.synthetic import make_triplets

PICTURES = ("segmentation.png", "matches.png", "flows.png", "middle.png")


def _write(path: Path, img: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(to_uint8(img), cv2.COLOR_RGB2BGR))
    return path


def test_inspect_two_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tr = make_triplets(1, width=320, height=180, seed=2)[0]
    f1 = _write(tmp_path / "a.png", tr.frame0)
    f2 = _write(tmp_path / "b.png", tr.frame1)
    out = tmp_path / "out"
    assert main(["inspect", str(f1), str(f2), "--out", str(out)]) == 0
    for name in PICTURES:
        img = cv2.imread(str(out / name))
        assert img is not None and img.shape[0] >= 180 and img.std() > 10, name
    summary = (out / "summary.txt").read_text()
    assert "input 320x180" in summary and "mutual matches" in summary
    assert str(out / "flows.png") in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.png", "missing2.png"], "no such file"),
        ([], "give two frame images"),
        (["--demo", "x.png"], "not both"),
    ],
)
def test_inspect_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["inspect", *args, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_inspect_frames_of_different_sizes(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    a = _write(tmp_path / "a.png", np.zeros((40, 60, 3)))
    b = _write(tmp_path / "b.png", np.zeros((40, 64, 3)))
    assert main(["inspect", str(a), str(b), "--out", str(tmp_path / "o")]) == 1
    assert "sizes differ" in capsys.readouterr().err
