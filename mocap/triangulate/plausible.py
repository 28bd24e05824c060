"""Skeleton plausibility of triangulated points: what one frame's views cannot tell, the body can.

A point seen by two views has a single redundant coordinate (its distance to the epipolar line), so an
outlier detection lying near that line in one view is accepted with a small reprojection error and can
put the point metres away. Three or more views check each other. So each person's bone lengths are
measured robustly on the points that three or more views agree on, and a point is re-decided when its
bones break those lengths:

- :func:`bone_model`: ``(B,)`` median lengths over the frames where both ends are well supported, and how far
  each may stray;
- :func:`bone_excess`: ``(T, B)`` how far each bone is from its length, in tolerances;
- :func:`suspects`: ``(T, J)`` points to re-decide (the rule for two-view points is stricter);
- :func:`temporal_prediction`: where the well-supported neighbours in time put each point;
- :func:`recheck`: re-triangulates suspects (of the skeleton or of time) from other view subsets, scored with
  their bones to trusted neighbours and their distance to the prediction, or leaves them empty; returns what it
  did per joint;
- :func:`implausible_frames`: frames where most bones break their lengths (a person mixed from two, a wrong
  calibration), for a report rather than a silent distortion.

Shapes: ``X (T, J, 3)`` metres; ``bones (B, 2)`` joint indices; inliers ``(C, T, J)`` bool.
"""
from __future__ import annotations

import numpy as np

from ..core.kinematics import bone_lengths, bone_neighbours, robust_bone_lengths
from .dlt import errors_function, pair_search, view_coefficients

#: A bone breaks its length when ``| |a - b| - L | > REL * L + ABS + SPREAD * spread`` (metres), ``spread`` being
#: how much the bone varies where three or more views agree: 10 % + 2 cm + 3 spreads. Two-view noise on a ring of
#: 1080p cameras moves a bone by ~1-2 cm; a wrong view along an epipolar line by decimetres to metres; trunk edges
#: (shoulder-hip) bend by several %, which their spread measures.
REL, ABS, SPREAD = 0.10, 0.02, 3.0


def bone_model(X: np.ndarray, bones: np.ndarray, support: np.ndarray):
    """A person's bones from the points ``support (T, J)`` marks (e.g. seen by >= 3 views): ``lengths (B,)`` m
    (:func:`~mocap.core.kinematics.robust_bone_lengths`), ``frames (B,)`` of support and ``tolerance (B,)`` m, the
    deviation beyond which a bone is broken (see :data:`REL`)."""
    L, frames, spread = robust_bone_lengths(X, bones, support)
    return L, frames, REL * L + ABS + SPREAD * np.nan_to_num(spread)


