"""Image-quality metrics of interpolated frames, and the one float → 8-bit conversion.

Float images are H×W×3 RGB in [0, 1]; 8-bit images are H×W×3 uint8 RGB in 0..255.

* :func:`psnr`: ``10·log10(1 / MSE)`` over all pixels and channels of float images (data
  range 1), capped at :data:`PSNR_CAP` dB (an exact prediction would be infinite). This is
  ``evaluate``'s PSNR.
* :func:`psnr8`: the same on the 8-bit quantised images (:func:`to_uint8`), with data range
  255, as delivered video would be compared; the measurements and quality tests use it.
* :func:`ssim`, ``variant="paper"`` (default): Wang et al.'s Gaussian-weighted SSIM
  (σ = 1.5, 11×11 window, population covariance, data range 1), the mean over the three
  channels. The AnimeInterp authors' test script asks for it with ``compare_ssim(...,
  multichannel=True, gaussian=True)``, but ``gaussian`` is not a parameter of
  scikit-image's function, whose old versions silently ignored unknown keywords; what it
  computed was the 7×7 uniform-window SSIM with sample covariance and, float images having a
  nominal range of -1..1 there, data range 2. ``variant="authors-script"`` computes that, to
  compare with the published tables.
* :func:`interpolation_error` (IE), as the authors' script computes it: the mean over pixels
  of the Euclidean norm of the RGB difference on the 0..255 scale. (Middlebury's IE is the
  root mean square of that norm instead; IE ≤ RMS, equal when the error is uniform.)
* :func:`chamfer_distance` (CD), EISAI's chamfer line distance (Chen & Zwicker, ECCV 2022):
  line art of both images by a difference of Gaussians (:func:`line_mask`), then the mean
  over all pixels of each mask times the distance transform of the other mask, averaged over
  the two directions and divided by the image diagonal. 0 for identical lines; users judge
  cartoons by their lines, which PSNR barely sees.

scikit-image is imported by :func:`ssim` only, OpenCV by the line functions.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: PSNR (dB) reported for a prediction within rounding of the truth (MSE ≤ 1e-10).
PSNR_CAP = 100.0
#: The choices of :func:`ssim`'s ``variant``.
SSIM_VARIANTS = ("paper", "authors-script")
#: Keys of :func:`score`: each metric on the whole frame, then on the motion RoI.
METRICS = ("psnr", "ssim", "ie", "chamfer", "psnr_roi", "ssim_roi", "ie_roi", "chamfer_roi")
#: EISAI's difference-of-Gaussians line extraction: σ, the ratio of the wider Gaussian's σ,
#: the gain t and the offset ε of ``0.5 + t·(G_kσ − G_σ) − ε > 0.5`` (kernels of side
#: 2·⌊4σ⌋+1, edges replicated).
DOG_SIGMA, DOG_K, DOG_T, DOG_EPSILON = 1.0, 1.6, 2.0, 0.01
# psnr8's MSE floor: 8-bit images that are equal score 10·log10(255² / 1e-10) ≈ 148.1 dB.
_MSE_FLOOR_8BIT = 1e-10


def to_uint8(img: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] (any shape) as uint8 0..255: ``rint(clip(x, 0, 1) · 255)``.

    Halves round to even (``np.rint``). float64 input is scaled in float64, any other input
    (float32, float16, bool, integers) in float32. uint8 input is returned as it is (not
    copied).
    """
    a = np.asarray(img)
    if a.dtype == np.uint8:
        return a
    # float64 stays float64: pictures computed in float64 (flow colours) would otherwise move
    # across a rounding boundary now and then when narrowed to float32 first.
    a = a.astype(np.float64 if a.dtype == np.float64 else np.float32, copy=False)
    if a.size < 64:  # OpenCV would read a 1×1 array as a scalar
        return np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
    a = np.ascontiguousarray(a)
    # OpenCV's saturating multiply scales in the input's precision and rounds half to even,
    # the same bits as clip·255 and rint (tests/test_metrics.py), about 15× faster: the SGM
    # engine converts every source frame. As one channel per row, so that the scalar
    # multiplies every value (OpenCV would read a 3-channel image's scalar as (255, 0, 0)).
    flat = a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1, a.shape[-1])
    return cv2.multiply(flat, 255.0, dtype=cv2.CV_8U).reshape(a.shape)


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB of two float images in [0, 1] (data range 1, MSE over all pixels and
    channels, in float64), capped at :data:`PSNR_CAP`."""
    diff = np.asarray(pred, np.float64) - np.asarray(truth, np.float64)
    mse = float(np.mean(diff * diff))
    if mse <= 10.0 ** (-PSNR_CAP / 10.0):
        return PSNR_CAP
    return 10.0 * math.log10(1.0 / mse)


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two images on the 8-bit scale (data range 255).

    uint8 images are compared as they are; float images in [0, 1] are quantised first with
    :func:`to_uint8`. The MSE is taken in float64 and floored at 1e-10 (≈ 148.1 dB when the
    8-bit images are equal).
    """
    diff = to_uint8(a).astype(np.float64) - to_uint8(b).astype(np.float64)
    mse = float(np.mean(diff * diff))
    return float(10 * np.log10(255.0**2 / max(mse, _MSE_FLOOR_8BIT)))


