"""``make_engine``: the engine ``interpolate(engine=...)`` asked for."""

from __future__ import annotations

import os

from ..options import NetworkOptions, OptionError
from ..stages import NO_RECORDER, Recorder
from .base import Engine


def make_engine(
    engine: str,
    *,
    checkpoint: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    options: NetworkOptions | None = None,
    recorder: Recorder = NO_RECORDER,
) -> Engine:
    """The engine the filter asked for. ``"auto"`` takes the network when a checkpoint is
    found (argument, ``$VSANIMEINTERP_CHECKPOINT``, downloaded file), else SGM.

    Raises:
        ValueError: ``engine="animeinterp"`` without a checkpoint, or a bad checkpoint.
    """
    options = options or NetworkOptions()
    # Imported here: the network engine pulls in the network and SGM the OpenCV pipeline, and
    # ``--help`` of the commands should need neither.
    from .sgm import SGMEngine

    if engine == "sgm":
        return SGMEngine(device, flow_scale=options.flow_scale, recorder=recorder)
    if engine not in ("auto", "animeinterp"):
        raise OptionError(f"engine must be auto, sgm or animeinterp; got {engine!r}")
    from ..checkpoints import find_checkpoint, missing_checkpoint_message

    path = find_checkpoint(checkpoint)
    if path is None:
        if engine == "animeinterp":
            raise ValueError(f"engine='animeinterp': {missing_checkpoint_message()}")
        return SGMEngine(device, flow_scale=options.flow_scale, recorder=recorder)
    from .network import AnimeInterpEngine

    return AnimeInterpEngine(path, device=device, options=options, recorder=recorder)
