"""Several people across calibrated views: association across views and tracking with identities.

:func:`track_people` turns every detection of every view, ``(C, T, P, J, 3)`` = x px, y px, confidence
(P = most people in one view, slots in any order), into people with identities: for each person ``k``,
the detection slot it holds in view ``c`` at frame ``t`` (``assignment (K, C, T)``, -1 = none).

Each frame:

1. **match** — the people being tracked (3D poses, constant-velocity prediction) are projected into every
   view and matched to the detections there, one optimal assignment per view (Hungarian) on a robust
   distance: the confidence-weighted *median* over joints of the offset in metres at the person's depth
   (outlier and missing joints do not move it; no pixel threshold that depends on distance);
2. **update** — each person's matched detections are triangulated robustly (every view pair tried,
   outlier views rejected per joint, :func:`~mocap.triangulate.robust.triangulate_robust`);
3. **birth** — detections nobody claimed are grouped across views: every pair of views whose
   detections agree epipolarly (median distance) gives a 3D hypothesis, scored by how many views it
   explains; the best are kept greedily, each taking one detection per view (a global choice over all
   views, not per pair). A new group near a person who is not currently seen, with the same bone lengths,
   is that person coming back (re-identified); otherwise a new person.

At the end, tracks seen in fewer than ``min_frames`` frames (ghosts from chance agreement of false
detections, fragments) are dropped and reported; identities are numbered by first appearance.

Cost per frame: ``O(C K P J)`` for matching K people to P detections in C views (all vectorised), plus,
only where unclaimed detections are seen in two or more views, ``O(C^2 P^2 J)`` for the hypotheses.
Loops run over frames only (each frame depends on the last) and, for the assignment, over views.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.camera import CameraRig, camera_coordinates
from ..core.keypoints import Keypoints2D
from ..core.kinematics import bone_lengths
from ..core.robust import nan_median, weighted_median
from ..core.epipolar import epipolar_px, essential_matrices
from ..core.skeletons import get_skeleton
from ..errors import MocapError
from ..triangulate.dlt import normalized_errors, solve_normal, summed_normal, view_coefficients
from ..triangulate.robust import default_threshold, triangulate_robust

UNSEEN = np.inf
BIG = 1e4  # px: cost of a pair with nothing in common


def pairwise_costs(xy: np.ndarray, conf: np.ndarray, rig: CameraRig, *, E: np.ndarray | None = None) -> np.ndarray:
    """Epipolar disagreement between every pair of people in every pair of views.

    xy: ``(C, T, P, J, 2)`` undistorted normalised coordinates; conf: ``(C, T, P, J)``; ``E (C, C, 3, 3)``: the
    rig's :func:`~mocap.core.epipolar.essential_matrices` when already known (computed once per rig, not per call).
    Returns ``(C, C, T, P, P)`` px: the confidence-weighted *median* symmetric epipolar distance over
    the joints both detections share (``BIG`` when none, 0 on the diagonal): a few outlier joints
    (up to half the weight) do not move it, so a correct view is not lost to them.
    """
    C, T, P, J, _ = xy.shape
    Rt = rig.extrinsics
    E = essential_matrices(Rt[:, :, :3], Rt[:, :, 3]) if E is None else E
    f = rig.focals
    xy = np.nan_to_num(xy)
    cost = np.zeros((C, C, T, P, P))
    for a in range(C):
        for b in range(a + 1, C):
            d = epipolar_px(xy[a][:, :, None], xy[b][:, None], E[a, b], f[a], fb=f[b])  # (T, P, Q, J)
            w = np.minimum(conf[a][:, :, None, :], conf[b][:, None, :, :])
            c = weighted_median(np.where(w > 0, d, np.inf), w)
            c = np.where(w.sum(-1) > 0, c, BIG)
            cost[a, b] = c
            cost[b, a] = c.transpose(0, 2, 1)
    return cost


def free_pair_costs(xy: np.ndarray, w: np.ndarray, rig: CameraRig, *, E: np.ndarray, free: np.ndarray) -> np.ndarray:
    """:func:`pairwise_costs` of one frame (``xy (C, P, J, 2)``, ``w (C, P, J)``) computed only between the views
    holding a ``free (C, P)`` detection (a new person can only be born there): ``(C, C, P, P)`` px, ``BIG`` elsewhere.
    The cost follows the views with something left to explain, not the camera pairs."""
    C, P = free.shape
    cams = np.flatnonzero(free.any(-1))
    epi = np.full((C, C, P, P), BIG)
    if cams.size >= 2:
        cost = pairwise_costs(xy[cams][:, None], w[cams][:, None], CameraRig([rig[c] for c in cams]),
                              E=E[np.ix_(cams, cams)])[:, :, 0]
        epi[np.ix_(cams, cams)] = cost
    return epi


BIRTH_PAIRS = 5  # epipolar partners per detection and view pair tried as a new person (see _Tracker._births)


@dataclass
class TrackingOptions:
    """Options of :func:`track_people` (distances in metres, times in seconds).

    min_confidence: joints below are ignored; min_joints: a detection needs this many usable joints.
    gate_m: a detection joins a person when its median joint offset from the prediction is below this;
    gate_growth: the gate widens by this many metres per second the person goes unseen (up to ``max_gate_m``).
    epipolar_px: two views' detections may be one new person when their median epipolar distance is below
    this (default 2 % of the larger image side).
    min_views: views a person must be seen in (2 = triangulable). min_frames: shorter tracks are dropped
    (default ``0.25 * fps``). reid_speed: how fast (m/s) someone unseen may have walked away and still be
    re-identified; reid_bone_tol: the relative bone-length difference allowed then. joint_gate_m: while
    tracking, a joint further than this from the prediction is an outlier in that view.
    """

    min_confidence: float = 0.2
    min_joints: int = 3
    gate_m: float = 0.2
    gate_growth: float = 1.0
    max_gate_m: float = 0.6
    epipolar_px: float | None = None
    min_views: int = 2
    min_frames: int | None = None
    reid_speed: float = 1.5
    reid_bone_tol: float = 0.12
    joint_gate_m: float = 0.4


@dataclass
class PeopleTracks:
    """People found by :func:`track_people`.

    assignment: ``(K, C, T)`` int, the detection slot of person ``k`` in view ``c`` at frame ``t`` (-1 none);
    present: ``(K, T)`` bool, frames where the person was triangulated from at least two views (the 3D
    comes from triangulating :meth:`keypoints`); ids: ``(K,)`` 1-based, ordered by first appearance;
    report: counts of what was dropped or re-identified (see :func:`track_people`).
    """

    assignment: np.ndarray
    present: np.ndarray
    ids: np.ndarray
    report: dict = field(default_factory=dict)

    def keypoints(self, data: np.ndarray, k: int) -> np.ndarray:
        """Person ``k``'s detections ``(C, T, J, 3)`` out of ``data (C, T, P, J, 3)`` (NaN, 0 elsewhere)."""
        return pick_slots(data, self.assignment[k])

    def by_presence(self) -> np.ndarray:
        """Track indices, most present first (ties: first appearance)."""
        return np.argsort(-self.present.sum(-1), kind="stable")


