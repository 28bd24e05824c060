"""Camera time offsets (``mocap sync``) as a small TOML file kept beside the calibration.

Camera ``c``'s frame ``u`` shows the reference camera's time ``tau`` when ``u = (tau + offset_s) * fps``: with equal
frame rates, reference frame ``t`` is frame ``t + offset_frames`` of camera ``c``. A camera that could not be timed
has ``decided = false`` and no offset. Plain data in and out::

    {"reference": "cam_01", "method": "geometric",
     "cameras": [{"name": "cam_01", "fps": 60.0, "offset_s": 0.0, "confidence": 1.0}, ...]}   # offset_s None: undecided
"""
from __future__ import annotations

import json

import tomllib
from pathlib import Path

from ..errors import MocapError
from .atomic import atomic_path
from .guard import reader


def offsets_path(calib: str | Path) -> Path:
    """Where ``mocap sync`` puts the offsets by default: ``<calibration stem>_offsets.toml`` beside it."""
    calib = Path(calib)
    return calib.with_name(calib.stem + "_offsets.toml")


def write_offsets(doc: dict, path: str | Path) -> None:
    """Write the offsets ``doc`` (module docstring) as TOML, atomically."""
    lines = ["# Camera time offsets written by `mocap sync`. Camera c's frame u shows the reference's time tau when",
             "# u = (tau + offset_s) * fps; with equal frame rates reference frame t is frame t + offset_frames.",
             "[sync]", f'reference = {json.dumps(str(doc["reference"]))}', f'method = {json.dumps(str(doc["method"]))}', ""]
    for cam in doc["cameras"]:  # names as TOML basic strings (JSON's escapes are TOML's)
        lines += [f'[cameras.{json.dumps(str(cam["name"]))}]', f'fps = {float(cam["fps"])!r}']
        if cam["offset_s"] is None:
            lines += ["decided = false"]
        else:
            lines += ["decided = true", f'offset_s = {float(cam["offset_s"])!r}',
                      f'offset_frames = {float(cam["offset_s"]) * float(cam["fps"])!r}']
        lines += [f'confidence = {float(cam["confidence"])!r}', ""]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))


@reader("offsets file")
def read_offsets(path: str | Path) -> dict:
    """Read an offsets file (module docstring); a missing or malformed file raises :class:`MocapError` naming it."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise MocapError("offsets file not found", path) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise MocapError(f"not an offsets file ({e})", path) from None
    try:
        cams = [{"name": name, "fps": float(c["fps"]), "confidence": float(c.get("confidence", 0.0)),
                 "offset_s": float(c["offset_s"]) if c.get("decided", True) else None}
                for name, c in doc["cameras"].items()]
        return {"reference": str(doc["sync"]["reference"]), "method": str(doc["sync"].get("method", "")), "cameras": cams}
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise MocapError(f"not an offsets file (missing or bad {e})", path) from None
