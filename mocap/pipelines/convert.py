"""``mocap convert``: between every supported 3D format, retargeting to a rig when writing BVH."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.motion import UNIT_SCALE, Motion3D, resample
from ..errors import MocapError
from ..io.atomic import check_output
from ..io.motion import load_motion, write_motion
from ..io.outputs import check_output_format, is_animation
from ..retarget.export import write_animation
from ..retarget.solve import Retargeted, retarget
from .options import SmoothOptions


def convert_file(inp: str | Path, out: str | Path, rig: str = "generic", units: str | None = None,
                 *, fps: float | None = None, in_units: str | float = "auto", executor=None,
                 **retarget_kwargs) -> Motion3D | Retargeted:
    """Read ``inp`` and write ``out`` (format by extension). Writing a rig animation (BVH, glTF, FBX) retargets to
    ``rig`` (a BVH in cm unless ``units``); other formats keep the joints (metres unless ``units``). ``out`` may not
    be ``inp``, nor an unknown format (refused before anything is read or written). ``executor``: where a long
    motion's pieces of time are retargeted and formatted (:func:`write_any`)."""
    check_output(out, inp)
    check_output_format(out)
    motion = load_motion(inp, in_units, executor=executor)
    if motion.n_frames == 0:
        raise MocapError("motion has no frames", inp)
    if fps:
        motion = resample(motion, fps)
    return write_any(motion, out, rig, units, executor=executor, **retarget_kwargs)


def write_any(motion: Motion3D, out: str | Path, rig: str = "generic", units: str | None = None,
              *, executor=None, **retarget_kwargs) -> Motion3D | Retargeted:
    """Write ``motion`` in the format of ``out``'s extension: a rig animation (BVH, glTF, FBX:
    :func:`~mocap.retarget.export.write_animation`) is retargeted to ``rig`` (a BVH in cm unless ``units``), the
    others keep the joints (metres unless ``units``). Returns what was written. A motion with
    no valid point at all is an error, not an empty file. ``executor``: where pieces of time of a long motion are
    retargeted (:mod:`mocap.retarget.pieces`) and blocks of BVH and TRC lines formatted (:mod:`mocap.workers`;
    the same file, within the last digit of a BVH's angles at the seams)."""
    out = check_output_format(out)
    if units is not None and units not in UNIT_SCALE:
        raise MocapError(f"unknown units {units!r} (expected one of {', '.join(UNIT_SCALE)})", out)
    if motion.n_frames == 0 or not np.isfinite(motion.positions).all(-1).any():
        raise MocapError("nothing to write: no frame has a valid point", out)
    if is_animation(out):
        r = retarget(motion, rig, executor=executor, **retarget_kwargs)
        write_animation(r, out, units or "cm", executor=executor)
        return r
    kwargs = {"units": units} if units and out.suffix.lower() in (".trc", ".csv", ".c3d") else {}
    if executor is not None and out.suffix.lower() == ".trc":
        kwargs["executor"] = executor
    write_motion(motion, out, **kwargs)
    return motion


def smooth_file(inp: str | Path, out: str | Path, options: SmoothOptions | None = None):
    """``mocap smooth``: ``inp`` (any 3D file) -> spikes removed, short gaps filled, filtered -> ``out`` (any 3D
    format). Returns the motion read and the :class:`~mocap.smooth.clean.Cleaned` result written."""
    from ..smooth.clean import clean_motion

    o = options or SmoothOptions()
    check_output(out, inp)
    motion = load_motion(inp)
    res = clean_motion(motion, o.filter, o.params, o.max_gap, remove_spikes=o.hampel)
    write_any(res.motion, out)
    return motion, res
