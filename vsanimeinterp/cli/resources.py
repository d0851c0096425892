"""Resident memory of this process, for the commands that report it (``bench``, ``profile``).

Linux reports the current resident set (``VmRSS``) and its high-water mark (``VmHWM``) in
``/proc/self/status``; the mark can be reset by writing ``5`` to ``/proc/self/clear_refs``
(Linux ≥ 4.0), so that one process can measure several runs one after another. Elsewhere
only ``getrusage``'s ``ru_maxrss`` is there: the peak since the process started, in KiB on
Linux and in bytes on macOS. All readers return MiB.

No heavy imports here: the readers are called around the measured work and must not add to it.
"""

from __future__ import annotations

import resource
import sys

__all__ = ["lifetime_peak_rss_mib", "peak_rss_mib", "reset_peak_rss", "rss_mib"]


def _status_kib(key: str) -> float | None:
    """Field ``key`` of ``/proc/self/status`` in KiB, None where the file or field is missing."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux ≥ 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def rss_mib() -> float:
    """Current resident memory of this process, MiB (0 where /proc is missing)."""
    kib = _status_kib("VmRSS")
    return 0.0 if kib is None else kib / 1024.0


def lifetime_peak_rss_mib() -> float:
    """Peak resident memory since the process started (``ru_maxrss``), MiB.

    Not affected by :func:`reset_peak_rss`; what a fresh worker process that measures one
    thing reports.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB: ``VmHWM`` (since the last
    :func:`reset_peak_rss`), else :func:`lifetime_peak_rss_mib` (since the process started)."""
    kib = _status_kib("VmHWM")
    return lifetime_peak_rss_mib() if kib is None else kib / 1024.0
