"""Calibration files: Pose2Sim/anipose TOML, Qualisys ``.qca.txt``, OpenCV/EasyMocap ``intri.yml`` + ``extri.yml``.

All readers return a :class:`~mocap.core.camera.CameraRig` in metres with OpenCV conventions
(world->camera ``R``, ``t``); all writers are atomic.
"""
from __future__ import annotations

import json

import re
from contextlib import contextmanager
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

from ..core.camera import Camera, CameraRig, rodrigues_to_matrix
from ..errors import MocapError
from .atomic import atomic_open, atomic_path
from .guard import reader

# Qualisys stores intrinsics in sub-pixel units of 1/64 px; Pose2Sim's converter also divides the
# distortion coefficients by 64, and files converted by it (like the Pose2Sim demo's) depend on
# that, so we do the same both ways to stay file-compatible.
_QCA_SCALE = 64.0
# Qualisys camera axes: x right, y up, z backwards -> OpenCV: flip y and z.
_QCA_FLIP = np.diag([1.0, -1.0, -1.0])


def natural_key(text: str) -> list:
    """Sort key that orders ``cam_2`` before ``cam_10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(text))]


@contextmanager
def camera_fields_errors(path, label: str):
    """Turn a camera that cannot be built from a file's fields into one MocapError naming the file."""
    try:
        yield
    except MocapError as e:
        raise MocapError(e.cause, path) from None
    except (AttributeError, KeyError, ValueError, TypeError, IndexError, OverflowError, cv2.error) as e:
        raise MocapError(f"{label} is incomplete or malformed ({type(e).__name__}: {e})", path) from None


@reader("calibration")
def read_calibration(path: str | Path) -> CameraRig:
    """Read any supported calibration file (by extension/content)."""
    path = Path(path)
    if path.is_dir():
        if (path / "intri.yml").exists():
            return read_opencv_yml(path)
        tomls = sorted(path.glob("*.toml"))
        if len(tomls) == 1:
            return read_toml(tomls[0])
        raise MocapError("folder holds no single calibration file (.toml or intri.yml + extri.yml)", path)
    if not path.exists():
        raise MocapError("calibration file not found", path)
    name = path.name.lower()
    if name.endswith(".toml"):
        return read_toml(path)
    if name.endswith((".qca.txt", ".qca", ".xml")):
        return read_qca(path)
    if name.endswith((".yml", ".yaml")):
        return read_opencv_yml(path)
    raise MocapError("unknown calibration format (expected .toml, .qca.txt, or intri.yml/extri.yml)", path)


def write_calibration(rig: CameraRig, path: str | Path) -> None:
    """Write ``rig`` in the format given by the extension of ``path``."""
    name = Path(path).name.lower()
    if name.endswith(".toml"):
        write_toml(rig, path)
    elif name.endswith((".qca.txt", ".qca", ".xml")):
        write_qca(rig, path)
    elif name.endswith((".yml", ".yaml")) or Path(path).is_dir():
        write_opencv_yml(rig, Path(path).parent if name.endswith((".yml", ".yaml")) else path)
    else:
        raise MocapError("unknown calibration format to write", path)


