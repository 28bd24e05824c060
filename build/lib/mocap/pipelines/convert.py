"""``mocap convert``: between every supported 3D format, retargeting to a rig when writing BVH."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dataclasses import asdict, dataclass

from ..core.motion import UNIT_SCALE, Motion3D, resample
from ..core.options import check_options, option
from ..errors import MocapError
from ..io.atomic import check_output
from ..io.bvh import write_bvh
from ..io.motion import load_motion, write_motion
from ..retarget.rigs import rig_option
from ..retarget.solve import Retargeted, retarget

UNITS = tuple(UNIT_SCALE)


def _known_units(value) -> str | None:
    return None if value in UNIT_SCALE else f"must be one of {', '.join(UNIT_SCALE)}"


@dataclass(kw_only=True)
class ConvertOptions:
    """``mocap convert``'s options (:func:`convert_file`)."""

    rig: str = rig_option("generic", "BVH rig: generic, mixamo, cmu, smpl (default {default})")
    units: str | None = option(None, "output units: m, cm, mm (default: cm for BVH, m for TRC/CSV, mm for C3D)",
                               check=_known_units)
    fps: float | None = option(None, "resample to this frame rate", kind=float, range=(0, 10_000, False, True))
    in_units: str = option("auto", "units of a BVH input (default: guessed from the hips)",
                           check=lambda v: None if v == "auto" else _known_units(v))
    height: float | None = option(None, "size the rig to this standing height (m) instead of the subject's bones",
                                  kind=float, range=(0.1, 10, False, True))
    ground: bool = option(True, "do not put the lowest foot on the floor", flag="--no-ground")
    face_forward: bool = option(False, "turn the character to face +Z at the first frame")

    def __post_init__(self):
        check_options(self)

    def kwargs(self) -> dict:
        """The keyword arguments of :func:`convert_file` (``height`` only when given)."""
        kw = asdict(self)
        if kw["height"] is None:
            del kw["height"]
        return kw


def convert_file(inp: str | Path, out: str | Path, rig: str = "generic", units: str | None = None,
                 *, fps: float | None = None, in_units: str | float = "auto", **retarget_kwargs) -> Motion3D | Retargeted:
    """Read ``inp`` and write ``out`` (format by extension). Writing BVH retargets to ``rig``
    (units cm unless ``units``); other formats keep the joints (metres unless ``units``). ``out`` may not be
    ``inp`` (refused before anything is read or written)."""
    check_output(out, inp)
    motion = load_motion(inp, in_units)
    if motion.n_frames == 0:
        raise MocapError("motion has no frames", inp)
    if fps:
        motion = resample(motion, fps)
    return write_any(motion, out, rig, units, **retarget_kwargs)


def write_any(motion: Motion3D, out: str | Path, rig: str = "generic", units: str | None = None,
              **retarget_kwargs) -> Motion3D | Retargeted:
    """Write ``motion`` in the format of ``out``'s extension: BVH is retargeted to ``rig`` (cm unless
    ``units``), the others keep the joints (metres unless ``units``). Returns what was written. A motion with
    no valid point at all is an error, not an empty file."""
    out = Path(out)
    if units is not None and units not in UNIT_SCALE:
        raise MocapError(f"unknown units {units!r} (expected one of {', '.join(UNIT_SCALE)})", out)
    if motion.n_frames == 0 or not np.isfinite(motion.positions).all(-1).any():
        raise MocapError("nothing to write: no frame has a valid point", out)
    if out.suffix.lower() == ".bvh":
        r = retarget(motion, rig, **retarget_kwargs)
        write_bvh(r.to_bvh(units or "cm"), out)
        return r
    kwargs = {"units": units} if units and out.suffix.lower() in (".trc", ".csv", ".c3d") else {}
    write_motion(motion, out, **kwargs)
    return motion


@dataclass(kw_only=True)
class SmoothOptions:
    """``mocap smooth``'s options (:func:`smooth_file`; :func:`mocap.smooth.clean.clean_motion`)."""

    filter: str = option("butterworth", "butterworth (default), savgol, median, gaussian, one_euro, kalman",
                         check=lambda v: None if v in _filters() else f"must be one of {', '.join(_filters())}")
    params: dict | None = option(None, "the filter's parameters by name, e.g. {'cutoff': 6.0} (Hz)", kind=dict,
                                 check=lambda v: None if isinstance(v, dict) else "must be a table of NAME = NUMBER")
    max_gap: float = option(0.5, "fill gaps up to this many seconds (default {default})", range=(0, 3600, True, True))
    hampel: bool = option(True, "keep spikes (no Hampel outlier removal)", flag="--no-hampel")

    def __post_init__(self):
        check_options(self)


def _filters() -> tuple:
    from ..smooth.filters import FILTERS

    return tuple(FILTERS)


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
