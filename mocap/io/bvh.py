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
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []
    pending = None
    i = 0

    def fail(msg, ln):
        raise MocapError(f"line {ln + 1}: {msg}", path)

    while i < len(lines):
        tok = lines[i].split()
        if not tok:
            i += 1
            continue
        key = tok[0].upper()
        if key == "HIERARCHY":
            pass
        elif key in ("ROOT", "JOINT") or (key == "END" and len(tok) > 1 and tok[1].upper() == "SITE"):
            if key != "ROOT" and not stack:
                fail(f"{tok[0]} outside any joint", i)
            name = " ".join(tok[1:]) if key != "END" else f"{names[stack[-1]]}_End"
            names.append(name)
            parents.append(stack[-1] if stack and key != "ROOT" else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            pending = len(names) - 1
        elif key == "{":
            if pending is None:
                fail("'{' without a joint", i)
            stack.append(pending)
            pending = None
        elif key == "}":
            if not stack:
                fail("unbalanced '}'", i)
            stack.pop()
        elif key == "OFFSET":
            if not stack:
                fail("OFFSET outside a joint", i)
            try:
                offsets[stack[-1]] = [float(v) for v in tok[1:4]]
            except ValueError:
                fail("OFFSET needs 3 numbers", i)
            if len(tok) < 4:
                fail("OFFSET needs 3 numbers", i)
        elif key == "CHANNELS":
            try:
                n = int(tok[1])
            except (IndexError, ValueError):
                fail("CHANNELS needs a count", i)
            chans = tok[2:]
            if len(chans) != n or any(c not in _AXES and c not in _POS for c in chans):
                fail(f"bad CHANNELS list {' '.join(chans)!r}", i)
            channels[stack[-1]] = chans
        elif key == "MOTION":
            break
        else:
            fail(f"unexpected {tok[0]!r}", i)
        i += 1
    if i >= len(lines) or not names:
        raise MocapError("no HIERARCHY/MOTION section", path)
    if stack:
        fail("unclosed '{' before MOTION", i)
    try:
        n_frames = int(lines[i + 1].split(":")[1])
        frame_time = float(lines[i + 2].split(":")[1])
    except (IndexError, ValueError):
        fail("expected 'Frames: N' and 'Frame Time: dt' after MOTION", i + 1)
    n_ch = sum(len(c) for c in channels)
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
    return BVH(names, np.array(parents), np.array(offsets, dtype=float), channels, frame_time, values)


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