# ---------------------------------------------------------------- TOML (Pose2Sim / anipose)
@reader("TOML calibration")
def read_toml(path: str | Path) -> CameraRig:
    """Pose2Sim/anipose TOML: one table per camera (``[cam_01]`` or ``[cam_0]``), ordered numerically."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise MocapError(f"not a readable TOML calibration ({e})", path) from None
    cams = []
    for key in sorted((k for k, v in doc.items() if isinstance(v, dict) and "matrix" in v), key=natural_key):
        c = doc[key]
        with camera_fields_errors(path, f"camera [{key}]"):
            cams.append(Camera(
                name=str(c.get("name", key)), K=np.array(c["matrix"], dtype=float),
                dist=np.array(c.get("distortions", [0, 0, 0, 0]), dtype=float),
                R=rodrigues_to_matrix(np.array(c["rotation"], dtype=float)),
                t=np.array(c["translation"], dtype=float), size=tuple(c.get("size", (1920, 1080))),
                fisheye=bool(c.get("fisheye", False))))
    if not cams:
        raise MocapError("no camera table (with 'matrix', 'rotation', 'translation') found", path)
    return CameraRig(cams, str(path))


def _fmt(x: float) -> str:
    return repr(float(x))


def _vec(v) -> str:
    return "[ " + ", ".join(_fmt(x) for x in np.ravel(v)) + "]"


def write_toml(rig: CameraRig, path: str | Path, error: float = 0.0) -> None:
    """Pose2Sim-style TOML (``[cam_01]`` tables; floats written with full precision)."""
    lines = []
    for i, c in enumerate(rig):
        lines += [f"[cam_{i + 1:02d}]", f"name = {json.dumps(c.name)}", f"size = {_vec(c.size)}",
                  "matrix = [ " + ", ".join(_vec(row) for row in c.K) + "]",
                  f"distortions = {_vec(c.dist)}", f"rotation = {_vec(c.rvec)}",
                  f"translation = {_vec(c.t)}", f"fisheye = {'true' if c.fisheye else 'false'}", ""]
    lines += ["[metadata]", "adjusted = false", f"error = {_fmt(error)}", ""]
    with atomic_open(path) as f:
        f.write("\n".join(lines))


# ---------------------------------------------------------------- Qualisys
@reader("Qualisys calibration")
def read_qca(path: str | Path, binning_factor: float = 1.0) -> CameraRig:
    """Qualisys ``.qca.txt`` export (XML): positions in mm, intrinsics in 1/64 px."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError, LookupError, UnicodeError, ValueError) as e:  # LookupError: unknown encoding
        raise MocapError(f"not a readable Qualisys calibration ({e})", path) from None
    cams = []
    for i, cam in enumerate(root.findall("cameras/camera")):
        with camera_fields_errors(path, f"camera #{i + 1}"):
            fov = cam.find("fov_video").attrib
            tr = cam.find("transform").attrib
            it = cam.find("intrinsic").attrib
            left, top = float(fov["left"]), float(fov["top"])
            w = (float(fov["right"]) - left + 1) / binning_factor
            h = (float(fov["bottom"]) - top + 1) / binning_factor
            s = _QCA_SCALE * binning_factor
            K = np.array([[float(it["focalLengthU"]) / s, 0, float(it["centerPointU"]) / s - left],
                          [0, float(it["focalLengthV"]) / s, float(it["centerPointV"]) / s - top], [0, 0, 1]])
            dist = [float(it[k]) / s for k in ("radialDistortion1", "radialDistortion2",
                                               "tangentalDistortion1", "tangentalDistortion2")]
            k3 = float(it.get("radialDistortion3", 0.0)) / s
            if k3:
                dist.append(k3)
            Rq = np.array([[float(tr[f"r{a}{b}"]) for b in "123"] for a in "123"])
            center = np.array([float(tr[k]) for k in "xyz"]) / 1000.0
            R = _QCA_FLIP @ Rq
            cams.append(Camera(cam.attrib.get("serial", f"cam_{i + 1:02d}"), K, np.array(dist), R, -R @ center, (w, h)))
    if not cams:
        raise MocapError("no <camera> element found", path)
    return CameraRig(cams, str(path))


def write_qca(rig: CameraRig, path: str | Path) -> None:
    """Qualisys-style ``.qca.txt`` (readable by :func:`read_qca` and Pose2Sim's converter)."""
    if any(c.fisheye for c in rig):
        raise MocapError("the Qualisys format cannot hold fisheye cameras", path)
    root = ET.Element("calibration", {"source": "mocap", "type": "regular"})
    ET.SubElement(root, "results", {"min-max-diff": "0.", "std-dev": "0."})
    cams = ET.SubElement(root, "cameras")
    for c in rig:
        if len(c.dist) > 5:
            raise MocapError(f"camera {c.name}: Qualisys holds at most k1 k2 k3 p1 p2", path)
        cam = ET.SubElement(cams, "camera", {"active": "1", "avg-residual": "0", "model": "none",
                                             "serial": c.name, "viewrotation": "0"})
        w, h = c.size
        for tag in ("fov_marker", "fov_marker_max", "fov_video", "fov_video_max"):
            ET.SubElement(cam, tag, {"left": "0", "top": "0", "right": str(w - 1), "bottom": str(h - 1)})
        Rq = _QCA_FLIP @ c.R
        attrs = {f"r{a + 1}{b + 1}": _fmt(Rq[a, b]) for a in range(3) for b in range(3)}
        attrs.update({k: _fmt(v * 1000.0) for k, v in zip("xyz", c.center)})
        ET.SubElement(cam, "transform", attrs)
        d = np.zeros(5)
        d[: len(c.dist)] = c.dist
        ET.SubElement(cam, "intrinsic", {
            "focalLengthU": _fmt(c.K[0, 0] * _QCA_SCALE), "focalLengthV": _fmt(c.K[1, 1] * _QCA_SCALE),
            "centerPointU": _fmt(c.K[0, 2] * _QCA_SCALE), "centerPointV": _fmt(c.K[1, 2] * _QCA_SCALE),
            "radialDistortion1": _fmt(d[0] * _QCA_SCALE), "radialDistortion2": _fmt(d[1] * _QCA_SCALE),
            "radialDistortion3": _fmt(d[4] * _QCA_SCALE), "tangentalDistortion1": _fmt(d[2] * _QCA_SCALE),
            "tangentalDistortion2": _fmt(d[3] * _QCA_SCALE), "skew": "0"})
    ET.indent(root)
    with atomic_open(path) as f:
        f.write("<?xml version='1.0' encoding='ASCII'?>\n" + ET.tostring(root, encoding="unicode") + "\n")


