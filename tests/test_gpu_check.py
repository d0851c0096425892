"""``tools/gpu_check.py --smoke``: the GPU check's own code, run on the CPU at tiny sizes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, conformance_dir

needs_conformance = pytest.mark.skipif(
    not (conformance_dir() / "cases.npz").is_file(), reason="no conformance data")


@needs_conformance
def test_gpu_check_smoke(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gpu_check.py"), "--smoke", "--out",
         str(tmp_path), "--conformance", str(conformance_dir())],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    assert report["smoke"] is True
    assert report["conformance"]["status"] == "passed"
    assert len(report["conformance"]["rows"]) == 3
    settings = {s["setting"]: s for s in report["stages"]}
    assert set(settings) == {"default", "flow_scale 0.5", "init_flow none"}
    for step in settings.values():
        assert step["status"] == "passed", step
        (row,) = step["result"]
        assert set(row["stages_s"]) == {"sgm", "rfr", "synthesis"}
    # No SGM work at all without SGM initialisation.
    assert settings["init_flow none"]["result"][0]["stages_s"]["sgm"] == 0
    assert settings["default"]["result"][0]["stages_s"]["sgm"] > 0
    labels = [r["label"] for r in report["end_to_end"]["result"]["runs"]]
    assert labels[:1] == ["blend"] and "animeinterp init_flow=none (cpu)" in labels
    assert report["errors"]["device_index"]["status"] == "passed"
    assert report["errors"]["out_of_memory"]["status"] == "skipped"
    assert "end to end (passed)" in proc.stdout
