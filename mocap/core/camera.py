"""Pinhole/fisheye cameras and calibrated rigs.

Conventions (OpenCV): ``x_cam = R @ X_world + t``; pixel = K @ distort(x_cam / z). World units are
metres. Distortion: OpenCV ``k1 k2 p1 p2 [k3 [k4 k5 k6]]`` or, with ``fisheye``, ``k1 k2 k3 k4``
(equidistant model of ``cv2.fisheye``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import MocapError
from ..workers import ordered_map

_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)

CAMERA_TO_YUP = np.diag([1.0, -1.0, -1.0])  # camera axes (x right, y down, z away) -> Y-up, as the lifter's output


def rodrigues_to_matrix(rvec: np.ndarray) -> np.ndarray:
    """``(3,)`` axis-angle (radians) -> ``(3, 3)`` rotation matrix."""
    return cv2.Rodrigues(np.asarray(rvec, dtype=float).reshape(3, 1))[0]


def matrix_to_rodrigues(R: np.ndarray) -> np.ndarray:
    """``(3, 3)`` rotation matrix -> ``(3,)`` axis-angle (radians)."""
    return cv2.Rodrigues(np.asarray(R, dtype=float))[0].ravel()


def distort_normalized(xy: np.ndarray, dist: np.ndarray, fisheye: bool = False) -> np.ndarray:
    """Apply lens distortion to normalised image coordinates ``(..., 2)``."""
    d = np.zeros(8 if not fisheye else 4)
    d[: len(dist)] = dist
    x, y = xy[..., 0], xy[..., 1]
    r2 = x * x + y * y
    if fisheye:
        r = np.sqrt(r2)
        th = np.arctan(r)
        th2 = th * th
        thd = th * (1 + th2 * (d[0] + th2 * (d[1] + th2 * (d[2] + th2 * d[3]))))
        scale = np.where(r > 1e-12, thd / np.maximum(r, 1e-12), 1.0)
        return xy * scale[..., None]
    k1, k2, p1, p2, k3, k4, k5, k6 = d
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([xd, yd], axis=-1)


@dataclass
class Camera:
    """One calibrated camera.

    K: ``(3, 3)`` intrinsics in px. dist: distortion coefficients (4, 5 or 8; 4 with fisheye).
    R: ``(3, 3)`` world->camera rotation. t: ``(3,)`` world->camera translation, metres.
    size: (width, height) px. fisheye: use the ``cv2.fisheye`` model.
    """

    name: str
    K: np.ndarray
    dist: np.ndarray = field(default_factory=lambda: np.zeros(4))
    R: np.ndarray = field(default_factory=lambda: np.eye(3))
    t: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size: tuple[int, int] = (1920, 1080)
    fisheye: bool = False

    def __post_init__(self):
        self.K = np.asarray(self.K, dtype=float).reshape(3, 3)
        self.dist = np.asarray(self.dist, dtype=float).ravel()
        self.R = np.asarray(self.R, dtype=float).reshape(3, 3)
        self.t = np.asarray(self.t, dtype=float).ravel()
        w, h = (float(v) for v in self.size)
        if not (np.isfinite([w, h]).all() and 1 <= w <= 1e6 and 1 <= h <= 1e6):
            raise MocapError(f"camera {self.name}: image size must be finite and positive (width, height px), not {self.size}")
        self.size = (int(round(w)), int(round(h)))
        problems = []
        if self.t.size != 3:
            raise MocapError(f"camera {self.name}: translation needs 3 values, got {self.t.size}")
        if not (np.isfinite(self.K).all() and np.isfinite(self.R).all() and np.isfinite(self.t).all()
                and np.isfinite(self.dist).all()):
            problems.append("non-finite values")
        elif abs(np.linalg.det(self.K)) < 1e-9 or self.K[0, 0] <= 0 or self.K[1, 1] <= 0:
            problems.append("singular camera matrix (focal length must be > 0)")
        elif abs(np.linalg.det(self.R) - 1) > 1e-3:
            problems.append(f"rotation is not a rotation (det = {np.linalg.det(self.R):.4f})")
        if self.fisheye and len(self.dist) != 4:
            problems.append(f"fisheye needs 4 distortion coefficients, got {len(self.dist)}")
        elif not self.fisheye and len(self.dist) not in (0, 4, 5, 8):
            problems.append(f"expected 4, 5 or 8 distortion coefficients, got {len(self.dist)}")
        if problems:
            raise MocapError(f"camera {self.name}: " + "; ".join(problems))

    @property
    def rvec(self) -> np.ndarray:
        """``(3,)`` Rodrigues vector of ``R``."""
        return matrix_to_rodrigues(self.R)

    @property
    def center(self) -> np.ndarray:
        """``(3,)`` camera centre in world coordinates, metres."""
        return -self.R.T @ self.t

    @property
    def extrinsic(self) -> np.ndarray:
        """``(3, 4)`` [R | t]."""
        return np.hstack([self.R, self.t[:, None]])

    @property
    def P(self) -> np.ndarray:
        """``(3, 4)`` projection matrix K [R | t] (ignores distortion)."""
        return self.K @ self.extrinsic

    @property
    def focal(self) -> float:
        """Mean focal length, px."""
        return float(0.5 * (self.K[0, 0] + self.K[1, 1]))

    def world_to_camera(self, X: np.ndarray) -> np.ndarray:
        """``(..., 3)`` world metres -> camera frame metres."""
        return np.asarray(X, dtype=float) @ self.R.T + self.t

    def project(self, X: np.ndarray, distort: bool = True) -> np.ndarray:
        """``(..., 3)`` world points (metres) -> ``(..., 2)`` pixels; NaN behind the camera."""
        Xc = self.world_to_camera(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = Xc[..., :2] / Xc[..., 2:3]
        xy = np.where(Xc[..., 2:3] > 0, xy, np.nan)
        if distort and self.dist.any():
            xy = distort_normalized(xy, self.dist, self.fisheye)
        return xy @ self.K[:2, :2].T + self.K[:2, 2]

    def undistort(self, uv: np.ndarray) -> np.ndarray:
        """``(..., 2)`` distorted pixels -> ``(..., 2)`` normalised, undistorted coordinates.

        Iterative (``cv2.undistortPointsIter`` / ``cv2.fisheye.undistortPoints``) to 1e-10, so no
        point is lost near image corners. NaN in, NaN out.
        """
        uv = np.asarray(uv, dtype=float)
        flat = uv.reshape(-1, 2)
        out = np.full_like(flat, np.nan)
        ok = np.isfinite(flat).all(axis=1)
        if ok.any():
            pts = flat[ok].reshape(-1, 1, 2)
            if not self.dist.any():
                n = (pts.reshape(-1, 2) - self.K[:2, 2]) @ np.linalg.inv(self.K[:2, :2]).T
            elif self.fisheye:
                n = cv2.fisheye.undistortPoints(pts, self.K, self.dist, criteria=_UNDISTORT_CRITERIA).reshape(-1, 2)
            else:
                n = cv2.undistortPointsIter(pts, self.K, self.dist, None, None, _UNDISTORT_CRITERIA).reshape(-1, 2)
            out[ok] = n
        return out.reshape(uv.shape)

    def undistort_pixels(self, uv: np.ndarray) -> np.ndarray:
        """``(..., 2)`` distorted pixels -> undistorted pixels (same K)."""
        return self.undistort(uv) @ self.K[:2, :2].T + self.K[:2, 2]


@dataclass
class CameraRig:
    """Several cameras sharing one world frame (metres)."""

    cameras: list[Camera]
    source: str = ""

    def __post_init__(self):
        if not self.cameras:
            raise MocapError("calibration holds no camera", self.source or None)

    def __len__(self) -> int:
        return len(self.cameras)

    def require_views(self, n: int, what: str = "views of keypoints", where=None) -> None:
        """One clear error when ``n`` inputs (``what``: views of keypoints, videos, keypoint folders, ...) do not
        match the cameras of this calibration (named by ``where``, default its source)."""
        if n != len(self.cameras):
            raise MocapError(f"{n} {what} but {len(self.cameras)} cameras in the calibration", where or self.source or None)

    def __iter__(self):
        return iter(self.cameras)

    def __getitem__(self, i) -> Camera:
        return self.cameras[i]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.cameras]

    def _stacked(self, attr: str) -> np.ndarray:
        return np.stack([np.asarray(getattr(c, attr)) for c in self.cameras])

    P = property(lambda self: self._stacked("P"), doc="``(C, 3, 4)`` projection matrices K [R | t].")
    extrinsics = property(lambda self: self._stacked("extrinsic"), doc="``(C, 3, 4)`` [R | t].")
    centers = property(lambda self: self._stacked("center"), doc="``(C, 3)`` camera centres, metres.")
    focals = property(lambda self: self._stacked("focal"), doc="``(C,)`` mean focal lengths, px.")

    def project(self, X: np.ndarray, distort: bool = True) -> np.ndarray:
        """``(..., 3)`` world points -> ``(C, ..., 2)`` pixels in every camera."""
        return np.stack([c.project(X, distort) for c in self.cameras])

    def undistort(self, uv: np.ndarray) -> np.ndarray:
        """``(C, ..., 2)`` pixels -> ``(C, ..., 2)`` normalised undistorted coordinates."""
        self.require_views(len(uv))
        # cv2 releases the GIL: undistort the cameras in parallel threads (when this process may use several CPUs).
        return np.stack(list(ordered_map(lambda cu: cu[0].undistort(cu[1]), zip(self.cameras, uv))))

def pinhole(size: tuple[int, int], focal: float | None = None) -> np.ndarray:
    """``(3, 3)`` intrinsics of a camera known only by its image ``size`` (width, height px): the principal point at
    the centre and ``focal`` px, by default the larger image side (about a 53 degree field of view across it)."""
    w, h = size
    f = float(focal or max(w, h))
    return np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])


def normalized(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """``(..., 2+)`` pixels (extra columns, e.g. confidence, ignored) -> ``(..., 2)`` normalised image coordinates
    ``((u - cx) / fx, (v - cy) / fy)`` of an undistorted pinhole ``K (3, 3)`` without skew (the one-camera lift;
    a calibrated camera with distortion: :meth:`Camera.undistort`)."""
    return (np.asarray(uv, dtype=float)[..., :2] - K[:2, 2]) / np.array([K[0, 0], K[1, 1]])


def camera_coordinates(Rt: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
    """World points ``X (..., 3)`` seen by C cameras ``Rt (C, 3, 4)`` (``[R | t]``, world->camera):
    the camera-frame coordinates ``[x, y, z]``, each ``(C, ...)`` metres. Written per component, so
    that it broadcasts over any batch shape without forming ``(C, ..., 3)`` temporaries."""
    C, extra = len(Rt), (1,) * (np.ndim(X) - 1)
    R = Rt[:, :, :3].reshape((C, 3, 3) + extra)
    t = Rt[:, :, 3].reshape((C, 3) + extra)
    x, y, z = (X[None, ..., k] for k in range(3))
    return [R[:, i, 0] * x + R[:, i, 1] * y + R[:, i, 2] * z + t[:, i] for i in range(3)]


def toward_rays(X: np.ndarray, xy: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    """Camera-frame points ``X (..., 3)`` moved toward the rays through their observed normalised image points
    ``xy (..., 2)`` (x/f, y/f from the principal point), each keeping its depth ``z``: ``(1 - w) X + w (x z, y z, z)``
    with ``weight`` ``w`` broadcast to ``(...)`` (0 keeps a point, 1 puts it on its ray; 0 where nothing was seen).
    A monocular 3D estimate whose joints do not project onto the 2D they came from is pulled back onto it."""
    w = np.asarray(weight, float)[..., None]
    on_ray = np.concatenate([xy * X[..., 2:], X[..., 2:]], -1)
    return X + w * (on_ray - X)