# ------------------------------------------------------------------ building blocks


def pick_slots(data: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """One person out of multi-person detections: ``data (C, T, P, J, 3)`` and the slot it holds in each
    view and frame ``slots (C, T)`` (-1 = none) -> ``(C, T, J, 3)`` (x = y = NaN, confidence 0 where none)."""
    out = np.take_along_axis(data, np.maximum(slots, 0)[:, :, None, None, None], axis=2)[:, :, 0].copy()
    out[..., 2] = np.nan_to_num(out[..., 2])
    out[slots < 0] = np.array([np.nan, np.nan, 0.0])
    return out


def depth_offsets(X: np.ndarray, xy: np.ndarray, Rt: np.ndarray) -> np.ndarray:
    """Offset in metres at the person's depth between projected poses and detections.

    X: ``(K, J, 3)`` world poses; xy: ``(C, P, J, 2)`` undistorted normalised detections; Rt: ``(C, 3, 4)``.
    Returns ``(C, K, P, J)``: ``|xy - project(X)| * depth`` (NaN where either is unknown or behind).
    """
    cx, cy, cz = camera_coordinates(Rt, X)  # (C, K, J)
    z = np.where(cz > 0.05, cz, np.nan)
    dx = xy[:, None, :, :, 0] - (cx / z)[:, :, None]
    dy = xy[:, None, :, :, 1] - (cy / z)[:, :, None]
    return np.sqrt(dx * dx + dy * dy) * z[:, :, None]


def robust_distance(d: np.ndarray, w: np.ndarray, min_joints: int) -> np.ndarray:
    """``(..., J)`` per-joint distances and weights -> ``(...)`` weighted median over the joints both
    know (``inf`` where fewer than ``min_joints``)."""
    w = np.where(np.isfinite(d), w, 0.0)
    med = weighted_median(np.where(w > 0, d, np.inf), w)
    return np.where((w > 0).sum(-1) >= min_joints, med, UNSEEN)


def assign_views(cost: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """``(C, K, P)`` costs and ``(K,)`` gates -> ``(C, K)`` detection per person and view (-1 none):
    one minimum-cost assignment per view, pairs above the person's gate refused."""
    C, K, P = cost.shape
    out = np.full((C, K), -1)
    allowed = cost < gate[None, :, None]
    for c in np.flatnonzero(allowed.any(axis=(1, 2))):
        rows, cols = linear_sum_assignment(np.where(allowed[c], cost[c], 1e6))
        ok = allowed[c, rows, cols]
        out[c, rows[ok]] = cols[ok]
    return out


def pose_distance(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``(N, J, 3)`` and ``(M, J, 3)`` -> ``(N, M)`` median joint distance over joints both know (inf if none)."""
    d = np.linalg.norm(A[:, None] - B[None], axis=-1)
    m = nan_median(np.where(np.isfinite(d), d, np.nan))
    return np.where(np.isfinite(m), m, UNSEEN)


# ------------------------------------------------------------------ the tracker


class _Tracker:
    """State of :func:`track_people` while it walks through the frames."""

    def __init__(self, xy, conf, rig: CameraRig, bones, *, fps, opts: TrackingOptions):
        self.xy, self.conf, self.rig, self.bones, self.fps, self.o = xy, conf, rig, bones, fps, opts
        self.C, self.T, self.P, self.J = conf.shape
        self.Rt, self.focals = rig.extrinsics, rig.focals
        self.E = essential_matrices(self.Rt[:, :, :3], self.Rt[:, :, 3])  # once per rig
        self.thr = default_threshold(rig)
        self.epi = opts.epipolar_px if opts.epipolar_px is not None else 0.02 * max(max(c.size) for c in rig)
        self.pose = np.zeros((0, self.J, 3))
        self.vel = np.zeros((0, 3))
        self.last = np.zeros(0, int)
        self.bone_sum = np.zeros((0, len(bones)))
        self.bone_n = np.zeros((0, len(bones)))
        self.assign: list[np.ndarray] = []  # per track (C, T) detection slots
        self.seen: list[np.ndarray] = []  # per track (T,) bool
        self.reidentified = 0

    # -- per frame
    def step(self, t: int) -> None:
        """Frame ``t``, on the slots that hold a detection in some view only (a crowd in one frame costs that
        frame, not every frame); ``_record`` maps them back to the file's slots."""
        self.slots = np.flatnonzero((self.conf[:, t] > 0).any(axis=(0, 2)))
        if not self.slots.size:
            return
        xy, conf = self.xy[:, t][:, self.slots], self.conf[:, t][:, self.slots]
        usable = (conf > 0).sum(-1) >= self.o.min_joints  # (C, P)
        w = np.where(usable[..., None], conf, 0.0)
        claimed = np.zeros(usable.shape, bool)
        updated = np.zeros(len(self.pose), bool)
        if len(self.pose):
            unseen_s = (t - self.last) / self.fps
            pred = self._predict(slice(None), t)
            offsets = depth_offsets(pred, xy, self.Rt)  # (C, K, P, J) metres
            cost = robust_distance(offsets, w[:, None], self.o.min_joints)
            gate = np.minimum(self.o.gate_m + self.o.gate_growth * unseen_s, self.o.max_gate_m)
            match = assign_views(cost, gate)  # (C, K)
            off = np.take_along_axis(offsets, np.maximum(match, 0)[:, :, None, None], axis=2)[:, :, 0]  # (C, K, J)
            near = ~(off >= np.maximum(self.o.joint_gate_m, 3 * cost.min(-1))[..., None])  # joints not yet known: kept
            X, nviews = self._triangulate(match, xy, w, near)
            updated = self._update(t, X, nviews, match, pred=pred, gate=gate)
            mine = (match >= 0) & updated[None]
            claimed[np.nonzero(mine)[0], match[mine]] = True
        free = usable & ~claimed
        if (free.any(-1)).sum() >= self.o.min_views:
            self._births(t, xy, np.where(free[..., None], conf, 0.0), free, updated=updated)

    def _predict(self, ks, t: int) -> np.ndarray:
        """Poses of people ``ks`` at frame ``t``: their last pose moved at their velocity (at most 0.5 s ahead)."""
        return self.pose[ks] + self.vel[ks, None] * np.minimum(t - self.last[ks], 0.5 * self.fps)[:, None, None]

    def _triangulate(self, match, xy, w, near=None):
        """3D of every person from its matched detections: ``(K, J, 3)`` and views per person ``(K,)``.

        ``near (C, K, J)``: joints close enough to the prediction (when there is one): a DLT over those,
        then one refit without the views that disagree with it by more than the outlier threshold (two
        solves whatever the number of cameras: the tracker needs a good pose, the final 3D comes from
        :func:`~mocap.triangulate.triangulate` on the whole sequence). Without ``near``, the exhaustive
        robust triangulation (new people)."""
        C, K = match.shape
        m = np.maximum(match, 0)
        sel_xy = np.take_along_axis(xy, m[:, :, None, None], axis=1).reshape(C, -1, 2)  # (C, K*J, 2)
        sel_w = np.where((match >= 0)[..., None], np.take_along_axis(w, m[:, :, None], axis=1), 0.0)
        if near is None:
            X, _, _ = triangulate_robust(sel_xy, sel_w.reshape(C, -1), self.Rt, self.focals, threshold_px=self.thr, min_views=self.o.min_views)
            return X.reshape(K, self.J, 3), (match >= 0).sum(0)
        wt = np.where(near, sel_w, 0.0).reshape(C, -1)
        coef, basis = view_coefficients(self.Rt, sel_xy, wt)
        X = solve_normal(summed_normal(coef, basis))
        with np.errstate(invalid="ignore"):
            inl = (normalized_errors(self.Rt, X, sel_xy, self.focals) < self.thr[:, None]) & (wt > 0)
        X = solve_normal(summed_normal(coef, basis, inl))
        X[inl.sum(0) < self.o.min_views] = np.nan
        return X.reshape(K, self.J, 3), (match >= 0).sum(0)

    def _update(self, t, X, nviews, match, *, pred, gate) -> np.ndarray:
        """Record the people whose new 3D ``X (K, J, 3)`` is seen in enough views and lies within their gate
        of the prediction *in 3D* (each view only checks the offset across its line of sight: someone else
        further along it must not take over a track). Returns ``(K,)`` bool, who was updated."""
        moved = nan_median(np.linalg.norm(X - pred, axis=-1))
        ok = (nviews >= self.o.min_views) & (np.isfinite(X).all(-1).sum(-1) >= self.o.min_joints) & (moved < gate)
        if ok.any():
            self._record(np.flatnonzero(ok), t, X[ok], match[:, ok])
        return ok

    def _record(self, ks, t, X, views) -> None:
        """People ``ks (n,)`` seen at ``t`` with 3D ``X (n, J, 3)`` from detection slots ``views (C, n)``:
        joints not seen now keep their last place, moved with the body; velocity from the body's median motion."""
        good = np.isfinite(X).all(-1)
        known = good & np.isfinite(self.pose[ks]).all(-1)  # (n, J)
        moved = np.nan_to_num(nan_median(np.where(known[..., None], X - self.pose[ks], np.nan).transpose(0, 2, 1)))
        gap = t - self.last[ks]
        step = moved / np.maximum(gap, 1)[:, None]
        new_vel = np.where((gap == 1)[:, None], 0.5 * self.vel[ks] + 0.5 * step, step)
        self.vel[ks] = np.where(((gap > 0) & known.any(-1))[:, None], new_vel, self.vel[ks])
        self.pose[ks] = np.where(good[..., None], X, self.pose[ks] + moved[:, None])
        self.last[ks] = t
        L = bone_lengths(X, self.bones)
        self.bone_sum[ks] += np.nan_to_num(L)
        self.bone_n[ks] += np.isfinite(L)
        views = np.where(views >= 0, self.slots[np.maximum(views, 0)], -1)  # this frame's slots -> the file's
        for i, k in enumerate(ks):
            self.assign[k][:, t] = views[:, i]
            self.seen[k][t] = True

    def _new(self, t, X, views) -> None:
        self.pose = np.concatenate([self.pose, X[None]])
        self.vel = np.concatenate([self.vel, np.zeros((1, 3))])
        self.last = np.concatenate([self.last, [t]])
        self.bone_sum = np.concatenate([self.bone_sum, np.zeros((1, len(self.bones)))])
        self.bone_n = np.concatenate([self.bone_n, np.zeros((1, len(self.bones)))])
        self.assign.append(np.full((self.C, self.T), -1, dtype=np.int32))
        self.seen.append(np.zeros(self.T, bool))
        self._record(np.array([len(self.pose) - 1]), t, X[None], views[:, None])

    # -- new people and people coming back
    def _births(self, t, xy, w, free, *, updated) -> None:
        C, J = self.C, self.J
        epi = free_pair_costs(xy, w, self.rig, E=self.E, free=free)  # (C, C, P, P) px
        # each detection pairs with its BIRTH_PAIRS best epipolar partners in another view at most: a crowd in
        # one frame costs O(C^2 P) hypotheses, not O(C^2 P^2) (no change up to BIRTH_PAIRS people)
        best = (np.argsort(np.argsort(epi, axis=-1), axis=-1) < BIRTH_PAIRS) \
            & (np.argsort(np.argsort(epi, axis=-2), axis=-2) < BIRTH_PAIRS)
        a, b, p, q = np.nonzero(np.triu(np.ones((C, C), bool), 1)[:, :, None, None] & (epi < self.epi) & best
                                & free[:, None, :, None] & free[None, :, None, :])
        if not a.size:
            return
        n = a.size
        hx = np.zeros((C, n, J, 2))
        hw = np.zeros((C, n, J))
        cand = np.arange(n)
        hx[a, cand], hw[a, cand] = xy[a, p], w[a, p]
        hx[b, cand], hw[b, cand] = xy[b, q], w[b, q]
        H, _, _ = triangulate_robust(hx.reshape(C, -1, 2), hw.reshape(C, -1), self.Rt, self.focals, threshold_px=self.thr, min_views=2)
        H = H.reshape(n, J, 3)
        cost = np.concatenate([robust_distance(depth_offsets(H[i:i + 256], xy, self.Rt), w[:, None], self.o.min_joints)
                               for i in range(0, n, 256)], axis=1)  # (C, n, P), a block of hypotheses at a time
        cost = np.where(free[:, None], cost, UNSEEN)
        best = cost.min(-1)
        support = (best < self.o.gate_m).sum(0)
        order = np.lexsort((epi[a, b, p, q], -support))  # most views first; then the closest epipolar agreement
        seen_now = np.flatnonzero(updated)
        for i in order:
            if support[i] < self.o.min_views:
                break
            views = np.where((cost[:, i] < self.o.gate_m).any(-1), cost[:, i].argmin(-1), -1)
            views[views >= 0] = np.where(free[np.flatnonzero(views >= 0), views[views >= 0]], views[views >= 0], -1)
            if (views >= 0).sum() < self.o.min_views:
                continue
            X, nv = self._triangulate(views[:, None], xy, w)
            X = X[0]
            if nv[0] < self.o.min_views or np.isfinite(X).all(-1).sum() < self.o.min_joints:
                continue
            if seen_now.size and pose_distance(X[None], self.pose[seen_now]).min() < 2 * self.o.gate_m:
                continue  # left-over detections of someone already seen in this frame
            free[np.flatnonzero(views >= 0), views[views >= 0]] = False
            k = self._reidentify(t, X)
            if k is None:
                self._new(t, X, views)
            else:
                self.reidentified += 1
                self._record(np.array([k]), t, X[None], views[:, None])
            seen_now = np.append(seen_now, k if k is not None else len(self.pose) - 1)

    def _reidentify(self, t, X) -> int | None:
        """A person not seen at ``t`` who could be ``X``: near where they were last (at walking speed)
        and with the same bone lengths; the nearest such, or None."""
        cand = np.flatnonzero(self.last < t)
        if not cand.size:
            return None
        gap = (t - self.last[cand]) / self.fps
        dist = pose_distance(X[None], self._predict(cand, t))[0]
        reach = 1.5 * self.o.gate_m + self.o.reid_speed * gap
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # bones never measured
            mine = bone_lengths(X, self.bones)
            theirs = self.bone_sum[cand] / self.bone_n[cand]
            diff = nan_median(np.abs(mine[None] / theirs - 1))
        same_body = np.where(np.isfinite(diff), diff <= self.o.reid_bone_tol, gap < 0.5)
        ok = (dist <= reach) & same_body
        return int(cand[ok][np.argmin(dist[ok])]) if ok.any() else None


def track_people(data: np.ndarray, rig: CameraRig, skeleton, fps: float, *, options: TrackingOptions | None = None,
                 progress=None) -> PeopleTracks:
    """Associate every person across views and follow them through time (see the module docstring).

    data: ``(C, T, P, J, 3)`` = x px, y px, confidence (slots in any order, NaN/0 where empty); rig: the
    C calibrated cameras; skeleton: the keypoint layout (its rigid bones re-identify people); fps: frame rate.
    Returns :class:`PeopleTracks` whose report holds ``people``, ``dropped_tracks`` and ``dropped_frames``
    (short tracks: ghosts, fragments), ``reidentified`` (times someone came back under their own ID),
    ``unassigned`` (usable detections nobody claimed: false, partial or single-view) and
    ``few_joints`` (detections with fewer than ``min_joints`` usable joints, ignored).
    """
    o = options or TrackingOptions()
    data = np.asarray(data, float)
    if data.ndim != 5 or data.shape[-1] != 3:
        raise MocapError(f"multi-person keypoints must be (C, T, P, J, 3), got {data.shape}")
    C, T, P, J, _ = data.shape
    rig.require_views(C)
    xy = rig.undistort(data[..., :2])
    conf = np.nan_to_num(data[..., 2])
    conf = np.where((conf >= o.min_confidence) & np.isfinite(xy).all(-1), conf, 0.0)
    njoints = (conf > 0).sum(-1)
    tr = _Tracker(xy, conf, rig, get_skeleton(skeleton).rigid_bone_indices, fps=fps, opts=o)
    for t in range(T):
        tr.step(t)
        if progress is not None and (t % 100 == 99 or t == T - 1):
            progress(t + 1, T)
    assign = np.array(tr.assign, dtype=np.int32).reshape(-1, C, T)
    seen = np.array(tr.seen, dtype=bool).reshape(-1, T)
    min_frames = o.min_frames if o.min_frames is not None else max(2, int(round(0.25 * fps)))
    keep = seen.sum(-1) >= min_frames
    first = np.where(seen.any(-1), seen.argmax(-1), T)
    order = np.flatnonzero(keep)[np.argsort(first[keep], kind="stable")]
    report = {"people": int(order.size), "dropped_tracks": int((~keep).sum()),
              "dropped_frames": int(seen[~keep].sum()), "reidentified": tr.reidentified,
              "unassigned": int(((njoints >= o.min_joints).sum() - (assign[order] >= 0).sum())),
              "few_joints": int(((njoints > 0) & (njoints < o.min_joints)).sum()),
              "min_frames": min_frames}
    return PeopleTracks(assign[order], seen[order], np.arange(1, order.size + 1), report)


def select_person(data: np.ndarray, rig: CameraRig, skeleton, fps: float, *, camera_names: list[str],
                  frames=None, min_confidence: float = 0.2, options: TrackingOptions | None = None
                  ) -> tuple[Keypoints2D, dict]:
    """The single most present person of ``(C, T, P, J, 3)`` multi-person detections, ``(C, T, J, 3)``:
    the one-person case of :func:`track_people` (a view is dropped only when nobody in it fits).

    Returns the keypoints and a report: ``chosen (C, T)`` slot per view (-1 = none), ``dropped`` views
    where the person was seen elsewhere and this view held a usable detection that did not fit,
    ``multi_person_views`` views holding several detections, ``people`` how many were tracked.
    """
    o = options or TrackingOptions(min_confidence=min_confidence)
    skeleton_obj = get_skeleton(skeleton)
    tracks = track_people(data, rig, skeleton_obj, fps, options=o)
    C, T = data.shape[:2]
    conf = np.nan_to_num(np.asarray(data, float)[..., 2])
    usable = ((conf >= o.min_confidence).sum(-1) >= o.min_joints)  # (C, T, P)
    report = {"multi_person_views": int((usable.sum(-1) > 1).sum()), "people": len(tracks.ids),
              "tracking": tracks.report}
    if len(tracks.ids):
        k = tracks.by_presence()[0]
        chosen, seen = tracks.assignment[k], tracks.present[k][None]
    else:  # nobody: every view with a detection is dropped
        chosen, seen = np.full((C, T), -1), np.ones((1, T), bool)
    report.update(chosen=chosen, dropped=int((seen & usable.any(-1) & (chosen < 0)).sum()))
    return Keypoints2D(pick_slots(data, chosen), skeleton_obj, fps, camera_names, frames), report
