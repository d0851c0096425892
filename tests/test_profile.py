"""``python -m vsanimeinterp profile``: stage timings and peak memory per configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import conformance_dir

from vsanimeinterp.__main__ import main


def test_profile_sgm_and_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = conformance_dir() / "anime_interp_conformance.ckpt"
    engines = "sgm,animeinterp" if ckpt.is_file() else "sgm"
    out = tmp_path / "p.json"
    args = ["profile", "--sizes", "192x128", "--engines", engines, "--threads", "1",
            "--json", str(out)]
    if ckpt.is_file():
        args += ["--checkpoint", str(ckpt)]
    assert main(args) == 0
    rows = json.loads(out.read_text())
    assert [r["engine"] for r in rows] == engines.split(",")
    stages = {"sgm": {"segmentation", "matching", "flow", "synthesis"},
              "animeinterp": {"sgm", "rfr", "synthesis"}}
    for r in rows:
        assert set(r["stages_s"]) == stages[r["engine"]]
        assert all(v > 0 for v in r["stages_s"].values())
        assert r["total_s"] == pytest.approx(sum(r["stages_s"].values()), abs=1e-3)
        assert (r["width"], r["height"]) == (192, 128)
        assert r["peak_rss_mib"] > 0
    assert "s/frame" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--engines", "rife"], "unknown engine"), (["--devices", "tpu"], "unknown device")],
)
def test_profile_bad_arguments(capsys: pytest.CaptureFixture[str], args: list[str],
                               message: str) -> None:
    assert main(["profile", "--engines", "sgm", *args]) == 1
    assert message in capsys.readouterr().err