def ssim(pred: np.ndarray, truth: np.ndarray, variant: str = "paper") -> float:
    """SSIM of two H×W×3 float images in [0, 1], mean over channels; ``variant`` is one of
    :data:`SSIM_VARIANTS` (see the module docstring). nan when the image is smaller than the
    window (11 or 7 pixels)."""
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


def error_norm(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """H×W float64 per-pixel Euclidean norm of the RGB difference of two float images, on the
    0..255 scale (IE's integrand)."""
    diff = (np.asarray(pred, np.float64) - np.asarray(truth, np.float64)) * 255.0
    return np.sqrt(np.sum(diff * diff, axis=2))


def interpolation_error(pred: np.ndarray, truth: np.ndarray) -> float:
    """IE as the authors' script computes it: mean of :func:`error_norm` (0..255 scale)."""
    return float(error_norm(pred, truth).mean())


def line_mask(img: np.ndarray) -> np.ndarray:
    """Dark line art of an H×W×3 RGB image in [0, 1] (or H×W grey): H×W bool, True on lines.

    The grey image (BT.601 weights) blurred with σ·k minus blurred with σ is positive just
    inside dark strokes; EISAI keeps pixels where ``t`` times it exceeds ``ε``.
    """
    a = np.asarray(img, np.float32)
    grey = a if a.ndim == 2 else a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114

    def blur(sigma: float) -> np.ndarray:
        side = max(2 * int(sigma * 4) + 1, 3)
        return cv2.GaussianBlur(grey, (side, side), sigma, borderType=cv2.BORDER_REPLICATE)

    return DOG_T * (blur(DOG_SIGMA * DOG_K) - blur(DOG_SIGMA)) - DOG_EPSILON > 0


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of every pixel to the nearest True pixel of ``mask``; the
    image diagonal everywhere when the mask is empty (as EISAI's metric defines it)."""
    h, w = mask.shape
    if not mask.any():
        return np.full(mask.shape, math.hypot(h, w), np.float32)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def chamfer_distance(pred: np.ndarray, truth: np.ndarray) -> float:
    """EISAI's chamfer line distance between two H×W×3 float RGB images in [0, 1]: 0 when
    their lines coincide, growing with how far lines are from where they should be (a
    fraction of the image diagonal, averaged over all pixels)."""
    lp, lt = line_mask(pred), line_mask(truth)
    h, w = lt.shape
    to_pred = float((lt * _distance_to(lp)).mean())
    to_truth = float((lp * _distance_to(lt)).mean())
    return (to_pred + to_truth) / 2 / math.hypot(h, w)


def score(
    pred: np.ndarray,
    truth: np.ndarray,
    roi: tuple[int, int, int, int] | None,
    variant: str = "paper",
) -> dict[str, float]:
    """All of :data:`METRICS` for one prediction (float images in [0, 1]); ``roi`` is
    ``(x, y, width, height)`` in pixels, the RoI metrics are nan without one."""
    out = {"psnr": psnr(pred, truth), "ssim": ssim(pred, truth, variant),
           "ie": interpolation_error(pred, truth), "chamfer": chamfer_distance(pred, truth)}
    if roi is None:
        out.update(psnr_roi=math.nan, ssim_roi=math.nan, ie_roi=math.nan, chamfer_roi=math.nan)
    else:
        x, y, w, h = roi
        p, t = pred[y:y + h, x:x + w], truth[y:y + h, x:x + w]
        out.update(psnr_roi=psnr(p, t), ssim_roi=ssim(p, t, variant),
                   ie_roi=interpolation_error(p, t), chamfer_roi=chamfer_distance(p, t))
    return out
