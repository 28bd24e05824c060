"""3D motion files: OpenSim TRC, CSV and NPZ (C3D through ezc3d when installed).

Units and axes are explicit: positions are metres inside; ``up`` names the file's vertical axis
(TRC is Y-up by OpenSim convention; Pose2Sim writes Z-up labs as Y-up with (x, y, z) -> (y, z, x)).
"""
from __future__ import annotations

import csv
from functools import partial
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..core.motion import UNIT_SCALE, Motion3D
from ..core.skeletons import get_skeleton, skeleton_from_names
from ..workers import blocks, each
from .atomic import atomic_open, atomic_path
from .guard import reader



def _scale(units: str, path) -> float:
    try:
        return UNIT_SCALE[units.strip().lower()]
    except KeyError:
        raise MocapError(f"unknown units {units!r} (expected one of {', '.join(UNIT_SCALE)})", path) from None


def _num(v: float) -> str:
    return "" if not np.isfinite(v) else repr(float(v))


def write_trc(motion: Motion3D, path: str | Path, up: str = "y", units: str = "m", *, executor=None) -> None:
    """OpenSim TRC (tab separated), ``up`` axis and ``units`` as asked; unknown positions left blank. ``executor``:
    blocks of lines formatted on it (:func:`mocap.workers.each`; the same text)."""
    m = motion.to_up(up)
    s = 1.0 / _scale(units, path)
    names = m.names
    T = m.n_frames
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{Path(path).name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"{m.fps:g}\t{m.fps:g}\t{T}\t{len(names)}\t{units}\t{m.fps:g}\t1\t{T}",
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
             "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(len(names)))]
    pos = (m.positions * s).reshape(T, -1)
    pos[~np.isfinite(pos)] = np.nan  # blank cells: repr(nan) is the only text of a number holding "nan"
    rows = partial(trc_rows, fps=m.fps)
    with atomic_open(path) as f:
        f.write("\n".join(lines) + "\n")
        for text in each(rows, ((b.start, pos[b]) for b in blocks(T, TRC_BLOCK)), executor):
            f.write(text)


TRC_BLOCK = 4096  # frames of a TRC formatted at once (by a worker of the executor when there is one)


def trc_rows(piece: tuple[int, np.ndarray], *, fps: float) -> str:
    """TRC data lines of ``piece = (first frame index, values (n, 3J))``: frame number, time, values (shortest text
    that reads back to the same float), NaN left blank."""
    start, values = piece
    return "".join(f"{t + 1}\t{t / fps!r}\t" + "\t".join(map(repr, row)).replace("nan", "") + "\n"
                   for t, row in enumerate(values.tolist(), start=start))


@reader("TRC file")
def read_trc(path: str | Path, up: str = "y", *, executor=None) -> Motion3D:
    """Read a TRC file; returns metres with ``up`` as the file's vertical axis ('y' for OpenSim files). ``executor``:
    blocks of lines parsed on it (:func:`mocap.workers.each`; the same values)."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MocapError(f"cannot read ({e})", path) from None
    if len(lines) < 5 or not lines[0].startswith("PathFileType"):
        raise MocapError("not a TRC file (first line must start with PathFileType)", path)
    keys, vals = lines[1].split("\t"), lines[2].split("\t")
    header = dict(zip([k.strip() for k in keys], [v.strip() for v in vals]))
    try:
        fps = float(header.get("DataRate") or header["CameraRate"])
        n_markers = int(header["NumMarkers"])
    except (KeyError, ValueError):
        raise MocapError("line 3: DataRate/NumMarkers missing or not numbers", path) from None
    if not (np.isfinite(fps) and 0 < fps <= 100_000) or n_markers < 1:
        raise MocapError(f"line 3: DataRate {fps:g} and NumMarkers {n_markers}: expected a frame rate > 0 and "
                         "at least one marker", path)
    scale = _scale(header.get("Units", "m"), path)
    names = [n.strip() for n in lines[3].split("\t")[2:] if n.strip()][:n_markers]
    if len(names) != n_markers:
        raise MocapError(f"line 4: {len(names)} marker names but NumMarkers = {n_markers}", path)
    body = lines[5:]
    parse = partial(trc_values, n=3 * n_markers)
    pos = np.concatenate(list(each(parse, ((6 + b.start, body[b]) for b in blocks(len(body), TRC_BLOCK)), executor))
                         or [np.zeros((0, 3 * n_markers))])
    if not len(pos):
        raise MocapError("no frame rows after the header", path)
    pos = pos.reshape(-1, n_markers, 3) * scale
    pos[~np.isfinite(pos).all(-1)] = np.nan
    return Motion3D(pos, skeleton_from_names(names), fps, up=up, joint_names=names)


def trc_values(piece: tuple[int, list[str]], *, n: int) -> np.ndarray:
    """``(rows, n)`` values of ``piece = (number of its first line, TRC data lines)``: frame number and time skipped,
    blank cells NaN, short rows padded, blank lines skipped; a cell that is not a number names its line."""
    first, lines = piece
    rows = []
    for lineno, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        cells = line.split("\t")[2:2 + n]
        cells += [""] * (n - len(cells))
        try:
            rows.append([float(c) if c and not c.isspace() else np.nan for c in cells])  # float() reads "nan" too
        except ValueError:
            raise MocapError(f"line {lineno}: non-numeric value") from None
    return np.array(rows, dtype=float).reshape(-1, n)


def write_csv(motion: Motion3D, path: str | Path, units: str = "m") -> None:
    """Wide CSV: ``time`` then ``<joint>_x, <joint>_y, <joint>_z`` per joint, in ``units``; up axis in a comment;
    with contacts, then ``<foot joint>_contact`` (1 planted, 0 not) per foot joint."""
    s = 1.0 / _scale(units, path)
    with atomic_open(path) as f:
        f.write(f"# mocap motion; units={units}; up={motion.up}; fps={motion.fps!r}; skeleton={motion.skeleton.name}\n")
        w = csv.writer(f)
        feet = motion.foot_joints if motion.contacts is not None else []
        w.writerow(["time"] + [f"{n}_{a}" for n in motion.names for a in "xyz"] + [f"{motion.names[j]}_contact" for j in feet])
        for t in range(motion.n_frames):
            w.writerow([repr(t / motion.fps)] + [_num(v) for v in (motion.positions[t] * s).ravel()]
                       + [str(int(motion.contacts[t, j])) for j in feet])


@reader("motion CSV")
def read_csv(path: str | Path) -> Motion3D:
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MocapError(f"cannot read ({e})", path) from None
    meta = {}
    if lines and lines[0].startswith("#"):
        for part in lines[0][1:].split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                meta[k.strip()] = v.strip()
        lines = lines[1:]
    rows = [r for r in csv.reader(lines) if r]
    n_contact = sum(h.endswith("_contact") for h in rows[0]) if rows else 0
    if not rows or rows[0][0] != "time" or len(rows[0]) - n_contact < 4 or (len(rows[0]) - n_contact - 1) % 3 \
            or any(h.endswith("_contact") for h in rows[0][:len(rows[0]) - n_contact]):
        raise MocapError("CSV header must be time, <joint>_x, <joint>_y, <joint>_z, ... (then <joint>_contact, ...)", path)
    xyz = len(rows[0]) - n_contact
    names = [h[:-2] for h in rows[0][1:xyz:3]]
    contact_names = [h[:-len("_contact")] for h in rows[0][xyz:]]
    if any(n not in names for n in contact_names):
        raise MocapError(f"contact column of an unknown joint: {[n for n in contact_names if n not in names]}", path)
    width = len(rows[0])
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != width:
            raise MocapError(f"row {n}: {len(r)} values, the header has {width}", path)
    try:
        data = np.array([[float(c) if c else np.nan for c in r] for r in rows[1:]], dtype=float).reshape(-1, width)
    except ValueError as e:
        raise MocapError(f"non-numeric value ({e})", path) from None
    if not len(data):
        raise MocapError("no frame rows after the header", path)
    t = data[:, 0]
    steps = np.diff(t)
    fps = _number(meta["fps"], "fps", path) if "fps" in meta else (
        1.0 / float(np.median(steps)) if len(t) > 1 and np.isfinite(steps).all() and np.median(steps) > 0 else 30.0)
    if not (np.isfinite(fps) and 0 < fps <= 100_000):
        raise MocapError(f"frame rate {fps:g} is not a frame rate", path)
    pos = data[:, 1:xyz].reshape(len(data), len(names), 3) * _scale(meta.get("units", "m"), path)
    contacts = None
    if contact_names:
        contacts = np.zeros(pos.shape[:2], bool)
        contacts[:, [names.index(n) for n in contact_names]] = np.nan_to_num(data[:, xyz:]) > 0.5
    pos[~np.isfinite(pos).all(-1)] = np.nan
    sk = meta.get("skeleton")
    skeleton = get_skeleton(sk) if sk and sk.lower() in _registered() and len(get_skeleton(sk)) == len(names) \
        else skeleton_from_names(names)
    up = meta.get("up", "y")
    if up not in ("x", "y", "z"):
        raise MocapError(f"up axis {up!r}: expected x, y or z", path)
    return Motion3D(pos, skeleton, fps, up=up, joint_names=names, contacts=contacts)


def _number(text: str, what: str, path) -> float:
    try:
        return float(text)
    except ValueError:
        raise MocapError(f"{what} {text!r} is not a number", path) from None


def write_npz(motion: Motion3D, path: str | Path) -> None:
    """NPZ with ``positions`` (T, J, 3) metres, ``confidence`` (T, J), names, fps, up axis and skeleton (and
    ``contacts`` (T, J) bool when the motion has them)."""
    extra = {} if motion.contacts is None else {"contacts": motion.contacts}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, positions=motion.positions, confidence=motion.confidence,
                                joint_names=np.array(motion.names), fps=motion.fps, up=motion.up,
                                units="m", skeleton=motion.skeleton.name, **extra)


def write_people_npz(motions: list[Motion3D], ids: list[int], path: str | Path) -> None:
    """Several people in one NPZ: ``positions (K, T, J, 3)`` metres, ``confidence (K, T, J)``, ``ids (K,)``,
    plus names, fps, up axis and skeleton as in :func:`write_npz` (all motions share skeleton, fps, length)."""
    extra = {}
    if all(x.contacts is not None for x in motions):
        extra["contacts"] = np.stack([x.contacts for x in motions])
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            m = motions[0]
            np.savez_compressed(f, **extra, positions=np.stack([x.positions for x in motions]),
                                confidence=np.stack([x.confidence for x in motions]), ids=np.asarray(ids),
                                joint_names=np.array(m.names), fps=m.fps, up=m.up, units="m", skeleton=m.skeleton.name)


@reader("motion NPZ")
def read_people_npz(path: str | Path) -> tuple[list[int], list[Motion3D]]:
    """IDs and motions of every person in an NPZ (a single-person NPZ gives one, with ID 1)."""
    ids, motions, _ = _read_npz(path)
    return ids, motions


@reader("motion NPZ")
def read_npz(path: str | Path) -> Motion3D:
    ids, motions, several = _read_npz(path)
    if several:
        raise MocapError(f"holds {len(ids)} people: pick one with mocap.io.motion.read_people_npz", path)
    return motions[0]


def _read_npz(path: str | Path) -> tuple[list[int], list[Motion3D], bool]:
    """An NPZ of :func:`write_npz` or :func:`write_people_npz`: IDs, one motion per person, and whether the
    file holds several people."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
        names = [str(n) for n in z["joint_names"]]
        sk = str(z["skeleton"])
        skeleton = get_skeleton(sk) if sk != "custom" and sk.lower() in _registered() else skeleton_from_names(names)
        positions, confidence = z["positions"], z["confidence"]
        several = positions.ndim == 4
        ids = [int(i) for i in z["ids"]] if several else [1]
        contacts = z["contacts"] if "contacts" in z.files else None
        if not several:
            positions, confidence = positions[None], confidence[None]
            contacts = None if contacts is None else contacts[None]
        fps, up = float(z["fps"]), str(z["up"])
        if positions.shape[-2:] != (len(names), 3) or confidence.shape != positions.shape[:-1]:
            raise ValueError(f"positions {positions.shape} and confidence {confidence.shape} do not fit "
                             f"{len(names)} joint names")
        if not (np.isfinite(fps) and 0 < fps <= 100_000) or up not in ("x", "y", "z"):
            raise ValueError(f"fps {fps:g} / up axis {up!r}")
        if contacts is not None and contacts.shape != confidence.shape:
            raise ValueError(f"contacts {contacts.shape} do not fit positions {positions.shape}")
        return ids, [Motion3D(p, skeleton, fps, confidence=c, up=up, joint_names=names,
                              contacts=None if contacts is None else contacts[k])
                     for k, (p, c) in enumerate(zip(positions, confidence))], several
    except MocapError as e:
        raise MocapError(e.cause, path) from None
    except Exception as e:  # zip, zlib, numpy format and field errors of a damaged or foreign file
        raise MocapError(f"not a mocap motion .npz ({type(e).__name__}: {e})", path) from None


def write_c3d(motion: Motion3D, path: str | Path, units: str = "mm", up: str = "z") -> None:
    """C3D through ezc3d: points in ``units`` (mm by default, the C3D convention), ``up`` axis as asked
    (Z-up by default, as labs use); missing points have residual -1."""
    try:
        import ezc3d
    except ImportError:
        raise MocapError("writing C3D needs ezc3d (pip install 'mocap-pipeline[c3d]')", path) from None
    m = motion.to_up(up)
    s = 1.0 / _scale(units, path)
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [float(m.fps)]
    c["parameters"]["POINT"]["LABELS"]["value"] = list(m.names)
    c["parameters"]["POINT"]["UNITS"]["value"] = [units]
    pts = np.ones((4, len(m.names), m.n_frames))
    pts[:3] = np.nan_to_num(m.positions * s).transpose(2, 1, 0)
    c["data"]["points"] = pts
    c["data"]["meta_points"]["residuals"] = np.where(m.valid.T, 0.0, -1.0)[None]
    with atomic_path(path) as tmp:
        c.write(str(tmp))


@reader("C3D file")
def read_c3d(path: str | Path, up: str = "z") -> Motion3D:
    """C3D points (any units in POINT:UNITS) -> metres; ``up`` is the file's vertical axis (Z for labs).

    Read with the pure-Python ``c3d`` package: a corrupt file is a :class:`MocapError` (ezc3d, which writes our
    C3D files, can crash or loop forever in native code on a damaged one, beyond any error handling)."""
    import io
    import logging

    path = Path(path)
    try:
        import c3d
    except ImportError:
        raise MocapError("reading C3D needs the c3d package (pip install 'mocap-pipeline[c3d]')", path) from None
    try:
        data = path.read_bytes()
    except OSError as e:
        raise MocapError(f"cannot read ({e.strerror})", path) from None
    logging.getLogger("c3d").setLevel(logging.CRITICAL)  # it logs what it then raises
    try:
        r = c3d.Reader(io.BytesIO(data))
        names = [str(n).strip() for n in r.point_labels]
        frames = [p[:, :4].astype(float) for _, p, _ in r.read_frames()]
        fps = float(r.point_rate)
        units = r.get("POINT:UNITS").string_value.strip() if r.get("POINT:UNITS") is not None else "mm"
    except Exception as e:  # struct/assert/index errors of a damaged file, wherever the parser meets them
        raise MocapError(f"not a readable C3D file ({type(e).__name__}: {e})", path) from None
    if not frames or not names or any(f.shape != (len(names), 4) for f in frames):
        raise MocapError(f"C3D holds {len(frames)} frames of {len(names)} labelled points: nothing to read", path)
    if not (np.isfinite(fps) and 0 < fps <= 100_000):
        raise MocapError(f"POINT:RATE is {fps:g}, not a frame rate", path)
    pts = np.stack(frames)  # (T, J, 4): x, y, z, residual (-1: missing)
    pos = pts[..., :3] * _scale(units or "mm", path)
    pos[pts[..., 3] < 0] = np.nan
    pos[~np.isfinite(pos).all(-1)] = np.nan
    return Motion3D(pos, skeleton_from_names(names), fps, up=up, joint_names=names)


def _registered():
    from ..core.skeletons import SKELETONS
    return SKELETONS


READERS = {".trc": read_trc, ".csv": read_csv, ".npz": read_npz, ".c3d": read_c3d}
WRITERS = {".trc": write_trc, ".csv": write_csv, ".npz": write_npz, ".c3d": write_c3d}


@reader("3D motion file")
def read_motion(path: str | Path, **kwargs) -> Motion3D:
    """Read any supported 3D file by extension (``kwargs`` to its reader, e.g. ``executor`` for :func:`read_trc`)."""
    path = Path(path)
    if not path.exists():
        raise MocapError("file not found", path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise MocapError(f"unknown 3D format {path.suffix!r} (expected {', '.join(READERS)})", path)
    return reader(path, **kwargs)


def write_motion(motion: Motion3D, path: str | Path, **kwargs) -> None:
    """Write any supported 3D file by extension."""
    writer = WRITERS.get(Path(path).suffix.lower())
    if writer is None:
        raise MocapError(f"unknown 3D format {Path(path).suffix!r} (expected {', '.join(WRITERS)})", path)
    writer(motion, path, **kwargs)


CMU_UNIT = 0.0254 / 0.45  # metres per unit of CMU's ASF/AMC (and their original BVH conversions)


def guess_bvh_units(body_height: float) -> float:
    """Metres per file unit from the body's vertical extent (median over frames, file units):
    metres (~1.7), CMU units (~30), inches (~67), centimetres (~170) or millimetres (~1700)."""
    for lo, scale in ((1000, UNIT_SCALE["mm"]), (100, UNIT_SCALE["cm"]), (45, UNIT_SCALE["inch"]), (10, CMU_UNIT)):
        if body_height > lo:
            return scale
    return 1.0


@reader("3D motion file")
def load_motion(path: str | Path, in_units: str | float = "auto", *, executor=None) -> Motion3D:
    """Any 3D file (TRC, CSV, NPZ, C3D or BVH) as a Motion3D in metres; BVH units from ``in_units``
    ("auto" guesses from the body's height). ``executor``: where a TRC's lines are parsed (:func:`read_trc`)."""
    from .bvh import read_bvh

    path = Path(path)
    if path.suffix.lower() != ".bvh":
        return read_motion(path, **({"executor": executor} if executor is not None and path.suffix.lower() == ".trc"
                                    else {}))
    if not path.exists():
        raise MocapError("file not found", path)
    bvh = read_bvh(path)
    if in_units == "auto":
        _, pos = bvh.global_transforms()
        scale = guess_bvh_units(float(np.nanmedian(pos[..., 1].max(axis=1) - pos[..., 1].min(axis=1))))
    else:
        scale = UNIT_SCALE[in_units] if isinstance(in_units, str) else float(in_units)
    return bvh.to_motion(scale, include_end_sites=True)
