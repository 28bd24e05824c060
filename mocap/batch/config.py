"""Batch options: one TOML of defaults (``mocap.toml``), overridable per level and per trial; Pose2Sim's
``Config.toml`` read as it is (the keys that mean the same thing). Every value is checked before work starts.

Options are plain nested dicts ``{section: {key: value}}``; :data:`DEFAULTS` lists every section and key.
"""
from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path

from ..core.options import check_value, defaults
from ..errors import MocapError
from ..io.outputs import ANIMATION_FORMATS, output_problem
from ..pipelines.options import ConvertOptions
from ..pipelines.options import LiftOptions
from ..pipelines.options import TriangulationJob
from ..pipelines.options import SyncOptions

STAGES = ("detect", "sync", "triangulate", "lift", "retarget", "preview")

# The sections that set a job's options: (its options class, the keys a TOML may set, batch's own defaults where
# they differ from the command's: a session is smoothed and written for Mixamo in cm unless told otherwise). The
# defaults, kinds, ranges and choices are the job's own (mocap.core.options), never restated here.
JOB_SECTIONS = {
    "triangulate": (TriangulationJob, ("mode", "min_confidence", "threshold_px", "smooth", "refine", "people",
                                       "contacts"), {"smooth": True}),
    "sync": (SyncOptions, ("method", "max_offset"), {}),
    "lift": (LiftOptions, ("focal", "live", "contacts"), {}),
    "retarget": (ConvertOptions, ("rig", "units"), {"rig": "mixamo", "units": "cm"}),
}

DEFAULTS: dict = {
    # stages run where they apply: detect (trials with videos only), sync, triangulate (calibrated, >= 2 cameras),
    # lift (one camera), retarget (3D -> BVH), preview (an MP4 of the 3D); `output`: folder made in each trial;
    # `fps`, `skeleton`: of keypoint inputs (videos give their own); `split_frames`: a trial at least this long
    # triangulates and retargets on every worker at once, in pieces of time (mocap.batch.split; 0: never)
    "batch": {"stages": ["detect", "triangulate", "lift", "retarget"], "output": "mocap", "exclude": [],
              "fps": defaults(TriangulationJob)["fps"], "skeleton": None, "split_frames": 10000},
    **{sec: {**defaults(cls, keys), **own} for sec, (cls, keys, own) in JOB_SECTIONS.items()},
    "preview": {"width": 640, "height": 480},
}
DEFAULTS["lift"]["image_size"] = None  # [width, height], px: needed for keypoint inputs (videos give their own)
DEFAULTS["retarget"]["formats"] = ["bvh"]  # the animation files each 3D file becomes: bvh, glb, gltf, fbx

CONFIG_NAMES = ("Config.toml", "mocap.toml")  # per level: Pose2Sim's, then ours (ours wins)


def read_toml(path: str | Path) -> dict:
    """A TOML file as a dict; a syntax error is one :class:`MocapError` naming the file and line."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise MocapError(f"not valid TOML: {e}", path) from None
    except OSError as e:
        raise MocapError(f"cannot read: {e.strerror}", path) from None


def from_pose2sim(doc: dict) -> dict:
    """The options a Pose2Sim ``Config.toml`` sets that mean the same here: frame rate, likelihood and
    reprojection thresholds, single/multi person, excluded trials."""
    out: dict = {}
    project, tri = doc.get("project", {}), doc.get("triangulation", {})
    if isinstance(project.get("frame_rate"), (int, float)):  # 'auto' -> the video's own rate
        out.setdefault("batch", {})["fps"] = float(project["frame_rate"])
    if project.get("exclude_from_batch"):
        out.setdefault("batch", {})["exclude"] = list(project["exclude_from_batch"])
    if "likelihood_threshold_triangulation" in tri:
        out.setdefault("triangulate", {})["min_confidence"] = tri["likelihood_threshold_triangulation"]
    if doc.get("personAssociation", {}).get("single_person") is False:
        out.setdefault("triangulate", {})["people"] = "all"
    return out


def level_options(folder: Path) -> tuple[dict, list[Path]]:
    """Options set in ``folder`` itself (Config.toml translated, then mocap.toml over it) and the files read."""
    opts, files = {}, []
    for name in CONFIG_NAMES:
        path = folder / name
        if path.is_file():
            doc = read_toml(path)
            if name == "Config.toml":
                doc = from_pose2sim(doc)
            else:
                check_keys(doc, path)
            opts = merge(opts, doc)
            files.append(path)
    return opts, files


def merge(base: dict, over: dict) -> dict:
    """``base`` with ``over``'s values on top, section by section (a new dict; neither is changed)."""
    out = copy.deepcopy(base)
    for sec, vals in over.items():
        if isinstance(vals, dict) and isinstance(out.get(sec), dict):
            out[sec].update(copy.deepcopy(vals))
        else:
            out[sec] = copy.deepcopy(vals)
    return out


