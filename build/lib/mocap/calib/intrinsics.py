"""Camera intrinsics from board views: OpenCV calibration, bad-view rejection, diagnostics.

``calibrate_intrinsics(board, detections)`` fits K and distortion (pinhole: k1 k2 p1 p2, k3 fixed
at 0 unless ``k3=True``; fisheye: k1..k4) with ``cv2.calibrateCameraExtended`` / ``cv2.fisheye``,
drops views whose RMS error is far above the rest (refitting), and returns per-view errors, the
corner coverage of the image and plain-language warnings about what makes the result weak.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..core.camera import Camera
from ..errors import MocapError
from .board import Board
from .views import Detections

MIN_VIEWS = 4
GRID = 6  # coverage grid cells per side


@dataclass
class IntrinsicsResult:
    """camera: K, dist, size (identity extrinsics); rms px over used views; view_errors: name -> RMS px
    of every detected view (used or not); rejected: name -> reason (includes images without board);
    coverage ``(GRID, GRID)`` corner counts; focal_std px (1 sigma); warnings: what limits the result."""

    camera: Camera
    rms: float
    view_errors: dict[str, float]
    used: list[str]
    rejected: dict[str, str]
    coverage: np.ndarray
    focal_std: float
    tilts_deg: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def coverage_fraction(self) -> float:
        return float((self.coverage > 0).mean())


def _fit(board: Board, views, size, fisheye: bool, *, k3: bool):
    obj = [board.object_points[v.ids].astype(np.float32) for v in views]
    img = [v.corners.astype(np.float32) for v in views]
    crit = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-9)
    if fisheye:
        flags = cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC | cv2.fisheye.CALIB_FIX_SKEW
        _, K, D, rv, tv = cv2.fisheye.calibrate([o[:, None] for o in obj], [i[:, None] for i in img], size,
                                                None, None, flags=flags, criteria=crit)
        std = np.full(4, np.nan)
    else:
        flags = 0 if k3 else cv2.CALIB_FIX_K3
        _, K, D, rv, tv, std, _, _ = cv2.calibrateCameraExtended(obj, img, size, None, None, flags=flags, criteria=crit)
        D = D.ravel()[:5 if k3 else 4]
    errs = {}
    for v, o, r, t in zip(views, obj, rv, tv):
        if fisheye:
            p = cv2.fisheye.projectPoints(o[:, None], r, t, K, D)[0].reshape(-1, 2)
        else:
            p = cv2.projectPoints(o, r, t, K, D)[0].reshape(-1, 2)
        errs[v.name] = float(np.sqrt(((p - v.corners) ** 2).sum(-1).mean()))
    tilts = {v.name: float(np.degrees(np.arccos(abs(cv2.Rodrigues(r)[0][2, 2])))) for v, r in zip(views, rv)}
    return K, np.asarray(D, float).ravel(), errs, float(np.ravel(std)[:2].mean()), tilts


def calibrate_intrinsics(board: Board, det: Detections, fisheye: bool = False, k3: bool = False,
                         *, reject_factor: float = 3.0) -> IntrinsicsResult:
    """Intrinsics of one camera from its board detections (see the module docstring).

    Raises :class:`MocapError` (naming the camera and the cause) when no valid calibration exists:
    the board was never found, or fewer than 4 usable views remain.
    """
    n_img = len(det.views) + len(det.skipped)
    if not det.views:
        raise MocapError(f"camera {det.camera}: board not found in any of {n_img} images — is it a "
                         f"{board.describe()}? (check the square count: inner corners {board.inner[0]}x"
                         f"{board.inner[1]}) and is it fully in view?")
    if len(det.views) < MIN_VIEWS:
        raise MocapError(f"camera {det.camera}: board found in only {len(det.views)} of {n_img} images; "
                         f"at least {MIN_VIEWS} views at different angles are needed")
    views = list(det.views)
    rejected = dict(det.skipped)
    view_errors: dict[str, float] = {}  # each view's RMS from the last fit it took part in
    for _ in range(3):  # fit, drop views far above the typical error, refit
        K, D, errs, fstd, tilts = _fit(board, views, det.size, fisheye, k3=k3)
        view_errors.update(errs)
        med = float(np.median(list(errs.values())))
        bad = [v for v in views if errs[v.name] > max(reject_factor * med, 1.0)]
        if not bad or len(views) - len(bad) < MIN_VIEWS:
            break
        for v in bad:
            rejected[v.name] = f"reprojection error {errs[v.name]:.2f} px (typical {med:.2f} px): blurred or misdetected"
        views = [v for v in views if v not in bad]
    all_err = {v.name: view_errors[v.name] for v in det.views}
    n_pts = sum(len(v.ids) for v in views)
    rms = float(np.sqrt(sum(errs[v.name] ** 2 * len(v.ids) for v in views) / n_pts))
    w, h = det.size
    cov = np.zeros((GRID, GRID), int)
    for v in views:
        ix = np.clip((v.corners[:, 0] / w * GRID).astype(int), 0, GRID - 1)
        iy = np.clip((v.corners[:, 1] / h * GRID).astype(int), 0, GRID - 1)
        np.add.at(cov, (iy, ix), 1)
    cam = Camera(det.camera, K, D, R=np.eye(3), t=np.zeros(3), size=(w, h), fisheye=fisheye)
    res = IntrinsicsResult(cam, rms, all_err, used=[v.name for v in views], rejected=rejected, coverage=cov,
                           focal_std=fstd, tilts_deg=tilts)
    res.warnings = diagnose(res, n_img)
    return res


def diagnose(res: IntrinsicsResult, n_images: int) -> list[str]:
    """Plain-language reasons a calibration may be poor (empty when nothing stands out)."""
    out = []
    n = len(res.used)
    missing = sum(r == "board not found" for r in res.rejected.values())
    if missing:
        out.append(f"board not found in {missing} of {n_images} images (listed in the report)")
    if n < 10:
        out.append(f"only {n} views used: 10-20 views at varied angles give a steadier result")
    if res.coverage_fraction < 0.5:
        out.append(f"corners cover {100 * res.coverage_fraction:.0f} % of the image: show the board near the "
                   "edges and corners too, where distortion is strongest")
    if res.tilts_deg and max(res.tilts_deg[u] for u in res.used) < 20:
        out.append("every view is nearly face-on: tilt the board 30-45 degrees in some views, else the focal "
                   "length is poorly determined")
    if res.rms > 1.0:
        out.append(f"RMS error {res.rms:.2f} px is high: the board may not be flat, images blurred, or the "
                   "square count wrong")
    f = res.camera.K[0, 0]
    if np.isfinite(res.focal_std) and res.focal_std > 0.01 * f:
        out.append(f"focal length uncertain: {f:.0f} +/- {res.focal_std:.0f} px (1 sigma)")
    return out
