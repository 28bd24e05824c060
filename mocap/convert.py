"""``mocap convert``: between every supported 3D format, retargeting to a rig when writing BVH."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.interpolate import interp1d

from .bvh import read_bvh, write_bvh
from .errors import MocapError
from .io.motion import UNIT_SCALE, read_motion, write_motion
from .motion import Motion3D
from .retarget import Retargeted, retarget

CMU_UNIT = 0.0254 / 0.45  # metres per unit of CMU's ASF/AMC (and their original BVH conversions)


def guess_bvh_units(body_height: float) -> float:
    """Metres per file unit from the body's vertical extent (median over frames, file units):
    metres (~1.7), CMU units (~30), inches (~67), centimetres (~170) or millimetres (~1700)."""
    for lo, scale in ((1000, UNIT_SCALE["mm"]), (100, UNIT_SCALE["cm"]), (45, UNIT_SCALE["inch"]), (10, CMU_UNIT)):
        if body_height > lo:
            return scale
    return 1.0


def load_motion(path: str | Path, in_units: str | float = "auto") -> Motion3D:
    """Any 3D file as a Motion3D in metres; BVH units from ``in_units`` ("auto" guesses from the hips)."""
    path = Path(path)
    if path.suffix.lower() != ".bvh":
        return read_motion(path)
    if not path.exists():
        raise MocapError("file not found", path)
    bvh = read_bvh(path)
    if in_units == "auto":
        _, pos = bvh.global_transforms()
        scale = guess_bvh_units(float(np.nanmedian(pos[..., 1].max(axis=1) - pos[..., 1].min(axis=1))))
    else:
        scale = UNIT_SCALE[in_units] if isinstance(in_units, str) else float(in_units)
    return bvh.to_motion(scale, include_end_sites=True)


def resample(motion: Motion3D, fps: float) -> Motion3D:
    """Linear resampling of positions to ``fps`` (NaN stays NaN where either neighbour is NaN)."""
    if fps <= 0:
        raise MocapError(f"fps must be > 0, got {fps}")
    if abs(fps - motion.fps) < 1e-9:
        return motion
    t_old = motion.times
    t_new = np.arange(0, t_old[-1] + 1e-9, 1.0 / fps)
    pos = interp1d(t_old, motion.positions, axis=0)(t_new)
    conf = interp1d(t_old, motion.confidence, axis=0)(t_new)
    return replace(motion, positions=pos, confidence=conf, fps=fps)


def convert_file(inp: str | Path, out: str | Path, rig: str = "generic", units: str | None = None,
                 fps: float | None = None, in_units: str | float = "auto", **retarget_kwargs) -> Motion3D | Retargeted:
    """Read ``inp`` and write ``out`` (format by extension). Writing BVH retargets to ``rig``
    (units cm unless ``units``); other formats keep the joints (metres unless ``units``)."""
    motion = load_motion(inp, in_units)
    if motion.n_frames == 0:
        raise MocapError("motion has no frames", inp)
    if fps:
        motion = resample(motion, fps)
    return write_any(motion, out, rig, units, **retarget_kwargs)


def write_any(motion: Motion3D, out: str | Path, rig: str = "generic", units: str | None = None,
              **retarget_kwargs) -> Motion3D | Retargeted:
    """Write ``motion`` in the format of ``out``'s extension: BVH is retargeted to ``rig`` (cm unless
    ``units``), the others keep the joints (metres unless ``units``). Returns what was written."""
    out = Path(out)
    if out.suffix.lower() == ".bvh":
        r = retarget(motion, rig, **retarget_kwargs)
        write_bvh(r.to_bvh(units or "cm"), out)
        return r
    kwargs = {"units": units} if units and out.suffix.lower() in (".trc", ".csv", ".c3d") else {}
    write_motion(motion, out, **kwargs)
    return motion
