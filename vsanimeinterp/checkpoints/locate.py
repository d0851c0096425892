"""Where the AnimeInterp checkpoint lives, and where a download of it goes.

The network is useless without the authors' pre-trained weights, ``anime_interp_full.ckpt``.
This module finds a checkpoint the user already has (an explicit path, the
``VSANIMEINTERP_CHECKPOINT`` variable, or the per-user cache) and says where a download goes
(:mod:`vsanimeinterp.checkpoints.download` fetches it). Nothing is read from the files here
and nothing heavy is imported, so the filter and the command line can ask cheaply.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "CHECKPOINT_ENV",
    "CHECKPOINT_FILENAME",
    "HOME_ENV",
    "OFFICIAL_CHECKPOINT_PAGE",
    "cache_dir",
    "default_checkpoint_path",
    "find_checkpoint",
    "missing_checkpoint_message",
    "resolve_destination",
]

# The authors' README section that links the weights (see download.OFFICIAL_CHECKPOINT_URL).
OFFICIAL_CHECKPOINT_PAGE = "https://github.com/lisiyao21/AnimeInterp#code"
CHECKPOINT_FILENAME = "anime_interp_full.ckpt"
HOME_ENV = "VSANIMEINTERP_HOME"
CHECKPOINT_ENV = "VSANIMEINTERP_CHECKPOINT"


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def cache_dir() -> Path:
    """Return the per-user directory where vsanimeinterp keeps downloaded files.

    ``$VSANIMEINTERP_HOME`` if set; otherwise ``%LOCALAPPDATA%\\vsanimeinterp`` on Windows,
    ``$XDG_CACHE_HOME/vsanimeinterp`` or ``~/.cache/vsanimeinterp`` elsewhere. The directory
    is not created here.
    """
    home = _env(HOME_ENV)
    if home is not None:
        return Path(home).expanduser()
    if sys.platform == "win32":
        local = _env("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "vsanimeinterp"
    xdg = _env("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg is not None and Path(xdg).is_absolute():
        return Path(xdg) / "vsanimeinterp"
    return Path.home() / ".cache" / "vsanimeinterp"


def default_checkpoint_path() -> Path:
    """Return where ``download`` stores the official checkpoint by default."""
    return cache_dir() / CHECKPOINT_FILENAME


def find_checkpoint(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Locate a checkpoint without downloading anything.

    Precedence: ``explicit``, then ``$VSANIMEINTERP_CHECKPOINT``, then the cached download
    at :func:`default_checkpoint_path`. Returns ``None`` when none of them applies.

    Raises:
        FileNotFoundError: ``explicit`` or ``$VSANIMEINTERP_CHECKPOINT`` names a path that is
            not an existing file; a path the user gave on purpose must not be silently
            replaced by another checkpoint.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
        return path
    from_env = _env(CHECKPOINT_ENV)
    if from_env is not None:
        path = Path(from_env).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"${CHECKPOINT_ENV} is set to {from_env!r}, which is not an existing file"
            )
        return path
    cached = default_checkpoint_path()
    return cached if cached.is_file() else None


def missing_checkpoint_message() -> str:
    """Explain, in one line, how to obtain a checkpoint when :func:`find_checkpoint` found none."""
    return (
        "no AnimeInterp checkpoint found: run `python -m vsanimeinterp download`, or download "
        f"{CHECKPOINT_FILENAME} yourself (see {OFFICIAL_CHECKPOINT_PAGE}) and put it at "
        f"{default_checkpoint_path()} or point ${CHECKPOINT_ENV} at it"
    )


def resolve_destination(dest: str | os.PathLike[str] | None = None) -> Path:
    """Return the file :func:`~vsanimeinterp.checkpoints.download.download_checkpoint`
    writes for ``dest``.

    ``None`` means :func:`default_checkpoint_path`; an existing directory means
    ``anime_interp_full.ckpt`` inside it.
    """
    if dest is None:
        return default_checkpoint_path()
    path = Path(dest).expanduser()
    return path / CHECKPOINT_FILENAME if path.is_dir() else path
