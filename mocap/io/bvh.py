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
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import MocapError
from .atomic import atomic_open
from ..core.kinematics import forward_kinematics
from ..core.motion import UNIT_SCALE, Motion3D
from ..core.skeletons import Skeleton

_AXES = {"Xrotation": "X", "Yrotation": "Y", "Zrotation": "Z"}
_POS = {"Xposition": 0, "Yposition": 1, "Zposition": 2}


@dataclass
class BVH:
    """A BVH skeleton and its motion, in file units.

    names: ``J`` joint names (end sites named ``<parent>_End``); parents: ``(J,)`` int, -1 for roots.
    offsets: ``(J, 3)``; channels: per joint the channel names; frame_time: seconds.
    values: ``(T, total_channels)`` the MOTION block as read.
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[list[str]]
    frame_time: float
    values: np.ndarray

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


def read_bvh(path: str | Path) -> BVH:
    """Parse a BVH file; a malformed file raises :class:`MocapError` with the line number."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as e:
        raise MocapError(f"cannot read ({e})", path) from None

    def fail(msg, ln):
        raise MocapError(f"line {ln + 1}: {msg}", path)

    h = _Hierarchy(fail)
    i = 0
    while i < len(lines):
        tok = lines[i].split()
        if tok and tok[0].upper() == "MOTION":
            break
        if tok:
            h.line(tok, i)
        i += 1
    if i >= len(lines) or not h.names:
        raise MocapError("no HIERARCHY/MOTION section", path)
    if h.stack:
        fail("unclosed '{' before MOTION", i)
    frame_time, values = _motion_section(lines, i, sum(len(c) for c in h.channels), fail)
    return BVH(h.names, np.array(h.parents), np.array(h.offsets, dtype=float), h.channels, frame_time, values)


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
            self.names.append(" ".join(tok[1:]) if key != "END" else f"{self.names[stack[-1]]}_End")
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
        self.channels[self.stack[-1]] = chans


def _motion_section(lines: list[str], i: int, n_ch: int, fail) -> tuple[float, np.ndarray]:
    """``Frames:``/``Frame Time:`` after the MOTION line ``i`` and the ``(T, n_ch)`` channel values."""
    try:
        n_frames = int(lines[i + 1].split(":")[1])
        frame_time = float(lines[i + 2].split(":")[1])
    except (IndexError, ValueError):
        fail("expected 'Frames: N' and 'Frame Time: dt' after MOTION", i + 1)
    rows = [ln for ln in lines[i + 3:] if ln.strip()]
    if len(rows) < n_frames:
        fail(f"Frames: {n_frames} but only {len(rows)} frame lines", i + 1)
    try:
        values = np.array([np.array(r.split(), dtype=float) for r in rows[:n_frames]])
    except ValueError:
        bad = next(k for k, r in enumerate(rows) if not _floats_ok(r))
        fail("non-numeric frame value", i + 3 + bad)
    if values.ndim != 2 or values.shape[1] != n_ch:
        k = next((k for k, r in enumerate(rows[:n_frames]) if len(r.split()) != n_ch), 0)
        fail(f"frame has {len(rows[k].split())} values, the hierarchy has {n_ch} channels", i + 3 + k)
    if frame_time <= 0:
        fail("Frame Time must be > 0", i + 2)
    return frame_time, values


def _floats_ok(row: str) -> bool:
    try:
        [float(v) for v in row.split()]
        return True
    except ValueError:
        return False


def write_bvh(bvh: BVH, path: str | Path, precision: int = 6) -> None:
    """Write ``bvh`` as a BVH file (atomic)."""
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
    with atomic_open(path) as f:
        f.write("\n".join(out) + "\n")
        np.savetxt(f, bvh.values, fmt=f"%.{precision}f", delimiter=" ")
