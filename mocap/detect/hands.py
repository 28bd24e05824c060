"""Hands in video: MediaPipe's hand landmark model on regions the body predicts.

For each person the tracker follows, each hand's region of interest comes from the body's own keypoints (BlazePose's
wrist, index and pinky knuckles and elbow of that side): a square turned so that the hand points up in the crop,
sized by the hand and the forearm. The hand landmark model (``hand_landmark_full.tflite`` from the mediapipe 0.10.21
wheel, Apache-2.0, shipped in ``mocap/models/blazepose``) gives 21 points in that crop (:data:`~mocap.core.skeletons.HAND_21`
order) and the probability that a hand is there. Left and right are the body's: the region of the left wrist gives
the left hand, so they are never swapped; a hand whose wrist the model puts away from the body's wrist is dropped.

Conventions: images ``(H, W, 3)`` uint8 RGB; keypoints x px, y px, confidence; the body's keypoints are BlazePose's 33.
"""
from __future__ import annotations

import numpy as np

from ..core.hands import plausible_hand, undo_depth_flip
from ..core.rotations import axis_angle
from .blazepose import Roi, _interpreter, _model_path, crop_roi, from_crop

HAND_SIZE = 224
# BlazePose indices of each side's elbow, wrist, pinky and index knuckles
ARM = {"left": (13, 15, 17, 19), "right": (14, 16, 18, 20)}
ROI_SCALE = 3.0   # the square's side: this many times the wrist-to-knuckles distance ...
ROI_FOREARM = 0.55  # ... and at least this share of the forearm (knuckles are often unsure on small hands)
CAMERA_AXIS = np.array([0.0, 0.0, 1.0])  # a region's turn (Roi.angle) is about the camera's viewing axis
MAX_WRIST_SHIFT = 0.5  # a hand whose wrist lies farther than this share of the forearm from the body's is dropped


def hand_roi(body: np.ndarray, side: str, *, scale: float = ROI_SCALE, forearm: float = ROI_FOREARM) -> Roi | None:
    """The region of one hand from a body's BlazePose keypoints ``(33, 3)`` px: centred along the hand from the wrist,
    turned so that the wrist-to-knuckles direction points up in the crop; None when the arm is not seen."""
    el, wr, pk, ix = (body[i, :2] for i in ARM[side])
    if not np.isfinite([el, wr, pk, ix]).all():
        return None
    d = 0.5 * (pk + ix) - wr
    length, fore = float(np.hypot(*d)), float(np.hypot(*(wr - el)))
    if fore < 1.0:
        return None
    size = max(scale * length, forearm * fore)
    direction = d / length if length > 1e-6 else (wr - el) / fore
    centre = wr + direction * 0.34 * size
    angle = np.pi / 2 - np.arctan2(-direction[1], direction[0])
    return Roi(float(centre[0]), float(centre[1]), float(size), float((angle + np.pi) % (2 * np.pi) - np.pi))


class HandLandmarks:
    """The hand landmark model on one CPU runtime: :meth:`__call__` gives one hand's 21 points in a region."""

    def __init__(self, threads: int = 2):
        self._it = _interpreter(_model_path("hand_landmark_full.tflite"), threads)
        out = {o["name"]: o["index"] for o in self._it.get_output_details()}
        self._in = self._it.get_input_details()[0]["index"]
        self._pts, self._presence, self._world = out["Identity"], out["Identity_1"], out["Identity_3"]

    def __call__(self, rgb: np.ndarray, roi: Roi) -> tuple[np.ndarray, np.ndarray, float]:
        """Points ``(21, 2)`` px, metric points ``(21, 3)`` (metres, the model's hand-centred axes) and the
        probability (0-1) that a hand is in ``roi``."""
        n = HAND_SIZE
        self._it.set_tensor(self._in, (crop_roi(rgb, roi, n).astype(np.float32) / 255.0)[None])
        self._it.invoke()
        xy = from_crop(self._it.get_tensor(self._pts)[0].reshape(21, 3)[:, :2].astype(float) / n, roi)
        world = self._it.get_tensor(self._world)[0].reshape(21, 3).astype(float)
        return xy, world, float(self._it.get_tensor(self._presence)[0, 0])


def person_hands(model: HandLandmarks, rgb: np.ndarray, body: np.ndarray, *,
                 min_presence: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``(42, 3)``: the left then the right hand (x px, y px, confidence = the model's presence) of one person whose
    BlazePose keypoints ``body (33, 3)`` are in ``rgb``, and ``(2, 21, 3)`` their metric points (metres, camera axes:
    x right, y down, z away); NaN (confidence 0) for a hand not found (its arm not seen, presence under
    ``min_presence``, or its wrist away from the body's); metric points NaN too where they bend a finger further
    than a hand can (:func:`~mocap.core.hands.plausible_hand`: the model's depth guess is wrong there); mirrored in
    depth about the wrist where the model gave the mirror image (:func:`~mocap.core.hands.undo_depth_flip`)."""
    out, world = np.full((42, 3), np.nan), np.full((2, 21, 3), np.nan)
    out[:, 2] = 0.0
    for k, side in enumerate(("left", "right")):
        roi = hand_roi(body, side)
        if roi is None:
            continue
        xy, metric, presence = model(rgb, roi)
        el, wr = body[ARM[side][0], :2], body[ARM[side][1], :2]
        if presence >= min_presence and np.hypot(*(xy[0] - wr)) <= MAX_WRIST_SHIFT * np.hypot(*(wr - el)):
            out[21 * k:21 * (k + 1)] = np.c_[xy, np.full(21, presence)]
            if plausible_hand(metric):  # its depth guess bends a finger past what a hand can: no 3D shape
                world[k] = metric @ axis_angle(CAMERA_AXIS, roi.angle).T  # the crop's axes turned to the image's
                world[k] = undo_depth_flip(world[k], side)[0]  # the model's mirror image in depth: the other hand
    return out, world
