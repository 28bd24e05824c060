"""Unsynchronised cameras: each camera's time offset to a reference camera, from the people in view.

Time model: camera ``c``'s frame ``u`` shows reference time ``tau`` when ``u = (tau + offset_s[c]) * fps[c]``; with
equal frame rates, reference frame ``t`` is camera frame ``t + offset_frames[c]``. Offsets are sub-frame.

Two methods:

- **geometric** (calibrated, :func:`geometric_offsets`): the offset that makes the views agree. For a candidate
  offset, each reference detection is paired with the detection of the other camera at the shifted time that
  lies closest to its epipolar lines (median over joints of the symmetric epipolar distance, px); the offset's
  cost is the mean of those distances, each capped at ``cap_px`` (outlier joints, false and unmatched people
  weigh the same at every offset). Several people, missing joints and false detections need no association.
  Whole frames are searched first, then the paired detection is followed over the neighbouring frames
  (:func:`match_nearest`) to place the minimum to a fraction of a frame (:func:`subframe`).
- **motion** (no calibration, :func:`motion_offsets`, the approach of Pose2Sim's synchronisation): the lag that
  best correlates the summed vertical speed of the main person's joints between two cameras, refined by a
  parabola through the correlation peak. It needs one dominant person and motion that is not periodic.

Each camera gets a confidence: how much lower the best cost is than the best one at least ``3`` frames away
(geometric), or the peak correlation (motion). A camera that cannot be decided (no motion, too little overlap,
a flat cost) gets no offset and a warning naming it. Arrays: keypoints ``(T, P, J, 3)`` per camera = x px, y px,
confidence (NaN / 0 where missing), ``P`` detections per frame in any order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.camera import CameraRig
from ..core.epipolar import epipolar_px, essential_matrices, signed_epipolar
from ..core.robust import nan_median
from ..errors import MocapError


@dataclass
class SyncResult:
    """Offsets of every camera to ``reference`` (its own offset is 0): ``offsets_s`` seconds and ``offsets_frames``
    in each camera's frames (None: undecided), ``confidence`` 0-1, ``fps`` per camera, the ``method`` used and
    ``warnings`` (one per undecided or doubtful camera, naming it). ``curves[name]``: ``(offsets in frames,
    cost)`` of the whole-frame search, for plots and reports."""

    cameras: list[str]
    reference: str
    fps: list[float]
    offsets_s: list[float | None]
    confidence: list[float]
    method: str
    warnings: list[str] = field(default_factory=list)
    curves: dict = field(default_factory=dict)

    @property
    def offsets_frames(self) -> list[float | None]:
        return [None if o is None else o * f for o, f in zip(self.offsets_s, self.fps)]

    def to_dict(self) -> dict:
        """Plain data for :func:`mocap.io.offsets.write_offsets`."""
        return {"reference": self.reference, "method": self.method,
                "cameras": [{"name": n, "fps": f, "offset_s": o, "confidence": c}
                            for n, f, o, c in zip(self.cameras, self.fps, self.offsets_s, self.confidence)]}

    @classmethod
    def from_dict(cls, doc: dict, cameras: list[str]) -> "SyncResult":
        """From :func:`mocap.io.offsets.read_offsets`, in the order of ``cameras`` (a calibration's names); every
        camera must be in the file."""
        by = {c["name"]: c for c in doc["cameras"]}
        missing = [n for n in cameras if n not in by]
        if missing or doc["reference"] not in cameras:
            raise MocapError(f"the offsets file does not name camera(s) {', '.join(missing or [doc['reference']])} "
                             f"of the calibration ({', '.join(cameras)})")
        return cls(list(cameras), doc["reference"], [by[n]["fps"] for n in cameras], [by[n]["offset_s"] for n in cameras],
                   [by[n]["confidence"] for n in cameras], doc["method"])


def order_slots(data: np.ndarray, hold: int = 10) -> np.ndarray:
    """``(T, P, J, 3)`` detections in any slot order -> the same with slots reordered frame by frame so that each
    slot follows one body (optimal assignment on the median joint distance to where each slot was last seen, up
    to ``hold`` frames ago, the most recently seen preferred; farther than the detection's robust size - its median
    joint distance to its median point - counts as someone else). Frames are visited in order, each assignment
    vectorised over slots and joints."""
    T, P = data.shape[:2]
    if P == 1:
        return data.copy()
    out = np.full_like(data, np.nan)
    out[..., 2] = 0.0
    last = np.full((P,) + data.shape[2:], np.nan)  # (P, J, 3) last seen pose per output slot
    age = np.full(P, hold + 1)
    for t in range(T):
        cur = data[t]
        present = np.isfinite(cur[..., 0]).any(-1)
        if not present.any():
            age += 1
            continue
        d = nan_median(np.linalg.norm(last[:, None, :, :2] - cur[None, :, :, :2], axis=-1), axis=-1)  # (P, P)
        centre = nan_median(np.moveaxis(cur[..., :2], 1, -1))  # (P, 2) each detection's median point
        size = nan_median(np.linalg.norm(cur[..., :2] - centre[:, None], axis=-1))  # (P,) robust body size, px
        gate = np.maximum(np.nan_to_num(size, nan=1.0), 1.0)[None]  # another body is about this far away or more
        cost = np.where(np.isfinite(d) & (age[:, None] <= hold) & (d < gate), d + 0.05 * age[:, None] * gate, 1e9)
        cost[:, ~present] = 1e12
        rows, cols = linear_sum_assignment(cost)
        taken = np.zeros(P, bool)
        slot_of = np.full(P, -1)
        for r, c in zip(rows, cols):  # P assignments per frame
            if present[c] and cost[r, c] < 1e9:
                slot_of[c], taken[r] = r, True
        free = iter(np.flatnonzero(~taken)[np.argsort(-age[~taken], kind="stable")])
        for c in np.flatnonzero(present & (slot_of < 0)):
            slot_of[c] = next(free)
        for c in np.flatnonzero(present):
            out[t, slot_of[c]] = cur[c]
            last[slot_of[c]] = cur[c]
            age[slot_of[c]] = 0
        age[[s for s in range(P) if s not in set(slot_of[present])]] += 1
    return out


def sample(data: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``(T, P, J, 3)`` slot-ordered detections at fractional frame indices ``u (N,)`` -> ``(N, P, J, 3)``: linear
    between the two frames around each ``u`` where the joint is present in both (exactly a frame's value on a
    whole index); NaN and confidence 0 outside the clip or where a neighbour is missing."""
    T = len(data)
    u = np.asarray(u, float)
    i0 = np.floor(u + 1e-9).astype(int)
    frac = np.clip(u - i0, 0.0, 1.0)[:, None, None, None]
    whole = frac < 1e-6
    ok = (i0 >= 0) & (i0 < T) & ((i0 + 1 < T) | whole[:, 0, 0, 0])
    a = data[np.clip(i0, 0, T - 1)]
    b = data[np.clip(i0 + 1, 0, T - 1)]
    out = np.where(whole, a, (1 - frac) * a + frac * b)
    bad = ~ok[:, None, None] | ~np.isfinite(out[..., 0])
    out[..., :2] = np.where(bad[..., None], np.nan, out[..., :2])
    out[..., 2] = np.where(bad, 0.0, np.where(whole[..., 0], a[..., 2], np.minimum(a[..., 2], b[..., 2])))
    return out


def match_nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Detections ``b (N, Pb, J, C)`` reordered to follow ``a (N, Pa, J, C)``: ``out[:, p]`` is the detection of b
    nearest ``a[:, p]`` (median joint distance in the first two channels) when that is less than ``a``'s robust body
    size (median joint distance to its median point), else NaN. Vectorised over N; for neighbouring frames of one
    camera, where a body moves a few pixels and the next body is a body-width away."""
    D = nan_median(np.linalg.norm(a[:, :, None, :, :2] - b[:, None, :, :, :2], axis=-1), axis=-1)  # (N, Pa, Pb)
    D = np.where(np.isfinite(D), D, np.inf)
    centre = nan_median(np.moveaxis(a[..., :2], -2, -1))  # (N, Pa, 2)
    size = nan_median(np.linalg.norm(a[..., :2] - centre[..., None, :], axis=-1))  # (N, Pa)
    k = np.argmin(D, -1) if D.shape[-1] else np.zeros(D.shape[:2], int)
    out = np.take_along_axis(b[:, None], k[:, :, None, None, None], 2)[:, :, 0]
    far = ~(np.take_along_axis(D, k[..., None], -1)[..., 0] < np.nan_to_num(size, nan=0.0))
    out = out.copy()
    out[far] = np.nan
    if out.shape[-1] == 3:
        out[far, :, 2] = 0.0
    return out


def sample_tracked(data: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Like :func:`sample` (``(T, P, J, C)`` at fractional indices ``u (N,)``) but needing no slot order: each
    detection of frame ``floor(u)`` is interpolated towards the detection of the next frame nearest it
    (:func:`match_nearest`)."""
    T = len(data)
    i0 = np.floor(np.asarray(u, float) + 1e-9).astype(int)
    frac = np.asarray(u, float) - i0
    inside = (i0 >= 0) & (i0 < T)
    a = data[np.clip(i0, 0, T - 1)].copy()
    b = a.copy()
    between = frac >= 1e-6  # whole frames need no partner
    if between.any():
        b[between] = match_nearest(a[between], data[np.clip(i0[between] + 1, 0, T - 1)])
    f = np.where(frac < 1e-6, 0.0, frac)[:, None, None, None]
    out = np.where(f == 0, a, (1 - f) * a + f * b)
    bad = ~inside | ((frac >= 1e-6) & (i0 + 1 >= T))
    out[bad] = np.nan
    if out.shape[-1] == 3:
        out[..., 2] = np.where(np.isfinite(out[..., 0]), np.where(f[..., 0] == 0, a[..., 2], np.minimum(a[..., 2], b[..., 2])), 0.0)
    return out


def pair_distances(xa: np.ndarray, xb: np.ndarray, E: np.ndarray, fa: float, *, fb: float, min_joints: int = 1):
    """Every reference detection ``xa (N, Pa, J, 2)`` against every detection ``xb (N, Pb, J, 2)`` of the other
    camera at the same times: per-joint epipolar distances ``(N, Pa, Pb, J)`` px and their median over the joints
    both have ``(N, Pa, Pb)`` (inf with fewer than ``min_joints``)."""
    d = epipolar_px(xa[:, :, None], xb[:, None], E, fa, fb=fb)
    n = np.isfinite(d).sum(-1)
    return d, np.where(n >= min_joints, nan_median(np.where(np.isfinite(d), d, np.nan), axis=-1), np.inf)


def typical_residual(xa: np.ndarray, xb: np.ndarray, E: np.ndarray, fa: float, *, fb: float, min_joints: int = 4) -> float:
    """The median, over reference detections ``xa (N, Pa, J, 2)`` that find a partner in ``xb (N, Pb, J, 2)``, of
    the partner's median epipolar distance (px): how well the two views agree where they agree."""
    _, med = pair_distances(xa, xb, E, fa, fb=fb, min_joints=min_joints)
    best = med.min(-1) if med.shape[-1] else np.full(med.shape[:2], np.inf)
    best = best[np.isfinite(best)]
    return float(np.median(best)) if best.size else np.nan


def pair_cost(xa: np.ndarray, xb: np.ndarray, E: np.ndarray, fa: float, *, fb: float, cap_px: float,
              min_joints: int = 4) -> tuple[float, int]:
    """Reference detections ``xa (N, Pa, J, 2)`` and the other camera's at the matching times ``xb (N, Pb, J, 2)``
    (normalised, NaN where missing) -> the cost of this timing and how many reference detections found a partner.
    Only times when both cameras see someone count (who is in view when is no cue: only geometry is). Each
    reference detection is paired with the detection that agrees best (lowest median epipolar distance over the
    joints both have, at least ``min_joints``); the cost is the mean over reference detections and their joints of
    the pair's epipolar distance capped at ``cap_px`` (a detection without a partner, a joint the partner lacks:
    the cap). Every joint counts, so the moving ones, which tell the timing, weigh in."""
    d, med = pair_distances(xa, xb, E, fa, fb=fb, min_joints=min_joints)  # (N, Pa, Pb, J), (N, Pa, Pb)
    seen = np.isfinite(xa[..., 0]).sum(-1) >= min_joints  # (N, Pa)
    seen &= (np.isfinite(xb[..., 0]).sum(-1) >= min_joints).any(-1)[:, None]  # only times when b sees someone too
    if not med.shape[-1] or not seen.any():
        return np.inf, 0
    b = np.argmin(med, -1)
    pair = np.take_along_axis(d, b[..., None, None], 2)[:, :, 0]  # (N, Pa, J)
    found = seen & np.isfinite(np.take_along_axis(med, b[..., None], 2)[..., 0])
    joints = np.isfinite(xa[..., 0])
    capped = np.where(np.isfinite(pair), np.minimum(pair, cap_px), cap_px)
    per = (capped * joints).sum(-1) / np.maximum(joints.sum(-1), 1)
    if not found.any():
        return np.inf, 0
    return float(np.where(found, per, cap_px)[seen].mean()), int(found.sum())


def _undistorted(rig: CameraRig, data: list[np.ndarray]) -> list[np.ndarray]:
    return [rig[c].undistort(d[..., :2]) for c, d in enumerate(data)]


def pair_offset(norm: list[np.ndarray], rig: CameraRig, fps: list[float], a: int, *, b: int, max_offset_s: float,
                cap_px: float, min_pairs: int, step: int = 1, min_cap_px: float = 8.0) -> tuple:
    """Camera ``b``'s offset to camera ``a`` (``offset_s[b] - offset_s[a]``, s) by geometric agreement, its
    confidence (how much lower the best whole-frame cost is than the best one 3 or more frames away) and the
    whole-frame curve ``(offsets in b's frames, cost)``. ``norm``: per camera ``(T, P, J, 2)`` normalised
    coordinates; every ``step``-th frame of ``a`` is used. None when fewer than ``min_pairs`` detections of ``a``
    find a partner at every offset. The distances are capped at ``cap_px`` for a first search, then at 3 times the
    typical residual found at its minimum (at least ``min_cap_px``): as tight as the detector and calibration
    allow, so that the moving joints' misfit stands out. Also returns the precision of the sub-frame fit."""
    Rt = rig.extrinsics
    E = essential_matrices(Rt[:, :, :3], Rt[:, :, 3])[a, b]
    fa, fb = rig[a].focal, rig[b].focal
    xa = norm[a][::step]
    t_a = np.arange(0, len(norm[a]), step) / fps[a]
    xb_all = np.concatenate([norm[b], np.ones(norm[b].shape[:-1] + (1,))], -1)

    cap = [cap_px]

    def at(off_frames, keep=None):  # the frames of a inside b's clip at this offset (and in ``keep``), b there
        u = t_a * fps[b] + off_frames
        inside = (u >= 0) & (u <= len(xb_all) - 1) & (True if keep is None else keep)
        return xa[inside], sample_tracked(xb_all, u[inside])[..., :2]

    def cost(off_frames, keep=None):
        return pair_cost(*at(off_frames, keep), E, fa, fb=fb, cap_px=cap[0])

    K = int(np.ceil(max_offset_s * fps[b]))
    whole = np.arange(-K, K + 1)
    for rounds in range(2):  # the cap: generous first, then 3x the typical residual found at that minimum
        costs, counts = map(np.array, zip(*(cost(k) for k in whole)))
        costs = np.where(counts >= min_pairs, costs, np.inf)
        if not np.isfinite(costs).any():
            return None, 0.0, (whole, costs), 0.0
        k = int(np.argmin(costs))
        if not np.isfinite(costs[max(k - 2, 0):k + 3]).all() or k < 2 or k > len(whole) - 3:
            return None, 0.0, (whole, costs), 0.0  # the lowest cost where the overlap runs out: not a minimum
        typical = typical_residual(*at(whole[k]), E, fa, fb=fb)
        new_cap = float(np.clip(4.0 * typical, min_cap_px, cap_px))
        if rounds or not np.isfinite(new_cap) or abs(new_cap - cap[0]) < 0.1 * cap[0]:
            break
        cap[0] = new_cap
    far = (np.abs(whole - whole[k]) >= 3) & np.isfinite(costs)
    second = costs[far].min() if far.any() else np.inf
    conf = float(1 - costs[k] / second) if np.isfinite(second) and second > 0 else 0.0
    # near the minimum, every offset is judged on the same frames (those inside b's clip for all of them): a
    # frame leaving the overlap must not move the minimum
    near = whole[k] + np.arange(-3, 4)
    common = np.all([(t_a * fps[b] + o >= 0) & (t_a * fps[b] + o <= len(xb_all) - 1) for o in near], 0)
    k0 = near[int(np.argmin([cost(o, common)[0] for o in near[1:-1]])) + 1]
    best, precision = subframe(xa[common], xb_all, t_a[common] * fps[b] + k0, E, fb=fb, cap_px=cap[0])
    return float((k0 + best) / fps[b]), conf, (whole, costs), precision * fps[b] ** 2


def subframe(xa: np.ndarray, xb_all: np.ndarray, u0: np.ndarray, E: np.ndarray, *, fb: float, cap_px: float,
             iterations: int = 6) -> float:
    """The fraction of a frame ``delta`` (within +-1) to add to camera b's whole-frame indices ``u0 (N,)`` so that its
    joints lie on the epipolar lines of the reference's ``xa (N, Pa, J, 2)``. Each reference detection is paired
    with b's best-agreeing detection at ``u0``, which is followed over the 2 frames either side (the nearest
    detection, :func:`match_nearest`). Each joint's signed distance ``r`` to its line (px) changes with ``delta`` by
    its image velocity across the line ``g`` (robust slope over those 5 frames, px per frame), so
    ``delta += -sum(w g r) / sum(w g^2)``, ``r`` measured again between frames after each step (Gauss-Newton with
    the velocity held). Cauchy weights on ``r`` (scale from its median at the whole frame, then fixed), residuals
    beyond ``cap_px`` and speeds beyond half of it (an outlier joint in a neighbouring frame) left out.
    ``xb_all (T, Pb, J, 3)``: b's normalised detections with a 1 in the last channel."""
    frames = {m: sample(xb_all, u0 + m)[..., :2] for m in (-2, -1, 0, 1, 2)}
    _, med = pair_distances(xa, frames[0], E, 1.0, fb=1.0)  # (N, Pa, Pb), pairing only
    if not med.size or not np.isfinite(med).any():
        return 0.0, 0.0
    pick = np.argmin(med, -1)[:, :, None, None, None]  # (N, Pa, 1, 1, 1)
    track = {0: np.take_along_axis(frames[0][:, None], pick, 2)[:, :, 0]}  # (N, Pa, J, 2)
    for m in (1, 2, -1, -2):  # followed outwards, frame by frame
        track[m] = match_nearest(track[m - np.sign(m)], frames[m])
    # velocity: Theil-Sen (median of the 10 pairwise slopes over the 5 frames): an outlier joint in one of them
    # does not make a speed, and averaging keeps the noise in g low (noise there pulls delta towards 0)
    ms = (-2, -1, 0, 1, 2)
    vel = nan_median(np.stack([(track[j] - track[i]) / (j - i) for i in ms for j in ms if j > i], -1), axis=-1)

    def at(delta):
        i = int(np.floor(delta))
        f = delta - i
        return track[i] if f < 1e-9 else (1 - f) * track[i] + f * track[i + 1]

    r, normal = signed_epipolar(xa, track[0], E)
    r, g = r * fb, (vel * normal).sum(-1) * fb  # px, px per frame
    ok = np.isfinite(r) & np.isfinite(g) & (np.abs(r) < cap_px) & (np.abs(g) < 0.5 * cap_px)
    if ok.sum() < 10:
        return 0.0, 0.0
    scale = 1.4826 * np.median(np.abs(r[ok])) + 1e-6
    delta, den = 0.0, 0.0
    for _ in range(iterations):  # r re-measured where delta puts b (between frames), g and the scale kept
        if delta:
            r = signed_epipolar(xa, at(delta), E)[0] * fb
        use = ok & np.isfinite(r) & (np.abs(r) < cap_px)
        w = np.where(use, 1.0 / (1.0 + (r / (2.5 * scale)) ** 2), 0.0)
        den = np.sum(w * np.where(use, g * g, 0.0))
        if den <= 0:
            break
        step = -np.sum(w * np.where(use, g * r, 0.0)) / den
        delta = float(np.clip(delta + step, -1.0, 1.0))
        if abs(step) < 1e-3:
            break
    return delta, float(den / scale ** 2)  # the offset and its precision (1 / variance, frames^-2)


def solve_offsets(pairs: dict, C: int, reference: int, max_residual_s: float) -> list[float | None]:
    """Offsets per camera ``(C,)`` s (reference 0) from pairwise ones ``{(a, b): (offset_b - offset_a, weight)}``:
    weighted least squares, pairs disagreeing with the solution by more than ``max_residual_s`` dropped and the
    rest solved again; a camera not linked to the reference through kept pairs gets None."""
    use = dict(pairs)
    for _ in range(3):
        links = {reference}
        grew = True
        while grew:  # the cameras connected to the reference
            grew = False
            for a, b in use:
                if (a in links) != (b in links):
                    links |= {a, b}
                    grew = True
        cams = sorted(links - {reference})
        if not cams:
            return [0.0 if c == reference else None for c in range(C)]
        col = {c: i for i, c in enumerate(cams)}
        rows = [(a, b, d, w) for (a, b), (d, w) in use.items() if a in links and b in links]
        A = np.zeros((len(rows), len(cams)))
        y = np.array([d for _, _, d, _ in rows])
        w = np.sqrt([wt for *_, wt in rows])
        for r, (a, b, _, _) in enumerate(rows):
            if b in col:
                A[r, col[b]] += 1
            if a in col:
                A[r, col[a]] -= 1
        sol = np.linalg.lstsq(A * w[:, None], y * w, rcond=None)[0]
        off = np.zeros(C)
        off[cams] = sol
        res = {(a, b): abs(off[b] - off[a] - d) for a, b, d, _ in rows}
        bad = [p for p, r in res.items() if r > max_residual_s]
        if not bad:
            break
        worst = max(bad, key=res.get)
        del use[worst]
    return [float(off[c]) if c in links else None for c in range(C)]


def geometric_offsets(data: list[np.ndarray], rig: CameraRig, fps: list[float], reference: int = 0,
                      *, max_offset_s: float = 2.0, cap_px: float | None = None, min_overlap_s: float = 0.5,
                      min_confidence: float = 0.05, max_frames: int = 1500) -> SyncResult:
    """Offsets by geometric agreement (module docstring): ``data`` one ``(T_c, P_c, J, 3)`` array per camera of
    ``rig``, ``fps`` per camera. Every pair of cameras is timed (:func:`pair_offset`) and the offsets solved
    together (:func:`solve_offsets`, each pair weighted by the precision of its sub-frame fit), so a camera that
    agrees poorly with the reference is timed through the others; a camera most of whose pairs disagree with
    the solution by more than half a frame is warned about. ``cap_px`` defaults to 3 % of the larger image side; at most ``max_frames`` frames per camera are
    used for the search (evenly spread)."""
    C = len(data)
    names = rig.names
    norm = _undistorted(rig, data)  # whole frames and local tracks: no slot order needed
    res = SyncResult(names, names[reference], list(fps), [None] * C, [0.0] * C, "geometric")
    pairs, conf_of = {}, np.zeros(C)
    for a in range(C):
        for b in range(a + 1, C):
            need = max(10, int(min_overlap_s * fps[a]))
            step = max(1, len(norm[a]) // max_frames)
            cap = cap_px or 0.03 * max(max(rig[a].size), max(rig[b].size))
            off, conf, curve, precision = pair_offset(norm, rig, fps, a=a, b=b, max_offset_s=max_offset_s, cap_px=cap,
                                                      min_pairs=need // step, step=step)
            res.curves[(names[a], names[b])] = curve
            if off is not None and conf >= min_confidence:
                pairs[(a, b)] = (off, precision)
                conf_of[[a, b]] = np.maximum(conf_of[[a, b]], conf)
    offsets = solve_offsets(pairs, C, reference, 0.5 / max(fps))
    res.offsets_s = offsets
    res.confidence = [float(c) if o is not None else 0.0 for c, o in zip(conf_of, offsets)]
    res.confidence[reference] = 1.0
    for c, o in enumerate(offsets):
        misfit = [abs(offsets[b] - offsets[a] - d) * max(fps) for (a, b), (d, _) in pairs.items()
                  if c in (a, b) and offsets[a] is not None and offsets[b] is not None]
        if o is not None and len(misfit) >= 2 and np.median(misfit) > 0.5:  # most of its pairs, not one bad pair
            res.warnings.append(f"{names[c]}: offset {o * fps[c]:+.2f} frames, but its timings against the other "
                                f"cameras disagree by up to {max(misfit):.1f} frames (its views agree poorly with "
                                f"theirs): check it")
        if o is None:
            res.warnings.append(f"{names[c]}: no offset: its views and the others' agree about as well at several "
                                f"offsets within {max_offset_s:g} s, or too little is seen together (fewer than "
                                f"{min_overlap_s:g} s); the people hardly move, or the clip is too short")
    return res


def motion_signal(data: np.ndarray, fps: float, cutoff_hz: float = 6.0) -> np.ndarray:
    """``(T, P, J, 3)`` -> ``(T,)`` the summed absolute vertical speed (px/s) of the joints of the most present
    body (slots ordered first), low-passed at ``cutoff_hz`` (Pose2Sim's synchronisation signal)."""
    from ..smooth.filters import butterworth

    d = order_slots(data)
    main = int(np.argmax(np.isfinite(d[..., 0]).sum((0, 2))))
    y = d[:, main, :, 1]
    ok = np.isfinite(y)
    t = np.arange(len(y))
    filled = np.stack([np.interp(t, t[ok[:, j]], y[ok[:, j], j]) if ok[:, j].sum() >= 2 else np.zeros(len(y))
                       for j in range(y.shape[1])], -1)
    v = np.abs(np.gradient(filled, axis=0)) * fps
    v = np.where(ok, v, 0.0).sum(-1)
    return butterworth(v[:, None], fps, cutoff_hz)[:, 0] if len(v) > 15 else v


def motion_offsets(data: list[np.ndarray], fps: list[float], names: list[str], reference: int = 0,
                   *, max_offset_s: float = 2.0, min_correlation: float = 0.3) -> SyncResult:
    """Offsets by correlating motion (module docstring; no calibration). Different frame rates are resampled to
    the reference's clock first."""
    C = len(data)
    res = SyncResult(list(names), names[reference], list(fps), [0.0 if c == reference else None for c in range(C)],
                     [1.0 if c == reference else 0.0 for c in range(C)], "motion")
    sig = [motion_signal(d, f) for d, f in zip(data, fps)]
    fr = fps[reference]
    a = sig[reference] - sig[reference].mean()
    for c in range(C):
        if c == reference:
            continue
        t_c = np.arange(len(sig[c])) / fps[c]
        b = np.interp(np.arange(0, t_c[-1] + 1e-9, 1 / fr), t_c, sig[c])
        b = b - b.mean()
        K = int(np.ceil(max_offset_s * fr))
        lags = np.arange(-K, K + 1)
        corr = np.array([_ncc(a, b, k) for k in lags])
        res.curves[names[c]] = (lags, -corr)
        k = int(np.nanargmax(corr)) if np.isfinite(corr).any() else None
        if k is None or corr[k] < min_correlation:
            res.warnings.append(f"{names[c]}: its motion does not match {names[reference]}'s at any lag within "
                                f"{max_offset_s:g} s (best correlation {np.nanmax(corr) if k is not None else 0:.2f}): no offset")
            continue
        res.confidence[c] = float(corr[k])
        j = int(np.clip(k, 1, len(lags) - 2))
        y0, y1, y2 = corr[j - 1:j + 2]
        den = y0 - 2 * y1 + y2
        best = lags[j] + (0.5 * (y0 - y2) / den if den < 0 else 0.0)
        res.offsets_s[c] = float(best / fr)
    return res


def _ncc(a: np.ndarray, b: np.ndarray, lag: int, min_overlap: int = 15) -> float:
    """Normalised correlation of ``a[t]`` with ``b[t + lag]`` over their overlap."""
    lo, hi = max(0, -lag), min(len(a), len(b) - lag)
    if hi - lo < min_overlap:
        return np.nan
    x, y = a[lo:hi], b[lo + lag:hi + lag]
    x, y = x - x.mean(), y - y.mean()
    den = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / den) if den > 0 else np.nan


def apply_offsets(data: list[np.ndarray], result: SyncResult, frames: int | None = None) -> np.ndarray:
    """Every camera on the reference's clock: ``data`` one ``(T_c, P, J, 3)`` per camera -> ``(C, T, P, J, 3)``
    with camera ``c`` sampled at ``(t / fps_ref + offset_s[c]) * fps[c]`` (each detection interpolated towards the
    nearest one of the next frame, :func:`sample_tracked`; NaN beyond its clip). A camera without an offset is left out (all NaN): triangulating it unsynchronised
    would spoil the others."""
    ref = result.cameras.index(result.reference)
    T = frames or len(data[ref])
    t = np.arange(T) / result.fps[ref]
    P = max(d.shape[1] for d in data)
    out = np.full((len(data), T, P) + data[ref].shape[2:], np.nan)
    out[..., 2] = 0.0
    for c, d in enumerate(data):
        if result.offsets_s[c] is None:
            continue
        s = sample_tracked(d, (t + result.offsets_s[c]) * result.fps[c])
        out[c, :, :s.shape[1]] = s
    return out


METHODS = ("geometric", "motion")


def synchronise(data: list[np.ndarray], rig: CameraRig, fps: list[float], method: str = "geometric",
                *, reference: int = 0, max_offset_s: float = 2.0) -> SyncResult:
    """Each camera's offset to camera ``reference``: ``data`` one ``(T_c, P, J, 3)`` array per camera of ``rig``
    (any number of people, in any slot order), ``fps`` per camera; ``method`` "geometric" (needs the calibration)
    or "motion" (ignores it)."""
    if method not in METHODS:
        raise MocapError(f"unknown sync method {method!r} ({' or '.join(METHODS)})")
    rig.require_views(len(data))
    if method == "motion":
        return motion_offsets(data, fps, rig.names, reference, max_offset_s=max_offset_s)
    return geometric_offsets(data, rig, fps, reference, max_offset_s=max_offset_s)


SAMPLE = 200_000  # points per camera a rank correlation needs at most (its error then ~0.002)


def speed_error_correlation(view_errors: np.ndarray, xy: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """How much each camera's reprojection error grows with the joints' image speed: ``view_errors (C, T, J)`` px,
    ``xy (C, T, J, 2)`` the detections, ``observed (C, T, J)`` -> ``(C,)`` Spearman rank correlation of error and
    speed (px per frame, central difference) over each camera's observed points (NaN with fewer than 50). A camera
    out of step with the others misplaces its moving joints most: a clear positive correlation points to timing.
    A long recording is sampled at every k-th frame, :data:`SAMPLE` points per camera at most."""
    from scipy.stats import spearmanr

    out = np.full(len(xy), np.nan)
    T = xy.shape[1]
    step = max(1, -(-T * xy.shape[2] // SAMPLE))  # every step-th frame of a long recording: bounded memory and time
    for c in range(len(xy)):  # one rank correlation per camera (memory: one camera's arrays at a time)
        t = np.arange(1, T - 1, step)
        v = np.linalg.norm(xy[c, t + 1] - xy[c, t - 1], axis=-1) / 2
        ok = observed[c, t] & np.isfinite(view_errors[c, t]) & np.isfinite(v)
        if ok.sum() >= 50:
            out[c] = spearmanr(view_errors[c, t][ok], v[ok]).statistic
    return out


def timing_notes(view_errors: np.ndarray, xy: np.ndarray, observed: np.ndarray, names: list[str],
                 *, threshold: float = 0.15, margin: float = 0.1) -> list[str]:
    """A note for each camera whose error grows with joint speed (:func:`speed_error_correlation` at least
    ``threshold`` and ``margin`` above the median camera's) suggesting ``mocap sync``. On the Pose2Sim trial a
    camera 2 frames out of step reaches 0.17, 3 frames 0.23, 5 frames 0.38, while the in-step ones stay under 0.1."""
    r = speed_error_correlation(view_errors, xy, observed)
    if not np.isfinite(r).any():
        return []
    med = float(np.nanmedian(r))
    return [f"{n}: its reprojection error grows with the joints' speed (rank correlation {c:.2f}, median camera "
            f"{med:.2f}): it may be out of step with the others; `mocap sync` finds the offsets"
            for n, c in zip(names, r) if np.isfinite(c) and c >= threshold and c >= med + margin]
