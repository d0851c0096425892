"""The choices and options every layer shares: the filter, the engines and the commands.

No VapourSynth or torch import here, so that ``--help`` and argument checking stay cheap.
Validators raise :class:`OptionError` (a ``ValueError``) whose message starts with the
parameter's name; the filter turns it into ``vs.Error("interpolate: ...")``, the commands
into a one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: ``engine=``: the network when its checkpoint is found ("auto"), SGM alone, or the network.
ENGINES = ("auto", "sgm", "animeinterp")
#: Engines that really run (what "auto" resolves to).
CONCRETE_ENGINES = ("sgm", "animeinterp")
#: ``device=``.
DEVICES = ("auto", "cpu", "cuda")
#: ``corr=``: the network's correlation look-up.
CORR_MODES = ("auto", "all-pairs", "bounded")
#: ``init_flow=``: where the network's flow refinement starts.
INIT_FLOWS = ("sgm", "none")


class OptionError(ValueError):
    """An option has a wrong type or value; the message names it."""


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not (isinstance(value, int) or _is_numpy_int(value)):
        raise OptionError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise OptionError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _is_numpy_int(value: Any) -> bool:
    # numpy integers are common in scripts (frame counts from arrays); numpy is not imported
    # here, so recognise them by their interface.
    return type(value).__module__ == "numpy" and hasattr(value, "__index__")


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, got {value!r}")
    return value


def check_unit(name: str, value: Any) -> float:
    """A number in 0..1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise OptionError(f"{name} must be a number in 0..1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class NetworkOptions:
    """How the engines estimate flows and synthesise; one object instead of loose keywords.

    Attributes:
        corr: the network's correlation look-up, one of :data:`CORR_MODES`.
        flow_scale: flows (SGM and RFR) are estimated on frames scaled by this factor in
            (0, 1] and scaled back up; synthesis stays at full size.
        tile_size: synthesis tile side in pixels (a multiple of 4, at least 64), 0 for whole
            frames, None to choose from the free memory.
        tile_overlap: context pixels around each tile (a multiple of 4).
        fp16: half precision for the network (None: on CUDA only).
        init_flow: ``"sgm"`` (the paper: RFR refines SGM's flows) or ``"none"`` (RFR starts
            from zero flow and no SGM work is done; the authors' "w/o SGM" variant).
    """

    corr: str = "auto"
    flow_scale: float = 1.0
    tile_size: int | None = None
    tile_overlap: int = 64
    fp16: bool | None = None
    init_flow: str = "sgm"

    def __post_init__(self) -> None:
        check_choice("corr", self.corr, CORR_MODES)
        check_choice("init_flow", self.init_flow, INIT_FLOWS)
        scale = self.flow_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 1:
            raise OptionError(f"flow_scale must be a number in (0, 1], got {scale!r}")
        object.__setattr__(self, "flow_scale", float(scale))
        tile = self.tile_size
        if tile is not None and (
            isinstance(tile, bool) or not isinstance(tile, int) or tile < 0 or tile % 4
            or 0 < tile < 64
        ):
            raise OptionError(
                f"tile_size must be None, 0 or a multiple of 4 of at least 64, got {tile!r}")
        overlap = self.tile_overlap
        if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0 or overlap % 4:
            raise OptionError(f"tile_overlap must be a multiple of 4, at least 0, got {overlap!r}")
        if self.fp16 is not None and not isinstance(self.fp16, bool):
            raise OptionError(f"fp16 must be True, False or None, got {self.fp16!r}")
