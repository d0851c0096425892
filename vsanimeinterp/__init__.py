"""vsanimeinterp: AnimeInterp (CVPR 2021) cartoon frame interpolation for VapourSynth.

``interpolate(clip)`` is the filter; ``sgm_flows`` gives the weight-free segment-guided
matching flows; ``load_model`` loads the paper's network from its official checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "interpolate", "load_model", "sgm_flows"]

if TYPE_CHECKING:
    from .network import load_model
    from .sgm.flows import sgm_flows
    from .vsfilter.filter import interpolate


def __getattr__(name: str) -> Any:
    # Lazy imports: `import vsanimeinterp` in a .vpy stays cheap, and the command line
    # (download) works without importing VapourSynth or OpenCV.
    if name == "interpolate":
        from .vsfilter.filter import interpolate

        return interpolate
    if name == "load_model":
        from .network import load_model

        return load_model
    if name == "sgm_flows":
        from .sgm.flows import sgm_flows

        return sgm_flows
    raise AttributeError(f"module 'vsanimeinterp' has no attribute {name!r}")
