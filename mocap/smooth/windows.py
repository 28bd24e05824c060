"""Long recordings refined in overlapping windows of time, in bounded memory.

:func:`~mocap.smooth.refine.refine` solves every frame at once; its memory grows with the length (a 50 000-frame,
4-camera recording peaks near 1.2 GB). :func:`refine_in_windows` runs it over windows of ``window`` frames that
overlap by ``overlap`` frames, with what must not change at a seam decided once for the whole recording:

- the bone lengths (:func:`~mocap.core.kinematics.robust_bone_lengths` over every frame's well-supported points);
- the floor and the feet's contacts (:func:`~mocap.smooth.contacts.estimate_floor` and
  :func:`~mocap.smooth.contacts.detect_contacts` on the stitched first solve), then every window solved again with
  them given.

Each window's outer frames (3/8 of the overlap at either end) are not used: a gap or a movement cut short by the
window's edge is solved worse there. Across the middle quarter of each overlap the two windows' answers are blended
linearly; the smoothness prior's reach is a few frames, so both agree there closely (``tests/smooth/test_windows.py``).
Shapes as in :func:`~mocap.smooth.refine.refine`: ``X0 (T, J, 3)`` metres, views ``(xy (C, T, J, 2), w (C, T, J),
Rt, focals)``.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np

from ..core.kinematics import robust_bone_lengths
from ..workers import each
from .refine import Planting, RefineResult, refine

WINDOW = 1024  # frames per window (17 s at 60 fps): a window's solve stays near 25 MB with 4 cameras; shorter windows
# converge in fewer iterations (50 000 frames x 4 cameras: 45 s in windows of 1024, 50 s of 2048, 60 s of 4096)
OVERLAP = 128  # frames shared by neighbouring windows, blended


def windows(T: int, window: int = WINDOW, overlap: int = OVERLAP) -> list[slice]:
    """``[slice]`` covering ``0..T``, each ``window`` frames long (the last may be longer, never shorter than
    ``overlap``), neighbours sharing ``overlap`` frames."""
    if T <= window:
        return [slice(0, T)]
    starts = list(range(0, T - overlap, window - overlap))
    if T - starts[-1] < 2 * overlap:  # a short last piece joins the one before
        starts.pop()
    return [slice(s, starts[i + 1] + overlap if i + 1 < len(starts) else T) for i, s in enumerate(starts)]


def blend_weights(pieces: list[slice], T: int) -> list[np.ndarray]:
    """Per piece ``(n,)`` weights summing to 1 over the pieces at every frame: 1 inside, 0 in the outer part of each
    overlap (a window's first and last frames see a gap or a movement cut short: they are not used), a linear ramp
    over the middle quarter of the overlap."""
    out = []
    for i, p in enumerate(pieces):
        w = np.ones(p.stop - p.start)
        if i > 0:
            w[:pieces[i - 1].stop - p.start] = _ramp(pieces[i - 1].stop - p.start)
        if i + 1 < len(pieces):
            n = p.stop - pieces[i + 1].start
            w[-n:] = 1.0 - _ramp(n)
        out.append(w)
    return out


def _ramp(n: int) -> np.ndarray:
    """``(n,)`` 0 over the first 3/8, rising linearly over the middle quarter, 1 over the last 3/8."""
    r = max(1, n // 4)
    start = (n - r) // 2
    return np.clip((np.arange(n) - start + 0.5) / r, 0.0, 1.0)


def refine_in_windows(X0: np.ndarray, bones: np.ndarray, fps: float, *, views=None, plant: Planting | None = None,
                      window: int = WINDOW, overlap: int = OVERLAP, executor=None, **options) -> RefineResult:
    """:func:`~mocap.smooth.refine.refine` of ``X0`` over overlapping windows (one call when ``T <= window``); the bone
    lengths, floor and contacts decided for the whole recording (see the module). The windows go to ``executor``
    (:func:`mocap.workers.ordered_map`: processes or Ray tasks; one after another without; the same answer).
    ``options`` go to ``refine``."""
    X0 = np.asarray(X0, float)
    T = len(X0)
    pieces = windows(T, window, overlap)
    if len(pieces) == 1:
        return refine(X0, bones, fps, views=views, plant=plant, **options)
    bones = np.asarray(bones, int).reshape(-1, 2)
    given = options.pop("bone_lengths", None)
    if given is None:
        support = ((np.asarray(views[1]) > 0).sum(0) >= 3) if views is not None else np.isfinite(X0).all(-1)
        given, frames, _ = robust_bone_lengths(X0, bones, support & np.isfinite(X0).all(-1))
    else:
        given, frames = np.asarray(given, float), np.zeros(len(bones), int)

    def solve(planting):
        work = partial(refine_window, bones=bones, fps=fps, bone_lengths=given, cameras=None if views is None else views[2:],
                       **options)
        items = ((X0[p], None if views is None else (views[0][:, p], views[1][:, p]), planting(p)) for p in pieces)
        # without an executor one after another: the solve holds the GIL too often for threads to help (50 000 frames:
        # 56 s on two threads, 52 s on one)
        return stitch(list(each(work, items, executor, ahead=4)), pieces, T)

    first = solve(lambda p: None)
    if plant is None or not len(plant.feet):
        return replace(first, bone_lengths=given, bone_frames=frames)
    contacts, floor = plant.contacts_and_floor(first.positions[:, np.asarray(plant.feet, int)], fps)
    if not contacts.any():
        return replace(first, bone_lengths=given, bone_frames=frames, contacts=contacts, floor=floor)
    del first
    res = solve(lambda p: replace(plant, planted=(contacts[p], floor)))
    return replace(res, bone_lengths=given, bone_frames=frames, contacts=contacts, floor=floor)


def refine_window(piece: tuple, *, bones, fps: float, cameras, **options) -> RefineResult:
    """One window: ``piece`` = ``(X0 (n, J, 3), (xy (C, n, J, 2), w (C, n, J)) or None, plant or None)``, the
    cameras ``(Rt, focals)`` (or None) -> :func:`~mocap.smooth.refine.refine`'s result."""
    X0, views, plant = piece
    return refine(X0, bones, fps, plant=plant, views=None if views is None else (*views, *cameras), **options)


def stitch(parts: list[RefineResult], pieces: list[slice], T: int) -> RefineResult:
    """One :class:`~mocap.smooth.refine.RefineResult` of ``T`` frames from the windows' results: positions blended
    across the overlaps (where both windows have a point; else the one that has it), the other per-frame fields from
    the window whose weight is larger (a window's points where its weight is 0 are never used)."""
    J = parts[0].positions.shape[1]
    total, weight = np.zeros((T, J, 3)), np.zeros((T, J))
    filled = np.zeros((T, J), bool)
    contacts = None if parts[0].contacts is None else np.zeros((T, parts[0].contacts.shape[1]), bool)
    owner = np.zeros(T)
    for r, p, w in zip(parts, pieces, blend_weights(pieces, T)):
        ok = np.isfinite(r.positions).all(-1) & (w[:, None] > 0)
        wj = np.where(ok, w[:, None], 0.0)
        total[p] += np.nan_to_num(r.positions) * wj[..., None]
        weight[p] += wj
        mine = w > owner[p]
        filled[p][mine] = r.filled[mine]
        if contacts is not None:
            contacts[p][mine] = r.contacts[mine]
        owner[p] = np.maximum(owner[p], w)
    with np.errstate(invalid="ignore", divide="ignore"):
        X = np.where(weight[..., None] > 0, total / weight[..., None], np.nan)
    empty = tuple(sorted(set.intersection(*(set(r.empty_joints) for r in parts))))
    return RefineResult(X, parts[0].bone_lengths, filled, sum(r.iterations for r in parts),
                        (sum(r.cost[0] for r in parts), sum(r.cost[1] for r in parts)), empty_joints=empty,
                        bone_frames=parts[0].bone_frames, contacts=contacts, floor=parts[0].floor)
