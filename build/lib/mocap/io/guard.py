"""The last net under every file reader: whatever a damaged or hostile file makes a parser raise becomes one
:class:`~mocap.errors.MocapError` naming the file, never a traceback.

Readers check what they read and raise their own errors with the line or field at fault; :func:`reader`
catches only what slipped past those checks. Such an error carries ``unexpected`` (the exception's type and
place), so the fuzzers (:mod:`mocap.testing.fuzz`) still count it as a defect to fix.
"""
from __future__ import annotations

import functools
import traceback
from pathlib import Path

from ..errors import MocapError


def reader(kind: str):
    """Decorate ``read(path, ...)`` (``path`` a file, folder, or list of them): an exception other than
    :class:`MocapError` becomes ``MocapError("not a readable <kind> (...)", path)``; a MocapError without a
    file gets ``path``; RecursionError and MemoryError get their own words."""

    def wrap(fn):
        @functools.wraps(fn)
        def read(path, *args, **kwargs):
            where = path[0] if isinstance(path, (list, tuple)) and path else path
            try:
                return fn(path, *args, **kwargs)
            except MocapError as e:
                if e.path is None:
                    raise MocapError(e.cause, where) from None
                raise
            except RecursionError:
                err = MocapError(f"nested too deeply to be {kind}", where)
            except MemoryError:
                err = MocapError(f"too large to read as {kind} in memory", where)
            except Exception as e:  # noqa: BLE001 - the net: every parser failure is the file's fault
                frame = traceback.extract_tb(e.__traceback__)[-1]
                err = MocapError(f"not a readable {kind} ({type(e).__name__}: {str(e)[:200]})", where)
                err.unexpected = f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno}"
            raise err from None

        return read

    return wrap
