"""``python -m vsanimeinterp profile``: stage timings and peak memory per configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import conformance_dir

from vsanimeinterp.__main__ import main
from vsanimeinterp.engines import network as network_engine

CKPT = conformance_dir() / "anime_interp_conformance.ckpt"


def test_profile_sgm_and_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engines = "sgm,animeinterp" if CKPT.is_file() else "sgm"
    out = tmp_path / "p.json"
    # Both look-ups, reduced flows and tiles: every option reaches the worker's engine.
    args = ["profile", "--sizes", "192x128", "--engines", engines, "--devices", "cpu",
            "--corr", "all-pairs,bounded", "--flow-scale", "0.5", "--tile-size", "64",
            "--threads", "1", "--json", str(out)]
    if CKPT.is_file():
        args += ["--checkpoint", str(CKPT)]
    assert main(args) == 0
    rows = json.loads(out.read_text())
    want = [("sgm", None)] + ([("animeinterp", "all-pairs"), ("animeinterp", "bounded")]
                              if CKPT.is_file() else [])
    assert [(r["engine"], r["corr"]) for r in rows] == want
    stages = {"sgm": {"segmentation", "matching", "flow", "synthesis"},
              "animeinterp": {"sgm", "rfr", "synthesis"}}
    for r in rows:
        assert set(r["stages_s"]) == stages[r["engine"]]
        assert all(v > 0 for v in r["stages_s"].values())
        assert r["total_s"] == pytest.approx(sum(r["stages_s"].values()), abs=1e-3)
        assert (r["width"], r["height"], r["flow_scale"]) == (192, 128, 0.5)
        assert r["peak_rss_mib"] > 0
        if r["engine"] == "animeinterp":
            assert r["corr_used"] == r["corr"]
            assert r["tile_size"] == 64
    assert "s/frame" in capsys.readouterr().out


@pytest.mark.skipif(not CKPT.is_file(), reason=f"no checkpoint at {CKPT}")
def test_profile_skips_all_pairs_that_would_not_fit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(network_engine, "available_memory", lambda device: 1 << 20)
    assert main(["profile", "--sizes", "1080p", "--engines", "animeinterp", "--devices", "cpu",
                 "--corr", "all-pairs", "--checkpoint", str(CKPT)]) == 1  # no rows
    err = capsys.readouterr().err
    # 1080p: 4 levels of (135·240) × its pooled sizes, float32, counted twice: 10.4 GiB.
    assert "skipped, all-pairs needs about 10.4 GiB, 0.0 free" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--engines", "rife"], "unknown engine"), (["--devices", "tpu"], "unknown device"),
     (["--corr", "fast"], "unknown --corr"), (["--flow-scale", "2"], "--flow-scale must be"),
     (["--tile-size", "30"], "--tile-size must be"),
     (["--tile-overlap", "6"], "--tile-overlap must be")],
)
def test_profile_bad_arguments(capsys: pytest.CaptureFixture[str], args: list[str],
                               message: str) -> None:
    assert main(["profile", "--engines", "sgm", *args]) == 1
    assert message in capsys.readouterr().err


def test_profile_quiet_leaves_only_the_results(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["profile", "--sizes", "64x64", "--engines", "sgm", "--devices", "cpu",
            "--threads", "1"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "sgm cpu 64x64: measuring" in err
    assert "s/frame" in out
    assert main([*args, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "s/frame" in out
