"""What each output extension writes, checked before any work: 3D joint files and rig animations."""
from __future__ import annotations

from pathlib import Path

from ..errors import MocapError

JOINT_FORMATS = {".trc": "OpenSim TRC", ".csv": "CSV", ".npz": "NumPy NPZ", ".c3d": "C3D"}
ANIMATION_FORMATS = {".bvh": "BVH", ".glb": "binary glTF", ".gltf": "glTF JSON with its .bin",
                     ".fbx": "FBX (Blender's exporter)"}
FBX_HINT = "FBX is written by Blender's own exporter: pip install 'mocap-pipeline[fbx]' (bpy 5.0.1, Python 3.11)"


def is_animation(path: str | Path) -> bool:
    """Whether ``path``'s extension is a rig animation (:data:`ANIMATION_FORMATS`: retargeted to a rig)."""
    return Path(path).suffix.lower() in ANIMATION_FORMATS


def animation_units(path: str | Path, units: str) -> str:
    """The units an animation at ``path`` is written in: ``units`` for a BVH, metres for glTF and FBX (their
    convention)."""
    return units if Path(path).suffix.lower() == ".bvh" else "m"


def fbx_available() -> bool:
    """Whether Blender's Python module (``bpy``), which writes FBX, is installed."""
    import importlib.util

    return importlib.util.find_spec("bpy") is not None


def output_problem(path: str | Path, animation: bool = False) -> str | None:
    """Why ``path`` cannot be written (an unknown extension, listing the known ones; FBX without ``bpy``, saying how
    to install it), or None. ``animation``: only rig animations are accepted."""
    suffix = Path(path).suffix.lower()
    known = ANIMATION_FORMATS if animation else {**JOINT_FORMATS, **ANIMATION_FORMATS}
    if suffix not in known:
        what = "an animation format" if animation else "a known output format"
        return f"{suffix or '(no extension)'!r} is not {what}; known: {', '.join(known)}"
    if suffix == ".fbx" and not fbx_available():
        return FBX_HINT
    return None


def check_output_format(path: str | Path, animation: bool = False) -> Path:
    """``path`` if :func:`output_problem` finds nothing, else a :class:`MocapError` naming it."""
    problem = output_problem(path, animation)
    if problem:
        raise MocapError(problem, path)
    return Path(path)
