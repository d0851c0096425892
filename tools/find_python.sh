#!/bin/sh
# Prints the first Python >= 3.12 found: the VapourSynth wheels on PyPI need it.
# pyenv shims answer `python3.12` even when that version is not selected, so every
# candidate is asked for its version instead of trusting its name.
for p in "${PYTHON:-}" python3.12 python3.13 python3.14 python3 \
    "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -n "$p" ] || continue
    if "$p" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
        echo "$p"
        exit 0
    fi
done
echo "no Python >= 3.12 found: install python3.12 (VapourSynth's PyPI wheels need it)" >&2
exit 1
