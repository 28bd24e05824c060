"""User-facing errors: one line that names the file and the cause."""
from __future__ import annotations

from pathlib import Path


class MocapError(Exception):
    """An input or usage problem a user can fix.

    The CLI prints ``str(error)`` as a single line and exits with a non-zero code; no traceback.
    ``path`` is the file (or folder) at fault, ``cause`` what is wrong with it.
    """

    def __init__(self, cause: str, path: str | Path | None = None):
        self.cause = cause
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {cause}" if self.path else cause)
