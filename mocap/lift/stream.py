"""The streaming lifter (``mocap live``): one person's 2D keypoints frame by frame -> the causal lifter on the last
frames -> smoothed, upright, on the floor, planted ankles held -> a rig pose, with no look-ahead."""
from __future__ import annotations

import numpy as np

from ..core.camera import normalized
from ..core.motion import Motion3D


class PoseStream:
    """The per-frame chain after detection: 2D of one person (MediaPipe-33 px) -> causal lifter on the last
    27 frames at 30 fps (its receptive field), joints pulled toward their 2D rays as :func:`mocap.lift.model.lift`
    does -> One-Euro -> upright and floor (fixed after ``settle_s``) -> with ``contacts``, planted ankles held in depth
    (:class:`~mocap.smooth.anchor.FootLock`) -> retargeted rig pose. ``flags``: each ankle planted or not, per frame."""

    def __init__(self, model, K: np.ndarray, rig: str, settle_s: float = 1.0, *, contacts: bool = True):
        from .joints import FPS, LIFT_JOINTS
        from .model import model_frames
        from ..core.skeletons import skeleton_from_names
        from ..smooth.filters import OneEuro

        self.model, self.K, self.rig = model, K, rig
        self.fps, self.window = FPS, model_frames(model)
        self.skeleton = skeleton_from_names(LIFT_JOINTS, "lift15")
        self.t: list[float] = []
        self.kp: list[np.ndarray] = []
        self.poses: list[np.ndarray] = []  # (15, 3) Y-up, smoothed, before uprighting
        self.euro = OneEuro(min_cutoff=1.5, beta=0.5, d_cutoff=1.0)
        self.settle_s = settle_s
        self.R = np.eye(3)
        self.floor = 0.0
        self.lowest: list[float] = []
        self.proportions = None
        self._last_t = None
        self.contacts, self.lock = contacts, None
        self.ankles = [LIFT_JOINTS.index("left_ankle"), LIFT_JOINTS.index("right_ankle")]
        self.flags: list[tuple[float, np.ndarray]] = []  # (time s, planted (2,)) of each frame after the first second
        self.wrists = [LIFT_JOINTS.index("left_wrist"), LIFT_JOINTS.index("right_wrist")]
        self._hand_skeleton, self._hand_euro, self._hand_t = None, [None, None], [None, None]
        self._hand_shape = [np.full((21, 3), np.nan), np.full((21, 3), np.nan)]  # the last shape of each hand

    def lift(self, kp33: np.ndarray, t: float) -> np.ndarray:
        """One frame's ``(33, 3)`` px keypoints at time ``t`` s -> ``(15, 3)`` Y-up metres (smoothed)."""
        from .clean import clean_keypoints
        from .joints import lift_inputs
        from .model import predict, pull_to_rays, resample_keypoints

        self.t.append(t)
        self.kp.append(lift_inputs(kp33[None], "mediapipe_33")[0])
        keep = int(np.searchsorted(self.t, t - 2.0 * self.window / self.fps))  # about 2 windows of history
        del self.t[:keep], self.kp[:keep]
        t_src = np.asarray(self.t)
        t_win = t - np.arange(self.window)[::-1] / self.fps
        seq = np.stack(self.kp)
        if len(seq) > 1:
            seq = resample_keypoints(seq, t_src, t_win)  # times before the first frame take the first frame
        else:
            seq = np.repeat(seq, self.window, 0)
        seq, _ = clean_keypoints(seq, self.fps)
        xy = normalized(seq, self.K)
        conf = np.where(np.isfinite(xy).all(-1), seq[..., 2], 0.0)
        inp = np.concatenate([np.where(conf[..., None] > 0, np.nan_to_num(xy), 0.0), conf[..., None]], -1)
        rel, depth = predict(self.model, inp[-self.window:], pad=False)  # one window: the last frame's answer
        root = np.array([inp[-1, 0, 0] * depth[-1], inp[-1, 0, 1] * depth[-1], depth[-1]])
        X = pull_to_rays(self.model, (rel[-1] + root)[None], inp[-1:, :, :2], inp[-1:, :, 2])[0]
        X = X * [1.0, -1.0, -1.0]  # camera frame -> Y-up (x, -y, -z)
        dt = 1.0 / self.fps if self._last_t is None else max(t - self._last_t, 1e-3)
        self._last_t = t
        return self.euro.filter(X, dt)

    def pose(self, X: np.ndarray, t: float, hands: np.ndarray | None = None):
        """``(15, 3)`` Y-up metres -> ``(local (J, 3, 3), root (3,), offsets (J, 3), the retargeted frame)`` of the rig;
        with ``hands`` (``(2, 21, 3)`` the hand model's metric points of the left and right hand, camera axes, NaN
        where not found; :func:`mocap.detect.hands.person_hands`) the rig gets finger bones (:meth:`hand_shapes`)."""
        from ..core.posture import upright_rotation
        from ..retarget.solve import lowest_foot, measure, retarget, source_targets

        self.poses.append(X if hands is None else np.concatenate([X, self.hand_shapes(X, hands, t).reshape(42, 3)]))
        settling = self.proportions is None or len(self.poses) <= self.settle_s * self.fps
        if settling:  # the first second: body axis, floor and proportions (the hands' too) from every frame so far
            P = np.stack(self.poses)
            self.R = upright_rotation(P[:, :15], self.skeleton, "y")[0]
            self.R = np.eye(3) if self.R is None else self.R
            motion = Motion3D(P @ self.R.T, self._skeleton(hands), self.fps, up="y")
            self.proportions = measure(source_targets(motion))
        Xu = self.poses[-1] @ self.R.T
        if self.contacts and not settling:
            if self.lock is None:  # the ankles' floor and standing heights from the first second
                from ..smooth.anchor import FootLock
                from ..smooth.contacts import standing_heights
                A = np.stack(self.poses)[:, self.ankles] @ self.R.T
                floor = float(np.nanpercentile(A[..., 1].min(1), 5))
                self.lock = FootLock(standing_heights(A, (np.array([0.0, 1.0, 0.0]), floor)), floor)
            planted, offset = self.lock.step(Xu[self.ankles], Xu[0], 1.0 / self.fps)
            self.flags.append((t, planted))
            Xu = Xu + offset
        anim = retarget(Motion3D(Xu[None], self._skeleton(hands), self.fps, up="y"), self.rig,
                        proportions=self.proportions, ground=False)
        if settling:  # the floor: the lowest foot over the first second
            self.lowest.append(float(lowest_foot(anim)[0]))
            self.floor = float(np.percentile(self.lowest, 5))
        del self.poses[:-max(1, int(self.settle_s * self.fps) + 1)]
        root = anim.root[-1] - [0.0, self.floor, 0.0]
        return anim.local[-1], root, anim.offsets, anim

    def _skeleton(self, hands):
        from ..core.skeletons import with_hands

        if hands is None:
            return self.skeleton
        if self._hand_skeleton is None:
            self._hand_skeleton = with_hands(self.skeleton, "lift15_hands")
        return self._hand_skeleton

    def hand_shapes(self, X: np.ndarray, hands: np.ndarray, t: float) -> np.ndarray:
        """``(2, 21, 3)`` Y-up metres: each hand's metric points ``hands (2, 21, 3)`` (camera axes) turned to Y-up,
        One-Euro smoothed (causal) and put on the lifted wrists of ``X (15, 3)``; a hand not found this frame keeps
        its last shape (NaN until it is first found: straight fingers)."""
        from ..core.camera import CAMERA_TO_YUP
        from ..smooth.filters import OneEuro

        shapes = (hands - hands[:, :1]) @ CAMERA_TO_YUP.T
        for k in range(2):
            if np.isfinite(shapes[k]).all():
                if self._hand_euro[k] is None:
                    self._hand_euro[k] = OneEuro(min_cutoff=1.5, beta=5.0, d_cutoff=1.0)
                dt = 1.0 / self.fps if self._hand_t[k] is None else max(t - self._hand_t[k], 1e-3)
                self._hand_t[k] = t
                self._hand_shape[k] = self._hand_euro[k].filter(shapes[k], dt)
        return np.stack([X[self.wrists[k]] + self._hand_shape[k] for k in range(2)])
