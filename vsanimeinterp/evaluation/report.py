"""What an evaluation reports: summaries, the Markdown table, CSV/JSON files and pictures of
the worst cases.

Means are taken over triplets (nan values, e.g. SSIM on a RoI smaller than its window, left
out), overall and per level.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from ..metrics import METRICS, PSNR_CAP, error_norm, to_uint8
from .annotation import LEVELS

#: Error-map scale: this RGB distance (0..255 units) and above is drawn at full brightness.
ERROR_MAP_MAX = 64.0


@dataclass
class Evaluation:
    """What :func:`vsanimeinterp.evaluation.protocol.evaluate` measured.

    Attributes:
        rows: one dict per triplet: ``name``, ``level``, ``roi`` (x, y, w, h or None),
            ``seconds`` (prediction time), the :data:`~vsanimeinterp.metrics.METRICS` of the
            method, and for each baseline ``b`` the same metrics as ``<metric>_<b>``.
        method: label of the evaluated predictor; baselines: labels of the baselines.
        ssim_variant: the SSIM variant used (:data:`~vsanimeinterp.metrics.SSIM_VARIANTS`).
        summary: ``{subset: {metric: mean, "count": n}}`` for subsets ``all`` and each level
            present, with baseline metrics suffixed as in ``rows``.
    """

    rows: list[dict[str, Any]]
    method: str
    baselines: list[str]
    ssim_variant: str
    summary: dict[str, dict[str, float]] = field(default_factory=dict)


class WorstCase(NamedTuple):
    """One triplet to draw: its name, PSNR (dB) and images (H×W×3 float RGB in [0, 1]), and
    its RoI ``(x, y, w, h)`` in pixels or None."""

    name: str
    psnr: float
    frame1: np.ndarray
    pred: np.ndarray
    truth: np.ndarray
    roi: tuple[int, int, int, int] | None


def mean_finite(values: Sequence[float]) -> float:
    """Mean of the values that are not nan; nan if there are none."""
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


def metric_keys(baselines: Sequence[str]) -> list[str]:
    """The metric columns of a row: the method's, then each baseline's (``<metric>_<b>``)."""
    return list(METRICS) + [f"{k}_{b}" for b in baselines for k in METRICS]


def summarize(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """Means of ``keys`` over all rows and per level (nan values left out)."""
    subsets: dict[str, list[dict[str, Any]]] = {"all": list(rows)}
    for level in LEVELS:
        chosen = [r for r in rows if r["level"] == level]
        if chosen:
            subsets[level] = chosen
    return {
        name: {"count": len(chosen), **{k: mean_finite([r[k] for r in chosen]) for k in keys}}
        for name, chosen in subsets.items()
    }


def panel_strip(
    frame1: np.ndarray,
    pred: np.ndarray,
    truth: np.ndarray,
    roi: tuple[int, int, int, int] | None,
    title: str,
) -> np.ndarray:
    """frame1 | prediction | truth | error map as one uint8 RGB image with labels; frames are
    H×W×3 float RGB in [0, 1], the strip is at most 4 × 960 pixels wide plus the gaps."""
    err = np.clip(error_norm(pred, truth) / ERROR_MAP_MAX * 255.0, 0, 255).astype(np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(err, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    panels = [to_uint8(frame1), to_uint8(pred), to_uint8(truth), heat]
    labels = ["frame1", f"prediction  {title}", "truth (frame2)",
              f"|error| 0-{ERROR_MAP_MAX:g} of 255"]
    h, w = panels[0].shape[:2]
    scale = min(1.0, 960.0 / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    band = 22
    out = []
    for k, (img, label) in enumerate(zip(panels, labels, strict=True)):
        img = img.copy()
        if roi is not None and k in (1, 3):  # box the RoI on the prediction and the error
            x, y, rw, rh = roi
            cv2.rectangle(img, (x, y), (x + rw - 1, y + rh - 1), (0, 255, 0), max(1, w // 480))
        if scale != 1.0:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        top = np.full((band, size[0], 3), 24, np.uint8)
        cv2.putText(top, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1,
                    cv2.LINE_AA)
        out.append(np.concatenate([top, img], axis=0))
        out.append(np.full((size[1] + band, 2, 3), 255, np.uint8))
    return np.concatenate(out[:-1], axis=1)


def write_worst(folder: Path, cases: Sequence[WorstCase]) -> list[Path]:
    """Draw ``cases`` (worst first) into ``folder`` as ``NN_<name>.png`` (NN = rank from 01):
    frame1 | prediction | truth | error map, RoI boxed in green. Returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for rank, case in enumerate(cases, start=1):
        strip = panel_strip(case.frame1, case.pred, case.truth, case.roi,
                            f"PSNR {case.psnr:.2f} dB")
        path = folder / f"{rank:02d}_{case.name}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
        paths.append(path)
    return paths


