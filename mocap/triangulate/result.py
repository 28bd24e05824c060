"""The result of a triangulation and its per-view errors: :class:`TriangulationResult`
(motion ``(T, J, 3)`` metres, errors ``(C, T, J)`` px, inliers), shared by every mode."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.camera import CameraRig
from ..core.keypoints import Keypoints2D
from ..core.motion import Motion3D
from ..errors import MocapError


@dataclass
class TriangulationResult:
    """Triangulated motion and per-point diagnostics.

    motion: ``(T, J, 3)`` metres (NaN where fewer than ``min_views`` inlier views).
    reprojection_error: ``(T, J)`` mean pixel error over inlier views (distortion applied).
    view_errors: ``(C, T, J)`` pixel error of each view against the 3D point (NaN if missing).
    inliers: ``(C, T, J)`` bool, views used for each point.
    observed: ``(C, T, J)`` bool, views that had a usable detection (finite, confident enough).
    notes: what a user should know (people dropped, points left empty, gaps filled);
    quality: before/after measures of a refinement (``{"jitter": (a, b), "bone_cv": (a, b)}``);
    checks: what the plausibility checks did (``lengths (B,)`` m and their ``frames (B,)`` of support,
    ``retriangulated (J,)``/``rejected (J,)`` counts per joint; see :mod:`mocap.triangulate.plausible`).
    """

    motion: Motion3D
    reprojection_error: np.ndarray
    view_errors: np.ndarray
    inliers: np.ndarray
    observed: np.ndarray
    camera_names: list[str] = field(default_factory=list)
    method: str = "robust"
    filled: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    quality: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)

    @property
    def views_used(self) -> np.ndarray:
        """``(T, J)`` number of inlier views per point."""
        return self.inliers.sum(axis=0)

    def camera_summary(self) -> list[dict]:
        """Per camera: mean reprojection error (px) over its inlier views and % of its detections rejected."""
        out = []
        for c, name in enumerate(self.camera_names):
            inl, obs = self.inliers[c], self.observed[c]
            err = self.view_errors[c][inl]
            out.append({"camera": name, "mean_error_px": float(np.mean(err)) if err.size else float("nan"),
                        "rejected_pct": 100.0 * float((obs & ~inl).sum()) / max(1, int(obs.sum())),
                        "detections": int(obs.sum())})
        return out

    def joint_summary(self) -> list[dict]:
        """Per joint: mean reprojection error (px), mean views used, % of frames triangulated, points the
        plausibility checks re-triangulated from other cameras and left empty."""
        out = []
        valid = self.motion.valid
        moved, rejected = (self.checks.get(k, np.zeros(len(self.motion.names), int)) for k in ("retriangulated", "rejected"))
        for j, name in enumerate(self.motion.names):
            e = self.reprojection_error[:, j]
            out.append({"joint": name, "mean_error_px": float(np.nanmean(e)) if np.isfinite(e).any() else float("nan"),
                        "views": float(self.views_used[:, j][valid[:, j]].mean()) if valid[:, j].any() else 0.0,
                        "valid_pct": 100.0 * float(valid[:, j].mean()), "retriangulated": int(moved[j]),
                        "rejected": int(rejected[j])})
        return out

    def bone_summary(self) -> list[dict]:
        """Per bone of the skeleton: the length (mm) the checks (or the refinement, when refined) held it to and the
        frames it was measured on (both ends well supported)."""
        lengths, frames = self.quality.get("bones") or (self.checks.get("lengths"), self.checks.get("frames"))
        if lengths is None or not len(lengths):
            return []
        sk = self.motion.skeleton
        bones = sk.rigid_bone_indices if "bones" in self.quality else sk.bone_indices
        names = self.motion.names
        return [{"bone": f"{names[a]}-{names[b]}", "length_mm": 1000.0 * float(L), "frames": int(n)}
                for (a, b), L, n in zip(bones, lengths, frames)]


# ------------------------------------------------------------------ building blocks


def pixel_errors(rig: CameraRig, X: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """``(C, N)`` distance in px between the distorted projection of ``X (N, 3)`` and ``uv (C, N, 2)``."""
    return np.linalg.norm(rig.project(X) - uv, axis=-1)


def block_errors(piece: tuple, *, rig: CameraRig) -> np.ndarray:
    """:func:`pixel_errors` of one block of frames: ``piece`` = ``(X (n, J, 3), uv (C, n, J, 2))`` -> ``(C, n, J)``
    px (a function of one argument for :func:`mocap.workers.ordered_map`)."""
    return pixel_errors(rig, *piece)


def mean_inlier_error(view_errors: np.ndarray, inliers: np.ndarray) -> np.ndarray:
    """``(C, ...)`` per-view px errors and inlier flags -> ``(...)`` mean over inlier views (NaN if none); summed one
    camera at a time (no ``(C, ...)`` temporary)."""
    total = np.zeros(view_errors.shape[1:])
    for e, i in zip(view_errors, inliers):
        total += np.where(i, e, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / inliers.sum(axis=0)


def _check(kp: Keypoints2D, rig: CameraRig):
    if kp.n_cameras != len(rig):
        raise MocapError(f"calibration has {len(rig)} cameras but keypoints come from {kp.n_cameras} "
                         f"({', '.join(kp.camera_names)})", rig.source or None)


# ------------------------------------------------------------------ API


def _result(kp, rig, X, inl, *, observed, method, filled=None, view_errors=None) -> TriangulationResult:
    C, T, J, _ = kp.data.shape
    verr = pixel_errors(rig, X, kp.xy.reshape(C, T * J, 2)) if view_errors is None else view_errors
    inl = inl & np.isfinite(X).all(axis=1)[None]
    err = mean_inlier_error(verr, inl)
    conf = np.zeros(T * J)
    for c in range(C):  # the best inlier view's confidence, one camera at a time
        np.maximum(conf, np.where(inl[c], kp.confidence[c].reshape(-1), 0.0), out=conf)
    motion = Motion3D(X.reshape(T, J, 3), kp.skeleton, kp.fps, confidence=conf.reshape(T, J) if C else None, up="z")
    return TriangulationResult(motion, err.reshape(T, J), verr.reshape(C, T, J), inliers=inl.reshape(C, T, J),
                               observed=observed.reshape(C, T, J), camera_names=list(rig.names), method=method,
                               filled=filled)
