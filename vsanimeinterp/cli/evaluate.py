"""``python -m vsanimeinterp evaluate DIR``: the AnimeInterp paper's protocol on a triplet set.

The set is in ATD-12K layout: one folder per triplet, ``DIR/<name>/frame1.*``, ``frame2.*``,
``frame3.*`` (PNG, JPEG, ...). Frame2 is predicted from frames 1 and 3 through the public
filter, as users get it: the two frames become a 2-frame RGBS clip, ``interpolate(clip,
factor_num=2, sc=False, <engine options>)``, and its output frame 1 (t = 0.5) is the
prediction (float RGB, clamped to [0, 1]; scene-cut detection is off because every triplet
is one shot). One ``interpolate()`` call serves all triplets of a frame size, so the
network is loaded once.

Annotations (optional) are looked for, per triplet, at ``ANN/<name>/<name>.json`` and
``ANN/<name>.json`` for ``--annotations ANN``, else at ``DIR/<name>.json``,
``DIR/<name>/<name>.json`` and, for the real data set, ``DIR/../test_2k_annotations/<name>/
<name>.json``. The fields used are those the authors' test script reads: ``motion_RoI``
(``{"x", "y", "width", "height"}``, pixels of ``image_size = [width, height]``, scaled to the
frames as the script scales them) and ``level`` (0/1/2 or ``"easy"``/``"medium"``/``"hard"``).

Metrics, each on the whole frame and on the motion RoI, on float RGB in [0, 1]:

* PSNR: ``10·log10(1 / MSE)`` over all pixels and channels, capped at
  :data:`PSNR_CAP` dB (an exact prediction would be infinite);
* SSIM, ``--ssim paper`` (default): Wang et al.'s Gaussian-weighted SSIM (σ = 1.5, 11×11
  window, population covariance, data range 1), the mean over the three channels. The
  authors' script asks for it with ``compare_ssim(..., multichannel=True, gaussian=True)``,
  but ``gaussian`` is not a parameter of scikit-image's function, whose old versions
  silently ignored unknown keywords; what it computed was the 7×7 uniform-window SSIM with
  sample covariance and, float images having a nominal range of -1..1 there, data range 2.
  ``--ssim authors-script`` computes that, to compare with the published tables;
* IE (interpolation error), as the authors' script computes it: the mean over pixels of the
  Euclidean norm of the RGB difference on the 0..255 scale. (Middlebury's IE is the root
  mean square of that norm instead; IE ≤ RMS, equal when the error is uniform.)

Means are taken over triplets (nan values, e.g. SSIM on a RoI smaller than its window,
left out), overall and per level.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import (
    CommandError,
    add_engine_arguments,
    engine_kwargs,
    positive_int,
    resolved_engine,
)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: PSNR (dB) reported for a prediction within rounding of the truth (MSE ≤ 1e-10).
PSNR_CAP = 100.0
SSIM_VARIANTS = ("paper", "authors-script")
LEVELS = ("easy", "medium", "hard")
_LEVEL_ALIASES = {"0": "easy", "easy": "easy", "1": "medium", "mid": "medium",
                  "medium": "medium", "2": "hard", "hard": "hard"}
METRICS = ("psnr", "ssim", "ie", "psnr_roi", "ssim_roi", "ie_roi")
#: Error-map scale: this RGB distance (0..255 units) and above is drawn at full brightness.
ERROR_MAP_MAX = 64.0

# A predictor maps (triplet index, frame1, frame3), frames H×W×3 float32 RGB in [0, 1], to the
# predicted frame2 of the same shape and range.
Predictor = Callable[[int, Any, Any], Any]


@dataclass
class Triplet:
    """One triplet of a set: its frame files and what its annotation says.

    Attributes:
        name: folder name.
        frames: paths of frame1, frame2 (the truth), frame3.
        annotation: the JSON file found for it, or None.
        roi: motion RoI ``(x, y, width, height)`` in the annotation's pixels, or None.
        image_size: ``(width, height)`` the RoI refers to (``image_size``), or None: the
            frames' own size.
        level: ``"easy"``, ``"medium"``, ``"hard"`` or None.
    """

    name: str
    frames: tuple[Path, Path, Path]
    annotation: Path | None = None
    roi: tuple[float, float, float, float] | None = None
    image_size: tuple[int, int] | None = None
    level: str | None = None

    def roi_pixels(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """The RoI on frames of ``width``×``height`` pixels, clipped to them; scaled from
        ``image_size`` as the authors' script does (``int(v // scale)``). None if there is no
        RoI or nothing of it is inside the frame."""
        if self.roi is None:
            return None
        iw, ih = self.image_size or (width, height)
        sx, sy = iw / width, ih / height
        x, y = int(self.roi[0] // sx), int(self.roi[1] // sy)
        w, h = int(self.roi[2] // sx), int(self.roi[3] // sy)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(width, x + w), min(height, y + h)
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1 - x0, y1 - y0)


def _frame_file(folder: Path, stem: str) -> Path | None:
    for ext in IMAGE_EXTENSIONS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None


def _parse_annotation(path: Path, triplet: Triplet) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read annotation {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"annotation {path} is not a JSON object")
    triplet.annotation = path
    roi = data.get("motion_RoI")
    if roi is not None:
        try:
            triplet.roi = tuple(float(roi[k]) for k in ("x", "y", "width", "height"))  # type: ignore[assignment]
        except (KeyError, TypeError, ValueError):
            raise CommandError(
                f"annotation {path}: motion_RoI must have numbers x, y, width, height"
            ) from None
    size = data.get("image_size")
    if size is not None:
        try:
            triplet.image_size = (int(size[0]), int(size[1]))
        except (IndexError, TypeError, ValueError):
            raise CommandError(f"annotation {path}: image_size must be [width, height]") from None
    level = data.get("level")
    if level is not None:
        name = _LEVEL_ALIASES.get(str(level).strip().lower())
        if name is None:
            raise CommandError(
                f"annotation {path}: level must be 0/1/2 or easy/medium/hard, got {level!r}"
            )
        triplet.level = name


def find_triplets(root: Path, annotations: Path | None = None) -> list[Triplet]:
    """The triplets under ``root`` (sorted by name) with their annotations (see the module
    docstring). Folders without all three frames are skipped. Raises :class:`CommandError`
    when ``root`` is not a directory or holds no triplet."""
    root = Path(root)
    if not root.is_dir():
        raise CommandError(f"{root} is not a directory")
    if annotations is not None and not Path(annotations).is_dir():
        raise CommandError(f"annotations folder {annotations} is not a directory")
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        files = [_frame_file(folder, f"frame{k}") for k in (1, 2, 3)]
        if any(f is None for f in files):
            continue
        t = Triplet(folder.name, tuple(files))  # type: ignore[arg-type]
        name = folder.name
        if annotations is not None:
            places = [annotations / name / f"{name}.json", annotations / f"{name}.json"]
        else:
            places = [root / f"{name}.json", folder / f"{name}.json",
                      root.parent / "test_2k_annotations" / name / f"{name}.json"]
        for place in places:
            if place.is_file():
                _parse_annotation(place, t)
                break
        found.append(t)
    if not found:
        raise CommandError(
            f"no triplets in {root}: expected folders holding frame1, frame2 and frame3 images"
        )
    return found


def load_image(path: Path) -> Any:
    """An image file as H×W×3 float32 RGB in [0, 1] (8- or 16-bit; grey is repeated, alpha
    dropped)."""
    import cv2
    import numpy as np

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise CommandError(f"cannot read image {path}")
    scale = 65535.0 if img.dtype == np.uint16 else 255.0 if img.dtype == np.uint8 else 1.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return (img.astype(np.float32) / np.float32(scale)).clip(0, 1)


# ---- metrics ------------------------------------------------------------------------------


def psnr(pred: Any, truth: Any) -> float:
    """PSNR in dB of two H×W×3 float images in [0, 1] (data range 1), capped at
    :data:`PSNR_CAP`."""
    import numpy as np

    diff = np.asarray(pred, np.float64) - np.asarray(truth, np.float64)
    mse = float(np.mean(diff * diff))
    if mse <= 10.0 ** (-PSNR_CAP / 10.0):
        return PSNR_CAP
    return 10.0 * math.log10(1.0 / mse)


def ssim(pred: Any, truth: Any, variant: str = "paper") -> float:
    """SSIM of two H×W×3 float images in [0, 1], mean over channels; ``variant`` is
    ``"paper"`` or ``"authors-script"`` (see the module docstring). nan when the image is
    smaller than the window (11 or 7 pixels)."""
    import numpy as np
    from skimage.metrics import structural_similarity

    a, b = np.asarray(pred, np.float32), np.asarray(truth, np.float32)
    if variant == "paper":
        if min(a.shape[:2]) < 11:
            return math.nan
        return float(structural_similarity(
            a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
            data_range=1.0, channel_axis=2,
        ))
    if variant == "authors-script":
        if min(a.shape[:2]) < 7:
            return math.nan
        return float(structural_similarity(
            a, b, win_size=7, gaussian_weights=False, use_sample_covariance=True,
            data_range=2.0, channel_axis=2,
        ))
    raise ValueError(f"ssim variant must be one of {', '.join(SSIM_VARIANTS)}; got {variant!r}")


def error_norm(pred: Any, truth: Any) -> Any:
    """H×W per-pixel Euclidean norm of the RGB difference, 0..255 scale (IE's integrand)."""
    import numpy as np

    diff = (np.asarray(pred, np.float64) - np.asarray(truth, np.float64)) * 255.0
    return np.sqrt(np.sum(diff * diff, axis=2))


def interpolation_error(pred: Any, truth: Any) -> float:
    """IE as the authors' script computes it: mean of :func:`error_norm` (0..255 scale)."""
    return float(error_norm(pred, truth).mean())


def score(
    pred: Any, truth: Any, roi: tuple[int, int, int, int] | None, variant: str = "paper"
) -> dict[str, float]:
    """All of :data:`METRICS` for one prediction; the RoI ones are nan without a RoI."""
    out = {"psnr": psnr(pred, truth), "ssim": ssim(pred, truth, variant),
           "ie": interpolation_error(pred, truth)}
    if roi is None:
        out.update(psnr_roi=math.nan, ssim_roi=math.nan, ie_roi=math.nan)
    else:
        x, y, w, h = roi
        p, t = pred[y:y + h, x:x + w], truth[y:y + h, x:x + w]
        out.update(psnr_roi=psnr(p, t), ssim_roi=ssim(p, t, variant),
                   ie_roi=interpolation_error(p, t))
    return out


# ---- predictors ---------------------------------------------------------------------------


def blend_predictor(index: int, frame1: Any, frame3: Any) -> Any:
    """Frame blending, the baseline every interpolator must beat: the mean of the two frames."""
    return (frame1 + frame3) * 0.5


class InterpolatePredictor:
    """Predicts frame2 through ``vsanimeinterp.interpolate`` (see the module docstring).

    Args:
        count: number of triplets (the clip holds frames 1 and 3 of each, in order).
        **kwargs: engine options of ``interpolate()`` (engine, checkpoint, device, ...).
    """

    def __init__(self, count: int, **kwargs: Any) -> None:
        self.count = count
        self.kwargs = kwargs
        self._clips: dict[tuple[int, int], Any] = {}
        self._frames: dict[int, Any] = {}

    def _clip(self, width: int, height: int) -> Any:
        import numpy as np
        import vapoursynth as vs

        from ..vsfilter.filter import interpolate

        core = vs.core
        blank = core.std.BlankClip(
            width=width, height=height, format=vs.RGBS, length=2 * self.count,
            fpsnum=24, fpsden=1,
        )

        def fill(n: int, f: vs.VideoFrame) -> vs.VideoFrame:
            # Only frames handed to __call__ are requested: frames 2i and 2i+1 of triplet i.
            img = self._frames[n]
            out = f.copy()
            for p in range(3):
                np.copyto(np.asarray(out[p]), img[..., p])
            return out

        src = core.std.ModifyFrame(blank, blank, fill)
        return interpolate(src, factor_num=2, sc=False, **self.kwargs)

    def __call__(self, index: int, frame1: Any, frame3: Any) -> Any:
        import numpy as np

        h, w = frame1.shape[:2]
        clip = self._clips.get((w, h))
        if clip is None:
            clip = self._clips[(w, h)] = self._clip(w, h)
        self._frames = {2 * index: frame1, 2 * index + 1: frame3}
        try:
            # Output frame 4i+1 lies halfway between source frames 2i and 2i+1.
            f = clip.get_frame(4 * index + 1)
        finally:
            self._frames = {}
        return np.stack([np.asarray(f[p]) for p in range(3)], axis=-1).clip(0.0, 1.0)


# ---- evaluation ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    """What :func:`evaluate` measured.

    Attributes:
        rows: one dict per triplet: ``name``, ``level``, ``roi`` (x, y, w, h or None),
            ``seconds`` (prediction time), the :data:`METRICS` of the method, and for each
            baseline ``b`` the same metrics as ``<metric>_<b>``.
        method: label of the evaluated predictor; baselines: labels of the baselines.
        summary: ``{subset: {metric: mean, "count": n}}`` for subsets ``all`` and each level
            present, with baseline metrics suffixed as in ``rows``.
    """

    rows: list[dict[str, Any]]
    method: str
    baselines: list[str]
    ssim_variant: str
    summary: dict[str, dict[str, float]] = field(default_factory=dict)


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


def summarize(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """Means of ``keys`` over all rows and per level (nan values left out)."""
    subsets: dict[str, list[dict[str, Any]]] = {"all": list(rows)}
    for level in LEVELS:
        chosen = [r for r in rows if r["level"] == level]
        if chosen:
            subsets[level] = chosen
    return {
        name: {"count": len(chosen), **{k: _mean([r[k] for r in chosen]) for k in keys}}
        for name, chosen in subsets.items()
    }


def _panel_strip(
    frame1: Any, pred: Any, truth: Any, roi: tuple[int, int, int, int] | None, title: str
) -> Any:
    """frame1 | prediction | truth | error map as one uint8 RGB image with labels."""
    import cv2
    import numpy as np

    def u8(img: Any) -> Any:
        return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)

    err = np.clip(error_norm(pred, truth) / ERROR_MAP_MAX * 255.0, 0, 255).astype(np.uint8)
    heat = cv2.cvtColor(cv2.applyColorMap(err, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    panels = [u8(frame1), u8(pred), u8(truth), heat]
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


def evaluate(
    triplets: Sequence[Triplet],
    predictor: Predictor,
    *,
    method: str = "method",
    baselines: dict[str, Predictor] | None = None,
    ssim_variant: str = "paper",
    worst: int = 5,
    worst_dir: Path | None = None,
    progress: bool = True,
) -> Evaluation:
    """Predict frame2 of every triplet and score it (see the module docstring).

    Args:
        triplets: from :func:`find_triplets`.
        predictor: ``(index, frame1, frame3) -> frame2``, frames H×W×3 float32 RGB in [0, 1].
        method: label of ``predictor`` in the reports.
        baselines: more predictors scored the same way, by label (e.g. ``{"blend": ...}``).
        ssim_variant: ``"paper"`` or ``"authors-script"``.
        worst: how many of the lowest-PSNR triplets to draw into ``worst_dir`` as
            ``NN_<name>.png`` (frame1 | prediction | truth | error map, RoI boxed in green).
        progress: show a tqdm bar.
    """
    import cv2
    from tqdm import tqdm

    if ssim_variant not in SSIM_VARIANTS:
        raise ValueError(f"ssim_variant must be one of {', '.join(SSIM_VARIANTS)}")
    baselines = baselines or {}
    rows: list[dict[str, Any]] = []
    # Keep only the `worst` lowest-PSNR cases (their pictures) while going: a max-heap on
    # -psnr of bounded size, so memory does not grow with the set.
    kept: list[tuple[float, int, Any, Any, Any, Any]] = []
    # Updated by hand, not iterated: iterating closes the bar (drawing it once more, and
    # leaving it) as soon as an error leaves the loop, before the handler below runs.
    bar = tqdm(total=len(triplets), desc="evaluate", unit="triplet", disable=not progress)
    try:
        for i, t in enumerate(triplets):
            frame1, truth, frame3 = (load_image(p) for p in t.frames)
            if not frame1.shape == truth.shape == frame3.shape:
                raise CommandError(f"{t.name}: the three frames differ in size")
            h, w = truth.shape[:2]
            roi = t.roi_pixels(w, h)
            start = time.perf_counter()
            pred = predictor(i, frame1, frame3)
            seconds = time.perf_counter() - start
            row: dict[str, Any] = {"name": t.name, "level": t.level, "roi": roi,
                                   "seconds": seconds, **score(pred, truth, roi, ssim_variant)}
            for label, base in baselines.items():
                scores = score(base(i, frame1, frame3), truth, roi, ssim_variant)
                row.update({f"{k}_{label}": v for k, v in scores.items()})
            rows.append(row)
            if worst > 0:
                item = (-row["psnr"], -i, frame1, pred, truth, roi)
                if len(kept) < worst:
                    heapq.heappush(kept, item)
                elif item > kept[0]:
                    heapq.heapreplace(kept, item)
            bar.set_postfix(psnr=f"{_mean([r['psnr'] for r in rows]):.2f}", refresh=False)
            bar.update(1)
    except BaseException:
        # A failed run must not leave a stale bar behind: closing it normally would draw it
        # once more (its last state, kept on screen) right above the error message.
        bar.leave = False
        bar.close()
        raise
    bar.close()
    keys = list(METRICS) + [f"{k}_{b}" for b in baselines for k in METRICS]
    result = Evaluation(rows, method, list(baselines), ssim_variant, summarize(rows, keys))
    if worst_dir is not None and kept:
        worst_dir.mkdir(parents=True, exist_ok=True)
        for rank, (neg_psnr, neg_i, frame1, pred, truth, roi) in enumerate(
            sorted(kept, reverse=True), start=1
        ):
            name = triplets[-neg_i].name
            strip = _panel_strip(frame1, pred, truth, roi, f"PSNR {-neg_psnr:.2f} dB")
            path = worst_dir / f"{rank:02d}_{name}.png"
            if not cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
                raise OSError(f"could not write {path}")
    return result


# ---- reports ------------------------------------------------------------------------------


def _json_number(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def write_reports(result: Evaluation, out: Path, source: Path) -> dict[str, Path]:
    """``results.csv`` (one row per triplet), ``results.json`` (settings, summary, rows; nan
    as null) and ``summary.md`` in ``out``; returns their paths by kind."""
    out.mkdir(parents=True, exist_ok=True)
    metric_keys = list(METRICS) + [f"{k}_{b}" for b in result.baselines for k in METRICS]
    paths = {"csv": out / "results.csv", "json": out / "results.json", "md": out / "summary.md"}
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "level", "roi_x", "roi_y", "roi_width", "roi_height",
                         "seconds", *metric_keys])
        for r in result.rows:
            roi = r["roi"] or ("", "", "", "")
            writer.writerow([r["name"], r["level"] or "", *roi, f"{r['seconds']:.4f}",
                             *("" if math.isnan(r[k]) else f"{r[k]:.6f}" for k in metric_keys)])
    doc = {
        "set": str(source),
        "method": result.method,
        "baselines": result.baselines,
        "ssim": result.ssim_variant,
        "psnr_cap_db": PSNR_CAP,
        "ie": "mean over pixels of the Euclidean norm of the RGB difference, 0..255 scale",
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
        f"in [0, 1], capped at {PSNR_CAP:g} dB; IE: mean RGB distance, 0..255 scale.",
        "",
        "| subset | n | method | PSNR | SSIM | IE | PSNR RoI | SSIM RoI | IE RoI |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for subset, d in result.summary.items():
        for label, suffix in [(result.method, "")] + [(b, f"_{b}") for b in result.baselines]:
            vals = [d[f"{k}{suffix}"] for k in METRICS]
            digits = (2, 4, 2, 2, 4, 2)
            cells = " | ".join(_fmt(v, n) for v, n in zip(vals, digits, strict=True))
            lines.append(f"| {subset} | {int(d['count'])} | {label} | {cells} |")
    seconds = _mean([r["seconds"] for r in result.rows])
    lines += ["", f"Prediction time: {seconds:.3f} s per triplet (wall, mean)."]
    worst = sorted(result.rows, key=lambda r: r["psnr"])[:5]
    lines += ["", "Lowest PSNR: " + ", ".join(f"`{r['name']}` {r['psnr']:.2f} dB" for r in worst)]
    return "\n".join(lines) + "\n"


# ---- command line -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``evaluate``."""
    parser.add_argument("dir", metavar="DIR", type=Path,
                        help="triplet set: DIR/<name>/frame1.*, frame2.*, frame3.*")
    parser.add_argument("--annotations", metavar="ANN", type=Path,
                        help="annotation folder (ATD-12K's test_2k_annotations); "
                        "default: look beside the triplets")
    parser.add_argument("--out", "-o", metavar="OUT", type=Path, default=Path("evaluation"),
                        help="folder for results.csv, results.json, summary.md and worst/ "
                        "(default: %(default)s)")
    parser.add_argument("--worst", type=int, default=5, metavar="N",
                        help="draw the N lowest-PSNR triplets into OUT/worst (default: 5)")
    parser.add_argument("--baseline", action="append", choices=("blend",), default=[],
                        help="also score this baseline on every triplet (blend: mean of "
                        "frames 1 and 3)")
    parser.add_argument("--ssim", choices=SSIM_VARIANTS, default="paper",
                        help="paper: Gaussian SSIM as in the paper (default); authors-script: "
                        "what the authors' test script computed (see the README)")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="only the first N triplets (by name)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """``evaluate``: find the triplets, predict, score, write the reports, print the table."""
    if args.worst < 0:
        raise CommandError(f"--worst must be 0 or more, got {args.worst}")
    triplets = find_triplets(args.dir, args.annotations)
    if args.limit is not None:
        triplets = triplets[: args.limit]
    import vapoursynth as vs

    engine = resolved_engine(args.engine, args.checkpoint)
    predictor = InterpolatePredictor(len(triplets), **engine_kwargs(args))
    baselines = {"blend": blend_predictor} if "blend" in args.baseline else {}
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} exists and is not a directory")
    try:
        result = evaluate(
            triplets, predictor, method=f"vsanimeinterp ({engine})", baselines=baselines,
            ssim_variant=args.ssim, worst=args.worst, worst_dir=out / "worst",
            progress=not args.quiet,
        )
    except vs.Error as exc:
        raise CommandError(str(exc)) from None
    write_reports(result, out, args.dir)
    print(markdown_summary(result, args.dir), end="")
    print(f"\nwrote {out / 'results.csv'}, {out / 'results.json'}, {out / 'summary.md'}"
          + (f" and {min(args.worst, len(triplets))} pictures in {out / 'worst'}"
             if args.worst else ""))
    return 0