# ---------------------------------------------------------------- OpenCV / EasyMocap YAML
def _yml_pair(path: Path) -> tuple[Path, Path]:
    folder = path if path.is_dir() else path.parent
    return folder / "intri.yml", folder / "extri.yml"


@reader("OpenCV calibration")
def read_opencv_yml(path: str | Path) -> CameraRig:
    """EasyMocap ``intri.yml`` (``K_<name>``, ``dist_<name>``) + ``extri.yml`` (``R_<name>``/``Rot_<name>``, ``T_<name>``)."""
    intri, extri = _yml_pair(Path(path))
    for p in (intri, extri):
        if not p.exists():
            raise MocapError("missing (OpenCV calibrations come as intri.yml + extri.yml)", p)
    fi, fe = _file_storage(intri), _file_storage(extri)
    try:
        return _yml_cameras(fi, fe, intri, extri)
    except (cv2.error, SystemError, UnicodeDecodeError) as e:  # OpenCV's parser fails late on damaged nodes
        raise MocapError(f"not a readable OpenCV calibration ({str(e).strip().splitlines()[-1][:200]})", intri) from None
    finally:
        fi.release()
        fe.release()


def _file_storage(path: Path):
    """An OpenCV FileStorage open for reading; a file OpenCV cannot parse is a MocapError naming it."""
    try:
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    except (cv2.error, SystemError, UnicodeDecodeError) as e:
        raise MocapError(f"not a readable OpenCV YAML/XML file ({str(e).strip().splitlines()[-1][:200]})", path) from None
    if not fs.isOpened():
        raise MocapError("not a readable OpenCV YAML/XML file", path)
    return fs


def _yml_cameras(fi, fe, intri: Path, extri: Path) -> CameraRig:
    """The cameras of an open intri.yml / extri.yml pair (names, K, dist, W, H; Rot or R, T)."""
    names_node = fi.getNode("names")
    names = [names_node.at(i).string() for i in range(names_node.size())]
    if not names:
        raise MocapError("no 'names' list", intri)
    cams = []
    for n in names:
        K, dist = fi.getNode(f"K_{n}").mat(), fi.getNode(f"dist_{n}").mat()
        rot, rvec, T = fe.getNode(f"Rot_{n}").mat(), fe.getNode(f"R_{n}").mat(), fe.getNode(f"T_{n}").mat()
        if K is None:
            raise MocapError(f"no K_{n}", intri)
        if T is None or (rot is None and rvec is None):
            raise MocapError(f"no R_{n}/Rot_{n} or T_{n}", extri)
        W, H = fi.getNode(f"W_{n}"), fi.getNode(f"H_{n}")
        with camera_fields_errors(intri, f"camera {n}"):
            R = rot if rot is not None else rodrigues_to_matrix(rvec)
            size = (W.real(), H.real()) if not W.empty() and not H.empty() else (2 * K[0, 2], 2 * K[1, 2])
            cams.append(Camera(n, K, np.zeros(5) if dist is None else dist.ravel(), R, T.ravel(), size))
    return CameraRig(cams, str(intri))


def write_opencv_yml(rig: CameraRig, folder: str | Path) -> None:
    """Write ``intri.yml`` and ``extri.yml`` into ``folder`` (EasyMocap layout, distortion as 1x5)."""
    intri, extri = _yml_pair(Path(folder) if Path(folder).is_dir() or not Path(folder).suffix else Path(folder))
    bad = next((c.name for c in rig if not re.fullmatch(r"[A-Za-z0-9_]+", c.name)), None)
    if bad is not None:
        raise MocapError(f"camera name {bad!r}: OpenCV YAML keys take letters, digits and _ only", intri)
    if any(c.fisheye for c in rig) or any(len(c.dist) > 5 for c in rig):
        raise MocapError("intri.yml holds only k1 k2 p1 p2 k3 (no fisheye, no rational model)", intri)
    with atomic_path(intri) as ti, atomic_path(extri) as te:
        fi, fe = cv2.FileStorage(str(ti), cv2.FILE_STORAGE_WRITE), cv2.FileStorage(str(te), cv2.FILE_STORAGE_WRITE)
        for fs in (fi, fe):
            fs.startWriteStruct("names", cv2.FileNode_SEQ)
            for c in rig:
                fs.write("", c.name)
            fs.endWriteStruct()
        for c in rig:
            d = np.zeros(5)
            d[: len(c.dist)] = c.dist
            fi.write(f"K_{c.name}", c.K)
            fi.write(f"dist_{c.name}", d[None])
            fi.write(f"W_{c.name}", int(c.size[0]))
            fi.write(f"H_{c.name}", int(c.size[1]))
            fe.write(f"R_{c.name}", c.rvec[:, None])
            fe.write(f"Rot_{c.name}", c.R)
            fe.write(f"T_{c.name}", c.t[:, None])
        fi.release()
        fe.release()