def bone_excess(X: np.ndarray, bones: np.ndarray, L: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """``(T, B)`` ``| |X_b - X_a| - L | / tol``: above 1 the bone is broken (NaN where an end is unknown)."""
    return np.abs(bone_lengths(X, bones) - L) / tol


def suspects(X: np.ndarray, views: np.ndarray, bones: np.ndarray, L: np.ndarray, *, tol: np.ndarray) -> np.ndarray:
    """``(T, J)`` points whose bones break the lengths ``L`` by more than ``tol``, given ``views (T, J)`` inlier
    views per point.

    *Anchors* are points with three or more views. A two-view point is suspect when a bone to an anchor breaks
    and none of its bones holds, when most of its bones break (two at least), or, with no anchor beside it, when
    every bone to a known neighbour breaks (a wrong point rarely keeps a bone by chance; a detector's loose face
    or foot point can break one bone of a right neighbour). A point with
    three or more views is suspect only when most of its bones to known neighbours break, two at least
    (its own views already agree, so one broken bone more likely means a bad neighbour).
    """
    T, J, _ = X.shape
    joint, bone = bone_neighbours(bones, J)
    has = joint >= 0
    ex = bone_excess(X, bones, L, tol)[:, np.maximum(bone, 0)]  # (T, J, K)
    known = np.isfinite(ex) & has
    broken = known & (ex > 1)
    anchor = (views >= 3)[:, np.maximum(joint, 0)] & known  # (T, J, K)
    weak = (views == 2) & np.isfinite(X).all(-1)
    n_known, n_broken = known.sum(-1), broken.sum(-1)
    weak_bad = weak & (((broken & anchor).any(-1) & (n_broken == n_known)) | (n_broken >= 2) & (2 * n_broken > n_known)
                       | (~anchor.any(-1) & (n_known > 0) & (n_broken == n_known)))
    strong_bad = (views >= 3) & (n_broken >= 2) & (2 * n_broken > n_known)
    return weak_bad | strong_bad


def skeleton_penalty(X: np.ndarray, flag: np.ndarray, bones: np.ndarray, L: np.ndarray, *, tol: np.ndarray,
                     trusted: np.ndarray, scale: float):
    """``penalty(P (n, 3), idx=None) -> (n,)`` for the flagged points ``flag`` (indices into ``T * J``; ``idx`` a subset
    of them): ``scale`` times the sum over their bones to ``trusted (T, J)`` neighbours of
    ``(max(0, | |P - X_k| - L | / tol - 1))^2``."""
    T, J, _ = X.shape
    joint, bone = bone_neighbours(bones, J)
    t, j = np.divmod(flag, J)
    nj, nb = joint[j], bone[j]  # (N, K)
    ok = (nj >= 0) & trusted[t[:, None], np.maximum(nj, 0)]
    Xn = X[t[:, None], np.maximum(nj, 0)]  # (N, K, 3)
    Lk, tk = np.append(L, np.nan)[nb], np.append(tol, 1.0)[nb]  # -1 (no bone): NaN
    ok &= np.isfinite(Lk) & np.isfinite(Xn).all(-1)
    Xn, Lk, tk = np.nan_to_num(Xn), np.nan_to_num(Lk), np.where(ok, tk, 1.0)

    def penalty(P, idx=slice(None)):
        d = np.linalg.norm(P[:, None] - Xn[idx], axis=-1)
        ex = np.maximum(0.0, np.abs(d - Lk[idx]) / tk[idx] - 1.0)
        return scale * np.nan_to_num(np.where(ok[idx], ex * ex, 0.0).sum(-1), nan=np.inf)
    return penalty, ok.sum(-1)


#: An optimal sorting network for 6 values (12 compare-exchanges): the median of a frame's 6 neighbours in time
#: with elementwise min/max over whole arrays, about twice as fast as a sort along a short axis.
_NET6 = ((0, 5), (1, 3), (2, 4), (1, 2), (3, 4), (0, 3), (2, 5), (0, 1), (2, 3), (4, 5), (1, 2), (3, 4))


def temporal_prediction(X: np.ndarray, strong: np.ndarray, window: int = 3) -> np.ndarray:
    """``(T, J, 3)`` median of the ``strong`` ``(T, J)`` neighbours within +-window frames (frame itself excluded)."""
    T = X.shape[0]
    pad = np.full((T + 2 * window,) + X.shape[1:], np.inf)
    pad[window:window + T] = np.where(strong[..., None], X, np.inf)  # missing sorts last
    v = [pad[window + k: window + k + T] for k in range(-window, window + 1) if k]
    if len(v) == 6:
        for i, j in _NET6:
            v[i], v[j] = np.minimum(v[i], v[j]), np.maximum(v[i], v[j])
    else:
        v = list(np.sort(np.stack(v), axis=0))
    n = sum((a < np.inf).astype(np.int8) for a in v)
    lo, hi = np.choose(np.maximum(n - 1, 0) // 2, v), np.choose(n // 2, v)
    return np.where(n > 0, 0.5 * (lo + hi), np.nan)


def recheck(X, inl, xy, conf, *, Rt, focals, threshold_px, fps, bones=None, temporal: bool = True, window: int = 3,
            speed: float = 3.0, min_jump: float = 0.1, iterations: int = 2, model=None):
    """Re-decide the points that the body (``bones``) or time (``temporal``) says are wrong.

    X: ``(T, J, 3)``; inl: ``(C, T, J)``; xy/conf: ``(C, T, J, 2)`` (or ``xy(flag) -> (C, n, 2)`` for points ``flag``
    into ``T * J``)/``(C, T, J)`` undistorted views; threshold_px scalar or ``(C,)``; bones ``(B, 2)`` or None.

    - *skeleton*: :func:`suspects` against the :func:`~mocap.core.kinematics.robust_bone_lengths` of the points
      with >= 3 views;
    - *time*: a point further than ``tau = min_jump + speed * window / fps`` metres from the median of its
      trusted neighbours (not suspected by the skeleton) within +-``window`` frames (empty points too: a
      consistent answer may exist).

    Each suspect's current answer and camera pairs (:func:`~mocap.triangulate.dlt.pair_search`) are scored with the truncated quadratic reprojection
    cost plus ``threshold^2`` times the squared excess of its bones to trusted neighbours (in tolerances) and of
    its distance to the prediction (in ``tau``, or ``2 tau`` when two such bones fix it: the frame's own body
    is the surer witness of a fast movement; one bone leaves a sphere that a wrong ray can cross). A current answer without excess stays; else the best is taken when it has
    no excess and two bones or the prediction corroborate it (or three views agree); otherwise a point with
    two views or fewer is left empty (two views that agree by chance cannot be told from the truth, and one good
    view and one outlier leave nothing to triangulate) and a better-supported one keeps its answer, unless it
    breaks every bone to two or more trusted neighbours by twice their tolerance and lies far (``2 tau``) from its
    prediction (wrong views that agreed by chance, or another body's joints).

    ``model``: the :func:`bone_model` to judge by (default: of ``X``; a block passes the whole recording's).
    Returns ``X``, ``inl`` and a report: ``lengths (B,)`` m with their ``frames (B,)`` of support and ``tolerance
    (B,)`` m, ``retriangulated (J,)`` (moved to another view subset) and ``rejected (J,)`` (left empty) counts per joint.
    """
    C, T, J = conf.shape
    views = inl.sum(0)
    bones = np.zeros((0, 2), int) if bones is None else np.asarray(bones, int).reshape(-1, 2)
    report = {"lengths": np.zeros(0), "frames": np.zeros(0, int), "tolerance": np.zeros(0),
              "retriangulated": np.zeros(J, int), "rejected": np.zeros(J, int)}
    L, frames, tol = bone_model(X, bones, views >= 3) if model is None else model
    report.update(lengths=L, frames=frames, tolerance=tol)
    tau = min_jump + speed * window / fps
    sus, trusted, pred, corroborated = witnesses(X, views, bones, L, tol=tol, tau=tau if temporal else None, window=window)
    flag = np.flatnonzero(sus.ravel() & ((conf > 0).sum(0) >= 2).ravel())
    if flag.size == 0:
        return X, inl, report
    thr = np.broadcast_to(np.asarray(threshold_px, dtype=float), (C,))[:, None]
    scale = thr.min() ** 2
    by_time, by_time_loose = (time_penalty(pred.reshape(-1, 3)[flag], k * tau, scale) for k in (1, 2))
    # two bones to trusted neighbours fix a point (a person may move fast); one bone leaves a sphere
    by_bones, anchors = skeleton_penalty(X, flag, bones, L=L, tol=tol, trusted=trusted, scale=scale)
    penalty = lambda P, idx=slice(None): (by_bones(P, idx)  # noqa: E731
                                          + np.where(anchors[idx] >= 2, by_time_loose(P, idx), by_time(P, idx)))
    X0, Xf, inl_f = resolve(flag, X, xy, conf, Rt=Rt, focals=focals, thr=thr, penalty=penalty, iterations=iterations)
    witnessed = corroborated.ravel()[flag]
    stays = np.isfinite(X0).all(-1) & (penalty(X0) <= 0.0) & (witnessed | (views.ravel()[flag] >= 3))
    holds = ~stays & (inl_f.sum(0) >= 2) & (penalty(Xf) <= 0.0) & (witnessed | (inl_f.sum(0) >= 3))
    moved = holds & ~(np.linalg.norm(Xf - X0, axis=-1) < 1e-9)  # NaN X0 (was empty): moved
    # two views that may agree by chance, or three that every bone (2 at least) and time reject: left empty
    far = (anchors >= 2) & (by_bones(X0) >= anchors * scale) & (by_time_loose(X0) > 0)
    weak = ~stays & ~holds & ((views.ravel()[flag] <= 2) | far)
    Xflat, inl_flat = X.reshape(T * J, 3).copy(), inl.reshape(C, T * J).copy()
    Xflat[flag[holds]], inl_flat[:, flag[holds]] = Xf[holds], inl_f[:, holds]
    Xflat[flag[weak]], inl_flat[:, flag[weak]], j = np.nan, False, flag % J
    report["retriangulated"] = np.bincount(j[moved], minlength=J)
    report["rejected"] = np.bincount(j[weak & np.isfinite(X0).all(-1)], minlength=J)
    return Xflat.reshape(T, J, 3), inl_flat.reshape(C, T, J), report


def witnesses(X, views, bones, L, *, tol, tau: float | None, window: int = 3):
    """What speaks for or against each point of ``X (T, J, 3)`` with ``views (T, J)`` inlier views.

    Returns ``suspects (T, J)`` (:func:`suspects` of the skeleton; points further than ``tau`` metres from their
    :func:`temporal_prediction`; and two-view points that nothing corroborates), ``trusted (T, J)`` (known, seen by three
    views or not suspected by the skeleton), the prediction ``(T, J, 3)`` from trusted neighbours within +-``window`` frames
    (NaN without ``tau``) and ``corroborated (T, J)``: bones to two trusted neighbours or a prediction exist.
    """
    T, J, _ = X.shape
    known = np.isfinite(X).all(-1)
    sus = suspects(X, views, bones, L, tol=tol) if len(bones) else np.zeros((T, J), bool)
    trusted = known & (~sus | (views >= 3))  # three views that agree are rarely all wrong
    joint, _ = bone_neighbours(bones, J)
    anchored = ((joint >= 0) & trusted[:, np.maximum(joint, 0)]).sum(-1) >= 2  # one bone leaves a sphere
    pred = np.full(X.shape, np.nan)
    if tau is not None:
        pred = temporal_prediction(X, trusted, window)
        sus |= np.isfinite(pred).all(-1) & ~(np.linalg.norm(X - pred, axis=-1) <= tau)
    corroborated = anchored | np.isfinite(pred).all(-1)
    sus |= known & (views <= 2) & ~corroborated  # two views that may agree by chance, and nothing else
    return sus, trusted, pred, corroborated


def time_penalty(pred: np.ndarray, tau: float, scale: float):
    """``penalty(P (n, 3), idx=None) -> (n,)``: ``scale * (max(0, |P - pred| - tau) / tau)^2`` (0 where ``pred (N, 3)``
    is NaN; ``idx`` the rows of ``pred`` that ``P`` stands for)."""
    predicted = np.isfinite(pred).all(-1)

    def penalty(P, idx=slice(None)):
        excess = np.maximum(0.0, np.linalg.norm(P - pred[idx], axis=-1) - tau) / tau
        return scale * np.where(predicted[idx], np.nan_to_num(excess, nan=np.inf) ** 2, 0.0)
    return penalty


def resolve(flag, X, xy, conf, *, Rt, focals, thr, penalty, iterations: int = 2):
    """:func:`~mocap.triangulate.dlt.pair_search` for the points ``flag`` (indices into ``T * J``) of ``X (T, J, 3)``
    (``xy`` an array or a function of ``flag``, as :func:`recheck` takes it)
    with ``penalty``: returns their current ``X0 (N, 3)``, the best ``X (N, 3)`` and its ``inliers (C, N)``."""
    C = conf.shape[0]
    xy_f = xy(flag) if callable(xy) else xy.reshape(C, -1, 2)[:, flag]
    conf_f = conf.reshape(C, -1)[:, flag]
    valid = conf_f > 0
    coef, basis = view_coefficients(Rt, xy_f, conf_f)
    errors_of = errors_function(Rt, xy_f, valid, focals)
    X0 = X.reshape(-1, 3)[flag]
    Xf, inl_f, _ = pair_search(coef, basis, valid, errors_of=errors_of, thr=thr, iterations=iterations, X0=X0,
                               e0=errors_of(X0), penalty=penalty)
    return X0, Xf, inl_f


def implausible_frames(X: np.ndarray, bones: np.ndarray, L: np.ndarray, rel: float = 0.2, *, share: float = 0.5) -> np.ndarray:
    """``(T,)`` frames where more than ``share`` of the known bones (3 at least) are off their lengths ``L`` by more
    than ``rel * L + 2 cm``: no body, whatever the spread of its bones (a person mixed from two has a wide one)."""
    ex = bone_excess(X, bones, L, rel * L + ABS)
    known = np.isfinite(ex)
    broken = (known & (ex > 1)).sum(-1)
    return (broken >= 3) & (broken > share * known.sum(-1))