def _json_number(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def write_reports(result: Evaluation, out: Path, source: Path) -> dict[str, Path]:
    """``results.csv`` (one row per triplet), ``results.json`` (settings, summary, rows; nan
    as null) and ``summary.md`` in ``out``; returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    keys = metric_keys(result.baselines)
    paths = {"csv": out / "results.csv", "json": out / "results.json", "md": out / "summary.md"}
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "level", "roi_x", "roi_y", "roi_width", "roi_height",
                         "seconds", *keys])
        for r in result.rows:
            roi = r["roi"] or ("", "", "", "")
            writer.writerow([r["name"], r["level"] or "", *roi, f"{r['seconds']:.4f}",
                             *("" if math.isnan(r[k]) else f"{r[k]:.6f}" for k in keys)])
    doc = {
        "set": str(source),
        "method": result.method,
        "baselines": result.baselines,
        "ssim": result.ssim_variant,
        "psnr_cap_db": PSNR_CAP,
        "ie": "mean over pixels of the Euclidean norm of the RGB difference, 0..255 scale",
        "chamfer": "EISAI's chamfer line distance (difference-of-Gaussians lines), fraction "
                   "of the image diagonal",
        "summary": {s: {k: _json_number(v) for k, v in d.items()}
                    for s, d in result.summary.items()},
        "triplets": [{k: _json_number(v) for k, v in r.items()} for r in result.rows],
    }
    paths["json"].write_text(json.dumps(doc, indent=2) + "\n")
    paths["md"].write_text(markdown_summary(result, source))
    return paths


def _fmt(v: float, digits: int) -> str:
    return "–" if math.isnan(v) else f"{v:.{digits}f}"


def markdown_summary(result: Evaluation, source: Path) -> str:
    """The summary table (subset × method) as Markdown."""
    lines = [
        f"# Evaluation of `{source}`",
        "",
        f"{result.summary['all']['count']} triplets; SSIM: {result.ssim_variant}; PSNR on RGB "
        f"in [0, 1], capped at {PSNR_CAP:g} dB; IE: mean RGB distance, 0..255 scale; CD: "
        "EISAI's chamfer line distance ×10⁴ (lower is better).",
        "",
        "| subset | n | method | PSNR | SSIM | IE | CD | PSNR RoI | SSIM RoI | IE RoI | CD RoI |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for subset, d in result.summary.items():
        for label, suffix in [(result.method, "")] + [(b, f"_{b}") for b in result.baselines]:
            vals = [d[f"{k}{suffix}"] * (1e4 if k.startswith("chamfer") else 1)
                    for k in METRICS]
            digits = (2, 4, 2, 2, 2, 4, 2, 2)
            cells = " | ".join(_fmt(v, n) for v, n in zip(vals, digits, strict=True))
            lines.append(f"| {subset} | {int(d['count'])} | {label} | {cells} |")
    seconds = mean_finite([r["seconds"] for r in result.rows])
    lines += ["", f"Prediction time: {seconds:.3f} s per triplet (wall, mean)."]
    worst = sorted(result.rows, key=lambda r: r["psnr"])[:5]
    lines += ["", "Lowest PSNR: " + ", ".join(f"`{r['name']}` {r['psnr']:.2f} dB" for r in worst)]
    return "\n".join(lines) + "\n"
