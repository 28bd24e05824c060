"""BVH files: reader and writer with vectorised forward kinematics.

Any channel order per joint (3 or 6 channels, a 6-channel root), end sites, units stated by the
caller (``units``: "m", "cm", "mm", "inch", or a number of metres per file unit), Y-up files (the BVH convention; ``up="z"`` for Z-up files).
Rotations follow the BVH convention: for channels ``Zrotation Xrotation Yrotation`` the local
rotation is ``Rz @ Rx @ Ry`` (intrinsic, degrees), and a joint's world transform is its parent's
times ``translate(t) @ R_local`` where ``t`` is the OFFSET, or the position channels where the joint
has them (they *replace* the offset, as Blender's importer does: the iClone files' root offset
of 105 cm would otherwise be counted twice).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import MocapError
from .atomic import atomic_open
from ..core.kinematics import forward_kinematics
from ..core.motion import UNIT_SCALE, Motion3D
from ..core.skeletons import Skeleton
from ..workers import blocks, each
from .guard import reader

_AXES = {"Xrotation": "X", "Yrotation": "Y", "Zrotation": "Z"}
_POS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass
class BVH:
    """A BVH skeleton and its motion, in file units.

    names: ``J`` joint names (end sites named ``<parent>_End``); parents: ``(J,)`` int, -1 for roots.
    offsets: ``(J, 3)``; channels: per joint the channel names; frame_time: seconds.
    values: ``(T, total_channels)`` the MOTION block as read. total_frames: frames in the file; step: ``values``
    holds every step-th of them (1 unless :func:`read_bvh` was asked for fewer frames of a long file).
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[list[str]]
    frame_time: float
    values: np.ndarray
    total_frames: int | None = None
    step: int = 1

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def n_frames(self) -> int:
        return self.values.shape[0]

    @property
    def end_sites(self) -> np.ndarray:
        """``(J,)`` bool: joint is an End Site (no channels, no children of its own)."""
        return np.array([n.endswith("_End") and not c for n, c in zip(self.names, self.channels)])

    def channel_slices(self) -> list[slice]:
        starts = np.cumsum([0] + [len(c) for c in self.channels])
        return [slice(a, b) for a, b in zip(starts[:-1], starts[1:])]

    def local_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """``(T, J, 3, 3)`` local rotations and ``(T, J, 3)`` local translations (offset, or position channels)."""
        T, J = self.n_frames, len(self.names)
        R = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
        t = np.broadcast_to(self.offsets, (T, J, 3)).copy()
        for j, (chans, sl) in enumerate(zip(self.channels, self.channel_slices())):
            vals = self.values[:, sl]
            rot = [(i, _AXES[c]) for i, c in enumerate(chans) if c in _AXES]
            for i, c in enumerate(chans):
                if c in _POS:
                    t[:, j, _POS[c]] = vals[:, i]
            if rot:
                seq = "".join(a for _, a in rot)
                R[:, j] = Rotation.from_euler(seq, vals[:, [i for i, _ in rot]], degrees=True).as_matrix()
        return R, t

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics: ``(T, J, 3, 3)`` world rotations and ``(T, J, 3)`` positions (file units)."""
        return forward_kinematics(self.parents, *self.local_transforms())

    def to_motion(self, units: str | float = "cm", up: str = "y", include_end_sites: bool = False) -> Motion3D:
        """Joint positions ``(T, J, 3)`` in metres (``units`` = metres per file unit or a unit name)."""
        scale = UNIT_SCALE[units] if isinstance(units, str) else float(units)
        _, pos = self.global_transforms()
        keep = np.ones(len(self.names), bool) if include_end_sites else ~self.end_sites
        names = [n for n, k in zip(self.names, keep) if k]
        index = {n: i for i, n in enumerate(names)}
        bones = tuple((self.names[p], self.names[j]) for j, p in enumerate(self.parents)
                      if p >= 0 and keep[j] and keep[p] and self.names[p] in index)
        sk = Skeleton("bvh", tuple(names), tuple(names), bones)
        return Motion3D(pos[:, keep] * scale, sk, self.fps, up=up, joint_names=names)


@reader("BVH file")
def read_bvh(path: str | Path, max_frames: int | None = None) -> BVH:
    """Parse a BVH file, streaming it (memory: the values kept, not the text); a malformed file raises
    :class:`MocapError` with the line number. ``max_frames`` keeps at most that many frames, evenly spaced over
    the file (for summaries of very long files: ``total_frames`` then says how many the file holds)."""
    path = Path(path)

    def fail(msg, ln):
        raise MocapError(f"line {ln + 1}: {msg}", path)

    try:
        with open(path, errors="replace") as f:
            h, i = _Hierarchy(fail), -1
            for i, line in enumerate(f):
                tok = line.split()
                if tok and tok[0].upper() == "MOTION":
                    break
                if tok:
                    h.line(tok, i)
            else:
                raise MocapError("no HIERARCHY/MOTION section", path)
            if not h.names:
                raise MocapError("no HIERARCHY/MOTION section", path)
            if h.stack:
                fail("unclosed '{' before MOTION", i)
            n_frames, frame_time = _motion_header(f, i, fail)
            step = max(1, -(-n_frames // max_frames)) if max_frames else 1
            values = _motion_rows(f, i + 3, n_frames, n_ch=sum(len(c) for c in h.channels), step=step, fail=fail,
                                  file_size=path.stat().st_size)
    except OSError as e:
        raise MocapError(f"cannot read ({e.strerror or e})", path) from None
    return BVH(h.names, np.array(h.parents), np.array(h.offsets, dtype=float), channels=h.channels,
               frame_time=frame_time, values=values, total_frames=n_frames, step=step)


class _Hierarchy:
    """The HIERARCHY section, one line at a time: joints (with end sites), parents, offsets, channels."""

    def __init__(self, fail):
        self.names, self.parents, self.offsets, self.channels = [], [], [], []
        self.stack: list[int] = []
        self.pending = None
        self.fail = fail

    def line(self, tok: list[str], i: int) -> None:
        key, fail, stack = tok[0].upper(), self.fail, self.stack
        if key == "HIERARCHY":
            return
        if key in ("ROOT", "JOINT") or (key == "END" and len(tok) > 1 and tok[1].upper() == "SITE"):
            if key != "ROOT" and not stack:
                fail(f"{tok[0]} outside any joint", i)
            name = " ".join(tok[1:]) if key != "END" else f"{self.names[stack[-1]]}_End"
            if name in self.names:
                fail(f"joint name {name!r} appears twice", i)
            self.names.append(name)
            self.parents.append(stack[-1] if stack and key != "ROOT" else -1)
            self.offsets.append([0.0, 0.0, 0.0])
            self.channels.append([])
            self.pending = len(self.names) - 1
        elif key == "{":
            if self.pending is None:
                fail("'{' without a joint", i)
            stack.append(self.pending)
            self.pending = None
        elif key == "}":
            if not stack:
                fail("unbalanced '}'", i)
            stack.pop()
        elif key == "OFFSET":
            self._offset(tok, i)
        elif key == "CHANNELS":
            self._channels(tok, i)
        else:
            fail(f"unexpected {tok[0]!r}", i)

    def _offset(self, tok, i):
        if not self.stack:
            self.fail("OFFSET outside a joint", i)
        try:
            self.offsets[self.stack[-1]] = [float(v) for v in tok[1:4]]
        except ValueError:
            self.fail("OFFSET needs 3 numbers", i)
        if len(tok) < 4:
            self.fail("OFFSET needs 3 numbers", i)

    def _channels(self, tok, i):
        try:
            n = int(tok[1])
        except (IndexError, ValueError):
            self.fail("CHANNELS needs a count", i)
        if not self.stack:
            self.fail("CHANNELS outside a joint", i)
        chans = tok[2:]
        if len(chans) != n or any(c not in _AXES and c not in _POS for c in chans):
            self.fail(f"bad CHANNELS list {' '.join(chans)!r}", i)
        if len(set(chans)) != len(chans):
            self.fail(f"CHANNELS repeats an axis: {' '.join(chans)!r}", i)
        self.channels[self.stack[-1]] = chans


def _motion_header(f, i: int, fail) -> tuple[int, float]:
    """``Frames: N`` and ``Frame Time: dt`` from the two lines after the MOTION line ``i``."""
    try:
        n_frames = int(next(f).split(":")[1])
        frame_time = float(next(f).split(":")[1])
    except (IndexError, ValueError, StopIteration):
        fail("expected 'Frames: N' and 'Frame Time: dt' after MOTION", i + 1)
    if n_frames <= 0:
        fail(f"Frames: {n_frames}: the file holds no motion", i + 1)
    if not (np.isfinite(frame_time) and frame_time > 0):
        fail("Frame Time must be a number > 0", i + 2)
    return n_frames, frame_time


def _motion_rows(f, first: int, n_frames: int, n_ch: int, *, step: int, fail, file_size: int,
                 chunk: int = 4096) -> np.ndarray:
    """Every ``step``-th of the ``n_frames`` frame rows (``n_ch`` numbers each), parsed a chunk at a time into
    one array: at most what the file can hold is allocated, whatever ``Frames:`` claims."""
    cap = -(-min(n_frames, file_size // max(1, 2 * n_ch) + 1) // step)  # a row takes >= 2 bytes a value
    out = np.empty((cap, n_ch))
    kept, frame, buf, where = 0, 0, [], []

    def flush():
        nonlocal kept
        try:
            block = np.array(buf, dtype=float)
        except ValueError:
            k = next((ln for ln, row in zip(where, buf) if not _floats_ok(" ".join(row))), where[0])
            fail("non-numeric frame value", k)
        bad = ~np.isfinite(block).all(1)
        if bad.any():
            fail("frame value is not finite (nan or inf)", where[int(np.flatnonzero(bad)[0])])
        out[kept:kept + len(block)] = block
        kept += len(block)
        buf.clear()
        where.clear()

    for ln, line in enumerate(f, start=first):
        if frame >= n_frames:
            break
        if not line.strip():
            continue
        if frame % step == 0:
            tok = line.split()
            if len(tok) != n_ch:
                fail(f"frame has {len(tok)} values, the hierarchy has {n_ch} channels", ln)
            buf.append(tok)
            where.append(ln)
            if len(buf) == chunk:
                flush()
        frame += 1
    if buf:
        flush()
    if frame < n_frames:
        fail(f"Frames: {n_frames} but only {frame} frame lines", first - 2)
    return out[:kept]


def _floats_ok(row: str) -> bool:
    try:
        [float(v) for v in row.split()]
        return True
    except ValueError:
        return False


def write_bvh(bvh: BVH, path: str | Path, precision: int = 6, *, executor=None) -> None:
    """Write ``bvh`` as a BVH file (atomic). ``executor``: blocks of motion lines formatted on it
    (:func:`mocap.workers.each`; the same text)."""
    children: dict[int, list[int]] = {}
    for j, p in enumerate(bvh.parents):
        children.setdefault(int(p), []).append(j)
    out = ["HIERARCHY"]

    def emit(j, depth):
        ind = "\t" * depth
        end = bvh.end_sites[j]
        out.append(f"{ind}{'End Site' if end else ('ROOT ' if bvh.parents[j] < 0 else 'JOINT ') + bvh.names[j]}")
        out.append(f"{ind}{{")
        out.append(f"{ind}\tOFFSET " + " ".join(f"{v:.{precision}f}" for v in bvh.offsets[j]))
        if not end:
            out.append(f"{ind}\tCHANNELS {len(bvh.channels[j])} " + " ".join(bvh.channels[j]))
        for c in children.get(j, []):
            emit(c, depth + 1)
        out.append(f"{ind}}}")

    for r in children.get(-1, []):
        emit(r, 0)
    out += ["MOTION", f"Frames: {bvh.n_frames}", f"Frame Time: {bvh.frame_time:.8f}"]
    rows = partial(motion_rows, precision=precision)
    with atomic_open(path) as f:
        f.write("\n".join(out) + "\n")
        for text in each(rows, (bvh.values[b] for b in blocks(len(bvh.values), ROWS_BLOCK)), executor):
            f.write(text)


ROWS_BLOCK = 4096  # frames of a BVH's motion formatted at once (by a worker of the executor when there is one)


def motion_rows(values: np.ndarray, precision: int = 6) -> str:
    """BVH motion lines of ``values (n, channels)``: fixed ``precision`` decimals, separated by spaces."""
    values = np.asarray(values, float)
    if not values.size:
        return "\n" * len(values)
    line = " ".join([f"%.{precision}f"] * values.shape[1]) + "\n"
    return (line * len(values)) % tuple(values.ravel().tolist())