def check_keys(doc: dict, where) -> None:
    """Every section and key of ``doc`` must be one of :data:`DEFAULTS` (a typo is an error, not ignored)."""
    for sec, vals in doc.items():
        if sec not in DEFAULTS:
            raise MocapError(f"unknown section [{sec}] (known: {', '.join(DEFAULTS)})", where)
        if not isinstance(vals, dict):
            raise MocapError(f"[{sec}] must be a table of options", where)
        for key in vals:
            if key not in DEFAULTS[sec]:
                raise MocapError(f"unknown option {sec}.{key} (known: {', '.join(DEFAULTS[sec])})", where)


def resolve(opts: dict, where) -> dict:
    """:data:`DEFAULTS` with ``opts`` over them, every value checked (type, range, choice); raises
    :class:`MocapError` naming ``where`` (the file or trial) and the option."""
    check_keys(opts, where)
    out = merge(DEFAULTS, opts)
    for sec, (cls, keys, _) in JOB_SECTIONS.items():  # checked as the job checks them; the values kept as written
        for key in keys:
            check_value(cls, key, out[sec][key], where, f"{sec}.{key}")
    _positive(out, where, ("batch", "fps"), ("preview", "width"), ("preview", "height"))
    split = out["batch"]["split_frames"]
    if not (isinstance(split, int) and not isinstance(split, bool) and split >= 0):
        raise MocapError(f"batch.split_frames must be a whole number of frames >= 0 (0: never split), not {split!r}", where)
    size = out["lift"]["image_size"]
    if size is not None and not (isinstance(size, list) and len(size) == 2 and all(_number(v) and v > 0 for v in size)):
        raise MocapError(f"lift.image_size must be [width, height] in pixels, not {size!r}", where)
    _check_formats(out["retarget"]["formats"], where)
    stages = out["batch"]["stages"]
    if not isinstance(stages, list) or not stages or any(s not in STAGES for s in stages):
        raise MocapError(f"batch.stages must be a list of {', '.join(STAGES)}, not {stages!r}", where)
    return out


def _check_formats(formats, where) -> None:
    """``retarget.formats``: a non-empty list of animation formats without the dot, each once, each writable here."""
    if not (isinstance(formats, list) and formats and all(isinstance(f, str) for f in formats)
            and len(set(formats)) == len(formats)):
        raise MocapError(f"retarget.formats must be a list of {', '.join(f[1:] for f in ANIMATION_FORMATS)} "
                         f"(each once), not {formats!r}", where)
    for f in formats:
        problem = output_problem(f"x.{f}", animation=True)
        if problem:
            raise MocapError(f"retarget.formats: {problem}", where)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive(out: dict, where, *keys) -> None:
    for sec, key in keys:
        v = out[sec][key]
        if v is not None and not (_number(v) and v > 0):
            raise MocapError(f"{sec}.{key} must be a finite number > 0, not {v!r}", where)
