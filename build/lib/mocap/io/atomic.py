"""Atomic output: write to a temporary file beside the target, then rename over it.

A crash or an error half-way never leaves a partial output file behind.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import MocapError


def check_output(path: str | Path, *inputs: str | Path | None) -> Path:
    """``path`` as an output: not a folder, and not one of ``inputs`` (writing would destroy what is read;
    the same file through another name or a link counts). Raises :class:`MocapError`."""
    path = Path(path)
    if path.is_dir():
        raise MocapError("is a folder: give a file name to write", path)
    for inp in inputs:
        if inp is not None and path.exists() and Path(inp).exists() and os.path.samefile(path, inp):
            raise MocapError("output is the input file: write to another name (the input is left as it is)", path)
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path (same folder, same suffix) that replaces ``path`` on success. A folder that
    cannot be made or written, or a full disk, is a :class:`MocapError` naming ``path``; nothing is left."""
    path = check_output(path)
    if path.parent.exists() and not path.parent.is_dir():
        raise MocapError(f"{path.parent} is a file, not a folder", path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    except OSError as e:
        raise MocapError(f"cannot write here ({e.strerror})", path) from None
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files: give outputs the usual permissions
        os.replace(tmp, path)
    except OSError as e:  # disk full, quota, the folder made read-only meanwhile
        raise MocapError(f"cannot write ({e.strerror or e})", path) from None
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator:
    """Like ``open(path, mode)`` but the file appears only once fully written."""
    with atomic_path(path) as tmp:
        kwargs.setdefault("newline", "\n") if "b" not in mode else None
        with open(tmp, mode, **kwargs) as f:
            yield f
