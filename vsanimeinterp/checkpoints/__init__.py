"""The AnimeInterp checkpoint: where it is (:mod:`.locate`), fetching it (:mod:`.download`)
and what a file must hold to be one (:mod:`.validate`).

The public names of all three are re-exported here. None of them imports torch at module
level (``python -m vsanimeinterp download`` runs without it; torch is loaded only when a
file's weights are read), and :mod:`.download`, which brings urllib and tqdm, is imported
only when one of its names is asked for, so that the filter's checkpoint lookup stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .locate import (
    CHECKPOINT_ENV,
    CHECKPOINT_FILENAME,
    HOME_ENV,
    OFFICIAL_CHECKPOINT_PAGE,
    cache_dir,
    default_checkpoint_path,
    find_checkpoint,
    missing_checkpoint_message,
    resolve_destination,
)
from .validate import CheckpointError, check_checkpoint_file

if TYPE_CHECKING:
    from .download import (
        OFFICIAL_CHECKPOINT_URL,
        DownloadError,
        check_destination,
        download_checkpoint,
    )

_DOWNLOAD_NAMES = frozenset(
    {"OFFICIAL_CHECKPOINT_URL", "DownloadError", "check_destination", "download_checkpoint"}
)

__all__ = [
    "CHECKPOINT_ENV",
    "CHECKPOINT_FILENAME",
    "HOME_ENV",
    "OFFICIAL_CHECKPOINT_PAGE",
    "OFFICIAL_CHECKPOINT_URL",
    "CheckpointError",
    "DownloadError",
    "cache_dir",
    "check_checkpoint_file",
    "check_destination",
    "default_checkpoint_path",
    "download_checkpoint",
    "find_checkpoint",
    "missing_checkpoint_message",
    "resolve_destination",
]


def __getattr__(name: str) -> Any:
    if name in _DOWNLOAD_NAMES:
        from . import download

        return getattr(download, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
